//! Regions through real host processes on loopback, each with its own data
//! root: a tenant made in `eu` (through `us`'s operator API) is served
//! through `us` with its data only on `eu`'s disk; static files come from
//! whichever region is reached; with `eu` down its tenants get 503 with
//! Retry-After and `us`'s own tenants are unaffected; and a region whose
//! directory is stale forwards to the wrong region, which says so (421), and
//! the request reaches the real home without a write anywhere else.

use e2e::{free_addr, json, scratch, Client, HostConfig, TestHost};
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

struct Region {
    cfg: HostConfig,
    tenants: PathBuf,
}

/// Configurations for `names`, one data root each, sharing one regions file.
fn regions(dir: &Path, names: &[&'static str], sync_secs: u64) -> Vec<Region> {
    let addrs: Vec<(SocketAddr, SocketAddr)> = names.iter().map(|_| (free_addr(), free_addr())).collect();
    let file = dir.join("regions.toml");
    let text: String = names
        .iter()
        .zip(&addrs)
        .map(|(n, (public, op))| format!("[regions.{n}]\npublic = \"http://{public}\"\noperator = \"http://{op}\"\n"))
        .collect();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&file, text).unwrap();
    names
        .iter()
        .zip(addrs)
        .map(|(name, (public, op))| {
            let mut cfg = HostConfig::crm(&dir.join(name));
            cfg.listen = Some(public);
            cfg.operator = Some(op);
            cfg.extra_args = vec!["--operator-listen".into(), op.to_string(), "--region".into(), name.to_string(), "--regions".into(), file.display().to_string()];
            cfg.env.push(("EDGE_DIRECTORY_SYNC_SECS".into(), sync_secs.to_string()));
            let tenants = cfg.tenants.clone().unwrap();
            Region { cfg, tenants }
        })
        .collect()
}

fn start(r: &Region) -> TestHost {
    TestHost::start(r.cfg.clone())
}

