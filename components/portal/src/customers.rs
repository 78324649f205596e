//! The customers' API (`/api/v1/portal`): sign in with a mailed link, then see
//! their own orders. The router authenticates portal sessions and passes the
//! customer's contact id in `edge-portal-contact`; nothing here trusts an id
//! from the request itself.

use crate::http::{contact_by_email, db, problem, valid_id, Ctx};
use edge_http::{FieldError, Problem, Reply};
use identity_domain::portal::{self, PortalSession};
use identity_domain::token;
use portal_domain::store::{kb, links, orders, service, tickets};
use spin_sdk::http::Method;

fn unix() -> i64 {
    chrono::Utc::now().timestamp()
}

fn secure(ctx: &Ctx) -> bool {
    ctx.header("edge-base-url").is_some_and(|b| b.starts_with("https://"))
}

fn kv() -> Result<spin_sdk::key_value::Store, Problem> {
    spin_sdk::key_value::Store::open_default().map_err(|e| Problem::internal(&format!("key-value: {e}")))
}

/// An order as its customer sees it: no internal note, no integration ids.
fn public(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        for k in ["note", "external_id", "contact_id", "version", "created_at", "updated_at"] {
            o.remove(k);
        }
    }
    v
}

fn customer(ctx: &Ctx) -> Result<String, Problem> {
    ctx.header("edge-portal-contact").filter(|c| edge_http::ids::is_valid("c", c)).ok_or_else(|| Problem::new(401, "unauthenticated", "Sign-in required", "Sign in with the link we email you"))
}

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    match (ctx.method(), rest) {
        (Method::Post, ["auth", "request-link"]) => request_link(ctx),
        (Method::Post, ["auth", "redeem"]) => redeem(ctx),
        (Method::Post, ["auth", "sign-out"]) => {
            if let Some(tok) = ctx.header("cookie").as_deref().and_then(portal::from_cookie_header) {
                let _ = kv()?.delete(&portal::kv_key(&token::digest(tok)));
            }
            Ok(Reply::empty(204).with_header("set-cookie", portal::clear_cookie(secure(ctx))))
        }
        (Method::Get, ["me"]) => {
            let id = customer(ctx)?;
            // The session itself (for its CSRF token: a new tab has none yet).
            let session: Option<PortalSession> = ctx
                .header("cookie")
                .as_deref()
                .and_then(portal::from_cookie_header)
                .and_then(|tok| kv().ok()?.get(&portal::kv_key(&token::digest(tok))).ok().flatten())
                .and_then(|b| serde_json::from_slice(&b).ok());
            let contact = edge_component::call(ctx, Method::Get, "contacts", &format!("/api/v1/contacts/{id}"), None, &[], true).ok().filter(|(s, _, _)| *s == 200).map(|(_, _, v)| v);
            let name = contact.as_ref().map(|c| format!("{} {}", c["first_name"].as_str().unwrap_or(""), c["last_name"].as_str().unwrap_or("")).trim().to_string());
            let db = db()?;
            let v = orders::customer_value(&db, &id).map_err(|e| problem(e, "customer"))?;
            let categories = service::get(&db).map_err(|e| problem(e, "settings"))?.categories;
            Ok(Reply::json(200, &serde_json::json!({
                "contact_id": id, "name": name, "first_name": contact.as_ref().and_then(|c| c["first_name"].as_str().map(String::from)),
                "email": session.as_ref().map(|s| s.email.clone()), "csrf_token": session.map(|s| s.csrf), "orders": v["orders"],
                "complaint_categories": categories,
            })))
        }
        (Method::Get, ["orders"]) => {
            let id = customer(ctx)?;
            let (items, _) = orders::list(&db()?, Some(&id), None, None, None, 200).map_err(|e| problem(e, "order"))?;
            let items: Vec<serde_json::Value> = items.iter().map(|o| public(serde_json::to_value(o).unwrap_or_default())).collect();
            Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": null })))
        }
        (Method::Get, ["orders", oid]) => {
            let id = customer(ctx)?;
            valid_id(orders::ID_PREFIX, oid, "order")?;
            let db = db()?;
            // Another customer's order is as absent as one that never existed.
            let o = orders::get(&db, oid, Some(&id)).map_err(|e| problem(e, "order"))?.ok_or_else(|| Problem::not_found("No order with this id"))?;
            Ok(Reply::json(200, &public(crate::orders::with_history(&db, &o)?)))
        }
        // The portal's look, for every visitor (signed in or not).
        (Method::Get, ["brand"]) => {
            let s = service::get(&db()?).map_err(|e| problem(e, "settings"))?;
            Ok(Reply::json(200, &serde_json::json!({ "name": s.portal_name, "brand_color": s.brand_color }))
                .with_header("cache-control", "public, max-age=60"))
        }
        // The knowledge base is public: visitors search it before filing.
        (Method::Get, ["kb"]) => {
            let pairs = edge_http::query::parse(ctx.query());
            let get = |k: &str| edge_http::query::get(&pairs, k).filter(|v| !v.is_empty());
            let db = db()?;
            // `subject`: suggestions while a customer types a complaint (any word matches).
            let (q, any) = match get("subject") {
                Some(s) => (Some(s), true),
                None => (get("q"), false),
            };
            let items = kb::search(&db, q, get("category"), true, any, if any { 5 } else { 50 }).map_err(|e| problem(e, "article"))?;
            let categories: Vec<_> = kb::categories(&db, true).map_err(|e| problem(e, "article"))?.into_iter().map(|(c, n)| serde_json::json!({"category": c, "count": n})).collect();
            let items: Vec<_> = items.into_iter().map(|a| serde_json::json!({"id": a.id, "title": a.title, "category": a.category, "excerpt": a.body.chars().take(240).collect::<String>(), "published_at": a.published_at})).collect();
            Ok(Reply::json(200, &serde_json::json!({ "items": items, "categories": categories, "next_cursor": null })))
        }
        (Method::Get, ["kb", aid]) => {
            valid_id(kb::ID_PREFIX, aid, "article")?;
            let db = db()?;
            let a = kb::get(&db, aid, true).map_err(|e| problem(e, "article"))?.ok_or_else(|| Problem::not_found("No article with this id"))?;
            let _ = kb::viewed(&db, aid);
            Ok(Reply::json(200, &serde_json::json!({"id": a.id, "title": a.title, "body": a.body, "category": a.category, "published_at": a.published_at, "updated_at": a.updated_at})))
        }
        (Method::Post, ["kb", aid, "deflected"]) => {
            valid_id(kb::ID_PREFIX, aid, "article")?;
            if kb::deflected(&db()?, aid).map_err(|e| problem(e, "article"))? {
                Ok(Reply::empty(204))
            } else {
                Err(Problem::not_found("No article with this id"))
            }
        }
        (Method::Get, ["tickets"]) => {
            let id = customer(ctx)?;
            let q = tickets::Query { contact_id: Some(id), statuses: tickets::STATUSES.map(String::from).to_vec(), limit: 200, ..Default::default() };
            let (items, _) = tickets::list(&db()?, &q, chrono::Utc::now()).map_err(|e| problem(e, "ticket"))?;
            let items: Vec<_> = items.iter().map(public_ticket).collect();
            Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": null })))
        }
        (Method::Post, ["tickets"]) => {
            let id = customer(ctx)?;
            let db = db()?;
            let input: tickets::NewTicket = ctx.body()?;
            let settings = service::get(&db).map_err(|e| problem(e, "settings"))?;
            crate::http::once(ctx, &db, || {
                let (t, _) = tickets::create(&db, &ctx.writer(), input, Some(&id), &settings, chrono::Utc::now()).map_err(|e| problem(e, "ticket"))?;
                Ok(Reply::json(201, &ticket_for_customer(&db, &t)?).with_header("location", format!("/api/v1/portal/tickets/{}", t.id)))
            })
        }
        (Method::Get, ["tickets", tid]) => {
            let id = customer(ctx)?;
            valid_id(tickets::ID_PREFIX, tid, "ticket")?;
            let db = db()?;
            let t = tickets::get(&db, tid, Some(&id)).map_err(|e| problem(e, "ticket"))?.ok_or_else(|| Problem::not_found("No ticket with this id"))?;
            Ok(Reply::json(200, &ticket_for_customer(&db, &t)?))
        }
        (Method::Post, ["tickets", tid, "messages"]) => {
            let id = customer(ctx)?;
            valid_id(tickets::ID_PREFIX, tid, "ticket")?;
            let db = db()?;
            let r: tickets::Reply = ctx.body()?;
            let settings = service::get(&db).map_err(|e| problem(e, "settings"))?;
            crate::http::once(ctx, &db, || {
                let (t, _) = tickets::reply(&db, &ctx.writer(), tid, r, Some(&id), &settings, chrono::Utc::now()).map_err(|e| problem(e, "ticket"))?;
                Ok(Reply::json(201, &ticket_for_customer(&db, &t)?))
            })
        }
        (Method::Post, ["tickets", tid, "rating"]) => {
            let id = customer(ctx)?;
            valid_id(tickets::ID_PREFIX, tid, "ticket")?;
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Rating {
                score: i64,
                comment: Option<String>,
            }
            let r: Rating = ctx.body()?;
            let db = db()?;
            let t = tickets::rate(&db, &ctx.writer(), tid, &id, r.score, r.comment, chrono::Utc::now()).map_err(|e| problem(e, "ticket"))?;
            Ok(Reply::json(200, &ticket_for_customer(&db, &t)?))
        }
        _ => Err(Problem::not_found("No such resource")),
    }
}

