//! A form submission: checked (honeypot, rate limit per client, sizes,
//! required fields, formats), recorded, then turned into what the contacts
//! API is asked for (a contact upsert and a timeline note) and an owner.
//! Spam and bad input never reach the contacts.

use crate::forms::{Field, Form};
use anyhow::Result;
use edge_db::record::Writer;
use edge_db::Db;
use edge_http::FieldError;
use serde_json::{json, Map, Value};
use sha2::Digest;

/// The honeypot: a field people never see (and bots fill in).
pub const HONEYPOT: &str = "website_url";
/// Submissions per client and form within [`WINDOW_SECS`].
pub const RATE_LIMIT: i64 = 5;
pub const WINDOW_SECS: i64 = 600;
/// The largest submission accepted, in bytes.
pub const MAX_BYTES: usize = 32 * 1024;
/// Context kept with a submission (where and from which campaign it came).
pub const CONTEXT_KEYS: [&str; 7] = ["page", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

/// What became of a submission before any record is touched.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Clean: the values by field key, whether consent was given, and context.
    Accepted { values: Map<String, Value>, consent: bool, context: Map<String, Value> },
    /// Kept for the record, creates nothing (`honeypot`, `rate-limit`).
    Spam(&'static str),
    Invalid(Vec<FieldError>),
}

fn valid_email(e: &str) -> bool {
    let Some((user, domain)) = e.split_once('@') else { return false };
    !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && e.len() <= 254 && !e.contains(char::is_whitespace)
}

fn limit(f: &Field) -> usize {
    if f.kind == "textarea" { 5000 } else { 300 }
}

/// Judges `input` (the posted fields as text) against the form.
pub fn judge(form: &Form, input: &Map<String, Value>) -> Verdict {
    if input.get(HONEYPOT).and_then(Value::as_str).is_some_and(|v| !v.trim().is_empty()) {
        return Verdict::Spam("honeypot");
    }
    let text = |k: &str| input.get(k).map(|v| match v {
        Value::String(s) => s.trim().to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }).unwrap_or_default();
    let mut e = Vec::new();
    let mut values = Map::new();
    for f in &form.def.fields {
        let v = text(&f.key);
        if v.is_empty() {
            if f.required {
                e.push(FieldError::new(&f.key, &format!("{} is required", f.label)));
            }
            continue;
        }
        if v.chars().count() > limit(f) {
            e.push(FieldError::new(&f.key, &format!("{} is too long (at most {} characters)", f.label, limit(f))));
            continue;
        }
        match f.kind.as_str() {
            "email" if !valid_email(&v) => e.push(FieldError::new(&f.key, &format!("{} must be an email address", f.label))),
            "select" if !f.options.iter().any(|o| o == &v) => e.push(FieldError::new(&f.key, &format!("{} must be one of the choices", f.label))),
            "checkbox" => {
                values.insert(f.key.clone(), Value::Bool(["on", "true", "yes", "1"].contains(&v.to_lowercase().as_str())));
            }
            _ => {
                values.insert(f.key.clone(), Value::String(v));
            }
        }
    }
    let consent = ["on", "true", "yes", "1"].contains(&text("consent").to_lowercase().as_str());
    if form.def.consent.enabled && form.def.consent.required && !consent {
        e.push(FieldError::new("consent", "Please agree to continue"));
    }
    if !e.is_empty() {
        return Verdict::Invalid(e);
    }
    let mut context = Map::new();
    for k in CONTEXT_KEYS {
        let v = text(k);
        if !v.is_empty() {
            context.insert(k.into(), Value::String(v.chars().take(500).collect()));
        }
    }
    Verdict::Accepted { values, consent: form.def.consent.enabled && consent, context }
}

/// A visitor's text as the contact's custom field of `kind` (as the contacts
/// API names kinds) takes it; an error says what the visitor should type.
pub fn typed(kind: &str, text: &str) -> Result<Value, &'static str> {
    let t = text.trim();
    match kind {
        "number" => t.replace(',', "").parse::<f64>().map(|n| json!(n)).map_err(|_| "must be a number"),
        "money" => {
            let clean = t.replace([',', ' '], "");
            let (whole, frac) = clean.split_once('.').unwrap_or((&clean, ""));
            if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err("must be an amount such as 1234.50");
            }
            let cents: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
            whole.parse::<i64>().ok().and_then(|w| w.checked_mul(100)).and_then(|w| w.checked_add(cents)).map(Value::from).ok_or("is too large")
        }
        "checkbox" => Ok(Value::Bool(["on", "true", "yes", "1"].contains(&t.to_lowercase().as_str()))),
        "multi-select" => Ok(Value::Array(t.split([';', '|', ',']).map(|x| Value::String(x.trim().to_string())).filter(|x| x.as_str() != Some("")).collect())),
        _ => Ok(Value::String(t.to_string())),
    }
}

