//! API keys: named, scoped per area (`contacts:read`, `pipeline:write`...), shown
//! once, stored as a digest. The key view in the tenant's key-value store
//! (`apikey:<digest>`) is published read-only for the router; the identity
//! component owns it.

use crate::{Access, Area};
use serde::{Deserialize, Serialize};

pub const PREFIX: &str = "ek_";
/// Refresh `last_used_at` at most this often.
pub const TOUCH_SECS: i64 = 60;

pub fn kv_key(digest: &str) -> String {
    format!("apikey:{digest}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub last_used_at: i64,
}

/// Areas a key may be scoped to: data, never settings.
pub const KEY_AREAS: [Area; 4] = [Area::Contacts, Area::Pipeline, Area::Campaigns, Area::ServiceDesk];

/// Checks and normalises scopes; `Err` names the first bad one.
pub fn parse_scopes(scopes: &[String]) -> Result<Vec<String>, String> {
    if scopes.is_empty() {
        return Err("at least one scope is needed".into());
    }
    let mut out = Vec::new();
    for s in scopes {
        let (area, access) = s.split_once(':').ok_or_else(|| format!("`{s}` is not area:read or area:write"))?;
        let area = Area::parse(area).filter(|a| KEY_AREAS.contains(a)).ok_or_else(|| format!("`{s}`: unknown area"))?;
        if access != "read" && access != "write" {
            return Err(format!("`{s}`: access is read or write"));
        }
        let norm = format!("{}:{access}", area.as_str());
        if !out.contains(&norm) {
            out.push(norm);
        }
    }
    Ok(out)
}

impl KeyView {
    pub fn access(&self, area: Area) -> Access {
        let mut best = Access::None;
        for s in &self.scopes {
            if let Some((a, acc)) = s.split_once(':') {
                if a == area.as_str() {
                    let acc = if acc == "write" { Access::Write } else { Access::Read };
                    best = best.max(acc);
                }
            }
        }
        best
    }

    pub fn needs_touch(&self, now: i64) -> bool {
        now - self.last_used_at >= TOUCH_SECS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let s = parse_scopes(&["contacts:write".into(), "pipeline:read".into(), "contacts:write".into()]).unwrap();
        assert_eq!(s, vec!["contacts:write", "pipeline:read"]);
        assert!(parse_scopes(&[]).is_err());
        assert!(parse_scopes(&["settings:write".into()]).is_err(), "keys never manage settings");
        assert!(parse_scopes(&["contacts:admin".into()]).is_err());
        assert!(parse_scopes(&["contacts".into()]).is_err());
        let k = KeyView { id: "k".into(), name: "n".into(), scopes: s, created_by: "u".into(), last_used_at: 0 };
        assert_eq!(k.access(Area::Contacts), Access::Write);
        assert_eq!(k.access(Area::Pipeline), Access::Read);
        assert_eq!(k.access(Area::Campaigns), Access::None);
    }
}
