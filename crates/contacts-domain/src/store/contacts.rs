//! Contacts: create, read, update (optimistic, by version), soft delete,
//! restore, purge; every write keeps the lookups, tags, search index, plan
//! count and change log in step, in one transaction.

use super::{bump_count, compact, event, insert_multi, json_items, json_or, json_text, list_page, marks, search, tags, BadReference, Invalid, LimitReached, NotFound, Page, VersionMismatch, Writer};
use crate::fields::{Entity, FieldDef};
use crate::list::ListQuery;
use crate::model::{merge_patch, phone_key, Contact, ContactData, ContactInput};
use anyhow::Result;
use edge_db::{Db, Row, Val};
use edge_http::Visibility;

/// A contact's columns, in `from_row`'s order.
macro_rules! columns {
    () => {
        "id, first_name, last_name, email, phone, emails, phones, title, company_id, company, address, \
    lifecycle_stage, source, owner_id, tags, custom, consent, external_id, created_at, updated_at, last_activity_at, deleted_at, version"
    };
}
pub const COLUMNS: &str = columns!();

pub fn from_row(r: Row) -> Contact {
    Contact {
        id: r.text(0),
        first_name: r.string(1),
        last_name: r.string(2),
        email: r.string(3),
        phone: r.string(4),
        emails: r.json(5),
        phones: r.json(6),
        title: r.string(7),
        company_id: r.string(8),
        company: r.string(9),
        // The primary only; `get` adds the other links.
        company_ids: r.string(8).into_iter().collect(),
        address: r.str(10).and_then(|s| serde_json::from_str(s).ok()),
        lifecycle_stage: r.str(11).and_then(crate::model::Lifecycle::parse).unwrap_or_default(),
        source: r.string(12),
        owner_id: r.string(13),
        tags: r.json(14),
        custom: r.json(15),
        consent: r.json(16),
        external_id: r.string(17),
        created_at: r.text(18),
        updated_at: r.text(19),
        last_activity_at: r.string(20),
        deleted_at: r.string(21),
        version: r.i64(22).unwrap_or(1),
    }
}

fn company_links<D: Db + ?Sized>(db: &D, c: &mut Contact) -> Result<()> {
    let r = db.run("SELECT company_id FROM contact_companies WHERE contact_id = ? ORDER BY company_id", &[c.id.as_str().into()])?;
    let mut ids: Vec<String> = c.company_id.iter().cloned().collect();
    ids.extend(r.iter().map(|row| row.text(0)).filter(|id| Some(id) != c.company_id.as_ref()));
    ids.dedup();
    c.company_ids = ids;
    Ok(())
}

/// A contact by id, if the caller may see it (deleted ones only when asked).
pub fn get<D: Db + ?Sized>(db: &D, id: &str, vis: &Visibility, deleted: bool) -> Result<Option<Contact>> {
    let r = db.run(&format!("SELECT {COLUMNS} FROM contacts WHERE id = ?"), &[id.into()])?;
    let Some(mut c) = r.first().map(from_row) else { return Ok(None) };
    if !vis.allows(c.owner_id.as_deref()) || (c.deleted_at.is_some() && !deleted) {
        return Ok(None);
    }
    company_links(db, &mut c)?;
    Ok(Some(c))
}

pub fn list<D: Db + ?Sized>(db: &D, q: &ListQuery, vis: &Visibility, defs: &[FieldDef]) -> Result<(Vec<Contact>, Option<String>)> {
    let Page { rows, next_cursor } = list_page(db, Entity::Contact, COLUMNS, q, vis, defs)?;
    Ok((rows.iter().map(from_row).collect(), next_cursor))
}

/// A contact row as SQLite's JSON: the same document `from_row` serializes to
/// (a test holds them equal), so a list page needs no decode and re-encode.
pub fn json_row() -> String {
    format!(
        "json_object('id', id, 'first_name', first_name, 'last_name', last_name, 'email', email, 'phone', phone, \
         'emails', {}, 'phones', {}, 'title', title, 'company_id', company_id, 'company', company, \
         'company_ids', CASE WHEN company_id IS NULL THEN json('[]') ELSE json_array(company_id) END, \
         'address', CASE WHEN json_valid(address) THEN json(address) END, \
         'lifecycle_stage', COALESCE(lifecycle_stage, 'lead'), 'source', source, 'owner_id', owner_id, \
         'tags', {}, 'custom', {}, 'consent', json_object({}), 'external_id', external_id, \
         'created_at', COALESCE(created_at, ''), 'updated_at', COALESCE(updated_at, ''), 'last_activity_at', last_activity_at, \
         'deleted_at', deleted_at, 'version', COALESCE(version, 1))",
        json_or("emails", "[]"),
        json_or("phones", "[]"),
        json_or("tags", "[]"),
        json_or("custom", "{}"),
        ["email", "sms", "phone"]
            .map(|c| format!("'{c}', CASE WHEN json_valid(consent) THEN COALESCE(json_extract(consent, '$.{c}'), 'unknown') ELSE 'unknown' END"))
            .join(", "),
    )
}

/// `list`, with each contact already encoded as JSON (the list route's page):
/// the document written with the row, or built in SQL where an update left none.
pub fn list_json<D: Db + ?Sized>(db: &D, q: &ListQuery, vis: &Visibility, defs: &[FieldDef]) -> Result<(Vec<String>, Option<String>)> {
    Ok(json_items(list_page(db, Entity::Contact, &format!("id, COALESCE(api_json, {})", json_row()), q, vis, defs)?))
}

/// The `api_json` a write stores: the contact as `from_row` reads it back
/// (the primary company only in `company_ids`).
fn api_json(c: &Contact) -> Val {
    let listed = c.company_id.as_slice();
    if c.company_ids.as_slice() == listed {
        return json_text(c);
    }
    json_text(&Contact { company_ids: listed.to_vec(), ..c.clone() })
}

