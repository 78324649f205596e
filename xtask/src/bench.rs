//! `cargo xtask bench`: starts the real host on loopback with release builds,
//! drives it with a closed-loop load generator, and prints each figure beside its
//! DESIGN.md target. Figures are reported, never asserted.

use crate::{build, host_bin, repo_root, say, seed, target_dir, wait_healthy};
use anyhow::{bail, Context, Result};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Host(Child);

impl Drop for Host {
    fn drop(&mut self) {
        // SIGTERM for a graceful stop, then make sure.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Host {
    /// CPU time the host has used (user + system), from /proc; None elsewhere.
    fn cpu(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).ok()?;
        // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<u64> = rest.split(' ').skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
        // Clock ticks of 10 ms (USER_HZ is 100 on Linux).
        Some(Duration::from_millis((f.first()? + f.get(1)?) * 10))
    }

    /// Waits (at most `max`) until the host's background work (another
    /// tenant's campaign delivery, say) is through: under 5% of a core over a
    /// second. Returns how long that took.
    pub fn wait_idle(&self, max: Duration) -> Duration {
        let t = Instant::now();
        let Some(mut last) = self.cpu() else { return Duration::ZERO };
        while t.elapsed() < max {
            std::thread::sleep(Duration::from_secs(1));
            let Some(now) = self.cpu() else { break };
            if now.saturating_sub(last) < Duration::from_millis(50) {
                break;
            }
            last = now;
        }
        t.elapsed()
    }
}

pub fn free_addr() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

const BENCH_TOKEN: &str = "bench-operator-token-000000";

fn start(manifest: &str, tenants: Option<&Path>, cache: &Path, addr: SocketAddr, operator: Option<SocketAddr>) -> Result<Host> {
    start_with(manifest, tenants, cache, addr, operator, &[])
}

