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

// ---------------------------------------------------------------------------
// Workflow rules, customer value, campaign return and handovers
//
// Rule  {id, name, enabled, trigger: {kind, entity?, changed?, stage_id?, form_id?,
//        field?, offset_days?, time_zone?}, conditions: [{field, op, value}],
//        actions: [{kind, subject?, due_in_days?, user?, tag?, field?, value?,
//        template_id?, sequence_id?}], runs, last_run_at, version}
// Run   {id, rule_id, event, entity, entity_id, status: pending|done|skipped|failed,
//        attempts, results: [{kind, ok, detail}], error, created_at, finished_at}
// Customer  {contact_id, orders, deals_won, purchases (= orders + deals_won), total,
//        first_purchase_at, last_purchase_at, r, f, m, rfm, segment, silence_days
//        (since the last purchase), usual_interval_days (between purchases),
//        at_risk, touches (calls, meetings, emails logged), last_touch_at,
//        usual_touch_interval_days (with 3+ touches), clv, projected_clv, computed_at}
//        (`{contact_id, orders: 0}` for a contact who never bought)
// CompanyValue  {company_id, customers, purchases, total, clv, projected_clv, at_risk,
//        first_purchase_at, last_purchase_at, people: Customer[] (top 10 by value)}
// Pass  {phase: orders|deals|touches|bounds|score, after, started_at, done}: a
//        full recomputation under way
// Handover  {id, from_user_id, to_user_ids, include, rules, status: running|done|failed,
//        moved: {kind: {total, to: {user_id: n}}}, error, created_at, finished_at}
//   rules  [{field: country|industry|size|lifecycle_stage|source|tag, values: [string],
//        to_user_id (one of to_user_ids)}]: the first that matches a record wins
// Plan   {kind: {user_id: {total, company, rule, turn}}}: who would get how many, and
//        why (follows its company, a rule, or in turn); a page of up to 200 per kind

/** Marketing builds rules (and owners, admins, managers); everyone else reads them. */
export function canWriteRules(user = session.getSession().user) { return canWriteForms(user); }

/** Owners, admins and managers hand accounts over. */
export function canHandOver(user = session.getSession().user) {
  return ['owner', 'admin', 'manager'].includes(user?.role);
}

/** → Rule[] (by name) */
export async function listRules({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/automations/rules`, { signal });
  return items(data);
}

/** → { rule, version } */
export async function getRule(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/automations/rules/${enc(id)}`, { signal });
  return { rule: data, version: versionOf(data, headers) };
}

/** → { rule, version }; 422 per field (`trigger.kind`, `conditions[0].op`, `actions[1].template_id`, …). */
export async function createRule(body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/automations/rules`, { body, headers: { 'Idempotency-Key': idempotencyKey }, signal });
  return { rule: data, version: versionOf(data, headers) };
}

/** Guarded by If-Match: 412 when someone else changed it since `version`. */
export async function updateRule(id, patch, version, { signal } = {}) {
  const { data, headers } = await request('PATCH', `${API_BASE}/automations/rules/${enc(id)}`, { body: patch, headers: ifMatch(version), signal });
  return { rule: data, version: versionOf(data, headers) };
}

export async function deleteRule(id, { signal } = {}) {
  await request('DELETE', `${API_BASE}/automations/rules/${enc(id)}`, { signal });
}

/** → the rule's newest 200 runs, newest first. */
export async function ruleRuns(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/automations/rules/${enc(id)}/runs`, { signal });
  return items(data);
}

/** → every rule's newest 200 runs, newest first. */
export async function allRuns({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/automations/runs`, { signal });
  return items(data);
}

/** → the sequences a rule can enrol contacts in ({id, name, status, …}). */
export async function listSequences({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/sequences`, { signal });
  return items(data);
}

/** → {customers, revenue, computed_at, top_20_percent_revenue_share, …, segments, most_valuable, slipping_away, pass: Pass|null} */
export async function customerSummary({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/insights/customers/summary`, { signal });
  return data || {};
}

/** → Customer[] by lifetime value (`atRisk`: only those slipping away). */
export async function listCustomers({ atRisk = false, limit = 50, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/insights/customers`, { query: { at_risk: atRisk ? 'true' : undefined, limit }, signal });
  return items(data);
}

