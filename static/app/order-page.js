// The order page (/orders/<id>): number, total, customer and status; the
// moves the lifecycle allows from here (shipping asks for carrier and
// tracking number; cancelling and returning for an optional note), each a
// POST /orders/{id}/status with If-Match; "Edit" for the content (items,
// amounts, carrier, tracking number, note: order-form.js, a PUT with
// If-Match); items and totals; shipping; the status history with times and
// notes; internal details.

import { h, mount, icon, toast, toastError, pageTitle, timeEl, openModal, copyText } from './ui.js';
import * as session from './session.js';
import * as oapi from './orders-api.js';
import { recordNameOf } from './deal-display.js';
import { emptyState } from './contacts.js';
import { errorBox, busy } from './forms.js';
import { openOrderForm } from './order-form.js';
import {
  allowedMoves, MOVE_LABELS, statusLabel, orderStatusBadge, formatOrderMoney, totalsRows, statusTrack, orderTitle, itemsText, statusIcon, oicon,
} from './order-display.js';

const CARRIERS = ['DHL', 'UPS', 'FedEx', 'DPD', 'GLS', 'Hermes', 'PostNL', 'La Poste', 'Royal Mail', 'USPS', 'Japan Post', 'Australia Post'];

export function canEditOrders() {
  return oapi.canEditOrdersRole(session.getSession().user?.role);
}

/**
 * Ask what a move needs (carrier and tracking number for shipping, a note for
 * cancelling or returning) and make it. Resolves to { order, version } or null.
 */
function moveDialog(order, version, status) {
  return new Promise((resolve) => {
    const shipping = status === 'shipped';
    const danger = status === 'cancelled';
    const title = { shipped: `Ship ${orderTitle(order).toLowerCase()}`, cancelled: `Cancel ${orderTitle(order).toLowerCase()}`, returned: `Mark ${orderTitle(order).toLowerCase()} returned` }[status]
      || `${statusLabel(status)}: ${orderTitle(order)}`;
    const confirmLabel = { shipped: 'Mark shipped', cancelled: 'Cancel order', returned: 'Mark returned' }[status] || `Mark ${status}`;
    const box = errorBox('order-status-error');
    const inputs = {};
    const fieldEl = (name, label, attrs, hint) => {
      const id = `osd-${name}`;
      const input = attrs.multiline
        ? h('textarea', { id, name, class: 'input', rows: 3, maxlength: 1000, dataset: { testid: attrs.testid }, 'aria-describedby': hint ? `${id}-hint` : null })
        : h('input', { id, name, class: 'input', type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: 200, value: attrs.value || '', list: attrs.list, dataset: { testid: attrs.testid }, 'aria-describedby': hint ? `${id}-hint` : null });
      inputs[name] = input;
      return h('div', { class: 'field', dataset: { field: name } },
        h('label', { for: id }, label), input,
        hint ? h('p', { class: 'field-hint muted', id: `${id}-hint` }, hint) : null);
    };
    const body = [
      box,
      shipping ? h('div', { class: 'field-grid' },
        h('div', { class: 'field-half' }, fieldEl('carrier', 'Carrier', { testid: 'order-carrier', value: order.carrier, list: 'osd-carriers' })),
        h('div', { class: 'field-half' }, fieldEl('tracking_number', 'Tracking number', { testid: 'order-tracking', value: order.tracking_number })),
        h('datalist', { id: 'osd-carriers' }, CARRIERS.map((c) => h('option', { value: c })))) : null,
      status === 'cancelled' ? h('p', { class: 'form-hint' }, 'A cancelled order no longer counts towards the customer’s lifetime value. This cannot be undone.') : null,
      status === 'returned' ? h('p', { class: 'form-hint' }, 'A returned order no longer counts towards the customer’s lifetime value. This cannot be undone.') : null,
      h('div', { class: 'osd-note' }, fieldEl('note', 'Note for the customer (optional)', { multiline: true, testid: 'order-status-note' },
        'Shown with this step in the order’s history, in the customer portal too.')),
    ];
    const submit = h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], dataset: { testid: 'order-status-confirm' } }, confirmLabel);
    const form = h('form', { class: 'dialog-form', method: 'dialog', novalidate: true },
      h('header', { class: 'dialog-header' },
        h('h2', { id: 'osd-title' }, title),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
      h('div', { class: 'dialog-body' }, body),
      h('footer', { class: 'dialog-footer' },
        h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, danger ? 'Keep the order' : 'Cancel'),
        submit));
    const dialog = h('dialog', { class: 'dialog order-status-dialog', 'aria-labelledby': 'osd-title', dataset: { testid: 'order-status-dialog', status } }, form);
    let result = null;

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      box.hidden = true;
      form.querySelectorAll('.field-error').forEach((x) => x.remove());
      Object.values(inputs).forEach((i) => i.removeAttribute('aria-invalid'));
      const payload = {
        status,
        note: inputs.note.value.trim() || undefined,
        carrier: inputs.carrier?.value.trim() || undefined,
        tracking_number: inputs.tracking_number?.value.trim() || undefined,
      };
      busy(submit, true, { idle: confirmLabel, working: 'Saving…' });
      try {
        result = await oapi.setOrderStatus(order.id, payload, version);
        dialog.close('saved');
      } catch (err) {
        busy(submit, false, { idle: confirmLabel, working: 'Saving…' });
        if (err.status === 412 || err.status === 409) {
          // The order is not where this dialog thought: close it and let the page reload.
          result = { error: err };
          dialog.close('conflict');
          return;
        }
        const fieldErrs = err.isValidation ? err.errors.filter((x) => inputs[x.field]) : [];
        fieldErrs.forEach((x) => {
          inputs[x.field].setAttribute('aria-invalid', 'true');
          inputs[x.field].after(h('p', { class: 'field-error' }, icon('alert', { size: 14 }), h('span', null, x.message)));
        });
        if (fieldErrs.length) { inputs[fieldErrs[0].field].focus(); if (fieldErrs.length === err.errors.length) return; }
        box.hidden = false;
        box.replaceChildren(icon('alert'), h('div', null, h('strong', null, err.title || 'Could not save'), ' ', err.detail || err.message,
          err.requestId ? h('div', { class: 'muted' }, `Request ID ${err.requestId}`) : null));
      }
    });
    openModal(dialog, { onClose: () => resolve(result) });
    (inputs.carrier || inputs.note).focus();
  });
}

