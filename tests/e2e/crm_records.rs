//! Contacts, companies, activities, custom fields, filters and search through
//! router → contacts → SQLite: every field kind and filter operator, lost
//! updates, the trash, idempotent creates, timelines and tenant isolation.

use e2e::{json, scratch, Client, HostConfig, TestHost};
use serde_json::{json, Value};

fn crm(name: &str) -> (TestHost, Client) {
    let h = TestHost::start(HostConfig::crm(&scratch(name)));
    let c = h.signed_in_owner("demo");
    (h, c)
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

fn filtered(c: &mut Client, filter: Value) -> Vec<String> {
    let r = c.get(&format!("/api/v1/contacts?limit=200&filter={}", enc(&filter.to_string())));
    assert_eq!(r.status, 200, "{filter}: {}", r.text());
    let mut v: Vec<String> = json(&r)["items"].as_array().unwrap().iter().map(|i| i["first_name"].as_str().unwrap_or("").to_string()).collect();
    v.sort();
    v
}

#[test]
fn every_custom_field_kind_is_validated_and_filterable() {
    let (_h, mut c) = crm("records-fields");
    let defs = [
        json!({"entity": "contact", "key": "nickname", "label": "Nickname", "kind": "text"}),
        json!({"entity": "contact", "key": "bio", "label": "Bio", "kind": "long-text"}),
        json!({"entity": "contact", "key": "score", "label": "Score", "kind": "number"}),
        json!({"entity": "contact", "key": "budget", "label": "Budget", "kind": "money", "currency": "EUR"}),
        json!({"entity": "contact", "key": "renewal", "label": "Renewal", "kind": "date"}),
        json!({"entity": "contact", "key": "tier", "label": "Tier", "kind": "select", "options": ["gold", "silver"]}),
        json!({"entity": "contact", "key": "regions", "label": "Regions", "kind": "multi-select", "options": ["eu", "us", "apac"]}),
        json!({"entity": "contact", "key": "vip", "label": "VIP", "kind": "checkbox"}),
        json!({"entity": "contact", "key": "site", "label": "Site", "kind": "url"}),
        json!({"entity": "contact", "key": "alt_email", "label": "Other email", "kind": "email"}),
        json!({"entity": "contact", "key": "fax", "label": "Fax", "kind": "phone"}),
    ];
    for d in &defs {
        let r = c.post_json("/api/v1/custom-fields", d);
        assert_eq!(r.status, 201, "{d}: {}", r.text());
    }
    assert_eq!(c.post_json("/api/v1/custom-fields", &defs[0]).status, 422, "keys are unique");
    assert_eq!(c.post_json("/api/v1/custom-fields", &json!({"entity": "contact", "key": "email", "label": "X", "kind": "text"})).status, 422, "standard names are reserved");
    assert_eq!(json(&c.get("/api/v1/custom-fields?entity=contact"))["items"].as_array().unwrap().len(), defs.len());

    let good = json!({"nickname": "Countess", "bio": "Line one\nLine two", "score": 9.5, "budget": 120000, "renewal": "2027-03-01",
        "tier": "gold", "regions": ["eu", "us"], "vip": true, "site": "https://ada.example/about", "alt_email": "ADA@Other.example", "fax": "+44 20 7946 0000"});
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": "Ada", "custom": good}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(json(&r)["custom"]["alt_email"], "ada@other.example", "values are normalised");
    c.post_json("/api/v1/contacts", &json!({"first_name": "Grace", "custom": {"score": 3, "tier": "silver", "regions": ["apac"], "vip": false, "renewal": "2026-12-31"}}));
    c.post_json("/api/v1/contacts", &json!({"first_name": "Linus"}));

    // Each kind refuses a bad value with a per-field error, and nothing is written.
    let bad = [("nickname", json!(5)), ("score", json!("high")), ("budget", json!(12.5)), ("renewal", json!("2027-02-30")), ("tier", json!("bronze")),
        ("regions", json!(["mars"])), ("vip", json!("yes")), ("site", json!("javascript:alert(1)")), ("alt_email", json!("nope")), ("fax", json!("call me")),
        ("unknown_key", json!("x"))];
    for (k, v) in bad {
        let r = c.post_json("/api/v1/contacts", &json!({"first_name": "Bad", "custom": {k: v}}));
        assert_eq!(r.status, 422, "{k}: {}", r.text());
        assert_eq!(json(&r)["errors"][0]["field"], format!("custom.{k}"));
    }
    assert_eq!(json(&c.get("/api/v1/contacts/count"))["count"], 3, "no bad row written");

    // Filters on every kind.
    let f = |field: &str, op: &str, value: Value| json!({"field": field, "op": op, "value": value});
    assert_eq!(filtered(&mut c, f("custom.nickname", "contains", json!("count"))), vec!["Ada"]);
    assert_eq!(filtered(&mut c, f("custom.score", "gte", json!(5))), vec!["Ada"]);
    assert_eq!(filtered(&mut c, f("custom.score", "lt", json!(5))), vec!["Grace"]);
    assert_eq!(filtered(&mut c, f("custom.budget", "eq", json!(120000))), vec!["Ada"]);
    assert_eq!(filtered(&mut c, f("custom.renewal", "lt", json!("2027-01-01"))), vec!["Grace"]);
    assert_eq!(filtered(&mut c, f("custom.tier", "in", json!(["gold", "silver"]))), vec!["Ada", "Grace"]);
    assert_eq!(filtered(&mut c, f("custom.regions", "has", json!("apac"))), vec!["Grace"]);
    assert_eq!(filtered(&mut c, f("custom.vip", "eq", json!(false))), vec!["Grace", "Linus"], "an unset checkbox is false");
    assert_eq!(filtered(&mut c, f("custom.site", "empty", Value::Null)), vec!["Grace", "Linus"]);
    assert_eq!(filtered(&mut c, json!({"or": [f("custom.tier", "eq", json!("gold")), f("first_name", "eq", json!("linus"))]})), vec!["Ada", "Linus"]);
    // Sorting by a custom field, pages included.
    let r = json(&c.get("/api/v1/contacts?sort=-custom.score&limit=1"));
    assert_eq!(r["items"][0]["first_name"], "Ada");
    let r2 = json(&c.get(&format!("/api/v1/contacts?sort=-custom.score&limit=1&cursor={}", r["next_cursor"].as_str().unwrap())));
    assert_eq!(r2["items"][0]["first_name"], "Grace");
    // Bad filters and sorts are 422 problems that say why.
    for (q, want) in [("filter=%7Bbad", "filter"), ("sort=password", "sort"), (&format!("filter={}", enc(&f("custom.score", "contains", json!("x")).to_string())), "filter")] {
        let r = c.get(&format!("/api/v1/contacts?{q}"));
        assert_eq!(r.status, 422, "{q}");
        assert_eq!(json(&r)["errors"][0]["field"], want);
    }

    // Definitions: edits keep kind and key; archiving keeps values.
    let tier = json(&c.get("/api/v1/custom-fields?entity=contact"))["items"].as_array().unwrap().iter().find(|d| d["key"] == "tier").unwrap().clone();
    let id = tier["id"].as_str().unwrap();
    assert_eq!(c.send("PATCH", &format!("/api/v1/custom-fields/{id}"), Some(json!({"kind": "text"}))).status, 422);
    assert_eq!(c.send("PATCH", &format!("/api/v1/custom-fields/{id}"), Some(json!({"options": ["gold", "silver", "bronze"]}))).status, 200);
    assert_eq!(c.post_json("/api/v1/contacts", &json!({"first_name": "Tim", "custom": {"tier": "bronze"}})).status, 201);
    assert_eq!(c.send("DELETE", &format!("/api/v1/custom-fields/{id}"), None).status, 204);
    assert_eq!(filtered(&mut c, f("first_name", "not_empty", Value::Null)).len(), 4);
    let r = c.get(&format!("/api/v1/contacts?filter={}", enc(&f("custom.tier", "eq", json!("gold")).to_string())));
    assert_eq!(r.status, 422, "an archived field is no longer filterable");
}

#[test]
fn standard_filters_sorts_and_counts() {
    let (_h, mut c) = crm("records-filters");
    let people = [
        ("Ada", "Lovelace", "customer", vec!["vip"], "GB"),
        ("Grace", "Hopper", "lead", vec!["vip", "navy"], "US"),
        ("Alan", "Turing", "lead", vec![], "GB"),
        ("Edsger", "Dijkstra", "churned", vec!["navy"], "NL"),
    ];
    for (first, last, stage, tags, country) in &people {
        let r = c.post_json("/api/v1/contacts", &json!({"first_name": first, "last_name": last, "lifecycle_stage": stage, "tags": tags,
            "address": {"country": country}, "email": format!("{}@example.com", first.to_lowercase()), "consent": {"email": if *stage == "lead" { "granted" } else { "denied" }}}));
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let f = |field: &str, op: &str, value: Value| json!({"field": field, "op": op, "value": value});
    assert_eq!(filtered(&mut c, f("lifecycle_stage", "eq", json!("lead"))), vec!["Alan", "Grace"]);
    assert_eq!(filtered(&mut c, f("lifecycle_stage", "not_in", json!(["lead", "customer"]))), vec!["Edsger"]);
    assert_eq!(filtered(&mut c, f("tags", "has", json!("VIP"))), vec!["Ada", "Grace"], "tags ignore case");
    assert_eq!(filtered(&mut c, f("tags", "has_not", json!("vip"))), vec!["Alan", "Edsger"]);
    assert_eq!(filtered(&mut c, f("tags", "empty", Value::Null)), vec!["Alan"]);
    assert_eq!(filtered(&mut c, f("last_name", "starts_with", json!("Ho"))), vec!["Grace"]);
    assert_eq!(filtered(&mut c, f("email", "contains", json!("@example.com"))).len(), 4);
    assert_eq!(filtered(&mut c, f("address.country", "eq", json!("gb"))), vec!["Ada", "Alan"]);
    assert_eq!(filtered(&mut c, f("consent.email", "eq", json!("granted"))), vec!["Alan", "Grace"]);
    let today = chrono_today();
    assert_eq!(filtered(&mut c, f("created_at", "on", json!(today))).len(), 4);
    assert_eq!(filtered(&mut c, f("created_at", "lt", json!(today))).len(), 0);
    assert_eq!(filtered(&mut c, json!({"and": [f("lifecycle_stage", "eq", json!("lead")), {"or": [f("tags", "has", json!("navy")), f("address.country", "eq", json!("NL"))]}]})), vec!["Grace"]);
    let names = |v: Value| v["items"].as_array().unwrap().iter().map(|i| i["last_name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(json(&c.get("/api/v1/contacts?sort=last_name"))), vec!["Dijkstra", "Hopper", "Lovelace", "Turing"]);
    assert_eq!(names(json(&c.get("/api/v1/contacts?sort=-last_name"))), vec!["Turing", "Lovelace", "Hopper", "Dijkstra"]);
    let r = json(&c.get(&format!("/api/v1/contacts/count?filter={}", enc(&f("tags", "has", json!("navy")).to_string()))));
    assert_eq!(r, json!({"count": 2, "more": false}));
    // Full-text search: prefixes of any word, names, emails, tags.
    assert_eq!(json(&c.get("/api/v1/contacts?q=lov"))["items"].as_array().unwrap().len(), 1);
    assert_eq!(json(&c.get("/api/v1/contacts?q=gra+hop"))["items"].as_array().unwrap().len(), 1);
    assert_eq!(json(&c.get("/api/v1/contacts?q=example.com"))["items"].as_array().unwrap().len(), 4);
    assert_eq!(json(&c.get("/api/v1/contacts?q=%22+OR+*"))["items"].as_array().unwrap().len(), 0, "search syntax in user text is just text");
}

fn chrono_today() -> String {
    // Today in UTC as YYYY-MM-DD, without a date crate: from the server's own clock.
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = secs.div_euclid(86_400);
    // Civil-from-days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn companies_contacts_lost_updates_and_the_trash() {
    let (_h, mut c) = crm("records-companies");
    let r = c.post_json("/api/v1/companies", &json!({"name": "Acme", "domain": "https://www.acme.com/", "size": "51-200", "industry": "Anvils"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let acme = json(&r);
    assert_eq!(acme["domain"], "acme.com");
    let acme_id = acme["id"].as_str().unwrap().to_string();
    assert!(acme_id.starts_with("co_"));
    for bad in [json!({"name": ""}), json!({"name": "X", "size": "huge"}), json!({"name": "X", "domain": "not a domain"}), json!({"name": "X", "parent_id": "co_01HZZZZZZZZZZZZZZZZZZZZZZZ"})] {
        assert_eq!(c.post_json("/api/v1/companies", &bad).status, 422, "{bad}");
    }
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": "Wile", "last_name": "Coyote", "company_id": acme_id, "emails": [{"address": "wile@acme.com"}, {"address": "w@home.example", "label": "home"}]}));
    assert_eq!(r.status, 201, "{}", r.text());
    let wile = json(&r);
    let wile_id = wile["id"].as_str().unwrap().to_string();
    assert_eq!(wile["company"], "Acme");
    assert_eq!(wile["email"], "wile@acme.com", "the first email is primary");
    assert_eq!(json(&c.get(&format!("/api/v1/companies/{acme_id}/contacts")))["items"][0]["id"], wile_id.as_str());

    // Lost updates: If-Match with a stale version is refused.
    let r = c.raw("PATCH", &format!("/api/v1/contacts/{wile_id}"), &[("content-type", "application/json"), ("if-match", "\"1\"")], br#"{"title":"Genius"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("etag"), Some("\"2\""));
    let r = c.raw("PATCH", &format!("/api/v1/contacts/{wile_id}"), &[("content-type", "application/json"), ("if-match", "\"1\"")], br#"{"title":"Super genius"}"#);
    assert_eq!(r.status, 412);
    assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/precondition-failed");
    // A merge patch: null clears, other fields stay.
    let r = json(&c.send("PATCH", &format!("/api/v1/contacts/{wile_id}"), Some(json!({"title": null, "lifecycle_stage": "customer"}))));
    assert_eq!((r["title"].clone(), r["lifecycle_stage"].clone(), r["last_name"].clone()), (Value::Null, json!("customer"), json!("Coyote")));
    assert_eq!(c.send("PATCH", &format!("/api/v1/contacts/{wile_id}"), Some(json!({"emails": [{"address": "broken"}]}))).status, 422);
    // Renaming the company renames it on its contacts.
    assert_eq!(c.send("PATCH", &format!("/api/v1/companies/{acme_id}"), Some(json!({"name": "Acme Corp"}))).status, 200);
    assert_eq!(json(&c.get(&format!("/api/v1/contacts/{wile_id}")))["company"], "Acme Corp");

    // Trash: gone from lists and search, restorable, then purged for good.
    assert_eq!(c.send("DELETE", &format!("/api/v1/contacts/{wile_id}"), None).status, 204);
    assert_eq!(c.get(&format!("/api/v1/contacts/{wile_id}")).status, 404);
    assert!(ids(&json(&c.get("/api/v1/contacts?q=coyote"))).is_empty());
    assert_eq!(ids(&json(&c.get("/api/v1/contacts?view=trash"))), vec![wile_id.clone()]);
    assert_eq!(c.post_json(&format!("/api/v1/contacts/{wile_id}/restore"), &json!({})).status, 200);
    assert_eq!(ids(&json(&c.get("/api/v1/contacts?q=coyote"))), vec![wile_id.clone()]);
    assert_eq!(c.send("DELETE", &format!("/api/v1/contacts/{wile_id}?purge=true"), None).status, 204);
    assert_eq!(c.get(&format!("/api/v1/contacts/{wile_id}?view=trash")).status, 404);
    assert_eq!(c.post_json(&format!("/api/v1/contacts/{wile_id}/restore"), &json!({})).status, 404);
    // The audit log keeps that it happened, not who it was.
    let audit = json(&c.get(&format!("/api/v1/audit?entity=contact&entity_id={wile_id}")));
    let items = audit["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["action"] == "purged"));
    assert!(items.iter().all(|e| e["before"].is_null() && e["after"].is_null()), "{audit}");
}

#[test]
fn activities_timeline_search_and_idempotent_creates() {
    let (_h, mut c) = crm("records-activities");
    let co = json(&c.post_json("/api/v1/companies", &json!({"name": "Babbage Engines", "domain": "babbage.example"})));
    let ada = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Ada", "last_name": "Lovelace", "company_id": co["id"]})));
    let ada_id = ada["id"].as_str().unwrap();
    let r = c.post_json("/api/v1/activities", &json!({"kind": "note", "body": "Wrote the first algorithm for the analytical engine", "contact_id": ada_id}));
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c.post_json("/api/v1/activities", &json!({"kind": "task", "subject": "Send the notes", "contact_id": ada_id, "due_at": "2030-01-01T09:00:00+01:00"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let task = json(&r);
    assert_eq!(task["due_at"], "2030-01-01T08:00:00.000Z");
    assert_eq!(c.post_json("/api/v1/activities", &json!({"kind": "note", "contact_id": ada_id})).status, 422, "a note needs text");
    assert_eq!(c.post_json("/api/v1/activities", &json!({"kind": "call", "contact_id": "c_01HZZZZZZZZZZZZZZZZZZZZZZZ"})).status, 422, "links must exist");
    let open = json(&c.get("/api/v1/activities?open_tasks_of=me"));
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let tid = task["id"].as_str().unwrap();
    assert_eq!(c.send("PATCH", &format!("/api/v1/activities/{tid}"), Some(json!({"done": true}))).status, 200);
    assert!(json(&c.get("/api/v1/activities?open_tasks_of=me"))["items"].as_array().unwrap().is_empty());
    assert!(!json(&c.get(&format!("/api/v1/contacts/{ada_id}")))["last_activity_at"].is_null(), "work moves last activity");

    let tl = json(&c.get(&format!("/api/v1/contacts/{ada_id}/timeline")));
    let kinds: Vec<_> = tl["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "activity").count(), 2, "{tl}");
    assert!(kinds.iter().any(|k| k == "change"), "{tl}");
    // Page by page, every entry once.
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let page = json(&c.get(&format!("/api/v1/contacts/{ada_id}/timeline?limit=1&cursor={cursor}")));
        seen += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(n) => cursor = n.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, tl["items"].as_array().unwrap().len());
    assert_eq!(c.get(&format!("/api/v1/contacts/{ada_id}/timeline?cursor=garbage")).status, 422);

    // Global search, grouped by type.
    let s = json(&c.get("/api/v1/search?q=ana"));
    assert_eq!(s["notes"].as_array().unwrap().len(), 1, "{s}");
    let s = json(&c.get("/api/v1/search?q=babb"));
    assert_eq!(s["companies"][0]["name"], "Babbage Engines", "{s}");
    let s = json(&c.get("/api/v1/search?q=ada+lov"));
    assert_eq!(s["contacts"][0]["id"], ada_id, "{s}");
    assert_eq!(json(&c.get("/api/v1/search?q="))["contacts"].as_array().unwrap().len(), 0);

    // Idempotency-Key: the retry gets the first answer; nothing is created twice.
    let body = br#"{"first_name":"Once"}"#;
    let h = [("content-type", "application/json"), ("idempotency-key", "retry-42")];
    let first = c.raw("POST", "/api/v1/contacts", &h, body);
    assert_eq!(first.status, 201);
    let again = c.raw("POST", "/api/v1/contacts", &h, body);
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replay"), Some("true"));
    assert_eq!(json(&first)["id"], json(&again)["id"]);
    assert_eq!(json(&c.get("/api/v1/contacts?q=once"))["items"].as_array().unwrap().len(), 1);
}

#[test]
fn other_tenants_records_are_out_of_reach_on_every_route() {
    let h = TestHost::start(HostConfig::crm(&scratch("records-isolation")));
    let mut a = h.signed_in_owner("alpha");
    let mut b = h.signed_in_owner("beta");
    let co = json(&a.post_json("/api/v1/companies", &json!({"name": "Alpha Secret Co"})));
    let co_id = co["id"].as_str().unwrap().to_string();
    let ct = json(&a.post_json("/api/v1/contacts", &json!({"first_name": "Alphonse", "company_id": co_id})));
    let ct_id = ct["id"].as_str().unwrap().to_string();
    let act = json(&a.post_json("/api/v1/activities", &json!({"kind": "note", "body": "alpha secret plans", "contact_id": ct_id})));
    let act_id = act["id"].as_str().unwrap().to_string();
    a.post_json("/api/v1/custom-fields", &json!({"entity": "contact", "key": "secret", "label": "Secret", "kind": "text"}));

    for path in [
        format!("/api/v1/contacts/{ct_id}"),
        format!("/api/v1/contacts/{ct_id}/timeline"),
        format!("/api/v1/companies/{co_id}"),
        format!("/api/v1/companies/{co_id}/contacts"),
        format!("/api/v1/activities/{act_id}"),
    ] {
        let r = b.get(&path);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert!(!r.text().contains("Alph"), "{path} disclosed data");
    }
    for (m, path, body) in [
        ("PATCH", format!("/api/v1/contacts/{ct_id}"), Some(json!({"first_name": "Hacked"}))),
        ("DELETE", format!("/api/v1/companies/{co_id}"), None),
        ("POST", format!("/api/v1/contacts/{ct_id}/restore"), Some(json!({}))),
        ("PATCH", format!("/api/v1/activities/{act_id}"), Some(json!({"body": "x"}))),
    ] {
        assert_eq!(b.send(m, &path, body).status, 404, "{m} {path}");
    }
    assert_eq!(b.post_json("/api/v1/contacts", &json!({"first_name": "X", "company_id": co_id})).status, 422, "another tenant's company cannot be linked");
    let s = json(&b.get("/api/v1/search?q=alph"));
    assert!(s["contacts"].as_array().unwrap().is_empty() && s["companies"].as_array().unwrap().is_empty() && s["notes"].as_array().unwrap().is_empty());
    assert!(json(&b.get("/api/v1/custom-fields"))["items"].as_array().unwrap().is_empty());
    assert!(json(&b.get("/api/v1/tags"))["items"].as_array().unwrap().is_empty());
    assert_eq!(json(&a.get(&format!("/api/v1/contacts/{ct_id}")))["first_name"], "Alphonse", "untouched");
}

#[test]
fn duplicates_are_found_merged_with_every_reference_and_the_merge_undone() {
    let (_h, mut c) = crm("records-merge");
    let co = json(&c.post_json("/api/v1/companies", &json!({"name": "Analytical Engines"})));
    let a = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "company_id": co["id"], "tags": ["vip"]})));
    let b = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "ada", "last_name": "lovelace", "company_id": co["id"], "phone": "+44 20 7946 0958", "title": "Countess", "custom": {}})));
    let x = json(&c.post_json("/api/v1/contacts", &json!({"first_name": "Augusta", "email": "ADA@example.com", "tags": ["math"]})));
    let (a_id, b_id, x_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap(), x["id"].as_str().unwrap());
    for (id, kind) in [(b_id, "task"), (x_id, "note")] {
        let body = if kind == "task" { json!({"kind": "task", "subject": "Call", "contact_id": id}) } else { json!({"kind": "note", "body": "Met at the fair", "contact_id": id}) };
        assert_eq!(c.post_json("/api/v1/activities", &body).status, 201);
    }
    let d = json(&c.get(&format!("/api/v1/contacts/{a_id}/duplicates")));
    let mut found: Vec<(String, String)> = d["items"].as_array().unwrap().iter().map(|i| (i["reason"].as_str().unwrap().to_string(), i["contact"]["id"].as_str().unwrap().to_string())).collect();
    found.sort();
    let mut want = vec![("email".to_string(), x_id.to_string()), ("name".to_string(), b_id.to_string())];
    want.sort();
    assert_eq!(found, want, "same email; similar name at the same company");
    let groups = json(&c.get("/api/v1/contacts/duplicates?reason=email"));
    assert_eq!(groups["items"][0]["contacts"].as_array().unwrap().len(), 2);

    let r = c.post_json("/api/v1/contacts/merge", &json!({"primary_id": a_id, "merged_ids": [b_id, x_id], "fields": {"first_name": x_id}}));
    assert_eq!(r.status, 200, "{}", r.text());
    let m = json(&r);
    let kept = &m["contact"];
    assert_eq!(kept["first_name"], "Augusta");
    assert_eq!(kept["title"], "Countess");
    assert_eq!(kept["phone"], "+44 20 7946 0958");
    assert_eq!(kept["tags"], json!(["vip", "math"]));
    let gone = c.get(&format!("/api/v1/contacts/{b_id}"));
    assert_eq!(gone.status, 404);
    assert_eq!(json(&gone)["type"], "https://edge-crm.dev/problems/merged");
    assert!(json(&gone)["detail"].as_str().unwrap().contains(a_id), "a merged contact says what it became");
    let acts = json(&c.get(&format!("/api/v1/activities?contact_id={a_id}")));
    assert_eq!(acts["items"].as_array().unwrap().len(), 2, "every activity moved");
    assert_eq!(json(&c.get("/api/v1/contacts/count"))["count"], 1);
    assert!(json(&c.get("/api/v1/contacts?view=trash"))["items"].as_array().unwrap().is_empty(), "merged contacts are not in the trash");
    let audit = json(&c.get(&format!("/api/v1/audit?entity=contact&entity_id={a_id}")));
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "merged"), "merges are audited");
    assert_eq!(c.post_json("/api/v1/contacts/merge", &json!({"primary_id": a_id, "merged_ids": [a_id]})).status, 422);

    let merge_id = m["merge"]["id"].as_str().unwrap();
    let r = c.post_json(&format!("/api/v1/contacts/merges/{merge_id}/undo"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["first_name"], "Ada");
    assert_eq!(json(&c.get("/api/v1/contacts/count"))["count"], 3);
    assert_eq!(json(&c.get(&format!("/api/v1/activities?contact_id={x_id}")))["items"].as_array().unwrap().len(), 1, "activities went back");
    assert_eq!(c.post_json(&format!("/api/v1/contacts/merges/{merge_id}/undo"), &json!({})).status, 409);
}

#[test]
fn saved_views_and_the_contact_summary() {
    let (h, mut owner) = crm("records-views");
    let f = enc(&json!({"field": "lifecycle_stage", "op": "eq", "value": "lead"}).to_string());
    let r = owner.post_json("/api/v1/views", &json!({"name": "Open leads", "query": format!("filter={f}&sort=-updated_at"), "columns": ["email", "company"], "shared": true}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(owner.post_json("/api/v1/views", &json!({"name": "Bad", "query": "sort=nonsense"})).status, 422);
    let mine = json(&owner.post_json("/api/v1/views", &json!({"name": "Mine", "query": "q=ada"})));
    // A sales colleague sees the shared view, not the owner's own, and cannot share.
    assert_eq!(owner.post_json("/api/v1/users/invitations", &json!({"email": "sam@demo.example", "role": "sales"})).status, 201);
    let mail = json(&owner.get("/api/v1/outbox"))["items"][0]["body_text"].as_str().unwrap().to_string();
    let link = mail.split_whitespace().find(|w| w.contains("token=")).unwrap().to_string();
    let mut sam = Client::new(h.addr, "demo");
    assert_eq!(sam.accept(&link, "Sam", "sam's passphrase 1").status, 200);
    let names: Vec<String> = json(&sam.get("/api/v1/views"))["items"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["Open leads"]);
    assert_eq!(sam.get(&format!("/api/v1/views/{}", mine["id"].as_str().unwrap())).status, 404);
    assert_eq!(sam.post_json("/api/v1/views", &json!({"name": "Team", "query": "", "shared": true})).status, 403);
    assert_eq!(sam.post_json("/api/v1/views", &json!({"name": "Sam's", "query": "sort=last_name"})).status, 201);

    let c = json(&owner.post_json("/api/v1/contacts", &json!({"first_name": "Ada", "email": "ada@example.com"})));
    let id = c["id"].as_str().unwrap();
    owner.post_json("/api/v1/contacts", &json!({"first_name": "Ada", "email": "ada@example.com"}));
    owner.post_json("/api/v1/activities", &json!({"kind": "task", "subject": "Later", "contact_id": id, "due_at": "2031-01-01T00:00:00Z"}));
    owner.post_json("/api/v1/activities", &json!({"kind": "task", "subject": "Sooner", "contact_id": id, "due_at": "2030-01-01T00:00:00Z"}));
    owner.post_json("/api/v1/activities", &json!({"kind": "call", "subject": "Intro", "contact_id": id}));
    let s = json(&owner.get(&format!("/api/v1/contacts/{id}/summary")));
    assert_eq!(s["next_task"]["subject"], "Sooner");
    assert_eq!((s["open_tasks"].clone(), s["possible_duplicates"].clone()), (json!(2), json!(1)));
    assert!(s["last_contacted_at"].is_string());
}
