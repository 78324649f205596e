//! Sequences (drips) in a real headless Chromium against the real host: a
//! static list of three contacts made through the API, then in the browser a
//! sequence on that list with two steps (the first at once, the second two
//! days later) written in the timeline editor, saved, and activated after the
//! confirmation with the list's count; the page shows it active with the three
//! contacts at step 1, the API shows each got the first email, and one of
//! them is taken out on the page and shows as exited. The sequence page at
//! phone width in dark mode last. Screenshots are kept as artefacts.

use e2e::browser::Browser;
use e2e::{eventually, json, scratch, Client, HostConfig, TestHost};
use serde_json::{json, Value};

fn contact(c: &mut Client, first: &str, email: &str) -> String {
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": first, "last_name": "Tester", "email": email}));
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)["id"].as_str().unwrap().to_string()
}

/// A static list holding `ids`; answers its id.
fn list_of(c: &mut Client, name: &str, ids: &[String]) -> String {
    let r = c.post_json("/api/v1/segments", &json!({"name": name, "kind": "static"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = json(&r)["id"].as_str().unwrap().to_string();
    let r = c.post_json(&format!("/api/v1/segments/{id}/members"), &json!({"contact_ids": ids}));
    assert_eq!(r.status, 200, "{}", r.text());
    id
}

/// The inner text of every element matching `css`.
fn texts_of(b: &Browser, css: &str) -> Vec<String> {
    let v = b.js(&format!("return [...document.querySelectorAll({})].map((e) => e.innerText.trim())", json!(css)));
    v.as_array().map(|a| a.iter().map(|x| x.as_str().unwrap_or("").to_string()).collect()).unwrap_or_default()
}

/// Clears toasts and scrolls `css` to the middle of the window, so nothing covers it when clicked.
fn bring_into_view(b: &Browser, css: &str) {
    b.js(&format!(
        "document.querySelectorAll('[data-testid=toast]').forEach((t) => t.remove()); document.querySelector({}).scrollIntoView({{block: 'center'}});",
        json!(css)
    ));
}

#[test]
fn write_a_two_step_sequence_activate_it_for_a_list_and_take_someone_out_in_the_browser() {
    let h = TestHost::start(HostConfig::crm(&scratch("sequences-browser")));
    let mut owner = h.signed_in_owner("demo");
    let ids: Vec<String> = [("Ann", "ann@example.com"), ("Bob", "bob@example.com"), ("Cid", "cid@example.com")]
        .iter()
        .map(|(n, e)| contact(&mut owner, n, e))
        .collect();
    let list = list_of(&mut owner, "Trial users", &ids);
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1280, 900, false);
    b.sign_in_owner(&base);

    // Campaigns › Sequences, reached through the area's tabs: none yet.
    b.goto(&format!("{base}/campaigns"));
    b.click(&b.find("[data-testid=campaigns-tab-sequences]"));
    b.find("[data-testid=empty-new-sequence]");
    b.click(&b.find("[data-testid=new-sequence]:not([hidden])"));

    // Name and the list people enter from, with its live count.
    b.type_text(&b.find("[data-testid=sequence-name]"), "Trial onboarding");
    b.set_value("[data-testid=sequence-segment]", &list, "change");
    b.find("[data-testid=sequence-segment-count][data-count='3']");

    // Step 1 (open on a new sequence): at once, with a merge field in the subject.
    assert_eq!(b.count("[data-testid=sequence-step]"), 1);
    assert_eq!(b.js("return document.querySelector('[data-testid=sequence-step-delay-days]').value"), json!("0"));
    b.type_text(&b.find("[data-testid=sequence-step-subject]"), "Welcome, {{ contact.first_name | default: \"there\" }}");
    b.type_text(&b.find("[data-testid=sequence-step-html]"), "<h1>Hello {{ contact.first_name }}</h1><p>Glad you are here.</p>");

    // Step 2: two days after the first.
    b.click(&b.find("[data-testid=sequence-add-step]"));
    assert_eq!(b.wait_count("[data-testid=sequence-step]", 2), 2);
    b.find("[data-testid=sequence-step][data-index='1'].is-open [data-testid=sequence-step-subject]");
    b.set_value("[data-testid=sequence-step][data-index='1'] [data-testid=sequence-step-delay-days]", "2", "input");
    b.set_value("[data-testid=sequence-step][data-index='1'] [data-testid=sequence-step-delay-hours]", "0", "input");
    b.type_text(&b.find("[data-testid=sequence-step].is-open [data-testid=sequence-step-subject]"), "Three tips");
    b.type_text(&b.find("[data-testid=sequence-step].is-open [data-testid=sequence-step-text]"), "Tip one, tip two, tip three.");
    b.wait_for(
        "the timeline reads Day 0, then +2 days",
        "const w = [...document.querySelectorAll('[data-testid=sequence-step-when]')].map((e) => e.innerText.trim()); return w.join('|') === 'Day 0|+2 days'",
    );
    b.wait_for("the step's preview", "const s = document.querySelector('[data-testid=preview-subject]'); return !!s && s.innerText === 'Three tips'");
    b.js("document.querySelector('[data-testid=sequence-steps]').scrollIntoView({block: 'center'})");
    b.screenshot("sequences-editor");
    b.js("window.scrollTo(0, 0)");

    // Save: a draft with both steps, on the list.
    b.click(&b.find("[data-testid=sequence-save]"));
    b.wait_for("the saved sequence's address", "return /^\\/campaigns\\/sequences\\/sq_/.test(location.pathname)");
    let list_v = eventually(&mut owner, "/api/v1/sequences", |v| v["items"].as_array().is_some_and(|a| a.len() == 1));
    let s = list_v["items"][0].clone();
    let id = s["id"].as_str().unwrap().to_string();
    assert_eq!((s["name"].as_str(), s["status"].as_str(), s["segment_id"].as_str()), (Some("Trial onboarding"), Some("draft"), Some(list.as_str())), "{s}");
    let delays: Vec<i64> = s["steps"].as_array().unwrap().iter().map(|st| st["delay_minutes"].as_i64().unwrap()).collect();
    assert_eq!(delays, vec![0, 2 * 24 * 60], "{s}");
    assert_eq!(s["steps"][1]["subject"], "Three tips");
    b.find("[data-testid=sequence-status][data-status=draft]");

    // Activate, after a confirmation that counts the list now.
    b.js("window.scrollTo(0, 0)");
    b.click(&b.find("[data-testid=sequence-activate]"));
    b.find("[data-testid=activate-dialog] [data-testid=activate-count][data-count='3']");
    b.screenshot("sequences-activate-confirm");
    b.click(&b.find("[data-testid=confirm-activate]"));
    b.find("[data-testid=sequence-status][data-status=active]");

    // The three entered and got step 1; the next waits two days.
    assert_eq!(b.wait_count("[data-testid=sequence-enrolments] [data-testid=enrolment-row][data-status=active][data-step='1']", 3), 3);
    let rows = texts_of(&b, "[data-testid=enrolment-row]").join("\n");
    assert!(rows.contains("Ann Tester") && rows.contains("bob@example.com") && rows.contains("1 of 2"), "{rows}");
    b.find("[data-testid=sequence-stats]");
    b.wait_for("three enrolled", "const e = document.querySelector('[data-testid=stat-enrolled-value]'); return !!e && e.innerText.trim() === '3'");
    let s = json(&owner.get(&format!("/api/v1/sequences/{id}")));
    assert_eq!((s["status"].as_str(), s["enrolments"]["active"].as_i64()), (Some("active"), Some(3)), "{s}");
    for (who, contact_id) in ids.iter().enumerate() {
        let mail: Vec<Value> = json(&owner.get(&format!("/api/v1/engagement/{contact_id}")))["items"].as_array().unwrap().clone();
        assert_eq!(mail.len(), 1, "contact {who} got the first step once: {mail:?}");
    }
    let anns = json(&owner.get(&format!("/api/v1/engagement/{}", ids[0])));
    assert_eq!(anns["items"][0]["subject"], "Welcome, Ann", "{anns}");
    b.js("document.querySelectorAll('[data-testid=toast]').forEach((t) => t.remove()); document.querySelector('[data-testid=sequence-enrolments]').scrollIntoView({block: 'end'})");
    b.screenshot("sequences-enrolments");

    // Take Cid out on the page: the row shows him exited, and so does the API.
    let cid = &ids[2];
    let take_out = format!("[data-testid=enrolment-row][data-contact-id='{cid}'] [data-testid=enrolment-take-out]");
    bring_into_view(&b, &take_out);
    b.click(&b.find(&take_out));
    b.find("[data-testid=confirm-dialog]");
    b.click(&b.find("[data-testid=confirm-take-out]"));
    b.find(&format!("[data-testid=enrolment-row][data-contact-id='{cid}'][data-status=exited][data-reason=removed]"));
    assert!(texts_of(&b, &format!("[data-testid=enrolment-row][data-contact-id='{cid}']")).join(" ").contains("Taken out"));
    b.wait_for("one exited", "const e = document.querySelector('[data-testid=stat-exited-value]'); return !!e && e.innerText.trim() === '1'");
    let e = json(&owner.get(&format!("/api/v1/sequences/{id}/enrolments")));
    let his = e["items"].as_array().unwrap().iter().find(|x| x["contact_id"] == cid.as_str()).expect("Cid's enrolment").clone();
    assert_eq!((his["status"].as_str(), his["exit_reason"].as_str()), (Some("exited"), Some("removed")), "{his}");
    let s = json(&owner.get(&format!("/api/v1/sequences/{id}")));
    assert_eq!(s["enrolments"]["active"], 2, "{s}");
    drop(b);

    // The sequence page at phone width, in dark mode: nothing wider than the screen.
    let phone = Browser::start(390, 844, true);
    phone.sign_in_owner(&base);
    phone.goto(&format!("{base}/campaigns/sequences/{id}"));
    phone.find("[data-testid=sequence-status][data-status=active]");
    assert_eq!(phone.wait_count("[data-testid=enrolment-row]", 3), 3);
    phone.find("[data-testid=sequence-step-chart] svg");
    let widths = phone.js("return [document.documentElement.scrollWidth, window.innerWidth]");
    assert!(widths[0].as_u64() <= widths[1].as_u64(), "the page scrolls sideways: {widths}");
    phone.screenshot("sequences-phone-dark");
}
