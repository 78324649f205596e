//! Regions: each host process is one region (`--region eu`) and knows the
//! others from a shared file (`--regions regions.toml`):
//!
//! ```toml
//! [regions.eu]
//! public = "http://127.0.0.1:4000"     # where its tenants' requests go
//! operator = "http://127.0.0.1:4001"   # its operator API (same token everywhere)
//! ```
//!
//! The tenant directory says where every tenant lives (its home region).
//! Each region is the authority for its own tenants: it writes their entries
//! (a version that only grows) and pushes them to every other region, at
//! once on a change and again every few seconds (so a region that was down
//! catches up). A region keeps an entry only if it is newer than the one it
//! has.
//!
//! A request for a tenant that lives elsewhere is forwarded to its home and
//! answered as if served here; static files are served by whichever region
//! is reached. A forwarded request is never forwarded again: a region that
//! is not the tenant's home answers 421 with what its directory says, and
//! the forwarding region takes the newer entry and tries once more. So a
//! stale directory costs a hop, never a write outside the tenant's home. If
//! the home cannot be reached, the answer is 503 with `Retry-After`.

use crate::tenants::{TenantRecord, TenantState};
use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

/// Headers between regions: who forwarded, and the visitor's address.
pub const FORWARDED_BY: &str = "edge-forwarded-by";
pub const CLIENT_ADDR: &str = "edge-client-addr";
/// On every answer: the region that served it.
pub const SERVED_BY: &str = "edge-region";
/// On a tenant's answers from its home: the version of its directory entry there.
pub const HOME_VERSION: &str = "edge-home-version";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Directory entries per push request (well inside the operator API's 64 KiB).
const DIRECTORY_BATCH: usize = 200;
/// Sync-loop rounds between pushes of every entry, acknowledged or not.
const FULL_RESYNC_EVERY: u64 = 60;
/// Bodies forwarded between regions (CSV imports are the big ones).
const MAX_BODY: usize = 64 << 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionAddr {
    pub public: String,
    pub operator: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    regions: BTreeMap<String, RegionAddr>,
}

/// Where a tenant lives, as the directory knows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub home: String,
    /// `active`, `suspended` or `deleted`.
    pub state: String,
    pub plan: String,
    pub version: u64,
    pub updated_at_unix: u64,
}

pub struct Regions {
    pub me: String,
    pub all: BTreeMap<String, RegionAddr>,
    token: String,
    path: PathBuf,
    entries: RwLock<BTreeMap<String, Entry>>,
    /// Written one at a time (the file is rewritten whole).
    write: Mutex<()>,
    /// Idle connections to other regions' public listeners.
    pool: Mutex<HashMap<String, Vec<SendRequest<Full<Bytes>>>>>,
    /// Per region: the entry versions it has acknowledged (pushes send only newer ones).
    acked: Mutex<HashMap<String, HashMap<String, u64>>>,
    /// The other regions' addresses, whose `edge-client-addr` is believed.
    peer_ips: Vec<IpAddr>,
    /// `me` as the `edge-region` header every answer carries.
    served_by: HeaderValue,
}

