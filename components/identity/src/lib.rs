//! The identity component: staff sign-in and sessions, invitations, password
//! resets, user management and the outbox that carries their emails. A thin
//! HTTP adapter over `identity-domain`; sessions live in the tenant's key-value
//! store, everything else in its SQLite database.

mod mail;
mod sessions;
mod store;
mod teams;

use edge_http::{FieldError, Problem, Reply};
use identity_domain::session::{self, Session};
use identity_domain::settings::{self, RecordVisibility};
use identity_domain::{apikey, password, throttle, token, Access, Area, Role};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use store::User;

/// Invitations and resets are valid this long.
const INVITE_TTL: i64 = 7 * 24 * 3600;
const RESET_TTL: i64 = 3600;

struct Ctx<'a> {
    req: &'a Request,
    request_id: Option<String>,
}

impl Ctx<'_> {
    fn header(&self, name: &str) -> Option<String> {
        self.req.header(name).and_then(|v| v.as_str()).map(String::from)
    }

    /// `http://acme.localhost:3000`: where links in emails point.
    fn base_url(&self) -> String {
        self.header("edge-base-url").unwrap_or_else(|| "http://localhost:3000".into())
    }

    fn secure(&self) -> bool {
        self.base_url().starts_with("https://")
    }

    fn body<T: serde::de::DeserializeOwned>(&self) -> Result<T, Problem> {
        let is_json = self
            .header("content-type")
            .is_some_and(|ct| ct.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
        if !is_json {
            return Err(Problem::unsupported_media_type());
        }
        serde_json::from_slice(self.req.body()).map_err(|e| Problem::bad_request(&format!("Invalid body: {e}")))
    }

    /// The signed-in session, CSRF-checked for state-changing requests.
    fn session(&self) -> Result<(String, Session), Problem> {
        let tok = self
            .header("cookie")
            .and_then(|c| session::from_cookie_header(&c).map(String::from))
            .ok_or_else(unauthenticated)?;
        let kv = sessions::store().map_err(internal)?;
        let (digest, s) = sessions::lookup(&kv, &tok, store::unix()).map_err(internal)?.ok_or_else(unauthenticated)?;
        if !matches!(self.req.method(), Method::Get | Method::Head) {
            let sent = self.header("x-csrf-token").unwrap_or_default();
            if !token::same(&sent, &s.csrf) {
                return Err(Problem::new(403, "csrf", "Forbidden", "Missing or wrong x-csrf-token header"));
            }
        }
        Ok((digest, s))
    }

    fn require(&self, area: Area, need: Access) -> Result<Session, Problem> {
        let (_, s) = self.session()?;
        if s.role.access(area) < need {
            return Err(Problem::new(403, "forbidden", "Forbidden", "Your role does not allow this"));
        }
        Ok(s)
    }
}

fn unauthenticated() -> Problem {
    Problem::new(401, "unauthenticated", "Sign-in required", "Sign in to continue")
}

fn internal(e: impl std::fmt::Display) -> Problem {
    Problem::internal(&format!("identity: {e}"))
}

fn gone() -> Problem {
    Problem::new(410, "gone", "Link expired", "This link has expired or was already used")
}

#[http_component]
fn handle(req: Request) -> Response {
    let ctx = Ctx { request_id: req.header("x-request-id").and_then(|v| v.as_str()).map(String::from), req: &req };
    let reply = match route(&ctx) {
        Ok(r) => r,
        Err(p) => {
            if p.status >= 500 {
                eprintln!("identity: request {}: {}", ctx.request_id.as_deref().unwrap_or("-"), p.detail);
            }
            p.with_request_id(ctx.request_id.as_deref()).into()
        }
    };
    let mut b = Response::builder();
    b.status(reply.status);
    for (k, v) in reply.headers {
        b.header(k, v);
    }
    b.body(reply.body).build()
}