/// What the search index holds for a contact.
fn search_text(c: &Contact) -> (String, String) {
    let title = [&c.first_name, &c.last_name].iter().filter_map(|f| f.as_deref()).collect::<Vec<_>>().join(" ");
    let mut body: Vec<String> = c.emails.iter().map(|e| e.address.clone()).collect();
    for p in &c.phones {
        body.push(p.number.clone());
        body.push(phone_key(&p.number));
    }
    body.extend([&c.company, &c.title, &c.external_id].iter().filter_map(|f| f.as_ref().map(|s| s.to_string())));
    body.extend(c.tags.iter().cloned());
    (title, body.join(" "))
}

/// Resolves the primary company's name and checks every linked company exists.
fn resolve_companies<D: Db + ?Sized>(db: &D, data: &mut ContactData) -> Result<()> {
    if data.company_ids.is_empty() {
        return Ok(());
    }
    let r = db.run(
        &format!("SELECT id, name FROM companies WHERE deleted_at IS NULL AND id IN ({})", marks(data.company_ids.len())),
        &data.company_ids.iter().map(Val::from).collect::<Vec<_>>(),
    )?;
    if r.len() != data.company_ids.len() {
        return Err(BadReference("company_id").into());
    }
    if let Some(primary) = &data.company_id {
        data.company = r.iter().find(|row| row.str(0) == Some(primary.as_str())).and_then(|row| row.string(1));
    }
    Ok(())
}

/// Writes the lookup tables, tags and search entry of a contact.
fn sync<D: Db + ?Sized>(db: &D, c: &Contact) -> Result<()> {
    let id: Val = c.id.as_str().into();
    db.run("DELETE FROM contact_emails WHERE contact_id = ?", std::slice::from_ref(&id))?;
    for e in &c.emails {
        db.run("INSERT OR IGNORE INTO contact_emails (email, contact_id) VALUES (?, ?)", &[e.address.as_str().into(), id.clone()])?;
    }
    db.run("DELETE FROM contact_phones WHERE contact_id = ?", std::slice::from_ref(&id))?;
    for p in &c.phones {
        db.run("INSERT OR IGNORE INTO contact_phones (digits, contact_id) VALUES (?, ?)", &[phone_key(&p.number).into(), id.clone()])?;
    }
    db.run("DELETE FROM contact_companies WHERE contact_id = ?", std::slice::from_ref(&id))?;
    for co in &c.company_ids {
        db.run("INSERT OR IGNORE INTO contact_companies (contact_id, company_id) VALUES (?, ?)", &[id.clone(), co.as_str().into()])?;
    }
    tags::set(db, "contact", &c.id, &c.tags)?;
    let (title, body) = search_text(c);
    search::index(db, "contact", &c.id, c.owner_id.as_deref(), &title, &body)
}

/// Drops a contact's lookups, tags and search entry (purge, merge).
pub(crate) fn unsync<D: Db + ?Sized>(db: &D, id: &str) -> Result<()> {
    for sql in [
        "DELETE FROM contact_emails WHERE contact_id = ?",
        "DELETE FROM contact_phones WHERE contact_id = ?",
        "DELETE FROM contact_companies WHERE contact_id = ?",
        "DELETE FROM record_tags WHERE entity = 'contact' AND record_id = ?",
    ] {
        db.run(sql, &[id.into()])?;
    }
    search::remove(db, "contact", id)
}

/// The columns a write stores: `COLUMNS`, then `api_json`.
const WRITE_COLUMNS: &str = concat!(columns!(), ", api_json");

/// The row's values in `WRITE_COLUMNS` order, moved out of the contact
/// (an import writes a million of these: no copies).
fn into_params(c: Contact) -> Vec<Val> {
    let api = api_json(&c);
    let address = c.address.as_ref().map(|a| serde_json::to_string(a).unwrap_or_default());
    let (emails, phones, tags, custom, consent) = (json_text(&c.emails), json_text(&c.phones), json_text(&c.tags), json_text(&c.custom), json_text(&c.consent));
    vec![
        c.id.into(),
        c.first_name.into(),
        c.last_name.into(),
        c.email.into(),
        c.phone.into(),
        emails,
        phones,
        c.title.into(),
        c.company_id.into(),
        c.company.into(),
        address.into(),
        c.lifecycle_stage.as_str().into(),
        c.source.into(),
        c.owner_id.into(),
        tags,
        custom,
        consent,
        c.external_id.into(),
        c.created_at.into(),
        c.updated_at.into(),
        c.last_activity_at.into(),
        c.deleted_at.into(),
        Val::Int(c.version),
        api,
    ]
}

fn write_row<D: Db + ?Sized>(db: &D, c: &Contact) -> Result<()> {
    db.run(&format!("INSERT OR REPLACE INTO contacts ({WRITE_COLUMNS}) VALUES ({})", marks(24)), &into_params(c.clone()))?;
    Ok(())
}

fn build(id: String, data: ContactData, now: &str, version: i64, created_at: Option<String>, last_activity_at: Option<String>) -> Contact {
    Contact {
        id,
        first_name: data.first_name.clone(),
        last_name: data.last_name.clone(),
        email: data.email().map(String::from),
        phone: data.phone().map(String::from),
        emails: data.emails,
        phones: data.phones,
        title: data.title,
        company_id: data.company_id,
        company: data.company,
        company_ids: data.company_ids,
        address: data.address,
        lifecycle_stage: data.lifecycle_stage,
        source: data.source,
        owner_id: data.owner_id,
        tags: data.tags,
        custom: data.custom,
        consent: data.consent,
        external_id: data.external_id,
        created_at: created_at.unwrap_or_else(|| now.to_string()),
        updated_at: now.to_string(),
        last_activity_at,
        deleted_at: None,
        version,
    }
}

