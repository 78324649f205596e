//! Pipelines and their ordered stages. A stage or pipeline that still holds
//! open deals cannot be removed; a removed stage stays on record for the
//! closed deals and the history that name it.

use super::{conflict, event, Invalid, NotFound, Writer};
use crate::model::{Pipeline, Stage, StageInput};
use anyhow::Result;
use edge_db::{Db, Val};
use edge_http::FieldError;
use serde::Deserialize;

pub const ID_PREFIX: &str = "pl";
pub const STAGE_PREFIX: &str = "st";

fn stages_of<D: Db + ?Sized>(db: &D, pipeline_id: &str) -> Result<Vec<Stage>> {
    let r = db.run("SELECT id, name, position, probability, stale_days FROM stages WHERE pipeline_id = ? AND removed_at IS NULL ORDER BY position", &[pipeline_id.into()])?;
    Ok(r.iter().map(|row| Stage { id: row.text(0), name: row.text(1), position: row.i64(2).unwrap_or(0), probability: row.i64(3).unwrap_or(0), stale_days: row.i64(4) }).collect())
}

pub fn list<D: Db + ?Sized>(db: &D) -> Result<Vec<Pipeline>> {
    let r = db.run("SELECT id, name, position, created_at, updated_at, version FROM pipelines WHERE deleted_at IS NULL ORDER BY position, id", &[])?;
    r.iter()
        .map(|row| {
            let id = row.text(0);
            Ok(Pipeline { stages: stages_of(db, &id)?, id, name: row.text(1), position: row.i64(2).unwrap_or(0), created_at: row.text(3), updated_at: row.text(4), version: row.i64(5).unwrap_or(1) })
        })
        .collect()
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<Pipeline>> {
    let r = db.run("SELECT id, name, position, created_at, updated_at, version FROM pipelines WHERE id = ? AND deleted_at IS NULL", &[id.into()])?;
    let Some(row) = r.first() else { return Ok(None) };
    Ok(Some(Pipeline { stages: stages_of(db, id)?, id: row.text(0), name: row.text(1), position: row.i64(2).unwrap_or(0), created_at: row.text(3), updated_at: row.text(4), version: row.i64(5).unwrap_or(1) }))
}

/// The stage (live or removed) with its pipeline.
pub fn stage<D: Db + ?Sized>(db: &D, stage_id: &str) -> Result<Option<(String, Stage, bool)>> {
    let r = db.run("SELECT pipeline_id, id, name, position, probability, stale_days, removed_at IS NOT NULL FROM stages WHERE id = ?", &[stage_id.into()])?;
    Ok(r.first().map(|row| (row.text(0), Stage { id: row.text(1), name: row.text(2), position: row.i64(3).unwrap_or(0), probability: row.i64(4).unwrap_or(0), stale_days: row.i64(5) }, row.i64(6) == Some(1))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineInput {
    pub name: Option<String>,
    pub position: Option<i64>,
    /// Only when creating: the stages in order (default: one "New" stage).
    pub stages: Option<Vec<StageInput>>,
}

fn name(errors: &mut Vec<FieldError>, v: Option<String>) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if v.as_ref().is_none_or(|s| s.chars().count() > 80) {
        errors.push(FieldError::new("name", "is required (at most 80 characters)"));
    }
    v
}

fn touch<D: Db + ?Sized>(db: &D, id: &str) -> Result<()> {
    db.run("UPDATE pipelines SET updated_at = ?, version = version + 1 WHERE id = ?", &[edge_db::now().into(), id.into()])?;
    Ok(())
}

fn insert_stage<D: Db + ?Sized>(db: &D, w: &Writer, pipeline_id: &str, (name, probability, stale_days): (String, i64, Option<i64>), position: i64) -> Result<String> {
    let id = w.new_id(db, "stages", STAGE_PREFIX)?;
    db.run(
        "INSERT INTO stages (id, pipeline_id, name, position, probability, stale_days) VALUES (?, ?, ?, ?, ?, ?)",
        &[id.as_str().into(), pipeline_id.into(), name.into(), Val::Int(position), Val::Int(probability), stale_days.into()],
    )?;
    Ok(id)
}

fn unique_stage_names(stages: &[(String, i64, Option<i64>)]) -> Result<()> {
    for (i, s) in stages.iter().enumerate() {
        if stages[..i].iter().any(|o| o.0.eq_ignore_ascii_case(&s.0)) {
            return Err(Invalid::one("stages", &format!("two stages are named {}", s.0)).into());
        }
    }
    Ok(())
}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, input: PipelineInput) -> Result<Pipeline> {
    let mut e = Vec::new();
    let n = name(&mut e, input.name);
    let mut stages = Vec::new();
    for (i, s) in input.stages.unwrap_or_else(|| vec![StageInput { name: Some("New".into()), probability: Some(10), stale_days: None }]).into_iter().enumerate() {
        match s.validate() {
            Ok(s) => stages.push(s),
            Err(errs) => e.extend(errs.into_iter().map(|f| FieldError::new(&format!("stages[{i}].{}", f.field), &f.message))),
        }
    }
    if stages.is_empty() || stages.len() > 30 {
        e.push(FieldError::new("stages", "a pipeline has 1 to 30 stages"));
    }
    if !e.is_empty() {
        return Err(Invalid(e).into());
    }
    unique_stage_names(&stages)?;
    edge_db::tx(db, || {
        let id = w.new_id(db, "pipelines", ID_PREFIX)?;
        let now = edge_db::now();
        let position = match input.position {
            Some(p) => p,
            None => db.run("SELECT COALESCE(max(position), 0) + 1 FROM pipelines", &[])?.scalar_i64().unwrap_or(1),
        };
        db.run("INSERT INTO pipelines (id, name, position, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, 1)", &[id.as_str().into(), n.clone().into(), Val::Int(position), now.as_str().into(), now.as_str().into()])?;
        for (i, s) in stages.into_iter().enumerate() {
            insert_stage(db, w, &id, s, i as i64 + 1)?;
        }
        let p = get(db, &id)?.ok_or(NotFound)?;
        event(db, w, "pipeline", &id, "created", None, Some(&serde_json::to_value(&p)?))?;
        Ok(p)
    })
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, input: PipelineInput, if_version: Option<i64>) -> Result<Pipeline> {
    if input.stages.is_some() {
        return Err(Invalid::one("stages", "change stages through /stages and /stage-order").into());
    }
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let mut e = Vec::new();
        let n = if input.name.is_some() { name(&mut e, input.name) } else { Some(before.name.clone()) };
        if !e.is_empty() {
            return Err(Invalid(e).into());
        }
        db.run("UPDATE pipelines SET name = ?, position = ? WHERE id = ?", &[n.into(), Val::Int(input.position.unwrap_or(before.position)), id.into()])?;
        touch(db, id)?;
        let after = get(db, id)?.ok_or(NotFound)?;
        event(db, w, "pipeline", id, "updated", Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&after)?))?;
        Ok(after)
    })
}

