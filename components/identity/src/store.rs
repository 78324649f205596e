//! The identity component's tables: users, one-time tokens (invitations and
//! password resets), the outbox, and its change events.

use anyhow::Result;
use identity_domain::Role;
use serde::Serialize;
use spin_sdk::sqlite::{Connection, QueryResult, Value};

pub const COMPONENT: &str = "identity";

pub const MIGRATIONS: edge_db::Migrations = &[(
    1,
    &[
        "CREATE TABLE users (
            id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
            role TEXT NOT NULL, state TEXT NOT NULL, password_hash TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_sign_in_at TEXT,
            version INTEGER NOT NULL DEFAULT 1
        ) STRICT",
        "CREATE TABLE one_time_tokens (
            digest TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NOT NULL REFERENCES users(id),
            expires_at INTEGER NOT NULL, used_at INTEGER
        ) STRICT",
        // Every email the tenant sends goes through here; with no provider
        // configured it stays captured (status `captured`) for operators to read.
        "CREATE TABLE outbox (
            id TEXT PRIMARY KEY, to_addr TEXT NOT NULL, subject TEXT NOT NULL,
            body_text TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL
        ) STRICT",
        "CREATE TABLE identity_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
            request_id TEXT, entity TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL,
            before TEXT, after TEXT
        ) STRICT",
    ],
), (
    2,
    &[
        "CREATE TABLE api_keys (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, scopes TEXT NOT NULL, digest TEXT NOT NULL UNIQUE,
            created_by TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT
        ) STRICT",
        "CREATE INDEX identity_events_at ON identity_events(at)",
    ],
), (
    3,
    &[
        "ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN last_error TEXT",
        "ALTER TABLE outbox ADD COLUMN sent_at TEXT",
        "CREATE INDEX outbox_status ON outbox(status, id)",
    ],
), (
    4,
    &[
        // Teams: a user is in at most one; "own and team's" record visibility reads them.
        "CREATE TABLE teams (
            id TEXT PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE UNIQUE,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL
        ) STRICT",
        "ALTER TABLE users ADD COLUMN team_id TEXT REFERENCES teams(id)",
        "CREATE INDEX users_team ON users(team_id)",
    ],
)];

pub fn open() -> Result<Connection> {
    edge_db::spin::open(COMPONENT, MIGRATIONS)
}

pub use edge_db::tx;

pub use edge_db::now;

pub fn unix() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn random<const N: usize>() -> [u8; N] {
    let bytes = wasi::random::random::get_random_bytes(N as u64);
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

pub fn new_id(prefix: &str) -> String {
    edge_http::ids::new_id(prefix, chrono::Utc::now().timestamp_millis() as u64, random::<10>())
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
    pub last_sign_in_at: Option<String>,
    pub team_id: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
}

const USER_COLS: &str = "id, email, name, role, state, created_at, updated_at, last_sign_in_at, password_hash, team_id";

fn users(r: QueryResult) -> Vec<User> {
    r.rows
        .iter()
        .map(|row| User {
            id: row.get::<&str>(0).unwrap_or_default().into(),
            email: row.get::<&str>(1).unwrap_or_default().into(),
            name: row.get::<&str>(2).unwrap_or_default().into(),
            role: Role::parse(row.get::<&str>(3).unwrap_or_default()).unwrap_or(Role::ReadOnly),
            state: row.get::<&str>(4).unwrap_or_default().into(),
            created_at: row.get::<&str>(5).unwrap_or_default().into(),
            updated_at: row.get::<&str>(6).unwrap_or_default().into(),
            last_sign_in_at: row.get::<&str>(7).map(String::from),
            password_hash: row.get::<&str>(8).map(String::from),
            team_id: row.get::<&str>(9).map(String::from),
        })
        .collect()
}

pub fn user_by_email(db: &Connection, email: &str) -> Result<Option<User>> {
    let r = db.execute(&format!("SELECT {USER_COLS} FROM users WHERE email = ?"), &[Value::Text(email.to_lowercase())])?;
    Ok(users(r).into_iter().next())
}

pub fn user_by_id(db: &Connection, id: &str) -> Result<Option<User>> {
    let r = db.execute(&format!("SELECT {USER_COLS} FROM users WHERE id = ?"), &[Value::Text(id.into())])?;
    Ok(users(r).into_iter().next())
}

pub fn list_users(db: &Connection) -> Result<Vec<User>> {
    Ok(users(db.execute(&format!("SELECT {USER_COLS} FROM users ORDER BY created_at, id"), &[])?))
}

pub fn count_active_users(db: &Connection) -> Result<i64> {
    let r = db.execute("SELECT count(*) FROM users WHERE state != 'deactivated'", &[])?;
    Ok(r.rows.first().and_then(|row| row.get::<i64>(0)).unwrap_or(0))
}

pub fn event(db: &Connection, actor: &str, request_id: Option<&str>, entity_id: &str, action: &str, before: Option<&User>, after: Option<&User>) -> Result<()> {
    // Actors are recorded as `user:<id>`, `apikey:<id>`, … everywhere.
    let actor = if actor.contains(':') { actor.to_string() } else { format!("user:{actor}") };
    event_of(db, &actor, request_id, "user", entity_id, action, before, after)
}

/// Appends a change event (who, when, what, before/after) in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub fn event_of<T: Serialize>(db: &Connection, actor: &str, request_id: Option<&str>, entity: &str, entity_id: &str, action: &str, before: Option<&T>, after: Option<&T>) -> Result<()> {
    let j = |u: Option<&T>| u.and_then(|u| serde_json::to_string(u).ok()).map_or(Value::Null, Value::Text);
    db.execute(
        "INSERT INTO identity_events (at, actor, request_id, entity, entity_id, action, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(now()),
            Value::Text(actor.into()),
            request_id.map_or(Value::Null, |r| Value::Text(r.into())),
            Value::Text(entity.into()),
            Value::Text(entity_id.into()),
            Value::Text(action.into()),
            j(before),
            j(after),
        ],
    )?;
    Ok(())
}

