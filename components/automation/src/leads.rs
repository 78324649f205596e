//! What a clean submission becomes, through the other components' APIs (as
//! the platform): the contact (matched by email, created or filled in), a
//! note on its timeline, and an email to its owner. Retries are safe: the
//! submission id is the Idempotency-Key of what is created.

use automation_domain::forms::Form;
use automation_domain::submissions;
use edge_component::Ctx;
use edge_http::Problem;
use serde_json::{json, Map, Value};
use spin_sdk::http::Method;

fn upstream(what: &str, e: impl std::fmt::Display) -> Problem {
    Problem::new(502, "upstream-failed", "Service unavailable", &format!("{what}: {e}"))
}

fn call(ctx: &Ctx, method: Method, component: &str, path: &str, body: Option<&Value>, key: Option<String>) -> Result<(u16, Value), Problem> {
    let extra: Vec<(&str, String)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    crate::platform_call(ctx, method, component, path, body, "system:forms", &extra).map_err(|e| upstream(component, e))
}


/// Creates or fills in the contact; answers its id and owner (an existing
/// contact keeps its owner).
pub fn upsert(ctx: &Ctx, f: &Form, sid: &str, values: &Map<String, Value>, consent: bool, owner: Option<&str>) -> Result<(String, Option<String>), Problem> {
    let email = values.get("email").and_then(Value::as_str).unwrap_or_default().to_lowercase();
    let filter = json!({"field": "email", "op": "eq", "value": email}).to_string();
    let (s, found) = call(ctx, Method::Get, "contacts", &format!("/api/v1/contacts?limit=1&filter={}", edge_http::query::encode(&filter)), None, None)?;
    if s != 200 {
        return Err(upstream("contacts", format!("answered {s}: {}", found["detail"])));
    }
    if let Some(existing) = found["items"].as_array().and_then(|a| a.first()) {
        let id = existing["id"].as_str().unwrap_or_default().to_string();
        let mut patch = submissions::contact_fields(f, values, consent, None, false);
        // Fill in, never blank out: only what the visitor gave; tags are added.
        let mut tags: Vec<Value> = existing["tags"].as_array().cloned().unwrap_or_default();
        for t in &f.def.tags {
            if !tags.iter().any(|x| x.as_str() == Some(t)) {
                tags.push(t.clone().into());
            }
        }
        patch["tags"] = tags.into();
        let mut owner_now = existing["owner_id"].as_str().map(String::from);
        if owner_now.is_none() {
            if let Some(o) = owner {
                patch["owner_id"] = o.into();
                owner_now = Some(o.to_string());
            }
        }
        let (s, v) = call(ctx, Method::Patch, "contacts", &format!("/api/v1/contacts/{id}"), Some(&patch), None)?;
        if s != 200 {
            return Err(upstream("contacts", format!("update answered {s}: {}", v["detail"])));
        }
        return Ok((id, owner_now));
    }
    let mut body = submissions::contact_fields(f, values, consent, owner, true);
    if !f.def.tags.is_empty() {
        body["tags"] = f.def.tags.clone().into();
    }
    let (s, v) = call(ctx, Method::Post, "contacts", "/api/v1/contacts", Some(&body), Some(format!("form-{sid}")))?;
    match s {
        200 | 201 => Ok((v["id"].as_str().unwrap_or_default().to_string(), owner.map(String::from))),
        s => Err(upstream("contacts", format!("create answered {s}: {}", v["detail"]))),
    }
}

/// The submission on the contact's timeline.
pub fn note(ctx: &Ctx, sid: &str, contact_id: &str, subject: &str, body: &str) -> Result<(), Problem> {
    let activity = json!({"kind": "note", "subject": subject, "body": body, "contact_id": contact_id});
    let (s, v) = call(ctx, Method::Post, "contacts", "/api/v1/activities", Some(&activity), Some(format!("form-note-{sid}")))?;
    if !(200..300).contains(&s) {
        return Err(upstream("contacts", format!("the note answered {s}: {}", v["detail"])));
    }
    Ok(())
}

/// Tells the owner about the new lead (best effort: the lead exists anyway).
pub fn notify(ctx: &Ctx, owner: &str, f: &Form, contact_id: &str, values: &Map<String, Value>) {
    let user = match call(ctx, Method::Get, "identity", &format!("/internal/users/{owner}"), None, None) {
        Ok((200, u)) if u["active"] == true => u,
        _ => return,
    };
    let base = ctx.header("edge-base-url").unwrap_or_default();
    let who = [values.get("first_name"), values.get("last_name")].iter().filter_map(|v| v.and_then(Value::as_str)).collect::<Vec<_>>().join(" ");
    let email = values.get("email").and_then(Value::as_str).unwrap_or_default();
    let text = format!(
        "Hi {},\n\n{} ({email}) filled in \"{}\" and is yours to follow up.\n\n{base}/contacts/{contact_id}\n",
        user["name"].as_str().unwrap_or("there"),
        if who.is_empty() { "Someone" } else { &who },
        f.name
    );
    let mail = json!({"to": user["email"], "subject": format!("New lead: {}", if who.is_empty() { email } else { &who }), "body_text": text});
    if let Err(p) = call(ctx, Method::Post, "identity", "/internal/mail", Some(&mail), None) {
        eprintln!("automation: lead notice to {owner} not queued: {}", p.detail);
    }
}

/// Converts the answers for custom fields to the fields' types, asking the
/// contacts API what they are; a field that no longer exists or an answer
/// of the wrong shape is the visitor's error to fix (nothing is recorded).
pub fn type_custom(ctx: &Ctx, f: &Form, values: &mut Map<String, Value>) -> Result<(), Problem> {
    if !values.keys().any(|k| k.starts_with("custom.")) {
        return Ok(());
    }
    let (s, defs) = call(ctx, Method::Get, "contacts", "/api/v1/custom-fields", None, None)?;
    if s != 200 {
        return Err(upstream("contacts", format!("custom fields answered {s}")));
    }
    let mut errors = Vec::new();
    // In the form's order, so errors read top to bottom.
    for field in &f.def.fields {
        let k = &field.key;
        let Some(key) = k.strip_prefix("custom.") else { continue };
        let Some(v) = values.get_mut(k) else { continue };
        let def = defs["items"].as_array().into_iter().flatten().find(|d| d["entity"] == "contact" && d["key"] == key);
        let label = field.label.clone();
        let Some(kind) = def.and_then(|d| d["kind"].as_str()) else {
            errors.push(edge_http::FieldError::new(k, &format!("{label} cannot be saved (the form needs updating)")));
            continue;
        };
        let text = match &*v {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            other => other.to_string(),
        };
        match submissions::typed(kind, &text) {
            Ok(t) => *v = t,
            Err(e) => errors.push(edge_http::FieldError::new(k, &format!("{label} {e}"))),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Problem::validation(errors)) }
}
