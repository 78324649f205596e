//! Sending a campaign, resumable at every step. The audience is planned into
//! `campaign_recipients` (one row per contact, so nobody is planned twice),
//! then queued in throttled batches: each batch, in one transaction, checks
//! consent and suppression, renders each message into `mail_messages` and
//! marks its recipient queued. A crash rolls a batch back whole, so a resumed
//! send queues everyone exactly once. Delivery of queued messages is separate
//! (see [`crate::outbox`]).

use crate::campaigns::Campaign;
use crate::consent;
use crate::sign::{self, Link};
use crate::templates::{self, Content, LinkUrls};
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use edge_db::record::Writer;
use edge_db::Db;

pub fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc))
}

/// At most this many messages are queued per batch (one request's work).
pub const MAX_BATCH: i64 = 500;

/// The tenant's signing secret for links, made on first use from `fresh`.
pub fn secret<D: Db + ?Sized>(db: &D, fresh: impl FnOnce() -> String) -> Result<String> {
    if let Some(s) = db.run("SELECT value FROM campaigns_secrets WHERE name = 'links'", &[])?.first().and_then(|r| r.string(0)) {
        return Ok(s);
    }
    db.run("INSERT OR IGNORE INTO campaigns_secrets (name, value) VALUES ('links', ?)", &[fresh().into()])?;
    Ok(db.run("SELECT value FROM campaigns_secrets WHERE name = 'links'", &[])?.first().map(|r| r.text(0)).unwrap_or_default())
}

/// Scheduled campaigns whose time has come start sending; answers every
/// campaign that is sending now.
pub fn start_due<D: Db + ?Sized>(db: &D, w: &Writer, now: DateTime<Utc>) -> Result<Vec<String>> {
    edge_db::tx(db, || {
        let due = db.run("SELECT id FROM campaigns WHERE status = 'scheduled' AND send_at <= ? AND deleted_at IS NULL", &[at(now).into()])?;
        for row in due.iter() {
            let id = row.text(0);
            let before = crate::campaigns::get(db, &id)?;
            db.run("UPDATE campaigns SET status = 'sending', started_at = ?, version = version + 1 WHERE id = ?", &[at(now).into(), id.as_str().into()])?;
            let after = crate::campaigns::get(db, &id)?;
            let v = |c: &Option<Campaign>| c.as_ref().map(|c| serde_json::json!({"status": c.status}));
            edge_db::record::append_event(db, "campaigns_events", w, "campaign", &id, "started", v(&before).as_ref(), v(&after).as_ref())?;
        }
        Ok(db.run("SELECT id FROM campaigns WHERE status = 'sending' AND deleted_at IS NULL ORDER BY id", &[])?.iter().map(|r| r.text(0)).collect())
    })
}

/// When the next scheduled campaign is due.
pub fn next_scheduled<D: Db + ?Sized>(db: &D) -> Result<Option<String>> {
    Ok(db.run("SELECT min(send_at) FROM campaigns WHERE status = 'scheduled' AND deleted_at IS NULL", &[])?.first().and_then(|r| r.string(0)))
}

/// Whether the audience is planned, and where planning resumes.
pub fn plan_state<D: Db + ?Sized>(db: &D, id: &str) -> Result<(bool, Option<String>)> {
    let r = db.run("SELECT planned, plan_cursor FROM campaigns WHERE id = ?", &[id.into()])?;
    Ok(r.first().map(|r| (r.i64(0) == Some(1), r.string(1))).unwrap_or((true, None)))
}

fn bucket(campaign: &str, contact: &str) -> i64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in campaign.bytes().chain(*b"/").chain(contact.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    (h % 100) as i64
}

