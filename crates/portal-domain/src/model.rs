//! Orders as the API shows them, and the validation of what shops and staff send.

use edge_http::FieldError;
use serde::{Deserialize, Serialize};

/// The order lifecycle: forward through placed → paid → shipped → delivered;
/// cancelled before shipping, returned after.
pub const STATUSES: [&str; 6] = ["placed", "paid", "shipped", "delivered", "cancelled", "returned"];

fn rank(s: &str) -> Option<usize> {
    ["placed", "paid", "shipped", "delivered"].iter().position(|x| *x == s)
}

/// Whether an order may go from `from` to `to` (a shop syncing late may skip steps).
pub fn may_move(from: &str, to: &str) -> bool {
    match (from, to) {
        (a, b) if a == b => false,
        ("cancelled" | "returned", _) => false,
        ("placed" | "paid", "cancelled") => true,
        ("shipped" | "delivered", "returned") => true,
        (a, b) => matches!((rank(a), rank(b)), (Some(x), Some(y)) if y > x),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Item {
    #[serde(default)]
    pub sku: Option<String>,
    pub product: String,
    pub quantity: i64,
    /// Minor units of the order's currency.
    pub unit_price: i64,
    #[serde(default)]
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Order {
    pub id: String,
    pub number: String,
    pub external_id: Option<String>,
    pub contact_id: String,
    pub currency: String,
    pub items: Vec<Item>,
    pub shipping: i64,
    pub tax: i64,
    pub discount: i64,
    pub total: i64,
    pub status: String,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub note: Option<String>,
    pub placed_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusEntry {
    pub status: String,
    pub at: String,
    pub note: Option<String>,
}

/// An order as a shop, an ERP or staff send it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub number: Option<String>,
    pub external_id: Option<String>,
    pub contact_id: Option<String>,
    /// Instead of `contact_id`: the customer, found or created by email.
    pub customer: Option<serde_json::Value>,
    pub currency: Option<String>,
    pub items: Option<Vec<Item>>,
    pub shipping: Option<i64>,
    pub tax: Option<i64>,
    pub discount: Option<i64>,
    pub status: Option<String>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub note: Option<String>,
    pub placed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderData {
    pub number: Option<String>,
    pub external_id: Option<String>,
    pub contact_id: String,
    pub currency: String,
    pub items: Vec<Item>,
    pub shipping: i64,
    pub tax: i64,
    pub discount: i64,
    pub total: i64,
    pub status: String,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub note: Option<String>,
    pub placed_at: Option<String>,
}

const MAX: i64 = 1_000_000_000_000_000;

fn text(e: &mut Vec<FieldError>, field: &str, v: Option<String>, max: usize) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        e.push(FieldError::new(field, &format!("must be at most {max} characters")));
    }
    v
}

impl OrderInput {
    /// `contact_id` must already be resolved (from `customer` if given).
    pub fn validate(self) -> Result<OrderData, Vec<FieldError>> {
        let mut e = Vec::new();
        let contact_id = self.contact_id.map(|c| c.trim().to_string()).unwrap_or_default();
        if !edge_http::ids::is_valid("c", &contact_id) {
            e.push(FieldError::new("contact_id", "is required: the customer's contact id (or `customer` with an email)"));
        }
        let currency = self.currency.map(|c| c.trim().to_uppercase()).unwrap_or_default();
        if !(currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase())) {
            e.push(FieldError::new("currency", "must be an ISO 4217 code such as EUR"));
        }
        let mut items = self.items.unwrap_or_default();
        if items.is_empty() || items.len() > 500 {
            e.push(FieldError::new("items", "an order has 1 to 500 items"));
        }
        for (i, it) in items.iter_mut().enumerate() {
            it.product = it.product.trim().to_string();
            if it.product.is_empty() || it.product.chars().count() > 200 {
                e.push(FieldError::new(&format!("items[{i}].product"), "is required (at most 200 characters)"));
            }
            if !(1..=1_000_000).contains(&it.quantity) {
                e.push(FieldError::new(&format!("items[{i}].quantity"), "must be from 1 to 1,000,000"));
            }
            if !(0..=MAX).contains(&it.unit_price) {
                e.push(FieldError::new(&format!("items[{i}].unit_price"), "must be 0 or more (minor units)"));
            }
            it.total = it.quantity.saturating_mul(it.unit_price);
        }
        let money = |e: &mut Vec<FieldError>, k: &str, v: Option<i64>| {
            let v = v.unwrap_or(0);
            if !(0..=MAX).contains(&v) {
                e.push(FieldError::new(k, "must be 0 or more (minor units)"));
            }
            v
        };
        let (shipping, tax, discount) = (money(&mut e, "shipping", self.shipping), money(&mut e, "tax", self.tax), money(&mut e, "discount", self.discount));
        let total = items.iter().map(|i| i.total).fold(0i64, i64::saturating_add).saturating_add(shipping).saturating_add(tax) - discount;
        if total < 0 {
            e.push(FieldError::new("discount", "is larger than the order"));
        }
        let status = self.status.map(|s| s.trim().to_lowercase()).unwrap_or_else(|| "placed".into());
        if !STATUSES.contains(&status.as_str()) {
            e.push(FieldError::new("status", "must be placed, paid, shipped, delivered, cancelled or returned"));
        }
        let placed_at = self.placed_at.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
        let placed_at = match placed_at {
            None => None,
            Some(p) => match chrono::DateTime::parse_from_rfc3339(&p) {
                Ok(t) => Some(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                Err(_) => {
                    e.push(FieldError::new("placed_at", "must be an RFC 3339 time like 2026-11-23T10:00:00Z"));
                    None
                }
            },
        };
        let data = OrderData {
            number: text(&mut e, "number", self.number, 40),
            external_id: text(&mut e, "external_id", self.external_id, 200),
            contact_id,
            currency,
            items,
            shipping,
            tax,
            discount,
            total,
            status,
            carrier: text(&mut e, "carrier", self.carrier, 80),
            tracking_number: text(&mut e, "tracking_number", self.tracking_number, 120),
            note: text(&mut e, "note", self.note, 2000),
            placed_at,
        };
        if e.is_empty() {
            Ok(data)
        } else {
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn totals_and_rules() {
        let d: OrderInput = serde_json::from_value(json!({"contact_id": "c_01HZZZZZZZZZZZZZZZZZZZZZZZ", "currency": "eur",
            "items": [{"product": "Boots", "quantity": 2, "unit_price": 8999}], "shipping": 495, "discount": 1000})).unwrap();
        let d = d.validate().unwrap();
        assert_eq!((d.currency.as_str(), d.items[0].total, d.total, d.status.as_str()), ("EUR", 17998, 17998 + 495 - 1000, "placed"));
        let bad: OrderInput = serde_json::from_value(json!({"items": [], "currency": "euro", "status": "lost"})).unwrap();
        let fields: Vec<String> = bad.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["contact_id", "currency", "items", "status"]);
    }

    #[test]
    fn lifecycle() {
        assert!(may_move("placed", "paid") && may_move("placed", "delivered") && may_move("paid", "cancelled"));
        assert!(may_move("delivered", "returned") && !may_move("shipped", "cancelled"));
        assert!(!may_move("delivered", "paid") && !may_move("cancelled", "paid") && !may_move("paid", "paid"));
    }
}
