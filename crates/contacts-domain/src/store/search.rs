//! The full-text index (FTS5) over contacts, companies and notes.
//!
//! Each indexed record has a `search_docs` row whose integer `doc` is its rowid
//! in its kind's FTS table (`search_contact`, `search_company`, `search_note`).
//! Queries match every typed word as a prefix in the `head` (names) and
//! `detail` columns and, for users who only see some owners' records, the
//! `owner_tok` column. Ranking by bm25 is bounded: at most
//! `CANDIDATES` newest matches are ranked, so a broad prefix stays fast.

use anyhow::Result;
use edge_db::{Db, Val};
use edge_http::Visibility;

/// Matches ranked per kind.
pub const CANDIDATES: i64 = 200;

/// An owner id as one FTS token (`u_01HZ…` → `u01hz…`).
pub fn owner_token(owner: Option<&str>) -> String {
    owner.map(|o| o.replace('_', "").to_lowercase()).unwrap_or_default()
}

/// The FTS table of a kind (kinds are ours, never user input).
pub fn table(kind: &str) -> &'static str {
    match kind {
        "company" => "search_company",
        "note" => "search_note",
        _ => "search_contact",
    }
}

/// The FTS tables a write to `kind` goes to: its table and, while that is
/// being rebuilt, the new one (so the swap loses nothing written meanwhile).
pub fn tables<D: Db + ?Sized>(db: &D, kind: &str) -> Result<Vec<String>> {
    let t = table(kind);
    let rebuilding = db.run("SELECT 1 FROM search_rebuilds WHERE kind = ?", &[kind.into()])?.first().is_some();
    Ok(if rebuilding { vec![t.to_string(), format!("{t}_next")] } else { vec![t.to_string()] })
}

/// Adds or replaces a record's entry.
pub fn index<D: Db + ?Sized>(db: &D, kind: &str, ref_id: &str, owner: Option<&str>, title: &str, body: &str) -> Result<()> {
    let r = db.run(
        "INSERT INTO search_docs (kind, ref_id) VALUES (?, ?) ON CONFLICT (kind, ref_id) DO UPDATE SET kind = excluded.kind RETURNING doc",
        &[kind.into(), ref_id.into()],
    )?;
    let doc = r.scalar_i64().ok_or_else(|| anyhow::anyhow!("search index: no doc id"))?;
    for t in tables(db, kind)? {
        db.run(&format!("DELETE FROM {t} WHERE rowid = ?"), &[Val::Int(doc)])?;
        db.run(&format!("INSERT INTO {t} (rowid, owner_tok, head, detail) VALUES (?, ?, ?, ?)"), &[Val::Int(doc), owner_token(owner).into(), title.into(), body.into()])?;
    }
    Ok(())
}

pub fn remove<D: Db + ?Sized>(db: &D, kind: &str, ref_id: &str) -> Result<()> {
    let r = db.run("SELECT doc FROM search_docs WHERE kind = ? AND ref_id = ?", &[kind.into(), ref_id.into()])?;
    if let Some(doc) = r.scalar_i64() {
        for t in tables(db, kind)? {
            db.run(&format!("DELETE FROM {t} WHERE rowid = ?"), &[Val::Int(doc)])?;
        }
        db.run("DELETE FROM search_docs WHERE doc = ?", &[Val::Int(doc)])?;
    }
    Ok(())
}

/// Entries copied per transaction while rebuilding (about 0.3 s at a million:
/// writers waiting for the lock never wait long).
const REBUILD_SLICE: i64 = 10_000;

/// Moves pending rebuilds (schema migration 14) forward for about `budget`, a
/// slice per transaction, so none outlasts a request. True when none remains.
/// The new table is filled from the old one in rowid order while writes go to
/// both (`tables`); when the copy is through, the new table takes the name.
pub fn rebuild<D: Db + ?Sized>(db: &D, budget: std::time::Duration) -> Result<bool> {
    rebuild_by(db, budget, REBUILD_SLICE)
}

