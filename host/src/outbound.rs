//! `allowed_outbound_hosts`: which URLs a component may call. Entries are
//! `scheme://host[:port]` where scheme, host and port may be `*`, and host may be
//! `*.suffix` (e.g. `http://*.spin.internal` for every component of the app).

use anyhow::{bail, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    Suffix(String),
}

impl AllowedHost {
    pub fn parse(s: &str) -> Result<AllowedHost> {
        let Some((scheme, rest)) = s.split_once("://") else {
            bail!("`{s}` needs a scheme, e.g. `https://{s}`");
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            bail!("`{s}`: a path is not allowed, only scheme://host[:port]");
        }
        let scheme = match scheme {
            "*" => None,
            "http" | "https" => Some(scheme.to_string()),
            other => bail!("`{s}`: unsupported scheme `{other}`"),
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, "*")) => (h, None),
            Some((h, p)) => match p.parse::<u16>() {
                Ok(p) => (h, Some(p)),
                Err(_) => bail!("`{s}`: invalid port `{p}`"),
            },
            None => (rest, None),
        };
        let host = match host {
            "" => bail!("`{s}`: missing host"),
            "*" => HostPattern::Any,
            h => match h.strip_prefix("*.") {
                Some(suffix) if !suffix.is_empty() && !suffix.contains('*') => {
                    HostPattern::Suffix(suffix.to_ascii_lowercase())
                }
                _ if h.contains('*') => bail!("`{s}`: `*` is only allowed as a whole host or a leading `*.`"),
                _ => HostPattern::Exact(h.to_ascii_lowercase()),
            },
        };
        // A host with no explicit port allows the scheme's default port only.
        let port = match (port, rest.ends_with(":*"), scheme.as_deref()) {
            (Some(p), _, _) => Some(p),
            (None, true, _) => None,
            (None, false, Some("http")) => Some(80),
            (None, false, Some("https")) => Some(443),
            (None, false, _) => None,
        };
        Ok(AllowedHost { scheme, host, port })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && match &self.host {
                HostPattern::Any => true,
                HostPattern::Exact(h) => *h == host,
                HostPattern::Suffix(sfx) => host
                    .strip_suffix(sfx.as_str())
                    .is_some_and(|p| p.ends_with('.') && p.len() > 1),
            }
            && self.port.is_none_or(|p| p == port)
    }
}

/// A component's outbound policy.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Vec<AllowedHost>,
}

impl OutboundPolicy {
    pub fn new(entries: &[String]) -> Result<OutboundPolicy> {
        Ok(OutboundPolicy {
            allowed: entries.iter().map(|e| AllowedHost::parse(e)).collect::<Result<_>>()?,
        })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let port = port.unwrap_or(if scheme == "https" { 443 } else { 80 });
        self.allowed.iter().any(|a| a.allows(scheme, host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(e: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(&e.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn internal_wildcard() {
        let p = policy(&["http://*.spin.internal"]);
        assert!(p.allows("http", "contacts.spin.internal", None));
        assert!(!p.allows("https", "contacts.spin.internal", None));
        assert!(!p.allows("http", "spin.internal", None));
        assert!(!p.allows("http", "evil.com", None));
        assert!(!p.allows("http", "contacts.spin.internal.evil.com", None));
    }

    #[test]
    fn exact_ports_and_stars() {
        let p = policy(&["https://api.example.com", "http://localhost:8080", "*://*:*"]);
        assert!(p.allows("https", "api.example.com", None));
        assert!(p.allows("http", "anything", Some(1)));
        let p = policy(&["https://api.example.com"]);
        assert!(!p.allows("https", "api.example.com", Some(8443)));
        assert!(!p.allows("http", "api.example.com", None));
    }

    #[test]
    fn invalid_entries() {
        for bad in ["api.example.com", "ftp://x", "https://a*b.com", "https://x/path", "https://x:port"] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad}");
        }
    }
}
