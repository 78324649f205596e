//! Storage backends behind traits, so the key-value and SQLite capabilities never
//! know which backend serves them. Today: Spin's file-backed stores (SQLite files),
//! with pooled connections that are closed when idle, so an idle tenant costs no
//! open files.

use anyhow::{Context, Result};
use rusqlite::{types::ValueRef, Connection, OpenFlags};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::write_behind::{self, TxEnd, WriteBehind};

// ---- SQLite connection pools ---------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DbKind {
    /// A Spin key-value store file (`spin_key_value` table).
    KeyValue,
    /// A database the component owns entirely.
    Sql,
}

struct Pool {
    path: PathBuf,
    kind: DbKind,
    idle: Mutex<Vec<(Connection, Instant)>>,
}

/// All open databases of the host, keyed by file.
pub struct Pools {
    pools: Mutex<HashMap<PathBuf, Arc<Pool>>>,
    /// How long an unused connection stays open.
    idle_timeout: Duration,
}

/// A connection checked out of a pool; returned (rolled back if a transaction was
/// left open) when dropped.
pub struct PooledConn {
    conn: Option<Connection>,
    pool: Arc<Pool>,
}

impl std::ops::Deref for PooledConn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.is_autocommit() {
                // A guest that trapped or forgot COMMIT never leaves a half transaction behind.
                if conn.execute_batch("ROLLBACK").is_err() {
                    return; // drop the connection rather than reuse a confused one
                }
            }
            if let Ok(mut idle) = self.pool.idle.lock() {
                idle.push((conn, Instant::now()));
            }
        }
    }
}

impl Pools {
    pub fn new(idle_timeout: Duration) -> Arc<Pools> {
        Arc::new(Pools { pools: Mutex::new(HashMap::new()), idle_timeout })
    }

    pub fn get(&self, path: &Path, kind: DbKind) -> Result<PooledConn> {
        let pool = {
            let mut pools = self.pools.lock().map_err(|_| anyhow::anyhow!("pool lock poisoned"))?;
            pools
                .entry(path.to_path_buf())
                .or_insert_with(|| {
                    Arc::new(Pool { path: path.to_path_buf(), kind, idle: Mutex::new(Vec::new()) })
                })
                .clone()
        };
        let reused = pool.idle.lock().ok().and_then(|mut idle| idle.pop()).map(|(c, _)| c);
        let conn = match reused {
            Some(c) => c,
            None => open(&pool.path, pool.kind)?,
        };
        Ok(PooledConn { conn: Some(conn), pool })
    }

    /// Closes connections idle for longer than the timeout; forgets empty pools.
    pub fn reap(&self) {
        let now = Instant::now();
        let Ok(mut pools) = self.pools.lock() else { return };
        pools.retain(|_, pool| {
            if let Ok(mut idle) = pool.idle.lock() {
                idle.retain(|(_, used)| now.duration_since(*used) < self.idle_timeout);
                !idle.is_empty() || Arc::strong_count(pool) > 1
            } else {
                false
            }
        });
    }

    /// Closes everything for paths under `dir` (a tenant being deleted).
    pub fn close_under(&self, dir: &Path) {
        if let Ok(mut pools) = self.pools.lock() {
            pools.retain(|p, _| !p.starts_with(dir));
        }
    }

    /// Number of connections currently open and idle.
    #[cfg(test)]
    pub fn idle_connections(&self) -> usize {
        self.pools
            .lock()
            .map(|p| p.values().map(|pool| pool.idle.lock().map(|i| i.len()).unwrap_or(0)).sum())
            .unwrap_or(0)
    }
}

pub(crate) fn open(path: &Path, kind: DbKind) -> Result<Connection> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .with_context(|| format!("cannot open {}", path.display()))?;
    // WAL: readers never block the writer, and a crash mid-write loses nothing committed.
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; \
         PRAGMA busy_timeout=5000;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    if kind == DbKind::KeyValue {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
                PRIMARY KEY (store, key))",
        )?;
    }
    Ok(conn)
}

// ---- key-value ----------------------------------------------------------------------

pub trait KeyValueBackend: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
    fn delete(&self, key: &str) -> Result<()>;
    fn exists(&self, key: &str) -> Result<bool>;
    fn keys(&self) -> Result<Vec<String>>;
}

/// Spin's `type = "spin"` key-value store: one SQLite file, one row per key.
pub struct SpinKeyValue {
    pub pools: Arc<Pools>,
    pub path: PathBuf,
    pub label: String,
}

