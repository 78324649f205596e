//! Start-up validation and graceful shutdown of the real host.

use e2e::{json, repo_root, scratch, HostConfig, TestHost};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn probe_wasm() -> String {
    repo_root().join("target/wasm32-wasip2/release/probe.wasm").display().to_string()
}

fn start_err(dir: &std::path::Path, manifest: &str, runtime_config: Option<&str>) -> String {
    let m = dir.join("spin.toml");
    std::fs::write(&m, manifest).unwrap();
    let mut cfg = HostConfig::probe(dir);
    cfg.manifest = m;
    if let Some(rc) = runtime_config {
        let p = dir.join("rc.toml");
        std::fs::write(&p, rc).unwrap();
        cfg.runtime_config = Some(p);
    }
    match TestHost::try_start(cfg) {
        Ok(_) => panic!("host started with a bad configuration:\n{manifest}"),
        Err((code, log)) => {
            assert_eq!(code, Some(1), "{log}");
            log
        }
    }
}

#[test]
fn invalid_manifests_fail_with_file_field_and_problem() {
    let dir = scratch("bad-manifest");
    let ok_component = format!("[component.c]\nsource = \"{}\"\n", probe_wasm());
    let head = "spin_manifest_version = 2\n[application]\nname = \"bad\"\n";

    let log = start_err(&dir, &format!("{head}[[trigger.http]]\nroute = \"/...\"\ncomponent = \"missing\"\n{ok_component}"), None);
    assert!(log.contains("spin.toml") && log.contains("trigger.http[0]") && log.contains("missing"), "{log}");

    let log = start_err(&dir, &format!("{head}[[trigger.http]]\nroute = \"no-slash\"\ncomponent = \"c\"\n{ok_component}"), None);
    assert!(log.contains("route") && log.contains("must start with"), "{log}");

    let log = start_err(&dir, "spin_manifest_version = 1\n[application]\nname = \"x\"\n", None);
    assert!(log.contains("spin_manifest_version"), "{log}");

    let log = start_err(&dir, &format!("{head}[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"nope.wasm\"\n"), None);
    assert!(log.contains("component `c`") && log.contains("nope.wasm"), "{log}");

    let log = start_err(&dir, "this is = = not toml", None);
    assert!(log.contains("spin.toml") && log.contains("invalid manifest"), "{log}");
}

#[test]
fn a_listed_store_without_configuration_is_a_startup_error() {
    let dir = scratch("unconfigured-store");
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"s\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"{}\"\nkey_value_stores = [\"default\", \"cache\"]\n",
        probe_wasm()
    );
    let log = start_err(&dir, &manifest, None);
    assert!(log.contains("`cache`") && log.contains("not configured"), "{log}");
    // Configured in the runtime config: starts.
    let m = dir.join("spin.toml");
    let rc = dir.join("rc.toml");
    std::fs::write(&rc, "[key_value_store.cache]\ntype = \"spin\"\npath = \"cache.db\"\n").unwrap();
    let mut cfg = HostConfig::probe(&dir);
    cfg.manifest = m;
    cfg.runtime_config = Some(rc);
    let h = TestHost::start(cfg);
    assert_eq!(h.get("localhost", "/").status, 200);
    // The same for SQLite databases.
    let sql_manifest = manifest.replace("key_value_stores = [\"default\", \"cache\"]", "sqlite_databases = [\"analytics\"]");
    let log = start_err(&dir, &sql_manifest, None);
    assert!(log.contains("`analytics`") && log.contains("[sqlite_database.analytics]"), "{log}");
    // An unsupported backend type is refused, naming the table.
    let log = start_err(&dir, &manifest, Some("[key_value_store.cache]\ntype = \"redis\"\npath = \"x\"\n"));
    assert!(log.contains("[key_value_store.cache]") && log.contains("redis"), "{log}");
}

#[test]
fn a_missing_required_variable_is_a_startup_error() {
    let dir = scratch("required-var");
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"v\"\n[variables]\napi_key = {{ required = true, secret = true }}\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"{}\"\nvariables = {{ key = \"{{{{ api_key }}}}\" }}\n",
        probe_wasm()
    );
    let log = start_err(&dir, &manifest, None);
    assert!(log.contains("api_key") && log.contains("SPIN_VARIABLE_API_KEY"), "{log}");
}

/// Writes in flight when SIGTERM arrives finish; every write the client saw
/// acknowledged is in the database after a restart.
#[test]
fn graceful_shutdown_loses_no_acknowledged_write() {
    let dir = scratch("shutdown");
    let h = TestHost::start(HostConfig::probe(&dir));
    let addr = h.addr;
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for w in 0..8 {
        let acked = acked.clone();
        workers.push(std::thread::spawn(move || {
            for i in 0..200 {
                let tag = format!("w{w}-{i}");
                let path = format!("/p/sql?db=default&insert={tag}&sleep_ms=20");
                match loopback_http::request(addr, "GET", &path, &[("host", "localhost")], b"") {
                    Ok(r) if r.status == 200 && r.text().contains("count") => acked.lock().unwrap().push(tag),
                    _ => break, // refused or cut: the host is going away
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(400));
    let code = h.stop();
    assert_eq!(code, Some(0), "host exits cleanly on SIGTERM");
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty(), "some writes were acknowledged before shutdown");

    let h = TestHost::start(HostConfig::probe(&dir));
    let count = json(&h.get("localhost", "/p/sql?db=default"))["count"].as_i64().unwrap();
    assert!(count as usize >= acked.len(), "{count} rows stored, {} acknowledged", acked.len());
}