/// `start`, with more arguments for the host (a region's, say).
pub fn start_with(manifest: &str, tenants: Option<&Path>, cache: &Path, addr: SocketAddr, operator: Option<SocketAddr>, extra: &[String]) -> Result<Host> {
    let mut cmd = Command::new(host_bin());
    cmd.current_dir(repo_root())
        .args(["up", "-f", manifest, "--listen", &addr.to_string(), "--cache-dir"])
        .arg(cache)
        .env("EDGE_OPERATOR_TOKEN", BENCH_TOKEN)
        // The load generator stands in for a proxy naming many visitors.
        .env("SPIN_VARIABLE_TRUSTED_PROXIES", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // `EDGE_BENCH_LOG=<file>`: the hosts' request logs, appended there (for
    // finding what else ran during a measurement).
    if let Some(log) = std::env::var_os("EDGE_BENCH_LOG") {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(log).context("open EDGE_BENCH_LOG")?;
        cmd.stdout(f.try_clone()?).stderr(f);
    }
    if let Some(t) = tenants {
        cmd.arg("--tenants-dir").arg(t);
    }
    if let Some(op) = operator {
        cmd.arg("--operator-listen").arg(op.to_string());
    }
    cmd.args(extra);
    Ok(Host(cmd.spawn().context("start host")?))
}

/// Spawn to first 200 from a real route.
fn first_response(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Result<Duration> {
    let started = Instant::now();
    loop {
        if let Ok(r) = loopback_http::request(addr, "GET", path, headers, b"") {
            if r.status == 200 {
                return Ok(started.elapsed());
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("no response from {addr}{path}");
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

pub struct Load {
    pub rps: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub errors: u64,
}

/// Load with `wrk` (one thread, event-driven: leaves the CPU to the host) when
/// installed, as the DESIGN.md reference figures were taken; else the built-in one.
/// Each figure is sustained throughput: a second of the same load, unmeasured,
/// goes first (it fills each connection's SQLite page cache and the warm
/// instance slots).
pub fn load(addr: SocketAddr, headers: &[(&str, &str)], path: &str, conns: usize, secs: f64) -> Result<Load> {
    let run = |secs: f64| {
        if std::path::Path::new("/usr/bin/wrk").exists() {
            wrk(addr, headers, path, conns, secs)
        } else {
            builtin_load(addr, headers, path, conns, secs)
        }
    };
    run(1.0)?;
    run(secs)
}

fn wrk(addr: SocketAddr, headers: &[(&str, &str)], path: &str, conns: usize, secs: f64) -> Result<Load> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", &format!("-c{conns}"), &format!("-d{}s", secs.ceil() as u64), "--latency"]);
    for (k, v) in headers {
        // wrk only replaces its own Host header when ours is spelled `Host`.
        let k = if k.eq_ignore_ascii_case("host") { "Host" } else { k };
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    let out = cmd
        .arg(format!("http://{addr}{path}"))
        .output()
        .context("run wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let dur = |s: &str| -> Option<Duration> {
        let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
        let v: f64 = num.parse().ok()?;
        Some(Duration::from_secs_f64(match unit {
            "us" => v / 1e6,
            "ms" => v / 1e3,
            "s" => v,
            _ => return None,
        }))
    };
    let field = |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_string()));
    let rps: f64 = field("Requests/sec:").and_then(|v| v.parse().ok()).context("wrk output: Requests/sec")?;
    let p50 = field("50%").and_then(|v| dur(&v)).context("wrk output: 50%")?;
    let p99 = field("99%").and_then(|v| dur(&v)).context("wrk output: 99%")?;
    let errors = field("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(Load { rps, p50, p99, errors })
}

/// `conns` keep-alive connections in a closed loop for `secs`.
fn builtin_load(addr: SocketAddr, headers: &[(&str, &str)], path: &str, conns: usize, secs: f64) -> Result<Load> {
    let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    let started = Instant::now();
    for _ in 0..conns {
        let stop = stop.clone();
        let (headers, path) = (headers.clone(), path.to_string());
        handles.push(std::thread::spawn(move || -> (Vec<Duration>, u64) {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0;
            let Ok(mut c) = loopback_http::Conn::open(addr) else { return (lat, 1) };
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                match c.request("GET", &path, &h, b"") {
                    Ok(r) if r.status == 200 => lat.push(t.elapsed()),
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        match loopback_http::Conn::open(addr) {
                            Ok(n) => c = n,
                            Err(_) => return (lat, errors),
                        }
                    }
                }
            }
            (lat, errors)
        }));
    }
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.join().map_err(|_| anyhow::anyhow!("load thread panicked"))?;
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    if all.is_empty() {
        bail!("no successful requests to {path}");
    }
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Ok(Load { rps: all.len() as f64 / elapsed, p50: pct(0.5), p99: pct(0.99), errors })
}

/// The issue #4 figures with `n` contacts.
fn scale(addr: SocketAddr, s: &mut seed::Session, n: usize, secs: f64) -> Result<Vec<(String, String, String)>> {
    use crate::scale;
    let mut rows = Vec::new();
    let companies = (n / 10).max(1);
    say(&format!("scale: importing {companies} companies and {n} contacts through CSV import"));
    let co = scale::import(addr, s, "company", "companies.csv", &scale::companies_csv(companies), false)?;
    eprintln!();
    rows.push((format!("CSV import, companies ({} rows, one by one)", co.rows), format!("{:.0} rows/s", co.rows as f64 / co.took.as_secs_f64()), "-".into()));
    let c = scale::import(addr, s, "contact", "contacts.csv", &scale::contacts_csv(n, companies), false)?;
    eprintln!();
    rows.push((
        format!("CSV import, contacts ({} rows, linked to companies)", c.rows),
        format!("{:.0} rows/s ({:.1} s: rows in after {:.1} s, then indexes built)", c.rows as f64 / c.took.as_secs_f64(), c.took.as_secs_f64(), c.loaded.as_secs_f64()),
        "≥ 50,000 rows/s".into(),
    ));
    let auth = s.headers();
    let enc = |j: serde_json::Value| j.to_string().bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect::<String>();
    let customer = enc(serde_json::json!({"field": "lifecycle_stage", "op": "eq", "value": "customer"}));
    let vip_lead = enc(serde_json::json!({"and": [{"field": "lifecycle_stage", "op": "eq", "value": "lead"}, {"field": "tags", "op": "has", "value": "vip"}]}));
    let loads = [
        (format!("list 50 of {n}: filter stage, sort -updated_at"), format!("/api/v1/contacts?limit=50&filter={customer}&sort=-updated_at"), "p99 < 10 ms, ≥ 5,000 req/s"),
        (format!("list 50 of {n}: filter stage AND tag, sort last_name"), format!("/api/v1/contacts?limit=50&filter={vip_lead}&sort=last_name"), "p99 < 10 ms"),
        (format!("full-text search in {n} (list, q=lov)"), "/api/v1/contacts?limit=50&q=lov".to_string(), "p99 < 20 ms"),
        (format!("global search box in {n} (q=grace hop)"), "/api/v1/search?q=grace%20hop".to_string(), "p99 < 20 ms"),
        (format!("count of a filtered view in {n}"), format!("/api/v1/contacts/count?filter={customer}"), "-"),
    ];
    for (label, path, target) in loads {
        say(&format!("load: {label}"));
        let l = load(addr, &auth, &path, 16, secs)?;
        rows.push((label, format!("{:.0} req/s, p50 {}, p99 {}{}", l.rps, ms(l.p50), ms(l.p99), if l.errors > 0 { format!(", {} errors", l.errors) } else { String::new() }), target.into()));
    }
    say("scale: export of a filtered view");
    let (x, t) = scale::export(addr, s, &format!("filter={customer}"))?;
    rows.push((format!("CSV export of a view ({x} rows)"), format!("{:.0} rows/s", x as f64 / t.as_secs_f64()), "-".into()));
    say("scale: updates");
    let page: serde_json::Value = serde_json::from_slice(&loopback_http::request(addr, "GET", "/api/v1/contacts?limit=200", &auth, b"")?.body)?;
    let ids: Vec<String> = page["items"].as_array().map(|a| a.iter().filter_map(|i| i["id"].as_str().map(String::from)).collect()).unwrap_or_default();
    let rps = scale::updates(addr, s, ids, 4, secs)?;
    rows.push((format!("update contact (PATCH, 4 writers, {n} rows)"), format!("{rps:.0} req/s"), "-".into()));
    for (label, filter) in crate::mail::segment_filters() {
        say(&format!("segment: {label}"));
        let (p50, max) = crate::deals::timed(addr, s, &crate::mail::count_path(&filter), 5)?;
        rows.push((format!("segment count over {n} contacts: {label}"), format!("median {}, max {}", ms(p50), ms(max)), "-".into()));
    }
    Ok(rows)
}

/// The issue #5 figures.
fn pipeline(addr: SocketAddr, s: &seed::Session, open: usize, closed: usize, secs: f64) -> Result<Vec<(String, String, String)>> {
    let mut rows = Vec::new();
    say(&format!("pipeline: loading {open} open and {closed} closed deals through the bulk API"));
    let rate = crate::deals::seed(addr, s, open, closed)?;
    rows.push((format!("deals bulk load ({} deals, 1,000 per request)", open + closed), format!("{rate:.0} deals/s"), "-".into()));
    let auth = s.headers();
    let board: serde_json::Value = serde_json::from_slice(&loopback_http::request(addr, "GET", "/api/v1/pipelines", &auth, b"")?.body)?;
    let pid = board["items"][0]["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/api/v1/pipelines/{pid}/board");
    say("load: pipeline board");
    let l = load(addr, &auth, &path, 16, secs)?;
    rows.push((format!("board load ({open} open deals, 50 cards per stage + totals)"), format!("{:.0} req/s, p50 {}, p99 {}", l.rps, ms(l.p50), ms(l.p99)), "-".into()));
    say("load: moving cards");
    let (rps, p50, p99) = crate::deals::moves(addr, s, 4, secs)?;
    rows.push(("move a card (drag; 4 writers)".into(), format!("{rps:.0} moves/s, p50 {}, p99 {}", ms(p50), ms(p99)), "-".into()));
    for (label, report) in [("forecast (weighted, by month and owner)", "forecast"), ("summary (win rate, cycle, reasons; 12 months)", "summary"), ("funnel (stage conversion, days in stage)", "funnel")] {
        let (p50, max) = crate::deals::timed(addr, s, &format!("/api/v1/sales-reports/{report}"), 9)?;
        rows.push((format!("{label} over {} deals", open + closed), format!("median {}, max {}", ms(p50), ms(max)), "-".into()));
    }
    Ok(rows)
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    // Only the figures at scale (import, lists, search, export): for work on those.
    let scale_only = args.iter().any(|a| a == "--scale-only");
    let secs = if quick { 2.0 } else { 6.0 };
    let seed_n = if quick { 2_000 } else { 10_000 };
    build()?;
    let work = target_dir().join("bench");
    let _ = std::fs::remove_dir_all(&work);
    let tenants = work.join("tenants");
    let cache = work.join("cache");
    std::fs::create_dir_all(&tenants)?;
    let mut rows: Vec<(String, String, String)> = Vec::new();

    // Start-up: cold (empty compiled-component cache), then warm.
    let addr = free_addr()?;
    let operator = free_addr()?;
    let scale_n: usize = args.iter().position(|a| a == "--scale").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok()).unwrap_or(if quick { 100_000 } else { 1_000_000 });
    let (session, scale_session) = {
        let _h = start("spin.toml", Some(&tenants), &cache, addr, Some(operator))?;
        wait_healthy(addr, Duration::from_secs(60))?;
        (
            seed::provision(addr, operator, BENCH_TOKEN, "bench", "Bench", "internal", "bench passphrase 123")?,
            seed::provision(addr, operator, BENCH_TOKEN, "scale", "Scale", "internal", "scale passphrase 123")?,
        )
    };
    let auth = session.headers();
    let addr2 = free_addr()?;
    let cold_cache = work.join("cold-cache");
    let cold = {
        let _h = start("spin.toml", Some(&tenants), &cold_cache, addr2, None)?;
        first_response(addr2, "/api/v1/contacts?limit=1", &auth)?
    };
    let addr = free_addr()?;
    let h = start("spin.toml", Some(&tenants), &cache, addr, None)?;
    let warm = first_response(addr, "/api/v1/contacts?limit=1", &auth)?;
    rows.push(("host start → first response (compiled cache warm)".into(), ms(warm), "< 100 ms".into()));
    rows.push(("host start → first response (cold: compiling)".into(), ms(cold), "-".into()));

    if !scale_only {
        rows.extend(small_tenant(addr, &session, seed_n, secs, quick)?);
    }
    // At scale: N contacts and N/10 companies in one tenant, loaded by CSV import.
    let mut scale_session = scale_session;
    if scale_n > 0 {
        // The scale figures are the big tenant's alone: the small tenant's
        // background work (campaign delivery, automations) finishes first.
        let waited = h.wait_idle(Duration::from_secs(300));
        say(&format!("scale: host idle after {:.1} s", waited.as_secs_f64()));
        rows.push(("wait for the host to idle before the scale figures".into(), format!("{:.1} s", waited.as_secs_f64()), "-".into()));
        rows.extend(scale(addr, &mut scale_session, scale_n, secs)?);
    }
    drop(h);
    if !scale_only {
        rows.extend(elsewhere(&work, &tenants, &cache, &auth, scale_n, secs, quick)?);
    }
    report(&rows, secs)
}

/// The bench tenant's figures: creates, lists, the pipeline, campaigns, forms.
fn small_tenant(addr: SocketAddr, session: &seed::Session, seed_n: usize, secs: f64, quick: bool) -> Result<Vec<(String, String, String)>> {
    let mut rows = Vec::new();
    let auth = session.headers();
    say(&format!("seeding {seed_n} contacts through the API"));
    let bodies = seed::contacts(seed_n);
    let t = Instant::now();
    // Four writers: creates through router → contacts → SQLite.
    let chunks: Vec<Vec<String>> = bodies.chunks(seed_n / 4).map(|c| c.to_vec()).collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|c| {
            let s = session.clone();
            std::thread::spawn(move || seed::post_all(addr, &s, &c))
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| anyhow::anyhow!("seed thread panicked"))??;
    }
    let create_rps = seed_n as f64 / t.elapsed().as_secs_f64();
    rows.push((format!("create contact (4 writers, {seed_n} rows)"), format!("{create_rps:.0} req/s"), "-".into()));

    for (label, path, target) in [
        ("trivial route: router → web (static file)", "/favicon.svg", "≥ 5,000 req/s"),
        ("list 50 contacts: router → contacts → SQLite", "/api/v1/contacts?limit=50", "≥ 5,000 req/s, p99 < 10 ms"),
        ("list 50 contacts filtered (q=ada)", "/api/v1/contacts?limit=50&q=ada", "p99 < 10 ms"),
    ] {
        say(&format!("load: {label}"));
        let l = load(addr, &auth, path, 16, secs)?;
        rows.push((
            label.into(),
            format!("{:.0} req/s, p50 {}, p99 {}{}", l.rps, ms(l.p50), ms(l.p99), if l.errors > 0 { format!(", {} errors", l.errors) } else { String::new() }),
            target.into(),
        ));
    }
    // The pipeline: 10,000 open deals and 200,000 closed ones.
    let (open_n, closed_n) = if quick { (2_000, 20_000) } else { (10_000, 200_000) };
    rows.extend(pipeline(addr, &session, open_n, closed_n, secs)?);
    // Campaigns: a send to every contact, then the open pixel under load.
    say(&format!("campaigns: sending to the {seed_n} contacts"));
    let (sent, took, pixel) = crate::mail::send(addr, &session)?;
    rows.push((format!("campaign send into the outbox ({sent} messages, throttle 100,000/min)"), format!("{:.0} messages/s ({:.1} s)", sent as f64 / took.as_secs_f64(), took.as_secs_f64()), "-".into()));
    say("load: form submissions");
    let (rps, p50, p99, errors) = crate::automation::form_submissions(addr, &session, 4, secs)?;
    rows.push(("form submission (public; a contact and a note each; 4 writers)".into(), format!("{rps:.0} submissions/s, p50 {}, p99 {}{}", ms(p50), ms(p99), if errors > 0 { format!(", {errors} errors") } else { String::new() }), "-".into()));
    say("load: open-tracking pixel");
    let browser = [auth.as_slice(), &[("user-agent", "Mozilla/5.0 (Macintosh) bench")]].concat();
    let l = load(addr, &browser, &pixel, 16, secs)?;
    rows.push(("open pixel (public, signed; records the open)".into(), format!("{:.0} req/s, p50 {}, p99 {}", l.rps, ms(l.p50), ms(l.p99)), "-".into()));
    Ok(rows)
}

/// Regions, automation (native), a storage-free component, instantiation.
fn elsewhere(work: &std::path::Path, tenants: &std::path::Path, cache: &std::path::Path, auth: &[(&str, &str)], scale_n: usize, secs: f64, quick: bool) -> Result<Vec<(String, String, String)>> {
    let mut rows = Vec::new();
    // Regions: this data root as `eu` and an empty `us`; a hop, and moving the scale tenant.
    if scale_n > 0 {
        rows.extend(crate::regions::bench(work, tenants, cache, BENCH_TOKEN, auth, "scale", scale_n, secs)?);
    }

    // Automation, natively over the domain's SQL.
    let customers = if quick { 100_000 } else { 1_000_000 };
    say(&format!("automation: customer value over {customers} customers and {} orders", customers * 5));
    let v = crate::automation::customer_value(work, customers)?;
    rows.push((format!("customer value, full pass ({customers} customers, {} orders; native)", customers * 5), format!("{:.1} s", v.full.as_secs_f64()), "-".into()));
    rows.push((format!("customer value, slowest step of that pass ({} customers; a tick's share)", automation_domain::value::STEP_ROWS), ms(v.slowest_step), "-".into()));
    rows.push(("customer value, rescoring 1,000 changed customers (native)".into(), ms(v.rescore), "-".into()));
    let events = if quick { 100_000 } else { 1_000_000 };
    say(&format!("automation: rules over {events} change events"));
    let eps = crate::automation::rule_throughput(work, events)?;
    rows.push((format!("rule evaluation: {events} events against 20 rules, runs claimed (native)"), format!("{eps:.0} events/s"), "-".into()));

    // One hop, no storage: comparable with `wasmtime serve` on a hello component.
    let addr = free_addr()?;
    let probe_cache = work.join("probe-cache");
    let _p = start("tests/apps/probe/spin.toml", None, &probe_cache, addr, None)?;
    first_response(addr, "/exact", &[("host", "localhost")])?;
    say("load: single component (probe /exact)");
    let l = load(addr, &[("host", "localhost")], "/exact", 16, secs)?;
    rows.push((
        "single component, no storage (probe)".into(),
        format!("{:.0} req/s, p50 {}, p99 {}", l.rps, ms(l.p50), ms(l.p99)),
        "≈ wasmtime serve: 10,000 req/s, p99 3.1 ms".into(),
    ));
    drop(_p);

    for component in ["router", "contacts"] {
        let out = Command::new(host_bin())
            .current_dir(repo_root())
            .args(["bench-instantiate", "-f", "spin.toml", "--cache-dir"])
            .arg(cache)
            .args(["--component", component, "-n", if quick { "5000" } else { "20000" }])
            .output()?;
        if !out.status.success() {
            bail!("bench-instantiate failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("bench-instantiate output")?;
        rows.push((
            format!("instantiation overhead ({component})"),
            format!("p50 {} µs, p99 {} µs", v["p50_us"], v["p99_us"]),
            "< 50 µs".into(),
        ));
    }
    Ok(rows)
}

fn report(rows: &[(String, String, String)], secs: f64) -> Result<()> {
    let w = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(10);
    let w2 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(10);
    let generator = if std::path::Path::new("/usr/bin/wrk").exists() { "wrk -t1" } else { "built-in load generator" };
    println!("\nEdge CRM benchmarks ({} cores, loopback, release; {generator}, 16 connections, {secs}s per load)\n", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!("| {:w$} | {:w2$} | target |", "metric", "measured");
    println!("|{}|{}|--------|", "-".repeat(w + 2), "-".repeat(w2 + 2));
    for (a, b, c) in rows {
        println!("| {a:w$} | {b:w2$} | {c} |");
    }
    let json: Vec<_> = rows.iter().map(|(a, b, c)| serde_json::json!({"metric": a, "measured": b, "target": c})).collect();
    let out = target_dir().join("bench-results.json");
    std::fs::write(&out, serde_json::to_vec_pretty(&json)?)?;
    println!("\n(also written to {})", out.display());
    Ok(())
}
