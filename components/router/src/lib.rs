//! The public entry of the app. Resolves the tenant, assigns a request id, bounds
//! request size, and dispatches over `*.spin.internal` to the private feature
//! components (`/api/v1/<area>/...`) or to `web` (everything else).

mod auth;
mod dispatch;

use dispatch::{target_for, Target};
use edge_http::{Problem, Reply};
use futures::StreamExt;
use spin_sdk::http::{Fields, IncomingRequest, IncomingResponse, Method, OutgoingResponse, Request, Response, ResponseOutparam};
use spin_sdk::{http_component, variables};

/// Headers a client may never set: the platform's own, and hop-by-hop ones.
fn forwardable(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !(n.starts_with("edge-")
        || n.starts_with("spin-")
        || matches!(
            n.as_str(),
            "host" | "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "te"
                | "trailer" | "upgrade" | "http2-settings" | "content-length"
        ))
}

fn reply_to_response(reply: Reply, request_id: &str) -> Response {
    let mut b = Response::builder();
    b.status(reply.status);
    for (k, v) in reply.headers {
        b.header(k, v);
    }
    b.header("x-request-id", request_id);
    b.body(reply.body).build()
}

fn problem<T: From<Response>>(p: Problem, request_id: &str) -> T {
    reply_to_response(p.with_request_id(Some(request_id)).into(), request_id).into()
}

impl From<Response> for Outcome {
    fn from(r: Response) -> Outcome {
        Outcome::Here(r)
    }
}

/// What a request comes to: an answer the router makes itself, or the feature
/// component's response, whose body is passed through without entering the router.
enum Outcome {
    Here(Response),
    Upstream { resp: IncomingResponse, request_id: String, target: Target, touch: Option<Request> },
}

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    match route(req).await {
        Outcome::Here(resp) => send_here(resp, out).await,
        Outcome::Upstream { resp, request_id, target, touch } => {
            pass_through(resp, &request_id, &target, out);
            // The session's idle clock, once the answer has gone.
            if let Some(t) = touch {
                let _ = spin_sdk::http::send::<_, Response>(t).await;
            }
        }
    }
}

async fn send_here(mut resp: Response, out: ResponseOutparam) {
    let body = std::mem::take(resp.body_mut());
    if let Ok(og) = OutgoingResponse::try_from(resp) {
        let _ = out.set_with_body(og, body).await;
    }
}

