//! Issue 7's journey in a phone-sized headless Chromium: a customer signs in
//! with the link from the outbox, finds an order, files a complaint; an agent
//! answers; the customer sees the answer and rates it.

use e2e::browser::Browser;
use e2e::{eventually, json, scratch, HostConfig, TestHost, OWNER_PASSWORD};
use serde_json::json;

#[test]
fn a_customer_files_a_complaint_from_a_phone_and_rates_the_answer() {
    let h = TestHost::start(HostConfig::crm(&scratch("portal-browser")));
    let mut staff = h.signed_in_owner("demo");
    let order = json(&staff.send(
        "PUT",
        "/api/v1/orders/by-external-id/shop-77",
        Some(json!({"customer": {"email": "zoe@example.com", "first_name": "Zoe"}, "currency": "EUR",
            "items": [{"product": "Touring kayak", "quantity": 1, "unit_price": 89_900}], "status": "delivered", "carrier": "DHL", "tracking_number": "0034043400001"})),
    ));
    let order_id = order["id"].as_str().unwrap().to_string();
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(390, 844, false);

    // Sign in with the link the outbox captured.
    b.goto(&format!("{base}/portal/"));
    b.type_text(&b.find("[data-testid=portal-email]"), "zoe@example.com");
    b.click(&b.find("[data-testid=portal-request-link]"));
    b.find("[data-testid=portal-check-email]");
    b.screenshot("portal-check-email");
    let mail = eventually(&mut staff, "/api/v1/outbox", |v| v["items"].as_array().is_some_and(|a| a.iter().any(|m| m["to"] == "zoe@example.com")));
    let body = mail["items"].as_array().unwrap().iter().find(|m| m["to"] == "zoe@example.com").unwrap()["body_text"].as_str().unwrap().to_string();
    let link = body.split_whitespace().find(|w| w.contains("/portal/sign-in?token=")).expect("a sign-in link").to_string();
    b.goto(&link);
    // The order, and a complaint about it.
    b.click(&b.find(&format!("[data-testid=portal-order-row][data-order-id='{order_id}'] a, [data-testid=portal-order-row][data-order-id='{order_id}']")));
    b.find("[data-testid=portal-order-timeline]");
    b.screenshot("portal-order");
    b.click(&b.find("[data-testid=portal-file-complaint]"));
    b.type_text(&b.find("[data-testid=complaint-subject]"), "Kayak arrived with a crack");
    b.type_text(&b.find("[data-testid=complaint-body]"), "There is a crack in the hull near the seat.");
    b.js("const s = document.querySelector('[data-testid=complaint-category]'); if (s && s.tagName === 'SELECT') { s.value = 'Damaged item'; s.dispatchEvent(new Event('change', {bubbles: true})); }");
    b.screenshot("portal-complaint-form");
    b.click(&b.find("[data-testid=complaint-submit]"));
    let tickets = eventually(&mut staff, "/api/v1/tickets?queue=all", |v| v["items"].as_array().is_some_and(|a| a.len() == 1));
    let ticket = tickets["items"][0].clone();
    let id = ticket["id"].as_str().unwrap().to_string();
    assert_eq!((ticket["order_id"].as_str(), ticket["channel"].as_str(), ticket["subject"].as_str()), (Some(order_id.as_str()), Some("portal"), Some("Kayak arrived with a crack")));
    b.find("[data-testid=complaint-status]");

    // An agent answers in the staff app (same browser, another cookie): an
    // internal note first, then the answer that resolves it.
    b.goto(&format!("{base}/tickets/{id}"));
    b.type_text(&b.find("[data-testid=sign-in-email]"), "owner@demo.example");
    b.type_text(&b.find("[data-testid=sign-in-password]"), OWNER_PASSWORD);
    b.click(&b.find("[data-testid=sign-in-submit]"));
    b.find("[data-testid=ticket-composer], [data-testid=contacts-table], [data-testid=empty-state]");
    b.goto(&format!("{base}/tickets/{id}"));
    let composer = b.find("[data-testid=ticket-composer]");
    b.js("const c = document.querySelector('[data-testid=composer-internal]'); if (!c.checked) c.click();");
    b.type_text(&composer, "Courier damage again; claim it.");
    b.click(&b.find("[data-testid=ticket-send]"));
    eventually(&mut staff, &format!("/api/v1/tickets/{id}"), |t| t["messages"].as_array().is_some_and(|m| m.len() == 2));
    b.js("const c = document.querySelector('[data-testid=composer-internal]'); if (c.checked) c.click();");
    b.type_text(&b.find("[data-testid=ticket-composer]"), "So sorry! A new kayak ships tomorrow.");
    b.js("const s = document.querySelector('[data-testid=composer-status]'); s.value = 'resolved'; s.dispatchEvent(new Event('change', {bubbles: true}));");
    b.click(&b.find("[data-testid=ticket-send]"));
    let answered = eventually(&mut staff, &format!("/api/v1/tickets/{id}"), |t| t["status"] == "resolved");
    let internal: Vec<bool> = answered["messages"].as_array().unwrap().iter().map(|m| m["internal"].as_bool().unwrap()).collect();
    assert_eq!(internal, vec![false, true, false]);
    b.screenshot("desk-ticket-answered");

    // The customer sees the answer, not the note, and rates it.
    b.goto(&format!("{base}/portal/complaints/{id}"));
    let answer = b.find("[data-testid=complaint-message][data-from=support]");
    assert!(b.text(&answer).contains("A new kayak ships tomorrow"), "{}", b.text(&answer));
    let page = b.js("return document.body.innerText").as_str().unwrap_or("").to_string();
    assert!(!page.contains("claim it"), "internal notes never reach the portal");
    b.find("[data-testid=complaint-rating]");
    b.js("document.querySelector('[data-testid=rating-5]').click()");
    b.click(&b.find("[data-testid=rating-submit]"));
    b.find("[data-testid=rating-thanks]");
    b.screenshot("portal-complaint-rated");
    let rated = eventually(&mut staff, &format!("/api/v1/tickets/{id}"), |t| t["csat"] == 5);
    assert_eq!(rated["status"], "resolved");
}
