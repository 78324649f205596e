//! The web app in a real headless Chromium against the real host: the contacts
//! list loads, a contact is created through the dialog (keyboard shortcut, field
//! errors, save), and the detail page shows it. Screenshots are kept as artefacts.

use e2e::browser::Browser;
use e2e::{eventually, json, scratch, Client, HostConfig, TestHost, OWNER_PASSWORD};
use serde_json::json;

/// A host with tenant `demo`, its owner, and `n` contacts.
fn crm_with_contacts(name: &str, n: usize) -> (TestHost, Client) {
    let h = TestHost::start(HostConfig::crm(&scratch(name)));
    let mut owner = h.signed_in_owner("demo");
    for i in 0..n {
        let r = owner.post_json(
            "/api/v1/contacts",
            &json!({"first_name": format!("Person{i:02}"), "last_name": "Example", "email": format!("p{i}@example.com"), "company": "Northwind Traders"}),
        );
        assert_eq!(r.status, 201);
    }
    (h, owner)
}

#[test]
fn create_a_contact_in_the_browser() {
    let (h, mut owner) = crm_with_contacts("browser-create", 12);
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1280, 800, false);
    b.goto(&format!("{base}/contacts"));
    b.find("[data-testid=sign-in-form]");
    b.screenshot("sign-in");
    b.sign_in_owner(&base);
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
    b.find("[data-testid=error-email]");
    // Read it in the page: the form may re-render the message as validation settles.
    let message = b.js("return document.querySelector('[data-testid=error-email]').innerText");
    assert!(!message.as_str().unwrap_or("").is_empty());
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
    let list = json(&owner.get("/api/v1/contacts?q=grace"));
    assert_eq!(list["items"][0]["email"], "grace@navy.example");

    // The detail page.
    b.click(&b.find("[data-testid=contact-row] a"));
    let name = b.find("[data-testid=contact-name]");
    assert!(b.text(&name).contains("Grace"));
    b.screenshot("contact-detail");
}

#[test]
fn phone_width_and_dark_mode_render() {
    let (h, _) = crm_with_contacts("browser-phone", 3);
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(400, 860, true);
    b.sign_in_owner(&base);
    b.wait_count("[data-testid=contact-row]", 3);
    let bg = b.js("return getComputedStyle(document.body).backgroundColor");
    b.screenshot("contacts-phone-dark");
    // Dark: the page background is dark (sum of RGB well below mid-grey).
    let rgb: Vec<u32> = bg.as_str().unwrap_or("").chars().filter(|c| c.is_ascii_digit() || *c == ',').collect::<String>().split(',').filter_map(|s| s.parse().ok()).collect();
    assert!(rgb.len() >= 3 && rgb[..3].iter().sum::<u32>() < 300, "background {bg}");
    b.find("[data-testid=menu-button]");
}

