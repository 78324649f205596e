//! The automation component, a thin HTTP adapter over `automation-domain`:
//! lead-capture forms (`/api/v1/forms`; the public submits them at
//! `/api/v1/forms/{id}/submit`, and the hosted page and embed script need no
//! session), whose clean submissions become a contact (matched by email), a
//! timeline note and an owner; and workflow rules (`/api/v1/automations`)
//! run by the scheduler's tick over the published change logs.

mod engine;
mod handover;
mod insight;
mod leads;
mod public;

use automation_domain::forms::{self, FormInput};
use automation_domain::rules::{self, RuleInput};
use automation_domain::{schema, submissions};
use edge_component::{storage, valid_id, with_etag, Ctx};
use edge_http::{Problem, Reply};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let ctx = Ctx::new(&req);
    let result = route(&ctx);
    edge_component::respond("automation", &ctx, result)
}

pub(crate) fn db() -> Result<spin_sdk::sqlite::Connection, Problem> {
    edge_db::spin::open(schema::COMPONENT, schema::MIGRATIONS).map_err(storage)
}

pub(crate) fn failed(what: &'static str) -> impl Fn(anyhow::Error) -> Problem {
    move |e| edge_component::record_problem(&e, what).unwrap_or_else(|| storage(format!("{e:#}")))
}

fn not_allowed() -> Problem {
    Problem::new(405, "method-not-allowed", "Method not allowed", "This resource does not take that method")
}

fn route(ctx: &Ctx) -> Result<Reply, Problem> {
    let segs = ctx.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["internal", "migrate"] if *ctx.method() == Method::Post => {
            let v = edge_db::spin::provision(schema::COMPONENT, schema::MIGRATIONS).map_err(storage)?;
            Ok(Reply::json(200, &v))
        }
        ["internal", "tick"] if *ctx.method() == Method::Post => engine::tick(ctx),
        ["api", "v1", "automations", rest @ ..] => automations(ctx, rest),
        ["api", "v1", "insights", rest @ ..] => insight::route(ctx, rest),
        ["api", "v1", "forms", id, "submit"] => public::submit(ctx, id),
        ["api", "v1", "forms", id, "page"] if *ctx.method() == Method::Get => public::page(ctx, id),
        ["api", "v1", "forms", id, "embed.js"] if *ctx.method() == Method::Get => public::script(ctx, id),
        ["api", "v1", "forms", rest @ ..] => staff(ctx, rest),
        _ => Err(Problem::not_found("No such resource")),
    }
}

fn staff(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let fail = failed("form");
    match (ctx.method(), rest) {
        (Method::Get, []) => Ok(Reply::json(200, &serde_json::json!({"items": forms::list(&db).map_err(&fail)?, "next_cursor": null}))),
        (Method::Post, []) => {
            let input: FormInput = ctx.body()?;
            edge_component::once(ctx, &db, "automation_idempotency", || {
                let f = forms::create(&db, &w, input).map_err(&fail)?;
                Ok(with_etag(201, &f, f.version).with_header("location", format!("/api/v1/forms/{}", f.id)))
            })
        }
        (_, [id, tail @ ..]) => {
            valid_id(forms::ID_PREFIX, id, "form")?;
            let get = || forms::get(&db, id).map_err(&fail)?.ok_or_else(|| Problem::not_found("No form with this id"));
            match (ctx.method(), tail) {
                (Method::Get, []) => {
                    let f = get()?;
                    Ok(with_etag(200, &f, f.version))
                }
                (Method::Patch, []) => {
                    let f = forms::update(&db, &w, id, ctx.body()?, ctx.if_match()?).map_err(&fail)?;
                    Ok(with_etag(200, &f, f.version))
                }
                (Method::Delete, []) => forms::delete(&db, &w, id).map(|_| Reply::empty(204)).map_err(&fail),
                (Method::Get, ["submissions"]) => {
                    get()?;
                    Ok(Reply::json(200, &serde_json::json!({"items": submissions::list(&db, id, 200).map_err(&fail)?, "next_cursor": null})))
                }
                // What to paste into a website.
                (Method::Get, ["embed"]) => {
                    let f = get()?;
                    let base = ctx.header("edge-base-url").unwrap_or_default();
                    Ok(Reply::json(200, &public::snippets(&f, &base)))
                }
                _ => Err(not_allowed()),
            }
        }
        _ => Err(not_allowed()),
    }
}

