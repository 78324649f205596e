//! Who is calling: the router authenticates every API request before any
//! feature component sees it, from the session cookie (the identity component's
//! published session view in the tenant's key-value store), checks CSRF for
//! state-changing browser requests, and checks the role against the area.

use edge_http::Problem;
use identity_domain::apikey::{self, KeyView};
use identity_domain::session::{self, Session};
use identity_domain::settings::{team_view_key, RecordVisibility, Scope, TeamView, RECORD_VISIBILITY_KEY};
use identity_domain::{roles, token, Access, Area};

/// API areas anyone may call: signing in needs no session, and mail links
/// (tracking, unsubscribe) and provider events carry their own signatures.
pub fn is_public(area: &str) -> bool {
    area == "auth" || area == "mail"
}

/// Paths inside staff areas that the public uses: a form's submissions, its
/// hosted page and its embed script (`/api/v1/forms/{id}/submit|page|embed.js`).
pub fn is_public_path(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(parts.as_slice(), ["", "api", "v1", "forms", id, "submit" | "page" | "embed.js"] if !id.is_empty())
}

/// The permission area an API area belongs to; identity routes check their own.
/// Follows the dispatch table: an API area belongs to the permission area of
/// the component that serves it.
pub fn area_of(api_area: &str) -> Option<Area> {
    let component = crate::dispatch::AREAS.iter().find(|(a, _)| *a == api_area).map_or(api_area, |(_, c)| *c);
    match component {
        // Identity's own routes check the session themselves.
        "identity" => None,
        // Orders, tickets and the knowledge base are the service desk's.
        "portal" => Some(Area::ServiceDesk),
        // Forms and rules: marketing builds them, everyone may read them.
        "automation" => Some(Area::Campaigns),
        // A component without a permission area of its own: administrators only.
        other => Some(Area::parse(other).unwrap_or(Area::Settings)),
    }
}

/// Customers' portal API (`/api/v1/portal/...`): signing in is public, the
/// rest needs a portal session; staff sessions do not apply.
pub fn is_portal(area: &str) -> bool {
    area == "portal"
}

pub enum Principal {
    /// A signed-in staff member (browser session).
    User(Session),
    /// An API key (`Authorization: Bearer ek_...`).
    Key(KeyView),
}

pub struct Caller {
    pub principal: Principal,
    /// The session's or key's digest (for refreshing its clock).
    pub digest: String,
}

impl Caller {
    /// Who did it, as recorded in change events.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::User(s) => format!("user:{}", s.user_id),
            Principal::Key(k) => format!("apikey:{}", k.id),
        }
    }

    pub fn role(&self) -> &'static str {
        match &self.principal {
            Principal::User(s) => s.role.as_str(),
            Principal::Key(_) => "api-key",
        }
    }

    fn access(&self, area: Area) -> Access {
        match &self.principal {
            Principal::User(s) => s.role.access(area),
            Principal::Key(k) => k.access(area),
        }
    }

    /// The identity route that refreshes this caller's clock, when due.
    pub fn touch(&self, now: i64) -> Option<&'static str> {
        match &self.principal {
            Principal::User(s) if s.needs_touch(now) => Some("/internal/touch"),
            Principal::Key(k) if k.needs_touch(now) => Some("/internal/key-used"),
            _ => None,
        }
    }
}

fn unauthenticated() -> Problem {
    Problem::new(401, "unauthenticated", "Sign-in required", "Sign in to continue")
}

/// Authenticates a request with the session cookie; `now` in Unix seconds.
pub fn authenticate(
    cookie: Option<&str>,
    csrf_header: Option<&str>,
    method: &str,
    now: i64,
    load: impl Fn(&str) -> Option<Vec<u8>>,
) -> Result<Caller, Problem> {
    let tok = cookie.and_then(session::from_cookie_header).ok_or_else(unauthenticated)?;
    let digest = token::digest(tok);
    let s: Session = load(&session::kv_key(&digest))
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(unauthenticated)?;
    if !s.is_live(now) {
        return Err(unauthenticated());
    }
    if roles::required(method) == Access::Write && !token::same(csrf_header.unwrap_or(""), &s.csrf) {
        return Err(Problem::new(403, "csrf", "Forbidden", "Missing or wrong x-csrf-token header"));
    }
    Ok(Caller { principal: Principal::User(s), digest })
}

