//! CSV reading for imports, one record at a time from a byte buffer, so a file
//! of any size streams through a bounded buffer and a resumable byte offset:
//! RFC 4180 quoting (`""` escapes, delimiters and newlines inside quotes),
//! LF or CRLF rows, UTF-8 (with or without BOM) or Latin-1, and a row size cap
//! (a runaway line is reported and skipped, not buffered). Also detection of
//! encoding and delimiter, and CSV writing for exports (formula-safe).

/// A row longer than this is refused (and skipped to its end).
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// At most this many columns per row.
pub const MAX_COLUMNS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Latin1,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// A record, and how many bytes it took (its newline included).
    Record(Vec<Vec<u8>>, usize),
    /// The buffer ends inside a record: append more input (or call with `eof`).
    NeedMore,
    /// A record longer than `MAX_ROW_BYTES`: skip this many bytes (to its end,
    /// when known) and report it.
    TooLong(usize),
    /// Nothing left.
    End,
}

/// Reads the next record from `buf`. `eof`: no more input will follow.
pub fn next_record(buf: &[u8], delim: u8, eof: bool) -> Next {
    if buf.is_empty() {
        return Next::End;
    }
    let mut fields: Vec<Vec<u8>> = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    let mut in_quotes = false;
    let mut quoted_field = false;
    let mut i = 0;
    while i < buf.len() {
        if i > MAX_ROW_BYTES {
            // Skip to the next newline outside quotes if it is in the buffer.
            return match find_row_end(&buf[i..], in_quotes) {
                Some(n) => Next::TooLong(i + n),
                None if eof => Next::TooLong(buf.len()),
                None => Next::TooLong(i),
            };
        }
        let b = buf[i];
        if in_quotes {
            if b == b'"' {
                if buf.get(i + 1) == Some(&b'"') {
                    field.push(b'"');
                    i += 2;
                    continue;
                }
                if i + 1 == buf.len() && !eof {
                    return Next::NeedMore;
                }
                in_quotes = false;
            } else {
                field.push(b);
            }
            i += 1;
            continue;
        }
        match b {
            b'"' if field.is_empty() && !quoted_field => {
                in_quotes = true;
                quoted_field = true;
            }
            b if b == delim => {
                fields.push(std::mem::take(&mut field));
                quoted_field = false;
                if fields.len() > MAX_COLUMNS {
                    return match find_row_end(&buf[i..], false) {
                        Some(n) => Next::TooLong(i + n),
                        None if eof => Next::TooLong(buf.len()),
                        None => Next::NeedMore,
                    };
                }
            }
            b'\n' => {
                fields.push(field);
                return Next::Record(fields, i + 1);
            }
            b'\r' if buf.get(i + 1) == Some(&b'\n') => {
                fields.push(field);
                return Next::Record(fields, i + 2);
            }
            b'\r' if i + 1 == buf.len() && !eof => return Next::NeedMore,
            b'\r' => {
                // A lone CR ends a row too (old Mac files).
                fields.push(field);
                return Next::Record(fields, i + 1);
            }
            _ => field.push(b),
        }
        i += 1;
    }
    if !eof {
        return Next::NeedMore;
    }
    fields.push(field);
    Next::Record(fields, buf.len())
}

