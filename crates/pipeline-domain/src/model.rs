//! Records as the API shows them, and the validation of what clients send.

use crate::money;
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

pub const PRIORITIES: [&str; 3] = ["low", "normal", "high"];
pub const STATUSES: [&str; 3] = ["open", "won", "lost"];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Settings {
    pub base_currency: String,
    pub lost_reasons: Vec<String>,
    pub won_reasons: Vec<String>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stage {
    pub id: String,
    pub name: String,
    pub position: i64,
    pub probability: i64,
    pub stale_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub position: i64,
    pub stages: Vec<Stage>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LineItem {
    pub product: String,
    pub quantity: f64,
    /// Minor units of the deal's currency.
    pub unit_price: i64,
    #[serde(default)]
    pub discount_percent: f64,
    /// quantity × unit price less the discount, rounded to the minor unit.
    #[serde(default)]
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deal {
    pub id: String,
    pub title: String,
    pub value: i64,
    pub currency: String,
    /// In the tenant's base currency; None while the currency has no rate.
    pub base_value: Option<i64>,
    pub expected_close: Option<String>,
    pub owner_id: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub contact_ids: Vec<String>,
    pub pipeline_id: String,
    pub stage_id: String,
    /// Effective: the override, else the stage's; won 100, lost 0.
    pub probability: i64,
    pub probability_override: Option<i64>,
    pub source: Option<String>,
    pub priority: String,
    pub line_items: Vec<LineItem>,
    pub status: String,
    pub lost_reason: Option<String>,
    pub won_reason: Option<String>,
    pub next_step: Option<String>,
    pub tags: Vec<String>,
    pub position: f64,
    pub stage_entered_at: String,
    pub touched_at: String,
    /// Open and untouched for longer than its stage allows.
    pub stale: bool,
    pub closed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    pub version: i64,
}

/// A deal as a board card: what the card shows and what a move needs.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub id: String,
    pub title: String,
    pub value: i64,
    pub currency: String,
    pub base_value: Option<i64>,
    pub expected_close: Option<String>,
    pub owner_id: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub stage_id: String,
    pub probability: i64,
    pub probability_override: Option<i64>,
    pub priority: String,
    pub next_step: Option<String>,
    pub tags: Vec<String>,
    pub stale: bool,
    pub stage_entered_at: String,
    pub position: f64,
    pub version: i64,
}

impl From<Deal> for Card {
    fn from(d: Deal) -> Card {
        Card {
            id: d.id, title: d.title, value: d.value, currency: d.currency, base_value: d.base_value, expected_close: d.expected_close,
            owner_id: d.owner_id, contact_id: d.contact_id, company_id: d.company_id, stage_id: d.stage_id, probability: d.probability,
            probability_override: d.probability_override, priority: d.priority, next_step: d.next_step, tags: d.tags, stale: d.stale, stage_entered_at: d.stage_entered_at,
            position: d.position, version: d.version,
        }
    }
}

impl Deal {
    /// The writable fields as a client would send them (PATCH merges into this).
    pub fn as_input(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title, "value": self.value, "currency": self.currency,
            "expected_close": self.expected_close, "owner_id": self.owner_id,
            "contact_id": self.contact_id, "company_id": self.company_id, "contact_ids": self.contact_ids,
            "pipeline_id": self.pipeline_id, "stage_id": self.stage_id, "probability": self.probability_override,
            "source": self.source, "priority": self.priority, "line_items": self.line_items,
            "status": self.status, "lost_reason": self.lost_reason, "won_reason": self.won_reason,
            "next_step": self.next_step, "tags": self.tags,
        })
    }
}

/// A deal as a client sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealInput {
    pub title: Option<String>,
    pub value: Option<i64>,
    pub currency: Option<String>,
    pub expected_close: Option<String>,
    pub owner_id: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub contact_ids: Option<Vec<String>>,
    pub pipeline_id: Option<String>,
    pub stage_id: Option<String>,
    /// Overrides the stage's win probability (null: the stage's).
    pub probability: Option<i64>,
    pub source: Option<String>,
    pub priority: Option<String>,
    pub line_items: Option<Vec<LineItem>>,
    pub status: Option<String>,
    pub lost_reason: Option<String>,
    pub won_reason: Option<String>,
    pub next_step: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// A validated deal; the store resolves the pipeline and stage.
#[derive(Debug, Clone, PartialEq)]
pub struct DealData {
    pub title: String,
    pub value: i64,
    pub currency: String,
    pub expected_close: Option<String>,
    pub owner_id: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    /// Other contacts (never the primary one).
    pub contact_ids: Vec<String>,
    pub pipeline_id: Option<String>,
    pub stage_id: Option<String>,
    pub probability_override: Option<i64>,
    pub source: Option<String>,
    pub priority: String,
    pub line_items: Vec<LineItem>,
    pub status: String,
    pub lost_reason: Option<String>,
    pub won_reason: Option<String>,
    pub next_step: Option<String>,
    pub tags: Vec<String>,
}

