// Settings › Audit log: every recorded change (who, what, when, before and
// after), newest first, filtered by actor, entity and date range. Read-only:
// the log is append-only and nothing here edits or deletes it.

import * as api from './api.js';
import { h, mount, icon, toastError, debounce } from './ui.js';
import { emptyState } from './contacts.js';
import { updateUrl } from './router.js';
import { forbiddenState, sectionHeader, inlineError, badge, dataTable } from './settings-kit.js';
import { loadUserDirectory, actorEl, upgradeActors } from './apikeys.js';

const PAGE_SIZE = 50;

const ENTITIES = [
  { value: '', label: 'All entities' },
  { value: 'contact', label: 'Contacts' },
  { value: 'user', label: 'Users' },
  { value: 'api_key', label: 'API keys' },
];

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function validDate(v) {
  if (!v || !DATE_RE.test(v)) return '';
  const d = new Date(`${v}T00:00:00`);
  return Number.isNaN(d.getTime()) ? '' : v;
}

/** A date field (YYYY-MM-DD, the user's day) → RFC 3339 start or end of that day. */
function dayStart(v) { return v ? new Date(`${v}T00:00:00`).toISOString() : undefined; }
function dayEnd(v) { return v ? new Date(`${v}T23:59:59.999`).toISOString() : undefined; }

function todayLocal() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function filtersFrom(query) {
  const entity = query.get('entity') || '';
  return {
    actor: (query.get('actor') || '').trim(),
    entity: ENTITIES.some((e) => e.value === entity) ? entity : '',
    since: validDate(query.get('since')),
    until: validDate(query.get('until')),
  };
}

function hasFilters(f) { return Boolean(f.actor || f.entity || f.since || f.until); }

// ---------------------------------------------------------------------------
// Before/after diff

/** JSON with sorted object keys, so equal values compare equal. */
function canonical(v) {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

/** [{key, before, after, hadBefore, hasAfter}] for each key whose value differs. */
export function changedFields(before, after) {
  const b = isObject(before) ? before : {};
  const a = isObject(after) ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return keys
    .filter((k) => canonical(b[k]) !== canonical(a[k]))
    .map((k) => ({ key: k, before: b[k], after: a[k], hadBefore: k in b, hasAfter: k in a }));
}

function valueEl(v, present) {
  if (!present) return h('span', { class: 'muted' }, '(not set)');
  if (v === null) return h('span', { class: 'muted' }, 'null');
  if (v === '') return h('span', { class: 'muted' }, '(empty)');
  if (typeof v === 'string') return h('span', { class: 'diff-text' }, v);
  if (typeof v !== 'object') return h('code', { class: 'diff-json' }, String(v));
  const compact = JSON.stringify(v);
  return h('code', { class: 'diff-json' }, compact.length <= 80 ? compact : JSON.stringify(v, null, 2));
}

function diffEl(ev) {
  const changes = changedFields(ev.before, ev.after);
  let content;
  if (!changes.length) {
    content = h('p', { class: 'muted' }, ev.before == null && ev.after == null
      ? 'This event records no field values.'
      : 'No field changed.');
  } else {
    content = h('table', { class: 'diff-table' },
      h('caption', { class: 'visually-hidden' }, 'Changed fields'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', class: 'dcol-key' }, 'Field'),
        h('th', { scope: 'col', class: 'dcol-old' }, 'Before'),
        h('th', { scope: 'col', class: 'dcol-new' }, 'After'))),
      h('tbody', null, changes.map((c) => h('tr', { dataset: { testid: 'audit-diff-row', key: c.key } },
        h('th', { scope: 'row', class: 'dcol-key' }, h('code', null, c.key)),
        h('td', { class: ['dcol-old', c.hadBefore && 'is-old'], 'data-label': 'Before' }, valueEl(c.before, c.hadBefore)),
        h('td', { class: ['dcol-new', c.hasAfter && 'is-new'], 'data-label': 'After' }, valueEl(c.after, c.hasAfter))))));
  }
  return h('div', { class: 'audit-diff', dataset: { testid: 'audit-diff' } }, content);
}