/// `http://host:port[/...]` → `host:port`.
fn authority(url: &str) -> Result<String> {
    let rest = url.strip_prefix("http://").with_context(|| format!("{url}: regions talk plain http inside the deployment's network"))?;
    let a = rest.split('/').next().unwrap_or_default();
    if a.is_empty() {
        bail!("{url}: no host");
    }
    Ok(a.to_string())
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Regions {
    /// Loads the regions file and this region's directory (`<tenants-dir>/.directory.json`).
    pub fn load(me: &str, file: &std::path::Path, tenants_dir: &std::path::Path, token: &str) -> Result<Regions> {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let f: RegionsFile = toml::from_str(&text).with_context(|| format!("{}: bad regions file", file.display()))?;
        if !f.regions.contains_key(me) {
            bail!("region `{me}` is not in {}", file.display());
        }
        let mut peer_ips = Vec::new();
        for (name, r) in &f.regions {
            if !crate::tenancy::valid_tenant_name(name) {
                bail!("region name `{name}`: lowercase letters, digits and dashes");
            }
            authority(&r.operator)?;
            let public = authority(&r.public)?;
            if let Some(ip) = public.rsplit_once(':').and_then(|(h, _)| h.trim_matches(['[', ']']).parse::<IpAddr>().ok()) {
                peer_ips.push(ip);
            }
        }
        std::fs::create_dir_all(tenants_dir)?;
        let path = tenants_dir.join(".directory.json");
        let entries: BTreeMap<String, Entry> = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).with_context(|| format!("{}: bad directory", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(Regions {
            me: me.to_string(),
            all: f.regions,
            token: token.to_string(),
            path,
            entries: RwLock::new(entries),
            write: Mutex::new(()),
            pool: Mutex::new(HashMap::new()),
            acked: Mutex::new(HashMap::new()),
            peer_ips,
            served_by: HeaderValue::from_str(me).unwrap_or(HeaderValue::from_static("-")),
        })
    }

    pub fn entry(&self, name: &str) -> Option<Entry> {
        self.entries.read().ok().and_then(|e| e.get(name).cloned())
    }

    /// The version of `name`'s entry when this region is its home (read in place).
    pub fn home_version(&self, name: &str) -> Option<u64> {
        self.entries.read().ok()?.get(name).filter(|e| e.home == self.me).map(|e| e.version)
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.entries.read().map(|e| e.values().cloned().collect()).unwrap_or_default()
    }

    /// Keeps `e` if it is newer than the entry we have; answers whether it did.
    pub fn offer(&self, e: Entry) -> Result<bool> {
        Ok(!self.offer_all(vec![e])?.is_empty())
    }

    /// Keeps those of `es` that are newer than the entries we have (one
    /// directory write for a whole batch); answers the ones kept.
    pub fn offer_all(&self, es: Vec<Entry>) -> Result<Vec<Entry>> {
        self.update(|_| es)
    }

    /// Entries made from the current directory by `make`, kept where newer, under
    /// the writer's lock (so two concurrent changes never both compute the same
    /// next version from one old entry), then written.
    fn update(&self, make: impl FnOnce(&BTreeMap<String, Entry>) -> Vec<Entry>) -> Result<Vec<Entry>> {
        let _w = self.write.lock().map_err(|_| anyhow::anyhow!("directory lock"))?;
        let (kept, snapshot) = {
            let mut map = self.entries.write().map_err(|_| anyhow::anyhow!("directory lock"))?;
            let mut kept = Vec::new();
            for e in make(&map) {
                if !map.get(&e.name).is_some_and(|old| old.version >= e.version) {
                    map.insert(e.name.clone(), e.clone());
                    kept.push(e);
                }
            }
            if kept.is_empty() {
                return Ok(kept);
            }
            (kept, map.clone())
        };
        // Atomically: a crash leaves the old directory or the new one.
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&snapshot)?)?;
        std::fs::rename(&tmp, &self.path)?;
        Ok(kept)
    }

    /// This region's own tenant changed (or is gone): a new version of its entry.
    pub fn record(&self, name: &str, rec: Option<&TenantRecord>) -> Result<Entry> {
        let kept = self.update(|map| {
            let old = map.get(name);
            vec![Entry {
                name: name.to_string(),
                home: self.me.clone(),
                state: match rec.map(|r| r.state) {
                    Some(TenantState::Active | TenantState::Incoming | TenantState::Moved) => "active",
                    Some(TenantState::Suspended) => "suspended",
                    None => "deleted",
                }
                .into(),
                plan: rec.map(|r| r.plan.clone()).or_else(|| old.map(|o| o.plan.clone())).unwrap_or_default(),
                version: old.map_or(1, |o| o.version + 1),
                updated_at_unix: now_unix(),
            }]
        })?;
        kept.into_iter().next().context("a new version is always newer")
    }

    /// Makes the directory agree with the tenants on this region's disk (a
    /// tenant made or changed by the CLI, say); answers what changed.
    pub fn reconcile(&self, local: &[TenantRecord]) -> Vec<Entry> {
        let mut changed = Vec::new();
        // Tenants arriving or leaving in a move are the move's to announce.
        for rec in local.iter().filter(|r| matches!(r.state, TenantState::Active | TenantState::Suspended)) {
            let e = self.entry(&rec.name);
            let state = if rec.state == TenantState::Active { "active" } else { "suspended" };
            let same = e.as_ref().is_some_and(|e| e.home == self.me && e.state == state && e.plan == rec.plan);
            // A tenant that lives elsewhere now (moved away) is not ours to claim.
            let elsewhere = e.as_ref().is_some_and(|e| e.home != self.me);
            if !same && !elsewhere {
                if let Ok(e) = self.record(&rec.name, Some(rec)) {
                    changed.push(e);
                }
            }
        }
        changed
    }

    /// The home of a tenant this region does not hold, if it has one elsewhere.
    pub fn home_elsewhere(&self, name: &str) -> Option<Entry> {
        self.entry(name).filter(|e| e.home != self.me && e.state != "deleted" && self.all.contains_key(&e.home))
    }

    /// Whether `edge-client-addr` from this peer is to be believed.
    pub fn is_peer(&self, ip: IpAddr) -> bool {
        self.peer_ips.contains(&ip)
    }

    /// Tells every other region about those of `entries` it has not
    /// acknowledged yet, in batches (best effort; the sync loop repeats it).
    pub async fn push(&self, entries: &[Entry]) {
        for (name, r) in &self.all {
            if *name == self.me {
                continue;
            }
            let fresh: Vec<&Entry> = {
                let acked = self.acked.lock().ok();
                let seen = acked.as_ref().and_then(|a| a.get(name));
                entries.iter().filter(|e| seen.and_then(|s| s.get(&e.name)).is_none_or(|v| *v < e.version)).collect()
            };
            for batch in fresh.chunks(DIRECTORY_BATCH) {
                let body = serde_json::to_vec(batch).unwrap_or_default();
                match self.call(&r.operator, "PUT", "/v1/directory", body, true).await {
                    Ok((s, _)) if s.is_success() => {
                        if let Ok(mut a) = self.acked.lock() {
                            let seen = a.entry(name.clone()).or_default();
                            for e in batch {
                                seen.insert(e.name.clone(), e.version);
                            }
                        }
                    }
                    other => {
                        let why = match other {
                            Ok((s, b)) => format!("{s} {}", String::from_utf8_lossy(&b)),
                            Err(e) => format!("{e:#}"),
                        };
                        crate::log::event("warn", "directory push failed", &[("region", name), ("error", &why)]);
                        break;
                    }
                }
            }
        }
    }

    /// Every few seconds: own tenants' entries (after reconciling with the
    /// disk) to every region that has not got them; now and then all of them
    /// again (a region whose disk was replaced catches up).
    pub async fn sync_loop(self: std::sync::Arc<Self>, tenants_dir: PathBuf, every: Duration) {
        let mut tick = tokio::time::interval(every);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            if n % FULL_RESYNC_EVERY == 0 {
                if let Ok(mut a) = self.acked.lock() {
                    a.clear();
                }
            }
            let local = crate::tenants::list(&tenants_dir).unwrap_or_default();
            self.reconcile(&local);
            let mine: Vec<Entry> = self.entries().into_iter().filter(|e| e.home == self.me).collect();
            self.push(&mine).await;
        }
    }

    /// An operator-API call to another region (`operator` true) or a plain request.
    pub async fn call(&self, base: &str, method: &str, path: &str, body: Vec<u8>, operator: bool) -> Result<(StatusCode, Bytes)> {
        self.call_with(base, method, path, body, operator, &[]).await
    }

    /// `call`, with extra headers.
    pub async fn call_with(&self, base: &str, method: &str, path: &str, body: Vec<u8>, operator: bool, extra: &[(&str, String)]) -> Result<(StatusCode, Bytes)> {
        let addr = authority(base)?;
        let req = json_request(&addr, method, path, operator.then_some(self.token.as_str()), extra, body)?;
        let resp = self.send(&addr, req, true).await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    /// Sends over a pooled connection to `addr` (a fresh one when none is idle);
    /// with `retry`, a request that met a connection closed under it goes once more.
    async fn send(&self, addr: &str, req: Request<Full<Bytes>>, retry: bool) -> Result<Response<hyper::body::Incoming>> {
        let pooled = self.pool.lock().ok().and_then(|mut p| {
            let v = p.get_mut(addr)?;
            while let Some(s) = v.pop() {
                if !s.is_closed() {
                    return Some(s);
                }
            }
            None
        });
        let was_pooled = pooled.is_some();
        let mut sender = match pooled {
            Some(s) => s,
            None => connect(addr).await?,
        };
        let again = retry.then(|| clone_request(&req)).flatten();
        let result = async {
            sender.ready().await?;
            sender.send_request(req).await
        }
        .await;
        match result {
            Ok(resp) => {
                if let Ok(mut p) = self.pool.lock() {
                    p.entry(addr.to_string()).or_default().push(sender);
                }
                Ok(resp)
            }
            Err(e) => match again.filter(|_| was_pooled) {
                Some(again) => {
                    let mut fresh = connect(addr).await.context(e.to_string())?;
                    fresh.ready().await?;
                    let resp = fresh.send_request(again).await?;
                    if let Ok(mut p) = self.pool.lock() {
                        p.entry(addr.to_string()).or_default().push(fresh);
                    }
                    Ok(resp)
                }
                None => Err(e.into()),
            },
        }
    }

    /// Forwards a tenant's request to its home region and answers what the home
    /// answered (status, headers and body) and which region that was. A 421 from a home that is not
    /// (any longer) the tenant's: the newer entry it names is taken, and one
    /// more try goes there.
    pub async fn forward(&self, parts: http::request::Parts, body: Bytes, home: &Entry, client: IpAddr) -> Result<(Response<Full<Bytes>>, String), Unreachable> {
        let mut target = home.clone();
        for attempt in 0..2 {
            let Some(addr) = self.all.get(&target.home).and_then(|r| authority(&r.public).ok()) else { return Err(Unreachable(target.home)) };
            let mut b = Request::builder().method(parts.method.clone()).uri(parts.uri.path_and_query().map_or("/", |p| p.as_str()));
            for (k, v) in &parts.headers {
                if !HOP_BY_HOP.contains(&k.as_str()) && k != FORWARDED_BY && k != CLIENT_ADDR {
                    b = b.header(k, v);
                }
            }
            // The regions it has been through, this one last; the visitor's address.
            let chain = match parts.headers.get(FORWARDED_BY).and_then(|v| v.to_str().ok()) {
                Some(before) => format!("{before},{}", self.me),
                None => self.me.clone(),
            };
            b = b.header(FORWARDED_BY, chain).header(CLIENT_ADDR, client.to_string());
            let Ok(req) = b.body(Full::new(body.clone())) else { return Err(Unreachable(target.home)) };
            // Reads may be retried on a dead pooled connection; writes are not repeated.
            let idempotent = matches!(parts.method, http::Method::GET | http::Method::HEAD | http::Method::OPTIONS);
            let resp = match self.send(&addr, req, idempotent).await {
                Ok(r) => r,
                Err(e) => {
                    crate::log::event("warn", "forward failed", &[("region", &target.home), ("error", &format!("{e:#}"))]);
                    return Err(Unreachable(target.home));
                }
            };
            let (mut p, b) = resp.into_parts();
            let bytes = match Limited::new(b, MAX_BODY).collect().await {
                Ok(c) => c.to_bytes(),
                Err(_) => return Err(Unreachable(target.home)),
            };
            if p.status == StatusCode::MISDIRECTED_REQUEST && attempt == 0 {
                let said: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
                if let Ok(e) = serde_json::from_value::<Entry>(said["directory_entry"].clone()) {
                    let newer = e.version > target.version;
                    if newer {
                        let _ = self.offer(e.clone());
                    }
                    if newer && e.home != self.me && e.state != "deleted" {
                        target = e;
                        continue;
                    }
                }
            }
            for name in HOP_BY_HOP {
                p.headers.remove(name);
            }
            // Served by a home further on (a second hop): learn where it lives now.
            let served = p.headers.get(SERVED_BY).and_then(|v| v.to_str().ok()).map(String::from);
            let version = p.headers.get(HOME_VERSION).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
            if let (Some(served), Some(version)) = (served, version) {
                if version > target.version && self.all.contains_key(&served) {
                    let _ = self.offer(Entry { home: served, version, updated_at_unix: now_unix(), ..target.clone() });
                }
            }
            return Ok((Response::from_parts(p, Full::new(bytes)), target.home));
        }
        Err(Unreachable(target.home))
    }

    /// Reads a request body for forwarding (up to the limit).
    pub async fn read_body(body: hyper::body::Incoming) -> Option<Bytes> {
        Limited::new(body, MAX_BODY).collect().await.ok().map(|c| c.to_bytes())
    }

    pub fn served_by(&self) -> HeaderValue {
        self.served_by.clone()
    }
}

