//! The pipeline benchmarks (issue #5): one pipeline with 10,000 open deals and
//! 200,000 closed ones spread over two years, loaded through the bulk API, then
//! the board, card moves and the reports under load.

use crate::scale::call;
use crate::seed::Session;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A fixed set of sales reps (ids of the right shape; deals only name them).
fn owner(i: usize) -> String {
    format!("u_01BENCH{:019}", i % 8)
}

/// A small deterministic generator (no rand dependency).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Loads `open` open and `closed` closed deals in batches of 1,000; returns deals/s.
pub fn seed(addr: SocketAddr, s: &Session, open: usize, closed: usize) -> Result<f64> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let pipelines = call(&mut conn, s, "GET", "/api/v1/pipelines", b"", "application/json")?;
    let stages: Vec<String> = pipelines["items"][0]["stages"].as_array().context("stages")?.iter().filter_map(|st| st["id"].as_str().map(String::from)).collect();
    let today = chrono::Utc::now();
    let rate = serde_json::json!({"currency": "USD", "valid_from": (today - chrono::Duration::days(800)).format("%Y-%m-%d").to_string(), "rate": "0.92"});
    call(&mut conn, s, "POST", "/api/v1/exchange-rates", rate.to_string().as_bytes(), "application/json")?;
    let mut g = Lcg(42);
    let started = Instant::now();
    let total = open + closed;
    let mut items = Vec::with_capacity(1000);
    for i in 0..total {
        let is_open = i < open;
        let value = 1_000 + g.next(500) as i64 * 1_000;
        let mut d = serde_json::json!({
            "title": format!("Deal {i}"), "value": value, "currency": if i % 10 == 0 { "USD" } else { "EUR" },
            "owner_id": owner(i), "stage_id": stages[g.next(stages.len() as u64) as usize], "tags": if i % 7 == 0 { vec!["enterprise"] } else { vec![] },
        });
        if is_open {
            d["expected_close"] = (today + chrono::Duration::days(g.next(180) as i64)).format("%Y-%m-%d").to_string().into();
        } else {
            let created = today - chrono::Duration::days(5 + g.next(720) as i64) - chrono::Duration::minutes(g.next(1440) as i64);
            let closed_at = (created + chrono::Duration::days(1 + g.next(120) as i64)).min(today - chrono::Duration::minutes(1));
            let won = g.next(10) < 3;
            d["status"] = if won { "won" } else { "lost" }.into();
            if !won {
                d["lost_reason"] = ["Price", "Competitor", "Timing", "No budget"][g.next(4) as usize].into();
            }
            d["created_at"] = created.to_rfc3339().into();
            d["closed_at"] = closed_at.to_rfc3339().into();
        }
        items.push(d);
        if items.len() == 1000 || i + 1 == total {
            let body = serde_json::json!({ "items": std::mem::take(&mut items) }).to_string();
            call(&mut conn, s, "POST", "/api/v1/deals/bulk", body.as_bytes(), "application/json")?;
            eprint!("\r  deals: {}/{total}", i + 1);
        }
    }
    eprintln!();
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Moves open cards between stages from `writers` connections for `secs`;
/// returns (moves/s, p50, p99).
pub fn moves(addr: SocketAddr, s: &Session, writers: usize, secs: f64) -> Result<(f64, Duration, Duration)> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let pipelines = call(&mut conn, s, "GET", "/api/v1/pipelines", b"", "application/json")?;
    let stages: Vec<String> = pipelines["items"][0]["stages"].as_array().context("stages")?.iter().filter_map(|st| st["id"].as_str().map(String::from)).collect();
    let page = call(&mut conn, s, "GET", "/api/v1/deals?status=open&limit=200", b"", "application/json")?;
    let ids: Vec<String> = page["items"].as_array().context("deals")?.iter().filter_map(|d| d["id"].as_str().map(String::from)).collect();
    let (ids, stages) = (std::sync::Arc::new(ids), std::sync::Arc::new(stages));
    let stop = Instant::now() + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let (s, ids, stages) = (s.clone(), ids.clone(), stages.clone());
            std::thread::spawn(move || -> Result<Vec<Duration>> {
                let mut conn = loopback_http::Conn::open(addr)?;
                let mut g = Lcg(w as u64 + 7);
                let mut lat = Vec::new();
                while Instant::now() < stop {
                    // Each writer moves its own cards: a move between two stages, or before another card.
                    let id = &ids[(g.next(ids.len() as u64 / writers as u64) as usize) * writers + w];
                    let body = serde_json::json!({"stage_id": stages[g.next(stages.len() as u64) as usize]}).to_string();
                    let t = Instant::now();
                    call(&mut conn, &s, "POST", &format!("/api/v1/deals/{id}/move"), body.as_bytes(), "application/json")?;
                    lat.push(t.elapsed());
                }
                Ok(lat)
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.join().map_err(|_| anyhow::anyhow!("mover panicked"))??);
    }
    all.sort();
    let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or_default();
    Ok((all.len() as f64 / secs, pct(0.5), pct(0.99)))
}

/// One request's time, best of a few (report computations).
pub fn timed(addr: SocketAddr, s: &Session, path: &str, runs: usize) -> Result<(Duration, Duration)> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        call(&mut conn, s, "GET", path, b"", "application/json")?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2], times[times.len() - 1]))
}
