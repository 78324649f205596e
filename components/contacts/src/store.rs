//! SQLite access for contacts: migrations on first use, keyset-paged lists,
//! and inserts that append their change event in the same transaction.

use anyhow::Result;
use contacts_domain::{schema, Contact, ListQuery, NewContact, Visibility};
use edge_sqlite::now;
use spin_sdk::sqlite::{Connection, QueryResult, Value};

pub fn open() -> Result<Connection> {
    edge_sqlite::open(schema::COMPONENT, schema::MIGRATIONS)
}

fn new_id() -> String {
    let bytes = wasi::random::random::get_random_bytes(10);
    let mut random = [0u8; 10];
    random.copy_from_slice(&bytes[..10]);
    edge_http::ids::new_id(contacts_domain::ID_PREFIX, chrono::Utc::now().timestamp_millis() as u64, random)
}

const COLUMNS: &str = "id, first_name, last_name, email, phone, company, created_at, updated_at, version, owner_id";

fn text(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| Value::Text(s.clone()))
}

fn rows(r: QueryResult) -> Vec<Contact> {
    r.rows
        .iter()
        .map(|row| Contact {
            id: row.get::<&str>(0).unwrap_or_default().to_string(),
            first_name: row.get::<&str>(1).map(String::from),
            last_name: row.get::<&str>(2).map(String::from),
            email: row.get::<&str>(3).map(String::from),
            phone: row.get::<&str>(4).map(String::from),
            company: row.get::<&str>(5).map(String::from),
            created_at: row.get::<&str>(6).unwrap_or_default().to_string(),
            updated_at: row.get::<&str>(7).unwrap_or_default().to_string(),
            version: row.get::<i64>(8).unwrap_or(1),
            owner_id: row.get::<&str>(9).map(String::from),
        })
        .collect()
}

/// Newest first; fetches `limit + 1` rows so the caller knows if there is more.
pub fn list(db: &Connection, q: &ListQuery, vis: &Visibility) -> Result<Vec<Contact>> {
    let mut sql = format!("SELECT {COLUMNS} FROM contacts");
    let mut params = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    if let Some((cond, owners)) = vis.sql("owner_id") {
        conds.push(cond);
        params.extend(owners.into_iter().map(Value::Text));
    }
    if let Some(after) = &q.after_id {
        conds.push("id < ?".into());
        params.push(Value::Text(after.clone()));
    }
    if let Some(p) = q.like_pattern() {
        conds.push("search_text LIKE ? ESCAPE '\\'".into());
        params.push(Value::Text(p));
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    params.push(Value::Integer(q.limit as i64 + 1));
    Ok(rows(db.execute(&sql, &params)?))
}

pub fn get(db: &Connection, id: &str, vis: &Visibility) -> Result<Option<Contact>> {
    let r = db.execute(&format!("SELECT {COLUMNS} FROM contacts WHERE id = ?"), &[Value::Text(id.into())])?;
    Ok(rows(r).into_iter().next().filter(|c| vis.allows(c.owner_id.as_deref())))
}

/// The plan's record limit was reached (carries the limit).
#[derive(Debug)]
pub struct LimitReached(pub i64);

impl std::fmt::Display for LimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the plan allows {} records", self.0)
    }
}

impl std::error::Error for LimitReached {}

pub fn insert(db: &Connection, c: &NewContact, actor: &str, request_id: Option<&str>, max_records: i64) -> Result<Contact> {
    let owner_id = actor.strip_prefix("user:").map(String::from);
    let now = now();
    let mut contact = Contact {
        id: new_id(),
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        company: c.company.clone(),
        owner_id,
        created_at: now.clone(),
        updated_at: now.clone(),
        version: 1,
    };
    let result = edge_sqlite::tx(db, || -> Result<Contact> {
        let counted = db.execute(
            "UPDATE contacts_stats SET records = records + 1 WHERE id = 1 AND records < ? RETURNING records",
            &[Value::Integer(max_records)],
        )?;
        if counted.rows.is_empty() {
            return Err(LimitReached(max_records).into());
        }
        // Under the write lock: ids stay in creation order even within a millisecond.
        let last = db.execute("SELECT MAX(id) FROM contacts", &[])?;
        let last = last.rows.first().and_then(|r| r.get::<&str>(0));
        contact.id = edge_http::ids::monotonic(std::mem::take(&mut contact.id), last);
        db.execute(
            "INSERT INTO contacts (id, first_name, last_name, email, phone, company, search_text, created_at, updated_at, version, owner_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            &[
                Value::Text(contact.id.clone()),
                text(&c.first_name),
                text(&c.last_name),
                text(&c.email),
                text(&c.phone),
                text(&c.company),
                Value::Text(c.search_text()),
                Value::Text(now.clone()),
                Value::Text(now.clone()),
                contact.owner_id.clone().map_or(Value::Null, Value::Text),
            ],
        )?;
        db.execute(
            "INSERT INTO contacts_events (at, actor, request_id, entity, entity_id, action, before, after)
             VALUES (?, ?, ?, 'contact', ?, 'created', NULL, ?)",
            &[
                Value::Text(now.clone()),
                Value::Text(actor.into()),
                request_id.map_or(Value::Null, |r| Value::Text(r.into())),
                Value::Text(contact.id.clone()),
                Value::Text(serde_json::to_string(&contact)?),
            ],
        )?;
        Ok(contact)
    });
    result
}
