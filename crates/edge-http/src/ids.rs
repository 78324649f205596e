//! Opaque, time-sortable ids (ULID layout: 48-bit milliseconds + 80 random bits,
//! Crockford base32) with a type prefix, e.g. `c_01JD3...`. Sorting ids sorts by
//! creation time, which keyset pagination relies on.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `millis` since the Unix epoch and 10 bytes of entropy from the caller.
pub fn new_id(prefix: &str, millis: u64, random: [u8; 10]) -> String {
    let mut value: u128 = (millis as u128 & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= (*b as u128) << (8 * (9 - i));
    }
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    for i in (0..26).rev() {
        out.push(ALPHABET[((value >> (5 * i)) & 31) as usize] as char);
    }
    out
}

/// Keeps ids strictly increasing within one table: two ids made in the same
/// millisecond would otherwise sort at random. `last` is the greatest id so far
/// (read inside the writing transaction).
pub fn monotonic(candidate: String, last: Option<&str>) -> String {
    match last {
        Some(last) if candidate.as_str() <= last && last.len() == candidate.len() => increment(last),
        _ => candidate,
    }
}

/// The next id in Crockford base32 order (same prefix, same length).
fn increment(id: &str) -> String {
    let mut bytes: Vec<u8> = id.bytes().collect();
    let start = id.find('_').map_or(0, |i| i + 1);
    for i in (start..bytes.len()).rev() {
        let pos = ALPHABET.iter().position(|c| *c == bytes[i]).unwrap_or(0);
        if pos + 1 < ALPHABET.len() {
            bytes[i] = ALPHABET[pos + 1];
            return String::from_utf8(bytes).unwrap_or_else(|_| id.to_string());
        }
        bytes[i] = ALPHABET[0];
    }
    String::from_utf8(bytes).unwrap_or_else(|_| id.to_string())
}

/// Whether `s` looks like an id of ours with this prefix (cheap input check).
pub fn is_valid(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|body| body.len() == 26 && body.bytes().all(|b| ALPHABET.contains(&b)))
}

/// Opaque cursors: base64url of the text they carry, so clients do not parse them.
pub fn encode_cursor(text: &str) -> String {
    encode_cursor_bytes(text.as_bytes())
}

/// Unpadded base64url of any bytes.
pub fn encode_cursor_bytes(bytes: &[u8]) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub fn decode_cursor(s: &str) -> Option<String> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        if chunk.len() < 2 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c)? << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_validate() {
        let a = new_id("c", 1_700_000_000_000, [255; 10]);
        let b = new_id("c", 1_700_000_000_001, [0; 10]);
        assert!(a < b);
        assert_eq!(a.len(), 28);
        assert!(is_valid("c", &a));
        assert!(!is_valid("d", &a));
        assert!(!is_valid("c", "c_short"));
        assert!(!is_valid("c", "c_01JD3ZZZZZZZZZZZZZZZZZZZZU")); // U is not Crockford
    }

    #[test]
    fn monotonic_ids_within_a_millisecond() {
        let last = new_id("c", 1_000, [9; 10]);
        let same_ms = new_id("c", 1_000, [1; 10]);
        let next = monotonic(same_ms, Some(&last));
        assert!(next > last);
        assert!(is_valid("c", &next));
        assert_eq!(increment("c_0000000000000000000000000Z"), "c_00000000000000000000000010");
        let later = new_id("c", 2_000, [0; 10]);
        assert_eq!(monotonic(later.clone(), Some(&last)), later);
        assert_eq!(monotonic(later.clone(), None), later);
    }

    #[test]
    fn cursors_roundtrip() {
        for s in ["", "a", "ab", "abc", "c_01JD3ABCDEFGHJKMNPQRSTVWXY", "é✓"] {
            assert_eq!(decode_cursor(&encode_cursor(s)).as_deref(), Some(s), "{s}");
        }
        assert_eq!(decode_cursor("!!!!"), None);
        assert_eq!(decode_cursor("A"), None);
    }
}
