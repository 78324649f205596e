//! The pipeline API through router → pipeline → SQLite (and pipeline →
//! contacts for links and won deals), on the real host.

use e2e::{json, scratch, Client, HostConfig, TestHost};
use serde_json::json;

fn crm(name: &str) -> (TestHost, Client) {
    let h = TestHost::start(HostConfig::crm(&scratch(name)));
    let c = h.signed_in_owner("demo");
    (h, c)
}

fn stages(c: &mut Client) -> (String, Vec<String>) {
    let p = json(&c.get("/api/v1/pipelines"))["items"][0].clone();
    (p["id"].as_str().unwrap().to_string(), p["stages"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect())
}

#[test]
fn a_won_deal_makes_its_contact_a_customer_and_shows_on_its_timeline() {
    let (_h, mut c) = crm("pipeline-won");
    let contact = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Lena", "lifecycle_stage": "opportunity"})));
    let company = json(&c.post_json("/api/v1/companies", &json!({"name": "Lena GmbH"})));
    let r = c.post_json("/api/v1/deals", &json!({"title": "Lena's renewal", "value": 250_000, "contact_id": contact["id"], "company_id": company["id"],
        "line_items": [{"product": "Seats", "quantity": 10, "unit_price": 25_000}]}));
    assert_eq!(r.status, 201, "{}", r.text());
    let deal = json(&r);
    assert_eq!((deal["value"].as_i64(), deal["probability"].as_i64(), deal["status"].as_str()), (Some(250_000), Some(10), Some("open")));
    let id = deal["id"].as_str().unwrap();

    // Lost needs a reason from the tenant's list; nothing changes otherwise.
    let r = c.with_version("PATCH", &format!("/api/v1/deals/{id}"), 1, &json!({"status": "lost"}));
    assert_eq!(r.status, 422);
    assert_eq!(json(&r)["errors"][0]["field"], "lost_reason");
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let r = c.with_version("PATCH", &format!("/api/v1/deals/{id}"), 1, &json!({"status": "won", "won_reason": "Product fit"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["probability"], 100);

    let person = json(&c.get(&format!("/api/v1/contacts/{}", contact["id"].as_str().unwrap())));
    assert_eq!(person["lifecycle_stage"], "customer", "promoted through the contacts API");
    let tl = json(&c.get(&format!("/api/v1/contacts/{}/timeline", contact["id"].as_str().unwrap())));
    let kinds: Vec<&str> = tl["items"].as_array().unwrap().iter().filter_map(|e| e["event"]["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["deal-won", "deal-created"]);
    let tl = json(&c.get(&format!("/api/v1/companies/{}/timeline", company["id"].as_str().unwrap())));
    assert!(tl["items"].as_array().unwrap().iter().any(|e| e["event"]["title"].as_str().is_some_and(|t| t.starts_with("Deal won: Lena's renewal"))));
    let audit = json(&c.get("/api/v1/audit?limit=50"));
    assert!(audit.to_string().contains("\"pipeline\""), "pipeline changes reach the audit log");

    // Links must name records that exist.
    let r = c.post_json("/api/v1/deals", &json!({"title": "Ghost", "contact_id": "c_01HZZZZZZZZZZZZZZZZZZZZZZZ"}));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("contact_id")));
}

#[test]
fn concurrent_moves_never_lose_or_duplicate_a_deal() {
    let (h, mut owner) = crm("pipeline-moves");
    let (mut rep, _) = h.colleague(&mut owner, "rep@demo.example", "sales");
    let (pid, st) = stages(&mut owner);
    let a = json(&owner.post_json("/api/v1/deals", &json!({"title": "A"})));
    let b = json(&owner.post_json("/api/v1/deals", &json!({"title": "B"})));
    let id = a["id"].as_str().unwrap();
    // Both read version 1; the owner moves first, the rep's move loses and sees where it went.
    let r = owner.with_version("POST", &format!("/api/v1/deals/{id}/move"), 1, &json!({"stage_id": st[2]}));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = rep.with_version("POST", &format!("/api/v1/deals/{id}/move"), 1, &json!({"stage_id": st[3]}));
    assert_eq!(r.status, 412);
    let p = json(&r);
    assert_eq!((p["current"]["stage_id"].as_str(), p["current"]["version"].as_i64()), (Some(st[2].as_str()), Some(2)));
    // Reorder within a stage: B before A in stage 3.
    owner.with_version("POST", &format!("/api/v1/deals/{}/move", b["id"].as_str().unwrap()), 1, &json!({"stage_id": st[2], "before_id": id}));
    let board = json(&owner.get(&format!("/api/v1/pipelines/{pid}/board")));
    let cards: Vec<Vec<&str>> = board["stages"].as_array().unwrap().iter().map(|s| s["deals"].as_array().unwrap().iter().map(|d| d["title"].as_str().unwrap()).collect()).collect();
    assert_eq!(cards, vec![vec![], vec![], vec!["B", "A"], vec![]]);
    assert_eq!(board["stages"][2]["count"], 2);
    let history = json(&owner.get(&format!("/api/v1/deals/{id}/history")));
    assert_eq!(history["items"].as_array().unwrap().len(), 2);
    // Removing a stage with open deals is refused; an empty one goes.
    let r = owner.send("DELETE", &format!("/api/v1/pipelines/{pid}/stages/{}", st[2]), None);
    assert_eq!((r.status, json(&r)["type"].as_str()), (409, Some("https://edge-crm.dev/problems/stage-not-empty")));
    let r = owner.send("DELETE", &format!("/api/v1/pipelines/{pid}/stages/{}", st[1]), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["stages"].as_array().unwrap().len(), 3);
}

#[test]
fn reports_currency_visibility_and_isolation() {
    let (h, mut owner) = crm("pipeline-reports");
    let (mut rep, rep_id) = h.colleague(&mut owner, "rep@demo.example", "sales");
    let r = owner.post_json("/api/v1/exchange-rates", &json!({"currency": "USD", "valid_from": "2026-01-01", "rate": "0.9"}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(owner.post_json("/api/v1/exchange-rates", &json!({"currency": "USD", "valid_from": "2026-01-01", "rate": "-1"})).status, 422);
    let mine = json(&rep.post_json("/api/v1/deals", &json!({"title": "Rep's", "value": 10_000, "currency": "USD", "expected_close": "2030-01-15"})));
    assert_eq!(mine["base_value"], 9_000);
    let owner_id = json(&owner.get("/api/v1/auth/me"))["user"]["id"].clone();
    let theirs = json(&owner.post_json("/api/v1/deals", &json!({"title": "Owner's", "value": 5_000, "owner_id": owner_id})));
    let r = owner.with_version("PATCH", &format!("/api/v1/deals/{}", theirs["id"].as_str().unwrap()), 1, &json!({"status": "lost", "lost_reason": "Price"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = rep.with_version("PATCH", &format!("/api/v1/deals/{}", mine["id"].as_str().unwrap()), 1, &json!({"status": "won"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let s = json(&owner.get("/api/v1/sales-reports/summary"));
    assert_eq!((s["won_value"].as_i64(), s["lost_value"].as_i64(), s["win_rate"].as_f64()), (Some(9_000), Some(5_000), Some(0.5)));
    assert_eq!(json(&owner.get("/api/v1/sales-reports/funnel"))["deals"], 2);
    assert!(json(&owner.get("/api/v1/sales-reports/forecast"))["months"].as_array().unwrap().len() >= 6);
    assert_eq!(owner.send("PUT", "/api/v1/quotas", Some(json!({"items": [{"owner_id": rep_id, "period": "2026-Q4", "amount": 18_000}]}))).status, 200);
    let a = json(&owner.get("/api/v1/sales-reports/attainment?period=2026-Q4"));
    assert_eq!(a["items"][0]["attainment"], 0.5);
    assert_eq!(owner.get("/api/v1/sales-reports/summary?from=2026-13-01").status, 422);

    // Sales limited to their own deals see only theirs, in lists and reports.
    assert_eq!(owner.send("PUT", "/api/v1/settings/record-visibility", Some(json!({"sales": "own"}))).status, 200);
    let items = json(&rep.get("/api/v1/deals"))["items"].as_array().unwrap().clone();
    assert_eq!(items.iter().map(|d| d["title"].as_str().unwrap()).collect::<Vec<_>>(), vec!["Rep's"]);
    assert_eq!(rep.get(&format!("/api/v1/deals/{}", theirs["id"].as_str().unwrap())).status, 404);
    assert_eq!(json(&rep.get("/api/v1/sales-reports/summary"))["lost_count"], 0);
    // Another tenant cannot reach these deals whatever it asks.
    let mut other = h.signed_in_owner("acme");
    assert_eq!(other.get(&format!("/api/v1/deals/{}", mine["id"].as_str().unwrap())).status, 404);
    assert!(json(&other.get("/api/v1/deals"))["items"].as_array().unwrap().is_empty());
    // Exports follow the view.
    let r = owner.get("/api/v1/deals/export?format=csv&status=won");
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = r.text();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().nth(1).unwrap().contains("Rep's"));
    // Idempotent creates: the retry gets the first answer.
    let headers = [("content-type", "application/json"), ("idempotency-key", "deal-42")];
    let first = owner.raw("POST", "/api/v1/deals", &headers, json!({"title": "Once"}).to_string().as_bytes());
    let again = owner.raw("POST", "/api/v1/deals", &headers, json!({"title": "Once"}).to_string().as_bytes());
    assert_eq!((first.status, again.status, again.header("idempotent-replay")), (201, 201, Some("true")));
    assert_eq!(json(&first)["id"], json(&again)["id"]);
    assert_eq!(owner.raw("POST", "/api/v1/deals", &[("content-type", "application/json")], b"{not json").status, 400);
}

#[test]
fn deals_follow_contact_merges_and_their_undo() {
    let (_h, mut c) = crm("pipeline-merges");
    let a = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Ann", "email": "ann@example.com"})))["id"].as_str().unwrap().to_string();
    let b = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Anne", "email": "anne@example.com"})))["id"].as_str().unwrap().to_string();
    let deal = json(&c.post_json("/api/v1/deals", &json!({"title": "Ann's order", "contact_id": b})));
    let id = deal["id"].as_str().unwrap();
    let r = c.post_json("/api/v1/contacts/merge", &json!({"primary_id": a, "merged_ids": [b]}));
    assert_eq!(r.status, 200, "{}", r.text());
    let merge_id = json(&r)["merge"]["id"].as_str().unwrap().to_string();
    let d = json(&c.get(&format!("/api/v1/deals/{id}")));
    assert_eq!(d["contact_id"], a.as_str(), "the deal follows the surviving contact");
    assert_eq!(json(&c.get(&format!("/api/v1/deals?contact_id={a}")))["items"].as_array().unwrap().len(), 1);
    let tl = json(&c.get(&format!("/api/v1/contacts/{a}/timeline")));
    assert!(tl["items"].as_array().unwrap().iter().any(|e| e["event"]["ref"] == id), "and its timeline entries");
    assert_eq!(c.post_json(&format!("/api/v1/contacts/merges/{merge_id}/undo"), &json!({})).status, 200);
    assert_eq!(json(&c.get(&format!("/api/v1/deals/{id}")))["contact_id"], b.as_str(), "an undone merge gives it back");
}
