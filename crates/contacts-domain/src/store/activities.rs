//! Activities (notes, calls, meetings, emails, tasks) on contacts, companies
//! and deals. Writing one moves its records' "last activity"; notes are in the
//! search index. A contact's or company's timeline merges its activities with
//! its change events.

use super::{event, search, BadReference, Invalid, NotFound, VersionMismatch, Writer};
use crate::model::{merge_patch, Activity, ActivityData, ActivityInput, ActivityKind};
use anyhow::Result;
use edge_db::{Db, Row, Val};
use edge_http::Visibility;

pub const ID_PREFIX: &str = "a";

const COLUMNS: &str = "id, kind, subject, body, contact_id, company_id, deal_id, occurred_at, due_at, assignee_id, reminder_at, done_at, owner_id, created_at, updated_at, version";

fn from_row(r: Row) -> Option<Activity> {
    Some(Activity {
        id: r.text(0),
        kind: ActivityKind::parse(r.str(1)?)?,
        subject: r.string(2),
        body: r.string(3),
        contact_id: r.string(4),
        company_id: r.string(5),
        deal_id: r.string(6),
        occurred_at: r.text(7),
        due_at: r.string(8),
        assignee_id: r.string(9),
        reminder_at: r.string(10),
        done_at: r.string(11),
        owner_id: r.string(12),
        created_at: r.text(13),
        updated_at: r.text(14),
        version: r.i64(15).unwrap_or(1),
    })
}

/// What may be listed.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
    pub kind: Option<ActivityKind>,
    /// Open tasks of this assignee, soonest due first.
    pub open_tasks_of: Option<String>,
    pub limit: i64,
    /// Keyset: `occurred_at` and id of the last item seen (newest first).
    pub before: Option<(String, String)>,
}

/// Restricted users see the activities they own and the tasks assigned to them.
fn restrict(vis: &Visibility, conds: &mut Vec<String>, params: &mut Vec<Val>) {
    if let (Some((c, owners)), Some((c2, assignees))) = (vis.sql("owner_id"), vis.sql("assignee_id")) {
        conds.push(format!("({c} OR {c2})"));
        params.extend(owners.into_iter().chain(assignees).map(Val::Text));
    }
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str, vis: &Visibility) -> Result<Option<Activity>> {
    let r = db.run(&format!("SELECT {COLUMNS} FROM activities WHERE id = ? AND deleted_at IS NULL"), &[id.into()])?;
    Ok(r.first().and_then(from_row).filter(|a| vis.allows(a.owner_id.as_deref()) || vis.allows(a.assignee_id.as_deref())))
}

pub fn list<D: Db + ?Sized>(db: &D, q: &ActivityQuery, vis: &Visibility) -> Result<Vec<Activity>> {
    let mut conds: Vec<String> = vec!["deleted_at IS NULL".into()];
    let mut params: Vec<Val> = Vec::new();
    for (col, v) in [("contact_id", &q.contact_id), ("company_id", &q.company_id), ("deal_id", &q.deal_id)] {
        if let Some(v) = v {
            conds.push(format!("{col} = ?"));
            params.push(v.as_str().into());
        }
    }
    if let Some(k) = q.kind {
        conds.push("kind = ?".into());
        params.push(k.as_str().into());
    }
    restrict(vis, &mut conds, &mut params);
    let order = if let Some(a) = &q.open_tasks_of {
        conds.push("kind = 'task' AND done_at IS NULL AND assignee_id = ?".into());
        params.push(a.as_str().into());
        "due_at IS NULL, due_at ASC, id ASC"
    } else {
        if let Some((at, id)) = &q.before {
            conds.push("(occurred_at < ? OR (occurred_at = ? AND id < ?))".into());
            params.extend([at.as_str().into(), at.as_str().into(), id.as_str().into()]);
        }
        "occurred_at DESC, id DESC"
    };
    params.push(Val::Int(q.limit.clamp(1, 200)));
    let r = db.run(&format!("SELECT {COLUMNS} FROM activities WHERE {} ORDER BY {order} LIMIT ?", conds.join(" AND ")), &params)?;
    Ok(r.iter().filter_map(from_row).collect())
}

