//! The campaigns component, a thin HTTP adapter over `campaigns-domain`:
//! segments (dynamic ones are evaluated by the contacts component, which owns
//! the contacts and reads what pipeline and portal publish about them),
//! templates, campaigns and their sending, consent and suppression, and the
//! public mail links (tracking, unsubscribe, provider events).

mod marketing;
mod sender;
mod tracking;

use campaigns_domain::segments::{self, SegmentInput};
use edge_component::{storage, valid_id, with_etag, Ctx};
use edge_http::{query, FieldError, Problem, Reply};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let ctx = Ctx::new(&req);
    let result = route(&ctx);
    edge_component::respond("campaigns", &ctx, result)
}

pub(crate) fn db() -> Result<spin_sdk::sqlite::Connection, Problem> {
    edge_db::spin::open(campaigns_domain::schema::COMPONENT, campaigns_domain::schema::MIGRATIONS).map_err(storage)
}

/// Maps a store error about a `what` to its problem.
pub(crate) fn failed(what: &'static str) -> impl Fn(anyhow::Error) -> Problem {
    move |e| edge_component::record_problem(&e, what).unwrap_or_else(|| storage(format!("{e:#}")))
}

pub(crate) fn problem(e: anyhow::Error) -> Problem {
    edge_component::record_problem(&e, "segment").unwrap_or_else(|| storage(format!("{e:#}")))
}


/// Asks the contacts component (as the caller: their record visibility
/// applies) `path` with a filter; its validation errors become the filter's.
pub(crate) fn contacts(ctx: &Ctx, path: &str, filter: &serde_json::Value, extra: &str, as_platform: bool) -> Result<serde_json::Value, Problem> {
    let url = format!("/api/v1/contacts{path}?filter={}{extra}", edge_http::query::encode(&filter.to_string()));
    let (status, _, v) = edge_component::call(ctx, Method::Get, "contacts", &url, None, &[], as_platform).map_err(|e| Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts did not answer: {e}")))?;
    match status {
        200 => Ok(v),
        400 | 422 => {
            let errors: Vec<FieldError> = v["errors"].as_array().into_iter().flatten().map(|e| FieldError::new("filter", e["message"].as_str().unwrap_or("is not valid"))).collect();
            Err(Problem::validation(if errors.is_empty() { vec![FieldError::new("filter", v["detail"].as_str().unwrap_or("is not valid"))] } else { errors }))
        }
        s => Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts answered {s}: {}", v["detail"]))),
    }
}

pub(crate) fn count(ctx: &Ctx, filter: &serde_json::Value) -> Result<i64, Problem> {
    Ok(contacts(ctx, "/count", filter, "&exact=true", false)?["count"].as_i64().unwrap_or(0))
}

/// The filter a static list's members match.
pub(crate) fn list_filter(id: &str) -> serde_json::Value {
    serde_json::json!({"field": "lists", "op": "has", "value": id})
}

fn route(ctx: &Ctx) -> Result<Reply, Problem> {
    let segs = ctx.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["internal", "migrate"] if *ctx.method() == Method::Post => {
            let v = edge_db::spin::provision(campaigns_domain::schema::COMPONENT, campaigns_domain::schema::MIGRATIONS).map_err(storage)?;
            Ok(Reply::json(200, &v))
        }
        ["internal", "tick"] if *ctx.method() == Method::Post => sender::tick(ctx),
        ["internal", "send"] if *ctx.method() == Method::Post => marketing::send_for_rule(ctx),
        ["internal", "enrol"] if *ctx.method() == Method::Post => marketing::enrol_for_rule(ctx),
        ["api", "v1", "segments", rest @ ..] => segments_route(ctx, rest),
        ["api", "v1", "templates", rest @ ..] => marketing::templates(ctx, rest),
        ["api", "v1", "campaigns", rest @ ..] => marketing::campaigns(ctx, rest),
        ["api", "v1", "sequences", rest @ ..] => marketing::sequences(ctx, rest),
        ["api", "v1", "consents", contact] => marketing::consents(ctx, contact),
        ["api", "v1", "suppressions", rest @ ..] => marketing::suppressions(ctx, rest),
        ["api", "v1", "engagement", contact] => marketing::engagement(ctx, contact),
        ["api", "v1", "mail", rest @ ..] => tracking::route(ctx, rest),
        _ => Err(Problem::not_found("No such resource")),
    }
}

