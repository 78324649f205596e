// The "New ticket" dialog: staff file a complaint for a customer (a phone
// call, an email, something noticed) with a contact picker, subject, the
// customer's message, category, priority, channel, an optional related order
// of that customer, and who takes it. Opened from the queue (`n`), the contact
// page's Tickets card (prefilled) and the ticket page.

import { h, mount, icon, toast, openModal } from './ui.js';
import { navigate } from './router.js';
import { formErrors, errorBox, busy } from './forms.js';
import * as crm from './crm-api.js';
import * as tapi from './tickets-api.js';
import * as oapi from './orders-api.js';
import { combobox } from './record-form.js';
import { contactName, loadUsers, knownUsers, userName, userActive, meId } from './records.js';
import { rememberName } from './deal-display.js';
import { formatOrderMoney, statusLabel as orderStatusLabel } from './order-display.js';
import { PRIORITIES, priorityLabel, channelLabel } from './ticket-display.js';

let uid = 0;

async function contactSuggestions(q, signal) {
  const p = await crm.listRecords('contact', { q, limit: 8, signal });
  return p.items.map((c) => ({ id: c.id, label: contactName(c) || c.email || c.id, sub: [c.email, c.company].filter(Boolean).join(' · ') }));
}

/**
 * openTicketForm({ contact: {id, name}?, onCreated(ticket) })
 * Without onCreated, the new ticket's page opens.
 */
