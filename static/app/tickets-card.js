// The "Tickets" card on contact pages: the customer's open tickets (number,
// subject, status, SLA) and a "New ticket" button prefilled with the contact.

import { h, mount, icon, toastError, timeEl } from './ui.js';
import * as tapi from './tickets-api.js';
import { contactName } from './records.js';
import { ticketStatusBadge, ticketPriorityBadge, ticketNumber, slaChip, dicon } from './ticket-display.js';
import { openTicketForm } from './ticket-form.js';
import { canWorkTickets } from './ticket-queue.js';

const LATEST = 5;

/** ticketsCard({ record }) → <section> */
export function ticketsCard({ record }) {
  const titleId = 'contact-tickets-title';
  const count = h('span', { class: 'muted card-count' });
  const list = h('ul', { class: 'side-list ticket-side-list', 'aria-label': 'Open tickets' });
  const note = h('p', { class: 'muted orders-note', hidden: true, dataset: { testid: 'contact-tickets-empty' } });
  const more = h('a', {
    class: 'card-foot-link', dataset: { testid: 'contact-tickets-all' },
    href: `/service-desk?queue=open&contact_id=${encodeURIComponent(record.id)}`,
  }, 'All tickets of this customer');
  const loading = h('div', { class: 'deal-side-loading', 'aria-hidden': 'true' },
    [60, 40].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '8px 0' } })));
  const add = canWorkTickets() ? h('button', {
    type: 'button', class: 'btn btn-sm', dataset: { testid: 'contact-new-ticket' },
    onclick: () => openTicketForm({ contact: { id: record.id, name: contactName(record) } }),
  }, icon('plus', { size: 14 }), 'New ticket') : null;

  const card = h('section', { class: 'card side-card tickets-card', 'aria-labelledby': titleId, 'aria-busy': 'true', dataset: { testid: 'contact-tickets' } },
    h('div', { class: 'card-head' }, h('h2', { id: titleId, class: 'card-title' }, 'Tickets ', count), add),
    loading, list, note, more);

  function item(t) {
    return h('li', { class: 'side-item ticket-side-item', dataset: { testid: 'contact-ticket', ticketId: t.id, status: t.status } },
      h('div', { class: 'side-item-text' },
        h('a', { href: `/tickets/${encodeURIComponent(t.id)}` }, h('span', { class: 'num muted' }, `${ticketNumber(t)} `), t.subject || '(no subject)'),
        h('div', { class: 'muted side-sub' },
          ticketStatusBadge(t.status, { testid: 'contact-ticket-status' }),
          t.priority !== 'normal' ? ticketPriorityBadge(t.priority) : null,
          slaChip(() => t),
          h('span', null, 'opened ', timeEl(t.created_at)))));
  }

  tapi.listTickets({ contact_id: record.id, status: tapi.OPEN_STATUSES, limit: LATEST }).then((p) => {
    loading.remove();
    card.setAttribute('aria-busy', 'false');
    mount(list, p.items.map(item));
    count.textContent = p.items.length ? `${p.items.length}${p.next_cursor ? '+' : ''}` : '';
    if (!p.items.length) {
      note.hidden = false;
      mount(note, dicon('ticket', { size: 14 }), h('span', null, 'No open tickets from this contact.'));
      more.textContent = 'Resolved and closed tickets';
      more.href = `/service-desk?queue=done&contact_id=${encodeURIComponent(record.id)}`;
    }
  }).catch((err) => {
    loading.remove();
    card.setAttribute('aria-busy', 'false');
    note.hidden = false;
    more.hidden = true;
    note.textContent = err?.status === 403 ? 'Your role cannot see tickets.' : 'Tickets could not be loaded.';
    if (err?.status !== 403 && err?.status !== 404 && !err?.handled) toastError(err, 'Could not load the tickets');
  });
  return card;
}