/// The linked contact and company exist and the caller may see them.
fn check_links<D: Db + ?Sized>(db: &D, d: &ActivityData, vis: &Visibility) -> Result<()> {
    if let Some(c) = &d.contact_id {
        if super::contacts::get(db, c, vis, false)?.is_none() {
            return Err(BadReference("contact_id").into());
        }
    }
    if let Some(c) = &d.company_id {
        if super::companies::get(db, c, vis, false)?.is_none() {
            return Err(BadReference("company_id").into());
        }
    }
    Ok(())
}

/// Moves "last activity" of the linked records (done work only, not open tasks).
fn touch_records<D: Db + ?Sized>(db: &D, a: &Activity) -> Result<()> {
    if a.kind == ActivityKind::Task && a.done_at.is_none() {
        return Ok(());
    }
    let at = a.done_at.clone().unwrap_or_else(|| a.occurred_at.clone());
    // A contact's stored list document follows (see `contacts::list_json`).
    let contact_doc = ", api_json = json_set(api_json, '$.last_activity_at', ?1)";
    for (table, id, doc) in [("contacts", &a.contact_id, contact_doc), ("companies", &a.company_id, "")] {
        if let Some(id) = id {
            db.run(
                &format!("UPDATE {table} SET last_activity_at = ?1{doc} WHERE id = ?2 AND (last_activity_at IS NULL OR last_activity_at < ?1)"),
                &[at.as_str().into(), id.as_str().into()],
            )?;
        }
    }
    Ok(())
}

fn index<D: Db + ?Sized>(db: &D, a: &Activity) -> Result<()> {
    if a.kind == ActivityKind::Note || a.body.is_some() {
        search::index(db, "note", &a.id, a.owner_id.as_deref(), a.subject.as_deref().unwrap_or(""), a.body.as_deref().unwrap_or(""))
    } else {
        search::remove(db, "note", &a.id)
    }
}

fn write<D: Db + ?Sized>(db: &D, a: &Activity) -> Result<()> {
    db.run(
        &format!("INSERT OR REPLACE INTO activities ({COLUMNS}) VALUES ({})", super::marks(16)),
        &[
            a.id.as_str().into(),
            a.kind.as_str().into(),
            a.subject.clone().into(),
            a.body.clone().into(),
            a.contact_id.clone().into(),
            a.company_id.clone().into(),
            a.deal_id.clone().into(),
            a.occurred_at.as_str().into(),
            a.due_at.clone().into(),
            a.assignee_id.clone().into(),
            a.reminder_at.clone().into(),
            a.done_at.clone().into(),
            a.owner_id.clone().into(),
            a.created_at.as_str().into(),
            a.updated_at.as_str().into(),
            Val::Int(a.version),
        ],
    )?;
    Ok(())
}

fn build(id: String, d: ActivityData, owner: Option<String>, now: &str, before: Option<&Activity>) -> Activity {
    let done_at = match (d.done, before.and_then(|b| b.done_at.clone())) {
        (true, Some(t)) => Some(t),
        (true, None) => Some(now.to_string()),
        (false, _) => None,
    };
    Activity {
        id,
        kind: d.kind,
        subject: d.subject,
        body: d.body,
        contact_id: d.contact_id,
        company_id: d.company_id,
        deal_id: d.deal_id,
        occurred_at: d.occurred_at.unwrap_or_else(|| before.map_or(now.to_string(), |b| b.occurred_at.clone())),
        due_at: d.due_at,
        assignee_id: d.assignee_id.or_else(|| (d.kind == ActivityKind::Task).then(|| owner.clone()).flatten()),
        reminder_at: d.reminder_at,
        done_at,
        owner_id: owner,
        created_at: before.map_or(now.to_string(), |b| b.created_at.clone()),
        updated_at: now.to_string(),
        version: before.map_or(1, |b| b.version + 1),
    }
}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, d: ActivityData, vis: &Visibility) -> Result<Activity> {
    edge_db::tx(db, || create_in_tx(db, w, d, vis))
}

