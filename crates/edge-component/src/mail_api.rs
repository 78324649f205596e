//! An HTTP mail API, when one is configured by Spin variables (`mail_api_url`,
//! `mail_api_token`, `mail_from`; the API's origin must also be in
//! `mail_api_host` for `allowed_outbound_hosts`). Each message is POSTed as
//! JSON with its id as `Idempotency-Key`, so a retried send is not a second mail.

use spin_sdk::http::{Method, Request, Response};

pub struct MailApi {
    url: String,
    token: String,
    pub from: String,
}

impl MailApi {
    pub fn configured() -> Option<MailApi> {
        let var = |n: &str| spin_sdk::variables::get(n).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Some(MailApi {
            url: var("mail_api_url")?,
            token: var("mail_api_token").unwrap_or_default(),
            from: var("mail_from").unwrap_or_else(|| "Edge CRM <no-reply@edge-crm.invalid>".into()),
        })
    }

    /// POSTs one message (`{"id", "to", "subject", "text", …}`; `from` is
    /// added); Ok on a 2xx answer.
    pub fn send(&self, message: &serde_json::Value) -> Result<(), String> {
        let mut body = message.clone();
        if body.get("from").is_none_or(|f| f.is_null()) {
            body["from"] = self.from.clone().into();
        }
        let id = body["id"].as_str().unwrap_or_default().to_string();
        let mut req = Request::builder();
        req.method(Method::Post).uri(&self.url).header("content-type", "application/json").header("idempotency-key", id);
        if !self.token.is_empty() {
            req.header("authorization", format!("Bearer {}", self.token));
        }
        let resp: Response = spin_sdk::http::run(spin_sdk::http::send(req.body(body.to_string()).build())).map_err(|e| format!("send failed: {e}"))?;
        let status = *resp.status();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("provider answered {status}: {}", String::from_utf8_lossy(resp.body()).chars().take(200).collect::<String>()))
        }
    }
}
