//! Realistic sample data for the demo tenant, created through the public API
//! (so it exercises the same path a user's import would).

use anyhow::{bail, Result};
use chrono::Datelike;
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

/// POSTs each body to `path`; returns the created records.
pub fn post_each(addr: SocketAddr, session: &Session, path: &str, bodies: &[String]) -> Result<Vec<serde_json::Value>> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let mut headers = session.headers();
    headers.push(("content-type", "application/json"));
    let mut out = Vec::with_capacity(bodies.len());
    for b in bodies {
        let r = conn.request("POST", path, &headers, b.as_bytes())?;
        if r.status != 201 {
            bail!("seeding {path} failed: {} {}", r.status, r.text());
        }
        out.push(serde_json::from_slice(&r.body)?);
    }
    Ok(out)
}

pub fn post_all(addr: SocketAddr, session: &Session, bodies: &[String]) -> Result<usize> {
    Ok(post_each(addr, session, "/api/v1/contacts", bodies)?.len())
}

const INDUSTRIES: &[&str] = &["Retail", "Outdoor", "Automotive", "Travel", "Logistics", "Manufacturing", "Food", "Aviation", "Wine", "Publishing"];
const STAGES: &[&str] = &["lead", "lead", "qualified", "opportunity", "customer", "customer", "customer", "advocate", "subscriber", "churned"];
const NOTES: &[&str] = &[
    "Met at the spring trade fair; interested in the premium plan.",
    "Asked for a quote on 40 seats, decision next quarter.",
    "Renewal call went well, wants a case study.",
    "Complained about delivery times; escalated to logistics.",
    "Prefers email over calls. Budget approved in March.",
];

/// The demo tenant's sample data: custom fields, companies, contacts linked to
/// them with stages, tags and custom values, and notes and tasks.
pub fn demo(addr: SocketAddr, session: &Session) -> Result<usize> {
    let fields = [
        serde_json::json!({"entity": "contact", "key": "tier", "label": "Tier", "kind": "select", "options": ["Gold", "Silver", "Bronze"]}),
        serde_json::json!({"entity": "contact", "key": "renewal_date", "label": "Renewal date", "kind": "date"}),
        serde_json::json!({"entity": "company", "key": "arr", "label": "Annual revenue", "kind": "money", "currency": "EUR"}),
    ];
    post_each(addr, session, "/api/v1/custom-fields", &fields.iter().map(|f| f.to_string()).collect::<Vec<_>>())?;
    let companies: Vec<String> = COMPANIES
        .iter()
        .enumerate()
        .map(|(i, (name, domain))| {
            serde_json::json!({
                "name": name, "domain": domain, "industry": INDUSTRIES[i % INDUSTRIES.len()],
                "size": SIZES[i % SIZES.len()], "website": format!("https://www.{domain}"),
                "tags": if i % 3 == 0 { vec!["key account"] } else { Vec::new() },
                "custom": {"arr": (i as i64 + 1) * 125_000_000},
            })
            .to_string()
        })
        .collect();
    let companies = post_each(addr, session, "/api/v1/companies", &companies)?;
    let bodies: Vec<String> = contacts(120)
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let mut v: serde_json::Value = serde_json::from_str(&b).unwrap_or_default();
            if !v["company"].is_null() {
                v["company_id"] = companies[(i * 3) % companies.len()]["id"].clone();
            }
            v["lifecycle_stage"] = STAGES[i % STAGES.len()].into();
            v["title"] = ["CEO", "Head of Sales", "Buyer", "Engineer", "Office Manager"][i % 5].into();
            v["tags"] = match i % 6 {
                0 => serde_json::json!(["vip"]),
                1 => serde_json::json!(["newsletter"]),
                2 => serde_json::json!(["vip", "partner"]),
                _ => serde_json::json!([]),
            };
            let tier = ["Gold", "Silver", "Bronze"][i % 3];
            v["custom"] = serde_json::json!({"tier": tier, "renewal_date": format!("2027-{:02}-{:02}", 1 + i % 12, 1 + i % 28)});
            v["consent"] = serde_json::json!({"email": if i % 4 == 0 { "denied" } else { "granted" }});
            v.to_string()
        })
        .collect();
    let created = post_each(addr, session, "/api/v1/contacts", &bodies)?;
    let mut activities = Vec::new();
    for (i, c) in created.iter().take(30).enumerate() {
        activities.push(serde_json::json!({"kind": "note", "body": NOTES[i % NOTES.len()], "contact_id": c["id"]}).to_string());
        if i % 3 == 0 {
            let due = chrono::Utc::now() + chrono::Duration::days(i as i64 / 3 - 2);
            activities.push(serde_json::json!({"kind": "task", "subject": format!("Follow up with {}", c["first_name"].as_str().unwrap_or("them")), "contact_id": c["id"], "due_at": due.to_rfc3339()}).to_string());
        }
        if i % 4 == 1 {
            activities.push(serde_json::json!({"kind": "call", "subject": "Discovery call", "body": "Talked through their current process.", "contact_id": c["id"]}).to_string());
        }
    }
    post_each(addr, session, "/api/v1/activities", &activities)?;
    deals(addr, session, &created, &companies)?;
    service(addr, session, &created)?;
    campaigns(addr, session)?;
    Ok(created.len())
}

