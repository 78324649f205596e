//! Customer value and churn, from what other components publish per contact:
//! orders (`portal_order_facts`: cancelled and returned left out), won deals
//! (`pipeline_won_deals`) and touches (`contacts_touch_facts`: calls,
//! meetings and emails logged on the contact). Any of them may be missing (an
//! app without a portal, say): it then counts as empty.
//!
//! - A purchase is an order or a won deal; a customer has at least one.
//! - RFM: recency (last purchase), frequency (purchases) and monetary value
//!   (total) scored 1–5 by quintile among all customers (ties share a score:
//!   the percent rank of the value, so 20% steps), combined as
//!   `rfm` = 100·R + 10·F + M.
//! - Lifetime value: historical (what they paid), and projected over the next
//!   three years = average purchase × purchases a year so far (their life as
//!   a customer counted as at least a quarter) × 3, halved when at risk.
//! - At risk: a repeat customer whose silence since the last purchase
//!   exceeds 1.5 × their own usual interval between purchases; or a customer
//!   with three or more touches whose silence since the later of the last
//!   purchase and the last touch exceeds 1.5 × their usual contact interval
//!   (either way at least 14 days).
//!
//! A full pass runs in steps (a tick's share each): stage every customer's
//! figures in contact-id order (orders, then won deals, then touches), take
//! the quintile boundaries once from the staged figures, then score in
//! contact-id ranges. Between passes, customers whose orders, deals or
//! touches changed are rescored against the boundaries of the last pass.
//! Published for segments and rules as `automation_customer_value`.

use anyhow::Result;
use chrono::{DateTime, Utc};
use edge_db::{Db, Val};
use serde_json::{json, Value};

/// How long a full pass's quintile boundaries serve before the next one.
pub const FULL_EVERY_HOURS: i64 = 24;

/// Customers a step of the full pass stages or scores.
pub const STEP_ROWS: i64 = 50_000;

fn days(a: &str, now: DateTime<Utc>) -> f64 {
    DateTime::parse_from_rfc3339(a).map(|t| (now - t.with_timezone(&Utc)).num_seconds() as f64 / 86_400.0).unwrap_or(0.0)
}

/// Which published views exist in this tenant's database.
struct Sources {
    orders: bool,
    deals: bool,
    touches: bool,
}

fn sources<D: Db + ?Sized>(db: &D) -> Result<Sources> {
    let r = db.run("SELECT name FROM sqlite_master WHERE type = 'view' AND name IN ('portal_order_facts', 'pipeline_won_deals', 'contacts_touch_facts')", &[])?;
    let has = |n: &str| r.iter().any(|row| row.str(0) == Some(n));
    Ok(Sources { orders: has("portal_order_facts"), deals: has("pipeline_won_deals"), touches: has("contacts_touch_facts") })
}

/// Per contact (narrowed by `filter`, SQL on `contact_id` starting with AND):
/// (contact_id, n, t, a, b) = count, total, first and last time, from
/// `view` (present or not) with its amount and time columns.
fn purchases_sql(present: bool, view: &str, amount: &str, time: &str, filter: &str) -> String {
    if present {
        format!("SELECT contact_id, count(*) AS n, sum({amount}) AS t, min({time}) AS a, max({time}) AS b FROM {view} WHERE contact_id IS NOT NULL {filter} GROUP BY contact_id")
    } else {
        "SELECT NULL AS contact_id, 0 AS n, 0 AS t, NULL AS a, NULL AS b WHERE 0".into()
    }
}

fn orders_sql(s: &Sources, filter: &str) -> String {
    purchases_sql(s.orders, "portal_order_facts", "total", "placed_at", filter)
}

fn deals_sql(s: &Sources, filter: &str) -> String {
    purchases_sql(s.deals, "pipeline_won_deals", "base_value", "closed_at", filter)
}

/// Touches up to now (?1): a meeting planned for next week is no touch yet.
fn touches_sql(s: &Sources, filter: &str) -> String {
    if s.touches {
        format!("SELECT contact_id, count(*) AS n, min(occurred_at) AS a, max(occurred_at) AS b FROM contacts_touch_facts WHERE occurred_at <= ?1 {filter} GROUP BY contact_id")
    } else {
        "SELECT NULL AS contact_id, 0 AS n, NULL AS a, NULL AS b WHERE 0".into()
    }
}

