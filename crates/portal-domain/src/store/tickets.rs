//! Complaints and service tickets: filed by customers in the portal or by
//! staff, a threaded conversation with internal notes customers never see,
//! SLA targets in business hours, breach detection and escalation (once per
//! ticket and target), satisfaction ratings, reopening on a customer's reply.

use super::service::{self, ServiceSettings};
use super::{event, timeline, Conflict, Invalid, NotFound, Writer};
use anyhow::Result;
use chrono::{DateTime, Utc};
use edge_db::{Db, Row, Val};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

pub const ID_PREFIX: &str = "tk";
pub const STATUSES: [&str; 6] = ["new", "open", "waiting", "resolved", "closed", "reopened"];
pub const CHANNELS: [&str; 4] = ["portal", "phone", "email", "staff"];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub category: Option<String>,
    pub priority: String,
    pub status: String,
    pub channel: String,
    pub contact_id: String,
    pub order_id: Option<String>,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_message_at: String,
    pub first_response_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub first_response_due: Option<String>,
    pub resolution_due: Option<String>,
    pub first_response_breached_at: Option<String>,
    pub resolution_breached_at: Option<String>,
    pub escalated_at: Option<String>,
    pub csat: Option<i64>,
    pub csat_comment: Option<String>,
    pub reopened: i64,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Message {
    pub id: String,
    pub author: String,
    pub internal: bool,
    pub body: String,
    pub created_at: String,
}

const COLUMNS: &str = "id, number, subject, category, priority, status, channel, contact_id, order_id, assignee_id, team_id, created_at,
    updated_at, last_message_at, first_response_at, resolved_at, closed_at, first_response_due, resolution_due,
    first_response_breached_at, resolution_breached_at, escalated_at, csat, csat_comment, reopened, version";

fn from_row(r: Row) -> Ticket {
    Ticket {
        id: r.text(0), number: r.i64(1).unwrap_or(0), subject: r.text(2), category: r.string(3), priority: r.text(4), status: r.text(5),
        channel: r.text(6), contact_id: r.text(7), order_id: r.string(8), assignee_id: r.string(9), team_id: r.string(10),
        created_at: r.text(11), updated_at: r.text(12), last_message_at: r.text(13), first_response_at: r.string(14),
        resolved_at: r.string(15), closed_at: r.string(16), first_response_due: r.string(17), resolution_due: r.string(18),
        first_response_breached_at: r.string(19), resolution_breached_at: r.string(20), escalated_at: r.string(21),
        csat: r.i64(22), csat_comment: r.string(23), reopened: r.i64(24).unwrap_or(0), version: r.i64(25).unwrap_or(1),
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A ticket; `contact` limits it to that customer's (the portal's view).
pub fn get<D: Db + ?Sized>(db: &D, id: &str, contact: Option<&str>) -> Result<Option<Ticket>> {
    let r = db.run(&format!("SELECT {COLUMNS} FROM tickets WHERE id = ?1 AND (?2 IS NULL OR contact_id = ?2)"), &[id.into(), contact.into()])?;
    Ok(r.first().map(from_row))
}

/// The conversation, oldest first; customers never get internal notes.
pub fn messages<D: Db + ?Sized>(db: &D, id: &str, include_internal: bool) -> Result<Vec<Message>> {
    let r = db.run("SELECT id, author, internal, body, created_at FROM ticket_messages WHERE ticket_id = ? AND (? OR internal = 0) ORDER BY id", &[id.into(), Val::Int(include_internal as i64)])?;
    Ok(r.iter().map(|row| Message { id: row.text(0), author: row.text(1), internal: row.i64(2) == Some(1), body: row.text(3), created_at: row.text(4) }).collect())
}

/// A new ticket as a customer or staff send it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub order_id: Option<String>,
    /// Staff only (a customer files for themselves).
    pub contact_id: Option<String>,
    /// Staff only: where it came from (`phone`, `email`, `staff`).
    pub channel: Option<String>,
    pub assignee_id: Option<String>,
}

fn text(e: &mut Vec<FieldError>, field: &str, v: Option<&str>, min: usize, max: usize) -> String {
    let v = v.map(str::trim).unwrap_or_default().to_string();
    if v.chars().count() < min || v.chars().count() > max {
        e.push(FieldError::new(field, &format!("must be {min} to {max} characters")));
    }
    v
}

fn message_id<D: Db + ?Sized>(db: &D, w: &Writer) -> Result<String> {
    w.new_id(db, "ticket_messages", "tm")
}

