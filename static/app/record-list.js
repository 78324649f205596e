// The contacts and companies lists: columns (with a picker, remembered per
// entity), sortable headers, quick filters and a filter builder, a search
// chip, counts, trash view, keyboard row selection, and infinite scrolling
// over keyset cursors.
//
// Long lists stay fast: rows arrive in pages of 100 and are grouped in chunks
// (one <tbody> each). Once a list holds more than MAX_LIVE_ROWS rows, chunks
// far from the viewport are collapsed into one spacer row of the same height
// and rebuilt when they come back near it, so the DOM holds a few hundred rows
// whatever the length of the list.

import { h, mount, icon, toast, toastError, pageTitle, timeEl, prefersReducedMotion } from './ui.js';
import { updateUrl, navigate } from './router.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import {
  xicon, fieldCatalog, DEFAULT_COLUMNS, recordName, recordHref, avatar, unnamed, dash, loadUsers, onUsers, ownerCell, canWrite,
} from './records.js';
import { filterBar, parseFilter, buildFilter, filterCount, emptyFilterState, popover } from './filters.js';
import { emptyState } from './contacts.js';
import { exportMenu } from './export-menu.js';
import { viewsMenu, normalizeQuery } from './saved-views.js';

const PAGE_SIZE = 100;
const CHUNK_SIZE = 100;
const MAX_LIVE_ROWS = 1000;
const COLUMN_KEY = (entity) => `edgecrm.columns.${entity}`;

/** What a list looked like when the user left it, restored on Back. */
const saved = new Map();

