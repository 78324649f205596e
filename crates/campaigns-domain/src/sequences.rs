//! Sequences (drips): steps sent after delays to each contact who joins a
//! segment, until the last step, or until they convert (match the goal
//! filter), reply or unsubscribe. Enrolment is once per contact. Each step is
//! queued in one transaction with the enrolment's advance, after the same
//! consent and suppression check as campaigns.

use crate::consent;
use crate::sending::{self, at, Draft, Links};
use crate::templates::Content;
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use edge_db::record::{Conflict, Invalid, NotFound, Writer};
use edge_db::{Db, Row};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

pub const ID_PREFIX: &str = "sq";
/// How often an active sequence looks for new members of its segment.
pub const ENROL_EVERY_MINUTES: i64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Wait before this step: after enrolment for the first, after the previous step for the rest.
    pub delay_minutes: i64,
    pub subject: String,
    #[serde(default)]
    pub html: String,
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sequence {
    pub id: String,
    pub name: String,
    /// `draft`, `active` or `paused`.
    pub status: String,
    pub segment_id: Option<String>,
    /// A contacts filter: a contact who matches it has converted and leaves.
    pub goal: Option<serde_json::Value>,
    pub steps: Vec<Step>,
    pub from_name: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    /// Enrolments by state (and exits by reason).
    pub enrolments: serde_json::Value,
}

const COLUMNS: &str = "id, name, status, segment_id, goal, steps, from_name, created_by, created_at, updated_at, version";

fn from_row(r: Row) -> Sequence {
    Sequence {
        id: r.text(0), name: r.text(1), status: r.text(2), segment_id: r.string(3), goal: r.str(4).and_then(|g| serde_json::from_str(g).ok()),
        steps: serde_json::from_str(r.str(5).unwrap_or("[]")).unwrap_or_default(), from_name: r.string(6), created_by: r.string(7),
        created_at: r.text(8), updated_at: r.text(9), version: r.i64(10).unwrap_or(1), enrolments: serde_json::Value::Null,
    }
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<Sequence>> {
    let Some(mut s) = db.run(&format!("SELECT {COLUMNS} FROM sequences WHERE id = ? AND deleted_at IS NULL"), &[id.into()])?.first().map(from_row) else { return Ok(None) };
    let r = db.run("SELECT status, COALESCE(exit_reason, ''), count(*) FROM sequence_enrollments WHERE sequence_id = ? GROUP BY 1, 2", &[id.into()])?;
    let mut e = serde_json::json!({"total": 0, "active": 0, "completed": 0, "exited": 0, "exits": {}});
    for row in r.iter() {
        let n = row.i64(2).unwrap_or(0);
        e["total"] = (e["total"].as_i64().unwrap_or(0) + n).into();
        let status = row.text(0);
        e[status.as_str()] = (e[status.as_str()].as_i64().unwrap_or(0) + n).into();
        if status == "exited" {
            e["exits"][row.text(1)] = n.into();
        }
    }
    s.enrolments = e;
    Ok(Some(s))
}

pub fn list<D: Db + ?Sized>(db: &D) -> Result<Vec<Sequence>> {
    let ids = db.run("SELECT id FROM sequences WHERE deleted_at IS NULL ORDER BY name COLLATE NOCASE", &[])?;
    ids.iter().filter_map(|r| get(db, &r.text(0)).transpose()).collect()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceInput {
    pub name: Option<String>,
    pub segment_id: Option<String>,
    #[serde(default, deserialize_with = "some_value")]
    pub goal: Option<Option<serde_json::Value>>,
    pub steps: Option<Vec<Step>>,
    pub from_name: Option<String>,
}

fn some_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<serde_json::Value>>, D::Error> {
    Option::<serde_json::Value>::deserialize(d).map(Some)
}

fn checked<D: Db + ?Sized>(db: &D, input: SequenceInput, before: Option<&Sequence>) -> Result<(String, Option<String>, Option<serde_json::Value>, Vec<Step>, Option<String>)> {
    let mut e = Vec::new();
    let name = input.name.map(|n| n.trim().to_string()).or_else(|| before.map(|b| b.name.clone())).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 120 {
        e.push(FieldError::new("name", "is required (at most 120 characters)"));
    }
    let segment_id = input.segment_id.map(|s| s.trim().to_string()).or_else(|| before.and_then(|b| b.segment_id.clone())).filter(|s| !s.is_empty());
    if let Some(s) = &segment_id {
        if crate::segments::get(db, s)?.is_none() {
            e.push(FieldError::new("segment_id", "is not a segment or list"));
        }
    }
    let goal = match input.goal {
        Some(g) => g.filter(|g| !g.is_null()),
        None => before.and_then(|b| b.goal.clone()),
    };
    if goal.as_ref().is_some_and(|g| !g.is_object() || g.to_string().len() > 20_000) {
        e.push(FieldError::new("goal", "must be a contacts filter (a condition or an and/or group)"));
    }
    let steps = input.steps.or_else(|| before.map(|b| b.steps.clone())).unwrap_or_default();
    if steps.len() > 20 {
        e.push(FieldError::new("steps", "at most 20 steps"));
    }
    let mut out = Vec::new();
    for (i, s) in steps.into_iter().enumerate() {
        if !(0..=90 * 24 * 60).contains(&s.delay_minutes) {
            e.push(FieldError::new(&format!("steps[{i}].delay_minutes"), "must be from 0 to 90 days in minutes"));
        }
        let mut errs = Vec::new();
        let c = Content { subject: s.subject, html: s.html, text: s.text }.checked(&mut errs);
        e.extend(errs.into_iter().map(|f| FieldError::new(&format!("steps[{i}].{}", f.field), &f.message)));
        out.push(Step { delay_minutes: s.delay_minutes, subject: c.subject, html: c.html, text: c.text });
    }
    let from_name = match input.from_name {
        Some(f) => Some(f.trim().replace(['\r', '\n', '"', '<', '>'], "")).filter(|f| !f.is_empty()),
        None => before.and_then(|b| b.from_name.clone()),
    };
    if e.is_empty() { Ok((name, segment_id, goal, out, from_name)) } else { Err(Invalid(e).into()) }
}

fn event<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, action: &str, before: Option<&Sequence>, after: Option<&Sequence>) -> Result<()> {
    let strip = |s: &Sequence| {
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("enrolments");
        }
        v
    };
    edge_db::record::append_event(db, "campaigns_events", w, "sequence", id, action, before.map(strip).as_ref(), after.map(strip).as_ref())
}