/// `external_id` is unique per record type.
pub(crate) fn check_external<D: Db + ?Sized>(db: &D, table: &str, external: Option<&str>, own_id: &str) -> Result<()> {
    if let Some(x) = external {
        let r = db.run(&format!("SELECT id FROM {table} WHERE external_id = ? AND id != ?"), &[x.into(), own_id.into()])?;
        if !r.is_empty() {
            return Err(Invalid(vec![edge_http::FieldError::new("external_id", "already names another record")]).into());
        }
    }
    Ok(())
}

/// The `after` of a contact's `created` event: the record without what the
/// event row already says (id, times, version) or repeats (the primary email
/// and phone), and without empty fields. Written straight from the contact, not
/// through a `Value` tree: an import writes one per row (that tree was an
/// eighth of a million-row import's time).
#[derive(serde::Serialize)]
struct CreatedView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a crate::model::Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    company_ids: &'a [String],
    consent: &'a crate::model::Consent,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    emails: &'a [crate::model::EmailEntry],
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_activity_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    lifecycle_stage: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    phones: &'a [crate::model::PhoneEntry],
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
}

impl<'a> CreatedView<'a> {
    fn of(c: &'a Contact) -> CreatedView<'a> {
        CreatedView {
            // An address with no part set is as empty as none.
            address: c.address.as_ref().filter(|a| **a != crate::model::Address::default()),
            company: c.company.as_deref(),
            company_id: c.company_id.as_deref(),
            company_ids: if c.company_ids.len() > 1 { &c.company_ids } else { &[] },
            consent: &c.consent,
            custom: (!c.custom.is_empty()).then(|| compact(&serde_json::Value::Object(c.custom.clone()))),
            deleted_at: c.deleted_at.as_deref(),
            emails: &c.emails,
            external_id: c.external_id.as_deref(),
            first_name: c.first_name.as_deref(),
            last_activity_at: c.last_activity_at.as_deref(),
            last_name: c.last_name.as_deref(),
            lifecycle_stage: c.lifecycle_stage.as_str(),
            owner_id: c.owner_id.as_deref(),
            phones: &c.phones,
            source: c.source.as_deref(),
            tags: &c.tags,
            title: c.title.as_deref(),
        }
    }
}

/// Inserts inside the caller's transaction (imports batch many of these).
pub fn insert_in_tx<D: Db + ?Sized>(db: &D, w: &Writer, mut data: ContactData, max_records: i64) -> Result<Contact> {
    if bump_count(db, 1)? > max_records {
        return Err(LimitReached(max_records).into());
    }
    resolve_companies(db, &mut data)?;
    if data.owner_id.is_none() {
        data.owner_id = w.user_id();
    }
    let id = w.new_id(db, "contacts", crate::ID_PREFIX)?;
    check_external(db, "contacts", data.external_id.as_deref(), &id)?;
    let c = build(id, data, &edge_db::now(), 1, None, None);
    write_row(db, &c)?;
    sync(db, &c)?;
    event(db, w, "contact", &c.id, "created", None, Some(&serde_json::to_value(CreatedView::of(&c))?))?;
    Ok(c)
}

/// Rows built and then written per round: the host writes a round's inserts
/// behind (a worker thread) while the next round is built.
const ROUND: usize = 500;

/// Inserts many new contacts in the caller's transaction with multi-row
/// statements: the same rows, lookups, search entries and events as
/// `insert_in_tx`, at bulk speed (imports); returns how many.
pub fn insert_many_in_tx<D: Db + ?Sized>(db: &D, w: &Writer, rows: Vec<ContactData>, max_records: i64) -> Result<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    if bump_count(db, rows.len() as i64)? > max_records {
        return Err(LimitReached(max_records).into());
    }
    // Linked companies: one lookup for the batch.
    let mut company_ids: Vec<String> = rows.iter().flat_map(|r| r.company_ids.iter().cloned()).collect();
    company_ids.sort();
    company_ids.dedup();
    let mut names = std::collections::HashMap::new();
    for chunk in company_ids.chunks(500) {
        let r = db.run(&format!("SELECT id, name FROM companies WHERE deleted_at IS NULL AND id IN ({})", marks(chunk.len())), &chunk.iter().map(Val::from).collect::<Vec<_>>())?;
        for row in r.iter() {
            names.insert(row.text(0), row.text(1));
        }
    }
    if names.len() != company_ids.len() {
        return Err(BadReference("company_id").into());
    }
    let now = edge_db::now();
    let mut last = db.run("SELECT max(id) FROM contacts", &[])?.first().and_then(|r| r.string(0));
    let mut doc = db.run("SELECT COALESCE(max(doc), 0) FROM search_docs", &[])?.scalar_i64().unwrap_or(0);
    let owner = w.user_id();
    let tables = search::tables(db, "contact")?;
    let created = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let (mut main, mut emails, mut phones, mut links, mut tag_rows, mut docs, mut fts, mut events) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for mut data in rows.by_ref().take(ROUND) {
            if data.owner_id.is_none() {
                data.owner_id = owner.clone();
            }
            if let Some(p) = &data.company_id {
                data.company = names.get(p).cloned();
            }
            let candidate = edge_http::ids::new_id(crate::ID_PREFIX, chrono::Utc::now().timestamp_millis() as u64, (w.random)());
            let id = edge_http::ids::monotonic(candidate, last.as_deref());
            last = Some(id.clone());
            let c = build(id, data, &now, 1, None, None);
            emails.extend(c.emails.iter().map(|e| vec![Val::from(e.address.as_str()), Val::from(c.id.as_str())]));
            phones.extend(c.phones.iter().map(|p| vec![Val::from(phone_key(&p.number)), Val::from(c.id.as_str())]));
            links.extend(c.company_ids.iter().map(|co| vec![Val::from(c.id.as_str()), Val::from(co.as_str())]));
            tag_rows.extend(c.tags.iter().map(|t| vec![Val::from("contact"), Val::from(t.as_str()), Val::from(c.id.as_str())]));
            doc += 1;
            docs.push(vec![Val::Int(doc), Val::from("contact"), Val::from(c.id.as_str())]);
            let (title, body) = search_text(&c);
            fts.push(vec![Val::Int(doc), Val::from(search::owner_token(c.owner_id.as_deref())), Val::from(title), Val::from(body)]);
            events.push(vec![
                Val::from(now.as_str()),
                Val::from(w.actor),
                Val::from(w.request_id.map(String::from)),
                Val::from("contact"),
                Val::from(c.id.as_str()),
                Val::from("created"),
                Val::Null,
                Val::from(serde_json::to_string(&CreatedView::of(&c))?),
            ]);
            main.push(into_params(c));
        }
        insert_multi(db, &format!("INSERT INTO contacts ({WRITE_COLUMNS})"), 24, main)?;
        insert_multi(db, "INSERT OR IGNORE INTO contact_emails (email, contact_id)", 2, emails)?;
        insert_multi(db, "INSERT OR IGNORE INTO contact_phones (digits, contact_id)", 2, phones)?;
        insert_multi(db, "INSERT OR IGNORE INTO contact_companies (contact_id, company_id)", 2, links)?;
        insert_multi(db, "INSERT OR IGNORE INTO record_tags (entity, tag, record_id)", 3, tag_rows)?;
        insert_multi(db, "INSERT INTO search_docs (doc, kind, ref_id)", 3, docs)?;
        for (i, t) in tables.iter().enumerate() {
            let rows = if i + 1 == tables.len() { std::mem::take(&mut fts) } else { fts.clone() };
            insert_multi(db, &format!("INSERT INTO {t} (rowid, owner_tok, head, detail)"), 4, rows)?;
        }
        insert_multi(db, "INSERT INTO contacts_events (at, actor, request_id, entity, entity_id, action, before, after)", 8, events)?;
    }
    Ok(created)
}

