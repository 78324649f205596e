//! Sessions and sign-in counters in the tenant's key-value store.

use anyhow::Result;
use identity_domain::session::{self, Session};
use identity_domain::throttle::Failures;
use identity_domain::token;
use spin_sdk::key_value::Store;

pub fn store() -> Result<Store> {
    Ok(Store::open_default()?)
}

fn get_json<T: serde::de::DeserializeOwned>(kv: &Store, key: &str) -> Result<Option<T>> {
    Ok(match kv.get(key)? {
        Some(b) => serde_json::from_slice(&b).ok(),
        None => None,
    })
}

fn set_json<T: serde::Serialize>(kv: &Store, key: &str, v: &T) -> Result<()> {
    kv.set(key, &serde_json::to_vec(v)?)?;
    Ok(())
}

/// Creates a session; returns its token (for the cookie) and CSRF token.
pub fn create(kv: &Store, user_id: &str, email: &str, role: identity_domain::Role, now: i64) -> Result<(String, String)> {
    let tok = token::encode("", &crate::store::random::<32>());
    let csrf = token::encode("", &crate::store::random::<32>());
    let digest = token::digest(&tok);
    let s = Session { user_id: user_id.into(), email: email.into(), role, csrf: csrf.clone(), created_at: now, last_seen_at: now };
    set_json(kv, &session::kv_key(&digest), &s)?;
    let idx_key = session::user_index_key(user_id);
    let mut idx: Vec<String> = get_json(kv, &idx_key)?.unwrap_or_default();
    idx.push(digest);
    set_json(kv, &idx_key, &idx)?;
    Ok((tok, csrf))
}

/// The live session for a token (refreshing its idle clock), or None.
pub fn lookup(kv: &Store, tok: &str, now: i64) -> Result<Option<(String, Session)>> {
    let digest = token::digest(tok);
    let key = session::kv_key(&digest);
    let Some(mut s) = get_json::<Session>(kv, &key)? else { return Ok(None) };
    if !s.is_live(now) {
        kv.delete(&key)?;
        return Ok(None);
    }
    if s.needs_touch(now) {
        s.last_seen_at = now;
        set_json(kv, &key, &s)?;
    }
    Ok(Some((digest, s)))
}

/// Refreshes a live session's idle clock by its digest.
pub fn touch(kv: &Store, digest: &str, now: i64) -> Result<()> {
    let key = session::kv_key(digest);
    if let Some(mut s) = get_json::<Session>(kv, &key)? {
        if s.is_live(now) && s.needs_touch(now) {
            s.last_seen_at = now;
            set_json(kv, &key, &s)?;
        }
    }
    Ok(())
}

pub fn end(kv: &Store, digest: &str) -> Result<()> {
    kv.delete(&session::kv_key(digest))?;
    Ok(())
}

/// Ends every session of a user (sign out everywhere, password reset, deactivation).
pub fn end_all(kv: &Store, user_id: &str) -> Result<()> {
    let idx_key = session::user_index_key(user_id);
    let idx: Vec<String> = get_json(kv, &idx_key)?.unwrap_or_default();
    for d in idx {
        kv.delete(&session::kv_key(&d))?;
    }
    kv.delete(&idx_key)?;
    Ok(())
}

/// Role changes reach live sessions at once.
pub fn set_role(kv: &Store, user_id: &str, role: identity_domain::Role) -> Result<()> {
    let idx: Vec<String> = get_json(kv, &session::user_index_key(user_id))?.unwrap_or_default();
    for d in idx {
        let key = session::kv_key(&d);
        if let Some(mut s) = get_json::<Session>(kv, &key)? {
            s.role = role;
            set_json(kv, &key, &s)?;
        }
    }
    Ok(())
}

pub fn failures(kv: &Store, key: &str) -> Result<Failures> {
    Ok(get_json(kv, key)?.unwrap_or_default())
}

pub fn record_failure(kv: &Store, key: &str, now: i64) -> Result<()> {
    let f = failures(kv, key)?.record_failure(now);
    set_json(kv, key, &f)
}

pub fn clear_failures(kv: &Store, key: &str) -> Result<()> {
    kv.delete(key)?;
    Ok(())
}
