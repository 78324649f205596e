//! Tenants never see each other's data, whatever the request says.

use e2e::{create_tenant, json, scratch, HostConfig, TestHost};
use serde_json::json;

fn two_tenants(name: &str) -> (TestHost, std::path::PathBuf) {
    let dir = scratch(name);
    let cfg = HostConfig::crm(&dir);
    let tenants = cfg.tenants.clone().unwrap();
    create_tenant(&tenants, "acme");
    create_tenant(&tenants, "globex");
    (TestHost::start(cfg), tenants)
}

#[test]
fn two_tenants_never_see_each_others_rows() {
    let (h, tenants) = two_tenants("tenancy");
    let r = h.post_json("acme.localhost", "/api/v1/contacts", &json!({"first_name": "Wile", "email": "wile@acme.example"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = json(&r)["id"].as_str().unwrap().to_string();

    let acme = json(&h.get("acme.localhost", "/api/v1/contacts"));
    assert_eq!(acme["items"].as_array().unwrap().len(), 1);
    let globex = json(&h.get("globex.localhost", "/api/v1/contacts"));
    assert_eq!(globex["items"].as_array().unwrap().len(), 0);
    // Another tenant's id is simply not found there.
    assert_eq!(h.get("globex.localhost", &format!("/api/v1/contacts/{id}")).status, 404);
    assert_eq!(h.get("acme.localhost", &format!("/api/v1/contacts/{id}")).status, 200);

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
    let (h, _) = two_tenants("spoof");
    let r = h.post_json("acme.localhost", "/api/v1/contacts", &json!({"first_name": "Road", "last_name": "Runner"}));
    assert_eq!(r.status, 201);
    // A client claiming another tenant through the internal headers gets its own host's data.
    for (k, v) in [("edge-tenant", "acme"), ("x-forwarded-host", "acme.localhost"), ("spin-tenant", "acme")] {
        let r = h.request("GET", "globex.localhost", "/api/v1/contacts", &[(k, v)], b"");
        assert_eq!(json(&r)["items"].as_array().unwrap().len(), 0, "{k}");
    }
}

#[test]
fn unknown_tenants_and_bare_hosts_get_404_problem() {
    let (h, _) = two_tenants("unknown");
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
