//! Key-value, SQLite, variables, files and outbound HTTP, each in the allowed,
//! not-allowed and not-configured cases, through the real host.

use e2e::{json, scratch, HostConfig, TestHost};

fn probe(name: &str, env: &[(&str, &str)]) -> TestHost {
    let mut cfg = HostConfig::probe(&scratch(name));
    cfg.env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TestHost::start(cfg)
}

#[test]
fn key_value_allowed_denied_and_unknown() {
    let h = probe("kv", &[]);
    let v = json(&h.get("localhost", "/p/kv?label=default&key=k&set=v1"));
    assert_eq!(v["value"], "v1");
    let v = json(&h.get("localhost", "/p/kv?label=default&key=k"));
    assert_eq!(v["value"], "v1", "value persists across requests");
    // Listed nowhere: access-denied, whether or not such a store exists.
    let v = json(&h.get("localhost", "/p/kv?label=secret&key=k"));
    assert!(v["error"].as_str().unwrap().contains("AccessDenied"), "{v}");
    // A component with no stores listed cannot open `default`.
    let v = json(&h.get("localhost", "/lonely/kv?label=default&key=k"));
    assert!(v["error"].as_str().unwrap().contains("AccessDenied"), "{v}");
}

#[test]
fn sqlite_allowed_and_denied() {
    let h = probe("sql", &[]);
    assert_eq!(json(&h.get("localhost", "/p/sql?db=default&insert=a"))["count"], 1);
    assert_eq!(json(&h.get("localhost", "/p/sql?db=default&insert=b"))["count"], 2);
    let v = json(&h.get("localhost", "/p/sql?db=other"));
    assert!(v["error"].as_str().unwrap().contains("AccessDenied"), "{v}");
    let v = json(&h.get("localhost", "/lonely/sql?db=default"));
    assert!(v["error"].as_str().unwrap().contains("AccessDenied"), "{v}");
}

#[test]
fn variables_resolve_with_defaults_templates_and_env_override() {
    let h = probe("vars", &[]);
    assert_eq!(json(&h.get("localhost", "/p/var?name=message"))["value"], "hello, world");
    assert_eq!(json(&h.get("localhost", "/p/var?name=loud"))["value"], "quiet");
    // Not one of this component's variables (app-level names are not visible directly).
    assert!(json(&h.get("localhost", "/p/var?name=greeting"))["error"].as_str().unwrap().contains("Undefined"));
    assert!(json(&h.get("localhost", "/p/var?name=Bad-Name"))["error"].as_str().unwrap().contains("InvalidName"));
    // A component with no variables sees none.
    assert!(json(&h.get("localhost", "/lonely/var?name=message"))["error"].as_str().unwrap().contains("Undefined"));
    drop(h);

    let h = probe("vars-env", &[("SPIN_VARIABLE_GREETING", "hej"), ("SPIN_VARIABLE_SHOUT", "LOUD")]);
    assert_eq!(json(&h.get("localhost", "/p/var?name=message"))["value"], "hej, world");
    assert_eq!(json(&h.get("localhost", "/p/var?name=loud"))["value"], "LOUD");
}

#[test]
fn environment_and_files() {
    let h = probe("files", &[]);
    assert_eq!(json(&h.get("localhost", "/p/env?name=PROBE_NAME"))["value"], "caps");
    let v = json(&h.get("localhost", "/p/file?path=/data/hello.txt"));
    assert_eq!(v["value"]["Ok"], "mounted file contents\n");
    // Read-only mount, and nothing outside it.
    let v = json(&h.get("localhost", "/lonely/file?path=/data/hello.txt"));
    assert!(v["value"]["Err"].is_string(), "{v}");
    let v = json(&h.get("localhost", "/p/file?path=/etc/passwd"));
    assert!(v["value"]["Err"].is_string(), "{v}");
}

#[test]
fn chaining_only_where_allowed() {
    let h = probe("chain", &[]);
    let v = json(&h.get("localhost", "/p/chain?url=http://hidden.spin.internal/inside"));
    assert_eq!(v["status"], 200, "{v}");
    let inner: serde_json::Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["component"], "hidden");
    assert_eq!(inner["path"], "/inside");
    // Not listed in allowed_outbound_hosts.
    let v = json(&h.get("localhost", "/lonely/chain?url=http://hidden.spin.internal/"));
    assert!(v["error"].as_str().unwrap().to_lowercase().contains("denied"), "{v}");
    // Allowed pattern, but not an internal host and not listed: denied, never sent.
    let v = json(&h.get("localhost", "/p/chain?url=http://example.com/"));
    assert!(v["error"].as_str().unwrap().to_lowercase().contains("denied"), "{v}");
    // No such component.
    let v = json(&h.get("localhost", "/p/chain?url=http://nosuch.spin.internal/"));
    assert!(v["error"].is_string(), "{v}");
}

#[test]
fn traps_loops_and_memory_hogs_do_not_take_the_host_down() {
    let mut cfg = HostConfig::probe(&scratch("faults"));
    cfg.extra_args = vec!["--request-timeout-ms".into(), "1500".into(), "--max-memory-mib".into(), "64".into()];
    let h = TestHost::start(cfg);
    let r = h.get("localhost", "/p/trap");
    assert_eq!(r.status, 500);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let rid = json(&r)["request_id"].as_str().unwrap().to_string();
    let r = h.get("localhost", "/p/loop");
    assert_eq!(r.status, 503, "{}", r.text());
    let r = h.get("localhost", "/p/alloc?mb=200");
    assert_eq!(r.status, 500, "{}", r.text());
    // Still serving, and the failure was logged with its request id.
    assert_eq!(h.get("localhost", "/exact").status, 200);
    let log = h.log_text();
    assert!(log.lines().any(|l| l.contains(&rid) && l.contains("\"status\":500")), "{log}");
    assert!(log.lines().any(|l| l.contains("/p/loop") && l.contains("\"status\":503")));
}
