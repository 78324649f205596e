//! Custom fields: per-tenant definitions for contacts and companies, and the
//! validation of their values. Values live in the record's `custom` JSON object
//! under the field's `key`; each definition gets an expression index so filters
//! and sorts on it stay indexed.

use edge_http::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Contact,
    Company,
}

impl Entity {
    pub fn table(self) -> &'static str {
        match self {
            Entity::Contact => "contacts",
            Entity::Company => "companies",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Contact => "contact",
            Entity::Company => "company",
        }
    }
    pub fn parse(s: &str) -> Option<Entity> {
        match s {
            "contact" => Some(Entity::Contact),
            "company" => Some(Entity::Company),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Text,
    LongText,
    Number,
    /// Integer minor units; the currency is the field's `currency`.
    Money,
    /// `YYYY-MM-DD`.
    Date,
    Select,
    MultiSelect,
    Checkbox,
    Url,
    Email,
    Phone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub id: String,
    pub entity: Entity,
    /// Stable name in `custom` and in filters (`custom.<key>`): lower-case letters, digits, `_`.
    pub key: String,
    pub label: String,
    pub kind: Kind,
    /// Choices of select and multi-select fields.
    #[serde(default)]
    pub options: Vec<String>,
    /// ISO 4217 code of money fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default)]
    pub required: bool,
    pub position: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// What a client sends to define a field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldInput {
    pub entity: Option<String>,
    pub key: Option<String>,
    pub label: Option<String>,
    pub kind: Option<Kind>,
    #[serde(default)]
    pub options: Option<Vec<String>>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub required: Option<bool>,
    #[serde(default)]
    pub position: Option<i64>,
}

/// Keys of standard fields, which custom keys may not shadow in the UI or imports.
pub const RESERVED: &[&str] = &["id", "name", "email", "phone", "owner", "tags", "custom", "created_at", "updated_at"];

pub fn valid_key(k: &str) -> bool {
    (1..=40).contains(&k.len())
        && k.as_bytes()[0].is_ascii_lowercase()
        && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !RESERVED.contains(&k)
}

impl FieldInput {
    /// Validates a new definition (entity, key and kind are fixed from now on);
    /// the store gives it an id and times.
    pub fn validate_new(self) -> Result<FieldDef, Vec<FieldError>> {
        let mut errors = Vec::new();
        let entity = self.entity.as_deref().and_then(Entity::parse);
        if entity.is_none() {
            errors.push(FieldError::new("entity", "must be `contact` or `company`"));
        }
        let key = self.key.unwrap_or_default().trim().to_string();
        if !valid_key(&key) {
            errors.push(FieldError::new("key", "must start with a letter and hold only a-z, 0-9 and _ (at most 40), and not be a standard field"));
        }
        let label = self.label.unwrap_or_default().trim().to_string();
        if label.is_empty() || label.chars().count() > 80 {
            errors.push(FieldError::new("label", "is required (at most 80 characters)"));
        }
        if self.kind.is_none() {
            errors.push(FieldError::new("kind", "is required: text, long-text, number, money, date, select, multi-select, checkbox, url, email or phone"));
        }
        let kind = self.kind.unwrap_or(Kind::Text);
        let options = clean_options(self.options.unwrap_or_default(), kind, &mut errors);
        let currency = clean_currency(self.currency, kind, &mut errors);
        if errors.is_empty() {
            Ok(FieldDef {
                id: String::new(),
                entity: entity.unwrap_or(Entity::Contact),
                key,
                label,
                kind,
                options,
                currency,
                required: self.required.unwrap_or(false),
                position: self.position.unwrap_or(0),
                created_at: String::new(),
                updated_at: String::new(),
            })
        } else {
            Err(errors)
        }
    }

    /// Applies a change to an existing definition (label, options, required, position).
    pub fn apply(self, def: &mut FieldDef) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.key.as_deref().is_some_and(|k| k != def.key) || self.kind.is_some_and(|k| k != def.kind) || self.entity.as_deref().is_some_and(|e| e != def.entity.as_str()) {
            errors.push(FieldError::new("key", "entity, key and kind cannot change; define a new field instead"));
        }
        if let Some(l) = self.label {
            let l = l.trim().to_string();
            if l.is_empty() || l.chars().count() > 80 {
                errors.push(FieldError::new("label", "is required (at most 80 characters)"));
            }
            def.label = l;
        }
        if let Some(o) = self.options {
            def.options = clean_options(o, def.kind, &mut errors);
        }
        if self.currency.is_some() {
            def.currency = clean_currency(self.currency, def.kind, &mut errors);
        }
        if let Some(r) = self.required {
            def.required = r;
        }
        if let Some(p) = self.position {
            def.position = p;
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn clean_options(options: Vec<String>, kind: Kind, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in options {
        let o = o.trim().to_string();
        if !o.is_empty() && !out.contains(&o) {
            out.push(o);
        }
    }
    let is_select = matches!(kind, Kind::Select | Kind::MultiSelect);
    if is_select && out.is_empty() {
        errors.push(FieldError::new("options", "a select field needs at least one option"));
    }
    if !is_select && !out.is_empty() {
        errors.push(FieldError::new("options", "only select fields have options"));
    }
    if out.len() > 200 || out.iter().any(|o| o.chars().count() > 100) {
        errors.push(FieldError::new("options", "at most 200 options of at most 100 characters"));
    }
    out
}

fn clean_currency(c: Option<String>, kind: Kind, errors: &mut Vec<FieldError>) -> Option<String> {
    match (kind, c.map(|c| c.trim().to_uppercase())) {
        (Kind::Money, Some(c)) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => Some(c),
        (Kind::Money, None) => Some("USD".into()),
        (Kind::Money, Some(_)) => {
            errors.push(FieldError::new("currency", "must be an ISO 4217 code such as EUR"));
            None
        }
        (_, Some(_)) => {
            errors.push(FieldError::new("currency", "only money fields have a currency"));
            None
        }
        (_, None) => None,
    }
}

pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (s[0..4].parse::<u32>(), s[5..7].parse::<u32>(), s[8..10].parse::<u32>()) else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    (1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize] && y >= 1
}

pub fn is_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        host.contains('.') && !host.starts_with('.') && !r.chars().any(char::is_whitespace)
    }) && s.len() <= 2000
}

