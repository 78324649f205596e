//! The multi-region benchmarks (issue #8): two regions on loopback, `eu`
//! holding the bench's data root and an empty `us`. What a cross-region hop
//! adds to a request (the same list through `us`, forwarded, against `eu`
//! directly), and moving the scale tenant from `eu` to `us`: its total time
//! and how long its writes were held.

use crate::bench::{load, ms, start_with, Load};
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

fn operator(addr: SocketAddr, token: &str, method: &str, path: &str, body: &str) -> Result<serde_json::Value> {
    let auth = format!("Bearer {token}");
    let r = loopback_http::request(addr, method, path, &[("host", "localhost"), ("authorization", &auth), ("content-type", "application/json")], body.as_bytes())?;
    Ok(serde_json::from_slice(&r.body).unwrap_or_default())
}

fn line(l: &Load) -> String {
    format!("{:.0} req/s, p50 {}, p99 {}{}", l.rps, ms(l.p50), ms(l.p99), if l.errors > 0 { format!(", {} errors", l.errors) } else { String::new() })
}

#[allow(clippy::too_many_arguments)]
pub fn bench(work: &Path, tenants: &Path, cache: &Path, token: &str, auth: &[(&str, &str)], scale_tenant: &str, scale_n: usize, secs: f64) -> Result<Vec<(String, String, String)>> {
    let addrs: Vec<(SocketAddr, SocketAddr)> = (0..2).map(|_| Ok((crate::bench::free_addr()?, crate::bench::free_addr()?))).collect::<Result<_>>()?;
    let file = work.join("regions.toml");
    std::fs::write(
        &file,
        ["eu", "us"].iter().zip(&addrs).map(|(n, (p, o))| format!("[regions.{n}]\npublic = \"http://{p}\"\noperator = \"http://{o}\"\n")).collect::<String>(),
    )?;
    let us_tenants = work.join("us-tenants");
    std::fs::create_dir_all(&us_tenants)?;
    let args = |name: &str| vec!["--region".to_string(), name.to_string(), "--regions".to_string(), file.display().to_string()];
    let _eu = start_with("spin.toml", Some(tenants), cache, addrs[0].0, Some(addrs[0].1), &args("eu"))?;
    let _us = start_with("spin.toml", Some(&us_tenants), cache, addrs[1].0, Some(addrs[1].1), &args("us"))?;
    for (p, _) in &addrs {
        crate::wait_healthy(*p, Duration::from_secs(60))?;
    }
    // us learns where the tenants live (eu's sync loop, every 5 s).
    let started = Instant::now();
    loop {
        let d = operator(addrs[1].1, token, "GET", "/v1/directory", "")?;
        if d["items"].as_array().is_some_and(|a| a.iter().any(|e| e["name"] == scale_tenant)) {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("us never learned where the tenants live: {d}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut rows = Vec::new();
    let path = "/api/v1/contacts?limit=50";
    crate::say("regions: list 50 contacts in the home region, then through the other one");
    let direct = load(addrs[0].0, auth, path, 16, secs)?;
    let hop = load(addrs[1].0, auth, path, 16, secs)?;
    rows.push(("list 50 contacts in the home region (eu)".into(), line(&direct), "-".into()));
    rows.push(("the same through another region (us → eu, forwarded)".into(), line(&hop), "-".into()));
    rows.push((
        "added by the cross-region hop (loopback)".into(),
        format!("p50 +{}, p99 +{}", ms(hop.p50.saturating_sub(direct.p50)), ms(hop.p99.saturating_sub(direct.p99))),
        "-".into(),
    ));
    crate::say(&format!("regions: moving `{scale_tenant}` ({scale_n} contacts) from eu to us"));
    let t = Instant::now();
    let m = operator(addrs[0].1, token, "POST", &format!("/v1/tenants/{scale_tenant}/move"), r#"{"to":"us"}"#)?;
    if m["phase"] != "copying" {
        bail!("the move did not start: {m}");
    }
    let m = loop {
        let m = operator(addrs[0].1, token, "GET", &format!("/v1/tenants/{scale_tenant}/move"), "")?;
        match m["phase"].as_str() {
            Some("done") => break m,
            Some("rolled_back") => bail!("the move was rolled back: {m}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
        if t.elapsed() > Duration::from_secs(1800) {
            bail!("the move took more than 30 minutes: {m}");
        }
    };
    let took = t.elapsed();
    let pause = m["write_pause_ms"].as_u64().context("no write pause in the move record")?;
    let mb = |k: &str| m[k].as_u64().unwrap_or(0) as f64 / 1e6;
    rows.push((
        format!("move a tenant of {scale_n} contacts eu → us ({:.0} MB, {:.1} MB caught up)", mb("bytes"), mb("catch_up_bytes")),
        format!("{:.1} s in all, writes held {:.2} s", took.as_secs_f64(), pause as f64 / 1000.0),
        "-".into(),
    ));
    Ok(rows)
}