/// One operator-API call (the CLI's `tenant move`): status and JSON answer.
pub async fn operator_call(base: &str, token: &str, method: &str, path: &str, body: Vec<u8>) -> Result<(u16, serde_json::Value)> {
    let addr = authority(base)?;
    let mut sender = connect(&addr).await?;
    let req = json_request(&addr, method, path, Some(token), &[], body)?;
    sender.ready().await?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok((status, serde_json::from_slice(&bytes).unwrap_or_default()))
}

/// A JSON request to another region (with the operator token when given).
fn json_request(addr: &str, method: &str, path: &str, token: Option<&str>, extra: &[(&str, String)], body: Vec<u8>) -> Result<Request<Full<Bytes>>> {
    let mut b = Request::builder().method(method).uri(path).header("host", addr).header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in extra {
        b = b.header(*k, v.as_str());
    }
    Ok(b.body(Full::new(Bytes::from(body)))?)
}

/// The home region could not be reached (down, or not answering).
#[derive(Debug)]
pub struct Unreachable(pub String);

/// Headers that belong to one connection, not to the request or answer.
const HOP_BY_HOP: [&str; 8] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length"];

fn clone_request(r: &Request<Full<Bytes>>) -> Option<Request<Full<Bytes>>> {
    let mut b = Request::builder().method(r.method().clone()).uri(r.uri().clone());
    for (k, v) in r.headers() {
        b = b.header(k, v);
    }
    // Full bodies are cheap to clone.
    b.body(r.body().clone()).ok()
}

