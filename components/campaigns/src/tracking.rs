//! The public mail routes (`/api/v1/mail/...`, no session): the open pixel,
//! click redirects, the unsubscribe and preference page (one-click POST per
//! RFC 8058), and provider events. Links are signed per tenant; a forged or
//! altered one is a 404 and records nothing.

use crate::{db, failed, sender};
use campaigns_domain::sign::{self, Link};
use campaigns_domain::{consent, outbox};
use edge_component::Ctx;
use edge_http::{Problem, Reply};
use spin_sdk::http::Method;

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

fn forged() -> Problem {
    Problem::not_found("This link is not valid")
}

fn html_page(status: u16, title: &str, body: &str) -> Reply {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1f2933}}h1{{font-size:1.4rem}}\
         button{{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer;margin:.25rem .5rem .25rem 0}}\
         button.primary{{background:#1f4fd1;color:#fff;border-color:#1f4fd1}}.muted{{color:#5f6b7a}}@media(prefers-color-scheme:dark){{body{{background:#111;color:#eee}}button{{background:#222;color:#eee}}}}</style>\
         </head><body><h1>{t}</h1>{body}</body></html>",
        t = campaigns_domain::template::escape(title)
    );
    Reply { status, headers: vec![("content-type".into(), "text/html; charset=utf-8".into()), ("cache-control".into(), "no-store".into())], body: page.into_bytes() }
}

fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((user, domain)) => format!("{}…@{domain}", user.chars().next().unwrap_or('?')),
        None => "your address".into(),
    }
}

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    match (ctx.method(), rest) {
        (Method::Post, ["events"]) => events(ctx),
        (Method::Get | Method::Head, ["o", token]) => open(ctx, token.trim_end_matches(".gif")),
        (Method::Get | Method::Head, ["c", token]) => click(ctx, token),
        (Method::Get, ["u", "preview"]) => Ok(html_page(200, "Email preferences", "<p>This is where recipients manage their email preferences. Links in real messages lead to their own page.</p>")),
        (Method::Get | Method::Post, ["u", token]) => preferences(ctx, token),
        _ => Err(Problem::not_found("No such resource")),
    }
}

fn verified(db: &spin_sdk::sqlite::Connection, token: &str) -> Result<(outbox::Message, Link), Problem> {
    let secret = sender::secret(db)?;
    let (id, link) = sign::verify(&secret, token).ok_or_else(forged)?;
    let m = outbox::message(db, &id).map_err(failed("message"))?.ok_or_else(forged)?;
    Ok((m, link))
}

fn automated(ctx: &Ctx, m: &outbox::Message) -> bool {
    outbox::looks_automated(&ctx.header("user-agent").unwrap_or_default(), *ctx.method() == Method::Head, m.sent_at.as_deref(), sender::now())
}

fn open(ctx: &Ctx, token: &str) -> Result<Reply, Problem> {
    let db = db()?;
    let (m, link) = verified(&db, token)?;
    if link != Link::Open {
        return Err(forged());
    }
    outbox::tracked(&db, &m, &Link::Open, automated(ctx, &m), sender::now()).map_err(failed("message"))?;
    Ok(Reply { status: 200, headers: vec![("content-type".into(), "image/gif".into()), ("cache-control".into(), "no-store, max-age=0".into())], body: PIXEL.to_vec() })
}

fn click(ctx: &Ctx, token: &str) -> Result<Reply, Problem> {
    let db = db()?;
    let (m, link) = verified(&db, token)?;
    if !matches!(link, Link::Click(_)) {
        return Err(forged());
    }
    let target = outbox::tracked(&db, &m, &link, automated(ctx, &m), sender::now()).map_err(failed("message"))?.ok_or_else(forged)?;
    Ok(Reply::empty(302).with_header("location", target).with_header("cache-control", "no-store"))
}