impl SpinKeyValue {
    fn conn(&self) -> Result<PooledConn> {
        self.pools.get(&self.path, DbKind::KeyValue)
    }
}

impl KeyValueBackend for SpinKeyValue {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let c = self.conn()?;
        let mut stmt = c.prepare_cached("SELECT value FROM spin_key_value WHERE store=?1 AND key=?2")?;
        let mut rows = stmt.query((&self.label, key))?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        let c = self.conn()?;
        c.prepare_cached(
            "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(store, key) DO UPDATE SET value=excluded.value",
        )?
        .execute((&self.label, key, value))?;
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<()> {
        let c = self.conn()?;
        c.prepare_cached("DELETE FROM spin_key_value WHERE store=?1 AND key=?2")?
            .execute((&self.label, key))?;
        Ok(())
    }
    fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.get(key)?.is_some())
    }
    fn keys(&self) -> Result<Vec<String>> {
        let c = self.conn()?;
        let mut stmt = c.prepare_cached("SELECT key FROM spin_key_value WHERE store=?1")?;
        let keys = stmt.query_map([&self.label], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(keys)
    }
}

// ---- SQL --------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Null,
}

#[derive(Debug, Default)]
pub struct SqlRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlValue>>,
}

/// Bound by reference: a bulk insert's megabytes of text are not copied again.
impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self {
            SqlValue::Integer(i) => ValueRef::Integer(*i),
            SqlValue::Real(f) => ValueRef::Real(*f),
            SqlValue::Text(s) => ValueRef::Text(s.as_bytes()),
            SqlValue::Blob(b) => ValueRef::Blob(b),
            SqlValue::Null => ValueRef::Null,
        }))
    }
}

pub trait SqlConnection: Send {
    fn execute(&mut self, statement: &str, params: Vec<SqlValue>) -> Result<SqlRows, String>;
}

/// Spin's `type = "spin"` SQLite database: a local file. Bulk inserts inside a
/// transaction are written behind (`write_behind`).
pub struct SpinSqlite {
    conn: write_behind::Shared,
    path: PathBuf,
    /// Inside a transaction after the last statement run here.
    in_tx: bool,
    /// The worker, once this connection has written behind.
    behind: Option<WriteBehind>,
    /// This transaction writes behind: its plain INSERTs are queued, and
    /// SQLite's automatic checkpoint (this many pages before) is off.
    active: Option<i64>,
    /// A queued insert failed and the transaction was rolled back: every
    /// statement fails with this until the guest ends the transaction.
    poisoned: Option<String>,
}

impl SpinSqlite {
    pub fn open(pools: &Pools, path: &Path) -> Result<SpinSqlite> {
        let conn = Arc::new(Mutex::new(pools.get(path, DbKind::Sql)?));
        Ok(SpinSqlite { conn, path: path.to_path_buf(), in_tx: false, behind: None, active: None, poisoned: None })
    }

    fn run(&mut self, statement: &str, params: &[SqlValue]) -> Result<SqlRows, String> {
        let conn = write_behind::lock(&self.conn);
        let out = query(&conn, statement, params);
        let ended = self.in_tx && conn.is_autocommit();
        self.in_tx = !conn.is_autocommit();
        drop(conn);
        if ended {
            self.deactivate(true);
        }
        out
    }

    /// This transaction starts writing behind (the worker is started once per
    /// connection); if no thread can be had, statements simply run inline.
    fn activate(&mut self) {
        if self.behind.is_none() {
            self.behind = WriteBehind::start(&self.conn, self.path.clone()).ok();
        }
        if self.behind.is_some() {
            let conn = write_behind::lock(&self.conn);
            let before = conn.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get::<_, i64>(0)).unwrap_or(1000);
            if conn.execute_batch("PRAGMA wal_autocheckpoint = 0").is_ok() {
                self.active = Some(before);
            }
        }
    }

    /// The transaction that wrote behind is over: SQLite's automatic
    /// checkpoint is back, and (if it committed) the worker checkpoints now.
    fn deactivate(&mut self, checkpoint: bool) {
        let Some(before) = self.active.take() else { return };
        let _ = write_behind::lock(&self.conn).execute_batch(&format!("PRAGMA wal_autocheckpoint = {before}"));
        if let (true, Some(b)) = (checkpoint, &self.behind) {
            b.checkpoint();
        }
    }

    /// Rolls back what is left of a transaction (a failed ROLLBACK leaves the
    /// poison in place: COMMIT is then refused, never run).
    fn roll_back(&mut self) -> bool {
        let conn = write_behind::lock(&self.conn);
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        self.in_tx = !conn.is_autocommit();
        !self.in_tx
    }

    /// A statement while the transaction is poisoned.
    fn poisoned(&mut self, statement: &str, failed: String) -> Result<SqlRows, String> {
        match write_behind::tx_end(statement) {
            Some(end) => {
                if self.roll_back() {
                    self.poisoned = None;
                }
                match end {
                    TxEnd::Rollback => Ok(SqlRows::default()),
                    TxEnd::Commit => Err(failed),
                }
            }
            None => Err(failed),
        }
    }
}

