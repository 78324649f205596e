//! Forecast and sales reports, in the tenant's base currency. Every figure is
//! an SQL aggregate over the deals the caller may see (no per-deal work in
//! Rust), so reports stay fast over hundreds of thousands of closed deals.

use crate::store::settings::{self, period_range};
use crate::store::{deals::Filters, pipelines, restrict, Invalid};
use anyhow::Result;
use chrono::{Datelike, NaiveDate, Utc};
use edge_db::{Db, Val};
use edge_http::{FieldError, Visibility};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub pipeline_id: Option<String>,
    pub owner_id: Option<String>,
    /// First and last day (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    let m = d.year() * 12 + d.month0() as i32 + n;
    NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

impl ReportQuery {
    /// `from`/`to` dates; by default the `back` months before this one through
    /// `ahead` months after it.
    pub fn parse(pairs: &[(String, String)], today: NaiveDate, back: i32, ahead: i32) -> Result<ReportQuery, Vec<FieldError>> {
        let mut e = Vec::new();
        let get = |k: &str| edge_http::query::get(pairs, k).map(str::trim).filter(|v| !v.is_empty()).map(String::from);
        let mut date = |k: &str, default: NaiveDate| match get(k) {
            None => default,
            Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d").unwrap_or_else(|_| {
                e.push(FieldError::new(k, "must be a date like 2026-12-31"));
                default
            }),
        };
        let from = date("from", add_months(month_start(today), -back));
        let to = date("to", add_months(month_start(today), ahead + 1).pred_opt().unwrap_or(today));
        if to < from {
            e.push(FieldError::new("to", "must not be before from"));
        } else if (to - from).num_days() > 3660 {
            e.push(FieldError::new("to", "a report spans at most 10 years"));
        }
        if e.is_empty() {
            Ok(ReportQuery { pipeline_id: get("pipeline_id"), owner_id: get("owner_id"), from, to })
        } else {
            Err(e)
        }
    }

    fn from_text(&self) -> String {
        self.from.format("%Y-%m-%d").to_string()
    }
    /// The day after `to`, for half-open ranges over timestamps.
    fn end_text(&self) -> String {
        self.to.succ_opt().unwrap_or(self.to).format("%Y-%m-%d").to_string()
    }

    /// Conditions over `deals d` for the pipeline, owner and visibility (no
    /// stage columns: closed-deal queries read only their covering index).
    fn scope(&self, vis: &Visibility) -> (Vec<String>, Vec<Val>) {
        let f = Filters { pipeline_id: self.pipeline_id.clone(), owner_id: self.owner_id.clone(), ..Default::default() };
        f.sql(vis, Utc::now())
    }
}

