//! The HTTP trigger: accepts connections, resolves tenant and route, sets Spin's
//! request headers, runs the component, logs one line per request, and shuts down
//! gracefully (in-flight requests finish; new connections are refused).

use crate::app::{App, CallError, SPIN_HEADERS};
use crate::state::CallContext;
use crate::tenancy::{Resolution, Tenancy};
use anyhow::{Context, Result};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use wasmtime_wasi_http::WasiBody;

pub const HEALTH_PATH: &str = "/.well-known/spin/health";

/// How long a write waits for a tenant's move before a 503.
const HOLD_WAIT: Duration = Duration::from_secs(15);

pub struct Server {
    pub app: Arc<App>,
    pub tenancy: Option<Tenancy>,
    /// This host as one region of several (`--region`, `--regions`).
    pub regions: Option<Arc<crate::regions::Regions>>,
    /// Ticks tenants' unattended work; told about every tenant request.
    pub scheduler: Option<Arc<crate::scheduler::Scheduler>>,
    /// Tenants whose writes wait (a move in progress), and writes in flight.
    pub holds: Holds,
}

/// Per tenant: whether writes are held, and how many are in flight.
#[derive(Default)]
pub struct Holds {
    state: std::sync::Mutex<std::collections::HashMap<String, (bool, usize)>>,
}

/// A write in flight; counted until dropped.
pub struct WriteGuard<'a> {
    holds: &'a Holds,
    tenant: String,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.holds.state.lock() {
            if let Some(e) = m.get_mut(&self.tenant) {
                e.1 = e.1.saturating_sub(1);
                if !e.0 && e.1 == 0 {
                    m.remove(&self.tenant);
                }
            }
        }
    }
}

impl Holds {
    pub fn hold(&self, tenant: &str) {
        if let Ok(mut m) = self.state.lock() {
            m.entry(tenant.to_string()).or_default().0 = true;
        }
    }

    pub fn release(&self, tenant: &str) {
        if let Ok(mut m) = self.state.lock() {
            if let Some(e) = m.get_mut(tenant) {
                e.0 = false;
                if e.1 == 0 {
                    m.remove(tenant);
                }
            }
        }
    }

