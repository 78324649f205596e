//! Tenant records on disk: `<tenants-dir>/<name>/tenant.json` marks a provisioned
//! tenant; its stores live beside it (`kv/`, `sqlite/`).

use crate::tenancy::valid_tenant_name;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct TenantRecord {
    pub name: String,
    pub display_name: String,
    pub region: String,
    pub plan: String,
    pub state: String,
    pub created_at_unix: u64,
}

pub fn create(dir: &Path, name: &str, display_name: &str, region: &str) -> Result<TenantRecord> {
    if !valid_tenant_name(name) {
        bail!("invalid tenant name `{name}`: use 1-63 lowercase letters, digits or `-`");
    }
    let tdir = dir.join(name);
    if tdir.join("tenant.json").exists() {
        bail!("tenant `{name}` already exists");
    }
    std::fs::create_dir_all(&tdir).with_context(|| format!("cannot create {}", tdir.display()))?;
    let rec = TenantRecord {
        name: name.to_string(),
        display_name: display_name.to_string(),
        region: region.to_string(),
        plan: "standard".into(),
        state: "active".into(),
        created_at_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    // Written last and atomically: a tenant exists only once fully allocated.
    let tmp = tdir.join("tenant.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&rec)?)?;
    std::fs::rename(&tmp, tdir.join("tenant.json"))?;
    Ok(rec)
}

pub fn list(dir: &Path) -> Result<Vec<TenantRecord>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(out) };
    for e in entries.flatten() {
        let f = e.path().join("tenant.json");
        if let Ok(bytes) = std::fs::read(&f) {
            out.push(serde_json::from_slice(&bytes).with_context(|| format!("{}", f.display()))?);
        }
    }
    out.sort_by(|a: &TenantRecord, b| a.name.cmp(&b.name));
    Ok(out)
}
