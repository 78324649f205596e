//! Campaign mail after it is queued: delivery bookkeeping (captured locally
//! without a provider; with one, retried with backoff), what recipients do
//! with it (opens, clicks, unsubscribes) and what the provider reports
//! (delivered, bounced, complained), and the statistics built from that.

use crate::consent;
use crate::sending::at;
use crate::sign::Link;
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use edge_db::Db;
use serde::Serialize;

/// Waits after the 1st, 2nd, … failed attempt; then the message fails.
const BACKOFF_MINUTES: [i64; 5] = [1, 5, 30, 120, 480];

#[derive(Debug, Clone, Serialize)]
pub struct Outgoing {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub unsubscribe_url: Option<String>,
    pub from_name: Option<String>,
}

/// Queued messages due for an attempt, oldest first.
pub fn due<D: Db + ?Sized>(db: &D, now: DateTime<Utc>, limit: i64) -> Result<Vec<Outgoing>> {
    let r = db.run(
        "SELECT m.id, m.to_addr, m.subject, m.html, m.text, m.unsubscribe_url, c.from_name FROM mail_messages m LEFT JOIN campaigns c ON c.id = m.campaign_id
         WHERE m.status = 'queued' AND m.next_attempt_at <= ? ORDER BY m.next_attempt_at, m.id LIMIT ?",
        &[at(now).into(), limit.into()],
    )?;
    Ok(r.iter().map(|r| Outgoing { id: r.text(0), to: r.text(1), subject: r.text(2), html: r.text(3), text: r.text(4), unsubscribe_url: r.string(5), from_name: r.string(6) }).collect())
}

/// Without a provider, queued mail is captured here (and counts as delivered).
pub fn capture_all<D: Db + ?Sized>(db: &D, now: DateTime<Utc>) -> Result<i64> {
    db.run("UPDATE mail_messages SET status = 'captured', sent_at = ?, delivered_at = ? WHERE status = 'queued'", &[at(now).into(), at(now).into()])?;
    Ok(db.run("SELECT changes()", &[])?.scalar_i64().unwrap_or(0))
}

/// Records one delivery attempt.
pub fn attempted<D: Db + ?Sized>(db: &D, id: &str, result: Result<(), String>, now: DateTime<Utc>) -> Result<()> {
    match result {
        Ok(()) => db.run("UPDATE mail_messages SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ? AND status = 'queued'", &[at(now).into(), id.into()])?,
        Err(e) => {
            let attempts = db.run("SELECT attempts FROM mail_messages WHERE id = ?", &[id.into()])?.scalar_i64().unwrap_or(0);
            match BACKOFF_MINUTES.get(attempts as usize) {
                Some(m) => db.run(
                    "UPDATE mail_messages SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND status = 'queued'",
                    &[e.into(), at(now + Duration::minutes(*m)).into(), id.into()],
                )?,
                None => db.run("UPDATE mail_messages SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ? AND status = 'queued'", &[e.into(), id.into()])?,
            }
        }
    };
    Ok(())
}

/// When the next retry is due.
pub fn next_retry<D: Db + ?Sized>(db: &D) -> Result<Option<String>> {
    Ok(db.run("SELECT min(next_attempt_at) FROM mail_messages WHERE status = 'queued'", &[])?.first().and_then(|r| r.string(0)))
}

/// Opens fetched by scanners and privacy proxies rather than people: known
/// robots by user agent, HEAD requests, and anything within seconds of sending.
pub fn looks_automated(user_agent: &str, head: bool, sent_at: Option<&str>, now: DateTime<Utc>) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    let robots = ["bot", "spider", "crawl", "preview", "scanner", "headless", "python-requests", "curl/", "wget", "barracuda", "mimecast", "proofpoint", "symantec", "outlook-ios-linkpreview"];
    let too_soon = sent_at.and_then(|s| DateTime::parse_from_rfc3339(s).ok()).is_some_and(|s| (now - s.with_timezone(&Utc)) < Duration::seconds(2));
    head || ua.trim().is_empty() || robots.iter().any(|r| ua.contains(r)) || too_soon
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub campaign_id: Option<String>,
    pub contact_id: Option<String>,
    pub to: String,
    pub links: Vec<String>,
    pub sent_at: Option<String>,
    pub unsubscribed: bool,
    pub subject: String,
}

