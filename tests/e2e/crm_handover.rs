//! Handing over a departing rep's accounts through the real host: a preview,
//! then everything they own moves to two colleagues (accounts kept together,
//! the rest shared evenly), nothing is left without an owner, and the audit
//! log has it.

use e2e::{json, scratch, Client, HostConfig, TestHost};
use serde_json::json;

fn owned_by(c: &mut Client, path: &str, user: &str) -> usize {
    let f = json!({"field": "owner_id", "op": "eq", "value": user}).to_string();
    let enc: String = f.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    json(&c.get(&format!("{path}?limit=200&filter={enc}")))["items"].as_array().unwrap().len()
}

#[test]
fn a_departing_reps_accounts_move_and_none_are_left_unowned() {
    let h = TestHost::start(HostConfig::crm(&scratch("handover")));
    let mut c = h.signed_in_owner("demo");
    let (mut rep, rep_id) = h.colleague(&mut c, "rita@demo.example", "sales");
    let (_, ana) = h.colleague(&mut c, "ana@demo.example", "sales");
    let (_, ben) = h.colleague(&mut c, "ben@demo.example", "sales");
    let co = json(&c.post_json("/api/v1/companies", &json!({"name": "Acme", "owner_id": rep_id})))["id"].as_str().unwrap().to_string();
    let co2 = json(&c.post_json("/api/v1/companies", &json!({"name": "Globex", "owner_id": rep_id})))["id"].as_str().unwrap().to_string();
    let mut contacts = Vec::new();
    for (i, company) in [Some(&co), Some(&co), Some(&co2), None, None, None].iter().enumerate() {
        let mut body = json!({"first_name": format!("P{i}"), "owner_id": rep_id});
        if let Some(co) = company {
            body["company_id"] = json!(co);
        }
        contacts.push(json(&c.post_json("/api/v1/contacts", &body))["id"].as_str().unwrap().to_string());
    }
    let deal = json(&c.post_json("/api/v1/deals", &json!({"title": "Acme renewal", "value": 50_000, "owner_id": rep_id, "company_id": co, "contact_id": contacts[0]})))["id"].as_str().unwrap().to_string();
    let task = c.post_json("/api/v1/activities", &json!({"kind": "task", "subject": "Call Acme", "contact_id": contacts[0], "assignee_id": rep_id, "due_at": "2030-01-01T09:00:00Z"}));
    assert_eq!(task.status, 201, "{}", task.text());
    let task = json(&task)["id"].as_str().unwrap().to_string();
    // Reps cannot hand over; the preview shows what the rep owns.
    assert_eq!(rep.get("/api/v1/automations/handovers").status, 403);
    let p = json(&c.get(&format!("/api/v1/automations/handovers/preview?from_user_id={rep_id}")));
    assert_eq!((p["owns"]["contacts"]["count"].as_i64(), p["owns"]["companies"]["count"].as_i64(), p["owns"]["deals"]["count"].as_i64(), p["owns"]["tasks"]["count"].as_i64()), (Some(6), Some(2), Some(1), Some(1)), "{p}");
    let r = c.post_json("/api/v1/automations/handovers", &json!({"from_user_id": rep_id, "to_user_ids": [rep_id]}));
    assert_eq!(r.status, 422);
    // Rita leaves: deactivated, her accounts handed over.
    assert_eq!(c.post_json(&format!("/api/v1/users/{rep_id}/deactivate"), &json!({})).status, 200);
    let r = c.post_json("/api/v1/automations/handovers", &json!({"from_user_id": rep_id, "to_user_ids": [ana, ben]}));
    assert_eq!(r.status, 201, "{}", r.text());
    let done = json(&r);
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["moved"]["companies"]["total"], 2);
    assert_eq!(done["moved"]["contacts"]["total"], 6);
    for path in ["/api/v1/contacts", "/api/v1/companies"] {
        assert_eq!(owned_by(&mut c, path, &rep_id), 0, "{path}: nothing left with Rita");
    }
    // Accounts stay together: Acme's people and deal go where Acme went.
    let acme_owner = json(&c.get(&format!("/api/v1/companies/{co}")))["owner_id"].as_str().unwrap().to_string();
    for id in &contacts[..2] {
        assert_eq!(json(&c.get(&format!("/api/v1/contacts/{id}")))["owner_id"].as_str(), Some(acme_owner.as_str()));
    }
    assert_eq!(json(&c.get(&format!("/api/v1/deals/{deal}")))["owner_id"].as_str(), Some(acme_owner.as_str()));
    assert_ne!(json(&c.get(&format!("/api/v1/activities/{task}")))["assignee_id"].as_str(), Some(rep_id.as_str()));
    // The rest is shared evenly: of the three without a company, one goes one way and two the other at most.
    let loose: Vec<String> = contacts[3..].iter().map(|id| json(&c.get(&format!("/api/v1/contacts/{id}")))["owner_id"].as_str().unwrap().to_string()).collect();
    assert!(loose.contains(&ana) && loose.contains(&ben), "{loose:?}");
    // History stays: Rita's user record is still there, and the audit log has the handover.
    let audit = json(&c.get("/api/v1/audit?entity=handover"));
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"started") && actions.contains(&"finished"), "{audit}");
}

