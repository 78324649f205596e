// Campaigns API: email templates, campaigns (schedule, unschedule, cancel,
// statistics, messages, previews, test sends), consent per contact,
// suppressions and a contact's engagement. Built on api.request (CSRF header,
// problem+json → ApiError); versions come from the ETag and go back in
// If-Match. Segments live in segments-api.js.
//
// Template  {id, name, subject, html, text, fields, created_at, updated_at, version}
// Campaign  {id, name, status (draft|scheduled|sending|sent|cancelled), segment_id,
//            template_id, subject, html, text, from_name, time_zone, send_at (UTC),
//            send_at_local, throttle_per_minute, ab, ab_decide_at, ab_winner,
//            started_at, finished_at, progress, version}
//   progress: GET /campaigns/{id} → recipients by state {recipients, pending, queued,
//             skipped, hold, cancelled}; GET /campaigns → the stats object.

import { request, API_BASE, newIdempotencyKey } from './api.js';
import { versionFromEtag } from './crm-api.js';
import * as session from './session.js';

const enc = encodeURIComponent;

function items(data) { return Array.isArray(data?.items) ? data.items : []; }

function versionOf(data, headers) {
  return versionFromEtag(headers?.get?.('etag')) ?? (data?.version != null ? String(data.version) : null);
}

function ifMatch(version) {
  return version != null && version !== '' ? { 'If-Match': `"${version}"` } : {};
}

/** Marketing writes templates and campaigns (and owners, admins, managers); everyone else reads. */
export function canWriteCampaigns(user = session.getSession().user) {
  return ['owner', 'admin', 'manager', 'marketing'].includes(user?.role);
}

export const STATUSES = ['draft', 'scheduled', 'sending', 'sent', 'cancelled'];
export const CONSENT_BASES = ['consent', 'legitimate_interest', 'contract', 'legal_obligation'];
export const SUPPRESSION_REASONS = ['manual', 'bounced', 'complained', 'unsubscribed'];

// ---------------------------------------------------------------------------
// Templates

/** → Template[] (by name) */
export async function listTemplates({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/templates`, { signal });
  return items(data);
}

/** → { template, version } */
export async function getTemplate(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/templates/${enc(id)}`, { signal });
  return { template: data, version: versionOf(data, headers) };
}

/** {name, subject, html, text} → { template, version }; 422 per field (syntax errors say where). */
export async function createTemplate(body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/templates`, { body, headers: { 'Idempotency-Key': idempotencyKey }, signal });
  return { template: data, version: versionOf(data, headers) };
}

/** Guarded by If-Match: 412 when someone else changed it since `version`. */
export async function updateTemplate(id, patch, version, { signal } = {}) {
  const { data, headers } = await request('PATCH', `${API_BASE}/templates/${enc(id)}`, { body: patch, headers: ifMatch(version), signal });
  return { template: data, version: versionOf(data, headers) };
}

export async function deleteTemplate(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/templates/${enc(id)}`, { signal });
}

/** Unsaved content as a contact (or a sample) would get it → {subject, html, text, contact}. */
export async function previewContent({ subject, html, text }, { contactId, signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/templates/preview`, {
    body: { subject, html, text }, query: { contact_id: contactId || undefined }, signal,
  });
  return data;
}

/** → 202 {message_id, to}; `contactId` fills the merge fields. */
export async function testTemplate(id, { to, contactId }, { signal } = {}) {
  const body = { to };
  if (contactId) body.contact_id = contactId;
  const { data } = await request('POST', `${API_BASE}/templates/${enc(id)}/test`, { body, signal });
  return data;
}

// ---------------------------------------------------------------------------
// Campaigns

/** → Campaign[] (newest first); `status` filters. */
export async function listCampaigns({ status, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/campaigns`, { query: { status: status || undefined }, signal });
  return items(data);
}

/** → { campaign, version } */
export async function getCampaign(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/campaigns/${enc(id)}`, { signal });
  return { campaign: data, version: versionOf(data, headers) };
}

/** → { campaign, version }; a draft. `template_id` copies the template's content. */
export async function createCampaign(body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/campaigns`, { body, headers: { 'Idempotency-Key': idempotencyKey }, signal });
  return { campaign: data, version: versionOf(data, headers) };
}

