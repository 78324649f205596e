// The order dialog. Create: "New order" on the orders list (shortcut `n`) and
// on a contact's Orders card (prefilled with the contact): the customer
// (contact search), currency, items (product, SKU, quantity, unit price),
// shipping, tax, discount, status (carrier and tracking number once it is
// shipped), an internal note and an optional order number (empty: the next
// one); POST /orders with one Idempotency-Key per dialog, then the new order's
// page. Edit (the order page): the content only (items, shipping, tax,
// discount, carrier, tracking number, note) as a PUT of the whole order with
// If-Match; the status moves with the page's buttons.
//
// Amounts are typed in major units ("12.50", "1.234,50", "4400" for JPY) and
// sent in minor units with the currency's own decimals. A 422's per-field
// errors (`items[0].quantity`) land next to their inputs; a 412 closes the
// dialog and lets the page reload.

import { h, mount, icon, toast, toastError, openModal } from './ui.js';
import { navigate } from './router.js';
import { capitalize } from './forms.js';
import * as crm from './crm-api.js';
import * as oapi from './orders-api.js';
import { combobox } from './record-form.js';
import { moneyDigits, contactName } from './records.js';
import { CURRENCIES, rememberName, recordNameOf } from './deal-display.js';
import { formatOrderMoney, statusLabel, orderTitle } from './order-display.js';

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

/** Statuses a new order may start in (cancelling and returning are moves). */
const START_STATUSES = ['placed', 'paid', 'shipped', 'delivered'];
/** Carrier and tracking number belong to orders that have shipped. */
const SHIPPED = ['shipped', 'delivered', 'returned'];
const CARRIERS = ['DHL', 'UPS', 'FedEx', 'DPD', 'GLS', 'Hermes', 'PostNL', 'La Poste', 'Royal Mail', 'USPS', 'Japan Post', 'Australia Post'];
const MAX_ITEMS = 500;
const MAX_MINOR = 1_000_000_000_000_000;

/**
 * "12.50", "1,234.50", "1.234,50", "12,5" → minor units of `currency` (its
 * own decimals: 2 for EUR, 0 for JPY). A last separator followed by exactly
 * three digits groups thousands when the currency has fewer decimals.
 * → { minor } (null when empty) or { error }
 */
