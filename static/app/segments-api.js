// Campaigns API: segments (the campaigns component). A segment is
// {id, name, description, kind: dynamic|static, filter, members (static: how
// many), version}. A dynamic segment's filter is a contacts filter the
// contacts component evaluates (a rule it refuses is a 422 on `filter`); a
// static list holds contacts added by hand. Built on api.request (CSRF
// header, problem+json → ApiError); versions come from the ETag and go back
// in If-Match.

import { request, API_BASE } from './api.js';
import { versionFromEtag } from './crm-api.js';
import * as session from './session.js';

const enc = encodeURIComponent;

function page(data) {
  return { items: Array.isArray(data?.items) ? data.items : [], next_cursor: data?.next_cursor ?? null };
}

function versionOf(data, headers) {
  return versionFromEtag(headers?.get?.('etag')) ?? (data?.version != null ? String(data.version) : null);
}

function filterParam(filter) {
  if (!filter) return undefined;
  return typeof filter === 'string' ? filter : JSON.stringify(filter);
}

/** Marketing makes segments (and owners, admins, managers); everyone else reads and counts them. */
export function canWriteSegments(user = session.getSession().user) {
  return ['owner', 'admin', 'manager', 'marketing'].includes(user?.role);
}

/** Every segment (all pages) → Segment[] */
export async function listSegments({ signal } = {}) {
  const items = [];
  let cursor;
  for (let i = 0; i < 20; i += 1) {
    const { data } = await request('GET', `${API_BASE}/segments`, { query: { limit: 200, cursor }, signal });
    const p = page(data);
    items.push(...p.items);
    cursor = p.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** Static lists only (for the rule builder's list picker), by name. */
export async function staticLists({ signal } = {}) {
  const all = await listSegments({ signal });
  return all.filter((s) => s.kind === 'static').sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

/** → { segment, version } */
export async function getSegment(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/segments/${enc(id)}`, { signal });
  return { segment: data, version: versionOf(data, headers) };
}

/** {name, description, kind, filter} → { segment, version }; 422 per field (name, filter). */
export async function createSegment(body, { signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/segments`, { body, signal });
  return { segment: data, version: versionOf(data, headers) };
}

/** Merge patch guarded by If-Match: 412 when someone else changed it since `version`. */
export async function updateSegment(id, patch, version, { signal } = {}) {
  const headers = version != null && version !== '' ? { 'If-Match': `"${version}"` } : {};
  const { data, headers: h } = await request('PATCH', `${API_BASE}/segments/${enc(id)}`, { body: patch, headers, signal });
  return { segment: data, version: versionOf(data, h) };
}

export async function deleteSegment(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/segments/${enc(id)}`, { signal });
}

/** Live count of a filter that is not saved yet → number. */
export async function countFilter(filter, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/segments/count`, { query: { filter: filterParam(filter) }, signal });
  return Number(data?.count) || 0;
}

/** A saved segment's count → number. */
export async function countSegment(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/segments/${enc(id)}/count`, { signal });
  return Number(data?.count) || 0;
}

/** Its contacts, paged like the contacts list → { items: Contact[], next_cursor } */
export async function segmentMembers(id, { limit = 50, cursor, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/segments/${enc(id)}/members`, { query: { limit, cursor }, signal });
  return page(data);
}

/** Static lists: add contacts → { added, segment } */
export async function addMembers(id, contactIds, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/segments/${enc(id)}/members`, { body: { contact_ids: contactIds }, signal });
  return { added: Number(data?.added) || 0, segment: data?.segment || null };
}

export async function removeMember(id, contactId, { signal } = {}) {
  await request('DELETE', `${API_BASE}/segments/${enc(id)}/members/${enc(contactId)}`, { signal });
}