/// Authenticates a customer's portal request from the portal cookie (CSRF
/// checked on writes, as for staff).
pub fn authenticate_customer(cookie: Option<&str>, csrf_header: Option<&str>, method: &str, now: i64, load: impl Fn(&str) -> Option<Vec<u8>>) -> Result<identity_domain::portal::PortalSession, Problem> {
    use identity_domain::portal;
    let tok = cookie.and_then(portal::from_cookie_header).ok_or_else(unauthenticated)?;
    let s: portal::PortalSession = load(&portal::kv_key(&token::digest(tok))).and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(unauthenticated)?;
    if !s.is_live(now) {
        return Err(unauthenticated());
    }
    if roles::required(method) == Access::Write && !token::same(csrf_header.unwrap_or(""), &s.csrf) {
        return Err(Problem::new(403, "csrf", "Forbidden", "Missing or wrong x-csrf-token header"));
    }
    Ok(s)
}

/// Authenticates `Authorization: Bearer ek_...` (no CSRF: not a browser credential).
pub fn authenticate_key(authorization: &str, load: impl Fn(&str) -> Option<Vec<u8>>) -> Result<Caller, Problem> {
    let tok = authorization.strip_prefix("Bearer ").map(str::trim).filter(|t| t.starts_with(apikey::PREFIX)).ok_or_else(unauthenticated)?;
    let digest = token::digest(tok);
    let k: KeyView = load(&apikey::kv_key(&digest)).and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(unauthenticated)?;
    Ok(Caller { principal: Principal::Key(k), digest })
}

/// The owners whose records this caller may see when the tenant's
/// record-visibility setting restricts its role: `None` means every record.
/// A user in no team under the "team" setting sees their own.
pub fn visible_owners(caller: &Caller, load: impl Fn(&str) -> Option<Vec<u8>>) -> Option<Vec<String>> {
    let Principal::User(s) = &caller.principal else { return None };
    if s.role.access(Area::Settings) != Access::None {
        return None; // managers and admins always see everything
    }
    let setting: RecordVisibility = load(RECORD_VISIBILITY_KEY).and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    match setting.scope_for(s.role) {
        Scope::All => None,
        Scope::Own => Some(vec![s.user_id.clone()]),
        Scope::Team => {
            let team: Option<TeamView> = load(&team_view_key(&s.user_id)).and_then(|b| serde_json::from_slice(&b).ok());
            let mut owners = team.map(|t| t.members).unwrap_or_default();
            if !owners.contains(&s.user_id) {
                owners.push(s.user_id.clone());
            }
            Some(owners)
        }
    }
}

/// The `edge-visibility` header value for a set of visible owners.
pub fn visibility_header(owners: &[String]) -> String {
    format!("owners={}", owners.join(","))
}

