// The ticket queues (/service-desk): Mine, Unassigned, Breaching soon, All
// open, Resolved & closed (GET /api/v1/tickets?queue=…&status=…), a search
// by subject or #number, an optional customer filter (?contact_id=, from the
// contact page's Tickets card), rows with number, subject, customer,
// priority, status, assignee and an SLA countdown refreshed every 30 s.
// Without ?queue= the queue is "Mine" when the user has tickets, else
// "Unassigned". Keyboard: j/k select, Enter opens, n files a new ticket.

import { h, mount, icon, toastError, pageTitle, debounce, formatDate } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as tapi from './tickets-api.js';
import { recordNameOf } from './deal-display.js';
import { loadUsers, onUsers, ownerCell, timeAgo, xicon } from './records.js';
import { emptyState } from './contacts.js';
import {
  deskHeader, ticketStatusBadge, ticketPriorityBadge, slaChip, startSlaTicker, ticketNumber, channelLabel, dicon,
} from './ticket-display.js';
import { openTicketForm } from './ticket-form.js';

const PAGE = 50;
const nf = new Intl.NumberFormat();

export const QUEUES = [
  { key: 'mine', label: 'Mine', query: { queue: 'mine' } },
  { key: 'unassigned', label: 'Unassigned', query: { queue: 'unassigned' } },
  { key: 'breaching', label: 'Breaching soon', query: { queue: 'breaching' } },
  { key: 'open', label: 'All open', query: { queue: 'all' } },
  { key: 'done', label: 'Resolved & closed', query: { queue: 'all', status: 'resolved,closed' } },
];
const queueOf = (k) => QUEUES.find((q) => q.key === k) || null;

export function canWorkTickets() {
  return tapi.canWorkTicketsRole(session.getSession().user?.role);
}

