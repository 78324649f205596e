//! List filters and sorts, compiled to SQL over a field catalogue.
//!
//! A filter is JSON, passed as `?filter=` (URL-encoded): a condition
//! `{"field": "lifecycle_stage", "op": "eq", "value": "lead"}`, or a group
//! `{"and": [...]}` / `{"or": [...]}` of conditions and groups (a list at the top
//! is an `and`). Fields are the standard ones of the record type and its custom
//! fields (`custom.<key>`); each field kind has its own operators. Nothing from
//! the client reaches the SQL text except through `?` parameters: field names
//! are looked up in the catalogue, operators are an enum.

use crate::fields::{Entity, FieldDef, Kind};
use edge_db::Val;
use edge_http::FieldError;
use serde::Deserialize;
use serde_json::Value;

/// How a field compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FKind {
    Text,
    /// One of fixed values.
    Enum(&'static [&'static str]),
    /// An id of another record.
    Ref,
    /// RFC 3339 time (day values mean the whole day).
    Time,
    /// `YYYY-MM-DD`.
    Date,
    Number,
    Bool,
    /// The record's tags (`record_tags`).
    Tags,
    /// A JSON array (multi-select custom fields).
    Multi,
    /// A figure another component publishes per contact in a read-only view
    /// (`contact_id` plus columns): deals, orders. A contact without a row has
    /// none (0 for numbers, no time).
    Linked { view: &'static str, column: &'static str, time: bool },
    /// Membership in a list another component publishes (`key`, `contact_id`).
    Member { view: &'static str, key: &'static str },
}

/// Fields from other components' published views, by the view that holds them.
const LINKED: &[(&str, &str, &str, bool)] = &[
    ("deals.open_count", "pipeline_contact_deals", "open_deals", false),
    ("deals.open_value", "pipeline_contact_deals", "open_value", false),
    ("deals.won_count", "pipeline_contact_deals", "won_deals", false),
    ("deals.won_value", "pipeline_contact_deals", "won_value", false),
    ("deals.last_won_at", "pipeline_contact_deals", "last_won_at", true),
    ("orders.count", "portal_contact_orders", "orders", false),
    ("orders.total", "portal_contact_orders", "total", false),
    ("orders.first_at", "portal_contact_orders", "first_order_at", true),
    ("orders.last_at", "portal_contact_orders", "last_order_at", true),
    ("value.rfm", "automation_customer_value", "rfm", false),
    ("value.r", "automation_customer_value", "r_score", false),
    ("value.f", "automation_customer_value", "f_score", false),
    ("value.m", "automation_customer_value", "m_score", false),
    ("value.at_risk", "automation_customer_value", "at_risk", false),
    ("value.clv", "automation_customer_value", "clv", false),
    ("value.projected_clv", "automation_customer_value", "projected_clv", false),
];

/// Lists other components publish: (field, view, list key column).
const MEMBERSHIPS: &[(&str, &str, &str)] = &[("lists", "campaigns_list_members", "list_id")];

/// The linked fields whose views exist in this database (`views`: their names).
pub fn linked_fields(views: &[String]) -> Vec<FieldSpec> {
    let has = |v: &str| views.iter().any(|x| x == v);
    let mut out: Vec<FieldSpec> = LINKED.iter().filter(|l| has(l.1)).map(|(name, view, column, time)| spec(name, FKind::Linked { view, column, time: *time }, "", false)).collect();
    out.extend(MEMBERSHIPS.iter().filter(|m| has(m.1)).map(|(name, view, key)| spec(name, FKind::Member { view, key }, "", false)));
    out
}

/// The published views linked fields read.
pub fn linked_views() -> Vec<&'static str> {
    let mut v: Vec<&str> = LINKED.iter().map(|l| l.1).chain(MEMBERSHIPS.iter().map(|m| m.1)).collect();
    v.dedup();
    v
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub name: String,
    pub kind: FKind,
    /// SQL expression over the record table (trusted: from code or validated keys).
    pub sql: String,
    pub sortable: bool,
    /// The index whose order serves this sort (windowed lists scan it).
    pub index: Option<String>,
}

fn spec(name: &str, kind: FKind, sql: &str, sortable: bool) -> FieldSpec {
    FieldSpec { name: name.into(), kind, sql: sql.into(), sortable, index: None }
}

