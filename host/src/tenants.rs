//! Tenant records and their lifecycle on disk. `<tenants-dir>/<name>/tenant.json`
//! marks a provisioned tenant; its stores live beside it (`kv/`, `sqlite/`).
//! Lifecycle: create → (suspend ⇄ resume) → delete (only when suspended).
//! Export writes a consistent snapshot (SQLite online backup + JSON) while the
//! tenant keeps serving; restore creates a tenant from one.

use crate::tenancy::valid_tenant_name;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TenantState {
    Active,
    Suspended,
    /// A copy arriving from another region: kept, not served, until the move switches.
    Incoming,
    /// Moved to another region: no longer served here; removed once the move is done.
    Moved,
}

#[derive(Debug, Serialize, Deserialize, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    pub name: String,
    pub display_name: String,
    pub region: String,
    pub plan: String,
    pub state: TenantState,
    pub created_at_unix: u64,
    #[serde(default)]
    pub updated_at_unix: u64,
    /// Per-tenant exceptions to the plan (a negotiated deal, a support case).
    #[serde(default, skip_serializing_if = "Limits::is_empty")]
    pub limits: Limits,
}

#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_users: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_records: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }
}

impl TenantRecord {
    /// The plan's limits with this tenant's exceptions applied.
    pub fn effective_plan(&self) -> Option<Plan> {
        let p = plan(&self.plan)?;
        Some(Plan {
            max_users: self.limits.max_users.unwrap_or(p.max_users),
            max_records: self.limits.max_records.unwrap_or(p.max_records),
            requests_per_minute: self.limits.requests_per_minute.unwrap_or(p.requests_per_minute),
            ..p
        })
    }
}

/// What a plan allows. Requests/minute is enforced by the host; users and
/// records by the components that own them.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub name: &'static str,
    pub max_users: u32,
    pub max_records: u64,
    pub requests_per_minute: u32,
}

pub const PLANS: &[Plan] = &[
    Plan { name: "trial", max_users: 3, max_records: 10_000, requests_per_minute: 600 },
    Plan { name: "standard", max_users: 25, max_records: 1_000_000, requests_per_minute: 6_000 },
    Plan { name: "enterprise", max_users: 1_000, max_records: 50_000_000, requests_per_minute: 60_000 },
    // For the operator's own tenants (benchmarks, smoke tests): no request limit.
    Plan { name: "internal", max_users: u32::MAX, max_records: u64::MAX, requests_per_minute: u32::MAX },
];

pub fn plan(name: &str) -> Option<Plan> {
    PLANS.iter().find(|p| p.name == name).copied()
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn record_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name).join("tenant.json")
}

/// Writes atomically: a reader sees the old record or the new one, never half.
fn write_record(dir: &Path, rec: &TenantRecord) -> Result<()> {
    let tdir = dir.join(&rec.name);
    let tmp = tdir.join("tenant.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(rec)?)?;
    std::fs::rename(&tmp, tdir.join("tenant.json"))?;
    Ok(())
}

pub fn get(dir: &Path, name: &str) -> Result<Option<TenantRecord>> {
    if !valid_tenant_name(name) {
        return Ok(None);
    }
    match std::fs::read(record_path(dir, name)) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("tenant `{name}`: bad tenant.json"))?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("tenant `{name}`")),
    }
}

fn require(dir: &Path, name: &str) -> Result<TenantRecord> {
    get(dir, name)?.with_context(|| format!("no tenant `{name}`"))
}

pub fn create(dir: &Path, name: &str, display_name: &str, region: &str, plan_name: &str) -> Result<TenantRecord> {
    if !valid_tenant_name(name) {
        bail!("invalid tenant name `{name}`: use 1-63 lowercase letters, digits or `-`");
    }
    if plan(plan_name).is_none() {
        bail!("unknown plan `{plan_name}` (plans: {})", PLANS.iter().map(|p| p.name).collect::<Vec<_>>().join(", "));
    }
    let tdir = dir.join(name);
    if record_path(dir, name).exists() {
        bail!("tenant `{name}` already exists");
    }
    std::fs::create_dir_all(&tdir).with_context(|| format!("cannot create {}", tdir.display()))?;
    let now = now_unix();
    let rec = TenantRecord {
        name: name.to_string(),
        display_name: if display_name.is_empty() { name.to_string() } else { display_name.to_string() },
        region: region.to_string(),
        plan: plan_name.to_string(),
        state: TenantState::Active,
        created_at_unix: now,
        updated_at_unix: now,
        limits: Limits::default(),
    };
    // Written last: a tenant exists only once fully allocated.
    write_record(dir, &rec)?;
    Ok(rec)
}

