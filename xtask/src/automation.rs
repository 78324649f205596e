//! The automation benchmarks (issue #10), natively over the domain's own SQL
//! (rusqlite; the component runs the same statements in Spin's SQLite):
//! customer value over N customers and 5·N orders (a full pass, then
//! rescoring 1,000 changed customers), and rule evaluation over a change log
//! (events matched against 20 rules, runs claimed, per second).

use anyhow::{Context, Result};
use automation_domain::{rules, schema, value};
use edge_db::Db;
use std::time::{Duration, Instant};

/// What the customer-value benchmark measured.
pub struct Value {
    pub full: Duration,
    pub slowest_step: Duration,
    pub rescore: Duration,
}

fn open(dir: &std::path::Path, name: &str) -> Result<edge_db::native::Connection> {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let c = edge_db::native::open(&path)?;
    edge_db::migrate(&c, schema::COMPONENT, schema::MIGRATIONS)?;
    Ok(c)
}

/// Value { full pass, its slowest step, rescoring 1,000 customers } over `customers` with five orders each.
pub fn customer_value(dir: &std::path::Path, customers: usize) -> Result<Value> {
    let db = open(dir, "value.db")?;
    // The portal's table and published view, filled in SQL (a spread of dates and totals).
    db.execute_batch(&format!(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, contact_id TEXT NOT NULL, total INTEGER NOT NULL, status TEXT NOT NULL, placed_at TEXT NOT NULL);
         CREATE INDEX orders_contact ON orders(contact_id, placed_at);
         CREATE VIEW portal_order_facts AS SELECT id AS order_id, contact_id, total, 'EUR' AS currency, placed_at FROM orders WHERE status NOT IN ('cancelled', 'returned');
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         INSERT INTO orders (contact_id, total, status, placed_at)
           SELECT printf('c_%08d', i % {customers}), 1000 + (i * 7919) % 50000, 'delivered',
                  strftime('%Y-%m-%dT%H:%M:%SZ', '2024-01-01', '+' || ((i * 37 + (i % {customers}) * 11) % 1050) || ' days')
           FROM n;",
        last = customers * 5 - 1,
    ))?;
    let now = chrono::Utc::now();
    // The full pass as the component runs it: a step per tick; the slowest step is what a request waits.
    let t = Instant::now();
    value::start_full(&db, now)?;
    let mut slowest = Duration::ZERO;
    let n = loop {
        let s = Instant::now();
        let done = value::full_step(&db, now, value::STEP_ROWS)?;
        slowest = slowest.max(s.elapsed());
        if let Some(n) = done {
            break n;
        }
    };
    let full = t.elapsed();
    anyhow::ensure!(n as usize == customers, "valued {n} of {customers}");
    let changed: Vec<String> = (0..1000).map(|i| format!("c_{:08}", i * (customers / 1000).max(1))).collect();
    db.run("UPDATE orders SET placed_at = ? WHERE id IN (SELECT id FROM orders ORDER BY id LIMIT 1000)", &[edge_db::now().into()])?;
    let t = Instant::now();
    value::rescore(&db, &changed, now)?;
    Ok(Value { full, slowest_step: slowest, rescore: t.elapsed() })
}

