//! Marketing: segments of contacts. A dynamic segment is a contacts filter
//! (AND/OR rules over contact and company fields, custom fields, tags,
//! lifecycle stage, activity recency, and the deals and orders other
//! components publish per contact); the contacts component evaluates it where
//! the contacts live. A static list is a set of contacts kept here and
//! published (`campaigns_list_members`) for filters to use.

pub mod schema;
pub mod segments;
pub mod template;