/// Scores the customers in `facts` (a query with contact_id, orders, deals,
/// purchases, total, first_at, last_at, touches, first_touch_at,
/// last_touch_at; ?1 is now) against the stored boundaries and writes them.
fn score<D: Db + ?Sized>(db: &D, facts: &str, params: &[Val]) -> Result<i64> {
    let sql = format!(
        "INSERT OR REPLACE INTO customer_value (contact_id, orders, deals, total, first_order_at, last_order_at, r_score, f_score, m_score, rfm,
                silence_days, interval_days, touches, last_touch_at, touch_interval_days, at_risk, clv, projected_clv, computed_at)
         SELECT contact_id, orders, deals, total, first_at, last_at, r, f, m, 100 * r + 10 * f + m,
                silence, interval, touches, last_touch_at, touch_interval, at_risk, total,
                CAST(round((total * 1.0 / purchases) * (purchases / max((julianday(?1) - julianday(first_at)) / 365.25, 0.25)) * 3 * (CASE WHEN at_risk = 1 THEN 0.5 ELSE 1 END)) AS INTEGER),
                ?1
         FROM (
           SELECT *, CASE WHEN (interval IS NOT NULL AND silence > max(1.5 * interval, 14))
                           OR (touch_interval IS NOT NULL AND quiet > max(1.5 * touch_interval, 14)) THEN 1 ELSE 0 END AS at_risk
           FROM (
             SELECT x.*,
                    (SELECT COALESCE(max(score), 1) FROM value_bounds WHERE measure = 'r' AND low <= x.last_at) AS r,
                    (SELECT COALESCE(max(score), 1) FROM value_bounds WHERE measure = 'f' AND low <= x.purchases) AS f,
                    (SELECT COALESCE(max(score), 1) FROM value_bounds WHERE measure = 'm' AND low <= x.total) AS m,
                    julianday(?1) - julianday(x.last_at) AS silence,
                    julianday(?1) - julianday(max(x.last_at, COALESCE(x.last_touch_at, x.last_at))) AS quiet,
                    CASE WHEN x.purchases > 1 THEN (julianday(x.last_at) - julianday(x.first_at)) / (x.purchases - 1) END AS interval,
                    CASE WHEN x.touches > 2 THEN (julianday(x.last_touch_at) - julianday(x.first_touch_at)) / (x.touches - 1) END AS touch_interval
             FROM ({facts}) x WHERE x.purchases > 0
           )
         )"
    );
    db.run(&sql, params)?;
    Ok(db.run("SELECT changes()", &[])?.scalar_i64().unwrap_or(0))
}

/// The figures of the customers `ids` (?2…), straight from the sources.
fn facts_of(s: &Sources, n: usize) -> String {
    let list = (0..n).map(|i| format!("?{}", i + 2)).collect::<Vec<_>>().join(", ");
    let filter = format!("AND contact_id IN ({list})");
    let (o, d, t) = (orders_sql(s, &filter), deals_sql(s, &filter), touches_sql(s, &filter));
    format!(
        "SELECT ids.contact_id AS contact_id, COALESCE(o.n, 0) AS orders, COALESCE(d.n, 0) AS deals, COALESCE(o.n, 0) + COALESCE(d.n, 0) AS purchases,
                COALESCE(o.t, 0) + COALESCE(d.t, 0) AS total,
                min(COALESCE(o.a, d.a), COALESCE(d.a, o.a)) AS first_at, max(COALESCE(o.b, d.b), COALESCE(d.b, o.b)) AS last_at,
                COALESCE(t.n, 0) AS touches, t.a AS first_touch_at, t.b AS last_touch_at
         FROM (SELECT contact_id FROM ({o}) UNION SELECT contact_id FROM ({d})) ids
         LEFT JOIN ({o}) o ON o.contact_id = ids.contact_id
         LEFT JOIN ({d}) d ON d.contact_id = ids.contact_id
         LEFT JOIN ({t}) t ON t.contact_id = ids.contact_id"
    )
}

/// Rescores the customers whose purchases or touches changed (against the
/// boundaries of the last full pass); one without purchases any more is dropped.
pub fn rescore<D: Db + ?Sized>(db: &D, contacts: &[String], now: DateTime<Utc>) -> Result<i64> {
    if contacts.is_empty() {
        return Ok(0);
    }
    let s = sources(db)?;
    edge_db::tx(db, || {
        let mut n = 0;
        for chunk in contacts.chunks(200) {
            let ids: Vec<Val> = chunk.iter().map(|c| c.as_str().into()).collect();
            db.run(&format!("DELETE FROM customer_value WHERE contact_id IN ({})", edge_db::record::marks(chunk.len())), &ids)?;
            let mut params: Vec<Val> = vec![crate::at(now).into()];
            params.extend(ids);
            n += score(db, &facts_of(&s, chunk.len()), &params)?;
        }
        Ok(n)
    })
}

