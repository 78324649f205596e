//! Segments: dynamic (a contacts filter, evaluated by the contacts component)
//! or static (a list of contacts kept here).

use anyhow::Result;
use edge_db::record::{Invalid, NotFound, Writer};
use edge_db::{Db, Row, Val};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

pub const ID_PREFIX: &str = "sg";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Segment {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `dynamic` or `static`.
    pub kind: String,
    /// Dynamic segments: the contacts filter (see the contacts API).
    pub filter: Option<serde_json::Value>,
    /// Static lists: how many contacts are in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

const COLUMNS: &str = "id, name, description, kind, filter, created_by, created_at, updated_at, version";

fn from_row(r: Row) -> Segment {
    Segment {
        id: r.text(0), name: r.text(1), description: r.string(2), kind: r.text(3),
        filter: r.str(4).and_then(|f| serde_json::from_str(f).ok()), members: None, created_by: r.string(5),
        created_at: r.text(6), updated_at: r.text(7), version: r.i64(8).unwrap_or(1),
    }
}

fn event<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, action: &str, before: Option<&Segment>, after: Option<&Segment>) -> Result<()> {
    let b = before.map(serde_json::to_value).transpose()?;
    let a = after.map(serde_json::to_value).transpose()?;
    edge_db::record::append_event(db, "campaigns_events", w, "segment", id, action, b.as_ref(), a.as_ref())
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<Segment>> {
    let r = db.run(&format!("SELECT {COLUMNS} FROM segments WHERE id = ? AND deleted_at IS NULL"), &[id.into()])?;
    let Some(mut s) = r.first().map(from_row) else { return Ok(None) };
    if s.kind == "static" {
        s.members = db.run("SELECT count(*) FROM segment_members WHERE segment_id = ?", &[id.into()])?.scalar_i64();
    }
    Ok(Some(s))
}

pub fn list<D: Db + ?Sized>(db: &D) -> Result<Vec<Segment>> {
    let r = db.run(
        &format!("SELECT {COLUMNS}, (SELECT count(*) FROM segment_members m WHERE m.segment_id = segments.id) FROM segments WHERE deleted_at IS NULL ORDER BY name COLLATE NOCASE"),
        &[],
    )?;
    Ok(r.iter().map(|row| {
        let mut s = from_row(row);
        if s.kind == "static" {
            s.members = row.i64(9);
        }
        s
    }).collect())
}

/// A segment as a client sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub filter: Option<serde_json::Value>,
}

/// Checks the shape; the filter's meaning is the contacts component's to
/// judge (the adapter asks it before saving).
fn checked(input: SegmentInput, before: Option<&Segment>) -> Result<(String, Option<String>, String, Option<serde_json::Value>)> {
    let mut e = Vec::new();
    let name = input.name.map(|n| n.trim().to_string()).or_else(|| before.map(|b| b.name.clone())).unwrap_or_default();
    if name.chars().count() < 1 || name.chars().count() > 120 {
        e.push(FieldError::new("name", "is required (at most 120 characters)"));
    }
    let description = match input.description {
        Some(d) => Some(d.trim().to_string()).filter(|d| !d.is_empty()),
        None => before.and_then(|b| b.description.clone()),
    };
    if description.as_ref().is_some_and(|d| d.chars().count() > 1000) {
        e.push(FieldError::new("description", "must be at most 1,000 characters"));
    }
    let kind = input.kind.or_else(|| before.map(|b| b.kind.clone())).unwrap_or_else(|| "dynamic".into());
    if before.is_some_and(|b| b.kind != kind) {
        e.push(FieldError::new("kind", "cannot change: make a new segment"));
    }
    let filter = input.filter.or_else(|| before.and_then(|b| b.filter.clone()));
    match kind.as_str() {
        "dynamic" if filter.as_ref().is_none_or(|f| !f.is_object()) => e.push(FieldError::new("filter", "a dynamic segment needs a filter: a condition or an {\"and\": [...]} / {\"or\": [...]} group")),
        "dynamic" if filter.as_ref().is_some_and(|f| f.to_string().len() > 20_000) => e.push(FieldError::new("filter", "is too large")),
        "static" if filter.is_some() => e.push(FieldError::new("filter", "a static list has members, not a filter")),
        "dynamic" | "static" => {}
        _ => e.push(FieldError::new("kind", "must be dynamic or static")),
    }
    if e.is_empty() {
        Ok((name, description, kind, filter))
    } else {
        Err(Invalid(e).into())
    }
}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, input: SegmentInput) -> Result<Segment> {
    let (name, description, kind, filter) = checked(input, None)?;
    let id = w.new_id(db, "segments", ID_PREFIX)?;
    let now = edge_db::now();
    db.run(
        &format!("INSERT INTO segments ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)"),
        &[id.as_str().into(), name.into(), description.into(), kind.into(), filter.map(|f| f.to_string()).into(), w.user_id().into(), now.as_str().into(), now.into()],
    )?;
    let s = get(db, &id)?.ok_or(NotFound)?;
    event(db, w, &id, "created", None, Some(&s))?;
    Ok(s)
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, input: SegmentInput, if_version: Option<i64>) -> Result<Segment> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let (name, description, _, filter) = checked(input, Some(&before))?;
        db.run(
            "UPDATE segments SET name = ?, description = ?, filter = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            &[name.into(), description.into(), filter.map(|f| f.to_string()).into(), edge_db::now().into(), id.into()],
        )?;
        let after = get(db, id)?.ok_or(NotFound)?;
        event(db, w, id, "updated", Some(&before), Some(&after))?;
        Ok(after)
    })
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str) -> Result<()> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        db.run("UPDATE segments SET deleted_at = ?, version = version + 1 WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        event(db, w, id, "deleted", Some(&before), None)
    })
}