/// Issue 3's browser journey: sign in, invite a colleague, they accept the
/// emailed link, and both sign out.
#[test]
fn sign_in_invite_accept_and_sign_out() {
    let (h, _) = crm_with_contacts("browser-invite", 2);
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1280, 800, false);

    // A wrong password is refused on the page.
    b.goto(&format!("{base}/sign-in"));
    b.type_text(&b.find("[data-testid=sign-in-email]"), "owner@demo.example");
    b.type_text(&b.find("[data-testid=sign-in-password]"), "not the password");
    b.click(&b.find("[data-testid=sign-in-submit]"));
    b.find("[data-testid=form-error]");

    b.sign_in_owner(&base);
    b.goto(&format!("{base}/settings/users"));
    b.wait_count("[data-testid=user-row]", 1);
    b.click(&b.find("[data-testid=invite-user]"));
    b.type_text(&b.find("[data-testid=invite-email]"), "sam@demo.example");
    b.type_text(&b.find("[data-testid=invite-name]"), "Sam Sales");
    b.js("const s = document.querySelector('[data-testid=invite-role]'); s.value = 'sales'; s.dispatchEvent(new Event('change', {bubbles: true}));");
    b.click(&b.find("[data-testid=send-invite]"));
    b.wait_count("[data-testid=user-row]", 2);
    // A team for Sam, and sales limited to their own and their team's records.
    b.goto(&format!("{base}/settings/teams"));
    b.click(&b.find("[data-testid=new-team], [data-testid=empty-new-team]"));
    b.type_text(&b.find("[data-testid=team-name-input]"), "East");
    b.click(&b.find("[data-testid=team-save]"));
    b.wait_count("[data-testid=team-row]", 1);
    b.screenshot("settings-teams");
    b.goto(&format!("{base}/settings/users"));
    b.wait_count("[data-testid=user-row]", 2);
    b.js("const s = [...document.querySelectorAll('[data-testid=user-team-select]')].find(s => s.closest('[data-testid=user-row]').innerText.includes('sam@demo.example')); s.value = [...s.options].find(o => o.text === 'East').value; s.dispatchEvent(new Event('change', {bubbles: true}));");
    b.find("[data-testid=toast][data-kind=success]");
    b.js("const s = document.querySelector('[data-testid=record-visibility-sales]'); s.value = 'team'; s.dispatchEvent(new Event('change', {bubbles: true}));");
    b.find("[data-testid=record-visibility-sales]:not([disabled])");
    b.screenshot("settings-users");

    // The invitation is in the outbox (no mail provider locally).
    b.goto(&format!("{base}/settings/outbox"));
    b.wait_count("[data-testid=outbox-row]", 2);
    let link = b
        .js("const a = [...document.querySelectorAll('[data-testid=outbox-link]')].map(a => a.href).find(h => h.includes('accept-invite') && document.body.innerText.includes('sam@demo.example')); return a || '';")
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(link.contains("/accept-invite?token="), "invitation link in the outbox: {link:?}");
    b.screenshot("settings-outbox");

    // The owner signs out.
    b.click(&b.find("[data-testid=user-menu]"));
    b.click(&b.find("[data-testid=sign-out]"));
    b.find("[data-testid=sign-in-form]");

    // The newest invitation is Sam's: accept it.
    let sams = {
        let mut owner = Client::new(h.addr, "demo");
        assert_eq!(owner.sign_in("owner@demo.example", OWNER_PASSWORD).status, 200);
        assert_eq!(json(&owner.get("/api/v1/settings/record-visibility"))["sales"], "team", "set from the settings page");
        let teams = json(&owner.get("/api/v1/teams"));
        assert_eq!(teams["items"][0]["name"], "East");
        assert_eq!(teams["items"][0]["members"].as_array().map(Vec::len), Some(1), "Sam joined from the users page: {teams}");
        let items = json(&owner.get("/api/v1/outbox"));
        let body = items["items"].as_array().unwrap().iter().find(|m| m["to"] == "sam@demo.example").unwrap()["body_text"].as_str().unwrap().to_string();
        body.split_whitespace().find(|w| w.contains("accept-invite?token=")).unwrap().to_string()
    };
    b.goto(&sams);
    b.find("[data-testid=accept-invite-form]");
    b.type_text(&b.find("[data-testid=accept-name]"), "Sam Sales");
    b.type_text(&b.find("[data-testid=accept-password]"), "sam's browser passphrase");
    b.type_text(&b.find("[data-testid=accept-confirm]"), "sam's browser passphrase");
    b.screenshot("accept-invite");
    b.click(&b.find("[data-testid=accept-submit]"));
    b.find("[data-testid=user-menu]");
    let role = b.text(&b.find("[data-testid=user-role]"));
    assert!(role.to_lowercase().contains("sales"), "{role}");

    // Sales cannot manage users.
    b.goto(&format!("{base}/settings/users"));
    b.find("[data-testid=settings-need-admin]");

    b.click(&b.find("[data-testid=user-menu]"));
    b.click(&b.find("[data-testid=sign-out]"));
    b.find("[data-testid=sign-in-form]");
    let mut sam = Client::new(h.addr, "demo");
    assert_eq!(sam.sign_in("sam@demo.example", "sam's browser passphrase").status, 200);
}

/// An admin makes an API key in the app, the key works once copied, and the
/// audit log shows what it did, with the change itself.
#[test]
fn api_key_and_audit_log_in_the_browser() {
    let (h, _) = crm_with_contacts("browser-keys", 1);
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1280, 800, false);
    b.sign_in_owner(&base);

    b.goto(&format!("{base}/settings/api-keys"));
    b.click(&b.find("[data-testid=new-api-key]"));
    b.type_text(&b.find("[data-testid=api-key-name]"), "ERP sync");
    b.js("const s = document.querySelector('[data-testid=api-key-scope-contacts]'); s.value = 'write'; s.dispatchEvent(new Event('change', {bubbles: true}));");
    b.click(&b.find("[data-testid=create-api-key]"));
    let token = b.text(&b.find("[data-testid=api-key-token-value]"));
    assert!(token.starts_with("ek_"), "{token}");
    b.screenshot("api-key-created");
    b.click(&b.find("[data-testid=api-key-token-done]"));
    b.wait_count("[data-testid=api-key-row]", 1);

    let r = h.request(
        "POST",
        "demo.localhost",
        "/api/v1/contacts",
        &[("authorization", &format!("Bearer {token}")), ("content-type", "application/json")],
        br#"{"first_name":"Via","last_name":"Key"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());

    b.goto(&format!("{base}/settings/audit?entity=contact"));
    b.wait_count("[data-testid=audit-row]", 2);
    let first = b.js("return document.querySelector('[data-testid=audit-row]').innerText");
    assert!(first.as_str().unwrap_or("").contains("apikey:"), "newest change by the key: {first}");
    b.click(&b.find("[data-testid=audit-toggle]"));
    let diff = b.text(&b.find("[data-testid=audit-diff]"));
    assert!(diff.contains("Via"), "{diff}");
    b.screenshot("audit-log");
}