impl FieldDef {
    /// Checks and normalises one value (`Value::Null` clears the field).
    pub fn check(&self, v: &Value) -> Result<Value, String> {
        if v.is_null() {
            return if self.required { Err("is required".into()) } else { Ok(Value::Null) };
        }
        let text = || v.as_str().map(str::trim).map(String::from).ok_or_else(|| "must be text".to_string());
        Ok(match self.kind {
            Kind::Text | Kind::LongText => {
                let s = text()?;
                let max = if self.kind == Kind::Text { 500 } else { 20_000 };
                if s.chars().count() > max {
                    return Err(format!("must be at most {max} characters"));
                }
                if s.is_empty() {
                    return self.check(&Value::Null);
                }
                Value::String(s)
            }
            Kind::Number => match v.as_f64() {
                Some(n) if n.is_finite() => v.clone(),
                _ => return Err("must be a number".into()),
            },
            Kind::Money => match v.as_i64() {
                Some(_) => v.clone(),
                None => return Err("must be a whole number of minor units (cents)".into()),
            },
            Kind::Date => {
                let s = text()?;
                if !is_date(&s) {
                    return Err("must be a date (YYYY-MM-DD)".into());
                }
                Value::String(s)
            }
            Kind::Select => {
                let s = text()?;
                if !self.options.contains(&s) {
                    return Err(format!("must be one of: {}", self.options.join(", ")));
                }
                Value::String(s)
            }
            Kind::MultiSelect => {
                let Some(items) = v.as_array() else { return Err("must be a list of options".into()) };
                let mut out = Vec::new();
                for i in items {
                    match i.as_str() {
                        Some(s) if self.options.iter().any(|o| o == s) => {
                            if !out.contains(&s) {
                                out.push(s)
                            }
                        }
                        _ => return Err(format!("each item must be one of: {}", self.options.join(", "))),
                    }
                }
                if out.is_empty() && self.required {
                    return Err("is required".into());
                }
                serde_json::json!(out)
            }
            Kind::Checkbox => match v.as_bool() {
                Some(b) => Value::Bool(b),
                None => return Err("must be true or false".into()),
            },
            Kind::Url => {
                let s = text()?;
                if !is_url(&s) {
                    return Err("must be an http(s) URL".into());
                }
                Value::String(s)
            }
            Kind::Email => {
                let s = text()?.to_lowercase();
                if !crate::validate::is_email(&s) {
                    return Err("is not a valid email address".into());
                }
                Value::String(s)
            }
            Kind::Phone => {
                let s = text()?;
                if !crate::validate::is_phone(&s) {
                    return Err("is not a valid phone number".into());
                }
                Value::String(s)
            }
        })
    }

