// Orders list (/service-desk/orders): every order, newest
// first, with a status filter, a search by order number (exact), an optional
// customer filter (?contact_id=, from the contact page's Orders card) and
// "load more" over cursors. The filters live in the URL. "New order" (and
// `n`) opens the order dialog, prefilled with the filtered customer.

import { h, mount, icon, toastError, pageTitle } from './ui.js';
import { updateUrl } from './router.js';
import * as session from './session.js';
import * as oapi from './orders-api.js';
import { openOrderForm } from './order-form.js';
import { recordNameOf } from './deal-display.js';
import { compactTime, xicon } from './records.js';
import { emptyState } from './contacts.js';
import { ORDER_STATUSES, statusLabel, orderStatusBadge, orderMoneyEl, itemsText, orderTitle, oicon } from './order-display.js';
import { deskHeader } from './ticket-display.js';

const PAGE = 25;
const nf = new Intl.NumberFormat();

export function orderListView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    status: ORDER_STATUSES.includes(query.get('status')) ? query.get('status') : '',
    number: (query.get('number') || '').trim(),
    contactId: /^c_[0-9A-Za-z]+$/.test(query.get('contact_id') || '') ? query.get('contact_id') : '',
    items: [],
    cursor: null,
    controller: null,
    destroyed: false,
  };
  const basePath = location.pathname.replace(/\/+$/, '') || '/service-desk/orders';
  pageTitle('Orders', 'Service desk');

  const statusSwitch = h('div', { class: 'segmented order-status-filter', role: 'group', 'aria-label': 'Status' },
    [['', 'All'], ...ORDER_STATUSES.map((s) => [s, statusLabel(s)])].map(([v, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === state.status), dataset: { testid: `order-status-filter-${v || 'all'}`, value: v },
      onclick: () => { if (state.status !== v) { state.status = v; sync(); load(true); } },
    }, label)));

  const numberInput = h('input', {
    id: 'order-number-search', class: 'input-sm', type: 'search', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'e.g. 1001', value: state.number, dataset: { testid: 'order-number-search' },
  });
  const numberForm = h('form', { class: 'ol-search', role: 'search', 'aria-label': 'Find an order by number', novalidate: true },
    h('label', { for: 'order-number-search', class: 'ol-search-label' }, 'Order number'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), numberInput),
    h('button', { type: 'submit', class: 'btn btn-sm' }, 'Find'));
  numberForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = numberInput.value.trim().replace(/^#/, '');
    if (v === state.number) return;
    state.number = v;
    sync();
    load(true);
  });
  // Clearing the box (its ✕ or deleting the text) shows every order again.
  numberInput.addEventListener('input', () => {
    if (!numberInput.value.trim() && state.number) { state.number = ''; sync(); load(true); }
  });

  const customerChip = h('span', { class: 'ol-chips' });
  const count = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'orders-count' } });
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table orders-table', dataset: { testid: 'orders-table' } },
    h('caption', { class: 'visually-hidden' }, 'Orders'),
    h('colgroup', null, ['ocl-number', 'ocl-customer', 'ocl-placed', 'ocl-items', 'ocl-total', 'ocl-status'].map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'ocl-number' }, 'Order'),
      h('th', { scope: 'col', class: 'ocl-customer' }, 'Customer'),
      h('th', { scope: 'col', class: 'ocl-placed' }, 'Placed'),
      h('th', { scope: 'col', class: 'ocl-items align-end' }, 'Items'),
      h('th', { scope: 'col', class: 'ocl-total align-end' }, 'Total'),
      h('th', { scope: 'col', class: 'ocl-status' }, 'Status'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });
  const more = h('button', { type: 'button', class: 'btn', hidden: true, dataset: { testid: 'load-more' }, onclick: () => load(false) }, 'Load more orders');

  const canCreate = () => oapi.canEditOrdersRole(session.getSession().user?.role);
  const newButton = h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid: 'new-order' }, 'aria-keyshortcuts': 'n', hidden: true,
    onclick: () => view.openCreate(),
  }, icon('plus'), h('span', null, 'New order'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));

  mount(root,
    ...deskHeader('orders', { sub: 'Orders from your shop and ERP, and where each one is', actions: [newButton] }),
    h('div', { class: 'ol-toolbar' }, statusSwitch, numberForm, customerChip, count),
    h('div', { class: 'order-list', dataset: { testid: 'orders-list' } }, wrap, empty, h('div', { class: 'list-footer' }, more)));

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    tr.querySelector('a.row-link')?.click();
  });

  function renderChip() {
    if (!state.contactId) { customerChip.replaceChildren(); return; }
    const name = h('span', { class: 'truncate' }, 'this customer');
    recordNameOf('contact', state.contactId).then((n) => { if (n) name.textContent = n; });
    mount(customerChip, h('span', { class: 'filter-chip', dataset: { testid: 'orders-customer-filter' } },
      h('a', { class: 'chip-body', href: `/contacts/${encodeURIComponent(state.contactId)}`, title: 'Open the contact' }, xicon('user', { size: 13 }), 'Customer: ', name),
      h('button', {
        type: 'button', class: 'chip-x', 'aria-label': 'Show orders of every customer',
        onclick: () => { state.contactId = ''; sync(); load(true); numberInput.focus(); },
      }, icon('x', { size: 13 }))));
  }

  function sync() {
    statusSwitch.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.value === state.status)));
    if (document.activeElement !== numberInput) numberInput.value = state.number;
    const q = new URLSearchParams();
    if (state.status) q.set('status', state.status);
    if (state.number) q.set('number', state.number);
    if (state.contactId) q.set('contact_id', state.contactId);
    const qs = q.toString();
    updateUrl(`${basePath}${qs ? `?${qs}` : ''}`);
    renderChip();
  }

  function customerCell(o) {
    const a = h('a', { class: 'cell-link truncate', href: `/contacts/${encodeURIComponent(o.contact_id)}`, tabindex: '-1' }, '…');
    recordNameOf('contact', o.contact_id).then((n) => { a.textContent = n || 'Unnamed contact'; a.title = n || ''; });
    return a;
  }

  function row(o) {
    return h('tr', { dataset: { testid: 'order-row', id: o.id, orderId: o.id, status: o.status } },
      h('td', { class: 'ocl-number' },
        h('a', { class: 'row-link', href: `/orders/${encodeURIComponent(o.id)}`, dataset: { testid: 'order-link' } }, orderTitle(o)),
        h('div', { class: 'cell-sub' }, itemsText(o), ' · ', compactTime(o.placed_at))),
      h('td', { class: 'ocl-customer' }, o.contact_id ? customerCell(o) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'ocl-placed' }, compactTime(o.placed_at)),
      h('td', { class: 'ocl-items align-end num' }, String(o.items?.reduce((n, it) => n + (Number(it.quantity) || 0), 0) ?? 0)),
      h('td', { class: 'ocl-total align-end' }, orderMoneyEl(o.total, o.currency)),
      h('td', { class: 'ocl-status' }, orderStatusBadge(o.status)));
  }

  function skeleton() {
    mount(tbody, Array.from({ length: 8 }, (_, i) => h('tr', { 'aria-hidden': 'true' },
      Array.from({ length: 6 }, (_, j) => h('td', { class: ['ocl-number', 'ocl-customer', 'ocl-placed', 'ocl-items', 'ocl-total', 'ocl-status'][j] },
        h('span', { class: 'skeleton skeleton-text', style: { width: `${35 + ((i * 29 + j * 13) % 50)}%` } }))))));
  }

  function emptyText() {
    if (state.number) return `No order has the number “${state.number}”${state.status ? ` and the status ${statusLabel(state.status).toLowerCase()}` : ''}.`;
    if (state.status && state.contactId) return `This customer has no ${statusLabel(state.status).toLowerCase()} orders.`;
    if (state.status) return `No orders are ${statusLabel(state.status).toLowerCase()} right now.`;
    if (state.contactId) return 'This customer has no orders yet.';
    return 'Orders arrive from your shop or ERP through the API (PUT /api/v1/orders/by-external-id/…), or are entered here with “New order”.';
  }

  async function load(reset) {
    state.controller?.abort();
    const c = new AbortController();
    state.controller = c;
    more.disabled = true;
    if (reset) { state.items = []; state.cursor = null; skeleton(); wrap.hidden = false; empty.hidden = true; more.hidden = true; count.textContent = ''; }
    table.setAttribute('aria-busy', 'true');
    try {
      const p = await oapi.listOrders({
        status: state.status || undefined, number: state.number || undefined, contact_id: state.contactId || undefined,
        limit: PAGE, cursor: reset ? undefined : state.cursor,
      }, { signal: c.signal });
      if (reset) tbody.replaceChildren();
      state.items.push(...p.items);
      tbody.append(...p.items.map(row));
      state.cursor = p.next_cursor;
      const n = state.items.length;
      count.textContent = `${nf.format(n)}${state.cursor ? '+' : ''} ${n === 1 ? 'order' : 'orders'}`;
      wrap.hidden = n === 0;
      empty.hidden = n !== 0;
      if (!n) {
        const filtered = state.status || state.number || state.contactId;
        mount(empty, emptyState({
          testid: 'empty-state', iconName: 'inbox', title: filtered ? 'No orders match' : 'No orders yet', text: emptyText(),
          actions: [
            filtered ? h('button', { type: 'button', class: 'btn', onclick: () => { state.status = ''; state.number = ''; state.contactId = ''; sync(); load(true); } }, 'Show all orders') : null,
            !state.status && !state.number && canCreate() ? h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'empty-new-order' }, onclick: () => view.openCreate() }, icon('plus'), 'New order') : null,
          ].filter(Boolean),
        }));
        empty.querySelector('.empty-icon')?.replaceChildren(oicon('bag', { size: 28 }));
      }
      more.hidden = !state.cursor;
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (reset) tbody.replaceChildren();
      if (err?.status === 403) {
        wrap.hidden = true;
        empty.hidden = false;
        mount(empty, emptyState({ testid: 'error-state', iconName: 'lock', title: 'Orders are not available to your role', text: 'Ask an admin of your workspace if you need to see them.' }));
      } else toastError(err, 'Could not load the orders');
    } finally {
      if (state.controller === c) {
        more.disabled = false;
        table.setAttribute('aria-busy', 'false');
      }
    }
  }

  const view = {
    kind: 'order-list',
    openCreate() {
      if (!canCreate()) return;
      const id = state.contactId;
      if (!id) { openOrderForm({}); return; }
      recordNameOf('contact', id).then((name) => { if (!state.destroyed) openOrderForm({ contact: { id, name: name || '' } }); });
    },
    destroy() { state.destroyed = true; state.controller?.abort(); },
  };

  session.whenLoaded().then(() => { if (!state.destroyed) newButton.hidden = !canCreate(); });
  sync();
  load(true);
  return view;
}
