//! Sessions live in the tenant's key-value store under `session:<digest>`. The
//! record format is a published read-only view: the router reads it to
//! authenticate; only the identity component writes it.

use crate::Role;
use serde::{Deserialize, Serialize};

/// Idle expiry: a session unused this long ends.
pub const IDLE_SECS: i64 = 2 * 60 * 60;
/// Absolute expiry: no session lives longer.
pub const ABSOLUTE_SECS: i64 = 7 * 24 * 60 * 60;
/// Refresh `last_seen` at most this often (saves a write per request).
pub const TOUCH_SECS: i64 = 60;

pub const COOKIE: &str = "edge_session";

pub fn kv_key(digest: &str) -> String {
    format!("session:{digest}")
}

/// The sessions of one user (for "sign out everywhere").
pub fn user_index_key(user_id: &str) -> String {
    format!("user-sessions:{user_id}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    /// Double-submit token: state-changing browser requests must echo it.
    pub csrf: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

impl Session {
    pub fn is_live(&self, now: i64) -> bool {
        now - self.created_at < ABSOLUTE_SECS && now - self.last_seen_at < IDLE_SECS
    }

    pub fn needs_touch(&self, now: i64) -> bool {
        now - self.last_seen_at >= TOUCH_SECS
    }
}

/// The `Set-Cookie` value for a new session (Secure under https).
pub fn set_cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={ABSOLUTE_SECS}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie(secure: bool) -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

/// The session token from a `Cookie` header.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(created: i64, seen: i64) -> Session {
        Session { user_id: "u".into(), email: "e".into(), role: Role::Sales, csrf: "c".into(), created_at: created, last_seen_at: seen }
    }

    #[test]
    fn expiry_rules() {
        assert!(s(0, 0).is_live(IDLE_SECS - 1));
        assert!(!s(0, 0).is_live(IDLE_SECS));
        assert!(!s(0, ABSOLUTE_SECS - 10).is_live(ABSOLUTE_SECS));
        assert!(s(0, 0).needs_touch(TOUCH_SECS));
        assert!(!s(0, 0).needs_touch(TOUCH_SECS - 1));
    }

    #[test]
    fn cookies() {
        assert_eq!(from_cookie_header("a=1; edge_session=tok; b=2"), Some("tok"));
        assert_eq!(from_cookie_header("edge_session="), None);
        assert_eq!(from_cookie_header("other=x"), None);
        let c = set_cookie("tok", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("Secure"));
        assert!(!set_cookie("tok", false).contains("Secure"));
    }
}
