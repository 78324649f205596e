// Shared knowledge about contacts and companies: field catalogues (columns,
// sorting, filtering), value formatting (stages, money, dates, custom fields),
// owner names, and a few extra icons. Used by the lists, record pages, forms,
// filters, timeline and search.

import { h, icon, formatDate } from './ui.js';
import * as session from './session.js';
import { userDirectory } from './crm-api.js';

// ---------------------------------------------------------------------------
// Icons not in ui.js's set (same 24x24 stroke style)

const EXTRA_ICONS = {
  note: 'M6 3h9l4 4v13a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1M14 3v5h5M8.5 12.5h7M8.5 16h5',
  calendar: 'M5 5h14a1 1 0 0 1 1 1v13a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1M4 10h16M8 3v4M16 3v4',
  task: 'M5 4h14a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1M8.5 12l2.5 2.5 4.5-5',
  columns: 'M4 5h16v14H4zM9.5 5v14M14.5 5v14',
  filter: 'M4 5h16l-6 7.5V19l-4-2v-4.5z',
  tag: 'M3.5 12.2V4.5a1 1 0 0 1 1-1h7.7l8.3 8.3a1 1 0 0 1 0 1.4l-7.3 7.3a1 1 0 0 1-1.4 0zM8 8h.01',
  undo: 'M9 14 4 9l5-5M4 9h10.5a5.5 5.5 0 0 1 0 11H11',
  arrowUp: 'M12 19V5M6 11l6-6 6 6',
  arrowDown: 'M12 5v14M6 13l6 6 6-6',
  sortBoth: 'M8 9l4-4 4 4M8 15l4 4 4-4',
  link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
  user: 'M19 20v-1.5a3.5 3.5 0 0 0-3.5-3.5h-7A3.5 3.5 0 0 0 5 18.5V20M12 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7',
  mapPin: 'M12 21s-6.5-5.6-6.5-11a6.5 6.5 0 0 1 13 0c0 5.4-6.5 11-6.5 11M12 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5',
  globe: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M3 12h18M12 3c2.5 2.6 3.5 5.6 3.5 9s-1 6.4-3.5 9c-2.5-2.6-3.5-5.6-3.5-9s1-6.4 3.5-9',
  edit3: 'M4 20h16M15.5 4.5a2.1 2.1 0 0 1 3 3L9 17l-4 1 1-4z',
  circle: 'M12 20a8 8 0 1 0 0-16 8 8 0 0 0 0 16',
  upload: 'M12 15V4M7.5 8.5 12 4l4.5 4.5M5 14v4.5a1.5 1.5 0 0 0 1.5 1.5h11a1.5 1.5 0 0 0 1.5-1.5V14',
  download: 'M12 4v11M7.5 10.5 12 15l4.5-4.5M5 14v4.5a1.5 1.5 0 0 0 1.5 1.5h11a1.5 1.5 0 0 0 1.5-1.5V14',
  bookmark: 'M7 4h10a1 1 0 0 1 1 1v15l-6-4-6 4V5a1 1 0 0 1 1-1',
  merge: 'M7 4v5a4 4 0 0 0 4 4h2a4 4 0 0 1 4 4v3M17 4v5a4 4 0 0 1-2 3.5M4 7l3-3 3 3',
};

/** ui.icon plus the extra shapes above. */
export function xicon(name, opts = {}) {
  const el = icon(name, opts);
  if (EXTRA_ICONS[name]) el.querySelector('path').setAttribute('d', EXTRA_ICONS[name]);
  return el;
}

// ---------------------------------------------------------------------------
// Vocabularies

export const STAGES = ['subscriber', 'lead', 'qualified', 'opportunity', 'customer', 'advocate', 'churned'];
export const SIZES = ['1-10', '11-50', '51-200', '201-500', '501-1000', '1001-5000', '5000+'];
/** Suggested (free text is fine too). */
export const SOURCES = ['Website', 'Referral', 'Event', 'Outbound', 'Partner', 'Advertising', 'Import'];
export const INDUSTRIES = ['Software', 'Manufacturing', 'Retail', 'Logistics', 'Financial services', 'Healthcare', 'Education', 'Publishing', 'Travel', 'Food and beverage', 'Wine', 'Automotive', 'Energy', 'Media', 'Public sector'];
export const CONSENT_VALUES = ['unknown', 'granted', 'denied'];
export const CONSENT_CHANNELS = [['email', 'Email'], ['sms', 'SMS'], ['phone', 'Phone']];
export const ACTIVITY_KINDS = {
  note: { label: 'Note', icon: 'note' },
  call: { label: 'Call', icon: 'phone' },
  meeting: { label: 'Meeting', icon: 'calendar' },
  email: { label: 'Email', icon: 'mail' },
  task: { label: 'Task', icon: 'task' },
};

