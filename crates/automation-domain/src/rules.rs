//! Workflow rules: a trigger (a change another component recorded in its
//! published change log, or a form submission), conditions on the record,
//! and actions. The engine reads each change log from a cursor, so every
//! event is seen once; a run is recorded per (rule, event) before its actions
//! go out, so a rule never fires twice for one event. Changes made by rules
//! themselves (actor `system:automation`) trigger no rules: rules cannot loop.

use anyhow::Result;
use edge_db::record::{Invalid, NotFound, Writer};
use edge_db::{Db, Row};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ID_PREFIX: &str = "ru";
/// The actor of every change a rule makes.
pub const ACTOR: &str = "system:automation";
/// Published change logs the engine follows, and the form submissions here.
pub const SOURCES: [&str; 4] = ["contacts_events", "pipeline_events", "portal_events", "form_submissions"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// `record_created`, `record_updated`, `deal_entered_stage`, `deal_won`,
    /// `deal_lost`, `ticket_created`, `ticket_breached`, `form_submitted`.
    pub kind: String,
    /// For record triggers: `contact`, `company`, `deal`, `ticket` or `order`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// `record_updated`: fire only when one of these fields changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_id: Option<String>,
    /// `date`: the contact's date field (`custom.<key>`, `orders.last_at`, `last_activity_at`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// `date`: fire this many days after the date (negative: before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_days: Option<i64>,
    /// `date`: whose calendar says which day it is (IANA; default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// `date`: every year on the date's month and day (birthdays, anniversaries).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub yearly: bool,
    /// `segment_joined`: the campaigns segment or list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// A field of the record (`lifecycle_stage`, `custom.tier`, `tags`, `value`, …).
    pub field: String,
    /// `eq`, `neq`, `contains`, `gt`, `lt`, `empty`, `not_empty`.
    pub op: String,
    #[serde(default)]
    pub value: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// `create_task`, `add_tag`, `update_field`, `change_owner`, `send_email`,
    /// `enrol_in_sequence`.
    pub kind: String,
    /// create_task: its subject (`{{ name }}` is the record's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// create_task: due this many days after the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_in_days: Option<i64>,
    /// create_task: `owner` (the record's) or a user id; change_owner: a user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// send_email: a campaigns template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// enrol_in_sequence: a campaigns sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_id: Option<String>,
    /// webhook: where the event is POSTed (signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

pub const TRIGGERS: [&str; 10] = ["record_created", "record_updated", "deal_entered_stage", "deal_won", "deal_lost", "ticket_created", "ticket_breached", "form_submitted", "date", "segment_joined"];
pub const ENTITIES: [&str; 5] = ["contact", "company", "deal", "ticket", "order"];
pub const ACTIONS: [&str; 7] = ["create_task", "add_tag", "update_field", "change_owner", "send_email", "enrol_in_sequence", "webhook"];
pub const OPS: [&str; 7] = ["eq", "neq", "contains", "gt", "lt", "empty", "not_empty"];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub trigger: Trigger,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
    pub runs: i64,
    pub last_run_at: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

const COLUMNS: &str = "id, name, enabled, definition, created_by, created_at, updated_at, version,
    (SELECT count(*) FROM rule_runs r WHERE r.rule_id = rules.id), (SELECT max(created_at) FROM rule_runs r WHERE r.rule_id = rules.id)";

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Definition {
    trigger: Option<Trigger>,
    #[serde(default)]
    conditions: Vec<Condition>,
    #[serde(default)]
    actions: Vec<Action>,
}

fn from_row(r: Row) -> Rule {
    let d: Definition = serde_json::from_str(r.str(3).unwrap_or("{}")).unwrap_or_default();
    Rule {
        id: r.text(0), name: r.text(1), enabled: r.i64(2) == Some(1),
        trigger: d.trigger.unwrap_or(Trigger { kind: "record_created".into(), entity: Some("contact".into()), changed: vec![], stage_id: None, form_id: None, field: None, offset_days: None, time_zone: None, yearly: false, segment_id: None }),
        conditions: d.conditions, actions: d.actions, created_by: r.string(4), created_at: r.text(5), updated_at: r.text(6),
        version: r.i64(7).unwrap_or(1), runs: r.i64(8).unwrap_or(0), last_run_at: r.string(9),
    }
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<Rule>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM rules WHERE id = ? AND deleted_at IS NULL"), &[id.into()])?.first().map(from_row))
}

pub fn list<D: Db + ?Sized>(db: &D) -> Result<Vec<Rule>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM rules WHERE deleted_at IS NULL ORDER BY name COLLATE NOCASE"), &[])?.iter().map(from_row).collect())
}

