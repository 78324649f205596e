//! `Db` over rusqlite, for native tests and benchmarks of domain SQL.

use crate::{Db, Rows, Val};
use anyhow::Result;
use rusqlite::types::Value;

pub use rusqlite::Connection;

/// Opens (or creates) a database file with the settings the host uses: WAL,
/// foreign keys on.
pub fn open(path: &std::path::Path) -> Result<Connection> {
    let c = Connection::open(path)?;
    c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")?;
    Ok(c)
}

pub fn memory() -> Result<Connection> {
    let c = Connection::open_in_memory()?;
    c.execute_batch("PRAGMA foreign_keys=ON;")?;
    Ok(c)
}

/// An in-memory database with `component`'s real migrations (domain tests).
pub fn migrated(component: &str, migrations: crate::Migrations) -> Connection {
    let c = memory().expect("in-memory SQLite");
    crate::migrate(&c, component, migrations).expect("migrations apply");
    c
}

/// A writer for tests: deterministic ids, a fixed request id.
pub fn writer(actor: &str) -> crate::record::Writer<'_> {
    crate::record::Writer { actor, request_id: Some("req-1"), random: &crate::record::test_random }
}

fn to_sql(v: &Val) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Int(i) => Value::Integer(*i),
        Val::Real(f) => Value::Real(*f),
        Val::Text(s) => Value::Text(s.clone()),
        Val::Blob(b) => Value::Blob(b.clone()),
    }
}

impl Db for Connection {
    fn run(&self, sql: &str, params: &[Val]) -> Result<Rows> {
        let mut st = self.prepare_cached(sql)?;
        let n = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params.iter().map(to_sql)))?;
        let mut out = Rows::default();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get::<_, Value>(i)? {
                    Value::Null => Val::Null,
                    Value::Integer(i) => Val::Int(i),
                    Value::Real(f) => Val::Real(f),
                    Value::Text(s) => Val::Text(s),
                    Value::Blob(b) => Val::Blob(b),
                });
            }
            out.rows.push(row);
        }
        Ok(out)
    }
}
