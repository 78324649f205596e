//! The service desk (staff): tickets and their conversation, settings, macros,
//! the knowledge base, reports; and the unattended check (`/internal/tick`).

use crate::http::{db, once, problem, valid_id, with_etag, Ctx};
use edge_http::{query, FieldError, Problem, Reply};
use portal_domain::store::{kb, service, tickets};
use spin_sdk::http::Method;

fn not_allowed() -> Problem {
    Problem::new(405, "method-not-allowed", "Method not allowed", "This resource does not take that method")
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// Mail through identity's outbox, after the change committed; a failure is
/// logged, never undoes the change.
pub fn mail(ctx: &Ctx, to: &str, subject: &str, body: &str) {
    let m = serde_json::json!({"to": to, "subject": subject, "body_text": body});
    match edge_component::call(ctx, Method::Post, "identity", "/internal/mail", Some(&m), &[], true) {
        Ok((202, _, _)) => {}
        Ok((s, _, v)) => eprintln!("portal: mail to {to} not queued: {s} {}", v["detail"]),
        Err(e) => eprintln!("portal: mail to {to} not queued: {e}"),
    }
}

/// The customer's email, from the contacts API.
fn email_of(ctx: &Ctx, contact: &str) -> Option<String> {
    let (s, _, v) = edge_component::call(ctx, Method::Get, "contacts", &format!("/api/v1/contacts/{contact}"), None, &[], true).ok()?;
    (s == 200).then(|| v["email"].as_str().map(String::from)).flatten()
}

/// Tells the customer about a public reply (and asks for a rating on resolution).
pub fn tell_customer(ctx: &Ctx, t: &tickets::Ticket, body: &str) {
    let Some(to) = email_of(ctx, &t.contact_id) else { return };
    let base = ctx.header("edge-base-url").unwrap_or_default();
    let link = format!("{base}/portal/complaints/{}", t.id);
    let (subject, text) = if t.status == "resolved" {
        (format!("Resolved: complaint #{}", t.number), format!("{body}\n\nWe consider your complaint #{} resolved. How did we do? Rate it, or reply if something is still wrong:\n{link}\n", t.number))
    } else {
        (format!("New reply to complaint #{}", t.number), format!("{body}\n\nReply or follow your complaint #{} in the portal:\n{link}\n", t.number))
    };
    mail(ctx, &to, &subject, &text);
}

fn ticket_view(db: &spin_sdk::sqlite::Connection, t: &tickets::Ticket, internal: bool) -> Result<serde_json::Value, Problem> {
    let messages = tickets::messages(db, &t.id, internal).map_err(|e| problem(e, "ticket"))?;
    let mut v = serde_json::to_value(t).map_err(|e| Problem::internal(&e.to_string()))?;
    v["messages"] = serde_json::to_value(messages).unwrap_or_default();
    Ok(v)
}

pub fn tickets(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let settings = service::get(&db).map_err(|e| problem(e, "settings"))?;
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let pairs = edge_http::query::parse(ctx.query());
            let get = |k: &str| query::get(&pairs, k).map(str::trim).filter(|v| !v.is_empty());
            let mut q = tickets::Query { limit: 50, ..Default::default() };
            match get("queue") {
                None | Some("all") => {}
                Some("mine") => q.assignee_id = Some(ctx.actor.strip_prefix("user:").unwrap_or("-").to_string()),
                Some("unassigned") => q.unassigned = true,
                Some("breaching") => q.breaching_within = Some(get("within").and_then(|m| m.parse().ok()).unwrap_or(120)),
                Some(_) => return Err(Problem::validation(vec![FieldError::new("queue", "must be all, mine, unassigned or breaching")])),
            }
            if let Some(s) = get("status") {
                q.statuses = s.split(',').map(|x| x.trim().to_string()).collect();
                if q.statuses.iter().any(|s| !tickets::STATUSES.contains(&s.as_str())) {
                    return Err(Problem::validation(vec![FieldError::new("status", "must list new, open, waiting, resolved, closed or reopened")]));
                }
            }
            q.contact_id = get("contact_id").map(String::from);
            q.assignee_id = q.assignee_id.or(get("assignee_id").map(String::from));
            q.q = get("q").map(String::from);
            q.after = get("cursor").and_then(edge_http::ids::decode_cursor);
            if let Some(l) = get("limit") {
                q.limit = l.parse().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| Problem::validation(vec![FieldError::new("limit", "must be from 1 to 200")]))?;
            }
            let (items, next) = tickets::list(&db, &q, now()).map_err(|e| problem(e, "ticket"))?;
            Ok(Reply::json(200, &edge_http::Page { items, next_cursor: next.map(|n| edge_http::ids::encode_cursor(&n)) }))
        }
        (Method::Post, []) => {
            let input: tickets::NewTicket = ctx.body()?;
            let contact = input.contact_id.clone().unwrap_or_default();
            if edge_http::ids::is_valid("c", &contact) {
                let (s, _, _) = edge_component::call(ctx, Method::Get, "contacts", &format!("/api/v1/contacts/{contact}"), None, &[], false).map_err(|e| Problem::new(502, "upstream-failed", "Service unavailable", &e.to_string()))?;
                if s == 404 {
                    return Err(Problem::validation(vec![FieldError::new("contact_id", "does not name an existing contact you can see")]));
                }
            }
            once(ctx, &db, || {
                let (t, _) = tickets::create(&db, &w, input, None, &settings, now()).map_err(|e| problem(e, "ticket"))?;
                Ok(with_etag(201, &ticket_view(&db, &t, true)?, t.version).with_header("location", format!("/api/v1/tickets/{}", t.id)))
            })
        }
        (_, [id, tail @ ..]) => {
            valid_id(tickets::ID_PREFIX, id, "ticket")?;
            match (ctx.method(), tail) {
                (Method::Get, []) => {
                    let t = tickets::get(&db, id, None).map_err(|e| problem(e, "ticket"))?.ok_or_else(|| Problem::not_found("No ticket with this id"))?;
                    Ok(with_etag(200, &ticket_view(&db, &t, true)?, t.version))
                }
                (Method::Patch, []) => {
                    let c: tickets::Change = ctx.body()?;
                    let if_match = ctx.if_match()?;
                    let t = edge_db::tx(&db, || tickets::change(&db, &w, id, c, if_match, &settings, now())).map_err(|e| problem(e, "ticket"))?;
                    Ok(with_etag(200, &ticket_view(&db, &t, true)?, t.version))
                }
                (Method::Post, ["messages"]) => {
                    let r: tickets::Reply = ctx.body()?;
                    let public = !r.internal;
                    let reply = once(ctx, &db, || {
                        let (t, m) = tickets::reply(&db, &w, id, r, None, &settings, now()).map_err(|e| problem(e, "ticket"))?;
                        Ok(with_etag(201, &serde_json::json!({"ticket": t, "message": m}), t.version))
                    })?;
                    if public && reply.header("idempotent-replay").is_none() {
                        if let Some(t) = tickets::get(&db, id, None).ok().flatten() {
                            let body = tickets::messages(&db, id, false).ok().and_then(|m| m.last().map(|m| m.body.clone())).unwrap_or_default();
                            tell_customer(ctx, &t, &body);
                        }
                    }
                    Ok(reply)
                }
                _ => Err(not_allowed()),
            }
        }
        _ => Err(not_allowed()),
    }
}