/// Files a ticket; `customer` is the portal's signed-in customer (who may only
/// file for themselves). The caller holds the transaction.
pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, t: NewTicket, customer: Option<&str>, settings: &ServiceSettings, now: DateTime<Utc>) -> Result<(Ticket, Message)> {
    let mut e = Vec::new();
    let subject = text(&mut e, "subject", t.subject.as_deref(), 3, 200);
    let body = text(&mut e, "body", t.body.as_deref(), 1, 20_000);
    let priority = t.priority.as_deref().map(str::trim).filter(|p| !p.is_empty()).unwrap_or("normal").to_string();
    if !service::PRIORITIES.contains(&priority.as_str()) {
        e.push(FieldError::new("priority", "must be low, normal, high or urgent"));
    }
    let category = t.category.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if category.as_ref().is_some_and(|c| !settings.categories.contains(c)) {
        e.push(FieldError::new("category", &format!("must be one of: {}", settings.categories.join(", "))));
    }
    let (contact, channel) = match customer {
        Some(c) => {
            if t.contact_id.is_some() || t.channel.is_some() || t.assignee_id.is_some() {
                e.push(FieldError::new("contact_id", "customers file tickets for themselves"));
            }
            (c.to_string(), "portal".to_string())
        }
        None => {
            let c = t.contact_id.clone().unwrap_or_default();
            if !edge_http::ids::is_valid("c", &c) {
                e.push(FieldError::new("contact_id", "is required: the customer's contact id"));
            }
            let ch = t.channel.clone().unwrap_or_else(|| "staff".into());
            if !CHANNELS.contains(&ch.as_str()) {
                e.push(FieldError::new("channel", "must be portal, phone, email or staff"));
            }
            (c, ch)
        }
    };
    if t.assignee_id.as_deref().is_some_and(|a| !edge_http::ids::is_valid("u", a)) {
        e.push(FieldError::new("assignee_id", "must be a user id"));
    }
    if let Some(o) = &t.order_id {
        // The order must be this customer's: nobody files about someone else's order.
        let own = db.run("SELECT 1 FROM orders WHERE id = ? AND contact_id = ?", &[o.as_str().into(), contact.as_str().into()])?;
        if own.is_empty() {
            e.push(FieldError::new("order_id", "is not one of this customer's orders"));
        }
    }
    if !e.is_empty() {
        return Err(Invalid(e).into());
    }
    let id = w.new_id(db, "tickets", ID_PREFIX)?;
    let number = db.run("SELECT COALESCE(max(number), 1000) + 1 FROM tickets", &[])?.scalar_i64().unwrap_or(1001);
    let policy = settings.policy(&priority);
    let (at, response_due, resolution_due) = (ts(now), ts(settings.hours.add(now, policy.first_response_minutes)), ts(settings.hours.add(now, policy.resolution_minutes)));
    db.run(
        &format!("INSERT INTO tickets ({COLUMNS}) VALUES (?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, NULL, ?, ?, ?, NULL, NULL, NULL, ?, ?, NULL, NULL, NULL, NULL, NULL, 0, 1)"),
        &[
            id.as_str().into(), Val::Int(number), subject.as_str().into(), category.into(), priority.as_str().into(), channel.into(), contact.as_str().into(),
            (&t.order_id).into(), (&t.assignee_id).into(), at.as_str().into(), at.as_str().into(), at.as_str().into(), response_due.into(), resolution_due.into(),
        ],
    )?;
    let mid = message_id(db, w)?;
    db.run("INSERT INTO ticket_messages (id, ticket_id, author, internal, body, created_at) VALUES (?, ?, ?, 0, ?, ?)", &[mid.as_str().into(), id.as_str().into(), w.actor.into(), body.as_str().into(), at.as_str().into()])?;
    let ticket = get(db, &id, None)?.ok_or(NotFound)?;
    event(db, w, "ticket", &id, "created", None, Some(&serde_json::to_value(&ticket)?))?;
    timeline(db, &at, &contact, "ticket-opened", &format!("Complaint #{number} opened: {subject}"), &serde_json::json!({"ticket_id": id, "number": number, "status": "new"}), &id)?;
    Ok((ticket, Message { id: mid, author: w.actor.to_string(), internal: false, body, created_at: at }))
}

/// A reply in the conversation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub body: String,
    /// Staff only: a note the customer never sees.
    #[serde(default)]
    pub internal: bool,
    /// Staff only: the status after this reply (`open`, `waiting`, `resolved`).
    pub status: Option<String>,
}

