//! The operator API: tenant provisioning and lifecycle over HTTP, on its own
//! listener (never reachable through a tenant host) and behind a bearer token.

use crate::provision;
use crate::server::Server;
use crate::tenants::{self, TenantState};
use anyhow::Result;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::sync::Arc;
use tokio::net::TcpListener;

type Body = Full<Bytes>;

fn reply(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    relayed(status, Bytes::from(value.to_string()), None)
}

fn problem(status: StatusCode, kind: &str, detail: &str) -> Response<Body> {
    let mut r = reply(
        status,
        serde_json::json!({
            "type": format!("https://edge-crm.dev/problems/{kind}"),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": detail,
        }),
    );
    r.headers_mut().insert("content-type", http::HeaderValue::from_static("application/problem+json"));
    r
}

/// Constant-time comparison, so the token cannot be guessed byte by byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    name: String,
    /// The first user: an owner, invited by a link sent through the tenant's outbox.
    #[serde(default)]
    owner_email: Option<String>,
    #[serde(default)]
    owner_name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default = "default_region")]
    region: String,
    #[serde(default = "default_plan")]
    plan: String,
}

fn default_region() -> String {
    "local".into()
}
fn default_plan() -> String {
    "standard".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanChange {
    plan: String,
}

pub struct Operator {
    pub server: Arc<Server>,
    pub token: String,
    pub exports_dir: std::path::PathBuf,
    /// Port of the public listener, for links in emails (`http://<tenant>.<domain>:<port>`).
    pub public_port: u16,
}

impl Operator {
    fn base_url(&self, tenant: &str) -> String {
        let domain = self.server.tenancy.as_ref().and_then(|t| t.domains.first().cloned()).unwrap_or_else(|| "localhost".into());
        format!("http://{tenant}.{domain}:{}", self.public_port)
    }

    /// After the record exists: run every component's migrations (a failure undoes
    /// the tenant: half-provisioned tenants are not left behind), then invite the owner.
    async fn provision(&self, resp: Response<Body>, dir: &std::path::Path) -> Response<Body> {
        // Full<Bytes> cannot fail to collect.
        let Ok(bytes) = resp.into_body().collect().await.map(|b| b.to_bytes());
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let Some(name) = v["name"].as_str().map(String::from) else {
            return reply(StatusCode::CREATED, v);
        };
        let app = &self.server.app;
        let base = self.base_url(&name);
        match provision::migrate(app, dir, &name, &base).await {
            Ok(m) => v["migrations"] = m,
            Err(e) => {
                let e = format!("{e:#}");
                crate::log::event("error", "tenant migrations failed", &[("tenant", &name), ("error", &e)]);
                let _ = tenants::set_state(dir, &name, TenantState::Suspended).and_then(|_| tenants::delete(dir, &name));
                self.server.forget_tenant(&name);
                app.pools.close_under(&dir.join(&name));
                return problem(StatusCode::INTERNAL_SERVER_ERROR, "provisioning-failed", &format!("The tenant was not created: {e}"));
            }
        }
        let Some(email) = v["owner"]["email"].as_str().map(String::from) else {
            return reply(StatusCode::CREATED, v);
        };
        let owner_name = v["owner"]["name"].as_str().unwrap_or("").to_string();
        match provision::invite_owner(app, dir, &name, &base, &provision::Owner { email: &email, name: &owner_name }).await {
            Ok(out) => v["owner"] = out,
            Err(e) => {
                let e = format!("{e:#}");
                crate::log::event("error", "owner invitation failed", &[("tenant", &name), ("error", &e)]);
                v["owner"] = serde_json::json!({ "error": e });
            }
        }
        reply(StatusCode::CREATED, v)
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let authorized = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| same(t.trim().as_bytes(), self.token.as_bytes()));
        if !authorized {
            let mut r = problem(StatusCode::UNAUTHORIZED, "unauthorized", "Send the operator token as `Authorization: Bearer <token>`");
            r.headers_mut().insert("www-authenticate", http::HeaderValue::from_static("Bearer"));
            return r;
        }
        let Some(tenancy) = self.server.tenancy.as_ref() else {
            return problem(StatusCode::CONFLICT, "no-tenancy", "This host serves a single deployment (start it with --tenants-dir)");
        };
        let dir = tenancy.dir.clone();
        let dir_for_provision = dir.clone();
        let method = req.method().clone();
        let path = req.uri().path().trim_end_matches('/').to_string();
        let query = req.uri().query().unwrap_or_default().to_string();
        let chunk_sum = req.headers().get("x-sha256").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        // A tenant's databases arrive in chunks when it moves here.
        let limit = if method == Method::PUT && path.starts_with("/v1/incoming/") { crate::moves::CHUNK + 4096 } else { 64 << 10 };
        let body = match Limited::new(req.into_body(), limit).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Bodies are limited to 64 KiB"),
        };
        if let Some(regions) = self.server.regions.clone() {
            if let Some(r) = self.regional(&regions, &method, &path, &query, &chunk_sum, &body, &dir).await {
                return r;
            }
        }
        let this = self.clone();
        let request_body = body.clone();
        let (m, p) = (method.clone(), path.clone());
        let result: Result<Response<Body>, Response<Body>> = tokio::task::spawn_blocking(move || {
            let (method, path) = (m, p);
            let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let fail = |e: anyhow::Error| {
                let msg = format!("{e:#}");
                let status = if msg.contains("no tenant") {
                    StatusCode::NOT_FOUND
                } else if msg.contains("already exists") || msg.contains("is active") {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                problem(status, "tenant-operation", &msg)
            };
            match (&method, segments.as_slice()) {
                (&Method::GET, ["v1", "plans"]) => Ok(reply(StatusCode::OK, serde_json::json!({ "items": tenants::PLANS }))),
                (&Method::GET, ["v1", "tenants"]) => {
                    let items = tenants::list(&dir).map_err(fail)?;
                    Ok(reply(StatusCode::OK, serde_json::json!({ "items": items, "next_cursor": null })))
                }
                (&Method::POST, ["v1", "tenants"]) => {
                    let t: NewTenant = serde_json::from_slice(&body)
                        .map_err(|e| problem(StatusCode::BAD_REQUEST, "bad-request", &e.to_string()))?;
                    if let Some(e) = &t.owner_email {
                        if !e.contains('@') {
                            return Err(problem(StatusCode::UNPROCESSABLE_ENTITY, "validation", "owner_email is not an email address"));
                        }
                    }
                    // With regions, a tenant is made in this region (others were forwarded above).
                    let region = this.server.regions.as_ref().map_or(t.region.clone(), |r| r.me.clone());
                    let rec = tenants::create(&dir, &t.name, &t.display_name, &region, &t.plan).map_err(fail)?;
                    this.server.forget_tenant(&rec.name);
                    let mut v = to_json(&rec);
                    if let Some(email) = t.owner_email {
                        v["owner"] = serde_json::json!({ "email": email, "name": t.owner_name });
                    }
                    Ok(reply(StatusCode::CREATED, v))
                }
                (&Method::GET, ["v1", "tenants", name]) => match tenants::get(&dir, name).map_err(fail)? {
                    Some(rec) => Ok(reply(StatusCode::OK, to_json(&rec))),
                    None => Err(problem(StatusCode::NOT_FOUND, "not-found", "No such tenant")),
                },
                (&Method::POST, ["v1", "tenants", name, action @ ("suspend" | "resume")]) => {
                    let state = if *action == "suspend" { TenantState::Suspended } else { TenantState::Active };
                    let rec = tenants::set_state(&dir, name, state).map_err(fail)?;
                    this.server.forget_tenant(name);
                    Ok(reply(StatusCode::OK, to_json(&rec)))
                }
                (&Method::PUT, ["v1", "tenants", name, "plan"]) => {
                    let p: PlanChange = serde_json::from_slice(&body)
                        .map_err(|e| problem(StatusCode::BAD_REQUEST, "bad-request", &e.to_string()))?;
                    let rec = tenants::set_plan(&dir, name, &p.plan).map_err(fail)?;
                    this.server.forget_tenant(name);
                    Ok(reply(StatusCode::OK, to_json(&rec)))
                }
                (&Method::PUT, ["v1", "tenants", name, "limits"]) => {
                    let l: tenants::Limits = serde_json::from_slice(&body)
                        .map_err(|e| problem(StatusCode::BAD_REQUEST, "bad-request", &e.to_string()))?;
                    let rec = tenants::set_limits(&dir, name, l).map_err(fail)?;
                    this.server.forget_tenant(name);
                    Ok(reply(StatusCode::OK, to_json(&rec)))
                }
                (&Method::POST, ["v1", "tenants", name, "export"]) => {
                    let out = tenants::export(&dir, name, &this.exports_dir).map_err(fail)?;
                    Ok(reply(StatusCode::CREATED, serde_json::json!({ "path": out })))
                }
                (&Method::DELETE, ["v1", "tenants", name]) => {
                    tenants::delete(&dir, name).map_err(fail)?;
                    this.server.forget_tenant(name);
                    this.server.app.pools.close_under(&dir.join(name));
                    Ok(Response::builder().status(StatusCode::NO_CONTENT).body(Full::new(Bytes::new())).unwrap_or_default())
                }
                _ => Err(problem(StatusCode::NOT_FOUND, "not-found", "No such operator route")),
            }
        })
        .await
        .unwrap_or_else(|_| Err(problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "operation failed")));
        let mut resp = result.unwrap_or_else(|r| r);
        // A new tenant: migrations and the owner's invitation (async: runs components).
        if method == Method::POST && path == "/v1/tenants" && resp.status() == StatusCode::CREATED {
            resp = self.provision(resp, &dir_for_provision).await;
        }
        // A tenant of this region changed: a new directory entry, told to every region.
        if let Some(regions) = self.server.regions.clone() {
            let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let name = match segments.as_slice() {
                ["v1", "tenants"] => serde_json::from_slice::<serde_json::Value>(&request_body).ok().and_then(|v| v["name"].as_str().map(String::from)),
                ["v1", "tenants", name, ..] => Some(name.to_string()),
                _ => None,
            };
            if let Some(name) = name.filter(|_| method != Method::GET && resp.status().is_success()) {
                let rec = tenants::get(&dir_for_provision, &name).ok().flatten();
                if let Ok(e) = regions.record(&name, rec.as_ref()) {
                    tokio::spawn(async move { regions.push(&[e]).await });
                }
            }
        }
        crate::log::event(
            "info",
            "operator request",
            &[("method", method.as_str()), ("path", &path), ("status", resp.status().as_str())],
        );
        resp
    }
}