    /// Parses a value from text (CSV import, query strings).
    pub fn parse_text(&self, s: &str) -> Result<Value, String> {
        let s = s.trim();
        if s.is_empty() {
            return self.check(&Value::Null);
        }
        let v = match self.kind {
            Kind::Number => s.replace(',', "").parse::<f64>().map(|n| serde_json::json!(n)).map_err(|_| "must be a number".to_string())?,
            Kind::Money => parse_money(s).map(Value::from).ok_or("must be an amount such as 1234.50")?,
            Kind::Checkbox => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "x" => Value::Bool(true),
                "false" | "no" | "n" | "0" => Value::Bool(false),
                _ => return Err("must be yes or no".into()),
            },
            Kind::MultiSelect => Value::Array(s.split([';', '|']).map(|x| Value::String(x.trim().to_string())).filter(|x| x.as_str() != Some("")).collect()),
            _ => Value::String(s.to_string()),
        };
        self.check(&v)
    }

    /// The SQL expression reading this field from the record's `custom` column.
    /// Keys are validated at definition, so interpolating them is safe.
    pub fn sql(&self) -> String {
        format!("json_extract(custom, '$.{}')", self.key)
    }

    pub fn index_name(&self) -> String {
        format!("{}_cf_{}", self.entity.table(), self.key)
    }
}

/// "1,234.50" → 123450 minor units (two decimals).
pub fn parse_money(s: &str) -> Option<i64> {
    let s = s.replace([',', ' '], "");
    let s = s.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '-' && c != '.');
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let f: i64 = format!("{frac:0<2}").parse().ok()?;
    let v = w.checked_mul(100)?.checked_add(f)?;
    Some(if neg { -v } else { v })
}

