//! Deals: CRUD, moves on the board, history, export; and the sales reports.

use crate::http::{db, once, pairs, problem, valid_id, with_etag, Ctx};
use edge_http::{query, FieldError, Problem, Reply};
use pipeline_domain::model::{Deal, DealInput};
use pipeline_domain::reports::{self, ReportQuery};
use pipeline_domain::store::deals::{self, DealQuery, Move};
use pipeline_domain::store::settings;
use spin_sdk::http::Method;

const WHAT: &str = "deal";

fn etagged(d: &Deal, status: u16) -> Reply {
    with_etag(status, d, d.version)
}

/// Contacts and companies a deal names must exist and be visible to the
/// caller: asked of the contacts component (its API, not its tables).
fn check_links(ctx: &Ctx, patch: &serde_json::Value, before: Option<&Deal>) -> Result<(), Problem> {
    let mut wanted: Vec<(&str, String, &str)> = Vec::new();
    let known = |id: &str| before.is_some_and(|d| d.contact_id.as_deref() == Some(id) || d.contact_ids.iter().any(|c| c == id) || d.company_id.as_deref() == Some(id));
    if let Some(c) = patch["contact_id"].as_str() {
        wanted.push(("contact_id", c.to_string(), "contacts"));
    }
    for c in patch["contact_ids"].as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
        wanted.push(("contact_ids", c.to_string(), "contacts"));
    }
    if let Some(c) = patch["company_id"].as_str() {
        wanted.push(("company_id", c.to_string(), "companies"));
    }
    let mut errors = Vec::new();
    for (field, id, kind) in wanted.into_iter().filter(|(_, id, _)| !id.is_empty() && !known(id)).take(20) {
        let prefix = if kind == "contacts" { "c" } else { "co" };
        if !edge_http::ids::is_valid(prefix, &id) {
            continue; // validation names the bad shape
        }
        match edge_component::call(ctx, Method::Get, "contacts", &format!("/api/v1/{kind}/{id}"), None, &[], false) {
            Ok((200, _, _)) => {}
            Ok((404, _, _)) => errors.push(FieldError::new(field, "does not name an existing record you can see")),
            Ok((s, _, v)) => return Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts could not check {id} ({s}): {}", v["detail"]))),
            Err(e) => return Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts did not answer: {e}"))),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

fn list_query(ctx: &Ctx) -> Result<DealQuery, Problem> {
    DealQuery::parse(&pairs(ctx)).map_err(Problem::validation)
}

pub fn route(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let vis = ctx.visibility();
    let now = chrono::Utc::now();
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let (items, next_cursor) = deals::list(&db, &list_query(ctx)?, &vis, now).map_err(|e| problem(e, WHAT))?;
            Ok(Reply::json(200, &edge_http::Page { items, next_cursor }))
        }
        (Method::Post, []) => {
            let body = ctx.json()?;
            let input: DealInput = serde_json::from_value(body.clone()).map_err(|e| Problem::bad_request(&format!("The body does not fit: {e}")))?;
            let data = deals::validate(input, &settings::get(&db).map_err(|e| problem(e, WHAT))?).map_err(|e| problem(e, WHAT))?;
            check_links(ctx, &body, None)?;
            once(ctx, &db, || {
                let d = deals::insert(&db, &w, data).map_err(|e| problem(e, WHAT))?;
                Ok(etagged(&d, 201).with_header("location", format!("/api/v1/deals/{}", d.id)))
            })
        }
        (Method::Get, ["export"]) => export(ctx, &db),
        (Method::Post, ["bulk"]) => bulk(ctx, &db),
        (_, [id, tail @ ..]) => {
            valid_id(deals::ID_PREFIX, id, WHAT)?;
            match (ctx.method(), tail) {
                (Method::Get, []) => deals::get(&db, id, &vis, false, now).map_err(|e| problem(e, WHAT))?.map(|d| etagged(&d, 200)).ok_or_else(|| Problem::not_found("No deal with this id")),
                (Method::Patch, []) => {
                    let patch = ctx.json()?;
                    let before = deals::get(&db, id, &vis, false, now).map_err(|e| problem(e, WHAT))?.ok_or_else(|| Problem::not_found("No deal with this id"))?;
                    check_links(ctx, &patch, Some(&before))?;
                    let d = deals::update(&db, &w, id, &patch, ctx.if_match()?, &vis).map_err(|e| problem(e, WHAT))?;
                    Ok(etagged(&d, 200))
                }
                (Method::Delete, []) => deals::delete(&db, &w, id, ctx.if_match()?, &vis).map(|_| Reply::empty(204)).map_err(|e| problem(e, WHAT)),
                (Method::Post, ["restore"]) => deals::restore(&db, &w, id, &vis).map(|d| etagged(&d, 200)).map_err(|e| problem(e, WHAT)),
                (Method::Post, ["move"]) => {
                    let m: Move = ctx.body()?;
                    match deals::move_deal(&db, &w, id, &m, ctx.if_match()?, &vis) {
                        Ok(d) => Ok(etagged(&d, 200)),
                        Err(e) => {
                            let lost_race = e.downcast_ref::<pipeline_domain::store::VersionMismatch>().is_some();
                            let p = problem(e, WHAT);
                            // The loser of a concurrent move sees where the deal is now.
                            match (lost_race, deals::get(&db, id, &vis, false, now)) {
                                (true, Ok(Some(current))) => Err(p.with_extension("current", serde_json::to_value(&current).unwrap_or_default())),
                                _ => Err(p),
                            }
                        }
                    }
                }
                (Method::Get, ["history"]) => {
                    let items = deals::stage_history(&db, id, &vis).map_err(|e| problem(e, WHAT))?;
                    Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": null })))
                }
                _ => Err(Problem::new(405, "method-not-allowed", "Method not allowed", "This resource does not take that method")),
            }
        }
        _ => Err(Problem::new(405, "method-not-allowed", "Method not allowed", "This resource does not take that method")),
    }
}

