//! SQL access for components, independent of where they run. Domain crates write
//! their queries against [`Db`]; a component passes Spin's SQLite connection
//! (feature `spin`), tests and benchmarks pass a native rusqlite connection
//! (feature `native`), so the same SQL is exercised natively at full size.

use anyhow::{Context, Result};

#[cfg(feature = "native")]
pub mod native;
pub mod record;
#[cfg(feature = "spin")]
pub mod spin;

/// A SQL value (SQLite's storage classes).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(s)
    }
}
impl From<&String> for Val {
    fn from(s: &String) -> Val {
        Val::Text(s.clone())
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::Int(i)
    }
}
impl From<f64> for Val {
    fn from(f: f64) -> Val {
        Val::Real(f)
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Int(b as i64)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(o: Option<T>) -> Val {
        o.map_or(Val::Null, Into::into)
    }
}
impl From<&Option<String>> for Val {
    fn from(o: &Option<String>) -> Val {
        o.as_ref().map_or(Val::Null, |s| Val::Text(s.clone()))
    }
}

impl Val {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Real(f) => Some(*f as i64),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Real(f) => Some(*f),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }
}

/// A query's answer: rows of values in the order of the SELECT's columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub rows: Vec<Vec<Val>>,
}

impl Rows {
    pub fn first(&self) -> Option<Row<'_>> {
        self.rows.first().map(|r| Row(r))
    }
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|r| Row(r))
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// The first column of the first row as an integer (`SELECT count(*) …`).
    pub fn scalar_i64(&self) -> Option<i64> {
        self.first().and_then(|r| r.i64(0))
    }
}

/// One row; typed getters answer None for NULL or another type.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a>(pub &'a [Val]);

impl<'a> Row<'a> {
    pub fn str(&self, i: usize) -> Option<&'a str> {
        self.0.get(i).and_then(Val::as_str)
    }
    pub fn string(&self, i: usize) -> Option<String> {
        self.str(i).map(String::from)
    }
    /// Text, or empty for NULL (for NOT NULL columns).
    pub fn text(&self, i: usize) -> String {
        self.str(i).unwrap_or_default().to_string()
    }
    pub fn i64(&self, i: usize) -> Option<i64> {
        self.0.get(i).and_then(Val::as_i64)
    }
    pub fn f64(&self, i: usize) -> Option<f64> {
        self.0.get(i).and_then(Val::as_f64)
    }
    /// A JSON text column, parsed (NULL or invalid JSON → `default`).
    pub fn json<T: serde::de::DeserializeOwned + Default>(&self, i: usize) -> T {
        self.str(i).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
    }
}

/// A SQLite connection.
pub trait Db {
    fn run(&self, sql: &str, params: &[Val]) -> Result<Rows>;
    /// `run` with parameters the caller is done with: a backend that must hand
    /// the host owned values moves them instead of copying (bulk inserts pass
    /// megabytes of text a batch).
    fn run_owned(&self, sql: &str, params: Vec<Val>) -> Result<Rows> {
        self.run(sql, &params)
    }
}

impl<D: Db + ?Sized> Db for &D {
    fn run(&self, sql: &str, params: &[Val]) -> Result<Rows> {
        (**self).run(sql, params)
    }
    fn run_owned(&self, sql: &str, params: Vec<Val>) -> Result<Rows> {
        (**self).run_owned(sql, params)
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs `f` in a write transaction: COMMIT on success, ROLLBACK on failure.
pub fn tx<D: Db + ?Sized, T>(db: &D, f: impl FnOnce() -> Result<T>) -> Result<T> {
    db.run("BEGIN IMMEDIATE", &[])?;
    match f() {
        Ok(v) => {
            db.run("COMMIT", &[])?;
            Ok(v)
        }
        Err(e) => {
            let _ = db.run("ROLLBACK", &[]);
            Err(e)
        }
    }
}

/// (version, statements). Append only: never edit a released migration.
pub type Migrations = &'static [(i64, &'static [&'static str])];

const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version))";

/// The schema version `component` is at in this database.
pub fn version<D: Db + ?Sized>(db: &D, component: &str) -> Result<i64> {
    let r = db.run("SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?", &[component.into()])?;
    Ok(r.scalar_i64().unwrap_or(0))
}

/// Brings `component`'s tables up to date in one transaction; returns the version.
/// The common case (nothing to do) costs one indexed read.
pub fn migrate<D: Db + ?Sized>(db: &D, component: &str, migrations: Migrations) -> Result<i64> {
    let latest = migrations.last().map_or(0, |m| m.0);
    let current = match version(db, component) {
        Ok(v) => v,
        Err(_) => {
            db.run(CREATE_MIGRATIONS_TABLE, &[])?;
            version(db, component)?
        }
    };
    if current >= latest {
        return Ok(current);
    }
    tx(db, || {
        // Another request may have migrated while we waited for the write lock.
        let current = version(db, component)?;
        for (v, statements) in migrations.iter().filter(|(v, _)| *v > current) {
            for s in *statements {
                db.run(s, &[]).with_context(|| format!("{component} migration {v}"))?;
            }
            db.run(
                "INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)",
                &[component.into(), Val::Int(*v), now().into()],
            )?;
        }
        Ok(latest)
    })
}

#[cfg(all(test, feature = "native"))]
mod tests {
    use super::*;

    const M: Migrations = &[(1, &["CREATE TABLE t (x INTEGER)"]), (2, &["INSERT INTO t VALUES (7)"])];

    #[test]
    fn migrations_run_once_and_roll_back_on_failure() {
        let db = native::memory().unwrap();
        assert_eq!(migrate(&db, "c", M).unwrap(), 2);
        assert_eq!(migrate(&db, "c", M).unwrap(), 2);
        assert_eq!(db.run("SELECT count(*) FROM t", &[]).unwrap().scalar_i64(), Some(1));
        const BAD: Migrations = &[(1, &["CREATE TABLE u (x)", "NOT SQL"])];
        assert!(migrate(&db, "d", BAD).is_err());
        assert!(db.run("SELECT * FROM u", &[]).is_err(), "a failed migration leaves nothing");
        assert_eq!(version(&db, "d").unwrap(), 0);
    }
}