export function labelize(s) {
  const t = String(s ?? '').replace(/[_-]+/g, ' ').trim();
  return t ? t[0].toUpperCase() + t.slice(1) : t;
}

export function stageLabel(stage) { return labelize(stage); }

export function stageBadge(stage, testid) {
  if (!stage) return dash();
  return h('span', { class: ['stage', `stage-${STAGES.includes(stage) ? stage : 'other'}`], dataset: { testid, stage } },
    h('span', { class: 'stage-dot', 'aria-hidden': 'true' }), stageLabel(stage));
}

export function dash() { return h('span', { class: 'muted', 'aria-label': 'none' }, '—'); }

export function tagChips(list, { max = Infinity } = {}) {
  const tags = Array.isArray(list) ? list.filter(Boolean) : [];
  if (!tags.length) return dash();
  const shown = tags.slice(0, max);
  return h('span', { class: 'tag-list', title: tags.join(', ') },
    shown.map((t) => h('span', { class: 'tag-chip' }, t)),
    tags.length > shown.length ? h('span', { class: 'tag-more muted' }, `+${tags.length - shown.length}`) : null);
}

// ---------------------------------------------------------------------------
// Names

export function contactName(c) {
  const name = [c?.first_name, c?.last_name].map((s) => (s || '').trim()).filter(Boolean).join(' ');
  return name || (c?.email || '').trim() || '';
}

export function initialsOf(text) {
  const parts = String(text || '').trim().split(/[\s@.]+/).filter(Boolean);
  if (!parts.length) return '?';
  return (parts.length > 1 ? parts[0][0] + parts[1][0] : parts[0].slice(0, 2)).toUpperCase();
}

export function contactInitials(c) {
  const parts = [c?.first_name, c?.last_name].map((s) => (s || '').trim()).filter(Boolean);
  if (parts.length) return parts.slice(0, 2).map((s) => s[0].toUpperCase()).join('');
  return initialsOf(c?.email);
}

export function recordName(entity, r) {
  return entity === 'company' ? (r?.name || '').trim() : contactName(r);
}

export function recordHref(entity, id) {
  return `/${entity === 'company' ? 'companies' : 'contacts'}/${encodeURIComponent(id)}`;
}

export function unnamed(entity) {
  return h('span', { class: 'muted fst-italic' }, entity === 'company' ? 'Unnamed company' : 'Unnamed contact');
}

/** A small deterministic hue for avatars, so people are easier to tell apart. */
export function avatarHue(seed) {
  let x = 0;
  for (const ch of String(seed || '')) x = (x * 31 + ch.charCodeAt(0)) % 360;
  return x;
}

function withHue(el, seed) {
  el.style.setProperty('--hue', String(avatarHue(seed)));
  return el;
}

export function avatar(entity, r, size = 'sm') {
  const text = entity === 'company' ? initialsOf(r?.name) : contactInitials(r);
  return withHue(h('span', {
    class: ['avatar', `avatar-${size}`, entity === 'company' && 'avatar-square'],
    'aria-hidden': 'true',
  }, text), r?.id || text);
}

// ---------------------------------------------------------------------------
// Users (owners, actors)

let users = new Map();
let usersLoaded = null;
const userListeners = new Set();

/**
 * Load the directory (GET /users/directory, any signed-in user) once per page
 * load; callers re-render names through onUsers(). An empty answer (signed
 * out, network trouble) is not kept, so the next view asks again.
 */
export function loadUsers() {
  usersLoaded ||= userDirectory().then((m) => {
    if (!m.size) usersLoaded = null;
    users = m;
    userListeners.forEach((fn) => { try { fn(users); } catch (e) { console.error(e); } });
    return m;
  }, () => { usersLoaded = null; return users; });
  return usersLoaded;
}
export function onUsers(fn) { userListeners.add(fn); return () => userListeners.delete(fn); }
export function knownUsers() { return users; }

export function meId() { return session.getSession().user?.id || null; }

