//! Tenant provisioning and lifecycle through the operator API and the CLI, with
//! the real app serving: suspend/resume/delete, plan limits, export/restore.

use e2e::{create_tenant, host_bin, json, scratch, Client, HostConfig, TestHost, OWNER_PASSWORD};
use serde_json::json;
use std::process::Command;

const TOKEN: &str = e2e::OPERATOR_TOKEN;

fn with_operator(name: &str) -> (TestHost, std::net::SocketAddr, std::path::PathBuf) {
    let cfg = HostConfig::crm(&scratch(name));
    let tenants = cfg.tenants.clone().unwrap();
    let h = TestHost::start(cfg);
    let op = h.operator.unwrap();
    (h, op, tenants)
}

fn op(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> e2e::Response {
    let auth = format!("Bearer {TOKEN}");
    loopback_http::request(addr, method, path, &[("host", "localhost"), ("authorization", &auth), ("content-type", "application/json")], body.as_bytes()).unwrap()
}

fn cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(host_bin()).args(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn operator_api_needs_its_token_and_its_own_port() {
    let (h, op_addr, _) = with_operator("operator-auth");
    for auth in [None, Some("Bearer wrong-token-wrong-token"), Some("Basic xyz")] {
        let mut headers = vec![("host", "localhost")];
        if let Some(a) = auth {
            headers.push(("authorization", a));
        }
        let r = loopback_http::request(op_addr, "GET", "/v1/tenants", &headers, b"").unwrap();
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    assert_eq!(op(op_addr, "POST", "/v1/tenants", r#"{"name":"acme"}"#).status, 201);
    // Through a tenant host on the public port, the operator routes do not exist.
    let r = h.request("GET", "acme.localhost", "/v1/tenants", &[("authorization", &format!("Bearer {TOKEN}"))], b"");
    assert!(!r.text().contains("\"plan\""), "operator data leaked through the tenant host");
}

#[test]
fn provision_suspend_resume_and_delete() {
    let (h, op_addr, tenants) = with_operator("lifecycle");
    let r = op(op_addr, "POST", "/v1/tenants", r#"{"name":"acme","display_name":"Acme Inc","region":"eu","plan":"trial","owner_email":"owner@acme.example"}"#);
    assert_eq!(r.status, 201, "{}", r.text());
    let v = json(&r);
    assert_eq!(v["state"], "active");
    // Every component with a database ran its migrations at provisioning.
    for c in ["contacts", "identity"] {
        assert!(v["migrations"][c]["schema_version"].as_i64().unwrap_or(0) >= 1, "{c} migrated: {v}");
    }
    assert!(tenants.join("acme/sqlite/default.db").exists());
    let mut owner = Client::new(h.addr, "acme");
    assert_eq!(owner.accept(v["owner"]["invitation_url"].as_str().unwrap(), "Olive", OWNER_PASSWORD).status, 200);
    assert_eq!(op(op_addr, "POST", "/v1/tenants", r#"{"name":"acme"}"#).status, 409);
    assert_eq!(op(op_addr, "POST", "/v1/tenants", r#"{"name":"Bad Name"}"#).status, 422);
    assert_eq!(op(op_addr, "POST", "/v1/tenants", r#"{"name":"x","plan":"gold"}"#).status, 422);
    assert_eq!(owner.post_json("/api/v1/contacts", &json!({"first_name": "Wile"})).status, 201);

    assert_eq!(op(op_addr, "POST", "/v1/tenants/acme/suspend", "").status, 200);
    let r = h.get("acme.localhost", "/api/v1/contacts");
    assert_eq!(r.status, 403);
    assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/tenant-suspended");
    assert_eq!(h.get("acme.localhost", "/").status, 403);

    assert_eq!(op(op_addr, "POST", "/v1/tenants/acme/resume", "").status, 200);
    let r = owner.get("/api/v1/contacts");
    assert_eq!(json(&r)["items"].as_array().unwrap().len(), 1, "data kept across suspension (sessions too)");

    assert_eq!(op(op_addr, "DELETE", "/v1/tenants/acme", "").status, 409, "active tenants are not deleted");
    assert_eq!(op(op_addr, "POST", "/v1/tenants/acme/suspend", "").status, 200);
    assert_eq!(op(op_addr, "DELETE", "/v1/tenants/acme", "").status, 204);
    assert!(!tenants.join("acme").exists(), "every byte removed");
    assert_eq!(h.get("acme.localhost", "/api/v1/contacts").status, 404);
    assert_eq!(op(op_addr, "GET", "/v1/tenants/acme", "").status, 404);
    let list = json(&op(op_addr, "GET", "/v1/tenants", ""));
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[test]
fn cli_provisions_with_migrations_and_an_owner_invitation() {
    let (h, _, tenants) = with_operator("cli-create");
    let scratch = tenants.parent().unwrap().to_path_buf();
    let manifest = e2e::repo_root().join("spin.toml");
    let base = format!("http://acme.localhost:{}", h.addr.port());
    let cache = e2e::shared_cache();
    let state = scratch.join("cli-state");
    let args = [
        "tenant", "create", "--tenants-dir", tenants.to_str().unwrap(), "acme", "--plan", "trial",
        "--app", manifest.to_str().unwrap(), "--owner-email", "olive@acme.example", "--owner-name", "Olive",
        "--base-url", &base, "--state-dir", state.to_str().unwrap(), "--cache-dir", cache.to_str().unwrap(),
    ];
    let (ok, out) = cli(&args);
    assert!(ok, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(v["migrations"]["contacts"]["schema_version"].as_i64().unwrap_or(0) >= 1, "{v}");
    let link = v["owner"]["invitation_url"].as_str().unwrap_or_else(|| panic!("no invitation: {v}"));
    assert!(link.starts_with(&base), "{link}");
    // The running host serves the new tenant; the owner accepts and works.
    let mut owner = Client::new(h.addr, "acme");
    assert_eq!(owner.accept(link, "Olive", OWNER_PASSWORD).status, 200);
    assert_eq!(owner.post_json("/api/v1/contacts", &json!({"first_name": "Wile"})).status, 201);
    // --owner-email needs --app; a failed provisioning leaves nothing behind.
    let (ok, _) = cli(&["tenant", "create", "--tenants-dir", tenants.to_str().unwrap(), "beta", "--owner-email", "x@beta.example"]);
    assert!(!ok);
    let (ok, out) = cli(&["tenant", "create", "--tenants-dir", tenants.to_str().unwrap(), "gamma", "--app", "/nonexistent/spin.toml"]);
    assert!(!ok, "{out}");
    assert!(!tenants.join("gamma").exists(), "half-provisioned tenant left behind");
}

#[test]
fn cli_suspend_takes_effect_on_a_running_host() {
    let (h, _, tenants) = with_operator("cli-suspend");
    create_tenant(&tenants, "acme");
    assert_eq!(h.get("acme.localhost", "/").status, 200);
    let t = tenants.to_str().unwrap();
    assert!(cli(&["tenant", "suspend", "--tenants-dir", t, "acme"]).0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(h.get("acme.localhost", "/").status, 403);
    let (ok, out) = cli(&["tenant", "delete", "--tenants-dir", t, "nosuch"]);
    assert!(!ok && out.contains("no tenant"), "{out}");
}

#[test]
fn plan_rate_limit_answers_429_and_spares_other_tenants() {
    let (h, op_addr, _) = with_operator("rate-limit");
    assert_eq!(op(op_addr, "POST", "/v1/tenants", r#"{"name":"small","plan":"trial"}"#).status, 201);
    assert_eq!(op(op_addr, "POST", "/v1/tenants", r#"{"name":"big","plan":"enterprise"}"#).status, 201);
    let mut limited = None;
    for _ in 0..200 {
        let r = h.get("small.localhost", "/favicon.svg");
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, 200);
    }
    let r = limited.expect("a trial tenant is limited within 200 rapid requests");
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(h.get("big.localhost", "/favicon.svg").status, 200);
    // A plan change applies at once.
    assert_eq!(op(op_addr, "PUT", "/v1/tenants/small/plan", r#"{"plan":"enterprise"}"#).status, 200);
    assert_eq!(h.get("small.localhost", "/favicon.svg").status, 200);
}

#[test]
fn export_while_serving_and_restore_round_trip() {
    let (h, op_addr, tenants) = with_operator("export");
    let mut owner = h.signed_in_owner("acme");
    for i in 0..25 {
        assert_eq!(owner.post_json("/api/v1/contacts", &json!({"first_name": format!("C{i}"), "email": format!("c{i}@acme.example")})).status, 201);
    }
    let original = json(&owner.get("/api/v1/contacts?limit=200"));

    // Export through the operator API, with writes still arriving.
    let mut late = owner.clone();
    let writer = std::thread::spawn(move || {
        for i in 0..40 {
            let _ = late.post_json("/api/v1/contacts", &json!({"first_name": format!("Late{i}")}));
        }
    });
    let r = op(op_addr, "POST", "/v1/tenants/acme/export", "");
    assert_eq!(r.status, 201, "{}", r.text());
    let path = json(&r)["path"].as_str().unwrap().to_string();
    writer.join().unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(format!("{path}/export.json")).unwrap()).unwrap();
    let exported_rows = manifest["files"].as_array().unwrap().iter()
        .flat_map(|f| f["rows"].as_array().unwrap().clone())
        .find(|r| r[0] == "contacts").map(|r| r[1].as_i64().unwrap()).unwrap();
    assert!((25..=65).contains(&exported_rows), "{exported_rows}");

    // Restore under a new name: the copy serves exactly what was exported.
    let (ok, out) = cli(&["tenant", "restore", "--tenants-dir", tenants.to_str().unwrap(), "acme-copy", "--from", &path]);
    assert!(ok, "{out}");
    // The copy has the same users: the owner signs in there with the same password.
    let mut copy_owner = Client::new(h.addr, "acme-copy");
    assert_eq!(copy_owner.sign_in("owner@acme.example", OWNER_PASSWORD).status, 200);
    let copy = json(&copy_owner.get("/api/v1/contacts?limit=200"));
    let copy_items = copy["items"].as_array().unwrap();
    assert_eq!(copy_items.len() as i64, exported_rows);
    // Every contact from before the export is in the copy, field for field.
    for item in original["items"].as_array().unwrap() {
        assert!(copy_items.contains(item), "missing {item}");
    }
    let data: serde_json::Value = serde_json::from_slice(&std::fs::read(format!("{path}/data.json")).unwrap()).unwrap();
    assert_eq!(data["sqlite/default.db"]["contacts"].as_array().unwrap().len() as i64, exported_rows);

    // Deployment artefacts for real Spin.
    let out_dir = tenants.parent().unwrap().join("artefacts");
    let (ok, out) = cli(&["tenant", "artefacts", "--tenants-dir", tenants.to_str().unwrap(), "acme", "--out", out_dir.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(std::fs::read_to_string(out_dir.join("spinapp.yaml")).unwrap().contains("value: \"acme\""));
}

#[test]
fn the_plan_limits_records_and_a_tenant_can_get_an_exception() {
    let (h, op_addr, tenants) = with_operator("record-limit");
    let mut owner = h.signed_in_owner("acme");
    let r = op(op_addr, "PUT", "/v1/tenants/acme/limits", r#"{"max_records":3}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["limits"]["max_records"], 3);
    for i in 0..3 {
        assert_eq!(owner.post_json("/api/v1/contacts", &json!({"first_name": format!("C{i}")})).status, 201);
    }
    let r = owner.post_json("/api/v1/contacts", &json!({"first_name": "One too many"}));
    assert_eq!(r.status, 403);
    assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/plan-limit");
    assert_eq!(json(&owner.get("/api/v1/contacts"))["items"].as_array().unwrap().len(), 3, "nothing half-written");
    assert_eq!(op(op_addr, "PUT", "/v1/tenants/acme/limits", r#"{"max_records":10}"#).status, 200);
    assert_eq!(owner.post_json("/api/v1/contacts", &json!({"first_name": "Now fine"})).status, 201);
    assert_eq!(op(op_addr, "PUT", "/v1/tenants/acme/limits", r#"{"max_seats":1}"#).status, 400, "unknown limits are refused");
    // The CLI twin, on a running host (records are cached for a second).
    let (ok, out) = cli(&["tenant", "limits", "--tenants-dir", tenants.to_str().unwrap(), "acme", "--max-records", "4"]);
    assert!(ok && out.contains("\"max_records\": 4"), "{out}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(owner.post_json("/api/v1/contacts", &json!({"first_name": "Over"})).status, 403);
}
