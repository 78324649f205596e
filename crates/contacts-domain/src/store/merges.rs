//! Duplicates and merges. Duplicates are contacts sharing an email or a phone
//! number, or the same name at the same company. A merge keeps one contact,
//! takes chosen field values from the others, unites their emails, phones,
//! tags and companies, moves their activities, and retires them (marked
//! `merged_into`); it is audited and can be undone while the kept contact has
//! not changed since.

use super::contacts::{self, from_row, COLUMNS};
use super::{bump_count, event, marks, Invalid, NotFound, Writer};
use crate::fields::FieldDef;
use crate::model::{Contact, ContactInput};
use anyhow::Result;
use edge_db::{Db, Val};
use edge_http::{FieldError, Visibility};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Fields whose value a merge may take from any of the merged contacts.
pub const CHOOSABLE: &[&str] = &["first_name", "last_name", "title", "company_id", "lifecycle_stage", "source", "owner_id", "address", "consent", "external_id"];

/// The merge cannot be undone now (conflicting change, or already undone).
#[derive(Debug)]
pub struct Conflict(pub String);
impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Conflict {}

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// `email`, `phone` or `name`.
    pub reason: &'static str,
    pub contact: Contact,
}

/// Likely duplicates of one contact.
pub fn duplicates_of<D: Db + ?Sized>(db: &D, id: &str, vis: &Visibility) -> Result<Vec<Candidate>> {
    let c = contacts::get(db, id, vis, false)?.ok_or(NotFound)?;
    let mut found: Vec<(&'static str, String)> = Vec::new();
    let by = |sql: &str, params: &[Val]| -> Result<Vec<String>> { Ok(db.run(sql, params)?.iter().map(|r| r.text(0)).collect()) };
    for other in by("SELECT DISTINCT b.contact_id FROM contact_emails a JOIN contact_emails b ON b.email = a.email WHERE a.contact_id = ? AND b.contact_id != ? LIMIT 50", &[id.into(), id.into()])? {
        found.push(("email", other));
    }
    for other in by("SELECT DISTINCT b.contact_id FROM contact_phones a JOIN contact_phones b ON b.digits = a.digits WHERE a.contact_id = ? AND b.contact_id != ? LIMIT 50", &[id.into(), id.into()])? {
        found.push(("phone", other));
    }
    if let (Some(co), Some(first), Some(last)) = (&c.company_id, &c.first_name, &c.last_name) {
        let sql = "SELECT id FROM contacts WHERE company_id = ? AND lower(last_name) = lower(?) AND lower(first_name) = lower(?) AND deleted_at IS NULL AND id != ? LIMIT 50";
        for other in by(sql, &[co.into(), last.into(), first.into(), id.into()])? {
            found.push(("name", other));
        }
    }
    let mut out: Vec<Candidate> = Vec::new();
    for (reason, other) in found {
        if out.iter().any(|x| x.contact.id == other) {
            continue;
        }
        if let Some(contact) = contacts::get(db, &other, vis, false)? {
            out.push(Candidate { reason, contact });
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub reason: &'static str,
    /// The shared email, phone digits, or `company|last|first`.
    pub key: String,
    pub contact_ids: Vec<String>,
}

/// Groups of likely duplicates across the tenant, by reason, keyset-paged by key.
pub fn groups<D: Db + ?Sized>(db: &D, reason: &str, after: &str, limit: i64, vis: &Visibility) -> Result<Vec<Group>> {
    let (sql, r): (&str, &'static str) = match reason {
        "email" => ("SELECT email, group_concat(contact_id) FROM contact_emails WHERE email > ? GROUP BY email HAVING count(*) > 1 ORDER BY email LIMIT ?", "email"),
        "phone" => ("SELECT digits, group_concat(contact_id) FROM contact_phones WHERE digits > ? GROUP BY digits HAVING count(*) > 1 ORDER BY digits LIMIT ?", "phone"),
        "name" => (
            "SELECT company_id || '|' || lower(last_name) || '|' || lower(first_name) AS k, group_concat(id) FROM contacts
             WHERE deleted_at IS NULL AND company_id IS NOT NULL AND last_name IS NOT NULL AND first_name IS NOT NULL
             GROUP BY company_id, lower(last_name), lower(first_name) HAVING count(*) > 1 AND k > ? ORDER BY k LIMIT ?",
            "name",
        ),
        _ => return Err(Invalid(vec![FieldError::new("reason", "must be email, phone or name")]).into()),
    };
    let rows = db.run(sql, &[after.into(), Val::Int(limit)])?;
    let mut out = Vec::new();
    for row in rows.iter() {
        let ids: Vec<String> = row.text(1).split(',').map(String::from).collect();
        // Only what the caller may see; a group needs two.
        let visible: Vec<String> = if *vis == Visibility::All {
            ids
        } else {
            contacts::get_many(db, &ids)?.into_iter().filter(|c| vis.allows(c.owner_id.as_deref())).map(|c| c.id).collect()
        };
        if visible.len() > 1 {
            out.push(Group { reason: r, key: row.text(0), contact_ids: visible });
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct MergeRecord {
    pub id: String,
    pub primary_id: String,
    pub merged_ids: Vec<String>,
    pub actor: String,
    pub at: String,
    pub undone_at: Option<String>,
}

fn record_from(r: edge_db::Row) -> MergeRecord {
    let merged: Vec<Contact> = r.json(2);
    MergeRecord { id: r.text(0), primary_id: r.text(1), merged_ids: merged.into_iter().map(|c| c.id).collect(), actor: r.text(3), at: r.text(4), undone_at: r.string(5) }
}

pub fn list<D: Db + ?Sized>(db: &D, primary_id: Option<&str>, limit: i64) -> Result<Vec<MergeRecord>> {
    let r = match primary_id {
        Some(p) => db.run("SELECT id, primary_id, merged_ids, actor, at, undone_at FROM contact_merges WHERE primary_id = ? ORDER BY id DESC LIMIT ?", &[p.into(), Val::Int(limit)])?,
        None => db.run("SELECT id, primary_id, merged_ids, actor, at, undone_at FROM contact_merges ORDER BY id DESC LIMIT ?", &[Val::Int(limit)])?,
    };
    Ok(r.iter().map(record_from).collect())
}

fn invalid(field: &str, msg: &str) -> anyhow::Error {
    Invalid(vec![FieldError::new(field, msg)]).into()
}

/// Merges `merged_ids` into `primary_id`. `fields` names, for a field, the
/// contact whose value to keep (`custom.<key>` too); other empty fields of the
/// kept contact are filled from the others in order.
pub fn merge<D: Db + ?Sized>(db: &D, w: &Writer, primary_id: &str, merged_ids: &[String], fields: &BTreeMap<String, String>, vis: &Visibility, defs: &[FieldDef]) -> Result<(MergeRecord, Contact)> {
    if merged_ids.is_empty() || merged_ids.len() > 20 {
        return Err(invalid("merged_ids", "name 1 to 20 contacts to merge into the primary"));
    }
    if merged_ids.iter().any(|m| m == primary_id) || merged_ids.iter().enumerate().any(|(i, m)| merged_ids[..i].contains(m)) {
        return Err(invalid("merged_ids", "must be distinct and not the primary"));
    }
    edge_db::tx(db, || {
        let primary = contacts::get(db, primary_id, vis, false)?.ok_or(NotFound)?;
        let mut others = Vec::new();
        for id in merged_ids {
            others.push(contacts::get(db, id, vis, false)?.ok_or(NotFound)?);
        }
        let all: Vec<&Contact> = std::iter::once(&primary).chain(others.iter()).collect();
        let mut input = primary.to_input();
        let inputs: Vec<Value> = others.iter().map(Contact::to_input).collect();
        // Chosen values.
        for (field, source) in fields {
            let Some(src) = all.iter().find(|c| &c.id == source) else { return Err(invalid(&format!("fields.{field}"), "must name the primary or a merged contact")) };
            if let Some(key) = field.strip_prefix("custom.") {
                match src.custom.get(key) {
                    Some(v) => input["custom"][key] = v.clone(),
                    None => {
                        if let Some(m) = input["custom"].as_object_mut() {
                            m.remove(key);
                        }
                    }
                }
            } else if CHOOSABLE.contains(&field.as_str()) {
                let s = src.to_input();
                input[field.as_str()] = s[field.as_str()].clone();
                if field == "company_id" {
                    input["company"] = s["company"].clone();
                }
            } else {
                return Err(invalid(&format!("fields.{field}"), "is not a field a merge chooses (emails, phones, tags and companies are united)"));
            }
        }
        // Gaps filled from the others, in order.
        for f in CHOOSABLE {
            if input[*f].is_null() && !fields.contains_key(*f) {
                if let Some(v) = inputs.iter().map(|i| &i[*f]).find(|v| !v.is_null()) {
                    input[*f] = v.clone();
                    if *f == "company_id" {
                        input["company"] = inputs.iter().find(|i| !i["company_id"].is_null()).map(|i| i["company"].clone()).unwrap_or(Value::Null);
                    }
                }
            }
        }
        for i in &inputs {
            for (k, v) in i["custom"].as_object().into_iter().flatten() {
                if input["custom"].get(k).is_none() && !fields.contains_key(&format!("custom.{k}")) {
                    input["custom"][k] = v.clone();
                }
            }
        }
        // Unions (the primary's primary email and phone stay primary).
        let mut emails = primary.emails.clone();
        let mut phones = primary.phones.clone();
        let mut tags = primary.tags.clone();
        let mut company_ids = primary.company_ids.clone();
        for o in &others {
            for e in &o.emails {
                if !emails.iter().any(|x| x.address == e.address) {
                    emails.push(crate::model::EmailEntry { primary: false, ..e.clone() });
                }
            }
            for p in &o.phones {
                if !phones.iter().any(|x| crate::model::phone_key(&x.number) == crate::model::phone_key(&p.number)) {
                    phones.push(crate::model::PhoneEntry { primary: false, ..p.clone() });
                }
            }
            for t in &o.tags {
                if !tags.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                    tags.push(t.clone());
                }
            }
            for c in &o.company_ids {
                if !company_ids.contains(c) {
                    company_ids.push(c.clone());
                }
            }
        }
        input["emails"] = serde_json::to_value(&emails)?;
        input["phones"] = serde_json::to_value(&phones)?;
        input["tags"] = serde_json::to_value(&tags)?;
        // The chosen primary company leads the links.
        if let Some(p) = input["company_id"].as_str().map(String::from) {
            company_ids.retain(|c| c != &p);
            company_ids.insert(0, p);
        }
        input["company_ids"] = serde_json::to_value(&company_ids)?;
        let data = serde_json::from_value::<ContactInput>(input).map_err(|e| invalid("fields", &e.to_string()))?.validate(defs).map_err(Invalid)?;

        // Retire the merged contacts (their external ids freed for the primary).
        let now = edge_db::now();
        for o in &others {
            db.run("UPDATE contacts SET deleted_at = ?, merged_into = ?, external_id = NULL, version = version + 1 WHERE id = ?", &[now.as_str().into(), primary_id.into(), o.id.as_str().into()])?;
            contacts::unsync(db, &o.id)?;
            bump_count(db, -1)?;
            event(db, w, "contact", &o.id, "merged-into", None, Some(&serde_json::json!({"merged_into": primary_id})))?;
        }
        // Their activities move to the primary.
        let ids: Vec<Val> = others.iter().map(|o| Val::from(o.id.as_str())).collect();
        let moved: Vec<(String, String)> = db
            .run(&format!("SELECT id, contact_id FROM activities WHERE contact_id IN ({})", marks(ids.len())), &ids)?
            .iter()
            .map(|r| (r.text(0), r.text(1)))
            .collect();
        let mut moving = vec![Val::from(primary_id)];
        moving.extend(ids.iter().cloned());
        db.run(&format!("UPDATE activities SET contact_id = ? WHERE contact_id IN ({})", marks(ids.len())), &moving)?;
        let mut after = contacts::update_in_tx(db, w, primary.clone(), data)?;
        if after.version == primary.version {
            // Nothing to change on the primary: still record the merge as a new version.
            db.run("UPDATE contacts SET version = version + 1, updated_at = ? WHERE id = ?", &[edge_db::now().into(), primary_id.into()])?;
            after = contacts::get(db, primary_id, &Visibility::All, false)?.ok_or(NotFound)?;
        }
        let last_activity = all.iter().filter_map(|c| c.last_activity_at.clone()).max();
        if last_activity > after.last_activity_at {
            db.run("UPDATE contacts SET last_activity_at = ? WHERE id = ?", &[last_activity.clone().into(), primary_id.into()])?;
            after.last_activity_at = last_activity;
        }
        let merge_id = w.new_id(db, "contact_merges", "mg")?;
        db.run(
            "INSERT INTO contact_merges (id, primary_id, merged_ids, primary_before, primary_after_version, moved_activities, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                merge_id.as_str().into(),
                primary_id.into(),
                serde_json::to_string(&others)?.into(),
                serde_json::to_string(&primary)?.into(),
                Val::Int(after.version),
                serde_json::to_string(&moved)?.into(),
                w.actor.into(),
                now.as_str().into(),
            ],
        )?;
        event(db, w, "contact", primary_id, "merged", Some(&serde_json::json!({"merged": merged_ids, "merge_id": merge_id})), None)?;
        let record = MergeRecord { id: merge_id, primary_id: primary_id.into(), merged_ids: merged_ids.to_vec(), actor: w.actor.into(), at: now, undone_at: None };
        Ok((record, after))
    })
}

/// Undoes a merge: the kept contact gets its data back, the merged contacts
/// return, activities go back where they were.
pub fn undo<D: Db + ?Sized>(db: &D, w: &Writer, merge_id: &str, vis: &Visibility, max_records: i64) -> Result<Contact> {
    edge_db::tx(db, || {
        let r = db.run("SELECT primary_id, merged_ids, primary_before, primary_after_version, moved_activities, undone_at FROM contact_merges WHERE id = ?", &[merge_id.into()])?;
        let row = r.first().ok_or(NotFound)?;
        if row.string(5).is_some() {
            return Err(Conflict("this merge was already undone".into()).into());
        }
        let primary_id = row.text(0);
        let merged: Vec<Contact> = row.json(1);
        let before: Contact = serde_json::from_str(row.str(2).unwrap_or("null"))?;
        let moved: Vec<(String, String)> = row.json(4);
        let current = contacts::get(db, &primary_id, vis, false)?.ok_or(NotFound)?;
        if Some(current.version) != row.i64(3) {
            return Err(Conflict("the kept contact changed after the merge; undoing would lose those changes".into()).into());
        }
        for m in &merged {
            let still = db.run("SELECT merged_into FROM contacts WHERE id = ? AND deleted_at IS NOT NULL", &[m.id.as_str().into()])?;
            if still.first().and_then(|r| r.string(0)).as_deref() != Some(primary_id.as_str()) {
                return Err(Conflict(format!("{} was purged or restored meanwhile", m.id)).into());
            }
        }
        if bump_count(db, merged.len() as i64)? > max_records {
            return Err(super::LimitReached(max_records).into());
        }
        let restore = |c: &Contact, version: i64| -> Result<()> {
            let mut c = c.clone();
            c.version = version;
            c.deleted_at = None;
            c.updated_at = edge_db::now();
            contacts::replace(db, &c)
        };
        restore(&before, current.version + 1)?;
        for m in &merged {
            let v = db.run("SELECT version FROM contacts WHERE id = ?", &[m.id.as_str().into()])?.scalar_i64().unwrap_or(m.version);
            restore(m, v + 1)?;
            event(db, w, "contact", &m.id, "merge-undone", None, None)?;
        }
        for (activity, from) in &moved {
            db.run("UPDATE activities SET contact_id = ? WHERE id = ? AND contact_id = ?", &[from.into(), activity.into(), primary_id.as_str().into()])?;
        }
        db.run("UPDATE contact_merges SET undone_at = ? WHERE id = ?", &[edge_db::now().into(), merge_id.into()])?;
        event(db, w, "contact", &primary_id, "merge-undone", Some(&serde_json::to_value(&current)?), Some(&serde_json::to_value(&before)?))?;
        let r = db.run(&format!("SELECT {COLUMNS} FROM contacts WHERE id = ?"), &[primary_id.as_str().into()])?;
        r.first().map(from_row).ok_or_else(|| NotFound.into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};
    use serde_json::json;

    fn create<D: Db>(db: &D, w: &Writer, v: Value) -> Contact {
        contacts::create(db, w, serde_json::from_value::<ContactInput>(v).unwrap().validate(&[]).unwrap(), 100).unwrap()
    }

    #[test]
    fn duplicates_merge_and_undo() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let a = create(&db, &w, json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "tags": ["vip"]}));
        let b = create(&db, &w, json!({"first_name": "Augusta", "last_name": "King", "emails": [{"address": "ADA@example.com"}, {"address": "countess@example.com"}], "title": "Countess", "external_id": "crm-7", "tags": ["math"]}));
        let c = create(&db, &w, json!({"first_name": "A.", "last_name": "L", "phone": "+44 20 7946 0958"}));
        let d = create(&db, &w, json!({"first_name": "Other", "phone": "+44 (20) 7946-0958"}));
        let dupes = duplicates_of(&db, &a.id, &Visibility::All).unwrap();
        assert_eq!(dupes.iter().map(|d| (d.reason, d.contact.id.clone())).collect::<Vec<_>>(), vec![("email", b.id.clone())]);
        assert_eq!(duplicates_of(&db, &c.id, &Visibility::All).unwrap()[0].contact.id, d.id);
        assert_eq!(groups(&db, "email", "", 10, &Visibility::All).unwrap().len(), 1);
        assert_eq!(groups(&db, "phone", "", 10, &Visibility::All).unwrap()[0].key, "442079460958");

        let note: crate::model::ActivityInput = serde_json::from_value(json!({"kind": "note", "body": "hi", "contact_id": b.id})).unwrap();
        let act = super::super::activities::create(&db, &w, note.validate().unwrap(), &Visibility::All).unwrap();
        let mut fields = BTreeMap::new();
        fields.insert("first_name".to_string(), b.id.clone());
        let (rec, kept) = merge(&db, &w, &a.id, std::slice::from_ref(&b.id), &fields, &Visibility::All, &[]).unwrap();
        assert_eq!(kept.first_name.as_deref(), Some("Augusta"), "chosen value");
        assert_eq!(kept.last_name.as_deref(), Some("Lovelace"), "the primary's value");
        assert_eq!(kept.title.as_deref(), Some("Countess"), "gap filled");
        assert_eq!(kept.external_id.as_deref(), Some("crm-7"), "external id moved");
        assert_eq!(kept.emails.len(), 2);
        assert_eq!(kept.email.as_deref(), Some("ada@example.com"));
        assert_eq!(kept.tags, vec!["vip", "math"]);
        assert!(contacts::get(&db, &b.id, &Visibility::All, false).unwrap().is_none());
        assert_eq!(super::super::activities::get(&db, &act.id, &Visibility::All).unwrap().unwrap().contact_id.as_deref(), Some(a.id.as_str()));
        assert_eq!(db.run("SELECT records FROM contacts_stats", &[]).unwrap().scalar_i64(), Some(3));

        let back = undo(&db, &w, &rec.id, &Visibility::All, 100).unwrap();
        assert_eq!((back.first_name.as_deref(), back.external_id.as_deref()), (Some("Ada"), None));
        let b2 = contacts::get(&db, &b.id, &Visibility::All, false).unwrap().unwrap();
        assert_eq!(b2.external_id.as_deref(), Some("crm-7"));
        assert_eq!(super::super::activities::get(&db, &act.id, &Visibility::All).unwrap().unwrap().contact_id.as_deref(), Some(b.id.as_str()));
        assert_eq!(duplicates_of(&db, &a.id, &Visibility::All).unwrap().len(), 1, "lookups are back");
        assert!(undo(&db, &w, &rec.id, &Visibility::All, 100).unwrap_err().downcast_ref::<Conflict>().is_some());

        // A merge whose kept contact changed since cannot be undone.
        let (rec, _) = merge(&db, &w, &c.id, std::slice::from_ref(&d.id), &BTreeMap::new(), &Visibility::All, &[]).unwrap();
        contacts::update(&db, &w, &c.id, &json!({"title": "Changed"}), None, &Visibility::All, &[]).unwrap();
        assert!(undo(&db, &w, &rec.id, &Visibility::All, 100).unwrap_err().downcast_ref::<Conflict>().is_some());
        let mut bad = BTreeMap::new();
        bad.insert("emails".to_string(), a.id.clone());
        assert!(merge(&db, &w, &a.id, std::slice::from_ref(&b.id), &bad, &Visibility::All, &[]).unwrap_err().downcast_ref::<Invalid>().is_some());
    }
}
