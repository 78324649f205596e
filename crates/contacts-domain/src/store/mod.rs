//! The contacts component's storage, written against `edge_db::Db` so the same
//! SQL runs in the component (Spin SQLite) and natively (tests, benchmarks).
//! Every write appends a change event in the same transaction and keeps the
//! search index and the tag and email lookups in step.

pub mod activities;
pub mod bulk;
pub mod companies;
pub mod contacts;
pub mod fields;
pub mod imports;
pub mod merges;
pub mod search;
pub mod tags;
pub mod views;

use anyhow::Result;
use edge_db::{Db, Val};
use serde_json::Value;
pub use edge_db::record::{diff, json_text, marks, Invalid, NotFound, VersionMismatch, Writer};

/// The plan's record limit was reached (carries the limit).
#[derive(Debug)]
pub struct LimitReached(pub i64);
impl std::fmt::Display for LimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the plan allows {} records", self.0)
    }
}
impl std::error::Error for LimitReached {}

/// Deleted records stay restorable this long, then are purged.
pub const RESTORE_DAYS: i64 = 30;

/// The oldest `deleted_at` still restorable now.
pub fn restore_horizon() -> String {
    (chrono::Utc::now() - chrono::Duration::days(RESTORE_DAYS)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A reference to a record that does not exist (or is deleted).
#[derive(Debug)]
pub struct BadReference(pub &'static str);
impl std::fmt::Display for BadReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} does not name an existing record", self.0)
    }
}
impl std::error::Error for BadReference {}

/// Appends a change event (the audit log and timelines read these).
pub fn event<D: Db + ?Sized>(db: &D, w: &Writer, entity: &str, entity_id: &str, action: &str, before: Option<&Value>, after: Option<&Value>) -> Result<()> {
    edge_db::record::append_event(db, "contacts_events", w, entity, entity_id, action, before, after)
}

/// Visible record counts kept per table, so plan limits cost one row.
pub fn bump_count<D: Db + ?Sized>(db: &D, delta: i64) -> Result<i64> {
    db.run("UPDATE contacts_stats SET records = records + ? WHERE id = 1", &[Val::Int(delta)])?;
    record_count(db)
}

/// Live contacts (the running count: one row, not a scan).
pub fn record_count<D: Db + ?Sized>(db: &D) -> Result<i64> {
    Ok(db.run("SELECT records FROM contacts_stats WHERE id = 1", &[])?.scalar_i64().unwrap_or(0))
}

/// One page of a record list: the rows (each with its sort key as the last
/// column) and the cursor of the next page.
pub struct Page {
    pub rows: edge_db::Rows,
    pub next_cursor: Option<String>,
}

/// The fields a list may filter on: the record's own, and for contacts the
/// figures other components publish (deals, orders) when the filter names
/// one and their views exist in this tenant.
fn fields_for<D: Db + ?Sized>(db: &D, entity: crate::fields::Entity, q: &crate::list::ListQuery, defs: &[crate::fields::FieldDef]) -> Result<Vec<crate::filter::FieldSpec>> {
    let mut fields = crate::filter::catalogue(entity, defs);
    if entity == crate::fields::Entity::Contact && q.filter.as_ref().is_some_and(|f| f.uses_linked()) {
        let wanted = crate::filter::linked_views();
        let r = db.run(&format!("SELECT name FROM sqlite_master WHERE type = 'view' AND name IN ({})", marks(wanted.len())), &wanted.iter().map(|v| Val::from(*v)).collect::<Vec<_>>())?;
        let present: Vec<String> = r.iter().map(|row| row.text(0)).collect();
        fields.extend(crate::filter::linked_fields(&present));
    }
    Ok(fields)
}

/// The WHERE conditions of a list: live or trash, visibility, filter, `q`.
fn conditions(
    entity: crate::fields::Entity,
    q: &crate::list::ListQuery,
    vis: &edge_http::Visibility,
    fields: &[crate::filter::FieldSpec],
) -> Result<(Vec<String>, Vec<Val>)> {
    conditions_as(entity, q, vis, fields, false)
}