pub fn enabled<D: Db + ?Sized>(db: &D) -> Result<Vec<Rule>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM rules WHERE deleted_at IS NULL AND enabled = 1 ORDER BY id"), &[])?.iter().map(from_row).collect())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub trigger: Option<Trigger>,
    pub conditions: Option<Vec<Condition>>,
    pub actions: Option<Vec<Action>>,
}

fn checked(input: RuleInput, before: Option<&Rule>) -> Result<(String, bool, Definition)> {
    let mut e = Vec::new();
    let name = input.name.map(|n| n.trim().to_string()).or_else(|| before.map(|b| b.name.clone())).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 120 {
        e.push(FieldError::new("name", "is required (at most 120 characters)"));
    }
    let trigger = input.trigger.or_else(|| before.map(|b| b.trigger.clone()));
    match &trigger {
        None => e.push(FieldError::new("trigger", "is required")),
        Some(t) => {
            if !TRIGGERS.contains(&t.kind.as_str()) {
                e.push(FieldError::new("trigger.kind", &format!("must be one of {}", TRIGGERS.join(", "))));
            }
            if t.kind.starts_with("record_") && !t.entity.as_deref().is_some_and(|x| ENTITIES.contains(&x)) {
                e.push(FieldError::new("trigger.entity", "must be contact, company, deal, ticket or order"));
            }
            if t.kind == "deal_entered_stage" && t.stage_id.as_deref().is_none_or(str::is_empty) {
                e.push(FieldError::new("trigger.stage_id", "choose the stage"));
            }
            if t.kind == "date" {
                if t.field.as_deref().is_none_or(|f| f.trim().is_empty()) {
                    e.push(FieldError::new("trigger.field", "choose the contact's date field"));
                }
                if !t.offset_days.is_some_and(|d| (-366..=3660).contains(&d)) {
                    e.push(FieldError::new("trigger.offset_days", "days after the date (negative: before), from -366 to 3,660"));
                }
                if t.time_zone.as_deref().is_some_and(|z| z.parse::<chrono_tz::Tz>().is_err()) {
                    e.push(FieldError::new("trigger.time_zone", "must be an IANA time zone such as Europe/Berlin"));
                }
            }
            if t.kind == "segment_joined" && !t.segment_id.as_deref().is_some_and(|s| edge_http::ids::is_valid("sg", s)) {
                e.push(FieldError::new("trigger.segment_id", "choose the segment or list"));
            }
            if !t.changed.is_empty() && t.kind != "record_updated" {
                e.push(FieldError::new("trigger.changed", "only for record_updated"));
            }
        }
    }
    let conditions = input.conditions.unwrap_or_else(|| before.map(|b| b.conditions.clone()).unwrap_or_default());
    if conditions.len() > 20 {
        e.push(FieldError::new("conditions", "at most 20"));
    }
    for (i, c) in conditions.iter().enumerate() {
        if c.field.trim().is_empty() {
            e.push(FieldError::new(&format!("conditions[{i}].field"), "is required"));
        }
        if !OPS.contains(&c.op.as_str()) {
            e.push(FieldError::new(&format!("conditions[{i}].op"), &format!("must be one of {}", OPS.join(", "))));
        }
    }
    let actions = input.actions.unwrap_or_else(|| before.map(|b| b.actions.clone()).unwrap_or_default());
    if actions.is_empty() || actions.len() > 10 {
        e.push(FieldError::new("actions", "1 to 10 actions"));
    }
    for (i, a) in actions.iter().enumerate() {
        let at = |p: &str| format!("actions[{i}].{p}");
        match a.kind.as_str() {
            "create_task" => {
                if a.subject.as_deref().is_none_or(|s| s.trim().is_empty() || s.chars().count() > 200) {
                    e.push(FieldError::new(&at("subject"), "a task needs a subject (at most 200 characters)"));
                }
                if a.due_in_days.is_some_and(|d| !(0..=365).contains(&d)) {
                    e.push(FieldError::new(&at("due_in_days"), "must be from 0 to 365"));
                }
                if a.user.as_deref().is_some_and(|u| u != "owner" && !edge_http::ids::is_valid("u", u)) {
                    e.push(FieldError::new(&at("user"), "must be owner or a user id"));
                }
            }
            "add_tag" if a.tag.as_deref().is_none_or(|t| t.trim().is_empty() || t.chars().count() > 50) => e.push(FieldError::new(&at("tag"), "is required (at most 50 characters)")),
            "update_field" if a.field.as_deref().is_none_or(|f| f.trim().is_empty() || ["id", "owner_id", "version", "created_at", "updated_at"].contains(&f)) => {
                e.push(FieldError::new(&at("field"), "name a field to set (owners change with change_owner)"))
            }
            "update_field" if a.value.is_none() => e.push(FieldError::new(&at("value"), "is required")),
            "change_owner" if !a.user.as_deref().is_some_and(|u| edge_http::ids::is_valid("u", u)) => e.push(FieldError::new(&at("user"), "must be a user id")),
            "send_email" if !a.template_id.as_deref().is_some_and(|t| edge_http::ids::is_valid("tp", t)) => e.push(FieldError::new(&at("template_id"), "choose an email template")),
            "enrol_in_sequence" if !a.sequence_id.as_deref().is_some_and(|t| edge_http::ids::is_valid("sq", t)) => e.push(FieldError::new(&at("sequence_id"), "choose a sequence")),
            "webhook" if !a.url.as_deref().is_some_and(|u| (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 2000 && !u.contains(char::is_whitespace)) => {
                e.push(FieldError::new(&at("url"), "must be an http(s) address"))
            }
            k if !ACTIONS.contains(&k) => e.push(FieldError::new(&at("kind"), &format!("must be one of {}", ACTIONS.join(", ")))),
            _ => {}
        }
    }
    let enabled = input.enabled.or(before.map(|b| b.enabled)).unwrap_or(true);
    if e.is_empty() { Ok((name, enabled, Definition { trigger, conditions, actions })) } else { Err(Invalid(e).into()) }
}

fn event<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, action: &str, before: Option<&Rule>, after: Option<&Rule>) -> Result<()> {
    let b = before.map(serde_json::to_value).transpose()?;
    let a = after.map(serde_json::to_value).transpose()?;
    edge_db::record::append_event(db, "automation_events", w, "rule", id, action, b.as_ref(), a.as_ref())
}

