// Records API: contacts, companies, activities, timelines, tags, custom-field
// definitions, search, and a small user directory. Built on api.request (CSRF,
// problem+json → ApiError). Kept out of api.js so the settings work that edits
// api.js at the same time cannot collide with these export names.

import { request, API_BASE, newIdempotencyKey } from './api.js';

export const ENTITY_PATH = { contact: 'contacts', company: 'companies', deal: 'deals' };

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
 * Users by id ({id, name, email, active, team_id}) from the workspace
 * directory, which every signed-in user may read: owner names, assignees and
 * timeline actors. Loaded once per page load (`fresh` reloads it, e.g. in
 * Settings after a rename); an unreadable directory is an empty map (callers
 * fall back to "You" for the signed-in user and a short id otherwise).
 */
let directory = null;
export function userDirectory({ fresh = false, signal } = {}) {
  if (directory && !fresh) return directory;
  const loading = (async () => {
    const out = new Map();
    try {
      let cursor;
      for (let i = 0; i < 20; i += 1) {
        const { data } = await request('GET', `${API_BASE}/users/directory`, { query: { cursor }, signal });
        const p = page(data);
        p.items.forEach((u) => { if (u?.id) out.set(String(u.id), u); });
        cursor = p.next_cursor;
        if (!cursor) break;
      }
    } catch (err) {
      if (err?.name === 'AbortError') throw err;
      if (err?.status !== 401) console.warn('user directory unavailable', err);
      // Not cached: the next caller tries again (e.g. after signing in).
      if (directory === loading) directory = null;
    }
    return out;
  })();
  directory = loading;
  // An aborted fresh load must not leave the cache without a value.
  loading.catch(() => { if (directory === loading) directory = null; });
  return loading;
}

/** Company names by id (for contact pages); cached briefly. */
export function companyById(id) {
  return cached(`co:${id}`, 60_000, async () => (await getRecord('company', id)).record);
}

export { newIdempotencyKey };

// ---------------------------------------------------------------------------
// Contact 360 summary, duplicates and merges

/** → { possible_duplicates, open_tasks, next_task, last_contacted_at, companies, … } */
export async function contactSummary(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/contacts/${encodeURIComponent(id)}/summary`, { signal });
  return data || {};
}

/** Likely duplicates of one contact → [{ reason: 'email'|'phone'|'name', contact }] */
export async function contactDuplicates(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/contacts/${encodeURIComponent(id)}/duplicates`, { signal });
  return page(data).items.filter((x) => x?.contact?.id);
}

/** Groups across the workspace → { items: [{ reason, key, contacts }], next_cursor } (cursor goes in `after`). */
export async function duplicateGroups({ reason = 'email', after, limit = 25, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/contacts/duplicates`, { query: { reason, after, limit }, signal });
  return page(data);
}

/** → { merge: {id, primary_id, merged_ids, …}, contact } */
export async function mergeContacts({ primary_id, merged_ids, fields }, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/contacts/merge`, { body: { primary_id, merged_ids, fields }, signal });
  return { merge: data?.merge || null, contact: data?.contact || null };
}

/** → the kept contact as it was before the merge; 409 when it changed since. */
export async function undoMerge(mergeId, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/contacts/merges/${encodeURIComponent(mergeId)}/undo`, { signal });
  return data;
}

// ---------------------------------------------------------------------------
// Saved views: {id, entity, name, query, columns, shared, owner_id, …}

export async function listViews(entity, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/views`, { query: { entity }, signal });
  return page(data).items;
}

export async function createView({ entity, name, query, columns, shared }, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/views`, { body: { entity, name, query, columns, shared }, signal });
  return data;
}

export async function updateView(id, patch, { signal } = {}) {
  const { data } = await request('PATCH', `${API_BASE}/views/${encodeURIComponent(id)}`, { body: patch, signal });
  return data;
}

export async function deleteView(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/views/${encodeURIComponent(id)}`, { signal });
}
