//! The campaigns component's tables. Migrations are append-only.
//!
//! Published read-only views: `campaigns_events` (the change log, read by the
//! audit log) and `campaigns_list_members` (static lists' members).

pub const COMPONENT: &str = "campaigns";

pub const MIGRATIONS: edge_db::Migrations = &[(
    1,
    &[
        "CREATE TABLE segments (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, kind TEXT NOT NULL, filter TEXT,
            created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, version INTEGER NOT NULL
        ) STRICT",
        "CREATE INDEX segments_name ON segments(name) WHERE deleted_at IS NULL",
        "CREATE TABLE segment_members (segment_id TEXT NOT NULL, contact_id TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (segment_id, contact_id)) STRICT, WITHOUT ROWID",
        "CREATE INDEX segment_members_contact ON segment_members(contact_id)",
        "CREATE VIEW campaigns_list_members AS
            SELECT m.segment_id AS list_id, m.contact_id AS contact_id FROM segment_members m JOIN segments s ON s.id = m.segment_id
            WHERE s.kind = 'static' AND s.deleted_at IS NULL",
        "CREATE TABLE campaigns_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL, actor TEXT NOT NULL, request_id TEXT,
            entity TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL,
            before TEXT, after TEXT
        ) STRICT",
        "CREATE INDEX campaigns_events_entity ON campaigns_events(entity, entity_id)",
        "CREATE INDEX campaigns_events_at ON campaigns_events(at)",
        "CREATE TABLE campaigns_idempotency (key TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL) STRICT",
        "CREATE INDEX campaigns_idempotency_at ON campaigns_idempotency(created_at)",
    ],
)];
