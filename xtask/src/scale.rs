//! The contacts benchmarks at scale (issue #4): one tenant holding N contacts
//! (1,000,000 by default) and N/10 companies, loaded through the product's own
//! CSV import, then list, search, export and write figures.

use crate::seed::Session;
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const STAGES: &[&str] = &["subscriber", "lead", "lead", "qualified", "opportunity", "customer", "customer", "advocate", "churned"];
const FIRST: &[&str] = &["Ada", "Grace", "Linus", "Margaret", "Alan", "Katherine", "Tim", "Barbara", "Dennis", "Frances", "Ken", "Radia", "Edsger", "Hedy", "Donald"];
const LAST: &[&str] = &["Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Johnson", "Lee", "Liskov", "Ritchie", "Allen", "Thompson", "Perlman", "Dijkstra", "Lamarr", "Knuth"];

pub fn companies_csv(n: usize) -> Vec<u8> {
    let mut f = String::from("name,domain,industry,size\n");
    for i in 0..n {
        f.push_str(&format!("Company {i},company{i}.example,{},{}\n", ["Retail", "Software", "Logistics", "Food"][i % 4], ["1-10", "11-50", "51-200", "201-500"][i % 4]));
    }
    f.into_bytes()
}

pub fn contacts_csv(n: usize, companies: usize) -> Vec<u8> {
    let mut f = String::from("first_name,last_name,email,phone,company,lifecycle_stage,tags\n");
    for i in 0..n {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len()) % LAST.len()];
        f.push_str(&format!(
            "{first},{last}{},{}.{}{i}@mail{}.example,+1 555 {:07},Company {},{},{}\n",
            i % 1000,
            first.to_lowercase(),
            last.to_lowercase(),
            i % 100,
            i % 10_000_000,
            (i * 7) % companies.max(1),
            STAGES[i % STAGES.len()],
            if i % 10 == 0 { "vip" } else { "" },
        ));
    }
    f.into_bytes()
}

pub fn call(conn: &mut loopback_http::Conn, s: &Session, method: &str, path: &str, body: &[u8], content_type: &str) -> Result<serde_json::Value> {
    let mut h = s.headers();
    h.push(("content-type", content_type));
    let r = conn.request(method, path, &h, body)?;
    if !(200..300).contains(&r.status) {
        bail!("{method} {path}: {} {}", r.status, r.text());
    }
    Ok(if r.body.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&r.body).unwrap_or_default() })
}

/// What an import took (upload excluded).
pub struct Imported {
    pub rows: i64,
    /// Until the job was done.
    pub took: Duration,
    /// Until every row was in (a bulk load then builds the indexes it dropped).
    pub loaded: Duration,
}

/// Imports a CSV through the API (upload, suggested mapping, run to the end).
pub fn import(addr: SocketAddr, s: &Session, entity: &str, name: &str, file: &[u8], create_companies: bool) -> Result<Imported> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let job = call(&mut conn, s, "POST", "/api/v1/imports", serde_json::json!({"entity": entity, "filename": name, "size": file.len()}).to_string().as_bytes(), "application/json")?;
    let id = job["id"].as_str().context("import id")?.to_string();
    let chunk = job["chunk_size"].as_u64().context("chunk size")? as usize;
    for (n, part) in file.chunks(chunk).enumerate() {
        call(&mut conn, s, "PUT", &format!("/api/v1/imports/{id}/chunks/{n}"), part, "text/csv")?;
    }
    let a = call(&mut conn, s, "POST", &format!("/api/v1/imports/{id}/complete"), b"{}", "application/json")?;
    let mut mapping = a["suggested"].clone();
    mapping["match_by"] = "none".into();
    mapping["create_companies"] = create_companies.into();
    call(&mut conn, s, "PUT", &format!("/api/v1/imports/{id}/mapping"), mapping.to_string().as_bytes(), "application/json")?;
    let started = Instant::now();
    let mut loaded = None;
    loop {
        let j = call(&mut conn, s, "POST", &format!("/api/v1/imports/{id}/run"), b"{}", "application/json")?;
        match j["status"].as_str() {
            Some("done") => {
                if j["failed"].as_i64() != Some(0) {
                    bail!("{} rows failed to import", j["failed"]);
                }
                let took = started.elapsed();
                return Ok(Imported { rows: j["created"].as_i64().unwrap_or(0), took, loaded: loaded.unwrap_or(took) });
            }
            Some("indexing") => {
                loaded.get_or_insert_with(|| started.elapsed());
                eprint!("\r  {entity} import: building indexes, {} left", j["indexes_left"]);
            }
            Some("running") | Some("ready") => {
                let p = j["progress"].as_f64().unwrap_or(0.0);
                eprint!("\r  {entity} import: {:5.1}%", p * 100.0);
            }
            other => bail!("import ended {other:?}: {j}"),
        }
    }
}

/// Exports a view page by page; returns rows and time.
pub fn export(addr: SocketAddr, s: &Session, query: &str) -> Result<(usize, Duration)> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let started = Instant::now();
    let mut rows = 0;
    let mut cursor = String::new();
    loop {
        let r = conn.request("GET", &format!("/api/v1/contacts/export?format=csv&{query}&cursor={cursor}"), &s.headers(), b"")?;
        if r.status != 200 {
            bail!("export: {} {}", r.status, r.text());
        }
        rows += r.body.iter().filter(|b| **b == b'\n').count();
        match r.header("x-next-cursor") {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    Ok((rows.saturating_sub(1), started.elapsed()))
}

/// Updates through `PATCH` from `writers` connections for `secs`; returns req/s.
pub fn updates(addr: SocketAddr, s: &Session, ids: Vec<String>, writers: usize, secs: f64) -> Result<f64> {
    let stop = Instant::now() + Duration::from_secs_f64(secs);
    let ids = std::sync::Arc::new(ids);
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let (s, ids) = (s.clone(), ids.clone());
            std::thread::spawn(move || -> Result<usize> {
                let mut conn = loopback_http::Conn::open(addr)?;
                let mut n = 0;
                while Instant::now() < stop {
                    let id = &ids[(n * writers + w) % ids.len()];
                    let body = serde_json::json!({"title": format!("Title {n}")}).to_string();
                    call(&mut conn, &s, "PATCH", &format!("/api/v1/contacts/{id}"), body.as_bytes(), "application/json")?;
                    n += 1;
                }
                Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for h in handles {
        total += h.join().map_err(|_| anyhow::anyhow!("writer panicked"))??;
    }
    Ok(total as f64 / secs)
}
