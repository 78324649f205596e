//! The HTTP adapter every feature component shares. A component's handler is
//! `respond(&ctx, route(&ctx))`: routes read the request through [`Ctx`] (the
//! router's trusted headers, JSON bodies, `If-Match`, `Idempotency-Key`) and
//! answer a plain [`Reply`] or a [`Problem`].

pub mod mail_api;

use edge_db::record::{self, Writer};
use edge_http::{FieldError, Problem, Reply, Visibility};
use spin_sdk::http::{Method, Request, Response};

pub struct Ctx<'a> {
    pub req: &'a Request,
    pub request_id: Option<String>,
    pub actor: String,
}

fn random10() -> [u8; 10] {
    random_bytes::<10>()
}

/// `N` random bytes from WASI (tokens, secrets).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let bytes = wasi::random::random::get_random_bytes(N as u64);
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b;
    }
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

    /// The path split into its non-empty segments.
    pub fn segments(&self) -> Vec<String> {
        self.req.path().split('/').filter(|s| !s.is_empty()).map(String::from).collect()
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

    /// A Spin variable (the platform binds plan limits and such per tenant).
    pub fn variable(&self, name: &str) -> Option<String> {
        spin_sdk::variables::get(name).ok().filter(|v| !v.is_empty())
    }
}

/// The component's answer: a reply, or its problem with the request id (5xx logged).
pub fn respond(component: &str, ctx: &Ctx, result: Result<Reply, Problem>) -> Response {
    let reply = match result {
        Ok(r) => r,
        Err(p) => {
            if p.status >= 500 {
                eprintln!("{component}: request {} failed: {}", ctx.request_id.as_deref().unwrap_or("-"), p.detail);
            }
            p.with_request_id(ctx.request_id.as_deref()).into()
        }
    };
    let mut resp = Response::builder();
    resp.status(reply.status);
    for (k, v) in reply.headers {
        resp.header(k, v);
    }
    resp.body(reply.body).build()
}

pub fn storage(e: impl std::fmt::Display) -> Problem {
    Problem::internal(&format!("storage error: {e}"))
}

/// The problems every store's typed errors map to; None for anything else.
pub fn record_problem(e: &anyhow::Error, what: &str) -> Option<Problem> {
    if let Some(record::Invalid(errors)) = e.downcast_ref::<record::Invalid>() {
        return Some(Problem::validation(errors.clone()));
    }
    if e.downcast_ref::<record::NotFound>().is_some() {
        return Some(Problem::not_found(&format!("No {what} with this id")));
    }
    if let Some(record::VersionMismatch(v)) = e.downcast_ref::<record::VersionMismatch>() {
        return Some(Problem::new(412, "precondition-failed", "Changed meanwhile", &format!("The {what} was changed by someone else (now version {v}). Reload it and apply your change again.")));
    }
    if let Some(c) = e.downcast_ref::<record::Conflict>() {
        return Some(Problem::new(409, c.kind, "Conflict", &c.message));
    }
    None
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

/// A 400 naming one field.
pub fn field_error(field: &str, message: &str) -> Problem {
    Problem::validation(vec![FieldError::new(field, message)])
}

/// Runs a write in one transaction, at most once per Idempotency-Key: the
/// answer is saved (in `table`) in the same transaction, and a repeat gets the
/// first answer. `f` must not open transactions of its own.
pub fn once(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, table: &str, f: impl FnOnce() -> Result<Reply, Problem>) -> Result<Reply, Problem> {
    use edge_db::Db;
    let key = ctx.idempotency_key()?;
    db.run("BEGIN IMMEDIATE", &[]).map_err(storage)?;
    let result = (|| {
        if let Some(key) = &key {
            if let Some((status, body)) = record::idempotent_answer(db, table, key).map_err(storage)? {
                return Ok(Reply { status, headers: vec![("content-type".into(), "application/json".into()), ("idempotent-replay".into(), "true".into())], body: body.into_bytes() });
            }
        }
        let reply = f()?;
        if let Some(key) = &key {
            record::save_idempotent_answer(db, table, key, reply.status, &String::from_utf8_lossy(&reply.body)).map_err(storage)?;
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

/// Calls another component of this app over `http://<component>.spin.internal`
/// (service chaining), carrying the caller's trusted headers. `as_platform`
/// drops the caller's record visibility: for effects the platform owes
/// whatever the caller may see (a won deal makes its contact a customer).
pub fn call(ctx: &Ctx, method: Method, component: &str, path: &str, body: Option<&serde_json::Value>, extra: &[(&str, String)], as_platform: bool) -> anyhow::Result<(u16, Option<String>, serde_json::Value)> {
    let mut req = Request::builder();
    req.method(method).uri(format!("http://{component}.spin.internal{path}"));
    for h in ["edge-tenant", "edge-actor", "edge-role", "edge-base-url", "x-request-id"] {
        if let Some(v) = ctx.header(h) {
            req.header(h, v);
        }
    }
    if !as_platform {
        if let Some(v) = ctx.header("edge-visibility") {
            req.header("edge-visibility", v);
        }
    }
    for (k, v) in extra {
        req.header(*k, v.as_str());
    }
    if let Some(b) = body {
        req.header("content-type", "application/json");
        req.body(serde_json::to_vec(b)?);
    }
    let resp: Response = spin_sdk::http::run(spin_sdk::http::send(req.build())).map_err(|e| anyhow::anyhow!("{component} did not answer: {e}"))?;
    let etag = resp.header("etag").and_then(|v| v.as_str()).map(String::from);
    let v = serde_json::from_slice(resp.body()).unwrap_or(serde_json::Value::Null);
    Ok((*resp.status(), etag, v))
}
