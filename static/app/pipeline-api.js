// Pipeline API: pipelines and stages, deals (list, create, patch with
// If-Match, move, history), the board, sales reports, and the pipeline
// settings (base currency, won/lost reasons, exchange rates, quotas). Built on
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

function ifMatch(version) {
  return version != null && version !== '' ? { 'If-Match': `"${version}"` } : {};
}

/** Board/list filters the UI keeps → query parameters the API reads. */
export function filterQuery(f = {}) {
  return {
    owner_id: f.owner_id || undefined,
    close_from: f.close_from || undefined,
    close_to: f.close_to || undefined,
    min_value: f.min_value ?? undefined,
    max_value: f.max_value ?? undefined,
    tag: f.tag || undefined,
    q: f.q?.trim() || undefined,
    stale: f.stale ? 'true' : undefined,
  };
}

// ---------------------------------------------------------------------------
// Pipelines and stages

/** Short-lived cache so the board, forms and contact pages share one request. */
let pipelinesCache = null;
export function invalidatePipelines() { pipelinesCache = null; }

/** → Pipeline[] ordered by position, stages ordered by position. */
export function pipelines({ fresh = false } = {}) {
  if (pipelinesCache && !fresh && Date.now() - pipelinesCache.at < 30_000) return pipelinesCache.promise;
  const promise = (async () => {
    const out = [];
    let cursor;
    for (let i = 0; i < 10; i += 1) {
      const { data } = await request('GET', `${API_BASE}/pipelines`, { query: { cursor, limit: 200 } });
      const p = Array.isArray(data) ? { items: data, next_cursor: null } : page(data);
      out.push(...p.items);
      cursor = p.next_cursor;
      if (!cursor) break;
    }
    return out.map(normPipeline).sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  })();
  promise.catch(() => { if (pipelinesCache?.promise === promise) pipelinesCache = null; });
  pipelinesCache = { at: Date.now(), promise };
  return promise;
}

function normPipeline(p) {
  const stages = Array.isArray(p?.stages) ? p.stages.slice().sort((a, b) => (a.position ?? 0) - (b.position ?? 0)) : [];
  return { ...p, stages };
}

export async function getPipeline(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/pipelines/${enc(id)}`, { signal });
  return { pipeline: normPipeline(data), version: versionOf(data, headers) };
}

export async function createPipeline(body) {
  const { data } = await request('POST', `${API_BASE}/pipelines`, { body });
  invalidatePipelines();
  return normPipeline(data);
}

export async function updatePipeline(id, patch, version) {
  const { data } = await request('PATCH', `${API_BASE}/pipelines/${enc(id)}`, { body: patch, headers: ifMatch(version) });
  invalidatePipelines();
  return normPipeline(data);
}

export async function deletePipeline(id) {
  await request('DELETE', `${API_BASE}/pipelines/${enc(id)}`);
  invalidatePipelines();
}

export async function createStage(pipelineId, body) {
  const { data } = await request('POST', `${API_BASE}/pipelines/${enc(pipelineId)}/stages`, { body });
  invalidatePipelines();
  return data;
}

export async function updateStage(pipelineId, stageId, patch) {
  const { data } = await request('PATCH', `${API_BASE}/pipelines/${enc(pipelineId)}/stages/${enc(stageId)}`, { body: patch });
  invalidatePipelines();
  return data;
}

export async function deleteStage(pipelineId, stageId) {
  await request('DELETE', `${API_BASE}/pipelines/${enc(pipelineId)}/stages/${enc(stageId)}`);
  invalidatePipelines();
}

export async function setStageOrder(pipelineId, stageIds) {
  const { data } = await request('PUT', `${API_BASE}/pipelines/${enc(pipelineId)}/stage-order`, { body: { stage_ids: stageIds } });
  invalidatePipelines();
  return data;
}

// ---------------------------------------------------------------------------
// Board

/**
 * → { pipeline, base_currency, stages: [{id, name, probability, stale_days,
 *     count, total, weighted, unconverted, deals, next_cursor}] }
 */
export async function board(pipelineId, { filters, perStage, signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/pipelines/${enc(pipelineId)}/board`, {
    query: { ...filterQuery(filters), per_stage: perStage }, signal,
  });
  return {
    pipeline: data?.pipeline || null,
    base_currency: data?.base_currency || data?.pipeline?.base_currency || 'EUR',
    stages: (Array.isArray(data?.stages) ? data.stages : []).map((s) => ({
      ...s,
      deals: Array.isArray(s.deals) ? s.deals : [],
      next_cursor: s.next_cursor ?? null,
    })),
  };
}

// ---------------------------------------------------------------------------
// Deals

