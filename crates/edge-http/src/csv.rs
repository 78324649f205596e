//! Writing CSV for exports (shared by every component that exports).

/// A cell a spreadsheet would run as a formula (`=cmd|…`, `@SUM(…)`, `+1+cmd`…).
/// Phone numbers (`+44 20 …`) and negative numbers are not formulas.
pub fn looks_like_formula(s: &str) -> bool {
    let t = s.trim_start();
    match t.chars().next() {
        Some('=') | Some('@') => true,
        Some('+') | Some('-') => !t[1..].chars().all(|c| c.is_ascii_digit() || " .,()-/x".contains(c)),
        Some('\t') | Some('\r') => true,
        _ => false,
    }
}

/// One CSV field for export, quoted when needed; cells that a spreadsheet
/// would run as formulas are prefixed with `'` (OWASP's advice).
pub fn field(s: &str) -> String {
    let s = if looks_like_formula(s) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn row(fields: &[String]) -> String {
    let mut out = fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_defuses_formulas() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("=cmd|x"), "'=cmd|x");
        assert_eq!(field("+44 20 7946 0000"), "+44 20 7946 0000");
        assert_eq!(row(&["x".into(), "say \"hi\"".into()]), "x,\"say \"\"hi\"\"\"\r\n");
    }
}
