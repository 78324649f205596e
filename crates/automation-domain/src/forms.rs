//! Lead-capture forms: fields mapped to contact fields (custom fields
//! included), a consent checkbox with its wording, what the visitor sees
//! afterwards, and who gets the lead.

use anyhow::Result;
use edge_db::record::{Invalid, NotFound, Writer};
use edge_db::{Db, Row};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

pub const ID_PREFIX: &str = "fm";
pub const KINDS: [&str; 6] = ["text", "email", "tel", "textarea", "select", "checkbox"];
/// Contact fields a form field may fill (besides `custom.<key>`, and
/// `message`, which only goes to the timeline).
pub const TARGETS: [&str; 7] = ["first_name", "last_name", "email", "phone", "title", "company", "message"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The contact field it fills: `first_name`, …, `custom.<key>`, or `message`.
    pub key: String,
    pub label: String,
    #[serde(default = "text")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
}

fn text() -> String {
    "text".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub enabled: bool,
    /// The wording shown beside the checkbox, kept with every submission.
    #[serde(default)]
    pub wording: String,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A form field's key; matched ignoring case.
    pub field: String,
    pub value: String,
    pub user_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// `none`, `round_robin` (among `users`) or `rules` (first match, else round robin).
    pub mode: String,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub fields: Vec<Field>,
    #[serde(default)]
    pub consent: Consent,
    #[serde(default)]
    pub submit_label: Option<String>,
    #[serde(default)]
    pub thank_you: Option<String>,
    /// Where the visitor goes afterwards (instead of the thank-you message).
    #[serde(default)]
    pub redirect_url: Option<String>,
    #[serde(default)]
    pub assignment: Assignment,
    /// Tell the owner by email about each new lead.
    #[serde(default)]
    pub notify_owner: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    /// For contacts the form creates (existing contacts keep theirs).
    #[serde(default)]
    pub lifecycle_stage: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Form {
    pub id: String,
    pub name: String,
    /// `active` or `inactive` (an inactive form takes no submissions).
    pub status: String,
    #[serde(flatten)]
    pub def: Definition,
    pub submissions: i64,
    /// When the last accepted submission came, and how many were spam.
    pub last_submission_at: Option<String>,
    pub spam: i64,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

const COLUMNS: &str = "id, name, status, definition, created_by, created_at, updated_at, version,
    (SELECT count(*) FROM form_submissions s WHERE s.form_id = forms.id AND s.status = 'accepted'),
    (SELECT max(created_at) FROM form_submissions s WHERE s.form_id = forms.id AND s.status = 'accepted'),
    (SELECT count(*) FROM form_submissions s WHERE s.form_id = forms.id AND s.status = 'spam')";

fn from_row(r: Row) -> Form {
    Form {
        id: r.text(0), name: r.text(1), status: r.text(2), def: serde_json::from_str(r.str(3).unwrap_or("{}")).unwrap_or_default(),
        created_by: r.string(4), created_at: r.text(5), updated_at: r.text(6), version: r.i64(7).unwrap_or(1), submissions: r.i64(8).unwrap_or(0),
        last_submission_at: r.string(9), spam: r.i64(10).unwrap_or(0),
    }
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<Form>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM forms WHERE id = ? AND deleted_at IS NULL"), &[id.into()])?.first().map(from_row))
}

pub fn list<D: Db + ?Sized>(db: &D) -> Result<Vec<Form>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM forms WHERE deleted_at IS NULL ORDER BY name COLLATE NOCASE"), &[])?.iter().map(from_row).collect())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormInput {
    pub name: Option<String>,
    pub status: Option<String>,
    pub fields: Option<Vec<Field>>,
    pub consent: Option<Consent>,
    pub submit_label: Option<String>,
    pub thank_you: Option<String>,
    pub redirect_url: Option<String>,
    pub assignment: Option<Assignment>,
    pub notify_owner: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub lifecycle_stage: Option<String>,
}

fn valid_key(k: &str) -> bool {
    TARGETS.contains(&k) || k.strip_prefix("custom.").is_some_and(|c| !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
}

fn checked(input: FormInput, before: Option<&Form>) -> Result<(String, String, Definition)> {
    let mut e = Vec::new();
    let old = before.map(|b| b.def.clone()).unwrap_or_default();
    let name = input.name.map(|n| n.trim().to_string()).or_else(|| before.map(|b| b.name.clone())).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 120 {
        e.push(FieldError::new("name", "is required (at most 120 characters)"));
    }
    let status = input.status.or_else(|| before.map(|b| b.status.clone())).unwrap_or_else(|| "active".into());
    if !["active", "inactive"].contains(&status.as_str()) {
        e.push(FieldError::new("status", "must be active or inactive"));
    }
    let fields = input.fields.unwrap_or(old.fields);
    if fields.is_empty() || fields.len() > 30 {
        e.push(FieldError::new("fields", "1 to 30 fields"));
    }
    let mut seen = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let at = |p: &str| format!("fields[{i}].{p}");
        if !valid_key(&f.key) {
            e.push(FieldError::new(&at("key"), "must be first_name, last_name, email, phone, title, company, message or custom.<key>"));
        }
        if seen.contains(&f.key) {
            e.push(FieldError::new(&at("key"), "is used twice"));
        }
        seen.push(f.key.clone());
        if f.label.trim().is_empty() || f.label.chars().count() > 200 {
            e.push(FieldError::new(&at("label"), "is required (at most 200 characters)"));
        }
        if !KINDS.contains(&f.kind.as_str()) {
            e.push(FieldError::new(&at("kind"), "must be text, email, tel, textarea, select or checkbox"));
        }
        if f.kind == "select" && (f.options.is_empty() || f.options.len() > 100) {
            e.push(FieldError::new(&at("options"), "a select needs 1 to 100 options"));
        }
        if f.key == "email" && f.kind != "email" {
            e.push(FieldError::new(&at("kind"), "the email field must be of kind email"));
        }
    }
    match fields.iter().find(|f| f.key == "email") {
        Some(f) if f.required => {}
        _ => e.push(FieldError::new("fields", "a form needs a required email field (submissions are matched to contacts by email)")),
    }
    let consent = input.consent.unwrap_or(old.consent);
    if consent.enabled && (consent.wording.trim().is_empty() || consent.wording.chars().count() > 1000) {
        e.push(FieldError::new("consent.wording", "say what the visitor agrees to (at most 1,000 characters)"));
    }
    let redirect_url = match input.redirect_url {
        Some(u) => Some(u.trim().to_string()).filter(|u| !u.is_empty()),
        None => old.redirect_url,
    };
    if redirect_url.as_ref().is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2000 || u.contains(char::is_whitespace)) {
        e.push(FieldError::new("redirect_url", "must be an http(s) address"));
    }
    let assignment = input.assignment.unwrap_or(if old.assignment.mode.is_empty() { Assignment { mode: "none".into(), ..Default::default() } } else { old.assignment });
    if !["none", "round_robin", "rules"].contains(&assignment.mode.as_str()) {
        e.push(FieldError::new("assignment.mode", "must be none, round_robin or rules"));
    }
    if assignment.mode != "none" && assignment.users.is_empty() && assignment.rules.is_empty() {
        e.push(FieldError::new("assignment.users", "choose who gets the leads"));
    }
    if assignment.users.len() > 100 || assignment.users.iter().chain(assignment.rules.iter().map(|r| &r.user_id)).any(|u| !edge_http::ids::is_valid("u", u)) {
        e.push(FieldError::new("assignment.users", "must be up to 100 user ids"));
    }
    for (i, r) in assignment.rules.iter().enumerate() {
        if !fields.iter().any(|f| f.key == r.field) {
            e.push(FieldError::new(&format!("assignment.rules[{i}].field"), "is not a field of this form"));
        }
    }
    let tags: Vec<String> = input.tags.unwrap_or(old.tags).into_iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 50) {
        e.push(FieldError::new("tags", "up to 20 tags of at most 50 characters"));
    }
    let text = |v: Option<String>, old: Option<String>| match v {
        Some(v) => Some(v.trim().to_string()).filter(|v| !v.is_empty()),
        None => old,
    };
    let thank_you = text(input.thank_you, old.thank_you);
    let submit_label = text(input.submit_label, old.submit_label);
    let lifecycle_stage = text(input.lifecycle_stage, old.lifecycle_stage);
    if thank_you.as_ref().is_some_and(|t| t.chars().count() > 2000) || submit_label.as_ref().is_some_and(|t| t.chars().count() > 60) {
        e.push(FieldError::new("thank_you", "is too long"));
    }
    let def = Definition { fields, consent, submit_label, thank_you, redirect_url, assignment, notify_owner: input.notify_owner.unwrap_or(old.notify_owner), tags, lifecycle_stage };
    if e.is_empty() { Ok((name, status, def)) } else { Err(Invalid(e).into()) }
}

