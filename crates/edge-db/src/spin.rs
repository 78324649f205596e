//! `Db` over Spin's SQLite interface (`fermyon:spin/sqlite@2.0.0`).

use crate::{Db, Rows, Val};
use anyhow::Result;
use spin_sdk::sqlite::{Connection, Value};

/// The tenant's `default` database (the platform binds the label per tenant).
pub fn open_default() -> Result<Connection> {
    Ok(Connection::open_default()?)
}

/// Opens the default database with `component`'s migrations applied.
pub fn open(component: &str, migrations: crate::Migrations) -> Result<Connection> {
    let db = open_default()?;
    crate::migrate(&db, component, migrations)?;
    Ok(db)
}

/// The answer to the host's `POST /internal/migrate` at provisioning.
pub fn provision(component: &str, migrations: crate::Migrations) -> Result<serde_json::Value> {
    let db = open_default()?;
    let v = crate::migrate(&db, component, migrations)?;
    Ok(serde_json::json!({ "component": component, "schema_version": v }))
}

impl Db for Connection {
    fn run(&self, sql: &str, params: &[Val]) -> Result<Rows> {
        self.run_owned(sql, params.to_vec())
    }

    fn run_owned(&self, sql: &str, params: Vec<Val>) -> Result<Rows> {
        let p: Vec<Value> = params
            .into_iter()
            .map(|v| match v {
                Val::Null => Value::Null,
                Val::Int(i) => Value::Integer(i),
                Val::Real(f) => Value::Real(f),
                Val::Text(s) => Value::Text(s),
                Val::Blob(b) => Value::Blob(b),
            })
            .collect();
        let r = Connection::execute(self, sql, &p)?;
        Ok(Rows {
            rows: r
                .rows
                .into_iter()
                .map(|row| {
                    row.values
                        .into_iter()
                        .map(|v| match v {
                            Value::Null => Val::Null,
                            Value::Integer(i) => Val::Int(i),
                            Value::Real(f) => Val::Real(f),
                            Value::Text(s) => Val::Text(s),
                            Value::Blob(b) => Val::Blob(b),
                        })
                        .collect()
                })
                .collect(),
        })
    }
}
