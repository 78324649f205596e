//! Consent and suppression. Every contact's consent per channel (granted or
//! withdrawn, with lawful basis, source and time; history kept), and a list of
//! addresses nobody may mail (hard bounces, complaints, manual). Whatever a
//! segment says, [`blocked`] is asked in the transaction that queues a
//! message, on every path that sends marketing mail.
//!
//! The contact record has a consent field too (`granted`/`denied`/`unknown`,
//! set in forms and imports; published as `contacts_consent`). Changes here
//! are copied to it, and mail is blocked when either says no.

use anyhow::Result;
use edge_db::record::Invalid;
use edge_db::{Db, Row};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

pub const CHANNELS: [&str; 3] = ["email", "sms", "phone"];
pub const BASES: [&str; 4] = ["consent", "legitimate_interest", "contract", "legal_obligation"];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Consent {
    pub channel: String,
    /// `granted` or `withdrawn`; `unknown` when nothing was ever recorded.
    pub status: String,
    pub lawful_basis: Option<String>,
    pub source: Option<String>,
    pub at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    pub channel: String,
    pub status: String,
    pub lawful_basis: Option<String>,
    pub source: Option<String>,
}

/// What the contact record says per channel (`granted`, `denied`, `unknown`).
fn on_record<D: Db + ?Sized>(db: &D, contact_id: &str) -> Result<Option<[String; 3]>> {
    let r = match db.run("SELECT email, sms, phone FROM contacts_consent WHERE contact_id = ?", &[contact_id.into()]) {
        Ok(r) => r,
        // Only where the contacts component is absent (this crate's tests).
        Err(_) => return Ok(None),
    };
    Ok(r.first().map(|row| [row.text(0), row.text(1), row.text(2)]))
}

/// The contact's consent on every channel: withdrawn when either this record
/// or the contact record says no, granted when one says yes, else unknown.
pub fn of<D: Db + ?Sized>(db: &D, contact_id: &str) -> Result<Vec<Consent>> {
    let r = db.run("SELECT channel, status, lawful_basis, source, at FROM consents WHERE contact_id = ?", &[contact_id.into()])?;
    let record = on_record(db, contact_id)?;
    Ok(CHANNELS.iter().enumerate().map(|(i, c)| {
        let mine = r.iter().find(|row| row.str(0) == Some(c)).map(|row| Consent { channel: row.text(0), status: row.text(1), lawful_basis: row.string(2), source: row.string(3), at: row.string(4) });
        let theirs = record.as_ref().map(|r| r[i].as_str()).unwrap_or("unknown");
        match (mine, theirs) {
            (Some(m), "denied") if m.status == "granted" => Consent { status: "withdrawn".into(), source: Some("contact record".into()), ..m },
            (Some(m), _) => m,
            (None, "denied") => Consent { channel: c.to_string(), status: "withdrawn".into(), lawful_basis: None, source: Some("contact record".into()), at: None },
            (None, "granted") => Consent { channel: c.to_string(), status: "granted".into(), lawful_basis: None, source: Some("contact record".into()), at: None },
            (None, _) => Consent { channel: c.to_string(), status: "unknown".into(), lawful_basis: None, source: None, at: None },
        }
    }).collect())
}

pub fn history<D: Db + ?Sized>(db: &D, contact_id: &str) -> Result<Vec<serde_json::Value>> {
    let r = db.run("SELECT channel, status, lawful_basis, source, at, actor FROM consent_history WHERE contact_id = ? ORDER BY seq DESC LIMIT 200", &[contact_id.into()])?;
    Ok(r.iter().map(|row: Row| serde_json::json!({"channel": row.str(0), "status": row.str(1), "lawful_basis": row.str(2), "source": row.str(3), "at": row.str(4), "actor": row.str(5)})).collect())
}

/// Records a consent change (current state and history). No transaction of its own.
pub fn record<D: Db + ?Sized>(db: &D, actor: &str, contact_id: &str, input: &ConsentInput) -> Result<()> {
    let mut e = Vec::new();
    if !CHANNELS.contains(&input.channel.as_str()) {
        e.push(FieldError::new("channel", "must be email, sms or phone"));
    }
    if !["granted", "withdrawn"].contains(&input.status.as_str()) {
        e.push(FieldError::new("status", "must be granted or withdrawn"));
    }
    if input.status == "granted" && !input.lawful_basis.as_deref().is_some_and(|b| BASES.contains(&b)) {
        e.push(FieldError::new("lawful_basis", "granting needs a lawful basis: consent, legitimate_interest, contract or legal_obligation"));
    }
    if input.lawful_basis.as_deref().is_some_and(|b| !BASES.contains(&b)) {
        e.push(FieldError::new("lawful_basis", "must be consent, legitimate_interest, contract or legal_obligation"));
    }
    let source = input.source.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(200).collect::<String>());
    // A withdrawal has no lawful basis to send on.
    let basis = if input.status == "withdrawn" { None } else { input.lawful_basis.clone() };
    if !e.is_empty() {
        return Err(Invalid(e).into());
    }
    let now = edge_db::now();
    db.run(
        "INSERT INTO consents (contact_id, channel, status, lawful_basis, source, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (contact_id, channel) DO UPDATE SET status = excluded.status, lawful_basis = excluded.lawful_basis, source = excluded.source, at = excluded.at",
        &[contact_id.into(), input.channel.as_str().into(), input.status.as_str().into(), basis.clone().into(), source.clone().into(), now.as_str().into()],
    )?;
    db.run(
        "INSERT INTO consent_history (contact_id, channel, status, lawful_basis, source, at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[contact_id.into(), input.channel.as_str().into(), input.status.as_str().into(), basis.into(), source.into(), now.into(), actor.into()],
    )?;
    Ok(())
}

