//! The contacts API through router → contacts → SQLite, conventions included.

use e2e::{create_tenant, json, scratch, HostConfig, TestHost};
use serde_json::json;

const T: &str = "demo.localhost";

fn crm(name: &str) -> TestHost {
    let dir = scratch(name);
    let cfg = HostConfig::crm(&dir);
    create_tenant(cfg.tenants.as_ref().unwrap(), "demo");
    TestHost::start(cfg)
}

#[test]
fn create_get_and_list() {
    let h = crm("contacts-crud");
    let r = h.post_json(T, "/api/v1/contacts", &json!({"first_name": " Ada ", "last_name": "Lovelace", "email": "ADA@Example.com"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let c = json(&r);
    let id = c["id"].as_str().unwrap();
    assert!(id.starts_with("c_"));
    assert_eq!(c["first_name"], "Ada");
    assert_eq!(c["email"], "ada@example.com");
    assert_eq!(c["version"], 1);
    assert_eq!(r.header("location"), Some(format!("/api/v1/contacts/{id}").as_str()));
    assert!(r.header("x-request-id").is_some());

    let r = h.get(T, &format!("/api/v1/contacts/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(json(&r)["last_name"], "Lovelace");

    let list = json(&h.get(T, "/api/v1/contacts"));
    assert_eq!(list["items"][0]["id"], id);
    assert!(list["next_cursor"].is_null());
}

#[test]
fn pagination_walks_every_row_once_newest_first() {
    let h = crm("contacts-pages");
    let mut created = Vec::new();
    for i in 0..7 {
        let r = h.post_json(T, "/api/v1/contacts", &json!({"first_name": format!("P{i}")}));
        created.push(json(&r)["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/contacts?limit=3".to_string();
    loop {
        let page = json(&h.get(T, &path));
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/contacts?limit=3&cursor={c}"),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created);
}

#[test]
fn search_filters_by_name_email_and_company() {
    let h = crm("contacts-search");
    for (f, e, c) in [("Grace", "grace@navy.example", "Navy"), ("Alan", "alan@bletchley.example", "Bletchley"), ("Ada", "ada@engine.example", "Analytical")] {
        assert_eq!(h.post_json(T, "/api/v1/contacts", &json!({"first_name": f, "email": e, "company": c})).status, 201);
    }
    let names = |q: &str| -> Vec<String> {
        json(&h.get(T, &format!("/api/v1/contacts?q={q}")))["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["first_name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("grace"), vec!["Grace"]);
    assert_eq!(names("BLETCH"), vec!["Alan"]);
    assert_eq!(names("example"), vec!["Ada", "Alan", "Grace"]);
    assert!(names("%25").is_empty(), "LIKE wildcards in input are literal");
}

#[test]
fn bad_input_gets_problem_json_and_changes_nothing() {
    let h = crm("contacts-bad");
    let r = h.post_json(T, "/api/v1/contacts", &json!({"email": "nope", "phone": "call me"}));
    assert_eq!(r.status, 422);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let p = json(&r);
    assert_eq!(p["type"], "https://edge-crm.dev/problems/validation");
    let fields: Vec<_> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert!(fields.contains(&"email".to_string()) && fields.contains(&"phone".to_string()), "{p}");

    let r = h.request("POST", T, "/api/v1/contacts", &[("content-type", "application/json")], b"{not json");
    assert_eq!(r.status, 400);
    let r = h.request("POST", T, "/api/v1/contacts", &[("content-type", "text/plain")], b"hi");
    assert_eq!(r.status, 415);
    let r = h.post_json(T, "/api/v1/contacts", &json!({"first_name": "x", "unknown_field": 1}));
    assert_eq!(r.status, 400, "unknown fields are rejected, not ignored");
    assert_eq!(h.get(T, "/api/v1/contacts?limit=0").status, 422);
    assert_eq!(h.get(T, "/api/v1/contacts?limit=201").status, 422);
    assert_eq!(h.get(T, "/api/v1/contacts?cursor=garbage!").status, 422);
    assert_eq!(h.get(T, "/api/v1/contacts/c_doesnotexist").status, 404);
    assert_eq!(h.request("DELETE", T, "/api/v1/contacts", &[], b"").status, 405);
    assert_eq!(h.get(T, "/api/v1/nosuch").status, 404);

    // Over the router's body limit: refused before any component sees it.
    let big = vec![b'a'; 1_100_000];
    let r = h.request("POST", T, "/api/v1/contacts", &[("content-type", "application/json")], &big);
    assert_eq!(r.status, 413);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));

    assert_eq!(json(&h.get(T, "/api/v1/contacts"))["items"].as_array().unwrap().len(), 0);
}
