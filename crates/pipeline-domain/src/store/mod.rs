//! The pipeline component's storage. Every write appends a change event in the
//! same transaction; stage and status changes also append to the stage history,
//! and deal milestones to the published timeline of their contact and company.

pub mod deals;
pub mod merges;
pub mod pipelines;
pub mod settings;

use anyhow::Result;
use edge_db::{Db, Val};
use serde_json::Value;

pub use edge_db::record::{Conflict, Invalid, NotFound, VersionMismatch, Writer};

pub fn event<D: Db + ?Sized>(db: &D, w: &Writer, entity: &str, entity_id: &str, action: &str, before: Option<&Value>, after: Option<&Value>) -> Result<()> {
    edge_db::record::append_event(db, "pipeline_events", w, entity, entity_id, action, before, after)
}

/// A 409 with a stable problem type.
pub fn conflict(kind: &'static str, message: impl Into<String>) -> anyhow::Error {
    Conflict { kind, message: message.into() }.into()
}

/// An entry on a contact's and company's timeline (published view).
pub struct TimelineEntry<'a> {
    pub contact_id: Option<&'a str>,
    pub company_id: Option<&'a str>,
    pub kind: &'a str,
    pub title: String,
    pub detail: Value,
    pub reference: &'a str,
    pub owner_id: Option<&'a str>,
}

pub fn timeline<D: Db + ?Sized>(db: &D, e: TimelineEntry) -> Result<()> {
    if e.contact_id.is_none() && e.company_id.is_none() {
        return Ok(());
    }
    db.run(
        "INSERT INTO pipeline_timeline (at, contact_id, company_id, kind, title, detail, ref, owner_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[edge_db::now().into(), e.contact_id.into(), e.company_id.into(), e.kind.into(), e.title.into(), e.detail.to_string().into(), e.reference.into(), e.owner_id.into()],
    )?;
    Ok(())
}

/// The visibility condition on a deal's owner column, appended to `conds`.
pub fn restrict(vis: &edge_http::Visibility, column: &str, conds: &mut Vec<String>, params: &mut Vec<Val>) {
    if let Some((c, owners)) = vis.sql(column) {
        conds.push(c);
        params.extend(owners.into_iter().map(Val::Text));
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! An in-memory tenant database with the real migrations.
    pub use edge_db::native::writer;

    pub fn db() -> edge_db::native::Connection {
        edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS)
    }
}
