//! Companies: the same lifecycle as contacts (versioned updates, trash,
//! restore, purge), with their domains, tags and search entry kept in step.
//! Renaming a company renames it on its contacts in the same transaction.

use super::contacts::check_external;
use super::{event, json_text, list_page, marks, search, tags, BadReference, Invalid, NotFound, Page, Writer};
use crate::fields::{Entity, FieldDef};
use crate::list::ListQuery;
use crate::model::{merge_patch, Company, CompanyData, CompanyInput};
use anyhow::Result;
use edge_db::{Db, Row, Val};
use edge_http::Visibility;

pub const ID_PREFIX: &str = "co";

pub const COLUMNS: &str = "id, name, domain, domains, industry, size, address, phone, website, owner_id, tags, custom, \
    parent_id, external_id, created_at, updated_at, last_activity_at, deleted_at, version";

pub fn from_row(r: Row) -> Company {
    Company {
        id: r.text(0),
        name: r.text(1),
        domain: r.string(2),
        domains: r.json(3),
        industry: r.string(4),
        size: r.string(5),
        address: r.str(6).and_then(|s| serde_json::from_str(s).ok()),
        phone: r.string(7),
        website: r.string(8),
        owner_id: r.string(9),
        tags: r.json(10),
        custom: r.json(11),
        parent_id: r.string(12),
        external_id: r.string(13),
        created_at: r.text(14),
        updated_at: r.text(15),
        last_activity_at: r.string(16),
        deleted_at: r.string(17),
        version: r.i64(18).unwrap_or(1),
    }
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str, vis: &Visibility, deleted: bool) -> Result<Option<Company>> {
    let r = db.run(&format!("SELECT {COLUMNS} FROM companies WHERE id = ?"), &[id.into()])?;
    Ok(r.first().map(from_row).filter(|c| vis.allows(c.owner_id.as_deref()) && (deleted || c.deleted_at.is_none())))
}

pub fn list<D: Db + ?Sized>(db: &D, q: &ListQuery, vis: &Visibility, defs: &[FieldDef]) -> Result<(Vec<Company>, Option<String>)> {
    let Page { rows, next_cursor } = list_page(db, Entity::Company, COLUMNS, q, vis, defs)?;
    Ok((rows.iter().map(from_row).collect(), next_cursor))
}

fn sync<D: Db + ?Sized>(db: &D, c: &Company) -> Result<()> {
    db.run("DELETE FROM company_domains WHERE company_id = ?", &[c.id.as_str().into()])?;
    for d in &c.domains {
        db.run("INSERT OR IGNORE INTO company_domains (domain, company_id) VALUES (?, ?)", &[d.as_str().into(), c.id.as_str().into()])?;
    }
    tags::set(db, "company", &c.id, &c.tags)?;
    let mut body: Vec<&str> = c.domains.iter().map(String::as_str).collect();
    body.extend([&c.industry, &c.phone, &c.website, &c.external_id].iter().filter_map(|f| f.as_deref()));
    body.extend(c.tags.iter().map(String::as_str));
    search::index(db, "company", &c.id, c.owner_id.as_deref(), &c.name, &body.join(" "))
}

fn write_row<D: Db + ?Sized>(db: &D, c: &Company) -> Result<()> {
    db.run(
        &format!("INSERT OR REPLACE INTO companies ({COLUMNS}) VALUES ({})", marks(19)),
        &[
            c.id.as_str().into(),
            c.name.as_str().into(),
            c.domain.clone().into(),
            json_text(&c.domains),
            c.industry.clone().into(),
            c.size.clone().into(),
            c.address.as_ref().map(|a| serde_json::to_string(a).unwrap_or_default()).into(),
            c.phone.clone().into(),
            c.website.clone().into(),
            c.owner_id.clone().into(),
            json_text(&c.tags),
            json_text(&c.custom),
            c.parent_id.clone().into(),
            c.external_id.clone().into(),
            c.created_at.as_str().into(),
            c.updated_at.as_str().into(),
            c.last_activity_at.clone().into(),
            c.deleted_at.clone().into(),
            Val::Int(c.version),
        ],
    )?;
    Ok(())
}

fn check_parent<D: Db + ?Sized>(db: &D, id: &str, parent: Option<&str>) -> Result<()> {
    let Some(p) = parent else { return Ok(()) };
    // The parent exists, and the company is not its own ancestor.
    let mut cur = Some(p.to_string());
    let mut hops = 0;
    while let Some(c) = cur {
        if c == id || hops > 50 {
            return Err(Invalid(vec![edge_http::FieldError::new("parent_id", "would make the company its own parent")]).into());
        }
        let r = db.run("SELECT parent_id FROM companies WHERE id = ? AND deleted_at IS NULL", &[c.as_str().into()])?;
        let Some(row) = r.first() else { return Err(BadReference("parent_id").into()) };
        cur = row.string(0);
        hops += 1;
    }
    Ok(())
}