export function openTicketForm({ contact = null, onCreated } = {}) {
  if (document.querySelector('dialog.ticket-dialog[open]')) return null;
  const p = `tf${++uid}`;
  let picked = contact?.id || null;
  let saving = false;
  let key = crm.newIdempotencyKey();
  const box = errorBox('ticket-form-error');

  const wrapOf = (name, label, control, { half = false, hint, required = false } = {}) => {
    control.id ||= `${p}-${name}`;
    const hintId = hint ? `${control.id}-hint` : null;
    if (hintId) { control.setAttribute('aria-describedby', hintId); control.dataset.hint = hintId; }
    return h('div', { class: ['field', half && 'field-half'], dataset: { field: name } },
      h('label', { for: control.id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      control.__wrap || control,
      hint ? h('p', { class: 'field-hint muted', id: hintId }, hint) : null);
  };

  const contactInput = h('input', {
    class: 'input', type: 'text', name: 'contact_id', autocomplete: 'off', placeholder: 'Search by name or email…',
    value: contact?.name || '', dataset: { testid: 'ticket-form-contact' }, required: true,
  });
  const cb = combobox({
    inputEl: contactInput,
    fetch: contactSuggestions,
    onPick: (item, { typing } = {}) => {
      if (item) { picked = item.id; rememberName('contact', item.id, item.label); loadOrders(); errs.clearField('contact_id'); } else if (typing) { picked = null; loadOrders(); }
    },
    emptyText: (q) => `No contact matches “${q}”.`,
  });
  contactInput.__wrap = cb.wrap;

  const subject = h('input', { class: 'input', type: 'text', name: 'subject', maxlength: 200, autocomplete: 'off', dataset: { testid: 'ticket-form-subject' }, required: true });
  const body = h('textarea', { class: 'input', name: 'body', rows: 5, maxlength: 20000, dataset: { testid: 'ticket-form-body' }, required: true, placeholder: 'What the customer told you, in their words' });
  const category = h('select', { class: 'input', name: 'category', dataset: { testid: 'ticket-form-category' } }, h('option', { value: '' }, 'No category'));
  const priority = h('select', { class: 'input', name: 'priority', dataset: { testid: 'ticket-form-priority' } },
    PRIORITIES.map((v) => h('option', { value: v, selected: v === 'normal' ? true : null }, priorityLabel(v))));
  const channel = h('select', { class: 'input', name: 'channel', dataset: { testid: 'ticket-form-channel' } },
    ['phone', 'email', 'staff'].map((v) => h('option', { value: v }, channelLabel(v))));
  const assignee = h('select', { class: 'input', name: 'assignee_id', dataset: { testid: 'ticket-form-assignee' } });
  const order = h('select', { class: 'input', name: 'order_id', dataset: { testid: 'ticket-form-order' }, disabled: true }, h('option', { value: '' }, 'Pick a customer first'));

  function fillAssignees() {
    const ids = new Set([...knownUsers().keys()].filter((id) => userActive(id)));
    if (meId()) ids.add(meId());
    const others = [...ids].filter((id) => id !== meId()).map((id) => [id, userName(id)]).sort((a, b) => a[1].localeCompare(b[1]));
    const current = assignee.value || meId() || '';
    mount(assignee,
      h('option', { value: '' }, 'Unassigned'),
      meId() ? h('option', { value: meId() }, `${userName(meId())} (you)`) : null,
      others.map(([id, n]) => h('option', { value: id }, n)));
    assignee.value = current;
  }

  let ordersFor = null;
  async function loadOrders() {
    const id = picked;
    if (id === ordersFor) return;
    ordersFor = id;
    if (!id) { mount(order, h('option', { value: '' }, 'Pick a customer first')); order.disabled = true; return; }
    mount(order, h('option', { value: '' }, 'Loading orders…'));
    order.disabled = true;
    try {
      const pg = await oapi.listOrders({ contact_id: id, limit: 20 });
      if (ordersFor !== id) return;
      mount(order, h('option', { value: '' }, pg.items.length ? 'Not about one order' : 'This customer has no orders'),
        pg.items.map((o) => h('option', { value: o.id }, `Order ${o.number} · ${orderStatusLabel(o.status)} · ${formatOrderMoney(o.total, o.currency)}`)));
      order.disabled = !pg.items.length;
    } catch {
      if (ordersFor !== id) return;
      mount(order, h('option', { value: '' }, 'Orders could not be loaded'));
    }
  }

  const inputs = { contact_id: contactInput, subject, body, category, priority, channel, assignee_id: assignee, order_id: order };
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'ticket-form-save' } }, 'Create ticket');
  const form = h('form', { class: 'dialog-form ticket-form', novalidate: true, dataset: { testid: 'ticket-form' } },
    h('header', { class: 'dialog-header' },
      h('h2', { id: `${p}-title` }, 'New ticket'),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    h('div', { class: 'dialog-body' },
      box,
      h('div', { class: 'field-grid' },
        wrapOf('contact_id', 'Customer', contactInput, { required: true }),
        wrapOf('subject', 'Subject', subject, { required: true }),
        wrapOf('body', 'Message', body, { required: true, hint: 'The customer sees this as their first message in the portal.' }),
        wrapOf('category', 'Category', category, { half: true }),
        wrapOf('priority', 'Priority', priority, { half: true }),
        wrapOf('channel', 'Came in by', channel, { half: true }),
        wrapOf('assignee_id', 'Assignee', assignee, { half: true }),
        wrapOf('order_id', 'Related order', order))),
    h('footer', { class: 'dialog-footer' },
      h('span', { class: 'muted footer-hint' }, h('kbd', null, 'Ctrl'), '+', h('kbd', null, 'Enter'), ' to create · ', h('kbd', null, 'Esc'), ' to close'),
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      submit));
  const dialog = h('dialog', { class: 'dialog ticket-dialog', 'aria-labelledby': `${p}-title`, dataset: { testid: 'ticket-dialog' } }, form);
  const errs = formErrors({ form, inputs, idPrefix: p, box });
  Object.entries(inputs).forEach(([name, el]) => el.addEventListener(el.tagName === 'SELECT' ? 'change' : 'input', () => { if (name !== 'contact_id') errs.clearField(name); }));
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    errs.clearAll();
    const missing = {};
    if (!picked) missing.contact_id = [contactInput.value.trim() ? 'Pick the customer from the list' : 'Choose the customer'];
    if (subject.value.trim().length < 3) missing.subject = ['Write a subject of at least 3 characters'];
    if (!body.value.trim()) missing.body = ['Write what the customer said'];
    const names = Object.keys(missing);
    if (names.length) { names.forEach((n) => errs.setField(n, missing[n])); inputs[names[0]].focus(); return; }
    const payload = {
      contact_id: picked,
      subject: subject.value.trim(),
      body: body.value.trim(),
      priority: priority.value,
      channel: channel.value,
    };
    if (category.value) payload.category = category.value;
    if (assignee.value) payload.assignee_id = assignee.value;
    if (order.value) payload.order_id = order.value;
    saving = true;
    busy(submit, true, { idle: 'Create ticket', working: 'Creating…' });
    try {
      const { ticket } = await tapi.createTicket(payload, { idempotencyKey: key });
      dialog.close('created');
      const who = contactInput.value.trim();
      toast(`Ticket #${ticket.number} was filed${who ? ` for ${who}` : ''}.`, {
        kind: 'success', title: 'Ticket created', action: onCreated ? { label: 'Open', href: `/tickets/${encodeURIComponent(ticket.id)}` } : null,
      });
      if (onCreated) onCreated(ticket);
      else navigate(`/tickets/${encodeURIComponent(ticket.id)}`);
    } catch (err) {
      saving = false;
      if (!err.isNetwork) key = crm.newIdempotencyKey();
      busy(submit, false, { idle: 'Create ticket', working: 'Creating…' });
      errs.fromApi(err, { fallbackTitle: 'Could not create the ticket', focus: subject });
    }
  });

  openModal(dialog);
  (contact ? subject : contactInput).focus();
  fillAssignees();
  loadUsers().then(() => { if (dialog.isConnected) fillAssignees(); });
  tapi.ticketCategories().then((cats) => {
    if (!dialog.isConnected) return;
    mount(category, h('option', { value: '' }, 'No category'), cats.map((c) => h('option', { value: c }, c)));
  });
  if (picked) loadOrders();
  return dialog;
}
