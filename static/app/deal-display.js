// How deals look everywhere: money (minor units + currency), status and stale
// badges, priorities, owner initials, expected-close dates, and the names of a
// deal's contact and company (fetched once per id and shared).

import { h, icon } from './ui.js';
import * as crm from './crm-api.js';
import {
  formatMoney, moneyDigits, formatDay, initialsOf, userName, meId, avatarHue, contactName, xicon, dash,
} from './records.js';

export { formatMoney, moneyDigits };

/** Currencies offered in pickers (any ISO code the server accepts works). */
export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'CAD', 'AUD', 'NZD', 'SGD', 'HKD', 'CNY', 'INR', 'BRL', 'MXN', 'ZAR'];
export const PRIORITIES = ['low', 'normal', 'high'];
export const SOURCES = ['Website', 'Referral', 'Event', 'Outbound', 'Partner', 'Advertising', 'Existing customer'];

/** "€1.2M" style for chart axes and tight spots. */
export function compactMoney(minor, currency = 'EUR') {
  const n = Number(minor);
  if (!Number.isFinite(n)) return '';
  const major = n / 10 ** moneyDigits(currency);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: Math.abs(major) < 1000 ? 0 : 1 }).format(major);
  } catch {
    return `${Math.round(major)} ${currency}`;
  }
}

/** Money with a fallback for a missing value. */
export function money(minor, currency, { empty = '—' } = {}) {
  if (minor === null || minor === undefined || minor === '') return empty;
  return formatMoney(minor, currency || 'EUR');
}

export function moneyEl(minor, currency, { testid, cls } = {}) {
  if (minor === null || minor === undefined || minor === '') return h('span', { class: ['muted', cls], dataset: { testid } }, '—');
  return h('span', { class: ['num', cls], dataset: { testid } }, formatMoney(minor, currency || 'EUR'));
}

/** Today as YYYY-MM-DD in the user's time zone. */
export function today() {
  const d = new Date();
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function isOverdue(deal) {
  return deal?.status === 'open' && deal?.expected_close && deal.expected_close < today();
}

export function closeDateEl(deal, { withIcon = true } = {}) {
  if (!deal?.expected_close) return null;
  const overdue = isOverdue(deal);
  return h('span', {
    class: ['deal-close', overdue && 'is-overdue'],
    title: overdue ? `Expected to close ${formatDay(deal.expected_close)}: past due` : `Expected to close ${formatDay(deal.expected_close)}`,
  }, withIcon ? xicon('calendar', { size: 13 }) : null, h('time', { datetime: deal.expected_close }, formatDay(deal.expected_close)));
}

const STATUS_LABEL = { open: 'Open', won: 'Won', lost: 'Lost' };
export function statusBadge(status, testid = 'deal-status') {
  const s = STATUS_LABEL[status] ? status : 'open';
  return h('span', { class: ['deal-status', `deal-status-${s}`], dataset: { testid, status: s } },
    s === 'won' ? icon('check', { size: 12 }) : s === 'lost' ? icon('x', { size: 12 }) : h('span', { class: 'stage-dot', 'aria-hidden': 'true' }),
    STATUS_LABEL[s]);
}

export function staleBadge(deal, stage) {
  if (!deal?.stale) return null;
  const days = stage?.stale_days;
  return h('span', {
    class: 'stale-badge', dataset: { testid: 'deal-stale' },
    title: days ? `No progress for more than ${days} days in this stage` : 'No progress for too long in this stage',
  }, icon('clock', { size: 12 }), 'Stale');
}

export function priorityBadge(p) {
  if (!p || p === 'normal') return null;
  return h('span', { class: ['priority', `priority-${p}`], title: `${p[0].toUpperCase()}${p.slice(1)} priority` },
    p === 'high' ? '↑ High' : '↓ Low');
}

export function priorityLabel(p) {
  return { low: 'Low', normal: 'Normal', high: 'High' }[p] || 'Normal';
}

/** A small avatar with the owner's initials (name on hover). */
export function ownerInitials(id) {
  if (!id) return null;
  const name = userName(id);
  const el = h('span', {
    class: 'avatar avatar-xs deal-owner', title: `Owner: ${name}${id === meId() ? ' (you)' : ''}`, dataset: { userId: id },
    role: 'img', 'aria-label': `Owner: ${name}`,
  }, initialsOf(name.replace(/^User …/, '')));
  el.style.setProperty('--hue', String(avatarHue(id)));
  return el;
}

/** Days since an ISO time (whole days, ≥ 0). */
export function daysSince(iso, until = Date.now()) {
  const t = Date.parse(iso || '');
  if (!Number.isFinite(t)) return null;
  return Math.max(0, Math.floor((until - t) / 86_400_000));
}

export function durationText(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const mins = Math.round(ms / 60000);
  if (mins < 60) return mins <= 1 ? 'under a minute' : `${mins} min`;
  const hours = Math.round(ms / 3_600_000);
  if (hours < 48) return `${hours} h`;
  const days = Math.round(ms / 86_400_000);
  return `${days} days`;
}

// ---------------------------------------------------------------------------
// Names of linked contacts and companies, fetched once per id.

const names = new Map();
let active = 0;
const waiting = [];
function limited(fn) {
  return new Promise((resolve, reject) => {
    const run = () => {
      active += 1;
      fn().then(resolve, reject).finally(() => { active -= 1; waiting.shift()?.(); });
    };
    if (active < 4) run(); else waiting.push(run);
  });
}

/** → Promise<string|null> */
export function recordNameOf(entity, id) {
  if (!id) return Promise.resolve(null);
  const key = `${entity}:${id}`;
  if (!names.has(key)) {
    const p = limited(async () => {
      if (entity === 'company') return (await crm.companyById(id))?.name || null;
      return contactName((await crm.getRecord('contact', id)).record) || null;
    }).catch(() => null);
    names.set(key, p);
  }
  return names.get(key);
}

export function rememberName(entity, id, name) {
  if (id && name) names.set(`${entity}:${id}`, Promise.resolve(name));
}

/** A span filled in with the company's (else the contact's) name when known. */
export function partyLine(deal, { link = false } = {}) {
  const el = h('span', { class: 'deal-party' });
  const entity = deal.company_id ? 'company' : deal.contact_id ? 'contact' : null;
  if (!entity) return null;
  const id = entity === 'company' ? deal.company_id : deal.contact_id;
  el.hidden = true;
  recordNameOf(entity, id).then((name) => {
    if (!name) return;
    const href = `/${entity === 'company' ? 'companies' : 'contacts'}/${encodeURIComponent(id)}`;
    el.replaceChildren(xicon(entity === 'company' ? 'building' : 'user', { size: 12 }),
      link ? h('a', { href, tabindex: '-1' }, name) : h('span', { class: 'truncate' }, name));
    el.title = name;
    el.hidden = false;
  });
  return el;
}

export { dash };