fn open_deals_in<D: Db + ?Sized>(db: &D, column: &str, id: &str) -> Result<i64> {
    Ok(db.run(&format!("SELECT count(*) FROM deals WHERE {column} = ? AND status = 'open' AND deleted_at IS NULL"), &[id.into()])?.scalar_i64().unwrap_or(0))
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str) -> Result<()> {
    edge_db::tx(db, || {
        let before = get(db, id)?.ok_or(NotFound)?;
        let open = open_deals_in(db, "pipeline_id", id)?;
        if open > 0 {
            return Err(conflict("pipeline-not-empty", format!("The pipeline {} still has {open} open deal(s). Move or close them first.", before.name)));
        }
        let live = db.run("SELECT count(*) FROM pipelines WHERE deleted_at IS NULL", &[])?.scalar_i64().unwrap_or(0);
        if live <= 1 {
            return Err(conflict("last-pipeline", "A workspace keeps at least one pipeline."));
        }
        db.run("UPDATE pipelines SET deleted_at = ?, version = version + 1 WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        event(db, w, "pipeline", id, "deleted", Some(&serde_json::to_value(&before)?), None)
    })
}

pub fn add_stage<D: Db + ?Sized>(db: &D, w: &Writer, pipeline_id: &str, input: StageInput, if_version: Option<i64>) -> Result<Pipeline> {
    let s = input.validate().map_err(Invalid)?;
    edge_db::tx(db, || {
        let before = get(db, pipeline_id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        if before.stages.len() >= 30 {
            return Err(Invalid::one("stages", "a pipeline has at most 30 stages").into());
        }
        let mut all: Vec<(String, i64, Option<i64>)> = before.stages.iter().map(|s| (s.name.clone(), s.probability, s.stale_days)).collect();
        all.push(s.clone());
        unique_stage_names(&all)?;
        let position = before.stages.last().map_or(1, |s| s.position + 1);
        let sid = insert_stage(db, w, pipeline_id, s, position)?;
        touch(db, pipeline_id)?;
        let after = get(db, pipeline_id)?.ok_or(NotFound)?;
        event(db, w, "stage", &sid, "created", None, serde_json::to_value(after.stages.iter().find(|x| x.id == sid)).ok().as_ref())?;
        Ok(after)
    })
}

pub fn update_stage<D: Db + ?Sized>(db: &D, w: &Writer, pipeline_id: &str, stage_id: &str, patch: &serde_json::Value, if_version: Option<i64>) -> Result<Pipeline> {
    edge_db::tx(db, || {
        let before = get(db, pipeline_id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let old = before.stages.iter().find(|s| s.id == stage_id).ok_or(NotFound)?;
        let mut merged = serde_json::json!({"name": old.name, "probability": old.probability, "stale_days": old.stale_days});
        for (k, v) in patch.as_object().into_iter().flatten() {
            merged[k] = v.clone();
        }
        let input: StageInput = serde_json::from_value(merged).map_err(|e| Invalid::one("body", &e.to_string()))?;
        let (n, probability, stale_days) = input.validate().map_err(Invalid)?;
        if before.stages.iter().any(|s| s.id != stage_id && s.name.eq_ignore_ascii_case(&n)) {
            return Err(Invalid::one("name", "another stage has this name").into());
        }
        db.run("UPDATE stages SET name = ?, probability = ?, stale_days = ? WHERE id = ?", &[n.into(), Val::Int(probability), stale_days.into(), stage_id.into()])?;
        touch(db, pipeline_id)?;
        let after = get(db, pipeline_id)?.ok_or(NotFound)?;
        let new = after.stages.iter().find(|s| s.id == stage_id);
        event(db, w, "stage", stage_id, "updated", Some(&serde_json::to_value(old)?), Some(&serde_json::to_value(new)?))?;
        Ok(after)
    })
}

/// Removes an empty stage (409 `stage-not-empty` while open deals are in it).
pub fn remove_stage<D: Db + ?Sized>(db: &D, w: &Writer, pipeline_id: &str, stage_id: &str, if_version: Option<i64>) -> Result<Pipeline> {
    edge_db::tx(db, || {
        let before = get(db, pipeline_id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let old = before.stages.iter().find(|s| s.id == stage_id).ok_or(NotFound)?;
        let open = open_deals_in(db, "stage_id", stage_id)?;
        if open > 0 {
            return Err(conflict("stage-not-empty", format!("The stage {} still holds {open} open deal(s). Move them to another stage first.", old.name)));
        }
        if before.stages.len() == 1 {
            return Err(conflict("last-stage", "A pipeline keeps at least one stage."));
        }
        db.run("UPDATE stages SET removed_at = ? WHERE id = ?", &[edge_db::now().into(), stage_id.into()])?;
        touch(db, pipeline_id)?;
        event(db, w, "stage", stage_id, "removed", Some(&serde_json::to_value(old)?), None)?;
        get(db, pipeline_id)?.ok_or(NotFound.into())
    })
}

/// Puts the stages in the given order (every live stage, once).
pub fn reorder<D: Db + ?Sized>(db: &D, w: &Writer, pipeline_id: &str, stage_ids: &[String], if_version: Option<i64>) -> Result<Pipeline> {
    edge_db::tx(db, || {
        let before = get(db, pipeline_id)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_version, before.version)?;
        let mut want: Vec<&String> = stage_ids.iter().collect();
        let mut have: Vec<&String> = before.stages.iter().map(|s| &s.id).collect();
        want.sort();
        have.sort();
        if want != have {
            return Err(Invalid::one("stage_ids", "must list every stage of the pipeline exactly once").into());
        }
        for (i, sid) in stage_ids.iter().enumerate() {
            db.run("UPDATE stages SET position = ? WHERE id = ?", &[Val::Int(i as i64 + 1), sid.as_str().into()])?;
        }
        touch(db, pipeline_id)?;
        let after = get(db, pipeline_id)?.ok_or(NotFound)?;
        event(db, w, "pipeline", pipeline_id, "stages-reordered", Some(&serde_json::json!({"stage_ids": before.stages.iter().map(|s| &s.id).collect::<Vec<_>>()})), Some(&serde_json::json!({"stage_ids": stage_ids})))?;
        Ok(after)
    })
}