/// Issue 4's browser journey: create a contact, find it with the search box,
/// edit it, import a small file, and see the imported people in the list.
#[test]
fn create_find_edit_and_import_in_the_browser() {
    let (h, mut owner) = crm_with_contacts("browser-records", 3);
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1280, 800, false);
    b.sign_in_owner(&base);
    b.wait_count("[data-testid=contact-row]", 3);

    // Create.
    b.click(&b.find("[data-testid=new-contact]"));
    b.type_text(&b.find("[data-testid=field-first_name]"), "Ada");
    b.type_text(&b.find("[data-testid=field-last_name]"), "Lovelace");
    b.type_text(&b.find("[data-testid=field-email]"), "ada@analytical.example");
    b.click(&b.find("[data-testid=save-contact]"));
    b.find("[data-testid=toast]");
    assert_eq!(json(&owner.get("/api/v1/contacts?q=lovelace"))["items"].as_array().map(Vec::len), Some(1));

    // Find it with the global search box, as the user types.
    b.goto(&format!("{base}/contacts"));
    b.type_text(&b.find("[data-testid=global-search]"), "lovel");
    let hit = b.find("[data-testid=search-result][data-kind=contact]");
    assert!(b.text(&hit).contains("Ada"), "{}", b.text(&hit));
    b.screenshot("global-search");
    b.click(&hit);
    let name = b.find("[data-testid=contact-name]");
    assert!(b.text(&name).contains("Lovelace"));

    // Edit: a field-level change, saved with the version it was read at.
    b.click(&b.find("[data-testid=contact-edit]"));
    b.type_text(&b.find("[data-testid=field-title]"), "Countess");
    b.click(&b.find("[data-testid=contact-save]"));
    b.find("[data-testid=toast]");
    let id = json(&owner.get("/api/v1/contacts?q=lovelace"))["items"][0]["id"].as_str().unwrap().to_string();
    let mut tries = 0;
    while json(&owner.get(&format!("/api/v1/contacts/{id}")))["title"] != "Countess" {
        tries += 1;
        assert!(tries < 100, "the edit was not saved");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    b.screenshot("contact-edited");

    // Import a small file with one bad row.
    let file = scratch("browser-import-file").join("people.csv");
    std::fs::write(&file, "First name,Last name,Email\nGrace,Hopper,grace@navy.example\nAlan,Turing,alan@bletchley.example\nBad,Row,not-an-email\n").unwrap();
    b.goto(&format!("{base}/contacts/import"));
    let input = b.find("[data-testid=import-file]");
    b.type_text(&input, file.to_str().unwrap());
    b.find("[data-testid=map-column-0]");
    b.screenshot("import-mapping");
    b.click(&b.find("[data-testid=import-continue]"));
    b.find("[data-testid=import-preview]");
    b.click(&b.find("[data-testid=import-start]"));
    let summary = b.find("[data-testid=import-summary]");
    assert!(b.text(&summary).contains('2'), "{}", b.text(&summary));
    b.find("[data-testid=import-errors]");
    b.screenshot("import-summary");

    // The imported people are in the list.
    b.goto(&format!("{base}/contacts"));
    b.wait_count("[data-testid=contact-row]", 6);
    let list = b.js("return document.querySelector('[data-testid=contacts-table]').innerText").as_str().unwrap_or("").to_string();
    assert!(list.contains("Hopper") && list.contains("Turing") && !list.contains("not-an-email"), "{list}");
    b.screenshot("contacts-after-import");
    assert_eq!(json(&owner.get("/api/v1/contacts/count"))["count"], 6);
}

