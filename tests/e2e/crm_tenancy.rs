//! Tenants never see each other's data, whatever the request says.

use e2e::{json, scratch, Client, HostConfig, TestHost};
use serde_json::json;

/// Two tenants, each with its owner signed in.
fn two_tenants(name: &str) -> (TestHost, std::path::PathBuf, Client, Client) {
    let cfg = HostConfig::crm(&scratch(name));
    let tenants = cfg.tenants.clone().unwrap();
    let h = TestHost::start(cfg);
    let acme = h.signed_in_owner("acme");
    let globex = h.signed_in_owner("globex");
    (h, tenants, acme, globex)
}

#[test]
fn two_tenants_never_see_each_others_rows() {
    let (_h, tenants, mut acme, mut globex) = two_tenants("tenancy");
    let r = acme.post_json("/api/v1/contacts", &json!({"first_name": "Wile", "email": "wile@acme.example"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = json(&r)["id"].as_str().unwrap().to_string();

    assert_eq!(json(&acme.get("/api/v1/contacts"))["items"].as_array().unwrap().len(), 1);
    assert_eq!(json(&globex.get("/api/v1/contacts"))["items"].as_array().unwrap().len(), 0);
    // Another tenant's id is simply not found there.
    assert_eq!(globex.get(&format!("/api/v1/contacts/{id}")).status, 404);
    assert_eq!(acme.get(&format!("/api/v1/contacts/{id}")).status, 200);
    // Acme's session is nobody at globex, whatever else the request claims.
    let mut stolen = acme.clone();
    stolen.host = "globex.localhost".into();
    assert_eq!(stolen.get("/api/v1/contacts").status, 401);

    // The data lives only in acme's directory.
    assert!(tenants.join("acme/sqlite/default.db").exists());
    let globex_db = tenants.join("globex/sqlite/default.db");
    if globex_db.exists() {
        let bytes = std::fs::read(&globex_db).unwrap();
        assert!(!bytes.windows(4).any(|w| w == b"wile"), "acme's data found in globex's file");
    }
}

#[test]
fn spoofed_tenant_headers_are_ignored() {
    let (_h, _, mut acme, mut globex) = two_tenants("spoof");
    let r = acme.post_json("/api/v1/contacts", &json!({"first_name": "Road", "last_name": "Runner"}));
    assert_eq!(r.status, 201);
    // A client claiming another tenant or identity through internal headers gets
    // its own host's data, as itself.
    for (k, v) in [("edge-tenant", "acme"), ("x-forwarded-host", "acme.localhost"), ("spin-tenant", "acme"), ("edge-actor", "user:u_x"), ("edge-role", "owner")] {
        let r = globex.raw("GET", "/api/v1/contacts", &[(k, v)], b"");
        assert_eq!(json(&r)["items"].as_array().unwrap().len(), 0, "{k}");
    }
}

#[test]
fn unknown_tenants_and_bare_hosts_get_404_problem() {
    let (h, _, _, _) = two_tenants("unknown");
    for host in ["nosuch.localhost", "localhost", "127.0.0.1", "acme.evil.com", "a.acme.localhost"] {
        for path in ["/api/v1/contacts", "/", "/contacts"] {
            let r = h.get(host, path);
            assert_eq!(r.status, 404, "{host}{path}");
            assert_eq!(r.header("content-type"), Some("application/problem+json"), "{host}{path}");
            assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/unknown-tenant");
        }
    }
    // Writes to an unknown tenant create nothing.
    let r = h.post_json("nosuch.localhost", "/api/v1/contacts", &json!({"first_name": "X"}));
    assert_eq!(r.status, 404);
}