/// A stable, non-reversible key for a client's IP address (kept instead of
/// the address; the port of `ip:port` is dropped, it changes per connection).
pub fn client_key(address: &str) -> String {
    let a = address.trim();
    let ip = match a.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None if a.matches(':').count() == 1 => a.split(':').next().unwrap_or(a),
        None => a,
    };
    let d = sha2::Sha256::digest(ip.as_bytes());
    d.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Counts a submission from `client` to `form_id`; false once the client
/// sent [`RATE_LIMIT`] within the window. No transaction of its own.
pub fn within_rate<D: Db + ?Sized>(db: &D, form_id: &str, client: &str, now: i64) -> Result<bool> {
    let key = format!("{form_id}/{client}");
    let r = db.run("SELECT window_start, count FROM form_rate WHERE key = ?", &[key.as_str().into()])?;
    let (start, count) = r.first().map(|r| (r.i64(0).unwrap_or(0), r.i64(1).unwrap_or(0))).unwrap_or((now, 0));
    let (start, count) = if now - start >= WINDOW_SECS { (now, 0) } else { (start, count) };
    db.run(
        "INSERT INTO form_rate (key, window_start, count) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, count = excluded.count",
        &[key.into(), start.into(), (count + 1).into()],
    )?;
    // Old windows go (a bounded table whatever the traffic).
    db.run("DELETE FROM form_rate WHERE window_start < ?", &[(now - 2 * WINDOW_SECS).into()])?;
    Ok(count < RATE_LIMIT)
}

/// Records a submission; answers its id. No transaction of its own.
pub fn record<D: Db + ?Sized>(db: &D, w: &Writer, form_id: &str, status: &str, reason: Option<&str>, data: &Value, context: &Value, client: &str) -> Result<String> {
    let id = w.new_id(db, "form_submissions", "fs")?;
    db.run(
        "INSERT INTO form_submissions (id, form_id, status, reason, data, context, client, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[id.as_str().into(), form_id.into(), status.into(), reason.into(), data.to_string().into(), context.to_string().into(), client.into(), edge_db::now().into()],
    )?;
    Ok(id)
}

/// Who gets the lead: the first matching rule, else the next in the
/// rotation (fair: each user in turn, per form). No transaction of its own.
pub fn assign<D: Db + ?Sized>(db: &D, form: &Form, values: &Map<String, Value>) -> Result<Option<String>> {
    let a = &form.def.assignment;
    if a.mode == "none" {
        return Ok(None);
    }
    if a.mode == "rules" {
        for r in &a.rules {
            if values.get(&r.field).and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(r.value.trim())) {
                return Ok(Some(r.user_id.clone()));
            }
        }
    }
    if a.users.is_empty() {
        return Ok(None);
    }
    let next = db.run("SELECT next FROM form_rotation WHERE form_id = ?", &[form.id.as_str().into()])?.scalar_i64().unwrap_or(0);
    let pick = a.users[(next as usize) % a.users.len()].clone();
    db.run(
        "INSERT INTO form_rotation (form_id, next) VALUES (?, ?) ON CONFLICT (form_id) DO UPDATE SET next = excluded.next",
        &[form.id.as_str().into(), ((next + 1) % a.users.len() as i64).into()],
    )?;
    Ok(Some(pick))
}

