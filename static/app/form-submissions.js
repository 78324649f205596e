// The form page's Submissions tab: accepted against spam (with the reason:
// the hidden honeypot field filled in, or too many from one address), then
// the newest 200 in a table — when, who, the outcome, the owner they went
// to, the contact they became, and where they came from (UTM source and
// campaign, else the page). A row opens every answer, the consent wording
// agreed to and the context.

import { h, mount, icon, toastError, formatDate, openModal } from './ui.js';
import * as fapi from './automations-api.js';
import * as session from './session.js';
import { relative } from './campaign-display.js';
import { nf } from './form-display.js';

let uid = 0;

const REASONS = { honeypot: 'Bot trap filled in', 'rate-limit': 'Too many from one address' };
const CONTEXT = ['page', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];
const FILTERS = [['', 'All'], ['accepted', 'Accepted'], ['spam', 'Spam']];

function values(s) {
  const d = s.data && typeof s.data === 'object' ? s.data : {};
  // Spam keeps what was posted as it came; accepted ones keep the checked values.
  return d.values && typeof d.values === 'object' ? d.values : d;
}

function personName(v) {
  return [v.first_name, v.last_name].map((x) => (typeof x === 'string' ? x.trim() : '')).filter(Boolean).join(' ');
}

function source(s) {
  const c = s.context && typeof s.context === 'object' ? s.context : {};
  const utm = [c.utm_source, c.utm_campaign].filter(Boolean).join(' · ');
  if (utm) return { text: utm, title: Object.entries(c).filter(([k]) => k.startsWith('utm_')).map(([k, v]) => `${k}: ${v}`).join('\n') };
  for (const k of ['page', 'referrer']) {
    if (!c[k]) continue;
    try { return { text: new URL(c[k]).host + new URL(c[k]).pathname.replace(/\/$/, ''), title: `${k}: ${c[k]}`, muted: true }; } catch { /* not a URL */ }
  }
  return null;
}

function statusBadge(s) {
  if (s.status === 'spam') {
    return h('span', { class: 'cp-status fm-sub-spam', dataset: { testid: 'submission-status', status: 'spam', reason: s.reason || '' }, title: REASONS[s.reason] || '' },
      icon('x', { size: 12 }), 'Spam', s.reason ? h('span', { class: 'fm-reason' }, ` · ${REASONS[s.reason] || s.reason}`) : null);
  }
  if (!s.contact_id) {
    return h('span', { class: 'cp-status fm-sub-stuck', dataset: { testid: 'submission-status', status: 'unprocessed' }, title: 'Accepted, but no contact was made: the contacts service refused it or did not answer.' },
      icon('alert', { size: 12 }), 'Accepted · no contact');
  }
  return h('span', { class: 'cp-status fm-sub-accepted', dataset: { testid: 'submission-status', status: 'accepted' } }, icon('check', { size: 12 }), 'Accepted');
}

