//! Write-behind for bulk inserts: a second core for SQLite while the guest
//! builds its next statement.
//!
//! A guest loading many rows alternates between building a multi-row INSERT
//! (parsing, validating, encoding: all guest CPU) and SQLite executing it. Run
//! in turn they use one core. Inside a transaction nothing outside sees an
//! INSERT before COMMIT, and an INSERT without RETURNING answers nothing, so
//! the host can answer it at once and execute it on a worker thread while the
//! guest goes on. Every other statement (reads, updates, COMMIT) first waits
//! for the queued ones, so statements still take effect in the guest's order.
//!
//! Checkpoints move too: while a transaction writes behind, SQLite's automatic
//! checkpoint (copying the WAL into the database at COMMIT, with an fsync, on
//! the guest's thread) is off, and when it ends the worker checkpoints on a
//! connection of its own, so the guest's next statements run meanwhile.
//!
//! Errors come late, never lost: if a queued INSERT fails, the rest of the
//! queue is skipped, the transaction is rolled back, and every statement the
//! guest sends fails with that error until its ROLLBACK (answered as done) or
//! COMMIT (answered with the error), so a transaction with a failed write can
//! never commit, not even in part.

use crate::storage::{PooledConn, SqlValue};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A statement with this many parameters starts writing behind (a multi-row
/// insert; a single-row write never pays for the queue). Until its
/// transaction ends, every plain INSERT follows it, small ones included, so
/// they keep their order without waiting.
pub const MIN_PARAMS: usize = 256;

/// Statements queued at most; a guest that builds faster than SQLite writes
/// waits here rather than pile its parameters up in host memory (a 500-row
/// insert of contacts carries about a megabyte).
const QUEUE: usize = 64;

/// A WAL this long (frames, ~4 KiB each) is let restart: the next transaction
/// waits for the worker's checkpoint to finish, so it writes from the start of
/// the WAL again instead of growing it by the whole load.
#[cfg(not(test))]
pub const WAL_RESTART_FRAMES: i64 = 65_536;
#[cfg(test)]
pub const WAL_RESTART_FRAMES: i64 = 256;

/// Whether a statement may be written behind: an INSERT that returns nothing.
pub fn is_plain_insert(sql: &str) -> bool {
    let head = sql.trim_start().as_bytes();
    head.len() >= 6
        && head[..6].eq_ignore_ascii_case(b"INSERT")
        // Conservative: the word anywhere (even inside a string) keeps it inline.
        && !head.windows(9).any(|w| w.eq_ignore_ascii_case(b"RETURNING"))
}

/// How a statement ends the transaction, if it does.
#[derive(Debug, PartialEq)]
pub enum TxEnd {
    Commit,
    Rollback,
}

pub fn tx_end(sql: &str) -> Option<TxEnd> {
    let words: Vec<String> = sql.split(|c: char| c.is_whitespace() || c == ';').filter(|w| !w.is_empty()).take(3).map(str::to_ascii_uppercase).collect();
    match words.first().map(String::as_str) {
        Some("COMMIT" | "END") => Some(TxEnd::Commit),
        // ROLLBACK [TRANSACTION] TO <savepoint> ends nothing.
        Some("ROLLBACK") if !words.iter().any(|w| w == "TO") => Some(TxEnd::Rollback),
        _ => None,
    }
}

pub type Shared = Arc<Mutex<PooledConn>>;

/// A poisoned lock is taken anyway: a panic elsewhere cannot leave the
/// connection or the queue half-changed in Rust terms.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
struct Queue {
    queued: usize,
    failed: Option<String>,
    /// Checkpoints asked for and not yet through.
    checkpoints: usize,
    /// Frames in the WAL at the last checkpoint.
    wal_frames: i64,
}

type State = Arc<(Mutex<Queue>, Condvar)>;

enum Job {
    Write(String, Vec<SqlValue>),
    Checkpoint,
}

/// The worker of one connection: started by its first bulk insert, it serves
/// the connection's later transactions too until the connection is dropped.
pub struct WriteBehind {
    jobs: Option<mpsc::SyncSender<Job>>,
    state: State,
}

impl WriteBehind {
    /// Starts the worker of `conn`, the database at `path`. The worker holds
    /// the connection weakly: once its owner is through with it, it goes back
    /// to the pool even while the worker still checkpoints (on a connection of
    /// its own).
    pub fn start(conn: &Shared, path: PathBuf) -> std::io::Result<WriteBehind> {
        let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE);
        let state: State = Arc::default();
        let st = state.clone();
        let conn = Arc::downgrade(conn);
        std::thread::Builder::new().name("sqlite-write-behind".into()).spawn(move || {
            let _exit = Exit(st.clone());
            // Opened at the first checkpoint, once: if it cannot be, checkpoints are skipped.
            let mut checkpointer: Option<Option<Connection>> = None;
            for job in rx {
                match job {
                    Job::Write(sql, params) => {
                        let skip = lock(&st.0).failed.is_some();
                        // The strong reference ends before the write is counted done.
                        let result = match (skip, conn.upgrade()) {
                            (true, _) => Ok(()),
                            (false, Some(c)) => run(&lock(&c), &sql, &params),
                            (false, None) => Err("connection closed".into()),
                        };
                        let mut q = lock(&st.0);
                        q.queued -= 1;
                        if let Err(e) = result {
                            q.failed.get_or_insert(e);
                        }
                        st.1.notify_all();
                    }
                    Job::Checkpoint => {
                        let c = checkpointer.get_or_insert_with(|| crate::storage::open(&path, crate::storage::DbKind::Sql).ok());
                        // PASSIVE: copies what is committed, waiting for no reader or
                        // writer; answers (busy, frames in the WAL, frames copied).
                        let frames = c.as_ref().and_then(|c| c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)).ok());
                        let mut q = lock(&st.0);
                        q.checkpoints -= 1;
                        q.wal_frames = frames.unwrap_or(0);
                        st.1.notify_all();
                    }
                }
            }
        })?;
        Ok(WriteBehind { jobs: Some(tx), state })
    }

    /// Queues a statement; hands the parameters back if the worker is gone
    /// (the caller runs it inline then).
    pub fn push(&self, sql: &str, params: Vec<SqlValue>) -> Result<(), Vec<SqlValue>> {
        let Some(jobs) = &self.jobs else { return Err(params) };
        lock(&self.state.0).queued += 1;
        match jobs.send(Job::Write(sql.to_owned(), params)) {
            Ok(()) => Ok(()),
            Err(mpsc::SendError(job)) => {
                lock(&self.state.0).queued -= 1;
                match job {
                    Job::Write(_, params) => Err(params),
                    Job::Checkpoint => Err(Vec::new()),
                }
            }
        }
    }

    /// Checkpoints the database after what is queued (nobody waits for it,
    /// unless the WAL grows long: `let_wal_restart`).
    pub fn checkpoint(&self) {
        if let Some(jobs) = &self.jobs {
            lock(&self.state.0).checkpoints += 1;
            if jobs.send(Job::Checkpoint).is_err() {
                lock(&self.state.0).checkpoints -= 1;
            }
        }
    }

    /// Between transactions: if the WAL has grown long, waits for the
    /// checkpoints under way, so the next transaction can start it over.
    pub fn let_wal_restart(&self) {
        drop(self.wait_while(|q| q.wal_frames >= WAL_RESTART_FRAMES && q.checkpoints > 0));
    }

    /// Waits until the checkpoints asked for are through.
    #[cfg(test)]
    pub fn wait_for_checkpoints(&self) {
        drop(self.wait_while(|q| q.checkpoints > 0));
    }

    /// Waits until every queued statement has run; the first failure, if any
    /// (taken: the caller rolls the transaction back).
    pub fn settle(&self) -> Option<String> {
        self.wait_while(|q| q.queued > 0).failed.take()
    }

    /// The queue once `busy` no longer holds (the worker notifies each change).
    fn wait_while(&self, mut busy: impl FnMut(&mut Queue) -> bool) -> MutexGuard<'_, Queue> {
        let (m, cv) = &*self.state;
        cv.wait_while(lock(m), |q| busy(q)).unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        // Whatever is still queued belongs to a transaction about to be rolled
        // back (the guest left without settling): skip it, and wait only for a
        // write under way. Closing the channel ends the worker once it has run
        // the checkpoints asked for; nobody waits for those (the request is over).
        lock(&self.state.0).failed.get_or_insert_with(|| "connection closed".into());
        self.jobs = None;
        let _ = self.settle();
    }
}

