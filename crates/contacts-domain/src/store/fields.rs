//! Custom field definitions. Defining a field also creates an expression index
//! on its value, so filters and sorts on it are indexed like standard fields.

use super::{event, json_text, Writer};
use crate::fields::{Entity, FieldDef, Kind};
use anyhow::Result;
use edge_db::{Db, Row};

const COLS: &str = "id, entity, key, label, kind, options, currency, required, position, created_at, updated_at";

fn from_row(r: Row) -> Option<FieldDef> {
    Some(FieldDef {
        id: r.text(0),
        entity: Entity::parse(r.str(1)?)?,
        key: r.text(2),
        label: r.text(3),
        kind: serde_json::from_value(serde_json::Value::String(r.text(4))).ok()?,
        options: r.json(5),
        currency: r.string(6),
        required: r.i64(7) == Some(1),
        position: r.i64(8).unwrap_or(0),
        created_at: r.text(9),
        updated_at: r.text(10),
    })
}

fn kind_str(k: Kind) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// Live definitions, in display order.
pub fn list<D: Db + ?Sized>(db: &D, entity: Option<Entity>) -> Result<Vec<FieldDef>> {
    let r = db.run(&format!("SELECT {COLS} FROM custom_fields WHERE archived_at IS NULL ORDER BY entity, position, created_at"), &[])?;
    Ok(r.iter().filter_map(from_row).filter(|d| entity.is_none_or(|e| d.entity == e)).collect())
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<FieldDef>> {
    let r = db.run(&format!("SELECT {COLS} FROM custom_fields WHERE id = ? AND archived_at IS NULL"), &[id.into()])?;
    Ok(r.first().and_then(from_row))
}

/// The key is taken (also by an archived field: its values may still be in records).
#[derive(Debug)]
pub struct KeyTaken;
impl std::fmt::Display for KeyTaken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a field with this key exists")
    }
}
impl std::error::Error for KeyTaken {}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, mut def: FieldDef) -> Result<FieldDef> {
    edge_db::tx(db, || {
        let taken = db.run("SELECT 1 FROM custom_fields WHERE entity = ? AND key = ?", &[def.entity.as_str().into(), def.key.as_str().into()])?;
        if !taken.is_empty() {
            return Err(KeyTaken.into());
        }
        def.id = w.new_id(db, "custom_fields", "f")?;
        def.created_at = edge_db::now();
        def.updated_at = def.created_at.clone();
        db.run(
            &format!("INSERT INTO custom_fields ({COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            &[
                def.id.as_str().into(),
                def.entity.as_str().into(),
                def.key.as_str().into(),
                def.label.as_str().into(),
                kind_str(def.kind).into(),
                json_text(&def.options),
                def.currency.clone().into(),
                def.required.into(),
                def.position.into(),
                def.created_at.as_str().into(),
                def.updated_at.as_str().into(),
            ],
        )?;
        // The key passed `valid_key` (a-z, 0-9, _), so it is safe in SQL text.
        db.run(&format!("CREATE INDEX IF NOT EXISTS {} ON {}({}, id)", def.index_name(), def.entity.table(), def.sql()), &[])?;
        event(db, w, "custom_field", &def.id, "created", None, Some(&serde_json::to_value(&def)?))?;
        Ok(def.clone())
    })
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, before: &FieldDef, after: &FieldDef) -> Result<()> {
    edge_db::tx(db, || {
        db.run(
            "UPDATE custom_fields SET label = ?, options = ?, currency = ?, required = ?, position = ?, updated_at = ? WHERE id = ?",
            &[after.label.as_str().into(), json_text(&after.options), after.currency.clone().into(), after.required.into(), after.position.into(), edge_db::now().into(), after.id.as_str().into()],
        )?;
        event(db, w, "custom_field", &after.id, "updated", Some(&serde_json::to_value(before)?), Some(&serde_json::to_value(after)?))
    })
}

/// Archives a field: it disappears from forms, filters and exports; values stay
/// in records (the key stays reserved) so nothing is lost.
pub fn archive<D: Db + ?Sized>(db: &D, w: &Writer, def: &FieldDef) -> Result<()> {
    edge_db::tx(db, || {
        db.run("UPDATE custom_fields SET archived_at = ? WHERE id = ?", &[edge_db::now().into(), def.id.as_str().into()])?;
        db.run(&format!("DROP INDEX IF EXISTS {}", def.index_name()), &[])?;
        event(db, w, "custom_field", &def.id, "archived", Some(&serde_json::to_value(def)?), None)
    })
}
