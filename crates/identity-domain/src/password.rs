//! Passwords: a minimal policy, argon2id hashing (PHC strings), verification.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 200;

/// Why a password is refused, in words for the user.
pub fn check_policy(password: &str, email: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err("must be at least 10 characters");
    }
    if n > MAX_LEN {
        return Err("must be at most 200 characters");
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Err("must not be one repeated character");
    }
    if !email.is_empty() && password.eq_ignore_ascii_case(email) {
        return Err("must not be your email address");
    }
    Ok(())
}

/// argon2id with the crate's defaults (19 MiB, 2 passes); `salt` is 16 random bytes.
pub fn hash(password: &str, salt: &[u8; 16]) -> Result<String, String> {
    let salt = SaltString::encode_b64(salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery", &[7; 16]).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("Correct horse battery", &h));
        assert!(!verify("x", "not a phc string"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("short", "").is_err());
        assert!(check_policy("aaaaaaaaaaaa", "").is_err());
        assert!(check_policy("Ada@Example.com", "ada@example.com").is_err());
        assert!(check_policy("a long enough passphrase", "ada@example.com").is_ok());
    }
}
