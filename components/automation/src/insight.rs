//! Customer value and churn (see `automation_domain::value`): kept current
//! by the tick (a full pass daily, customers whose orders changed in
//! between), and answered at `/api/v1/insights/customers`.

use crate::{db, failed};
use automation_domain::value;
use edge_component::Ctx;
use edge_db::Db;
use edge_http::{query, Problem, Reply};
use serde_json::{json, Value};
use spin_sdk::http::Method;

/// Order changes read per tick.
const BATCH: i64 = 1000;

/// The tick's share: a full pass when due, else rescoring the customers whose
/// orders changed since the last look. Answers whether more is waiting.
pub fn keep_current(ctx: &Ctx) -> Result<bool, Problem> {
    let db = db()?;
    let fail = failed("customer value");
    let now = chrono::Utc::now();
    // No portal in this app: nothing to value.
    if db.run("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = 'portal_contact_orders'", &[]).map_err(edge_component::storage)?.is_empty() {
        return Ok(false);
    }
    let head = db.run("SELECT COALESCE(max(seq), 0) FROM portal_events", &[]).ok().and_then(|r| r.scalar_i64()).unwrap_or(0);
    if value::full_due(&db, now).map_err(&fail)? {
        value::recompute_all(&db, now).map_err(&fail)?;
        db.run("INSERT OR REPLACE INTO value_state (key, value) VALUES ('orders_seq', ?)", &[head.to_string().into()]).map_err(edge_component::storage)?;
        return Ok(false);
    }
    let from = db.run("SELECT value FROM value_state WHERE key = 'orders_seq'", &[]).map_err(edge_component::storage)?.first().and_then(|r| r.string(0)).and_then(|s| s.parse::<i64>().ok()).unwrap_or(head);
    let r = db
        .run("SELECT seq, entity_id, after FROM portal_events WHERE seq > ? AND entity = 'order' ORDER BY seq LIMIT ?", &[from.into(), BATCH.into()])
        .map_err(edge_component::storage)?;
    let mut contacts: Vec<String> = Vec::new();
    let mut last = from;
    for row in r.iter() {
        last = row.i64(0).unwrap_or(last);
        let after: Value = row.str(2).and_then(|s| serde_json::from_str(s).ok()).unwrap_or(Value::Null);
        let contact = match after["contact_id"].as_str() {
            Some(c) => Some(c.to_string()),
            // An update records only what changed: ask the portal whose order it is.
            None => match edge_component::call(ctx, Method::Get, "portal", &format!("/api/v1/orders/{}", row.text(1)), None, &[], true) {
                Ok((200, _, o)) => o["contact_id"].as_str().map(String::from),
                _ => None,
            },
        };
        if let Some(c) = contact.filter(|c| !contacts.contains(c)) {
            contacts.push(c);
        }
    }
    let full = r.len() as i64 == BATCH;
    // Rescoring needs the boundaries of a pass with customers in it; with none
    // yet (a new tenant's first orders), or when many changed, score everyone.
    let valued = db.run("SELECT count(*) FROM customer_value", &[]).map_err(edge_component::storage)?.scalar_i64().unwrap_or(0);
    let bounds = db.run("SELECT count(*) FROM value_bounds", &[]).map_err(edge_component::storage)?.scalar_i64().unwrap_or(0);
    if !contacts.is_empty() && (bounds == 0 || contacts.len() as i64 * 10 > valued) {
        value::recompute_all(&db, now).map_err(&fail)?;
    } else {
        value::rescore(&db, &contacts, now).map_err(&fail)?;
    }
    let last = if r.is_empty() { head.max(from) } else { last };
    db.run("INSERT OR REPLACE INTO value_state (key, value) VALUES ('orders_seq', ?)", &[last.to_string().into()]).map_err(edge_component::storage)?;
    Ok(full)
}

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let fail = failed("customer value");
    match (ctx.method(), rest) {
        (Method::Get, ["customers"]) => {
            let pairs = edge_http::query::parse(ctx.query());
            let at_risk = query::get(&pairs, "at_risk") == Some("true");
            let limit = query::get(&pairs, "limit").map(|l| l.parse::<i64>().ok().filter(|n| (1..=500).contains(n)).ok_or_else(|| edge_component::field_error("limit", "must be from 1 to 500"))).transpose()?.unwrap_or(50);
            Ok(Reply::json(200, &json!({"items": value::list(&db, at_risk, limit).map_err(&fail)?, "next_cursor": null})))
        }
        (Method::Get, ["dashboard"]) => {
            let user = ctx.actor.strip_prefix("user:").ok_or_else(|| Problem::new(403, "forbidden", "Forbidden", "Dashboards belong to signed-in users"))?;
            Ok(Reply::json(200, &json!({"widgets": automation_domain::dashboard::of(&db, user).map_err(&fail)?, "available": automation_domain::dashboard::WIDGETS})))
        }
        (Method::Put, ["dashboard"]) => {
            let user = ctx.actor.strip_prefix("user:").ok_or_else(|| Problem::new(403, "forbidden", "Forbidden", "Dashboards belong to signed-in users"))?;
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Input {
                widgets: Vec<String>,
            }
            let input: Input = ctx.body()?;
            let widgets = automation_domain::dashboard::save(&db, user, &input.widgets).map_err(&fail)?;
            Ok(Reply::json(200, &json!({"widgets": widgets, "available": automation_domain::dashboard::WIDGETS})))
        }
        (Method::Get, ["leads"]) => {
            // The contacts publish their facts when they migrate (on provisioning,
            // or their first request after an upgrade): make sure they have.
            if db.run("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = 'contacts_facts'", &[]).map_err(edge_component::storage)?.is_empty() {
                let _ = edge_component::call(ctx, Method::Post, "contacts", "/internal/migrate", Some(&json!({})), &[], true);
            }
            let pairs = edge_http::query::parse(ctx.query());
            let days = query::get(&pairs, "days").map(|d| d.parse::<i64>().ok().filter(|n| (1..=365).contains(n)).ok_or_else(|| edge_component::field_error("days", "must be from 1 to 365"))).transpose()?.unwrap_or(30);
            // A sales rep limited to their own records counts their own leads.
            let own = ctx.visibility().sql("owner_id").is_some().then(|| ctx.actor.strip_prefix("user:").map(String::from)).flatten();
            Ok(Reply::json(200, &automation_domain::dashboard::leads_by_source(&db, days, own.as_deref()).map_err(&fail)?))
        }
        (Method::Get, ["customers", "summary"]) => Ok(Reply::json(200, &value::summary(&db).map_err(&fail)?)),
        (Method::Get, ["campaigns"]) => Ok(Reply::json(200, &json!({"items": automation_domain::roi::report(&db).map_err(failed("campaign return"))?, "lookback_days": automation_domain::roi::LOOKBACK_DAYS}))),
        // A full pass now (after an import of order history, say).
        (Method::Post, ["customers", "recompute"]) => {
            let n = value::recompute_all(&db, chrono::Utc::now()).map_err(&fail)?;
            Ok(Reply::json(200, &json!({"customers": n})))
        }
        (Method::Get, ["customers", contact]) => {
            if !edge_http::ids::is_valid("c", contact) {
                return Err(Problem::not_found("No contact with this id"));
            }
            // A customer with no orders has no value figures: an empty answer, not an error.
            Ok(Reply::json(200, &value::of(&db, contact).map_err(&fail)?.unwrap_or_else(|| json!({"contact_id": contact, "orders": 0}))))
        }
        _ => Err(Problem::not_found("No such resource")),
    }
}
