//! Deals: create, change, close and reopen, move on the board (card order kept
//! per stage with fractional positions), lists with filters and keyset cursors,
//! the board with per-stage totals, stage history, and the effects a change has
//! on other components (queued in the same transaction, delivered after).

use super::settings;
use super::{event, pipelines, restrict, timeline, Invalid, NotFound, TimelineEntry, Writer};
use crate::model::{Deal, DealData, DealInput, Settings, Stage};
use anyhow::Result;
use chrono::{DateTime, Utc};
use edge_db::record::json_text;
use edge_db::{Db, Row, Val};
use edge_http::{FieldError, Visibility};
use serde::Serialize;
use serde_json::json;

pub const ID_PREFIX: &str = "d";

const COLUMNS: &str = "d.id, d.title, d.value, d.currency, d.base_value, d.expected_close, d.owner_id, d.contact_id, d.company_id,
    d.contact_ids, d.pipeline_id, d.stage_id, d.probability_override, d.source, d.priority, d.line_items, d.status, d.lost_reason,
    d.won_reason, d.next_step, d.tags, d.position, d.stage_entered_at, d.touched_at, d.closed_at, d.created_at, d.updated_at,
    d.deleted_at, d.version, s.probability, s.stale_days";
const FROM: &str = "deals d JOIN stages s ON s.id = d.stage_id";

/// Open and untouched for more than `stale_days` whole days.
pub fn is_stale(status: &str, touched_at: &str, stale_days: Option<i64>, now: DateTime<Utc>) -> bool {
    let (Some(days), true) = (stale_days, status == "open") else { return false };
    DateTime::parse_from_rfc3339(touched_at).is_ok_and(|t| now.signed_duration_since(t.with_timezone(&Utc)) > chrono::Duration::days(days))
}

/// The effective win probability.
pub fn probability(status: &str, override_: Option<i64>, stage: i64) -> i64 {
    match status {
        "won" => 100,
        "lost" => 0,
        _ => override_.unwrap_or(stage),
    }
}

fn from_row(row: Row, now: DateTime<Utc>) -> Deal {
    let status = row.text(16);
    let touched_at = row.text(23);
    let override_ = row.i64(12);
    Deal {
        id: row.text(0),
        title: row.text(1),
        value: row.i64(2).unwrap_or(0),
        currency: row.text(3),
        base_value: row.i64(4),
        expected_close: row.string(5),
        owner_id: row.string(6),
        contact_id: row.string(7),
        company_id: row.string(8),
        contact_ids: row.json(9),
        pipeline_id: row.text(10),
        stage_id: row.text(11),
        probability: probability(&status, override_, row.i64(29).unwrap_or(0)),
        probability_override: override_,
        source: row.string(13),
        priority: row.text(14),
        line_items: row.json(15),
        stale: is_stale(&status, &touched_at, row.i64(30), now),
        status,
        lost_reason: row.string(17),
        won_reason: row.string(18),
        next_step: row.string(19),
        tags: row.json(20),
        position: row.f64(21).unwrap_or(0.0),
        stage_entered_at: row.text(22),
        touched_at,
        closed_at: row.string(24),
        created_at: row.text(25),
        updated_at: row.text(26),
        deleted_at: row.string(27),
        version: row.i64(28).unwrap_or(1),
    }
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str, vis: &Visibility, include_deleted: bool, now: DateTime<Utc>) -> Result<Option<Deal>> {
    let mut conds = vec!["d.id = ?".to_string()];
    let mut params: Vec<Val> = vec![id.into()];
    if !include_deleted {
        conds.push("d.deleted_at IS NULL".into());
    }
    restrict(vis, "d.owner_id", &mut conds, &mut params);
    let r = db.run(&format!("SELECT {COLUMNS} FROM {FROM} WHERE {}", conds.join(" AND ")), &params)?;
    Ok(r.first().map(|row| from_row(row, now)))
}

/// Resolves where a deal goes: the stage (live, of the pipeline if one is
/// named), else the pipeline's first stage, else the first pipeline's.
fn resolve_stage<D: Db + ?Sized>(db: &D, pipeline_id: Option<&str>, stage_id: Option<&str>) -> Result<(String, Stage)> {
    if let Some(sid) = stage_id {
        let (pid, stage, removed) = pipelines::stage(db, sid)?.ok_or_else(|| Invalid::one("stage_id", "does not name a stage"))?;
        if removed {
            return Err(Invalid::one("stage_id", "names a removed stage").into());
        }
        if pipeline_id.is_some_and(|p| p != pid) {
            return Err(Invalid::one("stage_id", "is not a stage of this pipeline").into());
        }
        return Ok((pid, stage));
    }
    let pipeline = match pipeline_id {
        Some(p) => pipelines::get(db, p)?.ok_or_else(|| Invalid::one("pipeline_id", "does not name a pipeline"))?,
        None => pipelines::list(db)?.into_iter().next().ok_or_else(|| Invalid::one("pipeline_id", "no pipeline exists"))?,
    };
    let stage = pipeline.stages.first().cloned().ok_or_else(|| Invalid::one("stage_id", "the pipeline has no stages"))?;
    Ok((pipeline.id, stage))
}

fn end_of_stage<D: Db + ?Sized>(db: &D, stage_id: &str) -> Result<f64> {
    let r = db.run("SELECT max(position) FROM deals WHERE stage_id = ? AND status = 'open' AND deleted_at IS NULL", &[stage_id.into()])?;
    Ok(r.first().and_then(|row| row.f64(0)).map_or(1.0, |p| p.floor() + 1.0))
}

fn write_links<D: Db + ?Sized>(db: &D, id: &str, data: &DealData, fresh: bool) -> Result<()> {
    if !fresh {
        db.run("DELETE FROM deal_contacts WHERE deal_id = ?", &[id.into()])?;
        db.run("DELETE FROM deal_tags WHERE deal_id = ?", &[id.into()])?;
    }
    for c in data.contact_id.iter().chain(data.contact_ids.iter()) {
        db.run("INSERT OR IGNORE INTO deal_contacts (contact_id, deal_id) VALUES (?, ?)", &[c.into(), id.into()])?;
    }
    for t in &data.tags {
        db.run("INSERT OR IGNORE INTO deal_tags (tag, deal_id) VALUES (?, ?)", &[t.into(), id.into()])?;
    }
    Ok(())
}

/// Records a stage or status change: closes the previous stay (its length in
/// days) and keeps the deal's furthest stage for the funnel.
fn history<D: Db + ?Sized>(db: &D, w: &Writer, deal: &str, pipeline: &str, from: Option<&str>, to: &str, status: &str) -> Result<()> {
    let now = edge_db::now();
    db.run(
        "UPDATE deal_stage_history SET days = julianday(?1) - julianday(at)
         WHERE seq = (SELECT max(seq) FROM deal_stage_history WHERE deal_id = ?2) AND status = 'open'",
        &[now.as_str().into(), deal.into()],
    )?;
    db.run(
        "INSERT INTO deal_stage_history (deal_id, pipeline_id, from_stage_id, to_stage_id, status, at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[deal.into(), pipeline.into(), from.into(), to.into(), status.into(), now.as_str().into(), w.actor.into()],
    )?;
    db.run(
        "UPDATE deals SET furthest_stage_id = ?1 WHERE id = ?2 AND (furthest_stage_id IS NULL
            OR (SELECT position FROM stages WHERE id = furthest_stage_id) < (SELECT position FROM stages WHERE id = ?1))",
        &[to.into(), deal.into()],
    )?;
    Ok(())
}

