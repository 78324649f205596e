//! The contacts side of the adapter: its database and the mapping of its
//! domain errors to problems. The request helpers are `edge_component`'s.

use contacts_domain::store;
use edge_http::{FieldError, Problem, Reply};

pub use edge_component::{storage, valid_id, with_etag, Ctx};


/// The plan's record limit, bound per tenant by the platform.
pub fn max_records(ctx: &Ctx) -> i64 {
    ctx.variable("max_records").and_then(|v| v.parse().ok()).unwrap_or(i64::MAX)
}

pub fn db() -> Result<spin_sdk::sqlite::Connection, Problem> {
    edge_db::spin::open(contacts_domain::schema::COMPONENT, contacts_domain::schema::MIGRATIONS).map_err(storage)
}

/// Domain errors to problems; anything else is a storage failure.
pub fn problem(e: anyhow::Error, what: &str) -> Problem {
    if let Some(p) = edge_component::record_problem(&e, what) {
        return p;
    }
    if let Some(store::LimitReached(n)) = e.downcast_ref::<store::LimitReached>() {
        return Problem::new(403, "plan-limit", "Plan limit reached", &format!("Your plan allows {n} contacts. Delete some or upgrade the plan."));
    }
    if let Some(store::BadReference(field)) = e.downcast_ref::<store::BadReference>() {
        return Problem::validation(vec![FieldError::new(field, "does not name an existing record you can see")]);
    }
    if let Some(store::merges::Conflict(m)) = e.downcast_ref::<store::merges::Conflict>() {
        return Problem::new(409, "conflict", "Conflict", m);
    }
    if e.downcast_ref::<store::fields::KeyTaken>().is_some() {
        return Problem::validation(vec![FieldError::new("key", "is already used by another field")]);
    }
    storage(format!("{e:#}"))
}

/// A create, at most once per Idempotency-Key (see `edge_component::once`).
pub fn once(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, f: impl FnOnce() -> Result<Reply, Problem>) -> Result<Reply, Problem> {
    edge_component::once(ctx, db, "idempotency_keys", f)
}
