//! `/api/v1/search?q=`: the global search box. Contacts, companies and notes,
//! each ranked (bm25 over a bounded candidate set) and grouped by type.

use crate::http::{db, storage, Ctx};
use contacts_domain::store::{activities, companies, contacts, search};
use edge_http::{query, FieldError, Problem, Reply};

pub fn route(ctx: &Ctx) -> Result<Reply, Problem> {
    let pairs = query::parse(ctx.query());
    let q = query::get(&pairs, "q").unwrap_or("").trim().to_string();
    if q.chars().count() > 200 {
        return Err(Problem::validation(vec![FieldError::new("q", "must be at most 200 characters")]));
    }
    let per = match query::get(&pairs, "limit") {
        None | Some("") => 5,
        Some(s) => s.parse::<usize>().ok().filter(|n| (1..=50).contains(n)).ok_or_else(|| Problem::validation(vec![FieldError::new("limit", "must be from 1 to 50")]))?,
    };
    let db = db()?;
    let vis = ctx.visibility();
    let mut out = serde_json::json!({ "q": q, "contacts": [], "companies": [], "notes": [] });
    if search::terms(&q).is_none() {
        return Ok(Reply::json(200, &out));
    }
    let ids = search::find(&db, "contact", &q, &vis, per).map_err(storage)?;
    out["contacts"] = serde_json::to_value(contacts::cards(&db, &ids, &vis).map_err(storage)?).map_err(storage)?;
    let ids = search::find(&db, "company", &q, &vis, per).map_err(storage)?;
    out["companies"] = serde_json::to_value(companies::cards(&db, &ids, &vis).map_err(storage)?).map_err(storage)?;
    let ids = search::find(&db, "note", &q, &vis, per).map_err(storage)?;
    let found: Vec<_> = ids.iter().filter_map(|id| activities::get(&db, id, &vis).ok().flatten()).collect();
    // What each note is on, so the result can say so (one query per kind).
    let on_contacts: Vec<String> = found.iter().filter_map(|a| a.contact_id.clone()).collect();
    let on_companies: Vec<String> = found.iter().filter_map(|a| a.company_id.clone()).collect();
    let people = contacts::cards(&db, &on_contacts, &vis).map_err(storage)?;
    let firms = companies::cards(&db, &on_companies, &vis).map_err(storage)?;
    let mut notes = Vec::new();
    for a in found {
        let mut v = serde_json::to_value(&a).map_err(storage)?;
        if let Some(c) = people.iter().find(|c| Some(&c.id) == a.contact_id.as_ref()) {
            v["contact_name"] = c.display_name().into();
        }
        if let Some(c) = firms.iter().find(|c| Some(&c.id) == a.company_id.as_ref()) {
            v["company_name"] = c.name.clone().into();
        }
        notes.push(v);
    }
    out["notes"] = serde_json::Value::Array(notes);
    Ok(Reply::json(200, &out))
}
