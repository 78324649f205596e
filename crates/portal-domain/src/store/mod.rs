//! The portal component's storage. Every write appends a change event in the
//! same transaction, and order milestones go on the customer's timeline.

pub mod kb;
pub mod links;
pub mod orders;
pub mod service;
pub mod tickets;

use anyhow::Result;
use edge_db::Db;
use serde_json::Value;

pub use edge_db::record::{Conflict, Invalid, NotFound, VersionMismatch, Writer};

pub fn event<D: Db + ?Sized>(db: &D, w: &Writer, entity: &str, entity_id: &str, action: &str, before: Option<&Value>, after: Option<&Value>) -> Result<()> {
    edge_db::record::append_event(db, "portal_events", w, entity, entity_id, action, before, after)
}

/// An entry on the customer's timeline (published view), dated `at`.
pub fn timeline<D: Db + ?Sized>(db: &D, at: &str, contact_id: &str, kind: &str, title: &str, detail: &Value, reference: &str) -> Result<()> {
    db.run(
        "INSERT INTO portal_timeline (at, contact_id, kind, title, detail, ref) VALUES (?, ?, ?, ?, ?, ?)",
        &[at.into(), contact_id.into(), kind.into(), title.into(), detail.to_string().into(), reference.into()],
    )?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! An in-memory tenant database with the real migrations.
    pub use edge_db::native::writer;

    pub fn db() -> edge_db::native::Connection {
        edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS)
    }
}
