//! Workflow rules through the real host: triggers read from the published
//! change logs by the scheduler's tick, conditions on the record, actions
//! through the owning components' APIs; once per event, no loops, and a
//! disabled rule stops at once.

use e2e::{json, scratch, tick, Client, HostConfig, TestHost};
use serde_json::{json, Value};

fn rule(c: &mut Client, body: Value) -> String {
    let r = c.post_json("/api/v1/automations/rules", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)["id"].as_str().unwrap().to_string()
}

fn tasks(c: &mut Client, path: &str) -> Vec<String> {
    json(&c.get(&format!("{path}/timeline")))["items"].as_array().unwrap().iter()
        .filter(|e| e["activity"]["kind"] == "task").map(|e| e["activity"]["subject"].as_str().unwrap_or_default().to_string()).collect()
}

fn runs(c: &mut Client, rule: &str) -> Vec<Value> {
    json(&c.get(&format!("/api/v1/automations/rules/{rule}/runs")))["items"].as_array().unwrap().clone()
}

fn patch(c: &mut Client, path: &str, body: Value) {
    let v = json(&c.get(path))["version"].clone();
    let r = c.with_version("PATCH", path, v, &body);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn rules_fire_once_per_event_without_loops_and_stop_when_disabled() {
    let h = TestHost::start(HostConfig::crm(&scratch("rules")).with_tick());
    let mut c = h.signed_in_owner("demo");
    let me = json(&c.get("/api/v1/auth/me"))["user"]["id"].as_str().unwrap().to_string();
    let r = c.post_json("/api/v1/automations/rules", &json!({"name": "", "trigger": {"kind": "record_created"}, "actions": []}));
    assert_eq!(r.status, 422);
    let new_lead = rule(&mut c, json!({
        "name": "Call new leads", "trigger": {"kind": "record_created", "entity": "contact"},
        "conditions": [{"field": "lifecycle_stage", "op": "eq", "value": "lead"}],
        "actions": [{"kind": "create_task", "subject": "Call {{ name }}", "due_in_days": 1, "user": "owner"}, {"kind": "add_tag", "tag": "new-lead"}],
    }));
    let touched = rule(&mut c, json!({
        "name": "Mark retagged", "trigger": {"kind": "record_updated", "entity": "contact", "changed": ["tags"]},
        "actions": [{"kind": "add_tag", "tag": "touched"}],
    }));
    let won = rule(&mut c, json!({
        "name": "Welcome pack", "trigger": {"kind": "deal_won"},
        "actions": [{"kind": "create_task", "subject": "Send the welcome pack for {{ name }}", "due_in_days": 2}, {"kind": "update_field", "field": "next_step", "value": "Onboarding call"}],
    }));
    let never = rule(&mut c, json!({"name": "Off", "enabled": false, "trigger": {"kind": "record_created", "entity": "contact"}, "actions": [{"kind": "add_tag", "tag": "never"}]}));

    let mk = |c: &mut Client, first: &str, stage: &str| json(&c.post_json("/api/v1/contacts", &json!({"first_name": first, "last_name": "Rule", "email": format!("{}@example.com", first.to_lowercase()), "lifecycle_stage": stage, "owner_id": me})))["id"].as_str().unwrap().to_string();
    let ann = mk(&mut c, "Ann", "lead");
    let bob = mk(&mut c, "Bob", "customer");
    tick(&h);
    assert_eq!(tasks(&mut c, &format!("/api/v1/contacts/{ann}")), vec!["Call Ann Rule"]);
    let ann_now = json(&c.get(&format!("/api/v1/contacts/{ann}")));
    assert_eq!(ann_now["tags"], json!(["new-lead"]), "{ann_now}");
    assert!(tasks(&mut c, &format!("/api/v1/contacts/{bob}")).is_empty(), "Bob is no lead");
    let statuses: Vec<String> = runs(&mut c, &new_lead).iter().map(|r| r["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses, vec!["skipped", "done"], "Bob's run skipped on its conditions, Ann's done");
    // Ticking again does nothing new: once per event.
    tick(&h);
    assert_eq!(runs(&mut c, &new_lead).len(), 2);
    assert_eq!(tasks(&mut c, &format!("/api/v1/contacts/{ann}")).len(), 1);
    // The rule's own tag did not count as a retagging (rules do not trigger rules).
    assert!(runs(&mut c, &touched).is_empty());
    // A person retags Ann: the rule fires once; its own change starts no loop.
    patch(&mut c, &format!("/api/v1/contacts/{ann}"), json!({"tags": ["new-lead", "vip"]}));
    tick(&h);
    tick(&h);
    assert_eq!(runs(&mut c, &touched).len(), 1);
    assert_eq!(json(&c.get(&format!("/api/v1/contacts/{ann}")))["tags"], json!(["new-lead", "vip", "touched"]));
    // A won deal.
    let deal = json(&c.post_json("/api/v1/deals", &json!({"title": "Ann's tents", "value": 120_000, "contact_id": ann})));
    let did = deal["id"].as_str().unwrap().to_string();
    patch(&mut c, &format!("/api/v1/deals/{did}"), json!({"status": "won"}));
    tick(&h);
    assert_eq!(tasks(&mut c, &format!("/api/v1/contacts/{ann}")), vec!["Send the welcome pack for Ann's tents", "Call Ann Rule"]);
    assert_eq!(json(&c.get(&format!("/api/v1/deals/{did}")))["next_step"], "Onboarding call");
    assert_eq!(runs(&mut c, &won)[0]["status"], "done");
    // The disabled rule never ran; disabling a rule stops it at once.
    assert!(runs(&mut c, &never).is_empty());
    patch(&mut c, &format!("/api/v1/automations/rules/{new_lead}"), json!({"enabled": false}));
    let cy = mk(&mut c, "Cy", "lead");
    tick(&h);
    assert!(tasks(&mut c, &format!("/api/v1/contacts/{cy}")).is_empty());
    assert_eq!(runs(&mut c, &new_lead).len(), 2);
    // Every run is on record.
    let all = json(&c.get("/api/v1/automations/runs"))["items"].as_array().unwrap().len();
    assert_eq!(all, 4, "two for new leads, one retag, one won deal");
}

#[test]
fn email_and_sequence_actions_respect_consent() {
    let h = TestHost::start(HostConfig::crm(&scratch("rules-mail")).with_tick());
    let mut c = h.signed_in_owner("demo");
    let tpl = json(&c.post_json("/api/v1/templates", &json!({"name": "Welcome", "subject": "Welcome, {{ contact.first_name }}", "text": "Good to have you."})));
    let list = json(&c.post_json("/api/v1/segments", &json!({"name": "Nobody", "kind": "static"})));
    let seq = json(&c.post_json("/api/v1/sequences", &json!({"name": "Onboarding", "segment_id": list["id"], "steps": [{"delay_minutes": 60, "subject": "Tips", "text": "…"}]})));
    assert_eq!(c.post_json(&format!("/api/v1/sequences/{}/activate", seq["id"].as_str().unwrap()), &json!({})).status, 200);
    let r = c.post_json("/api/v1/automations/rules", &json!({"name": "Bad", "trigger": {"kind": "record_created", "entity": "contact"}, "actions": [{"kind": "send_email"}]}));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("actions[0].template_id")));
    let welcome = rule(&mut c, json!({
        "name": "Welcome customers", "trigger": {"kind": "record_updated", "entity": "contact", "changed": ["lifecycle_stage"]},
        "conditions": [{"field": "lifecycle_stage", "op": "eq", "value": "customer"}],
        "actions": [{"kind": "send_email", "template_id": tpl["id"]}, {"kind": "enrol_in_sequence", "sequence_id": seq["id"]}],
    }));
    let mk = |c: &mut Client, first: &str, consent: &str| json(&c.post_json("/api/v1/contacts", &json!({"first_name": first, "email": format!("{}@example.com", first.to_lowercase()), "lifecycle_stage": "lead", "consent": {"email": consent}})))["id"].as_str().unwrap().to_string();
    let ann = mk(&mut c, "Ann", "granted");
    let bob = mk(&mut c, "Bob", "denied");
    for id in [&ann, &bob] {
        patch(&mut c, &format!("/api/v1/contacts/{id}"), json!({"lifecycle_stage": "customer"}));
    }
    tick(&h);
    let mail = |c: &mut Client, id: &str| json(&c.get(&format!("/api/v1/engagement/{id}")))["items"].as_array().unwrap().clone();
    let anns = mail(&mut c, &ann);
    assert_eq!(anns.len(), 1);
    assert_eq!(anns[0]["subject"], "Welcome, Ann");
    assert!(mail(&mut c, &bob).is_empty(), "Bob said no to email");
    let results: Vec<Value> = runs(&mut c, &welcome).iter().map(|r| r["results"][0]["detail"].clone()).collect();
    assert!(results.iter().any(|d| d.as_str() == Some("not sent: unsubscribed")), "{results:?}");
    let enrolled = json(&c.get(&format!("/api/v1/sequences/{}/enrolments", seq["id"].as_str().unwrap())))["items"].as_array().unwrap().len();
    assert_eq!(enrolled, 2, "both enter the sequence; its steps check consent as they go out");
    tick(&h);
    assert_eq!(mail(&mut c, &ann).len(), 1, "once per event");

    // "Welcome on a first order": two orders from Ann arrive before the next
    // tick; only the first is her first (the recipe's condition).
    let thanks = json(&c.post_json("/api/v1/templates", &json!({"name": "First order", "subject": "Thanks for your first order, {{ contact.first_name }}", "text": "…"})));
    let first = rule(&mut c, json!({
        "name": "Welcome new customers", "trigger": {"kind": "record_created", "entity": "order"},
        "conditions": [{"field": "order_number", "op": "eq", "value": 1}], "actions": [{"kind": "send_email", "template_id": thanks["id"]}],
    }));
    for (ext, days_ago) in [("ann-1", 3), ("ann-2", 1)] {
        let at = (chrono::Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339();
        let r = c.send("PUT", &format!("/api/v1/orders/by-external-id/{ext}"), Some(json!({"customer": {"email": "ann@example.com"}, "currency": "EUR", "items": [{"product": "Tent", "quantity": 1, "unit_price": 9_900}], "placed_at": at, "status": "paid"})));
        assert!(r.status < 300, "{}", r.text());
    }
    tick(&h);
    let subjects: Vec<String> = mail(&mut c, &ann).iter().map(|m| m["subject"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(subjects.iter().filter(|s| s.starts_with("Thanks for your first order")).count(), 1, "{subjects:?}");
    let statuses: Vec<(String, String)> = runs(&mut c, &first).iter().map(|r| (r["status"].as_str().unwrap_or_default().to_string(), r["error"].as_str().unwrap_or_default().to_string())).collect();
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    assert!(statuses.iter().any(|(s, e)| s == "skipped" && e.contains("conditions")), "the second order is no first: {statuses:?}");
}

#[test]
fn date_rules_fire_once_per_contact_and_day_across_restarts() {
    let cfg = HostConfig::crm(&scratch("rules-dates")).with_tick();
    let h = TestHost::start(cfg.clone());
    let mut c = h.signed_in_owner("demo");
    assert_eq!(c.post_json("/api/v1/custom-fields", &json!({"entity": "contact", "key": "renewal_date", "label": "Renewal", "kind": "date"})).status, 201);
    let r = c.post_json("/api/v1/automations/rules", &json!({"name": "Bad", "trigger": {"kind": "date", "field": "custom.shoe_size", "offset_days": -30}, "actions": [{"kind": "add_tag", "tag": "x"}]}));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("trigger.field")), "{}", r.text());
    let today = chrono::Utc::now().date_naive();
    let mk = |c: &mut Client, first: &str, days: i64| json(&c.post_json("/api/v1/contacts", &json!({"first_name": first, "custom": {"renewal_date": (today + chrono::Duration::days(days)).to_string()}})))["id"].as_str().unwrap().to_string();
    let ann = mk(&mut c, "Ann", 30);
    let bob = mk(&mut c, "Bob", 45);
    let renewal = rule(&mut c, json!({
        "name": "Renewal in a month", "trigger": {"kind": "date", "field": "custom.renewal_date", "offset_days": -30, "time_zone": "UTC"},
        "actions": [{"kind": "create_task", "subject": "Renewal coming: {{ name }}", "due_in_days": 7}],
    }));
    // Birthdays: the month and day, any year.
    assert_eq!(c.post_json("/api/v1/custom-fields", &json!({"entity": "contact", "key": "birthday", "label": "Birthday", "kind": "date"})).status, 201);
    let born = |years: i32| chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today) - years, chrono::Datelike::month(&today), chrono::Datelike::day(&today).min(28)).unwrap();
    let cy = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Cy", "custom": {"birthday": born(30).to_string()}})))["id"].as_str().unwrap().to_string();
    rule(&mut c, json!({"name": "Birthday", "trigger": {"kind": "date", "field": "custom.birthday", "offset_days": 0, "yearly": true}, "actions": [{"kind": "create_task", "subject": "Send {{ name }} a card"}]}));
    tick(&h);
    if chrono::Datelike::day(&today) <= 28 {
        assert_eq!(tasks(&mut c, &format!("/api/v1/contacts/{cy}")), vec!["Send Cy a card"]);
    }
    assert_eq!(tasks(&mut c, &format!("/api/v1/contacts/{ann}")), vec!["Renewal coming: Ann"]);
    assert!(tasks(&mut c, &format!("/api/v1/contacts/{bob}")).is_empty());
    tick(&h);
    // A restart changes nothing: the day is done, and its runs are on record.
    drop(h);
    let h = TestHost::start(cfg);
    c.addr = h.addr;
    tick(&h);
    assert_eq!(tasks(&mut c, &format!("/api/v1/contacts/{ann}")).len(), 1);
    assert_eq!(runs(&mut c, &renewal).len(), 1);
}

