//! `/api/v1/contacts` and `/api/v1/companies`: lists with filters and search,
//! counts, create, read, update (If-Match), trash, restore, purge, timelines.

use crate::http::{db, max_records, once, problem, storage, valid_id, with_etag, Ctx};
use contacts_domain::fields::Entity;
use contacts_domain::model::{CompanyInput, ContactInput};
use contacts_domain::store::{self, activities, companies, contacts, fields, merges};
use contacts_domain::ListQuery;
use edge_http::{query, Page, Problem, Reply};
use spin_sdk::http::Method;

/// Counts stop here: beyond it the UI says "10,000+".
const COUNT_CAP: i64 = 10_000;

fn list_query(ctx: &Ctx) -> Result<ListQuery, Problem> {
    ListQuery::parse(ctx.query()).map_err(Problem::validation)
}

pub fn contacts(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let what = "contact";
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let db = db()?;
            let q = list_query(ctx)?;
            let defs = list_defs(&db, &q, Entity::Contact)?;
            let (items, next_cursor) = contacts::list_json(&db, &q, &ctx.visibility(), &defs).map_err(|e| problem(e, what))?;
            Ok(Reply::json_page(&items, next_cursor.as_deref()))
        }
        (Method::Post, []) => {
            let input: ContactInput = ctx.body()?;
            let db = db()?;
            let defs = fields::list(&db, Some(Entity::Contact)).map_err(storage)?;
            let data = input.validate(&defs).map_err(Problem::validation)?;
            let w = ctx.writer();
            once(ctx, &db, || {
                let c = contacts::insert_in_tx(&db, &w, data, max_records(ctx)).map_err(|e| problem(e, what))?;
                Ok(with_etag(201, &c, c.version).with_header("location", format!("/api/v1/contacts/{}", c.id)))
            })
        }
        (Method::Get, ["count"]) => count(ctx, Entity::Contact),
        (Method::Get, ["export"]) => export(ctx, Entity::Contact),
        (Method::Get, ["duplicates"]) => {
            let pairs = query::parse(ctx.query());
            let reason = query::get(&pairs, "reason").unwrap_or("email");
            let after = query::get(&pairs, "after").unwrap_or("");
            let db = db()?;
            let vis = ctx.visibility();
            let per = limit(ctx)?.min(50);
            let groups = merges::groups(&db, reason, after, per, &vis).map_err(|e| problem(e, what))?;
            let next = (groups.len() as i64 == per).then(|| groups.last().map(|g| g.key.clone())).flatten();
            let mut items = Vec::new();
            for g in groups {
                let contacts = contacts::get_many(&db, &g.contact_ids).map_err(storage)?;
                items.push(serde_json::json!({ "reason": g.reason, "key": g.key, "contacts": contacts }));
            }
            Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": next })))
        }
        (Method::Post, ["merge"]) => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct MergeBody {
                primary_id: String,
                merged_ids: Vec<String>,
                #[serde(default)]
                fields: std::collections::BTreeMap<String, String>,
            }
            let body: MergeBody = ctx.body()?;
            let db = db()?;
            let defs = fields::list(&db, Some(Entity::Contact)).map_err(storage)?;
            let (merge, contact) = merges::merge(&db, &ctx.writer(), &body.primary_id, &body.merged_ids, &body.fields, &ctx.visibility(), &defs).map_err(|e| problem(e, what))?;
            Ok(with_etag(200, &serde_json::json!({ "merge": merge, "contact": contact }), contact.version))
        }
        (Method::Get, ["merges"]) => {
            let pairs = query::parse(ctx.query());
            let items = merges::list(&db()?, query::get(&pairs, "primary_id"), limit(ctx)?).map_err(storage)?;
            Ok(Reply::json(200, &Page { items, next_cursor: None }))
        }
        (Method::Post, ["merges", id, "undo"]) => {
            let c = merges::undo(&db()?, &ctx.writer(), id, &ctx.visibility(), max_records(ctx)).map_err(|e| problem(e, "merge"))?;
            Ok(with_etag(200, &c, c.version))
        }
        (_, []) | (_, ["count"]) | (_, ["export"]) => Err(Problem::method_not_allowed("GET, POST")),
        (m, [id, tail @ ..]) => {
            valid_id(contacts_domain::ID_PREFIX, id, what)?;
            let db = db()?;
            let vis = ctx.visibility();
            match (m, tail) {
                (Method::Get, []) => match contacts::get(&db, id, &vis, flag(ctx, "view", "trash")).map_err(storage)? {
                    Some(c) => Ok(with_etag(200, &c, c.version)),
                    None => match contacts::merged_into(&db, id).map_err(storage)? {
                        // Old links to a merged contact lead to the one it became.
                        Some(into) => Err(Problem::new(404, "merged", "Merged", &format!("This contact was merged into {into}"))),
                        None => Err(Problem::not_found("No contact with this id")),
                    },
                },
                (Method::Patch, []) => {
                    let patch = ctx.json()?;
                    let defs = fields::list(&db, Some(Entity::Contact)).map_err(storage)?;
                    let c = contacts::update(&db, &ctx.writer(), id, &patch, ctx.if_match()?, &vis, &defs).map_err(|e| problem(e, what))?;
                    Ok(with_etag(200, &c, c.version))
                }
                (Method::Delete, []) => {
                    if flag(ctx, "purge", "true") {
                        contacts::purge(&db, &ctx.writer(), id, &vis).map_err(|e| problem(e, what))?;
                    } else {
                        contacts::delete(&db, &ctx.writer(), id, &vis).map_err(|e| problem(e, what))?;
                    }
                    Ok(Reply::empty(204))
                }
                (Method::Post, ["restore"]) => {
                    let c = contacts::restore(&db, &ctx.writer(), id, &vis, max_records(ctx)).map_err(|e| problem(e, what))?;
                    Ok(with_etag(200, &c, c.version))
                }
                (Method::Get, ["summary"]) => {
                    let c = contacts::get(&db, id, &vis, false).map_err(storage)?.ok_or_else(|| Problem::not_found("No contact with this id"))?;
                    let q = activities::ActivityQuery { contact_id: Some(id.to_string()), limit: 200, ..Default::default() };
                    let acts = activities::list(&db, &q, &vis).map_err(storage)?;
                    let mut open: Vec<_> = acts.iter().filter(|a| a.kind == contacts_domain::model::ActivityKind::Task && a.done_at.is_none()).collect();
                    open.sort_by(|a, b| (a.due_at.is_none(), &a.due_at).cmp(&(b.due_at.is_none(), &b.due_at)));
                    let last_contact = acts.iter().filter(|a| a.kind != contacts_domain::model::ActivityKind::Task && a.kind != contacts_domain::model::ActivityKind::Note).map(|a| a.occurred_at.clone()).max();
                    let companies_of = companies::cards(&db, &c.company_ids, &vis).map_err(storage)?;
                    let dupes = merges::duplicates_of(&db, id, &vis).map_err(storage)?.len();
                    Ok(Reply::json(200, &serde_json::json!({
                        "contact_id": id, "next_task": open.first(), "open_tasks": open.len(), "activities": acts.len(),
                        "last_activity_at": c.last_activity_at, "last_contacted_at": last_contact, "companies": companies_of,
                        "possible_duplicates": dupes,
                    })))
                }
                (Method::Get, ["duplicates"]) => {
                    let items = merges::duplicates_of(&db, id, &vis).map_err(|e| problem(e, what))?;
                    Ok(Reply::json(200, &Page { items, next_cursor: None }))
                }
                (Method::Get, ["timeline"]) => {
                    contacts::get(&db, id, &vis, false).map_err(storage)?.ok_or_else(|| Problem::not_found("No contact with this id"))?;
                    let pairs = query::parse(ctx.query());
                    let per = limit(ctx)?;
                    let after = timeline_cursor(&pairs)?;
                    let items = activities::timeline(&db, "contact", id, per, after.as_deref(), &vis).map_err(storage)?;
                    let next = (items.len() as i64 == per).then(|| items.last().map(|e| edge_http::ids::encode_cursor(&e.cursor()))).flatten();
                    Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": next })))
                }
                (_, []) => Err(Problem::method_not_allowed("GET, PATCH, DELETE")),
                _ => Err(Problem::not_found("No such contacts route")),
            }
        }
    }
}