impl Operator {
    /// The operator API's regional part: the directory (`GET /v1/directory`,
    /// `PUT /v1/directory` from other regions, `GET /v1/regions`), and
    /// a new tenant for another region, made there. None: not regional.
    #[allow(clippy::too_many_arguments)]
    async fn regional(&self, regions: &Arc<crate::regions::Regions>, method: &Method, path: &str, query: &str, chunk_sum: &str, body: &Bytes, dir: &std::path::Path) -> Option<Response<Body>> {
        use crate::moves;
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let failed = |e: anyhow::Error| Some(problem(StatusCode::CONFLICT, "move", &format!("{e:#}")));
        match (method, segments.as_slice()) {
            // A tenant that lives in another region: its lifecycle (suspend,
            // export, plan, move, …) is its home's to carry out, so exports and
            // backups are written there.
            // (A move's record stays with the region it left: asked there.)
            (_, ["v1", "tenants", name, rest @ ..])
                if !(*method == Method::GET && rest == ["move"]) && tenants::get(dir, name).ok().flatten().is_none_or(|r| r.state == TenantState::Moved) =>
            {
                let home = regions.home_elsewhere(name)?;
                let there = regions.all.get(&home.home)?;
                let target = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
                match regions.call(&there.operator, method.as_str(), &target, body.to_vec(), true).await {
                    Ok((status, bytes)) => Some(relayed(status, bytes, Some(&home.home))),
                    Err(e) => Some(problem(StatusCode::SERVICE_UNAVAILABLE, "region-unavailable", &format!("Region {} cannot be reached: {e:#}", home.home))),
                }
            }
            (&Method::POST, ["v1", "tenants", name, "move"]) => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct To {
                    to: String,
                }
                let to: To = match serde_json::from_slice(body) {
                    Ok(t) => t,
                    Err(e) => return Some(problem(StatusCode::BAD_REQUEST, "bad-request", &e.to_string())),
                };
                match moves::begin(&self.server, regions, name, &to.to) {
                    Ok(m) => {
                        tokio::spawn(moves::run(self.server.clone(), regions.clone(), m.clone()));
                        Some(reply(StatusCode::ACCEPTED, to_json(&m)))
                    }
                    Err(e) => failed(e),
                }
            }
            (&Method::GET, ["v1", "tenants", name, "move"]) => match moves::load(dir, name) {
                Some(m) => Some(reply(StatusCode::OK, to_json(&m))),
                None => Some(problem(StatusCode::NOT_FOUND, "not-found", "This tenant has not moved from here")),
            },
            (&Method::PUT, ["v1", "incoming", name, "files", sub, file]) => {
                let param = |k: &str| query.split('&').find_map(|kv| kv.strip_prefix(&format!("{k}=")).map(String::from));
                let offset = param("offset").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                let length = param("length").and_then(|v| v.parse::<u64>().ok());
                let fresh = param("fresh").as_deref() == Some("1");
                let (d, n, rel, b, sum) = (dir.to_path_buf(), name.to_string(), format!("{sub}/{file}"), body.clone(), chunk_sum.to_string());
                match tokio::task::spawn_blocking(move || moves::target::chunk(&d, &n, &rel, offset, &b, &sum, fresh, length)).await {
                    Ok(Ok(())) => Some(reply(StatusCode::OK, serde_json::json!({"offset": offset, "bytes": body.len()}))),
                    Ok(Err(e)) => failed(e),
                    Err(_) => Some(problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "writing failed")),
                }
            }
            (&Method::POST, ["v1", "incoming", name, "adopt"]) => {
                let manifest: tenants::ExportManifest = match serde_json::from_slice(body) {
                    Ok(m) => m,
                    Err(e) => return Some(problem(StatusCode::BAD_REQUEST, "bad-request", &e.to_string())),
                };
                if manifest.tenant.name != *name {
                    return Some(problem(StatusCode::UNPROCESSABLE_ENTITY, "validation", "The manifest is for another tenant"));
                }
                let (d, me) = (dir.to_path_buf(), regions.me.clone());
                match tokio::task::spawn_blocking(move || moves::target::adopt(&d, &me, &manifest)).await {
                    Ok(Ok(v)) => Some(reply(StatusCode::OK, v)),
                    Ok(Err(e)) => failed(e),
                    Err(_) => Some(problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "adopting failed")),
                }
            }
            (&Method::POST, ["v1", "incoming", name, "activate"]) => {
                let entry: crate::regions::Entry = match serde_json::from_slice(body) {
                    Ok(e) => e,
                    Err(e) => return Some(problem(StatusCode::BAD_REQUEST, "bad-request", &e.to_string())),
                };
                if entry.name != *name {
                    return Some(problem(StatusCode::UNPROCESSABLE_ENTITY, "validation", "The entry is for another tenant"));
                }
                let r = moves::target::activate(dir, regions, entry);
                self.server.forget_tenant(name);
                match r {
                    Ok(()) => Some(reply(StatusCode::OK, serde_json::json!({"active": true}))),
                    Err(e) => failed(e),
                }
            }
            (&Method::DELETE, ["v1", "incoming", name]) => match moves::target::discard(&self.server, dir, name) {
                Ok(()) => {
                    self.server.forget_tenant(name);
                    Some(reply(StatusCode::OK, serde_json::json!({"discarded": true})))
                }
                Err(e) => failed(e),
            },
            (&Method::GET, ["v1", "regions"]) => {
                let all: serde_json::Map<String, serde_json::Value> =
                    regions.all.iter().map(|(n, r)| (n.clone(), serde_json::json!({"public": r.public, "operator": r.operator}))).collect();
                Some(reply(StatusCode::OK, serde_json::json!({"me": regions.me, "regions": all})))
            }
            (&Method::GET, ["v1", "directory"]) => Some(reply(StatusCode::OK, serde_json::json!({"region": regions.me, "items": regions.entries()}))),
            // Entries in a batch, from another region's sync.
            (&Method::PUT, ["v1", "directory"]) => {
                let entries: Vec<crate::regions::Entry> = match serde_json::from_slice(body) {
                    Ok(e) => e,
                    Err(e) => return Some(problem(StatusCode::BAD_REQUEST, "bad-request", &e.to_string())),
                };
                // Only entries a region may send: a known home, and none for a tenant held here.
                // (The tenant's record is read only for entries that pass the cheap test.)
                let sendable = entries.into_iter().filter(|e| {
                    let held_here = || e.home != regions.me && tenants::get(dir, &e.name).ok().flatten().is_some_and(|r| matches!(r.state, TenantState::Active | TenantState::Suspended));
                    regions.all.contains_key(&e.home) && !held_here()
                });
                match regions.offer_all(sendable.collect()) {
                    Ok(kept) => Some(reply(StatusCode::OK, serde_json::json!({"kept": kept.len()}))),
                    Err(e) => Some(problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", &format!("{e:#}"))),
                }
            }
            (&Method::POST, ["v1", "tenants"]) => {
                let v: serde_json::Value = serde_json::from_slice(body).ok()?;
                let name = v["name"].as_str().unwrap_or_default();
                if let Some(e) = regions.entry(name).filter(|e| e.state != "deleted" && e.home != regions.me) {
                    return Some(problem(StatusCode::CONFLICT, "tenant-operation", &format!("tenant `{name}` already exists (in region {})", e.home)));
                }
                let region = v["region"].as_str().filter(|r| *r != regions.me)?;
                let Some(there) = regions.all.get(region) else {
                    let known: Vec<&str> = regions.all.keys().map(String::as_str).collect();
                    return Some(problem(StatusCode::UNPROCESSABLE_ENTITY, "validation", &format!("region must be one of {}", known.join(", "))));
                };
                // Made in its home region: its data never exists here.
                match regions.call(&there.operator, "POST", "/v1/tenants", body.to_vec(), true).await {
                    Ok((status, bytes)) => Some(relayed(status, bytes, None)),
                    Err(e) => Some(problem(StatusCode::SERVICE_UNAVAILABLE, "region-unavailable", &format!("Region {region} cannot be reached: {e:#}"))),
                }
            }
            _ => None,
        }
    }
}

/// A JSON answer already encoded: another region's, passed on naming the
/// region that served it, or our own (`reply`).
fn relayed(status: StatusCode, bytes: Bytes, served: Option<&str>) -> Response<Body> {
    let mut b = Response::builder().status(status).header("content-type", "application/json");
    if let Some(region) = served {
        b = b.header(crate::regions::SERVED_BY, region);
    }
    b.body(Full::new(bytes)).unwrap_or_default()
}

fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

pub async fn serve(op: Arc<Operator>, listener: TcpListener) -> Result<()> {
    crate::log::event("info", "operator API serving", &[("listen", &listener.local_addr()?.to_string())]);
    loop {
        let (stream, _) = listener.accept().await?;
        let op = op.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let op = op.clone();
                async move { Ok::<_, std::convert::Infallible>(op.handle(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
