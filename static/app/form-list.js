// Automations › Forms (/automations/forms): every lead-capture form with its
// status, how many leads it brought (accepted submissions), when the last one
// came, and "New form". Keyboard: j/k select, Enter opens, n or c makes a new
// form.

import { h, mount, icon, pageTitle, debounce, formatDate } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as fapi from './automations-api.js';
import { emptyState } from './contacts.js';
import { loadList, rowSelection } from './list-kit.js';
import { relative } from './campaign-display.js';
import { automationsHeader, formStatusBadge, formHref, nf } from './form-display.js';

const ASSIGNMENT = { none: 'Unassigned', round_robin: 'Round robin', rules: 'Rules, then round robin' };

export function formListView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    items: [], loaded: false, q: (query.get('q') || '').trim(),
    selected: -1, destroyed: false, controller: null,
  };
  pageTitle('Forms', 'Automations');

  const newButton = h('a', {
    class: 'btn btn-primary', href: '/automations/forms/new', dataset: { testid: 'new-form' }, hidden: true, 'aria-keyshortcuts': 'n',
  }, icon('plus'), h('span', null, 'New form'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));
  const searchInput = h('input', {
    id: 'fml-search', class: 'input-sm', type: 'search', autocomplete: 'off', maxlength: 120, placeholder: 'Search forms',
    value: state.q, dataset: { testid: 'form-search' },
  });
  const search = h('form', { class: 'ol-search', role: 'search', 'aria-label': 'Find forms', onsubmit: (e) => { e.preventDefault(); render(); } },
    h('label', { for: 'fml-search', class: 'visually-hidden' }, 'Search forms'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), searchInput));
  const renderSoon = debounce(() => render(), 150);
  searchInput.addEventListener('input', renderSoon);
  const summary = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'forms-summary' } });

  const cols = ['fmcol-name', 'fmcol-status', 'fmcol-leads', 'fmcol-last', 'fmcol-updated'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table cp-table fm-table', dataset: { testid: 'forms-list' } },
    h('caption', { class: 'visually-hidden' }, 'Lead-capture forms'),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'fmcol-name' }, 'Form'),
      h('th', { scope: 'col', class: 'fmcol-status' }, 'Status'),
      h('th', { scope: 'col', class: 'fmcol-leads align-end', title: 'Accepted submissions (spam is not counted)' }, 'Leads'),
      h('th', { scope: 'col', class: 'fmcol-last' }, 'Last submission'),
      h('th', { scope: 'col', class: 'fmcol-updated' }, 'Changed'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });

  mount(root,
    ...automationsHeader('forms', { sub: 'Forms on your website that turn visitors into contacts, with an owner and a note', actions: [newButton] }),
    h('div', { class: 'ol-toolbar cp-toolbar' }, search, summary),
    wrap, empty,
    h('p', { class: 'visually-hidden', id: 'fml-help' }, 'Press j and k to move between forms and Enter to open one.'));

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    tr.querySelector('a.row-link')?.click();
  });

  function syncUrl() {
    updateUrl(`/automations/forms${state.q ? `?q=${encodeURIComponent(state.q)}` : ''}`);
  }

  function lastCell(f) {
    if (!f.submissions) return h('span', { class: 'muted' }, 'None yet');
    // The form carries when its last lead came (no call per form).
    const at = f.last_submission_at;
    if (!at) return h('span', { class: 'muted' }, '—');
    return h('time', { datetime: at, title: formatDate(at, { withTime: true }), dataset: { testid: 'form-row-last' } }, relative(at));
  }

  function row(f) {
    const n = Number(f.submissions) || 0;
    const fields = Array.isArray(f.fields) ? f.fields.length : 0;
    const mode = f.assignment?.mode || 'none';
    return h('tr', { dataset: { testid: 'form-row', id: f.id, formId: f.id, status: f.status } },
      h('td', { class: 'fmcol-name' },
        h('div', { class: 'name-text' },
          h('a', { class: 'row-link', href: formHref(f.id), 'aria-describedby': 'fml-help', dataset: { testid: 'form-link' } }, f.name || 'Untitled form'),
          h('div', { class: 'cp-sub truncate' },
            h('span', { class: 'cp-sub-status' }, formStatusBadge(f.status, 'form-row-status-phone')),
            `${fields} ${fields === 1 ? 'field' : 'fields'} · ${ASSIGNMENT[mode] || mode}`,
            f.consent?.enabled ? ' · consent' : ''))),
      h('td', { class: 'fmcol-status' }, formStatusBadge(f.status, 'form-row-status')),
      h('td', { class: 'fmcol-leads align-end num', dataset: { testid: 'form-row-submissions' } }, nf.format(n)),
      h('td', { class: 'fmcol-last' }, lastCell(f)),
      h('td', { class: 'fmcol-updated' }, h('time', { datetime: f.updated_at, title: formatDate(f.updated_at, { withTime: true }) }, formatDate(f.updated_at))));
  }

  function render() {
    state.q = searchInput.value.trim();
    syncUrl();
    if (!state.loaded) return;
    const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = state.items.filter((f) => words.every((w) => String(f.name || '').toLowerCase().includes(w)));
    const selectedId = tbody.querySelectorAll('tr[data-id]')[state.selected]?.dataset.id;
    mount(tbody, shown.map(row));
    if (selectedId) {
      const rows = [...tbody.querySelectorAll('tr[data-id]')];
      state.selected = rows.findIndex((r) => r.dataset.id === selectedId);
      rows[state.selected]?.classList.add('is-selected');
    } else state.selected = -1;
    const active = shown.filter((f) => f.status === 'active').length;
    summary.textContent = `${nf.format(shown.length)} ${shown.length === 1 ? 'form' : 'forms'}${shown.length ? ` · ${nf.format(active)} active` : ''}`;
    wrap.hidden = !shown.length;
    empty.hidden = !!shown.length;
    if (shown.length) return;
    const w = fapi.canWriteForms();
    mount(empty, state.items.length
      ? emptyState({
        iconName: 'search', title: 'No forms match', text: 'Try another word.',
        actions: [h('button', { type: 'button', class: 'btn', onclick: () => { searchInput.value = ''; render(); } }, 'Show every form')],
      })
      : emptyState({
        iconName: 'inbox', title: 'No forms yet', testid: 'forms-empty',
        text: 'A form on your website, or on a page we host, turns each visitor who fills it in into a contact — matched by email, with an owner, tags and a note with their answers.',
        actions: w ? [h('a', { class: 'btn btn-primary', href: '/automations/forms/new', dataset: { testid: 'empty-new-form' } }, icon('plus', { size: 15 }), 'New form')] : [],
        hint: w ? null : 'Your role can see forms; marketing builds them.',
      }));
  }

  /** The forms, with the rows drawn once they are in. */
  function load() {
    return loadList({
      state, table, wrap, empty, tbody, cols, title: 'Forms', noun: 'the forms', retry: load,
      fetch: (signal) => Promise.all([fapi.listForms({ signal }), session.whenLoaded()]),
      loaded: ([items]) => {
        state.items = items;
        state.loaded = true;
        render();
      },
    });
  }

  const rowsKeys = rowSelection(tbody, state);

  session.whenLoaded().then(() => { if (!state.destroyed) newButton.hidden = !fapi.canWriteForms(); });
  load();
  return {
    kind: 'form-list',
    moveSelection: rowsKeys.move,
    openSelection: rowsKeys.open,
    openCreate: () => { if (fapi.canWriteForms()) navigate('/automations/forms/new'); },
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      renderSoon.cancel();
    },
  };
}