impl Drop for SpinSqlite {
    fn drop(&mut self) {
        // The worker is through with the connection (what it still had is
        // skipped) before it goes back, SQLite's checkpoint setting restored.
        drop(self.behind.take());
        self.deactivate(false);
    }
}

impl SqlConnection for SpinSqlite {
    fn execute(&mut self, statement: &str, params: Vec<SqlValue>) -> Result<SqlRows, String> {
        if let Some(failed) = self.poisoned.clone() {
            return self.poisoned(statement, failed);
        }
        if self.in_tx && (self.active.is_some() || params.len() >= write_behind::MIN_PARAMS) && write_behind::is_plain_insert(statement) {
            if self.active.is_none() {
                self.activate();
            }
            // Active only with a worker; without one it runs inline.
            let params = match self.active.and(self.behind.as_ref()) {
                Some(b) => match b.push(statement, params) {
                    Ok(()) => return Ok(SqlRows::default()),
                    Err(params) => params,
                },
                None => params,
            };
            return self.run(statement, &params);
        }
        if let (false, Some(b)) = (self.in_tx, &self.behind) {
            b.let_wal_restart();
        }
        if let Some(failed) = self.behind.as_ref().and_then(WriteBehind::settle) {
            let failed = format!("an insert earlier in this transaction failed, so the transaction was rolled back: {failed}");
            self.roll_back();
            self.deactivate(false);
            self.poisoned = Some(failed.clone());
            return self.poisoned(statement, failed);
        }
        self.run(statement, &params)
    }
}

