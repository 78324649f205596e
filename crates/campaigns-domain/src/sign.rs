//! Signed links: tracking pixels, click redirects and unsubscribe links carry
//! `<message id>.<what>.<signature>`, where the signature is HMAC-SHA256 under
//! the tenant's own secret. A forged or altered link does not verify, and a
//! link from one tenant means nothing in another.

pub use edge_http::hmac::{hex, hmac_sha256, same};

/// What a link does.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    Open,
    Click(usize),
    Unsubscribe,
}

impl Link {
    fn code(&self) -> String {
        match self {
            Link::Open => "o".into(),
            Link::Click(n) => n.to_string(),
            Link::Unsubscribe => "u".into(),
        }
    }
}

fn signature(secret: &str, message_id: &str, code: &str) -> String {
    hex(&hmac_sha256(secret.as_bytes(), format!("{message_id}.{code}").as_bytes())[..16])
}

pub fn token(secret: &str, message_id: &str, link: &Link) -> String {
    let code = link.code();
    format!("{message_id}.{code}.{}", signature(secret, message_id, &code))
}

/// The message and link a token names, if its signature holds.
pub fn verify(secret: &str, token: &str) -> Option<(String, Link)> {
    let mut parts = token.splitn(3, '.');
    let (id, code, sig) = (parts.next()?, parts.next()?, parts.next()?);
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    if !same(signature(secret, id, code).as_bytes(), sig.as_bytes()) {
        return None;
    }
    let link = match code {
        "o" => Link::Open,
        "u" => Link::Unsubscribe,
        n => Link::Click(n.parse().ok().filter(|n: &usize| *n < 1000)?),
    };
    Some((id.to_string(), link))
}

/// A provider webhook's `t=<unix seconds>,v1=<hex HMAC of "t.body">`, within
/// five minutes of `now` (an old, replayed delivery does not verify).
pub fn verify_webhook(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), &'static str> {
    edge_http::hmac::verify(secret, header, body, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_links_are_rejected() {
        let t = token("secret-a", "ms_1", &Link::Click(2));
        assert_eq!(verify("secret-a", &t), Some(("ms_1".into(), Link::Click(2))));
        assert_eq!(verify("secret-b", &t), None, "another tenant's secret");
        let other_link = t.replacen(".2.", ".3.", 1);
        assert_eq!(verify("secret-a", &other_link), None, "another link of the same message");
        let other_message = t.replacen("ms_1", "ms_2", 1);
        assert_eq!(verify("secret-a", &other_message), None, "another message");
        for junk in ["", "ms_1", "ms_1.o", "ms_1.o.", "../x.o.00", "ms_1.99999.abc"] {
            assert_eq!(verify("secret-a", junk), None, "{junk}");
        }
        let u = token("secret-a", "ms_1", &Link::Unsubscribe);
        assert_eq!(verify("secret-a", &u).map(|v| v.1), Some(Link::Unsubscribe));
    }

    #[test]
    fn webhook_signatures_and_their_age() {
        let body = br#"{"type":"bounced"}"#;
        let sig = hex(&hmac_sha256(b"whsec", b"1000.{\"type\":\"bounced\"}"));
        assert_eq!(verify_webhook("whsec", &format!("t=1000,v1={sig}"), body, 1100), Ok(()));
        assert!(verify_webhook("whsec", &format!("t=1000,v1={sig}"), body, 2000).is_err(), "replayed late");
        assert!(verify_webhook("other", &format!("t=1000,v1={sig}"), body, 1000).is_err());
        assert!(verify_webhook("whsec", &format!("t=1000,v1={sig}"), b"{}", 1000).is_err(), "altered body");
        assert!(verify_webhook("whsec", "v1=00", body, 1000).is_err());
    }
}