/// Adds a reply. A customer's reply reopens a resolved ticket and ends a wait
/// for them; staff's first public reply is the first response. The caller
/// holds the transaction.
pub fn reply<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, r: Reply, customer: Option<&str>, settings: &ServiceSettings, now: DateTime<Utc>) -> Result<(Ticket, Message)> {
    let before = get(db, id, customer)?.ok_or(NotFound)?;
    let mut e = Vec::new();
    let body = text(&mut e, "body", Some(&r.body), 1, 20_000);
    if customer.is_some() && (r.internal || r.status.is_some()) {
        e.push(FieldError::new("internal", "customers reply; staff set notes and status"));
    }
    if r.internal && r.status.is_some() {
        e.push(FieldError::new("status", "an internal note does not change the status"));
    }
    if r.status.as_deref().is_some_and(|s| !["open", "waiting", "resolved"].contains(&s)) {
        e.push(FieldError::new("status", "must be open, waiting or resolved"));
    }
    if !e.is_empty() {
        return Err(Invalid(e).into());
    }
    if before.status == "closed" {
        return Err(Conflict { kind: "ticket-closed", message: "This ticket is closed. Open a new one, quoting its number.".into() }.into());
    }
    let at = ts(now);
    let mut t = before.clone();
    if customer.is_some() {
        match before.status.as_str() {
            "resolved" => {
                t.status = "reopened".into();
                t.reopened += 1;
                t.resolved_at = None;
                // The resolution clock starts again, and may breach again.
                t.resolution_due = Some(ts(settings.hours.add(now, settings.policy(&t.priority).resolution_minutes)));
                t.resolution_breached_at = None;
            }
            "waiting" => t.status = "open".into(),
            _ => {}
        }
    } else if !r.internal {
        if t.first_response_at.is_none() {
            t.first_response_at = Some(at.clone());
        }
        let next = r.status.clone().unwrap_or_else(|| if matches!(t.status.as_str(), "new" | "reopened" | "waiting") { "open".into() } else { t.status.clone() });
        if next == "resolved" && t.resolved_at.is_none() {
            t.resolved_at = Some(at.clone());
        }
        if next != "resolved" {
            t.resolved_at = None;
        }
        t.status = next;
    }
    db.run(
        "UPDATE tickets SET status = ?, reopened = ?, resolved_at = ?, resolution_due = ?, resolution_breached_at = ?, first_response_at = ?,
            last_message_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        &[
            t.status.as_str().into(), Val::Int(t.reopened), (&t.resolved_at).into(), (&t.resolution_due).into(), (&t.resolution_breached_at).into(),
            (&t.first_response_at).into(), at.as_str().into(), at.as_str().into(), id.into(),
        ],
    )?;
    let mid = message_id(db, w)?;
    db.run("INSERT INTO ticket_messages (id, ticket_id, author, internal, body, created_at) VALUES (?, ?, ?, ?, ?, ?)", &[mid.as_str().into(), id.into(), w.actor.into(), Val::Int(r.internal as i64), body.as_str().into(), at.as_str().into()])?;
    let after = get(db, id, None)?.ok_or(NotFound)?;
    event(db, w, "ticket", id, if r.internal { "noted" } else { "replied" }, Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&after)?))?;
    if after.status != before.status && matches!(after.status.as_str(), "resolved" | "reopened") {
        timeline(db, &at, &after.contact_id, &format!("ticket-{}", after.status), &format!("Complaint #{} {}", after.number, after.status), &serde_json::json!({"ticket_id": id, "number": after.number, "status": after.status}), id)?;
    }
    Ok((after, Message { id: mid, author: w.actor.to_string(), internal: r.internal, body, created_at: at }))
}

/// Staff changes: assignee, team, priority (targets recomputed), category, status.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    #[serde(default, with = "double_option")]
    pub assignee_id: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    pub team_id: Option<Option<String>>,
    pub priority: Option<String>,
    /// null clears it.
    #[serde(default, with = "double_option")]
    pub category: Option<Option<String>>,
    pub status: Option<String>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::<String>::deserialize(d)?))
    }
}

