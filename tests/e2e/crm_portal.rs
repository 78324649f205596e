//! Orders and the customer portal through the real host: shop upserts,
//! magic-link sign-in from the outbox, and what each customer may see.

use e2e::{json, scratch, Client, HostConfig, Response, TestHost};
use serde_json::{json, Value};

fn crm(name: &str) -> (TestHost, Client) {
    let h = TestHost::start(HostConfig::crm(&scratch(name)));
    let c = h.signed_in_owner("demo");
    (h, c)
}

/// A customer's browser: the portal cookie and CSRF token.
struct Customer<'a> {
    h: &'a TestHost,
    host: String,
    cookie: Option<String>,
    csrf: Option<String>,
}

impl<'a> Customer<'a> {
    fn new(h: &'a TestHost, tenant: &str) -> Customer<'a> {
        Customer { h, host: format!("{tenant}.localhost"), cookie: None, csrf: None }
    }

    fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Response {
        let cookie = self.cookie.clone().map(|c| format!("edge_portal={c}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(c) = &cookie {
            headers.push(("cookie", c));
        }
        let csrf = self.csrf.clone();
        if let Some(t) = &csrf {
            headers.push(("x-csrf-token", t));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let r = self.h.request(method, &self.host, path, &headers, body.as_bytes());
        if let Some(sc) = r.header("set-cookie") {
            let v = sc.split(';').next().unwrap_or("").trim_start_matches("edge_portal=").to_string();
            self.cookie = (!v.is_empty()).then_some(v);
        }
        r
    }

    /// Asks for a link and signs in with the one the outbox captured.
    fn sign_in(&mut self, staff: &mut Client, email: &str) -> Response {
        assert_eq!(self.send("POST", "/api/v1/portal/auth/request-link", Some(json!({"email": email}))).status, 202);
        let link = last_link(staff, email).expect("a sign-in link in the outbox");
        let r = self.send("POST", "/api/v1/portal/auth/redeem", Some(json!({"token": token_of(&link)})));
        self.csrf = json(&r)["csrf_token"].as_str().map(String::from);
        r
    }
}

fn last_link(staff: &mut Client, email: &str) -> Option<String> {
    let outbox = json(&staff.get("/api/v1/outbox"));
    outbox["items"].as_array()?.iter().filter(|m| m["to"] == email || m["to_addr"] == email).find_map(|m| {
        m["body_text"].as_str()?.split_whitespace().find(|w| w.contains("/portal/sign-in?token=")).map(String::from)
    })
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap_or_default().to_string()
}

fn mails_to(staff: &mut Client, email: &str) -> usize {
    json(&staff.get("/api/v1/outbox"))["items"].as_array().unwrap().iter().filter(|m| m["to"] == email || m["to_addr"] == email).count()
}

fn order(email: &str, product: &str, price: i64) -> Value {
    json!({"customer": {"email": email, "first_name": "Pat"}, "currency": "EUR", "items": [{"product": product, "quantity": 1, "unit_price": price}], "shipping": 495})
}

#[test]
fn shop_upserts_are_idempotent_and_follow_the_lifecycle() {
    let (_h, mut staff) = crm("portal-orders");
    let r = staff.send("PUT", "/api/v1/orders/by-external-id/shop-1", Some(order("pat@example.com", "Tent", 24_900)));
    assert_eq!(r.status, 201, "{}", r.text());
    let o = json(&r);
    assert_eq!((o["number"].as_str(), o["total"].as_i64(), o["status"].as_str()), (Some("1001"), Some(25_395), Some("placed")));
    let contact = o["contact_id"].as_str().unwrap().to_string();
    assert_eq!(json(&staff.get(&format!("/api/v1/contacts/{contact}")))["email"], "pat@example.com", "the customer became a contact");
    // The same order again: nothing changes.
    let again = staff.send("PUT", "/api/v1/orders/by-external-id/shop-1", Some(order("pat@example.com", "Tent", 24_900)));
    assert_eq!((again.status, json(&again)["version"].as_i64(), json(&again)["id"].clone()), (200, Some(1), o["id"].clone()));
    // Shipped, then an out-of-order sync is refused.
    let mut shipped = order("pat@example.com", "Tent", 24_900);
    shipped["status"] = "shipped".into();
    shipped["carrier"] = "DHL".into();
    assert_eq!(staff.send("PUT", "/api/v1/orders/by-external-id/shop-1", Some(shipped)).status, 200);
    let mut paid = order("pat@example.com", "Tent", 24_900);
    paid["status"] = "paid".into();
    let r = staff.send("PUT", "/api/v1/orders/by-external-id/shop-1", Some(paid));
    assert_eq!((r.status, json(&r)["type"].as_str()), (409, Some("https://edge-crm.dev/problems/invalid-transition")));
    let id = o["id"].as_str().unwrap();
    let full = json(&staff.get(&format!("/api/v1/orders/{id}")));
    assert_eq!(full["history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect::<Vec<_>>(), vec!["placed", "shipped"]);
    let r = staff.send("POST", &format!("/api/v1/orders/{id}/status"), Some(json!({"status": "delivered"})));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = json(&staff.get(&format!("/api/v1/orders/summary?contact_id={contact}")));
    assert_eq!((v["orders"].as_i64(), v["totals"][0]["lifetime_value"].as_i64()), (Some(1), Some(25_395)));
    let tl = json(&staff.get(&format!("/api/v1/contacts/{contact}/timeline")));
    let kinds: Vec<&str> = tl["items"].as_array().unwrap().iter().filter_map(|e| e["event"]["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["order-delivered", "order-shipped", "order-placed"]);
    // Bad input changes nothing.
    let r = staff.send("POST", "/api/v1/orders", Some(json!({"currency": "EUR", "items": []})));
    assert_eq!(r.status, 422);
    assert_eq!(json(&staff.get("/api/v1/orders"))["items"].as_array().unwrap().len(), 1);
}

#[test]
fn a_customer_signs_in_by_link_and_sees_only_their_own_orders() {
    let (h, mut staff) = crm("portal-customers");
    let mine = json(&staff.send("PUT", "/api/v1/orders/by-external-id/a", Some(order("ann@example.com", "Boots", 8_999))));
    let theirs = json(&staff.send("PUT", "/api/v1/orders/by-external-id/b", Some(order("bob@example.com", "Stove", 4_500))));
    let internal = staff.send("PUT", &format!("/api/v1/orders/{}", mine["id"].as_str().unwrap()), Some({
        let mut o = order("ann@example.com", "Boots", 8_999);
        o["note"] = "Customer is difficult; offer no discounts".into();
        o
    }));
    assert_eq!(internal.status, 200, "{}", internal.text());

    // Unknown addresses get the same answer and no mail.
    let mut stranger = Customer::new(&h, "demo");
    let r = stranger.send("POST", "/api/v1/portal/auth/request-link", Some(json!({"email": "nobody@example.com"})));
    assert_eq!(r.status, 202);
    assert_eq!(mails_to(&mut staff, "nobody@example.com"), 0);
    assert_eq!(stranger.send("GET", "/api/v1/portal/orders", None).status, 401);

    let mut ann = Customer::new(&h, "demo");
    let r = ann.sign_in(&mut staff, "ann@example.com");
    assert_eq!(r.status, 200, "{}", r.text());
    let link = last_link(&mut staff, "ann@example.com").unwrap();
    // The link works once.
    let mut replay = Customer::new(&h, "demo");
    let r = replay.send("POST", "/api/v1/portal/auth/redeem", Some(json!({"token": token_of(&link)})));
    assert_eq!((r.status, json(&r)["type"].as_str()), (401, Some("https://edge-crm.dev/problems/link-invalid")));

    let list = json(&ann.send("GET", "/api/v1/portal/orders", None));
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["number"], mine["number"]);
    assert!(items[0].get("note").is_none() && !list.to_string().contains("difficult"), "internal notes never reach the portal");
    let one = ann.send("GET", &format!("/api/v1/portal/orders/{}", mine["id"].as_str().unwrap()), None);
    assert_eq!(json(&one)["history"][0]["status"], "placed");
    assert_eq!(ann.send("GET", &format!("/api/v1/portal/orders/{}", theirs["id"].as_str().unwrap()), None).status, 404, "another customer's order");
    assert_eq!(ann.send("GET", "/api/v1/portal/orders/o_01HZZZZZZZZZZZZZZZZZZZZZZZ", None).status, 404);
    // A portal session opens nothing of the staff API, and a staff session nothing of the portal.
    assert_eq!(ann.send("GET", "/api/v1/contacts", None).status, 401);
    assert_eq!(ann.send("GET", "/api/v1/orders", None).status, 401);
    assert_eq!(staff.get("/api/v1/portal/orders").status, 401);
    // Nor another tenant's portal.
    let mut acme_staff = h.signed_in_owner("acme");
    let mut ann_at_acme = Customer::new(&h, "acme");
    ann_at_acme.cookie = ann.cookie.clone();
    assert_eq!(ann_at_acme.send("GET", "/api/v1/portal/orders", None).status, 401, "the session belongs to its tenant");
    assert_eq!(ann_at_acme.send("POST", "/api/v1/portal/auth/redeem", Some(json!({"token": token_of(&link)}))).status, 401);
    assert!(json(&acme_staff.get("/api/v1/orders"))["items"].as_array().unwrap().is_empty());
    // Signing out ends the session.
    ann.csrf = None;
    assert_eq!(ann.send("POST", "/api/v1/portal/auth/sign-out", None).status, 204);
    assert_eq!(ann.send("GET", "/api/v1/portal/orders", None).status, 401);
}

#[test]
fn sign_in_links_are_throttled_per_address() {
    let (h, mut staff) = crm("portal-throttle");
    staff.send("PUT", "/api/v1/orders/by-external-id/a", Some(order("cy@example.com", "Map", 1_000)));
    let mut cy = Customer::new(&h, "demo");
    for _ in 0..7 {
        assert_eq!(cy.send("POST", "/api/v1/portal/auth/request-link", Some(json!({"email": "cy@example.com"}))).status, 202);
    }
    assert_eq!(mails_to(&mut staff, "cy@example.com"), 5, "five links per quarter hour, and the same answer after");
    assert_eq!(cy.send("POST", "/api/v1/portal/auth/request-link", Some(json!({"email": "not an address"}))).status, 422);
}

#[test]
fn complaints_from_the_portal_to_the_desk_and_back() {
    let scratch_dir = scratch("portal-tickets");
    let h = TestHost::start(HostConfig::crm(&scratch_dir).with_tick());
    let mut staff = h.signed_in_owner("demo");
    let o = json(&staff.send("PUT", "/api/v1/orders/by-external-id/z", Some(order("zoe@example.com", "Kayak", 59_900))));
    // A published article the customer will be offered before filing.
    let a = staff.post_json("/api/v1/kb/articles", &json!({"title": "My kayak arrived damaged", "body": "Take photos of the damage and reply within 14 days; we send a replacement.", "category": "Damaged item", "status": "published"}));
    assert_eq!(a.status, 201, "{}", a.text());
    staff.post_json("/api/v1/kb/articles", &json!({"title": "Internal: courier contracts", "body": "Draft", "status": "draft"}));

    let mut zoe = Customer::new(&h, "demo");
    // The knowledge base is public, drafts excluded.
    let kb = json(&zoe.send("GET", "/api/v1/portal/kb?subject=kayak%20damaged%20on%20arrival", None));
    assert_eq!(kb["items"].as_array().unwrap().len(), 1, "{kb}");
    assert_eq!(kb["items"][0]["title"], "My kayak arrived damaged");
    assert!(json(&zoe.send("GET", "/api/v1/portal/kb?q=courier", None))["items"].as_array().unwrap().is_empty());
    assert_eq!(zoe.sign_in(&mut staff, "zoe@example.com").status, 200);
    let r = zoe.send("POST", "/api/v1/portal/tickets", Some(json!({"subject": "Kayak damaged on arrival", "body": "There is a crack in the hull.", "category": "Damaged item", "order_id": o["id"]})));
    assert_eq!(r.status, 201, "{}", r.text());
    let t = json(&r);
    let id = t["id"].as_str().unwrap().to_string();
    assert!(t.get("assignee_id").is_none() && t.get("first_response_due").is_none(), "customers see no desk internals");

    // The desk: the ticket is in the unassigned queue; an internal note and a public answer.
    let queue = json(&staff.get("/api/v1/tickets?queue=unassigned"));
    assert_eq!(queue["items"][0]["id"], id.as_str());
    let full = json(&staff.get(&format!("/api/v1/tickets/{id}")));
    assert!(full["first_response_due"].is_string() && full["status"] == "new");
    assert_eq!(staff.post_json(&format!("/api/v1/tickets/{id}/messages"), &json!({"body": "Looks like courier damage, claim with them", "internal": true})).status, 201);
    let r = staff.post_json(&format!("/api/v1/tickets/{id}/messages"), &json!({"body": "Sorry! A replacement kayak ships tomorrow.", "status": "resolved"}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(mails_to(&mut staff, "zoe@example.com"), 2, "the sign-in link, then the answer");

    // The customer sees the answer, never the note; rates it; a later reply reopens it.
    let seen = json(&zoe.send("GET", &format!("/api/v1/portal/tickets/{id}"), None));
    let bodies: Vec<&str> = seen["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["There is a crack in the hull.", "Sorry! A replacement kayak ships tomorrow."]);
    assert!(!seen.to_string().contains("courier damage"), "internal notes never reach the portal");
    assert_eq!((seen["status"].as_str(), seen["can_rate"].as_bool()), (Some("resolved"), Some(true)));
    let r = zoe.send("POST", &format!("/api/v1/portal/tickets/{id}/rating"), Some(json!({"score": 5, "comment": "Fast!"})));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(zoe.send("POST", &format!("/api/v1/portal/tickets/{id}/rating"), Some(json!({"score": 1}))).status, 409, "rated once");
    let r = zoe.send("POST", &format!("/api/v1/portal/tickets/{id}/messages"), Some(json!({"body": "The replacement has a crack too."})));
    assert_eq!(json(&r)["status"], "reopened");
    // Other customers and other tenants see nothing of it.
    let mut bob = Customer::new(&h, "demo");
    staff.send("PUT", "/api/v1/orders/by-external-id/y", Some(order("bob@example.com", "Paddle", 4_900)));
    bob.sign_in(&mut staff, "bob@example.com");
    assert_eq!(bob.send("GET", &format!("/api/v1/portal/tickets/{id}"), None).status, 404);
    assert_eq!(bob.send("POST", &format!("/api/v1/portal/tickets/{id}/messages"), Some(json!({"body": "hi"}))).status, 404);
    assert!(json(&bob.send("GET", "/api/v1/portal/tickets", None))["items"].as_array().unwrap().is_empty());
    let r = bob.send("POST", "/api/v1/portal/tickets", Some(json!({"subject": "Zoe's kayak", "body": "…", "order_id": o["id"]})));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("order_id")));
    // Reports and the timeline.
    let rep = json(&staff.get("/api/v1/service-reports"));
    assert_eq!((rep["created"].as_u64(), rep["csat"]["average"].as_f64()), (Some(1), Some(5.0)));
    let tl = json(&staff.get(&format!("/api/v1/contacts/{}/timeline", o["contact_id"].as_str().unwrap())));
    assert!(tl["items"].as_array().unwrap().iter().any(|e| e["event"]["kind"] == "ticket-opened"));

    // The portal's look is the tenant's, for anyone.
    let mut settings = json(&staff.get("/api/v1/service-settings"));
    settings["portal_name"] = "Kayak Corner".into();
    settings["brand_color"] = "#e11d48".into();
    let r = staff.send("PUT", "/api/v1/service-settings", Some(settings.clone()));
    assert_eq!(r.status, 200, "{}", r.text());
    let brand = json(&Customer::new(&h, "demo").send("GET", "/api/v1/portal/brand", None));
    assert_eq!((brand["name"].as_str(), brand["brand_color"].as_str()), (Some("Kayak Corner"), Some("#e11d48")));
    settings["brand_color"] = "red".into();
    assert_eq!(staff.send("PUT", "/api/v1/service-settings", Some(settings)).status, 422);

    // The scheduler's route on hosts without one of their own: secret, then it runs.
    let tick = |token: &str| h.request("POST", "demo.localhost", "/.well-known/edge-crm/tick", &[("authorization", &format!("Bearer {token}"))], b"");
    assert_eq!(tick("wrong-token-wrong-token").status, 404);
    let r = tick(e2e::TICK_TOKEN);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = json(&r);
    assert!(v["components"]["portal"]["next_tick_at"].is_string(), "the reopened ticket owes a resolution: {v}");
}