const PRODUCTS_SHOP: &[(&str, &str, i64)] = &[("TENT-2", "Trail tent, 2 people", 24_900), ("BOOT-42", "Hiking boots", 12_900), ("STOVE", "Camping stove", 4_500), ("KAYAK", "Touring kayak", 89_900), ("JACKET", "Rain jacket", 15_900)];
const ARTICLES: &[(&str, &str, &str)] = &[
    ("Where is my parcel?", "Delivery", "Every order gets a tracking number when it ships. You find it on the order page in your portal.\n\nParcels usually arrive within 2–4 working days. If the tracking has not moved for 3 days, file a complaint from the order page and we chase the carrier."),
    ("My item arrived damaged", "Damaged item", "We are sorry! Take a photo of the damage and of the box, then file a complaint from the order page.\n\nWe send a replacement or refund you, whichever you prefer, usually within 2 working days."),
    ("How do returns work?", "Returns", "You can return unused items within 30 days. Start from the order page: we email you a prepaid label.\n\nRefunds reach your account within 5 working days of the parcel arriving at our warehouse."),
    ("Paying by invoice", "Billing", "Business customers can pay by invoice within 14 days. Invoices are sent to the billing address of the order."),
];

/// Orders for some customers (from the shop's sync), complaints at every stage,
/// knowledge base articles and macros: a service desk with work in it.
fn service(addr: SocketAddr, session: &Session, contacts: &[serde_json::Value]) -> Result<()> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let mut headers = session.headers();
    headers.push(("content-type", "application/json"));
    let mut call = |method: &str, path: &str, body: serde_json::Value| -> Result<serde_json::Value> {
        let r = conn.request(method, path, &headers, body.to_string().as_bytes())?;
        if !(200..300).contains(&r.status) {
            bail!("{method} {path}: {} {}", r.status, r.text());
        }
        Ok(serde_json::from_slice(&r.body).unwrap_or_default())
    };
    let now = chrono::Utc::now();
    let statuses = ["delivered", "delivered", "shipped", "paid", "placed", "delivered", "returned", "cancelled"];
    let mut orders = Vec::new();
    for (i, c) in contacts.iter().filter(|c| c["email"].is_string()).take(40).enumerate() {
        let (sku, product, price) = PRODUCTS_SHOP[i % PRODUCTS_SHOP.len()];
        let status = statuses[i % statuses.len()];
        let body = serde_json::json!({
            "contact_id": c["id"], "currency": "EUR", "items": [{"sku": sku, "product": product, "quantity": 1 + i as i64 % 2, "unit_price": price}],
            "shipping": 495, "placed_at": (now - chrono::Duration::days(3 + (i as i64 * 5) % 120)).to_rfc3339(),
            "status": status, "carrier": if matches!(status, "shipped" | "delivered" | "returned") { Some("DHL") } else { None },
            "tracking_number": if matches!(status, "shipped" | "delivered" | "returned") { Some(format!("00340434{:010}", i * 7919)) } else { None },
        });
        orders.push((call("PUT", &format!("/api/v1/orders/by-external-id/shop-{}", 5000 + i), body)?, c.clone()));
    }
    for (title, category, body) in ARTICLES {
        call("POST", "/api/v1/kb/articles", serde_json::json!({"title": title, "category": category, "body": body, "status": "published"}))?;
    }
    call("POST", "/api/v1/macros", serde_json::json!({"name": "Replacement on its way", "body": "Sorry about that! A replacement is on its way; you will get the tracking number by email.", "status": "resolved"}))?;
    call("POST", "/api/v1/macros", serde_json::json!({"name": "Need photos", "body": "Could you send us a photo of the damage and of the box? Then we can sort it out quickly.", "status": "waiting"}))?;
    let complaints = [
        ("Parcel has not arrived", "Delivery", "The tracking has not moved for a week.", "high"),
        ("Boots arrived damaged", "Damaged item", "The sole of the left boot is coming off.", "normal"),
        ("Charged twice", "Billing", "I see two payments for the same order.", "urgent"),
        ("Wrong size", "Returns", "Can I swap for a 43?", "low"),
        ("Stove does not light", "Damaged item", "The igniter does not spark.", "normal"),
    ];
    for (i, (subject, category, body, priority)) in complaints.iter().enumerate() {
        let (order, contact) = &orders[i * 3 % orders.len()];
        let channel = if i % 2 == 0 { "email" } else { "phone" };
        let t = call("POST", "/api/v1/tickets", serde_json::json!({"contact_id": contact["id"], "order_id": order["id"], "subject": subject, "category": category, "body": body, "priority": priority, "channel": channel}))?;
        let id = t["id"].as_str().unwrap_or_default().to_string();
        match i {
            1 => {
                call("POST", &format!("/api/v1/tickets/{id}/messages"), serde_json::json!({"body": "Second complaint about this model this month.", "internal": true}))?;
                call("POST", &format!("/api/v1/tickets/{id}/messages"), serde_json::json!({"body": "Could you send us a photo of the sole?", "status": "waiting"}))?;
            }
            3 => {
                call("POST", &format!("/api/v1/tickets/{id}/messages"), serde_json::json!({"body": "Of course: a label for the swap is on its way.", "status": "resolved"}))?;
            }
            _ => {}
        }
    }
    Ok(())
}