/// Where the engine starts reading each change log: now (rules act on what
/// happens from their creation on, not on history). No transaction of its own.
fn start_cursors<D: Db + ?Sized>(db: &D) -> Result<()> {
    for src in SOURCES {
        let max = if src == "form_submissions" {
            db.run("SELECT count(*) FROM form_submissions", &[]).ok().and_then(|r| r.scalar_i64()).map(|_| 0)
        } else {
            db.run(&format!("SELECT COALESCE(max(seq), 0) FROM {src}"), &[]).ok().and_then(|r| r.scalar_i64())
        };
        if let Some(m) = max {
            let start = if src == "form_submissions" { format!("{}|", edge_db::now()) } else { m.to_string() };
            db.run("INSERT OR IGNORE INTO rule_cursors (source, position) VALUES (?, ?)", &[src.into(), start.into()])?;
        }
    }
    Ok(())
}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, input: RuleInput) -> Result<Rule> {
    let (name, enabled, def) = checked(input, None)?;
    start_cursors(db)?;
    let id = w.new_id(db, "rules", ID_PREFIX)?;
    let now = edge_db::now();
    db.run(
        "INSERT INTO rules (id, name, enabled, definition, created_by, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
        &[id.as_str().into(), name.into(), enabled.into(), serde_json::to_string(&def)?.into(), w.user_id().into(), now.as_str().into(), now.into()],
    )?;
    let r = get(db, &id)?.ok_or(NotFound)?;
    event(db, w, &id, "created", None, Some(&r))?;
    Ok(r)
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, input: RuleInput, if_version: Option<i64>) -> Result<Rule> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let (name, enabled, def) = checked(input, Some(&before))?;
        db.run(
            "UPDATE rules SET name = ?, enabled = ?, definition = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            &[name.into(), enabled.into(), serde_json::to_string(&def)?.into(), edge_db::now().into(), id.into()],
        )?;
        let after = get(db, id)?.ok_or(NotFound)?;
        event(db, w, id, "updated", Some(&before), Some(&after))?;
        Ok(after)
    })
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str) -> Result<()> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        db.run("UPDATE rules SET deleted_at = ?, enabled = 0, version = version + 1 WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        event(db, w, id, "deleted", Some(&before), None)
    })
}

/// One change from a published change log (or a form submission).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub source: String,
    /// The change log's seq, or the submission id.
    pub position: String,
    pub at: String,
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub before: Value,
    pub after: Value,
}

