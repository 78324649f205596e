//! Customer value and churn from the orders the portal publishes per contact
//! (`portal_contact_orders`: orders, total, first and last order; cancelled
//! and returned orders excluded).
//!
//! - RFM: recency, frequency and monetary value scored 1–5 by quintile among
//!   all customers (ties share a score), combined as `rfm` = 100·R + 10·F + M.
//! - Lifetime value: historical (what they paid), and projected over the next
//!   three years = average order value × orders a year so far (their life as
//!   a customer counted as at least a quarter) × 3, halved when at risk.
//! - At risk: a repeat customer whose silence since the last order exceeds
//!   1.5 × their own usual interval between orders (and 14 days).
//!
//! A full pass scores everyone and keeps the quintile boundaries; between
//! passes, customers whose orders changed are rescored against them.
//! Published for segments and rules as `automation_customer_value`.

use anyhow::Result;
use chrono::{DateTime, Utc};
use edge_db::Db;
use serde_json::{json, Value};

/// How long a full pass's quintile boundaries serve before the next one.
pub const FULL_EVERY_HOURS: i64 = 24;

fn days(a: &str, now: DateTime<Utc>) -> f64 {
    DateTime::parse_from_rfc3339(a).map(|t| (now - t.with_timezone(&Utc)).num_seconds() as f64 / 86_400.0).unwrap_or(0.0)
}

/// Scores everyone (one pass) and stores the boundaries; answers how many.
pub fn recompute_all<D: Db + ?Sized>(db: &D, now: DateTime<Utc>) -> Result<i64> {
    edge_db::tx(db, || {
        db.run("DELETE FROM customer_value", &[])?;
        let n = insert_scored(db, None, now)?;
        // Boundaries: the lowest value of each score (2..5) per measure.
        db.run("DELETE FROM value_bounds", &[])?;
        for (measure, col) in [("r", "last_order_at"), ("f", "orders"), ("m", "total")] {
            let score_col = format!("{measure}_score");
            db.run(
                &format!("INSERT INTO value_bounds (measure, score, low) SELECT ?, {score_col}, min({col}) FROM customer_value GROUP BY {score_col}"),
                &[measure.into()],
            )?;
        }
        db.run("INSERT OR REPLACE INTO value_state (key, value) VALUES ('full_at', ?)", &[crate::at(now).into()])?;
        Ok(n)
    })
}

/// Scores customers from the published orders view: all of them by percent
/// rank (ties share a score), or `only` these, against the stored boundaries.
fn insert_scored<D: Db + ?Sized>(db: &D, only: Option<&[String]>, now: DateTime<Utc>) -> Result<i64> {
    let now_s = crate::at(now);
    let base = "SELECT contact_id, orders, total, first_order_at, last_order_at FROM portal_contact_orders WHERE orders > 0";
    let (filter, params): (String, Vec<edge_db::Val>) = match only {
        None => (String::new(), vec![]),
        Some(ids) => (format!(" AND contact_id IN ({})", edge_db::record::marks(ids.len())), ids.iter().map(|i| i.as_str().into()).collect()),
    };
    let scores = match only {
        None => "min(5, 1 + CAST(percent_rank() OVER (ORDER BY last_order_at) * 5 AS INTEGER)) AS r,
                 min(5, 1 + CAST(percent_rank() OVER (ORDER BY orders) * 5 AS INTEGER)) AS f,
                 min(5, 1 + CAST(percent_rank() OVER (ORDER BY total) * 5 AS INTEGER)) AS m",
        Some(_) => "(SELECT COALESCE(max(score), 1) FROM value_bounds WHERE measure = 'r' AND low <= o.last_order_at) AS r,
                    (SELECT COALESCE(max(score), 1) FROM value_bounds WHERE measure = 'f' AND CAST(low AS REAL) <= o.orders) AS f,
                    (SELECT COALESCE(max(score), 1) FROM value_bounds WHERE measure = 'm' AND CAST(low AS REAL) <= o.total) AS m",
    };
    // Days from ISO times with julianday; one statement, one scan of the view.
    let sql = format!(
        "INSERT OR REPLACE INTO customer_value (contact_id, orders, total, first_order_at, last_order_at, r_score, f_score, m_score, rfm, silence_days, interval_days, at_risk, clv, projected_clv, computed_at)
         SELECT contact_id, orders, total, first_order_at, last_order_at, r, f, m, 100 * r + 10 * f + m, silence, interval, at_risk, total,
                CAST(round((total * 1.0 / orders) * (orders / max((julianday(?1) - julianday(first_order_at)) / 365.25, 0.25)) * 3 * (CASE WHEN at_risk = 1 THEN 0.5 ELSE 1 END)) AS INTEGER),
                ?1
         FROM (
           SELECT o.*, s.r, s.f, s.m,
                  julianday(?1) - julianday(o.last_order_at) AS silence,
                  CASE WHEN o.orders > 1 THEN (julianday(o.last_order_at) - julianday(o.first_order_at)) / (o.orders - 1) END AS interval,
                  CASE WHEN o.orders > 1 AND julianday(?1) - julianday(o.last_order_at) > max(1.5 * (julianday(o.last_order_at) - julianday(o.first_order_at)) / (o.orders - 1), 14) THEN 1 ELSE 0 END AS at_risk
           FROM ({base}{filter}) o JOIN (SELECT contact_id AS cid, {scores} FROM ({base}{filter}) o) s ON s.cid = o.contact_id
         )"
    );
    // ?1 is the time; the ids (if any) fill the two IN lists after it.
    let mut all: Vec<edge_db::Val> = vec![now_s.as_str().into()];
    all.extend(params.iter().cloned());
    all.extend(params);
    db.run(&sql, &all)?;
    Ok(db.run("SELECT changes()", &[])?.scalar_i64().unwrap_or(0))
}