/// Validates a whole `custom` object against the definitions: unknown keys and
/// bad values are reported per field (`custom.<key>`); required fields must be set.
pub fn check_custom(defs: &[FieldDef], custom: &serde_json::Map<String, Value>) -> Result<serde_json::Map<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = serde_json::Map::new();
    for (k, v) in custom {
        match defs.iter().find(|d| &d.key == k) {
            None => errors.push(FieldError::new(&format!("custom.{k}"), "is not a custom field of this record type")),
            Some(d) => match d.check(v) {
                Ok(Value::Null) => {}
                Ok(v) => {
                    out.insert(k.clone(), v);
                }
                Err(m) => errors.push(FieldError::new(&format!("custom.{k}"), &m)),
            },
        }
    }
    for d in defs.iter().filter(|d| d.required) {
        if !out.contains_key(&d.key) && !errors.iter().any(|e| e.field == format!("custom.{}", d.key)) {
            errors.push(FieldError::new(&format!("custom.{}", d.key), "is required"));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub fn def(key: &str, kind: Kind, options: &[&str]) -> FieldDef {
        FieldDef {
            id: format!("f_{key}"),
            entity: Entity::Contact,
            key: key.into(),
            label: key.into(),
            kind,
            options: options.iter().map(|s| s.to_string()).collect(),
            currency: (kind == Kind::Money).then(|| "EUR".into()),
            required: false,
            position: 0,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn every_kind_validates_its_values() {
        let cases: &[(Kind, &[&str], Value, Result<Value, ()>)] = &[
            (Kind::Text, &[], json!(" hi "), Ok(json!("hi"))),
            (Kind::Text, &[], json!(5), Err(())),
            (Kind::LongText, &[], json!("a\nb"), Ok(json!("a\nb"))),
            (Kind::Number, &[], json!(2.5), Ok(json!(2.5))),
            (Kind::Number, &[], json!("2"), Err(())),
            (Kind::Money, &[], json!(1999), Ok(json!(1999))),
            (Kind::Money, &[], json!(19.99), Err(())),
            (Kind::Date, &[], json!("2024-02-29"), Ok(json!("2024-02-29"))),
            (Kind::Date, &[], json!("2023-02-29"), Err(())),
            (Kind::Select, &["a", "b"], json!("b"), Ok(json!("b"))),
            (Kind::Select, &["a", "b"], json!("c"), Err(())),
            (Kind::MultiSelect, &["a", "b"], json!(["b", "a", "b"]), Ok(json!(["b", "a"]))),
            (Kind::MultiSelect, &["a", "b"], json!(["z"]), Err(())),
            (Kind::Checkbox, &[], json!(true), Ok(json!(true))),
            (Kind::Checkbox, &[], json!("yes"), Err(())),
            (Kind::Url, &[], json!("https://acme.example/x"), Ok(json!("https://acme.example/x"))),
            (Kind::Url, &[], json!("javascript:alert(1)"), Err(())),
            (Kind::Email, &[], json!("A@B.co"), Ok(json!("a@b.co"))),
            (Kind::Email, &[], json!("nope"), Err(())),
            (Kind::Phone, &[], json!("+1 555 0100"), Ok(json!("+1 555 0100"))),
            (Kind::Phone, &[], json!("call me"), Err(())),
        ];
        for (kind, opts, input, want) in cases {
            let got = def("f", *kind, opts).check(input).map_err(|_| ());
            assert_eq!(&got, want, "{kind:?} {input}");
        }
    }

    #[test]
    fn text_parsing_for_imports() {
        assert_eq!(def("m", Kind::Money, &[]).parse_text("1,234.5"), Ok(json!(123450)));
        assert_eq!(def("n", Kind::Number, &[]).parse_text("1,000"), Ok(json!(1000.0)));
        assert_eq!(def("c", Kind::Checkbox, &[]).parse_text("Yes"), Ok(json!(true)));
        assert_eq!(def("s", Kind::MultiSelect, &["a", "b"]).parse_text("a; b"), Ok(json!(["a", "b"])));
        assert_eq!(def("t", Kind::Text, &[]).parse_text("  "), Ok(Value::Null));
        assert_eq!(parse_money("-0.05"), Some(-5));
        assert_eq!(parse_money("1.234"), None);
        assert_eq!(parse_money("abc"), None);
    }

    #[test]
    fn custom_objects_report_per_field() {
        let mut req = def("tier", Kind::Select, &["gold"]);
        req.required = true;
        let defs = vec![req, def("score", Kind::Number, &[])];
        let obj = json!({"score": "high", "nope": 1}).as_object().unwrap().clone();
        let errs = check_custom(&defs, &obj).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["custom.nope", "custom.score", "custom.tier"]);
        let ok = check_custom(&defs, json!({"tier": "gold", "score": null}).as_object().unwrap()).unwrap();
        assert_eq!(Value::Object(ok), json!({"tier": "gold"}));
    }

    #[test]
    fn definitions_are_checked() {
        let input: FieldInput = serde_json::from_value(json!({"entity": "contact", "key": "tier", "label": "Tier", "kind": "select", "options": ["Gold", " Gold", ""]})).unwrap();
        let d = input.validate_new().unwrap();
        assert_eq!((d.key.as_str(), d.kind, d.options), ("tier", Kind::Select, vec!["Gold".to_string()]));
        for bad in [json!({"entity": "deal", "key": "x", "label": "X", "kind": "text"}), json!({"entity": "contact", "key": "Bad Key", "label": "X", "kind": "text"}),
                    json!({"entity": "contact", "key": "email", "label": "X", "kind": "text"}), json!({"entity": "contact", "key": "s", "label": "S", "kind": "select"})] {
            let input: FieldInput = serde_json::from_value(bad.clone()).unwrap();
            assert!(input.validate_new().is_err(), "{bad}");
        }
    }
}