pub const MAX_VALUE: i64 = 1_000_000_000_000_000;

fn text(errors: &mut Vec<FieldError>, field: &str, v: Option<String>, max: usize) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(s) = &v {
        if s.chars().count() > max {
            errors.push(FieldError::new(field, &format!("must be at most {max} characters")));
        }
    }
    v
}

fn id(errors: &mut Vec<FieldError>, field: &str, v: Option<String>, prefix: &str) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(s) = &v {
        if !edge_http::ids::is_valid(prefix, s) {
            errors.push(FieldError::new(field, &format!("must be an id like {prefix}_01…")));
        }
    }
    v
}

/// Trimmed, lower-cased, unique tags.
pub fn clean_tags(errors: &mut Vec<FieldError>, tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 50 {
            errors.push(FieldError::new("tags", "each tag must be at most 50 characters"));
        } else if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 50 {
        errors.push(FieldError::new("tags", "at most 50 tags"));
    }
    out
}

/// A `YYYY-MM-DD` calendar date.
pub fn is_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

impl LineItem {
    fn checked(mut self, i: usize, errors: &mut Vec<FieldError>) -> LineItem {
        let f = |k: &str| format!("line_items[{i}].{k}");
        self.product = self.product.trim().to_string();
        if self.product.is_empty() || self.product.chars().count() > 200 {
            errors.push(FieldError::new(&f("product"), "is required (at most 200 characters)"));
        }
        if !(self.quantity > 0.0 && self.quantity <= 1e9) || (self.quantity * 1000.0).fract().abs() > 1e-6 {
            errors.push(FieldError::new(&f("quantity"), "must be more than 0, with at most 3 decimals"));
        }
        if !(0..=MAX_VALUE).contains(&self.unit_price) {
            errors.push(FieldError::new(&f("unit_price"), "must be 0 or more (minor units)"));
        }
        if !(0.0..=100.0).contains(&self.discount_percent) {
            errors.push(FieldError::new(&f("discount_percent"), "must be from 0 to 100"));
        }
        let total = self.quantity * self.unit_price as f64 * (1.0 - self.discount_percent / 100.0);
        self.total = if total.is_finite() && total < MAX_VALUE as f64 { total.round() as i64 } else { MAX_VALUE };
        self
    }
}

impl DealInput {
    pub fn validate(self, settings: &Settings) -> Result<DealData, Vec<FieldError>> {
        let mut e = Vec::new();
        let title = text(&mut e, "title", self.title, 200);
        if title.is_none() {
            e.push(FieldError::new("title", "is required"));
        }
        let currency = self.currency.map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty()).unwrap_or_else(|| settings.base_currency.clone());
        if !money::is_currency(&currency) {
            e.push(FieldError::new("currency", "must be an ISO 4217 code such as EUR"));
        }
        let line_items: Vec<LineItem> = self.line_items.unwrap_or_default().into_iter().enumerate().map(|(i, li)| li.checked(i, &mut e)).collect();
        if line_items.len() > 200 {
            e.push(FieldError::new("line_items", "at most 200 line items"));
        }
        let value = if line_items.is_empty() {
            self.value.unwrap_or(0)
        } else {
            line_items.iter().map(|l| l.total).fold(0i64, |a, b| a.saturating_add(b))
        };
        if !(0..=MAX_VALUE).contains(&value) {
            e.push(FieldError::new("value", "must be 0 or more, in minor units (cents)"));
        }
        let expected_close = text(&mut e, "expected_close", self.expected_close, 10);
        if expected_close.as_deref().is_some_and(|d| !is_date(d)) {
            e.push(FieldError::new("expected_close", "must be a date like 2026-12-31"));
        }
        let owner_id = id(&mut e, "owner_id", self.owner_id, "u");
        let contact_id = id(&mut e, "contact_id", self.contact_id, "c");
        let company_id = id(&mut e, "company_id", self.company_id, "co");
        let mut contact_ids = Vec::new();
        for c in self.contact_ids.unwrap_or_default() {
            if let Some(c) = id(&mut e, "contact_ids", Some(c), "c") {
                if Some(&c) != contact_id.as_ref() && !contact_ids.contains(&c) {
                    contact_ids.push(c);
                }
            }
        }
        if contact_ids.len() > 50 {
            e.push(FieldError::new("contact_ids", "at most 50 contacts"));
        }
        let pipeline_id = id(&mut e, "pipeline_id", self.pipeline_id, "pl");
        let stage_id = id(&mut e, "stage_id", self.stage_id, "st");
        if self.probability.is_some_and(|p| !(0..=100).contains(&p)) {
            e.push(FieldError::new("probability", "must be from 0 to 100"));
        }
        let priority = self.priority.map(|p| p.trim().to_lowercase()).filter(|p| !p.is_empty()).unwrap_or_else(|| "normal".into());
        if !PRIORITIES.contains(&priority.as_str()) {
            e.push(FieldError::new("priority", "must be low, normal or high"));
        }
        let status = self.status.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into());
        if !STATUSES.contains(&status.as_str()) {
            e.push(FieldError::new("status", "must be open, won or lost"));
        }
        let mut lost_reason = text(&mut e, "lost_reason", self.lost_reason, 80);
        let mut won_reason = text(&mut e, "won_reason", self.won_reason, 80);
        match status.as_str() {
            "lost" => match &lost_reason {
                None => e.push(FieldError::new("lost_reason", "is required when a deal is lost")),
                Some(r) if !settings.lost_reasons.iter().any(|x| x == r) => {
                    e.push(FieldError::new("lost_reason", &format!("must be one of: {}", settings.lost_reasons.join(", "))))
                }
                _ => {}
            },
            "won" => {
                if let Some(r) = &won_reason {
                    if !settings.won_reasons.iter().any(|x| x == r) {
                        e.push(FieldError::new("won_reason", &format!("must be one of: {}", settings.won_reasons.join(", "))));
                    }
                }
            }
            _ => {}
        }
        if status != "lost" {
            lost_reason = None;
        }
        if status != "won" {
            won_reason = None;
        }
        let tags = clean_tags(&mut e, self.tags.unwrap_or_default());
        let data = DealData {
            title: title.unwrap_or_default(),
            value,
            currency,
            expected_close,
            owner_id,
            contact_id,
            company_id,
            contact_ids,
            pipeline_id,
            stage_id,
            probability_override: self.probability,
            source: text(&mut e, "source", self.source, 100),
            priority,
            line_items,
            status,
            lost_reason,
            won_reason,
            next_step: text(&mut e, "next_step", self.next_step, 500),
            tags,
        };
        if e.is_empty() {
            Ok(data)
        } else {
            Err(e)
        }
    }
}

