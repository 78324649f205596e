//! Serves `static/` (the tenant app and the customer portal) from a `files`
//! mount: content types, ETag/If-None-Match, cache headers, and an SPA fallback
//! so app routes like `/contacts/c_123` load the app.

mod files;

use files::{resolve, Resolved};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return Response::builder()
            .status(405)
            .header("allow", "GET, HEAD")
            .header("content-type", "application/problem+json")
            .body(r#"{"type":"https://edge-crm.dev/problems/method-not-allowed","title":"Method not allowed","status":405,"detail":"Static files are read-only"}"#)
            .build();
    }
    let path = req.path().to_string();
    let if_none_match = req.header("if-none-match").and_then(|v| v.as_str()).map(String::from);
    match resolve(&path, |p| std::fs::read(p).ok()) {
        Resolved::File { content_type, bytes, cache_control } => {
            let etag = files::etag(&bytes);
            let not_modified = if_none_match
                .as_deref()
                .is_some_and(|inm| inm.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
            let mut b = Response::builder();
            b.header("etag", etag.clone()).header("cache-control", cache_control);
            if not_modified {
                return b.status(304).body(Vec::new()).build();
            }
            b.status(200).header("content-type", content_type);
            let body = if *req.method() == Method::Head { Vec::new() } else { bytes };
            b.body(body).build()
        }
        Resolved::NotFound => Response::builder()
            .status(404)
            .header("content-type", "application/problem+json")
            .body(r#"{"type":"https://edge-crm.dev/problems/not-found","title":"Not found","status":404,"detail":"No such file"}"#)
            .build(),
    }
}
