// The pipeline board (/pipeline and /pipeline/<id>): a column per stage with
// its count, total and weighted total (base currency, over every matching open
// deal), deal cards with "load more" per column, a filter bar that re-queries
// the board, and a list view of the same deals (deal-list.js).
//
// Cards move by drag and drop (HTML5 drag events) or from the keyboard: with a
// card focused, arrows move the focus, Alt/Shift+arrows move the deal (←/→ to
// the previous/next stage, ↑/↓ within the column), `m` opens "Move to…".
// Every move is optimistic: the card moves at once and POST /deals/{id}/move
// (If-Match) confirms it; on a 412 the card goes back and then to where the
// deal really is, with a toast. Totals are corrected from the server after
// each change.

import { h, mount, icon, toast, toastError, pageTitle, debounce, prefersReducedMotion } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as papi from './pipeline-api.js';
import {
  loadUsers, onUsers, knownUsers, userName, userActive, meId, xicon, parseMoney,
} from './records.js';
import { chartIcon } from './svg-charts.js';
import {
  formatMoney, moneyEl, closeDateEl, staleBadge, priorityBadge, ownerInitials, partyLine,
} from './deal-display.js';
import { markWon, markLost, chooseStage } from './deal-actions.js';
import { openDealForm } from './deal-form.js';
import { dealListPanel } from './deal-list.js';
import { emptyState } from './contacts.js';

const PER_STAGE = 50;
const nf = new Intl.NumberFormat();

/** The pipeline can be changed by every role but marketing, support and read-only. */
export function canEditPipeline() {
  const role = session.getSession().user?.role;
  return ['owner', 'admin', 'manager', 'sales'].includes(role);
}

/** Filters from the URL: owner, close from/to, min/max (major units of the base currency), tag, q, stale. */
function readFilters(query) {
  return {
    owner_id: query.get('owner') || '',
    close_from: query.get('from') || '',
    close_to: query.get('to') || '',
    min: query.get('min') || '',
    max: query.get('max') || '',
    tag: query.get('tag') || '',
    q: query.get('q') || '',
    stale: query.get('stale') === 'true',
  };
}

function filterCount(f) {
  return ['owner_id', 'close_from', 'close_to', 'min', 'max', 'tag', 'q'].filter((k) => f[k]).length + (f.stale ? 1 : 0);
}

