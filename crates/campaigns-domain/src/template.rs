//! Email templates with merge fields: `{{ contact.first_name | default: "there" }}`.
//! A field path reads the recipient's data (`contact.*`, `company.*`, `tenant.*`,
//! `unsubscribe_url`…); filters: `default: "…"`, `upcase`, `downcase`,
//! `capitalize`. In the HTML part every value is escaped (a contact named
//! `<script>` stays text); the plain-text part is not. Unknown fields render
//! empty (or their default): a template never fails on a missing value, but
//! its syntax is checked when it is saved.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Default(String),
    Upcase,
    Downcase,
    Capitalize,
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Field { path: Vec<String>, filters: Vec<Filter> },
}

/// A parsed template part.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Piece>);

/// A syntax error, with the 1-based position of the tag.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub at: usize,
    pub message: String,
}

fn parse_filter(f: &str, at: usize) -> Result<Filter, SyntaxError> {
    let err = |m: &str| SyntaxError { at, message: m.to_string() };
    let (name, arg) = match f.split_once(':') {
        Some((n, a)) => (n.trim(), Some(a.trim())),
        None => (f.trim(), None),
    };
    match (name, arg) {
        ("default", Some(a)) => {
            let quoted = (a.starts_with('"') && a.ends_with('"') || a.starts_with('\'') && a.ends_with('\'')) && a.len() >= 2;
            if !quoted {
                return Err(err("default needs a quoted text, like default: \"there\""));
            }
            Ok(Filter::Default(a[1..a.len() - 1].to_string()))
        }
        ("upcase", None) => Ok(Filter::Upcase),
        ("downcase", None) => Ok(Filter::Downcase),
        ("capitalize", None) => Ok(Filter::Capitalize),
        _ => Err(err(&format!("unknown filter `{name}` (default, upcase, downcase, capitalize)"))),
    }
}

impl Template {
    pub fn parse(src: &str) -> Result<Template, SyntaxError> {
        let mut pieces = Vec::new();
        let mut rest = src;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                pieces.push(Piece::Text(rest[..start].to_string()));
            }
            // 1-based, in characters (what an editor shows).
            let at = src[..offset + start].chars().count() + 1;
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or(SyntaxError { at, message: "`{{` without `}}`".into() })?;
            let inner = after[..end].trim();
            let mut parts = inner.split('|');
            let path_text = parts.next().unwrap_or("").trim();
            let valid = !path_text.is_empty() && path_text.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            if !valid {
                return Err(SyntaxError { at, message: format!("`{path_text}` is not a field like contact.first_name") });
            }
            let filters = parts.map(|f| parse_filter(f, at)).collect::<Result<Vec<_>, _>>()?;
            pieces.push(Piece::Field { path: path_text.split('.').map(String::from).collect(), filters });
            let consumed = start + 2 + end + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template(pieces))
    }

    /// The fields the template reads (for previews and checks).
    pub fn fields(&self) -> Vec<String> {
        self.0.iter().filter_map(|p| match p {
            Piece::Field { path, .. } => Some(path.join(".")),
            _ => None,
        }).collect()
    }

    /// Renders with `data` (`{"contact": {...}, ...}`); `html` escapes values.
    pub fn render(&self, data: &Value, html: bool) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Field { path, filters } => {
                    let mut v = path.iter().try_fold(data, |d, k| d.get(k)).map(text).unwrap_or_default();
                    for f in filters {
                        v = match f {
                            Filter::Default(d) if v.trim().is_empty() => d.clone(),
                            Filter::Default(_) => v,
                            Filter::Upcase => v.to_uppercase(),
                            Filter::Downcase => v.to_lowercase(),
                            Filter::Capitalize => {
                                let mut c = v.chars();
                                c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
                            }
                        };
                    }
                    out.push_str(&if html { escape(&v) } else { v });
                }
            }
        }
        out
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// HTML-escapes text for element content and quoted attributes.
pub use edge_http::html::escape;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_fields_defaults_and_filters() {
        let t = Template::parse("Hi {{ contact.first_name | default: \"there\" }}, {{contact.company.name|upcase}}!").unwrap();
        assert_eq!(t.render(&json!({"contact": {"first_name": "Ada", "company": {"name": "Engines"}}}), false), "Hi Ada, ENGINES!");
        assert_eq!(t.render(&json!({"contact": {"first_name": "  "}}), false), "Hi there, !", "blank and missing values take the default or nothing");
        assert_eq!(t.render(&json!({}), false), "Hi there, !");
        assert_eq!(t.fields(), vec!["contact.first_name", "contact.company.name"]);
        let c = Template::parse("{{ contact.last_name | downcase | capitalize }}").unwrap();
        assert_eq!(c.render(&json!({"contact": {"last_name": "LOVELACE"}}), false), "Lovelace");
    }

    #[test]
    fn html_parts_escape_values_but_not_the_template() {
        let t = Template::parse("<p>Hello <b>{{ contact.first_name }}</b></p>").unwrap();
        let evil = json!({"contact": {"first_name": "<script>alert('x')</script> & \"co\""}});
        assert_eq!(t.render(&evil, true), "<p>Hello <b>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;</b></p>");
        assert_eq!(t.render(&evil, false), "<p>Hello <b><script>alert('x')</script> & \"co\"</b></p>", "plain text is not escaped");
    }

    #[test]
    fn syntax_errors_say_where() {
        assert_eq!(Template::parse("Hi {{ contact.first_name ").unwrap_err().at, 4);
        assert_eq!(Template::parse("Grüße {{ contact.first_name | nope }}").unwrap_err().at, 7, "characters, not bytes");
        assert!(Template::parse("{{ }}").is_err());
        assert!(Template::parse("{{ contact.first_name | shout }}").unwrap_err().message.contains("unknown filter"));
        assert!(Template::parse("{{ contact.first_name | default: there }}").is_err(), "defaults are quoted");
        assert!(Template::parse("{{ contact['x'] }}").is_err());
        assert_eq!(Template::parse("no fields at all").unwrap().render(&json!({}), true), "no fields at all");
    }
}
