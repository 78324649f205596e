//! Staff and integrations: `/api/v1/orders`.

use crate::http::{db, once, problem, resolve_customer, valid_id, with_etag, Ctx};
use edge_http::{query, FieldError, Problem, Reply};
use portal_domain::model::{Order, OrderInput};
use portal_domain::store::orders;
use spin_sdk::http::Method;

const WHAT: &str = "order";

fn etagged(o: &Order, status: u16) -> Reply {
    with_etag(status, o, o.version)
}

fn input(ctx: &Ctx) -> Result<portal_domain::model::OrderData, Problem> {
    let mut body = ctx.json()?;
    resolve_customer(ctx, &mut body)?;
    let i: OrderInput = serde_json::from_value(body).map_err(|e| Problem::bad_request(&format!("The body does not fit: {e}")))?;
    i.validate().map_err(Problem::validation)
}

pub fn with_history(db: &spin_sdk::sqlite::Connection, o: &Order) -> Result<serde_json::Value, Problem> {
    let mut v = serde_json::to_value(o).map_err(|e| Problem::internal(&e.to_string()))?;
    v["history"] = serde_json::to_value(orders::history(db, &o.id).map_err(|e| problem(e, WHAT))?).unwrap_or_default();
    Ok(v)
}

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let pairs = edge_http::query::parse(ctx.query());
            let get = |k: &str| query::get(&pairs, k).filter(|v| !v.is_empty());
            let limit = match get("limit").map(str::parse::<i64>) {
                None => 50,
                Some(Ok(n)) if (1..=200).contains(&n) => n,
                Some(_) => return Err(Problem::validation(vec![FieldError::new("limit", "must be from 1 to 200")])),
            };
            if get("status").is_some_and(|s| !portal_domain::model::STATUSES.contains(&s)) {
                return Err(Problem::validation(vec![FieldError::new("status", "must be placed, paid, shipped, delivered, cancelled or returned")]));
            }
            let cursor = get("cursor").map(|c| edge_http::ids::decode_cursor(c).ok_or_else(|| Problem::validation(vec![FieldError::new("cursor", "is not a cursor this API issued")]))).transpose()?;
            let (items, next) = orders::list(&db, get("contact_id"), get("status"), get("number"), cursor.as_deref(), limit).map_err(|e| problem(e, WHAT))?;
            Ok(Reply::json(200, &edge_http::Page { items, next_cursor: next.map(|n| edge_http::ids::encode_cursor(&n)) }))
        }
        (Method::Post, []) => {
            let data = input(ctx)?;
            once(ctx, &db, || {
                let o = orders::insert(&db, &w, data).map_err(|e| problem(e, WHAT))?;
                Ok(etagged(&o, 201).with_header("location", format!("/api/v1/orders/{}", o.id)))
            })
        }
        (Method::Get, ["summary"]) => {
            let pairs = edge_http::query::parse(ctx.query());
            let contact = query::get(&pairs, "contact_id").filter(|c| edge_http::ids::is_valid("c", c)).ok_or_else(|| Problem::validation(vec![FieldError::new("contact_id", "is required")]))?;
            Ok(Reply::json(200, &orders::customer_value(&db, contact).map_err(|e| problem(e, WHAT))?))
        }
        // The shop's or ERP's upsert: the same order sent twice changes nothing.
        (Method::Put, ["by-external-id", external]) => {
            let data = input(ctx)?;
            let external = edge_http::query::decode(external);
            once(ctx, &db, || {
                let (o, created, _) = orders::upsert(&db, &w, &external, data).map_err(|e| problem(e, WHAT))?;
                Ok(etagged(&o, if created { 201 } else { 200 }))
            })
        }
        (_, [id, tail @ ..]) => {
            valid_id(orders::ID_PREFIX, id, WHAT)?;
            match (ctx.method(), tail) {
                (Method::Get, []) => {
                    let o = orders::get(&db, id, None).map_err(|e| problem(e, WHAT))?.ok_or_else(|| Problem::not_found("No order with this id"))?;
                    Ok(with_etag(200, &with_history(&db, &o)?, o.version))
                }
                (Method::Put, []) => {
                    let data = input(ctx)?;
                    let if_match = ctx.if_match()?;
                    once(ctx, &db, || {
                        let before = orders::get(&db, id, None).map_err(|e| problem(e, WHAT))?.ok_or_else(|| Problem::not_found("No order with this id"))?;
                        let (o, _) = orders::replace(&db, &w, &before, data, if_match).map_err(|e| problem(e, WHAT))?;
                        Ok(etagged(&o, 200))
                    })
                }
                (Method::Post, ["status"]) => {
                    #[derive(serde::Deserialize)]
                    #[serde(deny_unknown_fields)]
                    struct Move {
                        status: String,
                        note: Option<String>,
                        carrier: Option<String>,
                        tracking_number: Option<String>,
                    }
                    let m: Move = ctx.body()?;
                    let if_match = ctx.if_match()?;
                    once(ctx, &db, || {
                        let o = orders::set_status(&db, &w, id, m.status.trim(), m.note.as_deref(), m.carrier.as_deref(), m.tracking_number.as_deref(), if_match).map_err(|e| problem(e, WHAT))?;
                        Ok(etagged(&o, 200))
                    })
                }
                _ => Err(Problem::new(405, "method-not-allowed", "Method not allowed", "This resource does not take that method")),
            }
        }
        _ => Err(Problem::new(405, "method-not-allowed", "Method not allowed", "This resource does not take that method")),
    }
}
