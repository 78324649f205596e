//! The web app in a real headless Chromium against the real host: the contacts
//! list loads, a contact is created through the dialog (keyboard shortcut, field
//! errors, save), and the detail page shows it. Screenshots are kept as artefacts.

use e2e::browser::Browser;
use e2e::{create_tenant, json, scratch, HostConfig, TestHost};
use serde_json::json;

fn crm_with_contacts(name: &str, n: usize) -> TestHost {
    let dir = scratch(name);
    let cfg = HostConfig::crm(&dir);
    create_tenant(cfg.tenants.as_ref().unwrap(), "demo");
    let h = TestHost::start(cfg);
    for i in 0..n {
        let r = h.post_json(
            "demo.localhost",
            "/api/v1/contacts",
            &json!({"first_name": format!("Person{i:02}"), "last_name": "Example", "email": format!("p{i}@example.com"), "company": "Northwind Traders"}),
        );
        assert_eq!(r.status, 201);
    }
    h
}

#[test]
fn create_a_contact_in_the_browser() {
    let h = crm_with_contacts("browser-create", 12);
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1280, 800, false);
    b.goto(&format!("{base}/"));
    b.find("[data-testid=contacts-table]");
    assert_eq!(b.wait_count("[data-testid=contact-row]", 12), 12);
    assert!(b.url().ends_with("/contacts"), "{}", b.url());
    b.screenshot("contacts-list");

    // Keyboard shortcut opens the dialog; a bad email is reported on its field.
    b.js("document.activeElement && document.activeElement.blur()");
    b.keys("n");
    let first = b.find("[data-testid=field-first_name]");
    b.type_text(&first, "Grace");
    b.type_text(&b.find("[data-testid=field-email]"), "not-an-email");
    b.click(&b.find("[data-testid=save-contact]"));
    let err = b.find("[data-testid=error-email]");
    assert!(!b.text(&err).is_empty());
    b.screenshot("contact-form-error");

    let email = b.find("[data-testid=field-email]");
    b.js("document.querySelector('[data-testid=field-email]').value = ''");
    b.type_text(&email, "grace@navy.example");
    b.type_text(&b.find("[data-testid=field-company]"), "US Navy");
    b.click(&b.find("[data-testid=save-contact]"));
    b.find("[data-testid=toast]");
    assert_eq!(b.wait_count("[data-testid=contact-row]", 13), 13);
    let first_row = b.js("return document.querySelector('[data-testid=contact-row]').innerText");
    assert!(first_row.as_str().unwrap_or("").contains("Grace"), "{first_row}");

    // It is really stored, in this tenant.
    let list = json(&h.get("demo.localhost", "/api/v1/contacts?q=grace"));
    assert_eq!(list["items"][0]["email"], "grace@navy.example");

    // The detail page.
    b.click(&b.find("[data-testid=contact-row] a"));
    let name = b.find("[data-testid=contact-name]");
    assert!(b.text(&name).contains("Grace"));
    b.screenshot("contact-detail");
}

#[test]
fn phone_width_and_dark_mode_render() {
    let h = crm_with_contacts("browser-phone", 3);
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(400, 860, true);
    b.goto(&format!("{base}/contacts"));
    b.wait_count("[data-testid=contact-row]", 3);
    let bg = b.js("return getComputedStyle(document.body).backgroundColor");
    b.screenshot("contacts-phone-dark");
    // Dark: the page background is dark (sum of RGB well below mid-grey).
    let rgb: Vec<u32> = bg.as_str().unwrap_or("").chars().filter(|c| c.is_ascii_digit() || *c == ',').collect::<String>().split(',').filter_map(|s| s.parse().ok()).collect();
    assert!(rgb.len() >= 3 && rgb[..3].iter().sum::<u32>() < 300, "background {bg}");
    b.find("[data-testid=menu-button]");
}
