//! The knowledge base: articles with categories, drafts and publishing,
//! searched with FTS5 (every word a prefix, ranked by bm25 over a bounded
//! candidate set). Portal visitors see published articles only; an article
//! that answered a customer's question before they filed is a deflection.

use super::{event, Invalid, NotFound, Writer};
use anyhow::Result;
use edge_db::{Db, Row, Val};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

pub const ID_PREFIX: &str = "kb";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub status: String,
    pub views: i64,
    pub deflections: i64,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub version: i64,
}

const COLUMNS: &str = "id, title, body, category, status, views, deflections, created_at, updated_at, published_at, version";

fn from_row(r: Row) -> Article {
    Article {
        id: r.text(0), title: r.text(1), body: r.text(2), category: r.string(3), status: r.text(4), views: r.i64(5).unwrap_or(0),
        deflections: r.i64(6).unwrap_or(0), created_at: r.text(7), updated_at: r.text(8), published_at: r.string(9), version: r.i64(10).unwrap_or(1),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    pub title: Option<String>,
    pub body: Option<String>,
    pub category: Option<String>,
    /// `draft` or `published`.
    pub status: Option<String>,
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str, published_only: bool) -> Result<Option<Article>> {
    let r = db.run(&format!("SELECT {COLUMNS} FROM kb_articles WHERE id = ? AND (? = 0 OR status = 'published')"), &[id.into(), Val::Int(published_only as i64)])?;
    Ok(r.first().map(from_row))
}

fn index<D: Db + ?Sized>(db: &D, a: &Article) -> Result<()> {
    let row = db.run("SELECT rowid FROM kb_search_ids WHERE article_id = ?", &[a.id.as_str().into()])?.scalar_i64();
    if let Some(rowid) = row {
        db.run("DELETE FROM kb_search WHERE rowid = ?", &[Val::Int(rowid)])?;
        db.run("DELETE FROM kb_search_ids WHERE rowid = ?", &[Val::Int(rowid)])?;
    }
    // Drafts are indexed too (staff search them); visitors' searches keep to published ones.
    if a.status != "deleted" {
        db.run("INSERT INTO kb_search_ids (article_id) VALUES (?)", &[a.id.as_str().into()])?;
        db.run("INSERT INTO kb_search (rowid, title, body) VALUES (last_insert_rowid(), ?, ?)", &[a.title.as_str().into(), a.body.as_str().into()])?;
    }
    Ok(())
}

fn checked(input: ArticleInput, before: Option<&Article>) -> Result<(String, String, Option<String>, String)> {
    let mut e = Vec::new();
    let title = input.title.map(|t| t.trim().to_string()).or_else(|| before.map(|b| b.title.clone())).unwrap_or_default();
    if title.chars().count() < 3 || title.chars().count() > 200 {
        e.push(FieldError::new("title", "must be 3 to 200 characters"));
    }
    let body = input.body.or_else(|| before.map(|b| b.body.clone())).unwrap_or_default();
    if body.trim().is_empty() || body.len() > 200_000 {
        e.push(FieldError::new("body", "is required (at most 200 KB)"));
    }
    let category = match input.category {
        Some(c) => Some(c.trim().to_string()).filter(|c| !c.is_empty()),
        None => before.and_then(|b| b.category.clone()),
    };
    if category.as_ref().is_some_and(|c| c.chars().count() > 60) {
        e.push(FieldError::new("category", "must be at most 60 characters"));
    }
    let status = input.status.or_else(|| before.map(|b| b.status.clone())).unwrap_or_else(|| "draft".into());
    if status != "draft" && status != "published" {
        e.push(FieldError::new("status", "must be draft or published"));
    }
    if e.is_empty() {
        Ok((title, body, category, status))
    } else {
        Err(Invalid(e).into())
    }
}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, input: ArticleInput) -> Result<Article> {
    let (title, body, category, status) = checked(input, None)?;
    edge_db::tx(db, || {
        let id = w.new_id(db, "kb_articles", ID_PREFIX)?;
        let now = edge_db::now();
        let published = (status == "published").then(|| now.clone());
        db.run(
            &format!("INSERT INTO kb_articles ({COLUMNS}) VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, ?, 1)"),
            &[id.as_str().into(), title.into(), body.into(), category.into(), status.into(), now.as_str().into(), now.as_str().into(), published.into()],
        )?;
        let a = get(db, &id, false)?.ok_or(NotFound)?;
        index(db, &a)?;
        event(db, w, "article", &id, "created", None, Some(&serde_json::json!({"title": a.title, "status": a.status})))?;
        Ok(a)
    })
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, input: ArticleInput, if_version: Option<i64>) -> Result<Article> {
    edge_db::tx(db, || {
        let before = get(db, id, false)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let (title, body, category, status) = checked(input, Some(&before))?;
        let now = edge_db::now();
        let published = if status == "published" { before.published_at.clone().or(Some(now.clone())) } else { None };
        db.run(
            "UPDATE kb_articles SET title = ?, body = ?, category = ?, status = ?, published_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            &[title.into(), body.into(), category.into(), status.into(), published.into(), now.into(), id.into()],
        )?;
        let after = get(db, id, false)?.ok_or(NotFound)?;
        index(db, &after)?;
        event(db, w, "article", id, "updated", Some(&serde_json::json!({"title": before.title, "status": before.status})), Some(&serde_json::json!({"title": after.title, "status": after.status})))?;
        Ok(after)
    })
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str) -> Result<()> {
    edge_db::tx(db, || {
        let mut a = get(db, id, false)?.ok_or(NotFound)?;
        a.status = "deleted".into();
        index(db, &a)?;
        db.run("DELETE FROM kb_articles WHERE id = ?", &[id.into()])?;
        event(db, w, "article", id, "deleted", Some(&serde_json::json!({"title": a.title})), None)
    })
}