const PRIORITIES: [&str; 4] = ["normal", "high", "normal", "low"];
const SOURCES: [&str; 4] = ["Website", "Referral", "Trade fair", "Outbound"];
const PRODUCTS: &[(&str, i64)] = &[("Seats (annual)", 24_000), ("Onboarding", 150_000), ("Support plan", 90_000), ("Integration", 300_000)];

/// A year of pipeline: open deals in every stage (some in USD, a few stale)
/// and closed ones with their dates, through the bulk API; a USD rate and
/// quotas for the owner. Won deals among them made their contacts customers.
fn deals(addr: SocketAddr, session: &Session, contacts: &[serde_json::Value], companies: &[serde_json::Value]) -> Result<()> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let mut headers = session.headers();
    headers.push(("content-type", "application/json"));
    let mut call = |method: &str, path: &str, body: serde_json::Value| -> Result<serde_json::Value> {
        let r = conn.request(method, path, &headers, body.to_string().as_bytes())?;
        if !(200..300).contains(&r.status) {
            bail!("{method} {path}: {} {}", r.status, r.text());
        }
        Ok(serde_json::from_slice(&r.body).unwrap_or_default())
    };
    let now = chrono::Utc::now();
    let day = |d: i64| (now + chrono::Duration::days(d)).format("%Y-%m-%d").to_string();
    call("POST", "/api/v1/exchange-rates", serde_json::json!({"currency": "USD", "valid_from": day(-400), "rate": "0.92"}))?;
    let me = call("GET", "/api/v1/auth/me", serde_json::Value::Null)?;
    let owner = me["user"]["id"].clone();
    let pipelines = call("GET", "/api/v1/pipelines", serde_json::Value::Null)?;
    let stages: Vec<String> = pipelines["items"][0]["stages"].as_array().map(|a| a.iter().filter_map(|s| s["id"].as_str().map(String::from)).collect()).unwrap_or_default();
    let mut items = Vec::new();
    for i in 0..90usize {
        let contact = &contacts[(i * 7) % contacts.len()];
        let company = contact["company_id"].as_str().map(String::from).or_else(|| companies[i % companies.len()]["id"].as_str().map(String::from));
        let company_name = companies.iter().find(|c| c["id"].as_str() == company.as_deref()).and_then(|c| c["name"].as_str()).unwrap_or("Account");
        let (product, price) = PRODUCTS[i % PRODUCTS.len()];
        let mut d = serde_json::json!({
            "title": format!("{company_name} – {}", product.split(' ').next().unwrap_or(product).to_lowercase()),
            "contact_id": contact["id"], "company_id": company, "owner_id": owner,
            "currency": if i % 9 == 4 { "USD" } else { "EUR" },
            "line_items": [{"product": product, "quantity": 1 + (i % 5) * 5, "unit_price": price, "discount_percent": if i % 4 == 0 { 10 } else { 0 }}],
            "priority": PRIORITIES[i % 4], "source": SOURCES[i % 4],
            "stage_id": stages.get(i % stages.len().max(1)), "tags": if i % 5 == 0 { vec!["expansion"] } else { vec![] },
        });
        if i < 30 {
            d["expected_close"] = day(5 + (i as i64 * 11) % 170).into();
            d["next_step"] = ["Send proposal", "Book demo", "Call the buyer", "Legal review"][i % 4].into();
            if i % 6 == 5 {
                d["created_at"] = (now - chrono::Duration::days(40)).to_rfc3339().into(); // untouched for weeks: stale
            }
        } else {
            let created = now - chrono::Duration::days(20 + (i as i64 * 13) % 340);
            let closed = (created + chrono::Duration::days(7 + (i as i64 * 5) % 60)).min(now - chrono::Duration::hours(1));
            let won = i % 3 != 0;
            d["status"] = if won { "won" } else { "lost" }.into();
            if won {
                d["won_reason"] = ["Product fit", "Relationship", "Price"][(i / 3) % 3].into();
            } else {
                d["lost_reason"] = ["Price", "Competitor", "Timing", "No budget"][i % 4].into();
            }
            d["created_at"] = created.to_rfc3339().into();
            d["closed_at"] = closed.to_rfc3339().into();
        }
        items.push(d);
    }
    call("POST", "/api/v1/deals/bulk", serde_json::json!({ "items": items }))?;
    let quarter = format!("{}-Q{}", chrono::Datelike::year(&now), chrono::Datelike::month0(&now) / 3 + 1);
    call("PUT", "/api/v1/quotas", serde_json::json!({"items": [{"owner_id": owner, "period": quarter, "amount": 12_000_000}]}))?;
    Ok(())
}

