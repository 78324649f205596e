//! Lead capture in a real headless Chromium against the real host: the owner
//! builds a form in the app (first name, a required email, a message box,
//! consent, round robin to a sales colleague, a tag, a thank-you message),
//! saves it and opens "Put it on your website"; a visitor fills in the plain
//! HTML snippet on a page of their own and sends it; the API then holds one
//! contact for that email, owned by the colleague, with one note; and the
//! form's Submissions tab shows the accepted submission with its owner and a
//! link to the contact. Before the visitor comes, the owner also builds a
//! rule in the app ("when this form is submitted, create a task 'Call
//! {{ name }} back' for the owner"); the next tick makes Sam's task, and Sam,
//! signing in, sees the lead and the task on the Home dashboard.
//! Screenshots (builder, embed panel, submissions, Sam's dashboard, builder
//! at phone width in dark mode) are kept as artefacts.

use e2e::browser::Browser;
use e2e::{eventually, json, scratch, tick, Client, HostConfig, TestHost, COLLEAGUE_PASSWORD};
use serde_json::{json, Value};

fn contacts_with(c: &mut Client, email: &str) -> Vec<Value> {
    let f = json!({"field": "email", "op": "eq", "value": email}).to_string();
    let enc: String = f.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    json(&c.get(&format!("/api/v1/contacts?filter={enc}")))["items"].as_array().unwrap().clone()
}