fn conditions_as(
    entity: crate::fields::Entity,
    q: &crate::list::ListQuery,
    vis: &edge_http::Visibility,
    fields: &[crate::filter::FieldSpec],
    probe: bool,
) -> Result<(Vec<String>, Vec<Val>)> {
    let mut conds: Vec<String> = vec![match (q.trash, entity) {
        // Merged contacts are not in the trash: undo the merge instead.
        (true, crate::fields::Entity::Contact) => "deleted_at IS NOT NULL AND merged_into IS NULL".into(),
        (true, _) => "deleted_at IS NOT NULL".into(),
        (false, _) => "deleted_at IS NULL".into(),
    }];
    let mut params: Vec<Val> = Vec::new();
    if let Some((c, owners)) = vis.sql("owner_id") {
        conds.push(c);
        params.extend(owners.into_iter().map(Val::Text));
    }
    if let Some(f) = &q.filter {
        let s = f.to_sql_as(fields, entity, probe).map_err(Invalid)?;
        conds.push(s.text);
        params.extend(s.params);
    }
    if let Some(text) = &q.q {
        match search::id_condition(entity.as_str(), text, vis) {
            Some((c, p)) => {
                conds.push(c);
                params.extend(p);
            }
            None => conds.push("0".into()),
        }
    }
    Ok((conds, params))
}

/// Index entries a filtered list scans in its sort order before it lets the
/// planner use the filter's own indexes instead.
pub const WINDOW: i64 = 4000;

/// Lists contacts or companies by a `ListQuery`: filters, full-text `q`, sort
/// with keyset paging, visibility, live or trash.
///
/// Cost stays bounded at any size: with no filter the sort's index is walked;
/// with a filter, the next `WINDOW` entries of the sort's index are scanned
/// first (broad filters fill a page there), and only a filter that is narrower
/// than that (under ~1% of rows) goes to the planner's filter-first plan, which
/// then sorts few rows. Full-text search in the default order walks the search
/// index newest first.
pub fn list_page<D: Db + ?Sized>(
    db: &D,
    entity: crate::fields::Entity,
    columns: &str,
    q: &crate::list::ListQuery,
    vis: &edge_http::Visibility,
    defs: &[crate::fields::FieldDef],
) -> Result<Page> {
    use crate::filter::Sort;
    let fields = fields_for(db, entity, q, defs)?;
    let sort = Sort::parse(q.sort.as_deref(), &fields).map_err(|e| Invalid(vec![e]))?;
    let table = entity.table();
    let want = q.limit as usize + 1;
    if let (Some(text), None) = (&q.q, &sort.field) {
        if sort.desc {
            return search_page(db, entity, columns, q, text, vis, &fields);
        }
    }
    let (mut conds, mut params) = conditions(entity, q, vis, &fields)?;
    if let Some((key, id)) = &q.after {
        let s = sort.after(key, id);
        conds.push(s.text);
        params.extend(s.params);
    }
    let select = |conds: &[String], params: &[Val], indexed: Option<&str>, limit: usize| -> Result<edge_db::Rows> {
        let by = indexed.map(|i| format!(" INDEXED BY {i}")).unwrap_or_default();
        let sql = format!("SELECT {columns}, {} FROM {table}{by} WHERE {} ORDER BY {} LIMIT ?", sort.key_sql(), conds.join(" AND "), sort.order_by());
        let mut p = params.to_vec();
        p.push(Val::Int(limit as i64));
        db.run(&sql, &p)
    };
    let filtered = q.filter.is_some() || q.q.is_some() || *vis != edge_http::Visibility::All;
    let rows = match (filtered, sort.index(entity)) {
        (true, Some(index)) => {
            // The row WINDOW entries ahead in sort order (index-only, cheap).
            let mut wc: Vec<String> = Vec::new();
            let mut wp: Vec<Val> = Vec::new();
            if let Some((key, id)) = &q.after {
                let s = sort.after(key, id);
                wc.push(s.text);
                wp.extend(s.params);
            }
            let wsql = format!(
                "SELECT {}, id FROM {table} INDEXED BY {index}{} ORDER BY {} LIMIT 1 OFFSET ?",
                sort.key_sql(),
                if wc.is_empty() { String::new() } else { format!(" WHERE {}", wc.join(" AND ")) },
                sort.order_by()
            );
            wp.push(Val::Int(WINDOW));
            let boundary = db.run(&wsql, &wp)?.rows.into_iter().next();
            // Walking the sort index: tags are probed row by row.
            let (mut pc, mut pp) = conditions_as(entity, q, vis, &fields, true)?;
            if let Some((key, id)) = &q.after {
                let s = sort.after(key, id);
                pc.push(s.text);
                pp.extend(s.params);
            }
            match boundary {
                // Fewer than WINDOW rows left: one scan of the index covers them.
                None => select(&pc, &pp, Some(&index), want)?,
                Some(b) => {
                    let (bkey, bid) = (b.first().cloned().unwrap_or(Val::Null), b.get(1).and_then(Val::as_str).unwrap_or("").to_string());
                    let until = sort.until(&bkey, &bid);
                    let (mut c1, mut p1) = (pc, pp);
                    c1.push(until.text);
                    p1.extend(until.params);
                    let mut first = select(&c1, &p1, Some(&index), want)?;
                    if first.rows.len() < want {
                        // A narrow filter: the rest comes from the filter's indexes.
                        let after = sort.after(&bkey, &bid);
                        let mut c2 = conds.clone();
                        c2.push(after.text);
                        let mut p2 = params.clone();
                        p2.extend(after.params);
                        let rest = select(&c2, &p2, None, want - first.rows.len())?;
                        first.rows.extend(rest.rows);
                    }
                    first
                }
            }
        }
        _ => select(&conds, &params, None, want)?,
    };
    Ok(paged(rows, q.limit))
}