const SIZES: &[&str] = &["1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5000+"];

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

const NEWSLETTER_HTML: &str = "<html><body style=\"font-family:system-ui,sans-serif;max-width:600px;margin:auto\">\
<h1>Hello {{ contact.first_name | default: \"there\" }},</h1>\
<p>Winter is here, and so is our new outdoor range: lighter tents, warmer jackets, boots that stay dry.</p>\
<p><a href=\"https://shop.example.com/winter\">See the winter range</a></p>\
<p>Customers at {{ contact.company | default: \"your company\" }} get 10% off until the end of the month with code <strong>WINTER10</strong>.</p>\
<p><a href=\"https://shop.example.com/guides/layering\">Read our layering guide</a></p>\
</body></html>";

/// Marketing: templates, segments, a sent newsletter with opens and clicks,
/// a scheduled A/B-tested campaign and an active welcome sequence.
fn campaigns(addr: SocketAddr, session: &Session) -> Result<()> {
    let mut conn = loopback_http::Conn::open(addr)?;
    let mut headers = session.headers();
    headers.push(("content-type", "application/json"));
    let mut call = |method: &str, path: &str, body: serde_json::Value| -> Result<serde_json::Value> {
        let r = conn.request(method, path, &headers, body.to_string().as_bytes())?;
        if !(200..300).contains(&r.status) {
            bail!("{method} {path}: {} {}", r.status, r.text());
        }
        Ok(serde_json::from_slice(&r.body).unwrap_or_default())
    };
    let newsletter = call("POST", "/api/v1/segments", serde_json::json!({"name": "Newsletter subscribers", "description": "Tagged newsletter or VIP", "filter": {"or": [{"field": "tags", "op": "has", "value": "newsletter"}, {"field": "tags", "op": "has", "value": "vip"}]}}))?;
    let leads = call("POST", "/api/v1/segments", serde_json::json!({"name": "Open leads", "filter": {"field": "lifecycle_stage", "op": "eq", "value": "lead"}}))?;
    let gold = call("POST", "/api/v1/segments", serde_json::json!({"name": "Gold tier customers", "filter": {"and": [{"field": "lifecycle_stage", "op": "eq", "value": "customer"}, {"field": "custom.tier", "op": "eq", "value": "Gold"}]}}))?;
    let tpl = call("POST", "/api/v1/templates", serde_json::json!({"name": "Monthly newsletter", "subject": "{{ contact.first_name | default: \"Hi\" }}, the winter range is here", "html": NEWSLETTER_HTML}))?;
    call("POST", "/api/v1/templates", serde_json::json!({"name": "Plain note", "subject": "A quick note", "text": "Hi {{ contact.first_name | default: \"there\" }},\n\nJust checking in: is there anything we can help with?\n\nBest,\nThe Demo team"}))?;
    // November's newsletter, sent; some people opened and clicked it.
    let sent = call("POST", "/api/v1/campaigns", serde_json::json!({"name": "November newsletter", "template_id": tpl["id"], "segment_id": newsletter["id"], "from_name": "Demo Outdoor"}))?;
    let id = sent["id"].as_str().unwrap_or_default().to_string();
    call("POST", &format!("/api/v1/campaigns/{id}/schedule"), serde_json::json!({}))?;
    for _ in 0..100 {
        if call("GET", &format!("/api/v1/campaigns/{id}"), serde_json::json!({}))?["status"] == "sent" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // People open later than scanners do (see the tracking's bot rules).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let messages = call("GET", &format!("/api/v1/campaigns/{id}/messages?as_sent=true"), serde_json::json!({}))?;
    let browser = [("host", session.host.as_str()), ("user-agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15")];
    let mut public = loopback_http::Conn::open(addr)?;
    for (i, m) in messages["items"].as_array().into_iter().flatten().enumerate() {
        let html = m["html"].as_str().unwrap_or_default();
        let link = |kind: &str| html.find(&format!("/api/v1/mail/{kind}/")).map(|s| html[s..].split('"').next().unwrap_or_default().to_string());
        if i % 5 < 3 {
            if let Some(p) = link("o") {
                public.request("GET", &p, &browser, b"")?;
            }
        }
        if i % 5 == 0 {
            if let Some(p) = link("c") {
                public.request("GET", &p, &browser, b"")?;
            }
        }
        if i == 7 {
            if let Some(p) = link("u") {
                public.request("POST", &p, &[browser[0], ("content-type", "application/x-www-form-urlencoded")], b"List-Unsubscribe=One-Click")?;
            }
        }
    }
    // December's sale: scheduled for next Tuesday 09:00 in Berlin, subjects A/B-tested.
    let sale = call("POST", "/api/v1/campaigns", serde_json::json!({
        "name": "December sale", "segment_id": gold["id"], "from_name": "Demo Outdoor", "time_zone": "Europe/Berlin",
        "subject": "Our December sale starts now", "html": "<p>Hi {{ contact.first_name | default: \"there\" }}, everything is 20% off this week.</p><p><a href=\"https://shop.example.com/sale\">Shop the sale</a></p>",
        "ab": {"subject_b": "{{ contact.first_name | default: \"Hi\" }}, 20% off for you", "sample_percent": 20, "wait_minutes": 240, "metric": "clicks"},
    }))?;
    let today = chrono::Utc::now().date_naive();
    let days = match (1 - today.weekday().num_days_from_monday() as i64).rem_euclid(7) {
        0 => 7,
        d => d,
    };
    let tuesday = today + chrono::Duration::days(days);
    call("POST", &format!("/api/v1/campaigns/{}/schedule", sale["id"].as_str().unwrap_or_default()), serde_json::json!({"send_at": format!("{tuesday}T09:00")}))?;
    call("POST", "/api/v1/campaigns", serde_json::json!({"name": "Spring preview (draft)", "segment_id": newsletter["id"], "template_id": tpl["id"]}))?;
    // A welcome sequence for open leads, until they become customers.
    let seq = call("POST", "/api/v1/sequences", serde_json::json!({
        "name": "Lead nurture", "segment_id": leads["id"], "from_name": "Demo Outdoor",
        "goal": {"field": "lifecycle_stage", "op": "eq", "value": "customer"},
        "steps": [
            {"delay_minutes": 0, "subject": "Welcome, {{ contact.first_name | default: \"friend\" }}", "text": "Thanks for your interest in Demo Outdoor. Here is what we do best: gear that lasts."},
            {"delay_minutes": 2880, "subject": "How teams use Demo Outdoor", "text": "Three stories from customers like you."},
            {"delay_minutes": 10080, "subject": "Shall we talk?", "text": "Book 20 minutes with us: we will put together an offer for your team."},
        ],
    }))?;
    call("POST", &format!("/api/v1/sequences/{}/activate", seq["id"].as_str().unwrap_or_default()), serde_json::json!({}))?;
    Ok(())
}
