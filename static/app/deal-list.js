// The pipeline's list view: the deals of one pipeline matching the board's
// filters (GET /api/v1/deals), with a status switch (open, won, lost, all), a
// sort, "load more" over cursors, and an export of the same view as CSV or
// JSON (/api/v1/deals/export).

import { h, mount, toastError } from './ui.js';
import * as papi from './pipeline-api.js';
import { exportMenu } from './export-menu.js';
import { ownerCell, tagChips, dash, compactTime } from './records.js';
import { moneyEl, closeDateEl, statusBadge, staleBadge, partyLine, priorityBadge } from './deal-display.js';
import { emptyState } from './contacts.js';

const SORTS = [
  ['-created_at', 'Newest first'],
  ['expected_close', 'Expected close'],
  ['-base_value', 'Largest value'],
  ['title', 'Title'],
  ['-updated_at', 'Recently updated'],
];
const STATUSES = [['open', 'Open'], ['won', 'Won'], ['lost', 'Lost'], ['', 'All']];
const nf = new Intl.NumberFormat();

/**
 * dealListPanel({ pipelineId, filters, stages, status, sort, onState })
 * → { el, destroy(), moveSelection(d), openSelection() }
 */
export function dealListPanel({ pipelineId, filters, stages = [], status = 'open', sort = '', onState }) {
  const stageById = new Map(stages.map((s) => [s.id, s]));
  const state = { status, sort: sort || '-created_at', items: [], cursor: null, loading: false, controller: null, selected: -1 };

  const statusSwitch = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Status' },
    STATUSES.map(([v, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === state.status), dataset: { testid: `deal-status-filter-${v || 'all'}` },
      onclick: () => { state.status = v; sync(); load(true); },
    }, label)));
  const sortSelect = h('select', { class: 'select-sm', 'aria-label': 'Sort', dataset: { testid: 'deal-sort' } },
    SORTS.map(([v, label]) => h('option', { value: v }, label)));
  sortSelect.addEventListener('change', () => { state.sort = sortSelect.value; sync(); load(true); });
  const exporter = exportMenu({
    entity: 'deal', plural: 'deals', singular: 'deal',
    params: () => ({ ...query(), cursor: undefined, limit: undefined }),
    describe: () => `The ${state.status || 'open, won and lost'} deals of this pipeline matching the filters, in the list’s order.`,
  });
  const count = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table deal-table', dataset: { testid: 'deal-table' } },
    h('caption', { class: 'visually-hidden' }, 'Deals'),
    h('colgroup', null,
      h('col', { class: 'dcol-title' }), h('col', { class: 'dcol-stage' }), h('col', { class: 'dcol-value' }),
      h('col', { class: 'dcol-owner' }), h('col', { class: 'dcol-close' }), h('col', { class: 'dcol-status' }), h('col', { class: 'dcol-updated' })),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'dcol-title' }, 'Deal'),
      h('th', { scope: 'col', class: 'dcol-stage' }, 'Stage'),
      h('th', { scope: 'col', class: 'dcol-value align-end' }, 'Value'),
      h('th', { scope: 'col', class: 'dcol-owner' }, 'Owner'),
      h('th', { scope: 'col', class: 'dcol-close' }, 'Expected close'),
      h('th', { scope: 'col', class: 'dcol-status' }, 'Status'),
      h('th', { scope: 'col', class: 'dcol-updated' }, 'Updated'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });
  const more = h('button', { type: 'button', class: 'btn', hidden: true, dataset: { testid: 'load-more' }, onclick: () => load(false) }, 'Load more deals');
  const el = h('div', { class: 'deal-list', dataset: { testid: 'deal-list' } },
    h('div', { class: 'dl-toolbar' }, statusSwitch, h('label', { class: 'dl-sort' }, h('span', { class: 'muted' }, 'Sort'), sortSelect), count, h('div', { class: 'dl-export' }, exporter.wrap)),
    wrap, empty, h('div', { class: 'list-footer' }, more));

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    tr.querySelector('a.row-link')?.click();
  });

  function sync() {
    statusSwitch.querySelectorAll('button').forEach((b, i) => b.setAttribute('aria-pressed', String(STATUSES[i][0] === state.status)));
    sortSelect.value = state.sort;
    onState?.({ status: state.status, sort: state.sort });
  }

  function query() {
    return { ...papi.filterQuery(filters), pipeline_id: pipelineId, status: state.status || undefined, sort: state.sort || undefined };
  }

  function row(d) {
    const stage = stageById.get(d.stage_id);
    return h('tr', { dataset: { testid: 'deal-row', id: d.id, dealId: d.id } },
      h('td', { class: 'dcol-title' },
        h('div', { class: 'dl-title' },
          h('a', { class: 'row-link', href: `/deals/${encodeURIComponent(d.id)}` }, d.title || 'Untitled deal'),
          staleBadge(d, stage), priorityBadge(d.priority)),
        h('div', { class: 'cell-sub cell-sub-always' }, partyLine(d) || (d.tags?.length ? tagChips(d.tags, { max: 2 }) : null))),
      h('td', { class: 'dcol-stage' }, stage ? h('span', { class: 'truncate' }, stage.name) : dash()),
      h('td', { class: 'dcol-value align-end' }, moneyEl(d.value, d.currency)),
      h('td', { class: 'dcol-owner' }, ownerCell(d.owner_id)),
      h('td', { class: 'dcol-close' }, closeDateEl(d, { withIcon: false }) || dash()),
      h('td', { class: 'dcol-status' }, statusBadge(d.status)),
      h('td', { class: 'dcol-updated' }, d.updated_at ? compactTime(d.updated_at) : dash()));
  }

  function skeleton() {
    mount(tbody, Array.from({ length: 8 }, (_, i) => h('tr', { 'aria-hidden': 'true' },
      Array.from({ length: 7 }, (_, j) => h('td', null, h('span', { class: 'skeleton skeleton-text', style: { width: `${35 + ((i * 29 + j * 13) % 50)}%` } }))))));
  }

  async function load(reset) {
    state.controller?.abort();
    const c = new AbortController();
    state.controller = c;
    state.loading = true;
    more.disabled = true;
    if (reset) { state.items = []; state.cursor = null; state.selected = -1; skeleton(); wrap.hidden = false; empty.hidden = true; }
    table.setAttribute('aria-busy', 'true');
    try {
      const p = await papi.listDeals({ ...query(), limit: 50, cursor: reset ? undefined : state.cursor }, { signal: c.signal });
      if (reset) tbody.replaceChildren();
      state.items.push(...p.items);
      tbody.append(...p.items.map(row));
      state.cursor = p.next_cursor;
      const n = state.items.length;
      count.textContent = `${nf.format(n)}${state.cursor ? '+' : ''} ${n === 1 ? 'deal' : 'deals'}`;
      wrap.hidden = n === 0;
      empty.hidden = n !== 0;
      if (!n) {
        mount(empty, emptyState({
          testid: 'empty-state', iconName: 'pipeline', title: 'No deals match',
          text: state.status === 'open' ? 'No open deals in this pipeline match the filters.' : 'No deals match these filters and this status.',
        }));
      }
      more.hidden = !state.cursor;
    } catch (err) {
      if (err?.name === 'AbortError') return;
      if (reset) tbody.replaceChildren();
      toastError(err, 'Could not load the deals');
    } finally {
      if (state.controller === c) {
        state.loading = false;
        more.disabled = false;
        table.setAttribute('aria-busy', 'false');
      }
    }
  }

  function select(i) {
    const rows = [...tbody.querySelectorAll('tr[data-id]')];
    if (!rows.length) return;
    state.selected = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, j) => r.classList.toggle('is-selected', j === state.selected));
    rows[state.selected].querySelector('a.row-link')?.focus();
  }

  sync();
  load(true);
  return {
    el,
    moveSelection: (d) => select(state.selected + d),
    openSelection: () => { const a = tbody.querySelectorAll('tr[data-id]')[state.selected]?.querySelector('a.row-link'); if (a) { a.click(); return true; } return false; },
    destroy() { state.controller?.abort(); exporter.close(); },
  };
}
