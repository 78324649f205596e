//! SQLite helpers for components: each component migrates its own tables, with
//! versions recorded per component in the shared `schema_migrations` table, and
//! writes in transactions.

use anyhow::{Context, Result};
use spin_sdk::sqlite::{Connection, Value};

/// (version, statements). Append only: never edit a released migration.
pub type Migrations = &'static [(i64, &'static [&'static str])];

const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version))";

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The schema version `component` is at in this database.
pub fn version(db: &Connection, component: &str) -> Result<i64> {
    let r = db.execute(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?",
        &[Value::Text(component.into())],
    )?;
    Ok(r.rows.first().and_then(|row| row.get::<i64>(0)).unwrap_or(0))
}

/// Opens the tenant's `default` database with `component`'s schema up to date.
/// The common case (nothing to do) costs one indexed read.
pub fn open(component: &str, migrations: Migrations) -> Result<Connection> {
    let db = Connection::open_default().context("open database")?;
    migrate(&db, component, migrations)?;
    Ok(db)
}

/// Runs `component`'s pending migrations (at provisioning: `POST /internal/migrate`)
/// and answers the version the schema is at.
pub fn provision(component: &str, migrations: Migrations) -> Result<serde_json::Value> {
    let db = open(component, migrations)?;
    Ok(serde_json::json!({ "component": component, "schema_version": version(&db, component)? }))
}

pub fn migrate(db: &Connection, component: &str, migrations: Migrations) -> Result<()> {
    let current = match version(db, component) {
        Ok(v) => v,
        Err(_) => {
            db.execute(CREATE_MIGRATIONS_TABLE, &[])?;
            version(db, component)?
        }
    };
    if current >= migrations.last().map_or(0, |m| m.0) {
        return Ok(());
    }
    tx(db, || {
        // Another request may have migrated while we waited for the write lock.
        let current = version(db, component)?;
        for (v, statements) in migrations.iter().filter(|(v, _)| *v > current) {
            for s in *statements {
                db.execute(s, &[]).with_context(|| format!("{component} migration {v}"))?;
            }
            db.execute(
                "INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)",
                &[Value::Text(component.into()), Value::Integer(*v), Value::Text(now())],
            )?;
        }
        Ok(())
    })
}

/// Runs `f` in a write transaction: COMMIT on success, ROLLBACK on failure.
pub fn tx<T>(db: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    db.execute("BEGIN IMMEDIATE", &[])?;
    match f() {
        Ok(v) => {
            db.execute("COMMIT", &[])?;
            Ok(v)
        }
        Err(e) => {
            let _ = db.execute("ROLLBACK", &[]);
            Err(e)
        }
    }
}