pub fn message<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<Message>> {
    let r = db.run("SELECT id, campaign_id, contact_id, to_addr, links, sent_at, unsubscribed_at, subject FROM mail_messages WHERE id = ?", &[id.into()])?;
    Ok(r.first().map(|r| Message {
        id: r.text(0), campaign_id: r.string(1), contact_id: r.string(2), to: r.text(3),
        links: serde_json::from_str(r.str(4).unwrap_or("[]")).unwrap_or_default(), sent_at: r.string(5), unsubscribed: r.str(6).is_some(), subject: r.text(7),
    }))
}

/// An entry on the contact's timeline, visible to whoever sees the message's first entry.
fn on_timeline<D: Db + ?Sized>(db: &D, m: &Message, kind: &str, title: &str, now: DateTime<Utc>) -> Result<()> {
    let Some(contact) = &m.contact_id else { return Ok(()) };
    db.run(
        "INSERT INTO campaigns_timeline (at, contact_id, kind, title, detail, ref, owner_id)
         VALUES (?, ?, ?, ?, ?, ?, (SELECT owner_id FROM campaigns_timeline WHERE ref = ? ORDER BY seq LIMIT 1))",
        &[at(now).into(), contact.as_str().into(), kind.into(), title.into(), serde_json::json!({"message_id": m.id, "campaign_id": m.campaign_id}).to_string().into(), m.id.as_str().into(), m.id.as_str().into()],
    )?;
    Ok(())
}

/// Whether `column` was still empty (the first open, click, …).
fn first<D: Db + ?Sized>(db: &D, m: &Message, column: &str) -> Result<bool> {
    Ok(db.run(&format!("SELECT {column} IS NULL FROM mail_messages WHERE id = ?"), &[m.id.as_str().into()])?.scalar_i64() == Some(1))
}

fn event<D: Db + ?Sized>(db: &D, m: &Message, kind: &str, bot: bool, detail: Option<&str>, now: DateTime<Utc>) -> Result<()> {
    db.run(
        "INSERT INTO mail_activity (message_id, campaign_id, contact_id, kind, at, bot, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[m.id.as_str().into(), m.campaign_id.clone().into(), m.contact_id.clone().into(), kind.into(), at(now).into(), bot.into(), detail.into()],
    )?;
    Ok(())
}

/// Records an open or a click; answers the click's target. A click is also
/// an open (images are often blocked). Automated fetches are kept but not counted.
pub fn tracked<D: Db + ?Sized>(db: &D, m: &Message, link: &Link, bot: bool, now: DateTime<Utc>) -> Result<Option<String>> {
    edge_db::tx(db, || {
        match link {
            Link::Open => {
                event(db, m, "opened", bot, None, now)?;
                if !bot && first(db, m, "opened_at")? {
                    on_timeline(db, m, "email-opened", &format!("Opened: {}", m.subject), now)?;
                }
                if !bot {
                    db.run("UPDATE mail_messages SET opened_at = COALESCE(opened_at, ?) WHERE id = ?", &[at(now).into(), m.id.as_str().into()])?;
                }
                Ok(None)
            }
            Link::Click(n) => {
                let Some(target) = m.links.get(*n).cloned() else { return Ok(None) };
                event(db, m, "clicked", bot, Some(&target), now)?;
                if !bot && first(db, m, "clicked_at")? {
                    on_timeline(db, m, "email-clicked", &format!("Clicked {target} in: {}", m.subject), now)?;
                }
                if !bot {
                    db.run("UPDATE mail_messages SET clicked_at = COALESCE(clicked_at, ?), opened_at = COALESCE(opened_at, ?) WHERE id = ?", &[at(now).into(), at(now).into(), m.id.as_str().into()])?;
                }
                Ok(Some(target))
            }
            Link::Unsubscribe => Ok(None),
        }
    })
}

