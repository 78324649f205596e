// What the record lists of the campaigns and automations areas share: the
// loading rows, the error state (a polite note for a role without access,
// else the problem with a Retry), loading a list with both, and keyboard row
// selection (j/k, Enter).
import { h, mount, toastError } from './ui.js';
import { emptyState } from './contacts.js';

/** Skeleton rows shaped like the table's columns (`cols`: their classes). */
export function skeletonRows(cols, n = 3) {
  return Array.from({ length: n }, (_, i) => h('tr', { 'aria-hidden': 'true' },
    cols.map((c, j) => h('td', { class: c }, h('span', { class: 'skeleton skeleton-text', style: { width: `${35 + ((i * 29 + j * 13) % 50)}%` } })))));
}

/**
 * Loads a list page: the previous load aborted, skeleton rows (`rows` of
 * them) while this one runs, the error state if it fails. `fetch(signal)`
 * answers the data; `loaded(data, signal)` draws it (never once the page is
 * gone). A `quiet` load (a background refresh) keeps what is shown meanwhile,
 * and its failure only goes to `failedQuietly(err)`.
 */
export async function loadList({
  state, table, wrap, empty, tbody, cols, rows = 3, title, noun, retry, fetch, loaded, quiet = false, failedQuietly = null,
}) {
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  if (!quiet) {
    wrap.hidden = false;
    empty.hidden = true;
    mount(tbody, skeletonRows(cols, rows));
    table.setAttribute('aria-busy', 'true');
  }
  try {
    const data = await fetch(controller.signal);
    if (state.destroyed || controller.signal.aborted) return;
    loaded(data, controller.signal);
  } catch (err) {
    if (err?.name === 'AbortError' || state.destroyed) return;
    if (quiet) { failedQuietly?.(err); return; }
    wrap.hidden = true;
    empty.hidden = false;
    showLoadError(empty, err, { title, noun, retry });
  } finally {
    if (!controller.signal.aborted) table.setAttribute('aria-busy', 'false');
  }
}

/** Shows why a list did not load in `empty` (`noun`: "the forms", title word "Forms"). */
export function showLoadError(empty, err, { title, noun, retry }) {
  const forbidden = err.status === 403;
  mount(empty, emptyState({
    testid: 'error-state', iconName: forbidden ? 'lock' : 'alert',
    title: forbidden ? `${title} are not available to your role` : (err.title || `Could not load ${noun}`),
    text: `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
    actions: forbidden ? [] : [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => retry() }, 'Retry')],
  }));
  if (!forbidden) toastError(err, `Could not load ${noun}`);
}

/** Keyboard selection over `tbody`'s `tr[data-id]` rows; `state.selected` holds the index. */
export function rowSelection(tbody, state) {
  const rows = () => [...tbody.querySelectorAll('tr[data-id]')];
  function select(i) {
    const all = rows();
    if (!all.length) return;
    state.selected = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r, j) => r.classList.toggle('is-selected', j === state.selected));
    all[state.selected].querySelector('a.row-link')?.focus();
    all[state.selected].scrollIntoView({ block: 'nearest' });
  }
  return {
    select,
    move: (d) => select(state.selected < 0 ? 0 : state.selected + d),
    open: () => {
      const a = rows()[state.selected]?.querySelector('a.row-link');
      if (a) { a.click(); return true; }
      return false;
    },
  };
}
