// Automations › Insights: what the insights page and the contact page's
// "Customer value" card share: the RFM segments in words, money in the
// shop's currency (order totals are in it; the latest order tells which),
// contact names for customer rows (a few requests at a time, each once per
// page load), and the at-risk badge with its silence against the usual
// interval.

import { h, icon } from './ui.js';
import { request, API_BASE } from './api.js';
import { contactName } from './records.js';
import { pipelineSettings } from './pipeline-api.js';
import { formatOrderMoney } from './order-display.js';

export const nf = new Intl.NumberFormat();

export const SEGMENTS = [
  { key: 'champions', label: 'Champions', text: 'Order often and lately, and spend the most', cls: 'chart-s2' },
  { key: 'loyal', label: 'Loyal', text: 'Order often', cls: 'chart-s1' },
  { key: 'new', label: 'New', text: 'A first order, lately', cls: 'in-seg-new' },
  { key: 'potential', label: 'Potential', text: 'In between: room to grow', cls: 'chart-s3' },
  { key: 'hibernating', label: 'Hibernating', text: 'Few orders, long ago', cls: 'in-seg-sleep' },
  { key: 'at_risk', label: 'At risk', text: 'Regulars who went quiet for longer than usual', cls: 'chart-s4' },
];

export function segmentOf(key) { return SEGMENTS.find((s) => s.key === key) || { key, label: key, text: '', cls: 'chart-s1' }; }

export function segmentBadge(key, testid = 'customer-segment') {
  const s = segmentOf(key);
  return h('span', { class: ['in-seg', `in-seg-${key}`], dataset: { testid, segment: key }, title: s.text }, s.label);
}

let currencyPromise = null;
/** The shop's currency: the latest order's, else the pipeline's base currency, else EUR. */
export function shopCurrency() {
  if (currencyPromise) return currencyPromise;
  currencyPromise = (async () => {
    try {
      const { data } = await request('GET', `${API_BASE}/orders`, { query: { limit: 1 } });
      const c = data?.items?.[0]?.currency;
      if (c) return String(c).toUpperCase();
    } catch { /* no orders the role can see */ }
    try { return (await pipelineSettings()).base_currency || 'EUR'; } catch { return 'EUR'; }
  })();
  return currencyPromise;
}

/** Minor units → "€1,802.95" (whole amounts without cents when `whole`). */
export function money(minor, currency = 'EUR', { whole = false } = {}) {
  if (minor === null || minor === undefined) return '—';
  if (whole) {
    try {
      const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
      return new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 0 }).format(Math.round(Number(minor) / 10 ** digits));
    } catch { /* fall through */ }
  }
  return formatOrderMoney(minor, currency);
}

/** Short money for chart axes: "€12k". */
export function moneyShort(minor, currency = 'EUR') {
  try {
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(Number(minor) / 10 ** digits);
  } catch {
    return String(minor);
  }
}

export function pctText(share, digits = 0) {
  const n = Number(share);
  if (!Number.isFinite(n)) return '—';
  return `${(n * 100).toFixed(digits).replace(/\.0+$/, '')}%`;
}

// ---------------------------------------------------------------------------
// Contact names

const names = new Map();
/** A contact's name (cached per page load; '' when unreadable). */
export function contactNameOf(id, { signal } = {}) {
  if (names.has(id)) return names.get(id);
  const p = request('GET', `${API_BASE}/contacts/${encodeURIComponent(id)}`, { signal })
    .then(({ data }) => contactName(data) || data?.email || '')
    .catch((err) => { names.delete(id); if (err?.name === 'AbortError') throw err; return err?.status === 404 ? null : ''; });
  names.set(id, p);
  return p;
}

/** Fills `[data-contact-name="<id>"]` elements under `root` with names, three requests at a time. */
export async function fillContactNames(root, { signal } = {}) {
  const els = [...root.querySelectorAll('[data-contact-name]')];
  const ids = [...new Set(els.map((e) => e.dataset.contactName))];
  const next = async () => {
    const id = ids.shift();
    if (!id) return;
    let name = '';
    try { name = await contactNameOf(id, { signal }); } catch (err) { if (err?.name === 'AbortError') return; }
    if (signal?.aborted) return;
    root.querySelectorAll(`[data-contact-name="${CSS.escape(id)}"]`).forEach((e) => {
      e.textContent = name === null ? 'Deleted contact' : (name || `Contact …${id.slice(-6)}`);
      e.classList.remove('is-loading');
    });
    await next();
  };
  await Promise.all([next(), next(), next()]);
}

/** A link to a contact whose name arrives later (fillContactNames). */
export function contactLink(id, testid = 'customer-link') {
  return h('a', { href: `/contacts/${encodeURIComponent(id)}`, class: 'in-contact truncate is-loading', dataset: { contactName: id, testid } }, `Contact …${String(id).slice(-6)}`);
}

// ---------------------------------------------------------------------------
// Risk

/** "Silent 100 days · usually 30" with a warning mark, or null. */
export function riskBadge(c, testid = 'customer-at-risk') {
  if (!c?.at_risk) return null;
  const silence = c.silence_days != null ? `silent ${nf.format(c.silence_days)} days` : 'silent';
  const usual = c.usual_interval_days != null ? ` · usually every ${nf.format(c.usual_interval_days)}` : '';
  return h('span', { class: 'in-risk', dataset: { testid }, title: 'A repeat customer silent for more than 1.5 × their usual interval between orders' },
    icon('alert', { size: 12 }), h('span', null, `At risk: ${silence}${usual}`));
}
