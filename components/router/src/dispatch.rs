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

/// The client's address: the connection's peer, or, when that peer is a
/// proxy the operator trusts (`trusted_proxies`, comma-separated IPs), the
/// last address in `X-Forwarded-For` that is not one of them. Rate limits
/// and sign-in throttling key on it, so behind a load balancer every visitor
/// is not the balancer.
pub fn client_addr(peer: &str, forwarded: Option<&str>, trusted: &str) -> String {
    let ip = |a: &str| -> String {
        let a = a.trim();
        match a.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6).to_string(),
            None if a.matches(':').count() == 1 => a.split(':').next().unwrap_or(a).to_string(),
            None => a.to_string(),
        }
    };
    let trusted: Vec<String> = trusted.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    if !trusted.contains(&ip(peer)) {
        return peer.to_string();
    }
    forwarded
        .into_iter()
        .flat_map(|f| f.split(',').rev())
        .map(ip)
        .find(|a| !a.is_empty() && !trusted.contains(a))
        .unwrap_or_else(|| peer.to_string())
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
    fn client_addresses_behind_trusted_proxies() {
        assert_eq!(client_addr("10.0.0.9:5000", Some("1.2.3.4"), ""), "10.0.0.9:5000", "no proxy trusted: the peer");
        assert_eq!(client_addr("10.0.0.9:5000", Some("1.2.3.4"), "10.0.0.1"), "10.0.0.9:5000", "an untrusted peer cannot claim another address");
        assert_eq!(client_addr("10.0.0.1:5000", Some("1.2.3.4"), "10.0.0.1"), "1.2.3.4");
        assert_eq!(client_addr("10.0.0.1:5000", Some("6.6.6.6, 1.2.3.4, 10.0.0.2"), "10.0.0.1,10.0.0.2"), "1.2.3.4", "the last one the proxies did not add");
        assert_eq!(client_addr("[::1]:5000", Some("2001:db8::7"), "::1"), "2001:db8::7");
        assert_eq!(client_addr("10.0.0.1:5000", None, "10.0.0.1"), "10.0.0.1:5000");
    }

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
