//! Tenant-wide pipeline settings (base currency, won and lost reasons), dated
//! exchange rates and quotas. Base values of deals follow every rate change.

use super::{event, Invalid, Writer};
use crate::model::Settings;
use crate::money::{self, Rate};
use anyhow::Result;
use edge_db::{Db, Val};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

pub fn get<D: Db + ?Sized>(db: &D) -> Result<Settings> {
    let r = db.run("SELECT base_currency, lost_reasons, won_reasons, version FROM pipeline_settings WHERE id = 1", &[])?;
    let row = r.first().ok_or_else(|| anyhow::anyhow!("pipeline settings missing"))?;
    Ok(Settings { base_currency: row.text(0), lost_reasons: row.json(1), won_reasons: row.json(2), version: row.i64(3).unwrap_or(1) })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    pub base_currency: Option<String>,
    pub lost_reasons: Option<Vec<String>>,
    pub won_reasons: Option<Vec<String>>,
}

fn reasons(errors: &mut Vec<FieldError>, field: &str, list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in list {
        let r = r.trim().to_string();
        if r.is_empty() || r.chars().count() > 80 {
            errors.push(FieldError::new(field, "each reason must be 1 to 80 characters"));
        } else if !out.contains(&r) {
            out.push(r);
        }
    }
    if out.is_empty() || out.len() > 50 {
        errors.push(FieldError::new(field, "must list 1 to 50 reasons"));
    }
    out
}