/// One-click unsubscribe: the contact's email consent is withdrawn (or, for
/// a message without a contact, the address is suppressed). Idempotent.
pub fn unsubscribe<D: Db + ?Sized>(db: &D, m: &Message, source: &str, now: DateTime<Utc>) -> Result<()> {
    edge_db::tx(db, || {
        if m.unsubscribed {
            return Ok(());
        }
        match &m.contact_id {
            Some(contact) => {
                let input = consent::ConsentInput { channel: "email".into(), status: "withdrawn".into(), lawful_basis: None, source: Some(source.into()) };
                consent::record(db, "system:recipient", contact, &input)?;
            }
            None => consent::suppress(db, &m.to, "unsubscribed", Some(source))?,
        }
        db.run("UPDATE mail_messages SET unsubscribed_at = ? WHERE id = ?", &[at(now).into(), m.id.as_str().into()])?;
        if let Some(contact) = &m.contact_id {
            crate::sequences::exit_everywhere(db, contact, "unsubscribed", None, now)?;
        }
        on_timeline(db, m, "email-unsubscribed", &format!("Unsubscribed ({source}) from: {}", m.subject), now)?;
        event(db, m, "unsubscribed", false, Some(source), now)
    })
}

/// What the mail provider reports: `delivered`, `bounced` (hard bounces and
/// complaints suppress the address; a complaint also withdraws consent and
/// ends the contact's sequences), `replied` (the contact leaves the sequence
/// the message came from).
pub fn provider_event<D: Db + ?Sized>(db: &D, m: &Message, kind: &str, hard: bool, now: DateTime<Utc>) -> Result<()> {
    edge_db::tx(db, || {
        if kind == "replied" {
            event(db, m, "replied", false, None, now)?;
            on_timeline(db, m, "email-replied", &format!("Replied to: {}", m.subject), now)?;
            if let Some(contact) = &m.contact_id {
                let seq = db.run("SELECT sequence_id FROM mail_messages WHERE id = ?", &[m.id.as_str().into()])?.first().and_then(|r| r.string(0));
                if let Some(seq) = seq {
                    crate::sequences::exit_everywhere(db, contact, "replied", Some(&seq), now)?;
                }
            }
            return Ok(());
        }
        let column = match kind {
            "delivered" => "delivered_at",
            "bounced" => "bounced_at",
            "complained" => "complained_at",
            _ => return Ok(()),
        };
        event(db, m, kind, false, (kind == "bounced").then_some(if hard { "hard" } else { "soft" }), now)?;
        match kind {
            "bounced" => on_timeline(db, m, "email-bounced", &format!("Email bounced ({}): {}", if hard { "hard" } else { "soft" }, m.subject), now)?,
            "complained" => on_timeline(db, m, "email-complained", &format!("Marked as spam: {}", m.subject), now)?,
            _ => {}
        }
        db.run(&format!("UPDATE mail_messages SET {column} = COALESCE({column}, ?) WHERE id = ?"), &[at(now).into(), m.id.as_str().into()])?;
        if kind == "complained" || (kind == "bounced" && hard) {
            consent::suppress(db, &m.to, if kind == "complained" { "complained" } else { "bounced" }, Some(&m.id))?;
        }
        if kind == "complained" {
            if let Some(contact) = &m.contact_id {
                let input = consent::ConsentInput { channel: "email".into(), status: "withdrawn".into(), lawful_basis: None, source: Some("spam complaint".into()) };
                consent::record(db, "system:provider", contact, &input)?;
                crate::sequences::exit_everywhere(db, contact, "complained", None, now)?;
            }
        }
        Ok(())
    })
}

