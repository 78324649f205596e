//! The Home dashboard in a real headless Chromium against the real host:
//! four contacts come in through the API (three from the website's contact
//! form, one from a fair) and the owner has a task that was due yesterday.
//! On /home the leads widget counts 4 new contacts from 2 sources; the
//! "Web form: Contact us" source opens the contacts list filtered to its 3;
//! back home, the tasks widget lists the overdue task, linked to its contact.
//! Customize: the SLA widget goes, the tasks move to the top (one step with
//! the arrow button, one with Alt+↑), the layout is saved, and after a reload
//! (and in the API) that order stays. Screenshots: home on a desktop, the
//! customize mode, home at phone width in dark mode.

use e2e::browser::Browser;
use e2e::{json, scratch, Client, HostConfig, TestHost};
use serde_json::{json, Value};

/// The widgets on the page, in their order.
fn widgets(b: &Browser) -> Value {
    b.js("return [...document.querySelectorAll('[data-testid=home-widget]')].map((e) => e.dataset.widget)")
}

/// Waits until every widget on the page has loaded (no skeleton left).
fn wait_loaded(b: &Browser) {
    b.wait_for(
        "every widget loaded",
        "const w = [...document.querySelectorAll('[data-testid=home-widget]')]; return w.length > 0 && w.every((e) => e.querySelector('.home-widget-body').getAttribute('aria-busy') === 'false')",
    );
}

fn contact(c: &mut Client, first: &str, source: &str) -> String {
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": first, "last_name": "Example", "email": format!("{}@example.com", first.to_lowercase()), "source": source}));
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)["id"].as_str().unwrap().to_string()
}

