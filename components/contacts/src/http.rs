//! The request side of the adapter: trusted headers from the router, JSON
//! bodies, preconditions, and the mapping of domain errors to problems.

use contacts_domain::store::{self, Writer};
use contacts_domain::Visibility;
use edge_http::{FieldError, Problem, Reply};
use spin_sdk::http::{Method, Request};

pub struct Ctx<'a> {
    pub req: &'a Request,
    pub request_id: Option<String>,
    pub actor: String,
}

fn random10() -> [u8; 10] {
    let bytes = wasi::random::random::get_random_bytes(10);
    let mut out = [0u8; 10];
    out.copy_from_slice(&bytes[..10]);
    out
}

impl<'a> Ctx<'a> {
    pub fn new(req: &'a Request) -> Ctx<'a> {
        let h = |n: &str| req.header(n).and_then(|v| v.as_str()).map(String::from);
        Ctx { request_id: h("x-request-id"), actor: h("edge-actor").unwrap_or_else(|| "anonymous".into()), req }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.req.header(name).and_then(|v| v.as_str()).map(String::from)
    }

    pub fn method(&self) -> &Method {
        self.req.method()
    }

    pub fn query(&self) -> &str {
        self.req.query()
    }

    /// What the caller may see, from the router's trusted header.
    pub fn visibility(&self) -> Visibility {
        Visibility::from_header(self.header("edge-visibility").as_deref())
    }

    pub fn writer(&self) -> Writer<'_> {
        Writer { actor: &self.actor, request_id: self.request_id.as_deref(), random: &random10 }
    }

    pub fn role(&self) -> String {
        self.header("edge-role").unwrap_or_default()
    }

    /// A JSON body (content type checked).
    pub fn json(&self) -> Result<serde_json::Value, Problem> {
        let is_json = self.header("content-type").is_some_and(|ct| ct.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
        if !is_json {
            return Err(Problem::unsupported_media_type());
        }
        let v: serde_json::Value = serde_json::from_slice(self.req.body()).map_err(|e| Problem::bad_request(&format!("The body is not valid JSON: {e}")))?;
        if !v.is_object() {
            return Err(Problem::bad_request("The body must be a JSON object"));
        }
        Ok(v)
    }

    pub fn body<T: serde::de::DeserializeOwned>(&self) -> Result<T, Problem> {
        serde_json::from_value(self.json()?).map_err(|e| Problem::bad_request(&format!("The body does not fit: {e}")))
    }

    /// `If-Match: "3"` → Some(3).
    pub fn if_match(&self) -> Result<Option<i64>, Problem> {
        match self.header("if-match") {
            None => Ok(None),
            Some(v) => v.trim().trim_start_matches("W/").trim_matches('"').parse().map(Some).map_err(|_| Problem::bad_request("If-Match must be an ETag this API issued, like \"3\"")),
        }
    }

    /// The caller-scoped idempotency key of a write, if sent.
    pub fn idempotency_key(&self) -> Result<Option<String>, Problem> {
        match self.header("idempotency-key") {
            None => Ok(None),
            Some(k) if !k.is_empty() && k.len() <= 200 => Ok(Some(format!("{}:{}:{}", self.actor, self.req.path(), k))),
            Some(_) => Err(Problem::bad_request("Idempotency-Key must be 1 to 200 characters")),
        }
    }

    /// The plan's record limit, bound per tenant by the platform.
    pub fn max_records(&self) -> i64 {
        spin_sdk::variables::get("max_records").ok().and_then(|v| v.parse().ok()).unwrap_or(i64::MAX)
    }
}

pub fn db() -> Result<spin_sdk::sqlite::Connection, Problem> {
    edge_db::spin::open(contacts_domain::schema::COMPONENT, contacts_domain::schema::MIGRATIONS).map_err(storage)
}

pub fn storage(e: impl std::fmt::Display) -> Problem {
    Problem::internal(&format!("storage error: {e}"))
}

/// Domain errors to problems; anything else is a storage failure.
pub fn problem(e: anyhow::Error, what: &str) -> Problem {
    if let Some(store::Invalid(errors)) = e.downcast_ref::<store::Invalid>() {
        return Problem::validation(errors.clone());
    }
    if e.downcast_ref::<store::NotFound>().is_some() {
        return Problem::not_found(&format!("No {what} with this id"));
    }
    if let Some(store::VersionMismatch(v)) = e.downcast_ref::<store::VersionMismatch>() {
        return Problem::new(412, "precondition-failed", "Changed meanwhile", &format!("The {what} was changed by someone else (now version {v}). Reload it and apply your change again."));
    }
    if let Some(store::LimitReached(n)) = e.downcast_ref::<store::LimitReached>() {
        return Problem::new(403, "plan-limit", "Plan limit reached", &format!("Your plan allows {n} contacts. Delete some or upgrade the plan."));
    }
    if let Some(store::BadReference(field)) = e.downcast_ref::<store::BadReference>() {
        return Problem::validation(vec![FieldError::new(field, "does not name an existing record you can see")]);
    }
    if let Some(store::merges::Conflict(m)) = e.downcast_ref::<store::merges::Conflict>() {
        return Problem::new(409, "conflict", "Conflict", m);
    }
    if e.downcast_ref::<store::fields::KeyTaken>().is_some() {
        return Problem::validation(vec![FieldError::new("key", "is already used by another field")]);
    }
    storage(format!("{e:#}"))
}

pub fn valid_id(prefix: &str, id: &str, what: &str) -> Result<(), Problem> {
    if edge_http::ids::is_valid(prefix, id) {
        Ok(())
    } else {
        Err(Problem::not_found(&format!("No {what} with this id")))
    }
}

/// A record with its version as ETag.
pub fn with_etag<T: serde::Serialize>(status: u16, v: &T, version: i64) -> Reply {
    Reply::json(status, v).with_header("etag", format!("\"{version}\""))
}

/// Runs a create in one transaction, at most once per Idempotency-Key: the
/// answer is saved in the same transaction, and a repeat gets the first answer.
/// `f` must use the store's `*_in_tx` functions.
pub fn once(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, f: impl FnOnce() -> Result<Reply, Problem>) -> Result<Reply, Problem> {
    use edge_db::Db;
    let key = ctx.idempotency_key()?;
    db.run("BEGIN IMMEDIATE", &[]).map_err(storage)?;
    let result = (|| {
        if let Some(key) = &key {
            if let Some((status, body)) = store::idempotent_answer(db, key).map_err(storage)? {
                return Ok(Reply { status, headers: vec![("content-type".into(), "application/json".into()), ("idempotent-replay".into(), "true".into())], body: body.into_bytes() });
            }
        }
        let reply = f()?;
        if let Some(key) = &key {
            store::save_idempotent_answer(db, key, reply.status, &String::from_utf8_lossy(&reply.body)).map_err(storage)?;
        }
        Ok(reply)
    })();
    match result {
        Ok(r) => {
            db.run("COMMIT", &[]).map_err(storage)?;
            Ok(r)
        }
        Err(p) => {
            let _ = db.run("ROLLBACK", &[]);
            Err(p)
        }
    }
}
