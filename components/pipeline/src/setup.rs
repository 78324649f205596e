//! Pipelines and stages, settings, exchange rates and quotas.

use crate::http::{db, pairs, problem, valid_id, with_etag, Ctx};
use edge_http::{query, Problem, Reply};
use pipeline_domain::model::StageInput;
use pipeline_domain::store::deals::Filters;
use pipeline_domain::store::{deals, pipelines, settings};
use spin_sdk::http::Method;

fn method_not_allowed() -> Problem {
    Problem::new(405, "method-not-allowed", "Method not allowed", "This resource does not take that method")
}

pub fn pipelines(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let what = "pipeline";
    let with = |p: pipeline_domain::model::Pipeline, status: u16| {
        let v = p.version;
        with_etag(status, &p, v)
    };
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let items = pipelines::list(&db).map_err(|e| problem(e, what))?;
            Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": null })))
        }
        (Method::Post, []) => {
            let input = ctx.body()?;
            pipelines::create(&db, &w, input).map(|p| with(p, 201)).map_err(|e| problem(e, what))
        }
        (_, [id, tail @ ..]) => {
            valid_id(pipelines::ID_PREFIX, id, what)?;
            match (ctx.method(), tail) {
                (Method::Get, []) => pipelines::get(&db, id).map_err(|e| problem(e, what))?.map(|p| with(p, 200)).ok_or_else(|| Problem::not_found("No pipeline with this id")),
                (Method::Patch, []) => pipelines::update(&db, &w, id, ctx.body()?, ctx.if_match()?).map(|p| with(p, 200)).map_err(|e| problem(e, what)),
                (Method::Delete, []) => pipelines::delete(&db, &w, id).map(|_| Reply::empty(204)).map_err(|e| problem(e, what)),
                (Method::Get, ["board"]) => {
                    let pairs = pairs(ctx);
                    let mut errors = Vec::new();
                    let filters = Filters::parse(&pairs, &mut errors);
                    let per_stage = match query::get(&pairs, "per_stage").map(str::parse::<i64>) {
                        None => 50,
                        Some(Ok(n)) if (1..=200).contains(&n) => n,
                        Some(_) => {
                            errors.push(edge_http::FieldError::new("per_stage", "must be from 1 to 200"));
                            50
                        }
                    };
                    if !errors.is_empty() {
                        return Err(Problem::validation(errors));
                    }
                    let b = deals::board(&db, id, &filters, per_stage, &ctx.visibility(), chrono::Utc::now()).map_err(|e| problem(e, what))?;
                    Ok(Reply::json(200, &b))
                }
                (Method::Post, ["stages"]) => {
                    let input: StageInput = ctx.body()?;
                    pipelines::add_stage(&db, &w, id, input, ctx.if_match()?).map(|p| with(p, 201)).map_err(|e| problem(e, what))
                }
                (Method::Patch, ["stages", sid]) => {
                    valid_id(pipelines::STAGE_PREFIX, sid, "stage")?;
                    pipelines::update_stage(&db, &w, id, sid, &ctx.json()?, ctx.if_match()?).map(|p| with(p, 200)).map_err(|e| problem(e, "stage"))
                }
                (Method::Delete, ["stages", sid]) => {
                    valid_id(pipelines::STAGE_PREFIX, sid, "stage")?;
                    pipelines::remove_stage(&db, &w, id, sid, ctx.if_match()?).map(|p| with(p, 200)).map_err(|e| problem(e, "stage"))
                }
                (Method::Put, ["stage-order"]) => {
                    #[derive(serde::Deserialize)]
                    #[serde(deny_unknown_fields)]
                    struct Order {
                        stage_ids: Vec<String>,
                    }
                    let o: Order = ctx.body()?;
                    pipelines::reorder(&db, &w, id, &o.stage_ids, ctx.if_match()?).map(|p| with(p, 200)).map_err(|e| problem(e, what))
                }
                (_, [] | ["board"] | ["stages", ..] | ["stage-order"]) => Err(method_not_allowed()),
                _ => Err(Problem::not_found("No such resource")),
            }
        }
        _ => Err(method_not_allowed()),
    }
}

pub fn settings(ctx: &Ctx) -> Result<Reply, Problem> {
    let db = db()?;
    let what = "settings";
    match ctx.method() {
        Method::Get => settings::get(&db).map(|s| {
            let v = s.version;
            with_etag(200, &s, v)
        }).map_err(|e| problem(e, what)),
        Method::Put | Method::Patch => {
            let s = settings::update(&db, &ctx.writer(), ctx.body()?, ctx.if_match()?).map_err(|e| problem(e, what))?;
            let v = s.version;
            Ok(with_etag(200, &s, v))
        }
        _ => Err(method_not_allowed()),
    }
}

pub fn rates(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let what = "exchange rate";
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let items = settings::rates(&db).map_err(|e| problem(e, what))?;
            Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": null })))
        }
        (Method::Post | Method::Put, []) => settings::put_rate(&db, &ctx.writer(), ctx.body()?).map(|r| Reply::json(201, &r)).map_err(|e| problem(e, what)),
        (Method::Delete, [currency, day]) => settings::delete_rate(&db, &ctx.writer(), currency, day).map(|_| Reply::empty(204)).map_err(|e| problem(e, what)),
        _ => Err(method_not_allowed()),
    }
}

pub fn quotas(ctx: &Ctx) -> Result<Reply, Problem> {
    let db = db()?;
    let what = "quota";
    match ctx.method() {
        Method::Get => {
            let pairs = pairs(ctx);
            let items = settings::quotas(&db, query::get(&pairs, "period")).map_err(|e| problem(e, what))?;
            Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": null })))
        }
        Method::Put => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Items {
                items: Vec<settings::Quota>,
            }
            let i: Items = ctx.body()?;
            let items = settings::put_quotas(&db, &ctx.writer(), i.items).map_err(|e| problem(e, what))?;
            Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": null })))
        }
        _ => Err(method_not_allowed()),
    }
}
