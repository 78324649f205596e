//! Input validation for contacts: trims, normalises, and reports every bad field.

use edge_http::FieldError;
use serde::Deserialize;

/// What a client may send. Unknown fields are rejected so typos never pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
}

/// A contact that passed validation, normalised (trimmed, email lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
}

impl NewContact {
    /// Lower-cased text the list filter matches against.
    pub fn search_text(&self) -> String {
        [&self.first_name, &self.last_name, &self.email, &self.company, &self.phone]
            .iter()
            .filter_map(|f| f.as_deref())
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
}

const MAX_NAME: usize = 200;

fn clean(v: Option<String>) -> Option<String> {
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

fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    (5..=20).contains(&digits)
        && s.chars().all(|c| c.is_ascii_digit() || " +-().x/".contains(c))
}

impl ContactInput {
    pub fn validate(self) -> Result<NewContact, Vec<FieldError>> {
        let mut errors = Vec::new();
        let first_name = clean(self.first_name);
        let last_name = clean(self.last_name);
        let email = clean(self.email).map(|e| e.to_lowercase());
        let phone = clean(self.phone);
        let company = clean(self.company);
        for (field, v) in [("first_name", &first_name), ("last_name", &last_name), ("company", &company)] {
            if v.as_ref().is_some_and(|s| s.chars().count() > MAX_NAME) {
                errors.push(FieldError::new(field, &format!("must be at most {MAX_NAME} characters")));
            }
        }
        if let Some(e) = &email {
            if !is_email(e) {
                errors.push(FieldError::new("email", "is not a valid email address"));
            }
        }
        if let Some(p) = &phone {
            if !is_phone(p) {
                errors.push(FieldError::new("phone", "is not a valid phone number"));
            }
        }
        if first_name.is_none() && last_name.is_none() && email.is_none() {
            errors.push(FieldError::new("first_name", "a contact needs a name or an email address"));
        }
        if errors.is_empty() {
            Ok(NewContact { first_name, last_name, email, phone, company })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> ContactInput {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn normalises_good_input() {
        let c = input(r#"{"first_name":"  Ada ","email":"ADA@Example.COM","phone":"+44 20 7946 0958"}"#)
            .validate()
            .unwrap();
        assert_eq!(c.first_name.as_deref(), Some("Ada"));
        assert_eq!(c.email.as_deref(), Some("ada@example.com"));
        assert_eq!(c.search_text(), "ada ada@example.com +44 20 7946 0958");
    }

    #[test]
    fn reports_every_bad_field() {
        let errs = input(r#"{"email":"not-an-email","phone":"call me"}"#).validate().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["email", "phone"]);
    }

    #[test]
    fn needs_a_name_or_email() {
        assert!(input(r#"{"company":"Acme"}"#).validate().is_err());
        assert!(input(r#"{"last_name":"Lovelace"}"#).validate().is_ok());
        assert!(serde_json::from_str::<ContactInput>(r#"{"frist_name":"x"}"#).is_err());
    }

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
