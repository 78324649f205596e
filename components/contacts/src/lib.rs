//! The contacts component: a thin HTTP adapter over `contacts-domain`, storing
//! in the tenant's SQLite database (which the platform binds to `default`).
//! Routes: contacts, companies, activities, custom fields, tags and search.

mod activities;
mod fields;
mod http;
mod imports;
mod records;
mod search;
mod views;

/// Talc instead of the default dlmalloc: an import allocates and frees a few
/// dozen strings per row, and dlmalloc's free was 8% of its CPU.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use edge_http::{query, Problem, Reply};
use http::{db, storage, Ctx};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

/// Work on a search index rebuild per tick (well inside the request time limit)
/// and per `/internal/migrate` (which other components call too: kept short).
const REBUILD_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);
const MIGRATE_REBUILD_BUDGET: std::time::Duration = std::time::Duration::from_millis(200);

#[http_component]
fn handle(req: Request) -> Response {
    let ctx = Ctx::new(&req);
    edge_component::respond("contacts", &ctx, route(&ctx))
}

fn route(ctx: &Ctx) -> Result<Reply, Problem> {
    let path = ctx.req.path().trim_end_matches('/').to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        // Only the host and schedulers call these; the router never forwards /internal.
        ["internal", "migrate"] if *ctx.method() == Method::Post => {
            let mut v = edge_db::spin::provision(contacts_domain::schema::COMPONENT, contacts_domain::schema::MIGRATIONS).map_err(storage)?;
            // A new tenant's search indexes are empty: their rebuild ends here; a big
            // tenant's goes on in ticks.
            v["search_rebuilt"] = contacts_domain::store::search::rebuild(&db()?, MIGRATE_REBUILD_BUDGET).map_err(storage)?.into();
            Ok(Reply::json(200, &v))
        }
        ["internal", "tick"] if *ctx.method() == Method::Post => {
            let db = db()?;
            let started = std::time::Instant::now();
            let rebuilt = contacts_domain::store::search::rebuild(&db, REBUILD_BUDGET).map_err(storage)?;
            // Indexes a bulk import left to build (at least one per tick).
            let indexed = contacts_domain::store::imports::tick(&db, REBUILD_BUDGET.saturating_sub(started.elapsed())).map_err(storage)?;
            // More to do: the soonest the scheduler allows.
            let next = (!(rebuilt && indexed)).then(|| chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            Ok(Reply::json(200, &serde_json::json!({ "search_rebuilt": rebuilt, "indexes_built": indexed, "next_tick_at": next })))
        }
        ["api", "v1", "contacts", rest @ ..] => records::contacts(ctx, rest),
        ["api", "v1", "companies", rest @ ..] => records::companies(ctx, rest),
        ["api", "v1", "activities", rest @ ..] => activities::route(ctx, rest),
        ["api", "v1", "custom-fields", rest @ ..] => fields::route(ctx, rest),
        ["api", "v1", "imports", rest @ ..] => imports::route(ctx, rest),
        ["api", "v1", "views", rest @ ..] => views::route(ctx, rest),
        ["api", "v1", "search"] if *ctx.method() == Method::Get => search::route(ctx),
        ["api", "v1", "tags"] if *ctx.method() == Method::Get => {
            let pairs = query::parse(ctx.query());
            let entity = query::get(&pairs, "entity").unwrap_or("contact");
            if entity != "contact" && entity != "company" {
                return Err(Problem::validation(vec![edge_http::FieldError::new("entity", "must be `contact` or `company`")]));
            }
            let tags = contacts_domain::store::tags::all(&db()?, entity).map_err(storage)?;
            let items: Vec<_> = tags.into_iter().map(|(tag, count)| serde_json::json!({ "tag": tag, "count": count })).collect();
            Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": null })))
        }
        _ => Err(Problem::not_found("No such resource")),
    }
}
