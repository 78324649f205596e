// The customers' API (/api/v1/portal): magic-link sign-in, sign-out, the
// signed-in customer's own orders and complaints, and the public knowledge
// base. Portal sessions are separate from staff sessions (cookie
// `edge_portal`); writes carry the session's CSRF token in `x-csrf-token`.
// Failures are ApiErrors (problem+json, request id), as in the staff app.

import { ApiError } from '/app/api.js';

const BASE = '/api/v1/portal';
const CSRF_KEY = 'edgecrm.portal.csrf';
const EMAIL_KEY = 'edgecrm.portal.email';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

// The CSRF token from the redeem answer, kept per tab (sessionStorage: a
// reload keeps it, other sites cannot read it, it ends with the tab).
function read(key) {
  try { return sessionStorage.getItem(key) || null; } catch { return null; }
}
function store(key, value) {
  try {
    if (value) sessionStorage.setItem(key, value); else sessionStorage.removeItem(key);
  } catch { /* storage unavailable: memory only */ }
}
let csrf = read(CSRF_KEY);
let email = read(EMAIL_KEY);

// Another document of this tab may have signed in or out since this one
// loaded (a page restored from the back-forward cache): storage is the truth.
function refresh() {
  try {
    csrf = sessionStorage.getItem(CSRF_KEY) || null;
    email = sessionStorage.getItem(EMAIL_KEY) || null;
  } catch { /* storage unavailable: keep what is in memory */ }
}

/** What this tab knows about its portal session: { csrf, email } (either may be null). */
export function known() { refresh(); return { csrf, email }; }

function remember(data) {
  csrf = typeof data?.csrf_token === 'string' && data.csrf_token ? data.csrf_token : null;
  email = typeof data?.email === 'string' && data.email ? data.email : null;
  store(CSRF_KEY, csrf);
  store(EMAIL_KEY, email);
}

export function forget() { remember(null); }

/**
 * Called when a request needing a session answers 401 (signed out, expired):
 * return true when it took care of it (the error is then marked `handled`).
 */
let unauthenticated = () => false;
export function onUnauthenticated(fn) { unauthenticated = fn; }

async function call(method, path, { body, signal, session = true, headers: extra } = {}) {
  refresh();
  const headers = { Accept: 'application/json, application/problem+json', ...extra };
  if (!SAFE.has(method) && csrf) headers['x-csrf-token'] = csrf;
  const init = { method, headers, credentials: 'same-origin', signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError({ status: 0, detail: 'We could not reach the server. Check your connection and try again.' });
  }
  const requestId = res.headers.get('x-request-id');
  const type = (res.headers.get('content-type') || '').toLowerCase();
  let data = null;
  if (res.status !== 204) {
    try {
      if (type.includes('json')) data = await res.json();
      else { const t = await res.text(); data = t ? { detail: t.slice(0, 300) } : null; }
    } catch (err) {
      if (err?.name === 'AbortError') throw err;
    }
  }
  if (!res.ok) {
    const p = data && typeof data === 'object' ? data : {};
    const err = new ApiError({
      status: res.status, type: p.type, title: p.title, detail: p.detail, errors: p.errors, requestId, body: data,
      retryAfter: Number(res.headers.get('retry-after')) || null,
    });
    if (session && res.status === 401) {
      err.hadSession = !!csrf; // this tab had signed in: the session has ended
      forget();
      try { err.handled = unauthenticated(err) === true; } catch (e) { console.error(e); }
    }
    throw err;
  }
  return data;
}

/** Always 202 (whether or not the address is a customer's); 422 when it is not an email address. */
export async function requestLink(address, { signal } = {}) {
  await call('POST', `${BASE}/auth/request-link`, { body: { email: address }, signal, session: false });
}

/** → { contact_id, email, csrf_token }; 401 `link-invalid` for a used, expired or unknown link. */
export async function redeem(token, { signal } = {}) {
  const data = await call('POST', `${BASE}/auth/redeem`, { body: { token }, signal, session: false });
  remember(data);
  return data;
}

export async function signOut() {
  try {
    await call('POST', `${BASE}/auth/sign-out`, { session: false });
  } finally {
    forget();
  }
}

/**
 * → { contact_id, name, first_name, email, csrf_token, orders }; `quiet`: a 401
 * is only thrown, not sent to the sign-in page. The answer carries the
 * session's CSRF token: a tab that did not sign in itself (a new tab, a link
 * from an email) learns it here.
 */
export async function me({ signal, quiet = false } = {}) {
  const data = await call('GET', `${BASE}/me`, { signal, session: !quiet });
  if (typeof data?.csrf_token === 'string' && data.csrf_token) remember(data);
  return data;
}

/** The CSRF token for a write: this tab's, or the session's (from /me) when the tab has none. */
async function ensureCsrf(signal) {
  refresh();
  if (!csrf) await me({ signal });
}

function isCsrfProblem(err) {
  return err?.status === 403 && String(err?.type || '').endsWith('/csrf');
}