/// The next changes of `source` after its cursor (at most `limit`), and
/// where the cursor goes after them.
pub fn changes<D: Db + ?Sized>(db: &D, source: &str, limit: i64) -> Result<Vec<Change>> {
    let Some(pos) = db.run("SELECT position FROM rule_cursors WHERE source = ?", &[source.into()])?.first().and_then(|r| r.string(0)) else { return Ok(vec![]) };
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Value>(s).ok()).unwrap_or(Value::Null);
    if source == "form_submissions" {
        // Processed submissions (the contact exists), in order of processing.
        // Position `<processed_at>|<id>`: several may share a millisecond.
        let (t, id) = pos.split_once('|').unwrap_or((pos.as_str(), ""));
        let r = db.run(
            "SELECT id, processed_at, form_id, contact_id, data FROM form_submissions WHERE status = 'accepted' AND processed_at IS NOT NULL
             AND (processed_at > ?1 OR (processed_at = ?1 AND id > ?2)) ORDER BY processed_at, id LIMIT ?3",
            &[t.into(), id.into(), limit.into()],
        )?;
        return Ok(r.iter().map(|row| Change {
            source: source.into(), position: format!("{}|{}", row.text(1), row.text(0)), at: row.text(1), actor: "system:forms".into(), entity: "contact".into(),
            entity_id: row.text(3), action: "form_submitted".into(), before: Value::Null,
            after: serde_json::json!({"form_id": row.str(2), "submission_id": row.str(0), "data": parse(row.str(4))}),
        }).collect());
    }
    let Ok(seq) = pos.parse::<i64>() else { return Ok(vec![]) };
    let r = match db.run(&format!("SELECT seq, at, actor, entity, entity_id, action, before, after FROM {source} WHERE seq > ? ORDER BY seq LIMIT ?"), &[seq.into(), limit.into()]) {
        Ok(r) => r,
        // A component not installed in this app has no change log.
        Err(_) => return Ok(vec![]),
    };
    Ok(r.iter().map(|row| Change {
        source: source.into(), position: row.i64(0).unwrap_or(0).to_string(), at: row.text(1), actor: row.text(2), entity: row.text(3),
        entity_id: row.text(4), action: row.text(5), before: parse(row.str(6)), after: parse(row.str(7)),
    }).collect())
}

pub fn advance<D: Db + ?Sized>(db: &D, source: &str, position: &str) -> Result<()> {
    db.run("UPDATE rule_cursors SET position = ? WHERE source = ?", &[position.into(), source.into()])?;
    Ok(())
}

/// Whether the rule's trigger fires on this change (conditions aside).
pub fn fires(rule: &Rule, c: &Change) -> bool {
    if c.actor.starts_with(ACTOR) {
        return false;
    }
    let t = &rule.trigger;
    let changed_to = |field: &str| c.after.get(field).filter(|v| !v.is_null());
    match t.kind.as_str() {
        "record_created" => Some(c.entity.as_str()) == t.entity.as_deref() && c.action == "created",
        "record_updated" => {
            Some(c.entity.as_str()) == t.entity.as_deref()
                && c.action == "updated"
                && (t.changed.is_empty() || t.changed.iter().any(|f| c.after.get(f).is_some() || f.strip_prefix("custom.").is_some_and(|k| c.after["custom"].get(k).is_some())))
        }
        "deal_entered_stage" => c.entity == "deal" && ["moved", "updated"].contains(&c.action.as_str()) && changed_to("stage_id").and_then(Value::as_str) == t.stage_id.as_deref(),
        "deal_won" => c.entity == "deal" && changed_to("status").and_then(Value::as_str) == Some("won"),
        "deal_lost" => c.entity == "deal" && changed_to("status").and_then(Value::as_str) == Some("lost"),
        "ticket_created" => c.entity == "ticket" && c.action == "created",
        "ticket_breached" => c.entity == "ticket" && c.action == "breached",
        "form_submitted" => c.action == "form_submitted" && t.form_id.as_deref().is_none_or(|f| c.after["form_id"].as_str() == Some(f)),
        _ => false,
    }
}

/// A field of a record: `a.b` walks objects; `custom.x` is a custom field.
fn field<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(record, |v, k| v.get(k)).filter(|v| !v.is_null())
}

fn as_number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Whether every condition holds on the record (as its component shows it).
pub fn conditions_hold(rule: &Rule, record: &Value) -> bool {
    rule.conditions.iter().all(|c| {
        let v = field(record, &c.field);
        let text = |x: &Value| x.as_str().map(str::to_lowercase).unwrap_or_else(|| x.to_string().to_lowercase());
        match c.op.as_str() {
            "empty" => v.is_none_or(|x| x.as_str() == Some("") || x.as_array().is_some_and(Vec::is_empty)),
            "not_empty" => v.is_some_and(|x| x.as_str() != Some("") && !x.as_array().is_some_and(Vec::is_empty)),
            "eq" => v.is_some_and(|x| match x.as_array() {
                Some(items) => items.iter().any(|i| text(i) == text(&c.value)),
                None => text(x) == text(&c.value) || as_number(x).zip(as_number(&c.value)).is_some_and(|(a, b)| a == b),
            }),
            "neq" => v.is_none_or(|x| match x.as_array() {
                Some(items) => !items.iter().any(|i| text(i) == text(&c.value)),
                None => text(x) != text(&c.value),
            }),
            "contains" => v.is_some_and(|x| text(x).contains(&text(&c.value))),
            "gt" => v.and_then(as_number).zip(as_number(&c.value)).is_some_and(|(a, b)| a > b) || v.and_then(Value::as_str).zip(c.value.as_str()).is_some_and(|(a, b)| a > b && as_number(&c.value).is_none()),
            "lt" => v.and_then(as_number).zip(as_number(&c.value)).is_some_and(|(a, b)| a < b) || v.and_then(Value::as_str).zip(c.value.as_str()).is_some_and(|(a, b)| a < b && as_number(&c.value).is_none()),
            _ => false,
        }
    })
}