/// Waits until `h`'s directory has `tenant` at `home` with at least `version`.
fn knows(h: &TestHost, tenant: &str, home: &str, version: u64) {
    for _ in 0..100 {
        let d = json(&h.operator("GET", "/v1/directory", ""));
        if d["items"].as_array().unwrap().iter().any(|e| e["name"] == tenant && e["home"] == home && e["version"].as_u64() >= Some(version)) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the directory never had {tenant} at {home}: {}", json(&h.operator("GET", "/v1/directory", "")));
}

/// Provisions `name` in `region` through `via`'s operator API; answers the invitation link.
fn provision(via: &TestHost, name: &str, region: &str) -> String {
    let body = json!({"name": name, "region": region, "owner_email": format!("owner@{name}.example"), "owner_name": "Olive Owner"});
    let r = via.operator("POST", "/v1/tenants", &body.to_string());
    assert_eq!(r.status, 201, "{}", r.text());
    let v = json(&r);
    assert_eq!(v["region"], region, "{v}");
    v["owner"]["invitation_url"].as_str().unwrap().to_string()
}

fn signed_in(addr: SocketAddr, tenant: &str, invite: &str) -> Client {
    let mut c = Client::new(addr, tenant);
    let r = c.accept(invite, "Olive Owner", e2e::OWNER_PASSWORD);
    assert_eq!(r.status, 200, "{}", r.text());
    c
}

#[test]
fn a_tenant_lives_in_its_home_region_and_is_served_through_any() {
    let dir = scratch("regions-home");
    let rs = regions(&dir, &["eu", "us"], 1);
    let eu = start(&rs[0]);
    let us = start(&rs[1]);
    // Made in eu through us's operator API; us is told where it lives.
    let invite = provision(&us, "acme", "eu");
    let beta_invite = provision(&eu, "beta", "us");
    knows(&us, "acme", "eu", 1);
    knows(&eu, "beta", "us", 1);
    assert!(rs[0].tenants.join("acme").join("tenant.json").exists());
    // A name is one tenant, whichever region is asked.
    let again = us.operator("POST", "/v1/tenants", &json!({"name": "acme", "region": "us"}).to_string());
    assert_eq!(again.status, 409, "{}", again.text());
    assert_eq!(us.operator("POST", "/v1/tenants", &json!({"name": "gamma", "region": "mars"}).to_string()).status, 422);

    // Served through us: sign-in, a write, a read; eu answered.
    let mut c = signed_in(us.addr, "acme", &invite);
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example"}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("edge-region"), Some("eu"));
    let id = json(&r)["id"].as_str().unwrap().to_string();
    let r = c.get(&format!("/api/v1/contacts/{id}"));
    assert_eq!((r.status, r.header("edge-region")), (200, Some("eu")));
    assert_eq!(json(&r)["last_name"], "Lovelace");
    // The same session works at the home region directly.
    assert_eq!(Client { addr: eu.addr, ..c.clone() }.get(&format!("/api/v1/contacts/{id}")).status, 200);
    // Static files come from the region reached.
    let r = c.get("/app/main.js");
    assert_eq!((r.status, r.header("edge-region")), (200, Some("us")));

    // Residency: acme's stores exist only on eu's disk; us's log has ids, no data.
    assert!(!rs[1].tenants.join("acme").exists(), "nothing of acme in us");
    assert!(rs[0].tenants.join("acme").join("sqlite").exists());
    let us_log = std::fs::read_to_string(&us.log).unwrap();
    assert!(us_log.contains("acme") && !us_log.contains("Lovelace") && !us_log.contains("ada@acme.example"), "us logged tenant data");

    // The operator API of any region acts on the tenant at its home: an export
    // asked of us is written in eu, a suspension asked of us holds in eu.
    let r = us.operator("POST", "/v1/tenants/acme/export", "");
    assert_eq!((r.status, r.header("edge-region")), (201, Some("eu")), "{}", r.text());
    let exported = json(&r)["path"].as_str().unwrap().to_string();
    assert!(exported.starts_with(&dir.join("eu").display().to_string()), "the export stays in eu: {exported}");
    assert!(std::path::Path::new(&exported).join("export.json").exists());
    assert!(!dir.join("us").join("exports").exists(), "nothing exported in us");
    assert_eq!(us.operator("POST", "/v1/tenants/acme/suspend", "").status, 200);
    assert_eq!(c.get(&format!("/api/v1/contacts/{id}")).status, 403);
    assert_eq!(json(&us.operator("GET", "/v1/tenants/acme", ""))["state"], "suspended");
    assert_eq!(us.operator("POST", "/v1/tenants/acme/resume", "").status, 200);
    assert_eq!(c.get(&format!("/api/v1/contacts/{id}")).status, 200);
    knows(&us, "acme", "eu", 3);

    // eu goes down: its tenants get 503 through us (writes too), us's own are fine.
    let mut beta = signed_in(us.addr, "beta", &beta_invite);
    drop(eu);
    for r in [c.get(&format!("/api/v1/contacts/{id}")), c.post_json("/api/v1/contacts", &json!({"first_name": "Lost?"}))] {
        assert_eq!(r.status, 503, "{}", r.text());
        assert_eq!(r.header("retry-after"), Some("5"));
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(json(&r)["type"], "https://edge-crm.dev/problems/region-unavailable");
    }
    let r = beta.post_json("/api/v1/contacts", &json!({"first_name": "Still", "last_name": "Here"}));
    assert_eq!((r.status, r.header("edge-region")), (201, Some("us")), "{}", r.text());
    assert!(!rs[0].tenants.join("beta").exists(), "nothing of beta in eu");
    // Back up: the same data, and the 503'd write was never made.
    let eu = start(&rs[0]);
    let r = c.get("/api/v1/contacts?limit=10");
    assert_eq!(r.status, 200, "{}", r.text());
    let names: Vec<String> = json(&r)["items"].as_array().unwrap().iter().map(|x| x["first_name"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(names, vec!["Ada"]);
    drop(eu);
}

#[test]
fn a_stale_directory_never_writes_outside_the_home() {
    let dir = scratch("regions-stale");
    // No periodic sync: only the pushes on change, so a region can be left behind.
    let rs = regions(&dir, &["eu", "us", "ap"], 3600);
    let eu = start(&rs[0]);
    let mut us = start(&rs[1]);
    let ap = start(&rs[2]);
    let invite = provision(&ap, "tee", "ap");
    // Two changes later everyone has version 3.
    for action in ["suspend", "resume"] {
        assert_eq!(ap.operator("POST", &format!("/v1/tenants/tee/{action}"), "").status, 200);
    }
    knows(&us, "tee", "ap", 3);
    knows(&eu, "tee", "ap", 3);
    // us missed those and believes an old entry: tee lived in eu.
    drop(us);
    let path = rs[1].tenants.join(".directory.json");
    let mut d: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    d["tee"]["home"] = json!("eu");
    d["tee"]["version"] = json!(1);
    std::fs::write(&path, serde_json::to_vec(&d).unwrap()).unwrap();
    us = start(&rs[1]);
    // A write through us: to eu (stale), which is not tee's home (421), then to ap.
    let mut c = signed_in(us.addr, "tee", &invite);
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": "Grace", "last_name": "Hopper"}));
    assert_eq!((r.status, r.header("edge-region")), (201, Some("ap")), "{}", r.text());
    knows(&us, "tee", "ap", 3);
    for (region, tenants) in [("eu", &rs[0].tenants), ("us", &rs[1].tenants)] {
        assert!(!tenants.join("tee").exists(), "tee has data in {region}");
    }
    // A request that has been through two regions already is not sent on
    // again: a region that is not the home says where it lives.
    let direct = eu.request("GET", "tee.localhost", "/api/v1/contacts", &[("edge-forwarded-by", "us,ap")], b"");
    assert_eq!(direct.status, 421, "{}", direct.text());
    assert_eq!(json(&direct)["directory_entry"]["home"], "ap");
    let r = c.get("/api/v1/contacts?limit=10");
    assert_eq!(json(&r)["items"].as_array().unwrap().len(), 1);
}

/// Polls `tenant`'s move record (`tries` times, `every` ms apart) until its
/// phase satisfies `until`; the record then.
fn poll_move(h: &TestHost, tenant: &str, tries: usize, every: u64, until: impl Fn(&str) -> bool) -> Option<serde_json::Value> {
    for _ in 0..tries {
        let r = h.operator("GET", &format!("/v1/tenants/{tenant}/move"), "");
        if r.status == 200 && until(json(&r)["phase"].as_str().unwrap_or("")) {
            return Some(json(&r));
        }
        std::thread::sleep(std::time::Duration::from_millis(every));
    }
    None
}

/// Polls the source's move record until it is finished; answers it.
fn move_finished(h: &TestHost, tenant: &str) -> serde_json::Value {
    poll_move(h, tenant, 600, 50, |p| matches!(p, "done" | "rolled_back"))
        .unwrap_or_else(|| panic!("the move never finished: {}", h.operator("GET", &format!("/v1/tenants/{tenant}/move"), "").text()))
}

/// `acme` made in eu with 20 contacts, and its move to us started; eu pauses
/// after the copy is adopted (for `pause_secs`, or the hook's default).
fn acme_moving(scratch_name: &str, pause_secs: Option<&str>) -> (Vec<Region>, TestHost, TestHost, Client) {
    let dir = scratch(scratch_name);
    let mut rs = regions(&dir, &["eu", "us"], 1);
    rs[0].cfg.env.push(("EDGE_MOVE_PAUSE_AFTER".into(), "adopted".into()));
    if let Some(secs) = pause_secs {
        rs[0].cfg.env.push(("EDGE_MOVE_PAUSE_SECS".into(), secs.into()));
    }
    let eu = start(&rs[0]);
    let us = start(&rs[1]);
    let invite = provision(&eu, "acme", "eu");
    knows(&us, "acme", "eu", 1);
    let mut c = signed_in(eu.addr, "acme", &invite);
    for i in 0..20 {
        assert_eq!(c.post_json("/api/v1/contacts", &json!({"first_name": format!("p{i}")})).status, 201);
    }
    assert_eq!(eu.operator("POST", "/v1/tenants/acme/move", &json!({"to": "us"}).to_string()).status, 202);
    (rs, eu, us, c)
}

fn all_contacts(c: &mut Client) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/contacts?limit=200&cursor={cur}"),
            None => "/api/v1/contacts?limit=200".to_string(),
        };
        let r = c.get(&path);
        assert_eq!(r.status, 200, "{}", r.text());
        let v = json(&r);
        names.extend(v["items"].as_array().unwrap().iter().map(|x| x["first_name"].as_str().unwrap_or_default().to_string()));
        match v["next_cursor"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => return names,
        }
    }
}

