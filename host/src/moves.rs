//! Moving a tenant to another region (`POST /v1/tenants/{name}/move {"to"}`
//! on its home region's operator API).
//!
//! 1. Copy while serving: a consistent snapshot of every database (SQLite
//!    online backup), sent in chunks to the target region, which keeps it
//!    aside.
//! 2. Hold and catch up: new writes for the tenant wait (reads go on),
//!    writes in flight finish; a second snapshot, here on local disk, is
//!    compared with the first block by block and only the blocks that
//!    changed are sent (the backup keeps page numbers, so an unchanged page
//!    is an unchanged block). The write pause is this step and the next two.
//! 3. Adopt: the target has checked every chunk's checksum as it arrived;
//!    it checks the lengths, installs the copy as an *incoming* tenant
//!    (kept, not served) and answers its row counts, which must equal the
//!    source's.
//! 4. Switch: the directory entry names the target as home (a newer version),
//!    the target serves the tenant, the source marks its copy *moved*.
//! 5. Release: held writes go on, now forwarded to the new home.
//! 6. Clean up: the old copy is removed.
//!
//! Each phase is written to `<tenants-dir>/.moves/<name>.json` before it
//! starts. A move interrupted before the switch (either process killed) is
//! rolled back when the source starts again: the target drops its copy and
//! the tenant stays where it was, whole. One interrupted after the switch is
//! finished. The tenant is never served by two homes: the target serves it
//! only once the source has recorded the switch, and the source stops
//! before it releases the writes it held.

use crate::regions::{Entry, Regions};
use crate::server::Server;
use crate::tenants::{self, TenantState};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes per chunk sent to the target.
pub const CHUNK: usize = 8 << 20;
/// How long writes in flight may take to finish before a move gives up.
const DRAIN: Duration = Duration::from_secs(10);

/// Where a move is; recorded before each step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Copying,
    CatchingUp,
    Adopted,
    Switched,
    Done,
    RolledBack,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Copying => "copying",
            Phase::CatchingUp => "catching_up",
            Phase::Adopted => "adopted",
            Phase::Switched => "switched",
            Phase::Done => "done",
            Phase::RolledBack => "rolled_back",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Move {
    pub tenant: String,
    pub from: String,
    pub to: String,
    pub phase: Phase,
    pub started_at_unix: u64,
    pub finished_at_unix: Option<u64>,
    pub error: Option<String>,
    /// How long the tenant's writes were held.
    pub write_pause_ms: Option<u64>,
    #[serde(default)]
    pub bytes: u64,
    /// Of those, sent while writes were held (the catch-up).
    #[serde(default)]
    pub catch_up_bytes: u64,
    /// A rolled-back move whose target has not yet dropped its copy (it was
    /// down): asked again until it has, so no copy stays outside the home.
    #[serde(default)]
    pub target_copy_left: bool,
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn moves_dir(tenants_dir: &Path) -> PathBuf {
    tenants_dir.join(".moves")
}

pub fn staging(tenants_dir: &Path, name: &str) -> PathBuf {
    tenants_dir.join(".staging").join(name)
}

pub fn incoming(tenants_dir: &Path, name: &str) -> PathBuf {
    tenants_dir.join(".incoming").join(name)
}

pub fn load(tenants_dir: &Path, name: &str) -> Option<Move> {
    read(&moves_dir(tenants_dir).join(format!("{name}.json")))
}

fn read(path: &Path) -> Option<Move> {
    std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok())
}

fn save(tenants_dir: &Path, m: &Move) -> Result<()> {
    let d = moves_dir(tenants_dir);
    std::fs::create_dir_all(&d)?;
    let tmp = d.join(format!("{}.json.tmp", m.tenant));
    std::fs::write(&tmp, serde_json::to_vec_pretty(m)?)?;
    std::fs::rename(&tmp, d.join(format!("{}.json", m.tenant)))?;
    Ok(())
}