/** Every role but read-only may change contacts and companies (the server checks too). */
export function canWrite() {
  const role = session.getSession().user?.role;
  return !!role && role !== 'read-only';
}

/** Deactivated users stay in the directory (their records keep their name). */
export function userActive(id) {
  return users.get(String(id))?.active !== false;
}

export function userName(id) {
  if (!id) return '';
  const u = users.get(String(id));
  if (u) return session.userDisplayName(u);
  if (id === meId()) return session.userDisplayName(session.getSession().user);
  return `User …${String(id).slice(-5)}`;
}

/** "Olive", "API key …1234", "System" from an audit actor string. */
export function actorName(actor) {
  const raw = String(actor || '');
  const m = /^user:(.+)$/.exec(raw);
  if (m) return m[1] === meId() ? 'You' : userName(m[1]);
  if (raw.startsWith('apikey:')) return `API key …${raw.slice(-5)}`;
  if (!raw) return 'Someone';
  return labelize(raw.split(':')[0]);
}

export function ownerCell(id) {
  if (!id) return dash();
  const name = userName(id);
  return h('span', { class: 'owner-cell', dataset: { userId: id }, title: id === meId() ? `${name} (you)` : name },
    withHue(h('span', { class: 'avatar avatar-xs', 'aria-hidden': 'true' }, initialsOf(name.replace(/^User …/, ''))), id),
    h('span', { class: 'truncate' }, name));
}

// ---------------------------------------------------------------------------
// Money and custom values

function currencyDigits(currency) {
  try { return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits; } catch { return 2; }
}

export function moneyDigits(currency) { return currencyDigits(currency || 'EUR'); }

/** Integer minor units → "€12,500,000.00" (in the user's locale). */
export function formatMoney(minor, currency = 'EUR') {
  if (minor === null || minor === undefined || minor === '') return '';
  const n = Number(minor);
  if (!Number.isFinite(n)) return String(minor);
  const digits = currencyDigits(currency);
  try {
    // Whole amounts without cents (€12,500,000), others with all of them (€1,234.50).
    const whole = n % 10 ** digits === 0;
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, minimumFractionDigits: whole ? 0 : digits, maximumFractionDigits: digits })
      .format(n / 10 ** digits);
  } catch {
    return `${(n / 10 ** digits).toFixed(digits)} ${currency}`;
  }
}