/// Adds a page of the audience (contacts as the contacts API shows them) and
/// where the next page starts (`None`: planning is done). One transaction.
pub fn plan_page<D: Db + ?Sized>(db: &D, c: &Campaign, contacts: &[serde_json::Value], next_cursor: Option<&str>) -> Result<usize> {
    edge_db::tx(db, || {
        let mut added = 0;
        for contact in contacts {
            let Some(id) = contact["id"].as_str() else { continue };
            let (variant, status) = match &c.ab {
                None => ("a", "pending"),
                Some(ab) => match bucket(&c.id, id) {
                    b if b < ab.sample_percent / 2 => ("a", "pending"),
                    b if b < ab.sample_percent => ("b", "pending"),
                    _ => ("rest", "hold"),
                },
            };
            let data = serde_json::json!({"contact": contact});
            db.run(
                "INSERT OR IGNORE INTO campaign_recipients (campaign_id, contact_id, email, data, variant, status) VALUES (?, ?, ?, ?, ?, ?)",
                &[c.id.as_str().into(), id.into(), contact["email"].as_str().into(), data.to_string().into(), variant.into(), status.into()],
            )?;
            added += db.run("SELECT changes()", &[])?.scalar_i64().unwrap_or(0) as usize;
        }
        db.run("UPDATE campaigns SET plan_cursor = ?, planned = ? WHERE id = ?", &[next_cursor.into(), (next_cursor.is_none() as i64).into(), c.id.as_str().into()])?;
        Ok(added)
    })
}

/// Where a tenant's links go.
pub struct Links<'a> {
    pub base_url: &'a str,
    pub secret: &'a str,
}

impl Links<'_> {
    pub fn url(&self, message_id: &str, link: &Link) -> String {
        let path = match link {
            Link::Open => "o",
            Link::Click(_) => "c",
            Link::Unsubscribe => "u",
        };
        format!("{}/api/v1/mail/{path}/{}", self.base_url.trim_end_matches('/'), sign::token(self.secret, message_id, link))
    }
}

/// A message to queue.
pub struct Draft<'a> {
    pub kind: &'a str,
    pub campaign_id: Option<&'a str>,
    pub contact_id: Option<&'a str>,
    pub variant: Option<&'a str>,
    /// A sequence's message: the sequence and the step.
    pub sequence: Option<(&'a str, i64)>,
    pub to: &'a str,
    pub content: &'a Content,
    pub data: &'a serde_json::Value,
}

/// Renders and queues one message; answers its id. No transaction of its own.
pub fn queue<D: Db + ?Sized>(db: &D, w: &Writer, links: &Links, d: Draft, now: DateTime<Utc>) -> Result<String> {
    let id = w.new_id(db, "mail_messages", "ms")?;
    let track = |i: usize| links.url(&id, &Link::Click(i));
    let urls = LinkUrls { track: &track, open: links.url(&id, &Link::Open), unsubscribe: links.url(&id, &Link::Unsubscribe) };
    let r = templates::render(d.content, d.data, Some(&urls));
    db.run(
        "INSERT INTO mail_messages (id, kind, campaign_id, contact_id, variant, sequence_id, step, to_addr, subject, html, text, links, unsubscribe_url, status, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
        &[
            id.as_str().into(), d.kind.into(), d.campaign_id.into(), d.contact_id.into(), d.variant.into(), d.sequence.map(|s| s.0).into(), d.sequence.map(|s| s.1).into(),
            d.to.into(), r.subject.as_str().into(), r.html.into(), r.text.into(), serde_json::to_string(&r.links)?.into(), urls.unsubscribe.into(), at(now).into(), at(now).into(),
        ],
    )?;
    if let (Some(contact), false) = (d.contact_id, d.kind == "test") {
        let detail = serde_json::json!({"message_id": id, "campaign_id": d.campaign_id, "sequence_id": d.sequence.map(|s| s.0), "step": d.sequence.map(|s| s.1)});
        db.run(
            "INSERT INTO campaigns_timeline (at, contact_id, kind, title, detail, ref, owner_id) VALUES (?, ?, 'email-sent', ?, ?, ?, ?)",
            &[at(now).into(), contact.into(), format!("Email sent: {}", r.subject).into(), detail.to_string().into(), id.as_str().into(), d.data["contact"]["owner_id"].as_str().into()],
        )?;
    }
    Ok(id)
}

#[derive(Debug, Default, PartialEq, serde::Serialize)]
pub struct Batch {
    pub queued: usize,
    pub skipped: usize,
    /// The campaign finished with this batch.
    pub finished: bool,
    /// When the campaign wants its next batch.
    pub next_at: Option<String>,
}