/// A ticket as its customer sees it: no assignee, no team, no escalation, no
/// internal notes; staff authors shown as the support team.
fn public_ticket(t: &tickets::Ticket) -> serde_json::Value {
    serde_json::json!({
        "id": t.id, "number": t.number, "subject": t.subject, "category": t.category, "status": t.status, "priority": t.priority,
        "order_id": t.order_id, "created_at": t.created_at, "updated_at": t.updated_at, "last_message_at": t.last_message_at,
        "resolved_at": t.resolved_at, "closed_at": t.closed_at, "csat": t.csat, "csat_comment": t.csat_comment,
        "can_rate": matches!(t.status.as_str(), "resolved" | "closed") && t.csat.is_none(),
        "can_reply": t.status != "closed",
    })
}

fn ticket_for_customer(db: &spin_sdk::sqlite::Connection, t: &tickets::Ticket) -> Result<serde_json::Value, Problem> {
    let mut v = public_ticket(t);
    let messages = tickets::messages(db, &t.id, false).map_err(|e| problem(e, "ticket"))?;
    v["messages"] = messages
        .into_iter()
        .map(|m| serde_json::json!({"id": m.id, "from": if m.author.starts_with("customer:") { "you" } else { "support" }, "body": m.body, "created_at": m.created_at}))
        .collect();
    Ok(v)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    email: String,
}