/** Major-unit text ("12,500.50") → integer minor units, or NaN. */
export function parseMoney(text, currency = 'EUR') {
  const t = String(text ?? '').trim().replace(/[\s'_]/g, '');
  if (!t) return null;
  // Accept "1,234.56", "1.234,56", "1234,5" and "1234.5".
  let norm = t;
  const lastComma = t.lastIndexOf(',');
  const lastDot = t.lastIndexOf('.');
  if (lastComma > lastDot) norm = t.replace(/\./g, '').replace(',', '.');
  else norm = t.replace(/,/g, '');
  if (!/^-?\d*(\.\d*)?$/.test(norm) || norm === '-' || norm === '.') return NaN;
  const digits = currencyDigits(currency);
  return Math.round(Number(norm) * 10 ** digits);
}

export function moneyToInput(minor, currency = 'EUR') {
  if (minor === null || minor === undefined || minor === '') return '';
  const digits = currencyDigits(currency);
  const n = Number(minor) / 10 ** digits;
  return Number.isFinite(n) ? String(Number(n.toFixed(digits))) : '';
}

/** A date-only value ("2027-03-15") shown without time-zone shifts. */
export function formatDay(value) {
  if (!value) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
  if (!m) return formatDate(value);
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' }).format(d);
}

function safeHref(url) {
  const u = String(url || '').trim();
  if (/^https?:\/\//i.test(u)) return u;
  if (/^[\w.-]+\.[a-z]{2,}(\/.*)?$/i.test(u)) return `https://${u}`;
  return null;
}

export function externalLink(url, text) {
  const href = safeHref(url);
  if (!href) return h('span', null, String(url));
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer external' }, text || String(url).replace(/^https?:\/\//i, '').replace(/\/$/, ''));
}

/** A custom value formatted by its field's kind. */
export function formatCustom(def, value, { compact = false } = {}) {
  const empty = value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length);
  if (def?.kind === 'checkbox') {
    if (value === null || value === undefined) return dash();
    return h('span', { class: ['check-value', value ? 'is-yes' : 'is-no'] }, icon(value ? 'check' : 'x', { size: 14 }), value ? 'Yes' : 'No');
  }
  if (empty) return dash();
  switch (def?.kind) {
    case 'money': return h('span', { class: 'num' }, formatMoney(value, def.currency || 'EUR'));
    case 'number': return h('span', { class: 'num' }, Number.isFinite(Number(value)) ? new Intl.NumberFormat().format(Number(value)) : String(value));
    case 'date': return h('time', { datetime: String(value) }, formatDay(value));
    case 'multi-select': return h('span', { class: 'tag-list' }, (Array.isArray(value) ? value : [value]).map((v) => h('span', { class: 'tag-chip tag-chip-option' }, String(v))));
    case 'select': return h('span', { class: 'option-chip' }, String(value));
    case 'url': return externalLink(value);
    case 'email': return h('a', { href: `mailto:${value}` }, String(value));
    case 'phone': return h('a', { href: `tel:${String(value).replace(/[^\d+]/g, '')}` }, String(value));
    case 'long-text': return compact ? h('span', { class: 'truncate', title: String(value) }, String(value)) : h('span', { class: 'pre-wrap' }, String(value));
    default: return h('span', { class: compact ? 'truncate' : null, title: compact ? String(value) : null }, String(value));
  }
}

/** Plain-text version of a value (timeline changes, titles). */
export function customText(def, value) {
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) return 'empty';
  switch (def?.kind) {
    case 'money': return formatMoney(value, def.currency || 'EUR');
    case 'date': return formatDay(value);
    case 'checkbox': return value ? 'yes' : 'no';
    case 'multi-select': return (Array.isArray(value) ? value : [value]).join(', ');
    default: return String(value);
  }
}

// ---------------------------------------------------------------------------
// Field catalogues. `kind` drives filter operators and value inputs:
//   text, choice, id, user, time, date, number, money, checkbox, tags, multi

export const OPS = {
  text: ['eq', 'neq', 'contains', 'starts_with', 'in', 'not_in', 'empty', 'not_empty'],
  choice: ['eq', 'neq', 'in', 'not_in', 'empty', 'not_empty'],
  user: ['eq', 'neq', 'in', 'not_in', 'empty', 'not_empty'],
  id: ['eq', 'neq', 'in', 'not_in', 'empty', 'not_empty'],
  time: ['on', 'lt', 'lte', 'gt', 'gte', 'between'],
  date: ['on', 'lt', 'lte', 'gt', 'gte', 'between'],
  number: ['eq', 'neq', 'lt', 'lte', 'gt', 'gte'],
  money: ['eq', 'neq', 'lt', 'lte', 'gt', 'gte'],
  checkbox: ['eq'],
  tags: ['has', 'has_not', 'has_any', 'empty', 'not_empty'],
  multi: ['has', 'has_not'],
  // Static lists (segments of kind "static"): `lists` has / has_not a list id.
  list: ['has', 'has_not'],
};

const DATE_LIKE = new Set(['time', 'date']);

export const OP_LABELS = {
  eq: 'is', neq: 'is not', contains: 'contains', starts_with: 'starts with',
  in: 'is any of', not_in: 'is none of', empty: 'is empty', not_empty: 'is not empty',
  lt: 'is less than', lte: 'is at most', gt: 'is more than', gte: 'is at least',
  on: 'is on', between: 'is between', has: 'has', has_not: 'does not have', has_any: 'has any of',
};

/** Dates read better with before/after. */
export function opLabel(op, kind) {
  if (kind === 'list') return { has: 'include', has_not: 'do not include' }[op] || OP_LABELS[op] || op;
  if (DATE_LIKE.has(kind)) {
    return { lt: 'is before', lte: 'is on or before', gt: 'is after', gte: 'is on or after', on: 'is on', between: 'is between' }[op] || OP_LABELS[op] || op;
  }
  return OP_LABELS[op] || op;
}

export function opTakesValue(op) { return op !== 'empty' && op !== 'not_empty'; }
export function opTakesList(op) { return op === 'in' || op === 'not_in' || op === 'has_any'; }

/**
 * Columns, sorting and filters per entity. Each field:
 *   key      column / filter / sort key (API field name, or custom.<key>)
 *   label    header
 *   kind     filter kind (see OPS); null = not filterable
 *   sort     API sort field, or null
 *   weight   relative column width
 *   cell     (record) → node
 *   hidePhone  hide the column under 720px
 *   priority 1 (always) … 3 (first to hide on narrow screens)
 */
export function fieldCatalog(entity, defs = [], { currency = 'EUR' } = {}) {
  const common = entity === 'company' ? companyFields() : contactFields(currency);
  const custom = defs.map((d) => customField(d));
  return [...common, ...custom];
}

/**
 * Filter groups, in the order the field pickers show them (`group` on a
 * field; custom fields are "Custom fields").
 */
export const FIELD_GROUPS = ['Contact', 'Company', 'Address', 'Consent', 'Activity', 'Deals', 'Orders', 'Lists', 'Custom fields'];

/**
 * What other components publish about a contact (read-only, filter only):
 * the pipeline's deals and the portal's orders. Money in minor units of the
 * base currency; a contact without deals or orders has 0 of them.
 */
function linkedContactFields(currency) {
  const f = (key, label, kind, group, extra = {}) => ({ key, label, kind, group, sort: null, column: false, linked: true, ...extra });
  return [
    f('deals.open_count', 'Number of open deals', 'number', 'Deals'),
    f('deals.open_value', 'Open deals value', 'money', 'Deals', { currency }),
    f('deals.won_count', 'Number of won deals', 'number', 'Deals'),
    f('deals.won_value', 'Won deals value', 'money', 'Deals', { currency }),
    f('deals.last_won_at', 'Last deal won', 'time', 'Deals'),
    f('orders.count', 'Number of orders', 'number', 'Orders'),
    f('orders.total', 'Orders total', 'money', 'Orders', { currency }),
    f('orders.first_at', 'First order', 'time', 'Orders'),
    f('orders.last_at', 'Last order', 'time', 'Orders'),
  ];
}

function customField(d) {
  const kindMap = {
    text: 'text', 'long-text': 'text', url: 'text', email: 'text', phone: 'text',
    number: 'number', money: 'money', date: 'date', select: 'choice', 'multi-select': 'multi', checkbox: 'checkbox',
  };
  const sortable = d.kind !== 'multi-select' && d.kind !== 'long-text';
  return {
    key: `custom.${d.key}`,
    label: d.label || labelize(d.key),
    group: 'Custom fields',
    kind: kindMap[d.kind] || 'text',
    def: d,
    options: Array.isArray(d.options) ? d.options : [],
    currency: d.currency,
    sort: sortable ? `custom.${d.key}` : null,
    weight: d.kind === 'money' ? 1.45 : d.kind === 'number' ? 1.1 : d.kind === 'long-text' ? 1.6 : 1.15,
    align: d.kind === 'money' || d.kind === 'number' ? 'end' : null,
    priority: 3,
    hidePhone: true,
    cell: (r) => formatCustom(d, r?.custom?.[d.key], { compact: true }),
    custom: true,
  };
}

const shortFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const longFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** "Nov 23" this year, "Nov 23, 2025" otherwise; the full time on hover. */
export function shortDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso || '');
  return (d.getFullYear() === new Date().getFullYear() ? shortFmt : longFmt).format(d);
}

