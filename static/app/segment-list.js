// Campaigns › Segments (/campaigns/segments): every segment with
// its kind (dynamic rules or a static list), how many contacts it holds
// (each count asked for once its row is on screen, a few at a time, with a
// spinner meanwhile) and when it last changed; a name search and a kind
// filter; "New segment" and "New static list". Keyboard: j/k select, Enter
// opens, c or n makes a new segment.

import { h, mount, icon, toastError, pageTitle, debounce } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as sapi from './segments-api.js';
import { emptyState } from './contacts.js';
import { compactTime } from './records.js';
import { describeFilter } from './filters.js';
import { kindBadge, spinner, segmentHref, nf, loadRuleContext } from './segment-display.js';
import { campaignsHeader } from './campaign-display.js';

const KINDS = [['', 'All'], ['dynamic', 'Dynamic'], ['static', 'Static lists']];
const COUNT_CONCURRENCY = 4;

export function segmentListView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    all: [], loaded: false, q: (query.get('q') || '').trim(),
    kind: KINDS.some(([v]) => v && v === query.get('kind')) ? query.get('kind') : '',
    counts: new Map(), // id → { n } | { error } | 'loading'
    queue: [], running: 0, catalog: [],
    selected: -1, destroyed: false, controller: new AbortController(),
  };
  pageTitle('Segments', 'Campaigns');

  const newSegment = h('a', {
    class: 'btn btn-primary', href: '/campaigns/segments/new', dataset: { testid: 'new-segment' }, hidden: true, 'aria-keyshortcuts': 'n',
  }, icon('plus'), h('span', null, 'New segment'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));
  const newList = h('a', {
    class: 'btn', href: '/campaigns/segments/new?kind=static', dataset: { testid: 'new-static-list' }, hidden: true,
    title: 'A list of contacts you pick by hand, e.g. the leads from a trade fair',
  }, icon('userPlus', { size: 15 }), h('span', null, 'New static list'));

  const searchInput = h('input', {
    id: 'seg-search', class: 'input-sm', type: 'search', autocomplete: 'off', maxlength: 120, placeholder: 'Search by name',
    value: state.q, dataset: { testid: 'segment-search' },
  });
  const search = h('form', { class: 'ol-search', role: 'search', 'aria-label': 'Find segments', onsubmit: (e) => { e.preventDefault(); apply(); } },
    h('label', { for: 'seg-search', class: 'visually-hidden' }, 'Search segments by name'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), searchInput));
  const applySoon = debounce(() => apply(), 150);
  searchInput.addEventListener('input', applySoon);
  const kindSwitch = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Kind', dataset: { testid: 'segment-kind-filter' } },
    KINDS.map(([v, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === state.kind), dataset: { value: v, testid: `segment-kind-filter-${v || 'all'}` },
      onclick: () => { state.kind = v; apply(); },
    }, label)));
  const summary = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'segments-summary' } });

  const cols = ['sgcol-name', 'sgcol-kind', 'sgcol-count', 'sgcol-updated'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table segments-table', dataset: { testid: 'segments-list' } },
    h('caption', { class: 'visually-hidden' }, 'Segments'),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'sgcol-name' }, 'Segment'),
      h('th', { scope: 'col', class: 'sgcol-kind' }, 'Kind'),
      h('th', { scope: 'col', class: 'sgcol-count align-end' }, 'Contacts'),
      h('th', { scope: 'col', class: 'sgcol-updated' }, 'Updated'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });

  mount(root,
    ...campaignsHeader('segments', {
      sub: 'Groups of contacts for campaigns: rules that stay current by themselves, or lists you keep by hand',
      actions: [newList, newSegment], className: 'seg-header',
    }),
    h('div', { class: 'ol-toolbar seg-toolbar' }, search, kindSwitch, summary),
    h('div', { class: 'seg-list' }, wrap, empty),
    h('p', { class: 'visually-hidden', id: 'seg-help' }, 'Press j and k to move between segments and Enter to open one.'));

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    tr.querySelector('a.row-link')?.click();
  });
  table.addEventListener('focusin', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr) return;
    const rows = [...tbody.querySelectorAll('tr[data-id]')];
    state.selected = rows.indexOf(tr);
    rows.forEach((r, j) => r.classList.toggle('is-selected', j === state.selected));
  });

  // --- counts, asked for as rows come into view ------------------------------------------
  const observer = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      observer.unobserve(e.target);
      want(e.target.dataset.id);
    }
  }, { rootMargin: '200px 0px' }) : null;

  function want(id) {
    if (state.counts.has(id)) return;
    state.counts.set(id, 'loading');
    state.queue.push(id);
    pump();
  }
  function pump() {
    while (state.running < COUNT_CONCURRENCY && state.queue.length && !state.destroyed) {
      const id = state.queue.shift();
      state.running += 1;
      sapi.countSegment(id, { signal: state.controller.signal })
        .then((n) => { state.counts.set(id, { n }); })
        .catch((err) => { if (err?.name !== 'AbortError') state.counts.set(id, { error: err }); })
        .finally(() => {
          state.running -= 1;
          if (state.destroyed) return;
          const cell = tbody.querySelector(`tr[data-id="${CSS.escape(id)}"] [data-testid="segment-row-count"]`);
          if (cell) cell.replaceWith(countCell(id));
          pump();
        });
    }
  }

  function countCell(id) {
    const c = state.counts.get(id);
    if (!c || c === 'loading') return h('span', { class: 'seg-count is-loading', dataset: { testid: 'segment-row-count', state: 'loading' } }, spinner());
    if (c.error) {
      return h('span', { class: 'seg-count muted', dataset: { testid: 'segment-row-count', state: 'error' }, title: c.error.detail || c.error.message },
        '—', h('span', { class: 'visually-hidden' }, ` (could not be counted: ${c.error.detail || c.error.message})`));
    }
    return h('span', { class: 'seg-count num', dataset: { testid: 'segment-row-count', state: 'done', count: String(c.n) } }, nf.format(c.n));
  }

  // --- rows -------------------------------------------------------------------------------
  function subline(s) {
    if (s.description) return s.description;
    if (s.kind === 'static') return 'Contacts added by hand';
    return describeFilter(s.filter, state.catalog) || 'No rules';
  }

  function row(s) {
    return h('tr', { dataset: { testid: 'segment-row', id: s.id, segmentId: s.id, kind: s.kind } },
      h('td', { class: 'sgcol-name' },
        h('div', { class: 'seg-name-cell' },
          h('span', { class: ['seg-icon', s.kind === 'static' ? 'seg-icon-static' : 'seg-icon-dynamic'], 'aria-hidden': 'true' }, icon(s.kind === 'static' ? 'users' : 'zap', { size: 15 })),
          h('div', { class: 'name-text' },
            h('a', { class: 'row-link', href: segmentHref(s.id), 'aria-describedby': 'seg-help', dataset: { testid: 'segment-link' } }, s.name || 'Untitled segment'),
            h('div', { class: 'cell-sub seg-sub', title: subline(s) },
              h('span', { class: 'seg-sub-kind' }, kindBadge(s.kind, 'segment-row-kind-phone')),
              h('span', { class: 'truncate' }, subline(s)))))),
      h('td', { class: 'sgcol-kind' }, kindBadge(s.kind)),
      h('td', { class: 'sgcol-count align-end' }, countCell(s.id)),
      h('td', { class: 'sgcol-updated' }, compactTime(s.updated_at)));
  }

  function syncUrl() {
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    if (state.kind) p.set('kind', state.kind);
    const s = p.toString();
    updateUrl(`/campaigns/segments${s ? `?${s}` : ''}`);
  }

  function apply() {
    state.q = searchInput.value.trim();
    kindSwitch.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.value === state.kind)));
    syncUrl();
    if (!state.loaded) return;
    const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = state.all.filter((s) => (!state.kind || s.kind === state.kind)
      && words.every((w) => `${s.name || ''} ${s.description || ''}`.toLowerCase().includes(w)));
    state.selected = -1;
    observer?.disconnect();
    mount(tbody, shown.map(row));
    if (observer) tbody.querySelectorAll('tr[data-id]').forEach((tr) => { if (!state.counts.has(tr.dataset.id)) observer.observe(tr); });
    else shown.forEach((s) => want(s.id));
    const dyn = state.all.filter((s) => s.kind !== 'static').length;
    summary.textContent = shown.length === state.all.length
      ? `${nf.format(state.all.length)} ${state.all.length === 1 ? 'segment' : 'segments'} · ${nf.format(dyn)} dynamic · ${nf.format(state.all.length - dyn)} static`
      : `${nf.format(shown.length)} of ${nf.format(state.all.length)} segments`;
    wrap.hidden = !shown.length;
    empty.hidden = !!shown.length;
    if (!shown.length) renderEmpty(!!(state.q || state.kind) && state.all.length > 0);
  }

  function renderEmpty(filtered) {
    const w = sapi.canWriteSegments();
    if (filtered) {
      mount(empty, emptyState({
        testid: 'empty-state', iconName: 'search', title: 'No segments match',
        text: 'Try another name, or show every kind.',
        actions: [h('button', { type: 'button', class: 'btn', onclick: () => { searchInput.value = ''; state.kind = ''; apply(); searchInput.focus(); } }, 'Show every segment')],
      }));
      return;
    }
    mount(empty, h('div', { class: 'empty-state seg-empty', dataset: { testid: 'empty-state' } },
      h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('megaphone', { size: 28 })),
      h('h2', { class: 'empty-title' }, 'No segments yet'),
      h('p', { class: 'empty-text' }, 'A segment is a group of contacts picked by rules over what you know about them: their stage, tags and consent, their deals and their orders. It stays current by itself, so a campaign always reaches the right people.'),
      h('div', { class: 'seg-example', dataset: { testid: 'segment-example' } },
        h('span', { class: 'seg-example-label muted' }, 'For example'),
        h('strong', null, 'Customers gone quiet'),
        h('span', null, 'ordered before, nothing in 90 days'),
        h('code', { class: 'seg-example-rule' }, 'Number of orders ≥ 1  and  Last order more than 90 days ago')),
      h('p', { class: 'empty-text' }, 'A static list is a group you keep by hand instead, such as the leads you met at a trade fair.'),
      w ? h('div', { class: 'empty-actions' },
        h('a', { class: 'btn btn-primary', href: '/campaigns/segments/new?template=quiet', dataset: { testid: 'empty-start-example' } }, icon('zap', { size: 15 }), 'Start from this example'),
        h('a', { class: 'btn', href: '/campaigns/segments/new' }, icon('plus', { size: 15 }), 'New segment'),
        h('a', { class: 'btn', href: '/campaigns/segments/new?kind=static' }, icon('userPlus', { size: 15 }), 'New static list'))
        : h('p', { class: 'empty-hint muted' }, 'Your role can see and count segments; marketing makes them.')));
  }

  async function load() {
    mount(tbody, Array.from({ length: 5 }, (_, i) => h('tr', { 'aria-hidden': 'true' },
      cols.map((c, j) => h('td', { class: c }, h('span', { class: 'skeleton skeleton-text', style: { width: `${c === 'sgcol-count' ? 40 : 35 + ((i * 29 + j * 13) % 50)}%`, marginLeft: c === 'sgcol-count' ? 'auto' : null } }))))));
    table.setAttribute('aria-busy', 'true');
    wrap.hidden = false;
    empty.hidden = true;
    try {
      const [items, ctx] = await Promise.all([
        sapi.listSegments({ signal: state.controller.signal }),
        loadRuleContext({ signal: state.controller.signal }).catch((err) => { if (err?.name === 'AbortError') throw err; return { catalog: [] }; }),
        session.whenLoaded(),
      ]);
      if (state.destroyed) return;
      state.all = items.slice().sort((a, b) => String(a.name || '').localeCompare(String(b.name || ''), undefined, { sensitivity: 'base' }));
      state.catalog = ctx.catalog;
      state.loaded = true;
      apply();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      tbody.replaceChildren();
      wrap.hidden = true;
      empty.hidden = false;
      const forbidden = err.status === 403;
      mount(empty, emptyState({
        testid: 'error-state', iconName: forbidden ? 'lock' : 'alert',
        title: forbidden ? 'Segments are not available to your role' : (err.title || 'Could not load the segments'),
        text: `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
        actions: forbidden ? [] : [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => load() }, 'Retry')],
      }));
      if (!forbidden) toastError(err, 'Could not load the segments');
    } finally {
      table.setAttribute('aria-busy', 'false');
    }
  }

  function select(i) {
    const rows = [...tbody.querySelectorAll('tr[data-id]')];
    if (!rows.length) return;
    state.selected = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, j) => r.classList.toggle('is-selected', j === state.selected));
    rows[state.selected].querySelector('a.row-link')?.focus();
    rows[state.selected].scrollIntoView({ block: 'nearest' });
  }

  session.whenLoaded().then(() => {
    if (state.destroyed) return;
    const w = sapi.canWriteSegments();
    newSegment.hidden = !w;
    newList.hidden = !w;
  });
  load();
  return {
    kind: 'segment-list',
    moveSelection: (d) => select(state.selected < 0 ? 0 : state.selected + d),
    openSelection: () => {
      const a = tbody.querySelectorAll('tr[data-id]')[state.selected]?.querySelector('a.row-link');
      if (a) { a.click(); return true; }
      return false;
    },
    openCreate: () => { if (sapi.canWriteSegments()) navigate('/campaigns/segments/new'); },
    destroy() {
      state.destroyed = true;
      state.controller.abort();
      applySoon.cancel();
      observer?.disconnect();
    },
  };
}
