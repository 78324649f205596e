//! Conformance probe: each path exercises one host capability and reports what
//! happened as JSON, so end-to-end tests can assert on the host's behaviour.

use edge_http::query;
use serde_json::{json, Value as J};
use spin_sdk::http::{Request, Response};
use spin_sdk::key_value::Store;
use spin_sdk::sqlite::{Connection, Value};
use spin_sdk::{http_component, variables};

fn ok(v: J) -> Response {
    Response::builder().status(200).header("content-type", "application/json").body(v.to_string()).build()
}

#[http_component]
async fn handle(req: Request) -> Response {
    let q = query::parse(req.query());
    let arg = |k: &str| query::get(&q, k).unwrap_or("").to_string();
    let info = req.header("spin-path-info").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let op = info.trim_start_matches('/').split('/').next().unwrap_or("").to_string();
    match op.as_str() {
        "kv" => ok(match Store::open(&arg("label")) {
            Err(e) => json!({ "error": format!("{e:?}") }),
            Ok(store) => {
                let key = arg("key");
                if !arg("set").is_empty() {
                    if let Err(e) = store.set(&key, arg("set").as_bytes()) {
                        return ok(json!({ "error": format!("{e:?}") }));
                    }
                }
                let v = store.get(&key).ok().flatten().map(|b| String::from_utf8_lossy(&b).into_owned());
                json!({ "value": v })
            }
        }),
        "sql" => ok(match Connection::open(&arg("db")) {
            Err(e) => json!({ "error": format!("{e:?}") }),
            Ok(db) => {
                let ms: u64 = arg("sleep_ms").parse().unwrap_or(0);
                let run = || -> anyhow::Result<i64> {
                    db.execute("CREATE TABLE IF NOT EXISTS marks (v TEXT NOT NULL)", &[])?;
                    if !arg("insert").is_empty() {
                        db.execute("BEGIN IMMEDIATE", &[])?;
                        db.execute("INSERT INTO marks (v) VALUES (?)", &[Value::Text(arg("insert"))])?;
                        if ms > 0 {
                            std::thread::sleep(std::time::Duration::from_millis(ms));
                        }
                        db.execute("COMMIT", &[])?;
                    }
                    let r = db.execute("SELECT count(*) FROM marks", &[])?;
                    Ok(r.rows.first().and_then(|r| r.get::<i64>(0)).unwrap_or(-1))
                };
                match run() {
                    Ok(n) => json!({ "count": n }),
                    Err(e) => json!({ "error": format!("{e:#}") }),
                }
            }
        }),
        "var" => ok(match variables::get(&arg("name")) {
            Ok(v) => json!({ "value": v }),
            Err(e) => json!({ "error": format!("{e:?}") }),
        }),
        "env" => ok(json!({ "value": std::env::var(arg("name")).ok() })),
        "file" => ok(json!({ "value": std::fs::read_to_string(arg("path")).map_err(|e| e.to_string()) })),
        "chain" => {
            let r = Request::get(arg("url")).build();
            ok(match spin_sdk::http::send::<_, Response>(r).await {
                Ok(resp) => json!({ "status": resp.status(), "body": String::from_utf8_lossy(resp.body()) }),
                Err(e) => json!({ "error": e.to_string() }),
            })
        }
        "trap" => panic!("probe asked to trap"),
        "loop" => {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "alloc" => {
            let mb: usize = arg("mb").parse().unwrap_or(1024);
            let v = vec![1u8; mb << 20];
            ok(json!({ "allocated": std::hint::black_box(v).len() }))
        }
        _ => {
            let mut headers = serde_json::Map::new();
            for (k, v) in req.headers() {
                if k.starts_with("spin-") || k.starts_with("x-") || k.starts_with("edge-") {
                    headers.insert(k.to_string(), J::String(v.as_str().unwrap_or("").to_string()));
                }
            }
            ok(json!({
                "component": std::env::var("PROBE_NAME").unwrap_or_default(),
                "method": req.method().to_string(),
                "path": req.path(),
                "headers": headers,
            }))
        }
    }
}