function readColumns(entity) {
  try {
    const v = JSON.parse(localStorage.getItem(COLUMN_KEY(entity)) || 'null');
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch { /* ignore */ }
  return null;
}
function writeColumns(entity, cols) {
  try {
    if (cols) localStorage.setItem(COLUMN_KEY(entity), JSON.stringify(cols));
    else localStorage.removeItem(COLUMN_KEY(entity));
  } catch { /* private mode */ }
}

const nf = new Intl.NumberFormat();

/**
 * recordListView(root, { config, query, nav })
 * config: {
 *   entity, title, singular, plural, path,
 *   tableTestid, rowTestid, countTestid, restoreTestid, newTestid, newLabel,
 *   quick: { field, label, options, optionLabel, testid, optionTestid, render },
 *   subline(record) → text for the name cell's second line,
 *   openCreate({ onCreated }),
 *   saveAsSegment({ filter, q, catalog }), canSaveAsSegment() (optional: "Save as segment"),
 *   emptyText, emptyIcon,
 * }
 */
export function recordListView(root, { config, query, nav = 'push' }) {
  const { entity } = config;
  const state = {
    q: (query.get('q') || '').trim(),
    filterText: query.get('filter') || '',
    filter: emptyFilterState(),
    sort: query.get('sort') || '',
    view: query.get('view') === 'trash' ? 'trash' : '',
    defs: [],
    catalog: fieldCatalog(entity, []),
    columns: readColumns(entity) || DEFAULT_COLUMNS[entity],
    tags: [],
    items: [],
    ids: new Set(),
    chunks: [],
    cursor: null,
    exhausted: false,
    loading: false,
    error: null,
    controller: null,
    countController: null,
    generation: 0,
    count: null,
    selected: -1,
    ready: false,
    destroyed: false,
  };

  // --- DOM ---------------------------------------------------------------------
  const titleEl = h('h1', { tabindex: '-1', class: 'page-title' }, config.title);
  const countEl = h('p', { class: 'page-sub', role: 'status', 'aria-live': 'polite', dataset: { testid: config.countTestid } }, '\u00a0');
  const newButton = h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid: config.newTestid }, 'aria-keyshortcuts': 'c n',
    onclick: () => view.openCreate(),
  }, icon('plus'), h('span', null, config.newLabel), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'C'));

  // Bulk tools: import, export, duplicates (contacts), saved views.
  const importButton = h('a', {
    class: 'btn', href: `${config.path}/import`, dataset: { testid: 'import-button' }, title: `Import ${config.plural} from a CSV file`,
    'aria-label': `Import ${config.plural}`,
  }, xicon('upload', { size: 15 }), h('span', { class: 'btn-label' }, 'Import'));
  const duplicatesButton = config.duplicates ? h('a', {
    class: 'btn', href: `${config.path}/duplicates`, dataset: { testid: 'duplicates-button' }, title: `Find and merge duplicate ${config.plural}`,
    'aria-label': `Duplicate ${config.plural}`,
  }, xicon('merge', { size: 15 }), h('span', { class: 'btn-label' }, 'Duplicates')) : null;
  const exporter = exportMenu({
    entity, plural: config.plural, singular: config.singular,
    params: () => { const p = params(); return { q: p.q, filter: p.filter, sort: p.sort }; },
    describe: () => {
      const n = state.count ? `${state.count.more ? 'More than ' : ''}${nf.format(state.count.count)} ${state.count.count === 1 && !state.count.more ? config.singular : config.plural}` : `The ${config.plural} of this list`;
      const filtered = state.q || filterCount(state.filter) > 0;
      return `${n}${filtered ? ' matching the search and filters' : ''}, in the list’s order, with every field.`;
    },
  });
  const views = viewsMenu({
    entity, plural: config.plural,
    current: () => ({ query: savableQuery(), columns: state.columns.slice() }),
    apply: (v) => {
      if (Array.isArray(v.columns) && v.columns.length) {
        state.columns = v.columns.filter((k) => typeof k === 'string');
        writeColumns(entity, state.columns);
      }
      const qs = normalizeQuery(v.query);
      navigate(qs ? `${config.path}?${qs}` : config.path);
    },
  });

  const trashButton = h('button', {
    type: 'button', class: 'btn btn-sm', dataset: { testid: 'trash-view' }, 'aria-pressed': 'false', 'aria-label': 'Trash',
    title: `Deleted ${config.plural} (kept for 30 days)`,
    onclick: () => setView(state.view === 'trash' ? '' : 'trash'),
  }, icon('trash', { size: 15 }), h('span', { class: 'btn-label' }, 'Trash'));

  // Column picker
  const pickerButton = h('button', { type: 'button', class: 'btn btn-sm', title: 'Choose columns', 'aria-label': 'Columns' }, xicon('columns', { size: 15 }), h('span', { class: 'btn-label' }, 'Columns'));
  const pickerPanel = h('div', { class: 'column-panel' });
  const picker = popover({ button: pickerButton, panel: pickerPanel, align: 'end', testid: 'column-picker', onOpen: () => renderPicker() });

  const bar = filterBar({
    quick: config.quick,
    onChange: (st) => { state.filter = st; applyChange(); },
    onClearQuery: () => { clearHeaderSearch(); view.setQuery(''); },
    // Contacts: keep the current filters as a dynamic segment (Campaigns).
    onSaveAsSegment: config.saveAsSegment
      ? () => config.saveAsSegment({ filter: buildFilter(state.filter, config.quick), q: state.q, catalog: state.catalog })
      : null,
    canSaveAsSegment: () => state.view !== 'trash' && (config.canSaveAsSegment?.() ?? true),
  });

  const thead = h('thead');
  const colgroup = h('colgroup');
  const table = h('table', { class: ['data-table', 'rl-table', `rl-${entity}`], dataset: { testid: config.tableTestid } },
    h('caption', { class: 'visually-hidden' }, config.title), colgroup, thead);
  const tableWrap = h('div', { class: 'table-wrap rl-wrap' }, table);
  const empty = h('div', { class: 'empty-wrap', hidden: true });
  const errorBox = h('div', { class: 'inline-error', hidden: true, role: 'alert' });
  const loadMore = h('button', { type: 'button', class: 'btn', dataset: { testid: 'load-more' }, hidden: true, onclick: () => load() }, 'Load more');
  const endNote = h('p', { class: 'list-end muted', hidden: true });
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const trashNote = h('p', { class: 'trash-note', hidden: true },
    icon('trash', { size: 15 }), h('span', null, `Deleted ${config.plural} stay here for 30 days, then they are erased. Restore one to bring it back with its history.`));

  mount(root,
    h('div', { class: 'page-header rl-header' },
      h('div', { class: 'page-heading' }, titleEl, countEl),
      h('div', { class: 'page-actions rl-actions' },
        h('div', { class: 'rl-bulk' }, duplicatesButton, importButton, exporter.wrap),
        newButton)),
    h('div', { class: 'rl-toolbar' },
      bar.el,
      h('div', { class: 'rl-tools' }, views.wrap, picker.wrap, trashButton)),
    trashNote,
    errorBox,
    tableWrap,
    empty,
    h('div', { class: 'list-footer' }, loadMore, endNote, sentinel),
  );

  // Row clicks open the record (the name cell holds the real link).
  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button, input, label')) return;
    if (window.getSelection()?.toString()) return;
    const link = tr.querySelector('a.row-link');
    if (!link) return;
    if (e.metaKey || e.ctrlKey) window.open(link.href, '_blank', 'noopener');
    else link.click();
  });
  table.addEventListener('focusin', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr) select(indexOfId(tr.dataset.id), { focus: false, scroll: false });
  });

  // --- Columns -------------------------------------------------------------------
  function columnFields() {
    const byKey = new Map(state.catalog.map((f) => [f.key, f]));
    const keys = state.view === 'trash'
      ? ['name', entity === 'company' ? 'domain' : 'email', entity === 'company' ? 'industry' : 'company']
      : state.columns;
    const out = [];
    for (const k of ['name', ...keys.filter((k) => k !== 'name')]) {
      const f = byKey.get(k);
      if (f && f.column !== false) out.push(f);
    }
    if (state.view === 'trash') {
      out.push({ key: 'deleted_at', label: 'Deleted', weight: 1.1, dim: true, cell: (r) => timeEl(r.deleted_at, { withTime: true }) });
      if (canWrite()) out.push({ key: '_restore', label: 'Actions', hiddenLabel: true, weight: 0.9, cell: (r) => restoreButton(r) });
    }
    return out;
  }

  function renderHead() {
    const cols = columnFields();
    state.visible = cols;
    const total = cols.reduce((s, f) => s + (f.weight || 1), 0);
    mount(colgroup, cols.map((f) => h('col', { class: colClass(f), style: { width: `${(((f.weight || 1) / total) * 100).toFixed(2)}%` } })));
    const [sortField, desc] = parseSort(state.sort);
    mount(thead, h('tr', null, cols.map((f) => {
      const sortKey = state.view === 'trash' ? null : f.sort;
      const active = sortKey && sortKey === sortField;
      const th = h('th', {
        scope: 'col', class: [colClass(f), f.align === 'end' && 'align-end'],
        'aria-sort': active ? (desc ? 'descending' : 'ascending') : null,
      });
      if (f.hiddenLabel) th.append(h('span', { class: 'visually-hidden' }, f.label));
      else if (sortKey) {
        th.append(h('button', {
          type: 'button', class: ['sort-btn', active && 'is-active'], dataset: { testid: `sort-header-${sortKey}` },
          title: active ? `Sorted ${desc ? 'descending' : 'ascending'}; click to ${desc ? 'clear the sort' : 'sort descending'}` : `Sort by ${f.label.toLowerCase()}`,
          onclick: () => cycleSort(f, sortKey),
        }, h('span', { class: 'truncate' }, f.label), xicon(active ? (desc ? 'arrowDown' : 'arrowUp') : 'sortBoth', { size: 13 })));
      } else th.append(h('span', { class: 'th-label truncate' }, f.label));
      return th;
    })));
  }

  function colClass(f) {
    return ['rl-col', `rl-col-${f.key.replace(/[^\w-]/g, '_')}`, f.hidePhone && 'hide-phone', f.priority >= 3 && 'prio-3', f.priority === 2 && 'prio-2', f.dim && 'is-dim']
      .filter(Boolean).join(' ');
  }

  function renderPicker() {
    const candidates = state.catalog.filter((f) => f.column !== false && !f.always);
    const std = candidates.filter((f) => !f.custom);
    const custom = candidates.filter((f) => f.custom);
    const chosen = new Set(state.columns);
    const box = (f) => h('label', { class: 'check-row', for: `col-${f.key}` },
      h('input', {
        type: 'checkbox', id: `col-${f.key}`, value: f.key, checked: chosen.has(f.key), dataset: { testid: `column-option-${f.key}` },
        onchange: (e) => {
          const set = new Set(state.columns);
          if (e.target.checked) set.add(f.key); else set.delete(f.key);
          // Keep the catalogue order so the table reads the same way every time.
          state.columns = state.catalog.map((x) => x.key).filter((k) => set.has(k));
          writeColumns(entity, state.columns);
          renderHead();
          rerenderRows();
          views.refresh();
        },
      }), h('span', null, f.label));
    mount(pickerPanel,
      h('div', { class: 'column-panel-title' }, 'Columns'),
      h('div', { class: 'column-group' }, std.map(box)),
      custom.length ? h('div', { class: 'column-group-title muted' }, 'Custom fields') : null,
      custom.length ? h('div', { class: 'column-group' }, custom.map(box)) : null,
      h('div', { class: 'qf-panel-foot' },
        h('button', { type: 'button', class: 'link-button', onclick: () => {
          state.columns = DEFAULT_COLUMNS[entity];
          writeColumns(entity, null);
          renderHead(); rerenderRows(); renderPicker(); views.refresh();
        } }, 'Reset to default')));
  }

  // --- Sorting -----------------------------------------------------------------
  function parseSort(s) {
    if (!s) return [null, false];
    return s.startsWith('-') ? [s.slice(1), true] : [s, false];
  }
  function cycleSort(f, key) {
    const [cur, desc] = parseSort(state.sort);
    const timeLike = f.kind === 'time' || f.kind === 'date' || f.kind === 'number' || f.kind === 'money';
    if (cur !== key) state.sort = timeLike ? `-${key}` : key;
    else if (desc === timeLike) state.sort = timeLike ? key : `-${key}`;
    else state.sort = '';
    applyChange();
  }

  // --- Rows ------------------------------------------------------------------------
  function nameCell(r) {
    const name = recordName(entity, r);
    const sub = config.subline?.(r);
    const label = name || unnamed(entity);
    return h('div', { class: 'name-cell' },
      avatar(entity, r, 'sm'),
      h('div', { class: 'name-text' },
        state.view === 'trash'
          ? h('span', { class: 'row-name' }, label)
          : h('a', { class: 'row-link', href: recordHref(entity, r.id) }, label),
        sub ? h('div', { class: 'cell-sub' }, sub) : null));
  }

  function restoreButton(r) {
    return h('button', {
      type: 'button', class: 'btn btn-sm', dataset: { testid: config.restoreTestid },
      'aria-label': `Restore ${recordName(entity, r) || config.singular}`,
      onclick: (e) => restore(r, e.currentTarget),
    }, xicon('undo', { size: 14 }), 'Restore');
  }

  function row(r, { fresh = false } = {}) {
    const cols = state.visible || columnFields();
    return h('tr', { class: ['rl-row', fresh && 'row-new'], dataset: { testid: config.rowTestid, id: r.id } },
      cols.map((f) => h('td', { class: [colClass(f), f.align === 'end' && 'align-end'] },
        f.key === 'name' ? nameCell(r) : (f.cell ? f.cell(r) : dash()))));
  }

  function spacer(height) {
    const cols = (state.visible || columnFields()).length;
    return h('tr', { class: 'rl-spacer', 'aria-hidden': 'true' }, h('td', { colspan: cols, style: { height: `${height}px` } }));
  }

  function newChunk() {
    const tbody = h('tbody');
    const chunk = { items: [], tbody, live: true, height: 0 };
    state.chunks.push(chunk);
    table.append(tbody);
    chunkObserver?.observe(tbody);
    tbody.__chunk = chunk;
    return chunk;
  }

  function appendItems(list) {
    let last = state.chunks[state.chunks.length - 1];
    for (const r of list) {
      if (!last || last.items.length >= CHUNK_SIZE) last = newChunk();
      last.items.push(r);
      if (last.live) last.tbody.append(row(r));
    }
    if (state.items.length > MAX_LIVE_ROWS) requestAnimationFrame(sweep);
  }

  /** Collapse the chunks far from the viewport (the observer only reports changes). */
  function sweep() {
    const margin = 2500;
    for (const c of state.chunks) {
      if (!c.live) continue;
      const r = c.tbody.getBoundingClientRect();
      if (r.bottom < -margin || r.top > window.innerHeight + margin) collapse(c);
    }
  }

  function collapse(chunk) {
    if (!chunk.live || state.items.length <= MAX_LIVE_ROWS) return;
    if (chunk.items.some((r) => state.items[state.selected]?.id === r.id)) return;
    if (chunk.tbody.contains(document.activeElement)) return;
    chunk.height = chunk.tbody.getBoundingClientRect().height;
    chunk.tbody.replaceChildren(spacer(chunk.height));
    chunk.live = false;
  }

  function expand(chunk) {
    if (chunk.live) return;
    chunk.tbody.replaceChildren(...chunk.items.map((r) => row(r)));
    chunk.live = true;
    markSelected();
  }

  const chunkObserver = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      const chunk = e.target.__chunk;
      if (!chunk) continue;
      if (e.isIntersecting) expand(chunk); else collapse(chunk);
    }
  }, { rootMargin: '2500px 0px 2500px 0px' }) : null;

  function clearRows() {
    for (const c of state.chunks) { chunkObserver?.unobserve(c.tbody); c.tbody.remove(); }
    state.chunks = [];
  }

  /**
   * Render every loaded item again (columns changed, or back from a record).
   * Long lists start as spacers of about the right height; the observer then
   * builds only the chunks near the viewport.
   */
  function rerenderRows() {
    const items = state.items;
    const rowH = table.querySelector('tr.rl-row')?.getBoundingClientRect().height || 40;
    clearRows();
    if (items.length <= MAX_LIVE_ROWS) {
      appendItems(items);
    } else {
      for (let i = 0; i < items.length; i += CHUNK_SIZE) {
        const c = newChunk();
        c.items = items.slice(i, i + CHUNK_SIZE);
        c.live = false;
        c.height = c.items.length * rowH;
        c.tbody.append(spacer(c.height));
      }
    }
    markSelected();
  }

  function skeleton() {
    dropSkeleton();
    clearRows();
    const cols = state.visible || columnFields();
    const tbody = h('tbody', { class: 'rl-skeleton' }, Array.from({ length: 10 }, (_, i) => h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' },
      cols.map((f, j) => h('td', { class: colClass(f) }, f.key === 'name'
        ? h('div', { class: 'name-cell' }, h('span', { class: 'avatar avatar-sm skeleton' }), h('span', { class: 'skeleton skeleton-text', style: { width: `${40 + ((i * 37) % 45)}%` } }))
        : h('span', { class: 'skeleton skeleton-text', style: { width: `${35 + ((i * 23 + j * 17) % 50)}%` } }))))));
    table.append(tbody);
    state.skeleton = tbody;
  }
  function dropSkeleton() { state.skeleton?.remove(); state.skeleton = null; }

  // --- Chrome -------------------------------------------------------------------
  function countText() {
    if (state.count) {
      const n = state.count.more ? `${nf.format(state.count.count)}+` : nf.format(state.count.count);
      const noun = state.count.count === 1 && !state.count.more ? config.singular : config.plural;
      return `${n} ${state.view === 'trash' ? `deleted ${noun}` : noun}${state.q || filterCount(state.filter) ? ' match' : ''}`;
    }
    if (state.loading && !state.items.length) return `Loading ${config.plural}…`;
    const n = state.items.length;
    return `${nf.format(n)}${state.cursor ? '+' : ''} ${n === 1 ? config.singular : config.plural}`;
  }

  function updateChrome() {
    const n = state.items.length;
    const has = n > 0;
    const filtered = !!state.q || filterCount(state.filter) > 0;
    tableWrap.hidden = !has && !state.loading;
    const showEmpty = !has && !state.loading && !state.error && state.exhausted;
    empty.hidden = !showEmpty;
    if (showEmpty) renderEmpty(filtered);
    loadMore.hidden = !state.cursor || !!state.error;
    loadMore.disabled = state.loading;
    loadMore.textContent = state.loading && has ? 'Loading…' : `Load more ${config.plural}`;
    endNote.hidden = !(state.exhausted && n > PAGE_SIZE);
    endNote.textContent = `That’s all ${nf.format(n)} ${config.plural}.`;
    table.setAttribute('aria-busy', String(state.loading));
    tableWrap.classList.toggle('is-refreshing', state.loading && has && !state.cursorLoad);
    countEl.textContent = state.error && !has ? `${config.title} could not be loaded.` : countText();
    trashButton.setAttribute('aria-pressed', String(state.view === 'trash'));
    trashButton.classList.toggle('is-active', state.view === 'trash');
    trashNote.hidden = state.view !== 'trash';
    newButton.hidden = state.view === 'trash' || !canWrite();
    importButton.hidden = state.view === 'trash' || !canWrite();
    exporter.wrap.hidden = state.view === 'trash';
    views.wrap.hidden = state.view === 'trash';
    if (duplicatesButton) duplicatesButton.hidden = state.view === 'trash';
    views.refresh();
    titleEl.textContent = state.view === 'trash' ? `${config.title}: trash` : config.title;
    picker.wrap.hidden = state.view === 'trash';
  }

  function renderEmpty(filtered) {
    if (state.view === 'trash') {
      mount(empty, emptyState({ testid: 'empty-state', iconName: 'trash', title: 'The trash is empty',
        text: `Deleted ${config.plural} appear here for 30 days, so a mistake can be undone.`,
        actions: [h('button', { type: 'button', class: 'btn', onclick: () => setView('') }, `Back to ${config.plural}`)] }));
    } else if (filtered) {
      mount(empty, emptyState({ testid: 'empty-state', iconName: 'search', title: `No ${config.plural} match`,
        text: state.q ? `Nothing matches “${state.q}” with these filters. Search looks at every word as a prefix.` : 'No records match these filters. Remove one, or switch between All and Any.',
        actions: [
          h('button', { type: 'button', class: 'btn', onclick: () => resetFilters() }, 'Clear search and filters'),
          h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: `empty-${config.newTestid}` }, onclick: () => view.openCreate() }, icon('plus'), config.newLabel),
        ] }));
    } else {
      mount(empty, emptyState({ testid: 'empty-state', iconName: config.emptyIcon || 'users', title: `No ${config.plural} yet`,
        text: config.emptyText,
        actions: [h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: `empty-${config.newTestid}` }, onclick: () => view.openCreate() }, icon('plus'), `Add your first ${config.singular}`)],
        hint: h('span', null, 'Tip: press ', h('kbd', null, 'C'), ` to add a ${config.singular}.`) }));
    }
  }

  function showError(err) {
    state.error = err;
    if (!err) { errorBox.hidden = true; errorBox.replaceChildren(); return; }
    errorBox.hidden = false;
    const filterProblem = err.isValidation && (err.errors.some((e) => e.field === 'filter' || e.field === 'sort'));
    mount(errorBox, icon('alert'),
      h('div', null,
        h('strong', null, filterProblem ? 'This view cannot be shown' : err.title || `Could not load ${config.plural}`), ' ',
        h('span', null, err.detail || err.message),
        err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null),
      filterProblem
        ? h('button', { type: 'button', class: 'btn btn-sm', onclick: () => resetFilters() }, 'Reset view')
        : h('button', { type: 'button', class: 'btn btn-sm', onclick: () => load({ reset: state.items.length === 0 }) }, 'Retry'));
  }

  // --- URL -------------------------------------------------------------------------
  function urlFor() {
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    const f = buildFilter(state.filter, config.quick);
    if (f) p.set('filter', JSON.stringify(f));
    if (state.sort) p.set('sort', state.sort);
    if (state.view) p.set('view', state.view);
    const s = p.toString();
    return s ? `${config.path}?${s}` : config.path;
  }

  /** The list's query as a saved view keeps it: search, filter, sort (no paging, no trash). */
  function savableQuery() {
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    const f = buildFilter(state.filter, config.quick);
    if (f) p.set('filter', JSON.stringify(f));
    if (state.sort) p.set('sort', state.sort);
    return p.toString();
  }

  function syncTitle() {
    const bits = [state.view === 'trash' ? `${config.title} trash` : config.title];
    if (state.q) bits.unshift(`“${state.q}”`);
    pageTitle(...bits);
  }

  function applyChange() {
    updateUrl(urlFor());
    syncTitle();
    renderHead();
    bar.update({ state: state.filter, q: state.q });
    load({ reset: true });
  }

  function setView(v) {
    state.view = v;
    state.selected = -1;
    applyChange();
  }

  function resetFilters() {
    state.filter = emptyFilterState();
    if (state.q) { state.q = ''; clearHeaderSearch(); }
    state.sort = '';
    applyChange();
  }

  function clearHeaderSearch() {
    const input = document.getElementById('global-search');
    if (input && document.activeElement !== input) input.value = '';
  }

  // --- Data --------------------------------------------------------------------
  function params() {
    return { q: state.q, filter: buildFilter(state.filter, config.quick), sort: state.sort || undefined, view: state.view || undefined };
  }

  async function loadCount() {
    state.countController?.abort();
    const c = new AbortController();
    state.countController = c;
    state.count = null;
    try {
      const { q, filter, view: v } = params();
      state.count = await crm.countRecords(entity, { q, filter, view: v, signal: c.signal });
      if (!c.signal.aborted) updateChrome();
    } catch (err) {
      if (err?.name !== 'AbortError') console.warn('count failed', err);
    }
  }

  async function load({ reset = false } = {}) {
    if (state.destroyed) return;
    if (state.loading && !reset) return;
    if (!reset && (state.exhausted || !state.cursor)) return;
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    const generation = ++state.generation;
    state.loading = true;
    state.cursorLoad = !reset;
    showError(null);
    if (reset) {
      loadCount();
      if (!state.items.length) skeleton();
    }
    updateChrome();
    try {
      const pageData = await crm.listRecords(entity, { ...params(), limit: PAGE_SIZE, cursor: reset ? undefined : state.cursor, signal: controller.signal });
      if (generation !== state.generation) return;
      dropSkeleton();
      if (reset) {
        state.items = [];
        state.ids.clear();
        state.selected = -1;
        clearRows();
      }
      const fresh = pageData.items.filter((r) => r?.id && !state.ids.has(r.id));
      fresh.forEach((r) => state.ids.add(r.id));
      state.items.push(...fresh);
      appendItems(fresh);
      state.cursor = pageData.next_cursor || null;
      state.exhausted = !state.cursor;
      state.loading = false;
      updateChrome();
      rearm();
    } catch (err) {
      if (err?.name === 'AbortError' || generation !== state.generation) return;
      state.loading = false;
      dropSkeleton();
      if (reset) { state.items = []; state.ids.clear(); clearRows(); }
      showError(err);
      updateChrome();
      if (!err.isValidation) toastError(err, `Could not load ${config.plural}`);
    }
  }

  let moreObserver = null;
  if ('IntersectionObserver' in window) {
    moreObserver = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && state.cursor && !state.loading && !state.error) load();
    }, { rootMargin: '0px 0px 1200px 0px' });
    moreObserver.observe(sentinel);
  }
  function rearm() {
    if (!moreObserver || !state.cursor) return;
    moreObserver.unobserve(sentinel);
    moreObserver.observe(sentinel);
  }

  async function restore(r, button) {
    button.disabled = true;
    try {
      const restored = await crm.restoreRecord(entity, r.id);
      removeItem(r.id);
      if (state.count) state.count = { ...state.count, count: Math.max(0, state.count.count - 1) };
      updateChrome();
      const name = recordName(entity, restored || r) || `The ${config.singular}`;
      toast(`${name} is back in your ${config.plural}.`, { kind: 'success', title: 'Restored', action: { label: 'Open', href: recordHref(entity, r.id) } });
    } catch (err) {
      button.disabled = false;
      toastError(err, `Could not restore this ${config.singular}`);
    }
  }

  function removeItem(id) {
    const i = indexOfId(id);
    if (i < 0) return;
    state.items.splice(i, 1);
    state.ids.delete(id);
    for (const c of state.chunks) {
      const j = c.items.findIndex((x) => x.id === id);
      if (j >= 0) { c.items.splice(j, 1); c.tbody.querySelector(`tr[data-id="${CSS.escape(id)}"]`)?.remove(); break; }
    }
    if (state.selected >= state.items.length) state.selected = state.items.length - 1;
    markSelected();
  }

  // --- Selection (j/k) ------------------------------------------------------------
  function indexOfId(id) { return state.items.findIndex((x) => x.id === id); }

  function rowEl(i) {
    const r = state.items[i];
    if (!r) return null;
    // Make sure its chunk is rendered.
    let k = 0;
    for (const c of state.chunks) {
      if (i < k + c.items.length) { expand(c); break; }
      k += c.items.length;
    }
    return table.querySelector(`tr[data-id="${CSS.escape(r.id)}"]`);
  }

  function markSelected() {
    table.querySelectorAll('tr.is-selected').forEach((tr) => tr.classList.remove('is-selected'));
    if (state.selected < 0) return;
    const id = state.items[state.selected]?.id;
    if (id) table.querySelector(`tr[data-id="${CSS.escape(id)}"]`)?.classList.add('is-selected');
  }

  function select(i, { focus = true, scroll = true } = {}) {
    if (i < 0 || i >= state.items.length) return;
    state.selected = i;
    const tr = rowEl(i);
    markSelected();
    if (!tr) return;
    if (scroll) tr.scrollIntoView({ block: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'instant' });
    if (focus) tr.querySelector('a.row-link, button')?.focus({ preventScroll: true });
    // Near the end: fetch the next page ahead of the user.
    if (state.cursor && i > state.items.length - 15) load();
  }

  // --- View API ----------------------------------------------------------------------
  const view = {
    kind: `${entity}-list`,
    entity,
    get query() { return state.q; },
    setQuery(next) {
      const value = (next || '').trim();
      if (value === state.q) return;
      state.q = value;
      applyChange();
    },
    openCreate() {
      if (!canWrite()) return;
      if (state.view === 'trash') setView('');
      config.openCreate({ onCreated: (r) => view.prepend(r) });
    },
    prepend(r) {
      if (!r?.id) return;
      if (state.ids.has(r.id)) removeItem(r.id);
      state.ids.add(r.id);
      state.items.unshift(r);
      let first = state.chunks[0];
      if (!first) first = newChunk();
      first.items.unshift(r);
      const tr = row(r, { fresh: true });
      if (first.live) first.tbody.prepend(tr);
      if (state.count) state.count = { ...state.count, count: state.count.count + 1 };
      if (state.selected >= 0) state.selected += 1;
      showError(null);
      updateChrome();
      tr.scrollIntoView({ block: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    },
    moveSelection(delta) {
      if (!state.items.length) return;
      let from = state.selected;
      const current = from >= 0 ? table.querySelector(`tr[data-id="${CSS.escape(state.items[from].id)}"]`) : null;
      const box = current?.getBoundingClientRect();
      if (from < 0 || !box || box.bottom < 0 || box.top > window.innerHeight) {
        // Nothing selected, or the selection scrolled away: start from the first row in view.
        const top = table.querySelector('thead th')?.getBoundingClientRect().bottom ?? 0;
        const firstVisible = [...table.querySelectorAll('tr.rl-row')].find((tr) => tr.getBoundingClientRect().bottom > Math.max(top, 0) + 4);
        from = firstVisible ? indexOfId(firstVisible.dataset.id) - (delta > 0 ? 1 : -1) : -1;
      }
      select(Math.max(0, Math.min(state.items.length - 1, from + delta)));
    },
    openSelection() {
      const r = state.items[state.selected];
      if (!r || state.view === 'trash') return false;
      navigate(recordHref(entity, r.id));
      return true;
    },
    openFilter() { bar.openBuilder(); },
    destroy() {
      state.destroyed = true;
      saved.set(`${entity}:${urlFor()}`, {
        items: state.items.slice(), cursor: state.cursor, exhausted: state.exhausted, count: state.count,
        scrollY: lastScrollY, selected: state.selected, at: Date.now(),
      });
      window.removeEventListener('scroll', onScroll);
      if (saved.size > 6) saved.delete(saved.keys().next().value);
      state.controller?.abort();
      state.countController?.abort();
      moreObserver?.disconnect();
      chunkObserver?.disconnect();
      offUsers();
      picker.close();
      exporter.close();
      views.close();
    },
  };

  // The router scrolls to the top before the next view replaces this one, so
  // remember where the user was as they scroll.
  let lastScrollY = window.scrollY;
  const onScroll = () => { lastScrollY = window.scrollY; };
  window.addEventListener('scroll', onScroll, { passive: true });

  // Owner names arrive after the rows (one users call per session).
  const offUsers = onUsers(() => {
    table.querySelectorAll('.owner-cell[data-user-id]').forEach((el) => el.replaceWith(ownerCell(el.dataset.userId)));
    bar.update({});
  });

  // --- Start ---------------------------------------------------------------------------
  async function init() {
    syncTitle();
    renderHead();
    updateChrome();
    skeleton();
    loadUsers();
    const [, defs, tagList] = await Promise.all([
      session.whenLoaded(),
      crm.customFields(entity).catch(() => []),
      crm.tags(entity).catch(() => []),
    ]);
    if (state.destroyed) return;
    state.defs = defs;
    state.tags = tagList;
    state.catalog = fieldCatalog(entity, defs);
    state.filter = parseFilter(state.filterText, config.quick);
    bar.update({ state: state.filter, catalog: state.catalog, tags: state.tags, q: state.q });
    renderHead();

    const back = saved.get(`${entity}:${urlFor()}`);
    if (nav === 'pop' && back && Date.now() - back.at < 10 * 60 * 1000 && back.items.length) {
      dropSkeleton();
      state.items = back.items;
      state.items.forEach((r) => state.ids.add(r.id));
      state.cursor = back.cursor;
      state.exhausted = back.exhausted;
      state.count = back.count;
      rerenderRows();
      state.selected = back.selected;
      markSelected();
      updateChrome();
      requestAnimationFrame(() => window.scrollTo(0, back.scrollY));
      rearm();
      return;
    }
    load({ reset: true });
  }
  init();
  return view;
}
