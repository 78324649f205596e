//! Which component serves a path. Pure, so it is tested natively.

use edge_http::Problem;

/// API areas and the private component that owns each.
pub const AREAS: &[(&str, &str)] = &[
    ("contacts", "contacts"),
    ("companies", "contacts"),
    ("activities", "contacts"),
    ("custom-fields", "contacts"),
    ("search", "contacts"),
    ("tags", "contacts"),
    ("imports", "contacts"),
    ("views", "contacts"),
    ("pipelines", "pipeline"),
    ("deals", "pipeline"),
    ("pipeline-settings", "pipeline"),
    ("exchange-rates", "pipeline"),
    ("quotas", "pipeline"),
    ("sales-reports", "pipeline"),
    ("orders", "portal"),
    ("tickets", "portal"),
    ("kb", "portal"),
    ("macros", "portal"),
    ("service-settings", "portal"),
    ("service-reports", "portal"),
    ("segments", "campaigns"),
    ("templates", "campaigns"),
    ("campaigns", "campaigns"),
    ("sequences", "campaigns"),
    ("consents", "campaigns"),
    ("suppressions", "campaigns"),
    ("engagement", "campaigns"),
    ("mail", "campaigns"),
    ("forms", "automation"),
    ("automations", "automation"),
    ("insights", "automation"),
    ("portal", "portal"),
    ("auth", "identity"),
    ("users", "identity"),
    ("teams", "identity"),
    ("outbox", "identity"),
    ("api-keys", "identity"),
    ("audit", "identity"),
    ("settings", "identity"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Api(&'static str),
    Web,
}

impl Target {
    pub fn component(&self) -> &'static str {
        match self {
            Target::Api(c) => c,
            Target::Web => "web",
        }
    }
}

pub fn target_for(path: &str) -> Result<Target, Problem> {
    if path.split('/').any(|seg| seg == "..") {
        return Err(Problem::bad_request("The path may not contain `..`"));
    }
    if path == "/api" {
        return Err(Problem::not_found("See /api/v1/ for the API"));
    }
    let Some(rest) = path.strip_prefix("/api/") else {
        return Ok(Target::Web);
    };
    let mut parts = rest.split('/');
    if parts.next() != Some("v1") {
        return Err(Problem::not_found("Unknown API version: use /api/v1/"));
    }
    let area = parts.next().unwrap_or("");
    AREAS
        .iter()
        .find(|(a, _)| *a == area)
        .map(|(_, c)| Target::Api(c))
        .ok_or_else(|| Problem::not_found(&format!("No API area `{area}`")))
}

pub fn fresh_request_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let r = std::collections::hash_map::RandomState::new();
    use std::hash::{BuildHasher, Hasher};
    let mut h = r.build_hasher();
    h.write_u128(t);
    format!("{:012x}{:016x}", t as u64 & 0xffff_ffff_ffff, h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_table() {
        assert_eq!(target_for("/api/v1/contacts").unwrap(), Target::Api("contacts"));
        assert_eq!(target_for("/api/v1/contacts/c_1").unwrap(), Target::Api("contacts"));
        assert_eq!(target_for("/api/v1/auth/sign-in").unwrap(), Target::Api("identity"));
        assert_eq!(target_for("/internal/owner").unwrap(), Target::Web, "internal routes are never dispatched");
        assert_eq!(target_for("/").unwrap(), Target::Web);
        assert_eq!(target_for("/contacts/c_1").unwrap(), Target::Web);
        assert_eq!(target_for("/apiary").unwrap(), Target::Web);
        assert_eq!(target_for("/api/v1/nope").unwrap_err().status, 404);
        assert_eq!(target_for("/api/v2/contacts").unwrap_err().status, 404);
        assert_eq!(target_for("/api").unwrap_err().status, 404);
        assert_eq!(target_for("/app/../secret").unwrap_err().status, 400);
    }
}
