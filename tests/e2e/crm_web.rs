//! The web component through the router: files, content types, ETags, SPA fallback.

use e2e::{create_tenant, scratch, HostConfig, TestHost};

const T: &str = "demo.localhost";

fn crm() -> TestHost {
    let dir = scratch("web");
    let cfg = HostConfig::crm(&dir);
    create_tenant(cfg.tenants.as_ref().unwrap(), "demo");
    TestHost::start(cfg)
}

#[test]
fn serves_the_app_with_types_and_etags() {
    let h = crm();
    let r = h.get(T, "/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.text().contains("<html"), "{}", r.text());
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let etag = r.header("etag").expect("etag").to_string();
    assert!(r.header("cache-control").is_some());

    let again = h.request("GET", T, "/", &[("if-none-match", &etag)], b"");
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let changed = h.request("GET", T, "/", &[("if-none-match", "\"other\"")], b"");
    assert_eq!(changed.status, 200);

    let css = h.get(T, "/app/styles.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let svg = h.get(T, "/favicon.svg");
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
}

#[test]
fn app_routes_fall_back_to_the_app_and_missing_assets_are_404() {
    let h = crm();
    let index = h.get(T, "/").body;
    for path in ["/contacts", "/contacts/c_01ABC", "/pipeline"] {
        let r = h.get(T, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body, index, "{path}");
    }
    let portal = h.get(T, "/portal/orders/42");
    assert_eq!(portal.status, 200);
    assert_ne!(portal.body, index, "portal routes get the portal");
    assert_eq!(h.get(T, "/app/missing.js").status, 404);
    assert_eq!(h.get(T, "/.env").status, 404);
    assert_ne!(h.get(T, "/%2e%2e/Cargo.toml").status, 200);
    assert_eq!(h.request("POST", T, "/index.html", &[], b"x").status, 405);
}
