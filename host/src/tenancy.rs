//! Tenant resolution from the request host: `acme.localhost:3000` and
//! `acme.crm.example.com` name tenant `acme` when `localhost` / `crm.example.com`
//! are configured tenant domains. Records are cached for a second, so a suspend
//! from the CLI or the operator API takes effect within a second; each tenant
//! also gets its plan's request rate.

use crate::tenants::{self, TenantRecord, TenantState};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const RECORD_TTL: Duration = Duration::from_secs(1);

pub struct Tenancy {
    pub dir: PathBuf,
    pub domains: Vec<String>,
    records: Mutex<HashMap<String, (Option<TenantRecord>, Instant)>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The host names no tenant (or a tenant that does not exist).
    Unknown,
    Active(TenantRecord),
    Suspended(String),
    /// Over the plan's request rate; retry after this many seconds.
    Limited(String, u64),
}

/// Tenant names: lowercase DNS labels.
pub fn valid_tenant_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The tenant label of a host under one of `domains`, whether or not it exists.
pub fn tenant_label(host: &str, domains: &[String]) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    // IPv6 literals never name a tenant.
    if host.starts_with('[') {
        return None;
    }
    let host = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h).trim_end_matches('.');
    domains.iter().find_map(|d| {
        let label = host.strip_suffix(d.as_str())?.strip_suffix('.')?;
        valid_tenant_name(label).then(|| label.to_string())
    })
}

/// A token bucket: `rate` per second, bursts up to `capacity`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    rate: f64,
    last: Instant,
}

impl Bucket {
    fn new(per_minute: u32) -> Bucket {
        let rate = per_minute as f64 / 60.0;
        let capacity = (rate * 10.0).max(10.0);
        Bucket { tokens: capacity, capacity, rate, last: Instant::now() }
    }

    /// Takes a token, or says how many seconds until one is available.
    fn take(&mut self, now: Instant) -> Result<(), u64> {
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

impl Tenancy {
    pub fn new(dir: PathBuf, domains: Vec<String>) -> Tenancy {
        Tenancy { dir, domains, records: Mutex::new(HashMap::new()), buckets: Mutex::new(HashMap::new()) }
    }

    fn record(&self, name: &str) -> Option<TenantRecord> {
        let now = Instant::now();
        if let Ok(cache) = self.records.lock() {
            if let Some((rec, at)) = cache.get(name) {
                if now.duration_since(*at) < RECORD_TTL {
                    return rec.clone();
                }
            }
        }
        let rec = tenants::get(&self.dir, name).ok().flatten();
        if let Ok(mut cache) = self.records.lock() {
            cache.insert(name.to_string(), (rec.clone(), now));
        }
        rec
    }

    /// Drops cached state (after the operator API changes a tenant).
    pub fn forget(&self, name: &str) {
        if let Ok(mut c) = self.records.lock() {
            c.remove(name);
        }
        if let Ok(mut b) = self.buckets.lock() {
            b.remove(name);
        }
    }

    /// Forgets tenants not seen for a while: idle tenants cost nothing.
    pub fn reap(&self, idle: Duration) {
        let now = Instant::now();
        if let Ok(mut c) = self.records.lock() {
            c.retain(|_, (_, at)| now.duration_since(*at) < idle);
        }
        if let Ok(mut b) = self.buckets.lock() {
            b.retain(|_, bucket| now.duration_since(bucket.last) < idle);
        }
    }

    /// What serving the tenant named by a request's host (its `tenant_label`) comes to.
    pub fn resolve(&self, label: Option<String>) -> Resolution {
        let Some(name) = label else { return Resolution::Unknown };
        let Some(rec) = self.record(&name) else { return Resolution::Unknown };
        // Not (or no longer, or not yet) served here: the directory knows where.
        if matches!(rec.state, TenantState::Incoming | TenantState::Moved) {
            return Resolution::Unknown;
        }
        if rec.state == TenantState::Suspended {
            return Resolution::Suspended(name);
        }
        let per_minute = rec.effective_plan().map_or(600, |p| p.requests_per_minute);
        let verdict = match self.buckets.lock() {
            Ok(mut b) => b.entry(name.clone()).or_insert_with(|| Bucket::new(per_minute)).take(Instant::now()),
            Err(_) => Ok(()),
        };
        match verdict {
            Ok(()) => Resolution::Active(rec),
            Err(retry) => Resolution::Limited(name, retry),
        }
    }
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

    #[test]
    fn buckets_refill_at_the_plan_rate() {
        let mut b = Bucket::new(600); // 10/s, burst 100
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(b.take(t0).is_ok());
        }
        assert_eq!(b.take(t0), Err(1));
        assert!(b.take(t0 + Duration::from_millis(150)).is_ok());
    }
}
