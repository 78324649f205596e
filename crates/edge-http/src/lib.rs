//! HTTP conventions shared by every Edge CRM component (see DESIGN.md, "HTTP API
//! conventions"). Nothing here knows about Spin: components adapt a [`Reply`] to
//! their SDK's response type, so all of this is tested natively.

pub mod csv;
pub mod hmac;
pub mod html;
pub mod ids;
pub mod problem;
pub mod query;
pub mod visibility;

pub use problem::{FieldError, Problem};
pub use visibility::Visibility;

/// A response in plain data: status, headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: serde::Serialize>(status: u16, value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply {
                status,
                headers: vec![("content-type".into(), "application/json".into())],
                body,
            },
            Err(e) => Problem::internal(&format!("response serialization failed: {e}")).into(),
        }
    }

    /// A reply with no body (204 No Content, 202 Accepted...).
    pub fn empty(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// List responses: `{ "items": [...], "next_cursor": ... }`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