fn rebuild_by<D: Db + ?Sized>(db: &D, budget: std::time::Duration, slice: i64) -> Result<bool> {
    // A tenant with nothing to rebuild costs one read, no write lock.
    if db.run("SELECT 1 FROM search_rebuilds LIMIT 1", &[])?.first().is_none() {
        return Ok(true);
    }
    let started = std::time::Instant::now();
    // At least one slice per call, however small the budget.
    while edge_db::tx(db, || rebuild_slice(db, slice))? {
        if started.elapsed() >= budget {
            return Ok(false);
        }
        // A writer waiting on the lock retries on its own clock: leave it room.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Ok(true)
}

/// One slice of the first pending rebuild; true while any remains.
fn rebuild_slice<D: Db + ?Sized>(db: &D, slice: i64) -> Result<bool> {
    let r = db.run("SELECT kind, next_doc FROM search_rebuilds ORDER BY kind LIMIT 1", &[])?;
    let Some(row) = r.first() else { return Ok(false) };
    let (kind, from) = (row.text(0), row.i64(1).unwrap_or(0));
    let t = table(&kind);
    let last = db.run(&format!("SELECT max(rowid) FROM (SELECT rowid FROM {t} WHERE rowid > ? ORDER BY rowid LIMIT ?)"), &[Val::Int(from), Val::Int(slice)])?.scalar_i64();
    match last {
        Some(last) => {
            // REPLACE: a record written since the rebuild began is there already.
            db.run(
                &format!("INSERT OR REPLACE INTO {t}_next (rowid, owner_tok, head, detail) SELECT rowid, owner_tok, head, detail FROM {t} WHERE rowid > ? AND rowid <= ?"),
                &[Val::Int(from), Val::Int(last)],
            )?;
            db.run("UPDATE search_rebuilds SET next_doc = ? WHERE kind = ?", &[Val::Int(last), kind.as_str().into()])?;
        }
        None => {
            db.run(&format!("DROP TABLE {t}"), &[])?;
            db.run(&format!("ALTER TABLE {t}_next RENAME TO {t}"), &[])?;
            db.run("DELETE FROM search_rebuilds WHERE kind = ?", &[kind.as_str().into()])?;
            return Ok(db.run("SELECT 1 FROM search_rebuilds LIMIT 1", &[])?.first().is_some());
        }
    }
    Ok(true)
}

/// Words of the typed text as FTS5 prefix terms, quoted (so nothing the user
/// types is FTS syntax). None when there is nothing to search for.
pub fn terms(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" AND "))
}

/// The full FTS5 query (for `kind`'s table), with the owner restriction.
pub fn match_expr(_kind: &str, text: &str, vis: &Visibility) -> Option<String> {
    let t = terms(text)?;
    let mut q = format!("{{head detail}} : ({t})");
    if let Visibility::Owners(owners) = vis {
        let toks: Vec<String> = owners.iter().map(|o| format!("\"{}\"", owner_token(Some(o)))).filter(|t| t != "\"\"").collect();
        if toks.is_empty() {
            return None;
        }
        q.push_str(&format!(" AND owner_tok : ({})", toks.join(" OR ")));
    }
    Some(q)
}

/// How well a match fits: per typed word, a whole word of the name counts 3,
/// a name word it begins 2, a match elsewhere (email, phone, company…) 1.
pub fn score(text: &str, head: &str) -> u32 {
    let name: Vec<String> = head.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .map(|t| if name.contains(&t) { 3 } else if name.iter().any(|w| w.starts_with(&t)) { 2 } else { 1 })
        .sum()
}

/// Record ids of one kind matching `text`, best first, at most `limit`. The
/// newest `CANDIDATES` matches are scored in Rust (bm25 would read every
/// match's statistics, which a broad prefix makes slow).
pub fn find<D: Db + ?Sized>(db: &D, kind: &str, text: &str, vis: &Visibility, limit: usize) -> Result<Vec<String>> {
    let Some(m) = match_expr(kind, text, vis) else { return Ok(Vec::new()) };
    let t = table(kind);
    let r = db.run(&format!("SELECT rowid, head FROM {t} WHERE {t} MATCH ? ORDER BY rowid DESC LIMIT ?"), &[m.into(), Val::Int(CANDIDATES)])?;
    let mut hits: Vec<(i64, u32)> = r.iter().map(|row| (row.i64(0).unwrap_or(0), score(text, row.str(1).unwrap_or("")))).collect();
    // Stable: equal scores stay newest first.
    hits.sort_by_key(|h| std::cmp::Reverse(h.1));
    hits.truncate(limit);
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    // Record ids for the winners only (not for every candidate).
    let docs = db.run(
        &format!("SELECT doc, ref_id FROM search_docs WHERE doc IN ({})", super::marks(hits.len())),
        &hits.iter().map(|h| Val::Int(h.0)).collect::<Vec<_>>(),
    )?;
    Ok(hits.iter().filter_map(|(doc, _)| docs.iter().find(|d| d.i64(0) == Some(*doc)).map(|d| d.text(1))).collect())
}

