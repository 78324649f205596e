// The ticket page (/tickets/<id>): the conversation (the customer's messages,
// staff replies, internal notes shown apart: yellow, a lock, "Internal
// note"), a composer with a Reply / Internal note toggle, macros (insert the
// body, preselect the macro's status) and the status after sending; a side
// panel with status, priority, category, assignee and team (each a PATCH
// with If-Match; a 412 reloads and says so), the SLA targets with countdowns
// and breach markers, the customer's rating; and the customer 360: contact,
// lifetime value, orders, the order this ticket is about, their other
// tickets and open deals.

import { h, mount, icon, toast, toastError, pageTitle, timeEl, formatDate } from './ui.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import * as tapi from './tickets-api.js';
import * as oapi from './orders-api.js';
import * as papi from './pipeline-api.js';
import { loadTeams } from './teams.js';
import {
  loadUsers, onUsers, knownUsers, userName, userActive, meId, contactName, avatar, dash, xicon, labelize, initialsOf,
} from './records.js';
import { moneyEl, closeDateEl } from './deal-display.js';
import { orderStatusBadge, formatOrderMoney, orderTitle } from './order-display.js';
import { emptyState } from './contacts.js';
import {
  ticketStatusBadge, ticketStatusLabel, ticketPriorityBadge, priorityLabel, PRIORITIES, channelLabel, channelIcon,
  ticketNumber, slaChip, slaTarget, startSlaTicker, refreshSla, dicon,
} from './ticket-display.js';
import { openTicketForm } from './ticket-form.js';
import { canWorkTickets } from './ticket-queue.js';

const REPLY_STATUSES = [['open', 'Open'], ['waiting', 'Waiting on customer'], ['resolved', 'Resolved']];
const PANEL_STATUSES = [['open', 'Open'], ['waiting', 'Waiting on customer'], ['resolved', 'Resolved'], ['closed', 'Closed']];

/** Who wrote a message: the customer, a colleague, "You", or the system. */
function authorOf(author, customerName) {
  const raw = String(author || '');
  if (raw.startsWith('customer:')) return { kind: 'customer', name: customerName || 'Customer' };
  const m = /^user:(.+)$/.exec(raw);
  if (m) return { kind: 'staff', name: m[1] === meId() ? 'You' : userName(m[1]), fullName: userName(m[1]), userId: m[1] };
  if (raw.startsWith('apikey:')) return { kind: 'staff', name: `API key …${raw.slice(-5)}` };
  return { kind: 'system', name: labelize(raw.split(':')[0]) || 'System' };
}

