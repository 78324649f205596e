// Small pieces shared by the portal's pages (orders, complaints, help):
// notices, error panels, plain-text paragraphs, field errors and the
// complaint status badge. DOM only, no API calls.

import { h, icon, tenantName, formatDate } from '/app/ui.js';

// The name customers see: the portal name from the service desk settings
// (brand.js sets it), else the workspace's, from the host name ("demo").
const hostTenant = tenantName().replace(/[-_]+/g, ' ');
const titleCase = (s) => s.replace(/\b\w/g, (c) => c.toUpperCase());
export let tenant = hostTenant;
export let tenantTitle = titleCase(hostTenant);

/**
 * Use the portal's own name (null: the workspace's) from now on, and in the
 * names already on the page (`.tenant-cap`). A given name is shown as typed,
 * not capitalized.
 */
export function setBrandName(name) {
  const n = typeof name === 'string' ? name.trim() : '';
  tenant = n || hostTenant;
  tenantTitle = n || titleCase(hostTenant);
  document.documentElement.classList.toggle('has-brand-name', !!n);
  document.querySelectorAll('.tenant-cap').forEach((el) => { el.textContent = tenant; });
}

export function page(...children) {
  return h('div', { class: 'portal-page' }, ...children);
}

export function notice(kind, iconName, title, text, testid) {
  return h('div', { class: ['portal-notice', `portal-notice-${kind}`], role: kind === 'error' ? 'alert' : 'status', dataset: { testid } },
    icon(iconName, { size: 18 }),
    h('div', null, title ? h('strong', { class: 'portal-notice-title' }, title) : null, text ? h('p', null, text) : null));
}

export function errorPanel(err, retry) {
  return h('div', { class: 'portal-notice portal-notice-error', role: 'alert', dataset: { testid: 'portal-error' } },
    icon('alert', { size: 18 }),
    h('div', null,
      h('strong', { class: 'portal-notice-title' }, err?.status === 0 ? 'You seem to be offline' : 'Something went wrong'),
      h('p', null, err?.detail || err?.message || 'Please try again.'),
      err?.requestId ? h('p', { class: 'portal-request-id' }, 'Reference ', h('code', null, err.requestId)) : null,
      retry ? h('button', { type: 'button', class: 'btn btn-sm', onclick: retry }, 'Try again') : null));
}

export function fullDate(iso) {
  return iso ? formatDate(iso) : '';
}

/** A <time> with date and time ("Nov 23, 2026, 6:44 PM"). */
export function when(iso, attrs = {}) {
  if (!iso) return null;
  return h('time', { datetime: iso, ...attrs }, formatDate(iso, { withTime: true }));
}

/**
 * Plain text as paragraphs: a blank line starts a new paragraph, a single
 * line break stays a line break (CSS white-space: pre-line). Never HTML.
 */
export function paragraphs(text, { cls = 'pk-prose', testid } = {}) {
  const parts = String(text ?? '').replace(/\r\n?/g, '\n').split(/\n[ \t]*\n+/).map((p) => p.replace(/^\n+|\n+$/g, '')).filter((p) => p.trim());
  return h('div', { class: cls, dataset: { testid } }, parts.map((p) => h('p', null, p)));
}

/** An empty state: icon, heading, text and an optional action. */
export function emptyState({ iconEl, title, text, action, testid, headingLevel = 'h2' }) {
  return h('div', { class: 'portal-empty', dataset: { testid } },
    h('div', { class: 'portal-empty-icon', 'aria-hidden': 'true' }, iconEl),
    h(headingLevel, { tabindex: headingLevel === 'h1' ? '-1' : null }, title),
    text ? h('p', { class: 'muted' }, text) : null,
    action || null);
}

/** "must be 3 to 200 characters" → "Must be 3 to 200 characters." */
export function sentence(message) {
  const m = String(message || 'is not valid').trim();
  const s = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/**
 * Wires a field's error message: show(message) marks the control invalid
 * and describes it by the message; clear() undoes it.
 */
export function fieldErrorFor(control, { hintId } = {}) {
  const id = `${control.id}-error`;
  const el = h('p', { class: 'field-error', id, hidden: true, dataset: { testid: `${control.dataset.testid || control.id}-error` } });
  const describedBy = () => [hintId, el.hidden ? null : id].filter(Boolean).join(' ');
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return {
    el,
    show(message) {
      el.hidden = false;
      el.replaceChildren(icon('alert', { size: 14 }), h('span', null, message));
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', describedBy());
    },
    clear() {
      if (el.hidden) return;
      el.hidden = true;
      el.replaceChildren();
      control.removeAttribute('aria-invalid');
      const d = describedBy();
      if (d) control.setAttribute('aria-describedby', d); else control.removeAttribute('aria-describedby');
    },
  };
}

// ---------------------------------------------------------------------------
// Complaint status in plain words (icon and word, never colour alone)

const STATUS_WORDS = {
  new: "We're on it",
  open: "We're on it",
  waiting: 'Waiting for your reply',
  resolved: 'Resolved',
  closed: 'Closed',
  reopened: 'Reopened',
};
const STATUS_ICONS = { new: 'clock', open: 'clock', waiting: 'mail', resolved: 'check', closed: 'lock', reopened: 'history' };

export function complaintStatusText(status) {
  return STATUS_WORDS[status] || String(status || 'Unknown').replace(/[-_]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

export function complaintStatusBadge(status, { testid = 'complaint-status' } = {}) {
  const s = STATUS_WORDS[status] ? status : 'unknown';
  return h('span', { class: ['order-status', 'pc-status', `pc-status-${s}`], dataset: { testid, status: status || 'unknown' } },
    icon(STATUS_ICONS[s] || 'clock', { size: 13 }), complaintStatusText(status));
}

/** "Complaint #1001" */
export function complaintTitle(t) {
  return t?.number ? `Complaint #${t.number}` : 'Complaint';
}
