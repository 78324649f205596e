// Automations › Insights: what the insights page and the contact and company
// pages' "Customer value" cards share: the RFM segments in words, money in
// the shop's currency (order totals are in it; the latest order tells which),
// purchases (orders + won deals) in words, contact names for customer rows (a
// few requests at a time, each once per page load), and the at-risk badge
// with the silence against the usual interval (between purchases, or between
// calls, meetings and emails).

import { h, icon, mount, timeEl } from './ui.js';
import { request, API_BASE } from './api.js';
import { contactName } from './records.js';
import { pipelineSettings } from './pipeline-api.js';
import { formatOrderMoney } from './order-display.js';
import { plural } from './campaign-display.js';
import { capitalize } from './forms.js';

export const nf = new Intl.NumberFormat();

export const SEGMENTS = [
  { key: 'champions', label: 'Champions', text: 'Buy often and lately, and spend the most', cls: 'chart-s2' },
  { key: 'loyal', label: 'Loyal', text: 'Buy often', cls: 'chart-s1' },
  { key: 'new', label: 'New', text: 'A first purchase, lately', cls: 'in-seg-new' },
  { key: 'potential', label: 'Potential', text: 'In between: room to grow', cls: 'chart-s3' },
  { key: 'hibernating', label: 'Hibernating', text: 'Few purchases, long ago', cls: 'in-seg-sleep' },
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
// Purchases (orders and won deals)

/** A customer's purchases (orders + won deals; older answers had orders only). */
export function purchasesOf(c) {
  const n = Number(c?.purchases ?? c?.orders);
  return Number.isFinite(n) ? n : 0;
}

/** "2 orders, 1 won deal" / "1 won deal" / "2 orders" (the parts that are there). */
export function purchasesShort(c) {
  const orders = Number(c?.orders) || 0;
  const deals = Number(c?.deals_won) || 0;
  const parts = [orders && plural(orders, 'order', 'orders'), deals && plural(deals, 'won deal', 'won deals')].filter(Boolean);
  return parts.length ? parts.join(', ') : plural(purchasesOf(c), 'purchase', 'purchases');
}

/** "3 purchases (2 orders, 1 won deal)", or "2 orders" when none was a deal. */
export function purchasesText(c) {
  if (!(Number(c?.deals_won) || 0)) return purchasesShort(c);
  const n = purchasesOf(c);
  return `${plural(n, 'purchase', 'purchases')} (${purchasesShort(c)})`;
}

/** Short form for table cells: "3" with "2 orders + 1 won deal" as its title. */
export function purchasesCell(c) {
  const deals = Number(c?.deals_won) || 0;
  return h('span', { title: deals ? `${plural(Number(c?.orders) || 0, 'order', 'orders')} + ${plural(deals, 'won deal', 'won deals')}` : null }, nf.format(purchasesOf(c)));
}

// ---------------------------------------------------------------------------
// Risk

const DAY = 86_400_000;

/**
 * Why a customer is at risk, with the silence and the usual interval it is
 * measured against: `purchases` (a repeat customer silent since the last
 * purchase for more than 1.5 × their usual interval between purchases) or
 * `touches` (no purchase, call, meeting or email for more than 1.5 × their
 * usual contact interval); null when not at risk.
 */
export function riskOf(c) {
  if (!c?.at_risk) return null;
  const silence = c.silence_days ?? null;
  const usual = c.usual_interval_days ?? null;
  if (usual != null && silence != null && silence > Math.max(1.5 * usual, 14)) return { why: 'purchases', silence, usual };
  const touchUsual = c.usual_touch_interval_days ?? null;
  if (touchUsual != null) {
    // Quiet since the later of the last purchase and the last touch, as of the scoring.
    const last = Math.max(Date.parse(c.last_purchase_at) || 0, Date.parse(c.last_touch_at) || 0);
    const asOf = Date.parse(c.computed_at) || Date.now();
    const quiet = last ? Math.max(0, Math.round((asOf - last) / DAY)) : silence;
    return { why: 'touches', silence: quiet, usual: touchUsual };
  }
  return { why: 'purchases', silence, usual };
}

/**
 * "Silent 98 days · usually every 51" / "No contact for 40 days · usually
 * every 12" ('' when not at risk); `short`: without the usual interval
 * ("Silent 98 days").
 */
export function riskText(c, { capital = true, short = false } = {}) {
  const r = riskOf(c);
  if (!r) return '';
  const days = r.silence != null ? nf.format(r.silence) : null;
  const head = r.why === 'touches'
    ? (days != null ? `no contact for ${days} days` : 'no contact lately')
    : (days != null ? `silent ${days} days` : 'silent');
  const usual = !short && r.usual != null ? ` · usually every ${nf.format(r.usual)}` : '';
  const text = `${head}${usual}`;
  return capital ? capitalize(text) : text;
}

/** What at risk means, for titles. */
export function riskTitle(c) {
  return riskOf(c)?.why === 'touches'
    ? 'No purchase, call, meeting or email for more than 1.5 × their usual interval between contacts'
    : 'A repeat customer silent for more than 1.5 × their usual interval between purchases';
}

/** "At risk: silent 100 days · usually every 30" with a warning mark, or null. */
export function riskBadge(c, testid = 'customer-at-risk') {
  if (!c?.at_risk) return null;
  return h('span', { class: 'in-risk', dataset: { testid, why: riskOf(c).why }, title: riskTitle(c) },
    icon('alert', { size: 12 }), h('span', null, `At risk: ${riskText(c, { capital: false })}`));
}

/** A small at-risk mark for rows (an icon with a label for screen readers), or null. */
export function riskDot(c, testid) {
  if (!c?.at_risk) return null;
  return h('span', { class: 'in-risk-dot', role: 'img', 'aria-label': 'At risk', title: `At risk: ${riskText(c, { capital: false })}`, dataset: testid ? { testid } : undefined },
    icon('alert', { size: 12 }));
}

/** "Contacted 4 times · last Dec 2, 2026 · usually every 20 days" (calls, meetings, emails), or null without touches. */
export function touchLine(c, testid = 'customer-touches') {
  const n = Number(c?.touches) || 0;
  if (!n) return null;
  return h('span', { dataset: { testid, touches: String(n) }, title: 'Calls, meetings and emails logged with them' },
    n === 1 ? 'Contacted once' : `Contacted ${nf.format(n)} times`,
    c.last_touch_at ? [' · last ', timeEl(c.last_touch_at)] : null,
    c.usual_touch_interval_days != null ? ` · usually every ${plural(c.usual_touch_interval_days, 'day', 'days')}` : null);
}

// ---------------------------------------------------------------------------
// The "Customer value" side cards (contact and company pages)

let uid = 0;

/** The card with its head (title, link to Insights) and a loading skeleton → { card, body }. */
export function valueCardShell({ testid, idPrefix = 'vc', title = 'Customer value' }) {
  const titleId = `${idPrefix}${++uid}-title`;
  const body = h('div', { class: 'in-card-body', 'aria-busy': 'true' },
    [50, 80, 65].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '8px 0' } })));
  const card = h('section', { class: 'card side-card in-value-card', 'aria-labelledby': titleId, dataset: { testid } },
    h('div', { class: 'card-head' },
      h('h2', { id: titleId, class: 'card-title' }, title),
      h('a', { class: 'btn btn-sm', href: '/automations/insights', title: 'Every customer’s value, segments and who is slipping away' }, 'Insights')),
    body);
  return { card, body };
}

/** The card's error state (a role that may not see values, or a failure). */
export function valueCardError(card, body, err, what = 'customer value') {
  body.setAttribute('aria-busy', 'false');
  card.dataset.state = 'error';
  mount(body, h('p', { class: 'muted', dataset: { testid: 'value-card-error' } },
    err?.status === 403 ? 'Your role cannot see customer values.' : `${capitalize(what)} could not be loaded.`));
  if (err?.status && err.status !== 403 && err.status !== 404 && !err.handled) console.warn(`${what} unavailable`, err);
}