/// Runs when the worker ends, however it ends: if it panicked, whoever waits
/// is woken with a failure instead of waiting for jobs no one will run.
struct Exit(State);

impl Drop for Exit {
    fn drop(&mut self) {
        let mut q = lock(&self.0 .0);
        if q.queued > 0 {
            q.failed.get_or_insert_with(|| "the write-behind worker stopped".into());
        }
        q.queued = 0;
        q.checkpoints = 0;
        self.0 .1.notify_all();
    }
}

fn run(conn: &PooledConn, sql: &str, params: &[SqlValue]) -> Result<(), String> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| e.to_string())?;
    stmt.execute(rusqlite::params_from_iter(params)).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inserts_that_return_nothing_go_behind() {
        assert!(is_plain_insert("INSERT INTO t VALUES (?)"));
        assert!(is_plain_insert("  insert or ignore into t (a) VALUES (?), (?)"));
        assert!(!is_plain_insert("INSERT INTO t VALUES (?) RETURNING id"));
        assert!(!is_plain_insert("insert into t values (?) returning *"));
        assert!(!is_plain_insert("UPDATE t SET a = 1"));
        assert!(!is_plain_insert("SELECT 'INSERT'"));
        assert!(!is_plain_insert("INS"));
    }

    #[test]
    fn transaction_ends_are_recognised() {
        assert_eq!(tx_end("COMMIT"), Some(TxEnd::Commit));
        assert_eq!(tx_end(" end transaction;"), Some(TxEnd::Commit));
        assert_eq!(tx_end("ROLLBACK"), Some(TxEnd::Rollback));
        assert_eq!(tx_end("rollback transaction"), Some(TxEnd::Rollback));
        assert_eq!(tx_end("ROLLBACK TO sp1"), None);
        assert_eq!(tx_end("ROLLBACK TRANSACTION TO SAVEPOINT sp1"), None);
        assert_eq!(tx_end("SELECT 1"), None);
    }
}
