//! HMAC-SHA256 (RFC 2104) and the signature header every outgoing and
//! incoming signed request uses: `t=<unix seconds>,v1=<hex HMAC of "t.body">`.

use sha2::{Digest, Sha256};

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(msg).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `X-Edge-Signature` value for `body` sent at `t`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={t},v1={}", hex(&hmac_sha256(secret.as_bytes(), &signed)))
}

/// Checks a signature header, within five minutes of `now` (a replayed old
/// delivery does not verify).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), &'static str> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => {}
        }
    }
    let t = t.ok_or("the signature has no timestamp")?;
    if (now - t).abs() > 300 {
        return Err("the signature is too old or from the future");
    }
    let expected = signature(secret, t, body);
    let expected = expected.rsplit_once("v1=").map(|x| x.1).unwrap_or_default();
    if sigs.iter().any(|s| same(s.as_bytes(), expected.as_bytes())) {
        Ok(())
    } else {
        Err("the signature does not match")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_and_signatures() {
        assert_eq!(hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let long_key = [0xaau8; 131];
        assert_eq!(hex(&hmac_sha256(&long_key, b"Test Using Larger Than Block-Size Key - Hash Key First")), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        let s = signature("k", 1000, b"{}");
        assert_eq!(verify("k", &s, b"{}", 1100), Ok(()));
        assert!(verify("k", &s, b"{}", 2000).is_err(), "replayed late");
        assert!(verify("other", &s, b"{}", 1000).is_err());
        assert!(verify("k", &s, b"{ }", 1000).is_err(), "altered body");
        assert!(verify("k", "v1=00", b"{}", 1000).is_err());
    }
}
