//! Money as integer minor units of an ISO 4217 currency, and conversion to the
//! tenant's base currency at exact decimal exchange rates (no floating point:
//! a report's totals must add up to the cent).

/// Currencies whose minor unit is not the cent (ISO 4217 exponents).
const EXPONENTS: &[(&str, u32)] = &[
    ("BIF", 0), ("CLP", 0), ("DJF", 0), ("GNF", 0), ("ISK", 0), ("JPY", 0), ("KMF", 0), ("KRW", 0),
    ("PYG", 0), ("RWF", 0), ("UGX", 0), ("UYI", 0), ("VND", 0), ("VUV", 0), ("XAF", 0), ("XOF", 0), ("XPF", 0),
    ("BHD", 3), ("IQD", 3), ("JOD", 3), ("KWD", 3), ("LYD", 3), ("OMR", 3), ("TND", 3),
    ("CLF", 4), ("UYW", 4),
];

/// Digits after the decimal point in `currency`'s minor unit.
pub fn exponent(currency: &str) -> u32 {
    EXPONENTS.iter().find(|(c, _)| *c == currency).map_or(2, |(_, e)| *e)
}

/// Three upper-case ASCII letters (the shape of an ISO 4217 code).
pub fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// An exchange rate as an exact decimal: `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub mantissa: i128,
    pub scale: u32,
}

impl Rate {
    pub const ONE: Rate = Rate { mantissa: 1, scale: 0 };

    /// `"0.92"`, `"157.3"`, `"1"`: positive, at most 12 decimals and 18 digits.
    pub fn parse(s: &str) -> Option<Rate> {
        let s = s.trim();
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 12 || int.len() + frac.len() > 18 {
            return None;
        }
        let mantissa: i128 = format!("{int}{frac}").parse().ok()?;
        (mantissa > 0).then_some(Rate { mantissa, scale: frac.len() as u32 })
    }

    /// The canonical text (no trailing zeros).
    pub fn to_text(self) -> String {
        let digits = format!("{:0>width$}", self.mantissa, width = self.scale as usize + 1);
        let (int, frac) = digits.split_at(digits.len() - self.scale as usize);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") }
    }
}

/// `minor` units of `from` in minor units of `to`, at `rate` (1 `from` = rate
/// `to`), rounded half away from zero.
pub fn convert(minor: i64, from: &str, to: &str, rate: Rate) -> i64 {
    let num = minor as i128 * rate.mantissa * 10i128.pow(exponent(to));
    let den = 10i128.pow(rate.scale + exponent(from));
    let q = num / den;
    let r = num % den;
    let rounded = if 2 * r.abs() >= den { q + num.signum() } else { q };
    rounded.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_exactly() {
        assert_eq!(Rate::parse("0.92"), Some(Rate { mantissa: 92, scale: 2 }));
        assert_eq!(Rate::parse("157.30").map(Rate::to_text).as_deref(), Some("157.3"));
        assert_eq!(Rate::parse("0.000001").map(Rate::to_text).as_deref(), Some("0.000001"));
        for bad in ["", "0", "-1", "1e3", "abc", ".5", "1.2.3", "0.0000000000001"] {
            assert_eq!(Rate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn conversion_respects_minor_units_and_rounds_half_away() {
        // 100.00 USD at 0.92 → 92.00 EUR
        assert_eq!(convert(10_000, "USD", "EUR", Rate::parse("0.92").unwrap()), 9_200);
        // 1,000 JPY (no minor unit) at 0.0061 EUR → 6.10 EUR
        assert_eq!(convert(1_000, "JPY", "EUR", Rate::parse("0.0061").unwrap()), 610);
        // 10.00 EUR at 161.5 JPY → 1,615 JPY
        assert_eq!(convert(1_000, "EUR", "JPY", Rate::parse("161.5").unwrap()), 1_615);
        // 1.000 KWD (3 decimals) at 2.98 EUR → 2.98 EUR
        assert_eq!(convert(1_000, "KWD", "EUR", Rate::parse("2.98").unwrap()), 298);
        // 0.01 USD at 0.925 → 0.00925 → 0.01 (half away from zero)
        assert_eq!(convert(1, "USD", "EUR", Rate::parse("0.925").unwrap()), 1);
        assert_eq!(convert(1, "USD", "EUR", Rate::parse("0.4").unwrap()), 0);
        assert_eq!(convert(-1, "USD", "EUR", Rate::parse("0.5").unwrap()), -1);
        assert_eq!(convert(12_345, "EUR", "EUR", Rate::ONE), 12_345);
        assert!(is_currency("EUR") && !is_currency("eur") && !is_currency("EURO"));
    }
}
