//! Secret tokens (sessions, invitations, resets, API keys): random bytes shown to
//! their holder once, stored only as a SHA-256 hash.

use sha2::{Digest, Sha256};

/// URL-safe text of 32 random bytes, with a prefix naming its kind (`ek_` API key...).
pub fn encode(prefix: &str, random: &[u8; 32]) -> String {
    format!("{prefix}{}", edge_http::ids::encode_cursor_bytes(random))
}

/// What is stored and looked up: never the token itself.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time equality for secrets compared directly (CSRF tokens).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_digests() {
        let t = encode("ek_", &[1; 32]);
        assert!(t.starts_with("ek_") && t.len() > 40);
        assert_ne!(encode("ek_", &[2; 32]), t);
        assert_eq!(digest(&t).len(), 64);
        assert_eq!(digest(&t), digest(&t));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
