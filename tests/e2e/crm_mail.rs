//! Outbox delivery through an HTTP mail API configured by Spin variables. The
//! provider here is a small HTTP server on loopback that records what it gets.

use e2e::fake_mail_provider as provider;
use e2e::{json, scratch, HostConfig, TestHost};
use serde_json::json;

fn crm_with_mail(name: &str, provider: std::net::SocketAddr) -> TestHost {
    let mut cfg = HostConfig::crm(&scratch(name));
    cfg.env.extend([
        ("SPIN_VARIABLE_MAIL_API_URL".to_string(), format!("http://{provider}/v1/send")),
        ("SPIN_VARIABLE_MAIL_API_HOST".to_string(), format!("http://{provider}")),
        ("SPIN_VARIABLE_MAIL_API_TOKEN".to_string(), "provider-secret".to_string()),
    ]);
    TestHost::start(cfg)
}

#[test]
fn with_a_provider_mail_is_sent_and_its_status_recorded() {
    let (addr, got) = provider(202);
    let h = crm_with_mail("mail-sent", addr);
    let mut owner = h.signed_in_owner("acme");
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1, "the owner's invitation went to the provider");
        assert_eq!(e2e::header_of(&got[0].0, "authorization"), Some("Bearer provider-secret"));
        assert_eq!(got[0].1["to"], "owner@acme.example");
        assert!(got[0].1["text"].as_str().unwrap().contains("/accept-invite?token="));
    }
    assert_eq!(owner.post_json("/api/v1/users/invitations", &json!({"email": "sam@acme.example", "role": "sales"})).status, 201);
    let outbox = json(&owner.get("/api/v1/outbox"));
    let items = outbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|m| m["status"] == "sent"), "{outbox}");
    assert_eq!(got.lock().unwrap().len(), 2);
}

#[test]
fn a_failing_provider_is_recorded_and_the_request_still_succeeds() {
    let (addr, _) = provider(503);
    let h = crm_with_mail("mail-failed", addr);
    let mut owner = h.signed_in_owner("acme");
    let r = owner.post_json("/api/v1/users/invitations", &json!({"email": "sam@acme.example", "role": "sales"}));
    assert_eq!(r.status, 201, "the invitation exists even when mail fails");
    let outbox = json(&owner.get("/api/v1/outbox"));
    let m = &outbox["items"][0];
    assert_eq!(m["status"], "failed", "{outbox}");
    assert!(m["last_error"].as_str().unwrap().contains("503"));
}

#[test]
fn without_a_provider_mail_is_captured_and_nothing_leaves() {
    let h = TestHost::start(HostConfig::crm(&scratch("mail-captured")));
    let mut owner = h.signed_in_owner("acme");
    let outbox = json(&owner.get("/api/v1/outbox"));
    assert_eq!(outbox["items"][0]["status"], "captured");
}