/// `12,500.00 EUR` (timeline titles are plain text, read in any locale).
fn money_text(minor: i64, currency: &str) -> String {
    let e = crate::money::exponent(currency);
    let d = 10i64.pow(e);
    let digits = (minor / d).abs().to_string();
    let mut whole = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            whole.push(',');
        }
        whole.push(c);
    }
    let sign = if minor < 0 { "-" } else { "" };
    if e == 0 {
        format!("{sign}{whole} {currency}")
    } else {
        format!("{sign}{whole}.{:0width$} {currency}", (minor % d).abs(), width = e as usize)
    }
}

/// Milestones on the contact's and company's timeline, and the effects a
/// status change has elsewhere.
fn milestones<D: Db + ?Sized>(db: &D, w: &Writer, d: &Deal, kind: &str) -> Result<()> {
    let title = match kind {
        "deal-created" => format!("Deal created: {} ({})", d.title, money_text(d.value, &d.currency)),
        "deal-won" => format!("Deal won: {} ({})", d.title, money_text(d.value, &d.currency)),
        "deal-lost" => format!("Deal lost: {} ({})", d.title, d.lost_reason.as_deref().unwrap_or("no reason")),
        _ => format!("Deal reopened: {}", d.title),
    };
    let detail = json!({"deal_id": d.id, "value": d.value, "currency": d.currency, "status": d.status, "stage_id": d.stage_id});
    timeline(db, TimelineEntry { contact_id: d.contact_id.as_deref(), company_id: d.company_id.as_deref(), kind, title: title.clone(), detail: detail.clone(), reference: &d.id, owner_id: d.owner_id.as_deref() })?;
    for other in &d.contact_ids {
        timeline(db, TimelineEntry { contact_id: Some(other), company_id: None, kind, title: title.clone(), detail: detail.clone(), reference: &d.id, owner_id: d.owner_id.as_deref() })?;
    }
    if kind == "deal-won" {
        if let Some(c) = &d.contact_id {
            db.run(
                "INSERT INTO pipeline_effects (kind, target, payload, actor, created_at) VALUES ('contact-customer', ?, ?, ?, ?)",
                &[c.into(), json!({"deal_id": d.id}).to_string().into(), w.actor.into(), edge_db::now().into()],
            )?;
        }
    }
    Ok(())
}

/// Creates a deal; the caller holds the transaction.
pub fn insert<D: Db + ?Sized>(db: &D, w: &Writer, data: DealData) -> Result<Deal> {
    let (pipeline_id, stage) = resolve_stage(db, data.pipeline_id.as_deref(), data.stage_id.as_deref())?;
    let id = w.new_id(db, "deals", ID_PREFIX)?;
    let now = edge_db::now();
    let closed_at = (data.status != "open").then(|| now.clone());
    let base_value = settings::base_value(db, data.value, &data.currency, closed_at.as_deref())?;
    let position = end_of_stage(db, &stage.id)?;
    let owner = data.owner_id.clone().or_else(|| w.user_id());
    db.run(
        "INSERT INTO deals (id, title, value, currency, base_value, expected_close, owner_id, contact_id, company_id, contact_ids,
            pipeline_id, stage_id, position, probability_override, source, priority, line_items, status, lost_reason, won_reason,
            next_step, tags, stage_entered_at, touched_at, closed_at, created_at, updated_at, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        &[
            id.as_str().into(), data.title.as_str().into(), Val::Int(data.value), data.currency.as_str().into(), base_value.into(),
            (&data.expected_close).into(), owner.into(), (&data.contact_id).into(), (&data.company_id).into(), json_text(&data.contact_ids),
            pipeline_id.as_str().into(), stage.id.as_str().into(), Val::Real(position), data.probability_override.into(), (&data.source).into(),
            data.priority.as_str().into(), json_text(&data.line_items), data.status.as_str().into(), (&data.lost_reason).into(),
            (&data.won_reason).into(), (&data.next_step).into(), json_text(&data.tags), now.as_str().into(), now.as_str().into(),
            closed_at.into(), now.as_str().into(), now.as_str().into(),
        ],
    )?;
    write_links(db, &id, &data, true)?;
    history(db, w, &id, &pipeline_id, None, &stage.id, "open")?;
    if data.status != "open" {
        history(db, w, &id, &pipeline_id, Some(&stage.id), &stage.id, &data.status)?;
    }
    let deal = get(db, &id, &Visibility::All, false, Utc::now())?.ok_or(NotFound)?;
    event(db, w, "deal", &id, "created", None, Some(&serde_json::to_value(&deal)?))?;
    milestones(db, w, &deal, "deal-created")?;
    if deal.status != "open" {
        milestones(db, w, &deal, &format!("deal-{}", deal.status))?;
    }
    Ok(deal)
}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, data: DealData) -> Result<Deal> {
    edge_db::tx(db, || insert(db, w, data))
}

/// Deals brought over from another system keep their dates: `created_at` and,
/// for closed deals, `closed_at` (RFC 3339, not in the future).
#[derive(Debug, Clone, Default)]
pub struct Dates {
    pub created_at: Option<String>,
    pub closed_at: Option<String>,
}

impl Dates {
    /// Takes `created_at`/`closed_at` out of a JSON deal, checked.
    pub fn take(item: &mut serde_json::Value, prefix: &str, errors: &mut Vec<FieldError>) -> Dates {
        let now = Utc::now();
        let mut get = |k: &str| -> Option<String> {
            let v = item.as_object_mut()?.remove(k)?;
            let parsed = v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc));
            match parsed {
                Some(t) if t <= now => Some(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                _ => {
                    errors.push(FieldError::new(&format!("{prefix}{k}"), "must be a past RFC 3339 time like 2025-03-01T10:00:00Z"));
                    None
                }
            }
        };
        let d = Dates { created_at: get("created_at"), closed_at: get("closed_at") };
        if let (Some(a), Some(b)) = (&d.created_at, &d.closed_at) {
            if b < a {
                errors.push(FieldError::new(&format!("{prefix}closed_at"), "must not be before created_at"));
            }
        }
        d
    }
}

/// Creates a deal with the dates it had elsewhere; the caller holds the transaction.
pub fn insert_dated<D: Db + ?Sized>(db: &D, w: &Writer, data: DealData, dates: &Dates) -> Result<Deal> {
    if dates.closed_at.is_some() && data.status == "open" {
        return Err(Invalid::one("closed_at", "only closed (won or lost) deals have a close time").into());
    }
    let deal = insert(db, w, data)?;
    if dates.created_at.is_none() && dates.closed_at.is_none() {
        return Ok(deal);
    }
    let created = dates.created_at.clone().unwrap_or(deal.created_at.clone());
    let closed = if deal.status == "open" { None } else { Some(dates.closed_at.clone().unwrap_or(deal.closed_at.clone().unwrap_or_default())) };
    let touched = closed.clone().unwrap_or(created.clone());
    let base_value = settings::base_value(db, deal.value, &deal.currency, closed.as_deref())?;
    db.run(
        "UPDATE deals SET created_at = ?, stage_entered_at = ?, touched_at = ?, closed_at = ?, base_value = ? WHERE id = ?",
        &[created.as_str().into(), created.as_str().into(), touched.into(), closed.clone().into(), base_value.into(), deal.id.as_str().into()],
    )?;
    let end = closed.unwrap_or(created.clone());
    db.run(
        "UPDATE deal_stage_history SET at = CASE WHEN status = 'open' THEN ?1 ELSE ?2 END,
            days = CASE WHEN status = 'open' AND days IS NOT NULL THEN julianday(?2) - julianday(?1) END
         WHERE deal_id = ?3",
        &[created.as_str().into(), end.into(), deal.id.as_str().into()],
    )?;
    // Its milestones on the timelines happened then too.
    db.run("UPDATE pipeline_timeline SET at = CASE WHEN kind = 'deal-created' THEN ?1 ELSE ?2 END WHERE ref = ?3", &[created.as_str().into(), touched_at_end(&deal, &created, dates).into(), deal.id.as_str().into()])?;
    get(db, &deal.id, &Visibility::All, false, Utc::now())?.ok_or(NotFound.into())
}

