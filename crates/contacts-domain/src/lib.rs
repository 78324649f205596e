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

/// Which records a caller may see: everything, or only records they own
/// (sales users, when the tenant's record-visibility setting says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    All,
    OwnedBy(String),
}

impl Visibility {
    /// From the router's trusted headers: `edge-visibility: own` with `edge-actor: user:<id>`.
    pub fn from_headers(visibility: Option<&str>, actor: Option<&str>) -> Visibility {
        match (visibility, actor.and_then(|a| a.strip_prefix("user:"))) {
            (Some("own"), Some(user)) => Visibility::OwnedBy(user.to_string()),
            (Some("own"), None) => Visibility::OwnedBy(String::new()),
            _ => Visibility::All,
        }
    }
}

/// The id prefix of contacts.
pub const ID_PREFIX: &str = "c";

pub use list::ListQuery;
pub use validate::{ContactInput, NewContact};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_from_headers() {
        assert_eq!(Visibility::from_headers(None, Some("user:u_1")), Visibility::All);
        assert_eq!(Visibility::from_headers(Some("all"), Some("user:u_1")), Visibility::All);
        assert_eq!(Visibility::from_headers(Some("own"), Some("user:u_1")), Visibility::OwnedBy("u_1".into()));
        // "own" without a user owns nothing: it sees nothing.
        assert_eq!(Visibility::from_headers(Some("own"), Some("apikey:k")), Visibility::OwnedBy(String::new()));
    }
}