fn build(id: String, d: CompanyData, now: &str, version: i64, created_at: Option<String>, last_activity_at: Option<String>) -> Company {
    Company {
        id,
        name: d.name,
        domain: d.domains.first().cloned(),
        domains: d.domains,
        industry: d.industry,
        size: d.size,
        address: d.address,
        phone: d.phone,
        website: d.website,
        owner_id: d.owner_id,
        tags: d.tags,
        custom: d.custom,
        parent_id: d.parent_id,
        external_id: d.external_id,
        created_at: created_at.unwrap_or_else(|| now.to_string()),
        updated_at: now.to_string(),
        last_activity_at,
        deleted_at: None,
        version,
    }
}

pub fn insert_in_tx<D: Db + ?Sized>(db: &D, w: &Writer, mut data: CompanyData) -> Result<Company> {
    if data.owner_id.is_none() {
        data.owner_id = w.user_id();
    }
    let id = w.new_id(db, "companies", ID_PREFIX)?;
    check_parent(db, &id, data.parent_id.as_deref())?;
    check_external(db, "companies", data.external_id.as_deref(), &id)?;
    let c = build(id, data, &edge_db::now(), 1, None, None);
    write_row(db, &c)?;
    sync(db, &c)?;
    event(db, w, "company", &c.id, "created", None, Some(&serde_json::to_value(&c)?))?;
    Ok(c)
}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, data: CompanyData) -> Result<Company> {
    edge_db::tx(db, || insert_in_tx(db, w, data))
}

pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, patch: &serde_json::Value, if_match: Option<i64>, vis: &Visibility, defs: &[FieldDef]) -> Result<Company> {
    edge_db::tx(db, || {
        let before = get(db, id, vis, false)?.ok_or(NotFound)?;
        edge_db::record::check_version(if_match, before.version)?;
        let mut input = before.to_input();
        merge_patch(&mut input, patch);
        let input: CompanyInput = serde_json::from_value(input).map_err(|e| Invalid(vec![edge_http::FieldError::new("body", &e.to_string())]))?;
        let data = input.validate(defs).map_err(Invalid)?;
        update_in_tx(db, w, before, data)
    })
}

pub fn update_in_tx<D: Db + ?Sized>(db: &D, w: &Writer, before: Company, data: CompanyData) -> Result<Company> {
    check_parent(db, &before.id, data.parent_id.as_deref())?;
    check_external(db, "companies", data.external_id.as_deref(), &before.id)?;
    let after = build(before.id.clone(), data, &edge_db::now(), before.version + 1, Some(before.created_at.clone()), before.last_activity_at.clone());
    let unchanged = Company { updated_at: before.updated_at.clone(), version: before.version, ..after.clone() } == before;
    if unchanged {
        return Ok(before);
    }
    write_row(db, &after)?;
    sync(db, &after)?;
    if after.name != before.name {
        db.run("UPDATE contacts SET company = ?1, api_json = json_set(api_json, '$.company', ?1) WHERE company_id = ?2", &[after.name.as_str().into(), after.id.as_str().into()])?;
    }
    event(db, w, "company", &after.id, "updated", Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&after)?))?;
    Ok(after)
}

pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, vis: &Visibility) -> Result<()> {
    edge_db::tx(db, || {
        let c = get(db, id, vis, false)?.ok_or(NotFound)?;
        db.run("UPDATE companies SET deleted_at = ?, version = version + 1 WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        search::remove(db, "company", id)?;
        event(db, w, "company", id, "deleted", Some(&serde_json::json!({"deleted_at": null, "name": c.name})), Some(&serde_json::json!({"deleted_at": "now"})))
    })
}

pub fn restore<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, vis: &Visibility) -> Result<Company> {
    edge_db::tx(db, || {
        get(db, id, vis, true)?.filter(|c| c.deleted_at.as_deref().is_some_and(|d| d >= super::restore_horizon().as_str())).ok_or(NotFound)?;
        db.run("UPDATE companies SET deleted_at = NULL, version = version + 1, updated_at = ? WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        let c = get(db, id, vis, false)?.ok_or(NotFound)?;
        sync(db, &c)?;
        event(db, w, "company", id, "restored", None, None)?;
        Ok(c)
    })
}

/// Removes a company for good; its contacts keep the name as text, links go.
pub fn purge<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, vis: &Visibility) -> Result<()> {
    edge_db::tx(db, || {
        get(db, id, vis, true)?.ok_or(NotFound)?;
        for sql in [
            "DELETE FROM company_domains WHERE company_id = ?",
            "DELETE FROM record_tags WHERE entity = 'company' AND record_id = ?",
            "DELETE FROM contact_companies WHERE company_id = ?",
            "UPDATE contacts SET company_id = NULL WHERE company_id = ?",
            "UPDATE companies SET parent_id = NULL WHERE parent_id = ?",
            "DELETE FROM activities WHERE company_id = ? AND contact_id IS NULL AND deal_id IS NULL",
            "UPDATE activities SET company_id = NULL WHERE company_id = ?",
            "DELETE FROM companies WHERE id = ?",
            "UPDATE contacts_events SET before = NULL, after = NULL WHERE entity = 'company' AND entity_id = ?",
        ] {
            db.run(sql, &[id.into()])?;
        }
        search::remove(db, "company", id)?;
        event(db, w, "company", id, "purged", None, None)
    })
}