fn touched_at_end(deal: &Deal, created: &str, dates: &Dates) -> String {
    dates.closed_at.clone().or_else(|| deal.closed_at.clone()).unwrap_or_else(|| created.to_string())
}

/// Validates a client's deal against the tenant's settings.
pub fn validate(input: DealInput, settings: &Settings) -> Result<DealData> {
    input.validate(settings).map_err(|e| Invalid(e).into())
}

/// Applies a JSON merge patch; the caller holds the transaction.
pub fn update_in_tx<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, patch: &serde_json::Value, if_version: Option<i64>, vis: &Visibility) -> Result<Deal> {
    let before = get(db, id, vis, false, Utc::now())?.ok_or(NotFound)?;
    edge_db::record::check_version(if_version, before.version)?;
    let Some(changes) = patch.as_object() else { return Err(Invalid::one("body", "must be a JSON object").into()) };
    let mut merged = before.as_input();
    for (k, v) in changes {
        merged[k] = v.clone();
    }
    if changes.contains_key("pipeline_id") && !changes.contains_key("stage_id") && changes.get("pipeline_id") != Some(&json!(before.pipeline_id)) {
        merged["stage_id"] = serde_json::Value::Null; // a new pipeline starts at its first stage
    }
    if changes.contains_key("value") && !before.line_items.is_empty() && !changes.contains_key("line_items") && changes.get("value") != Some(&json!(before.value)) {
        return Err(Invalid::one("value", "is the sum of the line items: change them, or remove them first").into());
    }
    let input: DealInput = serde_json::from_value(merged).map_err(|e| Invalid::one("body", &e.to_string()))?;
    let data = validate(input, &settings::get(db)?)?;
    let (pipeline_id, stage) = resolve_stage(db, data.pipeline_id.as_deref(), data.stage_id.as_deref())?;
    let now = edge_db::now();
    let stage_changed = stage.id != before.stage_id;
    let status_changed = data.status != before.status;
    let closed_at = match (status_changed, data.status.as_str()) {
        (false, _) => before.closed_at.clone(),
        (true, "open") => None,
        (true, _) => Some(now.clone()),
    };
    let position = if stage_changed || (status_changed && data.status == "open") { end_of_stage(db, &stage.id)? } else { before.position };
    let stage_entered_at = if stage_changed { now.clone() } else { before.stage_entered_at.clone() };
    let base_value = settings::base_value(db, data.value, &data.currency, closed_at.as_deref())?;
    db.run(
        "UPDATE deals SET title = ?, value = ?, currency = ?, base_value = ?, expected_close = ?, owner_id = ?, contact_id = ?, company_id = ?,
            contact_ids = ?, pipeline_id = ?, stage_id = ?, position = ?, probability_override = ?, source = ?, priority = ?, line_items = ?,
            status = ?, lost_reason = ?, won_reason = ?, next_step = ?, tags = ?, stage_entered_at = ?, touched_at = ?, closed_at = ?,
            updated_at = ?, version = version + 1
         WHERE id = ?",
        &[
            data.title.as_str().into(), Val::Int(data.value), data.currency.as_str().into(), base_value.into(), (&data.expected_close).into(),
            (&data.owner_id).into(), (&data.contact_id).into(), (&data.company_id).into(), json_text(&data.contact_ids), pipeline_id.as_str().into(),
            stage.id.as_str().into(), Val::Real(position), data.probability_override.into(), (&data.source).into(), data.priority.as_str().into(),
            json_text(&data.line_items), data.status.as_str().into(), (&data.lost_reason).into(), (&data.won_reason).into(), (&data.next_step).into(),
            json_text(&data.tags), stage_entered_at.into(), now.as_str().into(), closed_at.into(), now.as_str().into(), id.into(),
        ],
    )?;
    write_links(db, id, &data, false)?;
    if pipeline_id != before.pipeline_id {
        db.run("UPDATE deals SET furthest_stage_id = NULL WHERE id = ?", &[id.into()])?;
    }
    if stage_changed || status_changed {
        history(db, w, id, &pipeline_id, Some(&before.stage_id), &stage.id, &data.status)?;
    }
    let after = get(db, id, &Visibility::All, false, Utc::now())?.ok_or(NotFound)?;
    event(db, w, "deal", id, "updated", Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&after)?))?;
    if status_changed {
        milestones(db, w, &after, if after.status == "open" { "deal-reopened" } else if after.status == "won" { "deal-won" } else { "deal-lost" })?;
    }
    Ok(after)
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, patch: &serde_json::Value, if_version: Option<i64>, vis: &Visibility) -> Result<Deal> {
    edge_db::tx(db, || update_in_tx(db, w, id, patch, if_version, vis))
}

/// Where a card goes on the board.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Move {
    pub stage_id: String,
    /// Place the card just before this one (in the target stage)…
    pub before_id: Option<String>,
    /// …or just after this one; neither: at the end of the stage.
    pub after_id: Option<String>,
}

/// A stage's open cards renumbered 1, 2, 3… in their order (when fractional
/// positions run out of room between two cards).
fn renumber<D: Db + ?Sized>(db: &D, stage_id: &str) -> Result<()> {
    db.run(
        "UPDATE deals SET position = (SELECT rn FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS rn FROM deals
            WHERE stage_id = ?1 AND status = 'open' AND deleted_at IS NULL) r WHERE r.id = deals.id)
         WHERE stage_id = ?1 AND status = 'open' AND deleted_at IS NULL",
        &[stage_id.into()],
    )?;
    Ok(())
}

/// The position between the anchor card and its neighbour (before or after
/// it, not counting the moving card); None when there is no room left.
fn slot<D: Db + ?Sized>(db: &D, mover: &str, stage_id: &str, anchor: &str, before: bool) -> Result<Option<f64>> {
    let r = db.run("SELECT position FROM deals WHERE id = ? AND stage_id = ? AND status = 'open' AND deleted_at IS NULL AND id <> ?", &[anchor.into(), stage_id.into(), mover.into()])?;
    let field = if before { "before_id" } else { "after_id" };
    let at = r.first().and_then(|row| row.f64(0)).ok_or_else(|| Invalid::one(field, "is not another open deal in that stage"))?;
    let sql = if before {
        "SELECT max(position) FROM deals WHERE stage_id = ? AND status = 'open' AND deleted_at IS NULL AND position < ? AND id <> ?"
    } else {
        "SELECT min(position) FROM deals WHERE stage_id = ? AND status = 'open' AND deleted_at IS NULL AND position > ? AND id <> ?"
    };
    let neighbour = db.run(sql, &[stage_id.into(), Val::Real(at), mover.into()])?.first().and_then(|row| row.f64(0));
    let pos = match neighbour {
        Some(n) => (at + n) / 2.0,
        None if before => at - 1.0,
        None => at + 1.0,
    };
    let room = neighbour.map_or(f64::INFINITY, |n| (n - at).abs());
    Ok((room > 1e-9 && pos != at && Some(pos) != neighbour).then_some(pos))
}

