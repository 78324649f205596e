//! The portal component's tables. Migrations are append-only.
//!
//! Published read-only views: `portal_events` (the change log, read by the
//! audit log) and `portal_timeline` (order milestones on contact timelines).

pub const COMPONENT: &str = "portal";

pub const MIGRATIONS: edge_db::Migrations = &[(
    1,
    &[
        "CREATE TABLE orders (
            id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, external_id TEXT UNIQUE, contact_id TEXT NOT NULL,
            currency TEXT NOT NULL, items TEXT NOT NULL, shipping INTEGER NOT NULL, tax INTEGER NOT NULL, discount INTEGER NOT NULL,
            total INTEGER NOT NULL, status TEXT NOT NULL, carrier TEXT, tracking_number TEXT, note TEXT,
            placed_at TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL
        ) STRICT",
        "CREATE INDEX orders_contact ON orders(contact_id, placed_at)",
        "CREATE INDEX orders_status ON orders(status, placed_at)",
        "CREATE TABLE order_status_history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL,
            note TEXT, actor TEXT NOT NULL
        ) STRICT",
        "CREATE INDEX order_status_history_order ON order_status_history(order_id, seq)",
        // Sign-in links: only their digest is kept.
        "CREATE TABLE portal_links (
            digest TEXT PRIMARY KEY, contact_id TEXT NOT NULL, email TEXT NOT NULL,
            created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER
        ) STRICT",
        "CREATE INDEX portal_links_email ON portal_links(email, created_at)",
        "CREATE TABLE portal_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL, actor TEXT NOT NULL, request_id TEXT,
            entity TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL,
            before TEXT, after TEXT
        ) STRICT",
        "CREATE INDEX portal_events_entity ON portal_events(entity, entity_id)",
        "CREATE INDEX portal_events_at ON portal_events(at)",
        "CREATE TABLE portal_timeline (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, contact_id TEXT, company_id TEXT,
            kind TEXT NOT NULL, title TEXT NOT NULL, detail TEXT, ref TEXT, owner_id TEXT
        ) STRICT",
        "CREATE INDEX portal_timeline_contact ON portal_timeline(contact_id, at) WHERE contact_id IS NOT NULL",
        "CREATE INDEX portal_timeline_company ON portal_timeline(company_id, at) WHERE company_id IS NOT NULL",
        "CREATE TABLE portal_idempotency (key TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL) STRICT",
        "CREATE INDEX portal_idempotency_at ON portal_idempotency(created_at)",
    ],
)];