/// A stage as a client sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    pub name: Option<String>,
    pub probability: Option<i64>,
    /// null or absent: never stale.
    pub stale_days: Option<i64>,
}

impl StageInput {
    pub fn validate(self) -> Result<(String, i64, Option<i64>), Vec<FieldError>> {
        let mut e = Vec::new();
        let name = text(&mut e, "name", self.name, 80);
        if name.is_none() {
            e.push(FieldError::new("name", "is required"));
        }
        let probability = self.probability.unwrap_or(10);
        if !(0..=100).contains(&probability) {
            e.push(FieldError::new("probability", "must be from 0 to 100"));
        }
        if self.stale_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            e.push(FieldError::new("stale_days", "must be from 1 to 3650 days, or null"));
        }
        if e.is_empty() {
            Ok((name.unwrap_or_default(), probability, self.stale_days))
        } else {
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> Settings {
        Settings { base_currency: "EUR".into(), lost_reasons: vec!["Price".into()], won_reasons: vec!["Product fit".into()], version: 1 }
    }

    fn input(v: serde_json::Value) -> DealInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn defaults_and_line_items() {
        let d = input(json!({"title": " Big one ", "line_items": [
            {"product": "Seats", "quantity": 10, "unit_price": 1999, "discount_percent": 10},
            {"product": "Setup", "quantity": 1.5, "unit_price": 10000}
        ], "value": 5})).validate(&settings()).unwrap();
        assert_eq!(d.title, "Big one");
        assert_eq!(d.currency, "EUR");
        assert_eq!(d.priority, "normal");
        assert_eq!(d.status, "open");
        assert_eq!(d.line_items[0].total, 17991); // 10 × 19.99 less 10 %
        assert_eq!(d.value, 17991 + 15000, "with line items the value is their sum");
    }

    #[test]
    fn lost_needs_a_listed_reason() {
        let err = input(json!({"title": "x", "status": "lost"})).validate(&settings()).unwrap_err();
        assert_eq!(err[0].field, "lost_reason");
        let err = input(json!({"title": "x", "status": "lost", "lost_reason": "Weather"})).validate(&settings()).unwrap_err();
        assert!(err[0].message.contains("Price"));
        let ok = input(json!({"title": "x", "status": "lost", "lost_reason": "Price", "won_reason": "Product fit"})).validate(&settings()).unwrap();
        assert_eq!((ok.lost_reason.as_deref(), ok.won_reason), (Some("Price"), None));
        let reopened = input(json!({"title": "x", "status": "open", "lost_reason": "Price"})).validate(&settings()).unwrap();
        assert_eq!(reopened.lost_reason, None, "reopening clears the reason");
    }

    #[test]
    fn field_errors() {
        let err = input(json!({"value": -1, "currency": "euro", "expected_close": "2026-02-30", "probability": 120,
            "owner_id": "bob", "priority": "urgent", "status": "maybe"})).validate(&settings()).unwrap_err();
        let fields: Vec<&str> = err.iter().map(|e| e.field.as_str()).collect();
        for f in ["title", "value", "currency", "expected_close", "probability", "owner_id", "priority", "status"] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        assert!(serde_json::from_value::<DealInput>(json!({"titel": "typo"})).is_err(), "unknown fields are refused");
        assert!(StageInput { name: Some("x".into()), probability: Some(101), stale_days: Some(0) }.validate().is_err());
    }
}