/** query: pipeline_id, stage_id, status, owner_id, contact_id, company_id, tag, min_value, max_value, close_from, close_to, stale, q, sort, limit, cursor */
export async function listDeals(query = {}, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/deals`, { query, signal });
  return page(data);
}

export async function getDeal(id, { signal } = {}) {
  const { data, headers } = await request('GET', `${API_BASE}/deals/${enc(id)}`, { signal });
  return { deal: data, version: versionOf(data, headers) };
}

export async function createDeal(body, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
  const { data, headers } = await request('POST', `${API_BASE}/deals`, {
    body, headers: { 'Idempotency-Key': idempotencyKey }, signal,
  });
  return { deal: data, version: versionOf(data, headers) };
}

/** JSON merge patch with If-Match; 412 → someone else changed it. */
export async function updateDeal(id, patch, version, { signal } = {}) {
  const { data, headers } = await request('PATCH', `${API_BASE}/deals/${enc(id)}`, { body: patch, headers: ifMatch(version), signal });
  return { deal: data, version: versionOf(data, headers) };
}

export async function deleteDeal(id) {
  await request('DELETE', `${API_BASE}/deals/${enc(id)}`);
}

export async function restoreDeal(id) {
  const { data, headers } = await request('POST', `${API_BASE}/deals/${enc(id)}/restore`);
  return { deal: data, version: versionOf(data, headers) };
}

/**
 * Move a deal to `stage_id`, before or after another card (neither: at the
 * end). A 412 ApiError carries the deal's current state in `err.body.current`.
 */
export async function moveDeal(id, { stage_id, before_id, after_id }, version) {
  const body = { stage_id };
  if (before_id) body.before_id = before_id;
  else if (after_id) body.after_id = after_id;
  const { data, headers } = await request('POST', `${API_BASE}/deals/${enc(id)}/move`, { body, headers: ifMatch(version) });
  return { deal: data, version: versionOf(data, headers) };
}

/** → [{…}] stage and status changes, oldest first. */
export async function dealHistory(id, { signal } = {}) {
  const items = [];
  let cursor;
  for (let i = 0; i < 10; i += 1) {
    const { data } = await request('GET', `${API_BASE}/deals/${enc(id)}/history`, { query: { cursor, limit: 200 }, signal });
    const p = Array.isArray(data) ? { items: data, next_cursor: null } : page(data);
    items.push(...p.items);
    cursor = p.next_cursor;
    if (!cursor) break;
  }
  const at = (e) => Date.parse(e?.at || e?.changed_at || e?.created_at || '') || 0;
  return items.sort((a, b) => at(a) - at(b));
}

export const DEALS_EXPORT_PATH = `${API_BASE}/deals/export`;

// ---------------------------------------------------------------------------
// Settings, exchange rates, quotas

let settingsCache = null;
/** → { base_currency, lost_reasons, won_reasons } (cached briefly). */
export function pipelineSettings({ fresh = false } = {}) {
  if (settingsCache && !fresh && Date.now() - settingsCache.at < 30_000) return settingsCache.promise;
  const promise = request('GET', `${API_BASE}/pipeline-settings`).then(({ data }) => ({
    base_currency: data?.base_currency || 'EUR',
    lost_reasons: Array.isArray(data?.lost_reasons) ? data.lost_reasons : [],
    won_reasons: Array.isArray(data?.won_reasons) ? data.won_reasons : [],
    ...data,
  }));
  promise.catch(() => { if (settingsCache?.promise === promise) settingsCache = null; });
  settingsCache = { at: Date.now(), promise };
  return promise;
}

export async function savePipelineSettings(body) {
  const { data } = await request('PUT', `${API_BASE}/pipeline-settings`, { body });
  settingsCache = null;
  return data;
}

export async function exchangeRates() {
  const { data } = await request('GET', `${API_BASE}/exchange-rates`, { query: { limit: 200 } });
  return Array.isArray(data) ? data : page(data).items;
}

export async function addExchangeRate({ currency, valid_from, rate }) {
  const { data } = await request('POST', `${API_BASE}/exchange-rates`, { body: { currency, valid_from, rate } });
  return data;
}

export async function deleteExchangeRate(currency, validFrom) {
  await request('DELETE', `${API_BASE}/exchange-rates/${enc(currency)}/${enc(validFrom)}`);
}

/** → [{owner_id, period, amount}] */
export async function quotas() {
  const { data } = await request('GET', `${API_BASE}/quotas`);
  return Array.isArray(data) ? data : page(data).items;
}

export async function saveQuotas(items) {
  const { data } = await request('PUT', `${API_BASE}/quotas`, { body: { items } });
  return Array.isArray(data) ? data : page(data).items;
}

// ---------------------------------------------------------------------------
// Reports (base currency): forecast, summary, funnel, attainment

export async function report(kind, query = {}, { signal } = {}) {
  const { data } = await request('GET', `${API_BASE}/sales-reports/${kind}`, { query, signal });
  return data || {};
}