fn route(ctx: &Ctx) -> Result<Reply, Problem> {
    let path = ctx.req.path().trim_end_matches('/').to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let m = ctx.req.method();
    match (m, segs.as_slice()) {
        (Method::Post, ["api", "v1", "auth", "sign-in"]) => sign_in(ctx),
        (Method::Post, ["api", "v1", "auth", "sign-out"]) => sign_out(ctx, false),
        (Method::Post, ["api", "v1", "auth", "sign-out-everywhere"]) => sign_out(ctx, true),
        (Method::Get, ["api", "v1", "auth", "me"]) => me(ctx),
        (Method::Post, ["api", "v1", "auth", "accept-invite"]) => accept_invite(ctx),
        (Method::Post, ["api", "v1", "auth", "request-password-reset"]) => request_reset(ctx),
        (Method::Post, ["api", "v1", "auth", "reset-password"]) => reset_password(ctx),
        (Method::Get, ["api", "v1", "users"]) => list_users(ctx),
        (Method::Get, ["api", "v1", "users", "directory"]) => directory(ctx),
        (Method::Post, ["api", "v1", "users", "invitations"]) => invite(ctx),
        (Method::Patch, ["api", "v1", "users", id]) => change_role(ctx, id),
        (Method::Post, ["api", "v1", "users", id, "deactivate"]) => deactivate(ctx, id),
        (Method::Put, ["api", "v1", "users", id, "team"]) => teams::set_membership(ctx, id),
        (Method::Get, ["api", "v1", "teams"]) => teams::list(ctx),
        (Method::Post, ["api", "v1", "teams"]) => teams::create(ctx),
        (Method::Patch, ["api", "v1", "teams", id]) => teams::rename(ctx, id),
        (Method::Delete, ["api", "v1", "teams", id]) => teams::delete(ctx, id),
        (Method::Get, ["api", "v1", "outbox"]) => outbox(ctx),
        (Method::Get, ["api", "v1", "api-keys"]) => list_keys(ctx),
        (Method::Post, ["api", "v1", "api-keys"]) => create_key(ctx),
        (Method::Delete, ["api", "v1", "api-keys", id]) => revoke_key(ctx, id),
        (Method::Get, ["api", "v1", "audit"]) => audit(ctx),
        (Method::Get, ["api", "v1", "settings", "record-visibility"]) => {
            ctx.require(Area::Settings, Access::Read)?;
            Ok(Reply::json(200, &setting::<RecordVisibility>(settings::RECORD_VISIBILITY_KEY)?))
        }
        (Method::Put, ["api", "v1", "settings", "record-visibility"]) => put_setting::<RecordVisibility>(ctx, settings::RECORD_VISIBILITY_KEY, |_| Ok(())),
        (Method::Get, ["api", "v1", "settings", "workspace"]) => {
            ctx.require(Area::Settings, Access::Read)?;
            Ok(Reply::json(200, &setting::<settings::Workspace>(settings::WORKSPACE_KEY)?))
        }
        (Method::Put, ["api", "v1", "settings", "workspace"]) => put_setting(ctx, settings::WORKSPACE_KEY, settings::Workspace::validate),
        // For other components (date rules count days in the workspace's zone).
        (Method::Get, ["internal", "settings", "workspace"]) => Ok(Reply::json(200, &setting::<settings::Workspace>(settings::WORKSPACE_KEY)?)),
        // Only the host calls this (provisioning); the router never forwards /internal.
        (Method::Post, ["internal", "migrate"]) => {
            edge_db::spin::provision(store::COMPONENT, store::MIGRATIONS).map(|v| Reply::json(200, &v)).map_err(internal)
        }
        (Method::Post, ["internal", "owner"]) => provision_owner(ctx),
        (Method::Post, ["internal", "touch"]) => touch(ctx),
        (Method::Post, ["internal", "key-used"]) => key_used(ctx),
        (Method::Post, ["internal", "mail"]) => internal_mail(ctx),
        // For other components: who a user is (to notify them), not reachable from outside.
        (Method::Get, ["internal", "users", id]) => {
            let db = store::open().map_err(internal)?;
            let u = store::user_by_id(&db, id).map_err(internal)?.ok_or_else(|| Problem::not_found("No such user"))?;
            Ok(Reply::json(200, &json!({ "id": u.id, "name": u.name, "email": u.email, "active": u.state == "active" })))
        }
        _ => Err(Problem::not_found("No such identity route")),
    }
}