/// A campaign's numbers: counts, rates over delivered mail, per variant, and
/// hourly opens and clicks.
pub fn stats<D: Db + ?Sized>(db: &D, campaign_id: &str) -> Result<serde_json::Value> {
    let count_sql = "SELECT count(*), count(sent_at), count(delivered_at), count(opened_at), count(clicked_at), count(unsubscribed_at), count(bounced_at), count(complained_at), sum(status = 'failed'), sum(status = 'queued')
         FROM mail_messages WHERE campaign_id = ? AND (? IS NULL OR variant = ?)";
    let numbers = |variant: Option<&str>| -> Result<serde_json::Value> {
        let r = db.run(count_sql, &[campaign_id.into(), variant.into(), variant.into()])?;
        let row = r.first();
        let n = |i| row.as_ref().and_then(|r| r.i64(i)).unwrap_or(0);
        let delivered = n(2);
        let rate = |x: i64| if delivered == 0 { 0.0 } else { (x as f64 / delivered as f64 * 1000.0).round() / 1000.0 };
        Ok(serde_json::json!({
            "queued": n(0), "sent": n(1), "delivered": delivered, "opened": n(3), "clicked": n(4), "unsubscribed": n(5), "bounced": n(6), "complained": n(7), "failed": n(8), "waiting": n(9),
            "open_rate": rate(n(3)), "click_rate": rate(n(4)), "unsubscribe_rate": rate(n(5)), "bounce_rate": if n(1) == 0 { 0.0 } else { (n(6) as f64 / n(1) as f64 * 1000.0).round() / 1000.0 },
        }))
    };
    let mut v = numbers(None)?;
    let variants = db.run("SELECT DISTINCT variant FROM mail_messages WHERE campaign_id = ? AND variant IS NOT NULL ORDER BY variant", &[campaign_id.into()])?;
    let mut by_variant = serde_json::Map::new();
    for row in variants.iter() {
        let name = row.text(0);
        by_variant.insert(name.clone(), numbers(Some(&name))?);
    }
    v["variants"] = by_variant.into();
    let skipped = db.run("SELECT reason, count(*) FROM campaign_recipients WHERE campaign_id = ? AND status = 'skipped' GROUP BY reason", &[campaign_id.into()])?;
    v["skipped"] = skipped.iter().map(|r| (r.text(0), serde_json::Value::from(r.i64(1).unwrap_or(0)))).collect::<serde_json::Map<_, _>>().into();
    v["automated_opens"] = db.run("SELECT count(*) FROM mail_activity WHERE campaign_id = ? AND kind IN ('opened', 'clicked') AND bot = 1", &[campaign_id.into()])?.scalar_i64().unwrap_or(0).into();
    let series = db.run(
        "SELECT substr(at, 1, 13) || ':00:00Z', sum(kind = 'opened'), sum(kind = 'clicked') FROM mail_activity
         WHERE campaign_id = ? AND bot = 0 AND kind IN ('opened', 'clicked') GROUP BY 1 ORDER BY 1 LIMIT 720",
        &[campaign_id.into()],
    )?;
    v["series"] = series.iter().map(|r| serde_json::json!({"hour": r.text(0), "opens": r.i64(1).unwrap_or(0), "clicks": r.i64(2).unwrap_or(0)})).collect::<Vec<_>>().into();
    Ok(v)
}

/// A contact's marketing mail and what they did with it, newest first.
pub fn engagement<D: Db + ?Sized>(db: &D, contact_id: &str, limit: i64) -> Result<Vec<serde_json::Value>> {
    let r = db.run(
        "SELECT m.id, CASE WHEN c.deleted_at IS NULL THEN m.campaign_id END, c.name, m.subject, m.status, m.created_at, m.delivered_at, m.opened_at, m.clicked_at, m.unsubscribed_at, m.bounced_at
         FROM mail_messages m LEFT JOIN campaigns c ON c.id = m.campaign_id WHERE m.contact_id = ? ORDER BY m.created_at DESC LIMIT ?",
        &[contact_id.into(), limit.into()],
    )?;
    Ok(r.iter().map(|r| serde_json::json!({
        "message_id": r.str(0), "campaign_id": r.str(1), "campaign": r.str(2), "subject": r.str(3), "status": r.str(4), "queued_at": r.str(5),
        "delivered_at": r.str(6), "opened_at": r.str(7), "clicked_at": r.str(8), "unsubscribed_at": r.str(9), "bounced_at": r.str(10),
    })).collect())
}