fn query(conn: &Connection, statement: &str, params: &[SqlValue]) -> Result<SqlRows, String> {
    let mut stmt = conn.prepare_cached(statement).map_err(|e| e.to_string())?;
    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(match row.get_ref(i).map_err(|e| e.to_string())? {
                ValueRef::Null => SqlValue::Null,
                ValueRef::Integer(i) => SqlValue::Integer(i),
                ValueRef::Real(f) => SqlValue::Real(f),
                // Validate first: `from_utf8` checks ASCII a word at a time, the lossy path a byte.
                ValueRef::Text(t) => SqlValue::Text(match std::str::from_utf8(t) {
                    Ok(s) => s.to_owned(),
                    Err(_) => String::from_utf8_lossy(t).into_owned(),
                }),
                ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
            });
        }
        out.push(values);
    }
    Ok(SqlRows { columns, rows: out })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("edge-storage-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn kv_roundtrip_and_label_isolation() {
        let pools = Pools::new(Duration::from_secs(60));
        let path = tmp("kv").join("kv.db");
        let a = SpinKeyValue { pools: pools.clone(), path: path.clone(), label: "a".into() };
        let b = SpinKeyValue { pools: pools.clone(), path, label: "b".into() };
        a.set("k", b"v1").unwrap();
        a.set("k", b"v2").unwrap();
        assert_eq!(a.get("k").unwrap().as_deref(), Some(&b"v2"[..]));
        assert!(b.get("k").unwrap().is_none());
        assert_eq!(a.keys().unwrap(), vec!["k"]);
        a.delete("k").unwrap();
        assert!(!a.exists("k").unwrap());
    }

    #[test]
    fn abandoned_transactions_roll_back_and_idle_connections_close() {
        let pools = Pools::new(Duration::from_millis(0));
        let path = tmp("sql").join("db.sqlite");
        {
            let mut c = SpinSqlite::open(&pools, &path).unwrap();
            c.execute("CREATE TABLE t (x INTEGER)", vec![]).unwrap();
            c.execute("BEGIN", vec![]).unwrap();
            c.execute("INSERT INTO t VALUES (?)", vec![SqlValue::Integer(1)]).unwrap();
            // dropped without COMMIT, as a trapping guest would
        }
        let mut c = SpinSqlite::open(&pools, &path).unwrap();
        let r = c.execute("SELECT count(*) AS n FROM t", vec![]).unwrap();
        assert_eq!(r.columns, vec!["n"]);
        assert_eq!(r.rows, vec![vec![SqlValue::Integer(0)]]);
        drop(c);
        assert_eq!(pools.idle_connections(), 1);
        std::thread::sleep(Duration::from_millis(5));
        pools.reap();
        assert_eq!(pools.idle_connections(), 0);
    }
    fn bulk(from: i64, n: i64) -> (String, Vec<SqlValue>) {
        let marks = vec!["(?)"; n as usize].join(", ");
        (format!("INSERT INTO t (x) VALUES {marks}"), (from..from + n).map(SqlValue::Integer).collect())
    }

    fn count(c: &mut SpinSqlite) -> SqlValue {
        c.execute("SELECT count(*) FROM t", vec![]).unwrap().rows[0][0].clone()
    }

    #[test]
    fn bulk_inserts_written_behind_take_effect_in_order() {
        let pools = Pools::new(Duration::from_secs(60));
        let mut c = SpinSqlite::open(&pools, &tmp("behind").join("db.sqlite")).unwrap();
        c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, v TEXT)", vec![]).unwrap();
        c.execute("PRAGMA wal_autocheckpoint = 500", vec![]).unwrap();
        c.execute("BEGIN IMMEDIATE", vec![]).unwrap();
        for i in 0..20 {
            let (sql, p) = bulk(i * 1000, 1000);
            assert!(c.execute(&sql, p).unwrap().rows.is_empty());
            assert!(c.active.is_some(), "a 1000-parameter insert goes behind");
        }
        // Queued in order: the first writer of a key wins an INSERT OR IGNORE.
        let marks = vec!["(?, ?)"; 200].join(", ");
        let params = (19_900..20_100).flat_map(|i| [SqlValue::Integer(i), SqlValue::Text("second".into())]).collect();
        c.execute(&format!("INSERT OR IGNORE INTO t (x, v) VALUES {marks}"), params).unwrap();
        // A small insert after them queues too, and a read sees every row.
        c.execute("INSERT INTO t (x) VALUES (?)", vec![SqlValue::Integer(-1)]).unwrap();
        assert_eq!(count(&mut c), SqlValue::Integer(20_101));
        let v = |c: &mut SpinSqlite, x: i64| c.execute("SELECT v FROM t WHERE x = ?", vec![SqlValue::Integer(x)]).unwrap().rows[0][0].clone();
        assert_eq!(v(&mut c, 19_950), SqlValue::Null);
        assert_eq!(v(&mut c, 20_050), SqlValue::Text("second".into()));
        assert_eq!(c.execute("PRAGMA wal_autocheckpoint", vec![]).unwrap().rows[0][0], SqlValue::Integer(0), "no checkpoint at this COMMIT");
        c.execute("COMMIT", vec![]).unwrap();
        assert!(c.active.is_none());
        assert_eq!(c.execute("PRAGMA wal_autocheckpoint", vec![]).unwrap().rows[0][0], SqlValue::Integer(500), "the guest's setting is back");
        // Outside a transaction statements run inline, whatever their size; so
        // do small inserts of a later transaction.
        let (sql, p) = bulk(100_000, 300);
        c.execute(&sql, p).unwrap();
        c.execute("BEGIN", vec![]).unwrap();
        c.execute("INSERT INTO t (x) VALUES (?)", vec![SqlValue::Integer(-2)]).unwrap();
        assert!(c.active.is_none());
        c.execute("COMMIT", vec![]).unwrap();
        assert_eq!(count(&mut c), SqlValue::Integer(20_402));
        // The worker checkpointed after the commit (too few pages for SQLite's own
        // checkpoint).
        c.behind.as_ref().unwrap().wait_for_checkpoints();
        let path = c.path.clone();
        drop(c);
        assert!(std::fs::metadata(&path).unwrap().len() > 100_000, "the rows are in the database file");
    }

    #[test]
    fn a_failed_insert_behind_rolls_the_transaction_back() {
        let pools = Pools::new(Duration::from_secs(60));
        let path = tmp("behind-fail").join("db.sqlite");
        let mut c = SpinSqlite::open(&pools, &path).unwrap();
        c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)", vec![]).unwrap();
        let fail = |c: &mut SpinSqlite| {
            c.execute("BEGIN IMMEDIATE", vec![]).unwrap();
            let (sql, p) = bulk(0, 500);
            c.execute(&sql, p).unwrap();
            // Overlaps the first: fails on the worker, answered as if fine.
            let (sql, p) = bulk(499, 500);
            c.execute(&sql, p).unwrap();
            let (sql, p) = bulk(5000, 500);
            c.execute(&sql, p).unwrap();
        };
        fail(&mut c);
        // The guest's next statement, even COMMIT, gets the error.
        let e = c.execute("COMMIT", vec![]).unwrap_err();
        assert!(e.contains("UNIQUE constraint failed"), "{e}");
        assert_eq!(count(&mut c), SqlValue::Integer(0));

        // A guest that ignores the error commits nothing, not even in part.
        fail(&mut c);
        assert!(c.execute("SELECT 1", vec![]).is_err());
        assert!(c.execute("INSERT INTO t (x) VALUES (?)", vec![SqlValue::Integer(-1)]).is_err(), "refused, not autocommitted");
        assert!(c.execute("COMMIT", vec![]).is_err());
        assert_eq!(count(&mut c), SqlValue::Integer(0));

        // The usual guest rolls back: that is answered as done.
        fail(&mut c);
        assert!(c.execute("SELECT 1", vec![]).is_err());
        c.execute("ROLLBACK", vec![]).unwrap();
        c.execute("INSERT INTO t (x) VALUES (?)", vec![SqlValue::Integer(-1)]).unwrap();
        assert_eq!(count(&mut c), SqlValue::Integer(1));
        drop(c);
        let mut again = SpinSqlite::open(&pools, &path).unwrap();
        assert_eq!(count(&mut again), SqlValue::Integer(1));
        assert_eq!(again.execute("PRAGMA wal_autocheckpoint", vec![]).unwrap().rows[0][0], SqlValue::Integer(1000));
    }

    #[test]
    fn a_connection_dropped_with_inserts_queued_keeps_none_of_them() {
        let pools = Pools::new(Duration::from_secs(60));
        let path = tmp("behind-drop").join("db.sqlite");
        let mut c = SpinSqlite::open(&pools, &path).unwrap();
        c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)", vec![]).unwrap();
        c.execute("BEGIN IMMEDIATE", vec![]).unwrap();
        for i in 0..10 {
            let (sql, p) = bulk(i * 1000, 1000);
            c.execute(&sql, p).unwrap();
        }
        assert!(c.active.is_some());
        drop(c); // a guest that trapped mid-load
        let mut again = SpinSqlite::open(&pools, &path).unwrap();
        assert_eq!(count(&mut again), SqlValue::Integer(0));
        again.execute("INSERT INTO t (x) VALUES (1)", vec![]).unwrap();
        assert_eq!(count(&mut again), SqlValue::Integer(1));
    }

    #[test]
    fn a_long_bulk_load_lets_the_wal_start_over() {
        let pools = Pools::new(Duration::from_secs(60));
        let path = tmp("behind-wal").join("db.sqlite");
        let mut c = SpinSqlite::open(&pools, &path).unwrap();
        c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, pad TEXT)", vec![]).unwrap();
        // 40 transactions of ~250 pages each: 10,000 pages (40 MB) if the WAL never restarted.
        for b in 0..40i64 {
            c.execute("BEGIN IMMEDIATE", vec![]).unwrap();
            for r in 0..5i64 {
                let from = (b * 5 + r) * 1000;
                let marks = vec!["(?, ?)"; 1000].join(", ");
                let params = (from..from + 1000).flat_map(|i| [SqlValue::Integer(i), SqlValue::Text("x".repeat(200))]).collect();
                c.execute(&format!("INSERT INTO t (x, pad) VALUES {marks}"), params).unwrap();
            }
            c.execute("COMMIT", vec![]).unwrap();
        }
        assert!(c.behind.is_some());
        assert_eq!(count(&mut c), SqlValue::Integer(200_000));
        let wal = std::fs::metadata(path.with_extension("sqlite-wal")).unwrap().len();
        assert!(wal < 10 << 20, "the WAL restarted along the way: {wal} bytes");
    }
}
