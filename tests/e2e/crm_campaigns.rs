//! Email campaigns through the real host: templates with merge fields, a
//! campaign to a segment sent through the outbox by the scheduler's tick,
//! consent and suppression on every path, signed tracking links, one-click
//! unsubscribe, provider events with signatures, statistics, schedules in
//! other time zones, and a send interrupted by a killed host.

use e2e::{json, scratch, tick, Client, HostConfig, TestHost, TICK_TOKEN};
use serde_json::{json, Value};

const WEBHOOK_SECRET: &str = "whsec-for-tests-0123456789";

fn config(name: &str) -> HostConfig {
    // The test drives unattended work itself, through the scheduler's route.
    let mut cfg = HostConfig::crm(&scratch(name)).with_tick();
    cfg.env.push(("SPIN_VARIABLE_MAIL_WEBHOOK_SECRET".into(), WEBHOOK_SECRET.into()));
    cfg
}

fn contact(c: &mut Client, first: Option<&str>, email: &str) -> String {
    let mut body = json!({"email": email, "last_name": "Tester"});
    if let Some(f) = first {
        body["first_name"] = f.into();
    }
    let r = c.post_json("/api/v1/contacts", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)["id"].as_str().unwrap().to_string()
}

fn list_of(c: &mut Client, name: &str, ids: &[String]) -> String {
    let list = json(&c.post_json("/api/v1/segments", &json!({"name": name, "kind": "static"})));
    let id = list["id"].as_str().unwrap().to_string();
    for chunk in ids.chunks(1000) {
        let r = c.post_json(&format!("/api/v1/segments/{id}/members"), &json!({"contact_ids": chunk}));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    id
}

/// Ticks until the campaign is sent (or the test gives up).
fn until_sent(h: &TestHost, c: &mut Client, id: &str) -> Value {
    for _ in 0..120 {
        let camp = json(&c.get(&format!("/api/v1/campaigns/{id}")));
        if camp["status"] == "sent" {
            return camp;
        }
        tick(h);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("campaign {id} never finished: {}", c.get(&format!("/api/v1/campaigns/{id}")).text());
}

fn messages(c: &mut Client, id: &str) -> Vec<Value> {
    json(&c.get(&format!("/api/v1/campaigns/{id}/messages?as_sent=true")))["items"].as_array().unwrap().clone()
}

/// The path of the first link in `html` under `/api/v1/mail/<kind>/`.
fn link(html: &str, kind: &str) -> String {
    let start = html.find(&format!("/api/v1/mail/{kind}/")).unwrap_or_else(|| panic!("no {kind} link in {html}"));
    html[start..].split(['"', '\'', '<', ' ']).next().unwrap().to_string()
}

fn signed(body: &str, t: i64, secret: &str) -> String {
    let mac = campaigns_domain::sign::hmac_sha256(secret.as_bytes(), format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", campaigns_domain::sign::hex(&mac))
}

#[test]
fn a_campaign_goes_to_its_segment_with_consent_tracking_and_statistics() {
    let h = TestHost::start(config("campaigns-send"));
    let mut c = h.signed_in_owner("demo");
    let ann = contact(&mut c, Some("Ann"), "ann@example.com");
    let bob = contact(&mut c, None, "bob@example.com");
    let eve = contact(&mut c, Some("<script>alert(1)</script>"), "eve@example.com");
    let gone = contact(&mut c, Some("Gil"), "gil@example.com");
    let bounced = contact(&mut c, Some("Hal"), "hal@example.com");
    // Said no on the contact record itself (a form, an import).
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": "Ida", "email": "ida@example.com", "consent": {"email": "denied"}}));
    let ida = json(&r)["id"].as_str().unwrap().to_string();
    let list = list_of(&mut c, "Newsletter", &[ann.clone(), bob.clone(), eve.clone(), gone.clone(), bounced.clone(), ida.clone()]);
    assert_eq!(json(&c.get(&format!("/api/v1/consents/{ida}")))["channels"][0]["status"], "withdrawn", "the record's no shows here");

    // Consent per channel, with lawful basis and history; a suppression.
    let r = c.post_json(&format!("/api/v1/consents/{gone}"), &json!({"channel": "email", "status": "withdrawn", "source": "phone call"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["channels"][0]["status"], "withdrawn");
    let r = c.post_json(&format!("/api/v1/consents/{ann}"), &json!({"channel": "email", "status": "granted"}));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("lawful_basis")), "granting needs a lawful basis");
    assert_eq!(c.post_json("/api/v1/suppressions", &json!({"email": "HAL@example.com", "reason": "bounced"})).status, 201);

    // A template: bad syntax is refused with where; previews as a contact escape values.
    let r = c.post_json("/api/v1/templates", &json!({"name": "Winter", "subject": "Hi {{ contact.first_name | nope }}", "html": "<p>x</p>"}));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("subject")), "{}", r.text());
    let r = c.post_json("/api/v1/templates", &json!({
        "name": "Winter", "subject": "{{ contact.first_name | default: \"Friend\" }}, winter is here",
        "html": "<html><body><h1>Hello {{ contact.first_name | default: \"there\" }}</h1><p><a href=\"https://shop.example/winter?utm=mail&amp;x=1\">Shop the sale</a></p></body></html>",
    }));
    assert_eq!(r.status, 201, "{}", r.text());
    let tpl = json(&r);
    let tid = tpl["id"].as_str().unwrap();
    assert!(tpl["text"].as_str().unwrap().contains("Shop the sale"), "a plain-text part is derived: {tpl}");
    let p = json(&c.get(&format!("/api/v1/templates/{tid}/preview?contact_id={eve}")));
    assert!(p["html"].as_str().unwrap().contains("Hello &lt;script&gt;"), "{p}");
    let p = json(&c.get(&format!("/api/v1/templates/{tid}/preview?contact_id={bob}")));
    assert_eq!(p["subject"], "Friend, winter is here");
    let r = c.post_json(&format!("/api/v1/templates/{tid}/test"), &json!({"to": "me@demo.example", "contact_id": ann}));
    assert_eq!(r.status, 202, "{}", r.text());

    // The campaign: made from the template, sent now to the list.
    let r = c.post_json("/api/v1/campaigns", &json!({"name": "Winter sale", "template_id": tid, "segment_id": list, "from_name": "Demo Outdoor"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let camp = json(&r);
    let id = camp["id"].as_str().unwrap().to_string();
    assert_eq!((camp["status"].as_str(), camp["subject"].as_str()), (Some("draft"), tpl["subject"].as_str()));
    let r = c.post_json(&format!("/api/v1/campaigns/{id}/schedule"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let camp = until_sent(&h, &mut c, &id);
    assert_eq!(camp["progress"]["queued"], 3, "{camp}");
    assert_eq!(camp["progress"]["skipped"], 3);
    let msgs = messages(&mut c, &id);
    let mut to: Vec<&str> = msgs.iter().map(|m| m["to"].as_str().unwrap()).collect();
    to.sort();
    assert_eq!(to, vec!["ann@example.com", "bob@example.com", "eve@example.com"], "nobody unsubscribed or suppressed");
    let anns = msgs.iter().find(|m| m["to"] == "ann@example.com").unwrap();
    assert_eq!(anns["subject"], "Ann, winter is here");
    assert_eq!(anns["status"], "captured", "no provider: captured here");
    assert_eq!(anns["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    let html = anns["html"].as_str().unwrap();
    assert!(!html.contains("https://shop.example"), "links are tracked: {html}");

    // Tracking: a human open and click count; a scanner's does not; forged links do nothing.
    let browser = [("user-agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15")];
    let pixel = link(html, "o");
    let click = link(html, "c");
    let r = h.request("GET", "demo.localhost", &pixel, &[("user-agent", "Barracuda Sentinel (EE)")], b"");
    assert_eq!((r.status, r.header("content-type")), (200, Some("image/gif")));
    assert_eq!(json(&c.get(&format!("/api/v1/campaigns/{id}/stats")))["opened"], 0, "a scanner is not a reader");
    // Fetches within seconds of sending are scanners too; people take longer.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(h.request("GET", "demo.localhost", &pixel, &browser, b"").status, 200);
    let r = h.request("GET", "demo.localhost", &click, &browser, b"");
    assert_eq!((r.status, r.header("location")), (302, Some("https://shop.example/winter?utm=mail&x=1")));
    let last = click.chars().last().unwrap();
    let forged = format!("{}{}", &click[..click.len() - 1], if last == '0' { '1' } else { '0' });
    assert_eq!(h.request("GET", "demo.localhost", &forged, &browser, b"").status, 404);
    let other_message = link(msgs.iter().find(|m| m["to"] == "bob@example.com").unwrap()["html"].as_str().unwrap(), "c");
    let spliced = format!("{}{}", &click[..click.rfind('.').unwrap()], &other_message[other_message.rfind('.').unwrap()..]);
    assert_eq!(h.request("GET", "demo.localhost", &spliced, &browser, b"").status, 404, "a signature from another link");

    // One-click unsubscribe (RFC 8058), then the preference page says so.
    let unsub = link(html, "u");
    let r = h.request("POST", "demo.localhost", &unsub, &[("content-type", "application/x-www-form-urlencoded")], b"List-Unsubscribe=One-Click");
    assert_eq!(r.status, 200, "{}", r.text());
    let page = h.request("GET", "demo.localhost", &unsub, &browser, b"");
    assert!(page.text().contains("is unsubscribed"), "{}", page.text());
    let consent = json(&c.get(&format!("/api/v1/consents/{ann}")));
    assert_eq!(consent["channels"][0]["status"], "withdrawn");
    assert_eq!(consent["history"][0]["source"], "one-click unsubscribe");
    assert_eq!(json(&c.get(&format!("/api/v1/contacts/{ann}")))["consent"]["email"], "denied", "copied to the contact record");
    assert_eq!(json(&c.get(&format!("/api/v1/contacts/{gone}")))["consent"]["email"], "denied");
    // Ann's timeline tells the story, newest first.
    let timeline = json(&c.get(&format!("/api/v1/contacts/{ann}/timeline")));
    let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().filter(|e| e["event"]["source"] == "campaigns").map(|e| e["event"]["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["email-unsubscribed", "email-clicked", "email-opened", "email-sent"], "{timeline}");

    // Provider events: a bad signature changes nothing; a signed hard bounce suppresses.
    let bobs = msgs.iter().find(|m| m["to"] == "bob@example.com").unwrap()["id"].as_str().unwrap().to_string();
    let event = json!({"type": "bounced", "message_id": bobs, "bounce": "hard"}).to_string();
    let now = chrono::Utc::now().timestamp();
    let post = |sig: &str| h.request("POST", "demo.localhost", "/api/v1/mail/events", &[("content-type", "application/json"), ("x-edge-signature", sig)], event.as_bytes());
    assert_eq!(post(&signed(&event, now, "not-the-secret-at-all")).status, 401);
    assert_eq!(post(&signed(&event, now - 3600, WEBHOOK_SECRET)).status, 401, "replayed an hour later");
    assert!(json(&c.get("/api/v1/suppressions?q=bob"))["items"].as_array().unwrap().is_empty());
    let r = post(&signed(&event, now, WEBHOOK_SECRET));
    assert_eq!((r.status, json(&r)["applied"].as_i64()), (200, Some(1)), "{}", r.text());
    assert_eq!(json(&c.get("/api/v1/suppressions?q=bob"))["items"][0]["reason"], "bounced");

    let s = json(&c.get(&format!("/api/v1/campaigns/{id}/stats")));
    assert_eq!((s["queued"].as_i64(), s["delivered"].as_i64(), s["opened"].as_i64(), s["clicked"].as_i64(), s["unsubscribed"].as_i64(), s["bounced"].as_i64()), (Some(3), Some(3), Some(1), Some(1), Some(1), Some(1)), "{s}");
    assert_eq!(s["automated_opens"], 1);
    assert!((s["open_rate"].as_f64().unwrap() - 0.333).abs() < 0.001);
    assert_eq!(s["series"][0]["opens"], 1);
    let engagement = json(&c.get(&format!("/api/v1/engagement/{ann}")));
    assert!(engagement["items"][0]["clicked_at"].is_string(), "{engagement}");

    // The next campaign to the same list skips everyone who left or bounced.
    let again = json(&c.post_json("/api/v1/campaigns", &json!({"name": "Follow-up", "template_id": tid, "segment_id": list})));
    let id2 = again["id"].as_str().unwrap().to_string();
    assert_eq!(c.post_json(&format!("/api/v1/campaigns/{id2}/schedule"), &json!({})).status, 200);
    until_sent(&h, &mut c, &id2);
    let to: Vec<String> = messages(&mut c, &id2).iter().map(|m| m["to"].as_str().unwrap().to_string()).collect();
    assert_eq!(to, vec!["eve@example.com"]);
    let s = json(&c.get(&format!("/api/v1/campaigns/{id2}/stats")));
    assert_eq!((s["skipped"]["unsubscribed"].as_i64(), s["skipped"]["suppressed"].as_i64()), (Some(3), Some(2)), "{s}");
    // A sent campaign is history: it cannot be edited or rescheduled.
    assert_eq!(c.send("PATCH", &format!("/api/v1/campaigns/{id2}"), Some(json!({"name": "x"}))).status, 409);
}

#[test]
fn schedules_in_the_campaigns_time_zone_and_ab_tests_spare_the_unsubscribed() {
    let h = TestHost::start(config("campaigns-schedule"));
    let mut c = h.signed_in_owner("demo");
    let ids: Vec<String> = (0..40).map(|i| contact(&mut c, Some(&format!("P{i}")), &format!("p{i}@example.com"))).collect();
    let list = list_of(&mut c, "All", &ids);
    let body = json!({"name": "Spring", "segment_id": list, "subject": "Spring is here", "html": "<p>Hi {{ contact.first_name }}</p>", "time_zone": "America/New_York"});
    let camp = json(&c.post_json("/api/v1/campaigns", &body));
    let id = camp["id"].as_str().unwrap().to_string();
    let next_year = chrono::Utc::now().format("%Y").to_string().parse::<i32>().unwrap() + 1;
    let r = c.post_json(&format!("/api/v1/campaigns/{id}/schedule"), &json!({"send_at": format!("{next_year}-01-15T09:00")}));
    assert_eq!(r.status, 200, "{}", r.text());
    let s = json(&r);
    assert_eq!(s["status"], "scheduled");
    assert_eq!(s["send_at"], format!("{next_year}-01-15T14:00:00.000Z"), "9:00 in New York is 14:00 UTC in winter");
    assert_eq!(s["send_at_local"], format!("{next_year}-01-15T09:00"));
    let r = c.post_json(&format!("/api/v1/campaigns/{id}/schedule"), &json!({"send_at": "2020-01-01T09:00"}));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("send_at")));
    let r = c.post_json(&format!("/api/v1/campaigns/{id}/schedule"), &json!({"send_at": format!("{next_year}-07-01T09:00"), "time_zone": "Asia/Kolkata"}));
    assert_eq!(json(&r)["send_at"], format!("{next_year}-07-01T03:30:00.000Z"));
    assert!(tick(&h)["components"]["campaigns"]["next_tick_at"].as_str().unwrap().starts_with(&format!("{next_year}-07-01T03:30")), "the scheduler is told when");
    // Not yet due: nothing goes out; unscheduled, it is a draft again.
    assert!(messages(&mut c, &id).is_empty());
    assert_eq!(json(&c.post_json(&format!("/api/v1/campaigns/{id}/unschedule"), &json!({})))["status"], "draft");

    // An A/B test of subjects: unsubscribed contacts are left out of the sample and of the rest.
    for i in [1, 2, 3, 5, 8, 13, 21, 34] {
        assert_eq!(c.post_json(&format!("/api/v1/consents/{}", ids[i]), &json!({"channel": "email", "status": "withdrawn"})).status, 200);
    }
    let r = c.send("PATCH", &format!("/api/v1/campaigns/{id}"), Some(json!({"ab": {"subject_b": "Last call: spring", "sample_percent": 50, "wait_minutes": 5, "metric": "opens"}})));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = c.send("PATCH", &format!("/api/v1/campaigns/{id}"), Some(json!({"ab": {"subject_b": "", "sample_percent": 90, "wait_minutes": 5, "metric": "likes"}})));
    assert_eq!(r.status, 422);
    assert_eq!(json(&r)["errors"].as_array().unwrap().len(), 3, "{}", r.text());
    assert_eq!(c.post_json(&format!("/api/v1/campaigns/{id}/schedule"), &json!({})).status, 200);
    for _ in 0..5 {
        tick(&h);
    }
    let camp = json(&c.get(&format!("/api/v1/campaigns/{id}")));
    assert_eq!(camp["status"], "sending", "the rest waits for the test's result: {camp}");
    assert!(camp["ab_decide_at"].is_string());
    let sample = messages(&mut c, &id);
    assert!(!sample.is_empty() && sample.len() < 32, "{}", sample.len());
    assert!(sample.iter().any(|m| m["subject"] == "Last call: spring") || sample.iter().all(|m| m["variant"] == "a"));
    let withdrawn: Vec<&String> = [1, 2, 3, 5, 8, 13, 21, 34].iter().map(|i| &ids[*i]).collect();
    assert!(sample.iter().all(|m| !withdrawn.contains(&&m["contact_id"].as_str().unwrap().to_string())));
    // Cancelled: the rest is never sent.
    assert_eq!(json(&c.post_json(&format!("/api/v1/campaigns/{id}/cancel"), &json!({})))["status"], "cancelled");
    tick(&h);
    assert_eq!(messages(&mut c, &id).len(), sample.len());
}

#[test]
fn a_send_interrupted_by_a_killed_host_resumes_without_sending_anyone_twice() {
    let cfg = config("campaigns-crash");
    let h = TestHost::start(cfg.clone());
    let mut c = h.signed_in_owner("demo");
    let n = 300;
    let ids: Vec<String> = (0..n).map(|i| contact(&mut c, Some(&format!("P{i}")), &format!("p{i}@example.com"))).collect();
    let list = list_of(&mut c, "Everyone", &ids);
    // 250 a minute: a minute's worth at once, then about four a second.
    let camp = json(&c.post_json("/api/v1/campaigns", &json!({"name": "Crash test", "segment_id": list, "subject": "Hello", "text": "Hi {{ contact.first_name }}", "throttle_per_minute": 250})));
    let id = camp["id"].as_str().unwrap().to_string();
    assert_eq!(c.post_json(&format!("/api/v1/campaigns/{id}/schedule"), &json!({})).status, 200);
    let first = messages(&mut c, &id).len();
    assert_eq!(first, 200, "the newest 200 of the first minute's 250, queued at once");
    assert_eq!(json(&c.get(&format!("/api/v1/campaigns/{id}/stats")))["queued"], 250);
    std::thread::sleep(std::time::Duration::from_secs(3));
    // Kill the host (SIGKILL) while the next batch may be mid-write.
    let addr = h.addr;
    let racer = std::thread::spawn(move || {
        let _ = loopback_http::request(addr, "POST", "/.well-known/edge-crm/tick", &[("host", "demo.localhost"), ("authorization", &format!("Bearer {TICK_TOKEN}"))], b"");
    });
    std::thread::sleep(std::time::Duration::from_millis(20));
    drop(h);
    let _ = racer.join();

    let h = TestHost::start(cfg);
    c.addr = h.addr;
    let camp = until_sent(&h, &mut c, &id);
    assert_eq!(camp["progress"]["queued"], n, "{camp}");
    let all = json(&c.get(&format!("/api/v1/campaigns/{id}/stats")));
    assert_eq!(all["queued"], n, "exactly one message per contact: {all}");
    let mut to: Vec<String> = messages(&mut c, &id).iter().map(|m| m["contact_id"].as_str().unwrap().to_string()).collect();
    let shown = to.len();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), shown, "no contact twice among the newest messages");
}

#[test]
fn a_sequence_drips_to_new_segment_members_until_they_convert_reply_or_unsubscribe() {
    let h = TestHost::start(config("campaigns-sequence"));
    let mut c = h.signed_in_owner("demo");
    let ids: Vec<String> = ["Ann", "Bob", "Cy", "Dee", "Eve"].iter().map(|n| contact(&mut c, Some(n), &format!("{}@example.com", n.to_lowercase()))).collect();
    let list = list_of(&mut c, "Trial users", &ids[..4]);
    // Bob said no before; Cy already bought.
    assert_eq!(c.post_json(&format!("/api/v1/consents/{}", ids[1]), &json!({"channel": "email", "status": "withdrawn"})).status, 200);
    let cy = json(&c.get(&format!("/api/v1/contacts/{}", ids[2])));
    let r = c.with_version("PATCH", &format!("/api/v1/contacts/{}", ids[2]), &cy["version"], &json!({"lifecycle_stage": "customer"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let body = json!({
        "name": "Onboarding", "segment_id": list, "goal": {"field": "lifecycle_stage", "op": "eq", "value": "customer"},
        "steps": [
            {"delay_minutes": 0, "subject": "Welcome, {{ contact.first_name }}", "text": "Glad you are here."},
            {"delay_minutes": 1440, "subject": "Three tips", "html": "<p>Tip one…</p>"},
        ],
    });
    let r = c.post_json("/api/v1/sequences", &json!({"name": "Bad", "goal": {"field": "shoe_size", "op": "eq", "value": 9}}));
    assert_eq!((r.status, json(&r)["errors"][0]["field"].as_str()), (422, Some("goal")), "{}", r.text());
    let r = c.post_json("/api/v1/sequences", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = json(&r)["id"].as_str().unwrap().to_string();
    let r = c.post_json(&format!("/api/v1/sequences/{id}/activate"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let s = json(&r);
    assert_eq!(s["status"], "active");
    assert_eq!(s["enrolments"]["total"], 4, "the list's members entered: {s}");
    assert_eq!(s["enrolments"]["exits"], json!({"unsubscribed": 1, "converted": 1}), "{s}");
    let mail: Vec<Value> = json(&c.get(&format!("/api/v1/engagement/{}", ids[0])))["items"].as_array().unwrap().clone();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "Welcome, Ann");
    for who in [1, 2, 4] {
        assert!(json(&c.get(&format!("/api/v1/engagement/{}", ids[who])))["items"].as_array().unwrap().is_empty(), "contact {who} got nothing");
    }
    // Dee replies to the welcome: she leaves the sequence.
    let dee_mail = json(&c.get(&format!("/api/v1/engagement/{}", ids[3])))["items"][0]["message_id"].as_str().unwrap().to_string();
    let event = json!({"type": "replied", "message_id": dee_mail}).to_string();
    let sig = signed(&event, chrono::Utc::now().timestamp(), WEBHOOK_SECRET);
    let r = h.request("POST", "demo.localhost", "/api/v1/mail/events", &[("content-type", "application/json"), ("x-edge-signature", &sig)], event.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    // Eve joins the list later: the next round enrols her (once), and only her.
    assert_eq!(c.post_json(&format!("/api/v1/segments/{list}/members"), &json!({"contact_ids": [ids[4]]})).status, 200);
    assert_eq!(c.post_json(&format!("/api/v1/sequences/{id}/pause"), &json!({})).status, 200);
    assert_eq!(c.post_json(&format!("/api/v1/sequences/{id}/activate"), &json!({})).status, 200, "re-activating looks for members at once");
    tick(&h);
    let s = json(&c.get(&format!("/api/v1/sequences/{id}")));
    assert_eq!(s["enrolments"], json!({"total": 5, "active": 2, "completed": 0, "exited": 3, "exits": {"unsubscribed": 1, "converted": 1, "replied": 1}}), "{s}");
    let stats = json(&c.get(&format!("/api/v1/sequences/{id}/stats")));
    assert_eq!(stats["steps"][0]["sent"], 3, "Ann, Dee, Eve: {stats}");
    let e = json(&c.get(&format!("/api/v1/sequences/{id}/enrolments")));
    let eve = e["items"].as_array().unwrap().iter().find(|x| x["contact_id"] == ids[4].as_str()).unwrap().clone();
    assert_eq!((eve["step"].as_i64(), eve["status"].as_str()), (Some(1), Some("active")), "{eve}");
}

#[test]
fn with_a_provider_campaign_mail_carries_one_click_unsubscribe_and_failures_retry_later() {
    let (ok, got) = e2e::fake_mail_provider(202);
    let (down, tried) = e2e::fake_mail_provider(503);
    for (name, provider, works) in [("campaigns-provider-ok", ok, true), ("campaigns-provider-down", down, false)] {
        let mut cfg = config(name);
        cfg.env.extend([
            ("SPIN_VARIABLE_MAIL_API_URL".to_string(), format!("http://{provider}/v1/send")),
            ("SPIN_VARIABLE_MAIL_API_HOST".to_string(), format!("http://{provider}")),
            ("SPIN_VARIABLE_MAIL_FROM".to_string(), "Demo <news@demo.example>".to_string()),
        ]);
        let h = TestHost::start(cfg);
        let mut c = h.signed_in_owner("demo");
        let ids = vec![contact(&mut c, Some("Ann"), "ann@example.com"), contact(&mut c, Some("Bob"), "bob@example.com")];
        let list = list_of(&mut c, "Two", &ids);
        let camp = json(&c.post_json("/api/v1/campaigns", &json!({"name": "Hello", "segment_id": list, "subject": "Hi {{ contact.first_name }}", "html": "<p>News</p>", "from_name": "Demo Outdoor"})));
        let id = camp["id"].as_str().unwrap().to_string();
        assert_eq!(c.post_json(&format!("/api/v1/campaigns/{id}/schedule"), &json!({})).status, 200);
        let msgs = messages(&mut c, &id);
        assert_eq!(msgs.len(), 2);
        if works {
            assert!(msgs.iter().all(|m| m["status"] == "sent"), "{msgs:?}");
            let got = got.lock().unwrap();
            let anns = got.iter().map(|(_, b)| b).find(|b| b["to"] == "ann@example.com").expect("Ann's message at the provider");
            assert_eq!(anns["subject"], "Hi Ann");
            assert_eq!(anns["from"], "Demo Outdoor <news@demo.example>");
            assert!(anns["headers"]["List-Unsubscribe"].as_str().unwrap().contains("/api/v1/mail/u/"));
            assert_eq!(anns["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
            assert!(anns["html"].as_str().unwrap().contains("/api/v1/mail/o/"), "the pixel goes out");
        } else {
            let campaign_mail = || tried.lock().unwrap().iter().filter(|(_, b)| b["subject"].as_str().is_some_and(|s| s.starts_with("Hi "))).count();
            assert_eq!(campaign_mail(), 2, "each tried once (the owner's invitation went this way too)");
            assert!(msgs.iter().all(|m| m["status"] == "queued" && m["attempts"] == 1 && m["last_error"].as_str().unwrap().contains("503")), "{msgs:?}");
            let next = tick(&h)["components"]["campaigns"]["next_tick_at"].as_str().unwrap().to_string();
            let at = chrono::DateTime::parse_from_rfc3339(&next).unwrap();
            let wait = at.signed_duration_since(chrono::Utc::now()).num_seconds();
            assert!((30..=70).contains(&wait), "the retry is due in about a minute: {next}");
            assert_eq!(campaign_mail(), 2, "not retried before its time");
        }
    }
}