/// Claims a run of `rule` for a change; None if it already ran (or is
/// running) for it. No transaction of its own.
pub fn claim<D: Db + ?Sized>(db: &D, w: &Writer, rule: &Rule, c: &Change) -> Result<Option<String>> {
    let id = w.new_id(db, "rule_runs", "rr")?;
    db.run(
        "INSERT OR IGNORE INTO rule_runs (id, rule_id, source, position, entity, entity_id, status, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
        &[id.as_str().into(), rule.id.as_str().into(), c.source.as_str().into(), c.position.as_str().into(), c.entity.as_str().into(), c.entity_id.as_str().into(), edge_db::now().into()],
    )?;
    Ok((db.run("SELECT changes()", &[])?.scalar_i64() == Some(1)).then_some(id))
}

/// Runs still to do (new, or interrupted before they finished).
pub fn pending<D: Db + ?Sized>(db: &D, limit: i64) -> Result<Vec<(String, String, String, String)>> {
    let r = db.run("SELECT id, rule_id, entity, entity_id FROM rule_runs WHERE status = 'pending' AND attempts < 3 ORDER BY id LIMIT ?", &[limit.into()])?;
    Ok(r.iter().map(|r| (r.text(0), r.text(1), r.text(2), r.text(3))).collect())
}

pub fn finish<D: Db + ?Sized>(db: &D, run: &str, status: &str, results: &Value, error: Option<&str>) -> Result<()> {
    db.run(
        "UPDATE rule_runs SET status = CASE WHEN ?1 = 'retry' THEN (CASE WHEN attempts + 1 >= 3 THEN 'failed' ELSE 'pending' END) ELSE ?1 END,
         attempts = attempts + 1, results = ?2, error = ?3, finished_at = ?4 WHERE id = ?5",
        &[status.into(), results.to_string().into(), error.into(), edge_db::now().into(), run.into()],
    )?;
    Ok(())
}