/// Live companies by id in the given order, those the caller may see (one query).
pub fn cards<D: Db + ?Sized>(db: &D, ids: &[String], vis: &Visibility) -> Result<Vec<Company>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let r = db.run(&format!("SELECT {COLUMNS} FROM companies WHERE deleted_at IS NULL AND id IN ({})", marks(ids.len())), &ids.iter().map(Val::from).collect::<Vec<_>>())?;
    let mut found: Vec<Company> = r.iter().map(from_row).filter(|c| vis.allows(c.owner_id.as_deref())).collect();
    found.sort_by_key(|c| ids.iter().position(|i| i == &c.id));
    Ok(found)
}

pub fn by_domain<D: Db + ?Sized>(db: &D, domain: &str) -> Result<Option<String>> {
    let r = db.run(
        "SELECT d.company_id FROM company_domains d JOIN companies c ON c.id = d.company_id WHERE d.domain = ? AND c.deleted_at IS NULL ORDER BY d.company_id LIMIT 1",
        &[domain.into()],
    )?;
    Ok(r.first().map(|row| row.text(0)))
}

/// Contacts of a company (primary or linked), newest first.
pub fn contact_ids<D: Db + ?Sized>(db: &D, id: &str, limit: i64) -> Result<Vec<String>> {
    let r = db.run(
        "SELECT cc.contact_id FROM contact_companies cc JOIN contacts c ON c.id = cc.contact_id WHERE cc.company_id = ? AND c.deleted_at IS NULL ORDER BY cc.contact_id DESC LIMIT ?",
        &[id.into(), Val::Int(limit)],
    )?;
    Ok(r.iter().map(|row| row.text(0)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};
    use serde_json::json;

    fn data(v: serde_json::Value) -> CompanyData {
        serde_json::from_value::<CompanyInput>(v).unwrap().validate(&[]).unwrap()
    }

    #[test]
    fn companies_link_contacts_and_rename_through() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let acme = create(&db, &w, data(json!({"name": "Acme", "domain": "acme.com"}))).unwrap();
        assert_eq!(by_domain(&db, "acme.com").unwrap(), Some(acme.id.clone()));
        let c = crate::store::contacts::create(&db, &w, serde_json::from_value::<crate::model::ContactInput>(json!({"first_name": "Wile", "company_id": acme.id})).unwrap().validate(&[]).unwrap(), 10).unwrap();
        assert_eq!(c.company.as_deref(), Some("Acme"));
        update(&db, &w, &acme.id, &json!({"name": "Acme Corp"}), Some(1), &Visibility::All, &[]).unwrap();
        let c = crate::store::contacts::get(&db, &c.id, &Visibility::All, false).unwrap().unwrap();
        assert_eq!(c.company.as_deref(), Some("Acme Corp"));
        assert_eq!(contact_ids(&db, &acme.id, 10).unwrap(), vec![c.id.clone()]);
        let e = update(&db, &w, &acme.id, &json!({"parent_id": acme.id}), None, &Visibility::All, &[]).unwrap_err();
        assert!(e.downcast_ref::<Invalid>().is_some(), "no cycles");
        let (found, _) = list(&db, &ListQuery::parse("q=acm").unwrap(), &Visibility::All, &[]).unwrap();
        assert_eq!(found.len(), 1);
        purge(&db, &w, &acme.id, &Visibility::All).unwrap();
        let c = crate::store::contacts::get(&db, &c.id, &Visibility::All, false).unwrap().unwrap();
        assert_eq!((c.company_id, c.company.as_deref()), (None, Some("Acme Corp")));
    }
}