function actionKind(action) {
  const a = String(action || '').toLowerCase();
  if (/(^|_)(created|invited|accepted|restored)$/.test(a)) return 'success';
  if (/(^|_)(deleted|revoked|deactivated|removed)$/.test(a)) return 'danger';
  return 'accent';
}

function actionLabel(action) {
  return String(action || 'unknown').replace(/[_-]+/g, ' ');
}

// ---------------------------------------------------------------------------
// The section

export function auditSection(root, { query = new URLSearchParams() } = {}) {
  const usersController = new AbortController();
  let loadController = null;
  let users = new Map();
  const filters = filtersFrom(query);
  const state = { count: 0, cursor: null, keys: new Set() };

  // Filters ------------------------------------------------------------------
  const actorList = h('datalist', { id: 'audit-actor-options' });
  const actor = h('input', {
    id: 'audit-actor', type: 'search', value: filters.actor, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
    placeholder: 'user:… or apikey:…', list: 'audit-actor-options', enterkeyhint: 'search', dataset: { testid: 'audit-actor' },
  });
  const entity = h('select', { id: 'audit-entity', dataset: { testid: 'audit-entity' } },
    ENTITIES.map((e) => h('option', { value: e.value, selected: e.value === filters.entity ? true : null }, e.label)));
  const today = todayLocal();
  const since = h('input', { id: 'audit-since', type: 'date', value: filters.since, max: filters.until || today, dataset: { testid: 'audit-since' } });
  const until = h('input', { id: 'audit-until', type: 'date', value: filters.until, min: filters.since || null, max: today, dataset: { testid: 'audit-until' } });
  const clear = h('button', {
    type: 'button', class: 'btn btn-sm', hidden: !hasFilters(filters), dataset: { testid: 'audit-clear' },
    onclick: () => clearFilters(),
  }, icon('x', { size: 14 }), h('span', null, 'Clear filters'));

  const filterBar = h('form', {
    class: 'filter-bar', role: 'search', 'aria-label': 'Filter the audit log', dataset: { testid: 'audit-filters' },
    onsubmit: (e) => { e.preventDefault(); applyActor.flush(); },
  },
  h('div', { class: 'filter filter-actor' }, h('label', { for: 'audit-actor' }, 'Actor'), actor, actorList),
  h('div', { class: 'filter filter-entity' }, h('label', { for: 'audit-entity' }, 'Entity'), entity),
  h('div', { class: 'filter filter-date' }, h('label', { for: 'audit-since' }, 'From'), since),
  h('div', { class: 'filter filter-date' }, h('label', { for: 'audit-until' }, 'To'), until),
  h('div', { class: 'filter filter-clear' }, clear));

  // Table ----------------------------------------------------------------------
  const status = h('span', null, 'Loading events…');
  const refresh = h('button', { type: 'button', class: 'btn', dataset: { testid: 'audit-refresh' }, onclick: () => load({ reset: true }) }, 'Refresh');
  const { table, tbody, tableWrap } = dataTable({
    className: 'audit-table', testid: 'audit-table', caption: 'Audit log: changes in this workspace, newest first', busy: true,
    columns: [
      ['acol-toggle', 'Show changes', true], ['acol-time', 'Time'], ['acol-actor', 'Actor'],
      ['acol-action', 'Action'], ['acol-entity', 'Entity'], ['acol-component', 'Component'],
    ],
  });
  const empty = h('div', { hidden: true });
  const errorSlot = h('div');
  const loadMore = h('button', { type: 'button', class: 'btn', hidden: true, dataset: { testid: 'load-more' }, onclick: () => load() }, 'Load more');

  mount(root,
    sectionHeader('settings-audit-title', 'Audit log', status, refresh),
    h('p', { class: 'section-lead muted' },
      'Who changed what, and when: contacts, users and API keys, newest first. The log is append-only; nobody can edit or delete its entries.'),
    filterBar,
    errorSlot,
    tableWrap,
    empty,
    h('div', { class: 'list-footer' }, loadMore));

  // Filter changes -------------------------------------------------------------
  function syncUrl() {
    const q = new URLSearchParams();
    for (const k of ['actor', 'entity', 'since', 'until']) if (filters[k]) q.set(k, filters[k]);
    const qs = q.toString();
    updateUrl(`${location.pathname}${qs ? `?${qs}` : ''}`);
  }

  function changed() {
    clear.hidden = !hasFilters(filters);
    since.max = filters.until || today;
    until.min = filters.since || '';
    syncUrl();
    load({ reset: true });
  }

  const applyActor = debounce(() => {
    const v = actor.value.trim();
    if (v === filters.actor) return;
    filters.actor = v;
    changed();
  }, 350);
  actor.addEventListener('input', () => applyActor());
  actor.addEventListener('change', () => applyActor.flush());
  actor.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && actor.value) { e.preventDefault(); e.stopPropagation(); actor.value = ''; applyActor.flush(); }
  });
  entity.addEventListener('change', () => { filters.entity = entity.value; changed(); });
  since.addEventListener('change', () => {
    const v = validDate(since.value);
    if (v === filters.since) return;
    filters.since = v;
    changed();
  });
  until.addEventListener('change', () => {
    const v = validDate(until.value);
    if (v === filters.until) return;
    filters.until = v;
    changed();
  });

  function clearFilters() {
    applyActor.cancel();
    Object.assign(filters, { actor: '', entity: '', since: '', until: '' });
    actor.value = '';
    entity.value = '';
    since.value = '';
    until.value = '';
    changed();
    actor.focus();
  }

  // Rows -----------------------------------------------------------------------
  tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr.audit-row');
    if (!tr || e.target.closest('a, button')) return;
    if (window.getSelection()?.toString()) return;
    tr.querySelector('.expand-button')?.click();
  });

  function rows(ev) {
    const key = `${ev.component || ''}-${ev.seq ?? ''}`;
    const detailId = `audit-ev-${key.replace(/[^\w-]/g, '_')}`;
    const what = `${actionLabel(ev.action)} ${ev.entity || ''} ${ev.entity_id || ''}`.trim();
    const toggle = h('button', {
      type: 'button', class: 'icon-button expand-button', 'aria-expanded': 'false', 'aria-controls': detailId,
      'aria-label': `Show changes: ${what}`, dataset: { testid: 'audit-toggle' },
    }, icon('chevronRight', { size: 16 }));
    const detailCell = h('td', { colspan: 6, class: 'detail-cell' });
    const detail = h('tr', { class: 'audit-detail', id: detailId, hidden: true }, detailCell);
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      if (open && !detailCell.firstChild) {
        mount(detailCell, h('div', { class: 'audit-detail-box' },
          diffEl(ev),
          h('dl', { class: 'audit-meta' },
            h('div', null, h('dt', null, 'Time'), h('dd', null, h('code', null, ev.at || '—'))),
            h('div', null, h('dt', null, 'Actor'), h('dd', null, h('code', null, ev.actor || '—'))),
            h('div', null, h('dt', null, 'Request'), h('dd', null, ev.request_id ? h('code', { dataset: { testid: 'audit-request-id' } }, ev.request_id) : h('span', { class: 'muted' }, '—'))),
            h('div', null, h('dt', null, 'Sequence'), h('dd', null, h('code', null, `${ev.component || '?'} #${ev.seq ?? '?'}`))))));
      }
      toggle.setAttribute('aria-expanded', String(open));
      toggle.setAttribute('aria-label', `${open ? 'Hide' : 'Show'} changes: ${what}`);
      detail.hidden = !open;
      tr.classList.toggle('is-open', open);
    });

    const entityId = ev.entity_id ? String(ev.entity_id) : '';
    const idEl = entityId
      ? (ev.entity === 'contact'
        ? h('a', { class: 'entity-id', href: `/contacts/${encodeURIComponent(entityId)}`, title: `Open contact ${entityId}` }, entityId)
        : h('code', { class: 'entity-id', title: entityId }, entityId))
      : null;
    const tr = h('tr', {
      class: 'audit-row',
      dataset: { testid: 'audit-row', component: ev.component, seq: ev.seq, entity: ev.entity, action: ev.action },
    },
    h('td', { class: 'acol-toggle' }, toggle),
    h('td', { class: 'acol-time' },
      ev.at ? h('time', { datetime: ev.at, title: ev.at }, new Date(ev.at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })) : '—',
      h('div', { class: 'cell-sub' }, actorEl(ev.actor, users))),
    h('td', { class: 'acol-actor' }, actorEl(ev.actor, users)),
    h('td', { class: 'acol-action' },
      badge(actionLabel(ev.action), actionKind(ev.action), 'audit-action'),
      h('div', { class: 'cell-sub' }, ev.entity || '', entityId ? ` ${entityId}` : '')),
    h('td', { class: 'acol-entity' },
      h('span', { class: 'entity-cell' }, h('span', { class: 'entity-kind' }, ev.entity || '—'), idEl)),
    h('td', { class: 'acol-component' }, h('span', { class: 'muted' }, ev.component || '—')));
    return [tr, detail];
  }

  // Loading --------------------------------------------------------------------
  async function load({ reset = false } = {}) {
    if (!reset && loadController) return; // "Load more" while a page is on its way
    loadController?.abort();
    const controller = new AbortController();
    loadController = controller;
    errorSlot.replaceChildren();
    loadMore.disabled = true;
    tableWrap.classList.add('is-refreshing');
    table.setAttribute('aria-busy', 'true');
    if (reset) status.textContent = 'Loading events…';
    try {
      const p = await api.listAudit({
        actor: filters.actor || undefined,
        entity: filters.entity || undefined,
        since: dayStart(filters.since),
        until: dayEnd(filters.until),
        limit: PAGE_SIZE,
        cursor: reset ? undefined : state.cursor || undefined,
        signal: controller.signal,
      });
      if (reset) { tbody.replaceChildren(); state.keys.clear(); state.count = 0; }
      const fresh = p.items.filter((ev) => {
        if (!ev || typeof ev !== 'object') return false;
        const k = `${ev.component}|${ev.seq}|${ev.at}`;
        if (state.keys.has(k)) return false;
        state.keys.add(k);
        return true;
      });
      tbody.append(...fresh.flatMap(rows));
      state.count += fresh.length;
      state.cursor = p.next_cursor || null;
      const n = state.count;
      status.textContent = `${n}${state.cursor ? '+' : ''} ${n === 1 ? 'event' : 'events'}${hasFilters(filters) ? ' matching the filters' : ''}`;
      tableWrap.hidden = n === 0;
      empty.hidden = n !== 0;
      if (n === 0) {
        mount(empty, hasFilters(filters)
          ? emptyState({
            testid: 'empty-state', iconName: 'search', title: 'No events match these filters',
            text: 'Try another actor, entity or date range.',
            actions: [h('button', { type: 'button', class: 'btn', onclick: () => clearFilters() }, 'Clear filters')],
          })
          : emptyState({
            testid: 'empty-state', iconName: 'history', title: 'No events yet',
            text: 'Changes to contacts, users and API keys are recorded here as they happen.',
          }));
      }
      loadMore.hidden = !state.cursor;
    } catch (err) {
      if (err?.name === 'AbortError') return;
      if (err.status === 403) { mount(root, forbiddenState(err)); return; }
      status.textContent = 'The audit log could not be loaded.';
      errorSlot.replaceChildren(inlineError(err, () => load({ reset: state.count === 0 })));
      if (state.count === 0 || reset) { tbody.replaceChildren(); state.count = 0; state.keys.clear(); state.cursor = null; loadMore.hidden = true; }
      toastError(err, 'Could not load the audit log');
    } finally {
      if (loadController === controller) {
        loadController = null;
        loadMore.disabled = false;
        tableWrap.classList.remove('is-refreshing');
        table.setAttribute('aria-busy', 'false');
      }
    }
  }

  // Names for "user:<id>" actors (and suggestions for the actor filter).
  loadUserDirectory(usersController.signal).then((map) => {
    users = map;
    upgradeActors(tbody, users);
    mount(actorList, [...users.values()].map((u) => h('option', { value: `user:${u.id}` }, u.name || u.email || u.id)));
  }).catch(() => {});

  tbody.replaceChildren(...Array.from({ length: 3 }, () => h('tr', { 'aria-hidden': 'true' },
    h('td', { colspan: 6 }, h('span', { class: 'skeleton skeleton-text', style: { width: '60%' } })))));
  load({ reset: true });

  return {
    destroy() {
      applyActor.cancel();
      usersController.abort();
      loadController?.abort();
    },
  };
}
