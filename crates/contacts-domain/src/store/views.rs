//! Saved list views: a name for a list's query (filter, sort, search) and its
//! columns, kept for one user or shared with the whole workspace.

use super::{event, Invalid, NotFound, Writer};
use crate::fields::{Entity, FieldDef};
use crate::list::ListQuery;
use anyhow::Result;
use edge_db::{Db, Row};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub id: String,
    pub entity: Entity,
    pub name: String,
    /// The list's query string (`filter=…&sort=…&q=…`), as the list route takes it.
    pub query: String,
    pub columns: Vec<String>,
    pub shared: bool,
    pub owner_id: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewInput {
    pub entity: Option<String>,
    pub name: Option<String>,
    pub query: Option<String>,
    pub columns: Option<Vec<String>>,
    pub shared: Option<bool>,
}

const COLS: &str = "id, entity, name, query, columns, owner_id, created_by, created_at, updated_at";

fn from_row(r: Row) -> View {
    View {
        id: r.text(0),
        entity: r.str(1).and_then(Entity::parse).unwrap_or(Entity::Contact),
        name: r.text(2),
        query: r.text(3),
        columns: r.json(4),
        shared: r.str(5).is_none(),
        owner_id: r.string(5),
        created_by: r.text(6),
        created_at: r.text(7),
        updated_at: r.text(8),
    }
}

/// The caller's views and the shared ones.
pub fn list<D: Db + ?Sized>(db: &D, entity: Entity, user: Option<&str>) -> Result<Vec<View>> {
    let r = db.run(
        &format!("SELECT {COLS} FROM saved_views WHERE entity = ? AND (owner_id IS NULL OR owner_id = ?) ORDER BY owner_id IS NOT NULL, name COLLATE NOCASE"),
        &[entity.as_str().into(), user.unwrap_or("").into()],
    )?;
    Ok(r.iter().map(from_row).collect())
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str, user: Option<&str>) -> Result<Option<View>> {
    let r = db.run(&format!("SELECT {COLS} FROM saved_views WHERE id = ?"), &[id.into()])?;
    Ok(r.first().map(from_row).filter(|v| v.shared || v.owner_id.as_deref() == user))
}