pub fn list(dir: &Path) -> Result<Vec<TenantRecord>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(out) };
    for e in entries.flatten() {
        if let Some(name) = e.file_name().to_str() {
            if let Some(rec) = get(dir, name)? {
                out.push(rec);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub fn set_state(dir: &Path, name: &str, state: TenantState) -> Result<TenantRecord> {
    let mut rec = require(dir, name)?;
    rec.state = state;
    rec.updated_at_unix = now_unix();
    write_record(dir, &rec)?;
    Ok(rec)
}

pub fn set_plan(dir: &Path, name: &str, plan_name: &str) -> Result<TenantRecord> {
    if plan(plan_name).is_none() {
        bail!("unknown plan `{plan_name}`");
    }
    let mut rec = require(dir, name)?;
    rec.plan = plan_name.to_string();
    rec.updated_at_unix = now_unix();
    write_record(dir, &rec)?;
    Ok(rec)
}

pub fn set_limits(dir: &Path, name: &str, limits: Limits) -> Result<TenantRecord> {
    let mut rec = require(dir, name)?;
    rec.limits = limits;
    rec.updated_at_unix = now_unix();
    write_record(dir, &rec)?;
    Ok(rec)
}

/// Removes every byte of a suspended tenant's data.
pub fn delete(dir: &Path, name: &str) -> Result<()> {
    let rec = require(dir, name)?;
    if rec.state != TenantState::Suspended {
        bail!("tenant `{name}` is active: suspend it before deleting");
    }
    // The record goes first, so the tenant stops resolving before its files go.
    std::fs::remove_file(record_path(dir, name))?;
    std::fs::remove_dir_all(dir.join(name)).with_context(|| format!("cannot remove {}", dir.join(name).display()))?;
    Ok(())
}

/// Database files of a tenant, relative to its directory (`sqlite/x.db`, `kv/y.db`).
fn databases(tdir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["sqlite", "kv"] {
        if let Ok(entries) = std::fs::read_dir(tdir.join(sub)) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "db") {
                    out.push(PathBuf::from(sub).join(e.file_name()));
                }
            }
        }
    }
    out.sort();
    out
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ExportManifest {
    pub tenant: TenantRecord,
    pub exported_at_unix: u64,
    /// Relative path → (sha256, tables with row counts).
    pub files: Vec<ExportedFile>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ExportedFile {
    pub path: String,
    /// Empty for a move's snapshot: its chunks are checked as they arrive.
    pub sha256: String,
    pub rows: Vec<(String, i64)>,
    /// The file's length (0: not recorded, as in older exports).
    #[serde(default)]
    pub bytes: u64,
}

fn sha256_file(p: &Path) -> Result<String> {
    Ok(hex::encode(Sha256::digest(std::fs::read(p)?)))
}

/// All user tables of a database as JSON, and their row counts.
fn dump_json(conn: &rusqlite::Connection) -> Result<(serde_json::Value, Vec<(String, i64)>)> {
    let mut tables = serde_json::Map::new();
    let mut counts = Vec::new();
    let names = user_tables(conn)?;
    for t in names {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{}\"", t.replace('"', "\"\"")))?;
        let cols: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        let mut rows = Vec::new();
        let mut q = stmt.query([])?;
        while let Some(row) = q.next()? {
            let mut obj = serde_json::Map::new();
            for (i, c) in cols.iter().enumerate() {
                use rusqlite::types::ValueRef::*;
                let v = match row.get_ref(i)? {
                    Null => serde_json::Value::Null,
                    Integer(n) => n.into(),
                    Real(f) => f.into(),
                    Text(s) => String::from_utf8_lossy(s).into_owned().into(),
                    Blob(b) => serde_json::json!({ "base64_hex": hex::encode(b) }),
                };
                obj.insert(c.clone(), v);
            }
            rows.push(serde_json::Value::Object(obj));
        }
        counts.push((t.clone(), rows.len() as i64));
        tables.insert(t, rows.into());
    }
    Ok((serde_json::Value::Object(tables), counts))
}