/// Where a full pass is (kept in `value_state` under `pass`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Pass {
    /// orders, deals, touches, bounds, score.
    pub phase: String,
    /// The last contact id the phase has done.
    pub after: String,
    pub started_at: String,
    /// Customers staged so far, then scored so far.
    pub done: i64,
}

/// A value kept in `value_state` (cursors, the running pass, when the last pass began).
pub fn state<D: Db + ?Sized>(db: &D, key: &str) -> Result<Option<String>> {
    Ok(db.run("SELECT value FROM value_state WHERE key = ?", &[key.into()])?.first().and_then(|r| r.string(0)))
}

pub fn set_state<D: Db + ?Sized>(db: &D, key: &str, value: &str) -> Result<()> {
    db.run("INSERT OR REPLACE INTO value_state (key, value) VALUES (?, ?)", &[key.into(), value.into()])?;
    Ok(())
}

/// The running full pass, if any (for progress).
pub fn running<D: Db + ?Sized>(db: &D) -> Result<Option<Pass>> {
    Ok(state(db, "pass")?.and_then(|v| serde_json::from_str(&v).ok()))
}

fn save_pass<D: Db + ?Sized>(db: &D, p: Option<&Pass>) -> Result<()> {
    match p {
        Some(p) => set_state(db, "pass", &serde_json::to_string(p)?)?,
        None => {
            db.run("DELETE FROM value_state WHERE key = 'pass'", &[])?;
        }
    };
    Ok(())
}

/// Starts a full pass (a running one starts over).
pub fn start_full<D: Db + ?Sized>(db: &D, now: DateTime<Utc>) -> Result<()> {
    edge_db::tx(db, || {
        db.run("DROP TABLE IF EXISTS value_next", &[])?;
        db.run(
            "CREATE TABLE value_next (
                contact_id TEXT PRIMARY KEY, orders INTEGER NOT NULL DEFAULT 0, deals INTEGER NOT NULL DEFAULT 0, purchases INTEGER NOT NULL,
                total INTEGER NOT NULL, first_at TEXT, last_at TEXT, touches INTEGER NOT NULL DEFAULT 0, first_touch_at TEXT, last_touch_at TEXT
            ) STRICT",
            &[],
        )?;
        for col in ["purchases", "total", "last_at"] {
            db.run(&format!("CREATE INDEX value_next_{col} ON value_next({col})"), &[])?;
        }
        save_pass(db, Some(&Pass { phase: "orders".into(), after: String::new(), started_at: crate::at(now), done: 0 }))
    })
}

/// The contact id `rows` customers after `after` in `table` (a table or a
/// published view of rows with a contact id), or None when fewer are left: a
/// step's upper end. Walks the contact-id index; stops there.
fn upper<D: Db + ?Sized>(db: &D, table: &str, after: &str, rows: i64) -> Result<Option<String>> {
    let sql = format!("SELECT contact_id FROM {table} WHERE contact_id > ? GROUP BY contact_id ORDER BY contact_id LIMIT 1 OFFSET ?");
    Ok(db.run(&sql, &[after.into(), (rows - 1).into()])?.first().and_then(|r| r.string(0)))
}

/// One step of the running full pass (about `rows` customers' worth):
/// `Some(customers)` when the pass has finished with this step.
pub fn full_step<D: Db + ?Sized>(db: &D, now: DateTime<Utc>, rows: i64) -> Result<Option<i64>> {
    let Some(mut p) = running(db)? else { return Ok(None) };
    let s = sources(db)?;
    let now_s = crate::at(now);
    let now_s = now_s.as_str();
    // Phases that finish under the budget run on into the next one.
    loop {
        let before = p.phase.clone();
        let out = phase_step(db, &s, &mut p, &now_s, rows)?;
        if out.is_some() || p.phase == before {
            return Ok(out);
        }
    }
}