/// Queues the next throttled batch of a sending campaign (planned first).
/// Tokens refill at `throttle_per_minute`, up to a minute's worth (so a
/// scheduler that ticks once a minute, like a cron on real Spin, still sends
/// at the full rate; one that ticks often sends evenly); a batch spends at
/// most [`MAX_BATCH`], and only queued messages spend them.
pub fn send_batch<D: Db + ?Sized>(db: &D, w: &Writer, links: &Links, id: &str, now: DateTime<Utc>) -> Result<Batch> {
    edge_db::tx(db, || {
        let Some(c) = crate::campaigns::get(db, id)? else { return Ok(Batch { finished: true, ..Default::default() }) };
        if c.status != "sending" {
            return Ok(Batch { finished: true, ..Default::default() });
        }
        let r = db.run("SELECT tokens, last_batch_at, planned FROM campaigns WHERE id = ?", &[id.into()])?;
        let row = r.first();
        let rate = c.throttle_per_minute as f64;
        let cap = rate.max(1.0);
        let last = row.as_ref().and_then(|r| r.str(1)).and_then(parse);
        let planned = row.as_ref().and_then(|r| r.i64(2)) == Some(1);
        let mut tokens = match last {
            None => cap,
            Some(l) => (row.and_then(|r| r.f64(0)).unwrap_or(0.0) + rate * (now - l).num_milliseconds().max(0) as f64 / 60_000.0).min(cap),
        };
        let mut b = Batch::default();
        // Skipped recipients spend no tokens: keep going until the batch is full.
        loop {
            let room = (tokens.floor() as i64).min(MAX_BATCH) - b.queued as i64;
            if room <= 0 {
                break;
            }
            let pending = db.run(
                "SELECT contact_id, email, data, variant FROM campaign_recipients WHERE campaign_id = ? AND status = 'pending' ORDER BY contact_id LIMIT ?",
                &[id.into(), room.into()],
            )?;
            if pending.is_empty() {
                break;
            }
            for p in pending.iter() {
                let (contact, email, variant) = (p.text(0), p.string(1), p.text(3));
                if let Some(reason) = consent::blocked(db, &contact, email.as_deref())? {
                    db.run("UPDATE campaign_recipients SET status = 'skipped', reason = ? WHERE campaign_id = ? AND contact_id = ?", &[reason.into(), id.into(), contact.as_str().into()])?;
                    b.skipped += 1;
                    continue;
                }
                let mut content = c.content.clone();
                if variant == "b" {
                    if let Some(ab) = &c.ab {
                        content.subject = ab.subject_b.clone();
                    }
                }
                let data: serde_json::Value = serde_json::from_str(&p.text(2)).unwrap_or_default();
                let to = email.unwrap_or_default();
                let mid = queue(db, w, links, Draft { kind: "campaign", campaign_id: Some(id), contact_id: Some(&contact), variant: c.ab.as_ref().map(|_| variant.as_str()), sequence: None, to: &to, content: &content, data: &data }, now)?;
                db.run("UPDATE campaign_recipients SET status = 'queued', message_id = ? WHERE campaign_id = ? AND contact_id = ?", &[mid.into(), id.into(), contact.as_str().into()])?;
                b.queued += 1;
            }
        }
        tokens -= b.queued as f64;
        db.run("UPDATE campaigns SET tokens = ?, last_batch_at = ? WHERE id = ?", &[tokens.into(), at(now).into(), id.into()])?;

        let counts = db.run("SELECT sum(status = 'pending'), sum(status = 'hold') FROM campaign_recipients WHERE campaign_id = ?", &[id.into()])?;
        let (left, held) = counts.first().map(|r| (r.i64(0).unwrap_or(0), r.i64(1).unwrap_or(0))).unwrap_or((0, 0));
        if !planned {
            b.next_at = Some(at(now));
        } else if left > 0 {
            // Now if tokens are left (the next batch), else when a batch's worth has refilled.
            let wanted = (left as f64).min(MAX_BATCH as f64).min(cap);
            let wait_ms = ((wanted - tokens).max(0.0) / rate * 60_000.0).clamp(0.0, 60_000.0);
            b.next_at = Some(at(now + Duration::milliseconds(wait_ms as i64)));
        } else if held > 0 {
            b.next_at = Some(decide_ab(db, w, &c, now)?);
        } else {
            db.run("UPDATE campaigns SET status = 'sent', finished_at = ?, version = version + 1 WHERE id = ?", &[at(now).into(), id.into()])?;
            edge_db::record::append_event(db, "campaigns_events", w, "campaign", id, "sent", Some(&serde_json::json!({"status": "sending"})), Some(&serde_json::json!({"status": "sent"})))?;
            b.finished = true;
        }
        Ok(b)
    })
}

