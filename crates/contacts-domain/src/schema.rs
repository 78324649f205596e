//! The contacts component's tables, versioned. The component applies what is
//! missing on first use in a tenant, in one transaction.

pub const COMPONENT: &str = "contacts";

/// (version, statements). Append only: never edit a released migration.
pub const MIGRATIONS: &[(i64, &[&str])] = &[(
    1,
    &[
        "CREATE TABLE contacts (
            id TEXT PRIMARY KEY,
            first_name TEXT, last_name TEXT, email TEXT, phone TEXT, company TEXT,
            search_text TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        ) STRICT",
        "CREATE INDEX contacts_email ON contacts(email)",
        // The change log every component keeps: who, when, what, before/after.
        "CREATE TABLE contacts_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL, actor TEXT NOT NULL, request_id TEXT,
            entity TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL,
            before TEXT, after TEXT
        ) STRICT",
        "CREATE INDEX contacts_events_entity ON contacts_events(entity, entity_id)",
    ],
), (
    2,
    &[
        "ALTER TABLE contacts ADD COLUMN owner_id TEXT",
        "CREATE INDEX contacts_owner ON contacts(owner_id, id)",
    ],
), (
    3,
    &[
        // A running count, so the plan's record limit costs one row update per
        // create instead of COUNT(*) over a million rows.
        "CREATE TABLE contacts_stats (id INTEGER PRIMARY KEY CHECK (id = 1), records INTEGER NOT NULL) STRICT",
        "INSERT INTO contacts_stats (id, records) SELECT 1, count(*) FROM contacts",
    ],
), (
    4,
    &[
        // Companies.
        "CREATE TABLE companies (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, domain TEXT, domains TEXT NOT NULL DEFAULT '[]',
            industry TEXT, size TEXT, address TEXT, phone TEXT, website TEXT, owner_id TEXT,
            tags TEXT NOT NULL DEFAULT '[]', custom TEXT NOT NULL DEFAULT '{}', parent_id TEXT, external_id TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_activity_at TEXT, deleted_at TEXT,
            version INTEGER NOT NULL DEFAULT 1
        ) STRICT",
        "CREATE INDEX companies_name ON companies(name, id)",
        "CREATE INDEX companies_domain ON companies(domain, id)",
        "CREATE INDEX companies_industry ON companies(industry, id)",
        "CREATE INDEX companies_size ON companies(size, id)",
        "CREATE INDEX companies_updated ON companies(updated_at, id)",
        "CREATE INDEX companies_last_activity ON companies(last_activity_at, id)",
        "CREATE INDEX companies_owner ON companies(owner_id, id)",
        "CREATE INDEX companies_parent ON companies(parent_id)",
        "CREATE UNIQUE INDEX companies_external ON companies(external_id) WHERE external_id IS NOT NULL",
        // Every domain of every company, for duplicates and create-or-update by domain.
        "CREATE TABLE company_domains (domain TEXT NOT NULL, company_id TEXT NOT NULL, PRIMARY KEY (domain, company_id)) STRICT, WITHOUT ROWID",
        "CREATE INDEX company_domains_company ON company_domains(company_id)",
        // Contacts: the full person.
        "ALTER TABLE contacts ADD COLUMN emails TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE contacts ADD COLUMN phones TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE contacts ADD COLUMN title TEXT",
        "ALTER TABLE contacts ADD COLUMN company_id TEXT",
        "ALTER TABLE contacts ADD COLUMN address TEXT",
        "ALTER TABLE contacts ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'lead'",
        "ALTER TABLE contacts ADD COLUMN source TEXT",
        "ALTER TABLE contacts ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE contacts ADD COLUMN custom TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE contacts ADD COLUMN consent TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE contacts ADD COLUMN external_id TEXT",
        "ALTER TABLE contacts ADD COLUMN last_activity_at TEXT",
        "ALTER TABLE contacts ADD COLUMN deleted_at TEXT",
        "UPDATE contacts SET emails = json_array(json_object('address', email, 'primary', json('true'))) WHERE email IS NOT NULL",
        "UPDATE contacts SET phones = json_array(json_object('number', phone, 'primary', json('true'))) WHERE phone IS NOT NULL",
        "ALTER TABLE contacts DROP COLUMN search_text",
        "CREATE INDEX contacts_updated ON contacts(updated_at, id)",
        "CREATE INDEX contacts_stage_updated ON contacts(lifecycle_stage, updated_at, id)",
        "CREATE INDEX contacts_last_name ON contacts(last_name, id)",
        "CREATE INDEX contacts_first_name ON contacts(first_name, id)",
        "CREATE INDEX contacts_company_name ON contacts(company, id)",
        "CREATE INDEX contacts_company ON contacts(company_id)",
        "CREATE INDEX contacts_last_activity ON contacts(last_activity_at, id)",
        "CREATE UNIQUE INDEX contacts_external ON contacts(external_id) WHERE external_id IS NOT NULL",
        // Lookups for duplicates and create-or-update: every email, every phone's digits.
        "CREATE TABLE contact_emails (email TEXT NOT NULL, contact_id TEXT NOT NULL, PRIMARY KEY (email, contact_id)) STRICT, WITHOUT ROWID",
        "CREATE INDEX contact_emails_contact ON contact_emails(contact_id)",
        "INSERT INTO contact_emails (email, contact_id) SELECT email, id FROM contacts WHERE email IS NOT NULL",
        "CREATE TABLE contact_phones (digits TEXT NOT NULL, contact_id TEXT NOT NULL, PRIMARY KEY (digits, contact_id)) STRICT, WITHOUT ROWID",
        "CREATE INDEX contact_phones_contact ON contact_phones(contact_id)",
        "INSERT OR IGNORE INTO contact_phones (digits, contact_id)
            SELECT replace(replace(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '+', ''), '-', ''), '(', ''), ')', ''), '.', ''), '/', ''), 'x', ''), id
            FROM contacts WHERE phone IS NOT NULL",
        // A contact's companies (the primary one is also contacts.company_id).
        "CREATE TABLE contact_companies (contact_id TEXT NOT NULL, company_id TEXT NOT NULL, PRIMARY KEY (contact_id, company_id)) STRICT, WITHOUT ROWID",
        "CREATE INDEX contact_companies_company ON contact_companies(company_id, contact_id)",
        // Tags of contacts and companies, for filters.
        "CREATE TABLE record_tags (entity TEXT NOT NULL, tag TEXT NOT NULL COLLATE NOCASE, record_id TEXT NOT NULL, PRIMARY KEY (entity, tag, record_id)) STRICT, WITHOUT ROWID",
        "CREATE INDEX record_tags_record ON record_tags(entity, record_id)",
        // Notes, calls, meetings, emails and tasks.
        "CREATE TABLE activities (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT, body TEXT,
            contact_id TEXT, company_id TEXT, deal_id TEXT, occurred_at TEXT NOT NULL,
            due_at TEXT, assignee_id TEXT, reminder_at TEXT, done_at TEXT, owner_id TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT,
            version INTEGER NOT NULL DEFAULT 1
        ) STRICT",
        "CREATE INDEX activities_contact ON activities(contact_id, occurred_at)",
        "CREATE INDEX activities_company ON activities(company_id, occurred_at)",
        "CREATE INDEX activities_deal ON activities(deal_id, occurred_at)",
        "CREATE INDEX activities_open_tasks ON activities(assignee_id, due_at) WHERE kind = 'task' AND done_at IS NULL AND deleted_at IS NULL",
        // Custom field definitions.
        "CREATE TABLE custom_fields (
            id TEXT PRIMARY KEY, entity TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL, kind TEXT NOT NULL,
            options TEXT NOT NULL DEFAULT '[]', currency TEXT, required INTEGER NOT NULL DEFAULT 0,
            position INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, archived_at TEXT,
            UNIQUE (entity, key)
        ) STRICT",
        // Full-text search over contacts, companies and notes: FTS rowid = search_docs.doc
        // (an INTEGER PRIMARY KEY, stable across VACUUM). `owner` holds the owner's id
        // as a token, so restricted users' searches stay inside their records.
        "CREATE TABLE search_docs (doc INTEGER PRIMARY KEY, kind TEXT NOT NULL, ref_id TEXT NOT NULL, UNIQUE (kind, ref_id)) STRICT",
        "CREATE VIRTUAL TABLE search USING fts5(kind, owner, title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
        "INSERT INTO search_docs (kind, ref_id) SELECT 'contact', id FROM contacts",
        "INSERT INTO search (rowid, kind, owner, title, body)
            SELECT d.doc, 'contact', lower(replace(COALESCE(c.owner_id, ''), '_', '')),
                   trim(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')),
                   trim(COALESCE(c.email, '') || ' ' || COALESCE(c.phone, '') || ' ' || COALESCE(c.company, ''))
            FROM contacts c JOIN search_docs d ON d.kind = 'contact' AND d.ref_id = c.id",
        "CREATE INDEX contacts_events_at ON contacts_events(at)",
        // Answers to writes sent with an Idempotency-Key, saved in the write's transaction.
        "CREATE TABLE idempotency_keys (key TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL) STRICT",
        "CREATE INDEX idempotency_keys_at ON idempotency_keys(created_at)",
    ],
), (
    5,
    &[
        // CSV imports: the uploaded file in chunks, the job's committed position and
        // counts (advanced in each batch's transaction: a crash resumes exactly
        // there), per-row problems, and mappings remembered per header set.
        "CREATE TABLE imports (
            id TEXT PRIMARY KEY, entity TEXT NOT NULL, filename TEXT NOT NULL, status TEXT NOT NULL,
            total_bytes INTEGER NOT NULL, encoding TEXT, delimiter TEXT, bom INTEGER NOT NULL DEFAULT 0,
            headers TEXT, mapping TEXT, position INTEGER NOT NULL DEFAULT 0, rows_done INTEGER NOT NULL DEFAULT 0,
            created INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0, message TEXT, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, finished_at TEXT
        ) STRICT",
        "CREATE TABLE import_chunks (import_id TEXT NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (import_id, n)) STRICT",
        "CREATE TABLE import_errors (import_id TEXT NOT NULL, row_no INTEGER NOT NULL, seq INTEGER NOT NULL, field TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY (import_id, row_no, seq)) STRICT",
        "CREATE TABLE import_mappings (signature TEXT PRIMARY KEY, mapping TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT",
    ],
), (
    6,
    &[
        // Imports link contacts to companies by name, ignoring case.
        "CREATE INDEX companies_lower_name ON companies(lower(name))",
        // Merges of duplicate contacts: who was merged into whom, with what was
        // there before (so a merge can be undone), and duplicate detection by name.
        "ALTER TABLE contacts ADD COLUMN merged_into TEXT",
        "CREATE TABLE contact_merges (
            id TEXT PRIMARY KEY, primary_id TEXT NOT NULL, merged_ids TEXT NOT NULL,
            primary_before TEXT NOT NULL, primary_after_version INTEGER NOT NULL,
            moved_activities TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, undone_at TEXT
        ) STRICT",
        "CREATE INDEX contact_merges_primary ON contact_merges(primary_id)",
        "CREATE INDEX contacts_name_company ON contacts(company_id, lower(last_name), lower(first_name)) WHERE deleted_at IS NULL",
    ],
), (
    7,
    &[
        // Saved list views: a user's own, or shared with the workspace (owner_id NULL).
        "CREATE TABLE saved_views (
            id TEXT PRIMARY KEY, entity TEXT NOT NULL, name TEXT NOT NULL, owner_id TEXT,
            query TEXT NOT NULL, columns TEXT NOT NULL DEFAULT '[]', created_by TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL
        ) STRICT",
        "CREATE INDEX saved_views_owner ON saved_views(entity, owner_id)",
    ],
), (
    8,
    &[
        // One full-text table per kind: a search never filters by kind, so a
        // prefix walks one doclist. Rowids stay `search_docs.doc`.
        "CREATE VIRTUAL TABLE search_contact USING fts5(owner_tok, head, detail, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
        "CREATE VIRTUAL TABLE search_company USING fts5(owner_tok, head, detail, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
        "CREATE VIRTUAL TABLE search_note USING fts5(owner_tok, head, detail, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
        "INSERT INTO search_contact (rowid, owner_tok, head, detail) SELECT s.rowid, s.owner, s.title, s.body FROM search_docs d JOIN search s ON s.rowid = d.doc WHERE d.kind = 'contact'",
        "INSERT INTO search_company (rowid, owner_tok, head, detail) SELECT s.rowid, s.owner, s.title, s.body FROM search_docs d JOIN search s ON s.rowid = d.doc WHERE d.kind = 'company'",
        "INSERT INTO search_note (rowid, owner_tok, head, detail) SELECT s.rowid, s.owner, s.title, s.body FROM search_docs d JOIN search s ON s.rowid = d.doc WHERE d.kind = 'note'",
        "DROP TABLE search",
    ],
), (
    9,
    &[
        // Published for the campaigns component: each contact's consent as
        // recorded on the contact (read in the transaction that queues mail).
        "CREATE VIEW contacts_consent AS
            SELECT id AS contact_id, COALESCE(json_extract(consent, '$.email'), 'unknown') AS email,
                COALESCE(json_extract(consent, '$.sms'), 'unknown') AS sms, COALESCE(json_extract(consent, '$.phone'), 'unknown') AS phone
            FROM contacts WHERE deleted_at IS NULL",
    ],
), (
    10,
    &[
        // Published for insight (new leads by source and stage): no personal data.
        "CREATE VIEW contacts_facts AS
            SELECT id AS contact_id, source, lifecycle_stage, owner_id, created_at FROM contacts WHERE deleted_at IS NULL",
    ],
), (
    11,
    &[
        // Published for customer value: when each contact was last touched
        // (calls, meetings and emails logged on them), one row per touch.
        "CREATE VIEW contacts_touch_facts AS
            SELECT contact_id, kind, occurred_at FROM activities
            WHERE deleted_at IS NULL AND contact_id IS NOT NULL AND kind IN ('call', 'meeting', 'email')",
        // The facts carry the contact's company (a company's customer value).
        "DROP VIEW contacts_facts",
        "CREATE VIEW contacts_facts AS
            SELECT id AS contact_id, company_id, source, lifecycle_stage, owner_id, created_at FROM contacts WHERE deleted_at IS NULL",
    ],
), (
    12,
    &[
        // Each contact's API document as the list serves it, written with the row
        // (a list page then reads one text per contact, not 23 columns to re-encode).
        // Any update that does not write it leaves it NULL, and the list builds that
        // row's document in SQL instead: it is never stale.
        "ALTER TABLE contacts ADD COLUMN api_json TEXT",
        "CREATE TRIGGER contacts_api_json_stale AFTER UPDATE ON contacts
            WHEN NEW.api_json IS NOT NULL AND NEW.api_json IS OLD.api_json
            BEGIN UPDATE contacts SET api_json = NULL WHERE id = NEW.id; END",
    ],
), (
    13,
    &[
        // The sort indexes a filtered list walks (see `store::list_page`) also hold
        // the columns most filters test (stage, owner, trash), so a row that fails
        // them is skipped in the index without reading the record: a stage-and-tag
        // filter over a window of 4,000 reads ~50 records, not 4,000.
        "DROP INDEX contacts_last_name",
        "CREATE INDEX contacts_last_name ON contacts(last_name, id, lifecycle_stage, owner_id, deleted_at)",
        "DROP INDEX contacts_first_name",
        "CREATE INDEX contacts_first_name ON contacts(first_name, id, lifecycle_stage, owner_id, deleted_at)",
        "DROP INDEX contacts_company_name",
        "CREATE INDEX contacts_company_name ON contacts(company, id, lifecycle_stage, owner_id, deleted_at)",
        "DROP INDEX contacts_updated",
        "CREATE INDEX contacts_updated ON contacts(updated_at, id, lifecycle_stage, owner_id, deleted_at)",
        "DROP INDEX contacts_last_activity",
        "CREATE INDEX contacts_last_activity ON contacts(last_activity_at, id, lifecycle_stage, owner_id, deleted_at)",
        // The default order (by id, newest first) gets the same.
        "CREATE INDEX contacts_id_filters ON contacts(id, lifecycle_stage, owner_id, deleted_at)",
    ],
), (
    14,
    &[
        // Prefix indexes up to six characters: a typed word longer than the
        // longest is read term by term ("grace"* over a million contacts: 2.5 ms
        // → 0.5 ms). A million rows take longer to re-index than a request may
        // run, so each table is rebuilt beside the old one in slices, on ticks
        // (`store::search::rebuild`); the old one answers until it is swapped.
        "CREATE TABLE search_rebuilds (kind TEXT PRIMARY KEY, next_doc INTEGER NOT NULL DEFAULT 0) STRICT",
        "CREATE VIRTUAL TABLE search_contact_next USING fts5(owner_tok, head, detail, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6')",
        "CREATE VIRTUAL TABLE search_company_next USING fts5(owner_tok, head, detail, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6')",
        "CREATE VIRTUAL TABLE search_note_next USING fts5(owner_tok, head, detail, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6')",
        "INSERT INTO search_rebuilds (kind) VALUES ('contact'), ('company'), ('note')",
    ],
), (
    15,
    &[
        // The sort indexes also hold the tags (the JSON array, lowercased), so a
        // tag filter passes over rows without the tag inside the index and looks
        // up `record_tags` only for rows that may have it (`filter::tag_probe`):
        // at a million contacts a stage-and-tag page probes ~50 rows, not ~500.
        "DROP INDEX contacts_last_name",
        "CREATE INDEX contacts_last_name ON contacts(last_name, id, lifecycle_stage, owner_id, deleted_at, lower(tags))",
        "DROP INDEX contacts_first_name",
        "CREATE INDEX contacts_first_name ON contacts(first_name, id, lifecycle_stage, owner_id, deleted_at, lower(tags))",
        "DROP INDEX contacts_company_name",
        "CREATE INDEX contacts_company_name ON contacts(company, id, lifecycle_stage, owner_id, deleted_at, lower(tags))",
        "DROP INDEX contacts_updated",
        "CREATE INDEX contacts_updated ON contacts(updated_at, id, lifecycle_stage, owner_id, deleted_at, lower(tags))",
        "DROP INDEX contacts_last_activity",
        "CREATE INDEX contacts_last_activity ON contacts(last_activity_at, id, lifecycle_stage, owner_id, deleted_at, lower(tags))",
        "DROP INDEX contacts_id_filters",
        "CREATE INDEX contacts_id_filters ON contacts(id, lifecycle_stage, owner_id, deleted_at, lower(tags))",
    ],
), (
    16,
    &[
        // How many indexes a bulk import dropped and has still to build
        // (`store::bulk`). While they are missing a migration that replaces one
        // of them must use DROP INDEX IF EXISTS and keep `bulk::DEFERRABLE` equal.
        "ALTER TABLE imports ADD COLUMN indexes_left INTEGER NOT NULL DEFAULT 0",
    ],
)];

pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

/// Migrations newer than `current`, in order.
pub fn pending(current: i64) -> impl Iterator<Item = &'static (i64, &'static [&'static str])> {
    MIGRATIONS.iter().filter(move |(v, _)| *v > current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(pending(0).count(), MIGRATIONS.len());
        assert_eq!(pending(latest()).count(), 0);
    }
}
