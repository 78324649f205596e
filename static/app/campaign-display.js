// Campaigns: pieces the campaign, template and suppression pages share: the
// area header with its section tabs (Segments, Templates, Campaigns,
// Sequences, Suppressions), status badges, rates, and time zones (a local time in a
// campaign's zone ↔ UTC, a zone picker).

import { h, icon } from './ui.js';

export const nf = new Intl.NumberFormat();

const EXTRA = {
  send: 'M21 3 10.5 13.5M21 3l-6.5 18-4-7.5L3 9.5z',
  template: 'M6 3h9l4 4v13a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1M14 3v5h5M8.5 12.5h7M8.5 16h7',
  ban: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M5.6 5.6l12.8 12.8',
  chart: 'M4 20h16M7 16v-5M12 16V6M17 16v-8',
  flask: 'M9.5 3h5M10 3v6L4.5 18.5A1.7 1.7 0 0 0 6 21h12a1.7 1.7 0 0 0 1.5-2.5L14 9V3M7 15h10',
  braces: 'M8 4H7a2 2 0 0 0-2 2v3.5a2.5 2.5 0 0 1-2 2.5 2.5 2.5 0 0 1 2 2.5V18a2 2 0 0 0 2 2h1M16 4h1a2 2 0 0 1 2 2v3.5a2.5 2.5 0 0 0 2 2.5 2.5 2.5 0 0 0-2 2.5V18a2 2 0 0 1-2 2h-1',
  pointer: 'M5 3l6.5 17 2.3-7.2L21 10.5zM14 14l5.5 5.5',
  pause: 'M8 5v14M16 5v14',
  trophy: 'M8 4h8v5a4 4 0 0 1-8 0zM8 6H5a3 3 0 0 0 3 4M16 6h3a3 3 0 0 1-3 4M12 13v4M8.5 20h7M10 17h4',
  skip: 'M5 5l9 7-9 7zM18 5v14',
  drip: 'M6 3.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 1 0 0-3M6 10.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 1 0 0-3M6 17.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 1 0 0-3M6 6.5v4M6 13.5v4M10.5 5H20M10.5 12H20M10.5 19h6',
};

/** ui.icon plus the campaign shapes above. */
export function cicon(name, opts = {}) {
  const el = icon(name, opts);
  if (EXTRA[name]) el.querySelector('path').setAttribute('d', EXTRA[name]);
  return el;
}

export function campaignHref(id) { return `/campaigns/c/${encodeURIComponent(id)}`; }
export function templateHref(id) { return `/campaigns/templates/${encodeURIComponent(id)}`; }

// ---------------------------------------------------------------------------
// The area header and its section tabs

export const CAMPAIGN_SECTIONS = [
  { key: 'segments', label: 'Segments', path: '/campaigns/segments', iconName: 'users' },
  { key: 'templates', label: 'Templates', path: '/campaigns/templates', iconName: 'template' },
  { key: 'campaigns', label: 'Campaigns', path: '/campaigns', iconName: 'send' },
  { key: 'sequences', label: 'Sequences', path: '/campaigns/sequences', iconName: 'drip' },
  { key: 'suppressions', label: 'Suppressions', path: '/campaigns/suppressions', iconName: 'ban' },
];

/** "Campaigns" with a line about the section, actions, and the section tabs. → [header, nav] */
export function campaignsHeader(current, { sub, actions, className } = {}) {
  const header = h('div', { class: ['page-header', 'cp-header', className] },
    h('div', { class: 'page-heading' },
      h('h1', { class: 'page-title', tabindex: '-1' }, 'Campaigns'),
      h('p', { class: 'page-sub', dataset: { testid: 'campaigns-sub' } }, sub || '\u00a0')),
    actions ? h('div', { class: 'page-actions cp-actions' }, actions) : null);
  const nav = h('nav', { class: 'tabs cp-tabs', 'aria-label': 'Campaigns sections', dataset: { testid: 'campaigns-tabs' } },
    CAMPAIGN_SECTIONS.map((s) => h('a', {
      class: 'tab', href: s.path, 'aria-current': s.key === current ? 'page' : null, dataset: { testid: `campaigns-tab-${s.key}` },
    }, cicon(s.iconName, { size: 16 }), h('span', null, s.label))));
  requestAnimationFrame(() => {
    const tab = nav.querySelector('[aria-current="page"]');
    if (tab && nav.scrollWidth > nav.clientWidth) nav.scrollLeft = Math.max(0, tab.offsetLeft - 16);
  });
  return [header, nav];
}

/** "← label" above an editor. */
export function backLink(href, label, testid) {
  return h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href, class: 'back-link', dataset: { testid } }, icon('arrowLeft'), label));
}

// ---------------------------------------------------------------------------
// Statuses and numbers

const STATUS = {
  draft: { label: 'Draft', iconName: 'pencil' },
  scheduled: { label: 'Scheduled', iconName: 'clock' },
  sending: { label: 'Sending', iconName: 'send' },
  sent: { label: 'Sent', iconName: 'check' },
  cancelled: { label: 'Cancelled', iconName: 'x' },
};