fn preferences(ctx: &Ctx, token: &str) -> Result<Reply, Problem> {
    let db = db()?;
    let (m, link) = verified(&db, token)?;
    if link != Link::Unsubscribe {
        return Err(forged());
    }
    let now = sender::now();
    if *ctx.method() == Method::Post {
        let body = String::from_utf8_lossy(ctx.req.body()).to_string();
        let form = edge_http::query::parse(&body);
        let action = edge_http::query::get(&form, "action");
        let one_click = edge_http::query::get(&form, "List-Unsubscribe") == Some("One-Click");
        if one_click || action == Some("unsubscribe") {
            outbox::unsubscribe(&db, &m, if one_click { "one-click unsubscribe" } else { "preference page" }, now).map_err(failed("message"))?;
            if let Some(contact) = &m.contact_id {
                sender::copy_consent_to_contact(ctx, contact, "email", false);
            }
            if one_click {
                return Ok(Reply { status: 200, headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())], body: b"Unsubscribed.".to_vec() });
            }
        } else if action == Some("subscribe") {
            if let Some(contact) = &m.contact_id {
                let input = consent::ConsentInput { channel: "email".into(), status: "granted".into(), lawful_basis: Some("consent".into()), source: Some("preference page".into()) };
                edge_db::tx(&db, || {
                    consent::record(&db, "system:recipient", contact, &input)?;
                    edge_db::Db::run(&db, "UPDATE mail_messages SET unsubscribed_at = NULL WHERE id = ?", &[m.id.as_str().into()])?;
                    Ok(())
                })
                .map_err(failed("message"))?;
                sender::copy_consent_to_contact(ctx, contact, "email", true);
            }
        } else {
            return Err(Problem::bad_request("Send action=unsubscribe, action=subscribe or List-Unsubscribe=One-Click"));
        }
    }
    let subscribed = match &m.contact_id {
        Some(c) => consent::blocked(&db, c, Some(&m.to)).map_err(failed("message"))?.is_none(),
        None => consent::blocked(&db, "-", Some(&m.to)).map_err(failed("message"))?.is_none(),
    };
    let who = campaigns_domain::template::escape(&masked(&m.to));
    let body = if subscribed {
        format!("<p>You receive our marketing email at <strong>{who}</strong>.</p><form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"unsubscribe\"><button class=\"primary\" autofocus>Unsubscribe</button></form>")
    } else {
        let again = if m.contact_id.is_some() { "<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"subscribe\"><button>Subscribe again</button></form>" } else { "" };
        format!("<p><strong>{who}</strong> is unsubscribed: you will not receive our marketing email any more. Messages you asked for (receipts, replies to your requests) still reach you.</p>{again}")
    };
    Ok(html_page(200, "Email preferences", &format!("{body}<p class=\"muted\">Changes take effect at once.</p>")))
}

/// Provider events, signed with the `mail_webhook_secret` variable:
/// `X-Edge-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`. Body: an
/// event `{"type": "delivered"|"bounced"|"complained"|"replied", "message_id", "bounce":
/// "hard"|"soft"}` or `{"events": [...]}`.
fn events(ctx: &Ctx) -> Result<Reply, Problem> {
    let Some(secret) = ctx.variable("mail_webhook_secret").filter(|s| s.len() >= 16) else {
        return Err(Problem::not_found("Provider events are not configured (set the mail_webhook_secret variable)"));
    };
    let header = ctx.header("x-edge-signature").unwrap_or_default();
    let now = sender::now();
    if let Err(why) = sign::verify_webhook(&secret, &header, ctx.req.body(), now.timestamp()) {
        return Err(Problem::new(401, "bad-signature", "Signature rejected", &format!("The X-Edge-Signature header does not verify: {why}.")));
    }
    let v = ctx.json()?;
    let list = match v.get("events") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        _ => vec![v.clone()],
    };
    if list.len() > 1000 {
        return Err(edge_component::field_error("events", "at most 1,000 events per delivery"));
    }
    // Checked whole before anything is applied.
    if list.iter().any(|e| !["delivered", "bounced", "complained", "replied"].contains(&e["type"].as_str().unwrap_or_default())) {
        return Err(edge_component::field_error("type", "must be delivered, bounced, complained or replied"));
    }
    let db = db()?;
    let (mut applied, mut unknown) = (0, 0);
    for e in &list {
        let kind = e["type"].as_str().unwrap_or_default();
        let Some(m) = e["message_id"].as_str().map(|id| outbox::message(&db, id)).transpose().map_err(failed("message"))?.flatten() else {
            unknown += 1;
            continue;
        };
        let hard = e["bounce"].as_str() != Some("soft");
        outbox::provider_event(&db, &m, kind, hard, now).map_err(failed("message"))?;
        if let (Some(contact), "complained") = (&m.contact_id, kind) {
            sender::copy_consent_to_contact(ctx, contact, "email", false);
        }
        applied += 1;
    }
    Ok(Reply::json(200, &serde_json::json!({"applied": applied, "unknown": unknown})))
}
