// Same-origin JSON API client for /api/v1.
//
// Every failure surfaces as an ApiError carrying what the server said in its
// RFC 9457 problem document (`type`, `title`, `detail`, per-field `errors`) and
// the `x-request-id` of the response, so the UI can show it for support.

export const API_BASE = '/api/v1';

/** Problem type the server uses when a request needs a signed-in session. */
export const PROBLEM_UNAUTHENTICATED = 'https://edge-crm.dev/problems/unauthenticated';

// ---------------------------------------------------------------------------
// CSRF: the session's double-submit token, echoed in `x-csrf-token` on every
// state-changing request. Kept in memory and in sessionStorage (per tab, so a
// reload keeps it; it is not readable by other sites and ends with the tab).

const CSRF_KEY = 'edgecrm.csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
let csrfToken = null;
try { csrfToken = sessionStorage.getItem(CSRF_KEY) || null; } catch { /* storage unavailable */ }

export function getCsrfToken() { return csrfToken; }

export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' && token ? token : null;
  try {
    if (csrfToken) sessionStorage.setItem(CSRF_KEY, csrfToken);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch { /* private mode: memory only */ }
}

/**
 * Called when a request comes back 401 with the "unauthenticated" problem
 * type. Return true when it took care of it (e.g. went to the sign-in page);
 * the ApiError is then marked `handled` so views do not toast it as well.
 */
let unauthenticatedHandler = () => {
  const next = location.pathname + location.search;
  location.assign(`/sign-in?next=${encodeURIComponent(next)}`);
  return true;
};
export function onUnauthenticated(fn) { unauthenticatedHandler = fn; }

export class ApiError extends Error {
  constructor({ status = 0, type, title, detail, errors, requestId, body, retryAfter } = {}) {
    super(detail || title || (status ? `Request failed with status ${status}` : 'Network error'));
    this.name = 'ApiError';
    this.status = status;
    this.type = type || 'about:blank';
    this.title = title || defaultTitle(status);
    this.detail = detail || this.message;
    /** @type {{field: string, message: string}[]} */
    this.errors = Array.isArray(errors) ? errors.filter((e) => e && typeof e === 'object') : [];
    this.requestId = requestId || null;
    this.body = body;
    /** Seconds to wait before retrying (from Retry-After), or null. */
    this.retryAfter = Number.isFinite(retryAfter) ? retryAfter : null;
    /** Set when the app already reacted (e.g. redirected to sign-in). */
    this.handled = false;
  }

  /** Per-field messages: { email: ['is not a valid email address'], ... } */
  get fieldErrors() {
    const out = {};
    for (const e of this.errors) {
      const key = e.field || '';
      (out[key] ||= []).push(e.message || 'is invalid');
    }
    return out;
  }

  get isValidation() { return this.status === 422 || (this.status === 400 && this.errors.length > 0); }
  get isNotFound() { return this.status === 404; }
  get isNetwork() { return this.status === 0; }
  get isUnauthenticated() { return this.status === 401; }
  get isForbidden() { return this.status === 403; }
  get isGone() { return this.status === 410; }
  get isRateLimited() { return this.status === 429; }
}

/** Retry-After is either delta-seconds or an HTTP date. */
function parseRetryAfter(value) {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function defaultTitle(status) {
  if (status === 0) return 'Cannot reach the server';
  if (status === 400) return 'Bad request';
  if (status === 401) return 'Signed out';
  if (status === 403) return 'Not allowed';
  if (status === 404) return 'Not found';
  if (status === 410) return 'Link expired';
  if (status === 409) return 'Conflict';
  if (status === 412) return 'Changed by someone else';
  if (status === 413) return 'Request too large';
  if (status === 422) return 'Please check the form';
  if (status === 429) return 'Too many requests';
  if (status >= 500) return 'Server error';
  return 'Request failed';
}

function buildUrl(path, query) {
  const url = new URL(path.startsWith('/') ? path : `${API_BASE}/${path}`, location.origin);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    }
  }
  return url.pathname + url.search;
}

/**
 * request('GET', '/api/v1/contacts', { query: { limit: 50 } })
 * Resolves to { data, status, headers, requestId }; rejects with ApiError
 * (or the AbortError when `signal` aborts).
 *
 * State-changing methods carry `x-csrf-token` when a token is known. A 401
 * "unauthenticated" answer goes to the sign-in page unless `authRedirect` is
 * false (the auth endpoints themselves, which handle 401 on their own).
 */
