//! Lead capture through the real host: a form built by staff, submitted by
//! the public (a plain HTML post and the embed script's JSON), becoming
//! exactly one contact and one note each, with owners in fair rotation and
//! the owner told; spam, bad and oversized input creating nothing.

use e2e::{json, scratch, Client, HostConfig, TestHost};
use serde_json::{json, Value};

fn form_post(h: &TestHost, id: &str, body: &str, accept_json: bool) -> e2e::Response {
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if accept_json {
        headers.push(("accept", "application/json"));
    }
    h.request("POST", "demo.localhost", &format!("/api/v1/forms/{id}/submit"), &headers, body.as_bytes())
}

fn contacts_with(c: &mut Client, email: &str) -> Vec<Value> {
    let f = json!({"field": "email", "op": "eq", "value": email}).to_string();
    let enc: String = f.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    json(&c.get(&format!("/api/v1/contacts?filter={enc}")))["items"].as_array().unwrap().clone()
}

fn notes_of(c: &mut Client, contact: &str) -> Vec<Value> {
    json(&c.get(&format!("/api/v1/contacts/{contact}/timeline")))["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "activity").cloned().collect()
}

#[test]
fn a_web_form_captures_leads_once_each_and_keeps_spam_out() {
    let h = TestHost::start(HostConfig::crm(&scratch("forms")));
    let mut c = h.signed_in_owner("demo");
    let (_, rep_a) = h.colleague(&mut c, "ana@demo.example", "sales");
    let (_, rep_b) = h.colleague(&mut c, "ben@demo.example", "sales");
    assert_eq!(c.post_json("/api/v1/custom-fields", &json!({"entity": "contact", "key": "country", "label": "Country", "kind": "select", "options": ["DE", "FR", "US"]})).status, 201);
    let r = c.post_json("/api/v1/forms", &json!({
        "name": "Contact us",
        "fields": [
            {"key": "first_name", "label": "First name", "required": true},
            {"key": "email", "label": "Email", "kind": "email", "required": true},
            {"key": "custom.country", "label": "Country", "kind": "select", "options": ["DE", "FR", "US"]},
            {"key": "message", "label": "How can we help?", "kind": "textarea"},
        ],
        "consent": {"enabled": true, "wording": "Send me product news; I can unsubscribe any time.", "required": false},
        "assignment": {"mode": "round_robin", "users": [rep_a, rep_b]},
        "notify_owner": true, "tags": ["web lead"], "lifecycle_stage": "lead",
        "thank_you": "Thanks, we will call you back today.",
    }));
    assert_eq!(r.status, 201, "{}", r.text());
    let form = json(&r);
    let id = form["id"].as_str().unwrap().to_string();
    assert_eq!(c.post_json("/api/v1/forms", &json!({"name": "No email", "fields": [{"key": "first_name", "label": "Name"}]})).status, 422);
    // Staff routes need a session; the public parts do not.
    assert_eq!(h.get("demo.localhost", "/api/v1/forms").status, 401);
    assert_eq!(h.get("demo.localhost", &format!("/api/v1/forms/{id}/submissions")).status, 401);
    let page = h.get("demo.localhost", &format!("/api/v1/forms/{id}/page?utm_source=ads"));
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("name=\"email\"") && html.contains("website_url") && html.contains("value=\"ads\"") && html.contains("I can unsubscribe any time"), "{html}");
    let js = h.get("demo.localhost", &format!("/api/v1/forms/{id}/embed.js"));
    assert_eq!((js.status, js.header("content-type")), (200, Some("text/javascript; charset=utf-8")));
    let embed = json(&c.get(&format!("/api/v1/forms/{id}/embed")));
    assert!(embed["script"].as_str().unwrap().contains(&format!("data-edge-form=\"{id}\"")));

    // A plain HTML post: one contact, one note, the first rep, the thank-you page.
    let r = form_post(&h, &id, "first_name=Zoe&email=Zoe%40Example.com&custom.country=FR&message=Need+20+tents&consent=on&utm_source=newsletter&utm_campaign=winter&page=https%3A%2F%2Fdemo.example%2Fcontact", false);
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.text().contains("we will call you back today"));
    let zoe = contacts_with(&mut c, "zoe@example.com");
    assert_eq!(zoe.len(), 1, "{zoe:?}");
    let z = &zoe[0];
    assert_eq!((z["owner_id"].as_str(), z["source"].as_str(), z["lifecycle_stage"].as_str()), (Some(rep_a.as_str()), Some("Web form: Contact us"), Some("lead")));
    assert_eq!((z["custom"]["country"].as_str(), z["consent"]["email"].as_str(), z["tags"][0].as_str()), (Some("FR"), Some("granted"), Some("web lead")));
    let zid = z["id"].as_str().unwrap().to_string();
    let notes = notes_of(&mut c, &zid);
    assert_eq!(notes.len(), 1);
    let body = notes[0]["activity"]["body"].as_str().unwrap();
    assert!(body.contains("How can we help?: Need 20 tents") && body.contains("utm_campaign: winter") && body.contains("Consent (Send me product news; I can unsubscribe any time.): given"), "{body}");
    // The owner was told.
    let outbox = json(&c.get("/api/v1/outbox"));
    assert!(outbox["items"].as_array().unwrap().iter().any(|m| m["to"] == "ana@demo.example" && m["subject"] == "New lead: Zoe"), "{outbox}");

    // The embed script's JSON post: the next rep in turn.
    let r = form_post(&h, &id, "first_name=Yan&email=yan%40example.com", true);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(json(&r)["message"], "Thanks, we will call you back today.");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(contacts_with(&mut c, "yan@example.com")[0]["owner_id"].as_str(), Some(rep_b.as_str()));
    // Zoe again: still one contact, now with two notes, her owner kept.
    assert_eq!(form_post(&h, &id, "first_name=Zoe&email=zoe%40example.com&message=Any+news%3F", true).status, 201);
    let zoe = contacts_with(&mut c, "zoe@example.com");
    assert_eq!((zoe.len(), zoe[0]["owner_id"].as_str()), (1, Some(rep_a.as_str())));
    assert_eq!(notes_of(&mut c, &zid).len(), 2);

    // Bad input: clear errors, nothing created, nothing counted.
    let r = form_post(&h, &id, "first_name=&email=not-an-email&custom.country=XX", true);
    assert_eq!(r.status, 422);
    let fields: Vec<String> = json(&r)["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, vec!["first_name", "email", "custom.country"]);
    let r = form_post(&h, &id, "first_name=&email=x", false);
    assert_eq!((r.status, r.header("content-type")), (422, Some("text/html; charset=utf-8")));
    assert!(r.text().contains("Please check your answers"));
    let big = format!("first_name=Big&email=big%40example.com&message={}", "x".repeat(40_000));
    assert_eq!(form_post(&h, &id, &big, true).status, 413);
    assert!(contacts_with(&mut c, "big@example.com").is_empty());
    // Spam: the honeypot is answered politely and creates nothing.
    let r = form_post(&h, &id, "first_name=Bot&email=bot%40spam.example&website_url=http%3A%2F%2Fcheap.example", true);
    assert_eq!(r.status, 200);
    assert!(contacts_with(&mut c, "bot@spam.example").is_empty());
    // Five from one address in ten minutes, then no more.
    assert_eq!(form_post(&h, &id, "first_name=Xi&email=xi%40example.com", true).status, 201);
    let r = form_post(&h, &id, "first_name=Wu&email=wu%40example.com", true);
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(contacts_with(&mut c, "wu@example.com").is_empty());
    // Claiming another address does not help: no proxy is trusted here.
    let spoofed = h.request("POST", "demo.localhost", &format!("/api/v1/forms/{id}/submit"), &[("content-type", "application/x-www-form-urlencoded"), ("accept", "application/json"), ("x-forwarded-for", "203.0.113.9")], b"first_name=Wu&email=wu%40example.com");
    assert_eq!(spoofed.status, 429);
    let subs = json(&c.get(&format!("/api/v1/forms/{id}/submissions")))["items"].as_array().unwrap().clone();
    let statuses: Vec<(&str, Option<&str>)> = subs.iter().map(|s| (s["status"].as_str().unwrap(), s["reason"].as_str())).collect();
    assert_eq!(statuses, vec![("spam", Some("rate-limit")), ("spam", Some("rate-limit")), ("accepted", None), ("spam", Some("honeypot")), ("accepted", None), ("accepted", None), ("accepted", None)]);
    assert_eq!(json(&c.get(&format!("/api/v1/forms/{id}")))["submissions"], 4);

    // Switched off: the public gets a clear 404.
    let v = format!("\"{}\"", json(&c.get(&format!("/api/v1/forms/{id}")))["version"]);
    assert_eq!(c.raw("PATCH", &format!("/api/v1/forms/{id}"), &[("content-type", "application/json"), ("if-match", &v)], br#"{"status":"inactive"}"#).status, 200);
    assert_eq!(form_post(&h, &id, "first_name=Vi&email=vi%40example.com", true).status, 404);
    assert_eq!(h.get("demo.localhost", &format!("/api/v1/forms/{id}/page")).status, 404);
}

#[test]
fn custom_fields_take_their_types_and_failures_are_not_leaked() {
    let h = TestHost::start(HostConfig::crm(&scratch("forms-custom")));
    let mut c = h.signed_in_owner("demo");
    assert_eq!(c.post_json("/api/v1/custom-fields", &json!({"entity": "contact", "key": "team_size", "label": "Team size", "kind": "number"})).status, 201);
    assert_eq!(c.post_json("/api/v1/custom-fields", &json!({"entity": "contact", "key": "budget", "label": "Budget", "kind": "money", "currency": "EUR"})).status, 201);
    let form = json(&c.post_json("/api/v1/forms", &json!({
        "name": "Quote", "fields": [
            {"key": "email", "label": "Email", "kind": "email", "required": true},
            {"key": "custom.team_size", "label": "Team size"},
            {"key": "custom.budget", "label": "Budget"},
        ],
    })));
    let id = form["id"].as_str().unwrap().to_string();
    let r = form_post(&h, &id, "email=team%40example.com&custom.team_size=twelve&custom.budget=lots", true);
    assert_eq!(r.status, 422, "{}", r.text());
    let fields: Vec<String> = json(&r)["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, vec!["custom.team_size", "custom.budget"]);
    assert!(contacts_with(&mut c, "team@example.com").is_empty());
    let r = form_post(&h, &id, "email=team%40example.com&custom.team_size=12&custom.budget=2500.50", true);
    assert_eq!(r.status, 201, "{}", r.text());
    let t = &contacts_with(&mut c, "team@example.com")[0];
    assert_eq!((t["custom"]["team_size"].as_f64(), t["custom"]["budget"].as_i64()), (Some(12.0), Some(250_050)), "{t}");
}