#[test]
fn webhooks_are_signed_go_only_to_the_allowed_host_and_retry() {
    let (ok, got) = e2e::fake_receiver(200);
    let (down, tried) = e2e::fake_receiver(503);
    for (name, receiver, works) in [("rules-hook-ok", ok, true), ("rules-hook-down", down, false)] {
        let mut cfg = HostConfig::crm(&scratch(name)).with_tick();
        // The second receiver is allowed through the second slot (up to three origins).
        let slot = if works { "SPIN_VARIABLE_WEBHOOK_HOST" } else { "SPIN_VARIABLE_WEBHOOK_HOST_2" };
        cfg.env.push((slot.into(), format!("http://{receiver}")));
        let h = TestHost::start(cfg);
        let mut c = h.signed_in_owner("demo");
        let r = c.post_json("/api/v1/automations/rules", &json!({"name": "Elsewhere", "trigger": {"kind": "deal_won"}, "actions": [{"kind": "webhook", "url": "https://attacker.example/x"}]}));
        assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("actions[0].url")), "{}", r.text());
        let hook = rule(&mut c, json!({"name": "Tell the ERP", "trigger": {"kind": "deal_won"}, "actions": [{"kind": "webhook", "url": format!("http://{receiver}/hooks/deals")}]}));
        let deal = json(&c.post_json("/api/v1/deals", &json!({"title": "Big one", "value": 90_000})));
        patch(&mut c, &format!("/api/v1/deals/{}", deal["id"].as_str().unwrap()), json!({"status": "won"}));
        tick(&h);
        if works {
            let secret = json(&c.get("/api/v1/automations/webhook-secret"))["secret"].as_str().unwrap().to_string();
            let got = got.lock().unwrap();
            assert_eq!(got.len(), 1);
            let (headers, body) = &got[0];
            assert_eq!(body["record"]["title"], "Big one");
            let sig = e2e::header_of(headers, "x-edge-signature").expect("signed");
            let t: i64 = sig.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
            // The receiver checks the signature over the body (compact JSON, as sent).
            let expected = campaigns_domain::sign::hex(&campaigns_domain::sign::hmac_sha256(secret.as_bytes(), format!("{t}.{body}").as_bytes()));
            assert!(sig.ends_with(&format!("v1={expected}")), "{sig}");
            let forged = campaigns_domain::sign::hex(&campaigns_domain::sign::hmac_sha256(b"another tenant", format!("{t}.{body}").as_bytes()));
            assert!(!sig.ends_with(&forged));
            assert_eq!(runs(&mut c, &hook)[0]["status"], "done");
        } else {
            assert_eq!(runs(&mut c, &hook)[0]["status"], "pending", "retried on the next tick");
            tick(&h);
            tick(&h);
            let run = &runs(&mut c, &hook)[0];
            assert_eq!((run["status"].as_str(), run["attempts"].as_i64()), (Some("failed"), Some(3)), "{run}");
            assert_eq!(tried.lock().unwrap().len(), 3);
        }
    }
}

