//! The contacts domain, free of any HTTP or storage SDK: what a valid contact is,
//! how list requests are read, and the schema the component migrates to.

pub mod list;
pub mod schema;
pub mod validate;

use serde::{Deserialize, Serialize};

/// A contact as stored and as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// The staff user who owns the record (`u_...`); none for records made by API keys.
    pub owner_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

pub use edge_http::Visibility;

/// The id prefix of contacts.
pub const ID_PREFIX: &str = "c";

pub use list::ListQuery;
pub use validate::{ContactInput, NewContact};