/// No transaction of its own (the adapter runs it once per Idempotency-Key).
pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, input: SequenceInput) -> Result<Sequence> {
    let (name, segment_id, goal, steps, from_name) = checked(db, input, None)?;
    let id = w.new_id(db, "sequences", ID_PREFIX)?;
    let now = edge_db::now();
    db.run(
        &format!("INSERT INTO sequences ({COLUMNS}) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, 1)"),
        &[id.as_str().into(), name.into(), segment_id.into(), goal.map(|g| g.to_string()).into(), serde_json::to_string(&steps)?.into(), from_name.into(), w.user_id().into(), now.as_str().into(), now.into()],
    )?;
    let s = get(db, &id)?.ok_or(NotFound)?;
    event(db, w, &id, "created", None, Some(&s))?;
    Ok(s)
}

/// Edits apply to contacts already in it from their next step on.
pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, input: SequenceInput, if_version: Option<i64>) -> Result<Sequence> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let (name, segment_id, goal, steps, from_name) = checked(db, input, Some(&before))?;
        if before.status == "active" && (segment_id.is_none() || steps.is_empty()) {
            return Err(Invalid::one("steps", "an active sequence needs a segment and at least one step").into());
        }
        db.run(
            "UPDATE sequences SET name = ?, segment_id = ?, goal = ?, steps = ?, from_name = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            &[name.into(), segment_id.into(), goal.map(|g| g.to_string()).into(), serde_json::to_string(&steps)?.into(), from_name.into(), edge_db::now().into(), id.into()],
        )?;
        let after = get(db, id)?.ok_or(NotFound)?;
        event(db, w, id, "updated", Some(&before), Some(&after))?;
        Ok(after)
    })
}