/** submissionsPanel({ form, users: Map, fields }) → { el, load(), destroy(), onCount(fn) } */
export function submissionsPanel({ form, users = new Map() }) {
  const p = `fsp${++uid}`;
  const controller = new AbortController();
  const state = { items: [], filter: '', destroyed: false, loading: false };
  const userName = (id) => (id === session.getSession().user?.id ? `${session.userDisplayName(users.get(id) || session.getSession().user)} (you)` : session.userDisplayName(users.get(id)) || `User …${String(id).slice(-5)}`);
  const labelOf = (key) => (form.fields || []).find((f) => f.key === key)?.label || key;

  const accepted = h('strong', { class: 'num fm-count-num', dataset: { testid: 'form-submissions-accepted' } }, '—');
  const spam = h('strong', { class: 'num fm-count-num', dataset: { testid: 'form-submissions-spam' } }, '—');
  const bar = h('span', { class: 'fm-count-bar', 'aria-hidden': 'true' }, h('span', { class: 'fm-count-fill' }));
  const note = h('p', { class: 'muted fm-count-note' });
  const counts = h('section', { class: 'card fm-counts', 'aria-label': 'Accepted and spam', dataset: { testid: 'form-submission-counts' } },
    h('div', { class: 'fm-count' }, h('span', { class: 'fm-count-dot is-accepted', 'aria-hidden': 'true' }), accepted, h('span', null, ' accepted')),
    h('div', { class: 'fm-count' }, h('span', { class: 'fm-count-dot is-spam', 'aria-hidden': 'true' }), spam, h('span', null, ' spam')),
    bar, note);

  const filter = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Show', dataset: { testid: 'form-submissions-filter' } },
    FILTERS.map(([v, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === state.filter), dataset: { value: v, testid: `submissions-filter-${v || 'all'}` },
      onclick: () => { state.filter = v; filter.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.value === v))); render(); },
    }, label)));
  const refresh = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'form-submissions-refresh' }, onclick: () => load() },
    icon('history', { size: 14 }), h('span', null, 'Refresh'));

  const cols = ['fscol-when', 'fscol-who', 'fscol-status', 'fscol-owner', 'fscol-contact', 'fscol-source'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table fm-sub-table', dataset: { testid: 'form-submissions' } },
    h('caption', { class: 'visually-hidden' }, `Submissions of ${form.name}, newest first`),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'fscol-when' }, 'When'),
      h('th', { scope: 'col', class: 'fscol-who' }, 'Name and email'),
      h('th', { scope: 'col', class: 'fscol-status' }, 'Outcome'),
      h('th', { scope: 'col', class: 'fscol-owner' }, 'Owner'),
      h('th', { scope: 'col', class: 'fscol-contact' }, 'Contact'),
      h('th', { scope: 'col', class: 'fscol-source', title: 'UTM source and campaign, else the page' }, 'Source'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });
  const el = h('div', { class: 'fm-subs' },
    counts,
    h('div', { class: 'ol-toolbar fm-subs-toolbar' }, filter, refresh),
    wrap, empty);

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    tr.querySelector('button.fm-sub-open')?.click();
  });

  function row(s) {
    const v = values(s);
    const name = personName(v);
    const email = typeof v.email === 'string' ? v.email : '';
    const src = source(s);
    const when = s.created_at;
    return h('tr', { dataset: { testid: 'submission-row', id: s.id, status: s.status } },
      h('td', { class: 'fscol-when' }, h('time', { datetime: when, title: formatDate(when, { withTime: true }) }, relative(when))),
      h('td', { class: 'fscol-who' },
        h('button', { type: 'button', class: 'link-button fm-sub-open truncate', 'aria-haspopup': 'dialog', dataset: { testid: 'submission-open' }, onclick: () => details(s) },
          name || email || (s.reason === 'rate-limit' ? 'Not kept (too many)' : 'No name')),
        h('div', { class: 'fm-sub-email muted truncate' }, name ? email : ''),
        h('div', { class: 'fm-sub-phone muted truncate' }, [relative(when), s.status === 'spam' ? REASONS[s.reason] : s.owner_id ? userName(s.owner_id) : null].filter(Boolean).join(' · '))),
      h('td', { class: 'fscol-status' }, statusBadge(s)),
      h('td', { class: 'fscol-owner', dataset: { testid: 'submission-owner' } }, s.owner_id ? userName(s.owner_id) : h('span', { class: 'muted' }, s.status === 'spam' ? '—' : 'Nobody')),
      h('td', { class: 'fscol-contact' }, s.contact_id
        ? h('a', { href: `/contacts/${encodeURIComponent(s.contact_id)}`, class: 'fm-contact-link', dataset: { testid: 'submission-contact' } }, icon('users', { size: 13 }), h('span', null, 'Open contact'))
        : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'fscol-source', title: src?.title || null, dataset: { testid: 'submission-source' } },
        src ? h('span', { class: ['truncate', src.muted && 'muted'] }, src.text) : h('span', { class: 'muted' }, 'Direct')));
  }

  function render() {
    const shown = state.items.filter((s) => !state.filter || s.status === state.filter);
    const a = state.items.filter((s) => s.status === 'accepted').length;
    const sp = state.items.length - a;
    accepted.textContent = nf.format(a);
    spam.textContent = nf.format(sp);
    bar.firstChild.style.width = state.items.length ? `${(a / state.items.length) * 100}%` : '0';
    note.textContent = state.items.length >= 200 ? 'Of the newest 200.'
      : !state.items.length ? 'Nothing yet.'
        : sp ? `${Math.round((sp / state.items.length) * 100)}% kept out as spam.` : 'No spam so far.';
    mount(tbody, shown.map(row));
    wrap.hidden = !shown.length;
    empty.hidden = !!shown.length;
    if (shown.length) return;
    mount(empty, h('div', { class: 'empty-state fm-subs-empty', dataset: { testid: 'submissions-empty' } },
      h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('inbox', { size: 28 })),
      h('h2', { class: 'empty-title' }, state.items.length ? `No ${state.filter === 'spam' ? 'spam' : 'accepted submissions'}` : 'No submissions yet'),
      h('p', { class: 'empty-text' }, state.items.length ? 'Show all to see the others.'
        : 'Once the form is on your website (or someone opens its page), what visitors send shows here.')));
  }

  function details(s) {
    const v = values(s);
    const d = s.data && typeof s.data === 'object' ? s.data : {};
    const c = s.context && typeof s.context === 'object' ? s.context : {};
    const row = (label, value) => h('div', null, h('dt', null, label), h('dd', { class: 'pre-wrap' }, value ?? h('span', { class: 'muted' }, '—')));
    const shown = (x) => (x === true ? 'Yes' : x === false ? 'No' : String(x));
    // In the form's order, then anything else that came (spam keeps what was posted).
    const order = (form.fields || []).map((f) => f.key);
    const rank = (k) => (order.includes(k) ? order.indexOf(k) : order.length);
    const answers = Object.entries(v).filter(([k]) => k !== 'website_url' || s.status === 'spam').sort(([a], [b]) => rank(a) - rank(b));
    const where = Object.entries(c).sort(([a], [b]) => CONTEXT.indexOf(a) - CONTEXT.indexOf(b));
    const dialog = h('dialog', { class: 'dialog fm-sub-dialog', 'aria-labelledby': `${p}-d-h`, dataset: { testid: 'submission-details' } },
      h('header', { class: 'dialog-header' },
        h('h2', { id: `${p}-d-h` }, personName(v) || v.email || 'Submission'),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close() }, icon('x'))),
      h('div', { class: 'dialog-body' },
        h('p', { class: 'fm-sub-dialog-status' }, statusBadge(s), ' ', h('span', { class: 'muted' }, formatDate(s.created_at, { withTime: true }))),
        h('h3', { class: 'cp-side-subtitle' }, 'Answers'),
        answers.length ? h('dl', { class: 'cp-dl cp-dl-compact' }, answers.map(([k, x]) => row(labelOf(k), shown(x)))) : h('p', { class: 'muted' }, 'Nothing was kept.'),
        d.consent_wording ? [h('h3', { class: 'cp-side-subtitle' }, 'Consent'),
          h('p', null, d.consent ? 'Given to: ' : 'Not given to: ', h('q', null, d.consent_wording))] : null,
        Object.keys(c).length ? [h('h3', { class: 'cp-side-subtitle' }, 'Where from'),
          h('dl', { class: 'cp-dl cp-dl-compact fm-where' }, where.map(([k, x]) => row(k.startsWith('utm_') ? `UTM ${k.slice(4)}` : k[0].toUpperCase() + k.slice(1), String(x))))] : null),
      h('footer', { class: 'dialog-footer' },
        s.contact_id ? h('a', { class: 'btn btn-primary', href: `/contacts/${encodeURIComponent(s.contact_id)}`, onclick: () => dialog.close() }, 'Open contact') : null,
        h('button', { type: 'button', class: 'btn', autofocus: true, onclick: () => dialog.close() }, 'Close')));
    openModal(dialog);
  }

  let countListener = null;
  async function load() {
    if (state.loading) return;
    state.loading = true;
    refresh.disabled = true;
    if (!state.items.length) {
      wrap.hidden = false;
      empty.hidden = true;
      mount(tbody, Array.from({ length: 3 }, (_, i) => h('tr', { 'aria-hidden': 'true' },
        cols.map((c, j) => h('td', { class: c }, h('span', { class: 'skeleton skeleton-text', style: { width: `${35 + ((i * 29 + j * 13) % 50)}%` } }))))));
    } else wrap.classList.add('is-refreshing');
    table.setAttribute('aria-busy', 'true');
    try {
      const items = await fapi.formSubmissions(form.id, { signal: controller.signal });
      if (state.destroyed) return;
      state.items = items;
      render();
      countListener?.(items.filter((s) => s.status === 'accepted').length);
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      wrap.hidden = true;
      empty.hidden = false;
      mount(empty, h('div', { class: 'form-error', role: 'alert' }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not load the submissions'), ' ', err.detail || err.message)));
      toastError(err, 'Could not load the submissions');
    } finally {
      state.loading = false;
      if (!state.destroyed) {
        refresh.disabled = false;
        wrap.classList.remove('is-refreshing');
        table.setAttribute('aria-busy', 'false');
      }
    }
  }

  return {
    el, load,
    onCount(fn) { countListener = fn; },
    destroy() { state.destroyed = true; controller.abort(); },
  };
}