/// One database's online backup into `out/rel` (`pages` per step, `pause`
/// between steps): a consistent, self-contained file (no -wal beside it).
fn backup(tdir: &Path, rel: &Path, out: &Path, pages: std::os::raw::c_int, pause: std::time::Duration) -> Result<(PathBuf, rusqlite::Connection)> {
    let src = rusqlite::Connection::open_with_flags(tdir.join(rel), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(std::time::Duration::from_secs(5))?;
    let dest_path = out.join(rel);
    std::fs::create_dir_all(dest_path.parent().context("path has a parent")?)?;
    let mut dest = rusqlite::Connection::open(&dest_path)?;
    rusqlite::backup::Backup::new(&src, &mut dest)?.run_to_completion(pages, pause, None)?;
    dest.execute_batch("PRAGMA journal_mode=DELETE;")?;
    Ok((dest_path, dest))
}

/// A consistent snapshot of every database (SQLite online backup: writers keep
/// going), a JSON rendering of the same data, and a manifest with checksums.
pub fn export(dir: &Path, name: &str, out_root: &Path) -> Result<PathBuf> {
    let rec = require(dir, name)?;
    let tdir = dir.join(name);
    let out = out_root.join(format!("{name}-{}", now_unix()));
    if out.exists() {
        bail!("{} already exists", out.display());
    }
    std::fs::create_dir_all(&out)?;
    let mut files = Vec::new();
    let mut json = serde_json::Map::new();
    for rel in databases(&tdir) {
        // Gently: 256 pages at a time with a pause, the tenant keeps serving.
        let (dest_path, dest) = backup(&tdir, &rel, &out, 256, std::time::Duration::from_millis(5))?;
        let (data, rows) = dump_json(&dest)?;
        drop(dest);
        let rel_s = rel.to_string_lossy().to_string();
        json.insert(rel_s.clone(), data);
        let bytes = std::fs::metadata(&dest_path)?.len();
        files.push(ExportedFile { sha256: sha256_file(&dest_path)?, path: rel_s, rows, bytes });
    }
    std::fs::write(out.join("data.json"), serde_json::to_vec_pretty(&json)?)?;
    let manifest = ExportManifest { tenant: rec, exported_at_unix: now_unix(), files };
    std::fs::write(out.join("export.json"), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(out)
}

/// A consistent copy of every database for a move (SQLite online backup),
/// with row counts and lengths: an export without the JSON rendering, and
/// without whole-file checksums (a move checks every chunk it sends instead).
/// The manifest is returned, not written (`export.json` is `export`'s).
pub fn snapshot(dir: &Path, name: &str, out: &Path) -> Result<ExportManifest> {
    let rec = require(dir, name)?;
    let tdir = dir.join(name);
    remove_dir(out)?;
    std::fs::create_dir_all(out)?;
    let mut files = Vec::new();
    for rel in databases(&tdir) {
        // At full speed: a move's second snapshot is taken while writes wait.
        let (dest_path, dest) = backup(&tdir, &rel, out, 1024, std::time::Duration::ZERO)?;
        let rows = row_counts(&dest)?;
        drop(dest);
        let bytes = std::fs::metadata(&dest_path)?.len();
        files.push(ExportedFile { sha256: String::new(), path: rel.to_string_lossy().to_string(), rows, bytes });
    }
    Ok(ExportManifest { tenant: rec, exported_at_unix: now_unix(), files })
}

/// A database's own tables, by name.
fn user_tables(conn: &rusqlite::Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?;
    let names = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(names)
}

/// Rows per user table of a database.
pub fn row_counts(conn: &rusqlite::Connection) -> Result<Vec<(String, i64)>> {
    let names = user_tables(conn)?;
    let mut out = Vec::new();
    for t in names {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{}\"", t.replace('"', "\"\"")), [], |r| r.get(0))?;
        out.push((t, n));
    }
    Ok(out)
}

