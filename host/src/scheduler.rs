//! Unattended work: SLA breaches and escalations, scheduled sends, retries.
//! A component with such work answers `POST /internal/tick` with
//! `{"next_tick_at": <RFC 3339 time or null>}`. The scheduler calls it for
//! each active tenant once soon after start, soon after any request to the
//! tenant (a request may have created work), and whenever a component asked
//! to be woken. Idle tenants cost nothing between those times: no open files,
//! no instances. Components without the route answer 404 and are not asked
//! again. (On real Spin the same ticks come through the router's
//! `/.well-known/edge-crm/tick`, driven by any scheduler; see the README.)

use crate::app::App;
use crate::provision;
use crate::tenants::{self, TenantState};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How soon after a request its tenant is checked.
const AFTER_REQUEST: Duration = Duration::from_secs(15);
/// The latest a tenant is checked again when nothing asked for sooner.
const BASELINE: Duration = Duration::from_secs(6 * 3600);
/// The soonest a component may ask to be woken again (no busy loops).
const MIN_GAP: Duration = Duration::from_millis(500);

pub struct Scheduler {
    app: Arc<App>,
    tenants_dir: PathBuf,
    domain: String,
    port: u16,
    due: Mutex<HashMap<String, Instant>>,
    wake: Notify,
    /// Components that have no `/internal/tick`.
    idle: Mutex<HashSet<String>>,
}

impl Scheduler {
    pub fn new(app: Arc<App>, tenants_dir: PathBuf, domain: String, port: u16) -> Arc<Scheduler> {
        Arc::new(Scheduler { app, tenants_dir, domain, port, due: Mutex::new(HashMap::new()), wake: Notify::new(), idle: Mutex::new(HashSet::new()) })
    }

    fn at(&self, tenant: &str, when: Instant) {
        let mut due = self.due.lock().unwrap_or_else(|e| e.into_inner());
        let slot = due.entry(tenant.to_string()).or_insert(when);
        if when < *slot {
            *slot = when;
        }
        drop(due);
        self.wake.notify_one();
    }

    /// A request reached `tenant`: check it soon.
    pub fn poke(&self, tenant: &str) {
        self.at(tenant, Instant::now() + AFTER_REQUEST);
    }

    fn next(&self) -> Option<Instant> {
        self.due.lock().unwrap_or_else(|e| e.into_inner()).values().min().copied()
    }

    fn take_due(&self, now: Instant) -> Vec<String> {
        let mut due = self.due.lock().unwrap_or_else(|e| e.into_inner());
        let ready: Vec<String> = due.iter().filter(|(_, t)| **t <= now).map(|(n, _)| n.clone()).collect();
        for n in &ready {
            due.remove(n);
        }
        ready
    }

    /// Ticks one tenant's components; returns when it next wants a tick.
    async fn tick(&self, tenant: &str) -> Option<Instant> {
        match tenants::get(&self.tenants_dir, tenant) {
            Ok(Some(rec)) if rec.state == TenantState::Active => {}
            _ => return None,
        }
        let base = format!("http://{tenant}.{}:{}", self.domain, self.port);
        let mut next: Option<Instant> = None;
        for component in provision::migrating_components(&self.app) {
            if self.idle.lock().unwrap_or_else(|e| e.into_inner()).contains(&component) {
                continue;
            }
            match provision::call_internal(&self.app, &self.tenants_dir, tenant, &base, &component, "/internal/tick", serde_json::json!({})).await {
                Ok((404, _)) => {
                    self.idle.lock().unwrap_or_else(|e| e.into_inner()).insert(component);
                }
                Ok((200, v)) => {
                    let wanted = v["next_tick_at"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| {
                        let wait = (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
                        Instant::now() + wait.max(MIN_GAP)
                    });
                    next = match (next, wanted) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Ok((status, v)) => crate::log::event("warn", "tick failed", &[("tenant", tenant), ("component", &component), ("status", &status.to_string()), ("answer", &v.to_string())]),
                Err(e) => crate::log::event("warn", "tick failed", &[("tenant", tenant), ("component", &component), ("error", &format!("{e:#}"))]),
            }
        }
        Some(next.unwrap_or_else(|| Instant::now() + BASELINE).min(Instant::now() + BASELINE))
    }

    pub async fn run(self: Arc<Self>) {
        // Every active tenant once, spread over the first minute.
        if let Ok(all) = tenants::list(&self.tenants_dir) {
            let n = all.len().max(1) as u32;
            for (i, rec) in all.iter().enumerate().filter(|(_, r)| r.state == TenantState::Active) {
                self.at(&rec.name, Instant::now() + Duration::from_secs(5) + Duration::from_secs(60) * i as u32 / n);
            }
        }
        loop {
            let sleep = self.next().map_or(BASELINE, |t| t.saturating_duration_since(Instant::now()));
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => continue,
            }
            for tenant in self.take_due(Instant::now()) {
                if let Some(when) = self.tick(&tenant).await {
                    self.at(&tenant, when);
                }
            }
        }
    }
}
