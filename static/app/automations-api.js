// Automations API: lead-capture forms (the automation component). Built on
// api.request (CSRF header, problem+json → ApiError); versions come from the
// ETag and go back in If-Match.
//
// Form  {id, name, status: active|inactive, fields: [{key, label, kind, required,
//        options, placeholder}], consent: {enabled, wording, required},
//        submit_label, thank_you, redirect_url, assignment: {mode:
//        none|round_robin|rules, users, rules: [{field, value, user_id}]},
//        notify_owner, tags, lifecycle_stage, submissions (accepted), version}
// Submission  {id, status: accepted|spam, reason (honeypot|rate-limit),
//        contact_id, owner_id, data: {values, consent, consent_wording},
//        context: {page, referrer, utm_*}, created_at, processed_at}
//   (spam keeps what was posted as `data`, or nothing for the rate limit)

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

/** Marketing builds forms (and owners, admins, managers); everyone else reads them. */
export function canWriteForms(user = session.getSession().user) {
  return ['owner', 'admin', 'manager', 'marketing'].includes(user?.role);
}

/** → Form[] (by name) */
export async function listForms({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/forms`, { signal });
  return items(data);
}

/** → { form, version } */
export async function getForm(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/forms/${enc(id)}`, { signal });
  return { form: data, version: versionOf(data, headers) };
}

/** → { form, version }; 422 per field (`fields[0].key`, `consent.wording`, …). */
export async function createForm(body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/forms`, { body, headers: { 'Idempotency-Key': idempotencyKey }, signal });
  return { form: data, version: versionOf(data, headers) };
}

/** Guarded by If-Match: 412 when someone else changed it since `version`. */
export async function updateForm(id, patch, version, { signal } = {}) {
  const { data, headers } = await request('PATCH', `${API_BASE}/forms/${enc(id)}`, { body: patch, headers: ifMatch(version), signal });
  return { form: data, version: versionOf(data, headers) };
}

export async function deleteForm(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/forms/${enc(id)}`, { signal });
}

/** → its newest 200 submissions (spam included), newest first. */
export async function formSubmissions(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/forms/${enc(id)}/submissions`, { signal });
  return items(data);
}

/** → {page_url, html (a plain HTML form), script (a div and the script tag)} */
export async function formEmbed(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/forms/${enc(id)}/embed`, { signal });
  return data || {};
}