pub fn authorize(caller: &Caller, area: Option<Area>, method: &str) -> Result<(), Problem> {
    match area {
        Some(a) if caller.access(a) < roles::required(method) => Err(Problem::new(
            403,
            "forbidden",
            "Forbidden",
            &format!("Your role ({}) cannot {} {}", caller.role(), if roles::required(method) == Access::Write { "change" } else { "see" }, a.as_str()),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use identity_domain::Role;

    #[test]
    fn only_a_forms_public_parts_are_public() {
        assert!(is_public_path("/api/v1/forms/fm_1/submit"));
        assert!(is_public_path("/api/v1/forms/fm_1/page"));
        assert!(is_public_path("/api/v1/forms/fm_1/embed.js"));
        for staff in ["/api/v1/forms", "/api/v1/forms/fm_1", "/api/v1/forms/fm_1/submissions", "/api/v1/forms/fm_1/embed", "/api/v1/forms//submit", "/api/v1/contacts/c_1/submit", "/api/v1/forms/fm_1/submit/x"] {
            assert!(!is_public_path(staff), "{staff}");
        }
    }

    fn store(role: Role, created: i64) -> impl Fn(&str) -> Option<Vec<u8>> {
        move |key: &str| {
            (key == session::kv_key(&token::digest("tok"))).then(|| {
                serde_json::to_vec(&Session { user_id: "u_1".into(), email: "a@b.c".into(), role, csrf: "csrf1".into(), created_at: created, last_seen_at: created }).unwrap()
            })
        }
    }

    #[test]
    fn cookie_csrf_and_expiry() {
        let load = store(Role::Sales, 1000);
        let c = Some("edge_session=tok");
        assert!(authenticate(c, None, "GET", 1001, &load).is_ok());
        assert_eq!(authenticate(None, None, "GET", 1001, &load).err().unwrap().status, 401);
        assert_eq!(authenticate(Some("edge_session=other"), None, "GET", 1001, &load).err().unwrap().status, 401);
        assert_eq!(authenticate(c, None, "POST", 1001, &load).err().unwrap().status, 403);
        assert_eq!(authenticate(c, Some("wrong"), "POST", 1001, &load).err().unwrap().status, 403);
        assert!(authenticate(c, Some("csrf1"), "POST", 1001, &load).is_ok());
        let later = 1000 + session::IDLE_SECS;
        assert_eq!(authenticate(c, None, "GET", later, &load).err().unwrap().status, 401);
    }

    #[test]
    fn roles_per_area() {
        let ro = authenticate(Some("edge_session=tok"), None, "GET", 1, store(Role::ReadOnly, 0)).ok().unwrap();
        assert!(authorize(&ro, Some(Area::Contacts), "GET").is_ok());
        assert_eq!(authorize(&ro, Some(Area::Contacts), "POST").unwrap_err().status, 403);
        assert!(is_public("auth") && !is_public("contacts"));
        assert_eq!(area_of("contacts"), Some(Area::Contacts));
    }

    #[test]
    fn record_visibility_by_setting_and_team() {
        let session = Session { user_id: "u_1".into(), email: "a@b.c".into(), role: Role::Sales, csrf: "x".into(), created_at: 0, last_seen_at: 0 };
        let caller = Caller { principal: Principal::User(session.clone()), digest: String::new() };
        let with = |setting: &'static str, team: Option<&'static str>| {
            move |key: &str| match key {
                RECORD_VISIBILITY_KEY => Some(setting.as_bytes().to_vec()),
                "team-of:u_1" => team.map(|t| t.as_bytes().to_vec()),
                _ => None,
            }
        };
        assert_eq!(visible_owners(&caller, with(r#"{"sales":"all"}"#, None)), None);
        assert_eq!(visible_owners(&caller, with(r#"{"sales":"own"}"#, None)), Some(vec!["u_1".to_string()]));
        assert_eq!(visible_owners(&caller, with(r#"{"sales":"team"}"#, None)), Some(vec!["u_1".to_string()]));
        let team = Some(r#"{"team_id":"t_1","members":["u_1","u_2"]}"#);
        assert_eq!(visible_owners(&caller, with(r#"{"sales":"team"}"#, team)), Some(vec!["u_1".to_string(), "u_2".to_string()]));
        let manager = Caller { principal: Principal::User(Session { role: Role::Manager, ..session }), digest: String::new() };
        assert_eq!(visible_owners(&manager, with(r#"{"sales":"own"}"#, team)), None);
        assert_eq!(visibility_header(&["u_1".into(), "u_2".into()]), "owners=u_1,u_2");
    }

    #[test]
    fn api_keys_by_scope() {
        let tok = "ek_secret";
        let load = |key: &str| {
            (key == apikey::kv_key(&token::digest(tok))).then(|| {
                serde_json::to_vec(&KeyView { id: "k_1".into(), name: "sync".into(), scopes: vec!["contacts:read".into()], created_by: "user:u".into(), last_used_at: 0 }).unwrap()
            })
        };
        let c = authenticate_key("Bearer ek_secret", load).ok().unwrap();
        assert_eq!(c.actor(), "apikey:k_1");
        assert!(authorize(&c, Some(Area::Contacts), "GET").is_ok());
        assert_eq!(authorize(&c, Some(Area::Contacts), "POST").unwrap_err().status, 403);
        assert_eq!(authorize(&c, Some(Area::Pipeline), "GET").unwrap_err().status, 403);
        assert_eq!(authenticate_key("Bearer ek_other", load).err().unwrap().status, 401);
        assert_eq!(authenticate_key("Basic xyz", load).err().unwrap().status, 401);
    }
}