/// One phase's share of a step; moves `p` on (and saves it).
fn phase_step<D: Db + ?Sized>(db: &D, s: &Sources, p: &mut Pass, now_s: &str, rows: i64) -> Result<Option<i64>> {
    edge_db::tx(db, || {
        // This step covers contact ids in (after, hi]; hi None: to the end.
        let range = |hi: &Option<String>| if hi.is_some() { "AND contact_id > ?2 AND contact_id <= ?3" } else { "AND contact_id > ?2" };
        let params = |after: &str, hi: &Option<String>| -> Vec<Val> {
            let mut v: Vec<Val> = vec![now_s.into(), after.into()];
            if let Some(h) = hi {
                v.push(h.as_str().into());
            }
            v
        };
        let finished: Option<i64> = match p.phase.as_str() {
            "orders" | "deals" => {
                let deals = p.phase == "deals";
                let (view, present) = if deals { ("pipeline_won_deals", s.deals) } else { ("portal_order_facts", s.orders) };
                let hi = if present { upper(db, view, &p.after, rows)? } else { None };
                let src = if deals { deals_sql(s, range(&hi)) } else { orders_sql(s, range(&hi)) };
                let sql = if deals {
                    format!(
                        "INSERT INTO value_next (contact_id, deals, purchases, total, first_at, last_at) SELECT contact_id, n, n, t, a, b FROM ({src}) WHERE true
                         ON CONFLICT (contact_id) DO UPDATE SET deals = excluded.deals, purchases = orders + excluded.deals, total = total + excluded.total,
                           first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at)"
                    )
                } else {
                    format!("INSERT INTO value_next (contact_id, orders, purchases, total, first_at, last_at) SELECT contact_id, n, n, t, a, b FROM ({src})")
                };
                if present {
                    db.run(&sql, &params(&p.after, &hi))?;
                }
                p.done = db.run("SELECT count(*) FROM value_next", &[])?.scalar_i64().unwrap_or(0);
                match hi {
                    Some(h) => p.after = h,
                    None => {
                        p.phase = if deals { "touches" } else { "deals" }.into();
                        p.after = String::new();
                    }
                }
                None
            }
            "touches" => {
                let hi = upper(db, "value_next", &p.after, rows)?;
                if s.touches {
                    let t = touches_sql(s, "AND contact_id = value_next.contact_id");
                    db.run(
                        &format!("UPDATE value_next SET (touches, first_touch_at, last_touch_at) = (SELECT COALESCE(sum(n), 0), min(a), max(b) FROM ({t})) WHERE true {}", range(&hi)),
                        &params(&p.after, &hi),
                    )?;
                }
                match hi {
                    Some(h) => p.after = h,
                    None => {
                        p.phase = "bounds".into();
                        p.after = String::new();
                    }
                }
                None
            }
            "bounds" => {
                bounds(db)?;
                p.phase = "score".into();
                p.done = 0;
                None
            }
            _ => {
                let hi = upper(db, "value_next", &p.after, rows)?;
                let r = range(&hi);
                // Customers in this range who have no purchases any more go.
                db.run(&format!("DELETE FROM customer_value WHERE true {r} AND contact_id NOT IN (SELECT contact_id FROM value_next WHERE true {r})"), &params(&p.after, &hi))?;
                p.done += score(db, &format!("SELECT * FROM value_next WHERE true {r}"), &params(&p.after, &hi))?;
                match hi {
                    Some(h) => {
                        p.after = h;
                        None
                    }
                    None => Some(p.done),
                }
            }
        };
        match finished {
            Some(n) => {
                db.run("DROP TABLE value_next", &[])?;
                set_state(db, "full_at", &p.started_at)?;
                save_pass(db, None)?;
                Ok(Some(n))
            }
            None => {
                save_pass(db, Some(p))?;
                Ok(None)
            }
        }
    })
}

/// The quintile boundaries from the staged figures: for each score 2–5 the
/// lowest value whose percent rank (share of customers strictly below it)
/// reaches (score − 1)/5 — what scoring everyone by percent rank would give.
fn bounds<D: Db + ?Sized>(db: &D) -> Result<()> {
    db.run("DELETE FROM value_bounds", &[])?;
    let n = db.run("SELECT count(*) FROM value_next", &[])?.scalar_i64().unwrap_or(0);
    if n < 2 {
        return Ok(()); // one customer (or none) scores 1 throughout
    }
    for (measure, col) in [("r", "last_at"), ("f", "purchases"), ("m", "total")] {
        for score in 2..=5i64 {
            // At least p customers strictly below: the value after the p-th lowest.
            let p = ((score - 1) * (n - 1) + 4) / 5;
            db.run(
                &format!(
                    "INSERT INTO value_bounds (measure, score, low)
                     SELECT ?, ?, min({col}) FROM value_next WHERE {col} > (SELECT {col} FROM value_next ORDER BY {col} LIMIT 1 OFFSET ?) HAVING min({col}) IS NOT NULL"
                ),
                &[measure.into(), score.into(), (p - 1).into()],
            )?;
        }
    }
    Ok(())
}