/// Moves an open deal to a stage of its pipeline, at a place among the cards.
/// The caller holds the transaction.
pub fn move_in_tx<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, m: &Move, if_version: Option<i64>, vis: &Visibility) -> Result<Deal> {
    let before = get(db, id, vis, false, Utc::now())?.ok_or(NotFound)?;
    edge_db::record::check_version(if_version, before.version)?;
    if before.status != "open" {
        return Err(super::conflict("deal-closed", format!("The deal is {}: reopen it to move it on the board.", before.status)));
    }
    let (pipeline_id, stage) = resolve_stage(db, Some(&before.pipeline_id), Some(&m.stage_id))?;
    let place = |db: &D| -> Result<Option<f64>> {
        match (&m.before_id, &m.after_id) {
            (Some(_), Some(_)) => Err(Invalid::one("before_id", "give before_id or after_id, not both").into()),
            (Some(b), None) => slot(db, id, &stage.id, b, true),
            (None, Some(a)) => slot(db, id, &stage.id, a, false),
            (None, None) => Ok(Some(if stage.id == before.stage_id { end_of_stage(db, &stage.id)?.max(before.position) } else { end_of_stage(db, &stage.id)? })),
        }
    };
    let position = match place(db)? {
        Some(p) => p,
        None => {
            renumber(db, &stage.id)?;
            place(db)?.ok_or_else(|| anyhow::anyhow!("no room in stage {} after renumbering", stage.id))?
        }
    };
    let now = edge_db::now();
    let stage_changed = stage.id != before.stage_id;
    db.run(
        "UPDATE deals SET stage_id = ?, position = ?, stage_entered_at = ?, touched_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        &[stage.id.as_str().into(), Val::Real(position), (if stage_changed { now.clone() } else { before.stage_entered_at.clone() }).into(), now.as_str().into(), now.as_str().into(), id.into()],
    )?;
    if stage_changed {
        history(db, w, id, &pipeline_id, Some(&before.stage_id), &stage.id, "open")?;
    }
    let after = get(db, id, &Visibility::All, false, Utc::now())?.ok_or(NotFound)?;
    event(db, w, "deal", id, if stage_changed { "moved" } else { "reordered" }, Some(&json!({"stage_id": before.stage_id, "position": before.position})), Some(&json!({"stage_id": after.stage_id, "position": after.position})))?;
    Ok(after)
}

pub fn move_deal<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, m: &Move, if_version: Option<i64>, vis: &Visibility) -> Result<Deal> {
    edge_db::tx(db, || move_in_tx(db, w, id, m, if_version, vis))
}

/// Soft delete (restorable); a deleted deal leaves the board and the reports.
pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, if_version: Option<i64>, vis: &Visibility) -> Result<()> {
    edge_db::tx(db, || {
        let before = get(db, id, vis, false, Utc::now())?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let now = edge_db::now();
        db.run("UPDATE deals SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE id = ?", &[now.as_str().into(), now.as_str().into(), id.into()])?;
        event(db, w, "deal", id, "deleted", Some(&serde_json::to_value(&before)?), None)
    })
}

pub fn restore<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, vis: &Visibility) -> Result<Deal> {
    edge_db::tx(db, || {
        let before = get(db, id, vis, true, Utc::now())?.filter(|d| d.deleted_at.is_some()).ok_or(NotFound)?;
        // Its stage may have been removed meanwhile: back to the pipeline's first stage.
        let (_, stage) = resolve_stage(db, Some(&before.pipeline_id), None)?;
        let stage_id = match pipelines::stage(db, &before.stage_id)? {
            Some((_, _, false)) => before.stage_id.clone(),
            _ => stage.id,
        };
        let position = end_of_stage(db, &stage_id)?;
        let now = edge_db::now();
        db.run("UPDATE deals SET deleted_at = NULL, stage_id = ?, position = ?, updated_at = ?, version = version + 1 WHERE id = ?", &[stage_id.into(), Val::Real(position), now.into(), id.into()])?;
        let after = get(db, id, vis, false, Utc::now())?.ok_or(NotFound)?;
        event(db, w, "deal", id, "restored", None, Some(&serde_json::to_value(&after)?))?;
        Ok(after)
    })
}

/// List filters (the board, lists, exports and reports share them).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub pipeline_id: Option<String>,
    pub stage_id: Option<String>,
    pub status: Option<String>,
    pub owner_id: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub tag: Option<String>,
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
    pub close_from: Option<String>,
    pub close_to: Option<String>,
    pub stale: bool,
    pub q: Option<String>,
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SortKey {
    Created,
    Updated,
    ExpectedClose,
    BaseValue,
    Title,
    Position,
    Closed,
}