/// `"tent poles"` → `"tent"* AND "poles"*` (every word as a prefix; quotes keep
/// FTS5 syntax out of users' hands).
pub fn match_expr(q: &str) -> Option<String> {
    let words: Vec<String> = q.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 2).take(8).map(|w| format!("\"{}\"*", w.to_lowercase())).collect();
    (!words.is_empty()).then(|| words.join(" AND "))
}

/// Any-word version for suggestions from a ticket subject.
fn any_expr(q: &str) -> Option<String> {
    const STOP: [&str; 12] = ["the", "and", "for", "with", "my", "is", "not", "was", "has", "have", "of", "to"];
    let words: Vec<String> = q.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.to_lowercase().as_str())).take(8).map(|w| format!("\"{}\"*", w.to_lowercase())).collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

/// Articles matching `q` (published only for visitors), best first; no `q`:
/// the newest, optionally of one category.
pub fn search<D: Db + ?Sized>(db: &D, q: Option<&str>, category: Option<&str>, published_only: bool, any_word: bool, limit: i64) -> Result<Vec<Article>> {
    let expr = q.and_then(|q| if any_word { any_expr(q) } else { match_expr(q) });
    let r = match expr {
        Some(m) => db.run(
            &format!(
                "SELECT {} FROM (SELECT rowid, bm25(kb_search, 5.0, 1.0) AS rank FROM kb_search WHERE kb_search MATCH ? ORDER BY rank LIMIT 200) s
                 JOIN kb_search_ids i ON i.rowid = s.rowid JOIN kb_articles a ON a.id = i.article_id
                 WHERE (?2 IS NULL OR a.category = ?2) AND (?4 = 0 OR a.status = 'published') ORDER BY s.rank LIMIT ?3",
                COLUMNS.split(", ").map(|c| format!("a.{}", c.trim())).collect::<Vec<_>>().join(", ")
            ),
            &[m.into(), category.into(), Val::Int(limit), Val::Int(published_only as i64)],
        )?,
        None if q.is_some_and(|q| !q.trim().is_empty()) => return Ok(Vec::new()),
        None => db.run(
            &format!("SELECT {COLUMNS} FROM kb_articles WHERE (?1 = 0 OR status = 'published') AND (?2 IS NULL OR category = ?2) ORDER BY updated_at DESC LIMIT ?3"),
            &[Val::Int(published_only as i64), category.into(), Val::Int(limit)],
        )?,
    };
    Ok(r.iter().map(from_row).filter(|a| !published_only || a.status == "published").collect())
}

pub fn viewed<D: Db + ?Sized>(db: &D, id: &str) -> Result<()> {
    db.run("UPDATE kb_articles SET views = views + 1 WHERE id = ? AND status = 'published'", &[id.into()])?;
    Ok(())
}

/// "This answered my question" from a customer about to file: a ticket avoided.
pub fn deflected<D: Db + ?Sized>(db: &D, id: &str) -> Result<bool> {
    let r = db.run("UPDATE kb_articles SET deflections = deflections + 1 WHERE id = ? AND status = 'published' RETURNING deflections", &[id.into()])?;
    Ok(!r.is_empty())
}

pub fn categories<D: Db + ?Sized>(db: &D, published_only: bool) -> Result<Vec<(String, i64)>> {
    let r = db.run("SELECT category, count(*) FROM kb_articles WHERE category IS NOT NULL AND (? = 0 OR status = 'published') GROUP BY 1 ORDER BY 1", &[Val::Int(published_only as i64)])?;
    Ok(r.iter().map(|row| (row.text(0), row.i64(1).unwrap_or(0))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};

    fn art(title: &str, body: &str, status: &str) -> ArticleInput {
        ArticleInput { title: Some(title.into()), body: Some(body.into()), category: Some("Delivery".into()), status: Some(status.into()) }
    }

    #[test]
    fn drafts_stay_private_and_search_finds_prefixes() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let a = create(&db, &w, art("Where is my parcel?", "Track your delivery with the tracking number in your shipping email.", "published")).unwrap();
        let d = create(&db, &w, art("Returns policy (draft)", "You can return items within 30 days.", "draft")).unwrap();
        assert_eq!(search(&db, Some("trac"), None, true, false, 10).unwrap().iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), vec![a.id.as_str()]);
        assert!(search(&db, Some("return"), None, true, false, 10).unwrap().is_empty(), "drafts are not public");
        assert_eq!(search(&db, Some("return"), None, false, false, 10).unwrap().len(), 1, "staff find drafts");
        update(&db, &w, &d.id, ArticleInput { status: Some("published".into()), ..Default::default() }, Some(1)).unwrap();
        assert_eq!(search(&db, Some("return"), None, true, false, 10).unwrap().len(), 1);
        assert_eq!(search(&db, Some("My parcel never arrived"), None, true, true, 5).unwrap()[0].id, a.id, "suggested from a ticket subject");
        assert!(search(&db, Some("\"*) OR"), None, true, false, 5).unwrap().is_empty(), "FTS syntax is not the user's");
        assert!(deflected(&db, &a.id).unwrap());
        assert_eq!(get(&db, &a.id, true).unwrap().unwrap().deflections, 1);
        delete(&db, &w, &a.id).unwrap();
        assert!(search(&db, Some("track"), None, true, false, 10).unwrap().is_empty());
    }
}
