//! `/api/v1/activities`: notes, calls, meetings, emails and tasks.

use crate::http::{db, once, problem, storage, valid_id, with_etag, Ctx};
use crate::records::limit;
use contacts_domain::model::{ActivityInput, ActivityKind};
use contacts_domain::store::activities::{self, ActivityQuery};
use edge_http::{query, FieldError, Page, Problem, Reply};
use spin_sdk::http::Method;

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let what = "activity";
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let pairs = query::parse(ctx.query());
            let get = |k: &str| query::get(&pairs, k).map(str::trim).filter(|v| !v.is_empty()).map(String::from);
            let mut errors = Vec::new();
            let kind = get("kind").and_then(|k| {
                let parsed = ActivityKind::parse(&k);
                if parsed.is_none() {
                    errors.push(FieldError::new("kind", "must be note, call, meeting, email or task"));
                }
                parsed
            });
            let open_tasks_of = get("open_tasks_of").map(|who| if who == "me" { ctx.actor.strip_prefix("user:").unwrap_or("").to_string() } else { who });
            let before = get("cursor").and_then(|c| {
                let decoded = edge_http::ids::decode_cursor(&c).and_then(|s| s.split_once('|').map(|(a, b)| (a.to_string(), b.to_string())));
                if decoded.is_none() {
                    errors.push(FieldError::new("cursor", "is not a cursor this API issued"));
                }
                decoded
            });
            if !errors.is_empty() {
                return Err(Problem::validation(errors));
            }
            let limit = limit(ctx)?;
            let q = ActivityQuery { contact_id: get("contact_id"), company_id: get("company_id"), deal_id: get("deal_id"), kind, open_tasks_of, limit: limit + 1, before };
            let db = db()?;
            let mut items = activities::list(&db, &q, &ctx.visibility()).map_err(storage)?;
            let more = items.len() as i64 > limit;
            items.truncate(limit as usize);
            let next_cursor = (more && q.open_tasks_of.is_none())
                .then(|| items.last().map(|a| edge_http::ids::encode_cursor(&format!("{}|{}", a.occurred_at, a.id))))
                .flatten();
            Ok(Reply::json(200, &Page { items, next_cursor }))
        }
        (Method::Post, []) => {
            let input: ActivityInput = ctx.body()?;
            let data = input.validate().map_err(Problem::validation)?;
            let db = db()?;
            let w = ctx.writer();
            let vis = ctx.visibility();
            once(ctx, &db, || {
                let a = activities::create_in_tx(&db, &w, data, &vis).map_err(|e| problem(e, what))?;
                Ok(with_etag(201, &a, a.version).with_header("location", format!("/api/v1/activities/{}", a.id)))
            })
        }
        (_, []) => Err(Problem::method_not_allowed("GET, POST")),
        (m, [id]) => {
            valid_id(activities::ID_PREFIX, id, what)?;
            let db = db()?;
            let vis = ctx.visibility();
            match m {
                Method::Get => match activities::get(&db, id, &vis).map_err(storage)? {
                    Some(a) => Ok(with_etag(200, &a, a.version)),
                    None => Err(Problem::not_found("No activity with this id")),
                },
                Method::Patch => {
                    let patch = ctx.json()?;
                    let a = activities::update(&db, &ctx.writer(), id, &patch, ctx.if_match()?, &vis).map_err(|e| problem(e, what))?;
                    Ok(with_etag(200, &a, a.version))
                }
                Method::Delete => {
                    activities::delete(&db, &ctx.writer(), id, &vis).map_err(|e| problem(e, what))?;
                    Ok(Reply::empty(204))
                }
                _ => Err(Problem::method_not_allowed("GET, PATCH, DELETE")),
            }
        }
        _ => Err(Problem::not_found("No such activities route")),
    }
}