pub fn change<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, c: Change, if_version: Option<i64>, settings: &ServiceSettings, now: DateTime<Utc>) -> Result<Ticket> {
    let before = get(db, id, None)?.ok_or(NotFound)?;
    edge_db::record::check_version(if_version, before.version)?;
    let mut e = Vec::new();
    let mut t = before.clone();
    if let Some(a) = c.assignee_id {
        if a.as_deref().is_some_and(|a| !edge_http::ids::is_valid("u", a)) {
            e.push(FieldError::new("assignee_id", "must be a user id or null"));
        }
        t.assignee_id = a;
    }
    if let Some(team) = c.team_id {
        if team.as_deref().is_some_and(|x| !edge_http::ids::is_valid("t", x)) {
            e.push(FieldError::new("team_id", "must be a team id or null"));
        }
        t.team_id = team;
    }
    if let Some(cat) = c.category {
        if cat.as_ref().is_some_and(|c| !settings.categories.contains(c)) {
            e.push(FieldError::new("category", &format!("must be one of: {}", settings.categories.join(", "))));
        }
        t.category = cat;
    }
    if let Some(p) = c.priority {
        if !service::PRIORITIES.contains(&p.as_str()) {
            e.push(FieldError::new("priority", "must be low, normal, high or urgent"));
        } else if p != t.priority {
            // Targets follow the new priority, counted from when the ticket was filed.
            let created: DateTime<Utc> = t.created_at.parse().unwrap_or(now);
            let policy = settings.policy(&p);
            t.first_response_due = Some(ts(settings.hours.add(created, policy.first_response_minutes)));
            t.resolution_due = Some(ts(settings.hours.add(created, policy.resolution_minutes)));
            t.priority = p;
        }
    }
    if let Some(s) = c.status {
        let allowed = ["open", "waiting", "resolved", "closed"];
        if !allowed.contains(&s.as_str()) {
            e.push(FieldError::new("status", "must be open, waiting, resolved or closed"));
        } else if s != t.status {
            let at = ts(now);
            t.status = if t.status == "closed" && s != "closed" { "reopened".into() } else { s.clone() };
            match s.as_str() {
                "resolved" => t.resolved_at = Some(at),
                "closed" => {
                    t.closed_at = Some(at.clone());
                    t.resolved_at.get_or_insert(at);
                }
                _ => {
                    t.resolved_at = None;
                    t.closed_at = None;
                }
            }
        }
    }
    if !e.is_empty() {
        return Err(Invalid(e).into());
    }
    let at = ts(now);
    db.run(
        "UPDATE tickets SET assignee_id = ?, team_id = ?, category = ?, priority = ?, first_response_due = ?, resolution_due = ?, status = ?,
            resolved_at = ?, closed_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        &[
            (&t.assignee_id).into(), (&t.team_id).into(), (&t.category).into(), t.priority.as_str().into(), (&t.first_response_due).into(),
            (&t.resolution_due).into(), t.status.as_str().into(), (&t.resolved_at).into(), (&t.closed_at).into(), at.as_str().into(), id.into(),
        ],
    )?;
    let after = get(db, id, None)?.ok_or(NotFound)?;
    event(db, w, "ticket", id, "updated", Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&after)?))?;
    if after.status != before.status && after.status == "resolved" {
        timeline(db, &at, &after.contact_id, "ticket-resolved", &format!("Complaint #{} resolved", after.number), &serde_json::json!({"ticket_id": id, "number": after.number, "status": "resolved"}), id)?;
    }
    Ok(after)
}

/// The customer's satisfaction with the resolution (1–5), once.
pub fn rate<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, customer: &str, score: i64, comment: Option<String>, now: DateTime<Utc>) -> Result<Ticket> {
    let before = get(db, id, Some(customer))?.ok_or(NotFound)?;
    if !(1..=5).contains(&score) {
        return Err(Invalid::one("score", "must be from 1 to 5").into());
    }
    if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(Invalid::one("comment", "must be at most 2,000 characters").into());
    }
    if !matches!(before.status.as_str(), "resolved" | "closed") {
        return Err(Conflict { kind: "not-resolved", message: "A ticket is rated once it is resolved.".into() }.into());
    }
    if before.csat.is_some() {
        return Err(Conflict { kind: "already-rated", message: "This ticket was already rated. Thank you!".into() }.into());
    }
    let at = ts(now);
    db.run("UPDATE tickets SET csat = ?, csat_comment = ?, csat_at = ?, updated_at = ?, version = version + 1 WHERE id = ?", &[Val::Int(score), comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).into(), at.as_str().into(), at.as_str().into(), id.into()])?;
    let after = get(db, id, None)?.ok_or(NotFound)?;
    event(db, w, "ticket", id, "rated", None, Some(&serde_json::json!({"csat": score})))?;
    Ok(after)
}