pub fn insert_user(db: &Connection, email: &str, name: &str, role: Role, state: &str) -> Result<User> {
    let now = now();
    let user = User {
        id: new_id("u"),
        email: email.to_lowercase(),
        name: name.into(),
        role,
        state: state.into(),
        created_at: now.clone(),
        updated_at: now,
        last_sign_in_at: None,
        team_id: None,
        password_hash: None,
    };
    db.execute(
        "INSERT INTO users (id, email, name, role, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(user.id.clone()),
            Value::Text(user.email.clone()),
            Value::Text(user.name.clone()),
            Value::Text(role.as_str().into()),
            Value::Text(user.state.clone()),
            Value::Text(user.created_at.clone()),
            Value::Text(user.updated_at.clone()),
        ],
    )?;
    Ok(user)
}

pub fn update_user(db: &Connection, u: &User) -> Result<()> {
    db.execute(
        "UPDATE users SET name = ?, role = ?, state = ?, password_hash = ?, last_sign_in_at = ?, team_id = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        &[
            Value::Text(u.name.clone()),
            Value::Text(u.role.as_str().into()),
            Value::Text(u.state.clone()),
            u.password_hash.clone().map_or(Value::Null, Value::Text),
            u.last_sign_in_at.clone().map_or(Value::Null, Value::Text),
            u.team_id.clone().map_or(Value::Null, Value::Text),
            Value::Text(now()),
            Value::Text(u.id.clone()),
        ],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    /// Member user ids, sorted.
    pub members: Vec<String>,
}

pub fn list_teams(db: &Connection) -> Result<Vec<Team>> {
    let r = db.execute("SELECT id, name, created_at, updated_at FROM teams ORDER BY name", &[])?;
    let mut teams: Vec<Team> = r
        .rows
        .iter()
        .map(|row| Team {
            id: row.get::<&str>(0).unwrap_or_default().into(),
            name: row.get::<&str>(1).unwrap_or_default().into(),
            created_at: row.get::<&str>(2).unwrap_or_default().into(),
            updated_at: row.get::<&str>(3).unwrap_or_default().into(),
            members: Vec::new(),
        })
        .collect();
    let m = db.execute("SELECT team_id, id FROM users WHERE team_id IS NOT NULL ORDER BY id", &[])?;
    for row in &m.rows {
        let (Some(t), Some(u)) = (row.get::<&str>(0), row.get::<&str>(1)) else { continue };
        if let Some(team) = teams.iter_mut().find(|x| x.id == t) {
            team.members.push(u.to_string());
        }
    }
    Ok(teams)
}

pub fn team_by_id(db: &Connection, id: &str) -> Result<Option<Team>> {
    Ok(list_teams(db)?.into_iter().find(|t| t.id == id))
}

pub fn team_name_taken(db: &Connection, name: &str, except: Option<&str>) -> Result<bool> {
    let r = db.execute(
        "SELECT count(*) FROM teams WHERE name = ? AND id != ?",
        &[Value::Text(name.into()), Value::Text(except.unwrap_or("").into())],
    )?;
    Ok(r.rows.first().and_then(|row| row.get::<i64>(0)).unwrap_or(0) > 0)
}

pub fn insert_team(db: &Connection, name: &str) -> Result<Team> {
    let now = now();
    let t = Team { id: new_id("t"), name: name.into(), created_at: now.clone(), updated_at: now, members: Vec::new() };
    db.execute(
        "INSERT INTO teams (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
        &[Value::Text(t.id.clone()), Value::Text(t.name.clone()), Value::Text(t.created_at.clone()), Value::Text(t.updated_at.clone())],
    )?;
    Ok(t)
}