/// `active` (from draft or paused) or `paused`.
pub fn set_status<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, to: &str, base_url: &str, if_version: Option<i64>) -> Result<Sequence> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        match (before.status.as_str(), to) {
            ("draft" | "paused", "active") => {
                let mut e = Vec::new();
                if before.segment_id.is_none() {
                    e.push(FieldError::new("segment_id", "choose who enters the sequence first"));
                }
                if before.steps.is_empty() {
                    e.push(FieldError::new("steps", "add at least one step"));
                }
                if !e.is_empty() {
                    return Err(Invalid(e).into());
                }
            }
            ("active", "paused") => {}
            (from, _) => return Err(Conflict { kind: "sequence-state", message: format!("A {from} sequence cannot become {to}.") }.into()),
        }
        db.run(
            "UPDATE sequences SET status = ?, base_url = COALESCE(?, base_url), enroll_checked_at = NULL, updated_at = ?, version = version + 1 WHERE id = ?",
            &[to.into(), Some(base_url).filter(|b| !b.is_empty()).into(), edge_db::now().into(), id.into()],
        )?;
        let after = get(db, id)?.ok_or(NotFound)?;
        event(db, w, id, if to == "active" { "activated" } else { "paused" }, Some(&before), Some(&after))?;
        Ok(after)
    })
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str) -> Result<()> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        db.run("UPDATE sequences SET deleted_at = ?, status = 'paused', version = version + 1 WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        db.run("UPDATE sequence_enrollments SET status = 'exited', exit_reason = 'removed', next_at = NULL WHERE sequence_id = ? AND status = 'active'", &[id.into()])?;
        event(db, w, id, "deleted", Some(&before), None)
    })
}

/// Active sequences, with whether each is due to look for new members.
pub fn active<D: Db + ?Sized>(db: &D, now: DateTime<Utc>) -> Result<Vec<(Sequence, bool, Option<String>)>> {
    let r = db.run("SELECT id, enroll_checked_at, enroll_cursor FROM sequences WHERE status = 'active' AND deleted_at IS NULL ORDER BY id", &[])?;
    let mut out = Vec::new();
    for row in r.iter() {
        let due = row.str(2).is_some() || row.str(1).and_then(|t| DateTime::parse_from_rfc3339(t).ok()).is_none_or(|t| now - t.with_timezone(&Utc) >= Duration::minutes(ENROL_EVERY_MINUTES));
        if let Some(s) = get(db, &row.text(0))? {
            out.push((s, due, row.string(2)));
        }
    }
    Ok(out)
}

/// Enrols a page of the segment's members (contacts as the contacts API
/// shows them; someone enrolled before is not enrolled again) and remembers
/// where the pass continues. One transaction.
pub fn enrol_page<D: Db + ?Sized>(db: &D, s: &Sequence, contacts: &[serde_json::Value], next_cursor: Option<&str>, now: DateTime<Utc>) -> Result<usize> {
    edge_db::tx(db, || {
        let first = s.steps.first().map(|st| st.delay_minutes).unwrap_or(0);
        let mut added = 0;
        for c in contacts {
            let Some(id) = c["id"].as_str() else { continue };
            db.run(
                "INSERT OR IGNORE INTO sequence_enrollments (sequence_id, contact_id, email, data, step, next_at, status, entered_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, 'active', ?, ?)",
                &[s.id.as_str().into(), id.into(), c["email"].as_str().into(), serde_json::json!({"contact": c}).to_string().into(), at(now + Duration::minutes(first)).into(), at(now).into(), at(now).into()],
            )?;
            added += db.run("SELECT changes()", &[])?.scalar_i64().unwrap_or(0) as usize;
        }
        let checked = next_cursor.is_none().then(|| at(now));
        db.run("UPDATE sequences SET enroll_cursor = ?, enroll_checked_at = COALESCE(?, enroll_checked_at) WHERE id = ?", &[next_cursor.into(), checked.into(), s.id.as_str().into()])?;
        Ok(added)
    })
}

