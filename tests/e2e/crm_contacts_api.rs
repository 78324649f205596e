//! The contacts API through router → contacts → SQLite, conventions included.

use e2e::{json, scratch, Client, HostConfig, TestHost};
use serde_json::json;

/// A host with tenant `demo` and its owner signed in.
fn crm(name: &str) -> (TestHost, Client) {
    let h = TestHost::start(HostConfig::crm(&scratch(name)));
    let c = h.signed_in_owner("demo");
    (h, c)
}

#[test]
fn create_get_and_list() {
    let (_h, mut c) = crm("contacts-crud");
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": " Ada ", "last_name": "Lovelace", "email": "ADA@Example.com"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let created = json(&r);
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("c_"));
    assert_eq!(created["first_name"], "Ada");
    assert_eq!(created["email"], "ada@example.com");
    assert_eq!(created["version"], 1);
    assert_eq!(r.header("location"), Some(format!("/api/v1/contacts/{id}").as_str()));
    assert!(r.header("x-request-id").is_some());

    let r = c.get(&format!("/api/v1/contacts/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(json(&r)["last_name"], "Lovelace");

    let list = json(&c.get("/api/v1/contacts"));
    assert_eq!(list["items"][0]["id"], id);
    assert!(list["next_cursor"].is_null());
}

#[test]
fn pagination_walks_every_row_once_newest_first() {
    let (_h, mut c) = crm("contacts-pages");
    let mut created = Vec::new();
    for i in 0..7 {
        let r = c.post_json("/api/v1/contacts", &json!({"first_name": format!("P{i}")}));
        created.push(json(&r)["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/contacts?limit=3".to_string();
    loop {
        let page = json(&c.get(&path));
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
    let (_h, mut c) = crm("contacts-search");
    for (f, e, co) in [("Grace", "grace@navy.example", "Navy"), ("Alan", "alan@bletchley.example", "Bletchley"), ("Ada", "ada@engine.example", "Analytical")] {
        assert_eq!(c.post_json("/api/v1/contacts", &json!({"first_name": f, "email": e, "company": co})).status, 201);
    }
    let mut names = |q: &str| -> Vec<String> {
        json(&c.get(&format!("/api/v1/contacts?q={q}")))["items"]
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
    let (_h, mut c) = crm("contacts-bad");
    let r = c.post_json("/api/v1/contacts", &json!({"email": "nope", "phone": "call me"}));
    assert_eq!(r.status, 422);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let p = json(&r);
    assert_eq!(p["type"], "https://edge-crm.dev/problems/validation");
    let fields: Vec<_> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert!(fields.contains(&"email".to_string()) && fields.contains(&"phone".to_string()), "{p}");

    let r = c.raw("POST", "/api/v1/contacts", &[("content-type", "application/json")], b"{not json");
    assert_eq!(r.status, 400);
    let r = c.raw("POST", "/api/v1/contacts", &[("content-type", "text/plain")], b"hi");
    assert_eq!(r.status, 415);
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": "x", "unknown_field": 1}));
    assert_eq!(r.status, 400, "unknown fields are rejected, not ignored");
    assert_eq!(c.get("/api/v1/contacts?limit=0").status, 422);
    assert_eq!(c.get("/api/v1/contacts?limit=201").status, 422);
    assert_eq!(c.get("/api/v1/contacts?cursor=garbage!").status, 422);
    assert_eq!(c.get("/api/v1/contacts/c_doesnotexist").status, 404);
    assert_eq!(c.raw("DELETE", "/api/v1/contacts", &[], b"").status, 405);
    assert_eq!(c.get("/api/v1/nosuch").status, 404);

    // Over the router's body limit: refused before any component sees it.
    let big = vec![b'a'; 1_100_000];
    let r = c.raw("POST", "/api/v1/contacts", &[("content-type", "application/json")], &big);
    assert_eq!(r.status, 413);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));

    assert_eq!(json(&c.get("/api/v1/contacts"))["items"].as_array().unwrap().len(), 0);
}

#[test]
fn the_api_requires_a_session_and_the_right_role() {
    let (h, mut owner) = crm("contacts-auth");
    let mut anon = Client::new(h.addr, "demo");
    let r = anon.get("/api/v1/contacts");
    assert_eq!(r.status, 401);
    assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/unauthenticated");
    assert_eq!(anon.post_json("/api/v1/contacts", &json!({"first_name": "X"})).status, 401);
    // A forged cookie is nobody.
    anon.cookie = Some("forged".into());
    assert_eq!(anon.get("/api/v1/contacts").status, 401);
    // CSRF: the session alone does not allow writes.
    let mut no_csrf = owner.clone();
    no_csrf.csrf = None;
    assert_eq!(no_csrf.post_json("/api/v1/contacts", &json!({"first_name": "X"})).status, 403);
    assert_eq!(no_csrf.get("/api/v1/contacts").status, 200);

    // A read-only colleague can list but not create.
    let r = owner.post_json("/api/v1/users/invitations", &json!({"email": "ro@demo.example", "role": "read-only"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let mail = json(&owner.get("/api/v1/outbox"))["items"][0]["body_text"].as_str().unwrap().to_string();
    let link = mail.split_whitespace().find(|w| w.contains("token=")).unwrap().to_string();
    let mut ro = Client::new(h.addr, "demo");
    assert_eq!(ro.accept(&link, "Rita Reader", "reader passphrase 1").status, 200);
    assert_eq!(ro.get("/api/v1/contacts").status, 200);
    let r = ro.post_json("/api/v1/contacts", &json!({"first_name": "Nope"}));
    assert_eq!(r.status, 403);
    assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/forbidden");
    // Writes record who made them.
    let r = owner.post_json("/api/v1/contacts", &json!({"first_name": "Audited"}));
    assert_eq!(r.status, 201);
}

#[test]
fn records_have_owners_and_sales_can_be_limited_to_their_own() {
    let (h, mut owner) = crm("contacts-owner");
    let r = owner.post_json("/api/v1/users/invitations", &json!({"email": "sam@demo.example", "role": "sales"}));
    assert_eq!(r.status, 201);
    let mail = json(&owner.get("/api/v1/outbox"))["items"][0]["body_text"].as_str().unwrap().to_string();
    let link = mail.split_whitespace().find(|w| w.contains("token=")).unwrap().to_string();
    let mut sam = Client::new(h.addr, "demo");
    assert_eq!(sam.accept(&link, "Sam", "sam's passphrase 1").status, 200);
    let sam_id = json(&sam.get("/api/v1/auth/me"))["user"]["id"].as_str().unwrap().to_string();

    let mine = json(&sam.post_json("/api/v1/contacts", &json!({"first_name": "Sam's lead"})));
    assert_eq!(mine["owner_id"], sam_id.as_str(), "the creator owns the record");
    let theirs = json(&owner.post_json("/api/v1/contacts", &json!({"first_name": "Owner's account"})));
    let theirs_id = theirs["id"].as_str().unwrap();

    // Default: everyone sees everything.
    assert_eq!(json(&sam.get("/api/v1/contacts"))["items"].as_array().unwrap().len(), 2);
    // Sales limited to their own records.
    assert_eq!(sam.send("PUT", "/api/v1/settings/record-visibility", Some(json!({"sales": "own"}))).status, 403, "only admins change settings");
    let r = owner.send("PUT", "/api/v1/settings/record-visibility", Some(json!({"sales": "own"})));
    assert_eq!(r.status, 200, "{}", r.text());
    let visible = json(&sam.get("/api/v1/contacts"));
    let names: Vec<_> = visible["items"].as_array().unwrap().iter().map(|c| c["first_name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["Sam's lead"]);
    assert_eq!(sam.get(&format!("/api/v1/contacts/{theirs_id}")).status, 404);
    assert_eq!(json(&owner.get("/api/v1/contacts"))["items"].as_array().unwrap().len(), 2, "owners still see all");
    assert_eq!(owner.send("PUT", "/api/v1/settings/record-visibility", Some(json!({"sales": "everyone"}))).status, 400);
    assert_eq!(owner.send("PUT", "/api/v1/settings/record-visibility", Some(json!({"sales": "all"}))).status, 200);
    assert_eq!(json(&sam.get("/api/v1/contacts"))["items"].as_array().unwrap().len(), 2);
}

fn names(c: &mut Client) -> Vec<String> {
    let mut v: Vec<String> =
        json(&c.get("/api/v1/contacts"))["items"].as_array().unwrap().iter().map(|c| c["first_name"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[test]
fn sales_can_be_limited_to_their_own_and_their_teams_records() {
    let (h, mut owner) = crm("contacts-team");
    let (mut sam, sam_id) = h.colleague(&mut owner, "sam@demo.example", "sales");
    let (mut tia, tia_id) = h.colleague(&mut owner, "tia@demo.example", "sales");
    let (mut uma, _) = h.colleague(&mut owner, "uma@demo.example", "sales");
    for (c, name) in [(&mut sam, "Sam's"), (&mut tia, "Tia's"), (&mut uma, "Uma's"), (&mut owner, "Owner's")] {
        assert_eq!(c.post_json("/api/v1/contacts", &json!({"first_name": name})).status, 201);
    }

    // Teams: only admins manage them; names are unique.
    assert_eq!(sam.post_json("/api/v1/teams", &json!({"name": "East"})).status, 403);
    let r = owner.post_json("/api/v1/teams", &json!({"name": "East"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let east = json(&r)["id"].as_str().unwrap().to_string();
    assert_eq!(owner.post_json("/api/v1/teams", &json!({"name": "east"})).status, 422, "names are unique, ignoring case");
    assert_eq!(owner.post_json("/api/v1/teams", &json!({"name": "  "})).status, 422);
    for id in [&sam_id, &tia_id] {
        let r = owner.send("PUT", &format!("/api/v1/users/{id}/team"), Some(json!({"team_id": east})));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(json(&r)["team_id"], east.as_str());
    }
    assert_eq!(owner.send("PUT", &format!("/api/v1/users/{sam_id}/team"), Some(json!({"team_id": "t_nosuch"}))).status, 422);
    let teams = json(&owner.get("/api/v1/teams"));
    assert_eq!(teams["items"][0]["members"].as_array().unwrap().len(), 2);

    let r = owner.send("PUT", "/api/v1/settings/record-visibility", Some(json!({"sales": "team"})));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(names(&mut sam), vec!["Sam's", "Tia's"], "own and the team's");
    assert_eq!(names(&mut tia), vec!["Sam's", "Tia's"]);
    assert_eq!(names(&mut uma), vec!["Uma's"], "in no team: only their own");
    assert_eq!(names(&mut owner).len(), 4, "owners see everything");

    // Membership changes reach live sessions at once.
    assert_eq!(owner.send("PUT", &format!("/api/v1/users/{tia_id}/team"), Some(json!({"team_id": null}))).status, 200);
    assert_eq!(names(&mut sam), vec!["Sam's"]);
    assert_eq!(names(&mut tia), vec!["Tia's"]);
    assert_eq!(owner.send("PUT", &format!("/api/v1/users/{tia_id}/team"), Some(json!({"team_id": east}))).status, 200);
    assert_eq!(owner.send("PATCH", &format!("/api/v1/teams/{east}"), Some(json!({"name": "East coast"}))).status, 200);
    assert_eq!(names(&mut sam), vec!["Sam's", "Tia's"]);
    assert_eq!(owner.send("DELETE", &format!("/api/v1/teams/{east}"), None).status, 204);
    assert_eq!(names(&mut sam), vec!["Sam's"], "a deleted team shares nothing");
    assert!(json(&owner.get("/api/v1/teams"))["items"].as_array().unwrap().is_empty());

    // Every team change is in the audit log.
    let audit = json(&owner.get("/api/v1/audit?entity=team"));
    let actions: Vec<_> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    for a in ["created", "renamed", "deleted"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}
