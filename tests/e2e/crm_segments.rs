//! Segments through the real host: the campaigns component keeps them, the
//! contacts component evaluates them over contacts and what the pipeline and
//! the portal publish per contact (deals, orders).

use e2e::{json, scratch, HostConfig, TestHost};
use serde_json::json;

#[test]
fn segments_over_contacts_deals_and_orders() {
    let h = TestHost::start(HostConfig::crm(&scratch("segments")));
    let mut c = h.signed_in_owner("demo");
    let mk = |c: &mut e2e::Client, name: &str, email: &str| json(&c.post_json("/api/v1/contacts", &json!({"first_name": name, "email": email, "lifecycle_stage": "customer"})))["id"].as_str().unwrap().to_string();
    let ann = mk(&mut c, "Ann", "ann@example.com");
    let bob = mk(&mut c, "Bob", "bob@example.com");
    let cy = mk(&mut c, "Cy", "cy@example.com");
    let dee = mk(&mut c, "Dee", "dee@example.com");
    let order = |c: &mut e2e::Client, ext: &str, contact: &str, days_ago: i64| {
        let at = (chrono::Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339();
        let r = c.send("PUT", &format!("/api/v1/orders/by-external-id/{ext}"), Some(json!({"contact_id": contact, "currency": "EUR", "items": [{"product": "Tent", "quantity": 1, "unit_price": 20_000}], "placed_at": at})));
        assert!(r.status < 300, "{}", r.text());
    };
    order(&mut c, "a1", &ann, 5);
    order(&mut c, "b1", &bob, 200);
    order(&mut c, "b2", &bob, 180);
    let deal = json(&c.post_json("/api/v1/deals", &json!({"title": "Dee's fleet", "value": 500_000, "contact_id": dee})));
    let v = format!("\"{}\"", deal["version"]);
    assert_eq!(c.raw("PATCH", &format!("/api/v1/deals/{}", deal["id"].as_str().unwrap()), &[("content-type", "application/json"), ("if-match", &v)], br#"{"status":"won"}"#).status, 200);

    let count = |c: &mut e2e::Client, filter: serde_json::Value| {
        let r = c.post_json("/api/v1/segments/count", &json!({ "filter": filter }));
        assert_eq!(r.status, 200, "{}", r.text());
        json(&r)["count"].as_i64().unwrap()
    };
    // The live count while rules are edited.
    assert_eq!(count(&mut c, json!({"field": "orders.count", "op": "gt", "value": 0})), 2);
    let quiet = json!({"and": [{"field": "orders.count", "op": "gt", "value": 0}, {"field": "orders.last_at", "op": "lt", "value": "-90d"}]});
    assert_eq!(count(&mut c, quiet.clone()), 1, "Bob went quiet");
    assert_eq!(count(&mut c, json!({"field": "orders.count", "op": "eq", "value": 0})), 2, "Cy and Dee never ordered");
    assert_eq!(count(&mut c, json!({"or": [{"field": "deals.won_value", "op": "gte", "value": 100_000}, {"field": "orders.total", "op": "gte", "value": 40_000}]})), 2, "Dee's won deal, Bob's two orders");
    // Bad rules are the filter's problem, and nothing is saved.
    let r = c.post_json("/api/v1/segments", &json!({"name": "Broken", "filter": {"field": "shoe_size", "op": "eq", "value": 9}}));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("filter")));
    // A saved dynamic segment and its members.
    let r = c.post_json("/api/v1/segments", &json!({"name": "Gone quiet", "filter": quiet}));
    assert_eq!(r.status, 201, "{}", r.text());
    let seg = json(&r);
    let id = seg["id"].as_str().unwrap();
    let members = json(&c.get(&format!("/api/v1/segments/{id}/members")));
    assert_eq!(members["items"].as_array().unwrap().iter().map(|m| m["first_name"].as_str().unwrap()).collect::<Vec<_>>(), vec!["Bob"]);
    // Bob orders again: he leaves the segment by himself.
    order(&mut c, "b3", &bob, 1);
    assert_eq!(json(&c.get(&format!("/api/v1/segments/{id}/count")))["count"], 0);
    // A static list, usable in rules.
    let list = json(&c.post_json("/api/v1/segments", &json!({"name": "Trade fair", "kind": "static"})));
    let lid = list["id"].as_str().unwrap();
    let r = c.post_json(&format!("/api/v1/segments/{lid}/members"), &json!({"contact_ids": [ann, cy]}));
    assert_eq!(json(&r)["added"], 2);
    assert_eq!(json(&c.get(&format!("/api/v1/segments/{lid}/count")))["count"], 2);
    assert_eq!(count(&mut c, json!({"and": [{"field": "lists", "op": "has", "value": lid}, {"field": "orders.count", "op": "eq", "value": 0}]})), 1, "Cy: at the fair, never ordered");
    assert_eq!(c.send("DELETE", &format!("/api/v1/segments/{lid}/members/{cy}"), None).status, 204);
    assert_eq!(json(&c.get(&format!("/api/v1/segments/{lid}/count")))["count"], 1);
    assert_eq!(json(&c.get("/api/v1/segments"))["items"].as_array().unwrap().len(), 2);
    // A sales rep limited to their own records counts only those.
    let (mut rep, _) = h.colleague(&mut c, "rep@demo.example", "sales");
    assert_eq!(c.send("PUT", "/api/v1/settings/record-visibility", Some(json!({"sales": "own"}))).status, 200);
    let f = "%7B%22field%22%3A%22lifecycle_stage%22%2C%22op%22%3A%22eq%22%2C%22value%22%3A%22customer%22%7D";
    let r = rep.get(&format!("/api/v1/segments/count?filter={f}"));
    assert_eq!(json(&r)["count"], 0, "{}", r.text());
    assert_eq!(json(&c.get(&format!("/api/v1/segments/count?filter={f}")))["count"], 4, "the owner sees every customer");
    assert_eq!(rep.post_json("/api/v1/segments", &json!({"name": "Mine", "filter": {"field": "tags", "op": "has", "value": "x"}})).status, 403, "sales read segments, marketing makes them");
}
