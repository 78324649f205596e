//! What every component's store shares about writing records: who writes, the
//! typed errors a write can end in, change events (each component appends to its
//! own `<component>_events` table, which the audit log reads) and idempotent
//! answers to retried writes.

use crate::{Db, Val};
use anyhow::Result;
use serde_json::{Map, Value};

/// Who writes, and the source of randomness for new ids (the component passes
/// WASI's; tests pass their own).
pub struct Writer<'a> {
    /// `user:<id>`, `apikey:<id>`, …
    pub actor: &'a str,
    pub request_id: Option<&'a str>,
    pub random: &'a dyn Fn() -> [u8; 10],
}

impl Writer<'_> {
    /// The acting user's id, who owns what they create.
    pub fn user_id(&self) -> Option<String> {
        self.actor.strip_prefix("user:").map(String::from)
    }

    /// A new id greater than every id in `table` (ids order lists).
    pub fn new_id<D: Db + ?Sized>(&self, db: &D, table: &str, prefix: &str) -> Result<String> {
        let candidate = edge_http::ids::new_id(prefix, chrono::Utc::now().timestamp_millis() as u64, (self.random)());
        let last = db.run(&format!("SELECT max(id) FROM {table}"), &[])?;
        Ok(edge_http::ids::monotonic(candidate, last.first().and_then(|r| r.str(0))))
    }
}

/// A lost update: the record changed since the version the client read.
#[derive(Debug)]
pub struct VersionMismatch(pub i64);
impl std::fmt::Display for VersionMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the record is at version {}", self.0)
    }
}
impl std::error::Error for VersionMismatch {}

/// Input that failed validation (per field).
#[derive(Debug)]
pub struct Invalid(pub Vec<edge_http::FieldError>);
impl Invalid {
    pub fn one(field: &str, message: &str) -> Invalid {
        Invalid(vec![edge_http::FieldError::new(field, message)])
    }
}
impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} invalid field(s)", self.0.len())
    }
}
impl std::error::Error for Invalid {}

/// The record does not exist, or the caller may not see it.
#[derive(Debug)]
pub struct NotFound;
impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no such record")
    }
}
impl std::error::Error for NotFound {}

/// A write the current state forbids (409), with a stable problem type.
#[derive(Debug)]
pub struct Conflict {
    pub kind: &'static str,
    pub message: String,
}
impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Conflict {}

/// An If-Match check: a write that names a version must name the current one.
pub fn check_version(if_version: Option<i64>, current: i64) -> Result<()> {
    match if_version {
        Some(v) if v != current => Err(VersionMismatch(current).into()),
        _ => Ok(()),
    }
}

/// Only the fields that changed, before and after.
pub fn diff(before: &Value, after: &Value) -> (Value, Value) {
    let (mut b, mut a) = (Map::new(), Map::new());
    let empty = Map::new();
    let bo = before.as_object().unwrap_or(&empty);
    let ao = after.as_object().unwrap_or(&empty);
    for k in bo.keys().chain(ao.keys()) {
        if matches!(k.as_str(), "updated_at" | "version") {
            continue;
        }
        let (x, y) = (bo.get(k).unwrap_or(&Value::Null), ao.get(k).unwrap_or(&Value::Null));
        if x != y && !b.contains_key(k) {
            b.insert(k.clone(), x.clone());
            a.insert(k.clone(), y.clone());
        }
    }
    (Value::Object(b), Value::Object(a))
}

/// Appends a change event to `table` (a `<component>_events` table); an update
/// records only the fields that changed.
#[allow(clippy::too_many_arguments)]
pub fn append_event<D: Db + ?Sized>(db: &D, table: &str, w: &Writer, entity: &str, entity_id: &str, action: &str, before: Option<&Value>, after: Option<&Value>) -> Result<()> {
    let (before, after) = match (before, after) {
        (Some(b), Some(a)) => {
            let (b, a) = diff(b, a);
            (Some(b), Some(a))
        }
        (b, a) => (b.cloned(), a.cloned()),
    };
    db.run(
        &format!("INSERT INTO {table} (at, actor, request_id, entity, entity_id, action, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
        &[
            crate::now().into(),
            w.actor.into(),
            w.request_id.map(String::from).into(),
            entity.into(),
            entity_id.into(),
            action.into(),
            before.map(|v| v.to_string()).into(),
            after.map(|v| v.to_string()).into(),
        ],
    )?;
    Ok(())
}

/// A saved answer to a write with this `Idempotency-Key` (scoped by the caller).
pub fn idempotent_answer<D: Db + ?Sized>(db: &D, table: &str, key: &str) -> Result<Option<(u16, String)>> {
    let r = db.run(&format!("SELECT status, body FROM {table} WHERE key = ?"), &[key.into()])?;
    Ok(r.first().map(|row| (row.i64(0).unwrap_or(200) as u16, row.text(1))))
}

/// Saves a write's answer in the write's own transaction; keys older than a day are dropped.
pub fn save_idempotent_answer<D: Db + ?Sized>(db: &D, table: &str, key: &str, status: u16, body: &str) -> Result<()> {
    let day_ago = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    db.run(&format!("DELETE FROM {table} WHERE created_at < ?"), &[day_ago.into()])?;
    db.run(&format!("INSERT OR REPLACE INTO {table} (key, status, body, created_at) VALUES (?, ?, ?, ?)"), &[key.into(), Val::Int(status as i64), body.into(), crate::now().into()])?;
    Ok(())
}

pub fn json_text<T: serde::Serialize>(v: &T) -> Val {
    Val::Text(serde_json::to_string(v).unwrap_or_else(|_| "null".into()))
}

/// `?, ?, ?` for `n` values.
pub fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Deterministic randomness for tests.
pub fn test_random() -> [u8; 10] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed).to_be_bytes();
    [0, 0, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]
}