/// Events per second through rule matching and run claiming.
pub fn rule_throughput(dir: &std::path::Path, events: usize) -> Result<f64> {
    let db = open(dir, "rules.db")?;
    db.execute_batch(&format!(
        "CREATE TABLE contacts_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, request_id TEXT,
           entity TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL, before TEXT, after TEXT);
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         INSERT INTO contacts_events (at, actor, entity, entity_id, action, before, after)
           SELECT '2026-12-01T00:00:00.000Z', 'user:u_1', 'contact', printf('c_%08d', i), CASE WHEN i % 3 = 0 THEN 'created' ELSE 'updated' END,
                  '{{}}', CASE i % 4 WHEN 0 THEN '{{\"lifecycle_stage\":\"customer\"}}' WHEN 1 THEN '{{\"tags\":[\"vip\"]}}' ELSE '{{\"phone\":\"1\"}}' END
           FROM n;",
        last = events - 1,
    ))?;
    db.run("INSERT INTO rule_cursors (source, position) VALUES ('contacts_events', '0')", &[])?;
    let w = edge_db::record::Writer { actor: "user:u_bench", request_id: None, random: &|| edge_db::record::test_random() };
    // Twenty rules of the kinds people write; about a quarter of events fire one.
    for i in 0..20 {
        let trigger = match i % 4 {
            0 => serde_json::json!({"kind": "record_created", "entity": "contact"}),
            1 => serde_json::json!({"kind": "record_updated", "entity": "contact", "changed": ["lifecycle_stage"]}),
            2 => serde_json::json!({"kind": "record_updated", "entity": "company"}),
            _ => serde_json::json!({"kind": "deal_won"}),
        };
        let input: rules::RuleInput = serde_json::from_value(serde_json::json!({"name": format!("r{i}"), "trigger": trigger, "actions": [{"kind": "add_tag", "tag": "x"}]}))?;
        rules::create(&db, &w, input).context("bench rule")?;
    }
    let enabled = rules::enabled(&db)?;
    let t = Instant::now();
    let mut seen = 0;
    loop {
        let n = edge_db::tx(&db, || {
            let changes = rules::changes(&db, "contacts_events", 500)?;
            for c in &changes {
                for r in enabled.iter().filter(|r| rules::fires(r, c)) {
                    rules::claim(&db, &w, r, c)?;
                }
            }
            if let Some(last) = changes.last() {
                rules::advance(&db, "contacts_events", &last.position)?;
            }
            Ok(changes.len())
        })?;
        seen += n;
        if n == 0 {
            break;
        }
    }
    anyhow::ensure!(seen == events, "saw {seen} of {events} events");
    Ok(events as f64 / t.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_benchmarks_run_small() {
        let dir = std::env::temp_dir().join(format!("edge-crm-automation-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let v = super::customer_value(&dir, 5_000).unwrap();
        assert!(v.full >= v.slowest_step && v.slowest_step > std::time::Duration::ZERO && v.rescore > std::time::Duration::ZERO);
        assert!(super::rule_throughput(&dir, 3_000).unwrap() > 0.0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod measure {
    /// `cargo test --release -p xtask measure -- --ignored --nocapture`: the full-size figures alone.
    #[test]
    #[ignore]
    fn measure() {
        let dir = std::env::temp_dir().join("edge-crm-automation-measure");
        std::fs::create_dir_all(&dir).unwrap();
        let v = super::customer_value(&dir, 1_000_000).unwrap();
        println!(
            "customer value: full pass {:.1} s (slowest step {:.0} ms), rescoring 1,000: {:.1} ms",
            v.full.as_secs_f64(),
            v.slowest_step.as_secs_f64() * 1000.0,
            v.rescore.as_secs_f64() * 1000.0
        );
        println!("rules: {:.0} events/s", super::rule_throughput(&dir, 1_000_000).unwrap());
    }
}

/// Form submissions under load from many visitors (the host trusts loopback
/// as a proxy, so each request names its visitor in `X-Forwarded-For`):
/// each creates a contact and a note. Answers (submissions/s, p50, p99, errors).
pub fn form_submissions(addr: std::net::SocketAddr, s: &crate::seed::Session, writers: usize, secs: f64) -> Result<(f64, Duration, Duration, usize)> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let body = serde_json::json!({"name": "Bench form", "fields": [{"key": "first_name", "label": "Name"}, {"key": "email", "label": "Email", "kind": "email", "required": true}, {"key": "message", "label": "Message", "kind": "textarea"}], "tags": ["bench"]});
    let form = crate::scale::call(&mut conn, s, "POST", "/api/v1/forms", body.to_string().as_bytes(), "application/json")?;
    let id = form["id"].as_str().context("form id")?.to_string();
    let host = s.host.clone();
    let stop = Instant::now() + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let (id, host) = (id.clone(), host.clone());
            std::thread::spawn(move || -> Result<(Vec<Duration>, usize)> {
                let mut conn = loopback_http::Conn::open(addr)?;
                let (mut lat, mut errors, mut n) = (Vec::new(), 0, 0u32);
                while Instant::now() < stop {
                    n += 1;
                    let visitor = format!("10.{}.{}.{}", w, n / 250 % 250, n % 250 + 1);
                    let body = format!("first_name=Visitor{w}x{n}&email=v{w}x{n}%40bench.example&message=Hello");
                    let t = Instant::now();
                    let r = conn.request("POST", &format!("/api/v1/forms/{id}/submit"), &[("host", &host), ("content-type", "application/x-www-form-urlencoded"), ("accept", "application/json"), ("x-forwarded-for", &visitor)], body.as_bytes())?;
                    lat.push(t.elapsed());
                    errors += (r.status != 201) as usize;
                }
                Ok((lat, errors))
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (l, e) = h.join().map_err(|_| anyhow::anyhow!("submitter panicked"))??;
        all.extend(l);
        errors += e;
    }
    all.sort();
    let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or_default();
    Ok((all.len() as f64 / secs, pct(0.5), pct(0.99), errors))
}
