// The customers' API (/api/v1/portal): magic-link sign-in, sign-out, and the
// signed-in customer's own orders. Portal sessions are separate from staff
// sessions (cookie `edge_portal`); writes carry the session's CSRF token in
// `x-csrf-token`. Failures are ApiErrors (problem+json, request id), as in
// the staff app.

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
function write(key, value) {
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
  write(CSRF_KEY, csrf);
  write(EMAIL_KEY, email);
}

export function forget() { remember(null); }

/**
 * Called when a request needing a session answers 401 (signed out, expired):
 * return true when it took care of it (the error is then marked `handled`).
 */
let unauthenticated = () => false;
export function onUnauthenticated(fn) { unauthenticated = fn; }

async function call(method, path, { body, signal, session = true } = {}) {
  refresh();
  const headers = { Accept: 'application/json, application/problem+json' };
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

/** → { contact_id, orders }; `quiet`: a 401 is only thrown, not sent to the sign-in page. */
export async function me({ signal, quiet = false } = {}) {
  return call('GET', `${BASE}/me`, { signal, session: !quiet });
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

export function isLinkInvalid(err) {
  return err?.status === 401 && String(err?.type || '').endsWith('/link-invalid');
}
