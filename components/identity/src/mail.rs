//! Delivery of outbox mail through an HTTP mail API, when one is configured by
//! Spin variables (`mail_api_url`, `mail_api_token`, `mail_from`; the API's origin
//! must also be in `mail_api_host` for `allowed_outbound_hosts`). Without one,
//! mail stays `captured` in the outbox. Each attempt records its status.

use spin_sdk::http::{Method, Request, Response};
use spin_sdk::sqlite::Connection;

pub struct Provider {
    url: String,
    token: String,
    from: String,
}

impl Provider {
    pub fn configured() -> Option<Provider> {
        let var = |n: &str| spin_sdk::variables::get(n).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Some(Provider {
            url: var("mail_api_url")?,
            token: var("mail_api_token").unwrap_or_default(),
            from: var("mail_from").unwrap_or_else(|| "Edge CRM <no-reply@edge-crm.invalid>".into()),
        })
    }

    /// POSTs one message as JSON; Ok on a 2xx answer.
    async fn send(&self, m: &crate::store::OutboxItem) -> Result<(), String> {
        let body = serde_json::json!({
            "id": m.id, "from": self.from, "to": m.to, "subject": m.subject, "text": m.body_text,
        })
        .to_string();
        let mut req = Request::builder();
        req.method(Method::Post).uri(&self.url).header("content-type", "application/json").header("idempotency-key", m.id.clone());
        if !self.token.is_empty() {
            req.header("authorization", format!("Bearer {}", self.token));
        }
        let resp: Response = spin_sdk::http::send(req.body(body).build()).await.map_err(|e| format!("send failed: {e}"))?;
        let status = *resp.status();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("provider answered {status}: {}", String::from_utf8_lossy(resp.body()).chars().take(200).collect::<String>()))
        }
    }
}

/// Sends what is queued (after the transaction that queued it has committed).
/// A failure is recorded on the message; sending never fails the user's request.
pub fn deliver_queued(db: &Connection) {
    let Some(provider) = Provider::configured() else { return };
    let Ok(queued) = crate::store::queued_mail(db, 20) else { return };
    for m in queued {
        let result = spin_sdk::http::run(provider.send(&m));
        let (status, error) = match &result {
            Ok(()) => ("sent", None),
            Err(e) => ("failed", Some(e.as_str())),
        };
        if let Err(e) = crate::store::mark_mail(db, &m.id, status, error) {
            eprintln!("identity: cannot record delivery of {}: {e}", m.id);
        }
    }
}