export function compactTime(iso, { muted = false, title } = {}) {
  if (!iso) return dash();
  return h('time', { datetime: iso, class: muted ? 'muted fst-italic' : null, title: title || formatDate(iso, { withTime: true }) }, shortDate(iso));
}

function dateCell(key) {
  return (r) => (r?.[key] ? compactTime(r[key]) : dash());
}

function companyLinkCell(c) {
  const name = (c?.company || '').trim();
  if (!name) return dash();
  if (c.company_id) {
    return h('a', { class: 'cell-link truncate', href: recordHref('company', c.company_id), title: name, tabindex: '-1' }, name);
  }
  return h('span', { class: 'truncate', title: name }, name);
}

function lastActivityCell(r) {
  if (r?.last_activity_at) return compactTime(r.last_activity_at);
  if (r?.updated_at) return compactTime(r.updated_at, { muted: true, title: `No activity yet; record updated ${formatDate(r.updated_at, { withTime: true })}` });
  return dash();
}

function contactFields(currency = 'EUR') {
  const fields = [
    { key: 'name', label: 'Name', kind: null, sort: 'first_name', weight: 1.85, priority: 1, always: true },
    { key: 'first_name', label: 'First name', kind: 'text', sort: 'first_name', column: false },
    { key: 'last_name', label: 'Last name', kind: 'text', sort: 'last_name', weight: 1.2, priority: 3, hidePhone: true,
      cell: (c) => (c.last_name ? h('span', { class: 'truncate' }, c.last_name) : dash()) },
    { key: 'email', label: 'Email', kind: 'text', sort: 'email', weight: 1.6, priority: 2, hidePhone: true,
      cell: (c) => (c.email ? h('span', { class: 'truncate', title: c.email }, c.email) : dash()) },
    { key: 'phone', label: 'Phone', kind: 'text', sort: null, weight: 1.2, priority: 3, hidePhone: true,
      cell: (c) => (c.phone ? h('span', { class: 'num' }, c.phone) : dash()) },
    { key: 'company', label: 'Company', kind: 'text', sort: 'company', weight: 1.35, priority: 2, hidePhone: true, cell: companyLinkCell },
    { key: 'title', label: 'Title', kind: 'text', sort: 'title', weight: 1.3, priority: 3, hidePhone: true,
      cell: (c) => (c.title ? h('span', { class: 'truncate', title: c.title }, c.title) : dash()) },
    { key: 'lifecycle_stage', label: 'Stage', kind: 'choice', options: STAGES, optionLabel: stageLabel, sort: 'lifecycle_stage', weight: 1.35, priority: 1,
      cell: (c) => stageBadge(c.lifecycle_stage) },
    { key: 'tags', label: 'Tags', kind: 'tags', sort: null, weight: 1.1, priority: 3, hidePhone: true, cell: (c) => tagChips(c.tags, { max: 2 }) },
    { key: 'owner_id', label: 'Owner', kind: 'user', sort: null, weight: 1.45, priority: 3, hidePhone: true, cell: (c) => ownerCell(c.owner_id) },
    { key: 'source', label: 'Source', kind: 'text', sort: 'source', weight: 1, priority: 3, hidePhone: true,
      cell: (c) => (c.source ? h('span', { class: 'truncate' }, c.source) : dash()) },
    { key: 'last_activity_at', label: 'Last activity', kind: 'time', sort: 'last_activity_at', weight: 1.5, priority: 2, hidePhone: true, cell: lastActivityCell, dim: true },
    { key: 'created_at', label: 'Created', kind: 'time', sort: 'created_at', weight: 1, priority: 3, hidePhone: true, cell: dateCell('created_at'), dim: true },
    { key: 'updated_at', label: 'Updated', kind: 'time', sort: 'updated_at', weight: 1, priority: 3, hidePhone: true, cell: dateCell('updated_at'), dim: true },
    { key: 'address.city', label: 'City', kind: 'text', sort: null, weight: 1, priority: 3, hidePhone: true,
      cell: (c) => (c.address?.city ? h('span', { class: 'truncate' }, c.address.city) : dash()) },
    { key: 'address.country', label: 'Country', kind: 'text', sort: null, weight: 1, priority: 3, hidePhone: true,
      cell: (c) => (c.address?.country ? h('span', { class: 'truncate' }, c.address.country) : dash()) },
    { key: 'consent.email', label: 'Email consent', kind: 'choice', options: CONSENT_VALUES, optionLabel: labelize, sort: null, weight: 1, priority: 3, hidePhone: true,
      cell: (c) => consentBadge(c.consent?.email) },
    { key: 'consent.sms', label: 'SMS consent', kind: 'choice', options: CONSENT_VALUES, optionLabel: labelize, sort: null, column: false },
    { key: 'consent.phone', label: 'Phone consent', kind: 'choice', options: CONSENT_VALUES, optionLabel: labelize, sort: null, column: false },
    { key: 'external_id', label: 'External ID', kind: 'text', sort: null, column: false },
    { key: 'address.street', label: 'Street', kind: 'text', sort: null, column: false },
    { key: 'address.postal_code', label: 'Postal code', kind: 'text', sort: null, column: false },
    { key: 'address.region', label: 'Region', kind: 'text', sort: null, column: false },
  ];
  for (const f of fields) {
    f.group = f.key.startsWith('address.') ? 'Address' : f.key.startsWith('consent.') ? 'Consent' : f.key === 'last_activity_at' ? 'Activity' : 'Contact';
  }
  return [...fields, ...linkedContactFields(currency)];
}

