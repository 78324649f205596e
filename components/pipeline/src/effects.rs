//! Delivers the effects pipeline changes have on other components, after the
//! change committed: queued in the change's transaction, retried until they
//! land (each write to the pipeline drains the queue; `POST /internal/tick`
//! lets a scheduler do it too).

use crate::http::Ctx;
use edge_db::Db;
use pipeline_domain::store::deals::{self, Effect};
use spin_sdk::http::Method;

/// Lifecycle stages a won deal promotes to customer (advocates stay advocates).
const BEFORE_CUSTOMER: [&str; 5] = ["subscriber", "lead", "qualified", "opportunity", "churned"];

fn deliver(ctx: &Ctx, e: &Effect) -> anyhow::Result<()> {
    match e.kind.as_str() {
        "contact-customer" => {
            let path = format!("/api/v1/contacts/{}", e.target);
            let actor = [("edge-actor", e.actor.clone())];
            let (status, etag, contact) = edge_component::call(ctx, Method::Get, "contacts", &path, None, &actor, true)?;
            match status {
                404 => return Ok(()), // deleted or merged away: nothing to promote
                200 => {}
                s => anyhow::bail!("contacts answered {s} to reading {}", e.target),
            }
            let stage = contact["lifecycle_stage"].as_str().unwrap_or("");
            if !BEFORE_CUSTOMER.contains(&stage) {
                return Ok(());
            }
            let mut headers = vec![("edge-actor", e.actor.clone())];
            if let Some(tag) = etag {
                headers.push(("if-match", tag));
            }
            let (status, _, body) = edge_component::call(ctx, Method::Patch, "contacts", &path, Some(&serde_json::json!({"lifecycle_stage": "customer"})), &headers, true)?;
            match status {
                200..=299 | 404 => Ok(()),
                s => anyhow::bail!("contacts answered {s} to promoting {}: {}", e.target, body["detail"]),
            }
        }
        other => anyhow::bail!("unknown effect kind {other}"),
    }
}

/// Delivers up to `limit` queued effects; returns how many landed.
pub fn drain(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, limit: i64) -> usize {
    let Ok(pending) = deals::pending_effects(db, limit) else { return 0 };
    let mut done = 0;
    for e in pending {
        let result = deliver(ctx, &e);
        let _ = db.run("BEGIN IMMEDIATE", &[]);
        let saved = match &result {
            Ok(()) => deals::effect_done(db, e.seq),
            Err(err) => {
                eprintln!("pipeline: effect {} ({}) failed: {err:#}", e.seq, e.kind);
                deals::effect_failed(db, e.seq, &format!("{err:#}"))
            }
        };
        let _ = db.run(if saved.is_ok() { "COMMIT" } else { "ROLLBACK" }, &[]);
        done += result.is_ok() as usize;
    }
    done
}
