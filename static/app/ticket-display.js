// How tickets look across the service desk: status and priority badges (an
// icon and a word, never colour alone), channel labels, SLA countdowns from a
// ticket's targets ("responds in 2 h 10 m", "resolution overdue by 3 h") that
// refresh themselves, business-minute durations for the reports, a few icons,
// and the service desk's header with its section tabs (Tickets, Orders,
// Knowledge base, Reports).

import { h, icon, formatDate } from './ui.js';

// ---------------------------------------------------------------------------
// Icons (same 24x24 stroke style as ui.js)

const DESK_ICONS = {
  ticket: 'M4 5h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H9.5L5 20.5V17H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1M8 9.5h8M8 12.5h5',
  book: 'M12 6.5C10.5 5 8.2 4.5 4 4.5v14c4.2 0 6.5.5 8 2 1.5-1.5 3.8-2 8-2v-14c-4.2 0-6.5.5-8 2M12 6.5v14',
  star: 'M12 3.8l2.5 5.1 5.6.8-4 3.9 1 5.6-5.1-2.7-5 2.7.9-5.6-4-3.9 5.6-.8z',
  reply: 'M10 8 5 12.5l5 4.5M5 12.5h9a5 5 0 0 1 5 5V19',
  flame: 'M12 21a6 6 0 0 0 6-6c0-3.5-2.5-5.5-3.5-8.5-1 2-2 3-3.5 3.5.5-2.5-.5-5-2.5-6.5C8 7 6 10 6 15a6 6 0 0 0 6 6',
  arrowUpSmall: 'M12 18V6M7 11l5-5 5 5',
  arrowDownSmall: 'M12 6v12M7 13l5 5 5-5',
  hourglass: 'M7 3.5h10M7 20.5h10M8 3.5c0 4 4 5.5 4 8.5s-4 4.5-4 8.5M16 3.5c0 4-4 5.5-4 8.5s4 4.5 4 8.5',
  circleDot: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M12 14a2 2 0 1 0 0-4 2 2 0 0 0 0 4',
  checkCircle: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M8 12.5l2.7 2.7L16.2 9.5',
  archive: 'M3.5 5h17v4h-17zM5 9v9.5A1.5 1.5 0 0 0 6.5 20h11a1.5 1.5 0 0 0 1.5-1.5V9M10 13h4',
  sparkle: 'M12 3v4M12 17v4M3 12h4M17 12h4M6 6l2.5 2.5M15.5 15.5 18 18M6 18l2.5-2.5M15.5 8.5 18 6',
  undo: 'M9 14 4 9l5-5M4 9h10.5a5.5 5.5 0 0 1 0 11H11',
  eye: 'M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6',
};

/** ui.icon plus the service desk shapes above. */
export function dicon(name, opts = {}) {
  const el = icon(name, opts);
  if (DESK_ICONS[name]) el.querySelector('path').setAttribute('d', DESK_ICONS[name]);
  return el;
}

// ---------------------------------------------------------------------------
// Statuses, priorities, channels

export const TICKET_STATUSES = ['new', 'open', 'waiting', 'resolved', 'closed', 'reopened'];
export const PRIORITIES = ['urgent', 'high', 'normal', 'low'];
export const CHANNELS = ['phone', 'email', 'staff', 'portal'];

const STATUS_LABELS = {
  new: 'New', open: 'Open', waiting: 'Waiting', resolved: 'Resolved', closed: 'Closed', reopened: 'Reopened',
};
const STATUS_HINTS = {
  new: 'Nobody has answered yet',
  open: 'Being worked on',
  waiting: 'Waiting for the customer',
  resolved: 'Resolved; closes by itself unless the customer replies',
  closed: 'Closed; a reply needs a new ticket',
  reopened: 'The customer answered after it was resolved',
};
const STATUS_ICONS = {
  new: 'sparkle', open: 'circleDot', waiting: 'hourglass', resolved: 'checkCircle', closed: 'archive', reopened: 'undo',
};

