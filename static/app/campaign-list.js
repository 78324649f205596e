// Campaigns › Campaigns (/campaigns, /campaigns/list): every campaign with its
// status, audience (segment or list), how many were sent and the open and
// click rates, and when it goes or went out, in the campaign's own time zone
// (UTC and your time on hover); a status filter (?status=) and "New
// campaign". While one is sending the list refreshes itself. Keyboard: j/k
// select, Enter opens, n or c makes a new campaign.

import { h, mount, icon, pageTitle, debounce } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as capi from './campaigns-api.js';
import * as sapi from './segments-api.js';
import { emptyState } from './contacts.js';
import { loadList, rowSelection } from './list-kit.js';
import { segmentHref } from './segment-display.js';
import {
  campaignsHeader, campaignStatusBadge, campaignHref, zonedTime, pct, nf, cicon,
} from './campaign-display.js';

const FILTERS = [['', 'All'], ['draft', 'Drafts'], ['scheduled', 'Scheduled'], ['sending', 'Sending'], ['sent', 'Sent'], ['cancelled', 'Cancelled']];
const POLL_MS = 5000;

export function campaignListView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    items: [], loaded: false, segments: new Map(), q: (query.get('q') || '').trim(),
    status: FILTERS.some(([v]) => v && v === query.get('status')) ? query.get('status') : '',
    selected: -1, destroyed: false, controller: null, timer: null,
  };
  const basePath = location.pathname.startsWith('/campaigns/list') ? '/campaigns/list' : '/campaigns';
  pageTitle('Campaigns');

  const newButton = h('a', {
    class: 'btn btn-primary', href: '/campaigns/new', dataset: { testid: 'new-campaign' }, hidden: true, 'aria-keyshortcuts': 'n',
  }, icon('plus'), h('span', null, 'New campaign'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));
  const searchInput = h('input', {
    id: 'cpl-search', class: 'input-sm', type: 'search', autocomplete: 'off', maxlength: 120, placeholder: 'Search names and subjects',
    value: state.q, dataset: { testid: 'campaign-search' },
  });
  const search = h('form', { class: 'ol-search', role: 'search', 'aria-label': 'Find campaigns', onsubmit: (e) => { e.preventDefault(); render(); } },
    h('label', { for: 'cpl-search', class: 'visually-hidden' }, 'Search campaigns'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), searchInput));
  const renderSoon = debounce(() => render(), 150);
  searchInput.addEventListener('input', renderSoon);
  const statusSwitch = h('div', { class: 'segmented cp-status-filter', role: 'group', 'aria-label': 'Status', dataset: { testid: 'campaign-status-filter' } },
    FILTERS.map(([v, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === state.status), dataset: { value: v, testid: `campaign-filter-${v || 'all'}` },
      onclick: () => { state.status = v; syncUrl(); load(); },
    }, label)));
  const summary = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'campaigns-summary' } });

  const cols = ['cpcol-name', 'cpcol-status', 'cpcol-audience', 'cpcol-sent', 'cpcol-open', 'cpcol-click', 'cpcol-when'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table cp-table', dataset: { testid: 'campaigns-list' } },
    h('caption', { class: 'visually-hidden' }, 'Email campaigns'),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'cpcol-name' }, 'Campaign'),
      h('th', { scope: 'col', class: 'cpcol-status' }, 'Status'),
      h('th', { scope: 'col', class: 'cpcol-audience' }, 'Audience'),
      h('th', { scope: 'col', class: 'cpcol-sent align-end' }, 'Sent'),
      h('th', { scope: 'col', class: 'cpcol-open align-end', title: 'Opened, of delivered' }, 'Opens'),
      h('th', { scope: 'col', class: 'cpcol-click align-end', title: 'Clicked, of delivered' }, 'Clicks'),
      h('th', { scope: 'col', class: 'cpcol-when' }, 'When'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });

  mount(root,
    ...campaignsHeader('campaigns', { sub: 'Emails to a segment, sent now or at a time in their own time zone, with what recipients did', actions: [newButton] }),
    h('div', { class: 'ol-toolbar cp-toolbar' }, search, statusSwitch, summary),
    wrap, empty,
    h('p', { class: 'visually-hidden', id: 'cpl-help' }, 'Press j and k to move between campaigns and Enter to open one.'));

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
    updateUrl(`${basePath}${s ? `?${s}` : ''}`);
    statusSwitch.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.value === state.status)));
  }

  function when(c) {
    if (c.status === 'sent' || c.status === 'cancelled') {
      return h('div', { class: 'cp-when' }, h('span', { class: 'cp-when-label muted' }, c.status === 'sent' ? 'Sent ' : 'Stopped '), zonedTime(c.finished_at || c.started_at || c.updated_at, c.time_zone));
    }
    if (c.status === 'scheduled' || c.status === 'sending') {
      return h('div', { class: 'cp-when' }, h('span', { class: 'cp-when-label muted' }, c.status === 'scheduled' ? 'Goes out ' : 'Since '), zonedTime(c.status === 'sending' ? c.started_at || c.send_at : c.send_at, c.time_zone, { testid: 'campaign-row-when' }));
    }
    return h('span', { class: 'muted' }, 'Not scheduled');
  }

  function audience(c) {
    if (!c.segment_id) return h('span', { class: 'muted fst-italic' }, 'No audience yet');
    const s = state.segments.get(c.segment_id);
    return h('a', { href: segmentHref(c.segment_id), class: 'cp-audience truncate', title: s?.name || '' },
      icon(s?.kind === 'static' ? 'users' : 'zap', { size: 13 }), h('span', { class: 'truncate' }, s?.name || 'A deleted segment'));
  }

  function row(c) {
    const st = c.status !== 'draft' && c.stats && typeof c.stats === 'object' ? c.stats : null;
    const num = (v) => (st ? nf.format(Number(v) || 0) : '—');
    return h('tr', { dataset: { testid: 'campaign-row', id: c.id, campaignId: c.id, status: c.status } },
      h('td', { class: 'cpcol-name' },
        h('div', { class: 'name-text' },
          h('a', { class: 'row-link', href: campaignHref(c.id), 'aria-describedby': 'cpl-help', dataset: { testid: 'campaign-link' } }, c.name || 'Untitled campaign'),
          h('div', { class: 'cp-sub truncate', title: c.subject || '' },
            h('span', { class: 'cp-sub-status' }, campaignStatusBadge(c.status, 'campaign-row-status-phone')),
            c.subject || h('span', { class: 'fst-italic' }, 'No subject yet')))),
      h('td', { class: 'cpcol-status' }, campaignStatusBadge(c.status, 'campaign-row-status'), c.ab ? h('span', { class: 'cp-ab-chip', title: 'A/B test of two subject lines' }, 'A/B') : null),
      h('td', { class: 'cpcol-audience' }, audience(c)),
      h('td', { class: 'cpcol-sent align-end num', dataset: { testid: 'campaign-row-sent' } }, num(st?.sent)),
      h('td', { class: 'cpcol-open align-end num' }, st && st.delivered ? pct(st.open_rate) : '—'),
      h('td', { class: 'cpcol-click align-end num' }, st && st.delivered ? pct(st.click_rate) : '—'),
      h('td', { class: 'cpcol-when' }, when(c)));
  }

  function render() {
    state.q = searchInput.value.trim();
    syncUrl();
    if (!state.loaded) return;
    const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = state.items.filter((c) => words.every((w) => `${c.name || ''} ${c.subject || ''}`.toLowerCase().includes(w)));
    const selectedId = tbody.querySelectorAll('tr[data-id]')[state.selected]?.dataset.id;
    mount(tbody, shown.map(row));
    if (selectedId) {
      const rows = [...tbody.querySelectorAll('tr[data-id]')];
      state.selected = rows.findIndex((r) => r.dataset.id === selectedId);
      rows[state.selected]?.classList.add('is-selected');
    } else state.selected = -1;
    const label = FILTERS.find(([v]) => v === state.status)?.[1].toLowerCase();
    summary.textContent = `${nf.format(shown.length)} ${shown.length === 1 ? 'campaign' : 'campaigns'}${state.status ? ` · ${label}` : ''}`;
    wrap.hidden = !shown.length;
    empty.hidden = !!shown.length;
    if (shown.length) return;
    const w = capi.canWriteCampaigns();
    mount(empty, state.items.length || state.status
      ? emptyState({
        iconName: 'search', title: state.status ? `No ${label} campaigns` : 'No campaigns match',
        text: 'Try another word, or show every campaign.',
        actions: [h('button', { type: 'button', class: 'btn', onclick: () => { searchInput.value = ''; state.status = ''; syncUrl(); load(); } }, 'Show every campaign')],
      })
      : emptyState({
        iconName: 'megaphone', title: 'No campaigns yet',
        text: 'A campaign sends an email to a segment: now, or at a time in the time zone you choose. Start from a template, or write it here.',
        actions: w ? [
          h('a', { class: 'btn btn-primary', href: '/campaigns/new', dataset: { testid: 'empty-new-campaign' } }, icon('plus', { size: 15 }), 'New campaign'),
          h('a', { class: 'btn', href: '/campaigns/templates/new' }, cicon('template', { size: 15 }), 'Write a template first'),
        ] : [],
        hint: w ? null : 'Your role can see campaigns; marketing sends them.',
      }));
  }

  function schedulePoll() {
    clearTimeout(state.timer);
    if (state.destroyed) return;
    const now = Date.now();
    const busy = state.items.some((c) => c.status === 'sending' || (c.status === 'scheduled' && c.send_at && new Date(c.send_at).getTime() <= now + POLL_MS));
    if (busy) state.timer = setTimeout(() => load({ quiet: true }), POLL_MS);
  }

  function load({ quiet = false } = {}) {
    clearTimeout(state.timer);
    return loadList({
      state, table, wrap, empty, tbody, cols, rows: 4, title: 'Campaigns', noun: 'the campaigns', retry: load,
      quiet, failedQuietly: () => schedulePoll(),
      fetch: (signal) => Promise.all([
        capi.listCampaigns({ status: state.status, signal }),
        state.segments.size ? null : sapi.listSegments({ signal }).catch((err) => { if (err?.name === 'AbortError') throw err; return []; }),
        session.whenLoaded(),
      ]),
      loaded: ([items, segments]) => {
        if (segments) segments.forEach((s) => state.segments.set(s.id, s));
        state.items = items;
        state.loaded = true;
        render();
        schedulePoll();
      },
    });
  }

  const rowsKeys = rowSelection(tbody, state);

  session.whenLoaded().then(() => { if (!state.destroyed) newButton.hidden = !capi.canWriteCampaigns(); });
  load();
  return {
    kind: 'campaign-list',
    moveSelection: rowsKeys.move,
    openSelection: rowsKeys.open,
    openCreate: () => { if (capi.canWriteCampaigns()) navigate('/campaigns/new'); },
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      clearTimeout(state.timer);
      renderSoon.cancel();
    },
  };
}