/// Up to 1,000 deals in one transaction, all or none: migrations from another
/// system, with their `created_at` and `closed_at` kept.
fn bulk(ctx: &Ctx, db: &spin_sdk::sqlite::Connection) -> Result<Reply, Problem> {
    let body = ctx.json()?;
    let Some(items) = body["items"].as_array().filter(|a| !a.is_empty() && a.len() <= 1000) else {
        return Err(Problem::validation(vec![FieldError::new("items", "must list 1 to 1,000 deals")]));
    };
    let settings = settings::get(db).map_err(|e| problem(e, WHAT))?;
    let mut errors = Vec::new();
    let mut ready = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("items[{i}].");
        let mut item = item.clone();
        let dates = deals::Dates::take(&mut item, &prefix, &mut errors);
        let checked = serde_json::from_value::<DealInput>(item.clone()).map_err(|e| vec![FieldError::new(&format!("items[{i}]"), &e.to_string())]).and_then(|d| d.validate(&settings));
        match checked {
            Ok(data) => ready.push((item, data, dates)),
            Err(errs) => errors.extend(errs.into_iter().map(|e| FieldError::new(&format!("{prefix}{}", e.field), &e.message))),
        }
    }
    if !errors.is_empty() {
        errors.truncate(100);
        return Err(Problem::validation(errors));
    }
    // Each distinct linked record is checked once.
    let mut seen = std::collections::HashSet::new();
    for (item, _, _) in &ready {
        let mut links = serde_json::Map::new();
        for k in ["contact_id", "company_id"] {
            if let Some(id) = item[k].as_str().filter(|id| seen.insert(id.to_string())) {
                links.insert(k.into(), id.into());
            }
        }
        let others: Vec<&serde_json::Value> = item["contact_ids"].as_array().into_iter().flatten().filter(|v| v.as_str().is_some_and(|id| seen.insert(id.to_string()))).collect();
        links.insert("contact_ids".into(), serde_json::json!(others));
        check_links(ctx, &serde_json::Value::Object(links), None)?;
    }
    let w = ctx.writer();
    once(ctx, db, || {
        let mut ids = Vec::with_capacity(ready.len());
        for (i, (_, data, dates)) in ready.into_iter().enumerate() {
            let d = deals::insert_dated(db, &w, data, &dates).map_err(|e| {
                let p = problem(e, WHAT);
                Problem { errors: p.errors.into_iter().map(|f| FieldError::new(&format!("items[{i}].{}", f.field), &f.message)).collect(), ..p }
            })?;
            ids.push(d.id);
        }
        Ok(Reply::json(201, &serde_json::json!({ "created": ids.len(), "ids": ids })))
    })
}