export function ticketPageView(root, id) {
  const controller = new AbortController();
  const state = {
    ticket: null, version: null, contact: null, contactError: null, teams: null, categories: null,
    macros: null, destroyed: false, saving: null,
  };
  const cleanups = [];

  const back = () => h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/service-desk', class: 'back-link' }, icon('arrowLeft'), 'Tickets'));

  function skeleton() {
    const lines = (ws) => ws.map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '14px 0' } }));
    mount(root, back(),
      h('div', { class: 'card record-header', 'aria-busy': 'true' },
        h('div', { style: { flex: '1' } },
          h('div', { class: 'skeleton skeleton-text', style: { width: '45%', height: '20px' } }),
          h('div', { class: 'skeleton skeleton-text', style: { width: '30%', marginTop: '10px' } }))),
      h('div', { class: 'ticket-grid', 'aria-busy': 'true' },
        h('div', { class: 'ticket-col-main' }, h('section', { class: 'card' }, lines([35, 80, 70, 55, 75, 40]))),
        h('div', { class: 'ticket-col-aside' },
          h('div', { class: 'ticket-col-side' }, h('section', { class: 'card' }, lines([60, 45, 70, 50]))),
          h('div', { class: 'ticket-col-customer' }, h('section', { class: 'card' }, lines([50, 70, 40, 60]))))));
  }

  const writable = () => canWorkTickets();
  const customerName = () => (state.contact ? contactName(state.contact) : '') || '';

  // --- composer (kept across re-renders: a half-written reply survives a change) -----
  const composer = (() => {
    let sending = false;
    let key = crm.newIdempotencyKey();
    const text = h('textarea', {
      class: 'input tk-composer-text', id: `tk-${id}-reply`, rows: 5, maxlength: 20000, dataset: { testid: 'ticket-composer' },
      placeholder: 'Write a reply… (Ctrl+Enter to send)',
    });
    const internal = h('input', { type: 'checkbox', id: `tk-${id}-internal`, class: 'tk-internal-check', dataset: { testid: 'composer-internal' } });
    const toggle = h('label', { class: 'tk-internal-toggle', for: internal.id, title: 'Internal notes are only seen by staff' },
      internal, icon('lock', { size: 14 }), h('span', null, 'Internal note'));
    const status = h('select', { class: 'select-sm tk-composer-status', id: `tk-${id}-status`, dataset: { testid: 'composer-status' } },
      REPLY_STATUSES.map(([v, l]) => h('option', { value: v }, l)));
    const statusWrap = h('label', { class: 'composer-inline', for: status.id }, h('span', { class: 'muted' }, 'Then set to'), status);
    const macro = h('select', { class: 'select-sm tk-macro', id: `tk-${id}-macro`, dataset: { testid: 'composer-macro' }, disabled: true },
      h('option', { value: '' }, 'Loading macros…'));
    const macroWrap = h('label', { class: 'composer-inline', for: macro.id }, h('span', { class: 'muted' }, 'Macro'), macro);
    const title = h('h2', { class: 'tk-composer-title', id: `tk-${id}-composer-title` }, 'Reply');
    const hint = h('p', { class: 'tk-composer-hint muted', id: `tk-${id}-composer-hint` });
    text.setAttribute('aria-labelledby', title.id);
    text.setAttribute('aria-describedby', hint.id);
    const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
    // What just happened (sent, inserted), said here rather than in a toast over the buttons.
    const live = h('p', { class: 'tk-composer-live', role: 'status', 'aria-live': 'polite', dataset: { testid: 'composer-live' } });
    let liveTimer = null;
    const say = (parts) => {
      clearTimeout(liveTimer);
      mount(live, parts);
      liveTimer = setTimeout(() => live.replaceChildren(), 8000);
    };
    const send = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'ticket-send' } }, icon('mail', { size: 15 }), h('span', null, 'Send reply'));
    const form = h('form', { class: 'card tk-composer', novalidate: true, 'aria-labelledby': title.id, dataset: { testid: 'ticket-composer-form' } },
      h('div', { class: 'tk-composer-head' }, title, h('div', { class: 'tk-composer-tools' }, macroWrap, toggle)),
      text, hint, error, live,
      h('div', { class: 'tk-composer-foot' }, statusWrap, h('span', { class: 'composer-spacer' }),
        h('span', { class: 'muted footer-hint tk-send-hint' }, h('kbd', null, 'Ctrl'), '+', h('kbd', null, 'Enter')), send));

    function mode() {
      const on = internal.checked;
      form.classList.toggle('is-internal', on);
      title.replaceChildren(on ? icon('lock', { size: 15 }) : dicon('reply', { size: 15 }), on ? 'Internal note' : `Reply${customerName() ? ` to ${customerName()}` : ''}`);
      const email = state.contact?.email;
      hint.textContent = on
        ? 'Only staff see internal notes. The customer is not told.'
        : `The customer gets this by email${email ? ` (${email})` : ''}, with a link to the portal.${state.ticket?.first_response_at ? '' : ' The first reply meets the first-response target.'}`;
      text.placeholder = on ? 'A note for colleagues… (Ctrl+Enter to save)' : 'Write a reply… (Ctrl+Enter to send)';
      statusWrap.hidden = on;
      status.disabled = on;
      send.replaceChildren(on ? icon('lock', { size: 15 }) : icon('mail', { size: 15 }), h('span', null, on ? 'Add note' : 'Send reply'));
    }
    internal.addEventListener('change', () => { mode(); error.hidden = true; });

    function defaultStatus() {
      const s = state.ticket?.status;
      status.value = s === 'resolved' ? 'resolved' : s === 'waiting' ? 'waiting' : 'open';
    }

    function fillMacros() {
      const list = state.macros;
      if (!list) return;
      if (!list.length) {
        mount(macro, h('option', { value: '' }, 'No macros yet'));
        macro.disabled = true;
        macro.title = 'Macros are set up in Settings › Service desk';
        return;
      }
      mount(macro, h('option', { value: '' }, 'Insert a macro…'),
        list.map((m) => h('option', { value: m.id }, m.status ? `${m.name} (→ ${ticketStatusLabel(m.status).toLowerCase()})` : m.name)));
      macro.disabled = false;
    }
    macro.addEventListener('change', () => {
      const m = state.macros?.find((x) => x.id === macro.value);
      macro.value = '';
      if (!m) return;
      // Insert at the cursor (or replace an empty box), keeping what was written.
      const start = text.selectionStart ?? text.value.length;
      const end = text.selectionEnd ?? text.value.length;
      const before = text.value.slice(0, start);
      const after = text.value.slice(end);
      const sep = before && !before.endsWith('\n') ? '\n\n' : '';
      text.value = `${before}${sep}${m.body}${after}`;
      if (m.status) {
        if (internal.checked) { internal.checked = false; mode(); }
        status.value = m.status;
      }
      const caret = (before + sep + m.body).length;
      text.focus();
      text.setSelectionRange(caret, caret);
      say([icon('check', { size: 14 }), h('span', null, `“${m.name}” inserted${m.status ? `; the ticket will be ${ticketStatusLabel(m.status).toLowerCase()} after sending` : ''}.`)]);
    });

    form.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    text.addEventListener('input', () => { error.hidden = true; });

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (sending || !state.ticket) return;
      const body = text.value.trim();
      if (!body) {
        error.hidden = false;
        mount(error, icon('alert', { size: 14 }), h('span', null, internal.checked ? 'Write the note first.' : 'Write the reply first.'));
        text.focus();
        return;
      }
      const isNote = internal.checked;
      sending = true;
      send.disabled = true;
      form.setAttribute('aria-busy', 'true');
      try {
        const res = await tapi.replyToTicket(id, { body, internal: isNote, status: isNote ? undefined : status.value }, { idempotencyKey: key });
        key = crm.newIdempotencyKey();
        text.value = '';
        if (isNote) { internal.checked = false; mode(); }
        const after = res.ticket?.status && res.ticket.status !== state.ticket.status ? ` The ticket is ${ticketStatusLabel(res.ticket.status).toLowerCase()} now.` : '';
        say([icon('check', { size: 14 }), h('span', null, isNote ? 'Internal note added; only staff can see it.' : `Reply sent; ${customerName() || 'the customer'} gets it by email.${after}`)]);
        await refetch();
        defaultStatus();
        text.focus({ preventScroll: true });
        root.querySelector('.tk-thread > li:last-child')?.scrollIntoView({ block: 'nearest' });
      } catch (err) {
        if (!err.isNetwork) key = crm.newIdempotencyKey();
        if (err.status === 409) {
          toast(err.detail || 'This ticket is closed.', { kind: 'error', title: err.title || 'Ticket closed', requestId: err.requestId });
          refetch();
        } else if (err.isValidation) {
          error.hidden = false;
          mount(error, icon('alert', { size: 14 }), h('span', null, err.errors.map((x) => `${x.field ? `${labelize(x.field)}: ` : ''}${x.message}`).join('. ') || err.detail));
        } else toastError(err, isNote ? 'Could not add the note' : 'Could not send the reply');
      } finally {
        sending = false;
        send.disabled = false;
        form.removeAttribute('aria-busy');
      }
    });

    return {
      el: form, mode, defaultStatus, fillMacros,
      focus(asNote = false) {
        if (internal.checked !== asNote) { internal.checked = asNote; mode(); }
        text.focus();
      },
      get dirty() { return !!text.value.trim(); },
    };
  })();

  // --- saving side-panel changes ----------------------------------------------------
  // Saved side-panel changes are confirmed here (one element, kept across re-renders).
  const saveNote = h('p', { class: 'tk-save-note', role: 'status', 'aria-live': 'polite', dataset: { testid: 'ticket-save-note' } });
  let saveNoteTimer = null;

  async function save(patch, control, what) {
    if (state.saving) return;
    state.saving = what;
    const hadFocus = control && document.activeElement === control;
    if (control) control.disabled = true;
    try {
      const res = await tapi.updateTicket(id, patch, state.version);
      state.ticket = { ...res.ticket, messages: res.ticket?.messages || state.ticket.messages };
      state.version = res.version;
      state.saving = null;
      render();
      clearTimeout(saveNoteTimer);
      mount(saveNote, icon('check', { size: 14 }), h('span', null, savedText(patch)));
      saveNoteTimer = setTimeout(() => saveNote.replaceChildren(), 6000);
      if (hadFocus) root.querySelector(`[data-field="${what}"] select, [data-field="${what}"] button`)?.focus();
    } catch (err) {
      state.saving = null;
      if (err.status === 412) {
        toast('Someone else changed this ticket meanwhile. The page shows its current state now; make your change again if it is still needed.', {
          kind: 'error', title: 'Changed by someone else', requestId: err.requestId,
        });
        await refetch();
        return;
      }
      if (control) control.disabled = false;
      render();
      toastError(err, 'Could not save the change');
    }
  }

  function savedText(patch) {
    if ('assignee_id' in patch) return patch.assignee_id ? `Assigned to ${patch.assignee_id === meId() ? 'you' : userName(patch.assignee_id)}.` : 'Nobody is assigned now.';
    if ('team_id' in patch) return patch.team_id ? `Team: ${state.teams?.find((t) => t.id === patch.team_id)?.name || 'changed'}.` : 'No team now.';
    if (patch.status) return `Status: ${ticketStatusLabel(state.ticket.status).toLowerCase()}.`;
    if (patch.priority) return `Priority: ${priorityLabel(patch.priority).toLowerCase()}; the targets follow it.`;
    if (patch.category) return `Category: ${patch.category}.`;
    return 'Saved.';
  }

  // --- pieces ----------------------------------------------------------------------------
  function header(t) {
    const mine = t.assignee_id && t.assignee_id === meId();
    const actions = writable() ? h('div', { class: 'record-actions tk-actions' },
      !mine && t.status !== 'closed' ? h('button', {
        type: 'button', class: 'btn', dataset: { testid: 'ticket-take' },
        onclick: (e) => save({ assignee_id: meId() }, e.currentTarget, 'assignee'),
      }, xicon('user', { size: 15 }), 'Assign to me') : null,
      t.status !== 'resolved' && t.status !== 'closed' ? h('button', {
        type: 'button', class: 'btn', dataset: { testid: 'ticket-resolve' },
        onclick: (e) => save({ status: 'resolved' }, e.currentTarget, 'status'),
      }, icon('check', { size: 15 }), 'Resolve') : null,
      h('button', {
        type: 'button', class: 'btn', dataset: { testid: 'ticket-reply-button' }, 'aria-keyshortcuts': 'r',
        hidden: t.status === 'closed',
        onclick: () => view.reply(),
      }, dicon('reply', { size: 15 }), h('span', { class: 'btn-label' }, 'Reply'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'R'))) : null;
    const who = h('a', { href: `/contacts/${encodeURIComponent(t.contact_id)}`, dataset: { testid: 'ticket-customer-link' } }, customerName() || 'Customer');
    return h('header', { class: 'card record-header ticket-header', dataset: { testid: 'ticket-detail', id: t.id, status: t.status } },
      h('span', { class: 'order-header-icon tk-header-icon', 'aria-hidden': 'true' }, dicon('ticket', { size: 24 })),
      h('div', { class: 'record-heading' },
        h('h1', { class: 'page-title', tabindex: '-1', dataset: { testid: 'ticket-subject' } },
          h('span', { class: 'tk-h-num num', dataset: { testid: 'ticket-number' } }, ticketNumber(t)), ' ', t.subject || '(no subject)'),
        h('p', { class: 'record-sub' },
          who,
          h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'),
          h('span', { class: 'tk-channel' }, channelIcon(t.channel, { size: 13 }), channelLabel(t.channel)),
          h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'),
          h('span', null, 'opened ', timeEl(t.created_at, { withTime: true })),
          t.category ? [h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'), h('span', null, t.category)] : null),
        h('div', { class: 'record-chips' },
          ticketStatusBadge(t.status),
          ticketPriorityBadge(t.priority, { testid: 'ticket-priority-badge' }),
          t.status !== 'closed' ? slaChip(() => state.ticket, { testid: 'ticket-next-sla' }) : null,
          t.escalated_at ? h('span', { class: 'tk-flag tk-flag-danger', dataset: { testid: 'ticket-escalated' } }, icon('alert', { size: 12 }), 'Escalated') : null,
          t.reopened ? h('span', { class: 'tk-flag' }, dicon('undo', { size: 12 }), `Reopened ${t.reopened === 1 ? 'once' : `${t.reopened} times`}`) : null)),
      actions);
  }

  function messageEl(m, i) {
    let a = authorOf(m.author, customerName());
    // A ticket staff filed (a call, an email) opens with the customer's words, written down by staff.
    const filedFor = i === 0 && !m.internal && a.kind === 'staff' && state.ticket.channel !== 'portal';
    if (filedFor) a = { kind: 'customer', name: customerName() || 'Customer', filedBy: a.name, via: state.ticket.channel };
    const kind = m.internal ? 'internal' : a.kind;
    const av = a.kind === 'customer'
      ? avatar('contact', state.contact || { id: state.ticket.contact_id }, 'sm')
      : h('span', { class: 'avatar avatar-sm tk-staff-avatar', 'aria-hidden': 'true' }, a.kind === 'system' ? icon('zap', { size: 13 }) : initialsOf((a.fullName || a.name).replace(/^User …/, '')));
    const label = m.internal ? h('span', { class: 'tk-msg-label tk-msg-label-internal' }, icon('lock', { size: 12 }), 'Internal note')
      : a.kind === 'customer' ? h('span', { class: 'tk-msg-label' }, 'Customer')
        : a.kind === 'staff' ? h('span', { class: 'tk-msg-label tk-msg-label-staff' }, 'Reply') : null;
    return h('li', { class: ['tk-msg', `tk-msg-${kind}`], dataset: { testid: 'ticket-message', internal: String(!!m.internal), author: a.kind, id: m.id } },
      av,
      h('div', { class: 'tk-msg-card' },
        h('div', { class: 'tk-msg-head' },
          h('span', { class: 'tk-msg-author' }, a.name),
          label,
          a.filedBy ? h('span', { class: 'tk-msg-via muted' }, `${a.via === 'staff' ? 'noted' : `by ${channelLabel(a.via).toLowerCase()}`}, written down by ${a.filedBy === 'You' ? 'you' : a.filedBy}`) : null,
          h('time', { class: 'tk-msg-time muted', datetime: m.created_at, title: formatDate(m.created_at, { withTime: true }) }, formatDate(m.created_at, { withTime: true }))),
        h('div', { class: 'tk-msg-body', dataset: { testid: 'ticket-message-body' } }, m.body)));
  }

  function conversationCard(t) {
    const msgs = Array.isArray(t.messages) ? t.messages : [];
    const notes = msgs.filter((m) => m.internal).length;
    return h('section', { class: 'card tk-conversation', 'aria-labelledby': 'tk-conv-title', dataset: { testid: 'ticket-conversation' } },
      h('div', { class: 'card-head' },
        h('h2', { class: 'card-title', id: 'tk-conv-title' }, 'Conversation'),
        h('span', { class: 'muted card-count' }, `${msgs.length - notes} ${msgs.length - notes === 1 ? 'message' : 'messages'}${notes ? ` · ${notes} internal ${notes === 1 ? 'note' : 'notes'}` : ''}`)),
      msgs.length ? h('ol', { class: 'tk-thread', 'aria-label': 'Messages, oldest first' }, msgs.map((m, i) => messageEl(m, i)))
        : h('p', { class: 'muted' }, 'No messages yet.'));
  }

  function composerArea(t) {
    if (!writable()) {
      return h('p', { class: 'card tk-readonly muted', dataset: { testid: 'ticket-readonly' } }, icon('lock', { size: 14 }),
        h('span', null, 'Your role can read tickets but not answer them.'));
    }
    if (t.status === 'closed') {
      return h('div', { class: 'card tk-closed-note', dataset: { testid: 'ticket-closed-note' } },
        dicon('archive', { size: 18 }),
        h('div', null,
          h('strong', null, 'This ticket is closed.'),
          h('p', { class: 'muted' }, 'Replies and notes are off. Reopen it to answer; the customer’s next message starts a new ticket.')),
        h('button', { type: 'button', class: 'btn', dataset: { testid: 'ticket-reopen' }, onclick: (e) => save({ status: 'open' }, e.currentTarget, 'status') },
          dicon('undo', { size: 15 }), 'Reopen'));
    }
    composer.mode();
    return composer.el;
  }

  function prop(label, value, field, testid) {
    return h('div', { class: 'prop', dataset: { field } }, h('dt', null, label), h('dd', { dataset: { testid } }, value ?? dash()));
  }

  function selectFor(field, options, value, { testid, label, onChange, extraData } = {}) {
    const el = h('select', { class: 'select-sm', 'aria-label': label, dataset: { testid, ...(extraData || {}) }, disabled: !!state.saving },
      options.map(([v, l, disabled]) => h('option', { value: v, selected: String(v) === String(value ?? '') ? true : null, disabled: disabled ? true : null }, l)));
    el.addEventListener('change', () => onChange(el.value, el));
    return el;
  }

  function detailsCard(t) {
    const w = writable();
    const statusOptions = [...PANEL_STATUSES];
    if (!PANEL_STATUSES.some(([v]) => v === t.status)) statusOptions.unshift([t.status, ticketStatusLabel(t.status), true]);
    const statusCtl = w
      ? selectFor('status', statusOptions, t.status, {
        testid: 'ticket-status', label: 'Status', extraData: { status: t.status },
        onChange: (v, el) => save({ status: v }, el, 'status'),
      })
      : h('span', { dataset: { testid: 'ticket-status', status: t.status } }, ticketStatusBadge(t.status, { testid: 'ticket-status-text' }));
    const priorityCtl = w
      ? selectFor('priority', PRIORITIES.map((p) => [p, priorityLabel(p)]), t.priority, {
        testid: 'ticket-priority-select', label: 'Priority', onChange: (v, el) => save({ priority: v }, el, 'priority'),
      })
      : ticketPriorityBadge(t.priority);
    const cats = state.categories || [];
    const catOptions = [...(t.category ? [] : [['', 'No category', true]]), ...cats.map((c) => [c, c])];
    if (t.category && !cats.includes(t.category)) catOptions.unshift([t.category, t.category, true]);
    const categoryCtl = w && cats.length
      ? selectFor('category', catOptions, t.category || '', {
        testid: 'ticket-category', label: 'Category', onChange: (v, el) => { if (v) save({ category: v }, el, 'category'); },
      })
      : (t.category ? h('span', { dataset: { testid: 'ticket-category' } }, t.category) : null);

    const userIds = new Set([...knownUsers().keys()].filter((uid) => userActive(uid)));
    if (meId()) userIds.add(meId());
    if (t.assignee_id) userIds.add(t.assignee_id);
    const userOpts = [...userIds].map((uid) => [uid, uid === meId() ? `${userName(uid)} (you)` : userName(uid)]).sort((a, b) => a[1].localeCompare(b[1]));
    const assigneeCtl = w
      ? h('div', { class: 'tk-assign' },
        selectFor('assignee', [['', 'Unassigned'], ...userOpts], t.assignee_id || '', {
          testid: 'ticket-assignee', label: 'Assignee', extraData: { assigneeId: t.assignee_id || '' },
          onChange: (v, el) => save({ assignee_id: v || null }, el, 'assignee'),
        }),
        t.assignee_id !== meId() ? h('button', {
          type: 'button', class: 'link-button tk-assign-me', dataset: { testid: 'ticket-assign-me' },
          onclick: (e) => save({ assignee_id: meId() }, e.currentTarget, 'assignee'),
        }, 'Assign to me') : null)
      : h('span', { dataset: { testid: 'ticket-assignee', assigneeId: t.assignee_id || '' } }, t.assignee_id ? userName(t.assignee_id) : h('span', { class: 'muted' }, 'Unassigned'));

    let teamCtl;
    if (w && state.teams) {
      const teamOpts = [['', 'No team'], ...state.teams.map((tm) => [tm.id, tm.name || tm.id])];
      if (t.team_id && !state.teams.some((tm) => tm.id === t.team_id)) teamOpts.push([t.team_id, 'Unknown team', true]);
      teamCtl = selectFor('team', teamOpts, t.team_id || '', {
        testid: 'ticket-team', label: 'Team', onChange: (v, el) => save({ team_id: v || null }, el, 'team'),
      });
    } else {
      const name = t.team_id ? (state.teams?.find((tm) => tm.id === t.team_id)?.name || 'A team') : null;
      teamCtl = name ? h('span', { dataset: { testid: 'ticket-team' } }, name) : h('span', { class: 'muted', dataset: { testid: 'ticket-team' } }, 'No team');
    }

    return h('section', { class: 'card profile-card tk-details', 'aria-label': 'Ticket details', dataset: { testid: 'ticket-details' } },
      h('div', { class: 'profile-section' },
        h('h3', { class: 'profile-section-title' }, 'Ticket'),
        saveNote,
        h('dl', { class: 'props' },
          prop('Status', statusCtl, 'status'),
          prop('Priority', priorityCtl, 'priority'),
          prop('Category', categoryCtl, 'category'),
          prop('Assignee', assigneeCtl, 'assignee'),
          prop('Team', teamCtl, 'team'))),
      slaSection(t),
      csatSection(t),
      h('p', { class: 'record-meta muted' }, 'Opened ', timeEl(t.created_at, { withTime: true }), ' by ', channelLabel(t.channel).toLowerCase(),
        ' · updated ', timeEl(t.updated_at, { withTime: true }), h('br'), 'ID ', h('code', null, t.id), state.version != null ? ` · version ${state.version}` : null));
  }

  function slaRow(t, which, label) {
    const st = slaTarget(t, which);
    const breached = st.breachedAt;
    return h('li', { class: ['tk-sla-row', `is-${st.state}`], dataset: { which, state: st.state } },
      h('div', { class: 'tk-sla-name' }, label),
      h('div', { class: 'tk-sla-body' },
        st.due ? h('div', { class: 'tk-sla-due muted' }, 'Due ', timeEl(st.due, { withTime: true })) : h('div', { class: 'muted' }, 'No target'),
        slaChip(() => state.ticket, { which }),
        st.doneAt ? h('div', { class: 'tk-sla-done muted' }, which === 'response' ? 'Answered ' : 'Resolved ', timeEl(st.doneAt, { withTime: true })) : null,
        breached ? h('div', { class: 'tk-sla-breach', dataset: { testid: `ticket-${which}-breached` } }, icon('alert', { size: 13 }), 'Missed, marked ', timeEl(breached, { withTime: true })) : null));
  }

  function slaSection(t) {
    return h('div', { class: 'profile-section tk-sla', dataset: { testid: 'ticket-sla' } },
      h('h3', { class: 'profile-section-title' }, 'Service level'),
      h('ul', { class: 'tk-sla-list' },
        slaRow(t, 'response', 'First response'),
        slaRow(t, 'resolution', 'Resolution')),
      t.escalated_at ? h('p', { class: 'tk-sla-escalated' }, icon('alert', { size: 13 }), 'Escalated ', timeEl(t.escalated_at, { withTime: true }),
        t.assignee_id ? [' · now with ', userName(t.assignee_id)] : null) : null,
      h('p', { class: 'tk-sla-note muted' }, 'Targets count business hours; they follow the priority.'));
  }

  function csatSection(t) {
    if (t.csat == null) {
      if (t.status !== 'resolved' && t.status !== 'closed') return null;
      return h('div', { class: 'profile-section tk-csat tk-csat-pending' },
        h('h3', { class: 'profile-section-title' }, 'Satisfaction'),
        h('p', { class: 'muted' }, 'Not rated yet. The customer was asked when the ticket was resolved.'));
    }
    const n = Math.max(0, Math.min(5, Number(t.csat) || 0));
    return h('div', { class: 'profile-section tk-csat', dataset: { testid: 'ticket-csat', score: String(n) } },
      h('h3', { class: 'profile-section-title' }, 'Satisfaction'),
      h('div', { class: 'tk-stars', role: 'img', 'aria-label': `Rated ${n} out of 5` },
        [1, 2, 3, 4, 5].map((i) => h('span', { class: ['tk-star', i <= n && 'is-on'] }, dicon('star', { size: 18 }))),
        h('span', { class: 'tk-csat-score', 'aria-hidden': 'true' }, `${n} / 5`)),
      t.csat_comment ? h('blockquote', { class: 'tk-csat-comment' }, t.csat_comment) : null);
  }

  // --- customer 360 -------------------------------------------------------------------------
  const c360 = { el: null, for: null };

  function sideBlock(title, testid, { link } = {}) {
    const body = h('div', { class: 'c360-body' }, [55, 75, 40].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '8px 0' } })));
    const el = h('div', { class: 'c360-block', dataset: { testid }, 'aria-busy': 'true' },
      h('h3', { class: 'profile-section-title c360-title' }, title, link || null), body);
    return {
      el,
      fill(...children) { el.setAttribute('aria-busy', 'false'); mount(body, ...children); },
      fail(err, what) {
        el.setAttribute('aria-busy', 'false');
        mount(body, h('p', { class: 'muted c360-note' }, err?.status === 403 ? `Your role cannot see ${what}.` : `${what[0].toUpperCase()}${what.slice(1)} could not be loaded.`));
      },
    };
  }

  function customer360(t) {
    // Built once per ticket's customer; kept across re-renders.
    if (c360.el && c360.for === `${t.contact_id}|${t.order_id || ''}`) return c360.el;
    c360.for = `${t.contact_id}|${t.order_id || ''}`;
    const cid = t.contact_id;
    const enc = encodeURIComponent(cid);
    const who = h('div', { class: 'c360-who' }, [60, 40].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '6px 0' } })));
    const linked = t.order_id ? sideBlock('This ticket is about', 'c360-linked-order') : null;
    const ltv = sideBlock('Lifetime value', 'c360-ltv');
    const orders = sideBlock('Latest orders', 'c360-orders', { link: h('a', { class: 'c360-all', href: `/service-desk/orders?contact_id=${enc}` }, 'All') });
    const tickets = sideBlock('Other tickets', 'c360-tickets', { link: h('a', { class: 'c360-all', href: `/service-desk?queue=open&contact_id=${enc}` }, 'All open') });
    const deals = sideBlock('Open deals', 'c360-deals');
    const el = h('aside', { class: 'card side-card c360', 'aria-labelledby': 'c360-title', dataset: { testid: 'customer-360', contactId: cid } },
      h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: 'c360-title' }, 'Customer')),
      who, linked?.el, ltv.el, orders.el, tickets.el, deals.el);
    c360.el = el;

    const fillWho = () => {
      const c = state.contact;
      if (!c) {
        mount(who, h('p', { class: 'muted' }, state.contactError?.status === 404 ? 'This contact no longer exists.' : 'The contact could not be loaded.'),
          h('a', { href: `/contacts/${enc}` }, 'Open the contact'));
        return;
      }
      const phone = c.phone || c.phones?.[0]?.number;
      mount(who,
        h('div', { class: 'c360-person' },
          avatar('contact', c, 'lg'),
          h('div', { class: 'c360-person-text' },
            h('a', { class: 'c360-name', href: `/contacts/${enc}`, dataset: { testid: 'c360-contact-link' } }, contactName(c) || 'Unnamed contact'),
            c.email ? h('a', { class: 'c360-line', href: `mailto:${c.email}` }, icon('mail', { size: 13 }), h('span', { class: 'truncate' }, c.email)) : null,
            phone ? h('a', { class: 'c360-line num', href: `tel:${String(phone).replace(/[^\d+]/g, '')}` }, icon('phone', { size: 13 }), phone) : null,
            c.company ? h('span', { class: 'c360-line muted' }, icon('building', { size: 13 }), h('span', { class: 'truncate' }, c.company)) : null)));
    };
    if (state.contact || state.contactError) fillWho();
    el.__fillWho = fillWho;

    if (linked) {
      oapi.getOrder(t.order_id).then(({ order: o }) => linked.fill(h('div', { class: 'c360-order-link' },
        h('a', { href: `/orders/${encodeURIComponent(o.id)}`, dataset: { testid: 'c360-linked-order-link' } }, orderTitle(o)),
        h('div', { class: 'c360-sub' }, orderStatusBadge(o.status, { testid: 'c360-linked-order-status' }), h('span', { class: 'num' }, formatOrderMoney(o.total, o.currency)), h('span', { class: 'muted' }, 'placed ', timeEl(o.placed_at))))))
        .catch((err) => linked.fail(err, 'the order'));
    }
    oapi.orderSummary(cid).then((s) => {
      const totals = s.totals.filter((x) => x && x.currency);
      ltv.fill(totals.length
        ? [h('ul', { class: 'orders-ltv-list' }, totals.map((x) => h('li', null,
          h('span', { class: 'orders-ltv-amount num' }, formatOrderMoney(x.lifetime_value, x.currency)),
          h('span', { class: 'muted' }, ` ${x.orders} ${x.orders === 1 ? 'order' : 'orders'}`)))),
        s.first_order_at ? h('p', { class: 'muted c360-note' }, 'Customer since ', timeEl(s.first_order_at)) : null]
        : h('p', { class: 'muted c360-note' }, 'No orders yet.'));
    }).catch((err) => ltv.fail(err, 'orders'));
    oapi.listOrders({ contact_id: cid, limit: 5 }).then((p) => {
      orders.fill(p.items.length ? h('ul', { class: 'side-list c360-list' }, p.items.map((o) => h('li', { class: 'side-item c360-item', dataset: { testid: 'c360-order' } },
        h('div', { class: 'side-item-text' },
          h('a', { href: `/orders/${encodeURIComponent(o.id)}` }, orderTitle(o)),
          h('div', { class: 'c360-sub' }, orderStatusBadge(o.status, { testid: 'c360-order-status' }), h('span', { class: 'muted' }, timeEl(o.placed_at)))),
        h('span', { class: 'num c360-amount' }, formatOrderMoney(o.total, o.currency)))))
        : h('p', { class: 'muted c360-note' }, 'No orders from this customer.'));
    }).catch((err) => orders.fail(err, 'orders'));
    tapi.listTickets({ contact_id: cid, status: tapi.ALL_STATUSES, limit: 10 }).then((p) => {
      const others = p.items.filter((x) => x.id !== id);
      tickets.fill(others.length ? h('ul', { class: 'side-list c360-list' }, others.slice(0, 6).map((x) => h('li', { class: 'side-item c360-item', dataset: { testid: 'c360-ticket' } },
        h('div', { class: 'side-item-text' },
          h('a', { href: `/tickets/${encodeURIComponent(x.id)}` }, h('span', { class: 'num muted' }, `${ticketNumber(x)} `), x.subject || '(no subject)'),
          h('div', { class: 'c360-sub' }, ticketStatusBadge(x.status, { testid: 'c360-ticket-status' }), h('span', { class: 'muted' }, timeEl(x.created_at)))))))
        : h('p', { class: 'muted c360-note' }, 'No other tickets.'));
    }).catch((err) => tickets.fail(err, 'tickets'));
    papi.listDeals({ contact_id: cid, status: 'open', limit: 5 }).then((p) => {
      deals.fill(p.items.length ? h('ul', { class: 'side-list c360-list' }, p.items.map((d) => h('li', { class: 'side-item c360-item', dataset: { testid: 'c360-deal' } },
        h('div', { class: 'side-item-text' },
          h('a', { href: `/deals/${encodeURIComponent(d.id)}` }, d.title || 'Untitled deal'),
          h('div', { class: 'c360-sub muted' }, closeDateEl(d, { withIcon: false }) || 'No close date')),
        moneyEl(d.value, d.currency, { cls: 'c360-amount' }))))
        : h('p', { class: 'muted c360-note' }, 'No open deals.'));
    }).catch((err) => deals.fail(err, 'deals'));
    return el;
  }

  // --- render -----------------------------------------------------------------------------
  function render() {
    const t = state.ticket;
    pageTitle(`${ticketNumber(t)} ${t.subject || ''}`.trim(), 'Tickets');
    const active = root.contains(document.activeElement) ? document.activeElement : null;
    const focusedTestid = active?.dataset?.testid || null;
    const selection = active && 'selectionStart' in active ? [active.selectionStart, active.selectionEnd] : null;
    mount(root,
      back(),
      header(t),
      h('div', { class: 'ticket-grid' },
        h('div', { class: 'ticket-col-main' }, conversationCard(t), composerArea(t)),
        h('div', { class: 'ticket-col-aside' },
          h('div', { class: 'ticket-col-side' }, detailsCard(t)),
          h('div', { class: 'ticket-col-customer' }, customer360(t)))));
    // The composer is the same element after a re-render: give it its focus and caret back.
    if (active?.isConnected) {
      active.focus({ preventScroll: true });
      if (selection && selection[0] != null) { try { active.setSelectionRange(selection[0], selection[1]); } catch { /* not a text field */ } }
    } else if (focusedTestid) root.querySelector(`[data-testid="${focusedTestid}"]`)?.focus({ preventScroll: true });
  }

  async function refetch(showSkeleton = false) {
    if (showSkeleton) skeleton();
    try {
      const [{ ticket, version }] = await Promise.all([tapi.getTicket(id, { signal: controller.signal }), session.whenLoaded()]);
      if (state.destroyed) return;
      const first = !state.ticket;
      state.ticket = ticket;
      state.version = version;
      if (first) {
        composer.defaultStatus();
        loadExtras(ticket);
      }
      render();
      if (showSkeleton) root.querySelector('h1')?.focus({ preventScroll: true });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (err.isNotFound || (err.status === 422 && !state.ticket)) {
        pageTitle('Ticket not found');
        mount(root, back(), emptyState({
          testid: 'not-found', iconName: 'search', title: 'Ticket not found',
          text: 'It may never have existed here, or the link is wrong.',
          actions: [h('a', { class: 'btn btn-primary', href: '/service-desk' }, 'Back to the queues')],
        }));
      } else if (!state.ticket) {
        mount(root, back(), emptyState({
          testid: 'error-state', iconName: err.status === 403 ? 'lock' : 'alert', title: err.status === 403 ? 'Tickets are not available to your role' : (err.title || 'Could not load this ticket'),
          text: `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
          actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => refetch(true) }, 'Retry')],
        }));
        if (!err.handled && err.status !== 403) toastError(err, 'Could not load this ticket');
      } else toastError(err, 'Could not refresh this ticket');
    }
  }

  /** The contact, categories, teams and macros: loaded once, each re-renders what it feeds. */
  function loadExtras(t) {
    crm.getRecord('contact', t.contact_id, { signal: controller.signal }).then(({ record }) => {
      state.contact = record;
    }).catch((err) => { if (err?.name !== 'AbortError') state.contactError = err; }).finally(() => {
      if (state.destroyed) return;
      c360.el?.__fillWho?.();
      if (state.ticket) { render(); composer.mode(); }
    });
    tapi.ticketCategories().then((cats) => { state.categories = cats; if (!state.destroyed && state.ticket) render(); });
    loadTeams(controller.signal).then((teams) => { state.teams = teams; if (!state.destroyed && state.ticket) render(); }).catch(() => { /* a role without teams sees the team as text */ });
    if (writable()) {
      tapi.listMacros({ signal: controller.signal }).then((list) => { state.macros = list; composer.fillMacros(); })
        .catch((err) => { if (err?.name !== 'AbortError') { state.macros = []; composer.fillMacros(); } });
    }
  }

  const view = {
    kind: 'ticket-page',
    id,
    reply() {
      if (!state.ticket || !writable() || state.ticket.status === 'closed') return;
      composer.focus(false);
      composer.el.scrollIntoView({ block: 'nearest' });
    },
    openCreate() {
      if (!writable() || !state.ticket) return;
      openTicketForm({ contact: { id: state.ticket.contact_id, name: customerName() } });
    },
    destroy() {
      state.destroyed = true;
      controller.abort();
      cleanups.forEach((fn) => fn());
    },
  };

  cleanups.push(onUsers(() => { if (state.ticket && !state.saving && !document.querySelector('dialog[open]')) render(); }));
  cleanups.push(startSlaTicker(root));
  // Coming back to the tab: show what happened meanwhile (a customer's reply).
  const onVisible = () => { if (document.visibilityState === 'visible' && state.ticket && !state.saving) refetch().then(() => refreshSla(root)); };
  document.addEventListener('visibilitychange', onVisible);
  cleanups.push(() => document.removeEventListener('visibilitychange', onVisible));
  loadUsers();
  refetch(true);
  return view;
}

