// Records API: contacts, companies, activities, timelines, tags, custom-field
// definitions, search, and a small user directory. Built on api.request (CSRF,
// problem+json → ApiError). Kept out of api.js so the settings work that edits
// api.js at the same time cannot collide with these export names.

import { request, API_BASE, newIdempotencyKey, listUsers } from './api.js';

export const ENTITY_PATH = { contact: 'contacts', company: 'companies' };

function path(entity) {
  const p = ENTITY_PATH[entity];
  if (!p) throw new Error(`unknown entity ${entity}`);
  return `${API_BASE}/${p}`;
}

function page(data) {
  return { items: Array.isArray(data?.items) ? data.items : [], next_cursor: data?.next_cursor ?? null };
}

/** A filter is sent as JSON text; accepts an object, a JSON string or nothing. */
function filterParam(filter) {
  if (!filter) return undefined;
  return typeof filter === 'string' ? filter : JSON.stringify(filter);
}

/** Version from an ETag header (`"3"` or `W/"3"`), else null. */
export function versionFromEtag(etag) {
  const m = /^(?:W\/)?"?([^"]*)"?$/.exec((etag || '').trim());
  return m && m[1] ? m[1] : null;
}

// ---------------------------------------------------------------------------
// Contacts and companies (same routes)

/** → { items, next_cursor } */
export async function listRecords(entity, { limit = 100, cursor, q, filter, sort, view, signal } = {}) {
  const { data } = await request('GET', path(entity), {
    query: { limit, cursor, q: q?.trim() || undefined, filter: filterParam(filter), sort: sort || undefined, view: view || undefined },
    signal,
  });
  return page(data);
}

/** → { count, more } (the server counts up to 10,000) */
export async function countRecords(entity, { q, filter, view, signal } = {}) {
  const { data } = await request('GET', `${path(entity)}/count`, {
    query: { q: q?.trim() || undefined, filter: filterParam(filter), view: view || undefined },
    signal,
  });
  return { count: Number(data?.count) || 0, more: !!data?.more };
}

/** → { record, version } */
export async function getRecord(entity, id, { signal } = {}) {
  const { data, headers } = await request('GET', `${path(entity)}/${encodeURIComponent(id)}`, { signal });
  return { record: data, version: versionFromEtag(headers.get('etag')) ?? (data?.version != null ? String(data.version) : null) };
}

/** → { record, version } */
export async function createRecord(entity, body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', path(entity), {
    body, headers: { 'Idempotency-Key': idempotencyKey }, signal,
  });
  return { record: data, version: versionFromEtag(headers.get('etag')) ?? (data?.version != null ? String(data.version) : null) };
}

/**
 * JSON merge patch guarded by If-Match: a 412 ApiError means someone else
 * changed the record since `version`. → { record, version }
 */
export async function updateRecord(entity, id, patch, version, { signal } = {}) {
  const headers = {};
  if (version != null && version !== '') headers['If-Match'] = `"${version}"`;
  const { data, headers: h } = await request('PATCH', `${path(entity)}/${encodeURIComponent(id)}`, { body: patch, headers, signal });
  return { record: data, version: versionFromEtag(h.get('etag')) ?? (data?.version != null ? String(data.version) : null) };
}

/** Moves the record to the trash (restorable for 30 days). */
export async function deleteRecord(entity, id, { signal } = {}) {
  await request('DELETE', `${path(entity)}/${encodeURIComponent(id)}`, { signal });
}

export async function restoreRecord(entity, id, { signal } = {}) {
  const { data } = await request('POST', `${path(entity)}/${encodeURIComponent(id)}/restore`, { signal });
  return data;
}

/** → { items: [{kind: 'activity'|'change', at, activity?, change?}], next_cursor } */
export async function getTimeline(entity, id, { cursor, limit = 50, signal } = {}) {
  const { data } = await request('GET', `${path(entity)}/${encodeURIComponent(id)}/timeline`, { query: { cursor, limit }, signal });
  return page(data);
}

export async function listCompanyContacts(id, { cursor, limit = 50, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/companies/${encodeURIComponent(id)}/contacts`, { query: { cursor, limit }, signal });
  return page(data);
}

// ---------------------------------------------------------------------------
// Activities

/** query: { contact_id, company_id, deal_id, kind, open_tasks_of, cursor, limit } */
export async function listActivities(query = {}, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/activities`, { query, signal });
  return page(data);
}

export async function createActivity(body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/activities`, { body, headers: { 'Idempotency-Key': idempotencyKey }, signal });
  return data;
}

export async function updateActivity(id, patch, { signal } = {}) {
  const { data } = await request('PATCH', `${API_BASE}/activities/${encodeURIComponent(id)}`, { body: patch, signal });
  return data;
}

// ---------------------------------------------------------------------------
// Search, tags, custom-field definitions

/** → { contacts, companies, notes } */
export async function search(q, { limit = 5, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/search`, { query: { q, limit }, signal });
  return {
    contacts: Array.isArray(data?.contacts) ? data.contacts : [],
    companies: Array.isArray(data?.companies) ? data.companies : [],
    notes: Array.isArray(data?.notes) ? data.notes : [],
  };
}

/** Short-lived per-key cache of promises, so several views share one request. */
const cache = new Map();
function cached(key, ttlMs, load) {
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < ttlMs) return hit.promise;
  const promise = load().catch((err) => { cache.delete(key); throw err; });
  cache.set(key, { at: Date.now(), promise });
  return promise;
}
export function invalidate(prefix) {
  for (const k of cache.keys()) if (k.startsWith(prefix)) cache.delete(k);
}

async function allPages(url, query) {
  const items = [];
  let cursor;
  for (let i = 0; i < 20; i += 1) {
    const { data } = await request('GET', url, { query: { ...query, cursor, limit: 200 } });
    const p = page(data);
    items.push(...p.items);
    cursor = p.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** Definitions for an entity, in their display order. → CustomField[] */
export function customFields(entity) {
  return cached(`cf:${entity}`, 10_000, async () => {
    const items = await allPages(`${API_BASE}/custom-fields`, { entity });
    return items
      .filter((d) => d && d.key && (!d.entity || d.entity === entity))
      .sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || String(a.label || a.key).localeCompare(String(b.label || b.key)));
  });
}

/** Tags in use: [{tag, count}] by count, then name. */
export function tags(entity) {
  return cached(`tags:${entity}`, 30_000, async () => {
    const items = await allPages(`${API_BASE}/tags`, { entity });
    return items.filter((t) => t && t.tag).sort((a, b) => (b.count || 0) - (a.count || 0) || a.tag.localeCompare(b.tag));
  });
}

/**
 * Users by id, for owner names and timeline actors. Only owners and admins may
 * list users; everyone else gets an empty map (callers fall back to "You" for
 * the signed-in user and a short id otherwise).
 */
export function userDirectory() {
  return cached('users', 5 * 60_000, async () => {
    const out = new Map();
    try {
      let cursor;
      for (let i = 0; i < 20; i += 1) {
        const p = await listUsers({ cursor });
        p.items.forEach((u) => { if (u?.id) out.set(String(u.id), u); });
        cursor = p.next_cursor;
        if (!cursor) break;
      }
    } catch (err) {
      if (err?.status !== 403 && err?.status !== 401) console.warn('user directory unavailable', err);
    }
    return out;
  });
}

/** Company names by id (for contact pages); cached briefly. */
export function companyById(id) {
  return cached(`co:${id}`, 60_000, async () => (await getRecord('company', id)).record);
}

export { newIdempotencyKey };
