//! Unattended sending (`POST /internal/tick`, also run right after "send
//! now"): due campaigns start, audiences are planned page by page from the
//! contacts API, throttled batches are queued, and queued mail is delivered
//! (captured here without a provider). Every step is resumable.

use crate::{contacts, db, list_filter};

fn problem(e: anyhow::Error) -> Problem {
    crate::failed("campaign")(e)
}
use campaigns_domain::{outbox, sequences};
use campaigns_domain::sending::{self, Links};
use edge_component::Ctx;
use edge_db::record::Writer;
use edge_http::{Problem, Reply};

/// Contacts pages (of 200) planned per campaign per tick.
const PAGES_PER_TICK: usize = 25;
/// How long one tick keeps queueing batches.
const WORK_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);
/// Deliveries attempted per tick through a provider.
const DELIVERIES_PER_TICK: i64 = 200;

pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}


pub fn secret(db: &spin_sdk::sqlite::Connection) -> Result<String, Problem> {
    sending::secret(db, || campaigns_domain::sign::hex(&edge_component::random_bytes::<32>())).map_err(problem)
}

fn system<'a>(ctx: &'a Ctx) -> Writer<'a> {
    Writer { actor: "system:scheduler", request_id: ctx.request_id.as_deref(), random: &|| edge_component::random_bytes::<10>() }
}

/// Plans the rest of a campaign's audience, a bounded number of pages.
fn plan(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, id: &str) -> Result<(), Problem> {
    for _ in 0..PAGES_PER_TICK {
        let (planned, cursor) = sending::plan_state(db, id).map_err(problem)?;
        if planned {
            return Ok(());
        }
        let c = campaigns_domain::campaigns::get(db, id).map_err(problem)?.ok_or_else(|| Problem::not_found("No campaign with this id"))?;
        let seg = c.segment_id.as_deref().map(|s| campaigns_domain::segments::get(db, s)).transpose().map_err(problem)?.flatten();
        let filter = match seg {
            Some(s) => s.filter.clone().unwrap_or_else(|| list_filter(&s.id)),
            // The segment was deleted after scheduling: nobody to send to.
            None => {
                sending::plan_page(db, &c, &[], None).map_err(problem)?;
                return Ok(());
            }
        };
        let mut extra = "&limit=200".to_string();
        if let Some(cur) = &cursor {
            extra.push_str(&format!("&cursor={}", edge_http::query::encode(cur)));
        }
        let page = contacts(ctx, "", &filter, &extra, true)?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        let next = page["next_cursor"].as_str().filter(|_| !items.is_empty());
        sending::plan_page(db, &c, &items, next).map_err(problem)?;
    }
    Ok(())
}

/// One round of work; answers when the next is due.
pub fn advance(ctx: &Ctx) -> Result<serde_json::Value, Problem> {
    let db = db()?;
    let w = system(ctx);
    let now = now();
    let started = std::time::Instant::now();
    let secret = secret(&db)?;
    let mut next: Vec<String> = Vec::new();
    let mut queued = 0;
    let mut errors = Vec::new();
    for id in sending::start_due(&db, &w, now).map_err(problem)? {
        let base = db_base_url(&db, &id)?;
        let links = Links { base_url: &base, secret: &secret };
        // One campaign's trouble (its segment's rules no longer valid, say)
        // does not hold up the others; it is retried on the next tick.
        // Batches while tokens last, within this request's time budget.
        let step = plan(ctx, &db, &id).and_then(|_| {
            let mut b = sending::send_batch(&db, &w, &links, &id, now).map_err(problem)?;
            let mut total = b.queued;
            while b.queued > 0 && !b.finished && started.elapsed() < WORK_BUDGET {
                b = sending::send_batch(&db, &w, &links, &id, chrono::Utc::now()).map_err(problem)?;
                total += b.queued;
            }
            b.queued = total;
            Ok(b)
        });
        match step {
            Ok(b) => {
                queued += b.queued;
                next.extend(b.next_at);
            }
            Err(p) => {
                eprintln!("campaigns: campaign {id}: {}", p.detail);
                errors.push(serde_json::json!({"campaign_id": id, "detail": p.detail}));
                next.push(sending::at(now + chrono::Duration::minutes(1)));
            }
        }
    }
    for (seq, enrol_due, cursor) in sequences::active(&db, now).map_err(problem)? {
        let base = seq_base_url(&db, &seq.id)?;
        let links = Links { base_url: &base, secret: &secret };
        let mid_pass = cursor.is_some();
        match drip(ctx, &db, &w, &links, &seq, enrol_due, cursor, now) {
            Ok(n) => queued += n,
            Err(p) => {
                eprintln!("campaigns: sequence {}: {}", seq.id, p.detail);
                errors.push(serde_json::json!({"sequence_id": seq.id, "detail": p.detail}));
                next.push(sending::at(now + chrono::Duration::minutes(1)));
            }
        }
        // Back soon for the rest of a pass, else in time for the next one.
        next.push(sending::at(now + if mid_pass { chrono::Duration::seconds(1) } else { chrono::Duration::minutes(sequences::ENROL_EVERY_MINUTES) }));
    }
    let delivered = deliver(&db)?;
    next.extend(sequences::next_due(&db).map_err(problem)?);
    next.extend(sending::next_scheduled(&db).map_err(problem)?);
    next.extend(outbox::next_retry(&db).map_err(problem)?);
    Ok(serde_json::json!({"queued": queued, "delivered": delivered, "errors": errors, "next_tick_at": next.into_iter().min()}))
}

