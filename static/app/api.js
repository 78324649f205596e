// Same-origin JSON API client for /api/v1.
//
// Every failure surfaces as an ApiError carrying what the server said in its
// RFC 9457 problem document (`type`, `title`, `detail`, per-field `errors`) and
// the `x-request-id` of the response, so the UI can show it for support.

export const API_BASE = '/api/v1';

export class ApiError extends Error {
  constructor({ status = 0, type, title, detail, errors, requestId, body } = {}) {
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
}

function defaultTitle(status) {
  if (status === 0) return 'Cannot reach the server';
  if (status === 400) return 'Bad request';
  if (status === 401) return 'Signed out';
  if (status === 403) return 'Not allowed';
  if (status === 404) return 'Not found';
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
 */
export async function request(method, path, { query, body, headers = {}, signal } = {}) {
  const init = {
    method,
    headers: { Accept: 'application/json, application/problem+json', ...headers },
    credentials: 'same-origin',
    signal,
  };
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
    throw new ApiError({
      status: res.status,
      type: p.type,
      title: p.title,
      detail: p.detail,
      errors: p.errors,
      requestId,
      body: data,
    });
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