pub fn runs<D: Db + ?Sized>(db: &D, rule_id: Option<&str>, limit: i64) -> Result<Vec<Value>> {
    let r = db.run(
        "SELECT id, rule_id, source, position, entity, entity_id, status, attempts, results, error, created_at, finished_at FROM rule_runs WHERE (?1 IS NULL OR rule_id = ?1) ORDER BY id DESC LIMIT ?2",
        &[rule_id.into(), limit.into()],
    )?;
    Ok(r.iter().map(|r| serde_json::json!({
        "id": r.str(0), "rule_id": r.str(1), "source": r.str(2), "event": r.str(3), "entity": r.str(4), "entity_id": r.str(5), "status": r.str(6),
        "attempts": r.i64(7), "results": r.str(8).and_then(|s| serde_json::from_str::<Value>(s).ok()), "error": r.str(9), "created_at": r.str(10), "finished_at": r.str(11),
    })).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(v: Value) -> Rule {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        create(&db, &w, serde_json::from_value(v).unwrap()).unwrap()
    }

    fn change(entity: &str, action: &str, actor: &str, after: Value) -> Change {
        Change { source: "x".into(), position: "1".into(), at: String::new(), actor: actor.into(), entity: entity.into(), entity_id: "id".into(), action: action.into(), before: Value::Null, after }
    }

    #[test]
    fn triggers_fire_on_their_changes_only() {
        let won = rule(json!({"name": "Won", "trigger": {"kind": "deal_won"}, "actions": [{"kind": "add_tag", "tag": "customer"}]}));
        assert!(fires(&won, &change("deal", "updated", "user:u1", json!({"status": "won"}))));
        assert!(!fires(&won, &change("deal", "updated", "user:u1", json!({"title": "x"}))));
        assert!(!fires(&won, &change("deal", "updated", "system:automation", json!({"status": "won"}))), "rules do not trigger rules");
        let stage = rule(json!({"name": "Proposal", "trigger": {"kind": "deal_entered_stage", "stage_id": "st_2"}, "actions": [{"kind": "create_task", "subject": "Call"}]}));
        assert!(fires(&stage, &change("deal", "moved", "user:u1", json!({"stage_id": "st_2", "position": 3}))));
        assert!(!fires(&stage, &change("deal", "moved", "user:u1", json!({"position": 3}))), "reordered within the stage");
        let upd = rule(json!({"name": "Tier", "trigger": {"kind": "record_updated", "entity": "contact", "changed": ["custom.tier", "lifecycle_stage"]}, "actions": [{"kind": "add_tag", "tag": "x"}]}));
        assert!(fires(&upd, &change("contact", "updated", "user:u1", json!({"custom": {"tier": "Gold"}}))));
        assert!(!fires(&upd, &change("contact", "updated", "user:u1", json!({"phone": "1"}))));
        assert!(!fires(&upd, &change("company", "updated", "user:u1", json!({"lifecycle_stage": "lead"}))));
    }

    #[test]
    fn conditions_on_records() {
        let r = rule(json!({"name": "C", "trigger": {"kind": "record_created", "entity": "contact"}, "actions": [{"kind": "add_tag", "tag": "x"}],
            "conditions": [{"field": "custom.country", "op": "eq", "value": "de"}, {"field": "tags", "op": "eq", "value": "VIP"}, {"field": "value", "op": "gt", "value": 1000}, {"field": "phone", "op": "empty"}]}));
        let rec = json!({"custom": {"country": "DE"}, "tags": ["vip", "x"], "value": 5000, "phone": null});
        assert!(conditions_hold(&r, &rec));
        assert!(!conditions_hold(&r, &json!({"custom": {"country": "FR"}, "tags": ["vip"], "value": 5000})));
        assert!(!conditions_hold(&r, &json!({"custom": {"country": "DE"}, "tags": ["vip"], "value": 10})));
    }

    #[test]
    fn bad_rules_are_refused() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let bad: RuleInput = serde_json::from_value(json!({"name": "", "trigger": {"kind": "record_created"}, "conditions": [{"field": "x", "op": "like"}], "actions": [{"kind": "create_task"}, {"kind": "explode"}]})).unwrap();
        let e = create(&db, &w, bad).unwrap_err();
        let names: Vec<String> = e.downcast_ref::<Invalid>().unwrap().0.iter().map(|f| f.field.clone()).collect();
        assert_eq!(names, vec!["name", "trigger.entity", "conditions[0].op", "actions[0].subject", "actions[1].kind"]);
    }

    #[test]
    fn a_run_is_claimed_once_per_event() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let r = create(&db, &w, serde_json::from_value(json!({"name": "W", "trigger": {"kind": "deal_won"}, "actions": [{"kind": "add_tag", "tag": "x"}]})).unwrap()).unwrap();
        let c = change("deal", "updated", "user:u1", json!({"status": "won"}));
        let run = claim(&db, &w, &r, &c).unwrap().unwrap();
        assert!(claim(&db, &w, &r, &c).unwrap().is_none(), "never twice for one event");
        assert_eq!(pending(&db, 10).unwrap().len(), 1);
        finish(&db, &run, "retry", &json!([]), Some("contacts did not answer")).unwrap();
        assert_eq!(pending(&db, 10).unwrap().len(), 1, "retried");
        finish(&db, &run, "done", &json!([{"kind": "add_tag", "ok": true}]), None).unwrap();
        assert!(pending(&db, 10).unwrap().is_empty());
        assert_eq!(runs(&db, Some(&r.id), 10).unwrap()[0]["status"], "done");
    }
}

/// With no rule on, the cursors follow the change logs' ends (enabling a
/// rule later does not replay what happened meanwhile).
pub fn skip_to_end<D: Db + ?Sized>(db: &D) -> Result<()> {
    for src in SOURCES {
        let end = if src == "form_submissions" {
            Some(format!("{}|", edge_db::now()))
        } else {
            db.run(&format!("SELECT max(seq) FROM {src}"), &[]).ok().and_then(|r| r.scalar_i64()).map(|m| m.to_string())
        };
        if let Some(e) = end {
            db.run("UPDATE rule_cursors SET position = ? WHERE source = ?", &[e.into(), src.into()])?;
        }
    }
    Ok(())
}

/// The local days a date rule still has to look at, oldest first: from the
/// day after the last one it did (or today) to today in its time zone (the
/// rule's own, else the workspace's), at most a week back (a host that was
/// down catches up; no day twice).
pub fn due_days(rule: &Rule, last: Option<&str>, now: chrono::DateTime<chrono::Utc>, workspace_zone: Option<&str>) -> Vec<chrono::NaiveDate> {
    let tz: chrono_tz::Tz = rule.trigger.time_zone.as_deref().or(workspace_zone).and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC);
    let today = now.with_timezone(&tz).date_naive();
    let from = last.and_then(|l| chrono::NaiveDate::parse_from_str(l, "%Y-%m-%d").ok()).map(|d| d + chrono::Duration::days(1)).unwrap_or(today).max(today - chrono::Duration::days(6));
    let mut out = Vec::new();
    let mut d = from;
    while d <= today {
        out.push(d);
        d += chrono::Duration::days(1);
    }
    out
}