export function orderPageView(root, id) {
  const controller = new AbortController();
  const state = { order: null, version: null, destroyed: false, moving: null };

  const back = () => h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/service-desk/orders', class: 'back-link' }, icon('arrowLeft'), 'Orders'));

  function skeleton() {
    mount(root, back(),
      h('div', { class: 'card record-header', 'aria-busy': 'true' },
        h('div', { style: { flex: '1' } },
          h('div', { class: 'skeleton skeleton-text', style: { width: '30%', height: '20px' } }),
          h('div', { class: 'skeleton skeleton-text', style: { width: '45%', marginTop: '10px' } }))),
      h('div', { class: 'order-grid' },
        h('section', { class: 'card' }, [70, 50, 60, 40].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '14px 0' } }))),
        h('section', { class: 'card' }, [50, 70, 40].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '14px 0' } })))));
  }

  function customerLink(o, testid) {
    if (!o.contact_id) return null;
    const a = h('a', { href: `/contacts/${encodeURIComponent(o.contact_id)}`, dataset: { testid } }, 'Customer');
    recordNameOf('contact', o.contact_id).then((n) => { a.textContent = n || 'Unnamed contact'; });
    return a;
  }

  // --- moves -------------------------------------------------------------------------
  async function move(status, button) {
    if (state.moving) return;
    const o = state.order;
    let res = null;
    if (status === 'shipped' || status === 'cancelled' || status === 'returned') {
      res = await moveDialog(o, state.version, status);
      if (!res) return;
      if (res.error) { conflict(res.error); return; }
    } else {
      state.moving = status;
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
      try {
        res = await oapi.setOrderStatus(o.id, { status }, state.version);
      } catch (err) {
        state.moving = null;
        if (err.status === 412 || err.status === 409) { conflict(err); return; }
        button.disabled = false;
        button.removeAttribute('aria-busy');
        toastError(err, 'Could not change the status');
        return;
      }
      state.moving = null;
    }
    const after = res.order || {};
    toast(`${orderTitle(o)} is ${statusLabel(after.status || status).toLowerCase()}.`, { kind: 'success', title: 'Status changed', timeout: 3500 });
    await refetch();
    // The button is gone with the old status: put the focus on the next move, else the heading.
    const next = root.querySelector('[data-testid="order-status-action"]') || root.querySelector('h1');
    next?.focus({ preventScroll: true });
  }

  function conflict(err) {
    if (err.status === 412) {
      toast('Someone else changed this order meanwhile. The page shows its current state now; make your change again if it is still needed.', {
        kind: 'error', title: 'Changed by someone else', requestId: err.requestId,
      });
    } else toastError(err, 'This move is not possible');
    refetch();
  }

  // --- pieces ------------------------------------------------------------------------
  function edit() {
    if (state.moving || !state.order) return;
    openOrderForm({
      order: state.order,
      version: state.version,
      onSaved: () => refetch(),
      onConflict: (err) => conflict(err),
    });
  }

  function actions(o) {
    if (!canEditOrders()) return null;
    const moves = allowedMoves(o.status);
    const forward = moves.filter((m) => m !== 'cancelled' && m !== 'returned');
    const editButton = h('button', {
      type: 'button', class: 'btn', dataset: { testid: 'order-edit' }, 'aria-keyshortcuts': 'e', title: 'Edit the items, amounts, shipping and note (E)',
      onclick: () => edit(),
    }, icon('pencil', { size: 15 }), 'Edit');
    return h('div', { class: 'record-actions order-actions' },
      moves.length ? h('div', { class: 'order-moves', role: 'group', 'aria-label': 'Change the status' },
        moves.map((m) => h('button', {
          type: 'button',
          class: ['btn', m === forward[0] ? 'btn-primary' : m === 'cancelled' || m === 'returned' ? 'btn-danger-quiet' : null],
          dataset: { testid: 'order-status-action', status: m },
          onclick: (e) => move(m, e.currentTarget),
        }, statusIcon(m, { size: 15 }), MOVE_LABELS[m] || statusLabel(m)))) : null,
      editButton);
  }

  function itemsCard(o) {
    const cur = o.currency;
    const items = o.items || [];
    return h('section', { class: 'card order-items', 'aria-labelledby': 'order-items-title', dataset: { testid: 'order-items' } },
      h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: 'order-items-title' }, 'Items'), h('span', { class: 'muted card-count' }, itemsText(o))),
      h('div', { class: 'mini-table-wrap' }, h('table', { class: 'mini-table li-table order-items-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Product'),
          h('th', { scope: 'col', class: 'align-end oi-qty' }, 'Qty'),
          h('th', { scope: 'col', class: 'align-end oi-price' }, 'Unit price'),
          h('th', { scope: 'col', class: 'align-end oi-total' }, 'Total'))),
        h('tbody', null, items.length ? items.map((it) => h('tr', { dataset: { testid: 'order-item' } },
          h('td', { class: 'oi-product' }, h('span', { class: 'oi-name' }, it.product || '—'), it.sku ? h('span', { class: 'muted oi-sku' }, `SKU ${it.sku}`) : null),
          h('td', { class: 'align-end num oi-qty' }, String(it.quantity ?? '')),
          h('td', { class: 'align-end num oi-price' }, formatOrderMoney(it.unit_price ?? 0, cur)),
          h('td', { class: 'align-end num oi-total' }, formatOrderMoney(it.total ?? (it.quantity * it.unit_price), cur))))
          : h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'No items.'))),
        h('tfoot', null,
          totalsRows(o).map(([label, value]) => h('tr', { class: 'oi-sum' }, h('th', { scope: 'row', colspan: 3 }, label), h('td', { class: 'align-end num' }, value))),
          h('tr', { class: 'oi-grand' }, h('th', { scope: 'row', colspan: 3 }, 'Total'),
            h('td', { class: 'align-end num' }, h('strong', { dataset: { testid: 'order-total' } }, formatOrderMoney(o.total, cur))))))));
  }

  function prop(label, value, testid) {
    return h('div', { class: 'prop' }, h('dt', null, label), h('dd', { dataset: { testid } }, value ?? h('span', { class: 'muted' }, '—')));
  }

  function detailsCard(o) {
    const tracking = o.tracking_number ? h('span', { class: 'order-tracking' },
      h('code', { dataset: { testid: 'order-tracking-number' } }, o.tracking_number),
      h('button', { type: 'button', class: 'link-button', 'aria-label': 'Copy the tracking number', onclick: (e) => copyText(o.tracking_number, e.currentTarget) }, 'Copy')) : null;
    return h('section', { class: 'card profile-card order-details', 'aria-label': 'Details', dataset: { testid: 'order-details' } },
      h('div', { class: 'profile-section' },
        h('h3', { class: 'profile-section-title' }, 'Shipping'),
        h('dl', { class: 'props' },
          prop('Carrier', o.carrier || null, 'order-carrier-value'),
          prop('Tracking', tracking))),
      h('div', { class: 'profile-section' },
        h('h3', { class: 'profile-section-title' }, 'Order'),
        h('dl', { class: 'props' },
          prop('Customer', customerLink(o, 'order-customer-link')),
          prop('Placed', timeEl(o.placed_at, { withTime: true })),
          prop('Currency', o.currency),
          prop('External ID', o.external_id ? h('code', null, o.external_id) : null, 'order-external-id'),
          o.note ? prop('Internal note', h('span', { class: 'pre-wrap' }, o.note), 'order-note') : null)),
      o.note ? null : h('p', { class: 'muted order-note-hint' }, 'The internal note (set through the API) is never shown to the customer.'),
      h('p', { class: 'record-meta muted' }, 'Created ', timeEl(o.created_at, { withTime: true }), ' · updated ', timeEl(o.updated_at, { withTime: true }),
        h('br'), 'ID ', h('code', null, o.id), state.version != null ? ` · version ${state.version}` : null));
  }

  function historyCard(o) {
    return h('section', { class: 'card order-history', 'aria-labelledby': 'order-history-title' },
      h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: 'order-history-title' }, 'Status history')),
      statusTrack(o, { testid: 'order-history', skippedText: 'Skipped', upcomingText: 'Not yet', label: 'Status history' }),
      h('p', { class: 'muted order-history-hint' }, 'The customer sees these steps, with their notes, in the portal.'));
  }

  function render() {
    const o = state.order;
    pageTitle(orderTitle(o), 'Orders');
    const ended = o.status === 'cancelled' || o.status === 'returned';
    mount(root,
      back(),
      h('header', { class: 'card record-header order-header', dataset: { testid: 'order-detail', id: o.id, status: o.status } },
        h('span', { class: 'order-header-icon', 'aria-hidden': 'true' }, oicon('box', { size: 24 })),
        h('div', { class: 'record-heading' },
          h('h1', { class: 'page-title', tabindex: '-1', dataset: { testid: 'order-number' } }, orderTitle(o)),
          h('p', { class: 'record-sub' },
            h('span', { class: 'deal-big-value num', dataset: { testid: 'order-header-total' } }, formatOrderMoney(o.total, o.currency)),
            h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'),
            h('span', null, itemsText(o)),
            h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'),
            h('span', null, 'placed ', timeEl(o.placed_at)),
            o.contact_id ? [h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'), customerLink(o, 'order-header-customer')] : null),
          h('div', { class: 'record-chips' },
            orderStatusBadge(o.status, { testid: 'order-status-badge' }),
            ended ? h('span', { class: 'muted order-ended-note' }, o.status === 'cancelled' ? 'Cancelled orders cannot move any more.' : 'Returned orders cannot move any more.') : null)),
        actions(o)),
      h('div', { class: 'order-grid' },
        h('div', { class: 'order-col-main' }, itemsCard(o), detailsCard(o)),
        h('div', { class: 'order-col-side' }, historyCard(o))));
  }

  async function refetch(showSkeleton = false) {
    if (showSkeleton) skeleton();
    try {
      const [{ order, version }] = await Promise.all([oapi.getOrder(id, { signal: controller.signal }), session.whenLoaded()]);
      if (state.destroyed) return;
      state.order = order;
      state.version = version;
      render();
      if (showSkeleton) root.querySelector('h1')?.focus({ preventScroll: true });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (err.isNotFound || (err.status === 422 && !state.order)) {
        pageTitle('Order not found');
        mount(root, back(), emptyState({
          testid: 'not-found', iconName: 'search', title: 'Order not found',
          text: 'It may never have existed here, or the link is wrong.',
          actions: [h('a', { class: 'btn btn-primary', href: '/service-desk/orders' }, 'All orders')],
        }));
      } else if (!state.order) {
        mount(root, back(), emptyState({
          testid: 'error-state', iconName: 'alert', title: err.title || 'Could not load this order',
          text: `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
          actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => refetch(true) }, 'Retry')],
        }));
        if (!err.handled) toastError(err, 'Could not load this order');
      } else toastError(err, 'Could not refresh this order');
    }
  }

  refetch(true);
  return {
    kind: 'order-page',
    id,
    /** `e`: edit the order's content. */
    edit() { if (state.order && canEditOrders()) edit(); },
    /** `n`: a new order for the same customer. */
    openCreate() {
      const o = state.order;
      if (!o || !canEditOrders()) return;
      recordNameOf('contact', o.contact_id).then((name) => { if (!state.destroyed) openOrderForm({ contact: { id: o.contact_id, name: name || '' } }); });
    },
    destroy() { state.destroyed = true; controller.abort(); },
  };
}
