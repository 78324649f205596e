//! Service desk settings (business hours, SLA policy per priority, escalation,
//! categories) and macros (canned replies).

use super::{event, Invalid, NotFound, Writer};
use crate::hours::BusinessHours;
use anyhow::Result;
use edge_db::Db;
use edge_http::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// Targets in business minutes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Policy {
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
}

/// What happens when a target is missed (once per ticket and target).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// Reassign the ticket to this user.
    pub assign_to: Option<String>,
    /// And email this address (the team lead, a shared inbox).
    pub notify: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    pub hours: BusinessHours,
    pub policies: BTreeMap<String, Policy>,
    #[serde(default)]
    pub escalation: Escalation,
    pub categories: Vec<String>,
    /// Resolved tickets close by themselves after this many days without a reply.
    pub close_after_days: i64,
    /// The portal's look: the name customers see and the accent colour (`#rrggbb`).
    #[serde(default)]
    pub portal_name: Option<String>,
    #[serde(default)]
    pub brand_color: Option<String>,
    /// From the table, not the stored JSON (a client's value is ignored).
    #[serde(default)]
    pub version: i64,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        let p = |f, r| Policy { first_response_minutes: f, resolution_minutes: r };
        ServiceSettings {
            hours: BusinessHours::default(),
            policies: [("urgent", p(60, 240)), ("high", p(240, 960)), ("normal", p(480, 2400)), ("low", p(960, 4800))].into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            escalation: Escalation::default(),
            categories: ["Delivery", "Damaged item", "Billing", "Returns", "Other"].map(String::from).to_vec(),
            close_after_days: 7,
            portal_name: None,
            brand_color: None,
            version: 0,
        }
    }
}

impl ServiceSettings {
    pub fn policy(&self, priority: &str) -> Policy {
        self.policies.get(priority).copied().unwrap_or(Policy { first_response_minutes: 480, resolution_minutes: 2400 })
    }

    fn check(&self) -> Vec<FieldError> {
        let mut e: Vec<FieldError> = self.hours.check().into_iter().map(|f| FieldError::new(&format!("hours.{}", f.field), &f.message)).collect();
        for p in PRIORITIES {
            match self.policies.get(p) {
                Some(x) if x.first_response_minutes > 0 && x.resolution_minutes >= x.first_response_minutes && x.resolution_minutes <= 525_600 => {}
                _ => e.push(FieldError::new(&format!("policies.{p}"), "needs first_response_minutes > 0 and resolution_minutes ≥ it (at most a year)")),
            }
        }
        if self.policies.keys().any(|k| !PRIORITIES.contains(&k.as_str())) {
            e.push(FieldError::new("policies", "priorities are low, normal, high and urgent"));
        }
        if self.escalation.assign_to.as_deref().is_some_and(|u| !edge_http::ids::is_valid("u", u)) {
            e.push(FieldError::new("escalation.assign_to", "must be a user id"));
        }
        if self.escalation.notify.as_deref().is_some_and(|a| !a.contains('@')) {
            e.push(FieldError::new("escalation.notify", "must be an email address"));
        }
        if self.categories.is_empty() || self.categories.len() > 50 || self.categories.iter().any(|c| c.trim().is_empty() || c.chars().count() > 60) {
            e.push(FieldError::new("categories", "1 to 50 categories of 1 to 60 characters"));
        }
        if self.portal_name.as_ref().is_some_and(|n| n.trim().is_empty() || n.chars().count() > 80) {
            e.push(FieldError::new("portal_name", "must be 1 to 80 characters, or null"));
        }
        if self.brand_color.as_ref().is_some_and(|c| !(c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit()))) {
            e.push(FieldError::new("brand_color", "must be a colour like #1f6feb, or null"));
        }
        if !(1..=365).contains(&self.close_after_days) {
            e.push(FieldError::new("close_after_days", "must be from 1 to 365"));
        }
        e
    }
}

pub fn get<D: Db + ?Sized>(db: &D) -> Result<ServiceSettings> {
    let r = db.run("SELECT settings, version FROM service_settings WHERE id = 1", &[])?;
    Ok(match r.first() {
        Some(row) => {
            let mut s: ServiceSettings = row.str(0).and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
            s.version = row.i64(1).unwrap_or(1);
            s
        }
        None => ServiceSettings::default(),
    })
}

