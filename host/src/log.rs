//! One JSON line per event on stderr: easy to grep, easy to ship.

use std::io::Write;

pub fn event(level: &str, msg: &str, fields: &[(&str, &str)]) {
    let mut obj = serde_json::Map::new();
    obj.insert("ts".into(), now_rfc3339().into());
    obj.insert("level".into(), level.into());
    obj.insert("msg".into(), msg.into());
    for (k, v) in fields {
        obj.insert((*k).into(), (*v).into());
    }
    emit(serde_json::Value::Object(obj));
}

/// A request line: numbers stay numbers.
pub fn request(fields: serde_json::Map<String, serde_json::Value>) {
    let mut obj = serde_json::Map::new();
    obj.insert("ts".into(), now_rfc3339().into());
    obj.insert("level".into(), "info".into());
    obj.insert("msg".into(), "request".into());
    obj.extend(fields);
    emit(serde_json::Value::Object(obj));
}

/// Writes the line with one write: stderr is unbuffered, and formatting
/// straight into it made a system call of every JSON token (~2% of a list
/// request's CPU).
fn emit(line: serde_json::Value) {
    let mut buf = serde_json::to_vec(&line).unwrap_or_default();
    buf.push(b'\n');
    let _ = std::io::stderr().lock().write_all(&buf);
}

fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_415), (2025, 11, 23));
        assert_eq!(super::civil_from_days(11_016), (2000, 2, 29));
    }
}
