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

/// Adds or replaces a record's entry.
pub fn index<D: Db + ?Sized>(db: &D, kind: &str, ref_id: &str, owner: Option<&str>, title: &str, body: &str) -> Result<()> {
    let r = db.run(
        "INSERT INTO search_docs (kind, ref_id) VALUES (?, ?) ON CONFLICT (kind, ref_id) DO UPDATE SET kind = excluded.kind RETURNING doc",
        &[kind.into(), ref_id.into()],
    )?;
    let doc = r.scalar_i64().ok_or_else(|| anyhow::anyhow!("search index: no doc id"))?;
    let t = table(kind);
    db.run(&format!("DELETE FROM {t} WHERE rowid = ?"), &[Val::Int(doc)])?;
    db.run(&format!("INSERT INTO {t} (rowid, owner_tok, head, detail) VALUES (?, ?, ?, ?)"), &[Val::Int(doc), owner_token(owner).into(), title.into(), body.into()])?;
    Ok(())
}

pub fn remove<D: Db + ?Sized>(db: &D, kind: &str, ref_id: &str) -> Result<()> {
    let r = db.run("SELECT doc FROM search_docs WHERE kind = ? AND ref_id = ?", &[kind.into(), ref_id.into()])?;
    if let Some(doc) = r.scalar_i64() {
        db.run(&format!("DELETE FROM {} WHERE rowid = ?", table(kind)), &[Val::Int(doc)])?;
        db.run("DELETE FROM search_docs WHERE doc = ?", &[Val::Int(doc)])?;
    }
    Ok(())
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
}
