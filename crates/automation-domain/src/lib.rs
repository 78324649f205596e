//! Automation and insight, as plain Rust over [`edge_db::Db`] (tested
//! natively); the automation component is its HTTP adapter. This step: lead
//! capture. A form maps its fields to contact fields; a submission is
//! checked (honeypot, rate limit, sizes, required fields), recorded, and
//! turned into a contact upsert, a timeline activity and an owner.

pub mod dashboard;
pub mod forms;
pub mod handover;
pub mod roi;
pub mod rules;
pub mod schema;
pub mod submissions;
pub mod value;

/// A time as the stores write it.
pub fn at(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