/// SQL condition keeping records of `kind` (id column `id`) that match `text`.
pub fn id_condition(kind: &str, text: &str, vis: &Visibility) -> Option<(String, Vec<Val>)> {
    let m = match_expr(kind, text, vis)?;
    let t = table(kind);
    Some((format!("id IN (SELECT d.ref_id FROM {t} JOIN search_docs d ON d.doc = {t}.rowid WHERE {t} MATCH ?)"), vec![m.into()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_quoted_prefix_terms() {
        assert_eq!(terms("Ada Lov").as_deref(), Some("\"ada\"* AND \"lov\"*"));
        assert_eq!(terms("ada@example.com").as_deref(), Some("\"ada\"* AND \"example\"* AND \"com\"*"));
        assert_eq!(terms("\" OR kind:* NEAR("), Some("\"or\"* AND \"kind\"* AND \"near\"*".into()));
        assert_eq!(terms("  -- "), None);
        assert!(score("ada lov", "Ada Lovelace") > score("ada lov", "Adam Smith"));
        assert!(score("grace", "Grace Hopper") > score("grace", "Gracely Lee"));
        let v = Visibility::Owners(vec!["u_01AB".into()]);
        assert_eq!(match_expr("contact", "x", &v).as_deref(), Some("{head detail} : (\"x\"*) AND owner_tok : (\"u01ab\")"));
    }

    /// A rebuild in slices, with writes on both sides of its position while it
    /// runs, ends with one entry per record in the new table under the old name.
    #[test]
    fn a_rebuild_in_slices_keeps_every_write_made_while_it_runs() {
        use crate::model::ContactInput;
        use crate::store::{contacts, testing};
        let db = testing::db();
        let w = testing::writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let mk = |name: &str| contacts::create(&db, &w, serde_json::from_value::<ContactInput>(serde_json::json!({"first_name": name, "last_name": "Quill"})).unwrap().validate(&[]).unwrap(), 100).unwrap();
        let people: Vec<_> = ["Ada", "Bea", "Cyd", "Dot", "Eve", "Fay"].into_iter().map(mk).collect();
        let found = |q: &str| find(&db, "contact", q, &Visibility::All, 50).unwrap().len();
        let sql = |t: &str| db.run("SELECT sql FROM sqlite_master WHERE name = ?", &[t.into()]).unwrap().first().map(|r| r.text(0));
        assert!(sql("search_contact").unwrap().contains("prefix = '2 3'"), "fresh databases start on the old table");
        assert_eq!(found("quill"), 6, "the old table answers while the new one fills");
        // One slice per call: the (empty) company index is swapped first, then
        // two of the six contacts are copied.
        assert!(!rebuild_by(&db, std::time::Duration::ZERO, 2).unwrap());
        assert_eq!(sql("search_company_next"), None);
        assert!(!rebuild_by(&db, std::time::Duration::ZERO, 2).unwrap());
        let copied = db.run("SELECT next_doc FROM search_rebuilds WHERE kind = 'contact'", &[]).unwrap().scalar_i64();
        let doc = db.run("SELECT doc FROM search_docs WHERE kind = 'contact' AND ref_id = ?", &[people[1].id.as_str().into()]).unwrap().scalar_i64();
        assert_eq!(copied, doc);
        let by = |id: &str| contacts::update(&db, &w, id, &serde_json::json!({"last_name": "Zebulon"}), None, &Visibility::All, &[]).unwrap();
        by(&people[0].id); // already copied
        by(&people[5].id); // not yet
        contacts::delete(&db, &w, &people[1].id, &Visibility::All).unwrap();
        mk("Gil");
        while !rebuild_by(&db, std::time::Duration::from_secs(5), 2).unwrap() {}
        assert!(sql("search_contact").unwrap().contains("prefix = '2 3 4 5 6'"), "{:?}", sql("search_contact"));
        assert_eq!(sql("search_contact_next"), None);
        assert_eq!(found("quill"), 4);
        assert_eq!(found("zebul"), 2);
        assert_eq!(found("bea"), 0);
        assert_eq!(found("gil quil"), 1);
        let entries = db.run("SELECT count(*) FROM search_contact", &[]).unwrap().scalar_i64();
        let docs = db.run("SELECT count(*) FROM search_docs WHERE kind = 'contact'", &[]).unwrap().scalar_i64();
        assert_eq!(entries, docs);
        assert_eq!(entries, Some(6));
        // Writes now go to the one table.
        assert_eq!(tables(&db, "contact").unwrap(), vec!["search_contact"]);
        assert!(rebuild(&db, std::time::Duration::from_secs(1)).unwrap());
    }
}