fn signed_in(user: &User, tok: &str, csrf: &str, secure: bool) -> Reply {
    Reply::json(200, &json!({ "user": user, "csrf_token": csrf })).with_header("set-cookie", session::set_cookie(tok, secure))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    email: String,
    password: String,
}

fn sign_in(ctx: &Ctx) -> Result<Reply, Problem> {
    let body: SignIn = ctx.body()?;
    let email = body.email.trim().to_lowercase();
    let kv = sessions::store().map_err(internal)?;
    let now = store::unix();
    let addr = ctx.header("edge-client-addr").unwrap_or_default();
    let keys = [throttle::account_key(&email), throttle::address_key(&addr)];
    for k in &keys {
        if let Err(wait) = sessions::failures(&kv, k).map_err(internal)?.check(now) {
            let p = Problem::new(429, "rate-limited", "Too many attempts", "Too many failed sign-ins. Wait and try again.")
                .with_request_id(ctx.request_id.as_deref());
            return Ok(Reply::from(p).with_header("retry-after", wait.to_string()));
        }
    }
    let db = store::open().map_err(internal)?;
    let user = store::user_by_email(&db, &email).map_err(internal)?;
    // Verify even for unknown users, so timing does not reveal who has an account.
    let phc = user.as_ref().and_then(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.into());
    let ok = password::verify(&body.password, &phc) && user.as_ref().is_some_and(|u| u.state == "active");
    let Some(mut user) = user.filter(|_| ok) else {
        for k in &keys {
            sessions::record_failure(&kv, k, now).map_err(internal)?;
        }
        return Err(Problem::new(401, "unauthenticated", "Sign-in failed", "Email or password is wrong"));
    };
    for k in &keys {
        sessions::clear_failures(&kv, k).map_err(internal)?;
    }
    user.last_sign_in_at = Some(store::now());
    store::update_user(&db, &user).map_err(internal)?;
    let (tok, csrf) = sessions::create(&kv, &user.id, &user.email, user.role, now).map_err(internal)?;
    Ok(signed_in(&user, &tok, &csrf, ctx.secure()))
}

/// An argon2id hash of a random string: verifying against it costs the same as a real one.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$KioqKioqKioqKioqKioqKg$lJOtIbdHYEUyuaZk3SedixP1OhMiAqMbjsSevUqtuKw";

fn sign_out(ctx: &Ctx, everywhere: bool) -> Result<Reply, Problem> {
    let (digest, s) = ctx.session()?;
    let kv = sessions::store().map_err(internal)?;
    if everywhere {
        sessions::end_all(&kv, &s.user_id).map_err(internal)?;
    } else {
        sessions::end(&kv, &digest).map_err(internal)?;
    }
    Ok(Reply::empty(204).with_header("set-cookie", session::clear_cookie(ctx.secure())))
}