/// Answers with the feature's status and headers (plus the edge's) and splices
/// its body into ours: the bytes move host-side, never through this instance's
/// memory (a 30 KB list page used to be buffered here and copied out again).
fn pass_through(resp: IncomingResponse, request_id: &str, target: &Target, out: ResponseOutparam) {
    let mut headers: Vec<(String, Vec<u8>)> = resp
        .headers()
        .entries()
        .into_iter()
        .filter(|(k, _)| forwardable(k) || k.eq_ignore_ascii_case("content-length"))
        .collect();
    add_edge_headers(&mut headers, request_id, target);
    let og = OutgoingResponse::new(Fields::from_list(&headers).unwrap_or_else(|_| Fields::new()));
    let _ = og.set_status_code(resp.status());
    let Ok(body) = og.body() else { return };
    out.set(og);
    let (Ok(incoming), Ok(sink)) = (resp.consume(), body.write()) else { return };
    if let Ok(source) = incoming.stream() {
        // Until the source closes (Err; a failed write ends it too). Not
        // `blocking_splice`: it flushes every chunk, a round trip to the
        // connection each time.
        loop {
            match sink.splice(&source, 1 << 20) {
                Ok(0) => {
                    source.subscribe().block();
                    sink.subscribe().block();
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        drop(source);
        let _ = sink.blocking_flush();
    }
    drop(sink);
    let _ = spin_sdk::http::OutgoingBody::finish(body, None);
}

/// Adds the headers the edge puts on every answer.
fn add_edge_headers(headers: &mut Vec<(String, Vec<u8>)>, request_id: &str, target: &Target) {
    let web: &[(&str, &[u8])] = if matches!(target, Target::Web) { &[("x-frame-options", b"DENY")] } else { &[] };
    let fixed: [(&str, &[u8]); 3] = [("x-request-id", request_id.as_bytes()), ("x-content-type-options", b"nosniff"), ("referrer-policy", b"same-origin")];
    headers.extend(fixed.iter().chain(web).map(|(k, v)| (k.to_string(), v.to_vec())));
}

async fn route(req: IncomingRequest) -> Outcome {
    let headers: Vec<(String, Vec<u8>)> = req.headers().entries();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| String::from_utf8(v.clone()).ok())
    };
    // The host assigns ids at the edge; on other hosts we make one.
    let request_id = header("x-request-id").unwrap_or_else(dispatch::fresh_request_id);

    let tenant = variables::get("tenant_id").unwrap_or_default();
    if tenant.is_empty() {
        return problem(
            Problem::new(404, "unknown-tenant", "Unknown tenant", "No workspace is served at this address. Check the URL."),
            &request_id,
        );
    }

    let path_and_query = req.path_with_query().unwrap_or_else(|| "/".into());
    let path = path_and_query.split('?').next().unwrap_or("/").to_string();
    if path == TICK_PATH {
        return Outcome::Here(tick(&req.method(), header("authorization").as_deref(), &tenant, header("spin-full-url").as_deref().and_then(base_url), &request_id).await);
    }
    let target = match target_for(&path) {
        Ok(t) => t,
        Err(p) => return problem(p, &request_id),
    };

    let limit: usize = variables::get("max_body_bytes").ok().and_then(|v| v.parse().ok()).unwrap_or(1 << 20);
    if let Some(len) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        if len > limit {
            return problem(Problem::payload_too_large(limit), &request_id);
        }
    }
    let method = req.method();

    // Authentication and authorization for the API (static files are public).
    let mut caller = None;
    let mut customer = None;
    let mut visible_owners: Option<Vec<String>> = None;
    if let Target::Api(_) = target {
        let area = path.split('/').nth(3).unwrap_or("");
        if auth::is_portal(area) {
            // Signing in and the knowledge base are open to visitors.
            if !matches!(path.split('/').nth(4), Some("auth") | Some("kb") | Some("brand")) {
                let kv = spin_sdk::key_value::Store::open_default();
                let load = |key: &str| kv.as_ref().ok().and_then(|s| s.get(key).ok().flatten());
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
                match auth::authenticate_customer(header("cookie").as_deref(), header("x-csrf-token").as_deref(), method_str(&method), now, load) {
                    Ok(s) => customer = Some(s),
                    Err(p) => return problem(p, &request_id),
                }
            }
        } else if !auth::is_public(area) && !auth::is_public_path(&path) {
            let kv = spin_sdk::key_value::Store::open_default();
            let load = |key: &str| kv.as_ref().ok().and_then(|s| s.get(key).ok().flatten());
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            let authenticated = match header("authorization") {
                Some(a) => auth::authenticate_key(&a, load),
                None => auth::authenticate(header("cookie").as_deref(), header("x-csrf-token").as_deref(), method_str(&method), now, load),
            };
            let c = match authenticated {
                Ok(c) => c,
                Err(p) => return problem(p, &request_id),
            };
            if let Err(p) = auth::authorize(&c, auth::area_of(area), method_str(&method)) {
                return problem(p, &request_id);
            }
            // Same store, same request: the record-visibility setting for this caller.
            visible_owners = auth::visible_owners(&c, load);
            caller = Some(c);
        }
    }

    let mut body = Vec::new();
    let mut stream = req.into_body_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                body.extend_from_slice(&bytes);
                if body.len() > limit {
                    return problem(Problem::payload_too_large(limit), &request_id);
                }
            }
            Err(_) => return problem(Problem::bad_request("The request body could not be read"), &request_id),
        }
    }

    let url = format!("http://{}.spin.internal{path_and_query}", target.component());
    let mut out = Request::builder();
    out.method(method.clone()).uri(url);
    for (k, v) in &headers {
        if forwardable(k) {
            if let Ok(v) = String::from_utf8(v.clone()) {
                out.header(k.clone(), v);
            }
        }
    }
    // Trusted internal headers: only the router sets them.
    out.header("edge-tenant", tenant.clone());
    if let Some(s) = &customer {
        out.header("edge-actor", format!("customer:{}", s.contact_id));
        out.header("edge-portal-contact", s.contact_id.clone());
    }
    if let Some(c) = &caller {
        out.header("edge-actor", c.actor());
        out.header("edge-role", c.role());
        if let Some(owners) = &visible_owners {
            out.header("edge-visibility", auth::visibility_header(owners));
        }
    }
    if let Some(peer) = header("spin-client-addr") {
        let trusted = variables::get("trusted_proxies").unwrap_or_default();
        out.header("edge-client-addr", dispatch::client_addr(&peer, header("x-forwarded-for").as_deref(), &trusted));
    }
    if let Some(base) = header("spin-full-url").as_deref().and_then(base_url) {
        out.header("edge-base-url", base);
    }
    out.header("x-request-id", request_id.clone());
    if !matches!(method, Method::Get | Method::Head) || !body.is_empty() {
        out.body(body);
    }
    let resp: IncomingResponse = match spin_sdk::http::send(out.build()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("router: request {request_id}: {target:?} failed: {e}");
            return problem(
                Problem::new(502, "upstream-failed", "Service unavailable", "A part of the application did not answer. Try again."),
                &request_id,
            );
        }
    };
    // Keep the session's idle clock (or the key's last use) current, at most once
    // a minute; identity owns the write.
    let touch = caller.as_ref().and_then(|c| c.touch(now_unix()).map(|route| {
        Request::builder()
            .method(Method::Post)
            .uri(format!("http://identity.spin.internal{route}"))
            .header("edge-tenant", tenant.clone())
            .header("content-type", "application/json")
            .body(serde_json::json!({ "digest": c.digest }).to_string())
            .build()
    }));
    Outcome::Upstream { resp, request_id, target, touch }
}

