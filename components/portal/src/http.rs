//! The portal side of the adapter: its database, errors, and the contacts it
//! reads and creates through the contacts API.

use edge_http::{FieldError, Problem, Reply};
pub use edge_component::{storage, valid_id, with_etag, Ctx};
use spin_sdk::http::Method;

pub fn db() -> Result<spin_sdk::sqlite::Connection, Problem> {
    edge_db::spin::open(portal_domain::schema::COMPONENT, portal_domain::schema::MIGRATIONS).map_err(storage)
}

pub fn problem(e: anyhow::Error, what: &str) -> Problem {
    edge_component::record_problem(&e, what).unwrap_or_else(|| storage(format!("{e:#}")))
}

pub fn once(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, f: impl FnOnce() -> Result<Reply, Problem>) -> Result<Reply, Problem> {
    edge_component::once(ctx, db, "portal_idempotency", f)
}

fn upstream(e: impl std::fmt::Display) -> Problem {
    Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts did not answer: {e}"))
}

/// The contact with this email, if any (as the platform: every contact).
pub fn contact_by_email(ctx: &Ctx, email: &str) -> Result<Option<serde_json::Value>, Problem> {
    let filter = serde_json::json!({"field": "email", "op": "eq", "value": email}).to_string();
    let q: String = filter.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    let (status, _, v) = edge_component::call(ctx, Method::Get, "contacts", &format!("/api/v1/contacts?limit=1&filter={q}"), None, &[], true).map_err(upstream)?;
    if status != 200 {
        return Err(upstream(format!("{status} {}", v["detail"])));
    }
    Ok(v["items"].as_array().and_then(|a| a.first()).cloned())
}

/// Resolves the order's customer: `contact_id` must name a contact the caller
/// can see; `customer: {email, first_name, last_name}` finds the contact by
/// email or creates it.
pub fn resolve_customer(ctx: &Ctx, body: &mut serde_json::Value) -> Result<(), Problem> {
    if let Some(customer) = body.get("customer").cloned().filter(|c| !c.is_null()) {
        let email = customer["email"].as_str().map(|e| e.trim().to_lowercase()).unwrap_or_default();
        if !email.contains('@') {
            return Err(Problem::validation(vec![FieldError::new("customer.email", "is required to find or create the customer")]));
        }
        let id = match contact_by_email(ctx, &email)? {
            Some(c) => c["id"].as_str().unwrap_or_default().to_string(),
            None => {
                let new = serde_json::json!({"email": email, "first_name": customer["first_name"], "last_name": customer["last_name"], "lifecycle_stage": "customer", "source": "Orders"});
                let (status, _, v) = edge_component::call(ctx, Method::Post, "contacts", "/api/v1/contacts", Some(&new), &[], true).map_err(upstream)?;
                if status != 201 {
                    let errors = v["errors"].as_array().into_iter().flatten().map(|e| FieldError::new(&format!("customer.{}", e["field"].as_str().unwrap_or("")), e["message"].as_str().unwrap_or(""))).collect::<Vec<_>>();
                    return Err(if errors.is_empty() { upstream(format!("{status} {}", v["detail"])) } else { Problem::validation(errors) });
                }
                v["id"].as_str().unwrap_or_default().to_string()
            }
        };
        body["contact_id"] = id.into();
        body["customer"] = serde_json::Value::Null;
        return Ok(());
    }
    if let Some(id) = body["contact_id"].as_str().filter(|id| edge_http::ids::is_valid("c", id)) {
        let (status, _, _) = edge_component::call(ctx, Method::Get, "contacts", &format!("/api/v1/contacts/{id}"), None, &[], false).map_err(upstream)?;
        if status == 404 {
            return Err(Problem::validation(vec![FieldError::new("contact_id", "does not name an existing contact you can see")]));
        }
    }
    Ok(())
}
