//! `/api/v1/custom-fields`: the tenant's custom field definitions. Everyone
//! who works with contacts reads them; owners, admins and managers define them.

use crate::http::{db, problem, storage, Ctx};
use contacts_domain::fields::{Entity, FieldInput};
use contacts_domain::store::fields;
use edge_http::{query, Page, Problem, Reply};
use spin_sdk::http::Method;

fn may_define(ctx: &Ctx) -> Result<(), Problem> {
    if matches!(ctx.role().as_str(), "owner" | "admin" | "manager") {
        Ok(())
    } else {
        Err(Problem::new(403, "forbidden", "Forbidden", "Only owners, admins and managers define custom fields"))
    }
}

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let what = "custom field";
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let entity = match query::get(&query::parse(ctx.query()), "entity") {
                None | Some("") => None,
                Some(e) => Some(Entity::parse(e).ok_or_else(|| Problem::validation(vec![edge_http::FieldError::new("entity", "must be `contact` or `company`")]))?),
            };
            let items = fields::list(&db()?, entity).map_err(storage)?;
            Ok(Reply::json(200, &Page { items, next_cursor: None }))
        }
        (Method::Post, []) => {
            may_define(ctx)?;
            let input: FieldInput = ctx.body()?;
            let def = input.validate_new().map_err(Problem::validation)?;
            let def = fields::create(&db()?, &ctx.writer(), def).map_err(|e| problem(e, what))?;
            Ok(Reply::json(201, &def).with_header("location", format!("/api/v1/custom-fields/{}", def.id)))
        }
        (_, []) => Err(Problem::method_not_allowed("GET, POST")),
        (m, [id]) => {
            let db = db()?;
            let before = fields::get(&db, id).map_err(storage)?.ok_or_else(|| Problem::not_found("No custom field with this id"))?;
            match m {
                Method::Get => Ok(Reply::json(200, &before)),
                Method::Patch => {
                    may_define(ctx)?;
                    let input: FieldInput = ctx.body()?;
                    let mut after = before.clone();
                    input.apply(&mut after).map_err(Problem::validation)?;
                    fields::update(&db, &ctx.writer(), &before, &after).map_err(|e| problem(e, what))?;
                    Ok(Reply::json(200, &after))
                }
                Method::Delete => {
                    may_define(ctx)?;
                    fields::archive(&db, &ctx.writer(), &before).map_err(|e| problem(e, what))?;
                    Ok(Reply::empty(204))
                }
                _ => Err(Problem::method_not_allowed("GET, PATCH, DELETE")),
            }
        }
        _ => Err(Problem::not_found("No such custom-fields route")),
    }
}
