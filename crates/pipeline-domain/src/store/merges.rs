//! Deals follow contact merges. The contacts component publishes its change
//! log (`contacts_events`); when a contact is merged into another, its deals
//! (as primary or other contact) and their timeline entries move to the
//! surviving contact, and an undone merge moves them back.

use super::{event, Writer};
use anyhow::Result;
use edge_db::{Db, Val};

const SOURCE: &str = "contacts_events";

/// A deal's contacts: (primary, others).
type Contacts = (Option<String>, Vec<String>);

fn contacts_of<D: Db + ?Sized>(db: &D, deal: &str) -> Result<Option<Contacts>> {
    let r = db.run("SELECT contact_id, contact_ids FROM deals WHERE id = ?", &[deal.into()])?;
    Ok(r.first().map(|row| (row.string(0), row.json(1))))
}

fn set_contacts<D: Db + ?Sized>(db: &D, deal: &str, (primary, others): &Contacts) -> Result<()> {
    db.run("UPDATE deals SET contact_id = ?, contact_ids = ?, version = version + 1 WHERE id = ?", &[primary.clone().into(), edge_db::record::json_text(others), deal.into()])?;
    db.run("DELETE FROM deal_contacts WHERE deal_id = ?", &[deal.into()])?;
    for c in primary.iter().chain(others.iter()) {
        db.run("INSERT OR IGNORE INTO deal_contacts (contact_id, deal_id) VALUES (?, ?)", &[c.into(), deal.into()])?;
    }
    Ok(())
}

/// Moves `from`'s deals (and their timeline entries) to `to`, recording what
/// each looked like before so an undo can put it back exactly.
fn merge_contact<D: Db + ?Sized>(db: &D, w: &Writer, from: &str, to: &str) -> Result<usize> {
    let deals: Vec<String> = db.run("SELECT deal_id FROM deal_contacts WHERE contact_id = ?", &[from.into()])?.iter().map(|r| r.text(0)).collect();
    for id in &deals {
        let Some(before) = contacts_of(db, id)? else { continue };
        let primary = before.0.as_deref().map(|c| if c == from { to.to_string() } else { c.to_string() });
        let mut others: Vec<String> = Vec::new();
        for c in &before.1 {
            let c = if c == from { to.to_string() } else { c.clone() };
            if Some(&c) != primary.as_ref() && !others.contains(&c) {
                others.push(c);
            }
        }
        let after: Contacts = (primary, others);
        set_contacts(db, id, &after)?;
        let entries: Vec<i64> = db.run("SELECT seq FROM pipeline_timeline WHERE ref = ? AND contact_id = ?", &[id.as_str().into(), from.into()])?.iter().filter_map(|r| r.i64(0)).collect();
        db.run("UPDATE pipeline_timeline SET contact_id = ? WHERE ref = ? AND contact_id = ?", &[to.into(), id.as_str().into(), from.into()])?;
        db.run(
            "INSERT INTO pipeline_contact_moves (deal_id, from_contact, to_contact, before, after, timeline) VALUES (?, ?, ?, ?, ?, ?)",
            &[id.as_str().into(), from.into(), to.into(), edge_db::record::json_text(&before), edge_db::record::json_text(&after), edge_db::record::json_text(&entries)],
        )?;
        event(db, w, "deal", id, "contact-merged", Some(&serde_json::json!({"contact_id": before.0, "contact_ids": before.1})), Some(&serde_json::json!({"contact_id": after.0, "contact_ids": after.1})))?;
    }
    Ok(deals.len())
}

/// Puts back the deals a merge of `from` moved, unless they were edited since.
fn undo_contact<D: Db + ?Sized>(db: &D, w: &Writer, from: &str) -> Result<usize> {
    let moves = db.run("SELECT deal_id, before, after, timeline FROM pipeline_contact_moves WHERE from_contact = ? ORDER BY seq", &[from.into()])?;
    let mut n = 0;
    for m in moves.iter() {
        let (id, before, after, entries): (String, Contacts, Contacts, Vec<i64>) = (m.text(0), m.json(1), m.json(2), m.json(3));
        if contacts_of(db, &id)?.as_ref() == Some(&after) {
            set_contacts(db, &id, &before)?;
            event(db, w, "deal", &id, "contact-merge-undone", Some(&serde_json::json!({"contact_id": after.0, "contact_ids": after.1})), Some(&serde_json::json!({"contact_id": before.0, "contact_ids": before.1})))?;
            n += 1;
        }
        for seq in entries {
            db.run("UPDATE pipeline_timeline SET contact_id = ? WHERE seq = ?", &[from.into(), Val::Int(seq)])?;
        }
    }
    db.run("DELETE FROM pipeline_contact_moves WHERE from_contact = ?", &[from.into()])?;
    Ok(n)
}