/// Messages (newest first) of a campaign or all of them, for the outbox view.
/// `as_sent` keeps the open pixel (what the provider got); otherwise staff
/// views leave it out.
pub fn list<D: Db + ?Sized>(db: &D, campaign_id: Option<&str>, limit: i64, as_sent: bool) -> Result<Vec<serde_json::Value>> {
    let r = db.run(
        "SELECT id, kind, campaign_id, contact_id, variant, to_addr, subject, status, attempts, last_error, created_at, sent_at, text, html, unsubscribe_url FROM mail_messages
         WHERE (? IS NULL OR campaign_id = ?) ORDER BY id DESC LIMIT ?",
        &[campaign_id.into(), campaign_id.into(), limit.into()],
    )?;
    Ok(r.iter().map(|r| serde_json::json!({
        "id": r.str(0), "kind": r.str(1), "campaign_id": r.str(2), "contact_id": r.str(3), "variant": r.str(4), "to": r.str(5), "subject": r.str(6),
        "status": r.str(7), "attempts": r.i64(8), "last_error": r.str(9), "created_at": r.str(10), "sent_at": r.str(11), "text": r.str(12), "html": if as_sent { r.text(13) } else { without_pixel(r.str(13).unwrap_or_default()) },
        "headers": headers(r.str(14)),
    })).collect())
}

/// A message's HTML for staff to look at: without the open pixel, so that
/// looking is not counted as the recipient opening it.
pub fn without_pixel(html: &str) -> String {
    let Some(at) = html.rfind("/api/v1/mail/o/") else { return html.to_string() };
    let (Some(start), Some(end)) = (html[..at].rfind("<img"), html[at..].find('>')) else { return html.to_string() };
    format!("{}{}", &html[..start], &html[at + end + 1..])
}

/// The headers a message goes out with: one-click unsubscribe (RFC 8058).
pub fn headers(unsubscribe_url: Option<&str>) -> serde_json::Value {
    match unsubscribe_url {
        Some(u) => serde_json::json!({"List-Unsubscribe": format!("<{u}>"), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}),
        None => serde_json::json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_fail() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let links = crate::sending::Links { base_url: "https://a.test", secret: "s" };
        let content = crate::templates::Content { subject: "s".into(), html: String::new(), text: "t".into() };
        let t0 = Utc::now();
        let d = crate::sending::Draft { kind: "test", campaign_id: None, contact_id: None, variant: None, sequence: None, to: "a@x.test", content: &content, data: &serde_json::json!({}) };
        let id = crate::sending::queue(&db, &w, &links, d, t0).unwrap();
        let mut t = t0;
        for _ in 0..5 {
            assert_eq!(due(&db, t, 10).unwrap().len(), 1);
            attempted(&db, &id, Err("503".into()), t).unwrap();
            assert!(due(&db, t, 10).unwrap().is_empty(), "backing off");
            t += Duration::hours(9);
        }
        attempted(&db, &id, Err("503".into()), t).unwrap();
        let status = db.run("SELECT status, attempts FROM mail_messages WHERE id = ?", &[id.as_str().into()]).unwrap();
        assert_eq!((status.first().unwrap().text(0), status.first().unwrap().i64(1)), ("failed".to_string(), Some(6)));
    }

    #[test]
    fn staff_views_have_no_pixel() {
        let html = "<p>Hi</p><img src=\"https://a.test/api/v1/mail/o/ms_1.o.abc\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\"></body>";
        assert_eq!(without_pixel(html), "<p>Hi</p></body>");
        assert_eq!(without_pixel("<p>plain</p>"), "<p>plain</p>");
    }

    #[test]
    fn scanners_are_not_people() {
        let now = Utc::now();
        let sent = at(now - Duration::minutes(5));
        assert!(!looks_automated("Mozilla/5.0 (Macintosh)", false, Some(&sent), now));
        assert!(looks_automated("Mozilla/5.0 (compatible; Barracuda)", false, Some(&sent), now));
        assert!(looks_automated("Mozilla/5.0", true, Some(&sent), now));
        assert!(looks_automated("Mozilla/5.0", false, Some(&at(now)), now));
    }
}