pub fn create_in_tx<D: Db + ?Sized>(db: &D, w: &Writer, d: ActivityData, vis: &Visibility) -> Result<Activity> {
    check_links(db, &d, vis)?;
    let id = w.new_id(db, "activities", ID_PREFIX)?;
    let a = build(id, d, w.user_id(), &edge_db::now(), None);
    write(db, &a)?;
    index(db, &a)?;
    touch_records(db, &a)?;
    event(db, w, "activity", &a.id, "created", None, Some(&serde_json::to_value(&a)?))?;
    Ok(a)
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, patch: &serde_json::Value, if_match: Option<i64>, vis: &Visibility) -> Result<Activity> {
    edge_db::tx(db, || {
        let before = get(db, id, vis)?.ok_or(NotFound)?;
        if if_match.is_some_and(|v| v != before.version) {
            return Err(VersionMismatch(before.version).into());
        }
        let mut input = before.to_input();
        merge_patch(&mut input, patch);
        let input: ActivityInput = serde_json::from_value(input).map_err(|e| Invalid(vec![edge_http::FieldError::new("body", &e.to_string())]))?;
        let d = input.validate().map_err(Invalid)?;
        check_links(db, &d, vis)?;
        let a = build(before.id.clone(), d, before.owner_id.clone(), &edge_db::now(), Some(&before));
        write(db, &a)?;
        index(db, &a)?;
        touch_records(db, &a)?;
        event(db, w, "activity", &a.id, "updated", Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&a)?))?;
        Ok(a)
    })
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, vis: &Visibility) -> Result<()> {
    edge_db::tx(db, || {
        let a = get(db, id, vis)?.ok_or(NotFound)?;
        db.run("DELETE FROM activities WHERE id = ?", &[id.into()])?;
        search::remove(db, "note", id)?;
        event(db, w, "activity", id, "deleted", Some(&serde_json::to_value(&a)?), None)
    })
}

/// One entry of a record's timeline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimelineEntry {
    pub at: String,
    /// `activity`, `change`, or `event` (from another component's timeline view).
    pub kind: &'static str,
    /// Orders entries of the same millisecond (activity id, or `e` + event number).
    #[serde(skip)]
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<serde_json::Value>,
    /// `{source, kind, title, detail, ref}` from another component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<serde_json::Value>,
}

impl TimelineEntry {
    /// The cursor of the page after this entry.
    pub fn cursor(&self) -> String {
        format!("{}|{}", self.at, self.key)
    }
}