pub fn companies(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let what = "company";
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let db = db()?;
            let q = list_query(ctx)?;
            let defs = list_defs(&db, &q, Entity::Company)?;
            let (items, next_cursor) = companies::list(&db, &q, &ctx.visibility(), &defs).map_err(|e| problem(e, what))?;
            Ok(Reply::json(200, &Page { items, next_cursor }))
        }
        (Method::Post, []) => {
            let input: CompanyInput = ctx.body()?;
            let db = db()?;
            let defs = fields::list(&db, Some(Entity::Company)).map_err(storage)?;
            let data = input.validate(&defs).map_err(Problem::validation)?;
            let w = ctx.writer();
            once(ctx, &db, || {
                let c = companies::insert_in_tx(&db, &w, data).map_err(|e| problem(e, what))?;
                Ok(with_etag(201, &c, c.version).with_header("location", format!("/api/v1/companies/{}", c.id)))
            })
        }
        (Method::Get, ["count"]) => count(ctx, Entity::Company),
        (Method::Get, ["export"]) => export(ctx, Entity::Company),
        (_, []) | (_, ["count"]) | (_, ["export"]) => Err(Problem::method_not_allowed("GET, POST")),
        (m, [id, tail @ ..]) => {
            valid_id(companies::ID_PREFIX, id, what)?;
            let db = db()?;
            let vis = ctx.visibility();
            match (m, tail) {
                (Method::Get, []) => match companies::get(&db, id, &vis, flag(ctx, "view", "trash")).map_err(storage)? {
                    Some(c) => Ok(with_etag(200, &c, c.version)),
                    None => Err(Problem::not_found("No company with this id")),
                },
                (Method::Patch, []) => {
                    let patch = ctx.json()?;
                    let defs = fields::list(&db, Some(Entity::Company)).map_err(storage)?;
                    let c = companies::update(&db, &ctx.writer(), id, &patch, ctx.if_match()?, &vis, &defs).map_err(|e| problem(e, what))?;
                    Ok(with_etag(200, &c, c.version))
                }
                (Method::Delete, []) => {
                    if flag(ctx, "purge", "true") {
                        companies::purge(&db, &ctx.writer(), id, &vis).map_err(|e| problem(e, what))?;
                    } else {
                        companies::delete(&db, &ctx.writer(), id, &vis).map_err(|e| problem(e, what))?;
                    }
                    Ok(Reply::empty(204))
                }
                (Method::Post, ["restore"]) => {
                    let c = companies::restore(&db, &ctx.writer(), id, &vis).map_err(|e| problem(e, what))?;
                    Ok(with_etag(200, &c, c.version))
                }
                (Method::Get, ["contacts"]) => {
                    companies::get(&db, id, &vis, false).map_err(storage)?.ok_or_else(|| Problem::not_found("No company with this id"))?;
                    let ids = companies::contact_ids(&db, id, limit(ctx)?).map_err(storage)?;
                    let items = contacts::cards(&db, &ids, &vis).map_err(storage)?;
                    Ok(Reply::json(200, &Page { items, next_cursor: None }))
                }
                (Method::Get, ["timeline"]) => {
                    companies::get(&db, id, &vis, false).map_err(storage)?.ok_or_else(|| Problem::not_found("No company with this id"))?;
                    let pairs = query::parse(ctx.query());
                    let per = limit(ctx)?;
                    let after = timeline_cursor(&pairs)?;
                    let items = activities::timeline(&db, "company", id, per, after.as_deref(), &vis).map_err(storage)?;
                    let next = (items.len() as i64 == per).then(|| items.last().map(|e| edge_http::ids::encode_cursor(&e.cursor()))).flatten();
                    Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": next })))
                }
                (_, []) => Err(Problem::method_not_allowed("GET, PATCH, DELETE")),
                _ => Err(Problem::not_found("No such companies route")),
            }
        }
    }
}

