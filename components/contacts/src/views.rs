//! `/api/v1/views`: saved list views, the caller's own and the shared ones.

use crate::http::{db, problem, storage, Ctx};
use contacts_domain::fields::Entity;
use contacts_domain::store::views::{self, NotAllowed, ViewInput};
use contacts_domain::store::fields;
use edge_http::{query, Page, Problem, Reply};
use spin_sdk::http::Method;

fn may_share(ctx: &Ctx) -> bool {
    matches!(ctx.role().as_str(), "owner" | "admin" | "manager" | "api-key")
}

fn view_problem(e: anyhow::Error) -> Problem {
    if e.downcast_ref::<NotAllowed>().is_some() {
        return Problem::new(403, "forbidden", "Forbidden", &e.to_string());
    }
    problem(e, "view")
}

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let user = w.user_id();
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let entity = match query::get(&query::parse(ctx.query()), "entity") {
                None | Some("") | Some("contact") => Entity::Contact,
                Some("company") => Entity::Company,
                Some(_) => return Err(Problem::validation(vec![edge_http::FieldError::new("entity", "must be contact or company")])),
            };
            let items = views::list(&db, entity, user.as_deref()).map_err(storage)?;
            Ok(Reply::json(200, &Page { items, next_cursor: None }))
        }
        (Method::Post, []) => {
            let input: ViewInput = ctx.body()?;
            let v = views::create(&db, &w, input, may_share(ctx), |e| fields::list(&db, Some(e))).map_err(view_problem)?;
            Ok(Reply::json(201, &v).with_header("location", format!("/api/v1/views/{}", v.id)))
        }
        (_, []) => Err(Problem::method_not_allowed("GET, POST")),
        (m, [id]) => match m {
            Method::Get => views::get(&db, id, user.as_deref()).map_err(storage)?.map(|v| Reply::json(200, &v)).ok_or_else(|| Problem::not_found("No view with this id")),
            Method::Patch => {
                let input: ViewInput = ctx.body()?;
                let entity = views::get(&db, id, user.as_deref()).map_err(storage)?.ok_or_else(|| Problem::not_found("No view with this id"))?.entity;
                let defs = fields::list(&db, Some(entity)).map_err(storage)?;
                let v = views::update(&db, &w, id, input, may_share(ctx), &defs).map_err(view_problem)?;
                Ok(Reply::json(200, &v))
            }
            Method::Delete => {
                views::delete(&db, &w, id, may_share(ctx)).map_err(view_problem)?;
                Ok(Reply::empty(204))
            }
            _ => Err(Problem::method_not_allowed("GET, PATCH, DELETE")),
        },
        _ => Err(Problem::not_found("No such views route")),
    }
}