#[test]
fn a_move_under_concurrent_writes_keeps_every_acknowledged_write_once() {
    let dir = scratch("regions-move");
    let rs = regions(&dir, &["eu", "us"], 1);
    let eu = start(&rs[0]);
    let us = start(&rs[1]);
    let invite = provision(&eu, "acme", "eu");
    knows(&us, "acme", "eu", 1);
    let c = signed_in(us.addr, "acme", &invite);
    for i in 0..50 {
        assert_eq!(c.clone().post_json("/api/v1/contacts", &json!({"first_name": format!("seed-{i}")})).status, 201);
    }
    // Four writers through us, all the time; each keeps what was acknowledged.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (mut c, stop) = (c.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut acked, mut refused) = (Vec::new(), 0);
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let name = format!("w{w}-{i}");
                    i += 1;
                    match c.post_json("/api/v1/contacts", &json!({"first_name": name})).status {
                        201 => acked.push(name),
                        503 => refused += 1,
                        s => panic!("write {name}: {s}"),
                    }
                }
                (acked, refused)
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let r = eu.operator("POST", "/v1/tenants/acme/move", &json!({"to": "us"}).to_string());
    assert_eq!(r.status, 202, "{}", r.text());
    let m = move_finished(&eu, "acme");
    assert_eq!(m["phase"], "done", "{m}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.join().unwrap().0);
    }
    assert!(acked.len() > 20, "the writers kept writing: {}", acked.len());
    // Every acknowledged write is there exactly once, at the new home only.
    let mut c = c;
    let r = c.get("/api/v1/contacts?limit=1");
    assert_eq!(r.header("edge-region"), Some("us"));
    let names = all_contacts(&mut c);
    let mut counts = std::collections::HashMap::new();
    for n in &names {
        *counts.entry(n.clone()).or_insert(0) += 1;
    }
    for n in acked.iter().chain((0..50).map(|i| format!("seed-{i}")).collect::<Vec<_>>().iter()) {
        assert_eq!(counts.get(n), Some(&1), "{n} is there once");
    }
    assert_eq!(names.len(), acked.len() + 50, "nothing unacknowledged either");
    assert!(!rs[0].tenants.join("acme").exists(), "the old copy is gone");
    assert!(rs[1].tenants.join("acme").join("tenant.json").exists());
    knows(&eu, "acme", "us", 2);
    assert!(m["write_pause_ms"].as_u64().is_some(), "{m}");
    // Through eu too, now forwarded to us.
    let r = Client { addr: eu.addr, ..c.clone() }.get("/api/v1/contacts?limit=1");
    assert_eq!((r.status, r.header("edge-region")), (200, Some("us")));
}