pub fn put<D: Db + ?Sized>(db: &D, w: &Writer, s: ServiceSettings, if_version: Option<i64>) -> Result<ServiceSettings> {
    let errors = s.check();
    if !errors.is_empty() {
        return Err(Invalid(errors).into());
    }
    edge_db::tx(db, || {
        let before = get(db)?;
        edge_db::record::check_version(if_version, before.version)?;
        let text = serde_json::to_string(&s)?;
        db.run("INSERT INTO service_settings (id, settings, version) VALUES (1, ?1, 1) ON CONFLICT(id) DO UPDATE SET settings = ?1, version = version + 1", &[text.into()])?;
        let after = get(db)?;
        event(db, w, "service-settings", "settings", "updated", Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&after)?))?;
        Ok(after)
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Macro {
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub body: String,
    /// The status the ticket takes when the macro is sent (`waiting`, `resolved`…).
    #[serde(default)]
    pub status: Option<String>,
}

pub fn macros<D: Db + ?Sized>(db: &D) -> Result<Vec<Macro>> {
    let r = db.run("SELECT id, name, body, status FROM macros ORDER BY name", &[])?;
    Ok(r.iter().map(|row| Macro { id: row.text(0), name: row.text(1), body: row.text(2), status: row.string(3) }).collect())
}

pub fn save_macro<D: Db + ?Sized>(db: &D, w: &Writer, id: Option<&str>, m: Macro) -> Result<Macro> {
    let mut e = Vec::new();
    if m.name.trim().is_empty() || m.name.chars().count() > 80 {
        e.push(FieldError::new("name", "is required (at most 80 characters)"));
    }
    if m.body.trim().is_empty() || m.body.len() > 20_000 {
        e.push(FieldError::new("body", "is required (at most 20,000 characters)"));
    }
    if m.status.as_deref().is_some_and(|s| !["open", "waiting", "resolved"].contains(&s)) {
        e.push(FieldError::new("status", "must be open, waiting or resolved"));
    }
    if !e.is_empty() {
        return Err(Invalid(e).into());
    }
    edge_db::tx(db, || {
        let now = edge_db::now();
        let id = match id {
            Some(id) => {
                let n = db.run("UPDATE macros SET name = ?, body = ?, status = ?, updated_at = ? WHERE id = ?", &[m.name.trim().into(), m.body.as_str().into(), (&m.status).into(), now.as_str().into(), id.into()]);
                n?;
                if db.run("SELECT 1 FROM macros WHERE id = ?", &[id.into()])?.is_empty() {
                    return Err(NotFound.into());
                }
                id.to_string()
            }
            None => {
                let id = w.new_id(db, "macros", "mc")?;
                db.run("INSERT INTO macros (id, name, body, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)", &[id.as_str().into(), m.name.trim().into(), m.body.as_str().into(), (&m.status).into(), now.as_str().into(), now.into()])?;
                id
            }
        };
        let saved = Macro { id: id.clone(), name: m.name.trim().into(), body: m.body.clone(), status: m.status.clone() };
        event(db, w, "macro", &id, "saved", None, Some(&serde_json::to_value(&saved)?))?;
        Ok(saved)
    })
}

pub fn delete_macro<D: Db + ?Sized>(db: &D, w: &Writer, id: &str) -> Result<()> {
    edge_db::tx(db, || {
        if db.run("SELECT 1 FROM macros WHERE id = ?", &[id.into()])?.is_empty() {
            return Err(NotFound.into());
        }
        db.run("DELETE FROM macros WHERE id = ?", &[id.into()])?;
        event(db, w, "macro", id, "deleted", None, None)
    })
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};

    #[test]
    fn saved_settings_are_the_ones_read_back() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let mut s = get(&db).unwrap();
        assert_eq!(s.version, 0, "defaults until saved");
        s.close_after_days = 9;
        s.hours.time_zone = "Europe/Berlin".into();
        s.policies.get_mut("urgent").unwrap().first_response_minutes = 30;
        let saved = put(&db, &w, s.clone(), None).unwrap();
        let read = get(&db).unwrap();
        assert_eq!((read.close_after_days, read.hours.time_zone.as_str(), read.policy("urgent").first_response_minutes, read.version), (9, "Europe/Berlin", 30, saved.version));
        let again = put(&db, &w, read.clone(), Some(read.version)).unwrap();
        assert_eq!(again.version, read.version + 1);
        assert!(put(&db, &w, read, Some(1)).unwrap_err().downcast_ref::<crate::store::VersionMismatch>().is_some(), "a lost update is refused");
    }
}
