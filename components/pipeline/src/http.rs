//! The pipeline side of the adapter: its database and its error mapping.

use edge_http::{Problem, Reply};
pub use edge_component::{storage, valid_id, with_etag, Ctx};

pub fn db() -> Result<spin_sdk::sqlite::Connection, Problem> {
    edge_db::spin::open(pipeline_domain::schema::COMPONENT, pipeline_domain::schema::MIGRATIONS).map_err(storage)
}

/// Domain errors to problems; anything else is a storage failure.
pub fn problem(e: anyhow::Error, what: &str) -> Problem {
    edge_component::record_problem(&e, what).unwrap_or_else(|| storage(format!("{e:#}")))
}

/// A write at most once per Idempotency-Key (see `edge_component::once`).
pub fn once(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, f: impl FnOnce() -> Result<Reply, Problem>) -> Result<Reply, Problem> {
    edge_component::once(ctx, db, "pipeline_idempotency", f)
}

pub fn pairs(ctx: &Ctx) -> Vec<(String, String)> {
    edge_http::query::parse(ctx.query())
}
