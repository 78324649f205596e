//! Field-level checks shared by every record type: trimming, emails, phones.


pub fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 255
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && s.chars().all(|c| !c.is_whitespace() && !c.is_control())
        && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

pub fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    (5..=20).contains(&digits)
        && s.chars().all(|c| c.is_ascii_digit() || " +-().x/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_edge_cases() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["@b.co", "a@", "a@b", "a b@c.de", "a@.b.c", "a@b..c", "a@b.c."] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