fn automations(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let fail = failed("rule");
    match (ctx.method(), rest) {
        (Method::Get, ["rules"]) => Ok(Reply::json(200, &serde_json::json!({"items": rules::list(&db).map_err(&fail)?, "next_cursor": null}))),
        (Method::Post, ["rules"]) => {
            let input: RuleInput = ctx.body()?;
            check_date_field(ctx, &input)?;
            check_webhooks(ctx, &input)?;
            edge_component::once(ctx, &db, "automation_idempotency", || {
                let r = rules::create(&db, &w, input).map_err(&fail)?;
                Ok(with_etag(201, &r, r.version).with_header("location", format!("/api/v1/automations/rules/{}", r.id)))
            })
        }
        (Method::Get, ["runs"]) => Ok(Reply::json(200, &serde_json::json!({"items": rules::runs(&db, None, 200).map_err(&fail)?, "next_cursor": null}))),
        // For the receiving end to check `X-Edge-Signature` (owners and admins).
        (Method::Get, ["webhook-secret"]) => {
            if !["owner", "admin"].contains(&ctx.role().as_str()) {
                return Err(Problem::new(403, "forbidden", "Forbidden", "Only owners and admins see the webhook secret"));
            }
            Ok(Reply::json(200, &serde_json::json!({"secret": webhook_secret(&db)?, "origins": webhook_origins(ctx), "header": "X-Edge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">"})))
        }
        (_, ["handovers", rest @ ..]) => handover::route(ctx, rest),
        (_, ["rules", id, tail @ ..]) => {
            valid_id(rules::ID_PREFIX, id, "rule")?;
            let get = || rules::get(&db, id).map_err(&fail)?.ok_or_else(|| Problem::not_found("No rule with this id"));
            match (ctx.method(), tail) {
                (Method::Get, []) => {
                    let r = get()?;
                    Ok(with_etag(200, &r, r.version))
                }
                (Method::Patch, []) => {
                    let input: RuleInput = ctx.body()?;
                    check_date_field(ctx, &input)?;
                    check_webhooks(ctx, &input)?;
                    let r = rules::update(&db, &w, id, input, ctx.if_match()?).map_err(&fail)?;
                    Ok(with_etag(200, &r, r.version))
                }
                (Method::Delete, []) => rules::delete(&db, &w, id).map(|_| Reply::empty(204)).map_err(&fail),
                (Method::Get, ["runs"]) => {
                    get()?;
                    Ok(Reply::json(200, &serde_json::json!({"items": rules::runs(&db, Some(id), 200).map_err(&fail)?, "next_cursor": null})))
                }
                _ => Err(not_allowed()),
            }
        }
        _ => Err(Problem::not_found("No such resource")),
    }
}

/// A date rule's field must be one the contacts API can filter on by day:
/// asked once, when the rule is saved.
fn check_date_field(ctx: &Ctx, input: &RuleInput) -> Result<(), Problem> {
    let Some(t) = input.trigger.as_ref().filter(|t| t.kind == "date" && t.field.is_some()) else { return Ok(()) };
    let probe = rules::Rule {
        id: String::new(), name: String::new(), enabled: true, trigger: t.clone(), conditions: vec![], actions: vec![], runs: 0, last_run_at: None,
        created_by: None, created_at: String::new(), updated_at: String::new(), version: 1,
    };
    let filter = rules::date_filter(&probe, chrono::Utc::now().date_naive()).to_string();
    let enc = edge_http::query::encode(&filter);
    match edge_component::call(ctx, Method::Get, "contacts", &format!("/api/v1/contacts/count?filter={enc}"), None, &[], true) {
        Ok((200, _, _)) => Ok(()),
        Ok((400 | 422, _, v)) => Err(edge_component::field_error("trigger.field", &format!("is not a date the contacts can be filtered on ({})", v["errors"][0]["message"].as_str().or(v["detail"].as_str()).unwrap_or("refused")))),
        Ok((s, _, _)) => Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts answered {s}"))),
        Err(e) => Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts did not answer: {e}"))),
    }
}

/// The tenant's secret for signing webhooks, made on first use.
pub(crate) fn webhook_secret(db: &spin_sdk::sqlite::Connection) -> Result<String, Problem> {
    use edge_db::Db;
    let get = || db.run("SELECT value FROM automation_secrets WHERE name = 'webhooks'", &[]).map(|r| r.first().and_then(|r| r.string(0)));
    if let Some(s) = get().map_err(storage)? {
        return Ok(s);
    }
    let fresh = edge_http::hmac::hex(&edge_component::random_bytes::<32>());
    db.run("INSERT OR IGNORE INTO automation_secrets (name, value) VALUES ('webhooks', ?)", &[fresh.into()]).map_err(storage)?;
    get().map_err(storage)?.ok_or_else(|| storage("no webhook secret"))
}

/// The origins webhooks may go to: the Spin variables `webhook_host`,
/// `webhook_host_2` and `webhook_host_3` that are set (each is also in
/// `allowed_outbound_hosts`; an unset one names a `.invalid` host).
pub(crate) fn webhook_origins(ctx: &Ctx) -> Vec<String> {
    ["webhook_host", "webhook_host_2", "webhook_host_3"]
        .iter()
        .filter_map(|v| ctx.variable(v))
        .map(|o| o.trim().trim_end_matches('/').to_string())
        .filter(|o| !o.is_empty() && !o.ends_with(".invalid"))
        .collect()
}

/// Webhooks may only go to an origin the operator allowed.
fn check_webhooks(ctx: &Ctx, input: &RuleInput) -> Result<(), Problem> {
    let allowed = webhook_origins(ctx);
    for (i, a) in input.actions.iter().flatten().enumerate() {
        if a.kind != "webhook" {
            continue;
        }
        let url = a.url.as_deref().unwrap_or_default();
        if !allowed.iter().any(|o| url == o || url.starts_with(&format!("{o}/"))) {
            let to = if allowed.is_empty() { "a host the operator allows; none is set".to_string() } else { allowed.join(", ") };
            return Err(edge_component::field_error(&format!("actions[{i}].url"), &format!("webhooks may only go to {to} (the webhook_host settings)")));
        }
    }
    Ok(())
}

/// Calls another component as the platform (no caller's record visibility),
/// acting as `actor`, with any extra headers (an Idempotency-Key, If-Match).
pub(crate) fn platform_call(ctx: &Ctx, method: Method, component: &str, path: &str, body: Option<&serde_json::Value>, actor: &str, extra: &[(&str, String)]) -> Result<(u16, serde_json::Value), String> {
    let mut headers = vec![("edge-actor", actor.to_string())];
    headers.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
    let (s, _, v) = edge_component::call(ctx, method, component, path, body, &headers, true).map_err(|e| e.to_string())?;
    Ok((s, v))
}