/// The A/B test's sample is out: wait for it, then pick the winner (higher
/// unique human open or click rate; A on a tie) and release the rest to it.
/// Answers when to look again.
fn decide_ab<D: Db + ?Sized>(db: &D, w: &Writer, c: &Campaign, now: DateTime<Utc>) -> Result<String> {
    let Some(ab) = &c.ab else { return Ok(at(now)) };
    let decide_at = match c.ab_decide_at.as_deref().and_then(parse) {
        Some(t) => t,
        None => {
            let t = now + Duration::minutes(ab.wait_minutes);
            db.run("UPDATE campaigns SET ab_decide_at = ? WHERE id = ?", &[at(t).into(), c.id.as_str().into()])?;
            return Ok(at(t));
        }
    };
    if now < decide_at {
        return Ok(at(decide_at));
    }
    let column = if ab.metric == "clicks" { "clicked_at" } else { "opened_at" };
    let rate = |v: &str| -> Result<f64> {
        let r = db.run(&format!("SELECT count(*), count({column}) FROM mail_messages WHERE campaign_id = ? AND variant = ?"), &[c.id.as_str().into(), v.into()])?;
        let row = r.first();
        let (n, hit) = row.map(|r| (r.i64(0).unwrap_or(0), r.i64(1).unwrap_or(0))).unwrap_or((0, 0));
        Ok(if n == 0 { 0.0 } else { hit as f64 / n as f64 })
    };
    let winner = if rate("b")? > rate("a")? { "b" } else { "a" };
    db.run("UPDATE campaigns SET ab_winner = ? WHERE id = ?", &[winner.into(), c.id.as_str().into()])?;
    db.run("UPDATE campaign_recipients SET status = 'pending', variant = ? WHERE campaign_id = ? AND status = 'hold'", &[winner.into(), c.id.as_str().into()])?;
    edge_db::record::append_event(db, "campaigns_events", w, "campaign", &c.id, "ab-decided", None, Some(&serde_json::json!({"winner": winner})))?;
    Ok(at(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::{self, CampaignInput, ScheduleInput};
    use crate::schema::{COMPONENT, MIGRATIONS};
    use crate::segments::{self, SegmentInput};
    use serde_json::json;

    fn setup(ab: Option<campaigns::AbTest>, throttle: i64) -> (edge_db::native::Connection, Campaign) {
        let db = edge_db::native::migrated(COMPONENT, MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let seg = segments::create(&db, &w, SegmentInput { name: Some("All".into()), kind: Some("static".into()), ..Default::default() }).unwrap();
        let input = CampaignInput {
            name: Some("Winter sale".into()), segment_id: Some(seg.id), subject: Some("Hi {{ contact.first_name | default: \"there\" }}".into()),
            html: Some("<p>Sale!</p><a href=\"https://shop.test\">Shop</a>".into()), throttle_per_minute: Some(throttle), ab: Some(ab), ..Default::default()
        };
        let c = campaigns::create(&db, &w, input).unwrap();
        let now = Utc::now();
        campaigns::schedule(&db, &w, &c.id, ScheduleInput::default(), "https://acme.test", now, None).unwrap();
        assert_eq!(start_due(&db, &w, now).unwrap(), vec![c.id.clone()]);
        let c = campaigns::get(&db, &c.id).unwrap().unwrap();
        (db, c)
    }

    fn people(n: usize) -> Vec<serde_json::Value> {
        (0..n).map(|i| json!({"id": format!("ct_{i:04}"), "email": format!("p{i}@x.test"), "first_name": if i % 2 == 0 { json!(format!("P{i}")) } else { json!(null) }})).collect()
    }

    #[test]
    fn throttled_batches_skip_the_unsubscribed_and_queue_everyone_once() {
        let (db, c) = setup(None, 40);
        let w = edge_db::native::writer("system:test");
        let links = Links { base_url: "https://acme.test", secret: "s3cret" };
        let everyone = people(100);
        plan_page(&db, &c, &everyone[..60], Some("cursor-2")).unwrap();
        // A page delivered twice (a retried request) plans nobody twice.
        plan_page(&db, &c, &everyone[50..], None).unwrap();
        consent::record(&db, "user:u1", "ct_0003", &consent::ConsentInput { channel: "email".into(), status: "withdrawn".into(), lawful_basis: None, source: None }).unwrap();
        consent::suppress(&db, "p7@x.test", "bounced", None).unwrap();
        let t0 = Utc::now();
        let b = send_batch(&db, &w, &links, &c.id, t0).unwrap();
        assert_eq!((b.queued, b.skipped, b.finished), (40, 2, false), "a minute's worth at 40/min; skipped ones spend nothing");
        let again = send_batch(&db, &w, &links, &c.id, t0).unwrap();
        assert_eq!(again.queued, 0, "no tokens left at the same instant");
        let mut t = t0;
        let mut total = 40;
        for _ in 0..10 {
            t += Duration::seconds(30);
            let b = send_batch(&db, &w, &links, &c.id, t).unwrap();
            total += b.queued;
            if b.finished {
                break;
            }
        }
        assert_eq!(total, 98);
        let dupes = db.run("SELECT count(*) FROM (SELECT contact_id FROM mail_messages GROUP BY contact_id HAVING count(*) > 1)", &[]).unwrap().scalar_i64();
        assert_eq!(dupes, Some(0));
        let blocked = db.run("SELECT count(*) FROM mail_messages WHERE contact_id IN ('ct_0003', 'ct_0007')", &[]).unwrap().scalar_i64();
        assert_eq!(blocked, Some(0));
        let c = campaigns::get(&db, &c.id).unwrap().unwrap();
        assert_eq!((c.status.as_str(), c.progress["queued"].as_i64(), c.progress["skipped"].as_i64()), ("sent", Some(98), Some(2)));
        let m = db.run("SELECT subject, html FROM mail_messages WHERE contact_id = 'ct_0001'", &[]).unwrap();
        assert_eq!(m.first().unwrap().text(0), "Hi there");
        assert!(m.first().unwrap().text(1).contains("https://acme.test/api/v1/mail/c/ms_"));
    }

    #[test]
    fn ab_test_sends_the_sample_then_the_winner_to_the_rest() {
        let ab = campaigns::AbTest { subject_b: "Last chance".into(), sample_percent: 20, wait_minutes: 60, metric: "opens".into() };
        let (db, c) = setup(Some(ab), 10_000);
        let w = edge_db::native::writer("system:test");
        let links = Links { base_url: "https://acme.test", secret: "s" };
        plan_page(&db, &c, &people(400), None).unwrap();
        consent::record(&db, "user:u1", "ct_0399", &consent::ConsentInput { channel: "email".into(), status: "withdrawn".into(), lawful_basis: None, source: None }).unwrap();
        let t0 = Utc::now();
        let b = send_batch(&db, &w, &links, &c.id, t0).unwrap();
        let sample = db.run("SELECT count(*) FROM campaign_recipients WHERE variant IN ('a', 'b')", &[]).unwrap().scalar_i64().unwrap();
        assert!((40..=130).contains(&sample), "about a fifth in the sample: {sample}");
        assert!(!b.finished);
        assert_eq!(b.next_at.as_deref(), Some(at(t0 + Duration::minutes(60)).as_str()));
        // B's opens win.
        db.run("UPDATE mail_messages SET opened_at = ? WHERE variant = 'b'", &[at(t0).into()]).unwrap();
        let early = send_batch(&db, &w, &links, &c.id, t0 + Duration::minutes(30)).unwrap();
        assert_eq!(early.queued, 0, "the rest waits for the test");
        let later = t0 + Duration::minutes(61);
        send_batch(&db, &w, &links, &c.id, later).unwrap();
        let done = send_batch(&db, &w, &links, &c.id, later + Duration::seconds(1)).unwrap();
        assert!(done.finished);
        let c = campaigns::get(&db, &c.id).unwrap().unwrap();
        assert_eq!(c.ab_winner.as_deref(), Some("b"));
        let rest_subjects = db.run("SELECT DISTINCT m.subject FROM mail_messages m JOIN campaign_recipients r ON r.message_id = m.id WHERE r.variant = 'b'", &[]).unwrap();
        assert_eq!(rest_subjects.len(), 1);
        assert_eq!(rest_subjects.first().unwrap().text(0), "Last chance");
        let sent = db.run("SELECT count(*) FROM mail_messages", &[]).unwrap().scalar_i64().unwrap();
        let unsubscribed_in_rest = db.run("SELECT count(*) FROM mail_messages WHERE contact_id = 'ct_0399'", &[]).unwrap().scalar_i64().unwrap();
        assert_eq!((sent, unsubscribed_in_rest), (399, 0));
    }
}
