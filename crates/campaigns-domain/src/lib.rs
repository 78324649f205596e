//! Marketing: segments, templates, campaigns, consent and tracking, as plain
//! Rust over [`edge_db::Db`] (tested natively); the campaigns component is
//! its HTTP adapter.
//!
//! A dynamic segment is a contacts filter (AND/OR rules over contact and
//! company fields, custom fields, tags, lifecycle stage, activity recency, and
//! the deals and orders other components publish per contact); the contacts
//! component evaluates it where the contacts live. A static list is a set of
//! contacts kept here and published (`campaigns_list_members`) for filters.

pub mod campaigns;
pub mod consent;
pub mod outbox;
pub mod schema;
pub mod segments;
pub mod sending;
pub mod sequences;
pub mod sign;
pub mod template;
pub mod templates;
