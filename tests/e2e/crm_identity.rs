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

#[test]
fn api_keys_are_scoped_shown_once_and_revocable_and_everything_is_audited() {
    let h = start("identity-keys");
    let mut owner = h.signed_in_owner("acme");
    let _globex = h.signed_in_owner("globex");
    assert_eq!(owner.post_json("/api/v1/api-keys", &json!({"name": "", "scopes": ["settings:write"]})).status, 422);
    let r = owner.post_json("/api/v1/api-keys", &json!({"name": "ERP sync", "scopes": ["contacts:write"]}));
    assert_eq!(r.status, 201, "{}", r.text());
    let v = json(&r);
    let token = v["token"].as_str().unwrap().to_string();
    let key_id = v["key"]["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("ek_"));
    let listed = owner.get("/api/v1/api-keys").text();
    assert!(listed.contains("ERP sync") && !listed.contains(&token), "the token is shown once only");
    let r = owner.post_json("/api/v1/api-keys", &json!({"name": "BI export", "scopes": ["contacts:read"]}));
    let read_token = json(&r)["token"].as_str().unwrap().to_string();

    let bearer = format!("Bearer {token}");
    let with_key = |host: &str, method: &str, path: &str, tok: &str, body: &str| {
        h.request(method, host, path, &[("authorization", &format!("Bearer {tok}")), ("content-type", "application/json")], body.as_bytes())
    };
    assert_eq!(with_key("acme.localhost", "GET", "/api/v1/contacts", &token, "").status, 200);
    let r = with_key("acme.localhost", "POST", "/api/v1/contacts", &token, r#"{"first_name":"Keyed"}"#);
    assert_eq!(r.status, 201, "keys need no CSRF token: {}", r.text());
    let contact_id = json(&r)["id"].as_str().unwrap().to_string();
    assert_eq!(with_key("acme.localhost", "POST", "/api/v1/contacts", &read_token, r#"{"first_name":"No"}"#).status, 403);
    assert_eq!(with_key("acme.localhost", "GET", "/api/v1/users", &token, "").status, 401, "keys never manage users");
    assert_eq!(with_key("globex.localhost", "GET", "/api/v1/contacts", &token, "").status, 401, "another tenant's key is nothing here");
    assert_eq!(h.request("GET", "acme.localhost", "/api/v1/contacts", &[("authorization", "Bearer ek_forged")], b"").status, 401);
    let _ = bearer;

    // Revoked: refused at once.
    assert_eq!(owner.send("DELETE", &format!("/api/v1/api-keys/{key_id}"), None).status, 204);
    assert_eq!(with_key("acme.localhost", "GET", "/api/v1/contacts", &token, "").status, 401);
    let keys = json(&owner.get("/api/v1/api-keys"));
    assert!(keys["items"].as_array().unwrap().iter().any(|k| k["id"] == key_id.as_str() && k["revoked_at"].is_string()));

    // The audit log: who did what, from every component, filterable, read-only.
    let all = json(&owner.get("/api/v1/audit?limit=200"));
    let items = all["items"].as_array().unwrap();
    let by_key = items.iter().find(|e| e["entity"] == "contact" && e["entity_id"] == contact_id.as_str()).expect("contact creation audited");
    assert_eq!(by_key["actor"], format!("apikey:{key_id}"));
    assert_eq!(by_key["component"], "contacts");
    assert_eq!(by_key["after"]["first_name"], "Keyed");
    assert!(items.iter().any(|e| e["entity"] == "api_key" && e["action"] == "revoked"));
    assert!(items.iter().any(|e| e["entity"] == "user" && e["action"] == "invitation-accepted"));
    assert!(!items.iter().any(|e| e.to_string().contains("password_hash")), "no secrets in the audit log");
    let only_contacts = json(&owner.get("/api/v1/audit?entity=contact"));
    assert!(only_contacts["items"].as_array().unwrap().iter().all(|e| e["entity"] == "contact"));
    let by_actor = json(&owner.get(&format!("/api/v1/audit?actor=apikey:{key_id}")));
    assert_eq!(by_actor["items"].as_array().unwrap().len(), 1);
    assert_eq!(json(&owner.get("/api/v1/audit?since=2999-01-01T00:00:00Z"))["items"].as_array().unwrap().len(), 0);
    assert_eq!(owner.get("/api/v1/audit?since=yesterday").status, 422);
    // Pages of 2 walk every event once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/audit?limit=2".to_string();
    loop {
        let page = json(&owner.get(&path));
        for e in page["items"].as_array().unwrap() {
            seen.push(format!("{}:{}", e["component"], e["seq"]));
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/audit?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), items.len());
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), seen.len());
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        assert!(owner.send(method, "/api/v1/audit", Some(json!({}))).status >= 400, "{method} on the audit log");
    }
}

/// Every role against the areas (the matrix itself is unit-tested in
/// identity-domain; a name that is no API area answers 404).
#[test]
fn every_role_against_every_area() {
    let h = start("identity-roles");
    let mut owner = h.signed_in_owner("acme");
    // (role, contacts read, contacts write, settings read, settings write)
    let table = [
        ("admin", true, true, true, true),
        ("manager", true, true, true, false),
        ("sales", true, true, false, false),
        ("marketing", true, true, false, false),
        ("support", true, true, false, false),
        ("read-only", true, false, false, false),
    ];
    for (role, c_read, c_write, s_read, s_write) in table {
        let email = format!("{role}@acme.example");
        assert_eq!(owner.post_json("/api/v1/users/invitations", &json!({"email": email, "role": role})).status, 201);
        let link = outbox_link(&mut owner, &email, "/accept-invite?token=");
        let mut u = Client::new(h.addr, "acme");
        assert_eq!(u.accept(&link, role, "a role test passphrase").status, 200);
        let ok = |status: u16| status < 400;
        assert_eq!(ok(u.get("/api/v1/contacts").status), c_read, "{role} reads contacts");
        assert_eq!(ok(u.post_json("/api/v1/contacts", &json!({"first_name": role})).status), c_write, "{role} writes contacts");
        assert_eq!(ok(u.get("/api/v1/users").status), s_read, "{role} reads settings");
        assert_eq!(ok(u.get("/api/v1/audit").status), s_read, "{role} reads the audit log");
        let r = u.post_json("/api/v1/api-keys", &json!({"name": "k", "scopes": ["contacts:read"]}));
        assert_eq!(ok(r.status), s_write, "{role} manages API keys");
        // Campaigns: everyone reads; marketing (and managers, admins) write.
        assert!(ok(u.get("/api/v1/campaigns").status), "{role} reads campaigns");
        let writes = ["admin", "manager", "marketing"].contains(&role);
        assert_eq!(ok(u.post_json("/api/v1/templates", &json!({"name": role, "subject": "Hi", "text": "Hello"})).status), writes, "{role} writes campaigns");
        assert_eq!(u.get("/api/v1/service-desk").status, 404, "not an API area");
    }
}

#[test]
fn the_plan_limits_users() {
    let h = start("identity-plan");
    let invite = h.provision("small", "trial"); // trial: 3 users
    let mut owner = Client::new(h.addr, "small");
    assert_eq!(owner.accept(&invite, "Olive", "a long owner passphrase").status, 200);
    for who in ["a", "b"] {
        let r = owner.post_json("/api/v1/users/invitations", &json!({"email": format!("{who}@small.example"), "role": "sales"}));
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = owner.post_json("/api/v1/users/invitations", &json!({"email": "c@small.example", "role": "sales"}));
    assert_eq!(r.status, 403);
    assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/plan-limit");
    // An upgrade applies at once.
    assert_eq!(h.operator("PUT", "/v1/tenants/small/plan", r#"{"plan":"standard"}"#).status, 200);
    assert_eq!(owner.post_json("/api/v1/users/invitations", &json!({"email": "c@small.example", "role": "sales"})).status, 201);
}