pub fn settings(ctx: &Ctx) -> Result<Reply, Problem> {
    let db = db()?;
    match ctx.method() {
        Method::Get => {
            let s = service::get(&db).map_err(|e| problem(e, "settings"))?;
            Ok(with_etag(200, &s, s.version))
        }
        Method::Put => {
            let s: service::ServiceSettings = ctx.body()?;
            let s = service::put(&db, &ctx.writer(), s, ctx.if_match()?).map_err(|e| problem(e, "settings"))?;
            Ok(with_etag(200, &s, s.version))
        }
        _ => Err(not_allowed()),
    }
}

pub fn macros(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    match (ctx.method(), rest) {
        (Method::Get, []) => Ok(Reply::json(200, &serde_json::json!({"items": service::macros(&db).map_err(|e| problem(e, "macro"))?, "next_cursor": null}))),
        (Method::Post, []) => service::save_macro(&db, &w, None, ctx.body()?).map(|m| Reply::json(201, &m)).map_err(|e| problem(e, "macro")),
        (Method::Put, [id]) => service::save_macro(&db, &w, Some(id), ctx.body()?).map(|m| Reply::json(200, &m)).map_err(|e| problem(e, "macro")),
        (Method::Delete, [id]) => service::delete_macro(&db, &w, id).map(|_| Reply::empty(204)).map_err(|e| problem(e, "macro")),
        _ => Err(not_allowed()),
    }
}