#[test]
fn handover_by_rules_previews_then_routes_by_country_and_tag() {
    let h = TestHost::start(HostConfig::crm(&scratch("handover-rules")));
    let mut c = h.signed_in_owner("demo");
    let (_, rep) = h.colleague(&mut c, "rita@demo.example", "sales");
    let (_, dach) = h.colleague(&mut c, "dieter@demo.example", "sales");
    let (_, keys) = h.colleague(&mut c, "kim@demo.example", "sales");
    let (_, rest) = h.colleague(&mut c, "rosa@demo.example", "sales");
    let company = |c: &mut Client, name: &str, body: serde_json::Value| {
        let mut b = json!({"name": name, "owner_id": rep});
        b.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
        let r = c.post_json("/api/v1/companies", &b);
        assert_eq!(r.status, 201, "{}", r.text());
        json(&r)["id"].as_str().unwrap().to_string()
    };
    let berlin = company(&mut c, "Berlin GmbH", json!({"address": {"city": "Berlin", "country": "DE"}}));
    let vienna = company(&mut c, "Wien AG", json!({"address": {"country": "AT"}, "tags": ["key account"]}));
    let big = company(&mut c, "Big Co", json!({"tags": ["Key Account"]}));
    let small = company(&mut c, "Small Co", json!({}));
    // A person at Berlin GmbH follows the company; a Swiss person without one goes by rule.
    let at_berlin = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "B", "owner_id": rep, "company_id": berlin})))["id"].as_str().unwrap().to_string();
    let swiss = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "S", "owner_id": rep, "address": {"country": "CH"}})))["id"].as_str().unwrap().to_string();
    let loose = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "L", "owner_id": rep})))["id"].as_str().unwrap().to_string();
    let input = json!({
        "from_user_id": rep, "to_user_ids": [rest, dach, keys],
        "rules": [
            {"field": "country", "values": ["DE", "AT", "CH"], "to_user_id": dach},
            {"field": "tag", "values": ["key account"], "to_user_id": keys},
        ],
    });
    // A rule for someone outside the handover, or on an unknown field, is refused and nothing starts.
    let mut bad = input.clone();
    bad["rules"][0]["field"] = json!("shoe_size");
    bad["rules"][1]["to_user_id"] = json!(rep);
    let r = c.post_json("/api/v1/automations/handovers", &bad);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(json(&r)["errors"].as_array().unwrap().len(), 2, "{}", r.text());
    assert_eq!(json(&c.get("/api/v1/automations/handovers"))["items"].as_array().unwrap().len(), 0);
    // The preview says who would get what, and why.
    let p = c.post_json("/api/v1/automations/handovers/preview", &input);
    assert_eq!(p.status, 200, "{}", p.text());
    let plan = &json(&p)["plan"];
    assert_eq!(plan["companies"][&dach], json!({"total": 2, "company": 0, "rule": 2, "turn": 0}), "{plan}");
    assert_eq!(plan["companies"][&keys]["rule"], 1, "{plan}");
    assert_eq!(plan["companies"][&rest], json!({"total": 1, "company": 0, "rule": 0, "turn": 1}), "{plan}");
    assert_eq!(plan["contacts"][&dach], json!({"total": 2, "company": 1, "rule": 1, "turn": 0}), "{plan}");
    // Done as previewed.
    let r = c.post_json("/api/v1/automations/handovers", &input);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(json(&r)["status"], "done", "{}", r.text());
    let owner = |c: &mut Client, path: &str| json(&c.get(path))["owner_id"].as_str().unwrap().to_string();
    assert_eq!(owner(&mut c, &format!("/api/v1/companies/{berlin}")), dach);
    assert_eq!(owner(&mut c, &format!("/api/v1/companies/{vienna}")), dach, "the first matching rule wins");
    assert_eq!(owner(&mut c, &format!("/api/v1/companies/{big}")), keys);
    assert_eq!(owner(&mut c, &format!("/api/v1/companies/{small}")), rest, "no rule: by turns");
    assert_eq!(owner(&mut c, &format!("/api/v1/contacts/{at_berlin}")), dach);
    assert_eq!(owner(&mut c, &format!("/api/v1/contacts/{swiss}")), dach);
    assert_eq!(owner(&mut c, &format!("/api/v1/contacts/{loose}")), rest);
    assert_eq!(owned_by(&mut c, "/api/v1/companies", &rep) + owned_by(&mut c, "/api/v1/contacts", &rep), 0);
}
