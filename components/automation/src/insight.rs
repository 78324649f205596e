//! Customer value and churn (see `automation_domain::value`): kept current
//! by the tick (a full pass daily, a step per tick; in between, customers
//! whose orders, won deals or touches changed), and answered at
//! `/api/v1/insights/customers` (and per company).

use crate::{db, failed};
use automation_domain::value;
use edge_component::{storage, Ctx};
use edge_db::Db;
use edge_http::{query, Problem, Reply};
use serde_json::{json, Value};
use spin_sdk::http::Method;
use std::collections::HashMap;

/// Change-log events read per source and tick.
const BATCH: i64 = 1000;

/// A change log whose events can change a customer's figures.
struct Source {
    /// The cursor's key in `value_state`.
    key: &'static str,
    log: &'static str,
    entity: &'static str,
    component: &'static str,
    /// Where the record is, to ask whose it is when the event does not say.
    path: &'static str,
    /// Fields whose change matters (an update touching none of them is skipped).
    fields: &'static [&'static str],
}

const SOURCES: [Source; 3] = [
    Source { key: "orders_seq", log: "portal_events", entity: "order", component: "portal", path: "/api/v1/orders/", fields: &["status", "total", "placed_at", "contact_id", "currency"] },
    Source { key: "deals_seq", log: "pipeline_events", entity: "deal", component: "pipeline", path: "/api/v1/deals/", fields: &["status", "base_value", "value", "closed_at", "contact_id", "deleted_at"] },
    Source { key: "touches_seq", log: "contacts_events", entity: "activity", component: "contacts", path: "/api/v1/activities/", fields: &["kind", "occurred_at", "contact_id", "deleted_at"] },
];

/// A cursor kept in `value_state`.
fn cursor(db: &spin_sdk::sqlite::Connection, key: &str) -> Result<Option<i64>, Problem> {
    Ok(value::state(db, key).map_err(storage)?.and_then(|s| s.parse().ok()))
}

fn set_cursor(db: &spin_sdk::sqlite::Connection, key: &str, v: i64) -> Result<(), Problem> {
    value::set_state(db, key, &v.to_string()).map_err(storage)
}

/// The newest event in a change log (None: no such component here).
fn head(db: &spin_sdk::sqlite::Connection, log: &str) -> Option<i64> {
    db.run(&format!("SELECT COALESCE(max(seq), 0) FROM {log}"), &[]).ok().and_then(|r| r.scalar_i64())
}

/// The tick's share: a step of the full pass (started when due), and
/// rescoring the customers whose figures changed since the last look.
/// Answers whether more is waiting.
pub fn keep_current(ctx: &Ctx) -> Result<bool, Problem> {
    let db = db()?;
    let fail = failed("customer value");
    let now = chrono::Utc::now();
    // Each change log's newest event, read once a tick (None: no such component here).
    let heads: Vec<Option<i64>> = SOURCES.iter().map(|s| head(&db, s.log)).collect();
    // Nothing to value in an app without orders or deals (touches alone are no sales).
    if !SOURCES.iter().zip(&heads).any(|(s, h)| s.entity != "activity" && h.is_some()) {
        return Ok(false);
    }
    let mut busy = false;
    // Whose figures changed since the last look.
    let mut contacts: Vec<String> = Vec::new();
    for (s, h) in SOURCES.iter().zip(&heads) {
        let Some(h) = *h else { continue };
        let from = cursor(&db, s.key)?.unwrap_or(h);
        let (last, full) = changed(ctx, &db, s, from, &mut contacts)?;
        busy |= full;
        set_cursor(&db, s.key, last.max(from))?;
    }
    // A full pass when due, or when rescoring would not do: no boundaries yet
    // (a new tenant's first sales) or many changes at once.
    let mut running = value::running(&db).map_err(&fail)?.is_some();
    // (Counted only when someone changed: otherwise rescoring has nothing to do.)
    let rescoring_will_not_do = !contacts.is_empty() && {
        let valued = db.run("SELECT count(*) FROM customer_value", &[]).map_err(storage)?.scalar_i64().unwrap_or(0);
        let bounds = db.run("SELECT count(*) FROM value_bounds", &[]).map_err(storage)?.scalar_i64().unwrap_or(0);
        bounds == 0 || contacts.len() as i64 * 10 > valued
    };
    // No pass is running here, so only the boundaries' age decides whether one is due.
    if !running && (rescoring_will_not_do || value::bounds_old(&db, now).map_err(&fail)?) {
        // Changes since this tick began are read again once the pass is done.
        for (s, h) in SOURCES.iter().zip(&heads) {
            if let Some(h) = *h {
                set_cursor(&db, &format!("full_from_{}", s.key), h)?;
            }
        }
        value::start_full(&db, now).map_err(&fail)?;
        running = true;
    }
    if running {
        if value::full_step(&db, now, value::STEP_ROWS).map_err(&fail)?.is_none() {
            busy = true;
        } else {
            for s in &SOURCES {
                if let (Some(from), Some(at)) = (cursor(&db, &format!("full_from_{}", s.key))?, cursor(&db, s.key)?) {
                    set_cursor(&db, s.key, from.min(at))?;
                }
            }
            // Everyone was just scored from the sources.
            return Ok(busy);
        }
    }
    // Against the last pass's boundaries (during a pass too: its end reads these changes again).
    value::rescore(&db, &contacts, now).map_err(&fail)?;
    Ok(busy)
}

