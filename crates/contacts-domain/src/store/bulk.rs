//! Bulk loads. A contact import bringing many rows relative to the table drops
//! the indexes whose entries land at random places (names, emails, company
//! links) and builds each again when the rows are in, in one sorted pass. At a
//! million contacts a random insert dirties a page of each such index per row;
//! a build writes each page once (natively, a million rows take 87 s with the
//! indexes in place, 15 s without them plus 6 s to build them).
//!
//! The indexes only speed things up: while they are missing every query still
//! answers, lists sorted by name and duplicate checks more slowly. Whatever
//! happens to the import (cancelled, stopped, abandoned, the host crashing),
//! `restore` puts them back: the import's last step runs it, and so does every
//! tick once no import is loading.

use anyhow::Result;
use edge_db::{Db, Val};

/// (name, definition): the definitions the migrations leave (a test holds
/// them equal). Indexes whose entries follow the insert order (ids, update
/// times, stages, owners) stay: appending to them costs little.
pub const DEFERRABLE: &[(&str, &str)] = &[
    ("contacts_email", "CREATE INDEX contacts_email ON contacts(email)"),
    ("contacts_company", "CREATE INDEX contacts_company ON contacts(company_id)"),
    ("contacts_name_company", "CREATE INDEX contacts_name_company ON contacts(company_id, lower(last_name), lower(first_name)) WHERE deleted_at IS NULL"),
    ("contacts_last_name", "CREATE INDEX contacts_last_name ON contacts(last_name, id, lifecycle_stage, owner_id, deleted_at, lower(tags))"),
    ("contacts_first_name", "CREATE INDEX contacts_first_name ON contacts(first_name, id, lifecycle_stage, owner_id, deleted_at, lower(tags))"),
    ("contacts_company_name", "CREATE INDEX contacts_company_name ON contacts(company, id, lifecycle_stage, owner_id, deleted_at, lower(tags))"),
    ("contact_companies_company", "CREATE INDEX contact_companies_company ON contact_companies(company_id, contact_id)"),
];

/// Fewest rows still to come for a load to go without the indexes (below
/// this, building them again costs more than the random inserts save).
pub const MIN_ROWS: i64 = 50_000;

/// A loading import that has not written for this long is abandoned: the
/// tick restores the indexes rather than wait for it.
pub const IDLE_MINUTES: i64 = 10;

/// Whether `rows` more contacts on top of `existing` load faster without the
/// deferrable indexes. Building them costs ~6 µs per row in the table; keeping
/// them, ~70 µs per new row at a million (natively). The break-even is a
/// twelfth; a quarter leaves room for smaller tables, whose pages stay in
/// memory and make random inserts cheaper.
pub fn worth_it(rows: i64, existing: i64) -> bool {
    rows >= MIN_ROWS && rows.saturating_mul(4) >= existing
}

/// The deferrable indexes that are not there.
pub fn missing<D: Db + ?Sized>(db: &D) -> Result<Vec<&'static str>> {
    let names: Vec<Val> = DEFERRABLE.iter().map(|(n, _)| Val::from(*n)).collect();
    let r = db.run(&format!("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ({})", super::marks(names.len())), &names)?;
    Ok(DEFERRABLE.iter().map(|(n, _)| *n).filter(|n| !r.iter().any(|row| row.str(0) == Some(*n))).collect())
}

/// FTS5 merges this many segments of a level at once while a bulk load runs
/// (SQLite's default is 4). Fewer, wider merges: a million contacts index in
/// 15 s instead of 20 s natively; the extra segments cost a prefix query
/// ~0.1 ms until later writes merge them.
const BULK_AUTOMERGE: i64 = 16;
const DEFAULT_AUTOMERGE: i64 = 4;

fn automerge<D: Db + ?Sized>(db: &D, n: i64) -> Result<()> {
    for t in super::search::tables(db, "contact")? {
        db.run(&format!("INSERT INTO {t} ({t}, rank) VALUES ('automerge', ?)"), &[Val::Int(n)])?;
    }
    Ok(())
}