/// Rows per export page (the client follows `x-next-cursor`).
const EXPORT_PAGE: u32 = 5000;

/// One page of a view as CSV (header row on the first page) or JSON;
/// `x-next-cursor` names the next page.
fn export(ctx: &Ctx, entity: Entity) -> Result<Reply, Problem> {
    use contacts_domain::export as x;
    let pairs = query::parse(ctx.query());
    let csv = match query::get(&pairs, "format") {
        None | Some("") | Some("csv") => true,
        Some("json") => false,
        Some(_) => return Err(Problem::validation(vec![edge_http::FieldError::new("format", "must be csv or json")])),
    };
    let mut q = ListQuery::from_pairs(&pairs).map_err(Problem::validation)?;
    if query::get(&pairs, "limit").is_none() {
        q.limit = EXPORT_PAGE;
    }
    q.limit = q.limit.min(EXPORT_PAGE);
    let first = q.after.is_none();
    let db = db()?;
    let defs = fields::list(&db, Some(entity)).map_err(storage)?;
    let vis = ctx.visibility();
    let (body, next) = match entity {
        Entity::Contact => {
            let (items, next) = contacts::list(&db, &q, &vis, &defs).map_err(|e| problem(e, "contact"))?;
            if csv {
                let mut out = if first { x::contact_header(&defs) } else { String::new() };
                items.iter().for_each(|c| out.push_str(&x::contact_row(c, &defs)));
                (out, next)
            } else {
                (serde_json::to_string(&Page { items, next_cursor: next.clone() }).map_err(storage)?, next)
            }
        }
        Entity::Company => {
            let (items, next) = companies::list(&db, &q, &vis, &defs).map_err(|e| problem(e, "company"))?;
            if csv {
                let mut out = if first { x::company_header(&defs) } else { String::new() };
                items.iter().for_each(|c| out.push_str(&x::company_row(c, &defs)));
                (out, next)
            } else {
                (serde_json::to_string(&Page { items, next_cursor: next.clone() }).map_err(storage)?, next)
            }
        }
    };
    let mut reply = Reply {
        status: 200,
        headers: vec![("content-type".into(), if csv { "text/csv; charset=utf-8" } else { "application/json" }.into())],
        body: body.into_bytes(),
    };
    if csv {
        reply = reply.with_header("content-disposition", format!("attachment; filename=\"{}s.csv\"", entity.as_str()));
    }
    if let Some(n) = next {
        reply = reply.with_header("x-next-cursor", n);
    }
    Ok(reply)
}

