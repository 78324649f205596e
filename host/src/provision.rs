//! Provisioning a tenant's data: every component that owns a SQLite database runs
//! its migrations (`POST /internal/migrate`), then identity creates the owner's
//! invitation (`POST /internal/owner`). Shared by the operator API and the CLI.
//!
//! `/internal/*` routes are reachable only from the host: the router forwards
//! nothing under `/internal`, and feature components are private.

use crate::app::App;
use crate::state::CallContext;
use crate::tenants;
use anyhow::{anyhow, bail, Result};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use std::path::Path;
use std::sync::Arc;

/// The first user of a new tenant.
pub struct Owner<'a> {
    pub email: &'a str,
    pub name: &'a str,
}

/// Calls one component's internal route on behalf of `tenant`; a failure
/// status is an error.
async fn call(app: &Arc<App>, tenants_dir: &Path, tenant: &str, base_url: &str, component: &str, path: &str, body: serde_json::Value) -> Result<serde_json::Value> {
    let (status, v) = call_internal(app, tenants_dir, tenant, base_url, component, path, body).await?;
    if !(200..300).contains(&status) {
        bail!("{component} {path}: {status}: {v}");
    }
    Ok(v)
}

/// Calls a component's internal route for `tenant`; answers (status, JSON).
pub async fn call_internal(app: &Arc<App>, tenants_dir: &Path, tenant: &str, base_url: &str, component: &str, path: &str, body: serde_json::Value) -> Result<(u16, serde_json::Value)> {
    let request_id = format!("host-{tenant}");
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{component}.spin.internal{path}"))
        .header("content-type", "application/json")
        .header("edge-tenant", tenant)
        .header("edge-base-url", base_url)
        .header("x-request-id", &request_id)
        .body(Full::new(Bytes::from(body.to_string())).map_err(|e| match e {}).boxed_unsync())?;
    let rec = tenants::get(tenants_dir, tenant)?;
    let call = CallContext {
        request_id,
        scope: Arc::new(app.scope_for(Some(tenant))),
        bound_variables: app.tenant_bindings(rec.as_ref()),
        depth: 0,
        deadline: std::time::Instant::now() + app.opts.request_timeout,
    };
    let resp = app.handle_internal(component, req, call).await.map_err(|e| anyhow!("{component}: {e}"))?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.map_err(|e| anyhow!("{component}: {e}"))?.to_bytes();
    Ok((status, serde_json::from_slice(&bytes).unwrap_or_default()))
}

/// Components that own a database, in a stable order.
pub fn migrating_components(app: &App) -> Vec<String> {
    let mut ids: Vec<String> = app.components.iter().filter(|(_, c)| !c.def.sqlite_databases.is_empty()).map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids
}

/// Runs every component's migrations for `tenant`; returns `{component: answer}`.
pub async fn migrate(app: &Arc<App>, tenants_dir: &Path, tenant: &str, base_url: &str) -> Result<serde_json::Value> {
    let mut done = serde_json::Map::new();
    for id in migrating_components(app) {
        let v = call(app, tenants_dir, tenant, base_url, &id, "/internal/migrate", serde_json::json!({})).await?;
        done.insert(id, v);
    }
    Ok(serde_json::Value::Object(done))
}

/// Creates the owner's invitation (sent through the tenant's outbox).
pub async fn invite_owner(app: &Arc<App>, tenants_dir: &Path, tenant: &str, base_url: &str, owner: &Owner<'_>) -> Result<serde_json::Value> {
    if !app.has_component("identity") {
        bail!("this app has no identity component");
    }
    call(app, tenants_dir, tenant, base_url, "identity", "/internal/owner", serde_json::json!({ "email": owner.email, "name": owner.name })).await
}