pub fn normalize_email(e: &str) -> String {
    e.trim().to_lowercase()
}

/// Adds an address to the suppression list (keeps the first reason).
pub fn suppress<D: Db + ?Sized>(db: &D, email: &str, reason: &str, source: Option<&str>) -> Result<()> {
    let email = normalize_email(email);
    if !email.contains('@') || email.len() > 254 {
        return Err(Invalid::one("email", "must be an email address").into());
    }
    if !["bounced", "complained", "manual", "unsubscribed"].contains(&reason) {
        return Err(Invalid::one("reason", "must be bounced, complained, manual or unsubscribed").into());
    }
    db.run("INSERT OR IGNORE INTO suppressions (email, reason, source, at) VALUES (?, ?, ?, ?)", &[email.into(), reason.into(), source.into(), edge_db::now().into()])?;
    Ok(())
}

pub fn unsuppress<D: Db + ?Sized>(db: &D, email: &str) -> Result<bool> {
    db.run("DELETE FROM suppressions WHERE email = ?", &[normalize_email(email).into()])?;
    Ok(db.run("SELECT changes()", &[])?.scalar_i64().unwrap_or(0) > 0)
}

pub fn suppressions<D: Db + ?Sized>(db: &D, q: Option<&str>, limit: i64) -> Result<Vec<serde_json::Value>> {
    let like = format!("%{}%", q.unwrap_or("").to_lowercase().replace('%', ""));
    let r = db.run("SELECT email, reason, source, at FROM suppressions WHERE email LIKE ? ORDER BY at DESC LIMIT ?", &[like.into(), limit.into()])?;
    Ok(r.iter().map(|row| serde_json::json!({"email": row.str(0), "reason": row.str(1), "source": row.str(2), "at": row.str(3)})).collect())
}

/// Why marketing email may not go to this contact, if it may not.
pub fn blocked<D: Db + ?Sized>(db: &D, contact_id: &str, email: Option<&str>) -> Result<Option<&'static str>> {
    let Some(email) = email.map(normalize_email).filter(|e| e.contains('@')) else { return Ok(Some("no_email")) };
    let r = db.run(
        "SELECT (SELECT status FROM consents WHERE contact_id = ? AND channel = 'email'), EXISTS (SELECT 1 FROM suppressions WHERE email = ?)",
        &[contact_id.into(), email.into()],
    )?;
    let row = r.first();
    if row.as_ref().and_then(|r| r.str(0)) == Some("withdrawn") || on_record(db, contact_id)?.is_some_and(|r| r[0] == "denied") {
        return Ok(Some("unsubscribed"));
    }
    if row.and_then(|r| r.i64(1)) == Some(1) {
        return Ok(Some("suppressed"));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{COMPONENT, MIGRATIONS};

    #[test]
    fn withdrawn_consent_and_suppression_block_mail() {
        let db = edge_db::native::migrated(COMPONENT, MIGRATIONS);
        assert_eq!(blocked(&db, "ct_1", Some("a@x.test")).unwrap(), None);
        assert_eq!(blocked(&db, "ct_1", None).unwrap(), Some("no_email"));
        let withdraw = ConsentInput { channel: "email".into(), status: "withdrawn".into(), lawful_basis: None, source: Some("call".into()) };
        record(&db, "user:u1", "ct_1", &withdraw).unwrap();
        assert_eq!(blocked(&db, "ct_1", Some("a@x.test")).unwrap(), Some("unsubscribed"));
        let grant = ConsentInput { channel: "email".into(), status: "granted".into(), lawful_basis: Some("consent".into()), source: Some("form".into()) };
        record(&db, "user:u1", "ct_1", &grant).unwrap();
        assert_eq!(blocked(&db, "ct_1", Some("a@x.test")).unwrap(), None);
        suppress(&db, " A@X.test ", "bounced", None).unwrap();
        assert_eq!(blocked(&db, "ct_1", Some("a@x.test")).unwrap(), Some("suppressed"));
        assert_eq!(history(&db, "ct_1").unwrap().len(), 2);
        let no_basis = ConsentInput { channel: "email".into(), status: "granted".into(), lawful_basis: None, source: None };
        assert!(record(&db, "user:u1", "ct_2", &no_basis).unwrap_err().downcast_ref::<Invalid>().is_some());
        assert!(unsuppress(&db, "a@x.test").unwrap());
        assert_eq!(blocked(&db, "ct_1", Some("a@x.test")).unwrap(), None);
        // The contact record says no (a form, an import): blocked, and shown so.
        db.run("CREATE TABLE contacts_consent (contact_id TEXT, email TEXT, sms TEXT, phone TEXT)", &[]).unwrap();
        db.run("INSERT INTO contacts_consent VALUES ('ct_1', 'denied', 'unknown', 'granted')", &[]).unwrap();
        assert_eq!(blocked(&db, "ct_1", Some("a@x.test")).unwrap(), Some("unsubscribed"));
        let shown = of(&db, "ct_1").unwrap();
        assert_eq!(shown.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(), vec!["withdrawn", "unknown", "granted"]);
    }
}