fn notes_of(c: &mut Client, contact: &str) -> Vec<Value> {
    json(&c.get(&format!("/api/v1/contacts/{contact}/timeline")))["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "activity").cloned().collect()
}

#[test]
fn build_a_form_put_it_on_a_page_and_follow_its_lead_in_the_browser() {
    let h = TestHost::start(HostConfig::crm(&scratch("forms-browser")).with_tick());
    let mut owner = h.signed_in_owner("demo");
    // The colleague's display name is their email (the harness accepts the invitation so).
    let (_, sam) = h.colleague(&mut owner, "sam@demo.example", "sales");
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1280, 900, false);
    b.sign_in_owner(&base);

    // Automations is live in the navigation and lands on the (empty) forms list.
    b.click_css("[data-testid=nav-automations]");
    b.find("[data-testid=forms-empty]");
    assert!(b.url().ends_with("/automations/forms"), "{}", b.url());
    b.click_css("[data-testid=new-form]:not([hidden])");

    // The builder starts with a first name and the (required) email; a message box is added.
    b.type_text(&b.find("[data-testid=form-name]"), "Contact us");
    assert_eq!(b.wait_count("[data-testid=form-field-row]", 2), 2);
    b.click_css("[data-testid=form-add-field]");
    assert_eq!(b.wait_count("[data-testid=form-field-row]", 3), 3);
    b.set_value("[data-testid=form-field-row]:nth-child(3) [data-testid=form-field-key]", "message", "change");
    b.wait_for(
        "the message row became a long text",
        "const r = document.querySelector('[data-testid=form-field-row]:nth-child(3)'); return r.dataset.key === 'message' && r.querySelector('[data-testid=form-field-kind]').value === 'textarea'",
    );
    b.set_value("[data-testid=form-field-row]:nth-child(3) [data-testid=form-field-label]", "", "input");
    b.type_text(&b.find("[data-testid=form-field-row]:nth-child(3) [data-testid=form-field-label]"), "How can we help?");
    assert_eq!(
        b.js("return document.querySelector('[data-testid=form-field-row]:nth-child(2) [data-testid=form-field-required]').checked"),
        json!(true),
        "the email is required"
    );

    // Consent (its wording is filled in), round robin to Sam, a tag, the thank-you message.
    b.click_css("[data-testid=form-consent-enabled]");
    b.wait_for("the consent wording", "return document.querySelector('[data-testid=form-consent-wording]').value.length > 10");
    b.set_value("[data-testid=form-assignment-mode]", "round_robin", "change");
    b.click_css(&format!("[data-testid=form-assignee][data-user-id='{sam}']"));
    b.type_text(&b.find("[data-testid=form-tags]"), "web lead,");
    assert_eq!(b.wait_count("[data-testid=form-tag-chip]", 1), 1);
    b.type_text(&b.find("[data-testid=form-thank-you]"), "Thanks, we will call you back today.");

    // The live preview draws the hosted page as it will look.
    b.wait_for(
        "the preview shows the message box and the consent",
        "const d = document.querySelector('[data-testid=form-preview-frame]').contentDocument; \
         return !!d && !!d.querySelector('textarea[name=message]') && !!d.querySelector('input[name=consent]') && d.body.innerText.includes('How can we help?')",
    );
    b.js("window.scrollTo(0, 0)");
    b.screenshot("forms-builder");

    // Saved: the page becomes the form's, and the API has it as built.
    b.click_css("[data-testid=form-save]");
    b.find("[data-testid=form-delete]");
    let forms = eventually(&mut owner, "/api/v1/forms", |v| v["items"].as_array().is_some_and(|a| a.len() == 1));
    let form = forms["items"][0].clone();
    let id = form["id"].as_str().unwrap().to_string();
    assert!(b.url().ends_with(&format!("/automations/forms/{id}")), "{}", b.url());
    let keys: Vec<&str> = form["fields"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys, vec!["first_name", "email", "message"], "{form}");
    assert_eq!((form["fields"][1]["required"].as_bool(), form["fields"][2]["kind"].as_str()), (Some(true), Some("textarea")));
    assert_eq!((form["consent"]["enabled"].as_bool(), form["assignment"]["mode"].as_str()), (Some(true), Some("round_robin")), "{form}");
    assert_eq!((form["assignment"]["users"].clone(), form["tags"].clone()), (json!([sam]), json!(["web lead"])));
    assert_eq!(form["thank_you"], "Thanks, we will call you back today.");

    // "Put it on your website": the hosted page and both snippets.
    b.click_css("[data-testid=form-tab-website]");
    let page_url = b.find("[data-testid=form-embed-page-url]");
    assert_eq!(b.text(&page_url), format!("{base}/api/v1/forms/{id}/page"));
    assert_eq!(b.js("return document.querySelector('[data-testid=form-embed-page-url]').target"), json!("_blank"));
    let script = b.js("return document.querySelector('[data-testid=form-embed-script]').value").as_str().unwrap_or("").to_string();
    assert!(script.contains(&format!("data-edge-form=\"{id}\"")) && script.contains("/embed.js"), "{script}");
    b.find("[data-testid=form-embed-html-copy]");
    assert!(b.url().ends_with("?tab=website"), "{}", b.url());
    b.screenshot("forms-embed");
    // The snippet as the panel shows it (made for the address staff use, port included).
    let html = b.js("return document.querySelector('[data-testid=form-embed-html]').value").as_str().unwrap_or("").to_string();
    let html = html.as_str();
    assert!(html.contains(&format!("action=\"{base}/api/v1/forms/{id}/submit\"")), "{html}");

    // A rule for this form's leads, built in the app: "when Contact us is
    // submitted, create a task 'Call {{ name }} back' for the owner".
    b.goto(&format!("{base}/automations/rules"));
    b.click_css("[data-testid=new-rule]:not([hidden])");
    b.find("[data-testid=rule-recipes]");
    b.type_text(&b.find("[data-testid=rule-name]"), "Call web leads back");
    b.set_value("[data-testid=rule-trigger-kind]", "form_submitted", "change");
    b.wait_for("the form to pick", &format!("return !!document.querySelector(\"[data-testid=rule-trigger-form] option[value='{id}']\")"));
    b.set_value("[data-testid=rule-trigger-form]", &id, "change");
    if b.count("[data-testid=rule-action-remove]") > 0 {
        b.click_css("[data-testid=rule-action-remove]");
    }
    b.rule_task_action("Call {{ name }} back");
    b.wait_for("the summary", "const t = document.querySelector('[data-testid=rule-summary]').innerText; return t.includes('Contact us') && t.includes('Call {{ name }} back')");
    b.click_css("[data-testid=rule-save]");
    b.find("[data-testid=rule-delete]");
    let rules = eventually(&mut owner, "/api/v1/automations/rules", |v| v["items"].as_array().is_some_and(|a| a.len() == 1));
    assert_eq!(rules["items"][0]["trigger"], json!({"kind": "form_submitted", "form_id": id}), "{rules}");

    // A visitor on another website: the plain HTML snippet in a page of its
    // own, opened from a file (a plain form post to an absolute URL needs no
    // origin of its own), filled in and sent.
    let site = scratch("forms-browser-site").join("contact.html");
    std::fs::write(&site, format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Acme Outdoor</title></head><body><h1>Talk to us</h1>{html}</body></html>")).unwrap();
    b.goto(&format!("file://{}", site.display()));
    b.type_text(&b.find("form.edge-form input[name=first_name]"), "Nina");
    b.type_text(&b.find("form.edge-form input[name=email]"), "nina@example.com");
    b.type_text(&b.find("form.edge-form textarea[name=message]"), "We need 20 tents for a school trip.");
    b.click(&b.find("form.edge-form input[name=consent]"));
    b.click(&b.find("form.edge-form button[type=submit]"));
    b.wait_for("the thank-you page", "return document.body.innerText.includes('Thanks, we will call you back today.')");
    assert!(b.url().ends_with(&format!("/api/v1/forms/{id}/submit")), "{}", b.url());

    // One contact for that email, Sam's, with one note holding the answers.
    let found = contacts_with(&mut owner, "nina@example.com");
    assert_eq!(found.len(), 1, "{found:?}");
    let contact = found[0]["id"].as_str().unwrap().to_string();
    assert_eq!((found[0]["owner_id"].as_str(), found[0]["first_name"].as_str()), (Some(sam.as_str()), Some("Nina")), "{}", found[0]);
    let notes = notes_of(&mut owner, &contact);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0]["activity"]["body"].as_str().unwrap_or("").contains("How can we help?: We need 20 tents"), "{}", notes[0]);

    // The next tick runs the rule: one task, Sam's, on Nina.
    tick(&h);
    let tasks: Vec<Value> = json(&owner.get(&format!("/api/v1/contacts/{contact}/timeline")))["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["activity"]["kind"] == "task")
        .cloned()
        .collect();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!((tasks[0]["activity"]["subject"].as_str(), tasks[0]["activity"]["assignee_id"].as_str()), (Some("Call Nina back"), Some(sam.as_str())), "{}", tasks[0]);
    tick(&h);
    let runs = json(&owner.get("/api/v1/automations/runs"));
    assert_eq!(runs["items"].as_array().map(Vec::len), Some(1), "the rule ran once: {runs}");

    // The forms list counts the lead.
    b.goto(&format!("{base}/automations/forms"));
    b.find(&format!("[data-testid=form-row][data-id='{id}']"));
    assert_eq!(b.text_of("[data-testid=form-row-submissions]").trim(), "1");

    // The form's Submissions tab: the accepted one, its owner and its contact.
    b.goto(&format!("{base}/automations/forms/{id}?tab=submissions"));
    b.find("[data-testid=submission-row][data-status=accepted]");
    assert_eq!(b.count("[data-testid=submission-row]"), 1);
    assert_eq!(b.text_of("[data-testid=form-submissions-accepted]").trim(), "1");
    assert_eq!(b.text_of("[data-testid=form-submissions-spam]").trim(), "0");
    let row = b.text_of("[data-testid=submission-row]");
    assert!(row.contains("Nina") && row.contains("nina@example.com") && row.contains("Accepted"), "{row}");
    assert_eq!(b.text_of("[data-testid=submission-owner]").trim(), "sam@demo.example");
    assert_eq!(
        b.js("return document.querySelector('[data-testid=submission-contact]').getAttribute('href')"),
        json!(format!("/contacts/{contact}"))
    );
    b.screenshot("forms-submissions");
    b.click_css("[data-testid=submission-contact]");
    b.wait_for("the contact's page", &format!("return location.pathname === '/contacts/{contact}' && !!document.querySelector('[data-testid=contact-name]') && document.querySelector('[data-testid=contact-name]').innerText.includes('Nina')"));
    drop(b);

    // Sam signs in: Home shows the new lead by its source and the task, linked to Nina.
    let b = Browser::start(1280, 900, false);
    b.sign_in(&base, "sam@demo.example", COLLEAGUE_PASSWORD);
    b.goto(&format!("{base}/home"));
    b.wait_for("one new lead", "const e = document.querySelector('[data-testid=widget-leads-total-value]'); return !!e && e.innerText.trim() === '1'");
    b.find("[data-testid=home-leads-source][data-source='Web form: Contact us']");
    let task = "[data-testid=widget-tasks-list] [data-testid=home-task]";
    b.find(task);
    assert_eq!(b.count(task), 1, "{}", b.text_of("[data-testid=widget-tasks-list]"));
    assert!(b.text_of(task).contains("Call Nina back"), "{}", b.text_of(task));
    assert_eq!(
        b.js(&format!("return document.querySelector({}).getAttribute('href')", json!(format!("{task} [data-testid=home-task-link]")))),
        json!(format!("/contacts/{contact}"))
    );
    b.js("window.scrollTo(0, 0)");
    b.screenshot("forms-journey-home");
    drop(b);

    // The builder at phone width, in dark mode: nothing wider than the screen.
    let phone = Browser::start(390, 844, true);
    phone.sign_in_owner(&base);
    phone.goto(&format!("{base}/automations/forms/{id}"));
    phone.find("[data-testid=form-name]");
    assert_eq!(phone.wait_count("[data-testid=form-field-row]", 3), 3);
    phone.wait_for("the preview", "const f = document.querySelector('[data-testid=form-preview-frame]'); return !!f.contentDocument && !!f.contentDocument.querySelector('form')");
    let widths = phone.js("return [document.documentElement.scrollWidth, window.innerWidth]");
    assert!(widths[0].as_u64() <= widths[1].as_u64(), "the page scrolls sideways: {widths}");
    phone.screenshot("forms-builder-phone");
}