/// Live contacts by id with all their company links, two queries per 500
/// (imports compare many rows at once).
pub fn get_many<D: Db + ?Sized>(db: &D, ids: &[String]) -> Result<Vec<Contact>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let params: Vec<Val> = chunk.iter().map(Val::from).collect();
        let r = db.run(&format!("SELECT {COLUMNS} FROM contacts WHERE deleted_at IS NULL AND id IN ({})", marks(chunk.len())), &params)?;
        let mut found: Vec<Contact> = r.iter().map(from_row).collect();
        let links = db.run(&format!("SELECT contact_id, company_id FROM contact_companies WHERE contact_id IN ({}) ORDER BY company_id", marks(chunk.len())), &params)?;
        for row in links.iter() {
            if let Some(c) = found.iter_mut().find(|c| row.str(0) == Some(c.id.as_str())) {
                let co = row.text(1);
                if !c.company_ids.contains(&co) {
                    c.company_ids.push(co);
                }
            }
        }
        out.append(&mut found);
    }
    Ok(out)
}

/// Live contacts by id in the given order, those the caller may see (result cards).
pub fn cards<D: Db + ?Sized>(db: &D, ids: &[String], vis: &Visibility) -> Result<Vec<Contact>> {
    let mut found: Vec<Contact> = get_many(db, ids)?.into_iter().filter(|c| vis.allows(c.owner_id.as_deref())).collect();
    found.sort_by_key(|c| ids.iter().position(|i| i == &c.id));
    Ok(found)
}

/// For each email, the oldest live contact that has it.
pub fn ids_by_email<D: Db + ?Sized>(db: &D, emails: &[String]) -> Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in emails.chunks(500) {
        let r = db.run(
            &format!("SELECT e.email, min(e.contact_id) FROM contact_emails e JOIN contacts c ON c.id = e.contact_id WHERE c.deleted_at IS NULL AND e.email IN ({}) GROUP BY e.email", marks(chunk.len())),
            &chunk.iter().map(Val::from).collect::<Vec<_>>(),
        )?;
        out.extend(r.iter().map(|row| (row.text(0), row.text(1))));
    }
    Ok(out)
}

/// For each external id, the live contact that has it.
pub fn ids_by_external<D: Db + ?Sized>(db: &D, keys: &[String]) -> Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in keys.chunks(500) {
        let r = db.run(&format!("SELECT external_id, id FROM contacts WHERE deleted_at IS NULL AND external_id IN ({})", marks(chunk.len())), &chunk.iter().map(Val::from).collect::<Vec<_>>())?;
        out.extend(r.iter().map(|row| (row.text(0), row.text(1))));
    }
    Ok(out)
}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, data: ContactData, max_records: i64) -> Result<Contact> {
    edge_db::tx(db, || insert_in_tx(db, w, data, max_records))
}

/// Applies a JSON merge patch; `if_match` is the version the client read.
pub fn update<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, patch: &serde_json::Value, if_match: Option<i64>, vis: &Visibility, defs: &[FieldDef]) -> Result<Contact> {
    edge_db::tx(db, || {
        let before = get(db, id, vis, false)?.ok_or(NotFound)?;
        if let Some(v) = if_match {
            if v != before.version {
                return Err(VersionMismatch(before.version).into());
            }
        }
        let mut input = before.to_input();
        merge_patch(&mut input, patch);
        let input: ContactInput = serde_json::from_value(input).map_err(|e| Invalid(vec![edge_http::FieldError::new("body", &e.to_string())]))?;
        let data = input.validate(defs).map_err(Invalid)?;
        update_in_tx(db, w, before, data)
    })
}