/// Adds contacts to a static list (ids checked by the caller); returns how many were new.
pub fn add_members<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, contacts: &[String]) -> Result<i64> {
    edge_db::tx(db, || {
        let s = get(db, id)?.ok_or(NotFound)?;
        if s.kind != "static" {
            return Err(Invalid::one("kind", "only static lists have members; a dynamic segment follows its filter").into());
        }
        let now = edge_db::now();
        let mut added = 0;
        for c in contacts {
            let r = db.run("INSERT OR IGNORE INTO segment_members (segment_id, contact_id, added_at) VALUES (?, ?, ?) RETURNING contact_id", &[id.into(), c.as_str().into(), now.as_str().into()])?;
            added += r.len() as i64;
        }
        db.run("UPDATE segments SET updated_at = ?, version = version + 1 WHERE id = ?", &[now.into(), id.into()])?;
        edge_db::record::append_event(db, "campaigns_events", w, "segment", id, "members-added", None, Some(&serde_json::json!({"contacts": contacts, "added": added})))?;
        Ok(added)
    })
}

pub fn remove_member<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, contact: &str) -> Result<()> {
    edge_db::tx(db, || {
        let r = db.run("DELETE FROM segment_members WHERE segment_id = ? AND contact_id = ? RETURNING contact_id", &[id.into(), contact.into()])?;
        if r.is_empty() {
            return Err(NotFound.into());
        }
        edge_db::record::append_event(db, "campaigns_events", w, "segment", id, "member-removed", None, Some(&serde_json::json!({"contact": contact})))
    })
}

/// A static list's members, in the order they were added; `after` continues.
pub fn members<D: Db + ?Sized>(db: &D, id: &str, after: Option<&str>, limit: i64) -> Result<(Vec<String>, Option<String>)> {
    let r = db.run(
        "SELECT contact_id FROM segment_members WHERE segment_id = ? AND (? IS NULL OR contact_id > ?) ORDER BY contact_id LIMIT ?",
        &[id.into(), after.into(), after.into(), Val::Int(limit + 1)],
    )?;
    let mut ids: Vec<String> = r.iter().map(|row| row.text(0)).collect();
    let next = (ids.len() as i64 > limit).then(|| {
        ids.truncate(limit as usize);
        ids.last().cloned()
    }).flatten();
    Ok((ids, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> edge_db::native::Connection {
        edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS)
    }

    fn input(v: serde_json::Value) -> SegmentInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn dynamic_segments_keep_their_filter_and_static_lists_their_members() {
        let db = db();
        let w = edge_db::native::writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let quiet = create(&db, &w, input(json!({"name": "Gone quiet", "filter": {"and": [{"field": "orders.count", "op": "gt", "value": 0}, {"field": "orders.last_at", "op": "lt", "value": "-90d"}]}}))).unwrap();
        assert_eq!((quiet.kind.as_str(), quiet.filter.as_ref().map(|f| f["and"].as_array().unwrap().len())), ("dynamic", Some(2)));
        assert!(create(&db, &w, input(json!({"name": "No rules"}))).unwrap_err().downcast_ref::<Invalid>().is_some());
        assert!(create(&db, &w, input(json!({"name": "x", "kind": "static", "filter": {"field": "tags", "op": "has", "value": "vip"}}))).is_err());
        let vip = create(&db, &w, input(json!({"name": "Trade fair 2026", "kind": "static"}))).unwrap();
        let ids = ["c_01HZZZZZZZZZZZZZZZZZZZZZZA".to_string(), "c_01HZZZZZZZZZZZZZZZZZZZZZZB".to_string()];
        assert_eq!(add_members(&db, &w, &vip.id, &ids).unwrap(), 2);
        assert_eq!(add_members(&db, &w, &vip.id, &ids[..1]).unwrap(), 0, "each contact once");
        assert!(add_members(&db, &w, &quiet.id, &ids).is_err(), "dynamic segments follow their filter");
        let published = db.run("SELECT count(*) FROM campaigns_list_members WHERE list_id = ?", &[vip.id.as_str().into()]).unwrap().scalar_i64();
        assert_eq!(published, Some(2));
        remove_member(&db, &w, &vip.id, &ids[0]).unwrap();
        assert_eq!(get(&db, &vip.id).unwrap().unwrap().members, Some(1));
        let renamed = update(&db, &w, &quiet.id, input(json!({"name": "Quiet 90 days"})), Some(1)).unwrap();
        assert_eq!((renamed.name.as_str(), renamed.version), ("Quiet 90 days", 2));
        assert!(update(&db, &w, &quiet.id, input(json!({"kind": "static"})), None).is_err(), "the kind stays");
        delete(&db, &w, &vip.id).unwrap();
        assert_eq!(db.run("SELECT count(*) FROM campaigns_list_members", &[]).unwrap().scalar_i64(), Some(0), "a deleted list publishes nobody");
        assert_eq!(list(&db).unwrap().len(), 1);
    }
}
