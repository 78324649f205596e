//! Handing over a departing rep's accounts (`/api/v1/automations/handovers`):
//! a preview of what they own, then a job the tick (and the request that
//! starts it) works through, moving records through their components' APIs
//! as `system:automation` until nothing is left with the rep.

use crate::{db, failed};
use automation_domain::handover::{self, Handover, HandoverInput};
use edge_component::Ctx;
use edge_db::record::Writer;
use edge_http::{Problem, Reply};
use serde_json::{json, Value};
use spin_sdk::http::Method;
use std::time::{Duration, Instant};

const BUDGET: Duration = Duration::from_secs(2);

fn call(ctx: &Ctx, method: Method, component: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
    crate::platform_call(ctx, method, component, path, body, automation_domain::rules::ACTOR, &[])
}

/// Where a kind's records still owned by `user` are listed (a page), and how
/// one is moved: (component, list path, owner field, record path prefix).
fn plan(kind: &str, user: &str, limit: usize) -> (&'static str, String, &'static str, &'static str) {
    let owned = edge_http::query::encode(&json!({"field": "owner_id", "op": "eq", "value": user}).to_string());
    match kind {
        "companies" => ("contacts", format!("/api/v1/companies?limit={limit}&filter={owned}"), "owner_id", "/api/v1/companies/"),
        "contacts" => ("contacts", format!("/api/v1/contacts?limit={limit}&filter={owned}"), "owner_id", "/api/v1/contacts/"),
        "deals" => ("pipeline", format!("/api/v1/deals?limit={limit}&status=open&owner_id={user}"), "owner_id", "/api/v1/deals/"),
        "tickets" => ("portal", format!("/api/v1/tickets?limit={limit}&status=new,open,waiting,reopened&assignee_id={user}"), "assignee_id", "/api/v1/tickets/"),
        _ => ("contacts", format!("/api/v1/activities?limit={limit}&open_tasks_of={user}"), "assignee_id", "/api/v1/activities/"),
    }
}

fn page(ctx: &Ctx, kind: &str, user: &str, limit: usize) -> Result<Vec<Value>, String> {
    let (component, path, _, _) = plan(kind, user, limit);
    match call(ctx, Method::Get, component, &path, None)? {
        (200, v) => Ok(v["items"].as_array().cloned().unwrap_or_default()),
        (s, v) => Err(format!("listing {kind}: {s} {}", v["detail"])),
    }
}

/// What the user owns now, per kind (a page's worth at most: `more` says
/// so), and the records themselves for planning.
fn owned(ctx: &Ctx, user: &str) -> Result<(Value, Vec<(&'static str, Vec<Value>)>), Problem> {
    let mut out = serde_json::Map::new();
    let mut records = Vec::new();
    for kind in handover::KINDS {
        let items = page(ctx, kind, user, 200).map_err(|e| Problem::new(502, "upstream-failed", "Service unavailable", &e))?;
        out.insert(kind.into(), json!({"count": items.len(), "more": items.len() == 200}));
        records.push((kind, items));
    }
    Ok((Value::Object(out), records))
}

fn user_ok(ctx: &Ctx, id: &str) -> Result<Value, Problem> {
    match call(ctx, Method::Get, "identity", &format!("/internal/users/{id}"), None) {
        Ok((200, u)) => Ok(u),
        Ok((404, _)) => Err(edge_component::field_error("to_user_ids", &format!("{id} is not a user of this workspace"))),
        Ok((s, _)) => Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("identity answered {s}"))),
        Err(e) => Err(Problem::new(502, "upstream-failed", "Service unavailable", &e)),
    }
}

/// Works on one handover until it is done or the time is up.
fn step(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, w: &Writer, h: &Handover, started: Instant) -> Result<bool, Problem> {
    let fail = failed("handover");
    for kind in handover::KINDS.iter().filter(|k| h.include.iter().any(|i| i == *k)) {
        loop {
            if started.elapsed() > BUDGET {
                return Ok(false);
            }
            let items = match page(ctx, kind, &h.from_user_id, 50) {
                Ok(i) => i,
                Err(e) => {
                    handover::finish(db, w, h, Some(&e)).map_err(&fail)?;
                    return Ok(true);
                }
            };
            if items.is_empty() {
                break;
            }
            let (component, _, field, prefix) = plan(kind, &h.from_user_id, 0);
            for item in &items {
                let id = item["id"].as_str().unwrap_or_default();
                let (to, how) = handover::pick(db, h, kind, item).map_err(&fail)?;
                match call(ctx, Method::Patch, component, &format!("{prefix}{id}"), Some(&json!({field: to}))) {
                    Ok((200, _)) => handover::moved(db, h, kind, id, &to, how).map_err(&fail)?,
                    // Nothing is left half done: the job stops and says what refused.
                    Ok((s, v)) => {
                        handover::finish(db, w, h, Some(&format!("{kind} {id} could not move: {s} {}", v["detail"].as_str().unwrap_or_default()))).map_err(&fail)?;
                        return Ok(true);
                    }
                    Err(e) => {
                        handover::finish(db, w, h, Some(&e)).map_err(&fail)?;
                        return Ok(true);
                    }
                }
            }
        }
    }
    handover::finish(db, w, h, None).map_err(&fail)?;
    Ok(true)
}

