//! The home dashboard: each user's chosen widgets (their order kept), and the
//! figures no other component answers for: new contacts by source.

use anyhow::Result;
use edge_db::record::Invalid;
use edge_db::Db;
use serde_json::{json, Value};

pub const WIDGETS: [&str; 7] = ["pipeline", "forecast", "leads_by_source", "campaign_return", "sla", "at_risk", "tasks_due"];
/// What a user sees before choosing.
pub const DEFAULT: [&str; 6] = ["pipeline", "leads_by_source", "tasks_due", "at_risk", "campaign_return", "sla"];

pub fn of<D: Db + ?Sized>(db: &D, user: &str) -> Result<Vec<String>> {
    let saved = db.run("SELECT widgets FROM dashboards WHERE user_id = ?", &[user.into()])?.first().and_then(|r| r.string(0));
    Ok(saved.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_else(|| DEFAULT.iter().map(|w| w.to_string()).collect()))
}

pub fn save<D: Db + ?Sized>(db: &D, user: &str, widgets: &[String]) -> Result<Vec<String>> {
    if widgets.len() > 20 || widgets.iter().any(|w| !WIDGETS.contains(&w.as_str())) {
        return Err(Invalid::one("widgets", &format!("choose from {}", WIDGETS.join(", "))).into());
    }
    let mut unique: Vec<String> = Vec::new();
    for w in widgets {
        if !unique.contains(w) {
            unique.push(w.clone());
        }
    }
    db.run(
        "INSERT INTO dashboards (user_id, widgets, updated_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET widgets = excluded.widgets, updated_at = excluded.updated_at",
        &[user.into(), serde_json::to_string(&unique)?.into(), edge_db::now().into()],
    )?;
    Ok(unique)
}

/// New contacts in the last `days` by source (and how many of them are
/// customers by now), from the contacts' published facts; `owner` narrows to
/// one user's (a restricted sales rep sees their own).
pub fn leads_by_source<D: Db + ?Sized>(db: &D, days: i64, owner: Option<&str>) -> Result<Value> {
    if db.run("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = 'contacts_facts'", &[])?.is_empty() {
        return Ok(json!({"days": days, "total": 0, "sources": []}));
    }
    let since = crate::at(chrono::Utc::now() - chrono::Duration::days(days));
    let r = db.run(
        "SELECT COALESCE(NULLIF(trim(source), ''), '(none)'), count(*), sum(lifecycle_stage = 'customer') FROM contacts_facts
         WHERE created_at >= ? AND (? IS NULL OR owner_id = ?) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20",
        &[since.into(), owner.into(), owner.into()],
    )?;
    let sources: Vec<Value> = r.iter().map(|row| json!({"source": row.text(0), "contacts": row.i64(1).unwrap_or(0), "customers": row.i64(2).unwrap_or(0)})).collect();
    let total: i64 = sources.iter().map(|s| s["contacts"].as_i64().unwrap_or(0)).sum();
    Ok(json!({"days": days, "total": total, "sources": sources}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widgets_and_leads_by_source() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        assert_eq!(of(&db, "u1").unwrap().len(), DEFAULT.len());
        assert_eq!(save(&db, "u1", &["sla".into(), "pipeline".into(), "sla".into()]).unwrap(), vec!["sla", "pipeline"]);
        assert_eq!(of(&db, "u1").unwrap(), vec!["sla", "pipeline"]);
        assert!(save(&db, "u1", &["weather".into()]).is_err());
        db.run("CREATE TABLE f (contact_id TEXT, source TEXT, lifecycle_stage TEXT, owner_id TEXT, created_at TEXT)", &[]).unwrap();
        db.run("CREATE VIEW contacts_facts AS SELECT * FROM f", &[]).unwrap();
        let now = crate::at(chrono::Utc::now());
        for (s, stage, owner) in [("Web form: Contact us", "lead", "u1"), ("Web form: Contact us", "customer", "u2"), ("", "lead", "u1"), ("Fair", "lead", "u1")] {
            db.run("INSERT INTO f VALUES ('c', ?, ?, ?, ?)", &[s.into(), stage.into(), owner.into(), now.as_str().into()]).unwrap();
        }
        db.run("INSERT INTO f VALUES ('old', 'Fair', 'lead', 'u1', '2020-01-01T00:00:00Z')", &[]).unwrap();
        let l = leads_by_source(&db, 30, None).unwrap();
        assert_eq!(l["total"], 4);
        assert_eq!(l["sources"][0], json!({"source": "Web form: Contact us", "contacts": 2, "customers": 1}));
        assert_eq!(leads_by_source(&db, 30, Some("u2")).unwrap()["total"], 1);
    }
}
