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
            Ok(body) => Reply::json_body(status, body),
            Err(e) => Problem::internal(&format!("response serialization failed: {e}")).into(),
        }
    }

    fn json_body(status: u16, body: Vec<u8>) -> Reply {
        Reply { status, headers: vec![("content-type".into(), "application/json".into())], body }
    }

    /// A list page (`{ "items": [...], "next_cursor": ... }`) from items that are
    /// already JSON texts: no parse and re-encode of every row on the hot path.
    pub fn json_page(items: &[String], next_cursor: Option<&str>) -> Reply {
        let mut body = String::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 64);
        body.push_str("{\"items\":[");
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            body.push_str(item);
        }
        body.push_str("],\"next_cursor\":");
        match next_cursor {
            Some(c) => body.push_str(&serde_json::Value::from(c).to_string()),
            None => body.push_str("null"),
        }
        body.push('}');
        Reply::json_body(200, body.into_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_encoded_items_is_the_page_serde_would_write() {
        let items = vec![r#"{"id":"a"}"#.to_string(), r#"{"id":"b","n":[1,2]}"#.to_string()];
        let page: serde_json::Value = serde_json::from_slice(&Reply::json_page(&items, Some("c\"1")).body).unwrap();
        assert_eq!(page, serde_json::json!({"items": [{"id": "a"}, {"id": "b", "n": [1, 2]}], "next_cursor": "c\"1"}));
        let empty: serde_json::Value = serde_json::from_slice(&Reply::json_page(&[], None).body).unwrap();
        assert_eq!(empty, serde_json::json!({"items": [], "next_cursor": null}));
    }
}