function companyFields() {
  return [
    { key: 'name', label: 'Name', kind: 'text', sort: 'name', weight: 1.9, priority: 1, always: true },
    { key: 'domain', label: 'Domain', kind: 'text', sort: 'domain', weight: 1.3, priority: 2, hidePhone: true,
      cell: (c) => (c.domain ? h('span', { class: 'truncate', title: c.domain }, c.domain) : dash()) },
    { key: 'industry', label: 'Industry', kind: 'text', sort: 'industry', weight: 1.2, priority: 2, hidePhone: true,
      cell: (c) => (c.industry ? h('span', { class: 'truncate', title: c.industry }, c.industry) : dash()) },
    { key: 'size', label: 'Size', kind: 'choice', options: SIZES, sort: 'size', weight: 0.95, priority: 1,
      cell: (c) => (c.size ? h('span', { class: 'size-chip num' }, c.size) : dash()) },
    { key: 'phone', label: 'Phone', kind: 'text', sort: null, weight: 1.2, priority: 3, hidePhone: true,
      cell: (c) => (c.phone ? h('span', { class: 'num' }, c.phone) : dash()) },
    { key: 'website', label: 'Website', kind: 'text', sort: null, weight: 1.3, priority: 3, hidePhone: true,
      cell: (c) => (c.website ? externalLink(c.website) : dash()) },
    { key: 'owner_id', label: 'Owner', kind: 'user', sort: null, weight: 1.3, priority: 3, hidePhone: true, cell: (c) => ownerCell(c.owner_id) },
    { key: 'tags', label: 'Tags', kind: 'tags', sort: null, weight: 1.2, priority: 3, hidePhone: true, cell: (c) => tagChips(c.tags, { max: 2 }) },
    { key: 'last_activity_at', label: 'Last activity', kind: 'time', sort: 'last_activity_at', weight: 1.3, priority: 3, hidePhone: true, cell: lastActivityCell, dim: true },
    { key: 'updated_at', label: 'Updated', kind: 'time', sort: 'updated_at', weight: 1.05, priority: 2, hidePhone: true, cell: dateCell('updated_at'), dim: true },
    { key: 'created_at', label: 'Created', kind: 'time', sort: 'created_at', weight: 1.05, priority: 3, hidePhone: true, cell: dateCell('created_at'), dim: true },
    { key: 'address.city', label: 'City', kind: 'text', sort: null, weight: 1, priority: 3, hidePhone: true,
      cell: (c) => (c.address?.city ? h('span', { class: 'truncate' }, c.address.city) : dash()) },
    { key: 'address.country', label: 'Country', kind: 'text', sort: null, weight: 1, priority: 3, hidePhone: true,
      cell: (c) => (c.address?.country ? h('span', { class: 'truncate' }, c.address.country) : dash()) },
    { key: 'external_id', label: 'External ID', kind: 'text', sort: null, column: false },
  ];
}

