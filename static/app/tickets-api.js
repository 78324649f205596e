// Service desk API for staff (the portal component): tickets and their
// conversation, queues, macros, the service settings (business hours, SLA
// policy, escalation, categories), the knowledge base and the reports. Built
// on api.request (CSRF header, problem+json → ApiError); versions come from
// the ETag and go back in If-Match.

import { request, API_BASE, newIdempotencyKey } from './api.js';
import { versionFromEtag } from './crm-api.js';

const enc = encodeURIComponent;

function page(data) {
  return { items: Array.isArray(data?.items) ? data.items : [], next_cursor: data?.next_cursor ?? null };
}

function versionOf(data, headers) {
  return versionFromEtag(headers?.get?.('etag')) ?? (data?.version != null ? String(data.version) : null);
}

function ifMatch(version) {
  return version != null && version !== '' ? { 'If-Match': `"${version}"` } : {};
}

// ---------------------------------------------------------------------------
// Tickets

/** Every status, for "all of a customer's tickets". */
export const ALL_STATUSES = ['new', 'open', 'waiting', 'resolved', 'closed', 'reopened'];
/** The open states (what a queue shows unless asked otherwise). */
export const OPEN_STATUSES = ['new', 'open', 'waiting', 'reopened'];

/**
 * → { items: Ticket[], next_cursor }. queue: all | mine | unassigned |
 * breaching (targets due within `within` minutes or missed, most urgent
 * first; not paged); status: a comma list (default the open ones); q: subject
 * or #number.
 */
export async function listTickets({ queue, status, contact_id, assignee_id, q, within, limit = 50, cursor } = {}, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/tickets`, {
    query: {
      queue: queue || undefined,
      status: Array.isArray(status) ? status.join(',') : status || undefined,
      contact_id, assignee_id, q: q?.trim() || undefined, within, limit, cursor,
    },
    signal,
  });
  return page(data);
}

/** → { ticket (with messages, internal notes included), version } */
export async function getTicket(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/tickets/${enc(id)}`, { signal });
  return { ticket: data, version: versionOf(data, headers) };
}

/**
 * File a ticket for a customer: {contact_id, subject, body, category,
 * priority, channel, order_id, assignee_id}. Pass the same idempotencyKey
 * when retrying one submission. → { ticket, version }
 */
export async function createTicket(body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/tickets`, {
    body, headers: { 'Idempotency-Key': idempotencyKey }, signal,
  });
  return { ticket: data, version: versionOf(data, headers) };
}

/**
 * Change assignee_id, team_id, priority (targets recomputed), category or
 * status (open, waiting, resolved, closed). 412 when it changed meanwhile.
 * → { ticket, version }
 */
export async function updateTicket(id, patch, version, { signal } = {}) {
  const { data, headers } = await request('PATCH', `${API_BASE}/tickets/${enc(id)}`, { body: patch, headers: ifMatch(version), signal });
  return { ticket: data, version: versionOf(data, headers) };
}

/**
 * A reply {body, internal, status}: an internal note never reaches the
 * customer; status (open, waiting, resolved) only with a public reply.
 * 409 `ticket-closed` on a closed ticket. → { ticket, message, version }
 */
export async function replyToTicket(id, { body, internal = false, status }, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const payload = { body, internal: !!internal };
  if (!internal && status) payload.status = status;
  const { data, headers } = await request('POST', `${API_BASE}/tickets/${enc(id)}/messages`, {
    body: payload, headers: { 'Idempotency-Key': idempotencyKey }, signal,
  });
  return { ticket: data?.ticket || null, message: data?.message || null, version: versionOf(data?.ticket, headers) };
}

// ---------------------------------------------------------------------------
// Settings and macros

let settingsCache = null;

/** → { settings, version }; cached for a minute (categories for pickers). */
export function serviceSettings({ fresh = false, signal } = {}) {
  if (settingsCache && !fresh && Date.now() - settingsCache.at < 60_000) return settingsCache.promise;
  const promise = request('GET', `${API_BASE}/service-settings`, { signal })
    .then(({ data, headers }) => ({ settings: data, version: versionOf(data, headers) }));
  settingsCache = { at: Date.now(), promise };
  promise.catch(() => { if (settingsCache?.promise === promise) settingsCache = null; });
  return promise;
}

/** The categories tickets may take (settings), or a sensible default. */
export async function ticketCategories() {
  try {
    const { settings } = await serviceSettings();
    return Array.isArray(settings?.categories) ? settings.categories : [];
  } catch {
    return [];
  }
}

/** PUT the whole settings document (without `version`). → { settings, version } */
export async function saveServiceSettings(settings, version, { signal } = {}) {
  const body = { ...settings };
  delete body.version;
  const { data, headers } = await request('PUT', `${API_BASE}/service-settings`, { body, headers: ifMatch(version), signal });
  const saved = { settings: data, version: versionOf(data, headers) };
  settingsCache = { at: Date.now(), promise: Promise.resolve(saved) };
  return saved;
}

/** → Macro[] ({id, name, body, status}) by name */
export async function listMacros({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/macros`, { signal });
  return page(data).items;
}

export async function createMacro({ name, body, status }, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/macros`, { body: { name, body, status: status || null }, signal });
  return data;
}

export async function updateMacro(id, { name, body, status }, { signal } = {}) {
  const { data } = await request('PUT', `${API_BASE}/macros/${enc(id)}`, { body: { name, body, status: status || null }, signal });
  return data;
}

export async function deleteMacro(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/macros/${enc(id)}`, { signal });
}

// ---------------------------------------------------------------------------
// Knowledge base (staff: drafts and published)

/** → Article[] newest first (up to 200); `q` searches published articles only. */
export async function listArticles({ q, category } = {}, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/kb/articles`, { query: { q: q?.trim() || undefined, category: category || undefined }, signal });
  return page(data).items;
}

/** → { article, version } */
export async function getArticle(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/kb/articles/${enc(id)}`, { signal });
  return { article: data, version: versionOf(data, headers) };
}

/** {title, body, category, status} → { article, version } */
export async function createArticle(fields, { signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/kb/articles`, { body: fields, signal });
  return { article: data, version: versionOf(data, headers) };
}

/** Any of {title, body, category, status}; 412 when it changed meanwhile. → { article, version } */
export async function updateArticle(id, patch, version, { signal } = {}) {
  const { data, headers } = await request('PATCH', `${API_BASE}/kb/articles/${enc(id)}`, { body: patch, headers: ifMatch(version), signal });
  return { article: data, version: versionOf(data, headers) };
}

export async function deleteArticle(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/kb/articles/${enc(id)}`, { signal });
}

// ---------------------------------------------------------------------------
// Reports

/**
 * → { from, to, created, volume: [{day, count}], average_first_response_minutes,
 * average_resolution_minutes, sla: {first_response, resolution: {met, missed,
 * attainment}}, csat: {rated, average, distribution: [n×5]} }; from/to are
 * dates (YYYY-MM-DD), default the last 30 days.
 */
export async function serviceReport({ from, to } = {}, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/service-reports`, { query: { from: from || undefined, to: to || undefined }, signal });
  return data || {};
}

// ---------------------------------------------------------------------------

/** Staff who may work tickets: the service desk's writers (the server checks too). */
export function canWorkTicketsRole(role) {
  return ['owner', 'admin', 'manager', 'support'].includes(role);
}