/// Bytes up to and including the next newline outside quotes.
fn find_row_end(buf: &[u8], mut in_quotes: bool) -> Option<usize> {
    for (i, b) in buf.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Decodes one field; `None` when it is not valid in the file's encoding.
pub fn decode(bytes: &[u8], enc: Encoding) -> Option<String> {
    match enc {
        Encoding::Utf8 => std::str::from_utf8(bytes).ok().map(String::from),
        Encoding::Latin1 => Some(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// What the start of a file says about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Detected {
    pub encoding: Encoding,
    pub delimiter: char,
    /// Bytes of BOM to skip.
    pub bom: usize,
}

/// Detects encoding (BOM, else valid UTF-8, else Latin-1) and delimiter (the
/// candidate splitting the first lines most consistently) from a sample.
pub fn detect(sample: &[u8]) -> Detected {
    let bom = if sample.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
    let body = &sample[bom..];
    // A sample may end inside a multi-byte character: only the last 3 bytes may be cut.
    let valid_utf8 = match std::str::from_utf8(body) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && body.len() - e.valid_up_to() < 4,
    };
    let encoding = if bom > 0 || valid_utf8 { Encoding::Utf8 } else { Encoding::Latin1 };
    let mut best = (',', 0usize, 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let mut counts = Vec::new();
        let mut rest = body;
        while counts.len() < 20 {
            match next_record(rest, d, true) {
                Next::Record(f, n) => {
                    if !(f.len() == 1 && f[0].is_empty()) {
                        counts.push(f.len());
                    }
                    rest = &rest[n..];
                }
                Next::TooLong(n) if n > 0 => rest = &rest[n..],
                _ => break,
            }
        }
        let Some(&first) = counts.first() else { continue };
        let consistent = counts.iter().filter(|&&c| c == first).count();
        // More consistent rows first, then more columns.
        if first > 1 && (consistent, first) > (best.1, best.2) {
            best = (d as char, consistent, first);
        }
    }
    Detected { encoding, delimiter: best.0, bom }
}

pub use edge_http::csv::{field, looks_like_formula, row};

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], d: u8) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut rest = input;
        loop {
            match next_record(rest, d, true) {
                Next::Record(f, n) => {
                    out.push(f.into_iter().map(|b| String::from_utf8(b).unwrap()).collect());
                    rest = &rest[n..];
                }
                Next::End => return out,
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn quotes_newlines_and_crlf() {
        let rows = all(b"a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"multi\nline\"\nlast,,\n", b',');
        assert_eq!(rows, vec![vec!["a", "b", "c"], vec!["x, y", "say \"hi\"", "multi\nline"], vec!["last", "", ""]]);
        assert_eq!(all(b"no,newline", b','), vec![vec!["no", "newline"]]);
        assert_eq!(all(b"a;b\n", b';'), vec![vec!["a", "b"]]);
    }

    #[test]
    fn records_resume_across_buffer_ends() {
        let input = b"one,\"two\nstill two\",three\nfour,five\n";
        for cut in 1..input.len() {
            // A reader holding only the first `cut` bytes asks for more or reads a whole record.
            match next_record(&input[..cut], b',', false) {
                Next::NeedMore => {}
                Next::Record(f, n) => {
                    assert_eq!(n, 26, "cut {cut}");
                    assert_eq!(f[1], b"two\nstill two");
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        // A quote at the end of the buffer may be the first of `""`.
        assert_eq!(next_record(b"\"a\"", b',', false), Next::NeedMore);
        assert_eq!(next_record(b"a\r", b',', false), Next::NeedMore);
    }

    #[test]
    fn runaway_rows_are_skipped_not_buffered() {
        let mut big = vec![b'x'; MAX_ROW_BYTES + 10];
        big.extend_from_slice(b"\nok,row\n");
        match next_record(&big, b',', true) {
            Next::TooLong(n) => assert_eq!(&big[n..], b"ok,row\n"),
            other => panic!("{other:?}"),
        }
        // Not all of it here yet: skip what we have and keep skipping.
        let partial = vec![b'y'; MAX_ROW_BYTES + 100];
        assert!(matches!(next_record(&partial, b',', false), Next::TooLong(n) if n > MAX_ROW_BYTES));
    }

    #[test]
    fn detects_encoding_and_delimiter() {
        assert_eq!(detect(b"\xEF\xBB\xBFname;email\nA;a@x.io\n"), Detected { encoding: Encoding::Utf8, delimiter: ';', bom: 3 });
        assert_eq!(detect("name,city\nZoë,Köln\n".as_bytes()).encoding, Encoding::Utf8);
        assert_eq!(detect(b"name\tcity\nZo\xEB\tK\xF6ln\n"), Detected { encoding: Encoding::Latin1, delimiter: '\t', bom: 0 });
        assert_eq!(decode(b"K\xF6ln", Encoding::Latin1).as_deref(), Some("Köln"));
        assert_eq!(decode(b"K\xF6ln", Encoding::Utf8), None);
        // Commas inside quoted fields do not fool it.
        assert_eq!(detect(b"a;b\n\"x,y,z\";1\n\"p,q\";2\n").delimiter, ';');
        // A sample cut inside a UTF-8 character is still UTF-8.
        let s = "name\nZoë".as_bytes();
        assert_eq!(detect(&s[..s.len() - 1]).encoding, Encoding::Utf8);
    }

    #[test]
    fn formulas_are_recognised_and_defused_on_export() {
        for f in ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+cmd", "-2+3+cmd", "\t=x"] {
            assert!(looks_like_formula(f), "{f}");
        }
        for ok in ["+44 20 7946 0958", "-12.5", "Ada", "a=b", ""] {
            assert!(!looks_like_formula(ok), "{ok}");
        }
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(row(&["a,b".into(), "c".into()]), "\"a,b\",c\r\n");
    }
}
