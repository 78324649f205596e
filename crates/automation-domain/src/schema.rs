//! The automation component's tables. Migrations are append-only.
//!
//! Published read-only: `automation_events` (the change log, read by the audit log).

pub const COMPONENT: &str = "automation";

pub const MIGRATIONS: edge_db::Migrations = &[(
    1,
    &[
        "CREATE TABLE forms (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, definition TEXT NOT NULL,
            created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, version INTEGER NOT NULL
        ) STRICT",
        "CREATE TABLE form_submissions (
            id TEXT PRIMARY KEY, form_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, contact_id TEXT, owner_id TEXT,
            data TEXT NOT NULL, context TEXT NOT NULL, client TEXT, created_at TEXT NOT NULL, processed_at TEXT
        ) STRICT",
        "CREATE INDEX form_submissions_form ON form_submissions(form_id, id)",
        "CREATE INDEX form_submissions_pending ON form_submissions(created_at) WHERE status = 'accepted' AND processed_at IS NULL",
        // Per client (a hash of the address) and form: submissions in the current window.
        "CREATE TABLE form_rate (key TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL) STRICT, WITHOUT ROWID",
        // Round robin: who is next, per form.
        "CREATE TABLE form_rotation (form_id TEXT PRIMARY KEY, next INTEGER NOT NULL) STRICT",
        "CREATE TABLE automation_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL, actor TEXT NOT NULL, request_id TEXT,
            entity TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL,
            before TEXT, after TEXT
        ) STRICT",
        "CREATE INDEX automation_events_entity ON automation_events(entity, entity_id)",
        "CREATE INDEX automation_events_at ON automation_events(at)",
        "CREATE TABLE automation_idempotency (key TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL) STRICT",
        "CREATE INDEX automation_idempotency_at ON automation_idempotency(created_at)",
    ],
), (
    2,
    &[
        "CREATE TABLE rules (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, enabled INTEGER NOT NULL, definition TEXT NOT NULL,
            created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, version INTEGER NOT NULL
        ) STRICT",
        // Where the engine is in each change log (a seq, or a time for form submissions).
        "CREATE TABLE rule_cursors (source TEXT PRIMARY KEY, position TEXT NOT NULL) STRICT",
        // One run per rule and event, ever.
        "CREATE TABLE rule_runs (
            id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, source TEXT NOT NULL, position TEXT NOT NULL,
            entity TEXT NOT NULL, entity_id TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
            results TEXT, error TEXT, created_at TEXT NOT NULL, finished_at TEXT,
            UNIQUE (rule_id, source, position)
        ) STRICT",
        "CREATE INDEX rule_runs_pending ON rule_runs(id) WHERE status = 'pending'",
        "CREATE INDEX rule_runs_rule ON rule_runs(rule_id, id)",
    ],
), (
    3,
    &[
        // Customer value and churn (see `value`), one row per customer.
        "CREATE TABLE customer_value (
            contact_id TEXT PRIMARY KEY, orders INTEGER NOT NULL, total INTEGER NOT NULL, first_order_at TEXT, last_order_at TEXT,
            r_score INTEGER NOT NULL, f_score INTEGER NOT NULL, m_score INTEGER NOT NULL, rfm INTEGER NOT NULL,
            silence_days REAL, interval_days REAL, at_risk INTEGER NOT NULL, clv INTEGER NOT NULL, projected_clv INTEGER NOT NULL,
            computed_at TEXT NOT NULL
        ) STRICT",
        "CREATE INDEX customer_value_clv ON customer_value(clv DESC)",
        "CREATE INDEX customer_value_risk ON customer_value(clv DESC) WHERE at_risk = 1",
        "CREATE TABLE value_bounds (measure TEXT NOT NULL, score INTEGER NOT NULL, low ANY, PRIMARY KEY (measure, score)) STRICT",
        "CREATE TABLE value_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
        // Published for segments and rules.
        "CREATE VIEW automation_customer_value AS
            SELECT contact_id, rfm, r_score, f_score, m_score, at_risk, clv, projected_clv FROM customer_value",
    ],
), (
    4,
    &[
        "CREATE TABLE handovers (
            id TEXT PRIMARY KEY, from_user_id TEXT NOT NULL, to_user_ids TEXT NOT NULL, include TEXT NOT NULL, status TEXT NOT NULL,
            moved TEXT NOT NULL, error TEXT, created_by TEXT, created_at TEXT NOT NULL, finished_at TEXT
        ) STRICT",
        "CREATE INDEX handovers_running ON handovers(from_user_id) WHERE status = 'running'",
        "CREATE TABLE handover_moves (
            handover_id TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT NOT NULL, to_user TEXT NOT NULL, at TEXT NOT NULL,
            PRIMARY KEY (handover_id, kind, record_id)
        ) STRICT, WITHOUT ROWID",
    ],
), (
    5,
    &[
        "CREATE TABLE dashboards (user_id TEXT PRIMARY KEY, widgets TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT",
    ],
), (
    6,
    &[
        // The tenant's secret for signing webhook deliveries.
        "CREATE TABLE automation_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
    ],
), (
    7,
    &[
        // Who is in a `segment_joined` rule's segment, as of its last pass.
        "CREATE TABLE rule_segment_members (
            rule_id TEXT NOT NULL, contact_id TEXT NOT NULL, joined_at TEXT NOT NULL, pass TEXT NOT NULL,
            PRIMARY KEY (rule_id, contact_id)
        ) STRICT, WITHOUT ROWID",
    ],
), (
    8,
    &[
        // Purchases are orders and won deals; touches are logged calls,
        // meetings and emails (see `value`). The full pass stages into its own
        // table, made and dropped by the pass.
        "ALTER TABLE customer_value ADD COLUMN deals INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE customer_value ADD COLUMN touches INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE customer_value ADD COLUMN last_touch_at TEXT",
        "ALTER TABLE customer_value ADD COLUMN touch_interval_days REAL",
        // Boundaries from earlier passes were computed over orders alone.
        "DELETE FROM value_state WHERE key = 'full_at'",
    ],
), (
    9,
    &[
        // A handover's rules (who gets which records by their fields), and
        // why each record went where it did (company, rule or turn).
        "ALTER TABLE handovers ADD COLUMN rules TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE handover_moves ADD COLUMN how TEXT NOT NULL DEFAULT 'turn'",
    ],
)];