/// Changes the settings; a new base currency converts every deal again.
pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, input: SettingsInput, if_version: Option<i64>) -> Result<Settings> {
    edge_db::tx(db, || {
        let before = get(db)?;
        edge_db::record::check_version(if_version, before.version)?;
        let mut e = Vec::new();
        let base = input.base_currency.map(|c| c.trim().to_uppercase()).unwrap_or_else(|| before.base_currency.clone());
        if !money::is_currency(&base) {
            e.push(FieldError::new("base_currency", "must be an ISO 4217 code such as EUR"));
        }
        let lost = input.lost_reasons.map(|l| reasons(&mut e, "lost_reasons", l)).unwrap_or_else(|| before.lost_reasons.clone());
        let won = input.won_reasons.map(|l| reasons(&mut e, "won_reasons", l)).unwrap_or_else(|| before.won_reasons.clone());
        if !e.is_empty() {
            return Err(Invalid(e).into());
        }
        db.run(
            "UPDATE pipeline_settings SET base_currency = ?, lost_reasons = ?, won_reasons = ?, version = version + 1 WHERE id = 1",
            &[base.as_str().into(), edge_db::record::json_text(&lost), edge_db::record::json_text(&won)],
        )?;
        let after = get(db)?;
        event(db, w, "pipeline-settings", "settings", "updated", Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&after)?))?;
        if after.base_currency != before.base_currency {
            recompute_base_values(db, None)?;
        }
        Ok(after)
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExchangeRate {
    pub currency: String,
    pub valid_from: String,
    pub rate: String,
}

pub fn rates<D: Db + ?Sized>(db: &D) -> Result<Vec<ExchangeRate>> {
    let r = db.run("SELECT currency, valid_from, rate FROM exchange_rates ORDER BY currency, valid_from DESC", &[])?;
    Ok(r.iter().map(|row| ExchangeRate { currency: row.text(0), valid_from: row.text(1), rate: row.text(2) }).collect())
}

pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Adds or replaces a dated rate (never dated in the future: base values are
/// computed when rates change) and converts the currency's deals again.
pub fn put_rate<D: Db + ?Sized>(db: &D, w: &Writer, input: ExchangeRate) -> Result<ExchangeRate> {
    let mut e = Vec::new();
    let currency = input.currency.trim().to_uppercase();
    if !money::is_currency(&currency) {
        e.push(FieldError::new("currency", "must be an ISO 4217 code such as USD"));
    }
    let valid_from = input.valid_from.trim().to_string();
    if !crate::model::is_date(&valid_from) {
        e.push(FieldError::new("valid_from", "must be a date like 2026-01-01"));
    } else if valid_from > today() {
        e.push(FieldError::new("valid_from", "may not be in the future"));
    }
    let rate = Rate::parse(&input.rate);
    if rate.is_none() {
        e.push(FieldError::new("rate", "must be a positive decimal such as 0.92 (at most 12 decimals)"));
    }
    edge_db::tx(db, || {
        if currency == get(db)?.base_currency {
            e.push(FieldError::new("currency", "is the base currency (its rate is 1)"));
        }
        if !e.is_empty() {
            return Err(Invalid(std::mem::take(&mut e)).into());
        }
        let rate = rate.map(Rate::to_text).unwrap_or_default();
        db.run(
            "INSERT OR REPLACE INTO exchange_rates (currency, valid_from, rate, created_at) VALUES (?, ?, ?, ?)",
            &[currency.as_str().into(), valid_from.as_str().into(), rate.as_str().into(), edge_db::now().into()],
        )?;
        let out = ExchangeRate { currency: currency.clone(), valid_from: valid_from.clone(), rate };
        event(db, w, "exchange-rate", &format!("{currency}/{valid_from}"), "saved", None, Some(&serde_json::to_value(&out)?))?;
        recompute_base_values(db, Some(&currency))?;
        Ok(out)
    })
}

pub fn delete_rate<D: Db + ?Sized>(db: &D, w: &Writer, currency: &str, valid_from: &str) -> Result<()> {
    edge_db::tx(db, || {
        let n = db.run("SELECT count(*) FROM exchange_rates WHERE currency = ? AND valid_from = ?", &[currency.into(), valid_from.into()])?.scalar_i64().unwrap_or(0);
        if n == 0 {
            return Err(super::NotFound.into());
        }
        db.run("DELETE FROM exchange_rates WHERE currency = ? AND valid_from = ?", &[currency.into(), valid_from.into()])?;
        event(db, w, "exchange-rate", &format!("{currency}/{valid_from}"), "deleted", None, None)?;
        recompute_base_values(db, Some(currency))
    })
}

/// The rates of one currency, newest first, to convert many deals.
pub struct RateBook {
    base: String,
    currency: String,
    /// (valid_from, rate), newest first.
    dated: Vec<(String, Rate)>,
}

impl RateBook {
    pub fn load<D: Db + ?Sized>(db: &D, base: &str, currency: &str) -> Result<RateBook> {
        let r = db.run("SELECT valid_from, rate FROM exchange_rates WHERE currency = ? ORDER BY valid_from DESC", &[currency.into()])?;
        let dated = r.iter().filter_map(|row| Some((row.text(0), Rate::parse(row.str(1)?)?))).collect();
        Ok(RateBook { base: base.to_string(), currency: currency.to_string(), dated })
    }

    /// `minor` on `date` (YYYY-MM-DD…) in base minor units; None without a rate.
    pub fn convert(&self, minor: i64, date: &str) -> Option<i64> {
        if self.currency == self.base {
            return Some(minor);
        }
        let day = &date[..date.len().min(10)];
        let rate = self.dated.iter().find(|(from, _)| from.as_str() <= day).map(|(_, r)| *r)?;
        Some(money::convert(minor, &self.currency, &self.base, rate))
    }
}

/// A deal's base value: at the rate of its close date, or of today while open.
pub fn base_value<D: Db + ?Sized>(db: &D, value: i64, currency: &str, closed_at: Option<&str>) -> Result<Option<i64>> {
    let base = get(db)?.base_currency;
    let book = RateBook::load(db, &base, currency)?;
    Ok(book.convert(value, closed_at.unwrap_or(&today())))
}

/// Converts the deals of `currency` (or every deal) again, in batches.
pub fn recompute_base_values<D: Db + ?Sized>(db: &D, currency: Option<&str>) -> Result<()> {
    let base = get(db)?.base_currency;
    let currencies: Vec<String> = match currency {
        Some(c) => vec![c.to_string()],
        None => db.run("SELECT DISTINCT currency FROM deals", &[])?.iter().map(|r| r.text(0)).collect(),
    };
    let today = today();
    for c in currencies {
        let book = RateBook::load(db, &base, &c)?;
        let rows = db.run("SELECT id, value, closed_at FROM deals WHERE currency = ?", &[c.as_str().into()])?;
        let updates: Vec<Vec<Val>> = rows.iter().map(|r| vec![r.text(0).into(), book.convert(r.i64(1).unwrap_or(0), r.str(2).unwrap_or(&today)).into()]).collect();
        for chunk in updates.chunks(400) {
            let values = vec!["(?, ?)"; chunk.len()].join(", ");
            let params: Vec<Val> = chunk.iter().flatten().cloned().collect();
            db.run(&format!("WITH v(id, b) AS (VALUES {values}) UPDATE deals SET base_value = (SELECT b FROM v WHERE v.id = deals.id) WHERE id IN (SELECT id FROM v)"), &params)?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Quota {
    pub owner_id: String,
    /// `2026-11` (a month) or `2026-Q4` (a quarter).
    pub period: String,
    /// Base currency minor units; 0 removes the quota.
    pub amount: i64,
}

/// `2026-11` or `2026-Q4` → the first day and the first day after.
pub fn period_range(period: &str) -> Option<(String, String)> {
    let (y, rest) = period.split_once('-')?;
    let year: i32 = y.parse().ok().filter(|y| (1970..=9998).contains(y))?;
    let (m0, months) = if let Some(q) = rest.strip_prefix('Q') {
        let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
        ((q - 1) * 3 + 1, 3)
    } else {
        let m: u32 = rest.parse().ok().filter(|m| (1..=12).contains(m))?;
        if rest.len() != 2 {
            return None;
        }
        (m, 1)
    };
    let start = chrono::NaiveDate::from_ymd_opt(year, m0, 1)?;
    let end = start.checked_add_months(chrono::Months::new(months))?;
    Some((start.format("%Y-%m-%d").to_string(), end.format("%Y-%m-%d").to_string()))
}

pub fn quotas<D: Db + ?Sized>(db: &D, period: Option<&str>) -> Result<Vec<Quota>> {
    let r = match period {
        Some(p) => db.run("SELECT owner_id, period, amount FROM quotas WHERE period = ? ORDER BY owner_id", &[p.into()])?,
        None => db.run("SELECT owner_id, period, amount FROM quotas ORDER BY period, owner_id", &[])?,
    };
    Ok(r.iter().map(|row| Quota { owner_id: row.text(0), period: row.text(1), amount: row.i64(2).unwrap_or(0) }).collect())
}

/// Sets quotas (an amount of 0 removes one).
pub fn put_quotas<D: Db + ?Sized>(db: &D, w: &Writer, items: Vec<Quota>) -> Result<Vec<Quota>> {
    let mut e = Vec::new();
    if items.len() > 5000 {
        e.push(FieldError::new("items", "at most 5,000 quotas at once"));
    }
    for (i, q) in items.iter().enumerate() {
        if !edge_http::ids::is_valid("u", &q.owner_id) {
            e.push(FieldError::new(&format!("items[{i}].owner_id"), "must be a user id"));
        }
        if period_range(&q.period).is_none() {
            e.push(FieldError::new(&format!("items[{i}].period"), "must be a month like 2026-11 or a quarter like 2026-Q4"));
        }
        if !(0..=crate::model::MAX_VALUE).contains(&q.amount) {
            e.push(FieldError::new(&format!("items[{i}].amount"), "must be 0 or more (minor units)"));
        }
    }
    if !e.is_empty() {
        return Err(Invalid(e).into());
    }
    edge_db::tx(db, || {
        for q in &items {
            if q.amount == 0 {
                db.run("DELETE FROM quotas WHERE owner_id = ? AND period = ?", &[q.owner_id.as_str().into(), q.period.as_str().into()])?;
            } else {
                db.run("INSERT OR REPLACE INTO quotas (owner_id, period, amount) VALUES (?, ?, ?)", &[q.owner_id.as_str().into(), q.period.as_str().into(), Val::Int(q.amount)])?;
            }
        }
        event(db, w, "quotas", "quotas", "saved", None, Some(&serde_json::to_value(&items)?))?;
        quotas(db, None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};

    #[test]
    fn periods() {
        assert_eq!(period_range("2026-11"), Some(("2026-11-01".into(), "2026-12-01".into())));
        assert_eq!(period_range("2026-Q4"), Some(("2026-10-01".into(), "2027-01-01".into())));
        for bad in ["2026-13", "2026-Q5", "2026", "x-01", "2026-1"] {
            assert_eq!(period_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn dated_rates_convert_at_the_right_day() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        put_rate(&db, &w, ExchangeRate { currency: "usd".into(), valid_from: "2026-01-01".into(), rate: "0.90".into() }).unwrap();
        put_rate(&db, &w, ExchangeRate { currency: "USD".into(), valid_from: "2026-06-01".into(), rate: "0.95".into() }).unwrap();
        let book = RateBook::load(&db, "EUR", "USD").unwrap();
        assert_eq!(book.convert(10_000, "2025-12-31"), None, "no rate before the first one");
        assert_eq!(book.convert(10_000, "2026-01-01T10:00:00Z"), Some(9_000));
        assert_eq!(book.convert(10_000, "2026-05-31"), Some(9_000));
        assert_eq!(book.convert(10_000, "2026-06-01"), Some(9_500), "a rate applies from its day on");
        let future = put_rate(&db, &w, ExchangeRate { currency: "USD".into(), valid_from: "2999-01-01".into(), rate: "1".into() });
        assert!(future.unwrap_err().downcast_ref::<Invalid>().is_some());
        let base = put_rate(&db, &w, ExchangeRate { currency: "EUR".into(), valid_from: "2026-01-01".into(), rate: "1".into() });
        assert!(base.unwrap_err().downcast_ref::<Invalid>().is_some(), "the base currency has no rate");
    }
}
