//! Customer value and churn through the real host: the tick values every
//! customer from the orders the portal publishes, segments can use the
//! figures, and a new order rescores its customer.

use e2e::{json, scratch, Client, HostConfig, TestHost};
use serde_json::json;

const TICK_TOKEN: &str = "tick-secret-for-tests-0123456789";

fn tick(h: &TestHost) {
    let r = h.request("POST", "demo.localhost", "/.well-known/edge-crm/tick", &[("authorization", &format!("Bearer {TICK_TOKEN}"))], b"");
    assert_eq!(r.status, 200, "{}", r.text());
}

fn order(c: &mut Client, ext: &str, email: &str, total: i64, days_ago: i64) {
    let at = (chrono::Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339();
    let r = c.send("PUT", &format!("/api/v1/orders/by-external-id/{ext}"), Some(json!({"customer": {"email": email}, "currency": "EUR", "items": [{"product": "Tent", "quantity": 1, "unit_price": total}], "placed_at": at, "status": "delivered"})));
    assert!(r.status < 300, "{}", r.text());
}

#[test]
fn customers_are_valued_and_slipping_ones_flagged() {
    let mut cfg = HostConfig::crm(&scratch("insights"));
    cfg.env.push(("SPIN_VARIABLE_SCHEDULER_TOKEN".into(), TICK_TOKEN.into()));
    cfg.extra_args.push("--no-scheduler".into());
    let h = TestHost::start(cfg);
    let mut c = h.signed_in_owner("demo");
    // Ann orders monthly and did so lately; Bob ordered monthly but has been silent for 100 days.
    for (i, d) in [90, 60, 30, 5].iter().enumerate() {
        order(&mut c, &format!("ann-{i}"), "ann@example.com", 10_000, *d);
    }
    order(&mut c, "bob-0", "bob@example.com", 50_000, 160);
    order(&mut c, "bob-1", "bob@example.com", 50_000, 130);
    order(&mut c, "bob-2", "bob@example.com", 50_000, 100);
    order(&mut c, "cy-0", "cy@example.com", 2_000, 1);
    tick(&h);
    let s = json(&c.get("/api/v1/insights/customers/summary"));
    assert_eq!((s["customers"].as_i64(), s["revenue"].as_i64(), s["at_risk"].as_i64()), (Some(3), Some(192_000), Some(1)), "{s}");
    let bob = &s["slipping_away"][0];
    assert_eq!((bob["orders"].as_i64(), bob["silence_days"].as_i64(), bob["usual_interval_days"].as_i64()), (Some(3), Some(100), Some(30)), "{bob}");
    let bob_id = bob["contact_id"].as_str().unwrap().to_string();
    assert_eq!(s["most_valuable"][0]["contact_id"], bob_id.as_str(), "Bob paid the most");
    assert_eq!(s["segments"]["at_risk"]["customers"], 1);
    // Segments can use the figures.
    let count = |c: &mut Client, f: serde_json::Value| json(&c.post_json("/api/v1/segments/count", &json!({"filter": f})))["count"].as_i64().unwrap();
    assert_eq!(count(&mut c, json!({"field": "value.at_risk", "op": "eq", "value": 1})), 1);
    assert_eq!(count(&mut c, json!({"field": "value.clv", "op": "gte", "value": 40_000})), 2);
    // Bob orders again: rescored on the next tick, no longer at risk.
    order(&mut c, "bob-3", "bob@example.com", 50_000, 0);
    tick(&h);
    let bob = json(&c.get(&format!("/api/v1/insights/customers/{bob_id}")));
    assert_eq!((bob["orders"].as_i64(), bob["at_risk"].as_bool()), (Some(4), Some(false)), "{bob}");
    assert_eq!(json(&c.get("/api/v1/insights/customers?at_risk=true"))["items"].as_array().unwrap().len(), 0);
    // A contact who never ordered has no figures, and that is no error.
    let nobody = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Dee"})))["id"].as_str().unwrap().to_string();
    assert_eq!(json(&c.get(&format!("/api/v1/insights/customers/{nobody}")))["orders"], 0);
}
