//! Email campaigns in a real headless Chromium against the real host: a
//! static list built on the segment pages, a template written with a merge
//! field (a syntax error shown at its field, "Insert field", a live preview
//! as a chosen contact), a campaign made from it for that list and sent now
//! after the confirmation with the audience count, the scheduler's tick driven
//! by the test until the API says it is sent, then the campaign page's status,
//! numbers, chart and messages, the contact's Marketing email card (consent
//! withdrawn there), and the campaign page at phone width in dark mode.
//! Screenshots are kept as artefacts.

use e2e::browser::Browser;
use e2e::{eventually, json, scratch, tick, Client, HostConfig, TestHost};
use serde_json::json;
use std::time::Duration;

fn contact(c: &mut Client, first: &str, email: &str) -> String {
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": first, "last_name": "Tester", "email": email}));
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)["id"].as_str().unwrap().to_string()
}

/// Picks the visible search result (a combobox option) that mentions `text`,
/// as a mouse would (the option acts on mousedown). Waits for it to appear:
/// options of an earlier search stay in the page, hidden.
fn pick_option(b: &Browser, text: &str) {
    let script = format!(
        "const o = [...document.querySelectorAll('[data-testid=combo-option]')].find((o) => o.offsetParent && o.innerText.includes({})); \
         if (!o) return false; o.dispatchEvent(new MouseEvent('mousedown', {{bubbles: true, cancelable: true}})); return true;",
        json!(text)
    );
    b.wait_for(&format!("a search result with {text}"), &script);
}

/// The path of the first link in `html` under `/api/v1/mail/<kind>/`.
fn link(html: &str, kind: &str) -> String {
    let start = html.find(&format!("/api/v1/mail/{kind}/")).unwrap_or_else(|| panic!("no {kind} link in {html}"));
    html[start..].split(['"', '\'', '<', ' ']).next().unwrap().to_string()
}