fn segments_route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let not_allowed = || Problem::new(405, "method-not-allowed", "Method not allowed", "This resource does not take that method");
    match (ctx.method(), rest) {
        (Method::Get, []) => Ok(Reply::json(200, &serde_json::json!({"items": segments::list(&db).map_err(problem)?, "next_cursor": null}))),
        (Method::Post, []) => {
            let input: SegmentInput = ctx.body()?;
            if let Some(f) = &input.filter {
                count(ctx, f)?; // the contacts component judges the rules
            }
            edge_component::once(ctx, &db, "campaigns_idempotency", || {
                let s = segments::create(&db, &w, input).map_err(problem)?;
                Ok(with_etag(201, &s, s.version).with_header("location", format!("/api/v1/segments/{}", s.id)))
            })
        }
        // The live count while rules are edited: `GET ?filter=` (anyone who
        // may read segments), or `POST {filter}` for rules too long for a URL.
        (Method::Get | Method::Post, ["count"]) => {
            let filter: serde_json::Value = if *ctx.method() == Method::Get {
                let pairs = edge_http::query::parse(ctx.query());
                query::get(&pairs, "filter").and_then(|f| serde_json::from_str(f).ok()).unwrap_or(serde_json::Value::Null)
            } else {
                ctx.json()?.get("filter").cloned().unwrap_or(serde_json::Value::Null)
            };
            if !filter.is_object() {
                return Err(Problem::validation(vec![FieldError::new("filter", "is required: a JSON condition or group")]));
            }
            Ok(Reply::json(200, &serde_json::json!({"count": count(ctx, &filter)?})))
        }
        (_, [id, tail @ ..]) => {
            valid_id(segments::ID_PREFIX, id, "segment")?;
            let seg = || segments::get(&db, id).map_err(problem)?.ok_or_else(|| Problem::not_found("No segment with this id"));
            match (ctx.method(), tail) {
                (Method::Get, []) => {
                    let s = seg()?;
                    Ok(with_etag(200, &s, s.version))
                }
                (Method::Patch, []) => {
                    let input: SegmentInput = ctx.body()?;
                    if let Some(f) = &input.filter {
                        count(ctx, f)?;
                    }
                    let s = segments::update(&db, &w, id, input, ctx.if_match()?).map_err(problem)?;
                    Ok(with_etag(200, &s, s.version))
                }
                (Method::Delete, []) => segments::delete(&db, &w, id).map(|_| Reply::empty(204)).map_err(problem),
                (Method::Get, ["count"]) => {
                    let s = seg()?;
                    let filter = s.filter.clone().unwrap_or_else(|| list_filter(&s.id));
                    Ok(Reply::json(200, &serde_json::json!({"count": count(ctx, &filter)?})))
                }
                // Who is in it now: contacts as the contacts API lists them.
                (Method::Get, ["members"]) => {
                    let s = seg()?;
                    let filter = s.filter.clone().unwrap_or_else(|| list_filter(&s.id));
                    let pairs = edge_http::query::parse(ctx.query());
                    let mut extra = String::new();
                    for k in ["limit", "cursor", "sort"] {
                        if let Some(v) = query::get(&pairs, k) {
                            extra.push_str(&format!("&{k}={}", edge_http::query::encode(v)));
                        }
                    }
                    Ok(Reply::json(200, &contacts(ctx, "", &filter, &extra, false)?))
                }
                (Method::Post, ["members"]) => {
                    #[derive(serde::Deserialize)]
                    #[serde(deny_unknown_fields)]
                    struct Add {
                        contact_ids: Vec<String>,
                    }
                    let a: Add = ctx.body()?;
                    if a.contact_ids.is_empty() || a.contact_ids.len() > 1000 || a.contact_ids.iter().any(|c| !edge_http::ids::is_valid("c", c)) {
                        return Err(Problem::validation(vec![FieldError::new("contact_ids", "1 to 1,000 contact ids")]));
                    }
                    let added = segments::add_members(&db, &w, id, &a.contact_ids).map_err(problem)?;
                    Ok(Reply::json(200, &serde_json::json!({"added": added, "segment": seg()?})))
                }
                (Method::Delete, ["members", contact]) => {
                    seg()?;
                    segments::remove_member(&db, &w, id, contact).map(|_| Reply::empty(204)).map_err(|e| match e.downcast_ref::<edge_db::record::NotFound>() {
                        Some(_) => Problem::not_found("This contact is not on the list"),
                        None => problem(e),
                    })
                }
                _ => Err(not_allowed()),
            }
        }
        _ => Err(not_allowed()),
    }
}
