//! The campaigns benchmarks (issue #6): a campaign to every contact of the
//! bench tenant sent by the host's own scheduler (throughput into the outbox
//! at the highest throttle), the open-tracking endpoint under load, and
//! segment evaluation over the scale tenant's contacts.

use crate::scale::call;
use crate::seed::Session;
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}


/// Sends a campaign to every contact with an email; answers (messages, time
/// from "send now" to sent) and the path of one message's open pixel.
pub fn send(addr: SocketAddr, s: &Session) -> Result<(i64, Duration, String)> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let seg = call(&mut conn, s, "POST", "/api/v1/segments", serde_json::json!({"name": "Everyone with email", "filter": {"field": "email", "op": "not_empty"}}).to_string().as_bytes(), "application/json")?;
    let body = serde_json::json!({
        "name": "Bench", "segment_id": seg["id"], "throttle_per_minute": 100_000,
        "subject": "Hello {{ contact.first_name | default: \"there\" }}",
        "html": "<html><body><h1>Hi {{ contact.first_name }}</h1><p>News from {{ contact.company | default: \"us\" }}.</p><a href=\"https://example.com/a\">A</a> <a href=\"https://example.com/b\">B</a></body></html>",
    });
    let camp = call(&mut conn, s, "POST", "/api/v1/campaigns", body.to_string().as_bytes(), "application/json")?;
    let id = camp["id"].as_str().context("campaign id")?.to_string();
    let t = Instant::now();
    call(&mut conn, s, "POST", &format!("/api/v1/campaigns/{id}/schedule"), b"{}", "application/json")?;
    loop {
        let c = call(&mut conn, s, "GET", &format!("/api/v1/campaigns/{id}"), b"", "application/json")?;
        if c["status"] == "sent" {
            let elapsed = t.elapsed();
            let n = c["progress"]["queued"].as_i64().unwrap_or(0);
            let msgs = call(&mut conn, s, "GET", &format!("/api/v1/campaigns/{id}/messages?as_sent=true"), b"", "application/json")?;
            let html = msgs["items"][0]["html"].as_str().unwrap_or_default().to_string();
            let start = html.find("/api/v1/mail/o/").context("an open pixel")?;
            let pixel = html[start..].split('"').next().unwrap_or_default().to_string();
            return Ok((n, elapsed, pixel));
        }
        if t.elapsed() > Duration::from_secs(600) {
            bail!("the campaign did not finish in 10 minutes: {c}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The segment rules marketing would use, counted exactly over every contact.
pub fn segment_filters() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("stage = customer AND (tag vip OR active in 90 days)", serde_json::json!({"and": [{"field": "lifecycle_stage", "op": "eq", "value": "customer"}, {"or": [{"field": "tags", "op": "has", "value": "vip"}, {"field": "last_activity_at", "op": "gt", "value": "-90d"}]}]})),
        ("email consent granted AND title contains \"head\"", serde_json::json!({"and": [{"field": "consent.email", "op": "eq", "value": "granted"}, {"field": "title", "op": "contains", "value": "head"}]})),
    ]
}

pub fn count_path(filter: &serde_json::Value) -> String {
    format!("/api/v1/segments/count?filter={}", enc(&filter.to_string()))
}
