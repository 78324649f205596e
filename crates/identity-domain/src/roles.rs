//! Roles and the permission matrix, per area. This table is the documentation:
//! README.md renders the same matrix.
//!
//! | role       | contacts | pipeline | campaigns | service desk | settings |
//! |------------|----------|----------|-----------|--------------|----------|
//! | owner      | write    | write    | write     | write        | write    |
//! | admin      | write    | write    | write     | write        | write    |
//! | manager    | write    | write    | write     | write        | read     |
//! | sales      | write    | write    | read      | read         | —        |
//! | marketing  | write    | read     | write     | read         | —        |
//! | support    | write    | read     | read      | write        | —        |
//! | read-only  | read     | read     | read      | read         | —        |

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Owner,
    Admin,
    Manager,
    Sales,
    Marketing,
    Support,
    ReadOnly,
}

pub const ROLES: [Role; 7] =
    [Role::Owner, Role::Admin, Role::Manager, Role::Sales, Role::Marketing, Role::Support, Role::ReadOnly];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Contacts,
    Pipeline,
    Campaigns,
    ServiceDesk,
    Settings,
}

pub const AREAS: [Area; 5] = [Area::Contacts, Area::Pipeline, Area::Campaigns, Area::ServiceDesk, Area::Settings];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    None,
    Read,
    Write,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        ROLES.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Sales => "sales",
            Role::Marketing => "marketing",
            Role::Support => "support",
            Role::ReadOnly => "read-only",
        }
    }

    pub fn access(self, area: Area) -> Access {
        use Access::*;
        use Area::*;
        match (self, area) {
            (Role::Owner | Role::Admin, _) => Write,
            (Role::Manager, Settings) => Read,
            (Role::Manager, _) => Write,
            (Role::Sales, Contacts | Pipeline) => Write,
            (Role::Marketing, Contacts | Campaigns) => Write,
            (Role::Support, Contacts | ServiceDesk) => Write,
            (Role::Sales | Role::Marketing | Role::Support | Role::ReadOnly, Settings) => None,
            (Role::ReadOnly, _) => Read,
            (Role::Sales | Role::Marketing | Role::Support, _) => Read,
        }
    }

    /// Whether this role may give `other` to someone (never above your own rank;
    /// only an owner makes owners).
    pub fn may_assign(self, other: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => other != Role::Owner,
            _ => false,
        }
    }
}

impl Area {
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Contacts => "contacts",
            Area::Pipeline => "pipeline",
            Area::Campaigns => "campaigns",
            Area::ServiceDesk => "service-desk",
            Area::Settings => "settings",
        }
    }

    pub fn parse(s: &str) -> Option<Area> {
        AREAS.into_iter().find(|a| a.as_str() == s)
    }
}

/// What a request needs: reads need Read, anything else Write.
pub fn required(method: &str) -> Access {
    match method {
        "GET" | "HEAD" | "OPTIONS" => Access::Read,
        _ => Access::Write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_matches_the_documented_table() {
        let table = [
            (Role::Owner, "WWWWW"),
            (Role::Admin, "WWWWW"),
            (Role::Manager, "WWWWR"),
            (Role::Sales, "WWRR-"),
            (Role::Marketing, "WRWR-"),
            (Role::Support, "WRRW-"),
            (Role::ReadOnly, "RRRR-"),
        ];
        for (role, row) in table {
            for (area, c) in AREAS.into_iter().zip(row.chars()) {
                let want = match c {
                    'W' => Access::Write,
                    'R' => Access::Read,
                    _ => Access::None,
                };
                assert_eq!(role.access(area), want, "{role:?} {area:?}");
            }
        }
    }

    #[test]
    fn names_round_trip_and_assignment_rules() {
        for r in ROLES {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Owner.may_assign(Role::Owner));
        assert!(!Role::Admin.may_assign(Role::Owner));
        assert!(Role::Admin.may_assign(Role::Admin));
        assert!(!Role::Manager.may_assign(Role::Sales));
        assert!(required("GET") < required("POST"));
    }
}
