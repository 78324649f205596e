//! Customer value and churn through the real host: the tick values every
//! customer from the orders the portal publishes and the deals the pipeline
//! wins, segments can use the figures, a new order, a won deal or a logged
//! call rescores its customer, and a company adds up its people.

use e2e::{json, scratch, tick, Client, HostConfig, TestHost};
use serde_json::json;

fn order(c: &mut Client, ext: &str, email: &str, total: i64, days_ago: i64) {
    let at = (chrono::Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339();
    let r = c.send("PUT", &format!("/api/v1/orders/by-external-id/{ext}"), Some(json!({"customer": {"email": email}, "currency": "EUR", "items": [{"product": "Tent", "quantity": 1, "unit_price": total}], "placed_at": at, "status": "delivered"})));
    assert!(r.status < 300, "{}", r.text());
}

#[test]
fn customers_are_valued_and_slipping_ones_flagged() {
    let h = TestHost::start(HostConfig::crm(&scratch("insights")).with_tick());
    let mut c = h.signed_in_owner("demo");
    // A first pass before any order (a new tenant): later orders must not be scored against nothing.
    tick(&h);
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
    // A tenant whose first orders come after the first pass is scored in full, not against empty boundaries.
    let (first_seen, ann) = (s["computed_at"].clone(), s["most_valuable"].as_array().unwrap().iter().find(|x| x["orders"] == 4).unwrap().clone());
    // Recency among the three: Bob 100 days, Ann 5, Cy 1 → 1, 3, 5 (not all 1 as against empty boundaries).
    assert_eq!((ann["r"].as_i64(), ann["f"].as_i64()), (Some(3), Some(5)), "{ann}");
    let _ = first_seen;
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
    // Cy's company wins a deal with us (his second purchase), and he is called: rescored.
    let cy = s["most_valuable"].as_array().unwrap().iter().find(|x| x["orders"] == 1).unwrap()["contact_id"].as_str().unwrap().to_string();
    let deal = json(&c.post_json("/api/v1/deals", &json!({"title": "Cy's fleet", "value": 30_000, "contact_id": cy})));
    assert_eq!(c.with_version("PATCH", &format!("/api/v1/deals/{}", deal["id"].as_str().unwrap()), &deal["version"], &json!({"status": "won"})).status, 200);
    assert_eq!(c.post_json("/api/v1/activities", &json!({"kind": "call", "subject": "Fleet delivery", "contact_id": cy})).status, 201);
    tick(&h);
    let v = json(&c.get(&format!("/api/v1/insights/customers/{cy}")));
    assert_eq!((v["orders"].as_i64(), v["deals_won"].as_i64(), v["purchases"].as_i64(), v["total"].as_i64(), v["touches"].as_i64()), (Some(1), Some(1), Some(2), Some(32_000), Some(1)), "{v}");
    // Ann and Bob work at Acme: the company adds them up.
    let acme = json(&c.post_json("/api/v1/companies", &json!({"name": "Acme"})))["id"].as_str().unwrap().to_string();
    let ann_id = ann["contact_id"].as_str().unwrap().to_string();
    for id in [&ann_id, &bob_id] {
        let ver = json(&c.get(&format!("/api/v1/contacts/{id}")))["version"].clone();
        assert_eq!(c.with_version("PATCH", &format!("/api/v1/contacts/{id}"), ver, &json!({"company_id": acme})).status, 200);
    }
    let co = json(&c.get(&format!("/api/v1/insights/companies/{acme}")));
    assert_eq!((co["customers"].as_i64(), co["purchases"].as_i64(), co["total"].as_i64(), co["at_risk"].as_i64()), (Some(2), Some(8), Some(240_000), Some(0)), "{co}");
    assert_eq!(co["people"][0]["contact_id"], bob_id.as_str());
    // A full pass on demand scores the same.
    let r = c.post_json("/api/v1/insights/customers/recompute", &json!({}));
    assert_eq!((r.status, json(&r)["customers"].as_i64()), (200, Some(3)), "{}", r.text());
    assert_eq!(json(&c.get(&format!("/api/v1/insights/customers/{cy}")))["purchases"], 2);
    // A contact who never ordered has no figures, and that is no error.
    let nobody = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Dee"})))["id"].as_str().unwrap().to_string();
    assert_eq!(json(&c.get(&format!("/api/v1/insights/customers/{nobody}")))["orders"], 0);
}

#[test]
fn campaign_return_by_attribution_model() {
    let h = TestHost::start(HostConfig::crm(&scratch("insights-roi")).with_tick());
    let mut c = h.signed_in_owner("demo");
    let ann = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Ann", "email": "ann@example.com"})))["id"].as_str().unwrap().to_string();
    let list = json(&c.post_json("/api/v1/segments", &json!({"name": "Ann", "kind": "static"})));
    let lid = list["id"].as_str().unwrap();
    c.post_json(&format!("/api/v1/segments/{lid}/members"), &json!({"contact_ids": [ann]}));
    let camp = json(&c.post_json("/api/v1/campaigns", &json!({"name": "Spring", "segment_id": lid, "subject": "Hi", "html": "<a href=\"https://shop.example/\">Shop</a>", "cost": 20_000, "cost_currency": "EUR"})));
    let id = camp["id"].as_str().unwrap().to_string();
    assert_eq!(camp["cost"], 20_000);
    assert_eq!(c.post_json(&format!("/api/v1/campaigns/{id}/schedule"), &json!({})).status, 200);
    for _ in 0..20 {
        if json(&c.get(&format!("/api/v1/campaigns/{id}")))["status"] == "sent" {
            break;
        }
        tick(&h);
    }
    // Ann clicks (as a person, not a scanner), then buys.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let html = json(&c.get(&format!("/api/v1/campaigns/{id}/messages?as_sent=true")))["items"][0]["html"].as_str().unwrap().to_string();
    let start = html.find("/api/v1/mail/c/").unwrap();
    let click = html[start..].split('"').next().unwrap().to_string();
    assert_eq!(h.request("GET", "demo.localhost", &click, &[("user-agent", "Mozilla/5.0 (Macintosh) Safari")], b"").status, 302);
    let deal = json(&c.post_json("/api/v1/deals", &json!({"title": "Ann's order", "value": 100_000, "contact_id": ann})));
    assert_eq!(c.with_version("PATCH", &format!("/api/v1/deals/{}", deal["id"].as_str().unwrap()), &deal["version"], &json!({"status": "won"})).status, 200);
    // The cost can be entered after sending, too.
    let v = json(&c.get(&format!("/api/v1/campaigns/{id}")))["version"].clone();
    assert_eq!(c.with_version("PATCH", &format!("/api/v1/campaigns/{id}"), v, &json!({"cost": 25000})).status, 200);
    let r = json(&c.get("/api/v1/insights/campaigns"));
    let spring = &r["items"][0];
    assert_eq!((spring["campaign_id"].as_str(), spring["cost"].as_i64(), spring["leads"].as_i64()), (Some(id.as_str()), Some(25_000), Some(1)), "{r}");
    for model in ["first_touch", "last_touch", "linear"] {
        assert_eq!(spring["models"][model]["deal_revenue"], 100_000, "{model}: {spring}");
        assert_eq!(spring["models"][model]["return_on_spend"], 4.0);
    }
}

#[test]
fn dashboard_layout_and_new_leads_by_source() {
    let h = TestHost::start(HostConfig::crm(&scratch("insights-home")));
    let mut c = h.signed_in_owner("demo");
    let d = json(&c.get("/api/v1/insights/dashboard"));
    assert!(d["widgets"].as_array().unwrap().len() >= 4, "a sensible default: {d}");
    let r = c.send("PUT", "/api/v1/insights/dashboard", Some(json!({"widgets": ["tasks_due", "leads_by_source", "tasks_due"]})));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&c.get("/api/v1/insights/dashboard"))["widgets"], json!(["tasks_due", "leads_by_source"]));
    assert_eq!(c.send("PUT", "/api/v1/insights/dashboard", Some(json!({"widgets": ["weather"]}))).status, 422);
    let (mut rep, rep_id) = h.colleague(&mut c, "rep@demo.example", "sales");
    assert_eq!(json(&rep.get("/api/v1/insights/dashboard"))["widgets"].as_array().unwrap().len(), d["widgets"].as_array().unwrap().len(), "each user their own");
    for (source, owner) in [("Fair", None), ("Fair", Some(rep_id.as_str())), ("Web", None), ("", None)] {
        let mut body = json!({"first_name": "X", "source": source});
        if let Some(o) = owner {
            body["owner_id"] = json!(o);
        }
        assert_eq!(c.post_json("/api/v1/contacts", &body).status, 201);
    }
    let l = json(&c.get("/api/v1/insights/leads?days=7"));
    assert_eq!(l["total"], 4, "{l}");
    assert_eq!(l["sources"][0], json!({"source": "Fair", "contacts": 2, "customers": 0}));
    assert!(l["sources"].as_array().unwrap().iter().any(|s| s["source"] == "(none)"));
    // A rep limited to their own records counts their own leads.
    assert_eq!(c.send("PUT", "/api/v1/settings/record-visibility", Some(json!({"sales": "own"}))).status, 200);
    assert_eq!(json(&rep.get("/api/v1/insights/leads"))["total"], 1);
}