fn finished(m: &Move) -> bool {
    matches!(m.phase, Phase::Done | Phase::RolledBack)
}

/// Every recorded move of this region.
fn all(tenants_dir: &Path) -> Vec<Move> {
    let Ok(entries) = std::fs::read_dir(moves_dir(tenants_dir)) else { return Vec::new() };
    entries.flatten().filter_map(|e| read(&e.path())).collect()
}

/// Checks and records a new move; the caller runs it (`run`).
pub fn begin(server: &Server, regions: &Regions, name: &str, to: &str) -> Result<Move> {
    let dir = &server.tenancy.as_ref().context("no tenancy")?.dir;
    if to == regions.me {
        bail!("the tenant is in {to} already");
    }
    if !regions.all.contains_key(to) {
        bail!("unknown region `{to}`");
    }
    let rec = tenants::get(dir, name)?.with_context(|| format!("no tenant `{name}` in this region"))?;
    if rec.state != TenantState::Active {
        bail!("tenant `{name}` is {:?}: only an active tenant moves", rec.state);
    }
    if load(dir, name).is_some_and(|m| !finished(&m)) {
        bail!("tenant `{name}` is moving already");
    }
    let m = Move { tenant: name.into(), from: regions.me.clone(), to: to.into(), phase: Phase::Copying, started_at_unix: now_unix(), ..Default::default() };
    save(dir, &m)?;
    Ok(m)
}

/// Runs a move to the end (or rolls it back); records how it went.
pub async fn run(server: Arc<Server>, regions: Arc<Regions>, mut m: Move) {
    let Some(dir) = server.tenancy.as_ref().map(|t| t.dir.clone()) else { return };
    let mut held: Option<Instant> = None;
    let result = steps(&server, &regions, &dir, &mut m, &mut held).await;
    // Writes go on: to the new home if the switch happened, else here.
    server.holds.release(&m.tenant);
    m.write_pause_ms = held.map(|h| h.elapsed().as_millis() as u64);
    match result {
        Ok(()) => {
            if let Err(e) = clean_up(&server, &dir, &m) {
                crate::log::event("warn", "move clean-up failed (retried at start)", &[("tenant", &m.tenant), ("error", &format!("{e:#}"))]);
                let _ = save(&dir, &m);
                return;
            }
            m.phase = Phase::Done;
        }
        Err(e) => {
            let e = format!("{e:#}");
            m.error = Some(e.clone());
            if m.phase == Phase::Switched {
                crate::log::event("warn", "move: the target has not taken over yet; retrying", &[("tenant", &m.tenant), ("error", &e)]);
                // Past the point of no return: the target must take over (it
                // may be down just now); keep telling it, then clean up.
                let _ = save(&dir, &m);
                finish_switch(&server, &regions, &dir, &mut m).await;
                m.finished_at_unix = Some(now_unix());
                let _ = save(&dir, &m);
                return;
            }
            crate::log::event("error", "move failed: rolling back", &[("tenant", &m.tenant), ("error", &e)]);
            roll_back(&server, &regions, &dir, &mut m).await;
        }
    }
    m.finished_at_unix = Some(now_unix());
    let _ = save(&dir, &m);
    crate::log::event("info", "move finished", &[("tenant", &m.tenant), ("to", &m.to), ("phase", m.phase.as_str())]);
}

