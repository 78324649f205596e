//! Campaign return: what each campaign cost (entered in campaigns) against
//! the leads and revenue attributed to it. Touches are a contact's first
//! human click in a campaign's email (`campaigns_touches`) and their form
//! submissions whose `utm_campaign` names the campaign (its id or name);
//! conversions are won deals (`pipeline_won_deals`, base currency) and
//! orders (`portal_order_facts`). A conversion's credit goes to the touches
//! of its contact in the 90 days before it: all to the first (first touch),
//! all to the last (last touch), or shared evenly (linear). A lead is a
//! contact whose first touch ever was the campaign.

use anyhow::Result;
use edge_db::Db;
use serde_json::{json, Value};

/// How far back a touch counts for a conversion.
pub const LOOKBACK_DAYS: i64 = 90;

fn has_view<D: Db + ?Sized>(db: &D, name: &str) -> Result<bool> {
    Ok(!db.run("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?", &[name.into()])?.is_empty())
}

/// Per campaign: cost, leads, and per model the conversions and revenue from
/// deals and from orders, with cost per lead and return on spend.
pub fn report<D: Db + ?Sized>(db: &D) -> Result<Vec<Value>> {
    if !has_view(db, "campaigns_costs")? {
        return Ok(vec![]);
    }
    let click_touches = if has_view(db, "campaigns_touches")? { "SELECT contact_id, campaign_id, at FROM campaigns_touches" } else { "SELECT NULL, NULL, NULL WHERE 0" };
    let touches = format!(
        "{click_touches}
         UNION ALL
         SELECT s.contact_id, c.campaign_id, s.processed_at FROM form_submissions s JOIN campaigns_costs c
           ON json_extract(s.context, '$.utm_campaign') = c.campaign_id OR lower(json_extract(s.context, '$.utm_campaign')) = lower(c.name)
         WHERE s.status = 'accepted' AND s.contact_id IS NOT NULL AND s.processed_at IS NOT NULL"
    );
    let mut conversions = Vec::new();
    if has_view(db, "pipeline_won_deals")? {
        conversions.push("SELECT 'deal' AS kind, deal_id AS id, contact_id, base_value AS amount, closed_at AS at FROM pipeline_won_deals");
    }
    if has_view(db, "portal_order_facts")? {
        conversions.push("SELECT 'order', order_id, contact_id, total, placed_at FROM portal_order_facts");
    }
    if conversions.is_empty() {
        conversions.push("SELECT NULL, NULL, NULL, NULL, NULL WHERE 0");
    }
    let sql = format!(
        "WITH touches AS ({touches}),
         conv AS ({conv}),
         paths AS (
           SELECT v.kind, v.id, v.amount, t.campaign_id,
                  row_number() OVER (PARTITION BY v.kind, v.id ORDER BY t.at, t.campaign_id) AS first_rank,
                  row_number() OVER (PARTITION BY v.kind, v.id ORDER BY t.at DESC, t.campaign_id DESC) AS last_rank,
                  count(*) OVER (PARTITION BY v.kind, v.id) AS n
           FROM conv v JOIN touches t ON t.contact_id = v.contact_id
             AND julianday(t.at) <= julianday(v.at) AND julianday(t.at) >= julianday(v.at) - {LOOKBACK_DAYS}
         ),
         credit AS (
           SELECT campaign_id, kind,
                  count(DISTINCT CASE WHEN first_rank = 1 THEN id END) AS first_n, COALESCE(sum(CASE WHEN first_rank = 1 THEN amount END), 0) AS first_rev,
                  count(DISTINCT CASE WHEN last_rank = 1 THEN id END) AS last_n, COALESCE(sum(CASE WHEN last_rank = 1 THEN amount END), 0) AS last_rev,
                  sum(1.0 / n) AS linear_n, COALESCE(sum(amount * 1.0 / n), 0) AS linear_rev
           FROM paths GROUP BY campaign_id, kind
         ),
         leads AS (
           SELECT campaign_id, count(*) AS leads FROM (
             SELECT campaign_id, row_number() OVER (PARTITION BY contact_id ORDER BY at, campaign_id) AS rk FROM touches
           ) WHERE rk = 1 GROUP BY campaign_id
         )
         SELECT c.campaign_id, c.name, c.status, c.cost, c.cost_currency, c.started_at, COALESCE(l.leads, 0),
                (SELECT json_group_array(json_object('kind', kind, 'first_n', first_n, 'first_rev', first_rev, 'last_n', last_n, 'last_rev', last_rev, 'linear_n', linear_n, 'linear_rev', linear_rev)) FROM credit WHERE credit.campaign_id = c.campaign_id)
         FROM campaigns_costs c LEFT JOIN leads l ON l.campaign_id = c.campaign_id
         WHERE c.status IN ('sending', 'sent') OR c.cost IS NOT NULL OR l.leads IS NOT NULL
         ORDER BY c.started_at DESC, c.campaign_id DESC",
        conv = conversions.join(" UNION ALL "),
    );
    let r = db.run(&sql, &[])?;
    Ok(r.iter().map(|row| {
        let cost = row.i64(3);
        let leads = row.i64(6).unwrap_or(0);
        let credit: Vec<Value> = row.str(7).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
        let mut models = serde_json::Map::new();
        for (model, n, rev) in [("first_touch", "first_n", "first_rev"), ("last_touch", "last_n", "last_rev"), ("linear", "linear_n", "linear_rev")] {
            let pick = |kind: &str, k: &str| credit.iter().filter(|c| c["kind"] == kind).map(|c| c[k].as_f64().unwrap_or(0.0)).sum::<f64>();
            let (deals, deal_rev, orders, order_rev) = (pick("deal", n), pick("deal", rev), pick("order", n), pick("order", rev));
            let revenue = deal_rev + order_rev;
            models.insert(model.into(), json!({
                // `+ 0.0` turns a -0.0 from rounding into 0.
                "deals": (deals * 100.0).round() / 100.0 + 0.0, "deal_revenue": deal_rev.round() as i64,
                "orders": (orders * 100.0).round() / 100.0 + 0.0, "order_revenue": order_rev.round() as i64,
                "revenue": revenue.round() as i64,
                "return_on_spend": cost.filter(|c| *c > 0).map(|c| (revenue / c as f64 * 100.0).round() / 100.0 + 0.0),
            }));
        }
        json!({
            "campaign_id": row.str(0), "name": row.str(1), "status": row.str(2), "cost": cost, "cost_currency": row.str(4), "started_at": row.str(5),
            "leads": leads, "cost_per_lead": cost.filter(|_| leads > 0).map(|c| c / leads), "models": models,
        })
    }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-computed fixture: two campaigns, three contacts' paths.
    #[test]
    fn attribution_models_against_a_fixture() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        for sql in [
            "CREATE TABLE c_fix (campaign_id TEXT, name TEXT, status TEXT, cost INTEGER, cost_currency TEXT, started_at TEXT)",
            "CREATE VIEW campaigns_costs AS SELECT * FROM c_fix",
            "CREATE TABLE t_fix (contact_id TEXT, campaign_id TEXT, at TEXT)",
            "CREATE VIEW campaigns_touches AS SELECT * FROM t_fix",
            "CREATE TABLE d_fix (deal_id TEXT, contact_id TEXT, base_value INTEGER, closed_at TEXT)",
            "CREATE VIEW pipeline_won_deals AS SELECT * FROM d_fix",
            "CREATE TABLE o_fix (order_id TEXT, contact_id TEXT, total INTEGER, currency TEXT, placed_at TEXT)",
            "CREATE VIEW portal_order_facts AS SELECT * FROM o_fix",
            "INSERT INTO c_fix VALUES ('cp_a', 'Spring', 'sent', 100000, 'EUR', '2026-03-01T00:00:00Z'), ('cp_b', 'Summer', 'sent', 50000, 'EUR', '2026-06-01T00:00:00Z')",
            // Ann: clicked A, then B, then a deal of 600,000: first → A, last → B, linear → half each.
            "INSERT INTO t_fix VALUES ('ann', 'cp_a', '2026-03-02T00:00:00Z'), ('ann', 'cp_b', '2026-04-01T00:00:00Z')",
            "INSERT INTO d_fix VALUES ('d1', 'ann', 600000, '2026-04-10T00:00:00Z')",
            // Bob: clicked B only, then an order of 30,000 and one 200 days later (outside the window).
            "INSERT INTO t_fix VALUES ('bob', 'cp_b', '2026-06-02T00:00:00Z')",
            "INSERT INTO o_fix VALUES ('o1', 'bob', 30000, 'EUR', '2026-06-03T00:00:00Z'), ('o2', 'bob', 99900, 'EUR', '2026-12-20T00:00:00Z')",
            // Cy: came in through a form tagged utm_campaign=summer, bought nothing.
            "INSERT INTO form_submissions (id, form_id, status, data, context, created_at, processed_at, contact_id) VALUES ('fs_1', 'fm_1', 'accepted', '{}', '{\"utm_campaign\": \"summer\"}', '2026-06-05T00:00:00Z', '2026-06-05T00:00:00Z', 'cy')",
        ] {
            db.run(sql, &[]).unwrap();
        }
        let r = report(&db).unwrap();
        let get = |id: &str| r.iter().find(|c| c["campaign_id"] == id).unwrap().clone();
        let (a, b) = (get("cp_a"), get("cp_b"));
        assert_eq!((a["leads"].as_i64(), b["leads"].as_i64()), (Some(1), Some(2)), "Ann's first touch was A; Bob's and Cy's were B");
        assert_eq!(a["models"]["first_touch"]["revenue"], 600_000);
        assert_eq!(a["models"]["last_touch"]["revenue"], 0);
        assert_eq!(a["models"]["linear"]["revenue"], 300_000);
        assert_eq!(b["models"]["first_touch"]["revenue"], 30_000, "Bob's order; his late one is outside 90 days");
        assert_eq!(b["models"]["last_touch"]["revenue"], 630_000);
        assert_eq!(b["models"]["linear"]["revenue"], 330_000);
        assert_eq!(b["models"]["linear"]["deals"], 0.5);
        assert_eq!(a["models"]["first_touch"]["return_on_spend"], 6.0);
        assert_eq!(b["models"]["last_touch"]["return_on_spend"], 12.6);
        assert_eq!((a["cost_per_lead"].as_i64(), b["cost_per_lead"].as_i64()), (Some(100_000), Some(25_000)));
    }
}
