// Campaigns API: sequences (drips). Built on api.request (CSRF header,
// problem+json → ApiError); versions come from the ETag and go back in
// If-Match. Who may change them is the same as for campaigns
// (campaigns-api.js canWriteCampaigns).
//
// Sequence  {id, name, status (draft|active|paused), segment_id, goal (a contacts
//            filter or null: who matches it has converted and leaves), steps:
//            [{delay_minutes, subject, html, text}], from_name,
//            enrolments: {total, active, completed, exited, exits: {reason: n}},
//            created_at, updated_at, version}
//   A step's delay counts from enrolment (the first) or from the previous step.
// Enrolment {contact_id, email, first_name, last_name, step (steps sent so far),
//            next_at, status (active|completed|exited), exit_reason
//            (unsubscribed|suppressed|converted|replied|removed|no_email), entered_at, updated_at}

import { request, API_BASE, newIdempotencyKey } from './api.js';
import { versionFromEtag } from './crm-api.js';

const enc = encodeURIComponent;

function items(data) { return Array.isArray(data?.items) ? data.items : []; }

function versionOf(data, headers) {
  return versionFromEtag(headers?.get?.('etag')) ?? (data?.version != null ? String(data.version) : null);
}

function ifMatch(version) {
  return version != null && version !== '' ? { 'If-Match': `"${version}"` } : {};
}

export const STATUSES = ['draft', 'active', 'paused'];
export const EXIT_REASONS = ['converted', 'replied', 'unsubscribed', 'suppressed', 'removed', 'no_email'];
/** The server takes at most this many steps, each waiting at most 90 days. */
export const MAX_STEPS = 20;
export const MAX_DELAY_MINUTES = 90 * 24 * 60;

/** → Sequence[] (by name) */
export async function listSequences({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/sequences`, { signal });
  return items(data);
}

/** → { sequence, version } */
export async function getSequence(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/sequences/${enc(id)}`, { signal });
  return { sequence: data, version: versionOf(data, headers) };
}

/** {name, segment_id, goal, steps, from_name} → { sequence, version } (a draft); 422 per field (steps[1].subject …). */
export async function createSequence(body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/sequences`, { body, headers: { 'Idempotency-Key': idempotencyKey }, signal });
  return { sequence: data, version: versionOf(data, headers) };
}

/** Guarded by If-Match (412 when someone else changed it); people already in it get the new steps from their next one. */
export async function updateSequence(id, patch, version, { signal } = {}) {
  const { data, headers } = await request('PATCH', `${API_BASE}/sequences/${enc(id)}`, { body: patch, headers: ifMatch(version), signal });
  return { sequence: data, version: versionOf(data, headers) };
}

/** Everyone still in it leaves. */
export async function deleteSequence(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/sequences/${enc(id)}`, { signal });
}

/** Draft or paused → active: the segment's members enter at once, steps due now go out. */
export async function activateSequence(id, version, { signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/sequences/${enc(id)}/activate`, { body: {}, headers: ifMatch(version), signal });
  return { sequence: data, version: versionOf(data, headers) };
}

/** Active → paused: nobody enters, no step goes out. */
export async function pauseSequence(id, version, { signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/sequences/${enc(id)}/pause`, { body: {}, headers: ifMatch(version), signal });
  return { sequence: data, version: versionOf(data, headers) };
}

/** → Enrolment[] (newest first, at most 500) */
export async function listEnrolments(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/sequences/${enc(id)}/enrolments`, { signal });
  return items(data);
}

/** Takes a contact out (exit reason `removed`); they do not enter this sequence again. */
export async function removeEnrolment(id, contactId, { signal } = {}) {
  await request('DELETE', `${API_BASE}/sequences/${enc(id)}/enrolments/${enc(contactId)}`, { signal });
}

/** → {enrolments, steps: [{step (from 0), sent, delivered, opened, clicked, unsubscribed, bounced}]} */
export async function sequenceStats(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/sequences/${enc(id)}/stats`, { signal });
  return { enrolments: data?.enrolments || {}, steps: Array.isArray(data?.steps) ? data.steps : [] };
}
