//! The pipeline component's tables. Migrations are append-only.
//!
//! Published read-only views, for other components and the platform:
//! - `pipeline_events`: the change log (the audit log reads every `*_events`);
//! - `pipeline_timeline`: entries for contact and company timelines (the
//!   contacts component merges every `*_timeline` table into a record's timeline).

pub const COMPONENT: &str = "pipeline";

pub const DEFAULT_PIPELINE: &str = "pl_00000000000000000000000001";

pub const MIGRATIONS: edge_db::Migrations = &[(
    1,
    &[
        "CREATE TABLE pipeline_settings (
            id INTEGER PRIMARY KEY CHECK (id = 1), base_currency TEXT NOT NULL,
            lost_reasons TEXT NOT NULL, won_reasons TEXT NOT NULL, version INTEGER NOT NULL
        ) STRICT",
        r#"INSERT INTO pipeline_settings VALUES (1, 'EUR',
            '["Price","Competitor","Timing","No budget","No decision","Product fit"]',
            '["Product fit","Price","Relationship","Timing"]', 1)"#,
        "CREATE TABLE exchange_rates (
            currency TEXT NOT NULL, valid_from TEXT NOT NULL, rate TEXT NOT NULL, created_at TEXT NOT NULL,
            PRIMARY KEY (currency, valid_from)
        ) STRICT",
        "CREATE TABLE pipelines (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, position INTEGER NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, version INTEGER NOT NULL
        ) STRICT",
        "CREATE TABLE stages (
            id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL REFERENCES pipelines(id), name TEXT NOT NULL,
            position INTEGER NOT NULL, probability INTEGER NOT NULL, stale_days INTEGER, removed_at TEXT
        ) STRICT",
        "CREATE INDEX stages_pipeline ON stages(pipeline_id, position)",
        "INSERT INTO pipelines VALUES ('pl_00000000000000000000000001', 'Sales', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', NULL, 1)",
        "INSERT INTO stages VALUES
            ('st_00000000000000000000000001', 'pl_00000000000000000000000001', 'Qualification', 1, 10, 14, NULL),
            ('st_00000000000000000000000002', 'pl_00000000000000000000000001', 'Needs analysis', 2, 25, 14, NULL),
            ('st_00000000000000000000000003', 'pl_00000000000000000000000001', 'Proposal', 3, 50, 21, NULL),
            ('st_00000000000000000000000004', 'pl_00000000000000000000000001', 'Negotiation', 4, 75, 30, NULL)",
        "CREATE TABLE deals (
            id TEXT PRIMARY KEY, title TEXT NOT NULL, value INTEGER NOT NULL, currency TEXT NOT NULL,
            base_value INTEGER, expected_close TEXT, owner_id TEXT, contact_id TEXT, company_id TEXT,
            contact_ids TEXT NOT NULL, pipeline_id TEXT NOT NULL, stage_id TEXT NOT NULL, position REAL NOT NULL,
            probability_override INTEGER, source TEXT, priority TEXT NOT NULL, line_items TEXT NOT NULL,
            status TEXT NOT NULL, lost_reason TEXT, won_reason TEXT, next_step TEXT, tags TEXT NOT NULL,
            stage_entered_at TEXT NOT NULL, touched_at TEXT NOT NULL, closed_at TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, version INTEGER NOT NULL
        ) STRICT",
        // The board: open deals of a stage in card order.
        "CREATE INDEX deals_board ON deals(stage_id, position) WHERE status = 'open' AND deleted_at IS NULL",
        // Reports: closed deals by close time.
        "CREATE INDEX deals_closed ON deals(status, closed_at) WHERE deleted_at IS NULL",
        "CREATE INDEX deals_pipeline ON deals(pipeline_id, status)",
        "CREATE INDEX deals_owner ON deals(owner_id, status)",
        "CREATE INDEX deals_company ON deals(company_id) WHERE company_id IS NOT NULL",
        "CREATE INDEX deals_currency ON deals(currency)",
        // Every contact on a deal (the primary one and the others).
        "CREATE TABLE deal_contacts (contact_id TEXT NOT NULL, deal_id TEXT NOT NULL, PRIMARY KEY (contact_id, deal_id)) STRICT, WITHOUT ROWID",
        "CREATE TABLE deal_tags (tag TEXT NOT NULL, deal_id TEXT NOT NULL, PRIMARY KEY (tag, deal_id)) STRICT, WITHOUT ROWID",
        "CREATE TABLE deal_stage_history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, deal_id TEXT NOT NULL, pipeline_id TEXT NOT NULL,
            from_stage_id TEXT, to_stage_id TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL
        ) STRICT",
        "CREATE INDEX deal_stage_history_deal ON deal_stage_history(deal_id, seq)",
        "CREATE TABLE quotas (owner_id TEXT NOT NULL, period TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (owner_id, period)) STRICT",
        "CREATE TABLE pipeline_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL, actor TEXT NOT NULL, request_id TEXT,
            entity TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL,
            before TEXT, after TEXT
        ) STRICT",
        "CREATE INDEX pipeline_events_entity ON pipeline_events(entity, entity_id)",
        "CREATE INDEX pipeline_events_at ON pipeline_events(at)",
        "CREATE TABLE pipeline_timeline (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, contact_id TEXT, company_id TEXT,
            kind TEXT NOT NULL, title TEXT NOT NULL, detail TEXT, ref TEXT, owner_id TEXT
        ) STRICT",
        "CREATE INDEX pipeline_timeline_contact ON pipeline_timeline(contact_id, at) WHERE contact_id IS NOT NULL",
        "CREATE INDEX pipeline_timeline_company ON pipeline_timeline(company_id, at) WHERE company_id IS NOT NULL",
        // Effects on other components, written with the change and delivered
        // after commit until they land (a won deal makes its contact a customer).
        "CREATE TABLE pipeline_effects (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, target TEXT NOT NULL, payload TEXT NOT NULL,
            actor TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, created_at TEXT NOT NULL
        ) STRICT",
        "CREATE TABLE pipeline_idempotency (key TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL) STRICT",
        "CREATE INDEX pipeline_idempotency_at ON pipeline_idempotency(created_at)",
    ],
), (
    2,
    &[
        // The board's totals read only this index (count, value, weight, staleness per stage).
        "CREATE INDEX deals_open_totals ON deals(pipeline_id, stage_id, base_value, probability_override, touched_at, owner_id, expected_close)
            WHERE status = 'open' AND deleted_at IS NULL",
        // Reports over closed deals read only this index.
        "DROP INDEX deals_closed",
        "CREATE INDEX deals_closed_report ON deals(status, closed_at, pipeline_id, owner_id, base_value, created_at, lost_reason, won_reason)
            WHERE deleted_at IS NULL",
        // The funnel: each deal's furthest stage, and each stay's length, kept as deals move.
        "ALTER TABLE deals ADD COLUMN furthest_stage_id TEXT",
        "UPDATE deals SET furthest_stage_id = (SELECT h.to_stage_id FROM deal_stage_history h JOIN stages s ON s.id = h.to_stage_id
            WHERE h.deal_id = deals.id AND s.pipeline_id = deals.pipeline_id ORDER BY s.position DESC LIMIT 1)",
        "CREATE INDEX deals_funnel ON deals(pipeline_id, created_at, furthest_stage_id, status, owner_id) WHERE deleted_at IS NULL",
        "ALTER TABLE deal_stage_history ADD COLUMN days REAL",
        "UPDATE deal_stage_history SET days = x.d FROM (SELECT seq, julianday(lead(at) OVER (PARTITION BY deal_id ORDER BY seq)) - julianday(at) AS d
            FROM deal_stage_history) AS x WHERE x.seq = deal_stage_history.seq AND deal_stage_history.status = 'open'",
        "CREATE INDEX deal_stage_history_stays ON deal_stage_history(deal_id, to_stage_id, days) WHERE status = 'open' AND days IS NOT NULL",
        // Link tables are rewritten per deal.
        "CREATE INDEX deal_tags_deal ON deal_tags(deal_id)",
        "CREATE INDEX deal_contacts_deal ON deal_contacts(deal_id)",
        "CREATE INDEX pipeline_timeline_ref ON pipeline_timeline(ref)",
    ],
), (
    3,
    &[
        // How far the pipeline has read other components' change logs.
        "CREATE TABLE pipeline_follow (source TEXT PRIMARY KEY, seq INTEGER NOT NULL) STRICT",
        // Deals that followed a contact merge, to follow its undo.
        "CREATE TABLE pipeline_contact_moves (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, deal_id TEXT NOT NULL, from_contact TEXT NOT NULL, to_contact TEXT NOT NULL,
            before TEXT NOT NULL, after TEXT NOT NULL, timeline TEXT NOT NULL
        ) STRICT",
        "CREATE INDEX pipeline_contact_moves_from ON pipeline_contact_moves(from_contact)",
    ],
), (
    4,
    &[
        // Published read-only view: each contact's deals in figures (base
        // currency), for segments and lists in other components.
        "CREATE VIEW pipeline_contact_deals AS
            SELECT dc.contact_id AS contact_id,
                count(*) FILTER (WHERE d.status = 'open') AS open_deals,
                COALESCE(sum(d.base_value) FILTER (WHERE d.status = 'open'), 0) AS open_value,
                count(*) FILTER (WHERE d.status = 'won') AS won_deals,
                COALESCE(sum(d.base_value) FILTER (WHERE d.status = 'won'), 0) AS won_value,
                max(d.closed_at) FILTER (WHERE d.status = 'won') AS last_won_at
            FROM deal_contacts dc JOIN deals d ON d.id = dc.deal_id
            WHERE d.deleted_at IS NULL
            GROUP BY dc.contact_id",
    ],
), (
    5,
    &[
        // Published read-only view: won deals with their main contact and value in
        // the base currency, for attribution of revenue to campaigns.
        "CREATE VIEW pipeline_won_deals AS
            SELECT id AS deal_id, contact_id, base_value, closed_at FROM deals
            WHERE status = 'won' AND deleted_at IS NULL AND contact_id IS NOT NULL AND closed_at IS NOT NULL",
    ],
)];