export function pipelineBoardView(root, { pipelineId = null, query = new URLSearchParams() } = {}) {
  const state = {
    pipelines: [],
    pipeline: null,
    base: 'EUR',
    filters: readFilters(query),
    mode: query.get('view') === 'list' ? 'list' : 'board',
    listStatus: query.get('status') ?? 'open',
    listSort: query.get('sort') || '',
    columns: [], // [{ stage, deals, next_cursor, count, total, weighted, unconverted, loadingMore }]
    versions: new Map(),
    loading: true,
    destroyed: false,
    controller: null,
    drag: null, // { id, fromStage, height }
    pending: new Map(), // deal id → promise of its last move
    activeId: null, // the one card in the Tab order (roving tabindex)
  };
  let list = null;

  // --- chrome ------------------------------------------------------------------
  const titleEl = h('h1', { class: 'page-title', tabindex: '-1' }, 'Pipeline');
  const sub = h('p', { class: 'page-sub', role: 'status', 'aria-live': 'polite', dataset: { testid: 'board-summary' } }, '\u00a0');
  const picker = h('select', { class: 'select-sm pipeline-picker', 'aria-label': 'Pipeline', dataset: { testid: 'pipeline-picker' }, disabled: true });
  picker.addEventListener('change', () => navigate(urlFor({ pipeline: picker.value })));
  const modeSwitch = h('div', { class: 'segmented', role: 'group', 'aria-label': 'View' },
    h('button', { type: 'button', class: 'segmented-btn', dataset: { testid: 'view-board', mode: 'board' }, onclick: () => setMode('board') }, xicon('columns', { size: 14 }), 'Board'),
    h('button', { type: 'button', class: 'segmented-btn', dataset: { testid: 'view-list', mode: 'list' }, onclick: () => setMode('list') }, icon('menu', { size: 14 }), 'List'));
  const newButton = h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid: 'new-deal' }, 'aria-keyshortcuts': 'n', onclick: () => view.openCreate(),
  }, icon('plus'), h('span', null, 'New deal'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));
  const reportsLink = h('a', { class: 'btn', href: '/pipeline/reports', dataset: { testid: 'reports-link' }, 'aria-label': 'Reports', title: 'Sales reports' }, chartIcon(15), h('span', { class: 'btn-label' }, 'Reports'));
  // On phones the filters fold away behind this button (always shown on wider screens).
  const filterCount_ = h('span', { class: 'badge filter-badge', hidden: true });
  const filterToggle = h('button', {
    type: 'button', class: 'btn filter-toggle', 'aria-expanded': 'false', 'aria-controls': 'board-filters', dataset: { testid: 'filter-toggle' },
    onclick: () => {
      const open = filterToggle.getAttribute('aria-expanded') !== 'true';
      filterToggle.setAttribute('aria-expanded', String(open));
      filterBar.classList.toggle('is-open', open);
      if (open) fOwner.focus();
    },
  }, xicon('filter', { size: 15 }), h('span', null, 'Filters'), filterCount_);

  // --- filters -------------------------------------------------------------------
  const fOwner = h('select', { class: 'select-sm', id: 'bf-owner', dataset: { testid: 'filter-owner' } });
  const fFrom = h('input', { type: 'date', class: 'input-sm', id: 'bf-from', dataset: { testid: 'filter-close-from' } });
  const fTo = h('input', { type: 'date', class: 'input-sm', id: 'bf-to', dataset: { testid: 'filter-close-to' } });
  const fMin = h('input', { type: 'text', inputmode: 'decimal', class: 'input-sm bf-money', id: 'bf-min', placeholder: 'Min', dataset: { testid: 'filter-min-value' } });
  const fMax = h('input', { type: 'text', inputmode: 'decimal', class: 'input-sm bf-money', id: 'bf-max', placeholder: 'Max', dataset: { testid: 'filter-max-value' } });
  const fTag = h('input', { type: 'text', class: 'input-sm', id: 'bf-tag', placeholder: 'Tag', dataset: { testid: 'filter-tag' }, maxlength: 60 });
  const fQ = h('input', { type: 'search', class: 'input-sm', id: 'bf-q', placeholder: 'Title contains…', dataset: { testid: 'filter-q' }, maxlength: 120 });
  const fStale = h('input', { type: 'checkbox', id: 'bf-stale', dataset: { testid: 'filter-stale' } });
  const clearBtn = h('button', { type: 'button', class: 'link-button bf-clear', dataset: { testid: 'filter-clear' }, onclick: () => { state.filters = readFilters(new URLSearchParams()); fillFilters(); applyFilters(); } }, 'Clear filters');
  const currencyLabel = h('span', { class: 'muted bf-cur' });
  const filterBar = h('form', { id: 'board-filters', class: 'board-filters', role: 'search', 'aria-label': 'Filter deals', dataset: { testid: 'board-filters' }, onsubmit: (e) => { e.preventDefault(); applyFilters(); } },
    h('div', { class: 'bf' }, h('label', { for: 'bf-owner' }, 'Owner'), fOwner),
    h('div', { class: 'bf' }, h('label', { for: 'bf-from' }, 'Closes from'), fFrom),
    h('div', { class: 'bf' }, h('label', { for: 'bf-to' }, 'to'), fTo),
    h('div', { class: 'bf bf-range' }, h('label', { for: 'bf-min' }, 'Value ', currencyLabel), h('div', { class: 'bf-pair' }, fMin, h('span', { 'aria-hidden': 'true' }, '–'), h('label', { for: 'bf-max', class: 'visually-hidden' }, 'Maximum value'), fMax)),
    h('div', { class: 'bf' }, h('label', { for: 'bf-tag' }, 'Tag'), fTag),
    h('div', { class: 'bf bf-grow' }, h('label', { for: 'bf-q' }, 'Search'), fQ),
    h('label', { class: 'check-row bf-check', for: 'bf-stale' }, fStale, h('span', null, 'Stale only')),
    h('button', { type: 'submit', class: 'visually-hidden', tabindex: '-1' }, 'Apply filters'),
    clearBtn);
  const applySoon = debounce(() => applyFilters(), 450);
  [fOwner, fFrom, fTo, fStale].forEach((x) => x.addEventListener('change', () => applyFilters()));
  [fMin, fMax, fTag, fQ].forEach((x) => { x.addEventListener('input', applySoon); x.addEventListener('change', () => applySoon.flush()); });

  function fillOwners() {
    const ids = new Set([...knownUsers().keys()].filter((id) => userActive(id)));
    if (meId()) ids.add(meId());
    if (state.filters.owner_id) ids.add(state.filters.owner_id);
    const opts = [...ids].map((id) => [id, id === meId() ? `${userName(id)} (you)` : userName(id)]).sort((a, b) => a[1].localeCompare(b[1]));
    mount(fOwner, h('option', { value: '' }, 'Anyone'), opts.map(([id, label]) => h('option', { value: id, selected: id === state.filters.owner_id ? true : null }, label)));
  }
  function fillFilters() {
    const f = state.filters;
    fillOwners();
    fFrom.value = f.close_from; fTo.value = f.close_to; fMin.value = f.min; fMax.value = f.max;
    fTag.value = f.tag; fQ.value = f.q; fStale.checked = f.stale;
    syncFilterCount();
  }
  function readFilterInputs() {
    return {
      owner_id: fOwner.value, close_from: fFrom.value, close_to: fTo.value, min: fMin.value.trim(), max: fMax.value.trim(),
      tag: fTag.value.trim(), q: fQ.value.trim(), stale: fStale.checked,
    };
  }
  function syncFilterCount() {
    const n = filterCount(state.filters);
    clearBtn.hidden = !n;
    filterCount_.hidden = !n;
    filterCount_.textContent = String(n);
    filterToggle.setAttribute('aria-label', n ? `Filters (${n} active)` : 'Filters');
  }

  /** Filters as the API reads them (values in base-currency minor units). */
  function apiFilters() {
    const f = state.filters;
    const min = f.min ? parseMoney(f.min, state.base) : null;
    const max = f.max ? parseMoney(f.max, state.base) : null;
    return { ...f, min_value: Number.isFinite(min) ? min : undefined, max_value: Number.isFinite(max) ? max : undefined };
  }
  function applyFilters() {
    applySoon.cancel();
    const next = readFilterInputs();
    for (const [el, v] of [[fMin, next.min], [fMax, next.max]]) {
      const bad = v && !Number.isFinite(parseMoney(v, state.base));
      el.setAttribute('aria-invalid', String(!!bad));
      el.title = bad ? 'Enter an amount, e.g. 10000' : '';
    }
    if (JSON.stringify(next) === JSON.stringify(state.filters)) return;
    state.filters = next;
    syncFilterCount();
    updateUrl(urlFor());
    reload();
  }

  // --- layout --------------------------------------------------------------------
  const announcer = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'assertive', dataset: { testid: 'board-announcer' } });
  const help = h('p', { id: 'board-help', class: 'visually-hidden' },
    'Deal card. Enter opens the deal. Arrow keys move between cards. Alt or Shift with left and right arrows moves the deal to the previous or next stage, with up and down arrows within the stage. M opens Move to.');
  const boardEl = h('div', { class: 'board', dataset: { testid: 'board' }, 'aria-label': 'Stages', role: 'group' });
  const emptyNote = h('div', { class: 'board-empty-note', hidden: true });
  const errorSlot = h('div');
  const listSlot = h('div', { class: 'list-slot', hidden: true });

  mount(root,
    h('div', { class: 'page-header board-header' },
      h('div', { class: 'page-heading' }, titleEl, sub),
      h('div', { class: 'page-actions board-actions' }, picker, modeSwitch, reportsLink, filterToggle, newButton)),
    filterBar,
    errorSlot,
    emptyNote,
    boardEl,
    listSlot,
    help,
    announcer);

  function announce(text) {
    announcer.textContent = '';
    setTimeout(() => { announcer.textContent = text; }, 30);
  }

  function urlFor({ pipeline = state.pipeline?.id } = {}) {
    const f = state.filters;
    const p = new URLSearchParams();
    if (f.owner_id) p.set('owner', f.owner_id);
    if (f.close_from) p.set('from', f.close_from);
    if (f.close_to) p.set('to', f.close_to);
    if (f.min) p.set('min', f.min);
    if (f.max) p.set('max', f.max);
    if (f.tag) p.set('tag', f.tag);
    if (f.q) p.set('q', f.q);
    if (f.stale) p.set('stale', 'true');
    if (state.mode === 'list') {
      p.set('view', 'list');
      if (state.listStatus !== 'open') p.set('status', state.listStatus);
      if (state.listSort && state.listSort !== '-created_at') p.set('sort', state.listSort);
    }
    const s = p.toString();
    const path = pipeline ? `/pipeline/${encodeURIComponent(pipeline)}` : '/pipeline';
    return s ? `${path}?${s}` : path;
  }

  function setMode(mode) {
    if (state.mode === mode) return;
    state.mode = mode;
    updateUrl(urlFor());
    renderMode();
  }

  function renderMode() {
    modeSwitch.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.mode === state.mode)));
    const isList = state.mode === 'list';
    boardEl.hidden = isList;
    emptyNote.hidden = isList || !boardIsEmpty();
    listSlot.hidden = !isList;
    list?.destroy();
    list = null;
    if (isList && state.pipeline) {
      list = dealListPanel({
        pipelineId: state.pipeline.id, filters: apiFilters(), stages: state.pipeline.stages || [],
        status: state.listStatus, sort: state.listSort,
        onState: ({ status, sort }) => { state.listStatus = status; state.listSort = sort; updateUrl(urlFor()); },
      });
      mount(listSlot, list.el);
    } else listSlot.replaceChildren();
  }

  // --- summary and column headers ---------------------------------------------------
  function updateSummary() {
    if (state.loading && !state.columns.length) { sub.textContent = 'Loading the board…'; return; }
    const count = state.columns.reduce((s, c) => s + (Number(c.count) || 0), 0);
    const total = state.columns.reduce((s, c) => s + (Number(c.total) || 0), 0);
    const weighted = state.columns.reduce((s, c) => s + (Number(c.weighted) || 0), 0);
    const filtered = filterCount(state.filters) ? ' matching the filters' : '';
    sub.textContent = `${nf.format(count)} open ${count === 1 ? 'deal' : 'deals'}${filtered} · ${formatMoney(total, state.base)} · weighted ${formatMoney(weighted, state.base)}`;
  }

  function boardIsEmpty() {
    return !state.loading && state.columns.length > 0 && state.columns.every((c) => !c.deals.length);
  }

  function renderEmptyNote() {
    const isEmpty = boardIsEmpty() && state.mode === 'board';
    emptyNote.hidden = !isEmpty;
    if (!isEmpty) return;
    const filtered = filterCount(state.filters) > 0;
    mount(emptyNote, icon(filtered ? 'search' : 'pipeline', { size: 18 }),
      h('span', null, filtered ? 'No open deals match these filters. ' : 'No open deals in this pipeline yet. '),
      filtered
        ? h('button', { type: 'button', class: 'link-button', onclick: () => clearBtn.click() }, 'Clear filters')
        : (canEditPipeline() ? h('button', { type: 'button', class: 'link-button', onclick: () => view.openCreate() }, 'Create the first deal') : null),
      filtered || !canEditPipeline() ? null : h('span', { class: 'muted' }, ' (or press ', h('kbd', null, 'N'), ')'));
  }

  function columnHead(col) {
    const s = col.stage;
    const totals = h('div', { class: 'col-totals' },
      h('span', { class: 'col-total num', dataset: { testid: 'stage-total' }, title: `Total of the ${col.count} open deals in ${s.name}, in ${state.base}` }, formatMoney(col.total || 0, state.base)),
      h('span', { class: 'col-weighted num', dataset: { testid: 'stage-weighted' }, title: `Weighted by probability` }, 'Weighted ', formatMoney(col.weighted || 0, state.base)));
    const unconverted = Number(col.unconverted) || 0;
    return h('header', { class: 'col-head' },
      h('div', { class: 'col-title-row' },
        h('h2', { class: 'col-title', id: `col-title-${s.id}` }, h('span', { class: 'truncate' }, s.name)),
        h('span', { class: 'col-count', dataset: { testid: 'stage-count' }, 'aria-label': `${col.count} deals` }, nf.format(col.count || 0)),
        h('span', { class: 'col-prob', title: 'Probability of winning a deal in this stage' }, `${s.probability ?? 0}%`)),
      totals,
      unconverted ? h('p', { class: 'col-unconverted', title: 'Deals in a currency without an exchange rate are left out of the totals. Add a rate under Settings › Pipelines.' },
        icon('alert', { size: 12 }), `${nf.format(unconverted)} not converted`) : null);
  }

  // --- cards ---------------------------------------------------------------------------
  function cardLabel(d, stage) {
    return [d.title || 'Untitled deal', d.value != null ? formatMoney(d.value, d.currency || state.base) : null,
      d.expected_close ? `closes ${d.expected_close}` : null, d.stale ? 'stale' : null, stage ? `in ${stage.name}` : null].filter(Boolean).join(', ');
  }

  function card(d, col) {
    const stage = col.stage;
    const writable = canEditPipeline();
    const el = h('li', {
      class: ['deal-card', d.stale && 'is-stale', d.priority === 'high' && 'is-high'],
      tabindex: '0', draggable: writable ? 'true' : null,
      dataset: { testid: 'deal-card', dealId: d.id, stageId: col.stage.id, version: d.version ?? '' },
      'aria-label': cardLabel(d, stage), 'aria-describedby': 'board-help',
    },
    h('div', { class: 'deal-card-top' },
      h('a', { class: 'deal-title', href: `/deals/${encodeURIComponent(d.id)}`, tabindex: '-1', draggable: 'false' }, d.title || 'Untitled deal'),
      ownerInitials(d.owner_id)),
    partyLine(d),
    h('div', { class: 'deal-card-meta' },
      moneyEl(d.value, d.currency || state.base, { cls: 'deal-value', testid: 'deal-value' }),
      closeDateEl(d)),
    (d.stale || (d.priority && d.priority !== 'normal')) ? h('div', { class: 'deal-card-flags' }, staleBadge(d, stage), priorityBadge(d.priority)) : null,
    writable ? h('div', { class: 'deal-card-actions' },
      h('button', { type: 'button', class: 'card-btn card-won', tabindex: '-1', dataset: { testid: 'deal-won', action: 'won' }, title: 'Mark won', 'aria-label': `Mark ${d.title || 'deal'} won` }, icon('check', { size: 14 }), h('span', null, 'Won')),
      h('button', { type: 'button', class: 'card-btn card-lost', tabindex: '-1', dataset: { testid: 'deal-lost', action: 'lost' }, title: 'Mark lost', 'aria-label': `Mark ${d.title || 'deal'} lost` }, icon('x', { size: 14 }), h('span', null, 'Lost')),
      h('button', { type: 'button', class: 'card-btn card-move', tabindex: '-1', dataset: { testid: 'deal-move', action: 'move' }, title: 'Move to… (M)', 'aria-label': `Move ${d.title || 'deal'} to another stage`, 'aria-keyshortcuts': 'm' }, icon('chevronRight', { size: 14 }), h('span', null, 'Move'))) : null);
    return el;
  }

  function columnEl(col) {
    return boardEl.querySelector(`[data-testid="stage-column"][data-stage-id="${CSS.escape(col.stage.id)}"]`);
  }

  function renderColumn(col, { focusId = null } = {}) {
    const section = columnEl(col);
    if (!section) return;
    const focused = focusId || (section.contains(document.activeElement) ? document.activeElement.closest?.('.deal-card')?.dataset.dealId : null);
    section.querySelector('.col-head').replaceWith(columnHead(col));
    const listEl = section.querySelector('.col-cards');
    listEl.replaceChildren(...col.deals.map((d) => card(d, col)));
    if (!col.deals.length) listEl.append(h('li', { class: 'col-empty muted', 'aria-hidden': 'true' }, filterCount(state.filters) ? 'No matching deals' : 'No deals'));
    const more = section.querySelector('.col-more');
    more.hidden = !col.next_cursor;
    more.disabled = !!col.loadingMore;
    more.textContent = col.loadingMore ? 'Loading…' : `Load more (${nf.format(Math.max(0, (col.count || 0) - col.deals.length))} more)`;
    syncTabStops();
    if (focused) listEl.querySelector(`.deal-card[data-deal-id="${CSS.escape(focused)}"]`)?.focus({ preventScroll: false });
  }

  /** One card is in the Tab order (the last focused, else the first); arrows move between the others. */
  function syncTabStops() {
    const cards = boardEl.querySelectorAll('.deal-card[data-deal-id]');
    let active = state.activeId && boardEl.querySelector(`.deal-card[data-deal-id="${CSS.escape(state.activeId)}"]`);
    if (!active) active = cards[0] || null;
    cards.forEach((c) => c.setAttribute('tabindex', c === active ? '0' : '-1'));
  }
  boardEl.addEventListener('focusin', (e) => {
    const c = e.target.closest?.('.deal-card[data-deal-id]');
    if (!c || c.dataset.dealId === state.activeId) return;
    state.activeId = c.dataset.dealId;
    syncTabStops();
  });

  function renderBoard() {
    mount(boardEl, state.columns.map((col) => h('section', {
      class: 'board-col', dataset: { testid: 'stage-column', stageId: col.stage.id }, 'aria-labelledby': `col-title-${col.stage.id}`,
    },
    columnHead(col),
    // tabindex -1: not a Tab stop of its own (Chrome makes scrollers focusable); the cards are.
    h('ol', { class: 'col-cards', tabindex: '-1', 'aria-labelledby': `col-title-${col.stage.id}` }),
    h('button', { type: 'button', class: 'btn btn-sm col-more', dataset: { testid: 'stage-load-more' }, hidden: true, onclick: () => loadMore(col) }, 'Load more'))));
    state.columns.forEach((c) => renderColumn(c));
    renderEmptyNote();
    updateSummary();
  }

  function skeleton() {
    mount(boardEl, [0, 1, 2, 3, 4].map((i) => h('section', { class: 'board-col is-skeleton', 'aria-hidden': 'true' },
      h('header', { class: 'col-head' },
        h('span', { class: 'skeleton skeleton-text', style: { width: `${40 + i * 9}%`, height: '14px' } }),
        h('span', { class: 'skeleton skeleton-text', style: { width: '55%', marginTop: '10px' } })),
      h('ol', { class: 'col-cards' }, Array.from({ length: 3 - (i % 2) }, (_, j) => h('li', { class: 'deal-card is-skeleton' },
        h('span', { class: 'skeleton skeleton-text', style: { width: `${60 + ((i + j) * 13) % 30}%` } }),
        h('span', { class: 'skeleton skeleton-text', style: { width: '35%', marginTop: '12px' } })))))));
    boardEl.setAttribute('aria-busy', 'true');
  }

  // --- data --------------------------------------------------------------------------------
  function locate(id) {
    for (const col of state.columns) {
      const i = col.deals.findIndex((d) => d.id === id);
      if (i >= 0) return { col, index: i, deal: col.deals[i] };
    }
    return null;
  }

  async function reload() {
    if (!state.pipeline) return;
    state.controller?.abort();
    const c = new AbortController();
    state.controller = c;
    state.loading = true;
    errorSlot.replaceChildren();
    if (!state.columns.length) skeleton(); else boardEl.classList.add('is-refreshing');
    updateSummary();
    if (state.mode === 'list') renderMode();
    try {
      const b = await papi.board(state.pipeline.id, { filters: apiFilters(), perStage: PER_STAGE, signal: c.signal });
      if (state.destroyed || c.signal.aborted) return;
      state.base = b.base_currency || state.base;
      currencyLabel.textContent = `(${state.base})`;
      const stageInfo = new Map((state.pipeline.stages || []).map((s) => [s.id, s]));
      state.columns = b.stages.map((s) => ({
        stage: { ...stageInfo.get(s.id), ...s, deals: undefined },
        deals: s.deals,
        next_cursor: s.next_cursor,
        count: Number(s.count) || s.deals.length,
        total: Number(s.total) || 0,
        weighted: Number(s.weighted) || 0,
        unconverted: Number(s.unconverted) || 0,
      }));
      state.loading = false;
      boardEl.removeAttribute('aria-busy');
      boardEl.classList.remove('is-refreshing');
      renderBoard();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      state.loading = false;
      boardEl.removeAttribute('aria-busy');
      boardEl.classList.remove('is-refreshing');
      if (!state.columns.length) boardEl.replaceChildren();
      errorSlot.replaceChildren(h('div', { class: 'inline-error', role: 'alert' }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not load the board'), ' ', err.detail || err.message,
          err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => reload() }, 'Retry')));
      updateSummary();
      if (!err.handled) toastError(err, 'Could not load the board');
    }
  }

  /** Counts and totals from the server (cards stay as they are). */
  const refreshTotals = debounce(async () => {
    if (!state.pipeline || state.destroyed) return;
    try {
      const b = await papi.board(state.pipeline.id, { filters: apiFilters(), perStage: 1 });
      if (state.destroyed) return;
      for (const s of b.stages) {
        const col = state.columns.find((c) => c.stage.id === s.id);
        if (!col) continue;
        Object.assign(col, { count: Number(s.count) || 0, total: Number(s.total) || 0, weighted: Number(s.weighted) || 0, unconverted: Number(s.unconverted) || 0 });
        const section = columnEl(col);
        section?.querySelector('.col-head').replaceWith(columnHead(col));
        const more = section?.querySelector('.col-more');
        if (more && !col.loadingMore) more.textContent = `Load more (${nf.format(Math.max(0, col.count - col.deals.length))} more)`;
      }
      updateSummary();
    } catch (err) {
      if (err?.name !== 'AbortError') console.warn('board totals', err);
    }
  }, 350);

  async function loadMore(col) {
    if (!col.next_cursor || col.loadingMore) return;
    col.loadingMore = true;
    renderColumn(col);
    try {
      const p = await papi.listDeals({
        ...papi.filterQuery(apiFilters()), pipeline_id: state.pipeline.id, stage_id: col.stage.id, status: 'open', sort: 'position', cursor: col.next_cursor, limit: PER_STAGE,
      });
      const have = new Set(col.deals.map((d) => d.id));
      const fresh = p.items.filter((d) => !have.has(d.id));
      col.deals.push(...fresh);
      col.next_cursor = p.next_cursor;
      col.loadingMore = false;
      renderColumn(col, { focusId: fresh[0]?.id });
    } catch (err) {
      col.loadingMore = false;
      renderColumn(col);
      toastError(err, 'Could not load more deals');
    }
  }

  // Local estimate of a deal's part in a column's totals (corrected by refreshTotals).
  function contribution(d, stage) {
    const v = d.base_value ?? (d.currency === state.base ? d.value : null);
    if (v == null) return { total: 0, weighted: 0, unconverted: 1 };
    const p = d.probability_override ?? stage?.probability ?? d.probability ?? 0;
    return { total: Number(v) || 0, weighted: Math.round((Number(v) || 0) * p / 100), unconverted: 0 };
  }
  function addToTotals(col, d, sign) {
    const c = contribution(d, col.stage);
    col.count = Math.max(0, (col.count || 0) + sign);
    col.total = (col.total || 0) + sign * c.total;
    col.weighted = (col.weighted || 0) + sign * c.weighted;
    col.unconverted = Math.max(0, (col.unconverted || 0) + sign * c.unconverted);
  }

  // --- moving ------------------------------------------------------------------------------
  /**
   * Move deal `id` to column `toCol` at `index` (among that column's other
   * cards). Optimistic; confirmed or rolled back by the server.
   */
  function moveDeal(id, toCol, index, { focus = true } = {}) {
    if (!canEditPipeline()) return;
    const from = locate(id);
    if (!from) return;
    const others = toCol.deals.filter((d) => d.id !== id);
    const at = Math.max(0, Math.min(others.length, index));
    if (from.col === toCol && from.index === at) return;
    const snapshot = { col: from.col, index: from.index, deal: from.deal };

    // Optimistic: move it now.
    from.col.deals.splice(from.index, 1);
    toCol.deals.splice(at, 0, from.deal);
    if (from.col !== toCol) { addToTotals(from.col, from.deal, -1); addToTotals(toCol, from.deal, +1); }
    renderColumn(from.col);
    if (toCol !== from.col) renderColumn(toCol);
    if (focus) columnEl(toCol)?.querySelector(`.deal-card[data-deal-id="${CSS.escape(id)}"]`)?.focus();
    updateSummary();
    renderEmptyNote();
    const before = toCol.deals[at + 1]?.id || null;
    const after = before ? null : (toCol.deals[at - 1]?.id || null);
    announce(`Moved ${from.deal.title || 'deal'} to ${toCol.stage.name}, position ${at + 1} of ${toCol.deals.length}.`);

    // One request at a time per deal, each with the version the last one returned.
    const prev = state.pending.get(id) || Promise.resolve();
    const run = prev.catch(() => {}).then(async () => {
      const dealNow = locate(id)?.deal || from.deal;
      try {
        const res = await papi.moveDeal(id, { stage_id: toCol.stage.id, before_id: before, after_id: after }, dealNow.version);
        const updated = { ...dealNow, ...(res.deal || {}), version: res.deal?.version ?? res.version ?? dealNow.version };
        replaceDeal(updated);
      } catch (err) {
        rollback(snapshot, id);
        if (err?.status === 412) {
          const current = err.body?.current;
          if (current) showCurrent(current);
          else papi.getDeal(id).then((r) => showCurrent(r.deal)).catch(() => {});
          toast(`Someone else moved or changed “${from.deal.title || 'this deal'}” meanwhile. The board now shows where it is.`, {
            kind: 'error', title: 'Changed by someone else', requestId: err.requestId,
          });
          announce('The move was undone: someone else changed the deal.');
        } else {
          toastError(err, 'Could not move the deal');
          announce('The move failed and was undone.');
        }
      } finally {
        refreshTotals();
      }
    });
    state.pending.set(id, run);
    run.finally(() => { if (state.pending.get(id) === run) state.pending.delete(id); });
  }

  function rollback(snapshot, id) {
    const now = locate(id);
    if (now) {
      now.col.deals.splice(now.index, 1);
      if (now.col !== snapshot.col) { addToTotals(now.col, now.deal, -1); addToTotals(snapshot.col, snapshot.deal, +1); }
      renderColumn(now.col);
    }
    snapshot.col.deals.splice(Math.min(snapshot.index, snapshot.col.deals.length), 0, snapshot.deal);
    renderColumn(snapshot.col);
    updateSummary();
  }

  /** Put a deal where the server says it is (its stage, top of the column), or off the board if closed. */
  function showCurrent(current) {
    if (!current?.id) return;
    const now = locate(current.id);
    const target = current.status === 'open' && current.pipeline_id === state.pipeline?.id
      ? state.columns.find((c) => c.stage.id === current.stage_id) : null;
    if (now) {
      now.col.deals.splice(now.index, 1);
      addToTotals(now.col, now.deal, -1);
      renderColumn(now.col);
    }
    if (target) {
      const merged = { ...(now?.deal || {}), ...current };
      const keepAt = now && now.col === target ? now.index : 0;
      target.deals.splice(keepAt, 0, merged);
      addToTotals(target, merged, +1);
      renderColumn(target, { focusId: document.activeElement?.closest?.('.deal-card')?.dataset.dealId === current.id ? current.id : null });
      const el = columnEl(target)?.querySelector(`.deal-card[data-deal-id="${CSS.escape(current.id)}"]`);
      el?.classList.add('is-flash');
    }
    updateSummary();
    renderEmptyNote();
  }

  function replaceDeal(updated) {
    const now = locate(updated.id);
    if (!now) return;
    now.col.deals[now.index] = { ...now.deal, ...updated };
    const el = columnEl(now.col)?.querySelector(`.deal-card[data-deal-id="${CSS.escape(updated.id)}"]`);
    if (el) {
      const hadFocus = el === document.activeElement;
      const next = card(now.col.deals[now.index], now.col);
      el.replaceWith(next);
      syncTabStops();
      if (hadFocus) next.focus({ preventScroll: true });
    }
  }

  function removeDeal(id) {
    const now = locate(id);
    if (!now) return null;
    const el = columnEl(now.col)?.querySelector(`.deal-card[data-deal-id="${CSS.escape(id)}"]`);
    const neighbour = el?.nextElementSibling?.matches('.deal-card') ? el.nextElementSibling : el?.previousElementSibling;
    const hadFocus = el?.contains(document.activeElement);
    now.col.deals.splice(now.index, 1);
    addToTotals(now.col, now.deal, -1);
    renderColumn(now.col);
    if (hadFocus) {
      const target = neighbour?.dataset?.dealId && columnEl(now.col)?.querySelector(`.deal-card[data-deal-id="${CSS.escape(neighbour.dataset.dealId)}"]`);
      (target || columnEl(now.col)?.querySelector('.deal-card') || columnEl(now.col))?.focus?.();
    }
    updateSummary();
    renderEmptyNote();
    return now;
  }

  // --- won / lost ------------------------------------------------------------------------------
  async function closeDeal(id, kind) {
    const found = locate(id);
    if (!found) return;
    const d = found.deal;
    const opts = {
      undo: true,
      onConflict: (latest) => showCurrent(latest.deal),
      onUndone: (r) => { showCurrent(r.deal); refreshTotals(); },
    };
    const res = kind === 'won' ? await markWon(d, d.version, opts) : await markLost(d, d.version, opts);
    if (!res) return;
    removeDeal(id);
    announce(`${d.title || 'Deal'} marked ${kind}.`);
    refreshTotals();
  }

  async function openMove(id) {
    const found = locate(id);
    if (!found) return;
    const picked = await chooseStage({ deal: found.deal, stages: state.columns.map((c) => c.stage), currentStageId: found.col.stage.id });
    if (!picked) return;
    const col = state.columns.find((c) => c.stage.id === picked.stage_id);
    if (!col) return;
    const others = col.deals.filter((d) => d.id !== id);
    moveDeal(id, col, picked.position === 'top' ? 0 : others.length);
  }

  // --- pointer and keyboard ---------------------------------------------------------------------
  boardEl.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-action]');
    const cardEl = e.target.closest('.deal-card[data-deal-id]');
    if (!cardEl) return;
    const id = cardEl.dataset.dealId;
    if (btn) {
      e.preventDefault();
      if (btn.dataset.action === 'won') closeDeal(id, 'won');
      else if (btn.dataset.action === 'lost') closeDeal(id, 'lost');
      else if (btn.dataset.action === 'move') openMove(id);
      return;
    }
    if (e.target.closest('a')) return;
    if (window.getSelection()?.toString()) return;
    const link = cardEl.querySelector('a.deal-title');
    if (e.metaKey || e.ctrlKey) window.open(link.href, '_blank', 'noopener');
    else link.click();
  });

  function cardsOf(col) { return [...(columnEl(col)?.querySelectorAll('.deal-card[data-deal-id]') || [])]; }

  boardEl.addEventListener('keydown', (e) => {
    const cardEl = e.target.closest?.('.deal-card[data-deal-id]');
    if (!cardEl || e.target !== cardEl || e.ctrlKey || e.metaKey) return;
    const found = locate(cardEl.dataset.dealId);
    if (!found) return;
    const ci = state.columns.indexOf(found.col);
    const moving = e.altKey || e.shiftKey;
    const key = e.key;
    if (key === 'Enter') { e.preventDefault(); cardEl.querySelector('a.deal-title').click(); return; }
    if ((key === 'm' || key === 'M') && !e.altKey) { e.preventDefault(); openMove(found.deal.id); return; }
    if (!['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(key)) return;
    e.preventDefault();
    if (moving) {
      if (key === 'ArrowUp') moveDeal(found.deal.id, found.col, found.index - 1);
      else if (key === 'ArrowDown') moveDeal(found.deal.id, found.col, found.index + 1);
      else if (key === 'ArrowLeft' && ci > 0) moveDeal(found.deal.id, state.columns[ci - 1], Math.min(found.index, state.columns[ci - 1].deals.length));
      else if (key === 'ArrowRight' && ci < state.columns.length - 1) moveDeal(found.deal.id, state.columns[ci + 1], Math.min(found.index, state.columns[ci + 1].deals.length));
      return;
    }
    const cards = cardsOf(found.col);
    const i = cards.indexOf(cardEl);
    let target = null;
    if (key === 'ArrowUp') target = cards[i - 1];
    else if (key === 'ArrowDown') target = cards[i + 1];
    else if (key === 'Home') target = cards[0];
    else if (key === 'End') target = cards[cards.length - 1];
    else {
      const step = key === 'ArrowLeft' ? -1 : 1;
      for (let c = ci + step; c >= 0 && c < state.columns.length; c += step) {
        const cs = cardsOf(state.columns[c]);
        if (cs.length) { target = cs[Math.min(i, cs.length - 1)]; break; }
      }
    }
    if (target) { target.focus(); target.scrollIntoView({ block: 'nearest', inline: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'smooth' }); }
  });

  // HTML5 drag and drop
  const placeholder = h('li', { class: 'drop-placeholder', 'aria-hidden': 'true' });
  function dropIndex(listEl, y) {
    const cards = [...listEl.querySelectorAll('.deal-card[data-deal-id]')].filter((c) => c.dataset.dealId !== state.drag?.id);
    for (let i = 0; i < cards.length; i += 1) {
      const r = cards[i].getBoundingClientRect();
      if (y < r.top + r.height / 2) return { index: i, before: cards[i] };
    }
    return { index: cards.length, before: null };
  }
  function columnOf(target) {
    const section = target.closest?.('[data-testid="stage-column"]');
    return section ? state.columns.find((c) => c.stage.id === section.dataset.stageId) : null;
  }

  boardEl.addEventListener('dragstart', (e) => {
    const cardEl = e.target.closest?.('.deal-card[data-deal-id]');
    if (!cardEl || !canEditPipeline()) { if (cardEl) e.preventDefault(); return; }
    state.drag = { id: cardEl.dataset.dealId, height: cardEl.getBoundingClientRect().height };
    try {
      e.dataTransfer.effectAllowed = 'move';
      e.dataTransfer.setData('text/plain', cardEl.dataset.dealId);
      e.dataTransfer.setData('application/x-edge-deal', cardEl.dataset.dealId);
    } catch { /* synthetic events */ }
    placeholder.style.height = `${Math.round(state.drag.height)}px`;
    requestAnimationFrame(() => cardEl.classList.add('is-dragging'));
    boardEl.classList.add('is-dragging');
  });
  boardEl.addEventListener('dragover', (e) => {
    const col = columnOf(e.target);
    if (!col || (!state.drag && !e.dataTransfer?.types?.includes('application/x-edge-deal'))) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'move';
    const listEl = columnEl(col).querySelector('.col-cards');
    const { before } = dropIndex(listEl, e.clientY);
    if (before) { if (placeholder.nextSibling !== before) listEl.insertBefore(placeholder, before); } else if (placeholder.parentNode !== listEl || placeholder.nextSibling) listEl.append(placeholder);
    boardEl.querySelectorAll('.board-col.is-over').forEach((s) => { if (s !== columnEl(col)) s.classList.remove('is-over'); });
    columnEl(col).classList.add('is-over');
    // Scroll the board sideways near its edges.
    const r = boardEl.getBoundingClientRect();
    if (e.clientX < r.left + 48) boardEl.scrollLeft -= 18;
    else if (e.clientX > r.right - 48) boardEl.scrollLeft += 18;
  });
  boardEl.addEventListener('dragleave', (e) => {
    if (!boardEl.contains(e.relatedTarget)) { placeholder.remove(); boardEl.querySelectorAll('.board-col.is-over').forEach((s) => s.classList.remove('is-over')); }
  });
  boardEl.addEventListener('drop', (e) => {
    const col = columnOf(e.target);
    let id = state.drag?.id;
    try { id = e.dataTransfer?.getData('application/x-edge-deal') || e.dataTransfer?.getData('text/plain') || id; } catch { /* keep */ }
    if (!col || !id || !locate(id)) return;
    e.preventDefault();
    const listEl = columnEl(col).querySelector('.col-cards');
    const saveDrag = state.drag;
    state.drag = state.drag || { id };
    const { index } = dropIndex(listEl, e.clientY);
    state.drag = saveDrag;
    endDrag();
    moveDeal(id, col, index);
  });
  boardEl.addEventListener('dragend', () => endDrag());
  function endDrag() {
    placeholder.remove();
    boardEl.classList.remove('is-dragging');
    boardEl.querySelectorAll('.is-dragging, .is-over').forEach((x) => x.classList.remove('is-dragging', 'is-over'));
    state.drag = null;
  }

  // --- start -----------------------------------------------------------------------------------------
  async function init() {
    pageTitle('Pipeline');
    renderMode();
    skeleton();
    updateSummary();
    fillFilters();
    loadUsers();
    try {
      const [list_, , settings] = await Promise.all([papi.pipelines({ fresh: true }), session.whenLoaded(), papi.pipelineSettings().catch(() => null)]);
      if (state.destroyed) return;
      state.pipelines = list_;
      if (settings?.base_currency) { state.base = settings.base_currency; currencyLabel.textContent = `(${state.base})`; }
      newButton.hidden = !canEditPipeline();
      if (!list_.length) {
        boardEl.replaceChildren();
        mount(errorSlot, emptyState({ testid: 'empty-state', iconName: 'pipeline', title: 'No pipelines yet',
          text: 'Owners and admins set up pipelines and their stages under Settings › Pipelines.',
          actions: [h('a', { class: 'btn btn-primary', href: '/settings/pipelines' }, 'Set up a pipeline')] }));
        sub.textContent = '';
        return;
      }
      state.pipeline = list_.find((p) => p.id === pipelineId) || list_[0];
      if (pipelineId && state.pipeline.id !== pipelineId) toast('That pipeline no longer exists; showing the first one.', { title: 'Pipeline not found' });
      mount(picker, list_.map((p) => h('option', { value: p.id, selected: p.id === state.pipeline.id ? true : null }, p.name || 'Pipeline')));
      picker.disabled = false;
      picker.hidden = list_.length < 2;
      pageTitle(state.pipeline.name, 'Pipeline');
      titleEl.textContent = list_.length > 1 ? `Pipeline: ${state.pipeline.name}` : 'Pipeline';
      updateUrl(urlFor());
      renderMode();
      reload();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      boardEl.replaceChildren();
      errorSlot.replaceChildren(h('div', { class: 'inline-error', role: 'alert' }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not load the pipelines'), ' ', err.detail || err.message),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => init() }, 'Retry')));
      if (!err.handled) toastError(err, 'Could not load the pipelines');
    }
  }

  const offUsers = onUsers(() => {
    fillOwners();
    boardEl.querySelectorAll('.deal-owner[data-user-id]').forEach((el) => el.replaceWith(ownerInitials(el.dataset.userId)));
  });

  const view = {
    kind: 'pipeline-board',
    openCreate() {
      if (!canEditPipeline()) return;
      const focusedStage = document.activeElement?.closest?.('[data-testid="stage-column"]')?.dataset.stageId;
      openDealForm({
        initial: { pipeline_id: state.pipeline?.id, stage_id: focusedStage || state.columns[0]?.stage.id },
        onSaved: (d) => {
          if (!d || d.pipeline_id !== state.pipeline?.id || d.status !== 'open') return;
          const col = state.columns.find((c) => c.stage.id === d.stage_id);
          if (!col || locate(d.id)) return;
          col.deals.push(d);
          addToTotals(col, d, +1);
          renderColumn(col);
          const el = columnEl(col)?.querySelector(`.deal-card[data-deal-id="${CSS.escape(d.id)}"]`);
          if (el) { el.classList.add('is-flash'); el.focus(); el.scrollIntoView({ block: 'nearest', inline: 'nearest' }); }
          updateSummary();
          renderEmptyNote();
          refreshTotals();
          list?.destroy && state.mode === 'list' && renderMode();
        },
      });
    },
    openFilter() { fOwner.focus(); },
    moveSelection(d) {
      if (state.mode === 'list') { list?.moveSelection(d); return; }
      const cards = [...boardEl.querySelectorAll('.deal-card[data-deal-id]')];
      if (!cards.length) return;
      const i = cards.indexOf(document.activeElement);
      cards[Math.max(0, Math.min(cards.length - 1, i < 0 ? 0 : i + d))].focus();
    },
    openSelection() { return state.mode === 'list' ? list?.openSelection() : false; },
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      applySoon.cancel();
      refreshTotals.cancel();
      list?.destroy();
      offUsers();
    },
  };

  init();
  return view;
}