fn db_base_url(db: &spin_sdk::sqlite::Connection, id: &str) -> Result<String, Problem> {
    use edge_db::Db;
    let r = db.run("SELECT base_url FROM campaigns WHERE id = ?", &[id.into()]).map_err(edge_component::storage)?;
    Ok(r.first().and_then(|r| r.string(0)).unwrap_or_default())
}

/// Delivers queued mail: through the provider when configured (failures back
/// off and retry), else captured here.
pub fn deliver(db: &spin_sdk::sqlite::Connection) -> Result<i64, Problem> {
    let Some(api) = edge_component::mail_api::MailApi::configured() else {
        return outbox::capture_all(db, now()).map_err(problem);
    };
    let mut n = 0;
    for m in outbox::due(db, now(), DELIVERIES_PER_TICK).map_err(problem)? {
        let mut body = serde_json::json!({"id": m.id, "to": m.to, "subject": m.subject, "text": m.text, "html": m.html});
        if let Some(name) = &m.from_name {
            let address = api.from.rsplit_once('<').map(|(_, a)| a.trim_end_matches('>').to_string()).unwrap_or_else(|| api.from.clone());
            body["from"] = format!("{name} <{address}>").into();
        }
        body["headers"] = outbox::headers(m.unsubscribe_url.as_deref());
        let result = api.send(&body);
        n += result.is_ok() as i64;
        outbox::attempted(db, &m.id, result, now()).map_err(problem)?;
    }
    Ok(n)
}

pub fn tick(ctx: &Ctx) -> Result<Reply, Problem> {
    Ok(Reply::json(200, &advance(ctx)?))
}

/// Copies a consent change to the contact record (whose consent field forms
/// and imports set), as the platform: best effort, since this component's own
/// record already blocks mail; a failure is logged.
pub fn copy_consent_to_contact(ctx: &Ctx, contact_id: &str, channel: &str, granted: bool) {
    let body = serde_json::json!({"consent": {channel: if granted { "granted" } else { "denied" }}});
    let actor = [("edge-actor", "system:consent".to_string())];
    let extra: &[(&str, String)] = if ctx.header("edge-actor").is_none() { &actor } else { &[] };
    match edge_component::call(ctx, spin_sdk::http::Method::Patch, "contacts", &format!("/api/v1/contacts/{contact_id}"), Some(&body), extra, true) {
        Ok((200, _, _)) => {}
        Ok((s, _, v)) => eprintln!("campaigns: consent of {contact_id} not copied to the contact: {s} {}", v["detail"]),
        Err(e) => eprintln!("campaigns: consent of {contact_id} not copied to the contact: {e}"),
    }
}

fn seq_base_url(db: &spin_sdk::sqlite::Connection, id: &str) -> Result<String, Problem> {
    use edge_db::Db;
    let r = db.run("SELECT base_url FROM sequences WHERE id = ?", &[id.into()]).map_err(edge_component::storage)?;
    Ok(r.first().and_then(|r| r.string(0)).unwrap_or_default())
}

/// A sequence's round: new members of its segment enter (every few
/// minutes, a bounded number of pages per tick), then due steps go out in
/// chunks of 100, after asking the contacts API who reached the goal.
#[allow(clippy::too_many_arguments)]
fn drip(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, w: &Writer, links: &Links, seq: &sequences::Sequence, enrol_due: bool, mut cursor: Option<String>, now: chrono::DateTime<chrono::Utc>) -> Result<usize, Problem> {
    let fail = crate::failed("sequence");
    if enrol_due {
        let seg = seq.segment_id.as_deref().map(|s| campaigns_domain::segments::get(db, s)).transpose().map_err(&fail)?.flatten();
        if let Some(seg) = seg {
            let filter = seg.filter.clone().unwrap_or_else(|| list_filter(&seg.id));
            for _ in 0..PAGES_PER_TICK {
                let mut extra = "&limit=200".to_string();
                if let Some(cur) = &cursor {
                    extra.push_str(&format!("&cursor={}", edge_http::query::encode(cur)));
                }
                let page = contacts(ctx, "", &filter, &extra, true)?;
                let items = page["items"].as_array().cloned().unwrap_or_default();
                let next = page["next_cursor"].as_str().filter(|_| !items.is_empty()).map(String::from);
                sequences::enrol_page(db, seq, &items, next.as_deref(), now).map_err(&fail)?;
                cursor = next;
                if cursor.is_none() {
                    break;
                }
            }
        }
    }
    let mut queued = 0;
    for _ in 0..5 {
        let due = sequences::due(db, &seq.id, now, 100).map_err(&fail)?;
        if due.is_empty() {
            break;
        }
        let converted = match &seq.goal {
            Some(goal) => {
                let filter = serde_json::json!({"and": [goal, {"field": "id", "op": "in", "value": due}]});
                let page = contacts(ctx, "", &filter, "&limit=200", true)?;
                page["items"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str().map(String::from)).collect()
            }
            None => Vec::new(),
        };
        queued += sequences::send_due(db, w, links, seq, &due, &converted, now).map_err(&fail)?.queued;
    }
    Ok(queued)
}