pub fn articles(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    match (ctx.method(), rest) {
        (Method::Get, ["articles"]) => {
            let pairs = edge_http::query::parse(ctx.query());
            let items = kb::search(&db, query::get(&pairs, "q"), query::get(&pairs, "category").filter(|c| !c.is_empty()), false, false, 200).map_err(|e| problem(e, "article"))?;
            Ok(Reply::json(200, &serde_json::json!({"items": items, "next_cursor": null})))
        }
        (Method::Post, ["articles"]) => kb::create(&db, &w, ctx.body()?).map(|a| with_etag(201, &a, a.version)).map_err(|e| problem(e, "article")),
        (method, ["articles", id]) => {
            valid_id(kb::ID_PREFIX, id, "article")?;
            match method {
                Method::Get => kb::get(&db, id, false).map_err(|e| problem(e, "article"))?.map(|a| with_etag(200, &a, a.version)).ok_or_else(|| Problem::not_found("No article with this id")),
                Method::Patch => kb::update(&db, &w, id, ctx.body()?, ctx.if_match()?).map(|a| with_etag(200, &a, a.version)).map_err(|e| problem(e, "article")),
                Method::Delete => kb::delete(&db, &w, id).map(|_| Reply::empty(204)).map_err(|e| problem(e, "article")),
                _ => Err(not_allowed()),
            }
        }
        _ => Err(Problem::not_found("No such resource")),
    }
}

pub fn report(ctx: &Ctx) -> Result<Reply, Problem> {
    let db = db()?;
    let pairs = edge_http::query::parse(ctx.query());
    let today = now().date_naive();
    let date = |k: &str, d: chrono::NaiveDate| -> Result<chrono::NaiveDate, Problem> {
        match query::get(&pairs, k).filter(|v| !v.is_empty()) {
            None => Ok(d),
            Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| Problem::validation(vec![FieldError::new(k, "must be a date like 2026-11-01")])),
        }
    };
    let from = date("from", today - chrono::Duration::days(29))?;
    let to = date("to", today)?;
    let end = to.succ_opt().unwrap_or(to);
    let settings = service::get(&db).map_err(|e| problem(e, "settings"))?;
    let mut r = tickets::report(&db, &from.format("%Y-%m-%d").to_string(), &end.format("%Y-%m-%d").to_string(), &settings).map_err(|e| problem(e, "report"))?;
    r["to"] = to.format("%Y-%m-%d").to_string().into(); // the last day, inclusive
    Ok(Reply::json(200, &r))
}

/// The unattended check: breaches, escalations, auto-closing. Answers when
/// it next needs to run (the earliest target not yet met), for the scheduler.
pub fn tick(ctx: &Ctx) -> Result<Reply, Problem> {
    let db = db()?;
    let settings = service::get(&db).map_err(|e| problem(e, "settings"))?;
    let w = edge_db::record::Writer { actor: "system:scheduler", request_id: ctx.request_id.as_deref(), random: &|| edge_component::random_bytes::<10>() };
    let (breaches, notices) = tickets::tick(&db, &w, &settings, now()).map_err(|e| problem(e, "tick"))?;
    for n in &notices {
        mail(ctx, &n.to, &n.subject, &n.body);
    }
    let next = tickets::next_due(&db, &settings).map_err(|e| problem(e, "tick"))?;
    Ok(Reply::json(200, &serde_json::json!({"breaches": breaches, "notices": notices.len(), "next_tick_at": next})))
}