/// The tick's share: every running handover, within the time budget.
pub fn keep_going(ctx: &Ctx) -> Result<bool, Problem> {
    let db = db()?;
    let w = Writer { actor: automation_domain::rules::ACTOR, request_id: ctx.request_id.as_deref(), random: &|| edge_component::random_bytes::<10>() };
    let started = Instant::now();
    let mut more = false;
    for h in handover::running(&db).map_err(failed("handover"))? {
        more |= !step(ctx, &db, &w, &h, started)?;
    }
    Ok(more)
}

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    // Moving everyone's accounts is for those who run the team.
    if !["owner", "admin", "manager"].contains(&ctx.role().as_str()) {
        return Err(Problem::new(403, "forbidden", "Forbidden", "Only owners, admins and managers hand over accounts"));
    }
    let db = db()?;
    let fail = failed("handover");
    match (ctx.method(), rest) {
        (Method::Get, []) => Ok(Reply::json(200, &json!({"items": handover::list(&db).map_err(&fail)?, "next_cursor": null}))),
        (Method::Get, ["preview"]) => {
            let pairs = edge_http::query::parse(ctx.query());
            let user = edge_http::query::get(&pairs, "from_user_id").filter(|u| edge_http::ids::is_valid("u", u)).ok_or_else(|| edge_component::field_error("from_user_id", "must be a user id"))?;
            Ok(Reply::json(200, &json!({"from_user_id": user, "owns": owned(ctx, user)?.0})))
        }
        // What a handover would do: who gets how many of each kind, and why.
        (Method::Post, ["preview"]) => {
            let input: HandoverInput = ctx.body()?;
            let include = handover::checked(&input).map_err(&fail)?;
            let (owns, mut records) = owned(ctx, &input.from_user_id)?;
            records.retain(|(k, _)| include.iter().any(|i| i == k));
            Ok(Reply::json(200, &json!({"from_user_id": input.from_user_id, "owns": owns, "plan": handover::plan(&input.to_user_ids, &input.rules, &records)})))
        }
        (Method::Post, []) => {
            let input: HandoverInput = ctx.body()?;
            handover::checked(&input).map_err(&fail)?;
            for to in &input.to_user_ids {
                if user_ok(ctx, to)?["active"] != true {
                    return Err(edge_component::field_error("to_user_ids", &format!("{to} is not an active user")));
                }
            }
            user_ok(ctx, &input.from_user_id).map_err(|_| edge_component::field_error("from_user_id", "is not a user of this workspace"))?;
            let w = ctx.writer();
            let h = edge_db::tx(&db, || handover::start(&db, &w, &input)).map_err(&fail)?;
            // Small handovers finish within the request; the tick does the rest.
            let sw = Writer { actor: automation_domain::rules::ACTOR, request_id: ctx.request_id.as_deref(), random: &|| edge_component::random_bytes::<10>() };
            step(ctx, &db, &sw, &h, Instant::now())?;
            let mut h = handover::get(&db, &h.id).map_err(&fail)?.unwrap_or(h);
            if h.status == "running" {
                h.moved = handover::progress(&db, &h.id).map_err(&fail)?;
            }
            Ok(Reply::json(201, &h).with_header("location", format!("/api/v1/automations/handovers/{}", h.id)))
        }
        (Method::Get, [id]) => {
            let mut h = handover::get(&db, id).map_err(&fail)?.ok_or_else(|| Problem::not_found("No handover with this id"))?;
            if h.status == "running" {
                h.moved = handover::progress(&db, id).map_err(&fail)?;
            }
            Ok(Reply::json(200, &h))
        }
        _ => Err(Problem::not_found("No such resource")),
    }
}
