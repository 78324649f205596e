// The "Orders" card on contact pages: the customer's lifetime value per
// currency (cancelled and returned orders left out), their latest orders
// with status, each linking to its order page, and "New order" prefilled
// with the contact.

import { h, mount, icon, toastError, timeEl } from './ui.js';
import * as session from './session.js';
import * as oapi from './orders-api.js';
import { contactName } from './records.js';
import { orderStatusBadge, formatOrderMoney, orderMoneyEl, orderTitle, oicon } from './order-display.js';
import { openOrderForm } from './order-form.js';

const LATEST = 5;

/** ordersCard({ record }) → <section> */
export function ordersCard({ record }) {
  const titleId = 'contact-orders-title';
  const value = h('div', { class: 'orders-ltv', hidden: true, dataset: { testid: 'contact-orders-value' } });
  const list = h('ul', { class: 'side-list order-side-list', 'aria-label': 'Latest orders' });
  const note = h('p', { class: 'muted orders-note', hidden: true, dataset: { testid: 'contact-orders-empty' } });
  const more = h('a', {
    class: 'card-foot-link', hidden: true, dataset: { testid: 'contact-orders-all' },
    href: `/service-desk/orders?contact_id=${encodeURIComponent(record.id)}`,
  }, 'All orders of this customer');
  const loading = h('div', { class: 'deal-side-loading', 'aria-hidden': 'true' },
    [55, 35, 70].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '8px 0' } })));

  const add = oapi.canEditOrdersRole(session.getSession().user?.role) ? h('button', {
    type: 'button', class: 'btn btn-sm', dataset: { testid: 'new-order' },
    onclick: () => openOrderForm({ contact: { id: record.id, name: contactName(record) || record.email || '' } }),
  }, icon('plus', { size: 14 }), 'New order') : null;

  const card = h('section', { class: 'card side-card orders-card', 'aria-labelledby': titleId, 'aria-busy': 'true', dataset: { testid: 'contact-orders' } },
    h('div', { class: 'card-head' }, h('h2', { id: titleId, class: 'card-title' }, 'Orders'), add),
    loading, value, list, note, more);

  function item(o) {
    return h('li', { class: 'side-item order-side-item', dataset: { testid: 'contact-order', orderId: o.id, status: o.status } },
      h('div', { class: 'side-item-text' },
        h('a', { href: `/orders/${encodeURIComponent(o.id)}` }, orderTitle(o)),
        h('div', { class: 'muted side-sub' }, timeEl(o.placed_at), ' ', orderStatusBadge(o.status, { testid: 'contact-order-status' }))),
      orderMoneyEl(o.total, o.currency, { cls: 'order-side-value' }));
  }

  function lifetime(summary) {
    const totals = summary.totals.filter((t) => t && t.currency);
    if (!totals.length) return null;
    return [
      h('p', { class: 'orders-ltv-label' }, 'Lifetime value'),
      h('ul', { class: 'orders-ltv-list' }, totals.map((t) => h('li', { dataset: { currency: t.currency } },
        h('span', { class: 'orders-ltv-amount num' }, formatOrderMoney(t.lifetime_value, t.currency)),
        h('span', { class: 'muted' }, ` ${t.orders} ${t.orders === 1 ? 'order' : 'orders'}`)))),
      summary.first_order_at ? h('p', { class: 'muted orders-ltv-since' }, 'Customer since ', timeEl(summary.first_order_at)) : null,
    ];
  }

  Promise.all([
    oapi.orderSummary(record.id),
    oapi.listOrders({ contact_id: record.id, limit: LATEST }),
  ]).then(([summary, p]) => {
    loading.remove();
    card.setAttribute('aria-busy', 'false');
    const ltv = lifetime(summary);
    if (ltv) { mount(value, ltv); value.hidden = false; }
    mount(list, p.items.map(item));
    if (!p.items.length) {
      note.hidden = false;
      mount(note, oicon('bag', { size: 14 }), h('span', null, 'No orders from this contact yet.'));
    }
    more.hidden = !p.next_cursor;
  }).catch((err) => {
    loading.remove();
    card.setAttribute('aria-busy', 'false');
    note.hidden = false;
    note.textContent = err?.status === 403 ? 'Your role cannot see orders.' : 'Orders could not be loaded.';
    if (err?.status !== 403 && err?.status !== 404 && !err?.handled) toastError(err, 'Could not load the orders');
  });
  return card;
}
