//! Saved email templates (subject, HTML and plain-text parts with merge
//! fields), and what turns content into one recipient's message: merge fields,
//! tracked links, the open pixel and an unsubscribe link every message carries.

use crate::template::Template;
use anyhow::Result;
use edge_db::record::{Invalid, NotFound, Writer};
use edge_db::{Db, Row};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

pub const ID_PREFIX: &str = "tp";

/// A subject with HTML and plain-text parts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Content {
    pub subject: String,
    pub html: String,
    pub text: String,
}

impl Content {
    /// Field errors under `prefix` (`""` or `"content."`); derives a missing
    /// text part from the HTML.
    pub fn checked(mut self, e: &mut Vec<FieldError>) -> Content {
        self.subject = self.subject.trim().to_string();
        if self.subject.is_empty() || self.subject.chars().count() > 300 {
            e.push(FieldError::new("subject", "is required (at most 300 characters)"));
        }
        if self.html.trim().is_empty() && self.text.trim().is_empty() {
            e.push(FieldError::new("html", "write the message: an HTML or a plain-text part"));
        }
        if self.html.len() > 512 * 1024 || self.text.len() > 256 * 1024 {
            e.push(FieldError::new("html", "is too large (at most 512 KB of HTML and 256 KB of text)"));
        }
        for (field, src) in [("subject", &self.subject), ("html", &self.html), ("text", &self.text)] {
            if let Err(s) = Template::parse(src) {
                e.push(FieldError::new(field, &format!("at character {}: {}", s.at, s.message)));
            }
        }
        if self.text.trim().is_empty() {
            self.text = html_to_text(&self.html);
        }
        self
    }
}

/// A readable plain-text version of an HTML part.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else { break };
        let tag = rest[start + 1..start + end].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if let Some(href) = (name == "a").then(|| attr(&tag, &rest[start + 1..start + end], "href")).flatten() {
            out.push_str(&format!("[{href}] "));
        }
        if ["p", "br", "div", "h1", "h2", "h3", "li", "tr"].contains(&name.as_str()) {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
    let lines: Vec<&str> = decoded.lines().map(str::trim).collect();
    lines.join("\n").split("\n\n\n").collect::<Vec<_>>().join("\n\n").trim().to_string()
}

fn attr(lower: &str, original: &str, name: &str) -> Option<String> {
    let at = lower.find(&format!("{name}="))? + name.len() + 1;
    let v = &original[at..];
    let q = v.chars().next()?;
    if q == '"' || q == '\'' {
        v[1..].find(q).map(|end| v[1..1 + end].to_string())
    } else {
        Some(v.split_whitespace().next()?.to_string())
    }
}

/// One recipient's message, before sending.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The original targets of tracked links, by index.
    pub links: Vec<String>,
}

/// Where a message's links point: `track(index)` for the click redirect of
/// link `index`, `open` for the pixel, `unsubscribe` for the one-click page.
pub struct LinkUrls<'a> {
    pub track: &'a dyn Fn(usize) -> String,
    pub open: String,
    pub unsubscribe: String,
}

