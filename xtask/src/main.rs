//! `cargo xtask <command>`: the one entry point a newcomer needs.
//!
//! - `setup`  make the wasm32-wasip2 standard library available (rustup, or Debian's
//!            Rust building std from source where rustup cannot download targets)
//! - `build`  every component to .wasm (release) and the host natively
//! - `up`     build, provision the demo tenant with sample data, serve on :3000
//! - `test`   every test: unit, then end-to-end against the real host and components
//! - `bench`  the benchmarks, as a table beside the targets in DESIGN.md

mod bench;
mod deals;
mod automation;
mod mail;
mod regions;
mod scale;
mod seed;
mod toolchain;

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Components built for wasm32-wasip2 (the probe is the host's conformance app).
pub const COMPONENTS: &[&str] = &["router", "contacts", "pipeline", "portal", "campaigns", "automation", "identity", "web", "probe"];

/// The checkout we were run from. `cargo run` sets CARGO_MANIFEST_DIR at run time;
/// the compile-time value could name another checkout that shares the target dir.
pub fn repo_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().expect("xtask lives in the repo").to_path_buf()
}

/// Where cargo builds: `CARGO_TARGET_DIR` if set (CI caches it outside the clone).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() { d } else { repo_root().join(d) }
        }
        None => repo_root().join("target"),
    }
}

pub fn host_bin() -> PathBuf {
    target_dir().join("release").join("edge-host")
}

pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("command failed ({status}): {shown}");
    }
    Ok(())
}

fn say(msg: &str) {
    eprintln!("\x1b[1mxtask:\x1b[0m {msg}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => toolchain::setup().map(|_| ()),
        Some("build") => build(),
        Some("up") => up(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <setup|build|up|test|bench>\n\n  up [--listen ADDR]     serve the demo tenant at http://demo.localhost:3000\n  test [FILTER]          run every test (unit + end-to-end)\n  bench [--quick] [--scale N]  benchmarks beside the DESIGN.md targets (N contacts at scale: 1,000,000; --quick: 100,000)");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

pub fn build() -> Result<()> {
    let tc = toolchain::setup()?;
    let started = Instant::now();
    say("building components (wasm32-wasip2, release)");
    tc.build_components(COMPONENTS)?;
    say("building the host (native, release)");
    run(Command::new(cargo()).current_dir(repo_root()).args(["build", "--release", "-p", "edge-host"]))?;
    say(&format!("build done in {:.0}s", started.elapsed().as_secs_f64()));
    Ok(())
}

/// The cargo that runs us (rustup's), for native builds.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

pub fn tenants_dir() -> PathBuf {
    repo_root().join(".data").join("tenants")
}

fn up(args: &[String]) -> Result<()> {
    let listen = args
        .iter()
        .position(|a| a == "--listen")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let operator_listen = args.iter().position(|a| a == "--operator-listen").and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| "127.0.0.1:3001".into());
    build()?;
    let root = repo_root();
    let tenants = tenants_dir();
    std::fs::create_dir_all(&tenants)?;
    let fresh = !tenants.join("demo").join("tenant.json").exists();
    let token = operator_token()?;
    let mut child = Command::new(host_bin())
        .current_dir(&root)
        .args(["up", "-f", "spin.toml", "--runtime-config-file", "runtime-config.toml", "--tenants-dir"])
        .arg(&tenants)
        .args(["--listen", &listen, "--operator-listen", &operator_listen])
        .env("EDGE_OPERATOR_TOKEN", &token)
        .spawn()
        .context("cannot start the host")?;
    let addr = listen.parse().context("--listen must be IP:PORT")?;
    wait_healthy(addr, Duration::from_secs(30))?;
    let password_file = root.join(".data").join("demo-owner-password");
    if fresh {
        say("provisioning tenant `demo` with its owner");
        let password = format!("demo-{}", &operator_token_bytes()?[..12]);
        let operator: std::net::SocketAddr = operator_listen.parse()?;
        let session = seed::provision(addr, operator, &token, "demo", "Demo Company", "standard", &password)?;
        std::fs::write(&password_file, &password)?;
        let n = seed::demo(addr, &session)?;
        say(&format!("seeded {n} sample contacts"));
    }
    let password = std::fs::read_to_string(&password_file).unwrap_or_else(|_| "(see .data/demo-owner-password)".into());
    let port = addr.port();
    println!("\n  Edge CRM is running.\n\n    App:     http://demo.localhost:{port}/\n    Portal:  http://demo.localhost:{port}/portal/\n    API:     /api/v1/... with the session cookie (sign in first)\n\n  Sign in:  http://demo.localhost:{port}/sign-in  as  owner@demo.example  /  {password}\n\n    Operator API: http://{operator_listen}/v1/tenants  (Authorization: Bearer {token})\n    Another tenant: curl -H 'Authorization: Bearer {token}' -d '{{\"name\":\"acme\",\"owner_email\":\"you@acme.example\"}}' http://{operator_listen}/v1/tenants\n                    then open the owner's invitation_url from the answer\n\n  Stop with Ctrl-C.\n");
    let status = child.wait()?;
    if !status.success() {
        bail!("host exited with {status}");
    }
    Ok(())
}

fn operator_token_bytes() -> Result<String> {
    let mut bytes = [0u8; 16];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The local operator token, made once and kept in `.data/operator-token`.
fn operator_token() -> Result<String> {
    let path = repo_root().join(".data").join("operator-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        if t.trim().len() >= 16 {
            return Ok(t.trim().to_string());
        }
    }
    let token = operator_token_bytes()?;
    std::fs::create_dir_all(path.parent().context("has parent")?)?;
    std::fs::write(&path, &token)?;
    Ok(token)
}

pub fn wait_healthy(addr: std::net::SocketAddr, timeout: Duration) -> Result<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(r) = loopback_http::request(addr, "GET", "/.well-known/spin/health", &[("host", "localhost")], b"") {
            if r.status == 200 {
                return Ok(start.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    bail!("host at {addr} did not become healthy within {timeout:?}")
}

fn test(args: &[String]) -> Result<()> {
    build()?;
    say("building the probe as a wasm32-wasip1 core module (host adapts it on load)");
    toolchain::setup()?.build_wasip1(&["probe"])?;
    toolchain::ensure_browser()?;
    let root = repo_root();
    say("running all tests (unit + end-to-end)");
    let mut cmd = Command::new(cargo());
    cmd.current_dir(&root)
        .args(["test", "--release", "--no-fail-fast", "--workspace", "--exclude", "probe"])
        .env("EDGE_HOST_BIN", host_bin())
        .env("EDGE_REPO_ROOT", &root)
        .stdin(Stdio::null());
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    run(&mut cmd)
}
