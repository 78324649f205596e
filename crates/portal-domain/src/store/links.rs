//! Customers' sign-in links: a random token mailed to the customer, stored
//! only as its digest, usable once, for a quarter of an hour.

use anyhow::Result;
use edge_db::{Db, Val};

/// How many links one address may ask for in a quarter of an hour.
pub const PER_WINDOW: i64 = 5;

/// Records a new link for `contact_id` (the token's digest); false when the
/// address asked too often (nothing is recorded then).
pub fn issue<D: Db + ?Sized>(db: &D, digest: &str, contact_id: &str, email: &str, now: i64) -> Result<bool> {
    edge_db::tx(db, || {
        let recent = db.run("SELECT count(*) FROM portal_links WHERE email = ? AND created_at > ?", &[email.into(), Val::Int(now - crate::LINK_WINDOW)])?.scalar_i64().unwrap_or(0);
        if recent >= PER_WINDOW {
            return Ok(false);
        }
        db.run("DELETE FROM portal_links WHERE expires_at < ?", &[Val::Int(now - 86_400)])?;
        db.run(
            "INSERT INTO portal_links (digest, contact_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            &[digest.into(), contact_id.into(), email.into(), Val::Int(now), Val::Int(now + crate::LINK_WINDOW)],
        )?;
        Ok(true)
    })
}

/// Uses a link: its (contact, email) if it exists, is unused and unexpired.
pub fn redeem<D: Db + ?Sized>(db: &D, digest: &str, now: i64) -> Result<Option<(String, String)>> {
    let r = db.run(
        "UPDATE portal_links SET used_at = ?1 WHERE digest = ?2 AND used_at IS NULL AND expires_at > ?1 RETURNING contact_id, email",
        &[Val::Int(now), digest.into()],
    )?;
    Ok(r.first().map(|row| (row.text(0), row.text(1))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::db;

    #[test]
    fn a_link_works_once_and_expires() {
        let db = db();
        assert!(issue(&db, "d1", "c_1", "a@example.com", 1000).unwrap());
        assert_eq!(redeem(&db, "d1", 1001).unwrap(), Some(("c_1".into(), "a@example.com".into())));
        assert_eq!(redeem(&db, "d1", 1002).unwrap(), None, "single use");
        assert!(issue(&db, "d2", "c_1", "a@example.com", 2000).unwrap());
        assert_eq!(redeem(&db, "d2", 2000 + crate::LINK_WINDOW).unwrap(), None, "expired");
        assert_eq!(redeem(&db, "nope", 2001).unwrap(), None);
        for i in 0..4 {
            assert!(issue(&db, &format!("x{i}"), "c_1", "a@example.com", 2100).unwrap());
        }
        assert!(!issue(&db, "x9", "c_1", "a@example.com", 2100).unwrap(), "at most five in a quarter hour");
    }
}