#[test]
fn joining_a_segment_fires_once_for_those_who_join_after_the_rule() {
    let h = TestHost::start(HostConfig::crm(&scratch("rules-segment")).with_tick());
    let mut c = h.signed_in_owner("demo");
    let mk = |c: &mut Client, first: &str| json(&c.post_json("/api/v1/contacts", &json!({"first_name": first})))["id"].as_str().unwrap().to_string();
    let (ann, bob) = (mk(&mut c, "Ann"), mk(&mut c, "Bob"));
    let list = json(&c.post_json("/api/v1/segments", &json!({"name": "VIP list", "kind": "static"})))["id"].as_str().unwrap().to_string();
    assert_eq!(c.post_json(&format!("/api/v1/segments/{list}/members"), &json!({"contact_ids": [ann]})).status, 200);
    let r = c.post_json("/api/v1/automations/rules", &json!({"name": "Bad", "trigger": {"kind": "segment_joined"}, "actions": [{"kind": "add_tag", "tag": "x"}]}));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("trigger.segment_id")));
    let welcome = rule(&mut c, json!({"name": "Welcome VIPs", "trigger": {"kind": "segment_joined", "segment_id": list}, "actions": [{"kind": "create_task", "subject": "Welcome {{ name }} to the VIP list"}]}));
    tick(&h);
    assert!(runs(&mut c, &welcome).is_empty(), "Ann was in before the rule");
    assert_eq!(c.post_json(&format!("/api/v1/segments/{list}/members"), &json!({"contact_ids": [bob]})).status, 200);
    tick(&h);
    tick(&h);
    assert_eq!(tasks(&mut c, &format!("/api/v1/contacts/{bob}")), vec!["Welcome Bob to the VIP list"]);
    assert!(tasks(&mut c, &format!("/api/v1/contacts/{ann}")).is_empty());
    assert_eq!(runs(&mut c, &welcome).len(), 1);
}

