//! Harness for end-to-end tests: starts the real `edge-host` binary on a free
//! loopback port with real wasm components and real SQLite files in a scratch
//! directory, and talks to it over real HTTP.
//!
//! `cargo xtask test` builds everything first and points `EDGE_HOST_BIN` at the host.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod browser;

pub use loopback_http::Response;

pub fn repo_root() -> PathBuf {
    std::env::var_os("EDGE_REPO_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
}

pub fn host_bin() -> PathBuf {
    std::env::var_os("EDGE_HOST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/release/edge-host"))
}

/// A fresh directory for one test (removed first if left over); unique per call,
/// since tests in one binary run in parallel.
pub fn scratch(name: &str) -> PathBuf {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = repo_root().join("target/e2e").join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// Compiled components are cached across tests (the cache is safe to share).
pub fn shared_cache() -> PathBuf {
    repo_root().join("target/e2e/compiled-cache")
}

/// Compiles both apps' components once per test binary, so parallel tests do
/// not all compile the same components at once on a cold machine.
fn warm_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let state = std::env::temp_dir().join(format!("edge-e2e-warm-{}", std::process::id()));
        for manifest in ["spin.toml", "tests/apps/probe/spin.toml"] {
            let _ = Command::new(host_bin())
                .args(["check", "-f"])
                .arg(repo_root().join(manifest))
                .arg("--state-dir")
                .arg(&state)
                .arg("--cache-dir")
                .arg(shared_cache())
                .stdout(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(state);
    });
}

pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port")
}

/// The operator token the harness starts CRM hosts with.
pub const OPERATOR_TOKEN: &str = "test-operator-token-0123456789";

/// The scheduler's token of hosts started [`HostConfig::with_tick`].
pub const TICK_TOKEN: &str = "tick-secret-for-tests-0123456789";

#[derive(Clone)]
pub struct HostConfig {
    pub operator: Option<SocketAddr>,
    pub manifest: PathBuf,
    pub runtime_config: Option<PathBuf>,
    pub tenants: Option<PathBuf>,
    pub state_dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub extra_args: Vec<String>,
    /// The public address (default: a free port).
    pub listen: Option<SocketAddr>,
}

impl HostConfig {
    /// The conformance probe app in single-deployment mode (like `spin up`).
    pub fn probe(scratch: &Path) -> HostConfig {
        HostConfig {
            operator: None,
            manifest: repo_root().join("tests/apps/probe/spin.toml"),
            runtime_config: None,
            tenants: None,
            state_dir: scratch.join("state"),
            env: vec![],
            extra_args: vec![],
            listen: None,
        }
    }

    /// The real Edge CRM app serving tenants from `scratch/tenants`, with the
    /// operator API on its own port.
    pub fn crm(scratch: &Path) -> HostConfig {
        let op = free_addr();
        HostConfig {
            operator: Some(op),
            manifest: repo_root().join("spin.toml"),
            runtime_config: Some(repo_root().join("runtime-config.toml")),
            tenants: Some(scratch.join("tenants")),
            state_dir: scratch.join("state"),
            env: vec![("EDGE_OPERATOR_TOKEN".into(), OPERATOR_TOKEN.into())],
            extra_args: vec!["--operator-listen".into(), op.to_string()],
            listen: None,
        }
    }

    /// The scheduler's route open to the test (with [`TICK_TOKEN`]) and no
    /// scheduler of the host's own: the test drives unattended work through [`tick`].
    pub fn with_tick(mut self) -> HostConfig {
        self.env.push(("SPIN_VARIABLE_SCHEDULER_TOKEN".into(), TICK_TOKEN.into()));
        self.extra_args.push("--no-scheduler".into());
        self
    }
}

/// Runs the scheduler's tick for the demo tenant now (on a host started
/// [`HostConfig::with_tick`]) and answers what it reported.
pub fn tick(h: &TestHost) -> serde_json::Value {
    let r = h.request("POST", "demo.localhost", "/.well-known/edge-crm/tick", &[("authorization", &format!("Bearer {TICK_TOKEN}"))], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)
}