/** → one contact's figures; `{contact_id, orders: 0}` when they never bought. */
export async function customerValue(contactId, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/insights/customers/${enc(contactId)}`, { signal });
  return data || {};
}

/** → a company's people added up (CompanyValue); `customers: 0, people: []` when nobody there bought. */
export async function companyValue(companyId, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/insights/companies/${enc(companyId)}`, { signal });
  return data || {};
}

/** A full pass over every customer now → {status: 'done', customers} or, when it
 *  takes longer, {status: 'running', pass} (the scheduler finishes it). */
export async function recomputeCustomers({ signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/insights/customers/recompute`, { body: {}, signal });
  return data || {};
}

/** → {items: [{campaign_id, name, status, cost, cost_currency, started_at, leads, cost_per_lead, models}], lookback_days} */
export async function campaignReturn({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/insights/campaigns`, { signal });
  return { items: items(data), lookback_days: data?.lookback_days ?? 90 };
}

/** A campaign's cost (minor units; null clears it), whatever its status: read for its version, then PATCH with If-Match. */
export async function setCampaignCost(id, cost, currency, { signal } = {}) {
  const got = await request('GET', `${API_BASE}/campaigns/${enc(id)}`, { signal });
  const body = { cost };
  if (currency) body.cost_currency = currency;
  const { data } = await request('PATCH', `${API_BASE}/campaigns/${enc(id)}`, { body, headers: ifMatch(versionOf(got.data, got.headers)), signal });
  return data;
}

/** → {from_user_id, owns: {companies|contacts|deals|tickets|tasks: {count, more}}} */
export async function handoverPreview(fromUserId, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/automations/handovers/preview`, { query: { from_user_id: fromUserId }, signal });
  return data || {};
}

/** The body of a handover (rules, as {field, values, to_user_id}, only when there are some). */
function handoverBody({ from_user_id, to_user_ids, include, rules }) {
  const body = { from_user_id, to_user_ids, include };
  if (Array.isArray(rules) && rules.length) body.rules = rules;
  return body;
}

/** What a handover would do → {from_user_id, owns, plan: Plan}; 422 like startHandover. */
export async function handoverPlan(input, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/automations/handovers/preview`, { body: handoverBody(input), signal });
  return data || {};
}

/** → Handover (201; small ones are done already, larger ones `running`); 422 per field (`rules[0].to_user_id`, …). */
export async function startHandover(input, { signal } = {}) {
  const { data } = await request('POST', `${API_BASE}/automations/handovers`, { body: handoverBody(input), signal });
  return data;
}

/** → the newest 100 handovers. */
export async function listHandovers({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/automations/handovers`, { signal });
  return items(data);
}

export async function getHandover(id, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/automations/handovers/${enc(id)}`, { signal });
  return data;
}

// ---------------------------------------------------------------------------
// The home dashboard (home-page.js, home-widgets.js)
//
// Dashboard  {widgets: [key…] (the user's, in order), available: [key…]}
//   keys: pipeline, forecast, leads_by_source, campaign_return, sla, at_risk, tasks_due
// Leads      {days, total, sources: [{source ("(none)": empty), contacts, customers}]}

/** → the signed-in user's widgets (a default set until they choose) and every one there is. */
export async function dashboard({ signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/insights/dashboard`, { signal });
  return { widgets: Array.isArray(data?.widgets) ? data.widgets : [], available: Array.isArray(data?.available) ? data.available : [] };
}

/** Saves the user's choice and order → the same as dashboard() (duplicates dropped); 422 for an unknown key. */
export async function saveDashboard(widgets, { signal } = {}) {
  const { data } = await request('PUT', `${API_BASE}/insights/dashboard`, { body: { widgets }, signal });
  return { widgets: Array.isArray(data?.widgets) ? data.widgets : widgets, available: Array.isArray(data?.available) ? data.available : [] };
}

/** New contacts of the last `days` (1–365) by source, and how many are customers by now. */
export async function leadsBySource({ days = 30, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/insights/leads`, { query: { days }, signal });
  return { days: data?.days ?? days, total: Number(data?.total) || 0, sources: Array.isArray(data?.sources) ? data.sources : [] };
}