/// Queues.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub statuses: Vec<String>,
    pub assignee_id: Option<String>,
    pub unassigned: bool,
    pub contact_id: Option<String>,
    /// Tickets whose next target falls within this many minutes (and is not yet met).
    pub breaching_within: Option<i64>,
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

/// The open states: what a queue shows unless asked otherwise.
pub const OPEN: [&str; 4] = ["new", "open", "waiting", "reopened"];

pub fn list<D: Db + ?Sized>(db: &D, q: &Query, now: DateTime<Utc>) -> Result<(Vec<Ticket>, Option<String>)> {
    let mut conds: Vec<String> = Vec::new();
    let mut params: Vec<Val> = Vec::new();
    let statuses: Vec<String> = if q.statuses.is_empty() { OPEN.map(String::from).to_vec() } else { q.statuses.clone() };
    conds.push(format!("status IN ({})", edge_db::record::marks(statuses.len())));
    params.extend(statuses.into_iter().map(Val::Text));
    if let Some(a) = &q.assignee_id {
        conds.push("assignee_id = ?".into());
        params.push(a.into());
    }
    if q.unassigned {
        conds.push("assignee_id IS NULL".into());
    }
    if let Some(c) = &q.contact_id {
        conds.push("contact_id = ?".into());
        params.push(c.into());
    }
    let order = if let Some(m) = q.breaching_within {
        conds.push("((first_response_at IS NULL AND first_response_due <= ?1x) OR (resolved_at IS NULL AND resolution_due <= ?1x))".replace("?1x", "?"));
        let horizon = ts(now + chrono::Duration::minutes(m));
        params.push(horizon.as_str().into());
        params.push(horizon.into());
        "min(CASE WHEN first_response_at IS NULL THEN first_response_due ELSE '9999' END, COALESCE(resolution_due, '9999')) ASC, id ASC"
    } else {
        "id DESC"
    };
    if let Some(text) = &q.q {
        conds.push("(subject LIKE ? ESCAPE '\\' OR CAST(number AS TEXT) = ?)".into());
        params.push(format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")).into());
        params.push(text.trim_start_matches('#').into());
    }
    if let Some(after) = &q.after {
        conds.push(if q.breaching_within.is_some() { "id > ?".into() } else { "id < ?".into() });
        params.push(after.into());
    }
    params.push(Val::Int(q.limit + 1));
    let r = db.run(&format!("SELECT {COLUMNS} FROM tickets WHERE {} ORDER BY {order} LIMIT ?", conds.join(" AND ")), &params)?;
    let mut items: Vec<Ticket> = r.iter().map(from_row).collect();
    let next = if items.len() as i64 > q.limit {
        items.truncate(q.limit as usize);
        // Breach queues are short (a due window); they page by id within it.
        if q.breaching_within.is_some() { None } else { items.last().map(|t| t.id.clone()) }
    } else {
        None
    };
    Ok((items, next))
}

/// Mail the unattended check wants sent (after its transaction commits).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The unattended check: marks missed targets (each once), escalates a ticket
/// the first time it breaches (reassign and notify), and closes resolved
/// tickets nobody answered for `close_after_days`.
pub fn tick<D: Db + ?Sized>(db: &D, w: &Writer, settings: &ServiceSettings, now: DateTime<Utc>) -> Result<(usize, Vec<Notice>)> {
    edge_db::tx(db, || {
        let at = ts(now);
        let mut notices = Vec::new();
        let mut breaches = 0;
        for (target, due, done, breached) in [
            ("first response", "first_response_due", "first_response_at", "first_response_breached_at"),
            ("resolution", "resolution_due", "resolved_at", "resolution_breached_at"),
        ] {
            let r = db.run(
                &format!("SELECT {COLUMNS} FROM tickets WHERE {done} IS NULL AND {breached} IS NULL AND {due} <= ? AND status NOT IN ('resolved', 'closed') ORDER BY {due} LIMIT 500"),
                &[at.as_str().into()],
            )?;
            for t in r.iter().map(from_row) {
                breaches += 1;
                let first_escalation = t.escalated_at.is_none();
                let assignee = if first_escalation { settings.escalation.assign_to.clone().or(t.assignee_id.clone()) } else { t.assignee_id.clone() };
                db.run(
                    &format!("UPDATE tickets SET {breached} = ?1, escalated_at = COALESCE(escalated_at, ?1), assignee_id = ?2, updated_at = ?1, version = version + 1 WHERE id = ?3 AND {breached} IS NULL"),
                    &[at.as_str().into(), assignee.clone().into(), t.id.as_str().into()],
                )?;
                event(db, w, "ticket", &t.id, "breached", None, Some(&serde_json::json!({"target": target, "due": db_due(&t, due), "escalated_to": if first_escalation { assignee.clone() } else { None }})))?;
                if let (true, Some(to)) = (first_escalation, settings.escalation.notify.clone()) {
                    notices.push(Notice {
                        to,
                        subject: format!("SLA missed: complaint #{} ({})", t.number, target),
                        body: format!("Complaint #{} \"{}\" ({} priority) missed its {} target, due {}.\n\nIt is now assigned to {}.\n", t.number, t.subject, t.priority, target, db_due(&t, due).unwrap_or_default(), assignee.unwrap_or_else(|| "nobody".into())),
                    });
                }
            }
        }
        let horizon = ts(now - chrono::Duration::days(settings.close_after_days));
        let stale = db.run("SELECT id FROM tickets WHERE status = 'resolved' AND resolved_at <= ? AND last_message_at <= ?", &[horizon.as_str().into(), horizon.as_str().into()])?;
        for row in stale.iter() {
            let id = row.text(0);
            db.run("UPDATE tickets SET status = 'closed', closed_at = ?1, updated_at = ?1, version = version + 1 WHERE id = ?2", &[at.as_str().into(), id.as_str().into()])?;
            event(db, w, "ticket", &id, "closed", None, Some(&serde_json::json!({"reason": "no reply after resolution"})))?;
        }
        Ok((breaches, notices))
    })
}

/// When the unattended check next has something to do: the earliest target
/// not yet met, or the earliest auto-close (None: nothing pending).
pub fn next_due<D: Db + ?Sized>(db: &D, settings: &ServiceSettings) -> Result<Option<String>> {
    let r = db.run(
        "SELECT min(d) FROM (SELECT min(first_response_due) AS d FROM tickets WHERE first_response_at IS NULL AND first_response_breached_at IS NULL AND status NOT IN ('resolved', 'closed')
         UNION ALL SELECT min(resolution_due) FROM tickets WHERE resolved_at IS NULL AND resolution_breached_at IS NULL AND status NOT IN ('resolved', 'closed'))",
        &[],
    )?;
    let due = r.first().and_then(|row| row.string(0));
    let resolved = db.run("SELECT min(max(resolved_at, last_message_at)) FROM tickets WHERE status = 'resolved'", &[])?;
    let close = resolved.first().and_then(|row| row.str(0)).and_then(|t| t.parse::<DateTime<Utc>>().ok()).map(|t| ts(t + chrono::Duration::days(settings.close_after_days)));
    Ok(match (due, close) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

fn db_due(t: &Ticket, column: &str) -> Option<String> {
    if column == "first_response_due" { t.first_response_due.clone() } else { t.resolution_due.clone() }
}

/// Service desk figures over tickets filed in [from, to): volume per day,
/// first response and resolution times in business minutes, SLA attainment
/// and satisfaction.
pub fn report<D: Db + ?Sized>(db: &D, from: &str, to: &str, settings: &ServiceSettings) -> Result<serde_json::Value> {
    let volume = db.run("SELECT substr(created_at, 1, 10), count(*) FROM tickets WHERE created_at >= ? AND created_at < ? GROUP BY 1 ORDER BY 1", &[from.into(), to.into()])?;
    let rows = db.run(
        "SELECT created_at, first_response_at, resolved_at, first_response_due, resolution_due, first_response_breached_at, resolution_breached_at, csat, status
         FROM tickets WHERE created_at >= ? AND created_at < ?",
        &[from.into(), to.into()],
    )?;
    let parse = |s: Option<&str>| s.and_then(|s| s.parse::<DateTime<Utc>>().ok());
    let (mut fr, mut res) = (Vec::new(), Vec::new());
    let (mut fr_met, mut fr_missed, mut res_met, mut res_missed) = (0, 0, 0, 0);
    let mut csat = [0i64; 5];
    for r in rows.iter() {
        let created = parse(r.str(0));
        if let (Some(c), Some(f)) = (created, parse(r.str(1))) {
            fr.push(settings.hours.between(c, f));
        }
        if let (Some(c), Some(x)) = (created, parse(r.str(2))) {
            res.push(settings.hours.between(c, x));
        }
        match (r.str(1), r.str(3), r.str(5)) {
            (_, _, Some(_)) => fr_missed += 1,
            (Some(done), Some(due), None) if done <= due => fr_met += 1,
            (Some(_), Some(_), None) => fr_missed += 1,
            _ => {}
        }
        match (r.str(2), r.str(4), r.str(6)) {
            (_, _, Some(_)) => res_missed += 1,
            (Some(done), Some(due), None) if done <= due => res_met += 1,
            (Some(_), Some(_), None) => res_missed += 1,
            _ => {}
        }
        if let Some(s) = r.i64(7).filter(|s| (1..=5).contains(s)) {
            csat[(s - 1) as usize] += 1;
        }
    }
    let avg = |v: &[i64]| (!v.is_empty()).then(|| (v.iter().sum::<i64>() as f64 / v.len() as f64 * 10.0).round() / 10.0);
    let rate = |met: i64, missed: i64| (met + missed > 0).then(|| met as f64 / (met + missed) as f64);
    let rated: i64 = csat.iter().sum();
    Ok(serde_json::json!({
        "from": from, "to": to, "created": rows.len(),
        "volume": volume.iter().map(|r| serde_json::json!({"day": r.text(0), "count": r.i64(1)})).collect::<Vec<_>>(),
        "average_first_response_minutes": avg(&fr), "average_resolution_minutes": avg(&res),
        "sla": {"first_response": {"met": fr_met, "missed": fr_missed, "attainment": rate(fr_met, fr_missed)},
                "resolution": {"met": res_met, "missed": res_missed, "attainment": rate(res_met, res_missed)}},
        "csat": {"rated": rated, "average": (rated > 0).then(|| csat.iter().enumerate().map(|(i, n)| (i as i64 + 1) * n).sum::<i64>() as f64 / rated as f64), "distribution": csat},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};
    use serde_json::json;

    const ANN: &str = "c_01HZZZZZZZZZZZZZZZZZZZZZZA";
    const BOB: &str = "c_01HZZZZZZZZZZZZZZZZZZZZZZB";
    const AGENT: &str = "user:u_01HZZZZZZZZZZZZZZZZZZZZZZ1";
    const LEAD: &str = "u_01HZZZZZZZZZZZZZZZZZZZZZZ2";

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn berlin() -> ServiceSettings {
        let mut s = ServiceSettings::default();
        s.hours.time_zone = "Europe/Berlin".into();
        s.escalation = service::Escalation { assign_to: Some(LEAD.into()), notify: Some("lead@shop.example".into()) };
        s
    }

    fn new(v: serde_json::Value) -> NewTicket {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn targets_count_business_hours_and_breaches_escalate_once() {
        let db = db();
        let s = berlin();
        let cust = writer("customer:c_01HZZZZZZZZZZZZZZZZZZZZZZA");
        // Filed Friday 2026-11-27 at 18:00 Berlin (17:00 UTC), after hours: high = 4 h to respond.
        let (t, _) = edge_db::tx(&db, || create(&db, &cust, new(json!({"subject": "Broken zip", "body": "The zip broke on day one", "priority": "high"})), Some(ANN), &s, at("2026-11-27T17:00:00Z"))).unwrap();
        assert_eq!(t.first_response_due.as_deref(), Some("2026-11-30T12:00:00.000Z"), "Monday 09:00 + 4 h Berlin = 13:00 CET = 12:00 UTC");
        assert_eq!(t.status, "new");
        let agent = writer(AGENT);
        // Monday 12:30 UTC: missed. The check marks it, escalates and notifies once.
        let (n, notices) = tick(&db, &agent, &s, at("2026-11-30T12:30:00Z")).unwrap();
        assert_eq!((n, notices.len()), (1, 1));
        assert_eq!(notices[0].to, "lead@shop.example");
        let t = get(&db, &t.id, None).unwrap().unwrap();
        assert_eq!((t.first_response_breached_at.is_some(), t.assignee_id.as_deref()), (true, Some(LEAD)));
        let (n, notices) = tick(&db, &agent, &s, at("2026-11-30T13:30:00Z")).unwrap();
        assert_eq!((n, notices.len()), (0, 0), "a breach fires once");
        // Resolution (16 business hours) breaches later: marked, but the ticket was already escalated.
        let (n, notices) = tick(&db, &agent, &s, at("2026-12-03T12:00:00Z")).unwrap();
        assert_eq!((n, notices.len()), (1, 0));
        let queue = list(&db, &Query { breaching_within: Some(60), limit: 10, ..Default::default() }, at("2026-12-03T12:00:00Z")).unwrap().0;
        assert_eq!(queue.len(), 1, "overdue tickets lead the breaching queue");
    }

    #[test]
    fn conversation_notes_reopening_and_rating() {
        let db = db();
        let s = ServiceSettings::default();
        let cust = writer("customer:c_01HZZZZZZZZZZZZZZZZZZZZZZA");
        let agent = writer(AGENT);
        let now = at("2026-11-23T10:00:00Z");
        let (t, _) = edge_db::tx(&db, || create(&db, &cust, new(json!({"subject": "Late parcel", "body": "Where is it?"})), Some(ANN), &s, now)).unwrap();
        // Bob cannot see or answer Ann's ticket.
        assert!(get(&db, &t.id, Some(BOB)).unwrap().is_none());
        assert!(reply(&db, &cust, &t.id, Reply { body: "me too".into(), ..Default::default() }, Some(BOB), &s, now).unwrap_err().downcast_ref::<NotFound>().is_some());
        edge_db::tx(&db, || reply(&db, &agent, &t.id, Reply { body: "Customer sounds angry; check the courier".into(), internal: true, status: None }, None, &s, now)).unwrap();
        let (t2, _) = edge_db::tx(&db, || reply(&db, &agent, &t.id, Reply { body: "It ships today.".into(), internal: false, status: Some("resolved".into()) }, None, &s, now)).unwrap();
        assert_eq!((t2.status.as_str(), t2.first_response_at.is_some(), t2.resolved_at.is_some()), ("resolved", true, true));
        let public = messages(&db, &t.id, false).unwrap();
        assert_eq!(public.len(), 2);
        assert!(public.iter().all(|m| !m.body.contains("angry")), "internal notes never reach the customer");
        assert_eq!(messages(&db, &t.id, true).unwrap().len(), 3);
        // Rated once.
        let rated = rate(&db, &cust, &t.id, ANN, 4, Some("quick".into()), now).unwrap();
        assert_eq!(rated.csat, Some(4));
        assert!(rate(&db, &cust, &t.id, ANN, 5, None, now).unwrap_err().downcast_ref::<Conflict>().is_some());
        // The customer answers a resolved ticket: it reopens.
        let (t3, _) = edge_db::tx(&db, || reply(&db, &cust, &t.id, Reply { body: "It did not arrive".into(), ..Default::default() }, Some(ANN), &s, now)).unwrap();
        assert_eq!((t3.status.as_str(), t3.reopened, t3.resolved_at.clone()), ("reopened", 1, None));
        let closed = change(&db, &agent, &t.id, Change { status: Some("closed".into()), ..Default::default() }, None, &s, now).unwrap();
        assert_eq!(closed.status, "closed");
        let err = reply(&db, &cust, &t.id, Reply { body: "hello?".into(), ..Default::default() }, Some(ANN), &s, now).unwrap_err();
        assert_eq!(err.downcast_ref::<Conflict>().map(|c| c.kind), Some("ticket-closed"));
        let report = report(&db, "2026-11-01", "2026-12-01", &s).unwrap();
        assert_eq!((report["created"].as_u64(), report["csat"]["average"].as_f64()), (Some(1), Some(4.0)));
    }

    #[test]
    fn a_customer_files_only_about_their_own_orders() {
        let db = db();
        let s = ServiceSettings::default();
        let w = writer("apikey:k_1");
        let order = serde_json::from_value::<crate::model::OrderInput>(json!({"contact_id": BOB, "currency": "EUR", "items": [{"product": "Stove", "quantity": 1, "unit_price": 100}]})).unwrap().validate().unwrap();
        let o = edge_db::tx(&db, || crate::store::orders::insert(&db, &w, order)).unwrap();
        let cust = writer("customer:c_01HZZZZZZZZZZZZZZZZZZZZZZA");
        let err = edge_db::tx(&db, || create(&db, &cust, new(json!({"subject": "About an order", "body": "…", "order_id": o.id})), Some(ANN), &s, Utc::now())).unwrap_err();
        assert_eq!(err.downcast_ref::<Invalid>().map(|e| e.0[0].field.as_str()), Some("order_id"));
        let err = edge_db::tx(&db, || create(&db, &cust, new(json!({"subject": "For Bob", "body": "…", "contact_id": BOB})), Some(ANN), &s, Utc::now())).unwrap_err();
        assert!(err.downcast_ref::<Invalid>().is_some(), "customers file for themselves");
    }
}