/// Enrols one contact (a rule's action), whatever the segment says; once per
/// contact, like every enrolment. Answers whether they entered now.
pub fn enrol_one<D: Db + ?Sized>(db: &D, s: &Sequence, contact: &serde_json::Value, now: DateTime<Utc>) -> Result<bool> {
    let Some(id) = contact["id"].as_str() else { return Ok(false) };
    let first = s.steps.first().map(|st| st.delay_minutes).unwrap_or(0);
    db.run(
        "INSERT OR IGNORE INTO sequence_enrollments (sequence_id, contact_id, email, data, step, next_at, status, entered_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, 'active', ?, ?)",
        &[s.id.as_str().into(), id.into(), contact["email"].as_str().into(), serde_json::json!({"contact": contact}).to_string().into(), at(now + Duration::minutes(first)).into(), at(now).into(), at(now).into()],
    )?;
    Ok(db.run("SELECT changes()", &[])?.scalar_i64() == Some(1))
}

/// Contacts whose next step is due (at most `limit`).
pub fn due<D: Db + ?Sized>(db: &D, sequence_id: &str, now: DateTime<Utc>, limit: i64) -> Result<Vec<String>> {
    let r = db.run(
        "SELECT contact_id FROM sequence_enrollments WHERE sequence_id = ? AND status = 'active' AND next_at <= ? ORDER BY next_at, contact_id LIMIT ?",
        &[sequence_id.into(), at(now).into(), limit.into()],
    )?;
    Ok(r.iter().map(|r| r.text(0)).collect())
}

#[derive(Debug, Default, PartialEq, Serialize)]
pub struct Steps {
    pub queued: usize,
    pub completed: usize,
    pub exited: usize,
}

fn exit<D: Db + ?Sized>(db: &D, sequence_id: &str, contact: &str, reason: &str, now: DateTime<Utc>) -> Result<()> {
    db.run(
        "UPDATE sequence_enrollments SET status = 'exited', exit_reason = ?, next_at = NULL, updated_at = ? WHERE sequence_id = ? AND contact_id = ? AND status = 'active'",
        &[reason.into(), at(now).into(), sequence_id.into(), contact.into()],
    )?;
    Ok(())
}

/// Sends the due step to each of `contacts` (from [`due`]); `converted` are
/// those the adapter found matching the goal. One transaction.
pub fn send_due<D: Db + ?Sized>(db: &D, w: &Writer, links: &Links, s: &Sequence, contacts: &[String], converted: &[String], now: DateTime<Utc>) -> Result<Steps> {
    edge_db::tx(db, || {
        let mut out = Steps::default();
        for contact in contacts {
            let r = db.run(
                "SELECT email, data, step FROM sequence_enrollments WHERE sequence_id = ? AND contact_id = ? AND status = 'active' AND next_at <= ?",
                &[s.id.as_str().into(), contact.as_str().into(), at(now).into()],
            )?;
            let Some(row) = r.first() else { continue };
            let (email, step) = (row.string(0), row.i64(2).unwrap_or(0));
            if converted.contains(contact) {
                exit(db, &s.id, contact, "converted", now)?;
                out.exited += 1;
                continue;
            }
            if let Some(reason) = consent::blocked(db, contact, email.as_deref())? {
                exit(db, &s.id, contact, reason, now)?;
                out.exited += 1;
                continue;
            }
            let Some(st) = s.steps.get(step as usize) else {
                db.run("UPDATE sequence_enrollments SET status = 'completed', next_at = NULL, updated_at = ? WHERE sequence_id = ? AND contact_id = ?", &[at(now).into(), s.id.as_str().into(), contact.as_str().into()])?;
                out.completed += 1;
                continue;
            };
            let data: serde_json::Value = serde_json::from_str(&row.text(1)).unwrap_or_default();
            let content = Content { subject: st.subject.clone(), html: st.html.clone(), text: st.text.clone() };
            let to = email.unwrap_or_default();
            sending::queue(db, w, links, Draft { kind: "sequence", campaign_id: None, contact_id: Some(contact), variant: None, sequence: Some((&s.id, step)), to: &to, content: &content, data: &data }, now)?;
            out.queued += 1;
            match s.steps.get(step as usize + 1) {
                Some(next) => db.run(
                    "UPDATE sequence_enrollments SET step = ?, next_at = ?, updated_at = ? WHERE sequence_id = ? AND contact_id = ?",
                    &[(step + 1).into(), at(now + Duration::minutes(next.delay_minutes)).into(), at(now).into(), s.id.as_str().into(), contact.as_str().into()],
                )?,
                None => {
                    out.completed += 1;
                    db.run(
                        "UPDATE sequence_enrollments SET step = ?, status = 'completed', next_at = NULL, updated_at = ? WHERE sequence_id = ? AND contact_id = ?",
                        &[(step + 1).into(), at(now).into(), s.id.as_str().into(), contact.as_str().into()],
                    )?
                }
            };
        }
        Ok(out)
    })
}

