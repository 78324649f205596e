// Orders API for staff (the portal component's /api/v1/orders): lists with
// filters and cursors, one order with its status history and version (ETag),
// creating an order (Idempotency-Key) and replacing its content (If-Match),
// status moves with If-Match, and a customer's lifetime value. Built on
// api.request (CSRF header, problem+json → ApiError).

import { request, API_BASE, newIdempotencyKey } from './api.js';
import { versionFromEtag } from './crm-api.js';

const enc = encodeURIComponent;

function page(data) {
  return { items: Array.isArray(data?.items) ? data.items : [], next_cursor: data?.next_cursor ?? null };
}

function versionOf(data, headers) {
  return versionFromEtag(headers?.get?.('etag')) ?? (data?.version != null ? String(data.version) : null);
}

/** → { items: Order[], next_cursor } newest first; filters: contact_id, status, number (exact). */
export async function listOrders({ contact_id, status, number, limit = 25, cursor } = {}, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/orders`, {
    query: { contact_id, status, number: number?.trim() || undefined, limit, cursor },
    signal,
  });
  return page(data);
}

/** → { order (with history), version } */
export async function getOrder(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/orders/${enc(id)}`, { signal });
  return { order: data, version: versionOf(data, headers) };
}

/**
 * Create an order: {contact_id, currency, items: [{product, sku, quantity,
 * unit_price (minor units)}], shipping, tax, discount, status, carrier,
 * tracking_number, note, number (omitted: the next number)}. Pass the same
 * idempotencyKey when retrying one submission. 422 with per-field errors
 * (`items[0].quantity`). → { order, version }
 */
export async function createOrder(body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/orders`, {
    body, headers: { 'Idempotency-Key': idempotencyKey }, signal,
  });
  return { order: data, version: versionOf(data, headers) };
}

/**
 * Replace an order's content: the body is the whole order (contact_id,
 * currency, items, shipping, tax, discount, status, carrier,
 * tracking_number, note, …), its current status included. 412 when it
 * changed meanwhile, 409 `invalid-transition` for a status the lifecycle
 * does not allow. Unchanged content keeps the version. → { order (without
 * history), version }
 */
export async function updateOrder(id, body, version, { signal } = {}) {
  const { data, headers } = await request('PUT', `${API_BASE}/orders/${enc(id)}`, {
    body,
    headers: version != null && version !== '' ? { 'If-Match': `"${version}"` } : {},
    signal,
  });
  return { order: data, version: versionOf(data, headers) };
}

/**
 * Move an order along its lifecycle. 409 `invalid-transition` for a move the
 * lifecycle does not allow, 412 when it changed meanwhile.
 * → { order (without history), version }
 */
export async function setOrderStatus(id, { status, note, carrier, tracking_number }, version, { signal } = {}) {
  const body = { status };
  if (note) body.note = note;
  if (carrier) body.carrier = carrier;
  if (tracking_number) body.tracking_number = tracking_number;
  const { data, headers } = await request('POST', `${API_BASE}/orders/${enc(id)}/status`, {
    body,
    headers: version != null && version !== '' ? { 'If-Match': `"${version}"` } : {},
    signal,
  });
  return { order: data, version: versionOf(data, headers) };
}

/** → { orders, first_order_at, last_order_at, totals: [{currency, orders, lifetime_value}] } */
export async function orderSummary(contactId, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/orders/summary`, { query: { contact_id: contactId }, signal });
  return {
    orders: Number(data?.orders) || 0,
    first_order_at: data?.first_order_at || null,
    last_order_at: data?.last_order_at || null,
    totals: Array.isArray(data?.totals) ? data.totals : [],
  };
}

/** Staff who may move orders: the service desk's writers (the server checks too). */
export function canEditOrdersRole(role) {
  return ['owner', 'admin', 'manager', 'support'].includes(role);
}
