//! Tenant-wide access settings, owned by the identity component and published
//! read-only in the tenant's key-value store for the router.

use crate::Role;
use serde::{Deserialize, Serialize};

/// KV key of the workspace settings (JSON `Workspace`).
pub const WORKSPACE_KEY: &str = "setting:workspace";

/// The workspace's own settings: its time zone (date rules count days in it
/// unless a rule names another).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    pub time_zone: String,
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace { time_zone: "UTC".into() }
    }
}

impl Workspace {
    pub fn validate(&self) -> Result<(), Vec<edge_http::FieldError>> {
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(vec![edge_http::FieldError::new("time_zone", "must be an IANA time zone such as Europe/Berlin")]);
        }
        Ok(())
    }
}

/// KV key of the record-visibility setting (JSON `RecordVisibility`).
pub const RECORD_VISIBILITY_KEY: &str = "setting:record-visibility";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every record of the tenant.
    #[default]
    All,
    /// Only records the user owns.
    Own,
    /// Records the user or anyone in the user's team owns.
    Team,
}

/// KV key of a user's team view (JSON `TeamView`), published by identity
/// whenever team membership changes; absent when the user is in no team.
pub fn team_view_key(user_id: &str) -> String {
    format!("team-of:{user_id}")
}

/// A user's team and everyone in it (the user included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub team_id: String,
    pub members: Vec<String>,
}

/// Whether sales users see every record, their own, or their team's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RecordVisibility {
    pub sales: Scope,
}

impl RecordVisibility {
    /// What a role may see under this setting.
    pub fn scope_for(&self, role: Role) -> Scope {
        match role {
            Role::Sales => self.sales,
            _ => Scope::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_time_zone_is_an_iana_zone() {
        assert!(Workspace { time_zone: "Europe/Berlin".into() }.validate().is_ok());
        assert!(Workspace { time_zone: "Mars/Base".into() }.validate().is_err());
        assert_eq!(Workspace::default().time_zone, "UTC");
    }

    #[test]
    fn only_sales_is_restricted() {
        let v = RecordVisibility { sales: Scope::Own };
        assert_eq!(v.scope_for(Role::Sales), Scope::Own);
        assert_eq!(v.scope_for(Role::Manager), Scope::All);
        assert_eq!(RecordVisibility::default().scope_for(Role::Sales), Scope::All);
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"sales":"own"}"#);
        let t: RecordVisibility = serde_json::from_str(r#"{"sales":"team"}"#).unwrap();
        assert_eq!(t.scope_for(Role::Sales), Scope::Team);
        assert!(serde_json::from_str::<RecordVisibility>(r#"{"sales":"nobody"}"#).is_err());
    }
}