/// When the next step of any active sequence is due.
pub fn next_due<D: Db + ?Sized>(db: &D) -> Result<Option<String>> {
    Ok(db.run(
        "SELECT min(e.next_at) FROM sequence_enrollments e JOIN sequences s ON s.id = e.sequence_id WHERE e.status = 'active' AND s.status = 'active' AND s.deleted_at IS NULL",
        &[],
    )?.first().and_then(|r| r.string(0)))
}

/// A contact left every sequence they were in (they unsubscribed, or replied to one).
pub fn exit_everywhere<D: Db + ?Sized>(db: &D, contact: &str, reason: &str, only_sequence: Option<&str>, now: DateTime<Utc>) -> Result<()> {
    db.run(
        "UPDATE sequence_enrollments SET status = 'exited', exit_reason = ?, next_at = NULL, updated_at = ? WHERE contact_id = ? AND status = 'active' AND (? IS NULL OR sequence_id = ?)",
        &[reason.into(), at(now).into(), contact.into(), only_sequence.into(), only_sequence.into()],
    )?;
    Ok(())
}

/// Enrolments, newest first.
pub fn enrolments<D: Db + ?Sized>(db: &D, id: &str, limit: i64) -> Result<Vec<serde_json::Value>> {
    let r = db.run(
        "SELECT contact_id, email, step, next_at, status, exit_reason, entered_at, updated_at, json_extract(data, '$.contact.first_name'), json_extract(data, '$.contact.last_name')
         FROM sequence_enrollments WHERE sequence_id = ? ORDER BY entered_at DESC, contact_id LIMIT ?",
        &[id.into(), limit.into()],
    )?;
    Ok(r.iter().map(|r| serde_json::json!({
        "contact_id": r.str(0), "email": r.str(1), "step": r.i64(2), "next_at": r.str(3), "status": r.str(4), "exit_reason": r.str(5),
        "entered_at": r.str(6), "updated_at": r.str(7), "first_name": r.str(8), "last_name": r.str(9),
    })).collect())
}

