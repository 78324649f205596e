//! Staff identity end to end: provisioning invites the owner, invitations,
//! sign-in and sessions, CSRF, roles, throttling, password reset, isolation.

use e2e::{json, scratch, Client, HostConfig, TestHost};
use serde_json::json;

fn start(name: &str) -> TestHost {
    TestHost::start(HostConfig::crm(&scratch(name)))
}

fn outbox_link(c: &mut Client, to: &str, path: &str) -> String {
    let items = json(&c.send("GET", "/api/v1/outbox", None))["items"].as_array().unwrap().clone();
    let body = items.iter().find(|m| m["to"] == to).unwrap_or_else(|| panic!("no mail to {to}: {items:?}"))["body_text"].as_str().unwrap().to_string();
    body.split_whitespace().find(|w| w.contains(path)).unwrap().to_string()
}

#[test]
fn owner_invites_a_colleague_who_signs_in_with_their_role() {
    let h = start("identity-flow");
    let invite = h.provision("acme", "enterprise");
    assert!(invite.starts_with("http://acme.localhost:") && invite.contains("/accept-invite?token="), "{invite}");

    let mut owner = Client::new(h.addr, "acme");
    assert_eq!(owner.send("GET", "/api/v1/auth/me", None).status, 401);
    assert_eq!(owner.accept(&invite, "Olive", "short").status, 422, "password policy");
    let r = owner.accept(&invite, "Olive Owner", "a long owner passphrase");
    assert_eq!(r.status, 200, "{}", r.text());
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(owner.accept(&invite, "Again", "a long owner passphrase").status, 410, "invitations work once");
    let me = json(&owner.send("GET", "/api/v1/auth/me", None));
    assert_eq!(me["user"]["role"], "owner");
    assert!(me["user"].get("password_hash").is_none());

    // CSRF: a state-changing request without the token is refused.
    let csrf = owner.csrf.take();
    let r = owner.send("POST", "/api/v1/users/invitations", Some(json!({"email": "sam@acme.example", "role": "sales"})));
    assert_eq!(r.status, 403);
    assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/csrf");
    owner.csrf = csrf;
    assert_eq!(owner.send("POST", "/api/v1/users/invitations", Some(json!({"email": "bad", "role": "sales"}))).status, 422);
    assert_eq!(owner.send("POST", "/api/v1/users/invitations", Some(json!({"email": "x@acme.example", "role": "root"}))).status, 422);
    let r = owner.send("POST", "/api/v1/users/invitations", Some(json!({"email": "sam@acme.example", "name": "Sam", "role": "sales"})));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(json(&r)["state"], "invited");

    let link = outbox_link(&mut owner, "sam@acme.example", "/accept-invite?token=");
    let mut sam = Client::new(h.addr, "acme");
    assert_eq!(sam.accept(&link, "Sam Sales", "sam's own passphrase").status, 200);
    assert_eq!(json(&sam.send("GET", "/api/v1/auth/me", None))["user"]["role"], "sales");
    // Sales has no access to settings.
    assert_eq!(sam.send("GET", "/api/v1/users", None).status, 403);
    assert_eq!(sam.send("GET", "/api/v1/outbox", None).status, 403);

    // Sign out ends that session only.
    assert_eq!(sam.send("POST", "/api/v1/auth/sign-out", None).status, 204);
    assert_eq!(sam.send("GET", "/api/v1/auth/me", None).status, 401);
    let r = sam.sign_in("SAM@acme.example", "sam's own passphrase");
    assert_eq!(r.status, 200, "{}", r.text());

    // Promote, then deactivate: the live session follows at once.
    let users = json(&owner.send("GET", "/api/v1/users", None));
    let sam_id = users["items"].as_array().unwrap().iter().find(|u| u["email"] == "sam@acme.example").unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(owner.send("PATCH", &format!("/api/v1/users/{sam_id}"), Some(json!({"role": "admin"}))).status, 200);
    assert_eq!(sam.send("GET", "/api/v1/users", None).status, 200);
    assert_eq!(owner.send("POST", &format!("/api/v1/users/{sam_id}/deactivate"), None).status, 200);
    assert_eq!(sam.send("GET", "/api/v1/auth/me", None).status, 401);
    assert_eq!(sam.sign_in("sam@acme.example", "sam's own passphrase").status, 401);
    // The last owner stays an owner.
    let owner_id = json(&owner.send("GET", "/api/v1/auth/me", None))["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(owner.send("PATCH", &format!("/api/v1/users/{owner_id}"), Some(json!({"role": "admin"}))).status, 409);
}

#[test]
fn sign_in_is_throttled_and_password_reset_ends_sessions() {
    let h = start("identity-throttle");
    let invite = h.provision("acme", "enterprise");
    let mut owner = Client::new(h.addr, "acme");
    assert_eq!(owner.accept(&invite, "Olive", "the first passphrase").status, 200);

    // Unknown accounts answer exactly like wrong passwords.
    let mut attacker = Client::new(h.addr, "acme");
    assert_eq!(json(&attacker.sign_in("nobody@acme.example", "whatever 12345"))["detail"], "Email or password is wrong");
    // Five failures from one address (this one included) lock it out for the window,
    // even with the right password next.
    for _ in 0..4 {
        assert_eq!(attacker.sign_in("owner@acme.example", "wrong guess 123").status, 401);
    }
    let r = attacker.sign_in("owner@acme.example", "the first passphrase");
    assert_eq!(r.status, 429, "locked even with the right password");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/rate-limited");

    // Reset: always 202; the link arrives in the outbox; old sessions end.
    let mut anon = Client::new(h.addr, "acme");
    assert_eq!(anon.send("POST", "/api/v1/auth/request-password-reset", Some(json!({"email": "nobody@acme.example"}))).status, 202);
    assert_eq!(anon.send("POST", "/api/v1/auth/request-password-reset", Some(json!({"email": "owner@acme.example"}))).status, 202);
    let link = outbox_link(&mut owner, "owner@acme.example", "/reset-password?token=");
    let token = link.split("token=").nth(1).unwrap();
    assert_eq!(anon.send("POST", "/api/v1/auth/reset-password", Some(json!({"token": token, "password": "a brand new passphrase"}))).status, 204);
    assert_eq!(anon.send("POST", "/api/v1/auth/reset-password", Some(json!({"token": token, "password": "again and again"}))).status, 410);
    assert_eq!(owner.send("GET", "/api/v1/auth/me", None).status, 401, "reset ends old sessions");
}

#[test]
fn sessions_never_cross_tenants() {
    let h = start("identity-isolation");
    let a = h.provision("acme", "enterprise");
    h.provision("globex", "enterprise");
    let mut owner = Client::new(h.addr, "acme");
    assert_eq!(owner.accept(&a, "Olive", "the acme passphrase").status, 200);
    assert_eq!(owner.send("GET", "/api/v1/users", None).status, 200);
    // The same cookie and CSRF token sent to another tenant's host mean nothing there.
    owner.host = "globex.localhost".into();
    assert_eq!(owner.send("GET", "/api/v1/auth/me", None).status, 401);
    assert_eq!(owner.send("GET", "/api/v1/users", None).status, 401);
    assert_eq!(owner.sign_in("owner@acme.example", "the acme passphrase").status, 401);
    // And the provisioning route is not reachable from outside.
    let r = h.request("POST", "globex.localhost", "/internal/owner", &[("content-type", "application/json")], br#"{"email":"evil@x.example"}"#);
    assert_ne!(r.status, 201);
}