export function statusLabel(status) { return STATUS[status]?.label || String(status || '—'); }

export function campaignStatusBadge(status, testid = 'campaign-status') {
  const s = STATUS[status] || { label: statusLabel(status), iconName: 'clock' };
  return h('span', { class: ['cp-status', `cp-status-${status}`], dataset: { testid, status } }, cicon(s.iconName, { size: 12 }), s.label);
}

/** A rate as the API sends it (0.333) → "33.3%"; null when there is no rate. */
export function pct(rate, { digits = 1 } = {}) {
  const n = Number(rate);
  if (rate === null || rate === undefined || !Number.isFinite(n)) return '—';
  const v = Math.round(n * 100 * 10 ** digits) / 10 ** digits;
  return `${v}%`;
}

export function plural(n, one, many = `${one}s`) { return `${nf.format(n)} ${n === 1 ? one : many}`; }

// ---------------------------------------------------------------------------
// Time zones

/** The browser's IANA zone ("Europe/Berlin"), UTC when unknown. */
export function browserZone() {
  try {
    const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // A browser that cannot tell says "Etc/Unknown", which no server takes.
    return z && !/unknown/i.test(z) ? z : 'UTC';
  } catch {
    return 'UTC';
  }
}

let zones = null;
/** Every IANA zone the browser knows (plus UTC and the browser's own). */
export function timeZones() {
  if (zones) return zones;
  let list = [];
  try { list = Intl.supportedValuesOf('timeZone'); } catch { list = []; }
  const set = new Set(list);
  ['UTC', browserZone(), 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Kolkata', 'Asia/Tokyo', 'Australia/Sydney'].forEach((z) => set.add(z));
  zones = [...set].sort((a, b) => a.localeCompare(b));
  return zones;
}

/** Minutes east of UTC of `tz` at `date` (e.g. 60 for Berlin in winter). */
export function zoneOffsetMinutes(date, tz) {
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(date);
    const get = (t) => Number(parts.find((p) => p.type === t)?.value);
    const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
    return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
  } catch {
    return 0;
  }
}

/** "+01:00" style offset label of `tz` at `date`. */
export function offsetLabel(date, tz) {
  const m = zoneOffsetMinutes(date, tz);
  const sign = m < 0 ? '−' : '+';
  const a = Math.abs(m);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** A local "YYYY-MM-DDTHH:MM" in `tz` → Date (UTC instant), or null. */
export function localToUtc(local, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(String(local || ''));
  if (!m) return null;
  const naive = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  let t = naive - zoneOffsetMinutes(new Date(naive), tz) * 60000;
  t = naive - zoneOffsetMinutes(new Date(t), tz) * 60000;
  return new Date(t);
}

function pad(n) { return String(n).padStart(2, '0'); }

/** The wall-clock time in `tz` at `date` as "YYYY-MM-DDTHH:MM" (for datetime-local inputs). */
export function localIn(date, tz) {
  const shifted = new Date(date.getTime() + zoneOffsetMinutes(date, tz) * 60000);
  return `${shifted.getUTCFullYear()}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}T${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}`;
}

/** "Tue, Dec 8, 2026, 9:00 AM GMT+1" for an instant, in `tz` (the browser's when absent). */
export function formatInZone(iso, tz, { weekday = true } = {}) {
  if (!iso) return '';
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  try {
    return new Intl.DateTimeFormat(undefined, {
      weekday: weekday ? 'short' : undefined, year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit',
      timeZone: tz || undefined, timeZoneName: 'short',
    }).format(d);
  } catch {
    return d.toISOString();
  }
}

/** <time> in the campaign's zone, with UTC and the viewer's own time on hover. */
export function zonedTime(iso, tz, { testid } = {}) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  const title = [`${formatInZone(d, 'UTC', { weekday: false })}`, `${formatInZone(d, browserZone(), { weekday: false })} (your time)`].join('\n');
  return h('time', { datetime: d.toISOString(), title, dataset: { testid } }, formatInZone(d, tz, { weekday: false }));
}

/** A <select> of time zones (labelled by the caller). */
export function zoneSelect({ id, value, testid, disabled = false, className = 'input' }) {
  const current = value || browserZone();
  const list = timeZones().includes(current) ? timeZones() : [current, ...timeZones()];
  const now = new Date();
  return h('select', { id, name: 'time_zone', class: className, dataset: { testid }, disabled },
    list.map((z) => h('option', { value: z, selected: z === current ? true : null }, `${z.replace(/_/g, ' ')} (${offsetLabel(now, z)})`)));
}

/** "in 3 h", "in 2 days", "5 min ago" relative to now. */
export function relative(iso) {
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return '';
  const s = Math.round((t - Date.now()) / 1000);
  const a = Math.abs(s);
  let text;
  if (a < 60) text = `${a} s`;
  else if (a < 3600) text = `${Math.round(a / 60)} min`;
  else if (a < 86400) text = `${Math.round(a / 3600)} h`;
  else text = `${Math.round(a / 86400)} days`;
  return s >= 0 ? `in ${text}` : `${text} ago`;
}