/// Replaces a contact's data inside the caller's transaction; unchanged data
/// writes nothing (so re-running an import changes nothing).
pub fn update_in_tx<D: Db + ?Sized>(db: &D, w: &Writer, before: Contact, mut data: ContactData) -> Result<Contact> {
    resolve_companies(db, &mut data)?;
    check_external(db, "contacts", data.external_id.as_deref(), &before.id)?;
    let after = build(before.id.clone(), data, &edge_db::now(), before.version + 1, Some(before.created_at.clone()), before.last_activity_at.clone());
    let unchanged = Contact { updated_at: before.updated_at.clone(), version: before.version, ..after.clone() } == before;
    if unchanged {
        return Ok(before);
    }
    write_row(db, &after)?;
    sync(db, &after)?;
    event(db, w, "contact", &after.id, "updated", Some(&serde_json::to_value(&before)?), Some(&serde_json::to_value(&after)?))?;
    Ok(after)
}

/// Writes a whole contact back (undoing a merge), with its lookups and search entry.
pub fn replace<D: Db + ?Sized>(db: &D, c: &Contact) -> Result<()> {
    write_row(db, c)?;
    sync(db, c)
}

/// Moves a contact to the trash (restorable for 30 days).
pub fn delete<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, vis: &Visibility) -> Result<()> {
    edge_db::tx(db, || {
        let c = get(db, id, vis, false)?.ok_or(NotFound)?;
        db.run("UPDATE contacts SET deleted_at = ?, version = version + 1 WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        search::remove(db, "contact", id)?;
        bump_count(db, -1)?;
        event(db, w, "contact", id, "deleted", Some(&serde_json::json!({"deleted_at": null, "name": c.display_name()})), Some(&serde_json::json!({"deleted_at": "now"})))
    })
}

pub fn restore<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, vis: &Visibility, max_records: i64) -> Result<Contact> {
    edge_db::tx(db, || {
        let c = get(db, id, vis, true)?.filter(|c| c.deleted_at.as_deref().is_some_and(|d| d >= super::restore_horizon().as_str())).ok_or(NotFound)?;
        let merged = db.run("SELECT merged_into FROM contacts WHERE id = ?", &[id.into()])?.first().and_then(|r| r.string(0));
        if merged.is_some() {
            return Err(NotFound.into());
        }
        if bump_count(db, 1)? > max_records {
            return Err(LimitReached(max_records).into());
        }
        db.run("UPDATE contacts SET deleted_at = NULL, version = version + 1, updated_at = ? WHERE id = ?", &[edge_db::now().into(), id.into()])?;
        let c = get(db, id, vis, false)?.unwrap_or(c);
        sync(db, &c)?;
        event(db, w, "contact", id, "restored", None, None)?;
        Ok(c)
    })
}

/// Removes a contact for good: the row, its lookups and its activities; its
/// change events keep only that it existed (personal data is erased).
pub fn purge<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, vis: &Visibility) -> Result<()> {
    edge_db::tx(db, || purge_in_tx(db, w, id, vis))
}

fn purge_in_tx<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, vis: &Visibility) -> Result<()> {
    let c = get(db, id, vis, true)?.ok_or(NotFound)?;
    if c.deleted_at.is_none() {
        bump_count(db, -1)?;
    }
    unsync(db, id)?;
    db.run("DELETE FROM activities WHERE contact_id = ? AND company_id IS NULL AND deal_id IS NULL", &[id.into()])?;
    db.run("UPDATE activities SET contact_id = NULL WHERE contact_id = ?", &[id.into()])?;
    db.run("DELETE FROM contacts WHERE id = ?", &[id.into()])?;
    db.run("UPDATE contacts_events SET before = NULL, after = NULL WHERE entity = 'contact' AND entity_id = ?", &[id.into()])?;
    event(db, w, "contact", id, "purged", None, None)
}

/// Purges contacts deleted longer ago than the restore window; returns how many.
pub fn purge_expired<D: Db + ?Sized>(db: &D, w: &Writer, limit: i64) -> Result<usize> {
    let r = db.run("SELECT id FROM contacts WHERE deleted_at IS NOT NULL AND deleted_at < ? LIMIT ?", &[super::restore_horizon().into(), Val::Int(limit)])?;
    let ids: Vec<String> = r.iter().map(|row| row.text(0)).collect();
    if ids.is_empty() {
        return Ok(0);
    }
    edge_db::tx(db, || {
        for id in &ids {
            purge_in_tx(db, w, id, &Visibility::All)?;
        }
        Ok(ids.len())
    })
}

/// The contact a merged one became, if it was merged.
pub fn merged_into<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<String>> {
    Ok(db.run("SELECT merged_into FROM contacts WHERE id = ?", &[id.into()])?.first().and_then(|r| r.string(0)))
}

/// Contacts with any of these emails (lower-case), live ones only.
pub fn by_emails<D: Db + ?Sized>(db: &D, emails: &[String]) -> Result<Vec<String>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let r = db.run(
        &format!("SELECT DISTINCT e.contact_id FROM contact_emails e JOIN contacts c ON c.id = e.contact_id WHERE c.deleted_at IS NULL AND e.email IN ({})", marks(emails.len())),
        &emails.iter().map(Val::from).collect::<Vec<_>>(),
    )?;
    Ok(r.iter().map(|row| row.text(0)).collect())
}

