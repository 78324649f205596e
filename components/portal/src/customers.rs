//! The customers' API (`/api/v1/portal`): sign in with a mailed link, then see
//! their own orders. The router authenticates portal sessions and passes the
//! customer's contact id in `edge-portal-contact`; nothing here trusts an id
//! from the request itself.

use crate::http::{contact_by_email, db, problem, valid_id, Ctx};
use edge_http::{FieldError, Problem, Reply};
use identity_domain::portal::{self, PortalSession};
use identity_domain::token;
use portal_domain::store::{links, orders};
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
            let v = orders::customer_value(&db()?, &id).map_err(|e| problem(e, "customer"))?;
            Ok(Reply::json(200, &serde_json::json!({ "contact_id": id, "orders": v["orders"] })))
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
        _ => Err(Problem::not_found("No such resource")),
    }
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
