//! The rules engine, run by the scheduler's tick: new changes in the
//! published change logs are matched against enabled rules (a run claimed
//! per rule and event, with the cursor moving in the same transaction), then
//! each pending run reads its record through the owning component's API,
//! checks the conditions and performs the actions as `system:automation`.

use crate::{db, failed};
use automation_domain::rules::{self, Action, Rule};
use edge_component::Ctx;
use edge_db::record::Writer;
use edge_http::{Problem, Reply};
use serde_json::{json, Value};
use spin_sdk::http::Method;

/// Changes read per source per tick, and runs performed per tick.
const BATCH: i64 = 500;
const RUNS_PER_TICK: i64 = 100;

fn path_of(entity: &str, id: &str) -> Option<String> {
    let area = match entity {
        "contact" => ("contacts", "contacts"),
        "company" => ("contacts", "companies"),
        "deal" => ("pipeline", "deals"),
        "ticket" => ("portal", "tickets"),
        "order" => ("portal", "orders"),
        _ => return None,
    };
    Some(format!("{}|/api/v1/{}/{id}", area.0, area.1))
}

fn call(ctx: &Ctx, method: Method, target: &str, body: Option<&Value>, extra: &[(&str, String)]) -> Result<(u16, Value), String> {
    let (component, path) = target.split_once('|').ok_or("no such record type")?;
    crate::platform_call(ctx, method, component, path, body, rules::ACTOR, extra)
}

fn system<'a>(ctx: &'a Ctx) -> Writer<'a> {
    Writer { actor: rules::ACTOR, request_id: ctx.request_id.as_deref(), random: &|| edge_component::random_bytes::<10>() }
}

