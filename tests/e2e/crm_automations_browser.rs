//! Workflow rules and insights in a real headless Chromium against the real
//! host, whose scheduler the test drives through the tick: the owner builds a
//! rule in the app ("when a contact is created, only if their lifecycle stage
//! is lead, create a task 'Call {{ name }}' for the owner") and saves it; a
//! lead created through the API is picked up by the next tick; the rule's
//! Runs tab shows one done run linked to the contact, whose timeline (read
//! through the API) has the task. Then two customers' orders arrive through
//! the API, a tick values them, and the Insights page shows the customer
//! count and the revenue-by-segment chart. Screenshots (rule builder, runs,
//! insights on a desktop, insights at phone width in dark mode) are kept as
//! artefacts.

use e2e::browser::Browser;
use e2e::{eventually, json, scratch, tick, Client, HostConfig, TestHost};
use serde_json::{json, Value};

fn task_subjects(c: &mut Client, contact: &str) -> Vec<String> {
    json(&c.get(&format!("/api/v1/contacts/{contact}/timeline")))["items"].as_array().unwrap().iter()
        .filter(|e| e["activity"]["kind"] == "task")
        .map(|e| e["activity"]["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn order(c: &mut Client, ext: &str, email: &str, total: i64, days_ago: i64) {
    let at = (chrono::Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339();
    let r = c.send("PUT", &format!("/api/v1/orders/by-external-id/{ext}"), Some(json!({
        "customer": {"email": email}, "currency": "EUR", "items": [{"product": "Tent", "quantity": 1, "unit_price": total}],
        "placed_at": at, "status": "delivered",
    })));
    assert!(r.status < 300, "{}", r.text());
}

#[test]
fn build_a_rule_see_it_run_and_read_the_insights_in_the_browser() {
    let h = TestHost::start(HostConfig::crm(&scratch("automations-browser")).with_tick());
    let mut owner = h.signed_in_owner("demo");
    let me = json(&owner.get("/api/v1/auth/me"))["user"]["id"].as_str().unwrap().to_string();
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1280, 900, false);
    b.sign_in_owner(&base);

    // Automations › Rules: empty, with "New rule".
    b.goto(&format!("{base}/automations/forms"));
    b.click_css("[data-testid=automations-tab-rules]");
    b.find("[data-testid=rules-empty]");
    assert!(b.url().ends_with("/automations/rules"), "{}", b.url());
    b.click_css("[data-testid=new-rule]:not([hidden])");

    // The builder: a name; "When a contact is created" …
    b.find("[data-testid=rule-recipes]");
    b.type_text(&b.find("[data-testid=rule-name]"), "Call new leads");
    assert_eq!(b.js("return document.querySelector('[data-testid=rule-trigger-kind]').value"), json!("record_created"));
    b.set_value("[data-testid=rule-trigger-entity]", "contact", "change");
    // … "only if the lifecycle stage is lead" …
    b.click_css("[data-testid=rule-add-condition]");
    assert_eq!(b.wait_count("[data-testid=rule-condition-row]", 1), 1);
    b.set_value("[data-testid=rule-condition-field]", "lifecycle_stage", "change");
    b.wait_for("the stage's values to pick from", "const v = document.querySelector('[data-testid=rule-condition-value]'); return !!v && v.tagName === 'SELECT' && !!v.querySelector('option[value=lead]')");
    b.set_value("[data-testid=rule-condition-op]", "eq", "change");
    b.set_value("[data-testid=rule-condition-value]", "lead", "change");
    // … "then create a task 'Call {{ name }}' for the owner" (the starting action replaced by a new one).
    b.click_css("[data-testid=rule-action-remove]");
    b.rule_task_action("Call {{ name }}");
    assert_eq!(b.js("return document.querySelector('[data-testid=rule-enabled]').checked"), json!(true), "a new rule is on");
    // The rule in words, beside the builder.
    b.wait_for("the summary", "const t = document.querySelector('[data-testid=rule-summary]').innerText; return t.includes('a contact is created') && t.includes('Lead') && t.includes('Call {{ name }}')");
    b.js("window.scrollTo(0, 0)");
    b.screenshot("automations-rule-builder");

    // Saved: the page becomes the rule's, and the API has it as built.
    b.click_css("[data-testid=rule-save]");
    b.find("[data-testid=rule-delete]");
    let rules = eventually(&mut owner, "/api/v1/automations/rules", |v| v["items"].as_array().is_some_and(|a| a.len() == 1));
    let rule = rules["items"][0].clone();
    let rid = rule["id"].as_str().unwrap().to_string();
    assert!(b.url().ends_with(&format!("/automations/rules/{rid}")), "{}", b.url());
    assert_eq!((rule["name"].as_str(), rule["enabled"].as_bool()), (Some("Call new leads"), Some(true)), "{rule}");
    assert_eq!(rule["trigger"], json!({"kind": "record_created", "entity": "contact"}), "{rule}");
    assert_eq!(rule["conditions"], json!([{"field": "lifecycle_stage", "op": "eq", "value": "lead"}]), "{rule}");
    assert_eq!(rule["actions"].as_array().map(Vec::len), Some(1), "{rule}");
    assert_eq!((rule["actions"][0]["kind"].as_str(), rule["actions"][0]["subject"].as_str(), rule["actions"][0]["user"].as_str()), (Some("create_task"), Some("Call {{ name }}"), Some("owner")), "{rule}");

    // A lead comes in through the API; the next tick runs the rule for it.
    let r = owner.post_json("/api/v1/contacts", &json!({"first_name": "Lena", "last_name": "Lead", "email": "lena@example.com", "lifecycle_stage": "lead", "owner_id": me}));
    assert_eq!(r.status, 201, "{}", r.text());
    let lena = json(&r)["id"].as_str().unwrap().to_string();
    tick(&h);

    // The Runs tab: one done run, for Lena, with the task done.
    b.click_css("[data-testid=rule-tab-runs]");
    b.find("[data-testid=run-row][data-status=done]");
    assert_eq!(b.count("[data-testid=run-row]"), 1);
    assert!(b.url().ends_with("?tab=runs"), "{}", b.url());
    assert_eq!(b.text_of("[data-testid=rule-runs-done]").split_whitespace().next(), Some("1"));
    assert_eq!(b.js("return document.querySelector('[data-testid=run-record]').getAttribute('href')"), json!(format!("/contacts/{lena}")));
    b.wait_for("the contact's name in the run", "return document.querySelector('[data-testid=run-record]').innerText.includes('Lena Lead')");
    assert_eq!(b.js("return document.querySelector('[data-testid=run-result]').dataset.ok"), json!("true"));
    assert!(b.text_of("[data-testid=run-result]").contains("Create a task"), "{}", b.text_of("[data-testid=run-row]"));
    b.screenshot("automations-rule-runs");

    // The API agrees: Lena has the task, for her owner.
    assert_eq!(task_subjects(&mut owner, &lena), vec!["Call Lena Lead"]);

    // Back on the list: the rule is on, with its run.
    b.click_css("[data-testid=back-to-rules]");
    b.find(&format!("[data-testid=rule-row][data-id='{rid}']"));
    assert_eq!(b.text_of("[data-testid=rule-row-runs]").trim(), "1");
    assert_eq!(b.js("return document.querySelector('[data-testid=rule-row-enabled]').checked"), json!(true));
    assert!(b.text_of("[data-testid=rule-row-when]").contains("When a contact is created"), "{}", b.text_of("[data-testid=rule-row]"));

    // Two customers' orders arrive; a tick values them.
    for (i, days) in [60, 30, 2].iter().enumerate() {
        order(&mut owner, &format!("ann-{i}"), "ann@example.com", 12_000, *days);
    }
    order(&mut owner, "bob-0", "bob@example.com", 30_000, 10);
    tick(&h);
    let summary = json(&owner.get("/api/v1/insights/customers/summary"));
    assert_eq!((summary["customers"].as_i64(), summary["revenue"].as_i64()), (Some(2), Some(66_000)), "{summary}");

    // Insights: the customer count and the revenue-by-segment chart.
    b.click_css("[data-testid=automations-tab-insights]");
    b.wait_for("the customer count", "const e = document.querySelector('[data-testid=insights-customers-value]'); return !!e && e.innerText.trim() === '2'");
    b.find("[data-testid=insights-segments-chart] svg.chart-svg");
    assert!(b.count("[data-testid=insights-segments-chart] rect.chart-bar") >= 6, "a bar per segment");
    b.wait_for("the most valuable, by name", "const t = document.querySelector('[data-testid=insights-valuable]').innerText; return t.includes('ann@example.com') || t.includes('bob@example.com')");
    // Recompute: a full pass now, which places the customers among each other
    // (Ann ordered lately and most often: a champion).
    b.click_css("[data-testid=insights-recompute]:not([hidden])");
    b.wait_for("a champion after recomputing", "const e = document.querySelector('[data-testid=insights-segment][data-segment=champions] .in-legend-n'); return !!e && e.innerText.trim().startsWith('1')");
    b.find("[data-testid=roi-table], [data-testid=roi-empty]");
    b.find("[data-testid=roi-model]");
    b.js("window.scrollTo(0, 0)");
    b.screenshot("automations-insights");

    // Ann and Bob work at Acme: the company's page adds them up, most valuable first.
    let acme = json(&owner.post_json("/api/v1/companies", &json!({"name": "Acme Outdoor"})))["id"].as_str().unwrap().to_string();
    let people: Vec<Value> = summary["most_valuable"].as_array().unwrap().clone();
    for p in &people {
        let id = p["contact_id"].as_str().unwrap();
        let v = json(&owner.get(&format!("/api/v1/contacts/{id}")))["version"].clone();
        let r = owner.with_version("PATCH", &format!("/api/v1/contacts/{id}"), v, &json!({"company_id": acme}));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    b.goto(&format!("{base}/companies/{acme}"));
    b.find("[data-testid=company-value-card]");
    b.wait_for("two customers", "const e = document.querySelector('[data-testid=company-value-customers]'); return !!e && e.innerText.includes('2')");
    assert_eq!(b.count("[data-testid=company-value-person]"), 2);
    assert!(b.text_of("[data-testid=company-value-total]").contains("660"), "{}", b.text_of("[data-testid=company-value-total]"));
    let first = b.js("return document.querySelector('[data-testid=company-value-person]').dataset.contactId");
    assert_eq!(first, people[0]["contact_id"], "the most valuable first");
    b.js("document.querySelector('[data-testid=company-value-card]').scrollIntoView({block: 'center'})");
    b.screenshot("automations-company-value");
    drop(b);

    // Insights at phone width, in dark mode: nothing wider than the screen.
    let phone = Browser::start(390, 844, true);
    phone.sign_in_owner(&base);
    phone.goto(&format!("{base}/automations/insights"));
    phone.wait_for("the customer count", "const e = document.querySelector('[data-testid=insights-customers-value]'); return !!e && e.innerText.trim() === '2'");
    phone.find("[data-testid=insights-segments-chart] svg.chart-svg");
    let widths = phone.js("return [document.documentElement.scrollWidth, window.innerWidth]");
    assert!(widths[0].as_u64() <= widths[1].as_u64(), "the page scrolls sideways: {widths}");
    phone.screenshot("automations-insights-phone");
}
