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

/// A signed-in staff session: the cookie and the CSRF token the web app would hold.
#[derive(Clone)]
pub struct Session {
    pub host: String,
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    fn from_response(host: &str, r: &loopback_http::Response) -> Result<Session> {
        if r.status != 200 {
            bail!("sign-in failed: {} {}", r.status, r.text());
        }
        let cookie = r.header("set-cookie").and_then(|c| c.split(';').next()).unwrap_or("").to_string();
        let v: serde_json::Value = serde_json::from_slice(&r.body)?;
        let csrf = v["csrf_token"].as_str().unwrap_or("").to_string();
        Ok(Session { host: host.to_string(), cookie, csrf })
    }

    /// Accepts an invitation (setting the password) and returns the new session.
    pub fn accept(addr: SocketAddr, host: &str, invitation_url: &str, name: &str, password: &str) -> Result<Session> {
        let token = invitation_url.split("token=").nth(1).unwrap_or("");
        let body = serde_json::json!({"token": token, "name": name, "password": password}).to_string();
        let r = loopback_http::request(addr, "POST", "/api/v1/auth/accept-invite", &[("host", host), ("content-type", "application/json")], body.as_bytes())?;
        Session::from_response(host, &r)
    }

    pub fn headers(&self) -> Vec<(&str, &str)> {
        vec![("host", self.host.as_str()), ("cookie", self.cookie.as_str()), ("x-csrf-token", self.csrf.as_str())]
    }
}

pub fn post_all(addr: SocketAddr, session: &Session, bodies: &[String]) -> Result<usize> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let mut headers = session.headers();
    headers.push(("content-type", "application/json"));
    for b in bodies {
        let r = conn.request("POST", "/api/v1/contacts", &headers, b.as_bytes())?;
        if r.status != 201 {
            bail!("seeding failed: {} {}", r.status, r.text());
        }
    }
    Ok(bodies.len())
}

pub fn demo(addr: SocketAddr, session: &Session) -> Result<usize> {
    post_all(addr, session, &contacts(120))
}

/// Provisions a tenant with an owner through the operator API, accepts the
/// invitation with `password`, and returns the owner's session.
pub fn provision(addr: SocketAddr, operator: SocketAddr, token: &str, tenant: &str, display: &str, plan: &str, password: &str) -> Result<Session> {
    let body = serde_json::json!({
        "name": tenant, "display_name": display, "plan": plan,
        "owner_email": format!("owner@{tenant}.example"), "owner_name": "Demo Owner",
    })
    .to_string();
    let auth = format!("Bearer {token}");
    let r = loopback_http::request(operator, "POST", "/v1/tenants", &[("host", "localhost"), ("authorization", &auth), ("content-type", "application/json")], body.as_bytes())?;
    if r.status != 201 {
        bail!("provisioning `{tenant}` failed: {} {}", r.status, r.text());
    }
    let v: serde_json::Value = serde_json::from_slice(&r.body)?;
    let Some(url) = v["owner"]["invitation_url"].as_str() else { bail!("no owner invitation: {v}") };
    Session::accept(addr, &format!("{tenant}.localhost"), url, "Demo Owner", password)
}
