//! `/api/v1/imports`: CSV import jobs. The browser uploads the file in chunks,
//! reviews the detected format and mapping, then calls `run` repeatedly; each
//! call imports for about a second and answers the progress.

use crate::http::{db, max_records, problem, storage, Ctx};
use contacts_domain::csv::Encoding;
use contacts_domain::fields::Entity;
use contacts_domain::import::Mapping;
use contacts_domain::store::imports::{self, WrongState, CHUNK};
use edge_http::{query, FieldError, Page, Problem, Reply};
use serde::Deserialize;
use spin_sdk::http::Method;
use std::time::Duration;

/// Time one `run` call spends importing.
const RUN_BUDGET: Duration = Duration::from_millis(1500);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewImport {
    entity: Option<String>,
    filename: String,
    size: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingBody {
    #[serde(flatten)]
    mapping: Mapping,
    #[serde(default)]
    encoding: Option<Encoding>,
}

fn job_problem(e: anyhow::Error) -> Problem {
    match e.downcast_ref::<WrongState>() {
        Some(WrongState(m)) => Problem::new(409, "import-state", "Not now", m),
        None => problem(e, "import"),
    }
}

fn job_json(job: &imports::Job) -> serde_json::Value {
    let mut v = serde_json::to_value(job).unwrap_or_default();
    v["progress"] = serde_json::json!(job.progress());
    v["chunk_size"] = serde_json::json!(CHUNK);
    v["chunks"] = serde_json::json!(imports::chunks_expected(job.total_bytes));
    v
}

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let items: Vec<_> = imports::list(&db, 50).map_err(storage)?.iter().map(job_json).collect();
            Ok(Reply::json(200, &Page { items, next_cursor: None }))
        }
        (Method::Post, []) => {
            let body: NewImport = ctx.body()?;
            let entity = match body.entity.as_deref() {
                None | Some("contact") => Entity::Contact,
                Some("company") => Entity::Company,
                Some(_) => return Err(Problem::validation(vec![FieldError::new("entity", "must be `contact` or `company`")])),
            };
            let job = imports::create(&db, &ctx.writer(), entity, &body.filename, body.size).map_err(job_problem)?;
            Ok(Reply::json(201, &job_json(&job)).with_header("location", format!("/api/v1/imports/{}", job.id)))
        }
        (_, []) => Err(Problem::method_not_allowed("GET, POST")),
        (m, [id, tail @ ..]) => {
            let job = imports::get(&db, id).map_err(storage)?.ok_or_else(|| Problem::not_found("No import with this id"))?;
            match (m, tail) {
                (Method::Get, []) => Ok(Reply::json(200, &job_json(&job))),
                (Method::Delete, []) => {
                    imports::delete(&db, &job).map_err(job_problem)?;
                    Ok(Reply::empty(204))
                }
                (Method::Put, ["chunks", n]) => {
                    let n: i64 = n.parse().map_err(|_| Problem::not_found("No such chunk"))?;
                    imports::put_chunk(&db, &job, n, ctx.req.body()).map_err(job_problem)?;
                    Ok(Reply::empty(204))
                }
                (Method::Post, ["complete"]) => {
                    let a = imports::complete_upload(&db, &job).map_err(job_problem)?;
                    let mut v = serde_json::to_value(&a).map_err(storage)?;
                    v["job"] = job_json(&a.job);
                    Ok(Reply::json(200, &v))
                }
                (Method::Put, ["mapping"]) => {
                    let body: MappingBody = ctx.body()?;
                    let job = imports::set_mapping(&db, &job, &body.mapping, body.encoding).map_err(job_problem)?;
                    let preview = imports::preview(&db, &job, 20).map_err(job_problem)?;
                    Ok(Reply::json(200, &serde_json::json!({ "job": job_json(&job), "preview": preview })))
                }
                (Method::Post, ["run"]) => {
                    let job = imports::run(&db, &ctx.writer(), id, RUN_BUDGET, max_records(ctx)).map_err(job_problem)?;
                    Ok(Reply::json(200, &job_json(&job)))
                }
                (Method::Post, ["cancel"]) => {
                    let job = imports::cancel(&db, &job).map_err(job_problem)?;
                    Ok(Reply::json(200, &job_json(&job)))
                }
                (Method::Get, ["errors"]) => {
                    let pairs = query::parse(ctx.query());
                    let after: i64 = query::get(&pairs, "after").and_then(|a| a.parse().ok()).unwrap_or(0);
                    let limit = crate::records::limit(ctx)?;
                    let items = imports::errors(&db, id, after, limit).map_err(storage)?;
                    let next = (items.len() as i64 == limit).then(|| items.last().map(|r| r.row.to_string())).flatten();
                    Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": next })))
                }
                _ => Err(Problem::not_found("No such imports route")),
            }
        }
    }
}