fn check(v: &mut View, defs: &[FieldDef]) -> Result<()> {
    let mut errors = Vec::new();
    v.name = v.name.trim().to_string();
    if v.name.is_empty() || v.name.chars().count() > 80 {
        errors.push(FieldError::new("name", "is required (at most 80 characters)"));
    }
    // The query must be one the list accepts, filters and sort included.
    match ListQuery::parse(&v.query) {
        Ok(q) => {
            let mut fields = crate::filter::catalogue(v.entity, defs);
            if v.entity == crate::fields::Entity::Contact {
                let all: Vec<String> = crate::filter::linked_views().into_iter().map(String::from).collect();
                fields.extend(crate::filter::linked_fields(&all));
            }
            if let Some(f) = &q.filter {
                if let Err(e) = f.to_sql(&fields, v.entity) {
                    errors.extend(e.into_iter().map(|e| FieldError::new("query", &e.message)));
                }
            }
            if let Err(e) = crate::filter::Sort::parse(q.sort.as_deref(), &fields) {
                errors.push(FieldError::new("query", &e.message));
            }
        }
        Err(e) => errors.extend(e.into_iter().map(|e| FieldError::new("query", &format!("{}: {}", e.field, e.message)))),
    }
    if v.query.len() > 8000 || v.columns.len() > 60 {
        errors.push(FieldError::new("query", "is too long"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Invalid(errors).into())
    }
}

/// Shared views are changed by owners, admins and managers only (`may_share`).
#[derive(Debug)]
pub struct NotAllowed;
impl std::fmt::Display for NotAllowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("only owners, admins and managers share views with everyone")
    }
}
impl std::error::Error for NotAllowed {}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, input: ViewInput, may_share: bool, defs_of: impl Fn(Entity) -> Result<Vec<FieldDef>>) -> Result<View> {
    let entity = match input.entity.as_deref() {
        None | Some("contact") => Entity::Contact,
        Some("company") => Entity::Company,
        Some(_) => return Err(Invalid(vec![FieldError::new("entity", "must be contact or company")]).into()),
    };
    let shared = input.shared.unwrap_or(false);
    if shared && !may_share {
        return Err(NotAllowed.into());
    }
    let now = edge_db::now();
    let mut v = View {
        id: String::new(),
        entity,
        name: input.name.unwrap_or_default(),
        query: input.query.unwrap_or_default(),
        columns: input.columns.unwrap_or_default(),
        shared,
        owner_id: if shared { None } else { w.user_id() },
        created_by: w.actor.into(),
        created_at: now.clone(),
        updated_at: now,
    };
    if !shared && v.owner_id.is_none() {
        return Err(Invalid(vec![FieldError::new("shared", "API keys can only save shared views")]).into());
    }
    check(&mut v, &defs_of(entity)?)?;
    edge_db::tx(db, || {
        v.id = w.new_id(db, "saved_views", "v")?;
        db.run(
            &format!("INSERT INTO saved_views ({COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            &[
                v.id.as_str().into(),
                v.entity.as_str().into(),
                v.name.as_str().into(),
                v.query.as_str().into(),
                super::json_text(&v.columns),
                v.owner_id.clone().into(),
                v.created_by.as_str().into(),
                v.created_at.as_str().into(),
                v.updated_at.as_str().into(),
            ],
        )?;
        event(db, w, "saved_view", &v.id, "created", None, Some(&serde_json::to_value(&v)?))?;
        Ok(v.clone())
    })
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, input: ViewInput, may_share: bool, defs: &[FieldDef]) -> Result<View> {
    let before = get(db, id, w.user_id().as_deref())?.ok_or(NotFound)?;
    if (before.shared || input.shared == Some(true)) && !may_share {
        return Err(NotAllowed.into());
    }
    let mut v = before.clone();
    if let Some(n) = input.name {
        v.name = n;
    }
    if let Some(q) = input.query {
        v.query = q;
    }
    if let Some(c) = input.columns {
        v.columns = c;
    }
    if let Some(s) = input.shared {
        v.shared = s;
        v.owner_id = if s { None } else { w.user_id() };
    }
    v.updated_at = edge_db::now();
    check(&mut v, defs)?;
    edge_db::tx(db, || {
        db.run(
            "UPDATE saved_views SET name = ?, query = ?, columns = ?, owner_id = ?, updated_at = ? WHERE id = ?",
            &[v.name.as_str().into(), v.query.as_str().into(), super::json_text(&v.columns), v.owner_id.clone().into(), v.updated_at.as_str().into(), id.into()],
        )?;
        event(db, w, "saved_view", id, "updated", Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&v)?))?;
        Ok(v.clone())
    })
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, may_share: bool) -> Result<()> {
    let v = get(db, id, w.user_id().as_deref())?.ok_or(NotFound)?;
    if v.shared && !may_share {
        return Err(NotAllowed.into());
    }
    edge_db::tx(db, || {
        db.run("DELETE FROM saved_views WHERE id = ?", &[id.into()])?;
        event(db, w, "saved_view", id, "deleted", Some(&serde_json::to_value(&v)?), None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};

    fn input(name: &str, query: &str, shared: bool) -> ViewInput {
        ViewInput { entity: Some("contact".into()), name: Some(name.into()), query: Some(query.into()), columns: Some(vec!["email".into()]), shared: Some(shared) }
    }

    #[test]
    fn own_and_shared_views() {
        let db = db();
        let ann = writer("user:u_01HAAAAAAAAAAAAAAAAAAAAAAA");
        let bob = writer("user:u_01HBBBBBBBBBBBBBBBBBBBBBBB");
        let no_defs = |_| Ok(vec![]);
        let mine = create(&db, &ann, input("My leads", "sort=-updated_at&filter=%7B%22field%22%3A%22lifecycle_stage%22%2C%22op%22%3A%22eq%22%2C%22value%22%3A%22lead%22%7D", false), false, no_defs).unwrap();
        assert!(create(&db, &ann, input("Team", "", true), false, no_defs).unwrap_err().downcast_ref::<NotAllowed>().is_some());
        create(&db, &ann, input("Everyone's customers", "sort=last_name", true), true, no_defs).unwrap();
        assert!(create(&db, &ann, input("Bad", "sort=password", false), false, no_defs).unwrap_err().downcast_ref::<Invalid>().is_some());
        assert_eq!(list(&db, Entity::Contact, ann.user_id().as_deref()).unwrap().len(), 2);
        let bobs = list(&db, Entity::Contact, bob.user_id().as_deref()).unwrap();
        assert_eq!(bobs.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), vec!["Everyone's customers"], "others' own views stay private");
        assert!(get(&db, &mine.id, bob.user_id().as_deref()).unwrap().is_none());
        assert!(delete(&db, &bob, &mine.id, true).unwrap_err().downcast_ref::<NotFound>().is_some());
        delete(&db, &ann, &mine.id, false).unwrap();
    }
}
