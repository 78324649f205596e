//! RFC 9457 problem details: a stable `type`, a human `detail`, per-field `errors`.

use crate::Reply;
use serde::Serialize;

pub const TYPE_BASE: &str = "https://edge-crm.dev/problems/";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: &str) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Problem-specific members (RFC 9457 extensions), e.g. `current`.
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    pub fn new(status: u16, kind: &str, title: &str, detail: &str) -> Problem {
        Problem {
            kind: format!("{TYPE_BASE}{kind}"),
            title: title.into(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
            request_id: None,
            extensions: serde_json::Map::new(),
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Problem {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Problem { errors, ..Problem::new(422, "validation", "Invalid input", &detail) }
    }

    pub fn bad_request(detail: &str) -> Problem {
        Problem::new(400, "bad-request", "Bad request", detail)
    }

    pub fn not_found(detail: &str) -> Problem {
        Problem::new(404, "not-found", "Not found", detail)
    }

    pub fn method_not_allowed(allowed: &str) -> Problem {
        Problem::new(405, "method-not-allowed", "Method not allowed", &format!("Allowed methods: {allowed}"))
    }

    pub fn unsupported_media_type() -> Problem {
        Problem::new(415, "unsupported-media-type", "Unsupported media type", "Send a JSON body with content-type application/json")
    }

    pub fn payload_too_large(limit: usize) -> Problem {
        Problem::new(413, "payload-too-large", "Payload too large", &format!("The request body exceeds {limit} bytes"))
    }

    pub fn internal(detail: &str) -> Problem {
        Problem::new(500, "internal", "Internal error", detail)
    }

    /// Adds an extension member (`name` must not be a standard member).
    pub fn with_extension(mut self, name: &str, value: serde_json::Value) -> Problem {
        self.extensions.insert(name.to_string(), value);
        self
    }

    pub fn with_request_id(mut self, id: Option<&str>) -> Problem {
        self.request_id = id.map(String::from);
        self
    }
}

impl From<Problem> for Reply {
    fn from(p: Problem) -> Reply {
        let body = serde_json::to_vec(&p).unwrap_or_else(|_| b"{}".to_vec());
        Reply {
            status: p.status,
            headers: vec![("content-type".into(), "application/problem+json".into())],
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_shape() {
        let r: Reply = Problem::validation(vec![FieldError::new("email", "is not an email address")]).into();
        assert_eq!(r.status, 422);
        assert_eq!(r.header("Content-Type"), Some("application/problem+json"));
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["type"], "https://edge-crm.dev/problems/validation");
        assert_eq!(v["errors"][0]["field"], "email");
        assert_eq!(v["detail"], "email: is not an email address");
    }
}