    /// Waits until the tenant's writes in flight have finished.
    pub async fn drain(&self, tenant: &str, within: Duration) -> Result<()> {
        let until = Instant::now() + within;
        loop {
            let n = self.state.lock().ok().and_then(|m| m.get(tenant).map(|e| e.1)).unwrap_or(0);
            if n == 0 {
                return Ok(());
            }
            if Instant::now() > until {
                anyhow::bail!("{n} writes still in flight");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Admits a write (counted), waiting while the tenant's writes are held;
    /// None if they are still held after `within`.
    pub async fn enter(&self, tenant: &str, within: Duration) -> Option<WriteGuard<'_>> {
        let until = Instant::now() + within;
        loop {
            if let Ok(mut m) = self.state.lock() {
                let e = m.entry(tenant.to_string()).or_default();
                if !e.0 {
                    e.1 += 1;
                    return Some(WriteGuard { holds: self, tenant: tenant.to_string() });
                }
            }
            if Instant::now() > until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(0);

/// A request id: from a well-formed `x-request-id`, or a fresh one.
fn request_id(req: &Request<Incoming>) -> String {
    if let Some(v) = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()) {
        if (8..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return v.to_string();
        }
    }
    let n = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros() as u64;
    format!("{:012x}{:06x}{:04x}", t, n & 0xff_ffff, std::process::id() & 0xffff)
}

fn text(status: StatusCode, body: &'static str) -> Response<WasiBody> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from_static(body.as_bytes())).map_err(|e| match e {}).boxed_unsync())
        .unwrap_or_default()
}

fn problem(status: StatusCode, kind: &str, detail: &str, request_id: &str) -> Response<WasiBody> {
    problem_with(status, kind, detail, request_id, serde_json::Map::new())
}

/// A problem+json answer with `extra` members beside the standard ones.
fn problem_with(status: StatusCode, kind: &str, detail: &str, request_id: &str, mut extra: serde_json::Map<String, serde_json::Value>) -> Response<WasiBody> {
    extra.insert("type".into(), format!("https://edge-crm.dev/problems/{kind}").into());
    extra.insert("title".into(), status.canonical_reason().unwrap_or("Error").into());
    extra.insert("status".into(), status.as_u16().into());
    extra.insert("detail".into(), detail.into());
    extra.insert("request_id".into(), request_id.into());
    Response::builder()
        .status(status)
        .header("content-type", "application/problem+json")
        .header("x-request-id", request_id)
        .body(Full::new(Bytes::from(serde_json::Value::Object(extra).to_string())).map_err(|e| match e {}).boxed_unsync())
        .unwrap_or_default()
}

/// 421: this region is not the tenant's home; the body carries what its directory says.
fn misdirected(entry: Option<crate::regions::Entry>, request_id: &str) -> Response<WasiBody> {
    let mut extra = serde_json::Map::new();
    extra.insert("directory_entry".into(), serde_json::to_value(entry).unwrap_or_default());
    problem_with(StatusCode::MISDIRECTED_REQUEST, "not-home-region", "This region is not the workspace's home.", request_id, extra)
}

impl Server {
    /// Drops cached tenant state after a lifecycle change.
    pub fn forget_tenant(&self, name: &str) {
        if let Some(t) = &self.tenancy {
            t.forget(name);
        }
    }

    pub async fn handle(self: Arc<Self>, req: Request<Incoming>, client: SocketAddr) -> Response<WasiBody> {
        let regions = self.regions.clone();
        let mut resp = self.handle_here(req, client).await;
        if let Some(r) = regions {
            // Which region served it (a forwarded answer keeps its home's).
            resp.headers_mut().entry(crate::regions::SERVED_BY).or_insert_with(|| r.served_by());
        }
        resp
    }

    async fn handle_here(self: Arc<Self>, mut req: Request<Incoming>, mut client: SocketAddr) -> Response<WasiBody> {
        let started = Instant::now();
        let path = req.uri().path().to_string();
        if path == HEALTH_PATH {
            return text(StatusCode::OK, "OK");
        }
        let rid = request_id(&req);
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()))
            .unwrap_or("localhost")
            .to_string();
        // A request another region forwarded: the visitor's address, not the
        // region's. From anyone else, the regions' own headers are dropped.
        if let Some(regions) = &self.regions {
            if regions.is_peer(client.ip()) {
                if let Some(ip) = req.headers().get(crate::regions::CLIENT_ADDR).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<std::net::IpAddr>().ok()) {
                    client = SocketAddr::new(ip, 0);
                }
            } else {
                req.headers_mut().remove(crate::regions::FORWARDED_BY);
                req.headers_mut().remove(crate::regions::CLIENT_ADDR);
            }
        }
        // A tenant being moved: its writes wait for the move (reads go on),
        // and every write is counted so the move can wait for those in flight.
        let label = self.tenancy.as_ref().and_then(|t| crate::tenancy::tenant_label(&host, &t.domains));
        // Only regions move tenants: without them there is nothing to wait for.
        let gated = self.regions.is_some() && !matches!(*req.method(), http::Method::GET | http::Method::HEAD | http::Method::OPTIONS);
        let _write = match (&label, gated) {
            (Some(l), true) => match self.holds.enter(l, HOLD_WAIT).await {
                Some(g) => Some(g),
                None => {
                    let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, "tenant-moving", "This workspace is moving to another region; nothing was changed. Retry in a moment.", &rid);
                    r.headers_mut().insert("retry-after", HeaderValue::from_static("2"));
                    self.log(&rid, &req, label.as_deref(), None, 503, started, None);
                    return r;
                }
            },
            _ => None,
        };
        let mut record = None;
        let resolution = self.tenancy.as_ref().map(|t| t.resolve(label.clone()));
        // The web app's files, for a tenant that lives in another region.
        let mut files_only = false;
        if let (Some(regions), Some(Resolution::Unknown)) = (&self.regions, &resolution) {
            if let Some(label) = label.clone() {
                // Regions this request has been through already.
                let chain: Vec<String> = req
                    .headers()
                    .get(crate::regions::FORWARDED_BY)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect())
                    .unwrap_or_default();
                let home = regions.home_elsewhere(&label);
                if !chain.is_empty() {
                    // Not this tenant's home. One more hop is allowed (a write held
                    // here while the tenant moved goes on to its new home, which may
                    // be the region that sent it), never a loop; otherwise say what
                    // the directory knows.
                    if let Some(h) = home.filter(|_| chain.len() < 2 && !chain.contains(&regions.me)) {
                        return self.forward(req, regions, &h, &label, client, &rid, started).await;
                    }
                    let r = misdirected(regions.entry(&label), &rid);
                    self.log(&rid, &req, Some(&label), Some("region"), 421, started, None);
                    return r;
                }
                if let Some(home) = home {
                    let is_files = matches!(*req.method(), http::Method::GET | http::Method::HEAD) && !path.starts_with("/api/") && !path.starts_with("/.well-known/");
                    if is_files {
                        files_only = true;
                    } else {
                        return self.forward(req, regions, &home, &label, client, &rid, started).await;
                    }
                }
            }
        }
        let tenant = match resolution {
            None | Some(Resolution::Unknown) => None,
            Some(Resolution::Active(rec)) => {
                let name = rec.name.clone();
                record = Some(rec);
                Some(name)
            }
            Some(Resolution::Suspended(name)) => {
                let r = problem(StatusCode::FORBIDDEN, "tenant-suspended", "This workspace is suspended. Contact your administrator.", &rid);
                self.log(&rid, &req, Some(&name), None, 403, started, None);
                return r;
            }
            Some(Resolution::Limited(name, retry)) => {
                let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests for this workspace's plan. Slow down and retry.", &rid);
                if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
                    r.headers_mut().insert("retry-after", v);
                }
                self.log(&rid, &req, Some(&name), None, 429, started, None);
                return r;
            }
        };

        if let (Some(s), Some(t)) = (&self.scheduler, &tenant) {
            s.poke(t);
        }
        let Some((route, component, matched)) = self.app.router.route(&path) else {
            self.log(&rid, &req, tenant.as_deref(), None, 404, started, None);
            return text(StatusCode::NOT_FOUND, "Not Found");
        };
        // Static files need no tenant: the `web` component straight away.
        let component = if files_only { "web".to_string() } else { component.to_string() };

        // Spin's request headers; anything a client sent under these names is dropped.
        let full_url = format!("http://{host}{}", req.uri().path_and_query().map_or("/", |p| p.as_str()));
        let h = req.headers_mut();
        let spoofed: Vec<_> = h.keys().filter(|k| k.as_str().starts_with("spin-")).cloned().collect();
        for k in spoofed {
            h.remove(k);
        }
        debug_assert!(SPIN_HEADERS.iter().all(|n| !h.contains_key(*n)));
        let mut set = |name: &str, value: &str| {
            if let (Ok(n), Ok(v)) = (http::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                h.insert(n, v);
            }
        };
        set("spin-full-url", &full_url);
        set("spin-path-info", &matched.path_info);
        set("spin-matched-route", &route.raw);
        set("spin-raw-component-route", &route.raw);
        set("spin-component-route", &route.base());
        set("spin-base-path", "/");
        set("spin-client-addr", &client.to_string());
        for (name, value) in &matched.params {
            set(&format!("spin-path-match-{name}"), value);
        }
        set("x-request-id", &rid);
        // wasi:http needs an absolute URI authority; a relative one gets the Host header.
        let bound = if self.tenancy.is_some() { self.app.tenant_bindings(record.as_ref()) } else { Vec::new() };
        let call = CallContext {
            request_id: rid.clone(),
            scope: Arc::new(self.app.scope_for(tenant.as_deref())),
            bound_variables: bound,
            depth: 0,
            deadline: Instant::now() + self.app.opts.request_timeout,
        };
        let (parts, body) = req.into_parts();
        let method = parts.method.clone();
        let req = Request::from_parts(parts, body.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());

        let result = self.app.handle(&component, req, call).await;
        let (resp, err) = match result {
            Ok(mut r) => {
                r.headers_mut().entry("x-request-id").or_insert_with(|| HeaderValue::from_str(&rid).unwrap_or(HeaderValue::from_static("-")));
                (r, None)
            }
            Err(e) => {
                let (status, kind) = match &e {
                    CallError::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
                    _ => (StatusCode::INTERNAL_SERVER_ERROR, "component-failed"),
                };
                let detail = match &e {
                    CallError::Timeout => "The request took too long and was stopped.",
                    _ => "The request failed inside the application. It has been logged.",
                };
                let msg = e.to_string();
                (problem(status, kind, detail, &rid), Some(msg))
            }
        };
        self.log_parts(&rid, &method, &path, tenant.as_deref(), Some(&component), resp.status().as_u16(), started, err.as_deref());
        let mut resp = resp;
        // Which version of the directory entry this home serves under: a
        // forwarding region with an older one learns from it.
        if let (Some(r), Some(t)) = (&self.regions, &tenant) {
            if let Some(v) = r.home_version(t) {
                resp.headers_mut().insert(crate::regions::HOME_VERSION, HeaderValue::from(v));
            }
        }
        resp
    }

    /// Sends a tenant's request to its home region; 503 when it cannot be reached.
    #[allow(clippy::too_many_arguments)]
    async fn forward(&self, req: Request<Incoming>, regions: &crate::regions::Regions, home: &crate::regions::Entry, tenant: &str, client: SocketAddr, rid: &str, started: Instant) -> Response<WasiBody> {
        let (parts, body) = req.into_parts();
        let (method, path) = (parts.method.clone(), parts.uri.path().to_string());
        let Some(body) = crate::regions::Regions::read_body(body).await else {
            self.log_parts(rid, &method, &path, Some(tenant), Some("region"), 413, started, None);
            return problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "The request body is too large to forward", rid);
        };
        let mut parts = parts;
        parts.headers.insert("x-request-id", HeaderValue::from_str(rid).unwrap_or(HeaderValue::from_static("-")));
        match regions.forward(parts, body, home, client.ip()).await {
            Ok((resp, served)) => {
                let (p, b) = resp.into_parts();
                self.log_parts(rid, &method, &path, Some(tenant), Some(&format!("region:{served}")), p.status.as_u16(), started, None);
                Response::from_parts(p, b.map_err(|e| match e {}).boxed_unsync())
            }
            Err(crate::regions::Unreachable(region)) => {
                let mut r = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "region-unavailable",
                    &format!("This workspace's home region ({region}) cannot be reached just now. Nothing was changed; retry shortly."),
                    rid,
                );
                r.headers_mut().insert("retry-after", HeaderValue::from_static("5"));
                self.log_parts(rid, &method, &path, Some(tenant), Some(&format!("region:{region}")), 503, started, Some("home region unreachable"));
                r
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn log(&self, rid: &str, req: &Request<Incoming>, tenant: Option<&str>, component: Option<&str>, status: u16, started: Instant, err: Option<&str>) {
        self.log_parts(rid, req.method(), req.uri().path(), tenant, component, status, started, err)
    }

    #[allow(clippy::too_many_arguments)]
    fn log_parts(&self, rid: &str, method: &http::Method, path: &str, tenant: Option<&str>, component: Option<&str>, status: u16, started: Instant, err: Option<&str>) {
        let mut m = serde_json::Map::new();
        m.insert("request_id".into(), rid.into());
        m.insert("method".into(), method.as_str().into());
        m.insert("path".into(), path.into());
        m.insert("tenant".into(), tenant.map_or(serde_json::Value::Null, Into::into));
        m.insert("component".into(), component.map_or(serde_json::Value::Null, Into::into));
        m.insert("status".into(), status.into());
        m.insert("duration_us".into(), (started.elapsed().as_micros() as u64).into());
        if let Some(e) = err {
            m.insert("level".into(), "error".into());
            m.insert("error".into(), e.into());
        }
        crate::log::request(m);
    }
}

/// Serves until SIGINT/SIGTERM, then drains in-flight requests (up to `drain`).
pub async fn serve(server: Arc<Server>, listener: TcpListener, drain: Duration, quiet: bool) -> Result<()> {
    let addr = listener.local_addr().context("listener address")?;
    crate::log::event("info", "serving", &[("listen", &addr.to_string()), ("app", &server.app.manifest.name)]);
    if !quiet {
        println!("Serving http://{addr}");
    }
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let reaper = {
        let server = server.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                server.app.pools.reap();
                if let Some(t) = &server.tenancy {
                    t.reap(Duration::from_secs(60));
                }
            }
        })
    };
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, client) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        crate::log::event("warn", "accept failed", &[("error", &e.to_string())]);
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let server = server.clone();
                let service = hyper::service::service_fn(move |req| {
                    let server = server.clone();
                    async move { Ok::<_, std::convert::Infallible>(server.handle(req, client).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
        }
    }
    drop(listener);
    crate::log::event("info", "shutting down: draining in-flight requests", &[]);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(drain) => {
            crate::log::event("warn", "drain timeout; closing remaining connections", &[]);
        }
    }
    reaper.abort();
    crate::log::event("info", "stopped", &[]);
    Ok(())
}