/// Every deal of the filtered view, as CSV or JSON (pages of 200 under the hood).
fn export(ctx: &Ctx, db: &spin_sdk::sqlite::Connection) -> Result<Reply, Problem> {
    let pairs = pairs(ctx);
    let format = query::get(&pairs, "format").unwrap_or("csv");
    if format != "csv" && format != "json" {
        return Err(Problem::validation(vec![FieldError::new("format", "must be csv or json")]));
    }
    let mut q = list_query(ctx)?;
    q.limit = 200;
    let now = chrono::Utc::now();
    let mut out = String::new();
    let mut all = Vec::new();
    if format == "csv" {
        out.push_str(&edge_http::csv::row(&deals::EXPORT_HEADER.map(String::from)));
    }
    loop {
        let (items, next) = deals::list(db, &q, &ctx.visibility(), now).map_err(|e| problem(e, WHAT))?;
        for d in items {
            if format == "csv" {
                out.push_str(&edge_http::csv::row(&deals::export_row(&d)));
            } else {
                all.push(d);
            }
        }
        match next {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    let day = chrono::Utc::now().format("%Y-%m-%d");
    if format == "json" {
        return Ok(Reply::json(200, &serde_json::json!({ "items": all })).with_header("content-disposition", format!("attachment; filename=\"deals-{day}.json\"")));
    }
    Ok(Reply { status: 200, headers: vec![("content-type".into(), "text/csv; charset=utf-8".into()), ("content-disposition".into(), format!("attachment; filename=\"deals-{day}.csv\""))], body: out.into_bytes() })
}

pub fn report(ctx: &Ctx, which: &str) -> Result<Reply, Problem> {
    let db = db()?;
    let vis = ctx.visibility();
    let pairs = pairs(ctx);
    let today = chrono::Utc::now().date_naive();
    let bad = Problem::validation;
    let v = match which {
        "forecast" => {
            let q = ReportQuery::parse(&pairs, today, 0, 5).map_err(bad)?;
            serde_json::to_value(reports::forecast(&db, &q, &vis, today).map_err(|e| problem(e, "report"))?)
        }
        "summary" => {
            let q = ReportQuery::parse(&pairs, today, 11, 0).map_err(bad)?;
            serde_json::to_value(reports::summary(&db, &q, &vis).map_err(|e| problem(e, "report"))?)
        }
        "funnel" => {
            let q = ReportQuery::parse(&pairs, today, 11, 0).map_err(bad)?;
            serde_json::to_value(reports::funnel(&db, &q, &vis).map_err(|e| problem(e, "report"))?)
        }
        "attainment" => {
            let default = format!("{}-Q{}", chrono::Datelike::year(&today), (chrono::Datelike::month0(&today) / 3) + 1);
            let period = query::get(&pairs, "period").unwrap_or(&default).to_string();
            let items = reports::attainment(&db, &period, query::get(&pairs, "pipeline_id"), &vis).map_err(|e| problem(e, "report"))?;
            Ok(serde_json::json!({ "period": period, "base_currency": settings::get(&db).map_err(|e| problem(e, "report"))?.base_currency, "items": items }))
        }
        _ => return Err(Problem::not_found("No such report: try forecast, summary, funnel or attainment")),
    };
    Ok(Reply::json(200, &v.map_err(|e| Problem::internal(&e.to_string()))?))
}