#[test]
fn a_date_rule_without_a_zone_counts_days_in_the_workspaces() {
    let h = TestHost::start(HostConfig::crm(&scratch("rules-workspace-zone")).with_tick());
    let mut c = h.signed_in_owner("demo");
    assert_eq!(json(&c.get("/api/v1/settings/workspace"))["time_zone"], "UTC", "the default");
    assert_eq!(c.send("PUT", "/api/v1/settings/workspace", Some(json!({"time_zone": "Mars/Base"}))).status, 422);
    // Kiritimati is UTC+14 all year: from 10:00 UTC on it is already tomorrow there.
    let r = c.send("PUT", "/api/v1/settings/workspace", Some(json!({"time_zone": "Pacific/Kiritimati"})));
    assert_eq!(r.status, 200, "{}", r.text());
    let kiritimati = (chrono::Utc::now() + chrono::Duration::hours(14)).date_naive();
    assert_eq!(c.post_json("/api/v1/custom-fields", &json!({"entity": "contact", "key": "renewal_date", "label": "Renewal", "kind": "date"})).status, 201);
    let mk = |c: &mut Client, first: &str, day: chrono::NaiveDate| json(&c.post_json("/api/v1/contacts", &json!({"first_name": first, "custom": {"renewal_date": day.to_string()}})))["id"].as_str().unwrap().to_string();
    let kim = mk(&mut c, "Kim", kiritimati);
    let lou = mk(&mut c, "Lou", kiritimati - chrono::Duration::days(1));
    let id = rule(&mut c, json!({"name": "Renewal day", "trigger": {"kind": "date", "field": "custom.renewal_date", "offset_days": 0}, "actions": [{"kind": "create_task", "subject": "Renews today: {{ name }}"}]}));
    assert!(json(&c.get(&format!("/api/v1/automations/rules/{id}")))["trigger"]["time_zone"].is_null(), "no zone of its own");
    tick(&h);
    assert_eq!(tasks(&mut c, &format!("/api/v1/contacts/{kim}")), vec!["Renews today: Kim"]);
    assert!(tasks(&mut c, &format!("/api/v1/contacts/{lou}")).is_empty(), "Lou's day has passed in Kiritimati");
    // The change is in the audit log.
    let audit = json(&c.get("/api/v1/audit?entity=setting"));
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["entity_id"] == "workspace"), "{audit}");
}
