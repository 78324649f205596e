//! Customers' portal sessions. A customer signs in with a single-use link
//! mailed to them; the portal component then publishes the session in the
//! tenant's key-value store (`portal-session:<digest>`), and the router
//! authenticates portal requests from it, as it does staff sessions. The two
//! never mix: a different cookie, a different key, a different header.

use serde::{Deserialize, Serialize};

pub const COOKIE: &str = "edge_portal";
/// A sign-in link works once, for this long.
pub const LINK_SECS: i64 = 15 * 60;
/// A portal session lasts this long.
pub const SESSION_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PortalSession {
    pub contact_id: String,
    pub email: String,
    pub csrf: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl PortalSession {
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at
    }
}

pub fn kv_key(digest: &str) -> String {
    format!("portal-session:{digest}")
}

pub fn from_cookie_header(header: &str) -> Option<&str> {
    header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == COOKIE).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

pub fn set_cookie(token: &str, secure: bool) -> String {
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECS}{}", if secure { "; Secure" } else { "" })
}

pub fn clear_cookie(secure: bool) -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_separate_from_staff_sessions() {
        assert_eq!(from_cookie_header("edge_session=staff; edge_portal=cust"), Some("cust"));
        assert_eq!(from_cookie_header("edge_session=staff"), None);
        assert!(set_cookie("t", true).ends_with("Secure"));
        let s = PortalSession { contact_id: "c_1".into(), email: "a@b.c".into(), csrf: "x".into(), expires_at: 10 };
        assert!(s.is_live(9) && !s.is_live(10));
    }
}
