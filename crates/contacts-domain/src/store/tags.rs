//! Tags of contacts and companies, mirrored into `record_tags` for filters.

use anyhow::Result;
use edge_db::Db;

pub fn set<D: Db + ?Sized>(db: &D, entity: &str, record_id: &str, tags: &[String]) -> Result<()> {
    db.run("DELETE FROM record_tags WHERE entity = ? AND record_id = ?", &[entity.into(), record_id.into()])?;
    for t in tags {
        db.run("INSERT OR IGNORE INTO record_tags (entity, tag, record_id) VALUES (?, ?, ?)", &[entity.into(), t.into(), record_id.into()])?;
    }
    Ok(())
}

/// Every tag in use for an entity, with how many records carry it.
pub fn all<D: Db + ?Sized>(db: &D, entity: &str) -> Result<Vec<(String, i64)>> {
    let r = db.run("SELECT tag, count(*) FROM record_tags WHERE entity = ? GROUP BY tag COLLATE NOCASE ORDER BY tag COLLATE NOCASE LIMIT 1000", &[entity.into()])?;
    Ok(r.iter().map(|row| (row.text(0), row.i64(1).unwrap_or(0))).collect())
}