/// Rescores the customers whose orders changed (against the boundaries of
/// the last full pass); a customer without orders any more is dropped.
pub fn rescore<D: Db + ?Sized>(db: &D, contacts: &[String], now: DateTime<Utc>) -> Result<i64> {
    if contacts.is_empty() {
        return Ok(0);
    }
    edge_db::tx(db, || {
        let mut n = 0;
        for chunk in contacts.chunks(200) {
            db.run(&format!("DELETE FROM customer_value WHERE contact_id IN ({})", edge_db::record::marks(chunk.len())), &chunk.iter().map(|c| c.as_str().into()).collect::<Vec<_>>())?;
            n += insert_scored(db, Some(chunk), now)?;
        }
        Ok(n)
    })
}

/// Whether a full pass is due (never done, or its boundaries are old).
pub fn full_due<D: Db + ?Sized>(db: &D, now: DateTime<Utc>) -> Result<bool> {
    let at = db.run("SELECT value FROM value_state WHERE key = 'full_at'", &[])?.first().and_then(|r| r.string(0));
    Ok(at.is_none_or(|t| days(&t, now) * 24.0 >= FULL_EVERY_HOURS as f64))
}

/// A segment name from the scores (for people, not for rules).
pub fn label(r: i64, f: i64, m: i64, at_risk: bool) -> &'static str {
    match (r, f, m, at_risk) {
        (_, _, _, true) => "at_risk",
        (4..=5, 4..=5, 4..=5, _) => "champions",
        (_, 4..=5, _, _) => "loyal",
        (4..=5, 1, _, _) => "new",
        (1..=2, 1..=2, _, _) => "hibernating",
        _ => "potential",
    }
}

fn row_json(r: edge_db::Row) -> Value {
    let (rs, fs, ms, risk) = (r.i64(5).unwrap_or(1), r.i64(6).unwrap_or(1), r.i64(7).unwrap_or(1), r.i64(10) == Some(1));
    json!({
        "contact_id": r.str(0), "orders": r.i64(1), "total": r.i64(2), "first_order_at": r.str(3), "last_order_at": r.str(4),
        "r": rs, "f": fs, "m": ms, "rfm": 100 * rs + 10 * fs + ms, "segment": label(rs, fs, ms, risk),
        "silence_days": r.f64(8).map(|d| d.round() as i64), "usual_interval_days": r.f64(9).map(|d| d.round() as i64), "at_risk": risk,
        "clv": r.i64(11), "projected_clv": r.i64(12), "computed_at": r.str(13),
    })
}

const COLS: &str = "contact_id, orders, total, first_order_at, last_order_at, r_score, f_score, m_score, silence_days, interval_days, at_risk, clv, projected_clv, computed_at";

pub fn of<D: Db + ?Sized>(db: &D, contact: &str) -> Result<Option<Value>> {
    Ok(db.run(&format!("SELECT {COLS} FROM customer_value WHERE contact_id = ?"), &[contact.into()])?.first().map(row_json))
}

/// Customers by value (`segment` narrows: at_risk, champions, …), most valuable first.
pub fn list<D: Db + ?Sized>(db: &D, at_risk_only: bool, limit: i64) -> Result<Vec<Value>> {
    let r = db.run(&format!("SELECT {COLS} FROM customer_value WHERE (? = 0 OR at_risk = 1) ORDER BY clv DESC, contact_id LIMIT ?"), &[(at_risk_only as i64).into(), limit.into()])?;
    Ok(r.iter().map(row_json).collect())
}