fn event<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, action: &str, before: Option<&Form>, after: Option<&Form>) -> Result<()> {
    let b = before.map(serde_json::to_value).transpose()?;
    let a = after.map(serde_json::to_value).transpose()?;
    edge_db::record::append_event(db, "automation_events", w, "form", id, action, b.as_ref(), a.as_ref())
}

/// No transaction of its own (the adapter runs it once per Idempotency-Key).
pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, input: FormInput) -> Result<Form> {
    let (name, status, def) = checked(input, None)?;
    let id = w.new_id(db, "forms", ID_PREFIX)?;
    let now = edge_db::now();
    db.run(
        "INSERT INTO forms (id, name, status, definition, created_by, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
        &[id.as_str().into(), name.into(), status.into(), serde_json::to_string(&def)?.into(), w.user_id().into(), now.as_str().into(), now.into()],
    )?;
    let f = get(db, &id)?.ok_or(NotFound)?;
    event(db, w, &id, "created", None, Some(&f))?;
    Ok(f)
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, input: FormInput, if_version: Option<i64>) -> Result<Form> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let (name, status, def) = checked(input, Some(&before))?;
        db.run(
            "UPDATE forms SET name = ?, status = ?, definition = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            &[name.into(), status.into(), serde_json::to_string(&def)?.into(), edge_db::now().into(), id.into()],
        )?;
        let after = get(db, id)?.ok_or(NotFound)?;
        event(db, w, id, "updated", Some(&before), Some(&after))?;
        Ok(after)
    })
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str) -> Result<()> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        db.run("UPDATE forms SET deleted_at = ?, status = 'inactive', version = version + 1 WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        event(db, w, id, "deleted", Some(&before), None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn contact_form() -> FormInput {
        serde_json::from_value(json!({
            "name": "Contact us",
            "fields": [
                {"key": "first_name", "label": "First name", "required": true},
                {"key": "email", "label": "Email", "kind": "email", "required": true},
                {"key": "custom.country", "label": "Country", "kind": "select", "options": ["DE", "FR", "US"]},
                {"key": "message", "label": "How can we help?", "kind": "textarea"},
            ],
            "consent": {"enabled": true, "wording": "Send me news about products (you can unsubscribe any time).", "required": false},
            "assignment": {"mode": "rules", "users": ["u_01HZZZZZZZZZZZZZZZZZZZZZZA", "u_01HZZZZZZZZZZZZZZZZZZZZZZB"], "rules": [{"field": "custom.country", "value": "fr", "user_id": "u_01HZZZZZZZZZZZZZZZZZZZZZZC"}]},
            "tags": ["web lead"],
        })).unwrap()
    }

    #[test]
    fn forms_need_an_email_and_sane_fields() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let f = create(&db, &w, contact_form()).unwrap();
        assert_eq!((f.status.as_str(), f.def.fields.len(), f.def.assignment.mode.as_str()), ("active", 4, "rules"));
        let bad: FormInput = serde_json::from_value(json!({"name": "X", "fields": [{"key": "shoe", "label": ""}, {"key": "email", "label": "Mail"}], "redirect_url": "javascript:alert(1)"})).unwrap();
        let err = create(&db, &w, bad).unwrap_err();
        let Invalid(fields) = err.downcast_ref::<Invalid>().unwrap();
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, vec!["fields[0].key", "fields[0].label", "fields[1].kind", "fields", "redirect_url"]);
        let off = update(&db, &w, &f.id, FormInput { status: Some("inactive".into()), ..Default::default() }, Some(1)).unwrap();
        assert_eq!((off.status.as_str(), off.version, off.def.fields.len()), ("inactive", 2, 4));
    }
}