pub fn rename_team(db: &Connection, id: &str, name: &str) -> Result<()> {
    db.execute("UPDATE teams SET name = ?, updated_at = ? WHERE id = ?", &[Value::Text(name.into()), Value::Text(now()), Value::Text(id.into())])?;
    Ok(())
}

/// Deletes a team; its members are left in no team.
pub fn delete_team(db: &Connection, id: &str) -> Result<()> {
    db.execute("UPDATE users SET team_id = NULL WHERE team_id = ?", &[Value::Text(id.into())])?;
    db.execute("DELETE FROM teams WHERE id = ?", &[Value::Text(id.into())])?;
    Ok(())
}

/// Stores a one-time token's digest; returns nothing (the caller holds the token).
pub fn insert_token(db: &Connection, digest: &str, kind: &str, user_id: &str, ttl_secs: i64) -> Result<()> {
    db.execute(
        "INSERT INTO one_time_tokens (digest, kind, user_id, expires_at) VALUES (?, ?, ?, ?)",
        &[Value::Text(digest.into()), Value::Text(kind.into()), Value::Text(user_id.into()), Value::Integer(unix() + ttl_secs)],
    )?;
    Ok(())
}

/// Uses a one-time token: the user id if it is valid, unused and unexpired.
pub fn use_token(db: &Connection, digest: &str, kind: &str) -> Result<Option<String>> {
    let r = db.execute(
        "UPDATE one_time_tokens SET used_at = ? WHERE digest = ? AND kind = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id",
        &[Value::Integer(unix()), Value::Text(digest.into()), Value::Text(kind.into()), Value::Integer(unix())],
    )?;
    Ok(r.rows.first().and_then(|row| row.get::<&str>(0)).map(String::from))
}

/// Queues an email in the caller's transaction: `queued` for the mail provider
/// when one is configured, otherwise `captured` (kept for operators to read).
pub fn send_email(db: &Connection, to: &str, subject: &str, body: &str) -> Result<()> {
    let status = if edge_component::mail_api::MailApi::configured().is_some() { "queued" } else { "captured" };
    db.execute(
        "INSERT INTO outbox (id, to_addr, subject, body_text, created_at, status) VALUES (?, ?, ?, ?, ?, ?)",
        &[Value::Text(new_id("m")), Value::Text(to.into()), Value::Text(subject.into()), Value::Text(body.into()), Value::Text(now()), Value::Text(status.into())],
    )?;
    Ok(())
}

/// Queued mail, oldest first.
pub fn queued_mail(db: &Connection, limit: i64) -> Result<Vec<OutboxItem>> {
    let r = db.execute(
        "SELECT id, to_addr, subject, body_text, created_at, status FROM outbox WHERE status = 'queued' ORDER BY id LIMIT ?",
        &[Value::Integer(limit)],
    )?;
    Ok(outbox_rows(r))
}

pub fn mark_mail(db: &Connection, id: &str, status: &str, error: Option<&str>) -> Result<()> {
    db.execute(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
        &[Value::Text(status.into()), error.map_or(Value::Null, |e| Value::Text(e.into())), Value::Text(status.into()), Value::Text(now()), Value::Text(id.into())],
    )?;
    Ok(())
}

#[derive(Serialize)]
pub struct OutboxItem {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    pub created_at: String,
    pub status: String,
    pub last_error: Option<String>,
}

pub fn outbox(db: &Connection, limit: i64) -> Result<Vec<OutboxItem>> {
    let r = db.execute(
        "SELECT id, to_addr, subject, body_text, created_at, status, last_error FROM outbox ORDER BY id DESC LIMIT ?",
        &[Value::Integer(limit)],
    )?;
    Ok(outbox_rows(r))
}