#[test]
fn the_home_dashboard_shows_leads_and_tasks_and_keeps_a_customized_layout() {
    let h = TestHost::start(HostConfig::crm(&scratch("home-browser")));
    let mut owner = h.signed_in_owner("demo");
    let me = json(&owner.get("/api/v1/auth/me"))["user"]["id"].as_str().unwrap().to_string();
    let base = format!("http://demo.localhost:{}", h.addr.port());

    // Three leads from the website's contact form, one from a fair.
    let ada = contact(&mut owner, "Ada", "Web form: Contact us");
    contact(&mut owner, "Grace", "Web form: Contact us");
    contact(&mut owner, "Alan", "Web form: Contact us");
    contact(&mut owner, "Linus", "Fair");
    // The owner's task about Ada, due yesterday.
    let due = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let r = owner.post_json("/api/v1/activities", &json!({"kind": "task", "subject": "Call Ada back", "contact_id": ada, "assignee_id": me, "due_at": due}));
    assert_eq!(r.status, 201, "{}", r.text());
    // Nobody has chosen yet: the default widgets.
    let d = json(&owner.get("/api/v1/insights/dashboard"));
    assert_eq!(d["widgets"], json!(["pipeline", "leads_by_source", "tasks_due", "at_risk", "campaign_return", "sla"]), "{d}");

    let b = Browser::start(1280, 900, false);
    b.sign_in_owner(&base);

    // Home, from the sidebar (its first item); every widget loads on its own.
    b.click_css("[data-testid=nav-home]");
    b.find("[data-testid=home]");
    assert!(b.url().ends_with("/home"), "{}", b.url());
    wait_loaded(&b);
    assert_eq!(widgets(&b), d["widgets"]);
    assert_eq!(b.count("[data-testid=home-widget-error]"), 0, "{}", b.text_of("[data-testid=home-grid]"));

    // New leads by source: 4, from the contact form (3) and the fair (1).
    b.wait_for("4 new contacts", "const e = document.querySelector('[data-testid=widget-leads-total-value]'); return !!e && e.innerText.trim() === '4'");
    assert_eq!(b.count("[data-testid=home-leads-source]"), 2);
    assert_eq!(
        b.js("return [...document.querySelectorAll('[data-testid=home-leads-source]')].map((e) => [e.dataset.source, e.querySelector('.home-bar-value').innerText.trim()])"),
        json!([["Web form: Contact us", "3"], ["Fair", "1"]])
    );
    // The tasks widget: the overdue task first, linked to Ada.
    b.find("[data-testid=widget-tasks-list] [data-testid=home-task][data-overdue=true]");
    assert!(b.text_of("[data-testid=widget-tasks-list] [data-testid=home-task]").contains("Call Ada back"), "{}", b.text_of("[data-testid=widget-tasks-list]"));
    b.js("window.scrollTo(0, 0)");
    b.screenshot("home-desktop");

    // The contact form's source opens the contacts list filtered to its 3.
    b.click_css("[data-testid=home-leads-source][data-source='Web form: Contact us']");
    b.find("[data-testid=contacts-table]");
    assert!(b.url().contains("/contacts?filter="), "{}", b.url());
    b.wait_for("the 3 contacts from the contact form", "return document.querySelectorAll('[data-testid=contact-row]').length === 3");
    b.wait_for("the count says 3", "const e = document.querySelector('[data-testid=contacts-count]'); return !!e && e.innerText.trim().startsWith('3 ')");

    // Back home: the task that was due yesterday, overdue, linked to its contact.
    b.click_css("[data-testid=nav-home]");
    b.find("[data-testid=widget-tasks-list] [data-testid=home-task][data-overdue=true]");
    let task = "[data-testid=widget-tasks-list] [data-testid=home-task][data-overdue=true]";
    assert!(b.text_of(task).contains("Call Ada back"), "{}", b.text_of(task));
    assert!(b.text_of(task).contains("Due yesterday"), "{}", b.text_of(task));
    assert_eq!(
        b.js(&format!("return document.querySelector({}).getAttribute('href')", json!(format!("{task} [data-testid=home-task-link]")))),
        json!(format!("/contacts/{ada}"))
    );
    wait_loaded(&b);

    // Customize: the SLA widget goes …
    b.click_css("[data-testid=home-customize]");
    b.find("[data-testid=home-tray]:not([hidden])");
    b.find("[data-testid=home-save-layout]:not([hidden])");
    b.click_css("[data-widget=sla] [data-testid=home-widget-remove]");
    b.wait_for("the SLA widget gone", "return !document.querySelector('[data-testid=home-widget][data-widget=sla]')");
    b.find("[data-testid=home-widget-add][data-widget=sla]");
    // … and the tasks move to the top: a step with the arrow, a step with Alt+↑.
    b.click_css("[data-widget=tasks_due] [data-testid=home-widget-up]");
    assert_eq!(widgets(&b), json!(["pipeline", "tasks_due", "leads_by_source", "at_risk", "campaign_return"]));
    b.js("document.querySelector('[data-widget=tasks_due] [data-testid=home-widget-up]').dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowUp', altKey: true, bubbles: true, cancelable: true}))");
    assert_eq!(widgets(&b), json!(["tasks_due", "pipeline", "leads_by_source", "at_risk", "campaign_return"]));
    b.wait_for("the move announced", "return document.querySelector('[data-testid=home-announcer]').textContent.includes('position 1 of 5')");
    b.js("window.scrollTo(0, 0)");
    b.screenshot("home-customize");

    b.click_css("[data-testid=home-save-layout]");
    b.find("[data-testid=home-save-layout][hidden]");
    b.find("[data-testid=home-customize]:not([hidden])");
    let saved = json!(["tasks_due", "pipeline", "leads_by_source", "at_risk", "campaign_return"]);
    assert_eq!(json(&owner.get("/api/v1/insights/dashboard"))["widgets"], saved);

    // A reload keeps the order.
    b.goto(&format!("{base}/home"));
    b.find("[data-testid=home-widget]");
    wait_loaded(&b);
    assert_eq!(widgets(&b), saved);
    assert_eq!(b.count("[data-testid=home-widget][data-widget=sla]"), 0);
    drop(b);

    // At phone width, in dark mode: one column, nothing wider than the screen.
    let phone = Browser::start(390, 844, true);
    phone.sign_in_owner(&base);
    phone.goto(&format!("{base}/home"));
    phone.find("[data-testid=home-widget]");
    wait_loaded(&phone);
    assert_eq!(widgets(&phone), saved);
    phone.wait_for("4 new contacts", "const e = document.querySelector('[data-testid=widget-leads-total-value]'); return !!e && e.innerText.trim() === '4'");
    let columns = phone.js("return getComputedStyle(document.querySelector('[data-testid=home-grid]')).gridTemplateColumns.split(' ').length");
    assert_eq!(columns, json!(1), "one column on a phone");
    let widths = phone.js("return [document.documentElement.scrollWidth, window.innerWidth]");
    assert!(widths[0].as_u64() <= widths[1].as_u64(), "the page scrolls sideways: {widths}");
    phone.screenshot("home-phone-dark");
}
