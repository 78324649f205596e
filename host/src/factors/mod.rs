//! One module per host capability, Spin-"factor" style. Each links its WIT into the
//! linker once (`link`), checks the manifest against the runtime config when the
//! app loads (`validate`), and contributes a small per-request state.

pub mod key_value;
pub mod outbound_http;
pub mod sqlite;
pub mod variables;

use crate::manifest::{AppManifest, ComponentDef};
use crate::runtime_config::RuntimeConfig;
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Start-up check shared by the storage capabilities: in a single deployment every
/// label a component lists needs an entry in the runtime config; per tenant, every
/// label is a file in the tenant's directory.
fn check_labels(
    manifest: &AppManifest,
    kind: &str,
    table: &str,
    labels: impl Fn(&ComponentDef) -> &Vec<String>,
    configured: &BTreeMap<String, PathBuf>,
    per_tenant: bool,
) -> Result<()> {
    if per_tenant {
        return Ok(());
    }
    for c in manifest.components.values() {
        if let Some(label) = labels(c).iter().find(|l| !configured.contains_key(*l)) {
            bail!(
                "component `{}` uses {kind} `{label}`, which is not configured: add [{table}.{label}] to the runtime config",
                c.id
            );
        }
    }
    Ok(())
}

/// Where a request's stores live: the app's runtime config (single deployment,
/// as `spin up`), or one tenant's directory. Chosen per request by the host; a
/// component only ever names labels, so it cannot reach another tenant's files.
#[derive(Debug, Clone)]
pub enum StorageScope {
    App(std::sync::Arc<RuntimeConfig>),
    Tenant(PathBuf),
    /// The request named no known tenant: there is no storage at all.
    Unbound,
}

impl StorageScope {
    pub fn key_value_path(&self, label: &str) -> Option<PathBuf> {
        match self {
            StorageScope::App(rc) => rc.key_value.get(label).cloned(),
            StorageScope::Tenant(dir) => Some(dir.join("kv").join(format!("{label}.db"))),
            StorageScope::Unbound => None,
        }
    }

    pub fn sqlite_path(&self, label: &str) -> Option<PathBuf> {
        match self {
            StorageScope::App(rc) => rc.sqlite.get(label).cloned(),
            StorageScope::Tenant(dir) => Some(dir.join("sqlite").join(format!("{label}.db"))),
            StorageScope::Unbound => None,
        }
    }
}
