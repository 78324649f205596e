//! Exports of a list view: CSV rows (formula-safe, importable back with the
//! same column names) or JSON records.

use crate::csv;
use crate::fields::FieldDef;
use crate::model::{Company, Contact};
use serde_json::Value;

fn custom_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().map(|i| i.as_str().map(String::from).unwrap_or_else(|| i.to_string())).collect::<Vec<_>>().join("; "),
        Some(other) => other.to_string(),
    }
}

fn consent(s: crate::model::ConsentState) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// A header row: the standard columns, then one per custom field.
fn header(names: &[&str], defs: &[FieldDef]) -> String {
    let mut h: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    h.extend(defs.iter().map(|d| format!("custom.{}", d.key)));
    csv::row(&h)
}

/// A record's row: its standard cells, then its custom values.
fn finish(mut f: Vec<String>, custom: &crate::model::Custom, defs: &[FieldDef]) -> String {
    f.extend(defs.iter().map(|d| custom_text(custom.get(&d.key))));
    csv::row(&f)
}

/// The address columns, in header order.
fn address_cells(a: &Option<crate::model::Address>) -> [String; 5] {
    let a = a.clone().unwrap_or_default();
    [a.street, a.city, a.region, a.postal_code, a.country].map(Option::unwrap_or_default)
}

pub fn contact_header(defs: &[FieldDef]) -> String {
    header(&[
        "id", "first_name", "last_name", "email", "emails", "phone", "phones", "title", "company", "company_id", "lifecycle_stage", "source", "owner_id",
        "tags", "address.street", "address.city", "address.region", "address.postal_code", "address.country", "consent.email", "consent.sms",
        "consent.phone", "external_id", "created_at", "updated_at", "last_activity_at",
    ], defs)
}

pub fn contact_row(c: &Contact, defs: &[FieldDef]) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut f = vec![
        c.id.clone(),
        o(&c.first_name),
        o(&c.last_name),
        o(&c.email),
        c.emails.iter().filter(|e| !e.primary).map(|e| e.address.as_str()).collect::<Vec<_>>().join("; "),
        o(&c.phone),
        c.phones.iter().filter(|p| !p.primary).map(|p| p.number.as_str()).collect::<Vec<_>>().join("; "),
        o(&c.title),
        o(&c.company),
        o(&c.company_id),
        c.lifecycle_stage.as_str().into(),
        o(&c.source),
        o(&c.owner_id),
        c.tags.join("; "),
    ];
    f.extend(address_cells(&c.address));
    f.extend([
        consent(c.consent.email),
        consent(c.consent.sms),
        consent(c.consent.phone),
        o(&c.external_id),
        c.created_at.clone(),
        c.updated_at.clone(),
        o(&c.last_activity_at),
    ]);
    finish(f, &c.custom, defs)
}

pub fn company_header(defs: &[FieldDef]) -> String {
    header(&[
        "id", "name", "domain", "domains", "industry", "size", "phone", "website", "owner_id", "tags", "parent_id", "address.street", "address.city",
        "address.region", "address.postal_code", "address.country", "external_id", "created_at", "updated_at", "last_activity_at",
    ], defs)
}

pub fn company_row(c: &Company, defs: &[FieldDef]) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut f = vec![
        c.id.clone(),
        c.name.clone(),
        o(&c.domain),
        c.domains.iter().skip(1).cloned().collect::<Vec<_>>().join("; "),
        o(&c.industry),
        o(&c.size),
        o(&c.phone),
        o(&c.website),
        o(&c.owner_id),
        c.tags.join("; "),
        o(&c.parent_id),
    ];
    f.extend(address_cells(&c.address));
    f.extend([
        o(&c.external_id),
        c.created_at.clone(),
        c.updated_at.clone(),
        o(&c.last_activity_at),
    ]);
    finish(f, &c.custom, defs)
}
