//! Tenant resolution from the request host: `acme.localhost:3000` and
//! `acme.crm.example.com` name tenant `acme` when `localhost` / `crm.example.com`
//! are configured tenant domains. A tenant exists when its directory does.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Tenancy {
    pub dir: PathBuf,
    pub domains: Vec<String>,
}

/// Tenant names: lowercase DNS labels.
pub fn valid_tenant_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl Tenancy {
    /// The tenant named by a Host header value, if it is one of ours and exists.
    pub fn resolve(&self, host: &str) -> Option<String> {
        let name = tenant_label(host, &self.domains)?;
        is_provisioned(&self.dir, &name).then_some(name)
    }
}

/// The tenant label of a host under one of `domains`, whether or not it exists.
pub fn tenant_label(host: &str, domains: &[String]) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    // Strip the port (IPv6 literals never name a tenant).
    if host.starts_with('[') {
        return None;
    }
    let host = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h).trim_end_matches('.');
    domains.iter().find_map(|d| {
        let label = host.strip_suffix(d.as_str())?.strip_suffix('.')?;
        valid_tenant_name(label).then(|| label.to_string())
    })
}

fn is_provisioned(dir: &Path, name: &str) -> bool {
    dir.join(name).join("tenant.json").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_from_hosts() {
        let d = vec!["localhost".to_string(), "crm.example.com".to_string()];
        assert_eq!(tenant_label("acme.localhost:3000", &d).as_deref(), Some("acme"));
        assert_eq!(tenant_label("ACME.crm.example.com", &d).as_deref(), Some("acme"));
        assert_eq!(tenant_label("localhost:3000", &d), None);
        assert_eq!(tenant_label("a.b.localhost", &d), None);
        assert_eq!(tenant_label("evil.com", &d), None);
        assert_eq!(tenant_label("acmelocalhost", &d), None);
        assert_eq!(tenant_label("../x.localhost", &d), None);
        assert_eq!(tenant_label("[::1]:3000", &d), None);
    }
}