/// Indexes (`<col>, id`) that serve sorts, per table (see the schema).
fn sort_index(entity: Entity, field: &str) -> Option<&'static str> {
    Some(match (entity, field) {
        (Entity::Contact, "first_name") => "contacts_first_name",
        (Entity::Contact, "last_name") => "contacts_last_name",
        (Entity::Contact, "company") => "contacts_company_name",
        (Entity::Contact, "updated_at") => "contacts_updated",
        (Entity::Contact, "last_activity_at") => "contacts_last_activity",
        (Entity::Company, "name") => "companies_name",
        (Entity::Company, "domain") => "companies_domain",
        (Entity::Company, "industry") => "companies_industry",
        (Entity::Company, "size") => "companies_size",
        (Entity::Company, "updated_at") => "companies_updated",
        (Entity::Company, "last_activity_at") => "companies_last_activity",
        _ => return None,
    })
}

const CONSENT: &[&str] = &["unknown", "granted", "denied"];

/// Every field of a record type that lists can filter (and maybe sort) on.
pub fn catalogue(entity: Entity, defs: &[FieldDef]) -> Vec<FieldSpec> {
    let mut v = match entity {
        Entity::Contact => vec![
            // For other components asking about particular contacts (`in`, up to 100).
            spec("id", FKind::Ref, "id", false),
            spec("first_name", FKind::Text, "first_name", true),
            spec("last_name", FKind::Text, "last_name", true),
            spec("email", FKind::Text, "email", true),
            spec("phone", FKind::Text, "phone", false),
            spec("title", FKind::Text, "title", true),
            spec("company", FKind::Text, "company", true),
            spec("company_id", FKind::Ref, "company_id", false),
            spec("lifecycle_stage", FKind::Enum(&crate::model::STAGES), "lifecycle_stage", true),
            spec("source", FKind::Text, "source", true),
            spec("external_id", FKind::Text, "external_id", false),
            spec("consent.email", FKind::Enum(CONSENT), "COALESCE(json_extract(consent, '$.email'), 'unknown')", false),
            spec("consent.sms", FKind::Enum(CONSENT), "COALESCE(json_extract(consent, '$.sms'), 'unknown')", false),
            spec("consent.phone", FKind::Enum(CONSENT), "COALESCE(json_extract(consent, '$.phone'), 'unknown')", false),
        ],
        Entity::Company => vec![
            spec("name", FKind::Text, "name", true),
            spec("domain", FKind::Text, "domain", true),
            spec("industry", FKind::Text, "industry", true),
            spec("size", FKind::Enum(&crate::model::SIZES), "size", true),
            spec("phone", FKind::Text, "phone", false),
            spec("website", FKind::Text, "website", false),
            spec("parent_id", FKind::Ref, "parent_id", false),
            spec("external_id", FKind::Text, "external_id", false),
        ],
    };
    // Both record types have an address, an owner, tags and times.
    v.extend(["street", "city", "region", "postal_code", "country"].map(|k| spec(&format!("address.{k}"), FKind::Text, &format!("json_extract(address, '$.{k}')"), false)));
    v.extend([
        spec("last_activity_at", FKind::Time, "last_activity_at", true),
        spec("owner_id", FKind::Ref, "owner_id", false),
        spec("tags", FKind::Tags, "", false),
        spec("created_at", FKind::Time, "created_at", true),
        spec("updated_at", FKind::Time, "updated_at", true),
    ]);
    for d in defs.iter().filter(|d| d.entity == entity) {
        let kind = match d.kind {
            Kind::Number | Kind::Money => FKind::Number,
            Kind::Date => FKind::Date,
            Kind::Checkbox => FKind::Bool,
            Kind::MultiSelect => FKind::Multi,
            _ => FKind::Text,
        };
        let sortable = kind != FKind::Multi && d.kind != Kind::LongText;
        v.push(FieldSpec { name: format!("custom.{}", d.key), kind, sql: d.sql(), sortable, index: sortable.then(|| d.index_name()) });
    }
    for f in v.iter_mut().filter(|f| f.sortable && f.index.is_none()) {
        f.index = sort_index(entity, &f.name).map(String::from);
    }
    v
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Filter {
    And { and: Vec<Filter> },
    Or { or: Vec<Filter> },
    Cond { field: String, op: String, #[serde(default)] value: Value },
    List(Vec<Filter>),
}

const MAX_CONDITIONS: usize = 40;
const MAX_DEPTH: usize = 5;

/// A compiled condition: SQL text with `?` placeholders and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sql {
    pub text: String,
    pub params: Vec<Val>,
}

fn err(msg: &str) -> FieldError {
    FieldError::new("filter", msg)
}

/// `%` and `_` in user text match themselves.
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The instant a day starts and the last millisecond of a day, for time columns.
/// `-30d`, `-12h`, `-2w`, `+7d`, `now`: a time relative to now (dynamic
/// segments: "ordered in the last 90 days" stays true to its words).
fn relative(v: &str) -> Option<String> {
    let now = chrono::Utc::now();
    if v == "now" {
        return Some(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }
    let (sign, rest) = match v.as_bytes().first()? {
        b'-' => (-1, &v[1..]),
        b'+' => (1, &v[1..]),
        _ => return None,
    };
    let (n, unit) = rest.split_at(rest.len().checked_sub(1)?);
    let n: i64 = n.parse().ok().filter(|n| (0..=36_500).contains(n))?;
    let d = match unit {
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        "w" => chrono::Duration::weeks(n),
        _ => return None,
    };
    Some((now + d * sign).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn day_bounds(v: &str) -> Option<(String, String)> {
    if let Some(t) = relative(v) {
        return Some((t.clone(), t));
    }
    if crate::fields::is_date(v) {
        Some((format!("{v}T00:00:00.000Z"), format!("{v}T23:59:59.999Z")))
    } else {
        crate::model::parse_time(v).map(|t| (t.clone(), t))
    }
}

impl Filter {
    /// Whether a condition names a field from another component's view.
    pub fn uses_linked(&self) -> bool {
        match self {
            Filter::Cond { field, .. } => LINKED.iter().any(|l| l.0 == field) || MEMBERSHIPS.iter().any(|m| m.0 == field),
            Filter::And { and } | Filter::List(and) => and.iter().any(Filter::uses_linked),
            Filter::Or { or } => or.iter().any(Filter::uses_linked),
        }
    }

    pub fn parse(text: &str) -> Result<Filter, Vec<FieldError>> {
        serde_json::from_str(text).map_err(|_| {
            vec![err("must be JSON: a condition {\"field\", \"op\", \"value\"} or a group {\"and\": [...]} / {\"or\": [...]}")]
        })
    }

    /// Compiles against `fields` (a `catalogue`), for a record table whose id
    /// column is `id` and whose tags live in `record_tags` under `entity`.
    pub fn to_sql(&self, fields: &[FieldSpec], entity: Entity) -> Result<Sql, Vec<FieldError>> {
        self.to_sql_as(fields, entity, false)
    }

    /// `probe`: tag conditions as correlated `EXISTS` lookups, for plans that
    /// walk another index and test each row (an `IN (…)` list would first
    /// collect every tagged record).
    pub fn to_sql_as(&self, fields: &[FieldSpec], entity: Entity, probe: bool) -> Result<Sql, Vec<FieldError>> {
        let mut count = 0;
        let mut out = Sql::default();
        let mut errors = Vec::new();
        self.compile(fields, entity, probe, 0, &mut count, &mut out, &mut errors);
        if count > MAX_CONDITIONS {
            errors.push(err(&format!("at most {MAX_CONDITIONS} conditions")));
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn compile(&self, fields: &[FieldSpec], entity: Entity, probe: bool, depth: usize, count: &mut usize, out: &mut Sql, errors: &mut Vec<FieldError>) {
        if depth > MAX_DEPTH {
            errors.push(err(&format!("groups nest at most {MAX_DEPTH} deep")));
            return;
        }
        let (items, joiner) = match self {
            Filter::And { and } | Filter::List(and) => (and, " AND "),
            Filter::Or { or } => (or, " OR "),
            Filter::Cond { field, op, value } => {
                *count += 1;
                match fields.iter().find(|f| &f.name == field) {
                    None => errors.push(err(&format!("`{field}` is not a field you can filter on"))),
                    Some(f) => match if probe && f.kind == FKind::Tags { tag_probe(entity, op, value) } else { condition(f, entity, op, value) } {
                        Ok(s) => {
                            out.text.push_str(&s.text);
                            out.params.extend(s.params);
                        }
                        Err(m) => errors.push(err(&format!("{field}: {m}"))),
                    },
                }
                return;
            }
        };
        if items.is_empty() {
            out.text.push_str(if joiner == " AND " { "1" } else { "0" });
            return;
        }
        out.text.push('(');
        for (i, f) in items.iter().enumerate() {
            if i > 0 {
                out.text.push_str(joiner);
            }
            f.compile(fields, entity, probe, depth + 1, count, out, errors);
        }
        out.text.push(')');
    }
}

fn as_text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err("needs a text value".into()),
    }
}

fn as_list(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Array(items) if !items.is_empty() && items.len() <= 100 => items.iter().map(as_text).collect(),
        _ => Err("needs a list of 1 to 100 values".into()),
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// A tag test for plans that walk a sort index and test each row: a correlated
/// lookup on `record_tags`' primary key. Contacts' sort indexes also hold
/// `lower(tags)` (the JSON array, migration 15), so a row whose tags cannot hold
/// the tag is passed over inside the index, before any lookup: a stage-and-tag
/// page probes ~50 rows, not every row of the stage.
fn tag_probe(entity: Entity, op: &str, value: &Value) -> Result<Sql, String> {
    let t = entity.table();
    // The tags to look for, and whether the test is negated.
    let (tags, negate) = match op {
        "has" | "has_not" => (vec![as_text(value)?], op == "has_not"),
        "has_any" => (as_list(value)?, false),
        "empty" | "not_empty" => (vec![], op == "empty"),
        _ => return Err(format!("operator `{op}` does not apply ({})", ops_for(FKind::Tags).join(", "))),
    };
    let lookup = match tags.len() {
        0 => format!("EXISTS (SELECT 1 FROM record_tags WHERE record_id = {t}.id AND entity = ?)"),
        1 => format!("EXISTS (SELECT 1 FROM record_tags WHERE record_id = {t}.id AND entity = ? AND tag = ? COLLATE NOCASE)"),
        n => format!("EXISTS (SELECT 1 FROM record_tags WHERE record_id = {t}.id AND entity = ? AND tag COLLATE NOCASE IN ({}))", placeholders(n)),
    };
    // `instr(lower(tags), '"vip"')` is true of every contact tagged `vip` (in any
    // case: NOCASE and lower() both fold ASCII only), so only rows it passes
    // need the lookup. Tags whose JSON form has escapes go straight to it.
    let needles = tags.iter().map(|tag| json_needle(tag)).collect::<Option<Vec<String>>>().filter(|n| entity == Entity::Contact && !n.is_empty());
    let mut params: Vec<Val> = Vec::new();
    let pre = needles.map(|n| {
        let test = vec![format!("instr(lower({t}.tags), ?) > 0"); n.len()].join(" OR ");
        params.extend(n.into_iter().map(Val::Text));
        format!("({test})")
    });
    params.push(entity.as_str().into());
    params.extend(tags.into_iter().map(Val::Text));
    let text = match (pre, negate) {
        (Some(pre), false) => format!("({pre} AND {lookup})"),
        (Some(pre), true) => format!("(NOT {pre} OR NOT {lookup})"),
        (None, false) => lookup,
        (None, true) => format!("NOT {lookup}"),
    };
    Ok(Sql { text, params })
}

/// `"tag"` as it appears, lowercased, in a lowercased JSON array of tags; `None`
/// when the JSON form might escape a character (quotes, backslashes, slashes,
/// control characters), so the text is not certain to appear verbatim.
fn json_needle(tag: &str) -> Option<String> {
    if tag.chars().any(|c| c == '"' || c == '\\' || c == '/' || c.is_control()) {
        return None;
    }
    Some(format!("\"{}\"", tag.to_ascii_lowercase()))
}

/// One condition on one field.
fn condition(f: &FieldSpec, entity: Entity, op: &str, value: &Value) -> Result<Sql, String> {
    let c = &f.sql;
    let s = |text: String, params: Vec<Val>| Ok(Sql { text, params });
    match (f.kind, op) {
        (FKind::Tags, "has") => s(
            "id IN (SELECT record_id FROM record_tags WHERE entity = ? AND tag = ? COLLATE NOCASE)".into(),
            vec![entity.as_str().into(), as_text(value)?.into()],
        ),
        (FKind::Tags, "has_not") => s(
            "id NOT IN (SELECT record_id FROM record_tags WHERE entity = ? AND tag = ? COLLATE NOCASE)".into(),
            vec![entity.as_str().into(), as_text(value)?.into()],
        ),
        (FKind::Tags, "has_any") => {
            let l = as_list(value)?;
            let mut p: Vec<Val> = vec![entity.as_str().into()];
            let n = l.len();
            p.extend(l.into_iter().map(Val::Text));
            s(format!("id IN (SELECT record_id FROM record_tags WHERE entity = ? AND tag COLLATE NOCASE IN ({}))", placeholders(n)), p)
        }
        (FKind::Member { view, key }, "has") => s(format!("id IN (SELECT contact_id FROM {view} WHERE {key} = ?)"), vec![as_text(value)?.into()]),
        (FKind::Member { view, key }, "has_not") => s(format!("id NOT IN (SELECT contact_id FROM {view} WHERE {key} = ?)"), vec![as_text(value)?.into()]),
        (FKind::Linked { view, .. }, "empty") => s(format!("id NOT IN (SELECT contact_id FROM {view})"), vec![]),
        (FKind::Linked { view, .. }, "not_empty") => s(format!("id IN (SELECT contact_id FROM {view})"), vec![]),
        (FKind::Tags, "empty") => s("id NOT IN (SELECT record_id FROM record_tags WHERE entity = ?)".into(), vec![entity.as_str().into()]),
        (FKind::Tags, "not_empty") => s("id IN (SELECT record_id FROM record_tags WHERE entity = ?)".into(), vec![entity.as_str().into()]),
        (FKind::Multi, "has") => s(format!("EXISTS (SELECT 1 FROM json_each({c}) WHERE value = ?)"), vec![as_text(value)?.into()]),
        (FKind::Multi, "has_not") => s(format!("NOT EXISTS (SELECT 1 FROM json_each({c}) WHERE value = ?)"), vec![as_text(value)?.into()]),
        (_, "empty") => s(format!("({c} IS NULL OR {c} = '')"), vec![]),
        (_, "not_empty") => s(format!("({c} IS NOT NULL AND {c} != '')"), vec![]),
        (FKind::Bool, "eq") => match value.as_bool() {
            Some(b) => s(format!("COALESCE({c}, 0) = ?"), vec![Val::Int(b as i64)]),
            None => Err("needs true or false".into()),
        },
        (FKind::Text, "contains") => s(format!("{c} LIKE ? ESCAPE '\\'"), vec![format!("%{}%", like_escape(&as_text(value)?)).into()]),
        (FKind::Text, "starts_with") => s(format!("{c} LIKE ? ESCAPE '\\'"), vec![format!("{}%", like_escape(&as_text(value)?)).into()]),
        (FKind::Text, "eq") => s(format!("{c} = ? COLLATE NOCASE"), vec![as_text(value)?.into()]),
        (FKind::Text, "neq") => s(format!("({c} IS NULL OR {c} != ? COLLATE NOCASE)"), vec![as_text(value)?.into()]),
        (FKind::Enum(_), "eq" | "neq" | "in" | "not_in") | (FKind::Ref | FKind::Text, "in" | "not_in") | (FKind::Ref, "eq" | "neq") => {
            let values = if op == "in" || op == "not_in" { as_list(value)? } else { vec![as_text(value)?] };
            if let FKind::Enum(allowed) = f.kind {
                if let Some(bad) = values.iter().find(|v| !allowed.contains(&v.as_str())) {
                    return Err(format!("`{bad}` is not one of {}", allowed.join(", ")));
                }
            }
            let n = values.len();
            let params = values.into_iter().map(Val::Text).collect();
            match op {
                "eq" => s(format!("{c} = ?"), params),
                "in" => s(format!("{c} IN ({})", placeholders(n)), params),
                "neq" => s(format!("({c} IS NULL OR {c} != ?)"), params),
                _ => s(format!("({c} IS NULL OR {c} NOT IN ({}))", placeholders(n)), params),
            }
        }
        (FKind::Number, "eq" | "neq" | "lt" | "lte" | "gt" | "gte") => {
            let n = value.as_f64().ok_or("needs a number")?;
            let sym = match op {
                "eq" => "=",
                "neq" => "!=",
                "lt" => "<",
                "lte" => "<=",
                "gt" => ">",
                _ => ">=",
            };
            s(format!("{c} {sym} ?"), vec![Val::Real(n)])
        }
        (FKind::Time, "lt" | "lte" | "gt" | "gte" | "on") => {
            let v = as_text(value)?;
            let (start, end) = day_bounds(&v).ok_or("needs a date (YYYY-MM-DD) or an RFC 3339 time")?;
            match op {
                "lt" => s(format!("{c} < ?"), vec![start.into()]),
                "gte" => s(format!("{c} >= ?"), vec![start.into()]),
                "lte" => s(format!("{c} <= ?"), vec![end.into()]),
                "gt" => s(format!("{c} > ?"), vec![end.into()]),
                _ => s(format!("{c} BETWEEN ? AND ?"), vec![start.into(), end.into()]),
            }
        }
        (FKind::Date, "eq" | "lt" | "lte" | "gt" | "gte") => {
            let v = as_text(value)?;
            if !crate::fields::is_date(&v) {
                return Err("needs a date (YYYY-MM-DD)".into());
            }
            let sym = match op {
                "eq" => "=",
                "lt" => "<",
                "lte" => "<=",
                "gt" => ">",
                _ => ">=",
            };
            s(format!("{c} {sym} ?"), vec![v.into()])
        }
        // Yearly dates (birthdays, anniversaries): the month and day, any year.
        (FKind::Date, "anniversary") => {
            let days: Vec<String> = match value {
                Value::Array(_) => as_list(value)?,
                _ => vec![as_text(value)?],
            };
            let valid = |d: &str| d.len() == 5 && d.as_bytes()[2] == b'-' && chrono::NaiveDate::parse_from_str(&format!("2000-{d}"), "%Y-%m-%d").is_ok();
            if days.is_empty() || !days.iter().all(|d| valid(d)) {
                return Err("needs a month and day (MM-DD) or a list of them".into());
            }
            s(format!("substr({c}, 6, 5) IN ({})", placeholders(days.len())), days.into_iter().map(Val::from).collect())
        }
        (FKind::Time | FKind::Date, "between") => {
            let l = as_list(value)?;
            let [a, b] = l.as_slice() else { return Err("needs [from, to]".into()) };
            if f.kind == FKind::Date {
                if !crate::fields::is_date(a) || !crate::fields::is_date(b) {
                    return Err("needs two dates (YYYY-MM-DD)".into());
                }
                return s(format!("{c} BETWEEN ? AND ?"), vec![a.into(), b.into()]);
            }
            let (Some((from, _)), Some((_, to))) = (day_bounds(a), day_bounds(b)) else { return Err("needs two dates or times".into()) };
            s(format!("{c} BETWEEN ? AND ?"), vec![from.into(), to.into()])
        }
        (FKind::Linked { view, column, time: false }, "eq" | "neq" | "lt" | "lte" | "gt" | "gte") => {
            // Flags published as 0/1 (`value.at_risk`) also take true/false.
            let n = value.as_f64().or_else(|| value.as_bool().map(|b| b as i64 as f64)).or_else(|| as_text(value).ok()?.parse().ok()).ok_or("needs a number")?;
            let (sym, zero_matches) = match op {
                "eq" => ("=", n == 0.0),
                "neq" => ("!=", n != 0.0),
                "lt" => ("<", 0.0 < n),
                "lte" => ("<=", 0.0 <= n),
                "gt" => (">", 0.0 > n),
                _ => (">=", 0.0 >= n),
            };
            // A contact without a row has 0: when 0 matches, they are in.
            if zero_matches {
                s(format!("id NOT IN (SELECT contact_id FROM {view} WHERE NOT ({column} {sym} ?))"), vec![Val::Real(n)])
            } else {
                s(format!("id IN (SELECT contact_id FROM {view} WHERE {column} {sym} ?)"), vec![Val::Real(n)])
            }
        }
        (FKind::Linked { view, column, time: true }, "lt" | "lte" | "gt" | "gte" | "on" | "between") => {
            let inner = FieldSpec { name: f.name.clone(), kind: FKind::Time, sql: column.to_string(), sortable: false, index: None };
            let c = condition(&inner, entity, op, value)?;
            s(format!("id IN (SELECT contact_id FROM {view} WHERE {})", c.text), c.params)
        }
        (k, _) => Err(format!("operator `{op}` does not apply ({})", ops_for(k).join(", "))),
    }
}

/// The operators a field kind accepts (for error messages and the UI).
pub fn ops_for(k: FKind) -> &'static [&'static str] {
    match k {
        FKind::Text => &["eq", "neq", "contains", "starts_with", "in", "not_in", "empty", "not_empty"],
        FKind::Enum(_) | FKind::Ref => &["eq", "neq", "in", "not_in", "empty", "not_empty"],
        FKind::Time => &["lt", "lte", "gt", "gte", "on", "between", "empty", "not_empty"],
        FKind::Date => &["eq", "lt", "lte", "gt", "gte", "between", "anniversary", "empty", "not_empty"],
        FKind::Number => &["eq", "neq", "lt", "lte", "gt", "gte", "empty", "not_empty"],
        FKind::Bool => &["eq", "empty", "not_empty"],
        FKind::Tags => &["has", "has_not", "has_any", "empty", "not_empty"],
        FKind::Multi => &["has", "has_not", "empty", "not_empty"],
        FKind::Linked { time: false, .. } => &["eq", "neq", "lt", "lte", "gt", "gte", "empty", "not_empty"],
        FKind::Member { .. } => &["has", "has_not"],
        FKind::Linked { time: true, .. } => &["lt", "lte", "gt", "gte", "on", "between", "empty", "not_empty"],
    }
}

/// A list's order: a sortable field, then the id (so keyset paging is total).
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    /// None: by id (creation order).
    pub field: Option<FieldSpec>,
    pub desc: bool,
}

impl Sort {
    /// `sort=-updated_at`, `sort=last_name`; default newest first.
    pub fn parse(s: Option<&str>, fields: &[FieldSpec]) -> Result<Sort, FieldError> {
        let s = s.map(str::trim).unwrap_or("");
        if s.is_empty() || s == "-created_at" {
            return Ok(Sort { field: None, desc: true });
        }
        if s == "created_at" {
            return Ok(Sort { field: None, desc: false });
        }
        let (desc, name) = s.strip_prefix('-').map_or((false, s), |n| (true, n));
        match fields.iter().find(|f| f.name == name && f.sortable) {
            Some(f) => Ok(Sort { field: Some(f.clone()), desc }),
            None => Err(FieldError::new("sort", &format!("cannot sort by `{name}`"))),
        }
    }

    pub fn order_by(&self) -> String {
        let dir = if self.desc { "DESC" } else { "ASC" };
        match &self.field {
            None => format!("id {dir}"),
            Some(f) => format!("{} {dir}, id {dir}", f.sql),
        }
    }

    /// The keyset condition after the row with sort value `last` and id `id`,
    /// exact with NULLs (SQLite sorts NULL lowest).
    pub fn after(&self, last: &Val, id: &str) -> Sql {
        let cmp = if self.desc { "<" } else { ">" };
        let Some(f) = &self.field else {
            return Sql { text: format!("id {cmp} ?"), params: vec![id.into()] };
        };
        let c = &f.sql;
        match (last.is_null(), self.desc) {
            (false, true) => Sql { text: format!("({c} < ? OR {c} IS NULL OR ({c} = ? AND id < ?))"), params: vec![last.clone(), last.clone(), id.into()] },
            (false, false) => Sql { text: format!("({c} > ? OR ({c} = ? AND id > ?))"), params: vec![last.clone(), last.clone(), id.into()] },
            (true, true) => Sql { text: format!("({c} IS NULL AND id < ?)"), params: vec![id.into()] },
            (true, false) => Sql { text: format!("({c} IS NOT NULL OR id > ?)"), params: vec![id.into()] },
        }
    }

    /// The index serving this order (`None`: no index; the planner decides).
    pub fn index(&self, entity: Entity) -> Option<String> {
        match &self.field {
            None if entity == Entity::Contact => Some("contacts_id_filters".to_string()),
            None => Some(format!("sqlite_autoindex_{}_1", entity.table())),
            Some(f) => f.index.clone(),
        }
    }

    /// Rows at or before a boundary row in this order (the complement of
    /// `after`, spelled out so NULL keys land on the right side).
    pub fn until(&self, last: &Val, id: &str) -> Sql {
        let Some(f) = &self.field else {
            return Sql { text: format!("id {} ?", if self.desc { ">=" } else { "<=" }), params: vec![id.into()] };
        };
        let c = &f.sql;
        match (last.is_null(), self.desc) {
            (false, true) => Sql { text: format!("({c} > ? OR ({c} = ? AND id >= ?))"), params: vec![last.clone(), last.clone(), id.into()] },
            (false, false) => Sql { text: format!("({c} IS NULL OR {c} < ? OR ({c} = ? AND id <= ?))"), params: vec![last.clone(), last.clone(), id.into()] },
            (true, true) => Sql { text: format!("({c} IS NOT NULL OR id >= ?)"), params: vec![id.into()] },
            (true, false) => Sql { text: format!("({c} IS NULL AND id <= ?)"), params: vec![id.into()] },
        }
    }

    /// The SQL expression whose value the cursor carries (`NULL` when by id).
    pub fn key_sql(&self) -> String {
        self.field.as_ref().map_or("NULL".to_string(), |f| f.sql.clone())
    }
}

/// Cursor: the sort key and id of the last row of a page, opaque to clients.
pub fn encode_cursor(sort_key: &Val, id: &str) -> String {
    let k = match sort_key {
        Val::Int(i) => serde_json::json!(i),
        Val::Real(f) => serde_json::json!(f),
        Val::Text(s) => serde_json::json!(s),
        _ => Value::Null,
    };
    edge_http::ids::encode_cursor(&serde_json::json!([k, id]).to_string())
}

pub fn decode_cursor(c: &str) -> Option<(Val, String)> {
    let v: Value = serde_json::from_str(&edge_http::ids::decode_cursor(c)?).ok()?;
    let id = v.get(1)?.as_str()?.to_string();
    let key = match v.get(0)? {
        Value::Null => Val::Null,
        Value::String(s) => Val::Text(s.clone()),
        Value::Number(n) => n.as_i64().map(Val::Int).or_else(|| n.as_f64().map(Val::Real))?,
        Value::Bool(b) => Val::Int(*b as i64),
        _ => return None,
    };
    Some((key, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::tests::def;
    use serde_json::json;

    fn compile(v: Value) -> Result<Sql, Vec<FieldError>> {
        let defs = vec![def("score", Kind::Number, &[]), def("regions", Kind::MultiSelect, &["eu", "us"])];
        Filter::parse(&v.to_string())?.to_sql(&catalogue(Entity::Contact, &defs), Entity::Contact)
    }

    #[test]
    fn groups_compile_to_parenthesised_sql() {
        let s = compile(json!({"and": [
            {"field": "lifecycle_stage", "op": "in", "value": ["lead", "customer"]},
            {"or": [{"field": "first_name", "op": "contains", "value": "50%"}, {"field": "custom.score", "op": "gte", "value": 10}]}
        ]}))
        .unwrap();
        assert_eq!(s.text, "(lifecycle_stage IN (?, ?) AND (first_name LIKE ? ESCAPE '\\' OR json_extract(custom, '$.score') >= ?))");
        assert_eq!(s.params, vec![Val::from("lead"), Val::from("customer"), Val::from("%50\\%%"), Val::Real(10.0)]);
    }

    #[test]
    fn bad_filters_say_why() {
        for (f, want) in [
            (json!({"field": "password", "op": "eq", "value": "x"}), "not a field"),
            (json!({"field": "lifecycle_stage", "op": "eq", "value": "vip"}), "not one of"),
            (json!({"field": "custom.score", "op": "contains", "value": "x"}), "does not apply"),
            (json!({"field": "created_at", "op": "gt", "value": "yesterday"}), "date"),
            (json!({"field": "first_name; DROP TABLE contacts", "op": "eq", "value": 1}), "not a field"),
        ] {
            let e = compile(f.clone()).unwrap_err();
            assert!(e[0].message.contains(want), "{f}: {}", e[0].message);
        }
        assert!(Filter::parse("{not json").is_err());
        let deep = (0..8).fold(json!({"field": "first_name", "op": "empty"}), |acc, _| json!({"and": [acc]}));
        assert!(compile(deep).is_err());
    }

    #[test]
    fn days_cover_the_whole_day() {
        let s = compile(json!({"field": "created_at", "op": "on", "value": "2024-05-01"})).unwrap();
        assert_eq!(s.params, vec![Val::from("2024-05-01T00:00:00.000Z"), Val::from("2024-05-01T23:59:59.999Z")]);
        let s = compile(json!([{"field": "tags", "op": "has", "value": "vip"}, {"field": "custom.regions", "op": "has", "value": "eu"}])).unwrap();
        assert!(s.text.contains("record_tags") && s.text.contains("json_each"));
        let f = Filter::parse(&json!({"field": "tags", "op": "has_not", "value": "vip"}).to_string()).unwrap();
        let p = f.to_sql_as(&catalogue(Entity::Contact, &[]), Entity::Contact, true).unwrap();
        assert_eq!(
            p.text,
            "(NOT (instr(lower(contacts.tags), ?) > 0) OR NOT EXISTS (SELECT 1 FROM record_tags WHERE record_id = contacts.id AND entity = ? AND tag = ? COLLATE NOCASE))"
        );
        assert_eq!(p.params, vec![Val::from("\"vip\""), Val::from("contact"), Val::from("vip")]);
        let p = f.to_sql_as(&catalogue(Entity::Company, &[]), Entity::Company, true).unwrap();
        assert_eq!(p.text, "NOT EXISTS (SELECT 1 FROM record_tags WHERE record_id = companies.id AND entity = ? AND tag = ? COLLATE NOCASE)");
    }

    #[test]
    fn sorts_and_cursors() {
        let cat = catalogue(Entity::Contact, &[]);
        let s = Sort::parse(Some("-updated_at"), &cat).unwrap();
        assert_eq!(s.order_by(), "updated_at DESC, id DESC");
        assert!(Sort::parse(Some("phone"), &cat).is_err(), "not sortable");
        assert_eq!(Sort::parse(None, &cat).unwrap().order_by(), "id DESC");
        let c = encode_cursor(&Val::from("2024-01-01"), "c_1");
        assert_eq!(decode_cursor(&c), Some((Val::from("2024-01-01"), "c_1".to_string())));
        assert_eq!(decode_cursor("garbage"), None);
    }
}