/// Drops the deferrable indexes (in the caller's transaction); returns how
/// many the load owes.
pub fn drop_indexes<D: Db + ?Sized>(db: &D) -> Result<i64> {
    for (name, _) in DEFERRABLE {
        db.run(&format!("DROP INDEX IF EXISTS {name}"), &[])?;
    }
    automerge(db, BULK_AUTOMERGE)?;
    Ok(DEFERRABLE.len() as i64)
}

/// Builds the first missing index in its own transaction (at a million rows
/// about a second, so a call spends at most that past its budget); returns
/// how many are still missing. The last one also sets FTS merging back.
pub fn build_next<D: Db + ?Sized>(db: &D) -> Result<i64> {
    let missing = missing(db)?;
    let Some(first) = missing.first() else { return Ok(0) };
    let sql = DEFERRABLE.iter().find(|(n, _)| n == first).map(|(_, s)| *s).unwrap_or_default();
    edge_db::tx(db, || {
        // IF NOT EXISTS: another caller (a tick, a second import) may have built it meanwhile.
        db.run(&sql.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1), &[])?;
        if missing.len() == 1 {
            automerge(db, DEFAULT_AUTOMERGE)?;
        }
        Ok(missing.len() as i64 - 1)
    })
}

/// Whether an import is loading without the indexes right now (recently
/// written: an abandoned one does not keep them away).
pub fn loading<D: Db + ?Sized>(db: &D) -> Result<bool> {
    let since = (chrono::Utc::now() - chrono::Duration::minutes(IDLE_MINUTES)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Ok(db.run("SELECT 1 FROM imports WHERE status = 'running' AND indexes_left > 0 AND updated_at > ? LIMIT 1", &[since.into()])?.first().is_some())
}

/// Builds missing indexes for about `budget` unless an import is loading;
/// true when none is missing. A tenant with all of them costs one read.
pub fn restore<D: Db + ?Sized>(db: &D, budget: std::time::Duration) -> Result<bool> {
    if missing(db)?.is_empty() {
        return Ok(true);
    }
    if loading(db)? {
        return Ok(false);
    }
    let started = std::time::Instant::now();
    while build_next(db)? > 0 {
        if started.elapsed() >= budget {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::MIGRATIONS;

    /// Each definition is the one the migrations leave: the last statement
    /// that creates an index of that name.
    #[test]
    fn definitions_match_the_migrations() {
        for (name, sql) in DEFERRABLE {
            let last = MIGRATIONS.iter().flat_map(|(_, s)| s.iter()).filter(|s| s.starts_with(&format!("CREATE INDEX {name} ON "))).last();
            assert_eq!(last, Some(sql), "{name}");
        }
    }

    #[test]
    fn dropped_indexes_come_back_one_at_a_time() {
        let db = crate::store::testing::db();
        assert!(missing(&db).unwrap().is_empty());
        let automerge = || db.run("SELECT v FROM search_contact_config WHERE k = 'automerge'", &[]).unwrap().scalar_i64();
        edge_db::tx(&db, || drop_indexes(&db)).unwrap();
        assert_eq!(missing(&db).unwrap().len(), DEFERRABLE.len());
        assert_eq!(automerge(), Some(BULK_AUTOMERGE));
        assert_eq!(build_next(&db).unwrap(), DEFERRABLE.len() as i64 - 1);
        assert!(restore(&db, std::time::Duration::from_secs(10)).unwrap());
        assert!(missing(&db).unwrap().is_empty());
        assert_eq!(automerge(), Some(DEFAULT_AUTOMERGE));
        let plan = db.run("EXPLAIN QUERY PLAN SELECT id FROM contacts ORDER BY last_name, id LIMIT 5", &[]).unwrap();
        assert!(plan.iter().any(|r| r.text(3).contains("contacts_last_name")), "the list index is used again");
    }

    #[test]
    fn small_loads_keep_the_indexes() {
        assert!(!worth_it(10_000, 0));
        assert!(worth_it(MIN_ROWS, 0));
        assert!(worth_it(1_000_000, 1_000_000));
        assert!(!worth_it(100_000, 1_000_000));
    }
}
