// Campaigns › Sequences (/campaigns/sequences): every drip sequence with its
// status, the segment people enter from, how many steps over how long, and
// how many are in it now, finished it or left early; a name search and a
// status filter (?status=), "New sequence". Keyboard: j/k select, Enter
// opens, n or c makes a new sequence.

import { h, mount, icon, pageTitle, debounce } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as capi from './campaigns-api.js';
import * as sapi from './segments-api.js';
import * as qapi from './sequences-api.js';
import { emptyState } from './contacts.js';
import { loadList, rowSelection } from './list-kit.js';
import { segmentHref } from './segment-display.js';
import { campaignsHeader, nf } from './campaign-display.js';
import {
  sequenceHref, sequenceStatusBadge, lengthText, exitLabel, sicon,
} from './sequence-display.js';

const FILTERS = [['', 'All'], ['active', 'Active'], ['paused', 'Paused'], ['draft', 'Drafts']];

export function sequenceListView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    items: [], loaded: false, segments: new Map(), q: (query.get('q') || '').trim(),
    status: FILTERS.some(([v]) => v && v === query.get('status')) ? query.get('status') : '',
    selected: -1, destroyed: false, controller: null,
  };
  pageTitle('Sequences', 'Campaigns');

  const newButton = h('a', {
    class: 'btn btn-primary', href: '/campaigns/sequences/new', dataset: { testid: 'new-sequence' }, hidden: true, 'aria-keyshortcuts': 'n',
  }, icon('plus'), h('span', null, 'New sequence'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));
  const searchInput = h('input', {
    id: 'sql-search', class: 'input-sm', type: 'search', autocomplete: 'off', maxlength: 120, placeholder: 'Search names and subjects',
    value: state.q, dataset: { testid: 'sequence-search' },
  });
  const search = h('form', { class: 'ol-search', role: 'search', 'aria-label': 'Find sequences', onsubmit: (e) => { e.preventDefault(); render(); } },
    h('label', { for: 'sql-search', class: 'visually-hidden' }, 'Search sequences'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), searchInput));
  const renderSoon = debounce(() => render(), 150);
  searchInput.addEventListener('input', renderSoon);
  const statusSwitch = h('div', { class: 'segmented cp-status-filter', role: 'group', 'aria-label': 'Status', dataset: { testid: 'sequence-status-filter' } },
    FILTERS.map(([v, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === state.status), dataset: { value: v, testid: `sequence-filter-${v || 'all'}` },
      onclick: () => { state.status = v; render(); },
    }, label)));
  const summary = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'sequences-summary' } });

  const cols = ['sqcol-name', 'sqcol-status', 'sqcol-segment', 'sqcol-active', 'sqcol-completed', 'sqcol-exited'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table sq-table', dataset: { testid: 'sequences-list' } },
    h('caption', { class: 'visually-hidden' }, 'Sequences'),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'sqcol-name' }, 'Sequence'),
      h('th', { scope: 'col', class: 'sqcol-status' }, 'Status'),
      h('th', { scope: 'col', class: 'sqcol-segment' }, 'Enters from'),
      h('th', { scope: 'col', class: 'sqcol-active align-end', title: 'In the sequence now, waiting for their next step' }, 'Active'),
      h('th', { scope: 'col', class: 'sqcol-completed align-end', title: 'Got every step' }, 'Completed'),
      h('th', { scope: 'col', class: 'sqcol-exited align-end', title: 'Left early: reached the goal, replied, unsubscribed or were taken out' }, 'Exited'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });

  mount(root,
    ...campaignsHeader('sequences', { sub: 'Drips: a series of emails, days apart, to everyone who joins a segment, until they convert or reply', actions: [newButton] }),
    h('div', { class: 'ol-toolbar cp-toolbar' }, search, statusSwitch, summary),
    wrap, empty,
    h('p', { class: 'visually-hidden', id: 'sql-help' }, 'Press j and k to move between sequences and Enter to open one.'));

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    tr.querySelector('a.row-link')?.click();
  });

  function syncUrl() {
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    if (state.status) p.set('status', state.status);
    const s = p.toString();
    updateUrl(`/campaigns/sequences${s ? `?${s}` : ''}`);
    statusSwitch.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.value === state.status)));
  }

  function segmentCell(s) {
    if (!s.segment_id) return h('span', { class: 'muted fst-italic' }, 'No segment yet');
    const seg = state.segments.get(s.segment_id);
    return h('a', { href: segmentHref(s.segment_id), class: 'cp-audience truncate', title: seg?.name || '' },
      icon(seg?.kind === 'static' ? 'users' : 'zap', { size: 13 }), h('span', { class: 'truncate' }, seg?.name || 'A deleted segment'));
  }

  function row(s) {
    const e = s.enrolments && typeof s.enrolments === 'object' ? s.enrolments : {};
    const exits = Object.entries(e.exits || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    const num = (v, testid, title) => h('td', { class: `sqcol-${testid} align-end num`, dataset: { testid: `sequence-row-${testid}` }, title }, nf.format(Number(v) || 0));
    return h('tr', { dataset: { testid: 'sequence-row', id: s.id, sequenceId: s.id, status: s.status } },
      h('td', { class: 'sqcol-name' },
        h('div', { class: 'name-text' },
          h('a', { class: 'row-link', href: sequenceHref(s.id), 'aria-describedby': 'sql-help', dataset: { testid: 'sequence-link' } }, s.name || 'Untitled sequence'),
          h('div', { class: 'cp-sub truncate' },
            h('span', { class: 'cp-sub-status' }, sequenceStatusBadge(s.status, 'sequence-row-status-phone')),
            lengthText(s.steps),
            s.goal ? h('span', { class: 'sq-goal-chip', title: 'Contacts who reach the goal leave' }, sicon('target', { size: 12 }), 'goal') : null))),
      h('td', { class: 'sqcol-status' }, sequenceStatusBadge(s.status, 'sequence-row-status')),
      h('td', { class: 'sqcol-segment' }, segmentCell(s)),
      num(e.active, 'active'),
      num(e.completed, 'completed'),
      num(e.exited, 'exited', exits.length ? exits.map(([r, n]) => `${exitLabel(r)}: ${nf.format(n)}`).join('\n') : null));
  }

  function render() {
    state.q = searchInput.value.trim();
    syncUrl();
    if (!state.loaded) return;
    const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    const text = (s) => `${s.name || ''} ${(s.steps || []).map((st) => st.subject || '').join(' ')}`.toLowerCase();
    const shown = state.items.filter((s) => (!state.status || s.status === state.status) && words.every((w) => text(s).includes(w)));
    const selectedId = tbody.querySelectorAll('tr[data-id]')[state.selected]?.dataset.id;
    mount(tbody, shown.map(row));
    if (selectedId) {
      const rows = [...tbody.querySelectorAll('tr[data-id]')];
      state.selected = rows.findIndex((r) => r.dataset.id === selectedId);
      rows[state.selected]?.classList.add('is-selected');
    } else state.selected = -1;
    const label = FILTERS.find(([v]) => v === state.status)?.[1].toLowerCase();
    summary.textContent = `${nf.format(shown.length)} ${shown.length === 1 ? 'sequence' : 'sequences'}${state.status ? ` · ${label}` : ''}`;
    wrap.hidden = !shown.length;
    empty.hidden = !!shown.length;
    if (shown.length) return;
    const w = capi.canWriteCampaigns();
    mount(empty, state.items.length
      ? emptyState({
        iconName: 'search', title: state.status && !words.length ? `No ${label} sequences` : 'No sequences match',
        text: 'Try another word, or show every sequence.',
        actions: [h('button', { type: 'button', class: 'btn', onclick: () => { searchInput.value = ''; state.status = ''; render(); } }, 'Show every sequence')],
      })
      : emptyState({
        iconName: 'clock', title: 'No sequences yet',
        text: 'A sequence welcomes everyone who joins a segment with a few emails, days apart — and stops for those who buy, reply or unsubscribe.',
        actions: w ? [h('a', { class: 'btn btn-primary', href: '/campaigns/sequences/new', dataset: { testid: 'empty-new-sequence' } }, icon('plus', { size: 15 }), 'New sequence')] : [],
        hint: w ? null : 'Your role can see sequences; marketing makes them.',
      }));
  }

  function load() {
    return loadList({
      state, table, wrap, empty, tbody, cols, title: 'Sequences', noun: 'the sequences', retry: load,
      fetch: (signal) => Promise.all([
        qapi.listSequences({ signal }),
        sapi.listSegments({ signal }).catch((err) => { if (err?.name === 'AbortError') throw err; return []; }),
        session.whenLoaded(),
      ]),
      loaded: ([items, segments]) => {
        segments.forEach((s) => state.segments.set(s.id, s));
        state.items = items;
        state.loaded = true;
        render();
      },
    });
  }

  const rowsKeys = rowSelection(tbody, state);

  session.whenLoaded().then(() => { if (!state.destroyed) newButton.hidden = !capi.canWriteCampaigns(); });
  load();
  return {
    kind: 'sequence-list',
    moveSelection: rowsKeys.move,
    openSelection: rowsKeys.open,
    openCreate: () => { if (capi.canWriteCampaigns()) navigate('/campaigns/sequences/new'); },
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      renderSoon.cancel();
    },
  };
}
