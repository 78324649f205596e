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
), (
    2,
    &[
        "CREATE TABLE tickets (
            id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, subject TEXT NOT NULL, category TEXT, priority TEXT NOT NULL,
            status TEXT NOT NULL, channel TEXT NOT NULL, contact_id TEXT NOT NULL, order_id TEXT, assignee_id TEXT, team_id TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_message_at TEXT NOT NULL, first_response_at TEXT,
            resolved_at TEXT, closed_at TEXT, first_response_due TEXT, resolution_due TEXT,
            first_response_breached_at TEXT, resolution_breached_at TEXT, escalated_at TEXT,
            csat INTEGER, csat_comment TEXT, csat_at TEXT, reopened INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL
        ) STRICT",
        "CREATE INDEX tickets_status ON tickets(status, last_message_at)",
        "CREATE INDEX tickets_assignee ON tickets(assignee_id, status)",
        "CREATE INDEX tickets_contact ON tickets(contact_id, created_at)",
        "CREATE INDEX tickets_created ON tickets(created_at)",
        // The unattended breach check reads only tickets still owing a response or a resolution.
        "CREATE INDEX tickets_response_due ON tickets(first_response_due) WHERE first_response_at IS NULL AND first_response_breached_at IS NULL",
        "CREATE INDEX tickets_resolution_due ON tickets(resolution_due) WHERE resolved_at IS NULL AND resolution_breached_at IS NULL",
        "CREATE TABLE ticket_messages (
            id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, author TEXT NOT NULL, internal INTEGER NOT NULL,
            body TEXT NOT NULL, created_at TEXT NOT NULL
        ) STRICT",
        "CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id)",
        "CREATE TABLE service_settings (id INTEGER PRIMARY KEY CHECK (id = 1), settings TEXT NOT NULL, version INTEGER NOT NULL) STRICT",
        "CREATE TABLE macros (id TEXT PRIMARY KEY, name TEXT NOT NULL, body TEXT NOT NULL, status TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT",
        "CREATE TABLE kb_articles (
            id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, category TEXT, status TEXT NOT NULL,
            views INTEGER NOT NULL DEFAULT 0, deflections INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, published_at TEXT, version INTEGER NOT NULL
        ) STRICT",
        "CREATE VIRTUAL TABLE kb_search USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
        "CREATE TABLE kb_search_ids (rowid INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE) STRICT",
    ],
), (
    3,
    &[
        // Published read-only view: each customer's order history (recency,
        // frequency, monetary value; cancelled and returned orders left out;
        // totals in minor units of the orders' own currencies).
        "CREATE VIEW portal_contact_orders AS
            SELECT contact_id, count(*) AS orders, sum(total) AS total, min(placed_at) AS first_order_at, max(placed_at) AS last_order_at
            FROM orders WHERE status NOT IN ('cancelled', 'returned')
            GROUP BY contact_id",
    ],
), (
    4,
    &[
        // Published read-only view: each order that counts (not cancelled or
        // returned), for attribution of revenue to campaigns.
        "CREATE VIEW portal_order_facts AS
            SELECT id AS order_id, contact_id, total, currency, placed_at FROM orders WHERE status NOT IN ('cancelled', 'returned')",
    ],
)];