/// Custom field definitions, read only when the list's filter or sort names one
/// (most list requests do not: one query saved per page).
fn list_defs(db: &spin_sdk::sqlite::Connection, q: &ListQuery, entity: Entity) -> Result<Vec<contacts_domain::fields::FieldDef>, Problem> {
    let names_custom = q.sort.as_deref().is_some_and(|s| s.contains("custom.")) || q.filter.as_ref().is_some_and(|f| format!("{f:?}").contains("custom."));
    if names_custom {
        fields::list(db, Some(entity)).map_err(storage)
    } else {
        Ok(Vec::new())
    }
}

fn count(ctx: &Ctx, entity: Entity) -> Result<Reply, Problem> {
    let db = db()?;
    let q = list_query(ctx)?;
    let defs = list_defs(&db, &q, entity)?;
    // `exact=true` (segments: a marketer wants the real audience) counts everything.
    let cap = if flag(ctx, "exact", "true") { i64::MAX - 1 } else { COUNT_CAP };
    let (count, more) = store::count(&db, entity, &q, &ctx.visibility(), &defs, cap).map_err(|e| problem(e, entity.as_str()))?;
    Ok(Reply::json(200, &serde_json::json!({ "count": count, "more": more })))
}

/// Whether the query string says `key=value` (`view=trash`, `purge=true`).
fn flag(ctx: &Ctx, key: &str, value: &str) -> bool {
    query::get(&query::parse(ctx.query()), key) == Some(value)
}

/// A timeline page cursor (opaque to clients).
fn timeline_cursor(pairs: &[(String, String)]) -> Result<Option<String>, Problem> {
    match query::get(pairs, "cursor").filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => edge_http::ids::decode_cursor(c)
            .filter(|d| d.contains('|'))
            .map(Some)
            .ok_or_else(|| Problem::validation(vec![edge_http::FieldError::new("cursor", "is not a cursor this API issued")])),
    }
}

pub fn limit(ctx: &Ctx) -> Result<i64, Problem> {
    match query::get(&query::parse(ctx.query()), "limit") {
        None | Some("") => Ok(50),
        Some(s) => s.parse::<i64>().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| Problem::validation(vec![edge_http::FieldError::new("limit", "must be a whole number from 1 to 200")])),
    }
}
