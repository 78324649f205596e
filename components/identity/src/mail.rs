//! Delivery of outbox mail through the configured HTTP mail API
//! ([`edge_component::mail_api`]). Without one, mail stays `captured` in the
//! outbox. Each attempt records its status.

use spin_sdk::sqlite::Connection;

/// Sends what is queued (after the transaction that queued it has committed).
/// A failure is recorded on the message; sending never fails the user's request.
pub fn deliver_queued(db: &Connection) {
    let Some(api) = edge_component::mail_api::MailApi::configured() else { return };
    let Ok(queued) = crate::store::queued_mail(db, 20) else { return };
    for m in queued {
        let result = api.send(&serde_json::json!({"id": m.id, "to": m.to, "subject": m.subject, "text": m.body_text}));
        let (status, error) = match &result {
            Ok(()) => ("sent", None),
            Err(e) => ("failed", Some(e.as_str())),
        };
        if let Err(e) = crate::store::mark_mail(db, &m.id, status, error) {
            eprintln!("identity: cannot record delivery of {}: {e}", m.id);
        }
    }
}
