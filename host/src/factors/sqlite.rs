//! `fermyon:spin/sqlite@2.0.0`: each opened connection is a pooled connection of
//! its own, so one request's transaction never interleaves with another's.

use crate::bindings::sqlite::{self, Error, QueryResult, RowResult, Value};
use crate::manifest::AppManifest;
use crate::runtime_config::RuntimeConfig;
use crate::state::RequestState;
use crate::storage::{SpinSqlite, SqlConnection, SqlValue};
use anyhow::Result;
use wasmtime::component::{HasSelf, Linker, Resource};

pub struct SqlConn(Box<dyn SqlConnection>);

pub fn link(linker: &mut Linker<RequestState>) -> Result<()> {
    sqlite::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}

/// Every label a component lists must have a store (Spin fails at start-up too).
pub fn validate(manifest: &AppManifest, rc: &RuntimeConfig, per_tenant: bool) -> Result<()> {
    super::check_labels(manifest, "SQLite database", "sqlite_database", |c| &c.sqlite_databases, &rc.sqlite, per_tenant)
}

impl sqlite::Host for RequestState {}

impl sqlite::HostConnection for RequestState {
    fn open(&mut self, database: String) -> Result<Resource<SqlConn>, Error> {
        if !self.component.def.sqlite_databases.iter().any(|l| *l == database) {
            return Err(Error::AccessDenied);
        }
        let Some(path) = self.call.scope.sqlite_path(&database) else {
            return Err(Error::NoSuchDatabase);
        };
        let conn = SpinSqlite::open(&self.app.pools, &path).map_err(|e| Error::Io(format!("{e:#}")))?;
        self.table
            .push(SqlConn(Box::new(conn)))
            .map_err(|e| Error::Io(e.to_string()))
    }

    fn execute(
        &mut self,
        c: Resource<SqlConn>,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, Error> {
        let conn = self.table.get_mut(&c).map_err(|_| Error::InvalidConnection)?;
        let params: Vec<SqlValue> = parameters.into_iter().map(to_sql).collect();
        let rows = conn.0.execute(&statement, params).map_err(Error::Io)?;
        Ok(QueryResult {
            columns: rows.columns,
            rows: rows
                .rows
                .into_iter()
                .map(|r| RowResult { values: r.into_iter().map(from_sql).collect() })
                .collect(),
        })
    }

    fn drop(&mut self, c: Resource<SqlConn>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        Ok(())
    }
}

fn to_sql(v: Value) -> SqlValue {
    match v {
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(f) => SqlValue::Real(f),
        Value::Text(s) => SqlValue::Text(s),
        Value::Blob(b) => SqlValue::Blob(b),
        Value::Null => SqlValue::Null,
    }
}

fn from_sql(v: SqlValue) -> Value {
    match v {
        SqlValue::Integer(i) => Value::Integer(i),
        SqlValue::Real(f) => Value::Real(f),
        SqlValue::Text(s) => Value::Text(s),
        SqlValue::Blob(b) => Value::Blob(b),
        SqlValue::Null => Value::Null,
    }
}