async fn connect(addr: &str) -> Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .with_context(|| format!("{addr}: no answer within {CONNECT_TIMEOUT:?}"))?
        .with_context(|| format!("{addr}: cannot connect"))?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions(dir: &std::path::Path) -> Regions {
        let file = dir.join("regions.toml");
        std::fs::write(
            &file,
            "[regions.eu]\npublic = \"http://127.0.0.1:4000\"\noperator = \"http://127.0.0.1:4001\"\n[regions.us]\npublic = \"http://127.0.0.1:4100\"\noperator = \"http://127.0.0.1:4101\"\n",
        )
        .unwrap();
        Regions::load("eu", &file, &dir.join("tenants"), "token-token-token-token").unwrap()
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("edge-regions-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn entry(name: &str, home: &str, version: u64) -> Entry {
        Entry { name: name.into(), home: home.into(), state: "active".into(), plan: "standard".into(), version, updated_at_unix: 1 }
    }

    #[test]
    fn a_regions_artefacts_cover_its_own_tenants_only() {
        let d = scratch("artefacts");
        let r = regions(&d);
        let tenants = d.join("tenants");
        let acme = crate::tenants::create(&tenants, "acme", "Acme", "eu", "standard").unwrap();
        r.reconcile(&[acme]);
        r.offer(entry("beta", "us", 1)).unwrap();
        let out = d.join("deploy");
        let files = artefacts(&r, &tenants, "crm.example.com", "registry.example.com/edge-crm:1", &out).unwrap();
        assert!(files.iter().any(|f| f.ends_with("tenants/acme/spinapp.yaml")), "{files:?}");
        assert!(!out.join("tenants").join("beta").exists(), "beta lives in us");
        let edge = std::fs::read_to_string(out.join("edge.yaml")).unwrap();
        assert!(edge.contains("\"--region\", \"eu\"") && edge.contains("[regions.us]") && edge.contains("host: \"*.crm.example.com\""), "{edge}");
        assert_eq!(std::fs::read_to_string(out.join("tenants.txt")).unwrap(), "acme\n");
    }

    #[test]
    fn only_newer_entries_are_kept_and_survive_a_restart() {
        let d = scratch("newer");
        let r = regions(&d);
        assert!(r.offer(entry("acme", "us", 2)).unwrap());
        assert!(!r.offer(entry("acme", "eu", 1)).unwrap(), "older: ignored");
        assert!(!r.offer(entry("acme", "eu", 2)).unwrap(), "same version: the first stays");
        assert_eq!(r.home_elsewhere("acme").map(|e| e.home), Some("us".into()));
        let again = regions(&d);
        assert_eq!(again.entry("acme").map(|e| e.version), Some(2));
    }

    #[test]
    fn own_tenants_get_growing_versions_and_deletion_leaves_a_tombstone() {
        let d = scratch("own");
        let r = regions(&d);
        let rec = crate::tenants::create(&d.join("tenants"), "acme", "Acme", "eu", "standard").unwrap();
        assert_eq!(r.reconcile(std::slice::from_ref(&rec)).len(), 1);
        assert!(r.reconcile(std::slice::from_ref(&rec)).is_empty(), "nothing changed");
        assert_eq!(r.entry("acme").map(|e| (e.home, e.version)), Some(("eu".into(), 1)));
        let gone = r.record("acme", None).unwrap();
        assert_eq!((gone.state.as_str(), gone.version), ("deleted", 2));
        assert!(r.home_elsewhere("acme").is_none());
        // A tenant this region lost to another is not claimed back from a stale disk.
        r.offer(entry("beta", "us", 5)).unwrap();
        let beta = crate::tenants::create(&d.join("tenants"), "beta", "Beta", "eu", "standard").unwrap();
        assert!(r.reconcile(&[beta]).is_empty());
    }

    #[test]
    fn the_regions_file_is_checked() {
        let d = scratch("file");
        let file = d.join("regions.toml");
        std::fs::write(&file, "[regions.eu]\npublic = \"https://eu.example\"\noperator = \"http://127.0.0.1:1\"\n").unwrap();
        assert!(Regions::load("eu", &file, &d, "t").is_err(), "plain http between regions");
        std::fs::write(&file, "[regions.eu]\npublic = \"http://127.0.0.1:1\"\noperator = \"http://127.0.0.1:2\"\n").unwrap();
        assert!(Regions::load("us", &file, &d, "t").is_err(), "this region must be in the file");
        assert!(Regions::load("eu", &file, &d, "t").is_ok());
    }
}

