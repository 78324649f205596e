//! Handing over a departing rep's accounts: their contacts, companies, open
//! deals, open tickets and open tasks move to one or several colleagues. A
//! handover is a job the tick works through until nothing is left with the
//! rep; companies go first, and a contact or deal follows its company's new
//! owner, so an account stays in one pair of hands; then the handover's
//! rules (by country, industry, size, lifecycle stage, source or tag: the
//! first that matches the record); the rest is shared out evenly. Previewed
//! (who would get how many) before it starts; recorded in the audit log.

use anyhow::Result;
use edge_db::record::{Invalid, NotFound, Writer};
use edge_db::{Db, Row};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const ID_PREFIX: &str = "ho";
/// In the order they move (companies first, so contacts and deals can follow them).
pub const KINDS: [&str; 5] = ["companies", "contacts", "deals", "tickets", "tasks"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoverInput {
    pub from_user_id: String,
    pub to_user_ids: Vec<String>,
    /// Which kinds of records move (default: all).
    #[serde(default)]
    pub include: Option<Vec<String>>,
    /// Who gets which records by their fields (first match wins), before turns.
    #[serde(default)]
    pub rules: Vec<HandoverRule>,
}

/// "Records whose `field` is one of `values` go to `to_user_id`."
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HandoverRule {
    pub field: String,
    pub values: Vec<String>,
    pub to_user_id: String,
}

/// The fields a rule can look at.
pub const RULE_FIELDS: [&str; 6] = ["country", "industry", "size", "lifecycle_stage", "source", "tag"];

impl HandoverRule {
    /// Whether the record (as its component lists it) matches; case does not matter.
    pub fn matches(&self, record: &Value) -> bool {
        let have: Vec<String> = match self.field.as_str() {
            "country" => [&record["address"]["country"], &record["country"]].iter().filter_map(|v| v.as_str()).map(str::to_lowercase).collect(),
            "tag" => record["tags"].as_array().map(|t| t.iter().filter_map(|v| v.as_str()).map(str::to_lowercase).collect()).unwrap_or_default(),
            f => record[f].as_str().map(str::to_lowercase).into_iter().collect(),
        };
        self.values.iter().any(|v| have.contains(&v.trim().to_lowercase()))
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Handover {
    pub id: String,
    pub from_user_id: String,
    pub to_user_ids: Vec<String>,
    pub include: Vec<String>,
    pub rules: Vec<HandoverRule>,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Moved per kind and per colleague.
    pub moved: Value,
    pub error: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

fn from_row(r: Row) -> Handover {
    let parse = |i: usize| r.str(i).and_then(|s| serde_json::from_str::<Value>(s).ok()).unwrap_or(Value::Null);
    Handover {
        id: r.text(0), from_user_id: r.text(1), to_user_ids: serde_json::from_value(parse(2)).unwrap_or_default(), include: serde_json::from_value(parse(3)).unwrap_or_default(),
        status: r.text(4), moved: parse(5), error: r.string(6), created_by: r.string(7), created_at: r.text(8), finished_at: r.string(9),
        rules: serde_json::from_value(parse(10)).unwrap_or_default(),
    }
}

const COLUMNS: &str = "id, from_user_id, to_user_ids, include, status, moved, error, created_by, created_at, finished_at, rules";

pub fn get<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<Handover>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM handovers WHERE id = ?"), &[id.into()])?.first().map(from_row))
}

pub fn list<D: Db + ?Sized>(db: &D) -> Result<Vec<Handover>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM handovers ORDER BY id DESC LIMIT 100"), &[])?.iter().map(from_row).collect())
}

pub fn running<D: Db + ?Sized>(db: &D) -> Result<Vec<Handover>> {
    Ok(db.run(&format!("SELECT {COLUMNS} FROM handovers WHERE status = 'running' ORDER BY id"), &[])?.iter().map(from_row).collect())
}

/// Checks a handover's shape (who exists is the adapter's to ask).
pub fn checked(input: &HandoverInput) -> Result<Vec<String>> {
    let mut e = Vec::new();
    if !edge_http::ids::is_valid("u", &input.from_user_id) {
        e.push(FieldError::new("from_user_id", "must be a user id"));
    }
    if input.to_user_ids.is_empty() || input.to_user_ids.len() > 50 || input.to_user_ids.iter().any(|u| !edge_http::ids::is_valid("u", u)) {
        e.push(FieldError::new("to_user_ids", "1 to 50 colleagues' user ids"));
    }
    if input.to_user_ids.contains(&input.from_user_id) {
        e.push(FieldError::new("to_user_ids", "cannot include the user handing over"));
    }
    let include = input.include.clone().unwrap_or_else(|| KINDS.iter().map(|k| k.to_string()).collect());
    if include.is_empty() || include.iter().any(|k| !KINDS.contains(&k.as_str())) {
        e.push(FieldError::new("include", "companies, contacts, deals, tickets and/or tasks"));
    }
    if input.rules.len() > 50 {
        e.push(FieldError::new("rules", "at most 50"));
    }
    for (i, r) in input.rules.iter().enumerate() {
        if !RULE_FIELDS.contains(&r.field.as_str()) {
            e.push(FieldError::new(&format!("rules[{i}].field"), "country, industry, size, lifecycle_stage, source or tag"));
        }
        if r.values.is_empty() || r.values.len() > 100 || r.values.iter().any(|v| v.trim().is_empty() || v.len() > 200) {
            e.push(FieldError::new(&format!("rules[{i}].values"), "1 to 100 values, none empty"));
        }
        if !input.to_user_ids.contains(&r.to_user_id) {
            e.push(FieldError::new(&format!("rules[{i}].to_user_id"), "must be one of to_user_ids"));
        }
    }
    if e.is_empty() { Ok(include) } else { Err(Invalid(e).into()) }
}

/// Starts a handover (one at a time per user). No transaction of its own.
pub fn start<D: Db + ?Sized>(db: &D, w: &Writer, input: &HandoverInput) -> Result<Handover> {
    let include = checked(input)?;
    if !db.run("SELECT 1 FROM handovers WHERE from_user_id = ? AND status = 'running'", &[input.from_user_id.as_str().into()])?.is_empty() {
        return Err(edge_db::record::Conflict { kind: "handover-running", message: "This user's accounts are being handed over already.".into() }.into());
    }
    let id = w.new_id(db, "handovers", ID_PREFIX)?;
    db.run(
        &format!("INSERT INTO handovers ({COLUMNS}) VALUES (?, ?, ?, ?, 'running', '{{}}', NULL, ?, ?, NULL, ?)"),
        &[
            id.as_str().into(), input.from_user_id.as_str().into(), serde_json::to_string(&input.to_user_ids)?.into(), serde_json::to_string(&include)?.into(), w.user_id().into(), edge_db::now().into(),
            serde_json::to_string(&input.rules)?.into(),
        ],
    )?;
    let h = get(db, &id)?.ok_or(NotFound)?;
    edge_db::record::append_event(db, "automation_events", w, "handover", &id, "started", None, Some(&serde_json::to_value(&h)?))?;
    Ok(h)
}

/// Who gets a record, and why: the new owner of its company when that moved
/// in this handover (`company`), else the first rule that matches it
/// (`rule`), else the colleague whose turn it is (`turn`, the count of
/// records of this kind shared out by turns so far).
pub fn choose(to_users: &[String], rules: &[HandoverRule], record: &Value, company_owner: Option<String>, turn: i64) -> (String, &'static str) {
    if let Some(owner) = company_owner {
        return (owner, "company");
    }
    if let Some(r) = rules.iter().find(|r| r.matches(record)) {
        return (r.to_user_id.clone(), "rule");
    }
    (to_users[(turn as usize) % to_users.len().max(1)].clone(), "turn")
}

/// Who gets the next record of a kind (`choose` against what has moved).
pub fn pick<D: Db + ?Sized>(db: &D, h: &Handover, kind: &str, record: &Value) -> Result<(String, &'static str)> {
    let company_owner = match record["company_id"].as_str().filter(|_| kind != "companies") {
        Some(company) => db.run("SELECT to_user FROM handover_moves WHERE handover_id = ? AND kind = 'companies' AND record_id = ?", &[h.id.as_str().into(), company.into()])?.first().and_then(|r| r.string(0)),
        None => None,
    };
    let turn = db.run("SELECT count(*) FROM handover_moves WHERE handover_id = ? AND kind = ? AND how = 'turn'", &[h.id.as_str().into(), kind.into()])?.scalar_i64().unwrap_or(0);
    Ok(choose(&h.to_user_ids, &h.rules, record, company_owner, turn))
}

/// What a handover would do with these records (per kind, in the order
/// they move): how many each colleague gets, and by which reason.
pub fn plan(to_users: &[String], rules: &[HandoverRule], records: &[(&str, Vec<Value>)]) -> Value {
    let mut companies: std::collections::HashMap<String, String> = Default::default();
    let mut out = serde_json::Map::new();
    for (kind, items) in records {
        let mut turn = 0;
        let mut per = serde_json::Map::new();
        for r in items {
            let owner = r["company_id"].as_str().filter(|_| *kind != "companies").and_then(|c| companies.get(c).cloned());
            let (to, how) = choose(to_users, rules, r, owner, turn);
            if how == "turn" {
                turn += 1;
            }
            if *kind == "companies" {
                if let Some(id) = r["id"].as_str() {
                    companies.insert(id.to_string(), to.clone());
                }
            }
            let e = per.entry(to).or_insert(json!({"total": 0, "company": 0, "rule": 0, "turn": 0}));
            e["total"] = (e["total"].as_i64().unwrap_or(0) + 1).into();
            e[how] = (e[how].as_i64().unwrap_or(0) + 1).into();
        }
        out.insert(kind.to_string(), Value::Object(per));
    }
    Value::Object(out)
}

/// Records a move (after the owning component accepted it).
pub fn moved<D: Db + ?Sized>(db: &D, h: &Handover, kind: &str, record: &str, to: &str, how: &str) -> Result<()> {
    db.run(
        "INSERT OR REPLACE INTO handover_moves (handover_id, kind, record_id, to_user, at, how) VALUES (?, ?, ?, ?, ?, ?)",
        &[h.id.as_str().into(), kind.into(), record.into(), to.into(), edge_db::now().into(), how.into()],
    )?;
    Ok(())
}

/// Ends a handover: `done` with the counts, or `failed` with why.
pub fn finish<D: Db + ?Sized>(db: &D, w: &Writer, h: &Handover, error: Option<&str>) -> Result<Handover> {
    let r = db.run("SELECT kind, to_user, count(*) FROM handover_moves WHERE handover_id = ? GROUP BY 1, 2", &[h.id.as_str().into()])?;
    let mut moved = serde_json::Map::new();
    for row in r.iter() {
        let e = moved.entry(row.text(0)).or_insert(json!({"total": 0, "to": {}}));
        let n = row.i64(2).unwrap_or(0);
        e["total"] = (e["total"].as_i64().unwrap_or(0) + n).into();
        e["to"][row.text(1)] = n.into();
    }
    db.run(
        "UPDATE handovers SET status = ?, moved = ?, error = ?, finished_at = ? WHERE id = ?",
        &[(if error.is_some() { "failed" } else { "done" }).into(), Value::Object(moved).to_string().into(), error.into(), edge_db::now().into(), h.id.as_str().into()],
    )?;
    let after = get(db, &h.id)?.ok_or(NotFound)?;
    edge_db::record::append_event(db, "automation_events", w, "handover", &h.id, if error.is_some() { "failed" } else { "finished" }, None, Some(&serde_json::to_value(&after)?))?;
    Ok(after)
}

/// Progress so far (moves per kind).
pub fn progress<D: Db + ?Sized>(db: &D, id: &str) -> Result<Value> {
    let r = db.run("SELECT kind, count(*) FROM handover_moves WHERE handover_id = ? GROUP BY kind", &[id.into()])?;
    Ok(Value::Object(r.iter().map(|row| (row.text(0), Value::from(row.i64(1).unwrap_or(0)))).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_stay_together_and_the_rest_is_shared_evenly() {
        let db = edge_db::native::migrated(crate::schema::COMPONENT, crate::schema::MIGRATIONS);
        let w = edge_db::native::writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZO");
        let (a, b, rep) = ("u_01HZZZZZZZZZZZZZZZZZZZZZZA".to_string(), "u_01HZZZZZZZZZZZZZZZZZZZZZZB".to_string(), "u_01HZZZZZZZZZZZZZZZZZZZZZZR".to_string());
        let bad = HandoverInput { from_user_id: rep.clone(), to_user_ids: vec![rep.clone()], include: Some(vec!["cars".into()]), rules: vec![] };
        assert_eq!(start(&db, &w, &bad).unwrap_err().downcast_ref::<Invalid>().unwrap().0.len(), 2);
        let h = start(&db, &w, &HandoverInput { from_user_id: rep.clone(), to_user_ids: vec![a.clone(), b.clone()], include: None, rules: vec![] }).unwrap();
        assert!(start(&db, &w, &HandoverInput { from_user_id: rep.clone(), to_user_ids: vec![a.clone()], include: None, rules: vec![] }).is_err(), "one at a time");
        for co in ["co_1", "co_2", "co_3"] {
            let (to, how) = pick(&db, &h, "companies", &json!({"id": co})).unwrap();
            assert_eq!(how, "turn");
            moved(&db, &h, "companies", co, &to, how).unwrap();
        }
        // co_1 → a, co_2 → b, co_3 → a; a contact at co_2 follows it; one without a company takes the next turn.
        assert_eq!(pick(&db, &h, "contacts", &json!({"company_id": "co_2"})).unwrap(), (b.clone(), "company"));
        assert_eq!(pick(&db, &h, "contacts", &json!({})).unwrap(), (a.clone(), "turn"));
        moved(&db, &h, "contacts", "c_1", &a, "turn").unwrap();
        assert_eq!(pick(&db, &h, "contacts", &json!({"company_id": "co_elsewhere"})).unwrap().0, b, "a company not in the handover: turns as usual");
        let done = finish(&db, &w, &h, None).unwrap();
        assert_eq!(done.status, "done");
        assert_eq!(done.moved, json!({"companies": {"total": 3, "to": {a.clone(): 2, b.clone(): 1}}, "contacts": {"total": 1, "to": {a.clone(): 1}}}));
    }

    #[test]
    fn rules_route_by_fields_before_turns_and_the_plan_says_so() {
        let (a, b) = ("u_01HZZZZZZZZZZZZZZZZZZZZZZA".to_string(), "u_01HZZZZZZZZZZZZZZZZZZZZZZB".to_string());
        let to = vec![a.clone(), b.clone()];
        let rules = vec![
            HandoverRule { field: "country".into(), values: vec!["DE".into(), "at".into()], to_user_id: b.clone() },
            HandoverRule { field: "tag".into(), values: vec!["Key account".into()], to_user_id: a.clone() },
        ];
        assert!(rules[0].matches(&json!({"address": {"country": "de"}})));
        assert!(!rules[0].matches(&json!({"address": null})));
        assert!(rules[1].matches(&json!({"tags": ["key account"]})));
        let companies = vec![json!({"id": "co_1", "address": {"country": "DE"}}), json!({"id": "co_2", "tags": ["key account"]}), json!({"id": "co_3"}), json!({"id": "co_4"})];
        // A contact at co_1 follows it to b although the tag rule says a; then the Austrian goes to b by rule; two by turns.
        let contacts = vec![json!({"company_id": "co_1", "tags": ["key account"]}), json!({"address": {"country": "AT"}}), json!({}), json!({})];
        let p = plan(&to, &rules, &[("companies", companies), ("contacts", contacts)]);
        assert_eq!(p["companies"][&a], json!({"total": 2, "company": 0, "rule": 1, "turn": 1}), "{p}");
        assert_eq!(p["companies"][&b], json!({"total": 2, "company": 0, "rule": 1, "turn": 1}), "{p}");
        assert_eq!(p["contacts"][&b], json!({"total": 3, "company": 1, "rule": 1, "turn": 1}), "{p}");
        assert_eq!(p["contacts"][&a], json!({"total": 1, "company": 0, "rule": 0, "turn": 1}), "{p}");
        // Rules only name colleagues in the handover, on fields it knows.
        let bad = HandoverInput { from_user_id: "u_01HZZZZZZZZZZZZZZZZZZZZZZR".into(), to_user_ids: vec![a.clone()], include: None, rules: vec![HandoverRule { field: "shoe_size".into(), values: vec![], to_user_id: b.clone() }] };
        assert_eq!(checked(&bad).unwrap_err().downcast_ref::<Invalid>().unwrap().0.len(), 3);
    }
}