/// Reads the contacts change log from where it stopped and applies merges
/// and their undos; returns how many deals moved. Costs one indexed read
/// when nothing happened.
pub fn follow<D: Db + ?Sized>(db: &D, w: &Writer) -> Result<usize> {
    let Ok(latest) = db.run(&format!("SELECT max(seq) FROM {SOURCE}"), &[]) else {
        return Ok(0); // no contacts component in this app
    };
    let latest = latest.scalar_i64().unwrap_or(0);
    let seen = db.run("SELECT seq FROM pipeline_follow WHERE source = ?", &[SOURCE.into()])?.scalar_i64().unwrap_or(0);
    if latest <= seen {
        return Ok(0);
    }
    edge_db::tx(db, || {
        // Another request may have followed meanwhile.
        let seen = db.run("SELECT seq FROM pipeline_follow WHERE source = ?", &[SOURCE.into()])?.scalar_i64().unwrap_or(0);
        let events = db.run(
            &format!("SELECT seq, entity_id, action, after FROM {SOURCE} WHERE seq > ? AND seq <= ? AND entity = 'contact' AND action IN ('merged-into', 'merge-undone') ORDER BY seq"),
            &[Val::Int(seen), Val::Int(latest)],
        )?;
        let mut moved = 0;
        for e in events.iter() {
            let contact = e.text(1);
            match e.str(2) {
                Some("merged-into") => {
                    let after: serde_json::Value = e.json(3);
                    if let Some(to) = after["merged_into"].as_str() {
                        moved += merge_contact(db, w, &contact, to)?;
                    }
                }
                _ => moved += undo_contact(db, w, &contact)?,
            }
        }
        db.run("INSERT OR REPLACE INTO pipeline_follow (source, seq) VALUES (?, ?)", &[SOURCE.into(), Val::Int(latest)])?;
        Ok(moved)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};
    use edge_http::Visibility;
    use serde_json::json;

    const A: &str = "c_01HZZZZZZZZZZZZZZZZZZZZZZA";
    const B: &str = "c_01HZZZZZZZZZZZZZZZZZZZZZZB";

    fn contacts_log(db: &edge_db::native::Connection, rows: &[(&str, &str, serde_json::Value)]) {
        let _ = db.run("CREATE TABLE contacts_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, actor TEXT, request_id TEXT, entity TEXT, entity_id TEXT, action TEXT, before TEXT, after TEXT)", &[]);
        for (id, action, after) in rows {
            db.run("INSERT INTO contacts_events (at, actor, entity, entity_id, action, after) VALUES ('t', 'user:x', 'contact', ?, ?, ?)", &[(*id).into(), (*action).into(), after.to_string().into()]).unwrap();
        }
    }

    #[test]
    fn deals_follow_a_merge_and_its_undo() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        assert_eq!(follow(&db, &w).unwrap(), 0, "no contacts log: nothing to do");
        let d1 = crate::store::deals::tests::deal(&db, &w, json!({"title": "A's", "contact_id": A}));
        let d2 = crate::store::deals::tests::deal(&db, &w, json!({"title": "Both", "contact_id": B, "contact_ids": [A]}));
        contacts_log(&db, &[(A, "updated", json!({})), (A, "merged-into", json!({"merged_into": B}))]);
        assert_eq!(follow(&db, &w).unwrap(), 2);
        let get = |id: &str| crate::store::deals::get(&db, id, &Visibility::All, false, chrono::Utc::now()).unwrap().unwrap();
        assert_eq!(get(&d1.id).contact_id.as_deref(), Some(B));
        let both = get(&d2.id);
        assert_eq!((both.contact_id.as_deref(), both.contact_ids.len()), (Some(B), 0), "no duplicate of the survivor");
        let q = crate::store::deals::DealQuery { filters: crate::store::deals::Filters { contact_id: Some(B.into()), ..Default::default() }, ..Default::default() };
        assert_eq!(crate::store::deals::list(&db, &q, &Visibility::All, chrono::Utc::now()).unwrap().0.len(), 2);
        assert_eq!(follow(&db, &w).unwrap(), 0, "each event once");
        contacts_log(&db, &[(A, "merge-undone", json!(null)), (B, "merge-undone", json!(null))]);
        follow(&db, &w).unwrap();
        assert_eq!(get(&d1.id).contact_id.as_deref(), Some(A), "the undo moves them back");
        let both = get(&d2.id);
        assert_eq!((both.contact_id.as_deref(), both.contact_ids.as_slice()), (Some(B), &[A.to_string()][..]), "each deal exactly as before");
        let kinds = db.run("SELECT contact_id FROM pipeline_timeline WHERE ref = ? ORDER BY seq", &[d2.id.as_str().into()]).unwrap();
        assert_eq!(kinds.iter().map(|r| r.text(0)).collect::<Vec<_>>(), vec![B, A], "timeline entries back with their contacts");
    }
}