/**
 * A write that needs the session: with the CSRF token (fetched first when
 * this tab has none, and fetched again once when the server says it is
 * wrong, e.g. after signing in again in another tab).
 */
async function write(method, path, { body, signal, idempotencyKey } = {}) {
  const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : undefined;
  await ensureCsrf(signal);
  try {
    return await call(method, path, { body, signal, headers });
  } catch (err) {
    if (!isCsrfProblem(err)) throw err;
    store(CSRF_KEY, null);
    csrf = null;
    await me({ signal });
    return call(method, path, { body, signal, headers });
  }
}


/** → Order[] (newest first; no internal note) */
export async function listOrders({ signal } = {}) {
  const data = await call('GET', `${BASE}/orders`, { signal });
  return Array.isArray(data?.items) ? data.items : [];
}

/** → Order with its status history; 404 for an order that is not this customer's. */
export async function getOrder(id, { signal } = {}) {
  return call('GET', `${BASE}/orders/${encodeURIComponent(id)}`, { signal });
}

/**
 * The portal's look (public, no session): { name, brand_color } from the
 * service desk settings (`portal_name`, `brand_color` as #rrggbb), either
 * null when not set.
 */
export async function brand({ signal } = {}) {
  const data = await call('GET', `${BASE}/brand`, { signal, session: false });
  const name = typeof data?.name === 'string' && data.name.trim() ? data.name.trim() : null;
  const color = typeof data?.brand_color === 'string' && /^#[0-9a-f]{6}$/i.test(data.brand_color.trim()) ? data.brand_color.trim().toLowerCase() : null;
  return { name, brand_color: color };
}

export function isLinkInvalid(err) {
  return err?.status === 401 && String(err?.type || '').endsWith('/link-invalid');
}

/** A fresh random key for one form (Idempotency-Key: a retried send files it once). */
export function newKey() {
  try { if (crypto?.randomUUID) return crypto.randomUUID(); } catch { /* insecure context */ }
  const bytes = new Uint8Array(16);
  try { crypto.getRandomValues(bytes); } catch { for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256); }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------
// Knowledge base (public: no session needed)

function kbQuery(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && String(v).trim() !== '') q.set(k, String(v).trim());
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** → { items: [{id, title, category, excerpt, published_at}], categories: [{category, count}] } */
export async function searchKb({ q, category, signal } = {}) {
  const data = await call('GET', `${BASE}/kb${kbQuery({ q, category })}`, { signal, session: false });
  return {
    items: Array.isArray(data?.items) ? data.items : [],
    categories: Array.isArray(data?.categories) ? data.categories : [],
  };
}

/** Suggestions while a complaint's subject is typed (any word matches; at most 5). */
export async function suggestKb(subject, { signal } = {}) {
  const data = await call('GET', `${BASE}/kb${kbQuery({ subject })}`, { signal, session: false });
  return Array.isArray(data?.items) ? data.items : [];
}

/** → { id, title, body, category, published_at, updated_at }; 404 for an unknown or unpublished article. */
export async function getArticle(id, { signal } = {}) {
  return call('GET', `${BASE}/kb/${encodeURIComponent(id)}`, { signal, session: false });
}

/** "This answered my question": counts a complaint avoided. */
export async function deflected(id, { signal } = {}) {
  await call('POST', `${BASE}/kb/${encodeURIComponent(id)}/deflected`, { signal, session: false });
}

// ---------------------------------------------------------------------------
// Complaints (the customer's own tickets)

/** → Ticket[] (no messages): {id, number, subject, category, status, order_id, created_at, updated_at, last_message_at, csat, can_rate, can_reply} */
export async function listTickets({ signal } = {}) {
  const data = await call('GET', `${BASE}/tickets`, { signal });
  return Array.isArray(data?.items) ? data.items : [];
}

/** → Ticket with `messages: [{id, from: 'you'|'support', body, created_at}]`; 404 for another customer's. */
export async function getTicket(id, { signal } = {}) {
  return call('GET', `${BASE}/tickets/${encodeURIComponent(id)}`, { signal });
}

/** Files a complaint `{subject, body, category, order_id}` → the ticket (201). */
export async function fileTicket(fields, { signal, idempotencyKey } = {}) {
  return write('POST', `${BASE}/tickets`, { body: fields, signal, idempotencyKey });
}

/** The customer's reply → the ticket (a resolved one comes back reopened); 409 `ticket-closed`. */
export async function replyTicket(id, text, { signal, idempotencyKey } = {}) {
  return write('POST', `${BASE}/tickets/${encodeURIComponent(id)}/messages`, { body: { body: text }, signal, idempotencyKey });
}

/** Rates a resolved complaint once: score 1–5, optional comment → the ticket. */
export async function rateTicket(id, { score, comment }, { signal } = {}) {
  const body = { score };
  if (comment && comment.trim()) body.comment = comment.trim();
  return write('POST', `${BASE}/tickets/${encodeURIComponent(id)}/rating`, { body, signal });
}