pub struct TestHost {
    pub addr: SocketAddr,
    pub operator: Option<SocketAddr>,
    child: Option<Child>,
    pub log: PathBuf,
}

impl TestHost {
    pub fn start(cfg: HostConfig) -> TestHost {
        Self::try_start(cfg).unwrap_or_else(|(code, log)| panic!("host failed to start ({code:?}):\n{log}"))
    }

    /// Starts the host and waits until it is healthy; on failure returns its exit code and log.
    /// A port taken between choosing it and binding it (tests run in parallel) is retried.
    pub fn try_start(mut cfg: HostConfig) -> Result<TestHost, (Option<i32>, String)> {
        for _ in 0..5 {
            match Self::start_once(&cfg) {
                Err((_, log)) if log.contains("Address already in use") => {
                    if let Some(op) = cfg.operator.filter(|op| log.contains(&op.to_string())) {
                        let fresh = free_addr();
                        cfg.extra_args.iter_mut().filter(|a| **a == op.to_string()).for_each(|a| *a = fresh.to_string());
                        cfg.operator = Some(fresh);
                    }
                }
                other => return other,
            }
        }
        Self::start_once(&cfg)
    }

    fn start_once(cfg: &HostConfig) -> Result<TestHost, (Option<i32>, String)> {
        warm_cache();
        let addr = cfg.listen.unwrap_or_else(free_addr);
        std::fs::create_dir_all(&cfg.state_dir).expect("state dir");
        let log = cfg.state_dir.join(format!("host-{}.log", addr.port()));
        let mut cmd = Command::new(host_bin());
        cmd.arg("up")
            .arg("-f")
            .arg(&cfg.manifest)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--state-dir")
            .arg(&cfg.state_dir)
            .arg("--cache-dir")
            .arg(shared_cache())
            .args(&cfg.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        if let Some(rc) = &cfg.runtime_config {
            cmd.arg("--runtime-config-file").arg(rc);
        }
        if let Some(t) = &cfg.tenants {
            std::fs::create_dir_all(t).expect("tenants dir");
            cmd.arg("--tenants-dir").arg(t);
        }
        for (k, v) in &cfg.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn edge-host (run `cargo xtask test`, which builds it)");
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err((status.code(), std::fs::read_to_string(&log).unwrap_or_default()));
            }
            if let Ok(r) = loopback_http::request(addr, "GET", "/.well-known/spin/health", &[("host", "localhost")], b"") {
                if r.status == 200 {
                    return Ok(TestHost { addr, operator: cfg.operator, child: Some(child), log });
                }
            }
            if started.elapsed() > Duration::from_secs(90) {
                let _ = child.kill();
                return Err((None, "timed out waiting for health".into()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Calls the operator API.
    pub fn operator(&self, method: &str, path: &str, body: &str) -> Response {
        let addr = self.operator.expect("host started with an operator API (HostConfig::crm)");
        let auth = format!("Bearer {OPERATOR_TOKEN}");
        loopback_http::request(addr, method, path, &[("host", "localhost"), ("authorization", &auth), ("content-type", "application/json")], body.as_bytes())
            .unwrap_or_else(|e| panic!("operator {method} {path}: {e}"))
    }

    /// Provisions a tenant on `plan` with owner `owner@<name>.example`; returns the invitation URL.
    pub fn provision(&self, name: &str, plan: &str) -> String {
        let body = serde_json::json!({"name": name, "plan": plan, "owner_email": format!("owner@{name}.example"), "owner_name": "Olive Owner"});
        let r = self.operator("POST", "/v1/tenants", &body.to_string());
        assert_eq!(r.status, 201, "provision {name}: {}", r.text());
        let v = json(&r);
        v["owner"]["invitation_url"].as_str().unwrap_or_else(|| panic!("no invitation: {v}")).to_string()
    }

    /// Invites `email` to `owner`'s tenant with `role` and signs them in through
    /// the invitation link from the outbox; returns their client and user id.
    pub fn colleague(&self, owner: &mut Client, email: &str, role: &str) -> (Client, String) {
        let r = owner.post_json("/api/v1/users/invitations", &serde_json::json!({"email": email, "role": role}));
        assert_eq!(r.status, 201, "{}", r.text());
        let mail = json(&owner.get("/api/v1/outbox"))["items"][0]["body_text"].as_str().unwrap_or_default().to_string();
        let link = mail.split_whitespace().find(|w| w.contains("token=")).expect("an invitation link").to_string();
        let mut c = Client { addr: self.addr, host: owner.host.clone(), cookie: None, csrf: None };
        assert_eq!(c.accept(&link, email, COLLEAGUE_PASSWORD).status, 200);
        let id = json(&c.get("/api/v1/auth/me"))["user"]["id"].as_str().unwrap_or_default().to_string();
        (c, id)
    }

    /// Provisions a tenant and signs its owner in (password `OWNER_PASSWORD`).
    pub fn signed_in_owner(&self, tenant: &str) -> Client {
        let invite = self.provision(tenant, "enterprise");
        let mut c = Client::new(self.addr, tenant);
        let r = c.accept(&invite, "Olive Owner", OWNER_PASSWORD);
        assert_eq!(r.status, 200, "accept invitation: {}", r.text());
        c
    }

    pub fn get(&self, host: &str, path: &str) -> Response {
        self.request("GET", host, path, &[], b"")
    }

    pub fn post_json(&self, host: &str, path: &str, body: &serde_json::Value) -> Response {
        self.request("POST", host, path, &[("content-type", "application/json")], body.to_string().as_bytes())
    }

    pub fn request(&self, method: &str, host: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        let mut all = vec![("host", host)];
        all.extend_from_slice(headers);
        loopback_http::request(self.addr, method, path, &all, body)
            .unwrap_or_else(|e| panic!("{method} {path} on {host}: {e}"))
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit code.
    pub fn stop(mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(s)) = child.try_wait() {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        child.wait().ok().and_then(|s| s.code())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Provisions a tenant with the host's own command.
pub fn create_tenant(tenants: &Path, name: &str) {
    let out = Command::new(host_bin())
        .args(["tenant", "create", "--tenants-dir"])
        .arg(tenants)
        .arg(name)
        .output()
        .expect("run edge-host tenant create");
    assert!(out.status.success(), "tenant create failed: {}", String::from_utf8_lossy(&out.stderr));
}

pub fn json(r: &Response) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", r.status, r.text()))
}

pub const OWNER_PASSWORD: &str = "owner passphrase 123";
/// The passphrase `TestHost::colleague` accepts invitations with.
pub const COLLEAGUE_PASSWORD: &str = "a colleague's passphrase";

/// A browser-like API client for one tenant: keeps the session cookie and the
/// CSRF token the way the web app does.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub host: String,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Client {
    pub fn new(addr: SocketAddr, tenant: &str) -> Client {
        Client { addr, host: format!("{tenant}.localhost"), cookie: None, csrf: None }
    }

    pub fn send(&mut self, method: &str, path: &str, body: Option<serde_json::Value>) -> Response {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(method, path, &[("content-type", "application/json")], body.as_bytes())
    }

    /// Any request with the session attached; `extra` headers are added as given.
    pub fn raw(&mut self, method: &str, path: &str, extra: &[(&str, &str)], body: &[u8]) -> Response {
        let cookie = self.cookie.clone().map(|c| format!("edge_session={c}"));
        let csrf = self.csrf.clone();
        let mut headers = vec![("host", self.host.as_str())];
        headers.extend_from_slice(extra);
        if let Some(c) = &cookie {
            headers.push(("cookie", c));
        }
        if let Some(t) = &csrf {
            headers.push(("x-csrf-token", t));
        }
        let r = loopback_http::request(self.addr, method, path, &headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        // Only the staff session cookie (a portal cookie is another client's).
        if let Some(v) = r.header("set-cookie").and_then(|sc| sc.split(';').next()).and_then(|kv| kv.strip_prefix("edge_session=")) {
            self.cookie = (!v.is_empty()).then(|| v.to_string());
        }
        if r.header("content-type") == Some("application/json") {
            if let Some(t) = serde_json::from_slice::<serde_json::Value>(&r.body).ok().and_then(|v| v["csrf_token"].as_str().map(String::from)) {
                self.csrf = Some(t);
            }
        }
        r
    }

    pub fn get(&mut self, path: &str) -> Response {
        self.send("GET", path, None)
    }

    pub fn post_json(&mut self, path: &str, body: &serde_json::Value) -> Response {
        self.send("POST", path, Some(body.clone()))
    }

    /// A JSON write made against `version` (sent as `If-Match: "<version>"`).
    pub fn with_version(&mut self, method: &str, path: &str, version: impl std::fmt::Display, body: &serde_json::Value) -> Response {
        let v = format!("\"{version}\"");
        self.raw(method, path, &[("content-type", "application/json"), ("if-match", &v)], body.to_string().as_bytes())
    }

    pub fn accept(&mut self, invitation_url: &str, name: &str, password: &str) -> Response {
        let token = invitation_url.split("token=").nth(1).expect("token in invitation URL").to_string();
        self.send("POST", "/api/v1/auth/accept-invite", Some(serde_json::json!({"token": token, "name": name, "password": password})))
    }

    pub fn sign_in(&mut self, email: &str, password: &str) -> Response {
        self.send("POST", "/api/v1/auth/sign-in", Some(serde_json::json!({"email": email, "password": password})))
    }
}

/// Waits (up to 10 s) until `check` holds for the JSON at `path`, and answers it.
pub fn eventually(c: &mut Client, path: &str, check: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    for _ in 0..100 {
        let v = json(&c.get(path));
        if check(&v) {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{path} never reached the expected state: {}", json(&c.get(path)));
}

/// What a fake receiver got: the request's headers (names lower-cased) and JSON body.
pub type Received = std::sync::Arc<std::sync::Mutex<Vec<(Vec<(String, String)>, serde_json::Value)>>>;

/// An HTTP receiver on loopback (a mail provider, a webhook endpoint): records
/// every request's headers and JSON body, answers `status`.
pub fn fake_receiver(status: u16) -> (std::net::SocketAddr, Received) {
    use std::io::{BufRead, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let got: Received = Default::default();
    let seen = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut r = std::io::BufReader::new(stream);
            let (mut len, mut headers, mut line, mut chunked) = (0usize, Vec::new(), String::new(), false);
            while r.read_line(&mut line).is_ok() && line.trim_end() != "" {
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                    if k == "content-length" {
                        len = v.parse().unwrap_or(0);
                    }
                    chunked |= k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked");
                    headers.push((k, v));
                }
                line.clear();
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            while chunked {
                line.clear();
                let _ = r.read_line(&mut line);
                let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                chunked = size > 0 && r.read_exact(&mut chunk).is_ok();
                if chunked {
                    body.extend_from_slice(&chunk[..size]);
                }
            }
            seen.lock().unwrap().push((headers, serde_json::from_slice(&body).unwrap_or_default()));
            let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}");
            let _ = r.get_mut().write_all(answer.as_bytes());
        }
    });
    (addr, got)
}

/// A mail provider on loopback (see [`fake_receiver`]).
pub fn fake_mail_provider(status: u16) -> (std::net::SocketAddr, Received) {
    fake_receiver(status)
}

/// A recorded request's header.
pub fn header_of<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

