//! The campaigns component's tables. Migrations are append-only.
//!
//! Published read-only views: `campaigns_events` (the change log, read by the
//! audit log), `campaigns_list_members` (static lists' members) and
//! `campaigns_timeline` (email engagement on contact timelines). Tables
//! ending in `_events` are change logs by convention: mail tracking lives in
//! `mail_activity`.

pub const COMPONENT: &str = "campaigns";

pub const MIGRATIONS: edge_db::Migrations = &[
(
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
),
(
    2,
    &[
        "CREATE TABLE templates (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, subject TEXT NOT NULL, html TEXT NOT NULL, text TEXT NOT NULL,
            created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, version INTEGER NOT NULL
        ) STRICT",
        "CREATE TABLE campaigns (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL,
            segment_id TEXT, template_id TEXT, subject TEXT NOT NULL, html TEXT NOT NULL, text TEXT NOT NULL,
            from_name TEXT, time_zone TEXT NOT NULL, send_at TEXT, send_at_local TEXT,
            throttle_per_minute INTEGER NOT NULL, ab TEXT, ab_decide_at TEXT, ab_winner TEXT,
            base_url TEXT, plan_cursor TEXT, planned INTEGER NOT NULL DEFAULT 0, tokens REAL NOT NULL DEFAULT 0, last_batch_at TEXT,
            started_at TEXT, finished_at TEXT, created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            deleted_at TEXT, version INTEGER NOT NULL
        ) STRICT",
        "CREATE INDEX campaigns_due ON campaigns(status, send_at) WHERE deleted_at IS NULL",
        "CREATE TABLE campaign_recipients (
            campaign_id TEXT NOT NULL, contact_id TEXT NOT NULL, email TEXT, data TEXT NOT NULL,
            variant TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, message_id TEXT,
            PRIMARY KEY (campaign_id, contact_id)
        ) STRICT, WITHOUT ROWID",
        "CREATE INDEX campaign_recipients_status ON campaign_recipients(campaign_id, status)",
        "CREATE TABLE mail_messages (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, campaign_id TEXT, contact_id TEXT, variant TEXT,
            to_addr TEXT NOT NULL, subject TEXT NOT NULL, html TEXT NOT NULL, text TEXT NOT NULL,
            links TEXT NOT NULL, unsubscribe_url TEXT,
            status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT, last_error TEXT,
            created_at TEXT NOT NULL, sent_at TEXT, delivered_at TEXT, opened_at TEXT, clicked_at TEXT,
            unsubscribed_at TEXT, bounced_at TEXT, complained_at TEXT
        ) STRICT",
        "CREATE INDEX mail_messages_queued ON mail_messages(next_attempt_at) WHERE status = 'queued'",
        "CREATE INDEX mail_messages_campaign ON mail_messages(campaign_id, variant)",
        "CREATE INDEX mail_messages_contact ON mail_messages(contact_id, created_at)",
        "CREATE TABLE mail_activity (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, campaign_id TEXT, contact_id TEXT,
            kind TEXT NOT NULL, at TEXT NOT NULL, bot INTEGER NOT NULL DEFAULT 0, detail TEXT
        ) STRICT",
        "CREATE INDEX mail_activity_campaign ON mail_activity(campaign_id, at)",
        "CREATE INDEX mail_activity_contact ON mail_activity(contact_id, at)",
        "CREATE TABLE consents (
            contact_id TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL, lawful_basis TEXT,
            source TEXT, at TEXT NOT NULL, PRIMARY KEY (contact_id, channel)
        ) STRICT, WITHOUT ROWID",
        "CREATE TABLE consent_history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, contact_id TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL,
            lawful_basis TEXT, source TEXT, at TEXT NOT NULL, actor TEXT NOT NULL
        ) STRICT",
        "CREATE INDEX consent_history_contact ON consent_history(contact_id, seq)",
        "CREATE TABLE suppressions (email TEXT PRIMARY KEY, reason TEXT NOT NULL, source TEXT, at TEXT NOT NULL) STRICT, WITHOUT ROWID",
        "CREATE TABLE campaigns_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
    ],
),
(
    3,
    &[
        "CREATE TABLE sequences (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, segment_id TEXT, goal TEXT, steps TEXT NOT NULL,
            from_name TEXT, base_url TEXT, enroll_cursor TEXT, enroll_checked_at TEXT,
            created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, version INTEGER NOT NULL
        ) STRICT",
        "CREATE TABLE sequence_enrollments (
            sequence_id TEXT NOT NULL, contact_id TEXT NOT NULL, email TEXT, data TEXT NOT NULL,
            step INTEGER NOT NULL, next_at TEXT, status TEXT NOT NULL, exit_reason TEXT,
            entered_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (sequence_id, contact_id)
        ) STRICT, WITHOUT ROWID",
        "CREATE INDEX sequence_enrollments_due ON sequence_enrollments(sequence_id, next_at) WHERE status = 'active'",
        "CREATE INDEX sequence_enrollments_contact ON sequence_enrollments(contact_id) WHERE status = 'active'",
        "ALTER TABLE mail_messages ADD COLUMN sequence_id TEXT",
        "ALTER TABLE mail_messages ADD COLUMN step INTEGER",
        "CREATE INDEX mail_messages_sequence ON mail_messages(sequence_id, step) WHERE sequence_id IS NOT NULL",
        // Email engagement on contact timelines (the contacts component merges
        // every `*_timeline` table into a record's timeline).
        "CREATE TABLE campaigns_timeline (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, contact_id TEXT, company_id TEXT,
            kind TEXT NOT NULL, title TEXT NOT NULL, detail TEXT, ref TEXT, owner_id TEXT
        ) STRICT",
        "CREATE INDEX campaigns_timeline_contact ON campaigns_timeline(contact_id, at) WHERE contact_id IS NOT NULL",
        "CREATE INDEX campaigns_timeline_ref ON campaigns_timeline(ref)",
    ],
),
(
    4,
    &[
        // What a campaign cost (entered by staff, minor units).
        "ALTER TABLE campaigns ADD COLUMN cost INTEGER",
        "ALTER TABLE campaigns ADD COLUMN cost_currency TEXT",
        // Published read-only views for attribution: each contact's first human
        // click per campaign, and the campaigns with their costs.
        "CREATE VIEW campaigns_touches AS
            SELECT contact_id, campaign_id, min(at) AS at FROM mail_activity
            WHERE kind = 'clicked' AND bot = 0 AND campaign_id IS NOT NULL AND contact_id IS NOT NULL
            GROUP BY contact_id, campaign_id",
        "CREATE VIEW campaigns_costs AS
            SELECT id AS campaign_id, name, status, cost, cost_currency, started_at FROM campaigns WHERE deleted_at IS NULL",
    ],
),
];