/// Where a scheduler drives unattended work on hosts without one of their own
/// (real Spin): `POST` with `Authorization: Bearer <scheduler_token>`.
const TICK_PATH: &str = "/.well-known/edge-crm/tick";

/// Runs every component's `/internal/tick` for this tenant; answers each
/// one's result and the earliest `next_tick_at`.
async fn tick(method: &Method, authorization: Option<&str>, tenant: &str, base: Option<String>, request_id: &str) -> Response {
    let secret = variables::get("scheduler_token").unwrap_or_default();
    let given = authorization.and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
    if secret.len() < 16 || !identity_domain::token::same(given, &secret) {
        return problem(Problem::not_found("No such route"), request_id);
    }
    if *method != Method::Post {
        return problem(Problem::method_not_allowed("POST"), request_id);
    }
    let components = variables::get("tick_components").unwrap_or_default();
    let mut answers = serde_json::Map::new();
    let mut next: Option<String> = None;
    for c in components.split(',').map(str::trim).filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')) {
        let mut out = Request::builder();
        out.method(Method::Post).uri(format!("http://{c}.spin.internal/internal/tick"));
        out.header("edge-tenant", tenant).header("x-request-id", request_id).header("content-type", "application/json");
        if let Some(b) = &base {
            out.header("edge-base-url", b.as_str());
        }
        out.body(b"{}".to_vec());
        let v = match spin_sdk::http::send::<_, Response>(out.build()).await {
            Ok(r) => serde_json::from_slice::<serde_json::Value>(r.body()).unwrap_or_default(),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
        if let Some(t) = v["next_tick_at"].as_str() {
            next = Some(next.map_or(t.to_string(), |n| n.min(t.to_string())));
        }
        answers.insert(c.to_string(), v);
    }
    reply_to_response(Reply::json(200, &serde_json::json!({ "components": answers, "next_tick_at": next })), request_id)
}

fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn method_str(m: &Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Options => "OPTIONS",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
        _ => "OTHER",
    }
}

/// `scheme://authority` of a full URL (where links in emails should point).
fn base_url(full: &str) -> Option<String> {
    let (scheme, rest) = full.split_once("://")?;
    let authority = rest.split('/').next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}
