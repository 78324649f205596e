//! The contacts component: a thin HTTP adapter over `contacts-domain`, storing in
//! the tenant's SQLite database (which the platform binds to the `default` label).

mod store;

use contacts_domain::{ContactInput, ListQuery, Visibility};
use edge_http::{ids, Page, Problem, Reply};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

const BASE: &str = "/api/v1/contacts";

#[http_component]
fn handle(req: Request) -> Response {
    let request_id = header(&req, "x-request-id");
    let reply = match route(&req, request_id.as_deref()) {
        Ok(r) => r,
        Err(p) => {
            if p.status >= 500 {
                eprintln!("contacts: request {} failed: {}", request_id.as_deref().unwrap_or("-"), p.detail);
            }
            p.with_request_id(request_id.as_deref()).into()
        }
    };
    let mut resp = Response::builder();
    resp.status(reply.status);
    for (k, v) in reply.headers {
        resp.header(k, v);
    }
    resp.body(reply.body).build()
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.header(name).and_then(|v| v.as_str()).map(String::from)
}

fn route(req: &Request, request_id: Option<&str>) -> Result<Reply, Problem> {
    let path = req.path().trim_end_matches('/');
    // Only the host calls this (provisioning); the router never forwards /internal.
    if path == "/internal/migrate" && *req.method() == Method::Post {
        let v = edge_sqlite::provision(contacts_domain::schema::COMPONENT, contacts_domain::schema::MIGRATIONS).map_err(db_error)?;
        return Ok(Reply::json(200, &v));
    }
    let rest = path.strip_prefix(BASE).ok_or_else(|| Problem::not_found("No such resource"))?;
    match (req.method(), rest) {
        (Method::Get, "") => list(req),
        (Method::Post, "") => create(req, request_id),
        (_, "") => Err(Problem::method_not_allowed("GET, POST")),
        (Method::Get, id) => get(req, id.trim_start_matches('/')),
        (_, _) => Err(Problem::method_not_allowed("GET")),
    }
}

fn db_error(e: impl std::fmt::Display) -> Problem {
    Problem::internal(&format!("storage error: {e}"))
}

/// What the caller may see, from the router's trusted headers.
fn visibility(req: &Request) -> Visibility {
    Visibility::from_header(header(req, "edge-visibility").as_deref())
}

fn list(req: &Request) -> Result<Reply, Problem> {
    let q = ListQuery::parse(req.query()).map_err(Problem::validation)?;
    let db = store::open().map_err(db_error)?;
    let mut items = store::list(&db, &q, &visibility(req)).map_err(db_error)?;
    let fetched = items.len();
    items.truncate(q.limit as usize);
    let next_cursor = q.next_cursor(fetched, items.last().map(|c| c.id.as_str()));
    Ok(Reply::json(200, &Page { items, next_cursor }))
}

fn get(req: &Request, id: &str) -> Result<Reply, Problem> {
    if !ids::is_valid(contacts_domain::ID_PREFIX, id) {
        return Err(Problem::not_found("No contact with this id"));
    }
    let db = store::open().map_err(db_error)?;
    match store::get(&db, id, &visibility(req)).map_err(db_error)? {
        Some(c) => Ok(Reply::json(200, &c).with_header("etag", format!("\"{}\"", c.version))),
        None => Err(Problem::not_found("No contact with this id")),
    }
}

fn create(req: &Request, request_id: Option<&str>) -> Result<Reply, Problem> {
    let is_json = header(req, "content-type")
        .is_some_and(|ct| ct.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !is_json {
        return Err(Problem::unsupported_media_type());
    }
    let input: ContactInput = serde_json::from_slice(req.body())
        .map_err(|e| Problem::bad_request(&format!("The body is not a valid contact: {e}")))?;
    let new = input.validate().map_err(Problem::validation)?;
    let db = store::open().map_err(db_error)?;
    let actor = header(req, "edge-actor").unwrap_or_else(|| "anonymous".into());
    let max_records: i64 = spin_sdk::variables::get("max_records").ok().and_then(|v| v.parse().ok()).unwrap_or(i64::MAX);
    let contact = store::insert(&db, &new, &actor, request_id, max_records).map_err(|e| match e.downcast_ref::<store::LimitReached>() {
        Some(l) => Problem::new(403, "plan-limit", "Plan limit reached", &format!("Your plan allows {} contacts. Delete some or upgrade the plan.", l.0)),
        None => db_error(e),
    })?;
    Ok(Reply::json(201, &contact)
        .with_header("location", format!("{BASE}/{}", contact.id))
        .with_header("etag", format!("\"{}\"", contact.version)))
}