/// Reads a batch of `s`'s events after `from`, adding the contacts they
/// concern; answers the last seq read and whether the batch was full.
fn changed(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, s: &Source, from: i64, contacts: &mut Vec<String>) -> Result<(i64, bool), Problem> {
    // Whose each record is, as its component answered (asked once per record and batch).
    let mut owners: HashMap<String, Option<String>> = HashMap::new();
    let r = db
        .run(&format!("SELECT seq, entity_id, action, before, after FROM {} WHERE seq > ? AND entity = ? ORDER BY seq LIMIT ?", s.log), &[from.into(), s.entity.into(), BATCH.into()])
        .map_err(storage)?;
    let mut last = from;
    for row in r.iter() {
        last = row.i64(0).unwrap_or(last);
        let parse = |i: usize| -> Value { row.str(i).and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null) };
        let (before, after) = (parse(3), parse(4));
        // An update records only what changed: skip the ones that cannot matter.
        if row.str(2) == Some("updated") && !s.fields.iter().any(|f| after.get(*f).is_some() || before.get(*f).is_some()) {
            continue;
        }
        let mut whose: Vec<String> = [&before, &after].iter().filter_map(|v| v["contact_id"].as_str().map(String::from)).collect();
        if whose.is_empty() {
            // Ask the owning component whose record it is.
            let id = row.text(1);
            let path = format!("{}{}", s.path, id);
            let owner = owners.entry(id).or_insert_with(|| match edge_component::call(ctx, Method::Get, s.component, &path, None, &[], true) {
                Ok((200, _, v)) => v["contact_id"].as_str().map(String::from),
                _ => None,
            });
            whose.extend(owner.clone());
        }
        for c in whose {
            if !contacts.contains(&c) {
                contacts.push(c);
            }
        }
    }
    Ok((last, r.len() as i64 == BATCH))
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
        (Method::Get, ["customers", "summary"]) => {
            let mut v = value::summary(&db).map_err(&fail)?;
            v["pass"] = serde_json::to_value(value::running(&db).map_err(&fail)?).unwrap_or(Value::Null);
            Ok(Reply::json(200, &v))
        }
        (Method::Get, ["campaigns"]) => Ok(Reply::json(200, &json!({"items": automation_domain::roi::report(&db).map_err(failed("campaign return"))?, "lookback_days": automation_domain::roi::LOOKBACK_DAYS}))),
        // A full pass now (after an import of order history, say): it runs in
        // this request for a few seconds, then goes on in the tick (202).
        (Method::Post, ["customers", "recompute"]) => {
            let now = chrono::Utc::now();
            // Three seconds from the first step on (the clock starts once the pass is there).
            let mut started: Option<std::time::Instant> = None;
            match value::run_full(&db, now, || started.get_or_insert_with(std::time::Instant::now).elapsed() < std::time::Duration::from_secs(3)).map_err(&fail)? {
                Some(n) => Ok(Reply::json(200, &json!({"status": "done", "customers": n}))),
                None => Ok(Reply::json(202, &json!({"status": "running", "pass": value::running(&db).map_err(&fail)?}))),
            }
        }
        (Method::Get, ["companies", company]) => {
            edge_component::valid_id("co", company, "company")?;
            Ok(Reply::json(200, &value::of_company(&db, company).map_err(&fail)?))
        }
        (Method::Get, ["customers", contact]) => {
            edge_component::valid_id("c", contact, "contact")?;
            // A customer with no orders has no value figures: an empty answer, not an error.
            Ok(Reply::json(200, &value::of(&db, contact).map_err(&fail)?.unwrap_or_else(|| json!({"contact_id": contact, "orders": 0}))))
        }
        _ => Err(Problem::not_found("No such resource")),
    }
}