/// Issue 5's browser journey: create a deal on the board, drag it across,
/// mark it won, and see its contact become a customer.
#[test]
fn create_drag_and_win_a_deal_in_the_browser() {
    let h = TestHost::start(HostConfig::crm(&scratch("browser-pipeline")));
    let mut owner = h.signed_in_owner("demo");
    let contact = json(&owner.post_json("/api/v1/contacts", &json!({"first_name": "Wilma", "last_name": "Winner", "lifecycle_stage": "opportunity"})));
    let contact_id = contact["id"].as_str().unwrap().to_string();
    let stages: Vec<String> = json(&owner.get("/api/v1/pipelines"))["items"][0]["stages"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1400, 900, false);
    b.sign_in_owner(&base);
    b.goto(&format!("{base}/pipeline"));
    b.wait_count("[data-testid=stage-column]", 4);

    // New deal from the keyboard, linked to Wilma through the contact search.
    b.js("document.activeElement && document.activeElement.blur()");
    b.keys("n");
    b.type_text(&b.find("input[name=title]"), "Wilma's fleet");
    b.type_text(&b.find("input[name=value]"), "12500");
    b.type_text(&b.find("input[name=contact_id]"), "Wilma");
    b.click(&b.find("[data-testid=combo-option]"));
    b.click(&b.find("[data-testid=save-deal]"));
    let deals = eventually(&mut owner, "/api/v1/deals", |v| v["items"].as_array().is_some_and(|a| a.len() == 1));
    let deal = deals["items"][0].clone();
    let id = deal["id"].as_str().unwrap().to_string();
    assert_eq!((deal["value"].as_i64(), deal["contact_id"].as_str()), (Some(1_250_000), Some(contact_id.as_str())));
    b.find(&format!("[data-testid=stage-column][data-stage-id='{}'] [data-testid=deal-card][data-deal-id='{id}']", stages[0]));
    b.screenshot("pipeline-board-new-deal");

    // Drag the card to Proposal, as a mouse would: dragstart, dragover, drop, dragend.
    b.js(&format!(
        "const card = document.querySelector(\"[data-testid=deal-card][data-deal-id='{id}']\");
         const col = document.querySelector(\"[data-testid=stage-column][data-stage-id='{}']\");
         const dt = new DataTransfer();
         card.dispatchEvent(new DragEvent('dragstart', {{bubbles: true, cancelable: true, dataTransfer: dt}}));
         const r = col.getBoundingClientRect();
         const at = {{bubbles: true, cancelable: true, dataTransfer: dt, clientX: r.left + 30, clientY: r.top + 90}};
         col.dispatchEvent(new DragEvent('dragenter', at));
         col.dispatchEvent(new DragEvent('dragover', at));
         col.dispatchEvent(new DragEvent('drop', at));
         card.dispatchEvent(new DragEvent('dragend', {{bubbles: true, dataTransfer: dt}}));",
        stages[2]
    ));
    eventually(&mut owner, &format!("/api/v1/deals/{id}"), |d| d["stage_id"] == stages[2].as_str());
    b.find(&format!("[data-testid=stage-column][data-stage-id='{}'] [data-testid=deal-card][data-deal-id='{id}']", stages[2]));
    let total = b.js(&format!("return document.querySelector(\"[data-testid=stage-column][data-stage-id='{}'] [data-testid=stage-total]\").innerText", stages[2]));
    assert!(total.as_str().unwrap_or("").contains("12,500"), "Proposal's total counts the deal: {total}");
    b.screenshot("pipeline-board-dragged");

    // Won, from the card.
    b.click(&b.find(&format!("[data-testid=deal-card][data-deal-id='{id}'] [data-testid=deal-won]")));
    eventually(&mut owner, &format!("/api/v1/deals/{id}"), |d| d["status"] == "won");
    let history = json(&owner.get(&format!("/api/v1/deals/{id}/history")));
    assert_eq!(history["items"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect::<Vec<_>>(), vec!["open", "open", "won"]);

    // The contact became a customer, and its page says so and shows the deal.
    eventually(&mut owner, &format!("/api/v1/contacts/{contact_id}"), |c| c["lifecycle_stage"] == "customer");
    b.goto(&format!("{base}/contacts/{contact_id}"));
    let stage = b.find("[data-testid=contact-stage]");
    assert!(b.text(&stage).to_lowercase().contains("customer"), "{}", b.text(&stage));
    b.find("[data-testid=contact-deals]");
    b.screenshot("contact-after-won-deal");
    b.goto(&format!("{base}/pipeline/reports"));
    b.find("svg");
    b.screenshot("sales-reports");
}