/// SQL for a stored JSON column as JSON (not as a string), or `fallback` when
/// it is missing or malformed: what `Row::json` does when it reads the column.
pub(crate) fn json_or(column: &str, fallback: &str) -> String {
    format!("CASE WHEN json_valid({column}) THEN json({column}) ELSE json('{fallback}') END")
}

/// A page whose rows SQLite encoded as JSON (`SELECT id, <json>, <sort key>`):
/// the items and the next cursor.
pub(crate) fn json_items(page: Page) -> (Vec<String>, Option<String>) {
    let items = page.rows.rows.into_iter().map(|r| match r.into_iter().nth(1) {
        Some(Val::Text(t)) => t,
        _ => "null".to_string(),
    });
    (items.collect(), page.next_cursor)
}

/// Trims to `limit` rows and makes the next cursor from the last row
/// (its first column is the id, its last the sort key).
fn paged(mut rows: edge_db::Rows, limit: u32) -> Page {
    let mut next_cursor = None;
    if rows.rows.len() > limit as usize {
        rows.rows.truncate(limit as usize);
        if let Some(last) = rows.rows.last() {
            let key = last.last().cloned().unwrap_or(Val::Null);
            let id = last.first().and_then(Val::as_str).unwrap_or_default();
            next_cursor = Some(crate::filter::encode_cursor(&key, id));
        }
    }
    Page { rows, next_cursor }
}