fn me(ctx: &Ctx) -> Result<Reply, Problem> {
    let (_, s) = ctx.session()?;
    let db = store::open().map_err(internal)?;
    let user = store::user_by_id(&db, &s.user_id).map_err(internal)?.ok_or_else(unauthenticated)?;
    Ok(Reply::json(200, &json!({ "user": user, "csrf_token": s.csrf })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptInvite {
    token: String,
    name: String,
    password: String,
}

fn accept_invite(ctx: &Ctx) -> Result<Reply, Problem> {
    let body: AcceptInvite = ctx.body()?;
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Problem::validation(vec![FieldError::new("name", "is required (at most 200 characters)")]));
    }
    password::check_policy(&body.password, "").map_err(|m| Problem::validation(vec![FieldError::new("password", m)]))?;
    let db = store::open().map_err(internal)?;
    let user = store::tx(&db, || {
        let Some(user_id) = store::use_token(&db, &token::digest(&body.token), "invite")? else { return Ok(None) };
        let Some(mut user) = store::user_by_id(&db, &user_id)? else { return Ok(None) };
        let before = user.clone();
        user.name = name.clone();
        user.state = "active".into();
        user.last_sign_in_at = Some(store::now());
        user.password_hash = Some(password::hash(&body.password, &store::random::<16>()).map_err(anyhow::Error::msg)?);
        store::update_user(&db, &user)?;
        store::event(&db, &user.id, ctx.request_id.as_deref(), &user.id, "invitation-accepted", Some(&before), Some(&user))?;
        Ok(Some(user))
    })
    .map_err(internal)?
    .ok_or_else(gone)?;
    let kv = sessions::store().map_err(internal)?;
    let (tok, csrf) = sessions::create(&kv, &user.id, &user.email, user.role, store::unix()).map_err(internal)?;
    Ok(signed_in(&user, &tok, &csrf, ctx.secure()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestReset {
    email: String,
}

fn request_reset(ctx: &Ctx) -> Result<Reply, Problem> {
    let body: RequestReset = ctx.body()?;
    let db = store::open().map_err(internal)?;
    if let Some(user) = store::user_by_email(&db, body.email.trim()).map_err(internal)?.filter(|u| u.state == "active") {
        let tok = token::encode("", &store::random::<32>());
        let link = format!("{}/reset-password?token={tok}", ctx.base_url());
        store::tx(&db, || {
            store::insert_token(&db, &token::digest(&tok), "reset", &user.id, RESET_TTL)?;
            store::send_email(
                &db,
                &user.email,
                "Reset your Edge CRM password",
                &format!("Hello {},\n\nSomeone asked to reset your password. If it was you, open this link within an hour:\n\n{link}\n\nIf not, ignore this email.", user.name),
            )
        })
        .map_err(internal)?;
        mail::deliver_queued(&db);
    }
    // The same answer either way: the endpoint does not reveal who has an account.
    Ok(Reply::empty(202))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetPassword {
    token: String,
    password: String,
}

fn reset_password(ctx: &Ctx) -> Result<Reply, Problem> {
    let body: ResetPassword = ctx.body()?;
    password::check_policy(&body.password, "").map_err(|m| Problem::validation(vec![FieldError::new("password", m)]))?;
    let db = store::open().map_err(internal)?;
    let user = store::tx(&db, || {
        let Some(user_id) = store::use_token(&db, &token::digest(&body.token), "reset")? else { return Ok(None) };
        let Some(mut user) = store::user_by_id(&db, &user_id)? else { return Ok(None) };
        user.password_hash = Some(password::hash(&body.password, &store::random::<16>()).map_err(anyhow::Error::msg)?);
        store::update_user(&db, &user)?;
        store::event(&db, &user.id, ctx.request_id.as_deref(), &user.id, "password-reset", None, None)?;
        Ok(Some(user))
    })
    .map_err(internal)?
    .ok_or_else(gone)?;
    // A reset ends every existing session.
    sessions::end_all(&sessions::store().map_err(internal)?, &user.id).map_err(internal)?;
    Ok(Reply::empty(204))
}

/// Names of the workspace's people, for every signed-in user (owners, assignees
/// and authors are shown by name everywhere); nothing else about them.
fn directory(ctx: &Ctx) -> Result<Reply, Problem> {
    ctx.session()?;
    let db = store::open().map_err(internal)?;
    let items: Vec<_> = store::list_users(&db)
        .map_err(internal)?
        .into_iter()
        .filter(|u| u.state != "invited")
        .map(|u| json!({ "id": u.id, "name": u.name, "email": u.email, "active": u.state == "active", "team_id": u.team_id }))
        .collect();
    Ok(Reply::json(200, &json!({ "items": items, "next_cursor": null })))
}

fn list_users(ctx: &Ctx) -> Result<Reply, Problem> {
    ctx.require(Area::Settings, Access::Read)?;
    let db = store::open().map_err(internal)?;
    let items = store::list_users(&db).map_err(internal)?;
    Ok(Reply::json(200, &json!({ "items": items, "next_cursor": null })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invite {
    email: String,
    #[serde(default)]
    name: String,
    role: String,
}

/// Creates an invited user and emails the link; returns the user and the link.
fn invite_user(db: &spin_sdk::sqlite::Connection, ctx: &Ctx, actor: &str, email: &str, name: &str, role: Role) -> Result<(User, String), Problem> {
    let tok = token::encode("", &store::random::<32>());
    let link = format!("{}/accept-invite?token={tok}", ctx.base_url());
    let user = store::tx(db, || {
        if store::user_by_email(db, email)?.is_some() {
            return Ok(None);
        }
        let user = store::insert_user(db, email, name, role, "invited")?;
        store::insert_token(db, &token::digest(&tok), "invite", &user.id, INVITE_TTL)?;
        store::send_email(
            db,
            email,
            "You are invited to Edge CRM",
            &format!("Hello{},\n\nYou have been invited to join Edge CRM as {}. Accept within 7 days:\n\n{link}\n", if name.is_empty() { String::new() } else { format!(" {name}") }, role.as_str()),
        )?;
        store::event(db, actor, ctx.request_id.as_deref(), &user.id, "invited", None, Some(&user))?;
        Ok(Some(user))
    })
    .map_err(internal)?
    .ok_or_else(|| Problem::validation(vec![FieldError::new("email", "already has an account")]))?;
    Ok((user, link))
}

fn invite(ctx: &Ctx) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let body: Invite = ctx.body()?;
    let email = body.email.trim().to_lowercase();
    let mut errors = Vec::new();
    if !contacts_domain::validate::is_email(&email) {
        errors.push(FieldError::new("email", "is not a valid email address"));
    }
    let role = Role::parse(&body.role);
    match role {
        None => errors.push(FieldError::new("role", "is not a role")),
        Some(r) if !s.role.may_assign(r) => errors.push(FieldError::new("role", "is above what you may assign")),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let db = store::open().map_err(internal)?;
    let max_users: i64 = spin_sdk::variables::get("max_users").ok().and_then(|v| v.parse().ok()).unwrap_or(i64::MAX);
    if store::count_active_users(&db).map_err(internal)? >= max_users {
        return Err(Problem::new(
            403,
            "plan-limit",
            "Plan limit reached",
            &format!("Your plan allows {max_users} users (invited ones included). Deactivate someone or upgrade the plan."),
        ));
    }
    let (user, _) = invite_user(&db, ctx, &s.user_id, &email, body.name.trim(), role.unwrap_or(Role::ReadOnly))?;
    mail::deliver_queued(&db);
    Ok(Reply::json(201, &user).with_header("location", format!("/api/v1/users/{}", user.id)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: String,
}

fn change_role(ctx: &Ctx, id: &str) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let body: RoleChange = ctx.body()?;
    let role = Role::parse(&body.role).ok_or_else(|| Problem::validation(vec![FieldError::new("role", "is not a role")]))?;
    let db = store::open().map_err(internal)?;
    let user = store::tx(&db, || {
        let Some(mut user) = store::user_by_id(&db, id)? else { return Ok(Err(Problem::not_found("No such user"))) };
        if !s.role.may_assign(role) || !s.role.may_assign(user.role) {
            return Ok(Err(Problem::new(403, "forbidden", "Forbidden", "You may not change this user's role to that")));
        }
        if user.role == Role::Owner && role != Role::Owner && owners(&db)? <= 1 {
            return Ok(Err(Problem::new(409, "last-owner", "Conflict", "A workspace keeps at least one owner")));
        }
        let before = user.clone();
        user.role = role;
        store::update_user(&db, &user)?;
        store::event(&db, &s.user_id, ctx.request_id.as_deref(), &user.id, "role-changed", Some(&before), Some(&user))?;
        Ok(Ok(user))
    })
    .map_err(internal)??;
    sessions::set_role(&sessions::store().map_err(internal)?, &user.id, role).map_err(internal)?;
    Ok(Reply::json(200, &user))
}

fn owners(db: &spin_sdk::sqlite::Connection) -> anyhow::Result<i64> {
    let r = db.execute("SELECT count(*) FROM users WHERE role = 'owner' AND state = 'active'", &[])?;
    Ok(r.rows.first().and_then(|row| row.get::<i64>(0)).unwrap_or(0))
}

fn deactivate(ctx: &Ctx, id: &str) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let db = store::open().map_err(internal)?;
    let user = store::tx(&db, || {
        let Some(mut user) = store::user_by_id(&db, id)? else { return Ok(Err(Problem::not_found("No such user"))) };
        if !s.role.may_assign(user.role) {
            return Ok(Err(Problem::new(403, "forbidden", "Forbidden", "You may not deactivate this user")));
        }
        if user.role == Role::Owner && owners(&db)? <= 1 {
            return Ok(Err(Problem::new(409, "last-owner", "Conflict", "A workspace keeps at least one owner")));
        }
        let before = user.clone();
        user.state = "deactivated".into();
        store::update_user(&db, &user)?;
        store::event(&db, &s.user_id, ctx.request_id.as_deref(), &user.id, "deactivated", Some(&before), Some(&user))?;
        Ok(Ok(user))
    })
    .map_err(internal)??;
    sessions::end_all(&sessions::store().map_err(internal)?, &user.id).map_err(internal)?;
    Ok(Reply::json(200, &user))
}

fn outbox(ctx: &Ctx) -> Result<Reply, Problem> {
    ctx.require(Area::Settings, Access::Read)?;
    let db = store::open().map_err(internal)?;
    let items = store::outbox(&db, 200).map_err(internal)?;
    Ok(Reply::json(200, &json!({ "items": items, "next_cursor": null })))
}

#[derive(Deserialize)]
struct Touch {
    digest: String,
}

/// The router asks for this at most once a minute per active session.
fn touch(ctx: &Ctx) -> Result<Reply, Problem> {
    let t: Touch = ctx.body()?;
    let kv = sessions::store().map_err(internal)?;
    sessions::touch(&kv, &t.digest, store::unix()).map_err(internal)?;
    Ok(Reply::empty(204))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mail {
    to: String,
    subject: String,
    body_text: String,
}

/// Other components' mail (a customer's sign-in link, a ticket reply) goes
/// through the tenant's one outbox, which identity owns.
fn internal_mail(ctx: &Ctx) -> Result<Reply, Problem> {
    let m: Mail = ctx.body()?;
    let to = m.to.trim().to_lowercase();
    if !contacts_domain::validate::is_email(&to) || m.subject.trim().is_empty() || m.subject.len() > 300 || m.body_text.len() > 100_000 {
        return Err(Problem::validation(vec![edge_http::FieldError::new("to", "a message needs an address, a subject (≤ 300) and a body (≤ 100 KB)")]));
    }
    let db = store::open().map_err(internal)?;
    store::send_email(&db, &to, m.subject.trim(), &m.body_text).map_err(internal)?;
    mail::deliver_queued(&db);
    Ok(Reply::empty(202))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Owner {
    email: String,
    #[serde(default)]
    name: String,
}

/// Provisioning: the tenant's first user, an owner, invited by link.
fn provision_owner(ctx: &Ctx) -> Result<Reply, Problem> {
    // Never through the router: it would carry the caller's identity headers.
    if ctx.header("edge-actor").is_some() {
        return Err(Problem::not_found("No such identity route"));
    }
    let body: Owner = ctx.body()?;
    let email = body.email.trim().to_lowercase();
    if !contacts_domain::validate::is_email(&email) {
        return Err(Problem::validation(vec![FieldError::new("email", "is not a valid email address")]));
    }
    let db = store::open().map_err(internal)?;
    if store::count_active_users(&db).map_err(internal)? > 0 {
        return Err(Problem::new(409, "already-provisioned", "Conflict", "This tenant already has users"));
    }
    let (user, link) = invite_user(&db, ctx, "operator", &email, body.name.trim(), Role::Owner)?;
    mail::deliver_queued(&db);
    Ok(Reply::json(201, &json!({ "user": user, "invitation_url": link })))
}

fn list_keys(ctx: &Ctx) -> Result<Reply, Problem> {
    ctx.require(Area::Settings, Access::Read)?;
    let db = store::open().map_err(internal)?;
    let items = store::list_keys(&db).map_err(internal)?;
    Ok(Reply::json(200, &json!({ "items": items, "next_cursor": null })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    scopes: Vec<String>,
}

/// Creates a key; the token is in this answer and nowhere else, ever.
fn create_key(ctx: &Ctx) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let body: NewKey = ctx.body()?;
    let mut errors = Vec::new();
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "is required (at most 100 characters)"));
    }
    let scopes = match apikey::parse_scopes(&body.scopes) {
        Ok(s) => s,
        Err(m) => {
            errors.push(FieldError::new("scopes", &m));
            vec![]
        }
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let tok = token::encode(apikey::PREFIX, &store::random::<32>());
    let key = store::ApiKey {
        id: store::new_id("k"),
        name,
        scopes,
        created_by: format!("user:{}", s.user_id),
        created_at: store::now(),
        last_used_at: None,
        revoked_at: None,
        digest: token::digest(&tok),
    };
    let db = store::open().map_err(internal)?;
    store::tx(&db, || {
        store::insert_key(&db, &key)?;
        store::event_of(&db, &key.created_by, ctx.request_id.as_deref(), "api_key", &key.id, "created", None, Some(&key))
    })
    .map_err(internal)?;
    let view = apikey::KeyView { id: key.id.clone(), name: key.name.clone(), scopes: key.scopes.clone(), created_by: key.created_by.clone(), last_used_at: 0 };
    let kv = sessions::store().map_err(internal)?;
    kv.set(&apikey::kv_key(&key.digest), &serde_json::to_vec(&view).map_err(internal)?).map_err(internal)?;
    Ok(Reply::json(201, &json!({ "key": key, "token": tok })).with_header("location", format!("/api/v1/api-keys/{}", key.id)))
}

fn revoke_key(ctx: &Ctx, id: &str) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let db = store::open().map_err(internal)?;
    let key = store::key_by_id(&db, id).map_err(internal)?.ok_or_else(|| Problem::not_found("No such API key"))?;
    // The router stops accepting it first; the record then says when.
    let kv = sessions::store().map_err(internal)?;
    kv.delete(&apikey::kv_key(&key.digest)).map_err(internal)?;
    if key.revoked_at.is_none() {
        let now = store::now();
        store::tx(&db, || {
            store::set_key_times(&db, &key.id, None, Some(&now))?;
            let after = store::ApiKey { revoked_at: Some(now.clone()), ..key.clone() };
            store::event_of(&db, &format!("user:{}", s.user_id), ctx.request_id.as_deref(), "api_key", &key.id, "revoked", Some(&key), Some(&after))
        })
        .map_err(internal)?;
    }
    Ok(Reply::empty(204))
}

#[derive(Deserialize)]
struct KeyUsed {
    digest: String,
}

/// The router reports use at most once a minute per key.
fn key_used(ctx: &Ctx) -> Result<Reply, Problem> {
    let k: KeyUsed = ctx.body()?;
    let kv = sessions::store().map_err(internal)?;
    let kv_key = apikey::kv_key(&k.digest);
    if let Some(mut view) = kv.get(&kv_key).map_err(internal)?.and_then(|b| serde_json::from_slice::<apikey::KeyView>(&b).ok()) {
        view.last_used_at = store::unix();
        kv.set(&kv_key, &serde_json::to_vec(&view).map_err(internal)?).map_err(internal)?;
        let db = store::open().map_err(internal)?;
        store::set_key_times(&db, &view.id, Some(&store::now()), None).map_err(internal)?;
    }
    Ok(Reply::empty(204))
}

fn audit(ctx: &Ctx) -> Result<Reply, Problem> {
    ctx.require(Area::Settings, Access::Read)?;
    let pairs = edge_http::query::parse(ctx.req.query());
    let get = |k: &str| edge_http::query::get(&pairs, k).map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    let mut errors = Vec::new();
    let limit = match get("limit").map(|l| l.parse::<i64>()) {
        None => 50,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        _ => {
            errors.push(FieldError::new("limit", "must be a whole number from 1 to 200"));
            50
        }
    };
    let time = |k: &str, errors: &mut Vec<FieldError>| -> Option<String> {
        let v = get(k)?;
        match chrono::DateTime::parse_from_rfc3339(&v) {
            Ok(t) => Some(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            Err(_) => {
                errors.push(FieldError::new(k, "must be an RFC 3339 time"));
                None
            }
        }
    };
    let since = time("since", &mut errors);
    let until = time("until", &mut errors);
    let after = match get("cursor") {
        None => None,
        Some(c) => match edge_http::ids::decode_cursor(&c).and_then(|t| {
            let mut p = t.splitn(3, '|');
            Some((p.next()?.to_string(), p.next()?.to_string(), p.next()?.parse::<i64>().ok()?))
        }) {
            Some(a) => Some(a),
            None => {
                errors.push(FieldError::new("cursor", "is not a cursor this API issued"));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let q = store::AuditQuery { actor: get("actor"), entity: get("entity"), entity_id: get("entity_id"), since, until, after, limit };
    let db = store::open().map_err(internal)?;
    let mut items = store::audit(&db, &q).map_err(internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last()).flatten().map(|e| {
        edge_http::ids::encode_cursor(&format!("{}|{}|{}", e["at"].as_str().unwrap_or(""), e["component"].as_str().unwrap_or(""), e["seq"]))
    });
    Ok(Reply::json(200, &json!({ "items": items, "next_cursor": next_cursor })))
}

/// A setting published in the key-value store (its default when unset).
fn setting<T: serde::de::DeserializeOwned + Default>(key: &str) -> Result<T, Problem> {
    setting_in(&sessions::store().map_err(internal)?, key)
}

fn setting_in<T: serde::de::DeserializeOwned + Default>(kv: &spin_sdk::key_value::Store, key: &str) -> Result<T, Problem> {
    Ok(kv.get(key).map_err(internal)?.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default())
}

/// Changes a setting: settings write access, the body, its `check`, then
/// the store and the audit event (on the setting, named by its key without
/// the `setting:` prefix).
fn put_setting<T: serde::de::DeserializeOwned + serde::Serialize + Default>(ctx: &Ctx, key: &str, check: impl Fn(&T) -> Result<(), Vec<FieldError>>) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let new: T = ctx.body()?;
    check(&new).map_err(Problem::validation)?;
    let name = key.strip_prefix("setting:").unwrap_or(key);
    let kv = sessions::store().map_err(internal)?;
    let before: T = setting_in(&kv, key)?;
    kv.set(key, &serde_json::to_vec(&new).map_err(internal)?).map_err(internal)?;
    let db = store::open().map_err(internal)?;
    store::tx(&db, || store::event_of(&db, &format!("user:{}", s.user_id), ctx.request_id.as_deref(), "setting", name, "changed", Some(&before), Some(&new)))
        .map_err(internal)?;
    Ok(Reply::json(200, &new))
}

#[cfg(test)]
mod tests {
    #[test]
    fn dummy_hash_is_a_real_argon2id_hash() {
        // Verification must do the full argon2 work, or timing would reveal unknown emails.
        assert!(identity_domain::password::verify("x9f!never-a-password-q7", super::DUMMY_HASH));
        assert!(!identity_domain::password::verify("anything", super::DUMMY_HASH));
    }
}
