//! Spin's routing rules, through the real host and the probe component.

use e2e::{json, scratch, HostConfig, TestHost};

fn probe() -> TestHost {
    TestHost::start(HostConfig::probe(&scratch("routing")))
}

#[test]
fn exact_param_wildcard_and_longest_prefix() {
    let h = probe();
    let cases = [
        ("/exact", "exact", ""),
        ("/exact/more", "fallback", "/exact/more"),
        ("/users/42", "param", ""),
        ("/static/app.css", "wild", "/app.css"),
        ("/static/deep/x/y.js", "deeper", "/x/y.js"),
        ("/static", "wild", ""),
        ("/", "fallback", "/"),
        ("/somewhere/else", "fallback", "/somewhere/else"),
    ];
    for (path, component, path_info) in cases {
        let r = h.get("localhost", path);
        assert_eq!(r.status, 200, "{path}");
        let v = json(&r);
        assert_eq!(v["component"], component, "{path}");
        let got_info = v["headers"]["spin-path-info"].as_str().unwrap_or("");
        // Spin reports `/` for the root under `/...`; either way the rest of the path is kept.
        assert!(got_info == path_info || (path == "/" && got_info.is_empty()), "{path}: path-info {got_info:?}");
    }
}

#[test]
fn spin_headers_are_set_and_cannot_be_spoofed() {
    let h = probe();
    let r = h.request("GET", "localhost", "/users/7?x=1", &[("spin-path-match-id", "999"), ("spin-matched-route", "/evil")], b"");
    let v = json(&r);
    let hd = &v["headers"];
    assert_eq!(hd["spin-path-match-id"], "7");
    assert_eq!(hd["spin-matched-route"], "/users/:id");
    assert_eq!(hd["spin-component-route"], "/users/:id");
    assert_eq!(hd["spin-raw-component-route"], "/users/:id");
    assert_eq!(hd["spin-base-path"], "/");
    assert!(hd["spin-full-url"].as_str().unwrap().ends_with("/users/7?x=1"));
    assert!(hd["spin-client-addr"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(!hd["x-request-id"].as_str().unwrap_or("").is_empty());
}

#[test]
fn private_components_are_unreachable_from_outside() {
    let h = probe();
    // No route names `hidden`; even a Host header naming its internal address
    // lands on the public fallback, never on the private component.
    for host in ["hidden.spin.internal", "localhost"] {
        for path in ["/", "/hidden", "/zzz"] {
            let v = json(&h.get(host, path));
            assert_ne!(v["component"], "hidden", "{host}{path}");
        }
    }
}

#[test]
fn health_is_answered_by_the_host() {
    let h = probe();
    let r = h.get("localhost", "/.well-known/spin/health");
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
}

#[test]
fn a_route_that_matches_nothing_is_404() {
    let dir = scratch("routing-404");
    let manifest = dir.join("spin.toml");
    let wasm = e2e::repo_root().join("target/wasm32-wasip2/release/probe.wasm");
    std::fs::write(
        &manifest,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"only\"\n[[trigger.http]]\nroute = \"/only\"\ncomponent = \"c\"\n[component.c]\nsource = \"{}\"\n",
            wasm.display()
        ),
    )
    .unwrap();
    let h = TestHost::start(HostConfig { manifest, ..HostConfig::probe(&dir) });
    assert_eq!(h.get("localhost", "/only").status, 200);
    assert_eq!(h.get("localhost", "/other").status, 404);
}