/// Mails a sign-in link to a known customer. The answer is the same whether
/// or not the address is known (it reveals nothing) and whether or not it was
/// throttled.
fn request_link(ctx: &Ctx) -> Result<Reply, Problem> {
    let r: LinkRequest = ctx.body()?;
    let email = r.email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(Problem::validation(vec![FieldError::new("email", "is not an email address")]));
    }
    let accepted = Reply::json(202, &serde_json::json!({ "detail": "If this address belongs to a customer, a sign-in link is on its way." }));
    let Some(contact) = contact_by_email(ctx, &email)? else { return Ok(accepted) };
    let contact_id = contact["id"].as_str().unwrap_or_default().to_string();
    let tok = token::encode("pl_", &edge_component::random_bytes::<32>());
    if !links::issue(&db()?, &token::digest(&tok), &contact_id, &email, unix()).map_err(|e| problem(e, "link"))? {
        return Ok(accepted);
    }
    let base = ctx.header("edge-base-url").unwrap_or_default();
    let name = contact["first_name"].as_str().filter(|n| !n.is_empty()).unwrap_or("there");
    let body = format!(
        "Hello {name},\n\nSign in to your customer portal with this link (it works once, for 15 minutes):\n\n{base}/portal/sign-in?token={tok}\n\nIf you did not ask for it, ignore this email.\n"
    );
    let mail = serde_json::json!({"to": email, "subject": "Your sign-in link", "body_text": body});
    match edge_component::call(ctx, Method::Post, "identity", "/internal/mail", Some(&mail), &[], true) {
        Ok((202, _, _)) => Ok(accepted),
        Ok((s, _, v)) => Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("The email could not be queued ({s}: {})", v["detail"]))),
        Err(e) => Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("The email could not be queued: {e}"))),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Redeem {
    token: String,
}

/// Uses a sign-in link once and starts a portal session.
fn redeem(ctx: &Ctx) -> Result<Reply, Problem> {
    let r: Redeem = ctx.body()?;
    let now = unix();
    let Some((contact_id, email)) = links::redeem(&db()?, &token::digest(r.token.trim()), now).map_err(|e| problem(e, "link"))? else {
        return Err(Problem::new(401, "link-invalid", "Link not valid", "This sign-in link was already used, has expired, or is not for this portal. Ask for a new one."));
    };
    let tok = token::encode("ps_", &edge_component::random_bytes::<32>());
    let csrf = token::encode("", &edge_component::random_bytes::<32>());
    let session = PortalSession { contact_id: contact_id.clone(), email: email.clone(), csrf: csrf.clone(), expires_at: now + portal::SESSION_SECS };
    let bytes = serde_json::to_vec(&session).map_err(|e| Problem::internal(&e.to_string()))?;
    kv()?.set(&portal::kv_key(&token::digest(&tok)), &bytes).map_err(|e| Problem::internal(&format!("key-value: {e}")))?;
    Ok(Reply::json(200, &serde_json::json!({ "contact_id": contact_id, "email": email, "csrf_token": csrf })).with_header("set-cookie", portal::set_cookie(&tok, secure(ctx))))
}