export function ticketQueueView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    queue: queueOf(query.get('queue'))?.key || null,
    auto: false,
    q: (query.get('q') || '').trim(),
    contactId: /^c_[0-9A-Za-z]+$/.test(query.get('contact_id') || '') ? query.get('contact_id') : '',
    items: [],
    cursor: null,
    selected: -1,
    controller: null,
    destroyed: false,
  };
  pageTitle('Tickets', 'Service desk');

  const newButton = h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid: 'new-ticket' }, 'aria-keyshortcuts': 'n', hidden: true,
    onclick: () => view.openCreate(),
  }, icon('plus'), h('span', null, 'New ticket'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));

  const tabs = h('div', { class: 'segmented queue-tabs', role: 'group', 'aria-label': 'Queue', dataset: { testid: 'queue-tabs' } },
    QUEUES.map((qd) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': 'false', dataset: { testid: `queue-tab-${qd.key}`, queue: qd.key },
      onclick: () => { if (state.queue !== qd.key || state.auto) { state.queue = qd.key; state.auto = false; sync(); load(true); } },
    }, qd.label)));

  const searchInput = h('input', {
    id: 'ticket-search', class: 'input-sm', type: 'search', autocomplete: 'off', spellcheck: 'false', maxlength: 120,
    placeholder: 'Subject or #number', value: state.q, dataset: { testid: 'ticket-search' },
  });
  const searchForm = h('form', { class: 'ol-search tq-search', role: 'search', 'aria-label': 'Find tickets', novalidate: true },
    h('label', { for: 'ticket-search', class: 'visually-hidden' }, 'Find tickets by subject or number'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), searchInput));
  const searchSoon = debounce(() => applySearch(), 350);
  searchInput.addEventListener('input', searchSoon);
  searchForm.addEventListener('submit', (e) => { e.preventDefault(); searchSoon.cancel(); applySearch(); });
  function applySearch() {
    const v = searchInput.value.trim();
    if (v === state.q) return;
    state.q = v;
    sync();
    load(true);
  }

  const refresh = h('button', {
    type: 'button', class: 'btn btn-sm tq-refresh', dataset: { testid: 'queue-refresh' }, title: 'Refresh the queue', 'aria-label': 'Refresh the queue',
    onclick: () => load(true, { keepSelection: true }),
  }, icon('history', { size: 14 }), h('span', { class: 'btn-label' }, 'Refresh'));
  const chip = h('span', { class: 'ol-chips' });
  const count = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'ticket-count' } });
  const note = h('p', { class: 'tq-note muted', hidden: true, dataset: { testid: 'queue-note' } });

  const cols = ['tcl-num', 'tcl-subject', 'tcl-customer', 'tcl-priority', 'tcl-status', 'tcl-assignee', 'tcl-sla'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table tickets-table', dataset: { testid: 'ticket-queue' } },
    h('caption', { class: 'visually-hidden' }, 'Tickets'),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'tcl-num' }, '#'),
      h('th', { scope: 'col', class: 'tcl-subject' }, 'Subject'),
      h('th', { scope: 'col', class: 'tcl-customer' }, 'Customer'),
      h('th', { scope: 'col', class: 'tcl-priority' }, 'Priority'),
      h('th', { scope: 'col', class: 'tcl-status' }, 'Status'),
      h('th', { scope: 'col', class: 'tcl-assignee' }, 'Assignee'),
      h('th', { scope: 'col', class: 'tcl-sla' }, 'SLA'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });
  const more = h('button', { type: 'button', class: 'btn', hidden: true, dataset: { testid: 'load-more' }, onclick: () => load(false) }, 'Load more tickets');

  mount(root,
    ...deskHeader('tickets', { sub: 'Complaints and questions from customers, with their response and resolution targets', actions: [newButton] }),
    h('div', { class: 'ol-toolbar tq-toolbar' }, tabs, searchForm, chip, count, refresh),
    note,
    h('div', { class: 'ticket-list' }, wrap, empty, h('div', { class: 'list-footer' }, more)),
    h('p', { class: 'visually-hidden', id: 'tq-help' }, 'Press j and k to move between tickets and Enter to open one.'));

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    tr.querySelector('a.row-link')?.click();
  });
  // Focus on a row's link makes that row the selection (Tab, clicks, j/k alike).
  table.addEventListener('focusin', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr) return;
    const rows = [...tbody.querySelectorAll('tr[data-id]')];
    const i = rows.indexOf(tr);
    if (i >= 0 && i !== state.selected) { state.selected = i; markSelected(rows); }
  });

  function sync() {
    tabs.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.queue === state.queue)));
    if (document.activeElement !== searchInput) searchInput.value = state.q;
    const p = new URLSearchParams();
    if (state.queue && !state.auto) p.set('queue', state.queue);
    if (state.q) p.set('q', state.q);
    if (state.contactId) p.set('contact_id', state.contactId);
    const s = p.toString();
    updateUrl(`/service-desk${s ? `?${s}` : ''}`);
    renderChip();
  }

  function renderChip() {
    if (!state.contactId) { chip.replaceChildren(); return; }
    const name = h('span', { class: 'truncate' }, 'this customer');
    recordNameOf('contact', state.contactId).then((n) => { if (n) name.textContent = n; });
    mount(chip, h('span', { class: 'filter-chip', dataset: { testid: 'tickets-customer-filter' } },
      h('a', { class: 'chip-body', href: `/contacts/${encodeURIComponent(state.contactId)}`, title: 'Open the contact' }, xicon('user', { size: 13 }), 'Customer: ', name),
      h('button', {
        type: 'button', class: 'chip-x', 'aria-label': 'Show tickets of every customer',
        onclick: () => { state.contactId = ''; sync(); load(true); searchInput.focus(); },
      }, icon('x', { size: 13 }))));
  }

  // --- rows ---------------------------------------------------------------------------
  function customerLink(t, { tabbable = false } = {}) {
    const a = h('a', { class: 'cell-link truncate', href: `/contacts/${encodeURIComponent(t.contact_id)}`, tabindex: tabbable ? null : '-1' }, '…');
    recordNameOf('contact', t.contact_id).then((n) => { a.textContent = n || 'Unnamed contact'; a.title = n || ''; });
    return a;
  }

  function assigneeCell(t) {
    return h('span', { class: 'tk-assignee', dataset: { assigneeCell: t.assignee_id || '' } },
      t.assignee_id ? ownerCell(t.assignee_id) : h('span', { class: 'muted' }, 'Unassigned'));
  }

  function row(t) {
    const get = () => t;
    return h('tr', {
      class: ['tk-row', `tk-row-${t.priority}`],
      dataset: { testid: 'ticket-row', id: t.id, ticketId: t.id, status: t.status, priority: t.priority },
    },
    h('td', { class: 'tcl-num num' }, ticketNumber(t)),
    h('td', { class: 'tcl-subject' },
      h('div', { class: 'tk-subject-line' },
        h('span', { class: 'tk-num-inline num', 'aria-hidden': 'true' }, ticketNumber(t)),
        h('a', { class: 'row-link', href: `/tickets/${encodeURIComponent(t.id)}`, 'aria-describedby': 'tq-help', dataset: { testid: 'ticket-link' } },
          h('span', { class: 'visually-hidden' }, `${ticketNumber(t)} `), t.subject || '(no subject)'),
        t.escalated_at ? h('span', { class: 'tk-escalated', title: `Escalated ${new Date(t.escalated_at).toLocaleString()}` }, icon('alert', { size: 12 }), h('span', { class: 'visually-hidden' }, 'Escalated')) : null,
        t.reopened ? h('span', { class: 'tk-reopened-count', title: `Reopened ${t.reopened} ${t.reopened === 1 ? 'time' : 'times'}` }, dicon('undo', { size: 12 }), String(t.reopened)) : null),
      h('div', { class: 'tk-row-meta muted' },
        t.category ? h('span', null, t.category) : null,
        h('span', null, channelLabel(t.channel)),
        h('span', null, 'opened ', h('time', { datetime: t.created_at, title: formatDate(t.created_at, { withTime: true }) }, timeAgo(t.created_at)))),
      h('div', { class: 'tk-row-phone' },
        t.contact_id ? customerLink(t) : null,
        ticketStatusBadge(t.status, { testid: 'ticket-row-status' }),
        t.priority !== 'normal' ? ticketPriorityBadge(t.priority, { testid: 'ticket-row-priority-phone' }) : null,
        slaChip(get))),
    h('td', { class: 'tcl-customer' }, t.contact_id ? customerLink(t) : h('span', { class: 'muted' }, '—')),
    h('td', { class: 'tcl-priority' }, ticketPriorityBadge(t.priority, { quiet: true, testid: 'ticket-row-priority' })),
    h('td', { class: 'tcl-status' }, ticketStatusBadge(t.status, { testid: 'ticket-row-status-badge' })),
    h('td', { class: 'tcl-assignee' }, assigneeCell(t)),
    h('td', { class: 'tcl-sla' }, slaChip(get, { testid: 'ticket-row-sla' }),
      t.csat != null ? h('span', { class: 'tk-csat-mini', title: `Rated ${t.csat} out of 5` }, dicon('star', { size: 12 }), String(t.csat)) : null));
  }

  function skeleton() {
    mount(tbody, Array.from({ length: 7 }, (_, i) => h('tr', { 'aria-hidden': 'true' },
      cols.map((c, j) => h('td', { class: c }, h('span', { class: 'skeleton skeleton-text', style: { width: `${c === 'tcl-num' ? 60 : 35 + ((i * 29 + j * 13) % 50)}%` } }))))));
  }

  function emptyFor() {
    if (state.q) return { title: 'No tickets match', text: `No ticket in this queue has “${state.q}” in its subject or as its number.`, iconName: 'search' };
    if (state.contactId) return { title: 'No tickets here', text: `This customer has no ${state.queue === 'done' ? 'resolved or closed' : 'open'} tickets${state.queue === 'mine' || state.queue === 'unassigned' ? ' in this queue' : ''}.`, iconName: 'inbox' };
    switch (state.queue) {
      case 'mine': return { title: 'Nothing assigned to you', text: 'Tickets you take, or that are assigned to you, show here. Pick one from Unassigned.', iconName: 'inbox', actions: [['unassigned', 'Show unassigned']] };
      case 'unassigned': return { title: 'Every open ticket has someone on it', text: 'New complaints from the portal and tickets filed without an assignee land here.', iconName: 'check', actions: [['open', 'Show all open']] };
      case 'breaching': return { title: 'Nothing is about to breach', text: 'No open ticket has a response or resolution target due within the next two hours, and none is overdue.', iconName: 'check' };
      case 'done': return { title: 'No resolved tickets yet', text: 'Tickets show here once they are resolved; they close by themselves after a while without a reply.', iconName: 'inbox' };
      default: return { title: 'No open tickets', text: 'Customers file complaints in the portal; staff file them here with “New ticket”.', iconName: 'inbox' };
    }
  }

  async function load(reset, { keepSelection = false } = {}) {
    state.controller?.abort();
    const c = new AbortController();
    state.controller = c;
    more.disabled = true;
    const prevSelectedId = keepSelection ? tbody.querySelectorAll('tr[data-id]')[state.selected]?.dataset.id : null;
    if (reset) {
      state.items = []; state.cursor = null; state.selected = -1;
      if (!keepSelection) skeleton();
      wrap.hidden = false; empty.hidden = true; more.hidden = true;
    }
    table.setAttribute('aria-busy', 'true');
    try {
      let queue = queueOf(state.queue);
      let autoNote = '';
      if (!queue) {
        // No queue chosen: "Mine" when the user has tickets there, else "Unassigned".
        const mine = await tapi.listTickets({ ...queueOf('mine').query, q: state.q, contact_id: state.contactId || undefined, limit: PAGE }, { signal: c.signal });
        if (mine.items.length) { state.queue = 'mine'; queue = queueOf('mine'); state.auto = true; finish(mine); return; }
        state.queue = 'unassigned';
        state.auto = true;
        queue = queueOf('unassigned');
        autoNote = 'Nothing is assigned to you, so this shows the unassigned tickets.';
      }
      const p = await tapi.listTickets({
        ...queue.query, q: state.q, contact_id: state.contactId || undefined, limit: PAGE, cursor: reset ? undefined : state.cursor,
      }, { signal: c.signal });
      finish(p, autoNote);
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (reset) tbody.replaceChildren();
      if (err?.status === 403) {
        wrap.hidden = true;
        empty.hidden = false;
        mount(empty, emptyState({ testid: 'error-state', iconName: 'lock', title: 'Tickets are not available to your role', text: 'Ask an admin of your workspace if you need to see them.' }));
      } else {
        wrap.hidden = true;
        empty.hidden = false;
        mount(empty, emptyState({
          testid: 'error-state', iconName: 'alert', title: err.title || 'Could not load the tickets', text: `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
          actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => load(true) }, 'Retry')],
        }));
        toastError(err, 'Could not load the tickets');
      }
    } finally {
      if (state.controller === c) {
        more.disabled = false;
        table.setAttribute('aria-busy', 'false');
      }
    }

    function finish(p, autoNote = '') {
      if (state.destroyed) return;
      sync();
      if (reset) tbody.replaceChildren();
      state.items.push(...p.items);
      tbody.append(...p.items.map(row));
      state.cursor = p.next_cursor;
      const n = state.items.length;
      count.textContent = `${nf.format(n)}${state.cursor ? '+' : ''} ${n === 1 ? 'ticket' : 'tickets'}`;
      note.hidden = !autoNote;
      note.textContent = autoNote;
      wrap.hidden = n === 0;
      empty.hidden = n !== 0;
      if (!n) {
        const e = emptyFor();
        const actions = (e.actions || []).map(([k, label]) => h('button', { type: 'button', class: 'btn', onclick: () => { state.queue = k; state.auto = false; sync(); load(true); } }, label));
        if (state.q || state.contactId) {
          actions.push(h('button', { type: 'button', class: 'btn', onclick: () => { state.q = ''; state.contactId = ''; sync(); load(true); } }, 'Clear the search'));
        }
        if (canWorkTickets() && !state.q) actions.push(h('button', { type: 'button', class: 'btn btn-primary', onclick: () => view.openCreate() }, icon('plus', { size: 15 }), 'New ticket'));
        mount(empty, emptyState({ testid: 'empty-state', iconName: e.iconName, title: e.title, text: e.text, actions }));
      }
      more.hidden = !state.cursor;
      if (prevSelectedId) {
        const rows = [...tbody.querySelectorAll('tr[data-id]')];
        const i = rows.findIndex((r) => r.dataset.id === prevSelectedId);
        if (i >= 0) { state.selected = i; markSelected(rows); }
      }
    }
  }

  function markSelected(rows = [...tbody.querySelectorAll('tr[data-id]')]) {
    rows.forEach((r, j) => r.classList.toggle('is-selected', j === state.selected));
  }

  function select(i) {
    const rows = [...tbody.querySelectorAll('tr[data-id]')];
    if (!rows.length) return;
    state.selected = Math.max(0, Math.min(rows.length - 1, i));
    markSelected(rows);
    const link = rows[state.selected].querySelector('a.row-link');
    link?.focus({ preventScroll: true });
    rows[state.selected].scrollIntoView({ block: 'nearest' });
    if (state.cursor && state.selected >= rows.length - 3 && !more.disabled) load(false);
  }

  const offUsers = onUsers(() => {
    tbody.querySelectorAll('[data-assignee-cell]').forEach((el) => {
      const id = el.dataset.assigneeCell;
      if (id) el.replaceChildren(ownerCell(id));
    });
  });
  const stopTicker = startSlaTicker(root);

  const view = {
    kind: 'ticket-queue',
    moveSelection(d) { select(state.selected < 0 ? (d > 0 ? 0 : 0) : state.selected + d); },
    openSelection() {
      const tr = tbody.querySelectorAll('tr[data-id]')[state.selected];
      if (!tr) return false;
      navigate(`/tickets/${encodeURIComponent(tr.dataset.id)}`);
      return true;
    },
    openCreate() {
      if (!canWorkTickets()) return;
      const contact = state.contactId ? { id: state.contactId, name: '' } : null;
      if (contact) recordNameOf('contact', contact.id).then((n) => { contact.name = n || ''; openTicketForm({ contact }); });
      else openTicketForm({});
    },
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      searchSoon.cancel();
      stopTicker();
      offUsers();
    },
  };

  session.whenLoaded().then(() => { if (!state.destroyed) newButton.hidden = !canWorkTickets(); });
  loadUsers();
  sync();
  load(true);
  return view;
}
