//! The OpenAPI document (`/openapi.json`, served by the web component) against
//! the running app: every documented operation exists with its method (a
//! request to it never gets "no such route" or 405), and documents the
//! problem+json errors every route answers.

use e2e::{json, scratch, HostConfig, TestHost};

/// A well-formed id of the right kind for each path parameter.
fn fake_id(path: &str) -> &'static str {
    let kinds = [
        ("/contacts/merges/", "mg_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/contacts/", "c_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/companies/", "co_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/activities/", "a_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/custom-fields/", "f_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/imports/", "im_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/views/", "v_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/users/", "u_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/teams/", "t_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/api-keys/", "k_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/pipelines/", "pl_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/deals/", "d_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/orders/", "o_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/tickets/", "tk_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/kb/", "kb_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/macros/", "mc_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/segments/", "sg_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/templates/", "tp_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/campaigns/", "cp_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/sequences/", "sq_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/forms/", "fm_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/automations/rules/", "ru_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/automations/handovers/", "ho_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/consents/", "c_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        ("/engagement/", "c_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
    ];
    kinds.iter().find(|(k, _)| path.contains(k)).map(|(_, v)| *v).unwrap_or("x")
}

#[test]
fn openapi_describes_every_route() {
    let h = TestHost::start(HostConfig::crm(&scratch("openapi")));
    let mut c = h.signed_in_owner("demo");
    let r = c.get("/openapi.json");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap_or("").contains("json"), "{:?}", r.header("content-type"));
    let doc = json(&r);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            operations += 1;
            assert!(op["responses"]["default"]["content"]["application/problem+json"].is_object(), "{method} {path}: problems documented");
            if path.starts_with("/api/v1/auth/sign-out") {
                continue; // would end this test's session; covered by the identity tests
            }
            let concrete = path.replace("{id}", fake_id(path)).replace("{n}", "0");
            let m = method.to_uppercase();
            let body = if matches!(m.as_str(), "POST" | "PUT" | "PATCH") { b"{}".to_vec() } else { Vec::new() };
            let r = c.raw(&m, &concrete, &[("content-type", "application/json")], &body);
            assert_ne!(r.status, 405, "{m} {path}: documented method not allowed");
            if r.status == 404 {
                let detail = json(&r)["detail"].as_str().unwrap_or("").to_string();
                assert!(!route_missing(&detail), "{m} {path}: route missing ({detail})");
            }
            if r.status >= 400 {
                assert_eq!(r.header("content-type"), Some("application/problem+json"), "{m} {path} → {}", r.status);
            }
            assert!(r.status < 500, "{m} {path} → {}: {}", r.status, r.text());
        }
    }
    assert!(operations >= 70, "{operations} operations documented");
    // And an undocumented route really is missing, so the check above can fail.
    let r = c.get("/api/v1/contacts/c_01HZZZZZZZZZZZZZZZZZZZZZZZ/nonsense");
    assert_eq!(r.status, 404);
    assert!(route_missing(json(&r)["detail"].as_str().unwrap_or("")));
}

/// The components' words for a path they do not serve (as opposed to a record that does not exist).
fn route_missing(detail: &str) -> bool {
    detail == "No such resource" || (detail.starts_with("No such") && detail.ends_with(" route")) || detail.starts_with("No API area") || detail.starts_with("Unknown API")
}