#[derive(Debug, Default, Serialize, Clone, PartialEq)]
pub struct ForecastRow {
    pub open_count: i64,
    pub open_total: i64,
    pub weighted: i64,
    pub won_count: i64,
    pub won_total: i64,
    pub quota: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Forecast {
    pub base_currency: String,
    pub from: String,
    pub to: String,
    pub months: Vec<serde_json::Value>,
    pub owners: Vec<serde_json::Value>,
    /// Open deals whose expected close has passed.
    pub overdue: ForecastRow,
    /// Open deals without a rate to the base currency (left out).
    pub unconverted: i64,
}

fn weighted(sum_times_percent: f64) -> i64 {
    (sum_times_percent / 100.0).round() as i64
}

/// Weighted open value by expected-close month and by owner, beside the value
/// won in each month and the quotas.
pub fn forecast<D: Db + ?Sized>(db: &D, q: &ReportQuery, vis: &Visibility, today: NaiveDate) -> Result<Forecast> {
    let (conds, params) = q.scope(vis);
    let scope = conds.join(" AND ");
    let mut months: BTreeMap<String, ForecastRow> = BTreeMap::new();
    let mut m = month_start(q.from);
    while m <= q.to {
        months.insert(m.format("%Y-%m").to_string(), ForecastRow::default());
        m = add_months(m, 1);
    }
    let mut owners: BTreeMap<String, ForecastRow> = BTreeMap::new();
    let mut p = params.clone();
    p.extend([q.from_text().into(), q.to.format("%Y-%m-%d").to_string().into()]);
    let open = db.run(
        &format!(
            "SELECT substr(d.expected_close, 1, 7), COALESCE(d.owner_id, ''), count(*), COALESCE(sum(d.base_value), 0),
                COALESCE(sum(d.base_value * COALESCE(d.probability_override, s.probability)), 0), sum(d.base_value IS NULL)
             FROM deals d JOIN stages s ON s.id = d.stage_id
             WHERE {scope} AND d.status = 'open' AND d.expected_close >= ? AND d.expected_close <= ? GROUP BY 1, 2"
        ),
        &p,
    )?;
    let mut unconverted = 0;
    for r in open.iter() {
        let (n, total, w) = (r.i64(2).unwrap_or(0), r.i64(3).unwrap_or(0), r.f64(4).unwrap_or(0.0));
        unconverted += r.i64(5).unwrap_or(0);
        for row in [months.entry(r.text(0)).or_default(), owners.entry(r.text(1)).or_default()] {
            row.open_count += n;
            row.open_total += total;
            row.weighted += weighted(w);
        }
    }
    let mut p = params.clone();
    p.extend([q.from_text().into(), q.end_text().into()]);
    let won = db.run(
        &format!(
            "SELECT substr(d.closed_at, 1, 7), COALESCE(d.owner_id, ''), count(*), COALESCE(sum(d.base_value), 0)
             FROM deals d WHERE {scope} AND d.status = 'won' AND d.closed_at >= ? AND d.closed_at < ? GROUP BY 1, 2"
        ),
        &p,
    )?;
    for r in won.iter() {
        for row in [months.entry(r.text(0)).or_default(), owners.entry(r.text(1)).or_default()] {
            row.won_count += r.i64(2).unwrap_or(0);
            row.won_total += r.i64(3).unwrap_or(0);
        }
    }
    // Quotas: a month's own, plus a third of its quarter's.
    let mut qc = Vec::new();
    let mut qp = Vec::new();
    restrict(vis, "owner_id", &mut qc, &mut qp);
    if let Some(o) = &q.owner_id {
        qc.push("owner_id = ?".into());
        qp.push(o.into());
    }
    let quotas = db.run(&format!("SELECT owner_id, period, amount FROM quotas{}", if qc.is_empty() { String::new() } else { format!(" WHERE {}", qc.join(" AND ")) }), &qp)?;
    for r in quotas.iter() {
        let (owner, period, amount) = (r.text(0), r.text(1), r.i64(2).unwrap_or(0));
        let Some((start, end)) = period_range(&period) else { continue };
        let quarter = period.contains('Q');
        let mut m = NaiveDate::parse_from_str(&start, "%Y-%m-%d").unwrap_or(q.from);
        let end = NaiveDate::parse_from_str(&end, "%Y-%m-%d").unwrap_or(q.to);
        while m < end {
            let share = if quarter { (amount as f64 / 3.0).round() as i64 } else { amount };
            if m >= month_start(q.from) && m <= q.to {
                if let Some(row) = months.get_mut(&m.format("%Y-%m").to_string()) {
                    *row.quota.get_or_insert(0) += share;
                }
                *owners.entry(owner.clone()).or_default().quota.get_or_insert(0) += share;
            }
            m = add_months(m, 1);
        }
    }
    let mut p = params.clone();
    p.push(today.format("%Y-%m-%d").to_string().into());
    let over = db.run(
        &format!(
            "SELECT count(*), COALESCE(sum(d.base_value), 0), COALESCE(sum(d.base_value * COALESCE(d.probability_override, s.probability)), 0)
             FROM deals d JOIN stages s ON s.id = d.stage_id WHERE {scope} AND d.status = 'open' AND d.expected_close < ?"
        ),
        &p,
    )?;
    let overdue = over.first().map(|r| ForecastRow { open_count: r.i64(0).unwrap_or(0), open_total: r.i64(1).unwrap_or(0), weighted: weighted(r.f64(2).unwrap_or(0.0)), ..Default::default() }).unwrap_or_default();
    Ok(Forecast {
        base_currency: settings::get(db)?.base_currency,
        from: q.from_text(),
        to: q.to.format("%Y-%m-%d").to_string(),
        months: months
            .into_iter()
            .filter(|(k, _)| k.as_str() >= &q.from_text()[..7] && k.as_str() <= &q.to.format("%Y-%m").to_string()[..])
            .map(|(k, v)| with_key("month", k, v))
            .collect(),
        owners: owners.into_iter().map(|(k, v)| with_key("owner_id", k, v)).collect(),
        overdue,
        unconverted,
    })
}

fn with_key<T: Serialize>(name: &str, key: String, v: T) -> serde_json::Value {
    let mut o = serde_json::to_value(v).unwrap_or_default();
    o[name] = if key.is_empty() { serde_json::Value::Null } else { key.into() };
    o
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ReasonRow {
    pub reason: String,
    pub count: i64,
    pub value: i64,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub base_currency: String,
    pub from: String,
    pub to: String,
    pub won_count: i64,
    pub won_value: i64,
    pub lost_count: i64,
    pub lost_value: i64,
    /// won / (won + lost) among deals closed in the period.
    pub win_rate: Option<f64>,
    pub average_won: Option<i64>,
    /// Days from creation to winning, on average.
    pub average_cycle_days: Option<f64>,
    pub lost_reasons: Vec<ReasonRow>,
    pub won_reasons: Vec<ReasonRow>,
    pub open_count: i64,
    pub open_total: i64,
    pub open_weighted: i64,
    pub unconverted: i64,
}

/// Win rate, deal size, sales cycle and reasons over the deals closed in the period.
pub fn summary<D: Db + ?Sized>(db: &D, q: &ReportQuery, vis: &Visibility) -> Result<Summary> {
    let (conds, params) = q.scope(vis);
    let scope = conds.join(" AND ");
    let mut p = params.clone();
    p.extend([q.from_text().into(), q.end_text().into()]);
    let closed = db.run(
        &format!(
            "SELECT d.status, COALESCE(CASE d.status WHEN 'won' THEN d.won_reason ELSE d.lost_reason END, ''), count(*), COALESCE(sum(d.base_value), 0),
                sum(julianday(d.closed_at) - julianday(d.created_at)), sum(d.base_value IS NULL)
             FROM deals d WHERE {scope} AND d.status IN ('won', 'lost') AND d.closed_at >= ? AND d.closed_at < ? GROUP BY 1, 2"
        ),
        &p,
    )?;
    let mut s = Summary {
        base_currency: settings::get(db)?.base_currency,
        from: q.from_text(),
        to: q.to.format("%Y-%m-%d").to_string(),
        won_count: 0, won_value: 0, lost_count: 0, lost_value: 0, win_rate: None, average_won: None, average_cycle_days: None,
        lost_reasons: Vec::new(), won_reasons: Vec::new(), open_count: 0, open_total: 0, open_weighted: 0, unconverted: 0,
    };
    let mut cycle_days = 0.0;
    for r in closed.iter() {
        let (status, reason, n, value) = (r.text(0), r.text(1), r.i64(2).unwrap_or(0), r.i64(3).unwrap_or(0));
        s.unconverted += r.i64(5).unwrap_or(0);
        let row = ReasonRow { reason: if reason.is_empty() { "(none)".into() } else { reason }, count: n, value };
        if status == "won" {
            s.won_count += n;
            s.won_value += value;
            cycle_days += r.f64(4).unwrap_or(0.0);
            s.won_reasons.push(row);
        } else {
            s.lost_count += n;
            s.lost_value += value;
            s.lost_reasons.push(row);
        }
    }
    for list in [&mut s.won_reasons, &mut s.lost_reasons] {
        list.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    }
    if s.won_count + s.lost_count > 0 {
        s.win_rate = Some(s.won_count as f64 / (s.won_count + s.lost_count) as f64);
    }
    if s.won_count > 0 {
        s.average_won = Some((s.won_value as f64 / s.won_count as f64).round() as i64);
        s.average_cycle_days = Some((cycle_days / s.won_count as f64 * 10.0).round() / 10.0);
    }
    let open = db.run(
        &format!(
            "SELECT count(*), COALESCE(sum(d.base_value), 0), COALESCE(sum(d.base_value * COALESCE(d.probability_override, s.probability)), 0)
             FROM deals d JOIN stages s ON s.id = d.stage_id WHERE {scope} AND d.status = 'open'"
        ),
        &params,
    )?;
    if let Some(r) = open.first() {
        s.open_count = r.i64(0).unwrap_or(0);
        s.open_total = r.i64(1).unwrap_or(0);
        s.open_weighted = weighted(r.f64(2).unwrap_or(0.0));
    }
    Ok(s)
}

#[derive(Debug, Serialize, PartialEq)]
pub struct FunnelStage {
    pub stage_id: String,
    pub name: String,
    /// Deals of the cohort that reached this stage or a later one.
    pub reached: i64,
    /// reached(next) / reached(this); the last stage converts to won.
    pub conversion: Option<f64>,
    /// Average completed stay in the stage, in days.
    pub average_days: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Funnel {
    pub pipeline_id: String,
    pub from: String,
    pub to: String,
    /// Deals created in the period (the cohort).
    pub deals: i64,
    pub won: i64,
    pub lost: i64,
    pub stages: Vec<FunnelStage>,
}

/// Stage-to-stage conversion of the deals created in the period, from their
/// stage history; a deal that skipped a stage still counts as having passed it.
pub fn funnel<D: Db + ?Sized>(db: &D, q: &ReportQuery, vis: &Visibility) -> Result<Funnel> {
    let pipeline = match &q.pipeline_id {
        Some(p) => pipelines::get(db, p)?.ok_or_else(|| Invalid::one("pipeline_id", "does not name a pipeline"))?,
        None => pipelines::list(db)?.into_iter().next().ok_or_else(|| Invalid::one("pipeline_id", "no pipeline exists"))?,
    };
    let q = ReportQuery { pipeline_id: Some(pipeline.id.clone()), ..q.clone() };
    let (conds, params) = q.scope(vis);
    let scope = conds.join(" AND ");
    let mut p = params.clone();
    p.extend([q.from_text().into(), q.end_text().into()]);
    let cohort = format!("{scope} AND d.created_at >= ? AND d.created_at < ?");
    // Each deal's furthest stage, kept as it moves; positions are today's.
    let furthest = db.run(&format!("SELECT d.furthest_stage_id, count(*) FROM deals d WHERE {cohort} GROUP BY 1"), &p)?;
    let position_of = |id: &str| pipeline.stages.iter().find(|s| s.id == id).map(|s| s.position);
    let tops: Vec<(i64, i64)> = furthest.iter().map(|r| (r.str(0).and_then(position_of).unwrap_or(0), r.i64(1).unwrap_or(0))).collect();
    let outcomes = db.run(&format!("SELECT d.status, count(*) FROM deals d WHERE {cohort} GROUP BY 1"), &p)?;
    let count = |status: &str| outcomes.iter().find(|r| r.str(0) == Some(status)).and_then(|r| r.i64(1)).unwrap_or(0);
    let (won, lost) = (count("won"), count("lost"));
    let deals = count("open") + won + lost;
    // Completed stays (closed when the deal moved on or was closed).
    let stays = db.run(
        &format!(
            "SELECT h.to_stage_id, avg(h.days) FROM deals d JOIN deal_stage_history h ON h.deal_id = d.id AND h.status = 'open' AND h.days IS NOT NULL
             WHERE {cohort} GROUP BY 1"
        ),
        &p,
    )?;
    let mut stages: Vec<FunnelStage> = pipeline
        .stages
        .iter()
        .map(|st| FunnelStage {
            stage_id: st.id.clone(),
            name: st.name.clone(),
            reached: tops.iter().filter(|(top, _)| *top >= st.position).map(|(_, n)| n).sum(),
            conversion: None,
            average_days: stays.iter().find(|r| r.str(0) == Some(st.id.as_str())).and_then(|r| r.f64(1)).map(|d| (d * 10.0).round() / 10.0),
        })
        .collect();
    for i in 0..stages.len() {
        let next = stages.get(i + 1).map_or(won, |s| s.reached);
        let here = stages[i].reached;
        stages[i].conversion = (here > 0).then(|| next as f64 / here as f64);
    }
    Ok(Funnel { pipeline_id: pipeline.id, from: q.from_text(), to: q.to.format("%Y-%m-%d").to_string(), deals, won, lost, stages })
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Attainment {
    pub owner_id: String,
    pub quota: Option<i64>,
    pub won: i64,
    pub won_count: i64,
    /// won / quota (1.0 = quota met).
    pub attainment: Option<f64>,
}

/// Quota attainment per owner for a month (`2026-11`) or quarter (`2026-Q4`).
pub fn attainment<D: Db + ?Sized>(db: &D, period: &str, pipeline_id: Option<&str>, vis: &Visibility) -> Result<Vec<Attainment>> {
    let (start, end) = period_range(period).ok_or_else(|| Invalid::one("period", "must be a month like 2026-11 or a quarter like 2026-Q4"))?;
    let f = Filters { pipeline_id: pipeline_id.map(String::from), ..Default::default() };
    let (conds, mut params) = f.sql(vis, Utc::now());
    params.extend([start.into(), end.into()]);
    let won = db.run(
        &format!("SELECT d.owner_id, count(*), COALESCE(sum(d.base_value), 0) FROM deals d WHERE {} AND d.status = 'won' AND d.owner_id IS NOT NULL AND d.closed_at >= ? AND d.closed_at < ? GROUP BY 1", conds.join(" AND ")),
        &params,
    )?;
    let mut rows: BTreeMap<String, Attainment> = BTreeMap::new();
    for r in won.iter() {
        rows.insert(r.text(0), Attainment { owner_id: r.text(0), quota: None, won: r.i64(2).unwrap_or(0), won_count: r.i64(1).unwrap_or(0), attainment: None });
    }
    for q in settings::quotas(db, Some(period))? {
        if vis.allows(Some(&q.owner_id)) {
            rows.entry(q.owner_id.clone()).or_insert(Attainment { owner_id: q.owner_id.clone(), quota: None, won: 0, won_count: 0, attainment: None }).quota = Some(q.amount);
        }
    }
    let mut out: Vec<Attainment> = rows.into_values().collect();
    for a in &mut out {
        a.attainment = a.quota.filter(|q| *q > 0).map(|q| a.won as f64 / q as f64);
    }
    out.sort_by(|a, b| b.attainment.partial_cmp(&a.attainment).unwrap_or(std::cmp::Ordering::Equal).then(a.owner_id.cmp(&b.owner_id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DealInput;
    use crate::schema::DEFAULT_PIPELINE;
    use crate::store::deals::{self, Move};
    use crate::store::testing::{db, writer};
    use crate::store::Writer;
    use serde_json::json;

    const U1: &str = "u_01HZZZZZZZZZZZZZZZZZZZZZZ1";
    const U2: &str = "u_01HZZZZZZZZZZZZZZZZZZZZZZ2";

    fn t(day: &str) -> String {
        format!("2026-{day}T09:00:00.000Z")
    }

    /// A deal taken through `steps` (stage index or a status), then dated:
    /// the i-th history entry happened on `days[i]`.
    fn fixture(db: &edge_db::native::Connection, w: &Writer, deal: serde_json::Value, steps: &[serde_json::Value], days: &[&str]) -> String {
        let st = crate::store::pipelines::get(db, DEFAULT_PIPELINE).unwrap().unwrap().stages;
        let input: DealInput = serde_json::from_value(deal).unwrap();
        let d = deals::create(db, w, deals::validate(input, &settings::get(db).unwrap()).unwrap()).unwrap();
        for s in steps {
            match s {
                serde_json::Value::Number(i) => {
                    deals::move_deal(db, w, &d.id, &Move { stage_id: st[i.as_u64().unwrap() as usize].id.clone(), ..Default::default() }, None, &Visibility::All).unwrap();
                }
                patch => {
                    deals::update(db, w, &d.id, patch, None, &Visibility::All).unwrap();
                }
            }
        }
        let seqs: Vec<i64> = db.run("SELECT seq FROM deal_stage_history WHERE deal_id = ? ORDER BY seq", &[d.id.as_str().into()]).unwrap().iter().map(|r| r.i64(0).unwrap()).collect();
        assert_eq!(seqs.len(), days.len(), "one day per history entry");
        for (seq, day) in seqs.iter().zip(days) {
            db.run("UPDATE deal_stage_history SET at = ? WHERE seq = ?", &[t(day).into(), Val::Int(*seq)]).unwrap();
        }
        // Stays are measured when written; the dates changed, so measure again.
        db.run(
            "UPDATE deal_stage_history SET days = x.d FROM (SELECT seq, julianday(lead(at) OVER (PARTITION BY deal_id ORDER BY seq)) - julianday(at) AS d
                FROM deal_stage_history) AS x WHERE x.seq = deal_stage_history.seq AND deal_stage_history.status = 'open'",
            &[],
        )
        .unwrap();
        let closed = if steps.iter().any(|s| s.get("status").is_some()) { Some(t(days[days.len() - 1])) } else { None };
        db.run("UPDATE deals SET created_at = ?, closed_at = ? WHERE id = ?", &[t(days[0]).into(), closed.into(), d.id.as_str().into()]).unwrap();
        d.id
    }

    fn pairs(q: &str) -> Vec<(String, String)> {
        edge_http::query::parse(q)
    }

    /// Five deals whose figures were worked out by hand (see each assertion).
    fn world() -> edge_db::native::Connection {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZ1");
        settings::put_rate(&db, &w, settings::ExchangeRate { currency: "USD".into(), valid_from: "2026-01-01".into(), rate: "0.9".into() }).unwrap();
        // A: 100.00 EUR, Qualification → Needs analysis → Proposal, won (Price) on Feb 1.
        fixture(&db, &w, json!({"title": "A", "value": 10_000, "owner_id": U1}), &[json!(1), json!(2), json!({"status": "won", "won_reason": "Price"})], &["01-05", "01-10", "01-20", "02-01"]);
        // B: 200.00 EUR, lost (Price) in Qualification.
        fixture(&db, &w, json!({"title": "B", "value": 20_000, "owner_id": U2}), &[json!({"status": "lost", "lost_reason": "Price"})], &["01-10", "01-15"]);
        // C: 50.00 USD = 45.00 EUR, Qualification → Needs analysis, won.
        fixture(&db, &w, json!({"title": "C", "value": 5_000, "currency": "USD", "owner_id": U1}), &[json!(1), json!({"status": "won"})], &["02-01", "02-05", "02-11"]);
        // D: 80.00 EUR open, created straight into Proposal (50 %), closing Mar 15.
        let st = crate::store::pipelines::get(&db, DEFAULT_PIPELINE).unwrap().unwrap().stages;
        fixture(&db, &w, json!({"title": "D", "value": 8_000, "owner_id": U2, "stage_id": st[2].id, "expected_close": "2026-03-15"}), &[], &["02-15"]);
        // E: 40.00 EUR open in Qualification at 30 % (override), closing Apr 2.
        fixture(&db, &w, json!({"title": "E", "value": 4_000, "owner_id": U1, "probability": 30, "expected_close": "2026-04-02"}), &[], &["02-20"]);
        settings::recompute_base_values(&db, None).unwrap();
        settings::put_quotas(&db, &w, vec![
            settings::Quota { owner_id: U1.into(), period: "2026-02".into(), amount: 10_000 },
            settings::Quota { owner_id: U2.into(), period: "2026-Q1".into(), amount: 30_000 },
        ]).unwrap();
        db
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 20).unwrap()
    }

    #[test]
    fn summary_matches_the_hand_computed_figures() {
        let db = world();
        let q = ReportQuery::parse(&pairs("from=2026-01-01&to=2026-02-28"), today(), 0, 0).unwrap();
        let s = summary(&db, &q, &Visibility::All).unwrap();
        assert_eq!((s.won_count, s.won_value, s.lost_count, s.lost_value), (2, 14_500, 1, 20_000));
        assert_eq!(s.win_rate.map(|r| (r * 1000.0).round()), Some(667.0));
        assert_eq!(s.average_won, Some(7_250));
        assert_eq!(s.average_cycle_days, Some(18.5), "(27 + 10) / 2 days");
        assert_eq!(s.lost_reasons, vec![ReasonRow { reason: "Price".into(), count: 1, value: 20_000 }]);
        assert_eq!(s.won_reasons.len(), 2);
        assert_eq!((s.open_count, s.open_total, s.open_weighted), (2, 12_000, 4_000 + 1_200));
        let only_u2 = ReportQuery { owner_id: Some(U2.into()), ..q.clone() };
        assert_eq!(summary(&db, &only_u2, &Visibility::All).unwrap().win_rate, Some(0.0));
        let hidden = summary(&db, &q, &Visibility::Owners(vec![U1.into()])).unwrap();
        assert_eq!((hidden.won_count, hidden.lost_count), (2, 0), "a sales rep's report covers their deals");
    }

    #[test]
    fn funnel_matches_the_hand_computed_figures() {
        let db = world();
        let q = ReportQuery::parse(&pairs("from=2026-01-01&to=2026-02-28"), today(), 0, 0).unwrap();
        let f = funnel(&db, &q, &Visibility::All).unwrap();
        assert_eq!((f.deals, f.won, f.lost), (5, 2, 1));
        let reached: Vec<i64> = f.stages.iter().map(|s| s.reached).collect();
        assert_eq!(reached, vec![5, 3, 2, 0], "D skipped to Proposal and counts as having passed the stages before");
        let conv: Vec<Option<f64>> = f.stages.iter().map(|s| s.conversion.map(|c| (c * 1000.0).round() / 1000.0)).collect();
        assert_eq!(conv, vec![Some(0.6), Some(0.667), Some(0.0), None]);
        let days: Vec<Option<f64>> = f.stages.iter().map(|s| s.average_days).collect();
        assert_eq!(days, vec![Some(4.7), Some(8.0), Some(12.0), None], "Qualification (5 + 5 + 4) / 3, Needs analysis (10 + 6) / 2, Proposal 12");
    }

    #[test]
    fn forecast_and_attainment_match_the_hand_computed_figures() {
        let db = world();
        let q = ReportQuery::parse(&pairs("from=2026-01-01&to=2026-04-30"), today(), 0, 0).unwrap();
        let f = forecast(&db, &q, &Visibility::All, today()).unwrap();
        let months: Vec<(String, i64, i64, i64, Option<i64>)> = f
            .months
            .iter()
            .map(|m| (m["month"].as_str().unwrap().to_string(), m["weighted"].as_i64().unwrap(), m["won_total"].as_i64().unwrap(), m["open_total"].as_i64().unwrap(), m["quota"].as_i64()))
            .collect();
        assert_eq!(months, vec![
            ("2026-01".into(), 0, 0, 0, Some(10_000)),
            ("2026-02".into(), 0, 14_500, 0, Some(20_000)),
            ("2026-03".into(), 4_000, 0, 8_000, Some(10_000)),
            ("2026-04".into(), 1_200, 0, 4_000, None),
        ]);
        let u1 = f.owners.iter().find(|o| o["owner_id"] == U1).unwrap();
        assert_eq!((u1["weighted"].as_i64(), u1["won_total"].as_i64(), u1["quota"].as_i64()), (Some(1_200), Some(14_500), Some(10_000)));
        assert_eq!((f.overdue.open_count, f.overdue.open_total, f.overdue.weighted), (1, 8_000, 4_000), "D was due Mar 15");
        let a = attainment(&db, "2026-02", None, &Visibility::All).unwrap();
        assert_eq!(a, vec![Attainment { owner_id: U1.into(), quota: Some(10_000), won: 14_500, won_count: 2, attainment: Some(1.45) }]);
        let a = attainment(&db, "2026-Q1", None, &Visibility::All).unwrap();
        assert_eq!(a.iter().map(|x| (x.owner_id.as_str(), x.attainment)).collect::<Vec<_>>(), vec![(U2, Some(0.0)), (U1, None)]);
        assert!(attainment(&db, "2026-Q7", None, &Visibility::All).is_err());
    }
}