export const DEFAULT_COLUMNS = {
  contact: ['name', 'email', 'company', 'lifecycle_stage', 'tags', 'owner_id', 'last_activity_at'],
  company: ['name', 'domain', 'industry', 'size', 'owner_id', 'tags', 'updated_at', 'custom.arr'],
};

export function consentBadge(value) {
  const v = value || 'unknown';
  return h('span', { class: ['consent', `consent-${v}`] }, v === 'granted' ? icon('check', { size: 12 }) : v === 'denied' ? icon('x', { size: 12 }) : null, labelize(v));
}

export function relativeDue(iso) {
  if (!iso) return null;
  const due = new Date(iso);
  if (Number.isNaN(due.getTime())) return null;
  const startOf = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(due) - startOf(new Date())) / 86_400_000);
  if (days < -1) return { text: `${-days} days overdue`, overdue: true };
  if (days === -1) return { text: 'Due yesterday', overdue: true };
  if (days === 0) return { text: 'Due today', today: true };
  if (days === 1) return { text: 'Due tomorrow' };
  if (days < 7) return { text: `Due in ${days} days` };
  return { text: `Due ${formatDate(iso)}` };
}

/** "2 min ago", "3 h ago", "yesterday", else a date. */
export function timeAgo(iso) {
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return '';
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 2 * 86400) return 'yesterday';
  if (s < 7 * 86400) return `${Math.round(s / 86400)} days ago`;
  return formatDate(iso);
}