#[test]
fn a_move_killed_half_way_rolls_back_and_then_completes() {
    // eu pauses after the copy is adopted, before the switch: killed there.
    let (mut rs, eu, us, c) = acme_moving("regions-move-killed", None);
    poll_move(&eu, "acme", 400, 25, |p| p == "adopted");
    assert_eq!(json(&eu.operator("GET", "/v1/tenants/acme/move", ""))["phase"], "adopted");
    // us holds the copy but does not serve it: eu does, still.
    assert!(rs[1].tenants.join("acme").join("tenant.json").exists());
    let r = c.clone().get("/api/v1/contacts?limit=1");
    assert_eq!((r.status, r.header("edge-region")), (200, Some("eu")), "{}", r.text());
    let r = Client { addr: us.addr, ..c.clone() }.get("/api/v1/contacts?limit=1");
    assert_eq!((r.status, r.header("edge-region")), (200, Some("eu")), "an incoming copy is not served: {}", r.text());
    drop(eu);
    // eu starts again: the move is rolled back, us's copy goes, acme is whole in eu.
    rs[0].cfg.env.retain(|(k, _)| k != "EDGE_MOVE_PAUSE_AFTER");
    let eu = start(&rs[0]);
    let m = move_finished(&eu, "acme");
    assert_eq!(m["phase"], "rolled_back", "{m}");
    assert!(!rs[1].tenants.join("acme").exists(), "us dropped its copy");
    let mut c = Client { addr: us.addr, ..c };
    let r = c.get("/api/v1/contacts?limit=1");
    assert_eq!((r.status, r.header("edge-region")), (200, Some("eu")));
    assert_eq!(all_contacts(&mut c).len(), 20);
    // Run again, with the CLI this time: it goes through.
    let out = std::process::Command::new(e2e::host_bin())
        .args(["tenant", "move", "acme", "--to", "us", "--operator", &format!("http://{}", eu.operator.unwrap())])
        .env("EDGE_OPERATOR_TOKEN", e2e::OPERATOR_TOKEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((printed["phase"].as_str(), printed["to"].as_str()), (Some("done"), Some("us")), "{printed}");
    assert_eq!(move_finished(&eu, "acme")["phase"], "done");
    assert_eq!(all_contacts(&mut c).len(), 20);
    assert_eq!(c.get("/api/v1/contacts?limit=1").header("edge-region"), Some("us"));
}

#[test]
fn a_move_whose_target_dies_after_the_switch_finishes_when_it_is_back() {
    // eu pauses 3 s after the copy is adopted: us is killed meanwhile.
    let (rs, eu, us, mut c) = acme_moving("regions-move-target-killed", Some("3"));
    poll_move(&eu, "acme", 400, 10, |p| p == "adopted");
    drop(us);
    // The switch is recorded; the new home is down: the tenant answers 503, served by nobody.
    poll_move(&eu, "acme", 600, 10, |p| p == "switched");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let r = c.post_json("/api/v1/contacts", &json!({"first_name": "lost"}));
    assert_eq!(r.status, 503, "{}", r.text());
    // us is back: eu finishes the move by itself.
    let us = start(&rs[1]);
    assert_eq!(move_finished(&eu, "acme")["phase"], "done");
    let r = c.get("/api/v1/contacts?limit=1");
    assert_eq!((r.status, r.header("edge-region")), (200, Some("us")), "{}", r.text());
    let names = all_contacts(&mut c);
    assert_eq!(names.len(), 20, "{names:?}");
    assert!(!names.contains(&"lost".to_string()));
    assert!(!rs[0].tenants.join("acme").exists(), "eu's copy is gone");
    drop(us);
}