export function parseAmount(text, currency) {
  const t = String(text ?? '').trim().replace(/[\s'_\u00a0\u202f]/g, '');
  if (!t) return { minor: null };
  if (t.startsWith('-')) return { error: 'must be 0 or more' };
  if (!/^(\d[\d.,]*|[.,]\d+)$/.test(t)) return { error: 'enter an amount such as 12.50' };
  const digits = moneyDigits(currency);
  const last = Math.max(t.lastIndexOf('.'), t.lastIndexOf(','));
  let whole = t;
  let frac = '';
  if (last >= 0) {
    const tail = t.slice(last + 1);
    const grouping = tail.length === 3 && digits < 3;
    if (!grouping) {
      if (!tail || tail.length > digits) {
        return { error: digits === 0 ? `${currency} amounts have no decimals` : `use at most ${digits} decimals` };
      }
      whole = t.slice(0, last);
      frac = tail;
    }
  }
  const intDigits = whole.replace(/[.,]/g, '') || '0';
  const minor = Number(`${intDigits}${frac.padEnd(digits, '0')}`);
  if (!Number.isSafeInteger(minor) || minor > MAX_MINOR) return { error: 'is too large' };
  return { minor };
}

async function contactSuggestions(q, signal) {
  const p = await crm.listRecords('contact', { q, limit: 8, signal });
  return p.items.map((c) => ({ id: c.id, label: contactName(c) || c.email || c.id, sub: [c.email, c.company].filter(Boolean).join(' · ') }));
}

/**
 * openOrderForm({ order, version, contact, onSaved, onConflict })
 * order null → create (`contact: {id, name}` prefills the customer) and, once
 * created, the order's page; order given → edit its content;
 * onSaved(order, version) after the server answered; onConflict(err) on a
 * 412 or 409 while editing (the dialog closes; the page reloads).
 */
export function openOrderForm({ order = null, version = null, contact = null, onSaved, onConflict } = {}) {
  if (document.querySelector('dialog.order-dialog[open]')) return null;
  const creating = !order;
  const p = nextId('of');
  const idempotencyKey = crm.newIdempotencyKey();
  let saving = false;
  let picked = creating ? contact?.id || null : order.contact_id;
  let pickedName = creating ? contact?.name || '' : '';
  /** error path (`items[0].quantity`) → { wrap, input, label } */
  const controls = new Map();

  const box = h('div', { class: 'form-error', role: 'alert', dataset: { testid: 'order-form-error' }, hidden: true });
  const title = creating ? 'New order' : `Edit ${orderTitle(order).toLowerCase()}`;
  const saveLabel = creating ? 'Create order' : 'Save changes';

  // --- errors -------------------------------------------------------------------------
  function reg(path, wrap, input, label) { controls.set(path, { wrap, input, label }); }
  function resolve(path) {
    let q = String(path || '').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
    if (q.startsWith('customer')) q = 'contact_id';
    while (q) {
      if (controls.has(q)) return { ...controls.get(q), path: q };
      const cut = Math.max(q.lastIndexOf('.'), q.lastIndexOf('['));
      if (cut <= 0) break;
      q = q.slice(0, cut);
    }
    return null;
  }
  function clearError(path) {
    const c = controls.get(path);
    if (!c) return;
    c.wrap.querySelectorAll(`:scope > .field-error[data-for="${CSS.escape(path)}"]`).forEach((x) => x.remove());
    c.input?.removeAttribute('aria-invalid');
    const hint = c.input?.dataset.hint;
    if (hint) c.input.setAttribute('aria-describedby', hint); else c.input?.removeAttribute('aria-describedby');
  }
  function clearAllErrors() {
    for (const k of controls.keys()) clearError(k);
    box.hidden = true;
    box.replaceChildren();
  }
  function setError(path, messages) {
    const c = resolve(path);
    if (!c) return null;
    clearError(c.path);
    const id = nextId('err');
    const text = messages.map(capitalize).join('. ');
    c.wrap.append(h('p', { class: 'field-error', id, dataset: { for: c.path, testid: `error-${c.path.replace(/\[(\d+)\]/g, '-$1').replace(/\./g, '-')}` } },
      icon('alert', { size: 14 }), h('span', null, c.label ? `${c.label}: ${text}` : text)));
    if (c.input) {
      c.input.setAttribute('aria-invalid', 'true');
      c.input.setAttribute('aria-describedby', [c.input.dataset.hint, id].filter(Boolean).join(' '));
    }
    return c;
  }
  function showBox(...content) {
    box.hidden = false;
    mount(box, icon('alert'), h('div', null, ...content));
  }
  /** [{field, message}] → next to their inputs; the rest in the box. */
  function showErrors(errors, err) {
    const grouped = new Map();
    for (const e of errors) {
      const key = String(e.field || '');
      if (!grouped.has(key)) grouped.set(key, []);
      grouped.get(key).push(e.message || 'is invalid');
    }
    const leftovers = [];
    let first = null;
    for (const [path, msgs] of grouped) {
      const c = path ? setError(path, msgs) : null;
      if (c) first ||= c;
      else leftovers.push(...msgs.map((m) => (path ? `${path}: ${m}` : m)));
    }
    if (leftovers.length || !first) {
      showBox(h('strong', null, err?.title || 'Please check the order'), ' ',
        h('span', null, leftovers.length ? `${leftovers.map(capitalize).join('. ')}.` : err?.detail || ''));
    }
    if (first?.input) { first.input.focus(); first.input.select?.(); } else box.scrollIntoView({ block: 'nearest' });
  }

  function fieldWrap(label, control, { path, cls, hint, required = false, inner } = {}) {
    control.id ||= nextId(p);
    const hintId = hint ? `${control.id}-hint` : null;
    if (hintId) { control.setAttribute('aria-describedby', hintId); control.dataset.hint = hintId; }
    const wrap = h('div', { class: ['field', cls], dataset: { field: path } },
      h('label', { for: control.id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      inner || control,
      hint ? h('p', { class: 'field-hint muted', id: hintId }, hint) : null);
    if (path) {
      reg(path, wrap, control);
      control.addEventListener('input', () => clearError(path));
      control.addEventListener('change', () => clearError(path));
    }
    return wrap;
  }
  const textInput = (attrs) => h('input', { class: 'input', type: 'text', autocomplete: 'off', ...attrs });

  // --- customer, currency, number -----------------------------------------------------------
  const cur = () => (creating ? currency.value : order.currency);
  let customerWrap;
  let customerInput = null;
  if (creating) {
    customerInput = textInput({
      name: 'contact_id', placeholder: 'Search by name or email…', value: pickedName, required: true,
      dataset: { testid: 'order-customer' },
    });
    const linked = h('span', { class: 'combo-linked', hidden: !picked }, icon('check', { size: 13 }), 'Linked');
    const cb = combobox({
      inputEl: customerInput,
      fetch: contactSuggestions,
      onPick: (item, { typing } = {}) => {
        if (item) {
          picked = item.id; pickedName = item.label;
          rememberName('contact', item.id, item.label);
          clearError('contact_id');
        } else if (typing && customerInput.value.trim() !== pickedName) picked = null;
        linked.hidden = !picked;
      },
      emptyText: (q) => `No contact matches “${q}”. Add the customer as a contact first.`,
    });
    if (picked && !pickedName) {
      customerInput.value = '…';
      recordNameOf('contact', picked).then((n) => {
        if (customerInput.value === '…') { customerInput.value = n || picked; pickedName = customerInput.value; }
      });
    }
    customerWrap = fieldWrap('Customer', customerInput, { path: 'contact_id', required: true, inner: h('div', { class: 'combo-field' }, cb.wrap, linked) });
  } else {
    const name = h('a', { href: `/contacts/${encodeURIComponent(order.contact_id)}`, class: 'of-customer-link', tabindex: '-1' }, '…');
    recordNameOf('contact', order.contact_id).then((n) => { name.textContent = n || 'Unnamed contact'; });
    customerWrap = h('div', { class: 'field field-half' },
      h('span', { class: 'field-label' }, 'Customer'),
      h('span', { class: 'of-static', dataset: { testid: 'order-customer' } }, name));
  }

  const currencyList = creating ? CURRENCIES : (CURRENCIES.includes(order.currency) ? CURRENCIES : [order.currency, ...CURRENCIES]);
  const currency = h('select', { class: 'input', name: 'currency', dataset: { testid: 'order-currency' }, disabled: !creating },
    currencyList.map((c) => h('option', { value: c, selected: c === (creating ? 'EUR' : order.currency) ? true : null }, c)));
  const currencyWrap = fieldWrap('Currency', currency, { path: 'currency', cls: 'field-half', hint: creating ? null : 'An order keeps its currency.' });

  const number = creating ? textInput({
    name: 'number', maxlength: 40, inputmode: 'numeric', spellcheck: 'false', placeholder: 'Next number', dataset: { testid: 'order-number-input' },
  }) : null;
  const numberWrap = creating ? fieldWrap('Order number', number, { path: 'number', cls: 'field-half', hint: 'Optional. Empty: the next number in sequence.' }) : null;

  // --- items ---------------------------------------------------------------------------------
  const rows = [];
  const rowList = h('div', { class: 'of-rows', role: 'list', 'aria-label': 'Items' });
  const priceHead = h('span', { class: 'of-price-head' });
  const head = h('div', { class: 'of-row of-head', 'aria-hidden': 'true' },
    h('span', null, 'Product'), h('span', null, 'SKU'), h('span', { class: 'of-num' }, 'Qty'), priceHead, h('span', { class: 'of-num' }, 'Total'), h('span'));
  const addItem = h('button', {
    type: 'button', class: 'btn btn-sm', dataset: { testid: 'order-add-item' },
    onclick: () => { addRow({ quantity: 1 }, true); },
  }, icon('plus', { size: 14 }), 'Add item');
  const itemsGroup = h('div', { class: 'field of-items', dataset: { field: 'items' } },
    h('span', { class: 'field-label', id: `${p}-items-label` }, 'Items', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    head, rowList,
    h('div', { class: 'of-items-foot' }, addItem, h('span', { class: 'muted of-items-hint' }, 'Enter in an item moves on to the next one.')));
  reg('items', itemsGroup, null);

  /** Minor units → "89.90" (the currency's decimals, no grouping), for an input. */
const amountText = (minor) => {
  if (minor === null || minor === undefined || minor === '') return '';
  const d = moneyDigits(cur());
  return (Number(minor) / 10 ** d).toFixed(d);
};
/** "0.00", or "0" for a currency without decimals (a placeholder). */
  const zero = () => (moneyDigits(cur()) ? `0.${'0'.repeat(moneyDigits(cur()))}` : '0');

  function readRow(r) {
    let qText = r.quantity.value.replace(/[\s_'\u00a0\u202f]/g, '');
    if (/^\d{1,3}([.,]\d{3})+$/.test(qText)) qText = qText.replace(/[.,]/g, '');
    return {
      product: r.product.value.trim(),
      sku: r.sku.value.trim(),
      quantity: /^\d+$/.test(qText) ? Number(qText) : NaN,
      price: parseAmount(r.price.value, cur()),
    };
  }
  function syncRows() {
    for (const k of [...controls.keys()]) if (k.startsWith('items[')) controls.delete(k);
    rows.forEach((r, i) => {
      const n = i + 1;
      r.product.setAttribute('aria-label', `Product, item ${n}`);
      r.sku.setAttribute('aria-label', `SKU, item ${n} (optional)`);
      r.quantity.setAttribute('aria-label', `Quantity, item ${n}`);
      r.price.setAttribute('aria-label', `Unit price in ${cur()}, item ${n}`);
      r.remove.setAttribute('aria-label', `Remove item ${n}`);
      r.remove.disabled = rows.length === 1;
      r.product.name = `items[${i}].product`;
      r.sku.name = `items[${i}].sku`;
      r.quantity.name = `items[${i}].quantity`;
      r.price.name = `items[${i}].unit_price`;
      reg(`items[${i}]`, r.el, r.product, `Item ${n}`);
      reg(`items[${i}].product`, r.el, r.product, `Item ${n}, product`);
      reg(`items[${i}].sku`, r.el, r.sku, `Item ${n}, SKU`);
      reg(`items[${i}].quantity`, r.el, r.quantity, `Item ${n}, quantity`);
      reg(`items[${i}].unit_price`, r.el, r.price, `Item ${n}, unit price`);
      r.el.dataset.index = String(i);
    });
    addItem.disabled = rows.length >= MAX_ITEMS;
  }
  function addRow(it = {}, focus = false) {
    const product = textInput({ value: it.product ?? '', maxlength: 200, placeholder: 'Product', dataset: { testid: 'order-item-product' } });
    const sku = textInput({ value: it.sku ?? '', maxlength: 80, placeholder: 'Optional', spellcheck: 'false', class: 'input of-sku', dataset: { testid: 'order-item-sku' } });
    const quantity = textInput({ value: it.quantity ?? 1, inputmode: 'numeric', class: 'input num', dataset: { testid: 'order-item-quantity' } });
    const price = textInput({ value: it.unit_price != null ? amountText(it.unit_price) : '', inputmode: 'decimal', placeholder: zero(), class: 'input num', dataset: { testid: 'order-item-price' } });
    const total = h('span', { class: 'of-line-total num', dataset: { testid: 'order-item-total' } }, '—');
    const remove = h('button', { type: 'button', class: 'icon-button', dataset: { testid: 'order-item-remove' } }, icon('x', { size: 15 }));
    // Each cell has its own visible label on narrow screens (the column heads are gone there).
    const cell = (label, control, cls) => h('label', { class: ['of-cell', cls] }, h('span', { class: 'of-cell-label', 'aria-hidden': 'true' }, label), control);
    const priceLabel = h('span', null, `Unit price (${cur()})`);
    const el = h('div', { class: 'of-row', role: 'listitem', dataset: { testid: 'order-item' } },
      cell('Product', product, 'of-c-product'), cell('SKU', sku, 'of-c-sku'), cell('Qty', quantity, 'of-c-qty'), cell(priceLabel, price, 'of-c-price'),
      h('span', { class: 'of-cell of-c-total' }, h('span', { class: 'of-cell-label', 'aria-hidden': 'true' }, 'Total'), total),
      remove);
    const row = { el, product, sku, quantity, price, total, remove, priceLabel };
    remove.addEventListener('click', () => {
      if (rows.length === 1) return;
      const i = rows.indexOf(row);
      rows.splice(i, 1);
      el.remove();
      syncRows();
      recalc();
      (rows[i] || rows[i - 1])?.product.focus();
    });
    [['product', product], ['sku', sku], ['quantity', quantity], ['unit_price', price]].forEach(([k, input]) => {
      input.addEventListener('input', () => {
        const i = rows.indexOf(row);
        clearError(`items[${i}].${k}`);
        clearError(`items[${i}]`);
        clearError('items');
        recalc();
      });
      // Enter moves on to the next item (a new one after the last), not submitting the order.
      input.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter' || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.isComposing) return;
        e.preventDefault();
        const i = rows.indexOf(row);
        if (rows[i + 1]) rows[i + 1].product.focus();
        else if (product.value.trim() && rows.length < MAX_ITEMS) addRow({ quantity: 1 }, true);
        else product.focus();
      });
    });
    rows.push(row);
    rowList.append(el);
    syncRows();
    recalc();
    if (focus) product.focus();
    return row;
  }

  // --- shipping, tax, discount, total -------------------------------------------------------------
  const affixes = [];
  function moneyField(name, label, value, testid) {
    const input = textInput({ name, value: value ? amountText(value) : '', inputmode: 'decimal', placeholder: '0', class: 'input num', dataset: { testid } });
    const affix = h('span', { class: 'affix', 'aria-hidden': 'true' }, cur());
    affixes.push(affix);
    input.addEventListener('input', () => recalc());
    return { input, wrap: fieldWrap(label, input, { path: name, cls: 'field-third', inner: h('div', { class: 'input-affix' }, input, affix) }) };
  }
  const shipping = moneyField('shipping', 'Shipping', order?.shipping, 'order-shipping');
  const tax = moneyField('tax', 'Tax', order?.tax, 'order-tax');
  const discount = moneyField('discount', 'Discount', order?.discount, 'order-discount');

  const subtotalEl = h('span', { class: 'num', dataset: { testid: 'order-subtotal' } });
  const totalEl = h('strong', { class: 'num', dataset: { testid: 'order-total' } });
  const totalNote = h('span', { class: 'of-total-note muted' });
  const summary = h('div', { class: 'of-summary' },
    h('div', { class: 'of-summary-row muted' }, h('span', null, 'Items'), subtotalEl),
    h('div', { class: 'of-summary-row of-summary-total' }, h('span', null, 'Total'), totalEl),
    totalNote);

  function amountOr0(input) {
    const r = parseAmount(input.value, cur());
    return r.error ? null : r.minor || 0;
  }
  function recalc() {
    const c = cur();
    let sub = 0;
    let unknown = false;
    for (const r of rows) {
      const it = readRow(r);
      const ok = Number.isFinite(it.quantity) && !it.price.error && it.price.minor != null;
      const t = ok ? it.quantity * it.price.minor : null;
      r.total.textContent = t === null ? '—' : formatOrderMoney(t, c);
      if (t === null) { if (it.product || r.price.value.trim()) unknown = true; } else sub += t;
    }
    const extras = [amountOr0(shipping.input), amountOr0(tax.input), amountOr0(discount.input)];
    if (extras.some((x) => x === null)) unknown = true;
    const [s, t, d] = extras.map((x) => x || 0);
    const total = sub + s + t - d;
    subtotalEl.textContent = formatOrderMoney(sub, c);
    totalEl.textContent = formatOrderMoney(total, c);
    totalEl.classList.toggle('is-negative', total < 0);
    totalNote.textContent = total < 0 ? 'The discount is larger than the order.' : unknown ? 'Some amounts are not complete yet.' : `Items + shipping + tax − discount, in ${c}.`;
    priceHead.textContent = `Unit price (${c})`;
    rows.forEach((r) => { r.priceLabel.textContent = `Unit price (${c})`; r.price.placeholder = zero(); });
    affixes.forEach((a) => { a.textContent = c; });
    return total;
  }
  currency.addEventListener('change', () => { syncRows(); recalc(); });

  // --- status, shipping details, note ----------------------------------------------------------------
  const status = creating ? h('select', { class: 'input', name: 'status', dataset: { testid: 'order-status-select' } },
    START_STATUSES.map((s) => h('option', { value: s, selected: s === 'placed' ? true : null }, statusLabel(s)))) : null;
  const carrierList = nextId('of-carriers');
  const carrier = textInput({ name: 'carrier', maxlength: 80, list: carrierList, value: order?.carrier || '', dataset: { testid: 'order-form-carrier' } });
  const tracking = textInput({ name: 'tracking_number', maxlength: 120, spellcheck: 'false', value: order?.tracking_number || '', dataset: { testid: 'order-form-tracking' } });
  carrier.__list = h('datalist', { id: carrierList }, CARRIERS.map((c) => h('option', { value: c })));
  const shipFields = [
    fieldWrap('Carrier', carrier, { path: 'carrier', cls: 'field-half', inner: h('div', null, carrier, carrier.__list) }),
    fieldWrap('Tracking number', tracking, { path: 'tracking_number', cls: 'field-half' }),
  ];
  const shows = () => SHIPPED.includes(creating ? status.value : order.status) || (!creating && !!(order.carrier || order.tracking_number));
  const shipShown = () => !shipFields[0].hidden;
  function syncShip() { shipFields.forEach((w) => { w.hidden = !shows(); }); }
  status?.addEventListener('change', () => { syncShip(); });
  syncShip();
  const note = h('textarea', { class: 'input', name: 'note', rows: 3, maxlength: 2000, dataset: { testid: 'order-note-input' }, placeholder: 'For your team only' }, order?.note || '');
  const noteWrap = fieldWrap('Internal note', note, { path: 'note', hint: 'Never shown to the customer.' });

  // --- the dialog ------------------------------------------------------------------------------------
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'order-save' } }, saveLabel);
  const section = (titleText, ...children) => h('section', { class: 'form-section' },
    titleText ? h('h3', { class: 'form-section-title' }, titleText) : null,
    h('div', { class: 'field-grid' }, ...children));
  const body = h('div', { class: 'dialog-body record-form-body' },
    creating ? null : h('p', { class: 'form-hint muted of-edit-hint' }, 'Status: ', h('strong', null, statusLabel(order.status)),
      '. The status changes with the buttons on the order’s page; this edits what was ordered.'),
    box,
    section(null, customerWrap, currencyWrap, numberWrap),
    section(null, itemsGroup),
    section('Totals', shipping.wrap, tax.wrap, discount.wrap, summary),
    section(creating ? 'Status and notes' : 'Shipping and notes',
      creating ? fieldWrap('Status', status, { path: 'status', cls: 'field-half', hint: 'Carrier and tracking number once it has shipped.' }) : null,
      creating ? h('div', { class: 'field-half of-spacer', 'aria-hidden': 'true' }) : null,
      ...shipFields, noteWrap));
  const form = h('form', { class: 'dialog-form record-form order-form', novalidate: true, dataset: { testid: 'order-form', mode: creating ? 'create' : 'edit' } },
    h('header', { class: 'dialog-header' },
      h('h2', { id: `${p}-title` }, title),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    body,
    h('footer', { class: 'dialog-footer' },
      h('span', { class: 'muted footer-hint' }, h('kbd', null, 'Ctrl'), '+', h('kbd', null, 'Enter'), creating ? ' to create · ' : ' to save · ', h('kbd', null, 'Esc'), ' to close'),
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      submit));
  const dialog = h('dialog', { class: 'dialog record-dialog order-dialog', 'aria-labelledby': `${p}-title`, dataset: { testid: 'order-dialog' } }, form);
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });

  (order?.items?.length ? order.items : [{ quantity: 1 }]).forEach((it) => addRow(it));

  // --- collect and send ----------------------------------------------------------------------------------
  function collect() {
    const errs = [];
    const c = cur();
    if (creating && !picked) errs.push({ field: 'contact_id', message: customerInput.value.trim() ? 'pick the customer from the list' : 'choose the customer' });
    const items = rows.map((r, i) => {
      const it = readRow(r);
      if (!it.product) errs.push({ field: `items[${i}].product`, message: 'name the product' });
      if (!Number.isInteger(it.quantity) || it.quantity < 1 || it.quantity > 1_000_000) errs.push({ field: `items[${i}].quantity`, message: 'use a whole number from 1 to 1,000,000' });
      if (it.price.error) errs.push({ field: `items[${i}].unit_price`, message: it.price.error });
      else if (it.price.minor == null) errs.push({ field: `items[${i}].unit_price`, message: 'enter the price (0 for free)' });
      const out = { product: it.product, quantity: it.quantity, unit_price: it.price.minor ?? 0 };
      if (it.sku) out.sku = it.sku;
      return out;
    });
    const money = {};
    for (const [k, f] of [['shipping', shipping], ['tax', tax], ['discount', discount]]) {
      const r = parseAmount(f.input.value, c);
      if (r.error) errs.push({ field: k, message: r.error });
      money[k] = r.minor || 0;
    }
    if (!errs.length) {
      const sub = items.reduce((n, it) => n + it.quantity * it.unit_price, 0);
      if (sub + money.shipping + money.tax - money.discount < 0) errs.push({ field: 'discount', message: 'is larger than the order' });
    }
    const ship = shipShown();
    const values = {
      contact_id: picked,
      currency: c,
      items,
      shipping: money.shipping,
      tax: money.tax,
      discount: money.discount,
      status: creating ? status.value : order.status,
      carrier: ship ? carrier.value.trim() || null : (creating ? null : order.carrier ?? null),
      tracking_number: ship ? tracking.value.trim() || null : (creating ? null : order.tracking_number ?? null),
      note: note.value.trim() || null,
    };
    return { values, errs };
  }

  function createBody(v) {
    const out = { ...v };
    for (const k of ['carrier', 'tracking_number', 'note']) if (!out[k]) delete out[k];
    const n = number.value.trim().replace(/^#/, '');
    if (n) out.number = n;
    return out;
  }
  /** The whole order for PUT: what was there, with the edited content. */
  function replaceBody(v) {
    return {
      number: order.number,
      external_id: order.external_id ?? null,
      contact_id: order.contact_id,
      currency: order.currency,
      items: v.items,
      shipping: v.shipping,
      tax: v.tax,
      discount: v.discount,
      status: order.status,
      carrier: v.carrier,
      tracking_number: v.tracking_number,
      note: v.note,
      placed_at: order.placed_at,
    };
  }
  const contentOf = (o) => JSON.stringify([
    (o.items || []).map((it) => [it.product, it.sku || null, Number(it.quantity), Number(it.unit_price)]),
    o.shipping || 0, o.tax || 0, o.discount || 0, o.carrier || null, o.tracking_number || null, o.note || null,
  ]);

  function setBusy(on) {
    saving = on;
    submit.disabled = on;
    submit.textContent = on ? (creating ? 'Creating…' : 'Saving…') : saveLabel;
    form.setAttribute('aria-busy', String(on));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    clearAllErrors();
    const { values, errs } = collect();
    if (errs.length) { showErrors(errs); return; }
    if (!creating && contentOf(values) === contentOf(order)) {
      dialog.close('unchanged');
      toast('Nothing was changed.', { title: 'No changes' });
      return;
    }
    setBusy(true);
    try {
      const result = creating
        ? await oapi.createOrder(createBody(values), { idempotencyKey })
        : await oapi.updateOrder(order.id, replaceBody(values), version);
      dialog.close('saved');
      const saved = result.order || {};
      if (creating) {
        const who = pickedName || customerInput.value.trim();
        toast(`${orderTitle(saved)} was created${who ? ` for ${who}` : ''}.`, { kind: 'success', title: 'Order created' });
        onSaved?.(saved, result.version);
        if (saved.id) navigate(`/orders/${encodeURIComponent(saved.id)}`);
      } else {
        toast(`${orderTitle(saved)} was updated.`, { kind: 'success', title: 'Saved', timeout: 3500 });
        onSaved?.(saved, result.version);
      }
    } catch (err) {
      setBusy(false);
      // The key stays for the dialog: the server keeps only successful answers,
      // so a corrected retry runs afresh and a retry after a lost answer replays it.
      if (!creating && (err.status === 412 || err.status === 409) && onConflict) {
        dialog.close('conflict');
        onConflict(err);
        return;
      }
      if (err.isValidation) { showErrors(err.errors.length ? err.errors : [{ field: '', message: err.detail }], err); return; }
      showBox(h('strong', null, err.title || 'Could not save'), ' ', err.detail || err.message,
        err.requestId ? h('div', { class: 'muted' }, `Request ID ${err.requestId}`) : null);
      box.scrollIntoView({ block: 'nearest' });
      if (!err.handled && err.status !== 409) toastError(err, creating ? 'Could not create the order' : 'Could not save the order');
    }
  });

  openModal(dialog);
  recalc();
  if (creating) (picked ? rows[0].product : customerInput).focus();
  else rows[0].product.focus();
  return dialog;
}