/// The contact fields a submission sets: mapped fields (custom ones under
/// `custom`), source, tags, consent if given; for a new contact also the
/// owner and lifecycle stage.
pub fn contact_fields(form: &Form, values: &Map<String, Value>, consent: bool, owner: Option<&str>, new: bool) -> Value {
    let mut c = Map::new();
    let mut custom = Map::new();
    for (k, v) in values {
        match k.strip_prefix("custom.") {
            Some(key) => {
                custom.insert(key.to_string(), v.clone());
            }
            None if k != "message" => {
                c.insert(k.clone(), v.clone());
            }
            None => {}
        }
    }
    if !custom.is_empty() {
        c.insert("custom".into(), Value::Object(custom));
    }
    if consent {
        c.insert("consent".into(), json!({"email": "granted"}));
    }
    if new {
        c.insert("source".into(), format!("Web form: {}", form.name).into());
        if let Some(o) = owner {
            c.insert("owner_id".into(), o.into());
        }
        if let Some(s) = &form.def.lifecycle_stage {
            c.insert("lifecycle_stage".into(), s.clone().into());
        }
    }
    Value::Object(c)
}

/// The timeline note: every answer by its label, where it came from, and the
/// consent wording agreed to.
pub fn note(form: &Form, values: &Map<String, Value>, consent: bool, context: &Map<String, Value>) -> (String, String) {
    let mut body = String::new();
    for f in &form.def.fields {
        if let Some(v) = values.get(&f.key) {
            let shown = match v {
                Value::Bool(b) => if *b { "yes".to_string() } else { "no".to_string() },
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            body.push_str(&format!("{}: {}\n", f.label, shown));
        }
    }
    if form.def.consent.enabled {
        body.push_str(&format!("Consent ({}): {}\n", form.def.consent.wording, if consent { "given" } else { "not given" }));
    }
    for (k, v) in context {
        body.push_str(&format!("{k}: {}\n", v.as_str().unwrap_or_default()));
    }
    (format!("Web form submitted: {}", form.name), body.trim_end().to_string())
}

/// The submission's outcome, once the contacts API has it.
pub fn processed<D: Db + ?Sized>(db: &D, id: &str, contact_id: &str, owner: Option<&str>) -> Result<()> {
    db.run("UPDATE form_submissions SET contact_id = ?, owner_id = ?, processed_at = ? WHERE id = ?", &[contact_id.into(), owner.into(), edge_db::now().into(), id.into()])?;
    Ok(())
}

/// A clean submission the contacts did not take (kept for staff, not counted).
pub fn failed<D: Db + ?Sized>(db: &D, id: &str, why: &str) -> Result<()> {
    db.run("UPDATE form_submissions SET status = 'failed', reason = ? WHERE id = ?", &[why.chars().take(500).collect::<String>().into(), id.into()])?;
    Ok(())
}

pub fn list<D: Db + ?Sized>(db: &D, form_id: &str, limit: i64) -> Result<Vec<Value>> {
    let r = db.run(
        "SELECT id, status, reason, contact_id, owner_id, data, context, created_at, processed_at FROM form_submissions WHERE form_id = ? ORDER BY id DESC LIMIT ?",
        &[form_id.into(), limit.into()],
    )?;
    Ok(r.iter().map(|r| json!({
        "id": r.str(0), "status": r.str(1), "reason": r.str(2), "contact_id": r.str(3), "owner_id": r.str(4),
        "data": serde_json::from_str::<Value>(r.str(5).unwrap_or("{}")).unwrap_or_default(),
        "context": serde_json::from_str::<Value>(r.str(6).unwrap_or("{}")).unwrap_or_default(),
        "created_at": r.str(7), "processed_at": r.str(8),
    })).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms;

    fn form() -> (edge_db::native::Connection, Form) {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let input: forms::FormInput = serde_json::from_value(json!({
            "name": "Contact us",
            "fields": [
                {"key": "first_name", "label": "First name", "required": true},
                {"key": "email", "label": "Email", "kind": "email", "required": true},
                {"key": "custom.country", "label": "Country", "kind": "select", "options": ["DE", "FR", "US"]},
                {"key": "message", "label": "How can we help?", "kind": "textarea"},
            ],
            "consent": {"enabled": true, "wording": "Send me news.", "required": false},
            "assignment": {"mode": "rules", "users": ["u_01HZZZZZZZZZZZZZZZZZZZZZZA", "u_01HZZZZZZZZZZZZZZZZZZZZZZB"], "rules": [{"field": "custom.country", "value": "fr", "user_id": "u_01HZZZZZZZZZZZZZZZZZZZZZZC"}]},
        })).unwrap();
        let f = forms::create(&db, &w, input).unwrap();
        (db, f)
    }

    fn input(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn judging_submissions() {
        let (_, f) = form();
        let ok = judge(&f, &input(json!({"first_name": " Ann ", "email": "ann@example.com", "custom.country": "FR", "consent": "on", "utm_source": "newsletter", "page": "https://acme.example/contact", "extra": "ignored"})));
        let Verdict::Accepted { values, consent, context } = ok else { panic!("{ok:?}") };
        assert_eq!(Value::Object(values.clone()), json!({"first_name": "Ann", "email": "ann@example.com", "custom.country": "FR"}));
        assert!(consent);
        assert_eq!(Value::Object(context.clone()), json!({"page": "https://acme.example/contact", "utm_source": "newsletter"}));
        assert_eq!(contact_fields(&f, &values, consent, Some("u_x"), true), json!({"first_name": "Ann", "email": "ann@example.com", "custom": {"country": "FR"}, "consent": {"email": "granted"}, "source": "Web form: Contact us", "owner_id": "u_x"}));
        let (subject, body) = note(&f, &values, consent, &context);
        assert_eq!(subject, "Web form submitted: Contact us");
        assert!(body.contains("Country: FR") && body.contains("Consent (Send me news.): given") && body.contains("utm_source: newsletter"), "{body}");
        assert_eq!(judge(&f, &input(json!({"first_name": "Bot", "email": "b@x.io", HONEYPOT: "http://spam"}))), Verdict::Spam("honeypot"));
        let Verdict::Invalid(e) = judge(&f, &input(json!({"email": "not-an-email", "custom.country": "XX", "message": "x".repeat(6000)}))) else { panic!() };
        assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), vec!["first_name", "email", "custom.country", "message"]);
    }

    #[test]
    fn answers_typed_for_custom_fields() {
        assert_eq!(typed("number", "1,250.5"), Ok(json!(1250.5)));
        assert_eq!(typed("number", "many"), Err("must be a number"));
        assert_eq!(typed("money", "1234.5"), Ok(json!(123_450)));
        assert_eq!(typed("money", "12"), Ok(json!(1_200)));
        assert!(typed("money", "12.345").is_err() && typed("money", "-5").is_err());
        assert_eq!(typed("multi-select", "red; blue|"), Ok(json!(["red", "blue"])));
        assert_eq!(typed("checkbox", "on"), Ok(json!(true)));
        assert_eq!(typed("date", "2027-01-01"), Ok(json!("2027-01-01")));
    }

    #[test]
    fn clients_are_their_address_not_their_port() {
        assert_eq!(client_key("10.0.0.1:5000"), client_key("10.0.0.1:6000"));
        assert_eq!(client_key("[2001:db8::1]:5000"), client_key("[2001:db8::1]:6000"));
        assert_eq!(client_key("2001:db8::1"), client_key("[2001:db8::1]:1"));
        assert_ne!(client_key("10.0.0.1:5000"), client_key("10.0.0.2:5000"));
    }

    #[test]
    fn rate_limit_and_fair_rotation() {
        let (db, f) = form();
        let t = 1_000_000;
        let ok: Vec<bool> = (0..7).map(|i| within_rate(&db, &f.id, "k1", t + i).unwrap()).collect();
        assert_eq!(ok, vec![true, true, true, true, true, false, false]);
        assert!(within_rate(&db, &f.id, "k2", t).unwrap(), "another client");
        assert!(within_rate(&db, &f.id, "k1", t + WINDOW_SECS + 1).unwrap(), "a new window");
        let de = input(json!({"custom.country": "DE"}));
        let owners: Vec<String> = (0..4).map(|_| assign(&db, &f, &de).unwrap().unwrap()).collect();
        assert_eq!(owners, vec!["u_01HZZZZZZZZZZZZZZZZZZZZZZA", "u_01HZZZZZZZZZZZZZZZZZZZZZZB", "u_01HZZZZZZZZZZZZZZZZZZZZZZA", "u_01HZZZZZZZZZZZZZZZZZZZZZZB"]);
        assert_eq!(assign(&db, &f, &input(json!({"custom.country": "FR"}))).unwrap().as_deref(), Some("u_01HZZZZZZZZZZZZZZZZZZZZZZC"), "a rule first");
        assert_eq!(assign(&db, &f, &de).unwrap().as_deref(), Some("u_01HZZZZZZZZZZZZZZZZZZZZZZA"), "a rule does not skip anyone's turn");
    }
}