#[test]
fn build_a_list_write_a_template_send_a_campaign_and_read_its_results_in_the_browser() {
    let h = TestHost::start(HostConfig::crm(&scratch("campaigns-browser")).with_tick());
    let mut owner = h.signed_in_owner("demo");
    let ann = contact(&mut owner, "Ann", "ann@example.com");
    contact(&mut owner, "Bob", "bob@example.com");
    contact(&mut owner, "Cid", "cid@example.com");
    let base = format!("http://demo.localhost:{}", h.addr.port());
    let b = Browser::start(1280, 900, false);
    b.sign_in_owner(&base);

    // A static list of the three, built on the segment pages (reached through the area's tabs).
    b.goto(&format!("{base}/campaigns"));
    b.find("[data-testid=campaigns-tabs]");
    b.click(&b.find("[data-testid=campaigns-tab-segments]"));
    b.click(&b.find("[data-testid=new-static-list]:not([hidden])"));
    b.type_text(&b.find("[data-testid=segment-name]"), "Newsletter");
    b.click(&b.find("[data-testid=segment-save]"));
    for (i, name) in ["Ann", "Bob", "Cid"].iter().enumerate() {
        b.type_text(&b.find("[data-testid=list-add-contact]"), &name.to_lowercase());
        pick_option(&b, name);
        assert_eq!(b.wait_count("[data-testid=list-member]", i + 1), i + 1);
    }
    let segments = eventually(&mut owner, "/api/v1/segments", |v| v["items"][0]["members"] == 3);
    let segment_id = segments["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(segments["items"][0]["kind"], "static");
    b.screenshot("campaigns-static-list");

    // A template: a merge-field syntax error is shown at its field, then fixed.
    b.goto(&format!("{base}/campaigns/templates"));
    b.click(&b.find("[data-testid=new-template]:not([hidden])"));
    b.type_text(&b.find("[data-testid=template-name]"), "Winter news");
    b.type_text(&b.find("[data-testid=template-html]"), "<h1>Hello {{ contact.first_name }}</h1><p><a href=\"https://shop.example/winter\">Shop the sale</a></p><p>See you, ");
    b.type_text(&b.find("[data-testid=template-subject]"), "Hi {{ contact.first_name | nope }}");
    b.wait_for(
        "the subject's syntax error at its field",
        "const e = document.querySelector('[data-testid=error-subject]'); return !!e && e.innerText.includes('unknown filter `nope`')",
    );
    let error = b.text_of("[data-testid=error-subject]");
    assert!(error.contains("character 4"), "the server's message says where: {error}");
    b.screenshot("campaigns-template-error");
    b.set_value("[data-testid=template-subject]", "", "input");
    b.type_text(&b.find("[data-testid=template-subject]"), "{{ contact.first_name | default: \"Friend\" }}, winter is here");
    b.wait_for("the subject's error cleared", "return !document.querySelector('[data-testid=error-subject]')");

    // "Insert field" puts a merge field with a fallback at the cursor of the HTML part.
    b.click(&b.find("[data-testid=template-html]"));
    b.js("const t = document.querySelector('[data-testid=template-html]'); t.setSelectionRange(t.value.length, t.value.length);");
    b.click(&b.find("[data-testid=insert-field]"));
    b.click(&b.find("[data-testid=insert-field-option][data-field='contact.first_name']"));
    let html = b.js("return document.querySelector('[data-testid=template-html]').value").as_str().unwrap_or("").to_string();
    assert!(html.ends_with("See you, {{ contact.first_name | default: \"there\" }}"), "{html}");

    // The live preview, as Ann would get it: her name in the subject and in the sandboxed frame.
    b.type_text(&b.find("[data-testid=preview-as]"), "ann");
    pick_option(&b, "Ann");
    b.wait_for(
        "the preview as Ann",
        "return document.querySelector('[data-testid=preview-subject]').innerText === 'Ann, winter is here' && document.querySelector('[data-testid=preview-frame]').srcdoc.includes('Hello Ann')",
    );
    assert_eq!(b.js("return document.querySelector('[data-testid=preview-frame]').getAttribute('sandbox')"), json!(""), "no scripts, no same origin");
    b.screenshot("campaigns-template-preview");
    b.click(&b.find("[data-testid=template-save]"));
    b.find("[data-testid=template-use]");
    let templates = eventually(&mut owner, "/api/v1/templates", |v| v["items"].as_array().is_some_and(|a| a.len() == 1));
    assert_eq!(templates["items"][0]["name"], "Winter news");
    assert_eq!(templates["items"][0]["fields"], json!(["contact.first_name"]));

    // A campaign from it, for the list; the audience is counted before it goes.
    b.click(&b.find("[data-testid=template-use]"));
    b.find("[data-testid=campaign-name]");
    b.wait_for("the template's content copied in", "return document.querySelector('[data-testid=campaign-subject]').value.includes('winter is here')");
    b.set_value("[data-testid=campaign-name]", "", "input");
    b.type_text(&b.find("[data-testid=campaign-name]"), "Winter sale");
    b.set_value("[data-testid=campaign-segment]", &segment_id, "change");
    b.find("[data-testid=campaign-audience-count][data-count='3']");
    b.js("window.scrollTo(0, 0)");
    b.click(&b.find("[data-testid=campaign-send-now]"));
    b.find("[data-testid=send-dialog] [data-testid=send-count][data-count='3']");
    b.screenshot("campaigns-send-confirm");
    b.click(&b.find("[data-testid=confirm-send]"));

    // The scheduler's work, driven from here until the API says it is sent.
    let list = eventually(&mut owner, "/api/v1/campaigns", |v| v["items"].as_array().is_some_and(|a| a.len() == 1 && a[0]["status"] != "draft"));
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!((list["items"][0]["name"].as_str(), list["items"][0]["segment_id"].as_str()), (Some("Winter sale"), Some(segment_id.as_str())));
    let mut sent = false;
    for _ in 0..120 {
        if json(&owner.get(&format!("/api/v1/campaigns/{id}")))["status"] == "sent" {
            sent = true;
            break;
        }
        tick(&h);
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(sent, "campaign {id} never finished: {}", owner.get(&format!("/api/v1/campaigns/{id}")).text());

    // The page follows it to "sent" and shows what went out.
    assert!(b.url().ends_with(&format!("/campaigns/c/{id}")), "{}", b.url());
    b.find("[data-testid=campaign-status][data-status=sent]");
    assert!(b.text_of("[data-testid=campaign-status]").contains("Sent"));
    b.wait_for("three sent", "const e = document.querySelector('[data-testid=stat-sent-value]'); return !!e && e.innerText.trim() === '3'");
    b.find("[data-testid=campaign-progress]");
    b.find("[data-testid=campaign-chart]");
    assert_eq!(b.wait_count("[data-testid=message-row]", 3), 3);
    let rows = b.text_of("[data-testid=campaign-messages]");
    assert!(rows.contains("Ann, winter is here") && rows.contains("bob@example.com"), "{rows}");

    // Each message as it went out, without its open pixel (looking must not count as opening).
    b.click(&b.find("[data-testid=message-open]"));
    b.find("[data-testid=message-preview]");
    assert!(b.text_of("[data-testid=message-subject]").contains("winter is here"));
    let frame = b.js("return document.querySelector('[data-testid=message-frame]').srcdoc").as_str().unwrap_or("").to_string();
    assert!(frame.contains("Unsubscribe") && !frame.contains("/api/v1/mail/o/"), "{frame}");
    b.click(&b.find("[data-testid=message-preview] .dialog-header .icon-button"));
    b.wait_for("the message closed", "return !document.querySelector('dialog[open]')");

    // Ann reads it (a person: not a scanner, not within seconds of sending); the page shows it.
    let messages = json(&owner.get(&format!("/api/v1/campaigns/{id}/messages?as_sent=true")));
    let anns = messages["items"].as_array().unwrap().iter().find(|m| m["to"] == "ann@example.com").expect("Ann's message").clone();
    let pixel = link(anns["html"].as_str().unwrap(), "o");
    let person = [("user-agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15")];
    let mut opened = false;
    for _ in 0..100 {
        assert_eq!(h.request("GET", "demo.localhost", &pixel, &person, b"").status, 200);
        if json(&owner.get(&format!("/api/v1/campaigns/{id}/stats")))["opened"] == 1 {
            opened = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(opened, "Ann's open was never counted");
    let campaign_url = format!("{base}/campaigns/c/{id}");
    b.goto(&campaign_url);
    b.find("[data-testid=campaign-status][data-status=sent]");
    b.find("[data-testid=campaign-chart] svg");
    b.wait_for("one opened", "const e = document.querySelector('[data-testid=stat-opened-value]'); return !!e && e.innerText.trim() === '1'");
    b.screenshot("campaigns-sent-desktop");

    // The list says so too.
    b.goto(&format!("{base}/campaigns"));
    b.find(&format!("[data-testid=campaign-row][data-id='{id}'][data-status=sent]"));
    assert_eq!(b.text_of("[data-testid=campaign-row-sent]").trim(), "3");
    b.screenshot("campaigns-list");

    // Ann's page: the campaign in her Marketing email card; she withdraws consent by phone.
    b.goto(&format!("{base}/contacts/{ann}"));
    b.find("[data-testid=contact-marketing] [data-testid=consent-row][data-channel=email]");
    b.wait_count("[data-testid=engagement-row]", 1);
    b.find("[data-testid=engagement-row] [data-testid=engagement-opened]");
    b.click(&b.find("[data-testid=consent-record]"));
    b.set_value("[data-testid=consent-status-input]", "withdrawn", "change");
    b.type_text(&b.find("[data-testid=consent-source]"), "phone call");
    b.click(&b.find("[data-testid=consent-save]"));
    b.find("[data-testid=consent-row][data-channel=email][data-status=withdrawn]");
    let consent = json(&owner.get(&format!("/api/v1/consents/{ann}")));
    let email = consent["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "email").unwrap().clone();
    assert_eq!((email["status"].as_str(), email["source"].as_str()), (Some("withdrawn"), Some("phone call")), "{consent}");
    b.find("[data-testid=consent-history]");
    b.screenshot("campaigns-contact-marketing");
    drop(b);

    // The campaign page at phone width, in dark mode: nothing wider than the screen.
    let phone = Browser::start(390, 844, true);
    phone.sign_in_owner(&base);
    phone.goto(&campaign_url);
    phone.find("[data-testid=campaign-status][data-status=sent]");
    phone.find("[data-testid=campaign-chart] svg");
    phone.wait_for("three sent", "const e = document.querySelector('[data-testid=stat-sent-value]'); return !!e && e.innerText.trim() === '3'");
    let widths = phone.js("return [document.documentElement.scrollWidth, window.innerWidth]");
    assert!(widths[0].as_u64() <= widths[1].as_u64(), "the page scrolls sideways: {widths}");
    phone.screenshot("campaigns-sent-phone-dark");
}