/// A test hook: pause after a phase (`EDGE_MOVE_PAUSE_AFTER`, for
/// `EDGE_MOVE_PAUSE_SECS`, default 60) so a test can kill a process there.
async fn pause_after(phase: Phase) {
    if std::env::var("EDGE_MOVE_PAUSE_AFTER").is_ok_and(|p| p == phase.as_str()) {
        let secs = std::env::var("EDGE_MOVE_PAUSE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}

/// After the switch: tells the target until it has taken over, then removes
/// this copy. The tenant is served by nobody meanwhile (its requests get 503
/// with Retry-After), never by two.
async fn finish_switch(server: &Arc<Server>, regions: &Arc<Regions>, dir: &Path, m: &mut Move) {
    let mut tries: u64 = 0;
    while let Err(e) = switch(server, regions, dir, m).await {
        tries += 1;
        crate::log::event("warn", "finishing a move: the target is not answering yet", &[("tenant", &m.tenant), ("error", &format!("{e:#}"))]);
        tokio::time::sleep(Duration::from_millis(500 * tries.min(10))).await;
    }
    match clean_up(server, dir, m) {
        Ok(()) => m.phase = Phase::Done,
        Err(e) => m.error = Some(format!("cleaning up: {e:#}")),
    }
}

async fn steps(server: &Arc<Server>, regions: &Arc<Regions>, dir: &Path, m: &mut Move, held: &mut Option<Instant>) -> Result<()> {
    let there = regions.all.get(&m.to).context("unknown region")?.operator.clone();
    let base = format!("/v1/incoming/{}", m.tenant);
    // Copy while the tenant serves (`begin` recorded the phase).
    let first_dir = staging(dir, &m.tenant).join("first");
    let (d, name, out) = (dir.to_path_buf(), m.tenant.clone(), first_dir.clone());
    let first = tokio::task::spawn_blocking(move || tenants::snapshot(&d, &name, &out)).await??;
    let (status, body) = regions.call(&there, "DELETE", &base, Vec::new(), true).await?;
    if !status.is_success() {
        bail!("the target refused to start: {status} {}", String::from_utf8_lossy(&body));
    }
    for f in &first.files {
        m.bytes += send_file(regions, &there, &base, &first_dir, &f.path, None).await?;
    }
    // Hold, then catch up with what changed meanwhile.
    server.holds.hold(&m.tenant);
    *held = Some(Instant::now());
    server.holds.drain(&m.tenant, DRAIN).await.context("writes in flight did not finish")?;
    m.phase = Phase::CatchingUp;
    save(dir, m)?;
    let final_dir = staging(dir, &m.tenant).join("final");
    let (d, name, out) = (dir.to_path_buf(), m.tenant.clone(), final_dir.clone());
    let manifest = tokio::task::spawn_blocking(move || tenants::snapshot(&d, &name, &out)).await??;
    for f in &manifest.files {
        let before = first.files.iter().any(|x| x.path == f.path).then(|| first_dir.join(&f.path));
        let n = send_file(regions, &there, &base, &final_dir, &f.path, before.as_deref()).await?;
        m.bytes += n;
        m.catch_up_bytes += n;
    }
    // Adopt: the target checks and counts; the counts must be ours.
    let (status, body) = regions.call(&there, "POST", &format!("{base}/adopt"), serde_json::to_vec(&manifest)?, true).await?;
    if !status.is_success() {
        bail!("the target did not adopt the copy: {status} {}", String::from_utf8_lossy(&body));
    }
    let theirs: serde_json::Value = serde_json::from_slice(&body)?;
    let ours: Vec<(String, Vec<(String, i64)>)> = manifest.files.iter().map(|f| (f.path.clone(), f.rows.clone())).collect();
    if theirs["counts"] != serde_json::to_value(&ours)? {
        bail!("row counts differ after the copy: {} here, {} there", serde_json::to_value(&ours)?, theirs["counts"]);
    }
    m.phase = Phase::Adopted;
    save(dir, m)?;
    pause_after(Phase::Adopted).await;
    // Switch: recorded here first (the point of no return), then the target serves.
    m.phase = Phase::Switched;
    save(dir, m)?;
    switch(server, regions, dir, m).await?;
    pause_after(Phase::Switched).await;
    Ok(())
}

/// Blocks compared when catching up (a few SQLite pages).
const BLOCK: usize = 64 << 10;

/// Sends `dir/rel` to the target: whole (`before` None: the target starts
/// the file afresh), or only the blocks that differ from `before` (the copy
/// the target has already); then the file's length. Answers the bytes sent.
async fn send_file(regions: &Regions, there: &str, base: &str, dir: &Path, rel: &str, before: Option<&Path>) -> Result<u64> {
    use tokio::io::AsyncReadExt;
    let put = |offset: u64, bytes: Vec<u8>, extra: String| async move {
        // Each chunk carries its checksum; the target checks it before writing.
        let sum = hex::encode(sha2::Sha256::digest(&bytes));
        let (status, body) = regions.call_with(there, "PUT", &format!("{base}/files/{rel}?offset={offset}{extra}"), bytes, true, &[("x-sha256", sum)]).await?;
        if !status.is_success() {
            bail!("sending {rel}: {status} {}", String::from_utf8_lossy(&body));
        }
        Ok::<(), anyhow::Error>(())
    };
    let mut file = tokio::fs::File::open(dir.join(rel)).await?;
    let len = file.metadata().await?.len();
    let mut old = match before {
        Some(p) => Some(tokio::fs::File::open(p).await?),
        None => None,
    };
    let (mut offset, mut sent) = (0u64, 0u64);
    loop {
        // A chunk at a time: a large tenant is never whole in memory.
        let mut chunk = Vec::with_capacity(CHUNK);
        (&mut file).take(CHUNK as u64).read_to_end(&mut chunk).await?;
        let n = chunk.len();
        if n == 0 {
            break;
        }
        match old.as_mut() {
            None => {
                put(offset, chunk, if offset == 0 { "&fresh=1".into() } else { String::new() }).await?;
                sent += n as u64;
            }
            Some(o) => {
                let mut prev = Vec::with_capacity(CHUNK);
                o.take(CHUNK as u64).read_to_end(&mut prev).await?;
                let same = |a: usize, b: usize| prev.get(a..b) == Some(&chunk[a..b]);
                let mut i = 0;
                while i < n {
                    let end = (i + BLOCK).min(n);
                    if same(i, end) {
                        i = end;
                        continue;
                    }
                    // A run of changed blocks goes in one request.
                    let start = i;
                    while i < n && !same(i, (i + BLOCK).min(n)) {
                        i = (i + BLOCK).min(n);
                    }
                    put(offset + start as u64, chunk[start..i].to_vec(), String::new()).await?;
                    sent += (i - start) as u64;
                }
            }
        }
        offset += n as u64;
        if n < CHUNK {
            break;
        }
    }
    // The length last: a file that shrank, or an empty one, is right too.
    put(len, Vec::new(), format!("&length={len}{}", if before.is_none() && len == 0 { "&fresh=1" } else { "" })).await?;
    Ok(sent)
}

/// The directory names the target; the target serves; this copy stops.
async fn switch(server: &Arc<Server>, regions: &Arc<Regions>, dir: &Path, m: &Move) -> Result<()> {
    let there = regions.all.get(&m.to).context("unknown region")?.operator.clone();
    let old = regions.entry(&m.tenant);
    let version = old.as_ref().map_or(1, |e| e.version + if e.home == m.to { 0 } else { 1 });
    let rec = tenants::get(dir, &m.tenant)?;
    let plan = rec.as_ref().map(|r| r.plan.clone()).or(old.map(|e| e.plan)).unwrap_or_default();
    let entry = Entry { name: m.tenant.clone(), home: m.to.clone(), state: "active".into(), plan, version, updated_at_unix: now_unix() };
    regions.offer(entry.clone())?;
    if rec.is_some() {
        tenants::set_state(dir, &m.tenant, TenantState::Moved)?;
    }
    server.forget_tenant(&m.tenant);
    let (status, body) = regions.call(&there, "POST", &format!("/v1/incoming/{}/activate", m.tenant), serde_json::to_vec(&entry)?, true).await?;
    if !status.is_success() {
        bail!("the target did not take over: {status} {}", String::from_utf8_lossy(&body));
    }
    let r = regions.clone();
    tokio::spawn(async move { r.push(&[entry]).await });
    Ok(())
}

fn clean_up(server: &Server, dir: &Path, m: &Move) -> Result<()> {
    server.app.pools.close_under(&dir.join(&m.tenant));
    tenants::remove(dir, &m.tenant)?;
    tenants::remove_dir(&staging(dir, &m.tenant))?;
    Ok(())
}

async fn roll_back(server: &Arc<Server>, regions: &Arc<Regions>, dir: &Path, m: &mut Move) {
    m.target_copy_left = !drop_target_copy(regions, m).await;
    let _ = tenants::remove_dir(&staging(dir, &m.tenant));
    server.forget_tenant(&m.tenant);
    m.phase = Phase::RolledBack;
}

/// Asks the target to drop its copy; answers whether it did.
async fn drop_target_copy(regions: &Regions, m: &Move) -> bool {
    let Some(r) = regions.all.get(&m.to) else { return true };
    match regions.call(&r.operator, "DELETE", &format!("/v1/incoming/{}", m.tenant), Vec::new(), true).await {
        Ok((s, _)) if s.is_success() => true,
        other => {
            let why = match other {
                Ok((s, b)) => format!("{s} {}", String::from_utf8_lossy(&b)),
                Err(e) => format!("{e:#}"),
            };
            crate::log::event("warn", "the target's copy stays until it answers", &[("tenant", &m.tenant), ("error", &why)]);
            false
        }
    }
}

/// Every so often: rolled-back moves whose target still holds a copy.
pub async fn tidy_loop(server: Arc<Server>, regions: Arc<Regions>, every: Duration) {
    let Some(dir) = server.tenancy.as_ref().map(|t| t.dir.clone()) else { return };
    loop {
        tokio::time::sleep(every).await;
        for mut m in all(&dir) {
            if m.phase == Phase::RolledBack && m.target_copy_left && drop_target_copy(&regions, &m).await {
                m.target_copy_left = false;
                let _ = save(&dir, &m);
            }
        }
    }
}

/// At start: moves a killed process left behind are rolled back (before
/// the switch) or finished (after it).
pub async fn recover(server: Arc<Server>, regions: Arc<Regions>) {
    let Some(dir) = server.tenancy.as_ref().map(|t| t.dir.clone()) else { return };
    for mut m in all(&dir) {
        if finished(&m) {
            continue;
        }
        crate::log::event("info", "recovering an interrupted move", &[("tenant", &m.tenant), ("phase", m.phase.as_str())]);
        if m.phase == Phase::Switched {
            // Tell the target again (it may not have heard), then clean up.
            finish_switch(&server, &regions, &dir, &mut m).await;
        } else {
            roll_back(&server, &regions, &dir, &mut m).await;
            m.error.get_or_insert_with(|| "interrupted".into());
        }
        m.finished_at_unix = Some(now_unix());
        let _ = save(&dir, &m);
    }
}

/// The target's side: a copy arriving in chunks, checked, installed as
/// incoming (not served), then activated by the source's switch.
pub mod target {
    use super::*;

    /// Writes a chunk of an arriving file at its offset (`fresh`: the file
    /// starts over; `length`: the file's final length), once its checksum
    /// (SHA-256, hex) matches.
    #[allow(clippy::too_many_arguments)]
    pub fn chunk(tenants_dir: &Path, name: &str, rel: &str, offset: u64, bytes: &[u8], sha256: &str, fresh: bool, length: Option<u64>) -> Result<()> {
        if hex::encode(sha2::Sha256::digest(bytes)) != sha256 {
            bail!("{rel} at {offset}: the chunk's checksum does not match (damaged on the way)");
        }
        if tenants::get(tenants_dir, name)?.is_some_and(|r| r.state != TenantState::Incoming) {
            bail!("tenant `{name}` already exists here");
        }
        // Only the databases' own places: `sqlite/<x>.db`, `kv/<x>.db`.
        let ok = rel.split_once('/').is_some_and(|(sub, file)| {
            matches!(sub, "sqlite" | "kv") && file.ends_with(".db") && !file.contains('/') && !file.starts_with('.') && file.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
        if !ok {
            bail!("not a database path: {rel}");
        }
        let path = incoming(tenants_dir, name).join(rel);
        std::fs::create_dir_all(path.parent().context("has a parent")?)?;
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().create(true).write(true).truncate(fresh).open(&path)?;
        f.seek(SeekFrom::Start(offset))?;
        f.write_all(bytes)?;
        if let Some(len) = length {
            f.set_len(len)?;
        }
        f.sync_data()?;
        Ok(())
    }

    /// Checks the arrived files against the manifest and installs them as an
    /// incoming tenant; answers the row counts found.
    pub fn adopt(tenants_dir: &Path, me: &str, manifest: &tenants::ExportManifest) -> Result<serde_json::Value> {
        let name = manifest.tenant.name.clone();
        let from = incoming(tenants_dir, &name);
        match tenants::get(tenants_dir, &name)? {
            None => {
                tenants::restore_as(tenants_dir, &name, &from, manifest, TenantState::Incoming, Some(me))?;
            }
            Some(r) if r.state == TenantState::Incoming => {}
            Some(_) => bail!("tenant `{name}` already exists here"),
        }
        Ok(serde_json::json!({ "counts": tenants::counts(tenants_dir, &name)? }))
    }

    /// The source switched: serve the tenant from here.
    pub fn activate(tenants_dir: &Path, regions: &Regions, entry: Entry) -> Result<()> {
        if entry.home != regions.me {
            bail!("the entry names {} as home, not this region", entry.home);
        }
        match tenants::get(tenants_dir, &entry.name)? {
            Some(r) if r.state == TenantState::Incoming => {
                tenants::set_state(tenants_dir, &entry.name, TenantState::Active)?;
            }
            Some(_) => {} // again: done already
            None => bail!("no copy of `{}` arrived here", entry.name),
        }
        let arrived = incoming(tenants_dir, &entry.name);
        regions.offer(entry)?;
        let _ = std::fs::remove_dir_all(arrived);
        Ok(())
    }

    /// Drops an arriving copy (a move starting over, or rolled back); a
    /// tenant this region serves is never touched.
    pub fn discard(server: &Server, tenants_dir: &Path, name: &str) -> Result<()> {
        if let Some(r) = tenants::get(tenants_dir, name)? {
            if r.state != TenantState::Incoming {
                bail!("tenant `{name}` is served here");
            }
            server.app.pools.close_under(&tenants_dir.join(name));
            tenants::remove(tenants_dir, name)?;
        }
        tenants::remove_dir(&incoming(tenants_dir, name))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_chunk_is_refused_and_paths_stay_inside_the_copy() {
        let d = std::env::temp_dir().join(format!("edge-moves-chunk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let bytes = b"SQLite format 3\0 and the rest";
        let good = hex::encode(sha2::Sha256::digest(bytes));
        let file = incoming(&d, "acme").join("sqlite").join("default.db");
        assert!(target::chunk(&d, "acme", "sqlite/default.db", 0, bytes, &"0".repeat(64), true, None).is_err());
        assert!(!file.exists(), "nothing written from a damaged chunk");
        target::chunk(&d, "acme", "sqlite/default.db", 0, bytes, &good, true, None).unwrap();
        // A later block, then the final length (shorter: the file shrank).
        let tail = b"TAIL";
        target::chunk(&d, "acme", "sqlite/default.db", 4, tail, &hex::encode(sha2::Sha256::digest(tail)), false, Some(8)).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"SQLiTAIL");
        for bad in ["../default.db", "sqlite/../../x.db", "etc/passwd", "sqlite/.hidden.db", "kv/a/b.db"] {
            assert!(target::chunk(&d, "acme", bad, 0, bytes, &good, true, None).is_err(), "{bad}");
        }
    }
}