/// Renders `content` for `data` (`{"contact": {...}}`), rewrites http(s)
/// links in the HTML to tracked redirects, adds the open pixel, and makes sure
/// both parts offer the unsubscribe link.
pub fn render(content: &Content, data: &serde_json::Value, urls: Option<&LinkUrls>) -> Rendered {
    let mut data = data.clone();
    if let (Some(u), Some(obj)) = (urls, data.as_object_mut()) {
        obj.insert("unsubscribe_url".into(), u.unsubscribe.clone().into());
    }
    let part = |src: &str, html: bool| Template::parse(src).map(|t| t.render(&data, html)).unwrap_or_else(|_| src.to_string());
    let subject = part(&content.subject, false).replace(['\r', '\n'], " ");
    let mut html = part(&content.html, true);
    let mut text = part(&content.text, false);
    let mut links = Vec::new();
    if let Some(u) = urls {
        html = rewrite_links(&html, &u.unsubscribe, &mut links, u.track);
        if !html.trim().is_empty() {
            if !html.contains(&crate::template::escape(&u.unsubscribe)) && !html.contains(&u.unsubscribe) {
                let footer = format!("<p style=\"font-size:12px;color:#666\">Don't want these emails? <a href=\"{}\">Unsubscribe or manage your preferences</a>.</p>", crate::template::escape(&u.unsubscribe));
                html = insert_before_body_end(&html, &footer);
            }
            let pixel = format!("<img src=\"{}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">", crate::template::escape(&u.open));
            html = insert_before_body_end(&html, &pixel);
        }
        if !text.contains(&u.unsubscribe) {
            text = format!("{}\n\n--\nUnsubscribe or manage your preferences: {}\n", text.trim_end(), u.unsubscribe);
        }
    }
    Rendered { subject, html, text, links }
}

fn insert_before_body_end(html: &str, extra: &str) -> String {
    match html.to_ascii_lowercase().rfind("</body>") {
        Some(i) => format!("{}{extra}{}", &html[..i], &html[i..]),
        None => format!("{html}{extra}"),
    }
}

/// Replaces `href="http(s)://…"` targets (not the unsubscribe link) with
/// tracked redirects, collecting the originals (entities decoded) by index.
fn rewrite_links(html: &str, unsubscribe: &str, links: &mut Vec<String>, track: &dyn Fn(usize) -> String) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    let mut pos = 0;
    while let Some(found) = lower[pos..].find("href=") {
        let at = pos + found + 5;
        let quote = html[at..].chars().next();
        let (start, end) = match quote {
            Some(q @ ('"' | '\'')) => match html[at + 1..].find(q) {
                Some(e) => (at + 1, at + 1 + e),
                None => break,
            },
            _ => {
                out.push_str(&html[pos..at]);
                pos = at;
                continue;
            }
        };
        out.push_str(&html[pos..start]);
        let target = html[start..end].replace("&amp;", "&");
        let tracked = target.starts_with("http://") || target.starts_with("https://");
        if tracked && target != unsubscribe && links.len() < 1000 {
            links.push(target);
            out.push_str(&crate::template::escape(&track(links.len() - 1)));
        } else {
            out.push_str(&html[start..end]);
        }
        pos = end;
    }
    out.push_str(&html[pos..]);
    out
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SavedTemplate {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub content: Content,
    pub fields: Vec<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub html: Option<String>,
    pub text: Option<String>,
}

const COLUMNS: &str = "id, name, subject, html, text, created_by, created_at, updated_at, version";

fn from_row(r: Row) -> SavedTemplate {
    let content = Content { subject: r.text(2), html: r.text(3), text: r.text(4) };
    let mut fields: Vec<String> = [&content.subject, &content.html, &content.text].iter().filter_map(|s| Template::parse(s).ok()).flat_map(|t| t.fields()).collect();
    fields.sort();
    fields.dedup();
    SavedTemplate { id: r.text(0), name: r.text(1), content, fields, created_by: r.string(5), created_at: r.text(6), updated_at: r.text(7), version: r.i64(8).unwrap_or(1) }
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<SavedTemplate>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM templates WHERE id = ? AND deleted_at IS NULL"), &[id.into()])?.first().map(from_row))
}

pub fn list<D: Db + ?Sized>(db: &D) -> Result<Vec<SavedTemplate>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM templates WHERE deleted_at IS NULL ORDER BY name COLLATE NOCASE"), &[])?.iter().map(from_row).collect())
}

fn checked(input: TemplateInput, before: Option<&SavedTemplate>) -> Result<(String, Content)> {
    let mut e = Vec::new();
    let name = input.name.map(|n| n.trim().to_string()).or_else(|| before.map(|b| b.name.clone())).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 120 {
        e.push(FieldError::new("name", "is required (at most 120 characters)"));
    }
    let old = before.map(|b| b.content.clone()).unwrap_or_default();
    let content = Content { subject: input.subject.unwrap_or(old.subject), html: input.html.unwrap_or(old.html), text: input.text.unwrap_or(old.text) }.checked(&mut e);
    if e.is_empty() { Ok((name, content)) } else { Err(Invalid(e).into()) }
}

fn event<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, action: &str, before: Option<&SavedTemplate>, after: Option<&SavedTemplate>) -> Result<()> {
    let b = before.map(serde_json::to_value).transpose()?;
    let a = after.map(serde_json::to_value).transpose()?;
    edge_db::record::append_event(db, "campaigns_events", w, "template", id, action, b.as_ref(), a.as_ref())
}