/// A region's deployment artefacts, from its directory: for every tenant whose
/// home it is, the tenant's runtime config, Secret and SpinApp (one SpinApp per
/// tenant on the region's cluster); and the region's edge (`edge.yaml`: the
/// regions file as a ConfigMap, the forwarding host as a Deployment, its
/// Service, and an Ingress for every tenant host). Answers the files written.
pub fn artefacts(regions: &Regions, tenants_dir: &std::path::Path, domain: &str, image: &str, out: &std::path::Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    let mut homed = Vec::new();
    for e in regions.entries().into_iter().filter(|e| e.home == regions.me && e.state != "deleted") {
        if crate::tenants::get(tenants_dir, &e.name)?.is_none() {
            continue; // listed, but its data is not (yet) here
        }
        written.extend(crate::tenants::artefacts(tenants_dir, &e.name, image, &out.join("tenants").join(&e.name))?);
        homed.push(e.name);
    }
    let me = &regions.me;
    let file: String = regions
        .all
        .iter()
        .map(|(n, r)| format!("[regions.{n}]\npublic = \"{}\"\noperator = \"{}\"\n", r.public, r.operator))
        .collect();
    let indent = |s: &str, n: usize| s.lines().map(|l| format!("{}{l}", " ".repeat(n))).collect::<Vec<_>>().join("\n");
    let edge = format!(
        "# The {me} region's edge: it serves its own tenants' SpinApps and forwards\n\
         # other regions' tenants to their homes (edge-host --region {me}).\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: edge-crm-regions\n  labels:\n    edge-crm/region: {me}\ndata:\n  regions.toml: |\n{file}\n\
         ---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: edge-crm-edge\n  labels:\n    edge-crm/region: {me}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: edge-crm-edge\n  template:\n    metadata:\n      labels:\n        app: edge-crm-edge\n        edge-crm/region: {me}\n    spec:\n      containers:\n        - name: edge\n          image: \"{image}\"\n          args: [\"up\", \"--listen\", \"0.0.0.0:3000\", \"--operator-listen\", \"0.0.0.0:3001\", \"--tenants-dir\", \"/data\", \"--tenant-domain\", \"{domain}\", \"--region\", \"{me}\", \"--regions\", \"/etc/edge-crm/regions.toml\"]\n          env:\n            - name: EDGE_OPERATOR_TOKEN\n              valueFrom:\n                secretKeyRef:\n                  name: edge-crm-operator\n                  key: token\n          ports:\n            - containerPort: 3000\n            - containerPort: 3001\n          volumeMounts:\n            - name: regions\n              mountPath: /etc/edge-crm\n      volumes:\n        - name: regions\n          configMap:\n            name: edge-crm-regions\n\
         ---\n\
         apiVersion: v1\nkind: Service\nmetadata:\n  name: edge-crm-edge\nspec:\n  selector:\n    app: edge-crm-edge\n  ports:\n    - name: public\n      port: 3000\n    - name: operator\n      port: 3001\n\
         ---\n\
         apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: edge-crm\n  labels:\n    edge-crm/region: {me}\nspec:\n  rules:\n    - host: \"*.{domain}\"\n      http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: edge-crm-edge\n                port:\n                  name: public\n",
        file = indent(&file, 4),
    );
    let p = out.join("edge.yaml");
    std::fs::write(&p, edge)?;
    written.push(p);
    let p = out.join("tenants.txt");
    std::fs::write(&p, homed.iter().map(|n| format!("{n}\n")).collect::<String>())?;
    written.push(p);
    Ok(written)
}