/// Row counts of a tenant's databases as they are on disk (after a restore).
pub fn counts(dir: &Path, name: &str) -> Result<Vec<(String, Vec<(String, i64)>)>> {
    let tdir = dir.join(name);
    let mut out = Vec::new();
    for rel in databases(&tdir) {
        let c = rusqlite::Connection::open_with_flags(tdir.join(&rel), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        out.push((rel.to_string_lossy().to_string(), row_counts(&c)?));
    }
    Ok(out)
}

/// Removes a tenant's record and files whatever its state (a finished or
/// abandoned move); the record goes first so it stops resolving.
pub fn remove(dir: &Path, name: &str) -> Result<()> {
    if !valid_tenant_name(name) {
        bail!("invalid tenant name `{name}`");
    }
    let _ = std::fs::remove_file(record_path(dir, name));
    remove_dir(&dir.join(name)).with_context(|| format!("cannot remove {}", dir.join(name).display()))
}

/// Removes a directory that may not exist.
pub(crate) fn remove_dir(d: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(d) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Creates tenant `name` from an export, after verifying every checksum.
pub fn restore(dir: &Path, name: &str, from: &Path) -> Result<TenantRecord> {
    let manifest: ExportManifest = serde_json::from_slice(
        &std::fs::read(from.join("export.json")).with_context(|| format!("{}: not an export", from.display()))?,
    )?;
    restore_as(dir, name, from, &manifest, TenantState::Active, None)
}

/// `restore` from a manifest already in hand, in a given state (and region,
/// for a tenant moving in).
pub fn restore_as(dir: &Path, name: &str, from: &Path, manifest: &ExportManifest, state: TenantState, region: Option<&str>) -> Result<TenantRecord> {
    for f in &manifest.files {
        let path = from.join(&f.path);
        if !f.sha256.is_empty() {
            if sha256_file(&path)? != f.sha256 {
                bail!("{}: checksum mismatch (export is damaged)", f.path);
            }
        } else if std::fs::metadata(&path)?.len() != f.bytes {
            // A move's copy: its chunks were checked as they came.
            bail!("{}: length mismatch (the copy is incomplete)", f.path);
        }
    }
    if get(dir, name)?.is_some() {
        bail!("tenant `{name}` already exists");
    }
    if !valid_tenant_name(name) {
        bail!("invalid tenant name `{name}`");
    }
    let tdir = dir.join(name);
    std::fs::create_dir_all(&tdir)?;
    for f in &manifest.files {
        let dest = tdir.join(&f.path);
        std::fs::create_dir_all(dest.parent().context("path has a parent")?)?;
        // A move's copy is taken, not copied (same disk, no second write).
        if state != TenantState::Incoming || std::fs::rename(from.join(&f.path), &dest).is_err() {
            std::fs::copy(from.join(&f.path), &dest)?;
        }
    }
    let now = now_unix();
    let region = region.map_or(manifest.tenant.region.clone(), String::from);
    let rec = TenantRecord { name: name.to_string(), state, region, created_at_unix: now, updated_at_unix: now, ..manifest.tenant.clone() };
    write_record(dir, &rec)?;
    Ok(rec)
}

/// Deployment artefacts for running this tenant on real Spin / SpinKube: its
/// runtime config, a Secret holding it, and a SpinApp with the tenant variable.
pub fn artefacts(dir: &Path, name: &str, image: &str, out: &Path) -> Result<Vec<PathBuf>> {
    let rec = require(dir, name)?;
    std::fs::create_dir_all(out)?;
    let rc = format!(
        "# Runtime config for tenant `{n}` (region {r}): its own stores.\n[key_value_store.default]\ntype = \"spin\"\npath = \"/data/{n}/kv/default.db\"\n\n[sqlite_database.default]\ntype = \"spin\"\npath = \"/data/{n}/sqlite/default.db\"\n",
        n = rec.name,
        r = rec.region
    );
    let indent = |s: &str| s.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: edge-crm-{n}-runtime-config\n  labels:\n    edge-crm/tenant: {n}\ntype: Opaque\nstringData:\n  runtime-config.toml: |\n{rc}\n",
        n = rec.name,
        rc = indent(&rc)
    );
    let spinapp = format!(
        "apiVersion: core.spinkube.dev/v1alpha1\nkind: SpinApp\nmetadata:\n  name: edge-crm-{n}\n  labels:\n    edge-crm/tenant: {n}\n    edge-crm/region: {r}\n    edge-crm/plan: {p}\nspec:\n  image: \"{image}\"\n  executor: containerd-shim-spin\n  replicas: {replicas}\n  variables:\n    - name: tenant_id\n      value: \"{n}\"\n  runtimeConfig:\n    loadFromSecret: edge-crm-{n}-runtime-config\n  volumes:\n    - name: tenant-data\n      persistentVolumeClaim:\n        claimName: edge-crm-{n}-data\n  volumeMounts:\n    - name: tenant-data\n      mountPath: /data/{n}\n",
        n = rec.name,
        r = rec.region,
        p = rec.plan,
        replicas = if rec.state == TenantState::Suspended { 0 } else { 1 },
    );
    let mut written = Vec::new();
    for (file, text) in [("runtime-config.toml", rc), ("secret.yaml", secret), ("spinapp.yaml", spinapp)] {
        let p = out.join(file);
        std::fs::write(&p, text)?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("edge-tenants-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn lifecycle_rules() {
        let dir = tmp("life");
        create(&dir, "acme", "Acme Inc", "eu", "standard").unwrap();
        assert!(create(&dir, "acme", "", "eu", "standard").is_err(), "no duplicates");
        assert!(create(&dir, "Bad_Name", "", "eu", "standard").is_err());
        assert!(create(&dir, "other", "", "eu", "platinum").is_err(), "unknown plan");
        assert!(delete(&dir, "acme").is_err(), "active tenants cannot be deleted");
        let rec = set_limits(&dir, "acme", Limits { max_records: Some(5), ..Limits::default() }).unwrap();
        let p = rec.effective_plan().unwrap();
        assert_eq!((p.max_records, p.max_users), (5, 25), "override one limit, keep the plan's others");
        assert_eq!(set_state(&dir, "acme", TenantState::Suspended).unwrap().state, TenantState::Suspended);
        delete(&dir, "acme").unwrap();
        assert!(get(&dir, "acme").unwrap().is_none());
        assert!(!dir.join("acme").exists(), "every byte removed");
    }

    #[test]
    fn export_and_restore_round_trip() {
        let dir = tmp("export");
        create(&dir, "acme", "Acme", "eu", "trial").unwrap();
        let db = dir.join("acme/sqlite/default.db");
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a'), ('b');").unwrap();
        let out = export(&dir, "acme", &dir.join("exports")).unwrap();
        c.execute_batch("INSERT INTO t VALUES ('after export');").unwrap();
        let m: ExportManifest = serde_json::from_slice(&std::fs::read(out.join("export.json")).unwrap()).unwrap();
        assert_eq!(m.files[0].rows, vec![("t".to_string(), 2)]);
        let data: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("data.json")).unwrap()).unwrap();
        assert_eq!(data["sqlite/default.db"]["t"][1]["x"], "b");

        let rec = restore(&dir, "acme-copy", &out).unwrap();
        assert_eq!((rec.plan.as_str(), rec.region.as_str()), ("trial", "eu"));
        let r = rusqlite::Connection::open(dir.join("acme-copy/sqlite/default.db")).unwrap();
        let n: i64 = r.query_row("SELECT count(*) FROM t", [], |row| row.get(0)).unwrap();
        assert_eq!(n, 2);

        std::fs::write(out.join("sqlite/default.db"), b"tampered").unwrap();
        assert!(restore(&dir, "acme-bad", &out).unwrap_err().to_string().contains("checksum"));
    }

    #[test]
    fn artefacts_name_the_tenant() {
        let dir = tmp("art");
        create(&dir, "acme", "Acme", "us", "enterprise").unwrap();
        let files = artefacts(&dir, "acme", "registry.example/edge-crm:1", &dir.join("out")).unwrap();
        let app = std::fs::read_to_string(&files[2]).unwrap();
        assert!(app.contains("kind: SpinApp") && app.contains("value: \"acme\"") && app.contains("edge-crm/region: us"));
        assert!(std::fs::read_to_string(&files[0]).unwrap().contains("/data/acme/sqlite/default.db"));
    }
}
