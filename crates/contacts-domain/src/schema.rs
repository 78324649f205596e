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