pub fn tick(ctx: &Ctx) -> Result<Reply, Problem> {
    let db = db()?;
    let fail = failed("rule");
    let w = system(ctx);
    let enabled = rules::enabled(&db).map_err(&fail)?;
    let mut claimed = 0;
    let mut busy = false;
    if enabled.is_empty() {
        rules::skip_to_end(&db).map_err(&fail)?;
    } else {
        for source in rules::SOURCES {
            let batch = edge_db::tx(&db, || {
                let changes = rules::changes(&db, source, BATCH)?;
                let mut n = 0;
                for c in &changes {
                    for r in enabled.iter().filter(|r| rules::fires(r, c)) {
                        n += rules::claim(&db, &w, r, c)?.is_some() as usize;
                    }
                }
                if let Some(last) = changes.last() {
                    rules::advance(&db, source, &last.position)?;
                }
                Ok((n, changes.len() as i64 == BATCH))
            })
            .map_err(&fail)?;
            claimed += batch.0;
            busy |= batch.1;
        }
    }
    // Date rules without a zone of their own count days in the workspace's.
    let dated: Vec<&Rule> = enabled.iter().filter(|r| r.trigger.kind == "date").collect();
    let workspace_zone = if dated.iter().any(|r| r.trigger.time_zone.is_none()) {
        match crate::platform_call(ctx, Method::Get, "identity", "/internal/settings/workspace", None, rules::ACTOR, &[]) {
            Ok((200, v)) => v["time_zone"].as_str().map(String::from),
            _ => None,
        }
    } else {
        None
    };
    for r in dated {
        if let Err(e) = date_rule(ctx, &db, &w, r, workspace_zone.as_deref()) {
            eprintln!("automation: date rule {}: {e}", r.id);
        }
    }
    for r in enabled.iter().filter(|r| r.trigger.kind == "segment_joined") {
        match segment_rule(ctx, &db, &w, r) {
            Ok(more) => busy |= more,
            Err(e) => eprintln!("automation: segment rule {}: {e}", r.id),
        }
    }
    let pending = rules::pending(&db, RUNS_PER_TICK).map_err(&fail)?;
    busy |= pending.len() as i64 == RUNS_PER_TICK;
    let mut done = 0;
    for (run, rule_id, entity, entity_id) in &pending {
        let rule = rules::get(&db, rule_id).map_err(&fail)?;
        let (status, results, error) = match rule.filter(|r| r.enabled) {
            // A disabled rule stops at once, runs already claimed included.
            None => ("skipped", json!([]), Some("the rule is off".to_string())),
            Some(rule) => perform(ctx, &db, &rule, run, entity, entity_id),
        };
        rules::finish(&db, run, status, &results, error.as_deref()).map_err(&fail)?;
        done += (status == "done") as usize;
    }
    match crate::handover::keep_going(ctx) {
        Ok(more) => busy |= more,
        Err(p) => eprintln!("automation: handover: {}", p.detail),
    }
    // Customer value follows the orders (its own errors do not stop the rules).
    match crate::insight::keep_current(ctx) {
        Ok(more) => busy |= more,
        Err(p) => eprintln!("automation: customer value: {}", p.detail),
    }
    let next = busy.then(|| (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339());
    Ok(Reply::json(200, &json!({"claimed": claimed, "performed": done, "next_tick_at": next})))
}

/// Reads the record, checks the conditions, performs the actions.
fn perform(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, rule: &Rule, run: &str, entity: &str, id: &str) -> (&'static str, Value, Option<String>) {
    let Some(target) = path_of(entity, id) else { return ("skipped", json!([]), Some(format!("{entity} records have no actions"))) };
    let record = match call(ctx, Method::Get, &target, None, &[]) {
        Ok((200, v)) => v,
        Ok((404, _)) => return ("skipped", json!([]), Some("the record is gone".into())),
        Ok((s, v)) => return ("retry", json!([]), Some(format!("reading the record: {s} {}", v["detail"]))),
        Err(e) => return ("retry", json!([]), Some(e)),
    };
    let mut record = record;
    if entity == "contact" {
        // Customer value is a field rules may test (`value.at_risk`, `value.rfm`, …).
        record["value"] = automation_domain::value::of(db, id).ok().flatten().unwrap_or(Value::Null);
    }
    if entity == "order" {
        // Which of the customer's orders this is (1: their first).
        if let (Some(contact), Some(at)) = (record["contact_id"].as_str(), record["placed_at"].as_str()) {
            let n = automation_domain::value::order_number(db, contact, at, id).ok().flatten();
            record["order_number"] = n.map_or(Value::Null, Value::from);
        }
    }
    if !rules::conditions_hold(rule, &record) {
        return ("skipped", json!([]), Some("the conditions do not hold".into()));
    }
    let mut results = Vec::new();
    for (i, a) in rule.actions.iter().enumerate() {
        match act(ctx, a, &format!("{run}-{i}"), entity, &target, &record) {
            Ok(note) => results.push(json!({"kind": a.kind, "ok": true, "detail": note})),
            Err(e) => {
                results.push(json!({"kind": a.kind, "ok": false, "detail": e}));
                return ("retry", Value::Array(results), Some(e));
            }
        }
    }
    ("done", Value::Array(results), None)
}

fn name_of(record: &Value) -> String {
    for k in ["title", "name", "subject", "number"] {
        if let Some(s) = record[k].as_str() {
            return s.to_string();
        }
    }
    [record["first_name"].as_str(), record["last_name"].as_str()].iter().flatten().copied().collect::<Vec<_>>().join(" ")
}

/// The record's change as a merge patch, made against the version read.
fn patch(ctx: &Ctx, target: &str, record: &Value, body: Value) -> Result<String, String> {
    let version = record["version"].as_i64().map(|v| format!("\"{v}\""));
    let extra: Vec<(&str, String)> = version.into_iter().map(|v| ("if-match", v)).collect();
    match call(ctx, Method::Patch, target, Some(&body), &extra)? {
        (200, _) => Ok(body.to_string()),
        (s, v) => Err(format!("{s}: {}", v["detail"].as_str().unwrap_or("refused"))),
    }
}

fn act(ctx: &Ctx, a: &Action, key: &str, entity: &str, target: &str, record: &Value) -> Result<String, String> {
    match a.kind.as_str() {
        "create_task" => {
            let subject = a.subject.clone().unwrap_or_default().replace("{{ name }}", &name_of(record));
            let assignee = match a.user.as_deref() {
                Some("owner") | None => record["owner_id"].as_str().or(record["assignee_id"].as_str()).map(String::from),
                Some(u) => Some(u.to_string()),
            };
            let due = chrono::Utc::now() + chrono::Duration::days(a.due_in_days.unwrap_or(1));
            let mut body = json!({"kind": "task", "subject": subject, "due_at": due.to_rfc3339(), "assignee_id": assignee});
            match entity {
                "contact" => body["contact_id"] = record["id"].clone(),
                "company" => body["company_id"] = record["id"].clone(),
                "deal" => {
                    body["deal_id"] = record["id"].clone();
                    body["contact_id"] = record["contact_id"].clone();
                }
                _ => body["contact_id"] = record["contact_id"].clone(),
            }
            match call(ctx, Method::Post, "contacts|/api/v1/activities", Some(&body), &[("idempotency-key", format!("rule-{key}"))])? {
                (200 | 201, v) => Ok(format!("task {}", v["id"].as_str().unwrap_or_default())),
                (s, v) => Err(format!("{s}: {}", v["detail"].as_str().unwrap_or("refused"))),
            }
        }
        "add_tag" => {
            let tag = a.tag.clone().unwrap_or_default();
            let mut tags: Vec<Value> = record["tags"].as_array().cloned().unwrap_or_default();
            if tags.iter().any(|t| t.as_str() == Some(tag.as_str())) {
                return Ok("already tagged".into());
            }
            tags.push(tag.into());
            patch(ctx, target, record, json!({"tags": tags}))
        }
        "update_field" => {
            let field = a.field.clone().unwrap_or_default();
            let value = a.value.clone().unwrap_or(Value::Null);
            let body = match field.strip_prefix("custom.") {
                Some(k) => json!({"custom": {k: value}}),
                None => json!({field: value}),
            };
            patch(ctx, target, record, body)
        }
        "change_owner" => {
            let key = if entity == "ticket" { "assignee_id" } else { "owner_id" };
            patch(ctx, target, record, json!({key: a.user}))
        }
        "send_email" | "enrol_in_sequence" => {
            let contact = if entity == "contact" { record["id"].as_str() } else { record["contact_id"].as_str() };
            let Some(contact) = contact else { return Ok("no contact to write to".into()) };
            let (path, body) = if a.kind == "send_email" {
                ("campaigns|/internal/send", json!({"contact_id": contact, "template_id": a.template_id, "key": key}))
            } else {
                ("campaigns|/internal/enrol", json!({"contact_id": contact, "sequence_id": a.sequence_id, "key": key}))
            };
            match call(ctx, Method::Post, path, Some(&body), &[])? {
                // Consent or suppression said no: done, with why.
                (200, v) if v["skipped"].is_string() => Ok(format!("not sent: {}", v["skipped"].as_str().unwrap_or_default())),
                (200, v) => Ok(v.to_string()),
                (s, v) => Err(format!("{s}: {}", v["detail"].as_str().unwrap_or("refused"))),
            }
        }
        "webhook" => {
            let db = crate::db().map_err(|p| p.detail)?;
            let secret = crate::webhook_secret(&db).map_err(|p| p.detail)?;
            let body = json!({"rule": key.split('-').next(), "run": key, "entity": entity, "record": record, "at": edge_db::now()}).to_string();
            let url = a.url.clone().unwrap_or_default();
            let mut req = spin_sdk::http::Request::builder();
            req.method(Method::Post).uri(&url).header("content-type", "application/json").header("idempotency-key", format!("rule-{key}"))
                .header("x-edge-signature", edge_http::hmac::signature(&secret, chrono::Utc::now().timestamp(), body.as_bytes()));
            let resp: spin_sdk::http::Response = spin_sdk::http::run(spin_sdk::http::send(req.body(body).build())).map_err(|e| format!("{url}: {e}"))?;
            match *resp.status() {
                s @ 200..=299 => Ok(format!("{url} answered {s}")),
                s => Err(format!("{url} answered {s}")),
            }
        }
        other => Err(format!("unknown action {other}")),
    }
}


/// A date rule's new days: the contacts whose date falls right for each day
/// get a run claimed (once per contact and day, whatever restarts); the day
/// is done when every page is claimed.
fn date_rule(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, w: &Writer, r: &Rule, workspace_zone: Option<&str>) -> Result<(), String> {
    let last = rules::date_cursor(db, &r.id).map_err(|e| e.to_string())?;
    for day in rules::due_days(r, last.as_deref(), chrono::Utc::now(), workspace_zone) {
        let filter = rules::date_filter(r, day).to_string();
        let mut cursor: Option<String> = None;
        for _ in 0..50 {
            let mut path = format!("contacts|/api/v1/contacts?limit=200&filter={}", edge_http::query::encode(&filter));
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", edge_http::query::encode(c)));
            }
            let page = match call(ctx, Method::Get, &path, None, &[])? {
                (200, v) => v,
                (s, v) => return Err(format!("contacts answered {s}: {}", v["detail"])),
            };
            let ids: Vec<String> = page["items"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str().map(String::from)).collect();
            edge_db::tx(db, || {
                for id in &ids {
                    let c = rules::Change {
                        source: format!("date:{}", r.id), position: format!("{day}|{id}"), at: edge_db::now(), actor: "system:calendar".into(),
                        entity: "contact".into(), entity_id: id.clone(), action: "date".into(), before: Value::Null, after: Value::Null,
                    };
                    rules::claim(db, w, r, &c)?;
                }
                Ok(())
            })
            .map_err(|e| e.to_string())?;
            cursor = page["next_cursor"].as_str().filter(|_| !ids.is_empty()).map(String::from);
            if cursor.is_none() {
                break;
            }
        }
        rules::set_date_cursor(db, &r.id, day).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A `segment_joined` rule's membership pass (every few minutes, a bounded
/// number of pages per tick): members not in the last pass are joiners and
/// get a run each; the first pass only learns who is in already. Answers
/// whether the pass is still going.
fn segment_rule(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, w: &Writer, r: &Rule) -> Result<bool, String> {
    let now = chrono::Utc::now();
    let mut p = rules::pass(db, &r.id).map_err(|e| e.to_string())?.unwrap_or(rules::Pass { first: true, ..Default::default() });
    if p.cursor.is_none() {
        if p.next_at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).is_some_and(|t| t > now) {
            return Ok(false);
        }
        p.id = format!("{}", now.timestamp_millis());
        p.cursor = Some(String::new());
    }
    let seg_id = r.trigger.segment_id.clone().unwrap_or_default();
    let seg = match call(ctx, Method::Get, &format!("campaigns|/api/v1/segments/{seg_id}"), None, &[])? {
        (200, v) => v,
        (s, v) => return Err(format!("segment answered {s}: {}", v["detail"])),
    };
    let filter = if seg["kind"] == "static" { json!({"field": "lists", "op": "has", "value": seg_id}) } else { seg["filter"].clone() };
    let filter = edge_http::query::encode(&filter.to_string());
    for _ in 0..25 {
        let mut path = format!("contacts|/api/v1/contacts?limit=200&filter={filter}");
        if let Some(c) = p.cursor.as_deref().filter(|c| !c.is_empty()) {
            path.push_str(&format!("&cursor={}", edge_http::query::encode(c)));
        }
        let page = match call(ctx, Method::Get, &path, None, &[])? {
            (200, v) => v,
            (s, v) => return Err(format!("contacts answered {s}: {}", v["detail"])),
        };
        let ids: Vec<String> = page["items"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str().map(String::from)).collect();
        let next = page["next_cursor"].as_str().filter(|_| !ids.is_empty()).map(String::from);
        edge_db::tx(db, || {
            let joined = rules::seen(db, &r.id, &p.id, &ids)?;
            if !p.first {
                for id in joined {
                    let c = rules::Change {
                        source: format!("segment:{}", r.id), position: format!("{id}|{}", p.id), at: edge_db::now(), actor: "system:segments".into(),
                        entity: "contact".into(), entity_id: id, action: "segment_joined".into(), before: Value::Null, after: Value::Null,
                    };
                    rules::claim(db, w, r, &c)?;
                }
            }
            match &next {
                Some(n) => p.cursor = Some(n.clone()),
                None => {
                    rules::end_pass(db, &r.id, &p.id)?;
                    p.cursor = None;
                    // After the first pass (which only learned who is in), look again at once.
                    let wait = if p.first { chrono::Duration::zero() } else { chrono::Duration::minutes(rules::SEGMENT_EVERY_MINUTES) };
                    p.first = false;
                    p.next_at = Some((now + wait).to_rfc3339());
                }
            }
            rules::set_pass(db, &r.id, &p)
        })
        .map_err(|e| e.to_string())?;
        if p.cursor.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}