/// The contacts filter a date rule asks on `day`: the field's date is
/// `day - offset_days` (a custom date field equals it; a time falls on it).
pub fn date_filter(rule: &Rule, day: chrono::NaiveDate) -> Value {
    let field = rule.trigger.field.clone().unwrap_or_default();
    let target = day - chrono::Duration::days(rule.trigger.offset_days.unwrap_or(0));
    if rule.trigger.yearly {
        use chrono::Datelike;
        let mut days = vec![target.format("%m-%d").to_string()];
        // Born on 29 February: celebrated on the 28th when the year has no 29th.
        if target.month() == 2 && target.day() == 28 && chrono::NaiveDate::from_ymd_opt(target.year(), 2, 29).is_none() {
            days.push("02-29".into());
        }
        return serde_json::json!({"field": field, "op": "anniversary", "value": days});
    }
    let op = if field.starts_with("custom.") { "eq" } else { "on" };
    serde_json::json!({"field": field, "op": op, "value": target.format("%Y-%m-%d").to_string()})
}

/// Where a date rule is: the last local day it looked at.
pub fn date_cursor<D: Db + ?Sized>(db: &D, rule_id: &str) -> Result<Option<String>> {
    Ok(db.run("SELECT position FROM rule_cursors WHERE source = ?", &[format!("date:{rule_id}").into()])?.first().and_then(|r| r.string(0)))
}

pub fn set_date_cursor<D: Db + ?Sized>(db: &D, rule_id: &str, day: chrono::NaiveDate) -> Result<()> {
    db.run("INSERT OR REPLACE INTO rule_cursors (source, position) VALUES (?, ?)", &[format!("date:{rule_id}").into(), day.format("%Y-%m-%d").to_string().into()])?;
    Ok(())
}

#[cfg(test)]
mod segment_tests {
    use super::*;

    #[test]
    fn joiners_are_those_not_seen_in_the_last_pass() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // First pass learns who is in already.
        assert_eq!(seen(&db, "r", "p1", &ids(&["a", "b"])).unwrap(), ids(&["a", "b"]));
        end_pass(&db, "r", "p1").unwrap();
        // b leaves, c joins.
        assert_eq!(seen(&db, "r", "p2", &ids(&["a", "c"])).unwrap(), ids(&["c"]));
        assert_eq!(end_pass(&db, "r", "p2").unwrap(), 1);
        // b comes back: joins again.
        assert_eq!(seen(&db, "r", "p3", &ids(&["a", "b", "c"])).unwrap(), ids(&["b"]));
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn days_in_the_rules_time_zone_once_each() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let r = create(&db, &w, serde_json::from_value(serde_json::json!({"name": "Renewal", "trigger": {"kind": "date", "field": "custom.renewal", "offset_days": -30, "time_zone": "Pacific/Auckland"}, "actions": [{"kind": "create_task", "subject": "Renew"}]})).unwrap()).unwrap();
        // 2026-12-06 20:00 UTC is already 2026-12-07 in Auckland (UTC+13).
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 20, 0, 0).unwrap();
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(due_days(&r, None, now, None), vec![d("2026-12-07")]);
        assert_eq!(date_filter(&r, d("2026-12-07")), serde_json::json!({"field": "custom.renewal", "op": "eq", "value": "2027-01-06"}));
        assert!(due_days(&r, Some("2026-12-07"), now, None).is_empty(), "a day once");
        let yearly = Rule { trigger: Trigger { yearly: true, offset_days: Some(0), ..r.trigger.clone() }, ..r.clone() };
        assert_eq!(date_filter(&yearly, d("2027-02-28")), serde_json::json!({"field": "custom.renewal", "op": "anniversary", "value": ["02-28", "02-29"]}), "leap-day birthdays in a common year");
        assert_eq!(date_filter(&yearly, d("2028-02-28")), serde_json::json!({"field": "custom.renewal", "op": "anniversary", "value": ["02-28"]}));
        assert_eq!(due_days(&r, Some("2026-12-04"), now, None), vec![d("2026-12-05"), d("2026-12-06"), d("2026-12-07")], "missed days caught up");
        assert_eq!(due_days(&r, Some("2026-01-01"), now, None).len(), 7, "at most a week back");
        // Across a clock change (Berlin, 25 October 2026: 03:00 back to 02:00) every day comes once.
        let berlin = update(&db, &w, &r.id, RuleInput { trigger: Some(Trigger { time_zone: Some("Europe/Berlin".into()), ..r.trigger.clone() }), ..Default::default() }, None).unwrap();
        let before = chrono::Utc.with_ymd_and_hms(2026, 10, 24, 22, 30, 0).unwrap(); // 00:30 on the 25th, summer time
        let after = chrono::Utc.with_ymd_and_hms(2026, 10, 25, 23, 30, 0).unwrap(); // 00:30 on the 26th, winter time
        assert_eq!(due_days(&berlin, Some("2026-10-24"), before, None), vec![d("2026-10-25")]);
        assert!(due_days(&berlin, Some("2026-10-25"), after - chrono::Duration::hours(1), None).is_empty(), "23:30 on the long day is still the 25th");
        assert_eq!(due_days(&berlin, Some("2026-10-25"), after, None), vec![d("2026-10-26")]);
        // A rule without a zone of its own counts days in the workspace's.
        let unzoned = Rule { trigger: Trigger { time_zone: None, ..r.trigger.clone() }, ..r.clone() };
        assert_eq!(due_days(&unzoned, None, now, Some("Pacific/Auckland")), vec![d("2026-12-07")]);
        assert_eq!(due_days(&unzoned, None, now, Some("America/New_York")), vec![d("2026-12-06")]);
        assert_eq!(due_days(&unzoned, None, now, None), vec![d("2026-12-06")], "UTC without either");
        let bad = RuleInput { trigger: Some(Trigger { kind: "date".into(), entity: None, changed: vec![], stage_id: None, form_id: None, field: None, offset_days: None, time_zone: Some("Mars/Base".into()), yearly: false, segment_id: None }), ..Default::default() };
        let e = update(&db, &w, &r.id, bad, None).unwrap_err();
        let fields: Vec<String> = e.downcast_ref::<Invalid>().unwrap().0.iter().map(|f| f.field.clone()).collect();
        assert_eq!(fields, vec!["trigger.field", "trigger.offset_days", "trigger.time_zone"]);
    }
}