export function ticketStatusLabel(s) {
  return STATUS_LABELS[s] || String(s || 'Unknown').replace(/[-_]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

export function ticketStatusHint(s) { return STATUS_HINTS[s] || ''; }

export function ticketStatusBadge(status, { testid = 'ticket-status-badge' } = {}) {
  const s = TICKET_STATUSES.includes(status) ? status : 'unknown';
  return h('span', { class: ['tk-status', `tk-status-${s}`], title: STATUS_HINTS[s] || null, dataset: { testid, status: s } },
    dicon(STATUS_ICONS[s] || 'circleDot', { size: 12 }), ticketStatusLabel(status));
}

const PRIORITY_LABELS = { urgent: 'Urgent', high: 'High', normal: 'Normal', low: 'Low' };
const PRIORITY_ICONS = { urgent: 'flame', high: 'arrowUpSmall', normal: null, low: 'arrowDownSmall' };

export function priorityLabel(p) { return PRIORITY_LABELS[p] || 'Normal'; }

/** A priority badge; `quiet` leaves "normal" as plain muted text. */
export function ticketPriorityBadge(p, { testid = 'ticket-priority', quiet = false } = {}) {
  const v = PRIORITY_LABELS[p] ? p : 'normal';
  if (quiet && v === 'normal') return h('span', { class: 'tk-priority-plain muted', dataset: { testid, priority: v } }, 'Normal');
  return h('span', { class: ['tk-priority', `tk-priority-${v}`], title: `${PRIORITY_LABELS[v]} priority`, dataset: { testid, priority: v } },
    PRIORITY_ICONS[v] ? dicon(PRIORITY_ICONS[v], { size: 12 }) : null, PRIORITY_LABELS[v]);
}

const CHANNEL_LABELS = { portal: 'Portal', phone: 'Phone', email: 'Email', staff: 'Staff' };
export function channelLabel(c) { return CHANNEL_LABELS[c] || String(c || '—'); }
export function channelIcon(c, opts) {
  return c === 'phone' ? icon('phone', opts) : c === 'email' ? icon('mail', opts) : c === 'portal' ? icon('monitor', opts) : icon('users', opts);
}

/** "#1002" */
export function ticketNumber(t) { return t?.number != null ? `#${t.number}` : '#—'; }

// ---------------------------------------------------------------------------
// Durations

/** Wall-clock span → "45 m", "2 h 10 m", "1 d 4 h", "under a minute". */
export function spanText(ms) {
  const m = Math.round(Math.abs(ms) / 60000);
  if (m < 1) return 'under a minute';
  if (m < 60) return `${m} m`;
  if (m < 1440) {
    const hh = Math.floor(m / 60);
    const mm = m % 60;
    return mm ? `${hh} h ${mm} m` : `${hh} h`;
  }
  const d = Math.floor(m / 1440);
  const hh = Math.round((m % 1440) / 60);
  return hh ? `${d} d ${hh} h` : `${d} d`;
}

/** Business minutes → "45 m", "2 h 10 m", "40 h" (hours, since a business day is not 24 h). */
export function businessTime(minutes) {
  if (minutes === null || minutes === undefined || !Number.isFinite(Number(minutes))) return '—';
  const m = Math.round(Number(minutes));
  if (m < 60) return `${m} m`;
  const hh = Math.floor(m / 60);
  const mm = m % 60;
  return mm ? `${hh} h ${mm} m` : `${hh} h`;
}

// ---------------------------------------------------------------------------
// SLA targets

const SOON_MS = 60 * 60 * 1000;
const time = (iso) => { const t = Date.parse(iso || ''); return Number.isFinite(t) ? t : null; };

/**
 * Where one target of a ticket stands.
 * which: 'response' (first response) or 'resolution'.
 * → { which, due, doneAt, breachedAt, state, ms } with state
 *   'none'     no target;
 *   'met'      done in time;  'missed'  done late (or marked breached);
 *   'pending'  still ahead;   'soon'    due within the hour;
 *   'overdue'  past due and not done (ms: how long ago);
 *   'stopped'  not needed any more (resolved or closed without it).
 */
export function slaTarget(t, which, now = Date.now()) {
  const response = which === 'response';
  const due = response ? t?.first_response_due : t?.resolution_due;
  const doneAt = response ? t?.first_response_at : (t?.resolved_at || t?.closed_at);
  const breachedAt = response ? t?.first_response_breached_at : t?.resolution_breached_at;
  const out = { which, due: due || null, doneAt: doneAt || null, breachedAt: breachedAt || null, state: 'none', ms: null };
  const dueT = time(due);
  if (dueT === null) return out;
  if (doneAt) {
    const doneT = time(doneAt);
    out.state = !breachedAt && doneT !== null && doneT <= dueT ? 'met' : 'missed';
    out.ms = doneT !== null ? doneT - dueT : null;
    return out;
  }
  if (t?.status === 'resolved' || t?.status === 'closed') {
    out.state = breachedAt ? 'missed' : 'stopped';
    return out;
  }
  const left = dueT - now;
  if (left <= 0 || breachedAt) { out.state = 'overdue'; out.ms = Math.max(0, now - dueT); return out; }
  out.state = left <= SOON_MS ? 'soon' : 'pending';
  out.ms = left;
  return out;
}

/** The target a queue shows: the first response until it is given, then the resolution. */
export function nextTarget(t, now = Date.now()) {
  const r = slaTarget(t, 'response', now);
  if (r.state === 'pending' || r.state === 'soon' || r.state === 'overdue') return r;
  return slaTarget(t, 'resolution', now);
}

/** "responds in 2 h 10 m", "resolution overdue by 3 h", "responded in time"… */
export function slaText(st) {
  const resp = st.which === 'response';
  switch (st.state) {
    case 'pending':
    case 'soon': return resp ? `responds in ${spanText(st.ms)}` : `resolves in ${spanText(st.ms)}`;
    case 'overdue': return resp ? `response overdue by ${spanText(st.ms)}` : `resolution overdue by ${spanText(st.ms)}`;
    case 'met': return resp ? 'responded in time' : 'resolved in time';
    case 'missed': return resp ? (st.doneAt ? 'responded late' : 'response target missed') : (st.doneAt ? 'resolved late' : 'resolution target missed');
    case 'stopped': return resp ? 'no reply was needed' : 'no longer running';
    default: return 'no target';
  }
}

const SLA_ICONS = { pending: 'clock', soon: 'clock', overdue: 'alert', met: 'check', missed: 'alert', stopped: 'check', none: 'clock' };

/**
 * A countdown chip for one target (or, without `which`, the next one), which
 * refreshSla() re-renders; `get()` returns the current ticket.
 */
export function slaChip(get, { which = null, testid } = {}) {
  const el = h('span', { class: 'sla', dataset: { testid } });
  el.__refresh = () => {
    const t = get();
    const st = which ? slaTarget(t, which) : nextTarget(t);
    el.className = `sla sla-${st.state}`;
    el.dataset.state = st.state;
    el.dataset.which = st.which;
    const text = slaText(st);
    el.title = st.due ? `${st.which === 'response' ? 'First response' : 'Resolution'} due ${formatDate(st.due, { withTime: true })}` : '';
    el.replaceChildren(icon(SLA_ICONS[st.state] || 'clock', { size: 12 }), h('span', null, text));
  };
  el.__refresh();
  return el;
}

/** Re-render every SLA chip under `root`. */
export function refreshSla(root) {
  root.querySelectorAll('.sla').forEach((el) => el.__refresh?.());
}

/** Refresh the countdowns every 30 s while the view lives. → stop() */
export function startSlaTicker(root, { every = 30_000, also } = {}) {
  const timer = setInterval(() => { refreshSla(root); also?.(); }, every);
  return () => clearInterval(timer);
}

// ---------------------------------------------------------------------------
// The service desk's header and section tabs

export const DESK_SECTIONS = [
  { key: 'tickets', label: 'Tickets', path: '/service-desk', iconName: 'ticket' },
  { key: 'orders', label: 'Orders', path: '/service-desk/orders', iconName: 'box' },
  { key: 'kb', label: 'Knowledge base', path: '/service-desk/kb', iconName: 'book' },
  { key: 'reports', label: 'Reports', path: '/service-desk/reports', iconName: 'chart' },
];

const EXTRA_TAB_ICONS = {
  box: 'M12 3l8 4.5v9L12 21l-8-4.5v-9zM4 7.5l8 4.5 8-4.5M12 12v9',
  chart: 'M4 20h16M7 16v-5M12 16V6M17 16v-8',
};

function tabIcon(name) {
  const el = dicon(name, { size: 16 });
  if (EXTRA_TAB_ICONS[name]) el.querySelector('path').setAttribute('d', EXTRA_TAB_ICONS[name]);
  return el;
}

/**
 * The page header ("Service desk", a line about the section, actions) and
 * the section tabs. → [header, nav]
 */
export function deskHeader(current, { sub, actions } = {}) {
  const header = h('div', { class: 'page-header desk-header' },
    h('div', { class: 'page-heading' },
      h('h1', { class: 'page-title', tabindex: '-1' }, 'Service desk'),
      h('p', { class: 'page-sub', dataset: { testid: 'desk-sub' } }, sub || '\u00a0')),
    actions ? h('div', { class: 'page-actions' }, actions) : null);
  const nav = h('nav', { class: 'tabs desk-tabs', 'aria-label': 'Service desk sections', dataset: { testid: 'desk-tabs' } },
    DESK_SECTIONS.map((s) => h('a', {
      class: 'tab', href: s.path, 'aria-current': s.key === current ? 'page' : null, dataset: { testid: `desk-tab-${s.key}` },
    }, tabIcon(s.iconName), h('span', null, s.label))));
  requestAnimationFrame(() => {
    const tab = nav.querySelector('[aria-current="page"]');
    if (tab && nav.scrollWidth > nav.clientWidth) nav.scrollLeft = Math.max(0, tab.offsetLeft - 16);
  });
  return [header, nav];
}