/// Per step: sent, opened, clicked (unique), from its messages.
pub fn step_stats<D: Db + ?Sized>(db: &D, id: &str) -> Result<Vec<serde_json::Value>> {
    let r = db.run(
        "SELECT step, count(*), count(delivered_at), count(opened_at), count(clicked_at), count(unsubscribed_at), count(bounced_at) FROM mail_messages WHERE sequence_id = ? GROUP BY step ORDER BY step",
        &[id.into()],
    )?;
    Ok(r.iter().map(|r| serde_json::json!({
        "step": r.i64(0), "sent": r.i64(1), "delivered": r.i64(2), "opened": r.i64(3), "clicked": r.i64(4), "unsubscribed": r.i64(5), "bounced": r.i64(6),
    })).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{COMPONENT, MIGRATIONS};
    use crate::segments::{self, SegmentInput};
    use serde_json::json;

    fn step(delay: i64, subject: &str) -> Step {
        Step { delay_minutes: delay, subject: subject.into(), html: String::new(), text: "Hi {{ contact.first_name }}".into() }
    }

    #[test]
    fn drips_in_order_and_lets_people_leave() {
        let db = edge_db::native::migrated(COMPONENT, MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let seg = segments::create(&db, &w, SegmentInput { name: Some("Trial".into()), kind: Some("static".into()), ..Default::default() }).unwrap();
        let s = create(&db, &w, SequenceInput { name: Some("Onboarding".into()), segment_id: Some(seg.id), steps: Some(vec![step(0, "Welcome"), step(60 * 24, "Tips"), step(60 * 24 * 3, "Upgrade?")]), ..Default::default() }).unwrap();
        assert!(set_status(&db, &w, &s.id, "paused", "", None).is_err(), "a draft is not paused");
        let s = set_status(&db, &w, &s.id, "active", "https://acme.test", None).unwrap();
        let links = Links { base_url: "https://acme.test", secret: "k" };
        let t0 = Utc::now();
        let people: Vec<serde_json::Value> = (0..4).map(|i| json!({"id": format!("ct_{i}"), "email": format!("p{i}@x.test"), "first_name": format!("P{i}")})).collect();
        assert_eq!(enrol_page(&db, &s, &people, None, t0).unwrap(), 4);
        assert_eq!(enrol_page(&db, &s, &people, None, t0).unwrap(), 0, "once per contact");
        let ids = due(&db, &s.id, t0, 100).unwrap();
        assert_eq!(send_due(&db, &w, &links, &s, &ids, &[], t0).unwrap(), Steps { queued: 4, completed: 0, exited: 0 });
        assert!(due(&db, &s.id, t0 + Duration::hours(23), 100).unwrap().is_empty(), "tips wait a day");
        // ct_1 unsubscribes, ct_2 converts, ct_3 replies (exits from its message's sequence).
        consent::record(&db, "system:recipient", "ct_1", &consent::ConsentInput { channel: "email".into(), status: "withdrawn".into(), lawful_basis: None, source: None }).unwrap();
        exit_everywhere(&db, "ct_3", "replied", Some(&s.id), t0).unwrap();
        let t1 = t0 + Duration::days(1);
        let ids = due(&db, &s.id, t1, 100).unwrap();
        assert_eq!(ids.len(), 3);
        assert_eq!(send_due(&db, &w, &links, &s, &ids, &["ct_2".to_string()], t1).unwrap(), Steps { queued: 1, completed: 0, exited: 2 });
        let t2 = t1 + Duration::days(3);
        let ids = due(&db, &s.id, t2, 100).unwrap();
        assert_eq!(send_due(&db, &w, &links, &s, &ids, &[], t2).unwrap(), Steps { queued: 1, completed: 1, exited: 0 });
        let s = get(&db, &s.id).unwrap().unwrap();
        assert_eq!(s.enrolments, json!({"total": 4, "active": 0, "completed": 1, "exited": 3, "exits": {"unsubscribed": 1, "converted": 1, "replied": 1}}));
        let subjects = db.run("SELECT contact_id, subject FROM mail_messages WHERE sequence_id = ? ORDER BY contact_id, step", &[s.id.as_str().into()]).unwrap();
        let got: Vec<(String, String)> = subjects.iter().map(|r| (r.text(0), r.text(1))).collect();
        let expect = [("ct_0", "Welcome"), ("ct_0", "Tips"), ("ct_0", "Upgrade?"), ("ct_1", "Welcome"), ("ct_2", "Welcome"), ("ct_3", "Welcome")];
        assert_eq!(got, expect.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>());
        assert_eq!(step_stats(&db, &s.id).unwrap().len(), 3);
    }

    #[test]
    fn steps_are_checked() {
        let db = edge_db::native::migrated(COMPONENT, MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let bad = SequenceInput { name: Some("X".into()), steps: Some(vec![Step { delay_minutes: -1, subject: "{{ x | nope }}".into(), html: String::new(), text: "t".into() }]), ..Default::default() };
        let e = create(&db, &w, bad).unwrap_err();
        let Invalid(fields) = e.downcast_ref::<Invalid>().unwrap();
        assert_eq!(fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), vec!["steps[0].delay_minutes", "steps[0].subject"]);
        let s = create(&db, &w, SequenceInput { name: Some("Empty".into()), ..Default::default() }).unwrap();
        let e = set_status(&db, &w, &s.id, "active", "", None).unwrap_err();
        assert_eq!(e.downcast_ref::<Invalid>().unwrap().0.len(), 2);
    }
}