/// How often a `segment_joined` rule looks at its segment again.
pub const SEGMENT_EVERY_MINUTES: i64 = 5;

/// Where a `segment_joined` rule's membership pass is: its id, the contacts
/// API cursor, whether it is the rule's first (which only learns who is in
/// already), and when the next pass may start.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Pass {
    pub id: String,
    pub cursor: Option<String>,
    pub first: bool,
    pub next_at: Option<String>,
}

pub fn pass<D: Db + ?Sized>(db: &D, rule_id: &str) -> Result<Option<Pass>> {
    Ok(db.run("SELECT position FROM rule_cursors WHERE source = ?", &[format!("segment:{rule_id}").into()])?.first().and_then(|r| r.str(0).and_then(|p| serde_json::from_str(p).ok())))
}

pub fn set_pass<D: Db + ?Sized>(db: &D, rule_id: &str, p: &Pass) -> Result<()> {
    db.run("INSERT OR REPLACE INTO rule_cursors (source, position) VALUES (?, ?)", &[format!("segment:{rule_id}").into(), serde_json::to_string(p)?.into()])?;
    Ok(())
}

/// Records a page of members seen in `pass`; answers those who were not in
/// the segment before (the joiners). No transaction of its own.
pub fn seen<D: Db + ?Sized>(db: &D, rule_id: &str, pass_id: &str, contacts: &[String]) -> Result<Vec<String>> {
    let mut joined = Vec::new();
    for c in contacts {
        let known = !db.run("SELECT 1 FROM rule_segment_members WHERE rule_id = ? AND contact_id = ?", &[rule_id.into(), c.as_str().into()])?.is_empty();
        db.run(
            "INSERT INTO rule_segment_members (rule_id, contact_id, joined_at, pass) VALUES (?, ?, ?, ?) ON CONFLICT (rule_id, contact_id) DO UPDATE SET pass = excluded.pass",
            &[rule_id.into(), c.as_str().into(), edge_db::now().into(), pass_id.into()],
        )?;
        if !known {
            joined.push(c.clone());
        }
    }
    Ok(joined)
}

/// Ends a pass: who was not seen in it has left (and joins anew if they come back).
pub fn end_pass<D: Db + ?Sized>(db: &D, rule_id: &str, pass_id: &str) -> Result<i64> {
    db.run("DELETE FROM rule_segment_members WHERE rule_id = ? AND pass != ?", &[rule_id.into(), pass_id.into()])?;
    Ok(db.run("SELECT changes()", &[])?.scalar_i64().unwrap_or(0))
}