export async function request(method, path, { query, body, headers = {}, signal, authRedirect = true, csrfRetry = true } = {}) {
  const verb = method.toUpperCase();
  const init = {
    method: verb,
    headers: { Accept: 'application/json, application/problem+json' },
    credentials: 'same-origin',
    signal,
  };
  if (!SAFE_METHODS.has(verb) && csrfToken) init.headers['x-csrf-token'] = csrfToken;
  Object.assign(init.headers, headers);
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let res;
  try {
    res = await fetch(buildUrl(path, query), init);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError({ status: 0, detail: 'The server could not be reached. Check your connection and try again.' });
  }

  const requestId = res.headers.get('x-request-id');
  const contentType = (res.headers.get('content-type') || '').toLowerCase();
  const isJson = contentType.includes('application/json') || contentType.includes('+json');

  let data = null;
  if (res.status !== 204 && res.status !== 205) {
    try {
      if (isJson) data = await res.json();
      else {
        const text = await res.text();
        data = text ? { detail: text.slice(0, 500) } : null;
      }
    } catch (err) {
      if (err?.name === 'AbortError') throw err;
      if (res.ok) {
        throw new ApiError({ status: res.status, title: 'Unreadable response', detail: 'The server sent a response the app could not read.', requestId });
      }
    }
  }

  if (!res.ok) {
    const p = data && typeof data === 'object' ? data : {};
    const err = new ApiError({
      status: res.status,
      type: p.type,
      title: p.title,
      detail: p.detail,
      errors: p.errors,
      requestId,
      body: data,
      retryAfter: parseRetryAfter(res.headers.get('retry-after')),
    });
    // A stale CSRF token (e.g. the user signed in again in another tab): the
    // request was refused before doing anything, so fetch the session's
    // current token and try once more.
    if (res.status === 403 && err.type.endsWith('/csrf') && csrfRetry && !SAFE_METHODS.has(verb)) {
      let fresh = false;
      try {
        await me({ signal });
        fresh = true;
      } catch (e) {
        if (e?.name === 'AbortError') throw e;
        if (e?.status === 401 && authRedirect) {
          try { e.handled = unauthenticatedHandler(e) === true; } catch (x) { console.error(x); }
          throw e;
        }
      }
      if (fresh) return request(method, path, { query, body, headers, signal, authRedirect, csrfRetry: false });
    }
    if (authRedirect && res.status === 401 && err.type === PROBLEM_UNAUTHENTICATED) {
      try { err.handled = unauthenticatedHandler(err) === true; } catch (e) { console.error(e); }
    }
    throw err;
  }
  return { data, status: res.status, headers: res.headers, requestId };
}

function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------
// Contacts

/** → { items: Contact[], next_cursor: string|null, requestId } */
export async function listContacts({ limit = 50, cursor, q, signal } = {}) {
  const { data, requestId } = await request('GET', `${API_BASE}/contacts`, {
    query: { limit, cursor, q: q?.trim() || undefined },
    signal,
  });
  return {
    items: Array.isArray(data?.items) ? data.items : [],
    next_cursor: data?.next_cursor ?? null,
    requestId,
  };
}

export async function getContact(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/contacts/${encodeURIComponent(id)}`, { signal });
  return data;
}

/**
 * Create a contact. Pass the same `idempotencyKey` when retrying one form
 * submission so a double submit never creates two contacts.
 */
export async function createContact(fields, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/contacts`, {
    body: fields,
    headers: { 'Idempotency-Key': idempotencyKey },
    signal,
  });
  return { contact: data, location: headers.get('location') };
}

export { newIdempotencyKey };

// ---------------------------------------------------------------------------
// Staff identity. These calls answer 401 themselves (wrong password, no
// session), so they never trigger the sign-in redirect.

/** Remember the CSRF token of a {user, csrf_token} answer; → the user. */
function sessionFrom(data) {
  if (data && typeof data === 'object' && 'csrf_token' in data) setCsrfToken(data.csrf_token);
  return data?.user || null;
}

/** → User; rejects with a 401 ApiError when nobody is signed in. */
export async function me({ signal } = {}) {
  try {
    const { data } = await request('GET', `${API_BASE}/auth/me`, { signal, authRedirect: false });
    return sessionFrom(data);
  } catch (err) {
    if (err?.status === 401) setCsrfToken(null);
    throw err;
  }
}

export async function signIn({ email, password }, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/auth/sign-in`, { body: { email, password }, signal, authRedirect: false });
  return sessionFrom(data);
}

export async function signOut() {
  try {
    await request('POST', `${API_BASE}/auth/sign-out`, { authRedirect: false });
  } catch (err) {
    if (err?.status !== 401) throw err; // 401: the session had already ended
  }
  setCsrfToken(null);
}

export async function signOutEverywhere() {
  try {
    await request('POST', `${API_BASE}/auth/sign-out-everywhere`, { authRedirect: false });
  } catch (err) {
    if (err?.status !== 401) throw err; // 401: the session had already ended
  }
  setCsrfToken(null);
}

export async function acceptInvite({ token, name, password }, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/auth/accept-invite`, { body: { token, name, password }, signal, authRedirect: false });
  return sessionFrom(data);
}

export async function requestPasswordReset({ email }, { signal } = {}) {
  await request('POST', `${API_BASE}/auth/request-password-reset`, { body: { email }, signal, authRedirect: false });
}

export async function resetPassword({ token, password }, { signal } = {}) {
  await request('POST', `${API_BASE}/auth/reset-password`, { body: { token, password }, signal, authRedirect: false });
}

// ---------------------------------------------------------------------------
// Users (owner/admin) and the outbox

function page(data) {
  return { items: Array.isArray(data?.items) ? data.items : [], next_cursor: data?.next_cursor ?? null };
}