/** Drafts only (409 otherwise); If-Match. */
export async function updateCampaign(id, patch, version, { signal } = {}) {
  const { data, headers } = await request('PATCH', `${API_BASE}/campaigns/${enc(id)}`, { body: patch, headers: ifMatch(version), signal });
  return { campaign: data, version: versionOf(data, headers) };
}

export async function deleteCampaign(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/campaigns/${enc(id)}`, { signal });
}

async function action(id, verb, body, version, signal) {
  const { data, headers } = await request('POST', `${API_BASE}/campaigns/${enc(id)}/${verb}`, { body, headers: ifMatch(version), signal });
  return { campaign: data, version: versionOf(data, headers) };
}

/**
 * Send now (no `sendAt`: the first batch goes out within the request), or at
 * `sendAt` ("YYYY-MM-DDTHH:MM") in `timeZone` (default: the campaign's).
 */
export function scheduleCampaign(id, { sendAt, timeZone } = {}, version, { signal } = {}) {
  const body = {};
  if (sendAt) body.send_at = sendAt;
  if (timeZone) body.time_zone = timeZone;
  return action(id, 'schedule', body, version, signal);
}

/** Scheduled → draft. */
export function unscheduleCampaign(id, version, { signal } = {}) { return action(id, 'unschedule', {}, version, signal); }

/** Nothing more is queued. */
export function cancelCampaign(id, version, { signal } = {}) { return action(id, 'cancel', {}, version, signal); }

/** → {queued, sent, delivered, opened, clicked, …, *_rate, variants, skipped, automated_opens, series} */
export async function campaignStats(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/campaigns/${enc(id)}/stats`, { signal });
  return data || {};
}

/** → its newest 200 messages {id, to, subject, status, variant, html, text, headers, created_at} */
export async function campaignMessages(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/campaigns/${enc(id)}/messages`, { signal });
  return items(data);
}

/** The saved campaign as a contact would get it → {subject, html, text, contact}. */
export async function previewCampaign(id, { contactId, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/campaigns/${enc(id)}/preview`, { query: { contact_id: contactId || undefined }, signal });
  return data;
}

export async function testCampaign(id, { to, contactId }, { signal } = {}) {
  const body = { to };
  if (contactId) body.contact_id = contactId;
  const { data } = await request('POST', `${API_BASE}/campaigns/${enc(id)}/test`, { body, signal });
  return data;
}

// ---------------------------------------------------------------------------
// Consent, suppressions, engagement

/** → {contact_id, channels: [{channel, status, lawful_basis, source, at}], history: [...]} */
export async function getConsents(contactId, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/consents/${enc(contactId)}`, { signal });
  return { channels: Array.isArray(data?.channels) ? data.channels : [], history: Array.isArray(data?.history) ? data.history : [] };
}

/** {channel, status: granted|withdrawn, lawful_basis (required to grant), source} → the same as getConsents. */
export async function recordConsent(contactId, body, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/consents/${enc(contactId)}`, { body, signal });
  return { channels: Array.isArray(data?.channels) ? data.channels : [], history: Array.isArray(data?.history) ? data.history : [] };
}

/** → [{email, reason, source, at}] (at most 500, newest first) */
export async function listSuppressions({ q, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/suppressions`, { query: { q: q?.trim() || undefined }, signal });
  return items(data);
}

export async function addSuppression({ email, reason }, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/suppressions`, { body: { email, reason }, signal });
  return data;
}

export async function removeSuppression(email, { signal } = {}) {
  await request('DELETE', `${API_BASE}/suppressions/${enc(email)}`, { signal });
}

/** → [{campaign_id, campaign, subject, status, queued_at, delivered_at, opened_at, clicked_at, unsubscribed_at, bounced_at}] */
export async function contactEngagement(contactId, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/engagement/${enc(contactId)}`, { signal });
  return items(data);
}