/// Full-text search in the default order: walks the search index newest
/// first (its doc numbers follow creation), so a broad prefix costs a page,
/// not every match. The cursor carries the doc number.
fn search_page<D: Db + ?Sized>(
    db: &D,
    entity: crate::fields::Entity,
    columns: &str,
    q: &crate::list::ListQuery,
    text: &str,
    vis: &edge_http::Visibility,
    fields: &[crate::filter::FieldSpec],
) -> Result<Page> {
    let kind = entity.as_str();
    let Some(m) = search::match_expr(kind, text, vis) else { return Ok(Page { rows: edge_db::Rows::default(), next_cursor: None }) };
    let mut q2 = q.clone();
    q2.q = None;
    let (conds, cparams) = conditions(entity, &q2, vis, fields)?;
    let mut params: Vec<Val> = vec![m.into()];
    let mut extra = String::new();
    if let Some((Val::Int(doc), _)) = &q.after {
        extra = format!(" AND {}.rowid < ?", search::table(kind));
        params.push(Val::Int(*doc));
    }
    params.extend(cparams);
    params.push(Val::Int(q.limit as i64 + 1));
    // The search tables' columns (owner_tok, head, detail) clash with no record column.
    let table = search::table(kind);
    let sql = format!(
        "SELECT {columns}, {table}.rowid FROM {table} JOIN search_docs d ON d.doc = {table}.rowid JOIN {} t ON t.id = d.ref_id WHERE {table} MATCH ?{extra} AND {} ORDER BY {table}.rowid DESC LIMIT ?",
        entity.table(),
        conds.join(" AND ")
    );
    let rows = db.run(&sql, &params)?;
    Ok(paged(rows, q.limit))
}

/// How many records match a list's filters, counted up to `cap` so a count
/// never scans more than that; `(count, more)`.
pub fn count<D: Db + ?Sized>(
    db: &D,
    entity: crate::fields::Entity,
    q: &crate::list::ListQuery,
    vis: &edge_http::Visibility,
    defs: &[crate::fields::FieldDef],
    cap: i64,
) -> Result<(i64, bool)> {
    let unfiltered = q.filter.is_none() && q.q.is_none() && !q.trash && *vis == edge_http::Visibility::All;
    if unfiltered && entity == crate::fields::Entity::Contact {
        // The running count the plan limit keeps.
        let n = db.run("SELECT records FROM contacts_stats WHERE id = 1", &[])?.scalar_i64().unwrap_or(0);
        return Ok((n, false));
    }
    let fields = fields_for(db, entity, q, defs)?;
    let (conds, mut params) = conditions(entity, q, vis, &fields)?;
    params.push(Val::Int(cap + 1));
    let n = db
        .run(&format!("SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT ?)", entity.table(), conds.join(" AND ")), &params)?
        .scalar_i64()
        .unwrap_or(0);
    Ok((n.min(cap), n > cap))
}

/// A saved answer to a write with this `Idempotency-Key` (scoped by the caller).
pub fn idempotent_answer<D: Db + ?Sized>(db: &D, key: &str) -> Result<Option<(u16, String)>> {
    edge_db::record::idempotent_answer(db, "idempotency_keys", key)
}

/// Saves a write's answer in the write's own transaction.
pub fn save_idempotent_answer<D: Db + ?Sized>(db: &D, key: &str, status: u16, body: &str) -> Result<()> {
    edge_db::record::save_idempotent_answer(db, "idempotency_keys", key, status, body)
}

/// Inserts rows with multi-row statements (bulk writes: imports), in chunks that
/// stay under SQLite's parameter limit.
pub fn insert_multi<D: Db + ?Sized>(db: &D, head: &str, ncols: usize, rows: Vec<Vec<Val>>) -> Result<()> {
    let per = (30_000 / ncols.max(1)).clamp(1, 500);
    let one = format!("({})", marks(ncols));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per).collect();
        let sql = format!("{head} VALUES {}", vec![one.as_str(); chunk.len()].join(", "));
        let params: Vec<Val> = chunk.into_iter().flatten().collect();
        db.run_owned(&sql, params)?;
    }
    Ok(())
}