/// What share of customers brings what share of revenue; segments; who is slipping away.
pub fn summary<D: Db + ?Sized>(db: &D) -> Result<Value> {
    let r = db.run("SELECT count(*), COALESCE(sum(total), 0), sum(at_risk), COALESCE(sum(CASE WHEN at_risk = 1 THEN total END), 0), max(computed_at) FROM customer_value", &[])?;
    let row = r.first();
    let n = row.as_ref().and_then(|r| r.i64(0)).unwrap_or(0);
    let revenue = row.as_ref().and_then(|r| r.i64(1)).unwrap_or(0);
    let at_risk = row.as_ref().and_then(|r| r.i64(2)).unwrap_or(0);
    let at_risk_revenue = row.as_ref().and_then(|r| r.i64(3)).unwrap_or(0);
    let computed = row.and_then(|r| r.string(4));
    // Revenue of the top 20% of customers, and how few customers bring 80% of revenue.
    let top = (n as f64 * 0.2).ceil() as i64;
    let top_revenue = db.run("SELECT COALESCE(sum(total), 0) FROM (SELECT total FROM customer_value ORDER BY total DESC LIMIT ?)", &[top.into()])?.scalar_i64().unwrap_or(0);
    let needed = db.run(
        "SELECT count(*) FROM (SELECT sum(total) OVER (ORDER BY total DESC, contact_id ROWS UNBOUNDED PRECEDING) - total AS before FROM customer_value) WHERE before < ?",
        &[((revenue as f64) * 0.8).into()],
    )?.scalar_i64().unwrap_or(0);
    let mut segments = serde_json::Map::new();
    for r in db.run("SELECT r_score, f_score, m_score, at_risk, count(*), sum(total) FROM customer_value GROUP BY 1, 2, 3, 4", &[])?.iter() {
        let l = label(r.i64(0).unwrap_or(1), r.i64(1).unwrap_or(1), r.i64(2).unwrap_or(1), r.i64(3) == Some(1));
        let e = segments.entry(l).or_insert(json!({"customers": 0, "revenue": 0}));
        e["customers"] = (e["customers"].as_i64().unwrap_or(0) + r.i64(4).unwrap_or(0)).into();
        e["revenue"] = (e["revenue"].as_i64().unwrap_or(0) + r.i64(5).unwrap_or(0)).into();
    }
    let share = |a: i64, b: i64| if b == 0 { 0.0 } else { (a as f64 / b as f64 * 1000.0).round() / 1000.0 };
    Ok(json!({
        "customers": n, "revenue": revenue, "computed_at": computed,
        "top_20_percent_revenue_share": share(top_revenue, revenue),
        "customers_for_80_percent_of_revenue": needed, "share_of_customers_for_80_percent": share(needed, n),
        "at_risk": at_risk, "at_risk_revenue": at_risk_revenue, "segments": segments,
        "most_valuable": list(db, false, 10)?, "slipping_away": list(db, true, 10)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A hand-computed fixture: five customers' order histories.
    fn fixture() -> edge_db::native::Connection {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        db.run("CREATE TABLE orders_fixture (contact_id TEXT, total INTEGER, placed_at TEXT)", &[]).unwrap();
        db.run("CREATE VIEW portal_contact_orders AS SELECT contact_id, count(*) AS orders, sum(total) AS total, min(placed_at) AS first_order_at, max(placed_at) AS last_order_at FROM orders_fixture GROUP BY contact_id", &[]).unwrap();
        let orders = [
            // Ann: every 30 days, last 10 days ago: loyal, not at risk.
            ("c_ann", 10_000, "2026-09-02T00:00:00Z"), ("c_ann", 10_000, "2026-10-02T00:00:00Z"), ("c_ann", 10_000, "2026-11-01T00:00:00Z"), ("c_ann", 10_000, "2026-11-21T00:00:00Z"),
            // Bob: every 30 days, silent for 100: at risk.
            ("c_bob", 50_000, "2026-07-24T00:00:00Z"), ("c_bob", 50_000, "2026-08-23T00:00:00Z"),
            // Cy: one order yesterday: new.
            ("c_cy", 2_000, "2026-11-30T00:00:00Z"),
            // Dee: one order two years ago.
            ("c_dee", 1_000, "2024-12-01T00:00:00Z"),
            // Eve: two orders a year apart, last 200 days ago: not yet at risk (1.5 × 365).
            ("c_eve", 5_000, "2025-05-15T00:00:00Z"), ("c_eve", 5_000, "2026-05-15T00:00:00Z"),
        ];
        for (c, t, at) in orders {
            db.run("INSERT INTO orders_fixture VALUES (?, ?, ?)", &[c.into(), (t as i64).into(), at.into()]).unwrap();
        }
        db
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn rfm_clv_and_risk_against_a_hand_computed_fixture() {
        let db = fixture();
        assert_eq!(recompute_all(&db, now()).unwrap(), 5);
        let v = |c: &str| of(&db, c).unwrap().unwrap();
        // Recency ranks (oldest first): dee 0, eve .25, bob .5, ann .75, cy 1 → 1, 2, 3, 4, 5.
        // Frequency: cy, dee (1 order) 0; bob, eve (2) .5; ann (4) 1 → 1, 1, 3, 3, 5.
        // Money: dee 1000 → 0, cy 2000 → .25, eve 10000 → .5, ann 40000 → .75, bob 100000 → 1.
        assert_eq!((v("c_ann")["r"].as_i64(), v("c_ann")["f"].as_i64(), v("c_ann")["m"].as_i64()), (Some(4), Some(5), Some(4)));
        assert_eq!(v("c_ann")["rfm"], 454);
        assert_eq!(v("c_ann")["segment"], "champions");
        assert_eq!((v("c_bob")["rfm"].as_i64(), v("c_bob")["at_risk"].as_bool(), v("c_bob")["segment"].as_str()), (Some(335), Some(true), Some("at_risk")));
        assert_eq!((v("c_bob")["silence_days"].as_i64(), v("c_bob")["usual_interval_days"].as_i64()), (Some(100), Some(30)));
        assert_eq!((v("c_cy")["rfm"].as_i64(), v("c_cy")["segment"].as_str()), (Some(512), Some("new")));
        assert_eq!(v("c_dee")["rfm"], 111);
        assert_eq!((v("c_eve")["at_risk"].as_bool(), v("c_eve")["silence_days"].as_i64()), (Some(false), Some(200)));
        assert_eq!(v("c_ann")["at_risk"], false);
        // Projected 3 years: Ann: AOV 10,000 × 4 orders over 90 days (a quarter at least: 0.2464 y → 0.25) = 16/y × 3 = 480,000.
        assert_eq!(v("c_ann")["projected_clv"], 480_000);
        // Bob: AOV 50,000 × 2 orders in 130 days (0.3559 y) × 3 × ½ (at risk) = 421,442.
        assert_eq!(v("c_bob")["projected_clv"], 421_442);
        // Dee: 1,000 × 1 order in 730 days (1.9986 y) × 3 = 1,501.
        assert_eq!(v("c_dee")["projected_clv"], 1_501);
        assert_eq!(v("c_bob")["clv"], 100_000);
        let s = summary(&db).unwrap();
        assert_eq!((s["customers"].as_i64(), s["revenue"].as_i64(), s["at_risk"].as_i64()), (Some(5), Some(153_000), Some(1)));
        // The top 20% (1 customer, Bob) brings 100,000 / 153,000; Bob and Ann bring 80%+.
        assert_eq!(s["top_20_percent_revenue_share"], 0.654);
        assert_eq!(s["customers_for_80_percent_of_revenue"], 2);
        assert_eq!(s["slipping_away"][0]["contact_id"], "c_bob");
    }

    #[test]
    fn orders_changing_rescore_only_those_customers() {
        let db = fixture();
        recompute_all(&db, now()).unwrap();
        assert!(!full_due(&db, now()).unwrap());
        assert!(full_due(&db, now() + chrono::Duration::hours(25)).unwrap());
        // Bob orders again today: no longer at risk; his scores use the stored boundaries.
        db.run("INSERT INTO orders_fixture VALUES ('c_bob', 50000, '2026-12-01T00:00:00Z')", &[]).unwrap();
        // Dee's only order is gone (returned): she is no customer any more.
        db.run("DELETE FROM orders_fixture WHERE contact_id = 'c_dee'", &[]).unwrap();
        assert_eq!(rescore(&db, &["c_bob".into(), "c_dee".into()], now()).unwrap(), 1);
        let bob = of(&db, "c_bob").unwrap().unwrap();
        assert_eq!((bob["r"].as_i64(), bob["f"].as_i64(), bob["m"].as_i64(), bob["at_risk"].as_bool()), (Some(5), Some(3), Some(5), Some(false)));
        assert!(of(&db, "c_dee").unwrap().is_none());
        assert_eq!(of(&db, "c_ann").unwrap().unwrap()["rfm"], 454, "others untouched");
    }
}
