// Bulk data calls: CSV import jobs (/api/v1/imports) and paged exports
// (/api/v1/{contacts,companies}/export). JSON calls go through api.request;
// the two that move raw bytes (chunk uploads, export pages) use rawRequest,
// which sends the same credentials and CSRF header as api.js, refreshes a stale
// CSRF token once, and turns problem documents into ApiErrors.

import { request, API_BASE, ApiError, getCsrfToken, me } from './api.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * fetch() for bodies and answers that are not JSON. Resolves to the Response
 * when it is 2xx; rejects with an ApiError (status 0 when the server could not
 * be reached) or the AbortError.
 */
export async function rawRequest(method, path, { query, body, contentType, accept = '*/*', signal, csrfRetry = true } = {}) {
  const verb = method.toUpperCase();
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = { Accept: `${accept}, application/problem+json` };
  const token = getCsrfToken();
  if (!SAFE.has(verb) && token) headers['x-csrf-token'] = token;
  if (contentType) headers['Content-Type'] = contentType;
  let res;
  try {
    res = await fetch(url.pathname + url.search, { method: verb, headers, body, credentials: 'same-origin', signal });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError({ status: 0, detail: 'The server could not be reached. Check your connection and try again.' });
  }
  if (res.ok) return res;

  const requestId = res.headers.get('x-request-id');
  let p = {};
  try {
    const type = (res.headers.get('content-type') || '').toLowerCase();
    if (type.includes('json')) p = (await res.json()) || {};
    else { const text = await res.text(); if (text) p = { detail: text.slice(0, 500) }; }
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
  }
  const retry = res.headers.get('retry-after');
  const err = new ApiError({
    status: res.status, type: p.type, title: p.title, detail: p.detail, errors: p.errors, requestId, body: p,
    retryAfter: retry && /^\d+$/.test(retry.trim()) ? Number(retry) : null,
  });
  // A stale CSRF token (signed in again in another tab): fetch the current one, try once more.
  if (res.status === 403 && err.type.endsWith('/csrf') && csrfRetry && !SAFE.has(verb)) {
    await me({ signal });
    return rawRequest(method, path, { query, body, contentType, accept, signal, csrfRetry: false });
  }
  if (res.status === 401) {
    // Let api.js run its "session ended" handling (sign-in redirect) once.
    try { await request('GET', `${API_BASE}/auth/me`, { signal }); } catch (e) { if (e?.status === 401) err.handled = e.handled; }
  }
  throw err;
}

// ---------------------------------------------------------------------------
// Import jobs
//
// Job: {id, entity, filename, status: uploading|mapping|ready|running|done|failed|cancelled,
//       total_bytes, detected: {encoding, delimiter, bom}|null, headers, mapping, position,
//       rows_done, created, updated, unchanged, failed, message, created_by, created_at,
//       updated_at, finished_at, progress (0…1), chunk_size, chunks}

const base = `${API_BASE}/imports`;
const one = (id) => `${base}/${encodeURIComponent(id)}`;

/** Recent jobs, newest first (the server keeps the last 50 in this list). */
export async function listImports({ signal } = {}) {
  const { data } = await request('GET', base, { signal });
  return Array.isArray(data?.items) ? data.items : [];
}

export async function createImport({ entity, filename, size }, { signal } = {}) {
  const { data } = await request('POST', base, { body: { entity, filename, size }, signal });
  return data;
}

export async function getImport(id, { signal } = {}) {
  const { data } = await request('GET', one(id), { signal });
  return data;
}

/** Chunk `n` as raw bytes (a Blob from File.slice); safe to retry. */
export async function putChunk(id, n, blob, { signal } = {}) {
  await rawRequest('PUT', `${one(id)}/chunks/${n}`, { body: blob, contentType: 'text/csv', signal });
}

/** → { job, sample: string[][], suggested: Mapping, remembered, targets: string[] } */
export async function completeImport(id, { signal } = {}) {
  const { data } = await request('POST', `${one(id)}/complete`, { body: {}, signal });
  return data;
}

/** Mapping {columns, match_by, update_existing, create_companies} (+ encoding) → { job, preview: [{row, errors}] } */
export async function setMapping(id, body, { signal } = {}) {
  const { data } = await request('PUT', `${one(id)}/mapping`, { body, signal });
  return { job: data?.job || null, preview: Array.isArray(data?.preview) ? data.preview : [] };
}

/** Imports for about a second; → the job with its progress. */
export async function runImport(id, { signal } = {}) {
  const { data } = await request('POST', `${one(id)}/run`, { body: {}, signal });
  return data;
}

export async function cancelImport(id, { signal } = {}) {
  const { data } = await request('POST', `${one(id)}/cancel`, { body: {}, signal });
  return data;
}

/** The per-row report → { items: [{row, errors: [{field, message}]}], next_cursor } */
export async function importErrors(id, { after, limit = 200, signal } = {}) {
  const { data } = await request('GET', `${one(id)}/errors`, { query: { after, limit }, signal });
  return { items: Array.isArray(data?.items) ? data.items : [], next_cursor: data?.next_cursor ?? null };
}

export const TERMINAL = new Set(['done', 'failed', 'cancelled']);
/** Statuses a `run` call moves on (`indexing`: a bulk load's rows are in, its indexes being built). */
export const ACTIVE = new Set(['running', 'indexing']);