/// A JSON value without nulls and empty lists/objects (compact change events).
pub fn compact(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !(v.is_null() || v.as_array().is_some_and(|a| a.is_empty()) || v.as_object().is_some_and(|o| o.is_empty())))
                .map(|(k, v)| (k.clone(), compact(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! An in-memory tenant database with the real migrations.
    pub use edge_db::native::writer;

    pub fn db() -> edge_db::native::Connection {
        edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS)
    }
}

#[cfg(test)]
mod linked_tests {
    use super::*;
    use crate::store::testing::{db, writer};
    use serde_json::json;

    /// Segments over other components' published views: a contact without a
    /// row has none, relative times move with the clock.
    #[test]
    fn lists_filter_on_deals_and_orders_other_components_publish() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let mk = |name: &str| crate::store::contacts::create(&db, &w, serde_json::from_value::<crate::model::ContactInput>(json!({"first_name": name})).unwrap().validate(&[]).unwrap(), 100).unwrap().id;
        let (ann, bob, cy) = (mk("Ann"), mk("Bob"), mk("Cy"));
        let q = |f: serde_json::Value| crate::list::ListQuery { filter: Some(crate::filter::Filter::parse(&f.to_string()).unwrap()), limit: 50, ..Default::default() };
        let names = |q: crate::list::ListQuery| -> Result<Vec<String>> {
            let p = list_page(&db, crate::fields::Entity::Contact, "first_name", &q, &edge_http::Visibility::All, &[])?;
            let mut v: Vec<String> = p.rows.iter().map(|r| r.text(0)).collect();
            v.sort();
            Ok(v)
        };
        // Before the portal exists in this tenant, the field is unknown (a 422, not a crash).
        assert!(names(q(json!({"field": "orders.count", "op": "gt", "value": 0}))).unwrap_err().downcast_ref::<Invalid>().is_some());
        db.run("CREATE TABLE orders_fixture (contact_id TEXT, total INTEGER, placed_at TEXT)", &[]).unwrap();
        db.run("CREATE VIEW portal_contact_orders AS SELECT contact_id, count(*) AS orders, sum(total) AS total, min(placed_at) AS first_order_at, max(placed_at) AS last_order_at FROM orders_fixture GROUP BY contact_id", &[]).unwrap();
        let recent = (chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339();
        let old = (chrono::Utc::now() - chrono::Duration::days(400)).to_rfc3339();
        for (c, t, at) in [(&ann, 5000, &recent), (&ann, 2500, &old), (&bob, 900, &old)] {
            db.run("INSERT INTO orders_fixture VALUES (?, ?, ?)", &[c.as_str().into(), Val::Int(t), at.as_str().into()]).unwrap();
        }
        let _ = cy;
        assert_eq!(names(q(json!({"field": "orders.count", "op": "gte", "value": 2}))).unwrap(), vec!["Ann"]);
        assert_eq!(names(q(json!({"field": "orders.count", "op": "lt", "value": 1}))).unwrap(), vec!["Cy"], "never ordered: zero orders");
        assert_eq!(names(q(json!({"field": "orders.total", "op": "lte", "value": 1000}))).unwrap(), vec!["Bob", "Cy"]);
        assert_eq!(names(q(json!({"field": "orders.last_at", "op": "gt", "value": "-30d"}))).unwrap(), vec!["Ann"], "ordered in the last 30 days");
        assert_eq!(names(q(json!({"and": [{"field": "orders.count", "op": "gt", "value": 0}, {"field": "orders.last_at", "op": "lt", "value": "-90d"}]}))).unwrap(), vec!["Bob"], "customers gone quiet");
        assert_eq!(names(q(json!({"field": "orders.first_at", "op": "empty"}))).unwrap(), vec!["Cy"]);
        let (n, _) = count(&db, crate::fields::Entity::Contact, &q(json!({"field": "orders.count", "op": "gt", "value": 0})), &edge_http::Visibility::All, &[], 10_000).unwrap();
        assert_eq!(n, 2);
    }
}