fn outbox_rows(r: QueryResult) -> Vec<OutboxItem> {
    r.rows
        .iter()
        .map(|row| OutboxItem {
            id: row.get::<&str>(0).unwrap_or_default().into(),
            to: row.get::<&str>(1).unwrap_or_default().into(),
            subject: row.get::<&str>(2).unwrap_or_default().into(),
            body_text: row.get::<&str>(3).unwrap_or_default().into(),
            created_at: row.get::<&str>(4).unwrap_or_default().into(),
            status: row.get::<&str>(5).unwrap_or_default().into(),
            last_error: row.get::<&str>(6).map(String::from),
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    #[serde(skip)]
    pub digest: String,
}

const KEY_COLS: &str = "id, name, scopes, created_by, created_at, last_used_at, revoked_at, digest";

fn keys(r: QueryResult) -> Vec<ApiKey> {
    r.rows
        .iter()
        .map(|row| ApiKey {
            id: row.get::<&str>(0).unwrap_or_default().into(),
            name: row.get::<&str>(1).unwrap_or_default().into(),
            scopes: serde_json::from_str(row.get::<&str>(2).unwrap_or("[]")).unwrap_or_default(),
            created_by: row.get::<&str>(3).unwrap_or_default().into(),
            created_at: row.get::<&str>(4).unwrap_or_default().into(),
            last_used_at: row.get::<&str>(5).map(String::from),
            revoked_at: row.get::<&str>(6).map(String::from),
            digest: row.get::<&str>(7).unwrap_or_default().into(),
        })
        .collect()
}

pub fn list_keys(db: &Connection) -> Result<Vec<ApiKey>> {
    Ok(keys(db.execute(&format!("SELECT {KEY_COLS} FROM api_keys ORDER BY created_at DESC, id DESC"), &[])?))
}

pub fn key_by_id(db: &Connection, id: &str) -> Result<Option<ApiKey>> {
    Ok(keys(db.execute(&format!("SELECT {KEY_COLS} FROM api_keys WHERE id = ?"), &[Value::Text(id.into())])?).into_iter().next())
}

pub fn insert_key(db: &Connection, k: &ApiKey) -> Result<()> {
    db.execute(
        "INSERT INTO api_keys (id, name, scopes, digest, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        &[
            Value::Text(k.id.clone()),
            Value::Text(k.name.clone()),
            Value::Text(serde_json::to_string(&k.scopes)?),
            Value::Text(k.digest.clone()),
            Value::Text(k.created_by.clone()),
            Value::Text(k.created_at.clone()),
        ],
    )?;
    Ok(())
}

pub fn set_key_times(db: &Connection, id: &str, last_used_at: Option<&str>, revoked_at: Option<&str>) -> Result<()> {
    db.execute(
        "UPDATE api_keys SET last_used_at = COALESCE(?, last_used_at), revoked_at = COALESCE(?, revoked_at) WHERE id = ?",
        &[
            last_used_at.map_or(Value::Null, |v| Value::Text(v.into())),
            revoked_at.map_or(Value::Null, |v| Value::Text(v.into())),
            Value::Text(id.into()),
        ],
    )?;
    Ok(())
}

/// Filters for the audit log.
#[derive(Debug, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Keyset: (at, component, seq) of the last row of the previous page.
    pub after: Option<(String, String, i64)>,
    pub limit: i64,
}

/// The audit log: every component's published change view (`<component>_events`,
/// same columns), newest first.
pub fn audit(db: &Connection, q: &AuditQuery) -> Result<Vec<serde_json::Value>> {
    let tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_events' ESCAPE '\\' ORDER BY name", &[])?;
    let parts: Vec<String> = tables
        .rows
        .iter()
        .filter_map(|r| r.get::<&str>(0))
        .filter(|t| t.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(|t| {
            let component = t.trim_end_matches("_events");
            format!("SELECT '{component}' AS component, seq, at, actor, request_id, entity, entity_id, action, before, after FROM \"{t}\"")
        })
        .collect();
    if parts.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = format!("SELECT component, seq, at, actor, request_id, entity, entity_id, action, before, after FROM ({}) WHERE 1=1", parts.join(" UNION ALL "));
    let mut params = Vec::new();
    for (col, v) in [("actor", &q.actor), ("entity", &q.entity), ("entity_id", &q.entity_id)] {
        if let Some(v) = v {
            sql.push_str(&format!(" AND {col} = ?"));
            params.push(Value::Text(v.clone()));
        }
    }
    if let Some(s) = &q.since {
        sql.push_str(" AND at >= ?");
        params.push(Value::Text(s.clone()));
    }
    if let Some(u) = &q.until {
        sql.push_str(" AND at < ?");
        params.push(Value::Text(u.clone()));
    }
    if let Some((at, component, seq)) = &q.after {
        sql.push_str(" AND (at, component, seq) < (?, ?, ?)");
        params.extend([Value::Text(at.clone()), Value::Text(component.clone()), Value::Integer(*seq)]);
    }
    sql.push_str(" ORDER BY at DESC, component DESC, seq DESC LIMIT ?");
    params.push(Value::Integer(q.limit + 1));
    let r = db.execute(&sql, &params)?;
    let parse = |v: Option<&str>| v.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()).unwrap_or(serde_json::Value::Null);
    Ok(r.rows
        .iter()
        .map(|row| {
            serde_json::json!({
                "component": row.get::<&str>(0),
                "seq": row.get::<i64>(1),
                "at": row.get::<&str>(2),
                "actor": row.get::<&str>(3),
                "request_id": row.get::<&str>(4),
                "entity": row.get::<&str>(5),
                "entity_id": row.get::<&str>(6),
                "action": row.get::<&str>(7),
                "before": parse(row.get::<&str>(8)),
                "after": parse(row.get::<&str>(9)),
            })
        })
        .collect())
}