/// No transaction of its own (the adapter runs it once per Idempotency-Key).
pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, input: TemplateInput) -> Result<SavedTemplate> {
    let (name, c) = checked(input, None)?;
    let id = w.new_id(db, "templates", ID_PREFIX)?;
    let now = edge_db::now();
    db.run(
        &format!("INSERT INTO templates ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)"),
        &[id.as_str().into(), name.into(), c.subject.into(), c.html.into(), c.text.into(), w.user_id().into(), now.as_str().into(), now.into()],
    )?;
    let t = get(db, &id)?.ok_or(NotFound)?;
    event(db, w, &id, "created", None, Some(&t))?;
    Ok(t)
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, input: TemplateInput, if_version: Option<i64>) -> Result<SavedTemplate> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let (name, c) = checked(input, Some(&before))?;
        db.run(
            "UPDATE templates SET name = ?, subject = ?, html = ?, text = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            &[name.into(), c.subject.into(), c.html.into(), c.text.into(), edge_db::now().into(), id.into()],
        )?;
        let after = get(db, id)?.ok_or(NotFound)?;
        event(db, w, id, "updated", Some(&before), Some(&after))?;
        Ok(after)
    })
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str) -> Result<()> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        db.run("UPDATE templates SET deleted_at = ?, version = version + 1 WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        event(db, w, id, "deleted", Some(&before), None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn urls_for(track: &dyn Fn(usize) -> String) -> LinkUrls<'_> {
        LinkUrls { track, open: "https://t.test/o/1".into(), unsubscribe: "https://t.test/u/1".into() }
    }

    #[test]
    fn renders_with_missing_values_escaping_and_tracking() {
        let c = Content {
            subject: "Hi {{ contact.first_name | default: \"there\" }}".into(),
            html: "<html><body><p>Hello {{ contact.first_name }}</p><a href=\"https://shop.test/a?x=1&amp;y=2\">Shop</a> <a href='mailto:x@y.test'>mail</a></body></html>".into(),
            text: String::new(),
        };
        let mut e = Vec::new();
        let c = c.checked(&mut e);
        assert!(e.is_empty(), "{e:?}");
        assert!(c.text.contains("Hello") && c.text.contains("[https://shop.test/a?x=1&y=2]"), "{}", c.text);
        let track = |i: usize| format!("https://t.test/c/{i}");
        let r = render(&c, &json!({"contact": {"first_name": "<b>Ann</b>"}}), Some(&urls_for(&track)));
        assert_eq!(r.subject, "Hi <b>Ann</b>");
        assert!(r.html.contains("Hello &lt;b&gt;Ann&lt;/b&gt;"), "{}", r.html);
        assert_eq!(r.links, vec!["https://shop.test/a?x=1&y=2".to_string()]);
        assert!(r.html.contains("href=\"https://t.test/c/0\"") && r.html.contains("mailto:x@y.test"));
        assert!(r.html.contains("https://t.test/u/1") && r.html.contains("src=\"https://t.test/o/1\""));
        assert!(r.html.find("t.test/o/1").unwrap() < r.html.find("</body>").unwrap());
        assert!(r.text.contains("Unsubscribe or manage your preferences: https://t.test/u/1"));
        let r = render(&c, &json!({"contact": {}}), Some(&urls_for(&track)));
        assert_eq!(r.subject, "Hi there");
    }

    #[test]
    fn an_unsubscribe_link_in_the_template_is_not_tracked_or_repeated() {
        let c = Content { subject: "s".into(), html: "<a href=\"{{ unsubscribe_url }}\">Leave</a>".into(), text: "Leave: {{ unsubscribe_url }}".into() };
        let track = |i: usize| format!("https://t.test/c/{i}");
        let r = render(&c, &json!({}), Some(&urls_for(&track)));
        assert!(r.links.is_empty());
        assert_eq!(r.html.matches("https://t.test/u/1").count(), 1);
        assert_eq!(r.text, "Leave: https://t.test/u/1");
    }

    #[test]
    fn templates_with_bad_syntax_are_refused() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let w = edge_db::native::writer("user:u1");
        let bad = TemplateInput { name: Some("Welcome".into()), subject: Some("Hi {{ contact.first_name | shout }}".into()), html: Some("<p>{{ </p>".into()), text: None };
        let err = create(&db, &w, bad).unwrap_err();
        let Invalid(fields) = err.downcast_ref::<Invalid>().unwrap();
        assert_eq!(fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), vec!["subject", "html"]);
        let ok = TemplateInput { name: Some("Welcome".into()), subject: Some("Hi {{ contact.first_name }}".into()), html: Some("<p>Hi</p>".into()), text: None };
        let t = create(&db, &w, ok).unwrap();
        assert_eq!((t.fields.clone(), t.content.text.as_str()), (vec!["contact.first_name".to_string()], "Hi"));
        let t2 = update(&db, &w, &t.id, TemplateInput { name: Some("Welcome 2".into()), ..Default::default() }, Some(1)).unwrap();
        assert_eq!((t2.name.as_str(), t2.version), ("Welcome 2", 2));
        assert!(update(&db, &w, &t.id, TemplateInput::default(), Some(1)).is_err());
    }
}
