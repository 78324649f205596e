//! Realistic sample data for the demo tenant, created through the public API
//! (so it exercises the same path a user's import would).

use anyhow::{bail, Result};
use std::net::SocketAddr;

const FIRST: &[&str] = &[
    "Ada", "Grace", "Linus", "Margaret", "Alan", "Katherine", "Tim", "Barbara", "Dennis", "Frances",
    "Ken", "Radia", "Edsger", "Hedy", "Donald", "Sophie", "Yukihiro", "Anita", "Guido", "Shafi",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Johnson", "Berners-Lee", "Liskov",
    "Ritchie", "Allen", "Thompson", "Perlman", "Dijkstra", "Lamarr", "Knuth", "Wilson", "Matsumoto",
    "Borg", "van Rossum", "Goldwasser",
];
const COMPANIES: &[(&str, &str)] = &[
    ("Northwind Traders", "northwind.example"),
    ("Contoso Outdoor", "contoso.example"),
    ("Fabrikam Motors", "fabrikam.example"),
    ("Tailspin Travel", "tailspin.example"),
    ("Wide World Importers", "wideworld.example"),
    ("Adventure Works Cycles", "adventure-works.example"),
    ("Lakeside Bakery", "lakeside.example"),
    ("Blue Yonder Airlines", "blueyonder.example"),
    ("Coho Winery", "cohowinery.example"),
    ("Litware Books", "litware.example"),
];

/// The sample contacts as JSON bodies (deterministic).
pub fn contacts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i * 7 + i / FIRST.len()) % LAST.len()];
            let (company, domain) = COMPANIES[(i * 3) % COMPANIES.len()];
            let local = format!("{}.{}", first, last.replace(' ', "")).to_lowercase();
            let email = if i % 20 == 0 { format!("{local}@mail.example") } else { format!("{local}@{domain}") };
            let phone = format!("+1 555 {:03} {:04}", 100 + (i * 37) % 900, (i * 7919) % 10000);
            serde_json::json!({
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": if i % 5 == 4 { serde_json::Value::Null } else { phone.into() },
                "company": if i % 11 == 10 { serde_json::Value::Null } else { company.into() },
            })
            .to_string()
        })
        .collect()
}

pub fn post_all(addr: SocketAddr, host: &str, bodies: &[String]) -> Result<usize> {
    let mut conn = loopback_http::Conn::open(addr)?;
    for b in bodies {
        let r = conn.request(
            "POST",
            "/api/v1/contacts",
            &[("host", host), ("content-type", "application/json")],
            b.as_bytes(),
        )?;
        if r.status != 201 {
            bail!("seeding failed: {} {}", r.status, r.text());
        }
    }
    Ok(bodies.len())
}

pub fn demo(addr: SocketAddr, host: &str) -> Result<usize> {
    post_all(addr, host, &contacts(120))
}