/// Activities and change events of a contact or company, newest first;
/// `after` (an entry's `cursor()`) continues after the previous page.
pub fn timeline<D: Db + ?Sized>(db: &D, entity: &str, id: &str, limit: i64, after: Option<&str>, vis: &Visibility) -> Result<Vec<TimelineEntry>> {
    let col = if entity == "company" { "company_id" } else { "contact_id" };
    let at = "COALESCE(done_at, occurred_at)";
    let (b_at, b_key) = match after.and_then(|a| a.split_once('|')) {
        Some((t, k)) => (t.to_string(), k.to_string()),
        None => ("9999".to_string(), String::new()),
    };
    let mut conds = vec![format!("deleted_at IS NULL AND {col} = ?"), format!("({at} < ? OR ({at} = ? AND id < ?))")];
    let mut params: Vec<Val> = vec![id.into(), b_at.as_str().into(), b_at.as_str().into(), b_key.as_str().into()];
    restrict(vis, &mut conds, &mut params);
    params.push(Val::Int(limit));
    let r = db.run(&format!("SELECT {COLUMNS} FROM activities WHERE {} ORDER BY {at} DESC, id DESC LIMIT ?", conds.join(" AND ")), &params)?;
    let mut out: Vec<TimelineEntry> = r
        .iter()
        .filter_map(from_row)
        .map(|a| TimelineEntry { at: a.done_at.clone().unwrap_or_else(|| a.occurred_at.clone()), kind: "activity", key: a.id.clone(), activity: Some(a), change: None, event: None })
        .collect();
    let r = db.run(
        "SELECT at, actor, action, before, after, printf('e%012d', seq) AS k FROM contacts_events
         WHERE entity = ? AND entity_id = ? AND (at < ? OR (at = ? AND printf('e%012d', seq) < ?)) ORDER BY seq DESC LIMIT ?",
        &[entity.into(), id.into(), b_at.as_str().into(), b_at.as_str().into(), (if after.is_some() { b_key.as_str() } else { "f" }).into(), Val::Int(limit)],
    )?;
    for row in r.iter() {
        let parse = |i: usize| row.str(i).and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
        out.push(TimelineEntry {
            at: row.text(0),
            kind: "change",
            key: row.text(5),
            activity: None,
            change: Some(serde_json::json!({"actor": row.text(1), "action": row.text(2), "before": parse(3), "after": parse(4)})),
            event: None,
        });
    }
    // Other components' published timeline views (`<component>_timeline`:
    // seq, at, contact_id, company_id, kind, title, detail, ref, owner_id).
    let views = db.run("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_timeline' ESCAPE '\\' ORDER BY name", &[])?;
    for view in views.iter().filter_map(|r| r.string(0)) {
        let source = view.trim_end_matches("_timeline").to_string();
        if !source.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            continue;
        }
        let key = format!("printf('t{source}%012d', seq)");
        let mut conds = vec![format!("{col} = ?"), format!("(at < ? OR (at = ? AND {key} < ?))")];
        let mut params: Vec<Val> = vec![id.into(), b_at.as_str().into(), b_at.as_str().into(), (if after.is_some() { b_key.as_str() } else { "u" }).into()];
        if let Some((c, owners)) = vis.sql("owner_id") {
            conds.push(c);
            params.extend(owners.into_iter().map(Val::Text));
        }
        params.push(Val::Int(limit));
        let r = db.run(&format!("SELECT at, kind, title, detail, ref, {key} FROM {view} WHERE {} ORDER BY at DESC, seq DESC LIMIT ?", conds.join(" AND ")), &params)?;
        for row in r.iter() {
            let detail = row.str(3).and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
            out.push(TimelineEntry {
                at: row.text(0),
                kind: "event",
                key: row.text(5),
                activity: None,
                change: None,
                event: Some(serde_json::json!({"source": source, "kind": row.text(1), "title": row.text(2), "detail": detail, "ref": row.string(4)})),
            });
        }
    }
    out.sort_by(|a, b| (&b.at, &b.key).cmp(&(&a.at, &a.key)));
    out.truncate(limit as usize);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};
    use serde_json::json;

    #[test]
    fn notes_tasks_and_the_timeline() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let c = crate::store::contacts::create(&db, &w, serde_json::from_value::<crate::model::ContactInput>(json!({"first_name": "Ada"})).unwrap().validate(&[]).unwrap(), 10).unwrap();
        let note: ActivityInput = serde_json::from_value(json!({"kind": "note", "body": "Loves analytical engines", "contact_id": c.id})).unwrap();
        create(&db, &w, note.validate().unwrap(), &Visibility::All).unwrap();
        let task: ActivityInput = serde_json::from_value(json!({"kind": "task", "subject": "Send the notes", "contact_id": c.id, "due_at": "2030-01-01T09:00:00Z"})).unwrap();
        let t = create(&db, &w, task.validate().unwrap(), &Visibility::All).unwrap();
        assert_eq!(t.assignee_id.as_deref(), Some("u_01HZZZZZZZZZZZZZZZZZZZZZZZ"), "tasks default to their creator");
        let open = list(&db, &ActivityQuery { open_tasks_of: t.assignee_id.clone(), limit: 10, ..Default::default() }, &Visibility::All).unwrap();
        assert_eq!(open.len(), 1);
        let done = update(&db, &w, &t.id, &json!({"done": true}), Some(1), &Visibility::All).unwrap();
        assert!(done.done_at.is_some());
        assert!(list(&db, &ActivityQuery { open_tasks_of: t.assignee_id.clone(), limit: 10, ..Default::default() }, &Visibility::All).unwrap().is_empty());
        let c2 = crate::store::contacts::get(&db, &c.id, &Visibility::All, false).unwrap().unwrap();
        assert!(c2.last_activity_at.is_some(), "activities move last activity");
        assert_eq!(search::find(&db, "note", "analyt", &Visibility::All, 5).unwrap().len(), 1, "notes are searchable");
        let tl = timeline(&db, "contact", &c.id, 50, None, &Visibility::All).unwrap();
        assert!(tl.iter().any(|e| e.kind == "change") && tl.iter().filter(|e| e.kind == "activity").count() == 2);
        // Pages: each entry once, newest first.
        let mut paged = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = timeline(&db, "contact", &c.id, 1, after.as_deref(), &Visibility::All).unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.cursor());
            paged.push(last.cursor());
        }
        let all: Vec<String> = tl.iter().map(TimelineEntry::cursor).collect();
        assert_eq!(paged, all, "pages walk every entry once, same millisecond included");
        let bad: ActivityInput = serde_json::from_value(json!({"kind": "call", "contact_id": "c_01HYYYYYYYYYYYYYYYYYYYYYYY"})).unwrap();
        assert!(create(&db, &w, bad.validate().unwrap(), &Visibility::All).unwrap_err().downcast_ref::<BadReference>().is_some());
    }
}