pub fn by_external_id<D: Db + ?Sized>(db: &D, external_id: &str) -> Result<Option<String>> {
    let r = db.run("SELECT id FROM contacts WHERE external_id = ? AND deleted_at IS NULL", &[external_id.into()])?;
    Ok(r.first().map(|row| row.text(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};
    use serde_json::json;

    fn data(v: serde_json::Value) -> ContactData {
        serde_json::from_value::<ContactInput>(v).unwrap().validate(&[]).unwrap()
    }

    /// The created event's `after` is the contact as JSON without its
    /// bookkeeping keys and empty values, whatever is set.
    #[test]
    fn the_created_view_is_the_compacted_contact() {
        let definition = |c: &Contact| {
            let mut v = compact(&serde_json::to_value(c).unwrap());
            let m = v.as_object_mut().unwrap();
            for k in ["id", "created_at", "updated_at", "version", "email", "phone"] {
                m.remove(k);
            }
            if c.company_ids.len() <= 1 {
                m.remove("company_ids");
            }
            v
        };
        let full = build("c_1".into(), data(json!({"first_name": "Ada", "last_name": "Lovelace", "emails": [{"address": "ada@example.com", "label": "work", "primary": true}, {"address": "a@b.example"}],
            "phones": [{"number": "+44 20 1234"}], "title": "Countess", "address": {"street": "1 St James's Sq", "country": "GB"}, "lifecycle_stage": "customer",
            "source": "import", "tags": ["vip"], "consent": {"email": "granted"}, "external_id": "X-1"})), "2026-01-01T00:00:00.000Z", 1, None, Some("2026-01-02T00:00:00.000Z".into()));
        let mut linked = full.clone();
        (linked.company_id, linked.company, linked.company_ids) = (Some("co_1".into()), Some("Acme".into()), vec!["co_1".into(), "co_2".into()]);
        linked.custom = serde_json::from_value(json!({"tier": "gold", "gone": null, "none": [], "price": {"amount": 5, "currency": null}})).unwrap();
        linked.deleted_at = Some("2026-01-03T00:00:00.000Z".into());
        let mut one_company = linked.clone();
        one_company.company_ids.truncate(1);
        let mut blank = build("c_2".into(), data(json!({"email": "x@example.com"})), "2026-01-01T00:00:00.000Z", 1, None, None);
        blank.address = Some(crate::model::Address::default());
        blank.custom = serde_json::from_value(json!({"gone": null})).unwrap();
        for c in [&full, &linked, &one_company, &blank] {
            let written: serde_json::Value = serde_json::from_str(&serde_json::to_string(&CreatedView::of(c)).unwrap()).unwrap();
            assert_eq!(written, definition(c));
        }
    }

    /// The list route's JSON (stored with the row, or built in SQL) is exactly what
    /// `from_row` serializes to, for full, sparse, legacy (`consent = '{}'`) and
    /// damaged rows alike, and stays so through writes that touch a few columns.
    #[test]
    fn json_rows_match_the_rust_serialization() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let co = super::super::companies::insert_in_tx(&db, &w, serde_json::from_value::<crate::model::CompanyInput>(json!({"name": "Acme \"Intl\"", "domains": ["acme.example", "acme.test"], "address": {"city": "Zürich"}})).unwrap().validate(&[]).unwrap()).unwrap();
        let ada = create(&db, &w, data(json!({"first_name": "Ada", "last_name": "Lovelace\n\u{1}", "emails": [{"address": "ada@example.com", "label": "work", "primary": true}, {"address": "a@b.example"}],
            "phones": [{"number": "+44 20 1234", "primary": true}], "title": "Countess", "company_id": co.id, "address": {"street": "1 St James's Sq", "country": "GB"},
            "lifecycle_stage": "customer", "source": "import", "tags": ["vip", "émigré"], "consent": {"email": "granted"}, "external_id": "X-1"})), 10).unwrap();
        let sparse = create(&db, &w, data(json!({"email": "sparse@example.com"})), 10).unwrap();
        let legacy = create(&db, &w, data(json!({"first_name": "Legacy"})), 10).unwrap();
        // Custom values as the store writes them (their definitions are not the point here).
        db.run("UPDATE contacts SET custom = ? WHERE first_name = 'Legacy'", &[json!({"score": 12, "note": "a\tb", "ok": true, "big": 12345678901234i64, "f": 0.1}).to_string().into()]).unwrap();
        db.run("UPDATE contacts SET consent = '{}', tags = 'not json', address = '{bad' WHERE id = ?", &[legacy.id.as_str().into()]).unwrap();
        let same = |stage: &str| {
            for q in ["", "q=ada", "sort=last_name", "view=trash", "filter=%7B%22field%22%3A%22lifecycle_stage%22%2C%22op%22%3A%22eq%22%2C%22value%22%3A%22customer%22%7D"] {
                let query = ListQuery::parse(q).unwrap();
                let (typed, next) = list(&db, &query, &Visibility::All, &[]).unwrap();
                let (texts, next_json) = list_json(&db, &query, &Visibility::All, &[]).unwrap();
                assert_eq!(next, next_json, "{stage}: {q}");
                let parsed: Vec<serde_json::Value> = texts.iter().map(|t| serde_json::from_str(t).unwrap()).collect();
                assert_eq!(parsed, typed.iter().map(|c| serde_json::to_value(c).unwrap()).collect::<Vec<_>>(), "{stage}: {q}");
            }
        };
        let stored = |id: &str| db.run("SELECT api_json IS NOT NULL FROM contacts WHERE id = ?", &[id.into()]).unwrap().scalar_i64();
        same("written");
        assert_eq!(stored(&ada.id), Some(1), "a write stores the document");
        assert_eq!(stored(&legacy.id), Some(0), "an update that does not write the document clears it");
        // Writes elsewhere keep the stored document true: a logged call, a company rename, trash.
        let call: crate::model::ActivityInput = serde_json::from_value(json!({"kind": "call", "subject": "Catch-up", "contact_id": ada.id})).unwrap();
        super::super::activities::create(&db, &w, call.validate().unwrap(), &Visibility::All).unwrap();
        assert_eq!(stored(&ada.id), Some(1));
        super::super::companies::update(&db, &w, &co.id, &json!({"name": "Acme Holdings"}), None, &Visibility::All, &[]).unwrap();
        assert_eq!(stored(&ada.id), Some(1));
        same("after a call and a rename");
        assert_eq!(get(&db, &ada.id, &Visibility::All, false).unwrap().unwrap().company.as_deref(), Some("Acme Holdings"));
        delete(&db, &w, &sparse.id, &Visibility::All).unwrap();
        same("after a delete");
    }

    #[test]
    fn create_update_delete_restore_purge() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let c = create(&db, &w, data(json!({"first_name": "Ada", "email": "ada@example.com", "tags": ["vip"]})), 10).unwrap();
        assert_eq!(c.owner_id.as_deref(), Some("u_01HZZZZZZZZZZZZZZZZZZZZZZZ"), "the creator owns it");
        assert_eq!(by_emails(&db, &["ada@example.com".into()]).unwrap(), vec![c.id.clone()]);

        let u = update(&db, &w, &c.id, &json!({"last_name": "Lovelace", "tags": null}), Some(1), &Visibility::All, &[]).unwrap();
        assert_eq!((u.version, u.last_name.as_deref(), u.tags.len()), (2, Some("Lovelace"), 0));
        let stale = update(&db, &w, &c.id, &json!({"title": "x"}), Some(1), &Visibility::All, &[]).unwrap_err();
        assert!(stale.downcast_ref::<VersionMismatch>().is_some());
        let bad = update(&db, &w, &c.id, &json!({"email": "nope"}), None, &Visibility::All, &[]).unwrap_err();
        assert!(bad.downcast_ref::<Invalid>().is_some());
        let same = update(&db, &w, &c.id, &json!({"last_name": "Lovelace"}), None, &Visibility::All, &[]).unwrap();
        assert_eq!(same.version, 2, "an update that changes nothing writes nothing");

        let (found, _) = list(&db, &ListQuery::parse("q=lov").unwrap(), &Visibility::All, &[]).unwrap();
        assert_eq!(found.len(), 1, "the search index follows updates");
        delete(&db, &w, &c.id, &Visibility::All).unwrap();
        assert!(get(&db, &c.id, &Visibility::All, false).unwrap().is_none());
        assert!(list(&db, &ListQuery::parse("q=lov").unwrap(), &Visibility::All, &[]).unwrap().0.is_empty());
        assert_eq!(list(&db, &ListQuery::parse("view=trash").unwrap(), &Visibility::All, &[]).unwrap().0.len(), 1);
        restore(&db, &w, &c.id, &Visibility::All, 10).unwrap();
        assert_eq!(list(&db, &ListQuery::parse("q=ada").unwrap(), &Visibility::All, &[]).unwrap().0.len(), 1);
        purge(&db, &w, &c.id, &Visibility::All).unwrap();
        assert!(get(&db, &c.id, &Visibility::All, true).unwrap().is_none());
        assert!(by_emails(&db, &["ada@example.com".into()]).unwrap().is_empty());
        let ev = db.run("SELECT count(*) FROM contacts_events WHERE entity_id = ? AND (before IS NOT NULL OR after IS NOT NULL)", &[c.id.as_str().into()]).unwrap();
        assert_eq!(ev.scalar_i64(), Some(0), "purge erases personal data from the change log");
        assert_eq!(db.run("SELECT records FROM contacts_stats", &[]).unwrap().scalar_i64(), Some(0));
    }

    #[test]
    fn plan_limit_and_references() {
        let db = db();
        let w = writer("apikey:k_1");
        create(&db, &w, data(json!({"first_name": "A"})), 1).unwrap();
        let e = create(&db, &w, data(json!({"first_name": "B"})), 1).unwrap_err();
        assert!(e.downcast_ref::<LimitReached>().is_some());
        let e = create(&db, &w, data(json!({"first_name": "C", "company_id": "co_01HZZZZZZZZZZZZZZZZZZZZZZZ"})), 10).unwrap_err();
        assert!(e.downcast_ref::<BadReference>().is_some());
        assert_eq!(db.run("SELECT count(*) FROM contacts", &[]).unwrap().scalar_i64(), Some(1), "failed writes leave nothing");
    }

    #[test]
    fn filters_sorts_and_pages() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        for (i, stage) in ["lead", "customer", "lead", "churned", "lead"].iter().enumerate() {
            create(&db, &w, data(json!({"first_name": format!("P{i}"), "last_name": format!("Z{}", 5 - i), "lifecycle_stage": stage})), 100).unwrap();
        }
        let q = |s: &str| ListQuery::parse(s).unwrap();
        let names = |q: ListQuery| list(&db, &q, &Visibility::All, &[]).unwrap().0.into_iter().map(|c| c.first_name.unwrap()).collect::<Vec<_>>();
        assert_eq!(names(q("sort=last_name")), vec!["P4", "P3", "P2", "P1", "P0"]);
        let f = urlencode(&json!({"field": "lifecycle_stage", "op": "eq", "value": "lead"}).to_string());
        assert_eq!(names(q(&format!("filter={f}&sort=-last_name"))), vec!["P0", "P2", "P4"]);
        // Pages walk every row once.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let (items, next) = list(&db, &q(&format!("limit=2&sort=last_name&cursor={cursor}")), &Visibility::All, &[]).unwrap();
            seen.extend(items.into_iter().map(|c| c.first_name.unwrap()));
            match next {
                Some(n) => cursor = n,
                None => break,
            }
        }
        assert_eq!(seen, vec!["P4", "P3", "P2", "P1", "P0"]);
        let f = urlencode(&json!({"or": [{"field": "lifecycle_stage", "op": "eq", "value": "churned"}, {"field": "first_name", "op": "eq", "value": "p1"}]}).to_string());
        assert_eq!(names(q(&format!("filter={f}"))), vec!["P3", "P1"]);
        let (n, more) = super::super::count(&db, Entity::Contact, &q(&format!("filter={f}")), &Visibility::All, &[], 1).unwrap();
        assert_eq!((n, more), (1, true));
        let others = Visibility::Owners(vec!["u_01HYYYYYYYYYYYYYYYYYYYYYYY".into()]);
        assert!(list(&db, &q(""), &others, &[]).unwrap().0.is_empty(), "visibility applies to lists");
        assert!(list(&db, &q("q=p1"), &others, &[]).unwrap().0.is_empty(), "and to search");
    }

    /// The windowed plans (broad and narrow filters over more rows than the
    /// window, NULL sort keys, both directions) page exactly like a plain scan.
    #[test]
    fn windowed_lists_page_exactly_like_a_full_sort() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let rows: Vec<ContactData> = (0..9_000)
            .map(|i| {
                let last = if i % 13 == 0 { serde_json::Value::Null } else { json!(format!("L{:04}", (i * 7919) % 5000)) };
                let stage = ["lead", "customer", "churned"][i % 3];
                data(json!({"first_name": format!("F{i}"), "last_name": last, "lifecycle_stage": stage,
                    "tags": if i % 97 == 0 { json!(["rare"]) } else { json!([]) }}))
            })
            .collect();
        insert_many_in_tx(&db, &w, rows, i64::MAX).unwrap();
        let stage = urlencode(&json!({"field": "lifecycle_stage", "op": "eq", "value": "lead"}).to_string());
        let rare = urlencode(&json!({"field": "tags", "op": "has", "value": "rare"}).to_string());
        for (filter, sort) in [(&stage, "last_name"), (&stage, "-last_name"), (&rare, "last_name"), (&rare, "-updated_at"), (&stage, ""), (&rare, "")] {
            let got = every_page(&db, &format!("limit=200&filter={filter}&sort={sort}"));
            let cond = if filter == &stage { "lifecycle_stage = 'lead'" } else { "id IN (SELECT record_id FROM record_tags WHERE tag = 'rare')" };
            let order = match sort {
                "last_name" => "last_name ASC, id ASC",
                "-last_name" => "last_name DESC, id DESC",
                "-updated_at" => "updated_at DESC, id DESC",
                _ => "id DESC",
            };
            let want: Vec<String> = db.run(&format!("SELECT id FROM contacts NOT INDEXED WHERE deleted_at IS NULL AND {cond} ORDER BY {order}"), &[]).unwrap().iter().map(|r| r.text(0)).collect();
            assert_eq!(got.len(), want.len(), "{filter} {sort}");
            assert!(got == want, "{filter} {sort}: pages differ from a full sort");
        }
    }

    #[test]
    fn tag_filters_walking_a_sort_index_match_the_tag_table() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        // Tags that differ in case, contain one another, or have escapes in JSON.
        let sets = [json!(["VIP"]), json!(["vip-x"]), json!(["a\"b", "Vip"]), json!(["x/y"]), json!(["Ünï", "vipvip"]), json!([]), json!(["\\vip\""])];
        let rows: Vec<ContactData> = (0..6_000)
            .map(|i| data(json!({"first_name": format!("F{i}"), "last_name": format!("L{:04}", (i * 7919) % 3000), "tags": sets[i % sets.len()]})))
            .collect();
        insert_many_in_tx(&db, &w, rows, i64::MAX).unwrap();
        for (filter, cond) in [
            (json!({"field": "tags", "op": "has", "value": "vip"}), "id IN (SELECT record_id FROM record_tags WHERE tag = 'vip')"),
            (json!({"field": "tags", "op": "has_not", "value": "VIP"}), "id NOT IN (SELECT record_id FROM record_tags WHERE tag = 'vip')"),
            (json!({"field": "tags", "op": "has", "value": "a\"b"}), "id IN (SELECT record_id FROM record_tags WHERE tag = 'a\"b')"),
            (json!({"field": "tags", "op": "has_any", "value": ["x/y", "ünï", "VIP-X"]}), "id IN (SELECT record_id FROM record_tags WHERE tag IN ('x/y', 'vip-x'))"),
            (json!({"field": "tags", "op": "has_not", "value": "vip\""}), "1"),
            (json!({"field": "tags", "op": "empty"}), "tags = '[]'"),
        ] {
            let got = every_page(&db, &format!("limit=100&filter={}&sort=last_name", urlencode(&filter.to_string())));
            let want: Vec<String> = db
                .run(&format!("SELECT id FROM contacts NOT INDEXED WHERE deleted_at IS NULL AND {cond} ORDER BY last_name, id"), &[])
                .unwrap()
                .iter()
                .map(|r| r.text(0))
                .collect();
            assert!(!want.is_empty(), "{filter}");
            assert!(got == want, "{filter}: {} listed, {} tagged", got.len(), want.len());
        }
    }

    /// The ids of every page of a list, following its cursors.
    fn every_page(db: &edge_db::native::Connection, query: &str) -> Vec<String> {
        let mut got = Vec::new();
        let mut cursor = String::new();
        loop {
            let q = ListQuery::parse(&format!("{query}&cursor={cursor}")).unwrap();
            let (items, next) = list(db, &q, &Visibility::All, &[]).unwrap();
            got.extend(items.into_iter().map(|c| c.id));
            match next {
                Some(n) => cursor = n,
                None => return got,
            }
        }
    }

    pub fn urlencode(s: &str) -> String {
        s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
    }
}