/** → { items: User[], next_cursor } */
export async function listUsers({ cursor, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/users`, { query: { cursor }, signal });
  return page(data);
}

/** → User (state "invited") */
export async function inviteUser({ email, name, role }, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/users/invitations`, { body: { email, name, role }, signal });
  return data;
}

export async function updateUser(id, fields, { signal } = {}) {
  const { data } = await request('PATCH', `${API_BASE}/users/${encodeURIComponent(id)}`, { body: fields, signal });
  return data;
}

export async function getRecordVisibility({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/settings/record-visibility`, { signal });
  return data;
}

/** → { time_zone } (the zone date rules count days in unless they name one). */
export async function getWorkspaceSettings({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/settings/workspace`, { signal });
  return data;
}

export async function setWorkspaceSettings(setting, { signal } = {}) {
  const { data } = await request('PUT', `${API_BASE}/settings/workspace`, { body: setting, signal });
  return data;
}

export async function setRecordVisibility(setting, { signal } = {}) {
  const { data } = await request('PUT', `${API_BASE}/settings/record-visibility`, { body: setting, signal });
  return data;
}

export async function deactivateUser(id, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/users/${encodeURIComponent(id)}/deactivate`, { signal });
  return data;
}

/** → { items: [{id, to, subject, body_text, created_at, status}], next_cursor } */
export async function listOutbox({ cursor, limit, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/outbox`, { query: { cursor, limit }, signal });
  return page(data);
}

// ---------------------------------------------------------------------------
// Teams (owner/admin manage, manager reads): named groups of users, a user in
// at most one. Under the "team" record visibility a sales user sees the records
// anyone in their team owns.

/** → { items: Team[], next_cursor } with Team {id, name, created_at, updated_at, members: userId[]} */
export async function listTeams({ cursor, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/teams`, { query: { cursor }, signal });
  return page(data);
}

/** → Team; a name already taken (ignoring case) is a 422 on `name`. */
export async function createTeam({ name }, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/teams`, { body: { name }, signal });
  return data;
}

/** → Team */
export async function renameTeam(id, { name }, { signal } = {}) {
  const { data } = await request('PATCH', `${API_BASE}/teams/${encodeURIComponent(id)}`, { body: { name }, signal });
  return data;
}

/** Its members are left in no team. */
export async function deleteTeam(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/teams/${encodeURIComponent(id)}`, { signal });
}

/** Put a user in a team, or (teamId null) in none. → User */
export async function setUserTeam(userId, teamId, { signal } = {}) {
  const { data } = await request('PUT', `${API_BASE}/users/${encodeURIComponent(userId)}/team`, { body: { team_id: teamId || null }, signal });
  return data;
}

// ---------------------------------------------------------------------------
// API keys (owner/admin manage, manager reads) and the audit log (read-only)

/** → { items: ApiKey[], next_cursor } with ApiKey {id, name, scopes, created_by, created_at, last_used_at, revoked_at} */
export async function listApiKeys({ cursor, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/api-keys`, { query: { cursor }, signal });
  return page(data);
}

/** → { key: ApiKey, token: "ek_..." }; the token is in this answer only. */
export async function createApiKey({ name, scopes }, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/api-keys`, { body: { name, scopes }, signal });
  return { key: data?.key || null, token: typeof data?.token === 'string' ? data.token : '' };
}

export async function revokeApiKey(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/api-keys/${encodeURIComponent(id)}`, { signal });
}

/**
 * → { items: Event[], next_cursor }; since/until are RFC 3339 times.
 * Event {component, seq, at, actor, request_id, entity, entity_id, action, before, after}
 */
export async function listAudit({ actor, entity, since, until, limit = 50, cursor, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/audit`, {
    query: { actor: actor?.trim() || undefined, entity, since, until, limit, cursor },
    signal,
  });
  return page(data);
}

// ---------------------------------------------------------------------------
// Custom field definitions — used by Settings › Custom fields (customfields.js).
// Everyone who works with contacts reads them; owners, admins and managers
// change them (403 otherwise). Named "field definitions" to keep clear of the
// record calls.

/** → { items: FieldDef[], next_cursor: null } in display order; entity 'contact' | 'company'. */
export async function listFieldDefinitions(entity, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/custom-fields`, { query: { entity }, signal });
  return page(data);
}

/** {entity, key, label, kind, options?, currency?, required?, position?} → FieldDef (201); 422 per field, e.g. a key taken. */
export async function createFieldDefinition(fields, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/custom-fields`, { body: fields, signal });
  return data;
}

/** {label?, options?, currency?, required?, position?} → FieldDef; entity, key and kind cannot change (422). */
export async function updateFieldDefinition(id, fields, { signal } = {}) {
  const { data } = await request('PATCH', `${API_BASE}/custom-fields/${encodeURIComponent(id)}`, { body: fields, signal });
  return data;
}

/** Archives it (204): values stay in the records and the key stays reserved. */
export async function archiveFieldDefinition(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/custom-fields/${encodeURIComponent(id)}`, { signal });
}