/// Runs the full pass (one is started unless one is running) step by step
/// while `keep_going` says so (asked before each step): `Some(customers)`
/// when it has finished, None when it goes on later (in the tick).
pub fn run_full<D: Db + ?Sized>(db: &D, now: DateTime<Utc>, mut keep_going: impl FnMut() -> bool) -> Result<Option<i64>> {
    if running(db)?.is_none() {
        start_full(db, now)?;
    }
    while keep_going() {
        if let Some(n) = full_step(db, now, STEP_ROWS)? {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

/// A whole full pass at once (tests, benchmarks, a small tenant's request);
/// a running one starts over.
pub fn recompute_all<D: Db + ?Sized>(db: &D, now: DateTime<Utc>) -> Result<i64> {
    start_full(db, now)?;
    // Never None: it keeps going until the pass is done.
    Ok(run_full(db, now, || true)?.unwrap_or(0))
}

/// Whether a full pass is due (never done, or its boundaries are old) and none is running.
pub fn full_due<D: Db + ?Sized>(db: &D, now: DateTime<Utc>) -> Result<bool> {
    if running(db)?.is_some() {
        return Ok(false);
    }
    bounds_old(db, now)
}

/// Whether the last full pass is missing or older than [`FULL_EVERY_HOURS`]
/// (whether a pass is running aside: see [`full_due`]).
pub fn bounds_old<D: Db + ?Sized>(db: &D, now: DateTime<Utc>) -> Result<bool> {
    let at = state(db, "full_at")?;
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
    let (orders, deals) = (r.i64(1).unwrap_or(0), r.i64(14).unwrap_or(0));
    json!({
        "contact_id": r.str(0), "orders": orders, "deals_won": deals, "purchases": orders + deals, "total": r.i64(2),
        "first_purchase_at": r.str(3), "last_purchase_at": r.str(4),
        "r": rs, "f": fs, "m": ms, "rfm": 100 * rs + 10 * fs + ms, "segment": label(rs, fs, ms, risk),
        "silence_days": r.f64(8).map(|d| d.round() as i64), "usual_interval_days": r.f64(9).map(|d| d.round() as i64), "at_risk": risk,
        "touches": r.i64(15).unwrap_or(0), "last_touch_at": r.str(16), "usual_touch_interval_days": r.f64(17).map(|d| d.round() as i64),
        "clv": r.i64(11), "projected_clv": r.i64(12), "computed_at": r.str(13),
    })
}

const COLS: &str = "contact_id, orders, total, first_order_at, last_order_at, r_score, f_score, m_score, silence_days, interval_days, at_risk, clv, projected_clv, computed_at, deals, touches, last_touch_at, touch_interval_days";

pub fn of<D: Db + ?Sized>(db: &D, contact: &str) -> Result<Option<Value>> {
    Ok(db.run(&format!("SELECT {COLS} FROM customer_value WHERE contact_id = ?"), &[contact.into()])?.first().map(row_json))
}

/// Which of the customer's orders `order` (placed at `placed_at`) is (1:
/// their first), counting those placed before it that still count (not
/// cancelled or returned).
pub fn order_number<D: Db + ?Sized>(db: &D, contact: &str, placed_at: &str, order: &str) -> Result<Option<i64>> {
    Ok(db
        .run("SELECT count(*) FROM portal_order_facts WHERE contact_id = ?1 AND (placed_at < ?2 OR (placed_at = ?2 AND order_id <= ?3))", &[contact.into(), placed_at.into(), order.into()])?
        .scalar_i64())
}

/// A company's customers taken together (through the contacts' published
/// facts): what they bought and are worth, who is at risk, and the people.
pub fn of_company<D: Db + ?Sized>(db: &D, company: &str) -> Result<Value> {
    let has_company = db
        .run("SELECT 1 FROM pragma_table_info('contacts_facts') WHERE name = 'company_id'", &[])
        .map(|r| !r.is_empty())
        .unwrap_or(false);
    if !has_company {
        return Ok(json!({"company_id": company, "customers": 0, "purchases": 0, "total": 0, "clv": 0, "projected_clv": 0, "at_risk": 0, "people": []}));
    }
    let from = "FROM customer_value v JOIN contacts_facts f ON f.contact_id = v.contact_id WHERE f.company_id = ?";
    let r = db.run(
        &format!("SELECT count(*), COALESCE(sum(v.orders + v.deals), 0), COALESCE(sum(v.total), 0), COALESCE(sum(v.clv), 0), COALESCE(sum(v.projected_clv), 0), COALESCE(sum(v.at_risk), 0), min(v.first_order_at), max(v.last_order_at) {from}"),
        &[company.into()],
    )?;
    // An aggregate without GROUP BY always answers one row.
    let t = r.first().ok_or_else(|| anyhow::anyhow!("no company totals"))?;
    let cols = COLS.split(", ").map(|c| format!("v.{c}")).collect::<Vec<_>>().join(", ");
    let people: Vec<Value> = db.run(&format!("SELECT {cols} {from} ORDER BY v.clv DESC, v.contact_id LIMIT 10"), &[company.into()])?.iter().map(row_json).collect();
    Ok(json!({
        "company_id": company, "customers": t.i64(0).unwrap_or(0), "purchases": t.i64(1).unwrap_or(0), "total": t.i64(2).unwrap_or(0),
        "clv": t.i64(3).unwrap_or(0), "projected_clv": t.i64(4).unwrap_or(0), "at_risk": t.i64(5).unwrap_or(0),
        "first_purchase_at": t.str(6), "last_purchase_at": t.str(7), "people": people,
    }))
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
        db.run("CREATE INDEX orders_fixture_contact ON orders_fixture(contact_id, placed_at)", &[]).unwrap();
        db.run("CREATE VIEW portal_order_facts AS SELECT contact_id, total, placed_at FROM orders_fixture", &[]).unwrap();
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
    /// Won deals count as purchases; touches set a usual contact interval.
    #[test]
    fn won_deals_are_purchases_and_a_quiet_contact_is_at_risk() {
        let db = fixture();
        db.run("CREATE TABLE deals_fixture (contact_id TEXT, base_value INTEGER, closed_at TEXT)", &[]).unwrap();
        db.run("CREATE VIEW pipeline_won_deals AS SELECT contact_id, base_value, closed_at FROM deals_fixture", &[]).unwrap();
        db.run("CREATE TABLE touches_fixture (contact_id TEXT, occurred_at TEXT)", &[]).unwrap();
        db.run("CREATE VIEW contacts_touch_facts AS SELECT contact_id, occurred_at FROM touches_fixture", &[]).unwrap();
        // Dee also won a deal with us a month ago: two purchases, 120,000 in all.
        db.run("INSERT INTO deals_fixture VALUES ('c_dee', 119000, '2026-11-01T00:00:00Z')", &[]).unwrap();
        // Fay: a deal only, a year ago, and four calls from 4 July to 2
        // September (every 20 days), the last 90 days ago: quiet too long.
        db.run("INSERT INTO deals_fixture VALUES ('c_fay', 30000, '2025-12-01T00:00:00Z')", &[]).unwrap();
        for at in ["2026-08-03T00:00:00Z", "2026-08-03T00:00:00Z", "2026-07-04T00:00:00Z", "2026-09-02T00:00:00Z"] {
            db.run("INSERT INTO touches_fixture VALUES ('c_fay', ?)", &[at.into()]).unwrap();
        }
        // A meeting planned for next week is no touch yet.
        db.run("INSERT INTO touches_fixture VALUES ('c_fay', '2026-12-08T00:00:00Z')", &[]).unwrap();
        // Cy's single order yesterday with two calls a week apart: too few touches for an interval.
        for at in ["2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z"] {
            db.run("INSERT INTO touches_fixture VALUES ('c_cy', ?)", &[at.into()]).unwrap();
        }
        assert_eq!(recompute_all(&db, now()).unwrap(), 6);
        let v = |c: &str| of(&db, c).unwrap().unwrap();
        let dee = v("c_dee");
        assert_eq!((dee["orders"].as_i64(), dee["deals_won"].as_i64(), dee["purchases"].as_i64(), dee["total"].as_i64()), (Some(1), Some(1), Some(2), Some(120_000)), "{dee}");
        assert_eq!((dee["first_purchase_at"].as_str(), dee["last_purchase_at"].as_str()), (Some("2024-12-01T00:00:00Z"), Some("2026-11-01T00:00:00Z")));
        // Money among six: dee 120,000 is the most now (rank 5/5 → 5).
        assert_eq!(dee["m"], 5);
        let fay = v("c_fay");
        // Four touches from 4 July to 2 September: 60 days / 3 = 20; quiet for 90 days > 30.
        assert_eq!((fay["touches"].as_i64(), fay["usual_touch_interval_days"].as_i64(), fay["at_risk"].as_bool()), (Some(4), Some(20), Some(true)), "{fay}");
        assert_eq!(fay["last_touch_at"], "2026-09-02T00:00:00Z");
        let cy = v("c_cy");
        assert_eq!((cy["touches"].as_i64(), cy["usual_touch_interval_days"].as_i64(), cy["at_risk"].as_bool()), (Some(2), None, Some(false)), "{cy}");
        // A call to Fay today: no longer quiet (rescored from the sources).
        db.run("INSERT INTO touches_fixture VALUES ('c_fay', '2026-11-30T00:00:00Z')", &[]).unwrap();
        assert_eq!(rescore(&db, &["c_fay".into()], now()).unwrap(), 1);
        assert_eq!(v("c_fay")["at_risk"], false);
    }

    /// The pass in small steps gives the same scores as in one go, and a
    /// customer with no purchases left drops out.
    #[test]
    fn a_full_pass_in_steps_scores_as_one_and_drops_former_customers() {
        let db = fixture();
        recompute_all(&db, now()).unwrap();
        let whole: Vec<Value> = ["c_ann", "c_bob", "c_cy", "c_dee", "c_eve"].iter().map(|c| of(&db, c).unwrap().unwrap()["rfm"].clone()).collect();
        db.run("DELETE FROM orders_fixture WHERE contact_id = 'c_eve'", &[]).unwrap();
        start_full(&db, now()).unwrap();
        assert!(!full_due(&db, now() + chrono::Duration::days(3)).unwrap(), "not while one runs");
        let mut steps = 0;
        let n = loop {
            steps += 1;
            if let Some(n) = full_step(&db, now(), 2).unwrap() {
                break n;
            }
            assert!(running(&db).unwrap().is_some());
        };
        assert_eq!(n, 4);
        assert!(steps > 6, "{steps} steps");
        assert!(of(&db, "c_eve").unwrap().is_none());
        assert!(running(&db).unwrap().is_none());
        // Four customers now: recency ranks dee 0, bob 1/3, ann 2/3, cy 1 → 1, 2, 4, 5.
        assert_eq!(of(&db, "c_dee").unwrap().unwrap()["r"], 1);
        assert_eq!(of(&db, "c_bob").unwrap().unwrap()["r"], 2);
        assert_eq!(of(&db, "c_ann").unwrap().unwrap()["r"], 4);
        assert_eq!(whole.len(), 5);
    }
    #[test]
    fn a_company_adds_up_its_people() {
        let db = fixture();
        db.run("CREATE TABLE people (contact_id TEXT, company_id TEXT)", &[]).unwrap();
        db.run("INSERT INTO people VALUES ('c_ann', 'co_acme'), ('c_bob', 'co_acme'), ('c_cy', 'co_other'), ('c_zed', 'co_acme')", &[]).unwrap();
        db.run("CREATE VIEW contacts_facts AS SELECT contact_id, company_id FROM people", &[]).unwrap();
        recompute_all(&db, now()).unwrap();
        let acme = of_company(&db, "co_acme").unwrap();
        // Ann 40,000 in 4 orders and Bob (at risk) 100,000 in 2; Zed bought nothing.
        assert_eq!((acme["customers"].as_i64(), acme["purchases"].as_i64(), acme["total"].as_i64(), acme["at_risk"].as_i64()), (Some(2), Some(6), Some(140_000), Some(1)), "{acme}");
        assert_eq!(acme["projected_clv"], 480_000 + 421_442);
        assert_eq!((acme["first_purchase_at"].as_str(), acme["last_purchase_at"].as_str()), (Some("2026-07-24T00:00:00Z"), Some("2026-11-21T00:00:00Z")));
        assert_eq!(acme["people"][0]["contact_id"], "c_bob");
        assert_eq!(of_company(&db, "co_none").unwrap()["customers"], 0);
    }
}
