// The rule page's Runs tab: the run log, newest first (the newest 200). Each
// run shows when it came, its outcome (done, skipped with why, failed after
// retries, pending), the record it acted on (named and linked to its page)
// and each action's result. Counts per outcome on top; while some runs are
// still pending the log refreshes itself.

import { h, mount, icon, toastError, formatDate } from './ui.js';
import { request } from './api.js';
import * as fapi from './automations-api.js';
import {
  runStatusBadge, recordPageHref, recordApiPath, recordTitle, entityLabel, actionLabel, actionIcon, ago, resultDetail, nf,
} from './rule-display.js';

const STATUSES = [['done', 'Done'], ['skipped', 'Skipped'], ['failed', 'Failed'], ['pending', 'Pending']];
const POLL_MS = 4000;

/** runsPanel({ rule }) → { el, load(), destroy(), onCount(fn) } */
export function runsPanel({ rule }) {
  const controller = new AbortController();
  const state = { items: [], destroyed: false, loading: false, names: new Map(), timer: null, countFns: [] };

  const counts = h('div', { class: 'card fm-counts ru-counts', dataset: { testid: 'rule-run-counts' } });
  const refresh = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'rule-runs-refresh' }, onclick: () => load() },
    icon('history', { size: 14 }), h('span', null, 'Refresh'));
  const note = h('p', { class: 'muted ru-runs-note', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table ru-runs-table' },
    h('caption', { class: 'visually-hidden' }, `Runs of ${rule.name}`),
    h('colgroup', null, ['rrcol-when', 'rrcol-record', 'rrcol-status', 'rrcol-results'].map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'rrcol-when' }, 'When'),
      h('th', { scope: 'col', class: 'rrcol-record' }, 'Record'),
      h('th', { scope: 'col', class: 'rrcol-status' }, 'Outcome'),
      h('th', { scope: 'col', class: 'rrcol-results' }, 'What it did'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });
  const el = h('div', { class: 'ru-runs', dataset: { testid: 'rule-runs' } },
    counts,
    h('div', { class: 'ol-toolbar ru-runs-toolbar' }, note, refresh),
    wrap, empty);

  function renderCounts() {
    const by = Object.fromEntries(STATUSES.map(([k]) => [k, 0]));
    state.items.forEach((r) => { by[r.status] = (by[r.status] || 0) + 1; });
    mount(counts, STATUSES.filter(([k]) => k !== 'pending' || by.pending).map(([k, label]) => h('span', { class: 'fm-count', dataset: { testid: `rule-runs-${k}` } },
      h('span', { class: ['fm-count-dot', `ru-dot-${k}`], 'aria-hidden': 'true' }),
      h('span', { class: 'fm-count-num num' }, nf.format(by[k] || 0)), label)),
    h('span', { class: 'muted fm-count-note' }, state.items.length >= 200 ? 'The newest 200 runs.' : 'A run is one trigger event for one record; a rule never runs twice for an event.'));
    state.countFns.forEach((fn) => fn(state.items.length));
  }

  function recordCell(r) {
    const href = recordPageHref(r.entity, r.entity_id);
    const name = state.names.get(`${r.entity}:${r.entity_id}`);
    const label = name || `${entityLabel(r.entity)} …${String(r.entity_id || '').slice(-6)}`;
    return h('div', { class: 'ru-record' },
      href ? h('a', { href, class: 'ru-record-link truncate', dataset: { testid: 'run-record' } }, label) : h('span', { class: 'truncate' }, label),
      h('div', { class: 'cell-sub ru-record-kind' }, entityLabel(r.entity)),
      h('div', { class: 'ru-phone-status' }, runStatusBadge(r.status, 'run-status-phone'), ' ',
        r.created_at ? h('time', { class: 'muted', datetime: r.created_at }, ago(r.created_at)) : null));
  }

  function results(r) {
    const list = Array.isArray(r.results) ? r.results : [];
    const out = [];
    if (list.length) {
      out.push(h('ul', { class: 'ru-results' }, list.map((x) => h('li', { class: ['ru-result', x.ok ? 'is-ok' : 'is-bad'], dataset: { testid: 'run-result', kind: x.kind, ok: String(!!x.ok) } },
        h('span', { class: 'ru-result-mark', 'aria-label': x.ok ? 'Done' : 'Not done' }, icon(x.ok ? 'check' : 'x', { size: 12 })),
        h('span', { class: 'ru-result-kind' }, actionIcon(x.kind, 12), actionLabel(x.kind).replace(/ \(a template\)$/, '')),
        resultDetail(x.kind, x.detail) ? h('span', { class: 'muted ru-result-detail', title: String(x.detail) }, ` · ${resultDetail(x.kind, x.detail)}`) : null))));
    }
    if (r.error) out.push(h('p', { class: ['ru-run-error', r.status === 'failed' ? 'is-bad' : 'muted'], dataset: { testid: 'run-error' } }, r.status === 'skipped' ? `Skipped: ${r.error}` : r.error));
    if (!out.length) out.push(h('span', { class: 'muted' }, r.status === 'pending' ? 'Waiting for the next tick…' : '—'));
    if (r.attempts > 1) out.push(h('p', { class: 'muted ru-attempts' }, `${r.attempts} attempts`));
    return out;
  }

  function row(r) {
    return h('tr', { dataset: { testid: 'run-row', id: r.id, status: r.status, entityId: r.entity_id || '' } },
      h('td', { class: 'rrcol-when' }, r.created_at
        ? h('time', { datetime: r.created_at, title: formatDate(r.created_at, { withTime: true }) }, ago(r.created_at))
        : '—'),
      h('td', { class: 'rrcol-record' }, recordCell(r)),
      h('td', { class: 'rrcol-status' }, runStatusBadge(r.status)),
      h('td', { class: 'rrcol-results' }, results(r)));
  }

  function render() {
    renderCounts();
    mount(tbody, state.items.map(row));
    wrap.hidden = !state.items.length;
    empty.hidden = !!state.items.length;
    if (!state.items.length) {
      mount(empty, h('div', { class: 'empty-state fm-subs-empty', dataset: { testid: 'rule-runs-empty' } },
        h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('history', { size: 26 })),
        h('p', { class: 'empty-title' }, 'No runs yet'),
        h('p', { class: 'empty-text' }, rule.enabled
          ? 'The rule acts on what happens from its creation on. Runs show up here within a minute of their event.'
          : 'The rule is off: switch it on to have it act on what happens from then on.')));
    }
  }

  /** Names of the records in the log (a few at a time, each once). */
  async function loadNames(signal) {
    const todo = [...new Map(state.items.map((r) => [`${r.entity}:${r.entity_id}`, r])).values()]
      .filter((r) => !state.names.has(`${r.entity}:${r.entity_id}`) && recordApiPath(r.entity, r.entity_id)).slice(0, 60);
    const next = async () => {
      const r = todo.shift();
      if (!r) return;
      const key = `${r.entity}:${r.entity_id}`;
      try {
        const { data } = await request('GET', recordApiPath(r.entity, r.entity_id), { signal });
        if (state.destroyed || signal.aborted) return;
        state.names.set(key, recordTitle(r.entity, data) || null);
      } catch (err) {
        if (err?.name === 'AbortError') return;
        state.names.set(key, err?.status === 404 ? `${entityLabel(r.entity)} (deleted)` : null);
      }
      tbody.querySelectorAll(`tr[data-entity-id="${CSS.escape(r.entity_id)}"] td.rrcol-record`).forEach((td) => {
        const run = state.items.find((x) => x.entity_id === r.entity_id && x.entity === r.entity);
        if (run) mount(td, recordCell(run));
      });
      await next();
    };
    await Promise.all([next(), next(), next()]);
  }

  async function load() {
    if (state.loading || state.destroyed) return;
    state.loading = true;
    clearTimeout(state.timer);
    el.setAttribute('aria-busy', 'true');
    refresh.disabled = true;
    if (!state.items.length) {
      mount(tbody, Array.from({ length: 3 }, () => h('tr', { 'aria-hidden': 'true' },
        [40, 55, 30, 70].map((w) => h('td', null, h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%` } }))))));
    }
    try {
      const items = await fapi.ruleRuns(rule.id, { signal: controller.signal });
      if (state.destroyed) return;
      state.items = items;
      render();
      note.textContent = `Updated ${new Intl.DateTimeFormat(undefined, { timeStyle: 'short' }).format(new Date())}.`;
      loadNames(controller.signal);
      if (items.some((r) => r.status === 'pending')) state.timer = setTimeout(() => load(), POLL_MS);
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      wrap.hidden = true;
      empty.hidden = false;
      mount(empty, h('div', { class: 'inline-error', role: 'alert' }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not load the runs'), ' ', err.detail || err.message),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => load() }, 'Retry')));
      if (!err.handled && err.status !== 403) toastError(err, 'Could not load the runs');
    } finally {
      state.loading = false;
      if (!state.destroyed) {
        el.setAttribute('aria-busy', 'false');
        refresh.disabled = false;
      }
    }
  }

  return {
    el,
    load,
    onCount(fn) { state.countFns.push(fn); },
    destroy() {
      state.destroyed = true;
      clearTimeout(state.timer);
      controller.abort();
    },
  };
}