impl SortKey {
    fn expr(self) -> &'static str {
        match self {
            SortKey::Created => "d.id",
            SortKey::Updated => "d.updated_at",
            SortKey::ExpectedClose => "COALESCE(d.expected_close, '9999-12-31')",
            SortKey::BaseValue => "COALESCE(d.base_value, -1)",
            SortKey::Title => "d.title",
            SortKey::Position => "d.position",
            SortKey::Closed => "COALESCE(d.closed_at, '')",
        }
    }
    fn parse(s: &str) -> Option<SortKey> {
        Some(match s {
            "created_at" => SortKey::Created,
            "updated_at" => SortKey::Updated,
            "expected_close" => SortKey::ExpectedClose,
            "base_value" | "value" => SortKey::BaseValue,
            "title" => SortKey::Title,
            "position" => SortKey::Position,
            "closed_at" => SortKey::Closed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct DealQuery {
    pub filters: Filters,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: i64,
    pub cursor: Option<String>,
}

impl Default for DealQuery {
    fn default() -> Self {
        DealQuery { filters: Filters::default(), sort: SortKey::Created, descending: true, limit: 50, cursor: None }
    }
}

impl Filters {
    /// From query parameters; unknown values are field errors.
    pub fn parse(pairs: &[(String, String)], errors: &mut Vec<FieldError>) -> Filters {
        let get = |k: &str| edge_http::query::get(pairs, k).map(str::trim).filter(|v| !v.is_empty()).map(String::from);
        let mut f = Filters { pipeline_id: get("pipeline_id"), stage_id: get("stage_id"), status: get("status"), owner_id: get("owner_id"), contact_id: get("contact_id"), company_id: get("company_id"), tag: get("tag").map(|t| t.to_lowercase()), close_from: get("close_from"), close_to: get("close_to"), q: get("q"), ..Default::default() };
        if f.status.as_deref().is_some_and(|s| !crate::model::STATUSES.contains(&s)) {
            errors.push(FieldError::new("status", "must be open, won or lost"));
        }
        for (k, slot) in [("min_value", &mut f.min_value), ("max_value", &mut f.max_value)] {
            if let Some(v) = get(k) {
                match v.parse() {
                    Ok(n) => *slot = Some(n),
                    Err(_) => errors.push(FieldError::new(k, "must be a whole number of minor units")),
                }
            }
        }
        for (k, v) in [("close_from", &f.close_from), ("close_to", &f.close_to)] {
            if v.as_deref().is_some_and(|d| !crate::model::is_date(d)) {
                errors.push(FieldError::new(k, "must be a date like 2026-12-31"));
            }
        }
        f.stale = match get("stale").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                errors.push(FieldError::new("stale", "must be true or false"));
                false
            }
        };
        f.deleted = get("deleted").as_deref() == Some("true");
        f
    }

    /// WHERE conditions over `deals d JOIN stages s`.
    pub fn sql(&self, vis: &Visibility, now: DateTime<Utc>) -> (Vec<String>, Vec<Val>) {
        let mut c: Vec<String> = vec![if self.deleted { "d.deleted_at IS NOT NULL".into() } else { "d.deleted_at IS NULL".into() }];
        let mut p: Vec<Val> = Vec::new();
        let eq = |col: &str, v: &Option<String>, c: &mut Vec<String>, p: &mut Vec<Val>| {
            if let Some(v) = v {
                c.push(format!("{col} = ?"));
                p.push(v.into());
            }
        };
        eq("d.pipeline_id", &self.pipeline_id, &mut c, &mut p);
        eq("d.stage_id", &self.stage_id, &mut c, &mut p);
        // A literal (validated) status lets SQLite use the board's partial index.
        if let Some(st) = self.status.as_deref().and_then(|st| crate::model::STATUSES.iter().find(|x| **x == st)) {
            c.push(format!("d.status = '{st}'"));
        }
        eq("d.owner_id", &self.owner_id, &mut c, &mut p);
        eq("d.company_id", &self.company_id, &mut c, &mut p);
        if let Some(contact) = &self.contact_id {
            c.push("EXISTS (SELECT 1 FROM deal_contacts dc WHERE dc.contact_id = ? AND dc.deal_id = d.id)".into());
            p.push(contact.into());
        }
        if let Some(tag) = &self.tag {
            c.push("EXISTS (SELECT 1 FROM deal_tags dt WHERE dt.tag = ? AND dt.deal_id = d.id)".into());
            p.push(tag.into());
        }
        if let Some(v) = self.min_value {
            c.push("d.base_value >= ?".into());
            p.push(Val::Int(v));
        }
        if let Some(v) = self.max_value {
            c.push("d.base_value <= ?".into());
            p.push(Val::Int(v));
        }
        if let Some(d) = &self.close_from {
            c.push("d.expected_close >= ?".into());
            p.push(d.into());
        }
        if let Some(d) = &self.close_to {
            c.push("d.expected_close <= ?".into());
            p.push(d.into());
        }
        if self.stale {
            c.push("d.status = 'open' AND s.stale_days IS NOT NULL AND d.touched_at < strftime('%Y-%m-%dT%H:%M:%fZ', ?, '-' || s.stale_days || ' days')".into());
            p.push(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into());
        }
        if let Some(q) = &self.q {
            c.push("d.title LIKE ? ESCAPE '\\'".into());
            p.push(format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")).into());
        }
        restrict(vis, "d.owner_id", &mut c, &mut p);
        (c, p)
    }
}

impl DealQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<DealQuery, Vec<FieldError>> {
        let mut e = Vec::new();
        let filters = Filters::parse(pairs, &mut e);
        let get = |k: &str| edge_http::query::get(pairs, k).filter(|v| !v.is_empty());
        let (descending, sort) = match get("sort") {
            None => (true, SortKey::Created),
            Some(s) => {
                let (desc, name) = s.strip_prefix('-').map_or((false, s), |n| (true, n));
                match SortKey::parse(name) {
                    Some(k) => (desc, k),
                    None => {
                        e.push(FieldError::new("sort", "must be created_at, updated_at, expected_close, base_value, title, position or closed_at (- for descending)"));
                        (true, SortKey::Created)
                    }
                }
            }
        };
        if sort == SortKey::Position && filters.stage_id.is_none() {
            e.push(FieldError::new("sort", "position sorts the cards of one stage: give stage_id"));
        }
        let limit = match get("limit").map(str::parse::<i64>) {
            None => 50,
            Some(Ok(n)) if (1..=200).contains(&n) => n,
            Some(_) => {
                e.push(FieldError::new("limit", "must be from 1 to 200"));
                50
            }
        };
        let cursor = get("cursor").map(String::from);
        if e.is_empty() {
            Ok(DealQuery { filters, sort, descending, limit, cursor })
        } else {
            Err(e)
        }
    }
}

/// One page of deals and the cursor of the next.
pub fn list<D: Db + ?Sized>(db: &D, q: &DealQuery, vis: &Visibility, now: DateTime<Utc>) -> Result<(Vec<Deal>, Option<String>)> {
    let (mut conds, mut params) = q.filters.sql(vis, now);
    let key = q.sort.expr();
    if let Some(c) = &q.cursor {
        let bad = || Invalid::one("cursor", "is not a cursor this API issued");
        let text = edge_http::ids::decode_cursor(c).ok_or_else(bad)?;
        let (k, id): (serde_json::Value, String) = serde_json::from_str(&text).map_err(|_| bad())?;
        let kv = match k {
            serde_json::Value::String(s) => Val::Text(s),
            serde_json::Value::Number(n) if n.is_i64() => Val::Int(n.as_i64().unwrap_or(0)),
            serde_json::Value::Number(n) => Val::Real(n.as_f64().unwrap_or(0.0)),
            _ => return Err(bad().into()),
        };
        let op = if q.descending { "<" } else { ">" };
        conds.push(format!("({key} {op} ? OR ({key} = ? AND d.id {op} ?))"));
        params.extend([kv.clone(), kv, id.into()]);
    }
    let dir = if q.descending { "DESC" } else { "ASC" };
    params.push(Val::Int(q.limit + 1));
    let r = db.run(&format!("SELECT {COLUMNS}, {key} FROM {FROM} WHERE {} ORDER BY {key} {dir}, d.id {dir} LIMIT ?", conds.join(" AND ")), &params)?;
    let mut items = Vec::new();
    let mut next = None;
    for (i, row) in r.iter().enumerate() {
        if i as i64 == q.limit {
            break;
        }
        if i as i64 == q.limit - 1 && r.len() as i64 > q.limit {
            let k = match row.0.get(31) {
                Some(Val::Int(n)) => json!(n),
                Some(Val::Real(f)) => json!(f),
                Some(Val::Text(s)) => json!(s),
                _ => json!(null),
            };
            next = Some(edge_http::ids::encode_cursor(&json!([k, row.text(0)]).to_string()));
        }
        items.push(from_row(row, now));
    }
    Ok((items, next))
}

#[derive(Debug, Serialize)]
pub struct BoardStage {
    #[serde(flatten)]
    pub stage: Stage,
    pub count: i64,
    /// Base currency minor units, over every matching open deal of the stage.
    pub total: i64,
    pub weighted: i64,
    /// Deals without a rate to the base currency (left out of the totals).
    pub unconverted: i64,
    pub stale: i64,
    /// The first cards; the rest through `GET /api/v1/deals?stage_id=…&status=open&sort=position`.
    pub deals: Vec<crate::model::Card>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Board {
    pub pipeline: crate::model::Pipeline,
    pub base_currency: String,
    pub stages: Vec<BoardStage>,
}

/// A pipeline's board: open deals per stage in card order (the first
/// `per_stage` of each), with totals over all of them.
pub fn board<D: Db + ?Sized>(db: &D, pipeline_id: &str, filters: &Filters, per_stage: i64, vis: &Visibility, now: DateTime<Utc>) -> Result<Board> {
    let pipeline = pipelines::get(db, pipeline_id)?.ok_or(NotFound)?;
    let mut f = filters.clone();
    f.pipeline_id = Some(pipeline_id.to_string());
    f.status = Some("open".into());
    f.stage_id = None;
    f.deleted = false;
    let (conds, params) = f.sql(vis, now);
    // Each stage's stale cutoff, computed once (not per deal).
    let cutoffs: Vec<(String, String)> = pipeline
        .stages
        .iter()
        .filter_map(|s| Some((s.id.clone(), (now - chrono::Duration::days(s.stale_days?)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))))
        .collect();
    let mut totals_params: Vec<Val> = cutoffs.iter().flat_map(|(id, at)| [Val::from(id.as_str()), Val::from(at.as_str())]).collect();
    totals_params.extend(params.iter().cloned());
    let cut = if cutoffs.is_empty() { "SELECT NULL AS stage_id, NULL AS before WHERE 0".to_string() } else { format!("VALUES {}", vec!["(?, ?)"; cutoffs.len()].join(", ")) };
    let totals = db.run(
        &format!(
            "WITH cut(stage_id, before) AS ({cut})
             SELECT d.stage_id, count(*), COALESCE(sum(d.base_value), 0), COALESCE(sum(d.base_value * COALESCE(d.probability_override, s.probability)), 0),
                sum(d.base_value IS NULL), COALESCE(sum(d.touched_at < c.before), 0)
             FROM {FROM} LEFT JOIN cut c ON c.stage_id = d.stage_id WHERE {} GROUP BY d.stage_id",
            conds.join(" AND ")
        ),
        &totals_params,
    )?;
    let base_currency = settings::get(db)?.base_currency;
    let mut stages = Vec::new();
    for stage in pipeline.stages.clone() {
        let t = totals.iter().find(|r| r.str(0) == Some(stage.id.as_str()));
        // By stage alone, so SQLite walks the board index in card order.
        let q = DealQuery { filters: Filters { stage_id: Some(stage.id.clone()), pipeline_id: None, ..f.clone() }, sort: SortKey::Position, descending: false, limit: per_stage, cursor: None };
        let (deals, next_cursor) = if t.is_some() { list(db, &q, vis, now)? } else { (Vec::new(), None) };
        let weighted = t.and_then(|r| r.f64(3)).unwrap_or(0.0) / 100.0;
        stages.push(BoardStage {
            count: t.and_then(|r| r.i64(1)).unwrap_or(0),
            total: t.and_then(|r| r.i64(2)).unwrap_or(0),
            weighted: weighted.round() as i64,
            unconverted: t.and_then(|r| r.i64(4)).unwrap_or(0),
            stale: t.and_then(|r| r.i64(5)).unwrap_or(0),
            stage,
            deals: deals.into_iter().map(Into::into).collect(),
            next_cursor,
        });
    }
    Ok(Board { pipeline, base_currency, stages })
}

#[derive(Debug, Serialize)]
pub struct HistoryEntry {
    pub at: String,
    pub actor: String,
    pub from_stage_id: Option<String>,
    pub from_stage: Option<String>,
    pub to_stage_id: String,
    pub to_stage: String,
    pub status: String,
    /// Time spent in the previous entry's stage, in days.
    pub days_before: Option<f64>,
}

pub fn stage_history<D: Db + ?Sized>(db: &D, id: &str, vis: &Visibility) -> Result<Vec<HistoryEntry>> {
    get(db, id, vis, true, Utc::now())?.ok_or(NotFound)?;
    let r = db.run(
        "SELECT h.at, h.actor, h.from_stage_id, f.name, h.to_stage_id, t.name, h.status,
                julianday(h.at) - julianday(lag(h.at) OVER (ORDER BY h.seq))
         FROM deal_stage_history h LEFT JOIN stages f ON f.id = h.from_stage_id LEFT JOIN stages t ON t.id = h.to_stage_id
         WHERE h.deal_id = ? ORDER BY h.seq",
        &[id.into()],
    )?;
    Ok(r.iter()
        .map(|row| HistoryEntry { at: row.text(0), actor: row.text(1), from_stage_id: row.string(2), from_stage: row.string(3), to_stage_id: row.text(4), to_stage: row.text(5), status: row.text(6), days_before: row.f64(7).map(|d| (d * 100.0).round() / 100.0) })
        .collect())
}

/// A queued effect on another component.
#[derive(Debug, Clone)]
pub struct Effect {
    pub seq: i64,
    pub kind: String,
    pub target: String,
    pub payload: serde_json::Value,
    pub actor: String,
    pub attempts: i64,
}

/// Effects still to deliver (oldest first; given up after 50 attempts).
pub fn pending_effects<D: Db + ?Sized>(db: &D, limit: i64) -> Result<Vec<Effect>> {
    let r = db.run("SELECT seq, kind, target, payload, actor, attempts FROM pipeline_effects WHERE attempts < 50 ORDER BY seq LIMIT ?", &[Val::Int(limit)])?;
    Ok(r.iter().map(|row| Effect { seq: row.i64(0).unwrap_or(0), kind: row.text(1), target: row.text(2), payload: row.json(3), actor: row.text(4), attempts: row.i64(5).unwrap_or(0) }).collect())
}

pub fn effect_done<D: Db + ?Sized>(db: &D, seq: i64) -> Result<()> {
    db.run("DELETE FROM pipeline_effects WHERE seq = ?", &[Val::Int(seq)])?;
    Ok(())
}

pub fn effect_failed<D: Db + ?Sized>(db: &D, seq: i64, error: &str) -> Result<()> {
    db.run("UPDATE pipeline_effects SET attempts = attempts + 1, last_error = ? WHERE seq = ?", &[error.into(), Val::Int(seq)])?;
    Ok(())
}

/// CSV header and rows of a deal export.
pub const EXPORT_HEADER: [&str; 22] = [
    "id", "title", "value", "currency", "base_value", "status", "pipeline_id", "stage_id", "probability", "expected_close", "owner_id",
    "contact_id", "company_id", "source", "priority", "lost_reason", "won_reason", "next_step", "tags", "stale", "created_at", "closed_at",
];

pub fn export_row(d: &Deal) -> Vec<String> {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        d.id.clone(), d.title.clone(), d.value.to_string(), d.currency.clone(), d.base_value.map(|v| v.to_string()).unwrap_or_default(),
        d.status.clone(), d.pipeline_id.clone(), d.stage_id.clone(), d.probability.to_string(), o(&d.expected_close), o(&d.owner_id),
        o(&d.contact_id), o(&d.company_id), o(&d.source), d.priority.clone(), o(&d.lost_reason), o(&d.won_reason), o(&d.next_step),
        d.tags.join(";"), d.stale.to_string(), d.created_at.clone(), o(&d.closed_at),
    ]
}


#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::schema::DEFAULT_PIPELINE;
    use crate::store::VersionMismatch;
    use crate::store::testing::{db, writer};
    use serde_json::json;

    const U1: &str = "user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ";

    pub(crate) fn deal<D: Db + ?Sized>(db: &D, w: &Writer, v: serde_json::Value) -> Deal {
        let input: DealInput = serde_json::from_value(v).unwrap();
        create(db, w, validate(input, &settings::get(db).unwrap()).unwrap()).unwrap()
    }

    fn stages<D: Db + ?Sized>(db: &D) -> Vec<Stage> {
        pipelines::get(db, DEFAULT_PIPELINE).unwrap().unwrap().stages
    }

    fn board_ids<D: Db + ?Sized>(db: &D, stage: &str) -> Vec<String> {
        let b = board(db, DEFAULT_PIPELINE, &Filters::default(), 100, &Visibility::All, Utc::now()).unwrap();
        b.stages.into_iter().find(|s| s.stage.id == stage).unwrap().deals.into_iter().map(|d| d.id).collect()
    }

    #[test]
    fn probabilities_and_weighted_totals() {
        let db = db();
        let w = writer(U1);
        let st = stages(&db);
        deal(&db, &w, json!({"title": "A", "value": 10_000, "stage_id": st[0].id})); // 10 %
        deal(&db, &w, json!({"title": "B", "value": 30_000, "stage_id": st[0].id, "probability": 40})); // override
        let c = deal(&db, &w, json!({"title": "C", "value": 5_000, "stage_id": st[2].id})); // 50 %
        assert_eq!(c.probability, 50);
        let b = board(&db, DEFAULT_PIPELINE, &Filters::default(), 50, &Visibility::All, Utc::now()).unwrap();
        let first = &b.stages[0];
        assert_eq!((first.count, first.total, first.weighted), (2, 40_000, 1_000 + 12_000));
        assert_eq!((b.stages[2].count, b.stages[2].weighted), (1, 2_500));
        assert_eq!(b.stages[1].count, 0);
        let won = update(&db, &w, &c.id, &json!({"status": "won"}), Some(c.version), &Visibility::All).unwrap();
        assert_eq!((won.probability, won.closed_at.is_some()), (100, true));
        let b = board(&db, DEFAULT_PIPELINE, &Filters::default(), 50, &Visibility::All, Utc::now()).unwrap();
        assert_eq!(b.stages[2].count, 0, "closed deals leave the board");
        let effects = pending_effects(&db, 10).unwrap();
        assert!(effects.is_empty(), "no contact, no effect");
    }

    #[test]
    fn foreign_currency_deals_convert_and_unconverted_ones_are_counted() {
        let db = db();
        let w = writer(U1);
        let usd = deal(&db, &w, json!({"title": "US", "value": 10_000, "currency": "USD"}));
        assert_eq!(usd.base_value, None, "no rate yet");
        settings::put_rate(&db, &w, settings::ExchangeRate { currency: "USD".into(), valid_from: "2026-01-01".into(), rate: "0.9".into() }).unwrap();
        let usd = get(&db, &usd.id, &Visibility::All, false, Utc::now()).unwrap().unwrap();
        assert_eq!(usd.base_value, Some(9_000), "a new rate converts existing deals");
        deal(&db, &w, json!({"title": "JP", "value": 100_000, "currency": "JPY"}));
        let b = board(&db, DEFAULT_PIPELINE, &Filters::default(), 50, &Visibility::All, Utc::now()).unwrap();
        assert_eq!((b.stages[0].total, b.stages[0].unconverted, b.stages[0].count), (9_000, 1, 2));
        settings::update(&db, &w, settings::SettingsInput { base_currency: Some("USD".into()), ..Default::default() }, None).unwrap();
        let usd = get(&db, &usd.id, &Visibility::All, false, Utc::now()).unwrap().unwrap();
        assert_eq!(usd.base_value, Some(10_000), "a new base currency converts every deal");
    }

    #[test]
    fn stale_at_the_boundary() {
        let now: DateTime<Utc> = "2026-11-20T12:00:00Z".parse().unwrap();
        assert!(!is_stale("open", "2026-11-06T12:00:00.000Z", Some(14), now), "exactly 14 days: not yet");
        assert!(is_stale("open", "2026-11-06T11:59:59.999Z", Some(14), now), "a millisecond more: stale");
        assert!(!is_stale("won", "2020-01-01T00:00:00.000Z", Some(14), now), "closed deals are never stale");
        assert!(!is_stale("open", "2020-01-01T00:00:00.000Z", None, now), "stages without a limit");
        // The SQL filter agrees with the Rust rule.
        let db = db();
        let w = writer(U1);
        let a = deal(&db, &w, json!({"title": "edge"}));
        let b = deal(&db, &w, json!({"title": "over"}));
        db.run("UPDATE deals SET touched_at = '2026-11-06T12:00:00.000Z' WHERE id = ?", &[a.id.as_str().into()]).unwrap();
        db.run("UPDATE deals SET touched_at = '2026-11-06T11:59:59.999Z' WHERE id = ?", &[b.id.as_str().into()]).unwrap();
        let q = DealQuery { filters: Filters { stale: true, ..Default::default() }, ..Default::default() };
        let (items, _) = list(&db, &q, &Visibility::All, now).unwrap();
        assert_eq!(items.iter().map(|d| d.title.as_str()).collect::<Vec<_>>(), vec!["over"]);
        assert!(items[0].stale);
        let board = board(&db, DEFAULT_PIPELINE, &Filters::default(), 50, &Visibility::All, now).unwrap();
        assert_eq!(board.stages[0].stale, 1);
    }

    #[test]
    fn moves_keep_card_order_and_lose_nothing() {
        let db = db();
        let w = writer(U1);
        let st = stages(&db);
        let ids: Vec<Deal> = (0..4).map(|i| deal(&db, &w, json!({"title": format!("D{i}")}))).collect();
        assert_eq!(board_ids(&db, &st[0].id), ids.iter().map(|d| d.id.clone()).collect::<Vec<_>>());
        // D3 before D1 in the same stage.
        move_deal(&db, &w, &ids[3].id, &Move { stage_id: st[0].id.clone(), before_id: Some(ids[1].id.clone()), after_id: None }, None, &Visibility::All).unwrap();
        assert_eq!(board_ids(&db, &st[0].id).iter().collect::<Vec<_>>(), vec![&ids[0].id, &ids[3].id, &ids[1].id, &ids[2].id]);
        // D0 to the next stage, then D2 after it.
        let moved = move_deal(&db, &w, &ids[0].id, &Move { stage_id: st[1].id.clone(), ..Default::default() }, Some(ids[0].version), &Visibility::All).unwrap();
        assert_eq!(moved.stage_id, st[1].id);
        move_deal(&db, &w, &ids[2].id, &Move { stage_id: st[1].id.clone(), after_id: Some(ids[0].id.clone()), before_id: None }, None, &Visibility::All).unwrap();
        assert_eq!(board_ids(&db, &st[1].id).iter().collect::<Vec<_>>(), vec![&ids[0].id, &ids[2].id]);
        // A stale version loses, and sees where the deal is now.
        let err = move_deal(&db, &w, &ids[0].id, &Move { stage_id: st[3].id.clone(), ..Default::default() }, Some(ids[0].version), &Visibility::All).unwrap_err();
        assert_eq!(err.downcast_ref::<VersionMismatch>().map(|v| v.0), Some(moved.version));
        // Many moves into the same gap: positions renumber, order and count hold.
        for _ in 0..80 {
            move_deal(&db, &w, &ids[3].id, &Move { stage_id: st[0].id.clone(), after_id: None, before_id: Some(ids[1].id.clone()) }, None, &Visibility::All).unwrap();
            move_deal(&db, &w, &ids[1].id, &Move { stage_id: st[0].id.clone(), after_id: None, before_id: Some(ids[3].id.clone()) }, None, &Visibility::All).unwrap();
        }
        assert_eq!(board_ids(&db, &st[0].id).iter().collect::<Vec<_>>(), vec![&ids[1].id, &ids[3].id]);
        let total: i64 = board(&db, DEFAULT_PIPELINE, &Filters::default(), 50, &Visibility::All, Utc::now()).unwrap().stages.iter().map(|s| s.count).sum();
        assert_eq!(total, 4, "no deal lost or duplicated");
        let h = stage_history(&db, &ids[0].id, &Visibility::All).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!((h[1].from_stage.as_deref(), h[1].to_stage.as_str()), (Some("Qualification"), "Needs analysis"));
        // Bad anchors are field errors; closed deals do not move.
        let err = move_deal(&db, &w, &ids[1].id, &Move { stage_id: st[0].id.clone(), before_id: Some(ids[0].id.clone()), after_id: None }, None, &Visibility::All).unwrap_err();
        assert!(err.downcast_ref::<Invalid>().is_some());
        let lost = update(&db, &w, &ids[1].id, &json!({"status": "lost", "lost_reason": "Price"}), None, &Visibility::All).unwrap();
        let err = move_deal(&db, &w, &lost.id, &Move { stage_id: st[0].id.clone(), ..Default::default() }, None, &Visibility::All).unwrap_err();
        assert_eq!(err.downcast_ref::<edge_db::record::Conflict>().map(|c| c.kind), Some("deal-closed"));
    }

    #[test]
    fn closing_rules_effects_and_timeline() {
        let db = db();
        let w = writer(U1);
        let d = deal(&db, &w, json!({"title": "Won one", "value": 1234, "contact_id": "c_01HZZZZZZZZZZZZZZZZZZZZZZZ", "company_id": "co_01HZZZZZZZZZZZZZZZZZZZZZZZ"}));
        let err = update(&db, &w, &d.id, &json!({"status": "lost"}), None, &Visibility::All).unwrap_err();
        assert_eq!(err.downcast_ref::<Invalid>().map(|e| e.0[0].field.as_str()), Some("lost_reason"), "lost without a reason is rejected");
        assert_eq!(get(&db, &d.id, &Visibility::All, false, Utc::now()).unwrap().unwrap().status, "open", "and nothing changed");
        update(&db, &w, &d.id, &json!({"status": "won", "won_reason": "Product fit"}), None, &Visibility::All).unwrap();
        let fx = pending_effects(&db, 10).unwrap();
        assert_eq!((fx.len(), fx[0].kind.as_str(), fx[0].target.as_str()), (1, "contact-customer", "c_01HZZZZZZZZZZZZZZZZZZZZZZZ"));
        effect_failed(&db, fx[0].seq, "contacts down").unwrap();
        assert_eq!(pending_effects(&db, 10).unwrap()[0].attempts, 1);
        effect_done(&db, fx[0].seq).unwrap();
        assert!(pending_effects(&db, 10).unwrap().is_empty());
        let kinds: Vec<String> = db.run("SELECT kind FROM pipeline_timeline WHERE contact_id = ? ORDER BY seq", &["c_01HZZZZZZZZZZZZZZZZZZZZZZZ".into()]).unwrap().iter().map(|r| r.text(0)).collect();
        assert_eq!(kinds, vec!["deal-created", "deal-won"]);
        let reopened = update(&db, &w, &d.id, &json!({"status": "open"}), None, &Visibility::All).unwrap();
        assert_eq!((reopened.closed_at, reopened.won_reason), (None, None));
        let h = stage_history(&db, &d.id, &Visibility::All).unwrap();
        assert_eq!(h.iter().map(|e| e.status.as_str()).collect::<Vec<_>>(), vec!["open", "won", "open"]);
    }

    #[test]
    fn removing_stages_and_pipelines_with_open_deals_is_refused() {
        let db = db();
        let w = writer(U1);
        let st = stages(&db);
        let d = deal(&db, &w, json!({"title": "Blocker", "stage_id": st[1].id}));
        let err = pipelines::remove_stage(&db, &w, DEFAULT_PIPELINE, &st[1].id, None).unwrap_err();
        assert_eq!(err.downcast_ref::<edge_db::record::Conflict>().map(|c| c.kind), Some("stage-not-empty"));
        let other = pipelines::create(&db, &w, pipelines::PipelineInput { name: Some("Renewals".into()), ..Default::default() }).unwrap();
        let err = pipelines::delete(&db, &w, DEFAULT_PIPELINE).unwrap_err();
        assert_eq!(err.downcast_ref::<edge_db::record::Conflict>().map(|c| c.kind), Some("pipeline-not-empty"));
        // Moving the deal to another pipeline's stage via PATCH empties the stage.
        let moved = update(&db, &w, &d.id, &json!({"pipeline_id": other.id}), None, &Visibility::All).unwrap();
        assert_eq!(moved.stage_id, other.stages[0].id);
        let after = pipelines::remove_stage(&db, &w, DEFAULT_PIPELINE, &st[1].id, None).unwrap();
        assert_eq!(after.stages.len(), 3);
        let err = update(&db, &w, &d.id, &json!({"stage_id": st[1].id}), None, &Visibility::All).unwrap_err();
        assert!(err.downcast_ref::<Invalid>().is_some(), "a removed stage takes no deals");
        let reordered = pipelines::reorder(&db, &w, DEFAULT_PIPELINE, &[st[3].id.clone(), st[0].id.clone(), st[2].id.clone()], None).unwrap();
        assert_eq!(reordered.stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), vec!["Negotiation", "Qualification", "Proposal"]);
        assert!(pipelines::reorder(&db, &w, DEFAULT_PIPELINE, &[st[3].id.clone()], None).is_err(), "every stage once");
    }

    #[test]
    fn historical_deals_keep_their_dates() {
        let db = db();
        let w = writer(U1);
        let mut item = json!({"title": "Old win", "value": 500, "status": "won", "created_at": "2024-03-01T10:00:00Z", "closed_at": "2024-04-01T10:00:00Z"});
        let mut e = Vec::new();
        let dates = Dates::take(&mut item, "items[0].", &mut e);
        assert!(e.is_empty());
        let data = validate(serde_json::from_value(item).unwrap(), &settings::get(&db).unwrap()).unwrap();
        let d = edge_db::tx(&db, || insert_dated(&db, &w, data, &dates)).unwrap();
        assert_eq!((d.created_at.as_str(), d.closed_at.as_deref()), ("2024-03-01T10:00:00.000Z", Some("2024-04-01T10:00:00.000Z")));
        let h = stage_history(&db, &d.id, &Visibility::All).unwrap();
        assert_eq!(h.iter().map(|e| e.at.as_str()).collect::<Vec<_>>(), vec!["2024-03-01T10:00:00.000Z", "2024-04-01T10:00:00.000Z"]);
        let mut bad = json!({"created_at": "2999-01-01T00:00:00Z", "closed_at": "yesterday"});
        let mut e = Vec::new();
        Dates::take(&mut bad, "", &mut e);
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn money_reads_well_in_timeline_titles() {
        assert_eq!(money_text(1_250_000, "EUR"), "12,500.00 EUR");
        assert_eq!(money_text(150_000_000, "JPY"), "150,000,000 JPY");
        assert_eq!(money_text(5, "USD"), "0.05 USD");
        assert_eq!(money_text(1_000, "KWD"), "1.000 KWD");
    }

    #[test]
    fn lists_filter_sort_and_page() {
        let db = db();
        let w = writer(U1);
        for i in 0..7 {
            deal(&db, &w, json!({"title": format!("Deal {i}"), "value": i * 100, "tags": if i % 2 == 0 { vec!["even"] } else { vec!["odd"] }, "expected_close": format!("2026-12-0{}", i + 1)}));
        }
        let pairs = edge_http::query::parse("tag=even&sort=-base_value&limit=2");
        let mut q = DealQuery::parse(&pairs).unwrap();
        let mut seen = Vec::new();
        loop {
            let (items, next) = list(&db, &q, &Visibility::All, Utc::now()).unwrap();
            seen.extend(items.into_iter().map(|d| d.value));
            match next {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, vec![600, 400, 200, 0]);
        let q = DealQuery::parse(&edge_http::query::parse("close_from=2026-12-03&close_to=2026-12-04&min_value=300")).unwrap();
        let (items, _) = list(&db, &q, &Visibility::All, Utc::now()).unwrap();
        assert_eq!(items.iter().map(|d| d.title.as_str()).collect::<Vec<_>>(), vec!["Deal 3"]);
        assert!(DealQuery::parse(&edge_http::query::parse("sort=colour")).is_err());
        let mine = Visibility::Owners(vec!["u_01HYYYYYYYYYYYYYYYYYYYYYYY".into()]);
        assert!(list(&db, &DealQuery::default(), &mine, Utc::now()).unwrap().0.is_empty(), "others' deals stay hidden");
    }
}
