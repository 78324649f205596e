// Complaints in the customer portal:
//   /portal/complaints              → my complaints (?order=<id>: about one order)
//   /portal/complaints/new          → file one (?order=<id> preselects the order)
//   /portal/complaints/<id>         → the conversation, reply, rating
// and the "Something wrong with this order?" card of the order page
// (data-slot="complaints"), which files one in place.
//
// While the subject is typed, matching help articles are suggested: "This
// answered my question" counts a complaint avoided and sends nothing.

import { h, mount, icon, debounce } from '/app/ui.js';
import { orderTitle, oicon } from '/app/order-display.js';
import * as api from '/portal/portal-api.js';
import {
  page, notice, errorPanel, paragraphs, emptyState, sentence, fieldErrorFor, when, fullDate,
  complaintStatusBadge, complaintTitle, tenant,
} from '/portal/portal-kit.js';

/** The service desk's default categories (the portal API does not list the tenant's own). */
const DEFAULT_CATEGORIES = ['Delivery', 'Damaged item', 'Billing', 'Returns', 'Other'];
let knownCategories = DEFAULT_CATEGORIES.slice();

const SUBJECT_MIN = 3;
const SUBJECT_MAX = 200;
const BODY_MAX = 20000;
const COMMENT_MAX = 2000;

function lastUpdate(t) {
  return t.last_message_at || t.updated_at || t.created_at;
}

function byLastUpdate(a, b) {
  return String(lastUpdate(b) || '').localeCompare(String(lastUpdate(a) || ''));
}

function orderLabel(o) {
  return `${orderTitle(o)} · ${fullDate(o.placed_at)}`;
}

/** The tenant's categories from a 422 "must be one of: A, B, C" (they may differ from the defaults). */
function categoriesFrom(message) {
  const m = /one of:\s*(.+)$/i.exec(String(message || ''));
  if (!m) return null;
  const list = m[1].split(',').map((s) => s.trim().replace(/\.$/, '')).filter(Boolean);
  return list.length ? list : null;
}

function counter(control, max) {
  const el = h('span', { class: 'pc-count muted', 'aria-hidden': 'true' });
  const update = () => {
    const n = control.value.length;
    el.textContent = n > max * 0.8 ? `${n.toLocaleString()} / ${max.toLocaleString()}` : '';
  };
  control.addEventListener('input', update);
  update();
  return el;
}

// ---------------------------------------------------------------------------
// Suggested articles while the subject is typed (the deflection flow)

function suggestions({ signal, subjectInput, onAnswered }) {
  const list = h('ul', { class: 'pc-sugg-list' });
  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const box = h('section', { class: 'pc-sugg', 'aria-labelledby': 'pc-sugg-title', hidden: true, dataset: { testid: 'kb-suggestions' } },
    h('h3', { class: 'pc-sugg-heading', id: 'pc-sugg-title' }, icon('lifebuoy', { size: 17 }), 'These articles may answer your question'),
    h('p', { class: 'pc-sugg-lead muted' }, 'Have a look before you send: the answer may be right here.'),
    list);
  let ctl = null;
  let last = '';
  let lastCount = 0;

  function item(a) {
    const fullId = `pc-sugg-full-${a.id}`;
    const full = h('div', { class: 'pc-sugg-full', id: fullId, hidden: true });
    const error = h('div', { hidden: true });
    const read = h('button', { type: 'button', class: 'link-button pc-sugg-read', 'aria-expanded': 'false', 'aria-controls': fullId, dataset: { testid: 'kb-suggestion-read' } },
      h('span', null, 'Read the article'), icon('chevronDown', { size: 15 }));
    let loaded = false;
    read.addEventListener('click', async () => {
      const open = read.getAttribute('aria-expanded') !== 'true';
      read.setAttribute('aria-expanded', String(open));
      read.firstChild.textContent = open ? 'Hide the article' : 'Read the article';
      full.hidden = !open;
      const ex = full.previousElementSibling;
      if (ex?.classList.contains('pc-sugg-excerpt')) ex.hidden = open; // the article replaces its excerpt
      if (!open || loaded) return;
      mount(full, h('p', { class: 'muted', role: 'status' }, 'Loading…'));
      try {
        const art = await api.getArticle(a.id, { signal });
        loaded = true;
        mount(full, paragraphs(art.body, { cls: 'pk-prose pc-sugg-body' }),
          h('a', { href: `/portal/help/${encodeURIComponent(a.id)}`, target: '_blank', rel: 'noopener' }, 'Open in a new tab', h('span', { class: 'visually-hidden' }, `: ${a.title}`)));
      } catch (ex) {
        if (ex?.name === 'AbortError') return;
        mount(full, h('p', { class: 'muted' }, 'The article could not be loaded. ', h('a', { href: `/portal/help/${encodeURIComponent(a.id)}`, target: '_blank', rel: 'noopener' }, 'Open it in a new tab'), '.'));
      }
    });
    const answered = h('button', { type: 'button', class: 'btn btn-sm pc-sugg-yes', dataset: { testid: 'kb-answered', articleId: a.id } },
      icon('check', { size: 15 }), h('span', null, 'This answered my question'));
    answered.addEventListener('click', async () => {
      answered.disabled = true;
      answered.setAttribute('aria-busy', 'true');
      error.hidden = true;
      try {
        await api.deflected(a.id, { signal });
        onAnswered(a);
      } catch (ex) {
        if (ex?.name === 'AbortError') return;
        answered.disabled = false;
        answered.removeAttribute('aria-busy');
        error.hidden = false;
        mount(error, errorPanel(ex));
      }
    });
    return h('li', { class: 'pc-sugg-item', dataset: { testid: 'kb-suggestion', articleId: a.id } },
      h('p', { class: 'pc-sugg-title' }, a.title),
      a.excerpt ? h('p', { class: 'pc-sugg-excerpt muted' }, String(a.excerpt).replace(/\s+/g, ' ').trim().slice(0, 180) + (String(a.excerpt).length > 180 ? '…' : '')) : null,
      full,
      h('div', { class: 'pc-sugg-actions' }, read, answered),
      error);
  }

  function show(items) {
    if (!items.length) {
      box.hidden = true;
      list.replaceChildren();
      if (lastCount) live.textContent = '';
      lastCount = 0;
      return;
    }
    mount(list, items.map(item));
    box.hidden = false;
    if (items.length !== lastCount) live.textContent = `${items.length} help ${items.length === 1 ? 'article' : 'articles'} may answer your question, below the subject.`;
    lastCount = items.length;
  }

  const run = debounce(async () => {
    const text = subjectInput.value.trim();
    if (text === last) return;
    last = text;
    ctl?.abort();
    if (text.length < SUBJECT_MIN) { show([]); return; }
    ctl = new AbortController();
    const mine = ctl;
    try {
      const items = await api.suggestKb(text, { signal: mine.signal });
      if (mine.signal.aborted || signal.aborted) return;
      show(items.slice(0, 5));
    } catch (ex) {
      if (ex?.name === 'AbortError') return;
      // Suggestions are a help, not a must: a failure leaves the form as it is.
    }
  }, 400);
  subjectInput.addEventListener('input', run);
  signal.addEventListener('abort', () => { run.cancel(); ctl?.abort(); });
  if (subjectInput.value.trim()) run();

  return { el: h('div', { class: 'pc-sugg-wrap' }, live, box) };
}

// ---------------------------------------------------------------------------
// The complaint form

/**
 * complaintForm({ signal, orderId, order, prefillBody, onFiled, onCancel, after })
 *   order: the order object when known (the order page); other orders load.
 *   after: what the "it answered my question" panel links back to ({ href, label }).
 */
export function complaintForm({ signal, orderId = '', order = null, prefillBody = '', onFiled, onCancel, after }) {
  const key = api.newKey(); // one per form: a retried send files once
  const P = 'pcf';

  // Order
  const orderSel = h('select', { id: `${P}-order`, name: 'order_id', class: 'pc-select', dataset: { testid: 'complaint-order' } },
    h('option', { value: '' }, 'Not about one order'),
    order ? h('option', { value: order.id, selected: true }, orderLabel(order)) : orderId ? h('option', { value: orderId, selected: true }, 'This order') : null);
  if (orderId || order) orderSel.value = order?.id || orderId;
  const orderErr = fieldErrorFor(orderSel);
  api.listOrders({ signal }).then((orders) => {
    if (signal.aborted) return;
    const chosen = orderSel.value;
    mount(orderSel, h('option', { value: '' }, 'Not about one order'),
      orders.map((o) => h('option', { value: o.id }, orderLabel(o))),
      chosen && !orders.some((o) => o.id === chosen) ? h('option', { value: chosen }, order ? orderLabel(order) : 'This order') : null);
    orderSel.value = chosen;
  }).catch(() => { /* keep what is there: the preselected order, or none */ });

  // Subject
  const subject = h('input', {
    id: `${P}-subject`, name: 'subject', type: 'text', required: true, maxlength: SUBJECT_MAX, autocomplete: 'off',
    enterkeyhint: 'next', dataset: { testid: 'complaint-subject' },
  });
  const subjectErr = fieldErrorFor(subject, { hintId: `${P}-subject-hint` });

  // Category
  const category = h('select', { id: `${P}-category`, name: 'category', class: 'pc-select', dataset: { testid: 'complaint-category' } });
  function fillCategories(list) {
    const chosen = category.value;
    mount(category, h('option', { value: '' }, 'Choose a topic'), list.map((c) => h('option', { value: c }, c)));
    category.value = list.includes(chosen) ? chosen : '';
  }
  fillCategories(knownCategories);
  const categoryErr = fieldErrorFor(category);

  // Description
  const body = h('textarea', {
    id: `${P}-body`, name: 'body', required: true, rows: 6, maxlength: BODY_MAX, class: 'pc-textarea',
    dataset: { testid: 'complaint-body' }, value: prefillBody,
  });
  const bodyErr = fieldErrorFor(body, { hintId: `${P}-body-hint` });

  const formError = h('div', { class: 'pc-form-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary pc-submit', dataset: { testid: 'complaint-submit' } },
    icon('mail', { size: 16 }), h('span', null, 'Send complaint'));
  const cancel = onCancel ? h('button', { type: 'button', class: 'btn pc-cancel', dataset: { testid: 'complaint-cancel' }, onclick: () => onCancel() }, 'Cancel') : null;

  const wrap = h('div', { class: 'pc-form-wrap' });
  const sugg = suggestions({ signal, subjectInput: subject, onAnswered: (a) => showAnswered(a) });

  const form = h('form', { class: 'portal-form pc-form', novalidate: true, dataset: { testid: 'complaint-form' } },
    formError,
    h('div', { class: 'field' },
      h('label', { for: `${P}-order` }, 'Order'),
      orderSel, orderErr.el),
    h('div', { class: 'field' },
      h('label', { for: `${P}-subject` }, 'Subject'),
      subject,
      h('p', { class: 'field-hint muted', id: `${P}-subject-hint` }, 'A few words, for example “Parcel arrived damaged”.'),
      subjectErr.el),
    sugg.el,
    h('div', { class: 'field' },
      h('label', { for: `${P}-category` }, 'Topic ', h('span', { class: 'pc-optional' }, '(optional)')),
      category, categoryErr.el),
    h('div', { class: 'field' },
      h('label', { for: `${P}-body` }, 'What happened?'),
      body,
      h('div', { class: 'pc-hint-row' },
        h('p', { class: 'field-hint muted', id: `${P}-body-hint` }, 'What went wrong, and what would you like us to do? Never include card numbers or passwords.'),
        counter(body, BODY_MAX)),
      bodyErr.el),
    h('div', { class: 'pc-form-actions' }, submit, cancel));
  mount(wrap, form);

  const errs = { subject: subjectErr, body: bodyErr, category: categoryErr, order_id: orderErr };
  const controls = { subject, body, category, order_id: orderSel };
  subject.addEventListener('input', () => subjectErr.clear());
  body.addEventListener('input', () => bodyErr.clear());
  category.addEventListener('change', () => categoryErr.clear());
  orderSel.addEventListener('change', () => orderErr.clear());

  function clearAll() {
    Object.values(errs).forEach((e) => e.clear());
    formError.hidden = true;
    formError.replaceChildren();
  }

  function showAnswered(a) {
    const again = h('button', { type: 'button', class: 'btn', dataset: { testid: 'complaint-file-anyway' } }, 'I still want to send a complaint');
    const panel = h('div', { class: 'pc-deflected', role: 'status', tabindex: '-1', dataset: { testid: 'complaint-deflected' } },
      h('span', { class: 'pc-deflected-icon', 'aria-hidden': 'true' }, icon('check', { size: 22 })),
      h('h3', { class: 'pc-deflected-title' }, 'Glad it helped!'),
      h('p', null, 'Thanks for letting us know. We did not send a complaint.'),
      h('p', { class: 'muted' }, 'The article: ', h('a', { href: `/portal/help/${encodeURIComponent(a.id)}` }, a.title), '.'),
      h('div', { class: 'pc-form-actions' },
        after ? h('a', { class: 'btn btn-primary', href: after.href }, after.label) : null,
        !after && onCancel ? h('button', {
          type: 'button', class: 'btn btn-primary', dataset: { testid: 'complaint-done' },
          onclick: () => { panel.remove(); form.hidden = false; onCancel(); },
        }, 'Done') : null,
        again));
    form.hidden = true;
    wrap.append(panel);
    again.addEventListener('click', () => {
      panel.remove();
      form.hidden = false;
      subject.focus();
    });
    panel.focus();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    clearAll();
    const s = subject.value.trim();
    const b = body.value.trim();
    const problems = [];
    if (s.length < SUBJECT_MIN) problems.push(['subject', s ? `Use at least ${SUBJECT_MIN} characters for the subject.` : 'Enter a subject: a few words about the problem.']);
    if (!b) problems.push(['body', 'Tell us what happened.']);
    if (problems.length) {
      problems.forEach(([f, m]) => errs[f].show(m));
      controls[problems[0][0]].focus();
      return;
    }
    const fields = { subject: s, body: b };
    if (category.value) fields.category = category.value;
    if (orderSel.value) fields.order_id = orderSel.value;
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    submit.lastChild.textContent = 'Sending…';
    try {
      const t = await api.fileTicket(fields, { signal, idempotencyKey: key });
      onFiled?.(t);
    } catch (ex) {
      if (ex?.name === 'AbortError' || ex?.handled) return;
      submit.disabled = false;
      form.removeAttribute('aria-busy');
      submit.lastChild.textContent = 'Send complaint';
      if (ex?.isValidation && ex.errors.length) {
        const other = [];
        for (const fe of ex.errors) {
          const f = fe.field;
          if (!errs[f]) { other.push(fe); continue; }
          let msg = sentence(fe.message);
          if (f === 'category') {
            const list = categoriesFrom(fe.message);
            if (list) { knownCategories = list; fillCategories(list); msg = 'Choose one of the topics in the list.'; }
          } else if (f === 'order_id') msg = 'Choose one of your orders, or “Not about one order”.';
          else if (f === 'subject') msg = sentence(`The subject ${fe.message || 'is not valid'}`);
          else if (f === 'body') msg = sentence(`The description ${fe.message || 'is not valid'}`);
          errs[f].show(msg);
        }
        // The first invalid field in the form's order.
        const first = [orderSel, subject, category, body].find((c) => c.getAttribute('aria-invalid') === 'true');
        if (other.length) {
          formError.hidden = false;
          mount(formError, notice('error', 'alert', 'Please check the form.', other.map((fe) => `${fe.field}: ${sentence(fe.message)}`).join(' ')));
        }
        if (first) first.focus();
        else {
          const n = formError.querySelector('.portal-notice');
          n?.setAttribute('tabindex', '-1');
          n?.focus();
        }
        return;
      }
      formError.hidden = false;
      mount(formError, errorPanel(ex));
      formError.scrollIntoView?.({ block: 'nearest' });
    }
  });

  return { el: wrap, focus: () => (orderId || order ? subject : orderSel).focus() };
}

// ---------------------------------------------------------------------------
// The order page's card (data-slot="complaints")

export function complaintsSlot(ctx, o) {
  const listBox = h('div', { class: 'pc-order-list', hidden: true, dataset: { testid: 'order-complaints' } });
  const formBox = h('div', { id: 'pc-order-form', class: 'pc-order-form', hidden: true });
  const open = h('button', {
    type: 'button', class: 'btn btn-block btn-primary pc-open', 'aria-expanded': 'false', 'aria-controls': 'pc-order-form',
    dataset: { testid: 'portal-file-complaint' },
  }, oicon('flag', { size: 16 }), h('span', null, 'Report a problem with this order'));
  let built = null;

  open.addEventListener('click', () => {
    const expanded = open.getAttribute('aria-expanded') === 'true';
    if (expanded) { built?.focus(); return; }
    if (!built) {
      built = complaintForm({
        signal: ctx.signal, order: o,
        onFiled: (t) => ctx.go(`/portal/complaints/${encodeURIComponent(t.id)}`, { state: { filed: true } }),
        onCancel: () => {
          formBox.hidden = true;
          open.hidden = false;
          open.setAttribute('aria-expanded', 'false');
          open.focus();
        },
      });
      mount(formBox, h('h3', { class: 'pc-form-title' }, 'Report a problem'), built.el);
    }
    formBox.hidden = false;
    open.setAttribute('aria-expanded', 'true');
    open.hidden = true;
    built.focus();
  });

  const section = h('section', {
    class: 'card po-card pc-slot', 'aria-labelledby': 'po-help-title', dataset: { testid: 'portal-order-help', slot: 'complaints' },
  },
  h('h2', { class: 'po-card-title', id: 'po-help-title' }, oicon('flag', { size: 18 }), 'Something wrong with this order?'),
  h('p', { class: 'muted pc-slot-lead' }, 'Tell us what happened. We answer here in the portal and by email.'),
  listBox,
  open,
  formBox);

  api.listTickets({ signal: ctx.signal }).then((items) => {
    if (ctx.signal.aborted) return;
    const mine = items.filter((t) => t.order_id === o.id).sort(byLastUpdate);
    if (!mine.length) return;
    listBox.hidden = false;
    mount(listBox,
      h('h3', { class: 'pc-order-list-title' }, mine.length === 1 ? 'Your complaint about this order' : 'Your complaints about this order'),
      h('ul', { class: 'pc-mini-list' }, mine.slice(0, 3).map((t) => h('li', null,
        h('a', { href: `/portal/complaints/${encodeURIComponent(t.id)}`, class: 'pc-mini', dataset: { testid: 'order-complaint-link', ticketId: t.id } },
          h('span', { class: 'pc-mini-subject' }, h('span', { class: 'pc-number' }, `#${t.number}`), ' ', t.subject),
          complaintStatusBadge(t.status))))),
      h('a', { class: 'pc-all-link', href: `/portal/complaints?order=${encodeURIComponent(o.id)}`, dataset: { testid: 'order-complaints-all' } },
        mine.length > 3 ? `See all ${mine.length} complaints about this order` : 'See them in your complaints', icon('chevronRight', { size: 15 })));
  }).catch(() => { /* the list is extra; filing still works */ });

  return section;
}

// ---------------------------------------------------------------------------
// /portal/complaints

function complaintRow(t, ordersById) {
  const o = t.order_id ? ordersById.get(t.order_id) : null;
  const upd = lastUpdate(t);
  return h('li', { class: 'pc-item' },
    h('a', { class: 'pc-row', href: `/portal/complaints/${encodeURIComponent(t.id)}`, dataset: { testid: 'complaint-row', ticketId: t.id, status: t.status } },
      h('span', { class: 'pc-row-num' }, h('span', { class: 'visually-hidden' }, 'Complaint '), `#${t.number}`),
      h('span', { class: 'pc-row-subject' }, h('span', { class: 'visually-hidden' }, ': '), t.subject),
      h('span', { class: 'pc-row-status' }, h('span', { class: 'visually-hidden' }, '. Status: '), complaintStatusBadge(t.status)),
      h('span', { class: 'pc-row-meta' },
        h('span', { class: 'visually-hidden' }, '. '),
        h('span', { class: 'pc-nowrap' }, 'Updated ', when(upd)),
        o || t.order_id ? [h('span', { 'aria-hidden': 'true' }, ' · '), h('span', { class: 'visually-hidden' }, ', '), h('span', { class: 'pc-nowrap' }, o ? orderTitle(o) : 'an order')] : null,
        t.category ? [h('span', { 'aria-hidden': 'true' }, ' · '), h('span', { class: 'visually-hidden' }, ', '), h('span', { class: 'pc-nowrap' }, t.category)] : null),
      h('span', { class: 'pc-row-chevron', 'aria-hidden': 'true' }, icon('chevronRight', { size: 18 }))));
}

export function complaintsView(ctx) {
  ctx.setTitle('Your complaints');
  const orderFilter = ctx.query.get('order') || '';
  const filterBox = h('div', { hidden: !orderFilter });
  const list = h('div', { class: 'po-body', 'aria-busy': 'true' },
    h('ul', { class: 'po-list', 'aria-hidden': 'true' }, [1, 2].map(() => h('li', { class: 'po-skeleton' },
      h('span', { class: 'skeleton skeleton-text', style: { width: '55%' } }),
      h('span', { class: 'skeleton skeleton-text', style: { width: '35%', marginTop: '10px' } })))),
    h('p', { class: 'visually-hidden', role: 'status' }, 'Loading your complaints…'));
  const newHref = `/portal/complaints/new${orderFilter ? `?order=${encodeURIComponent(orderFilter)}` : ''}`;
  mount(ctx.main, page(
    h('div', { class: 'pc-head' },
      h('div', { class: 'po-head' },
        h('h1', { tabindex: '-1' }, 'Your complaints'),
        h('p', { class: 'muted po-sub' }, 'Problems you reported to ', h('span', { class: 'tenant-cap' }, tenant), ', latest activity first.')),
      h('a', { class: 'btn btn-primary pc-new', href: newHref, dataset: { testid: 'complaints-new' } }, icon('plus', { size: 16 }), h('span', null, 'File a complaint'))),
    filterBox,
    list));
  ctx.settle();

  const load = () => Promise.all([
    api.listTickets({ signal: ctx.signal }),
    api.listOrders({ signal: ctx.signal }).catch((err) => { if (err?.name === 'AbortError' || err?.handled) throw err; return []; }),
  ]).then(([tickets, orders]) => {
    if (ctx.signal.aborted) return;
    ctx.setSignedIn(true);
    const ordersById = new Map(orders.map((o) => [o.id, o]));
    let items = tickets.slice().sort(byLastUpdate);
    if (orderFilter) {
      const o = ordersById.get(orderFilter);
      items = items.filter((t) => t.order_id === orderFilter);
      mount(filterBox, h('div', { class: 'pc-filter', dataset: { testid: 'complaints-order-filter' } },
        h('span', null, 'About ', o ? h('a', { href: `/portal/orders/${encodeURIComponent(o.id)}` }, orderTitle(o)) : 'one order'),
        h('a', { href: '/portal/complaints', class: 'pc-filter-clear' }, 'Show all complaints')));
    }
    list.setAttribute('aria-busy', 'false');
    if (!items.length) {
      mount(list, emptyState({
        iconEl: icon('inbox', { size: 28 }), testid: 'complaints-empty',
        title: orderFilter ? 'No complaints about this order' : 'No complaints yet',
        text: orderFilter
          ? 'Something wrong with it? Report it and we will get back to you.'
          : 'Something wrong with an order? Open the order and choose “Report a problem”, or file a complaint here.',
        action: h('div', { class: 'pc-empty-actions' },
          h('a', { class: 'btn btn-primary', href: newHref }, 'File a complaint'),
          h('a', { class: 'btn', href: '/portal/help' }, 'Search the help')),
      }));
      return;
    }
    mount(list,
      h('p', { class: 'visually-hidden', role: 'status' }, `${items.length} ${items.length === 1 ? 'complaint' : 'complaints'}`),
      h('ul', { class: 'po-list pc-list', 'aria-label': 'Complaints, latest activity first', dataset: { testid: 'complaints' } }, items.map((t) => complaintRow(t, ordersById))));
  }).catch((err) => {
    if (err?.name === 'AbortError' || err?.handled) return;
    list.setAttribute('aria-busy', 'false');
    mount(list, errorPanel(err, () => { mount(list, h('p', { class: 'muted', role: 'status' }, 'Loading your complaints…')); load(); }));
  });
  load();
}

// ---------------------------------------------------------------------------
// /portal/complaints/new

export function newComplaintView(ctx) {
  ctx.setTitle('File a complaint');
  const orderId = ctx.query.get('order') || '';
  const from = (ctx.query.get('from') || '').replace(/[^0-9]/g, '');
  const backHref = orderId ? `/portal/orders/${encodeURIComponent(orderId)}` : '/portal/complaints';
  const f = complaintForm({
    signal: ctx.signal, orderId,
    prefillBody: from ? `About my earlier complaint #${from}: ` : '',
    after: { href: backHref, label: orderId ? 'Back to the order' : 'Back to your complaints' },
    onFiled: (t) => ctx.go(`/portal/complaints/${encodeURIComponent(t.id)}`, { state: { filed: true } }),
  });
  mount(ctx.main, page(
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: backHref, class: 'back-link', dataset: { testid: 'portal-back' } }, icon('arrowLeft'), orderId ? 'Back to the order' : 'All complaints')),
    h('div', { class: 'po-head' },
      h('h1', { tabindex: '-1' }, 'File a complaint'),
      h('p', { class: 'muted po-sub' }, 'Tell us what went wrong. We answer here in the portal and by email. Looking for a quick answer? ',
        h('a', { href: '/portal/help' }, 'Search the help'), '.')),
    h('section', { class: 'card po-card', 'aria-label': 'Complaint' }, f.el)));
  ctx.settle();
  // Signed in? (A 401 goes to the sign-in page, and back here afterwards.)
  api.me({ signal: ctx.signal }).then(() => { if (!ctx.signal.aborted) ctx.setSignedIn(true); }).catch(() => {});
}

// ---------------------------------------------------------------------------
// /portal/complaints/<id>

const EXPLAIN = {
  new: ['info', 'clock', "We're on it.", 'We received your complaint and will answer here and by email.'],
  open: ['info', 'clock', "We're on it.", 'We will answer here and by email.'],
  waiting: ['warn', 'mail', 'Waiting for your reply.', 'We asked you something: reply below so we can carry on.'],
  resolved: ['success', 'check', 'Resolved.', 'We think this is solved. Not solved after all? Reply below and we reopen it.'],
  reopened: ['info', 'history', 'Reopened.', 'You replied after we had resolved it, so we reopened it. We will get back to you.'],
  closed: ['info', 'lock', 'Closed.', 'We closed this complaint.'],
};

const SCORE_WORDS = { 1: 'Very poor', 2: 'Poor', 3: 'OK', 4: 'Good', 5: 'Excellent' };

export function complaintView(ctx, id) {
  ctx.setTitle('Complaint');
  const announcer = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', dataset: { testid: 'complaint-announce' } });
  const back = h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/portal/complaints', class: 'back-link', dataset: { testid: 'portal-back' } }, icon('arrowLeft'), 'All complaints'));
  const body = h('div', { class: 'po-body', 'aria-busy': 'true' },
    h('h1', { class: 'po-title', tabindex: '-1' }, 'Complaint'),
    h('p', { class: 'visually-hidden', role: 'status' }, 'Loading the complaint…'),
    h('div', { class: 'card po-card', 'aria-hidden': 'true' }, [40, 80, 65].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '12px 0' } }))));
  mount(ctx.main, page(back, announcer, body));
  ctx.settle();

  let filed = !!ctx.state?.filed;
  if (filed) history.replaceState({}, '', location.pathname);
  let order = null;
  let justRated = null; // { score, comment } right after rating in this page

  function render(t, { focusReply = false } = {}) {
    ctx.setTitle(complaintTitle(t), t.subject);
    const focusedHeading = document.activeElement === body.querySelector('h1');
    const ex = t.status === 'closed' && t.can_rate ? [...EXPLAIN.closed.slice(0, 3), 'We closed this complaint. You can still tell us how we did.'] : EXPLAIN[t.status];
    const facts = h('p', { class: 'muted po-sub pc-facts' },
      'Opened ', when(t.created_at),
      t.category ? [' · ', h('span', { class: 'visually-hidden' }, 'Topic: '), t.category] : null,
      t.order_id ? [' · About ', h('a', { href: `/portal/orders/${encodeURIComponent(t.order_id)}`, dataset: { testid: 'complaint-order-link' } }, order ? orderTitle(order) : 'your order')] : null);
    const head = h('div', { class: 'po-head pc-ticket-head' },
      h('p', { class: 'pc-eyebrow', dataset: { testid: 'complaint-number' } }, complaintTitle(t)),
      h('div', { class: 'po-order-title-row' },
        h('h1', { class: 'po-title pc-subject', tabindex: '-1' }, t.subject),
        complaintStatusBadge(t.status)),
      facts);

    const filedNote = filed ? notice('success', 'check', 'We received your complaint.', `Its number is #${t.number}. We answer here in the portal and by email.`, 'complaint-filed') : null;
    // Just filed: the receipt says it all.
    const explain = ex && !(filed && t.status === 'new') ? notice(ex[0], ex[1], ex[2], ex[3], 'complaint-explain') : null;

    const messages = t.messages || [];
    const thread = h('section', { class: 'card po-card pc-thread-card', 'aria-labelledby': 'pc-thread-title' },
      h('h2', { class: 'po-card-title', id: 'pc-thread-title' }, 'Conversation'),
      messages.length
        ? h('ol', { class: 'pc-thread', 'aria-label': 'Messages, oldest first', dataset: { testid: 'complaint-messages' } }, messages.map((m) => {
          const you = m.from === 'you';
          return h('li', { class: ['pc-msg', you ? 'pc-msg-you' : 'pc-msg-support'], dataset: { testid: 'complaint-message', from: you ? 'you' : 'support', messageId: m.id } },
            h('div', { class: 'pc-msg-head' },
              h('span', { class: 'pc-msg-who' }, you ? 'You' : h('span', null, h('span', { class: 'tenant-cap' }, tenant), ' support')),
              when(m.created_at, { class: 'pc-msg-time' })),
            paragraphs(m.body, { cls: 'pk-prose pc-msg-body' }));
        }))
        : h('p', { class: 'muted' }, 'No messages yet.'));

    const parts = [head, filedNote, explain, thread, ratingCard(t), replyCard(t)];
    mount(body, parts);
    body.setAttribute('aria-busy', 'false');
    if (focusReply) body.querySelector('[data-testid="complaint-reply"]')?.focus({ preventScroll: true });
    else if (focusedHeading) body.querySelector('h1')?.focus({ preventScroll: true });
  }

  // Rating: 1–5 stars (real radio buttons), optional comment, once.
  function ratingCard(t) {
    const score = t.csat ?? justRated?.score ?? null;
    if (score) {
      return h('section', { class: 'card po-card pc-rating-done', 'aria-labelledby': 'pc-rating-title' },
        h('h2', { class: 'po-card-title', id: 'pc-rating-title' }, 'Your rating'),
        h('div', { class: 'pc-thanks', tabindex: '-1', dataset: { testid: 'rating-thanks', score: String(score) } },
          h('p', { class: 'pc-thanks-stars', 'aria-hidden': 'true' }, [1, 2, 3, 4, 5].map((n) => h('span', { class: ['pc-star-shape', n <= score ? 'is-on' : null] }))),
          h('p', null, h('strong', null, justRated ? 'Thank you for your rating!' : 'Thank you for rating us.'), ' ',
            `You gave us ${score} out of 5 stars (${SCORE_WORDS[score] || ''}).`),
          justRated?.comment ? h('p', { class: 'muted pc-thanks-comment' }, 'Your comment: ', justRated.comment) : null));
    }
    if (!t.can_rate) return null;
    const radios = [1, 2, 3, 4, 5].map((n) => h('input', {
      type: 'radio', name: 'score', value: String(n), id: `pc-score-${n}`, class: 'pc-star-input', dataset: { testid: `rating-${n}` },
    }));
    const chosen = h('p', { class: 'pc-stars-chosen muted', 'aria-hidden': 'true' }, 'Choose from 1 to 5 stars');
    const group = h('fieldset', { class: 'pc-stars-fieldset' },
      h('legend', { class: 'pc-legend' }, 'Your rating'),
      h('div', { class: 'pc-stars' }, radios.map((r, i) => h('label', { class: 'pc-star', for: r.id },
        r,
        h('span', { class: 'pc-star-shape', 'aria-hidden': 'true' }),
        h('span', { class: 'visually-hidden' }, `${i + 1} ${i === 0 ? 'star' : 'stars'}: ${SCORE_WORDS[i + 1]}`),
        h('span', { class: 'pc-star-num', 'aria-hidden': 'true' }, String(i + 1))))),
      chosen);
    const scoreErr = h('p', { class: 'field-error', id: 'pc-score-error', hidden: true, role: 'alert' });
    const comment = h('textarea', { id: 'pc-rating-comment', class: 'pc-textarea', rows: 3, maxlength: COMMENT_MAX, dataset: { testid: 'rating-comment' } });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'rating-submit' } }, h('span', null, 'Send rating'));
    const errBox = h('div', { hidden: true });
    const paint = () => {
      const v = Number(radios.find((r) => r.checked)?.value || 0);
      group.querySelectorAll('.pc-star').forEach((l, i) => l.classList.toggle('is-on', i < v));
      chosen.textContent = v ? `${v} out of 5: ${SCORE_WORDS[v]}` : 'Choose from 1 to 5 stars';
      if (v) { scoreErr.hidden = true; group.removeAttribute('aria-describedby'); }
    };
    radios.forEach((r) => r.addEventListener('change', paint));
    const form = h('form', { class: 'portal-form pc-rating-form', novalidate: true },
      h('p', { class: 'muted' }, 'How happy are you with how we handled this complaint?'),
      group, scoreErr,
      h('div', { class: 'field' },
        h('label', { for: 'pc-rating-comment' }, 'Comment ', h('span', { class: 'pc-optional' }, '(optional)')),
        comment),
      errBox,
      h('div', { class: 'pc-form-actions' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      errBox.hidden = true;
      const v = Number(radios.find((r) => r.checked)?.value || 0);
      if (!v) {
        scoreErr.hidden = false;
        mount(scoreErr, icon('alert', { size: 14 }), h('span', null, 'Choose from 1 to 5 stars.'));
        group.setAttribute('aria-describedby', 'pc-score-error');
        radios[0].focus();
        return;
      }
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      submit.firstChild.textContent = 'Sending…';
      try {
        const next = await api.rateTicket(t.id, { score: v, comment: comment.value }, { signal: ctx.signal });
        justRated = { score: next?.csat || v, comment: comment.value.trim() };
        if (next && typeof next === 'object' && next.id) keep(next);
        else keep({ ...t, csat: v, can_rate: false });
        announcer.textContent = `Thank you! You rated this complaint ${justRated.score} out of 5.`;
        body.querySelector('[data-testid="rating-thanks"]')?.focus();
      } catch (ex) {
        if (ex?.name === 'AbortError' || ex?.handled) return;
        submit.disabled = false;
        submit.removeAttribute('aria-busy');
        submit.firstChild.textContent = 'Send rating';
        if (ex?.status === 409) { reload(); return; } // rated already, or not resolved any more
        errBox.hidden = false;
        mount(errBox, errorPanel(ex));
      }
    });
    return h('section', { class: 'card po-card pc-rating', id: 'rating', 'aria-labelledby': 'pc-rating-title', dataset: { testid: 'complaint-rating' } },
      h('h2', { class: 'po-card-title', id: 'pc-rating-title' }, 'How did we do?'),
      form);
  }

  // Reply box (a reply to a resolved complaint reopens it), or why there is none.
  function replyCard(t) {
    if (!t.can_reply) {
      const q = new URLSearchParams({ from: String(t.number) });
      if (t.order_id) q.set('order', t.order_id);
      return h('section', { class: 'card po-card pc-closed', 'aria-labelledby': 'pc-closed-title', dataset: { testid: 'complaint-closed' } },
        h('h2', { class: 'po-card-title', id: 'pc-closed-title' }, icon('lock', { size: 18 }), 'This complaint is closed'),
        h('p', { class: 'muted' }, `It takes no more replies. Still need help? File a new complaint: we start it with a reference to #${t.number}.`),
        h('a', { class: 'btn', href: `/portal/complaints/new?${q}`, dataset: { testid: 'complaint-new-from-closed' } }, icon('plus', { size: 16 }), h('span', null, 'File a new complaint')));
    }
    const key = api.newKey();
    const text = h('textarea', {
      id: 'pc-reply', class: 'pc-textarea', rows: 4, maxlength: BODY_MAX, required: true, dataset: { testid: 'complaint-reply' },
    });
    const err = fieldErrorFor(text, { hintId: t.status === 'resolved' ? 'pc-reply-hint' : null });
    const send = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'complaint-reply-send' } }, icon('mail', { size: 16 }), h('span', null, 'Send reply'));
    const errBox = h('div', { hidden: true });
    text.addEventListener('input', () => err.clear());
    const form = h('form', { class: 'portal-form pc-reply-form', novalidate: true },
      h('div', { class: 'field' },
        h('label', { for: 'pc-reply' }, t.status === 'waiting' ? 'Your answer' : 'Your reply'),
        text,
        t.status === 'resolved' ? h('p', { class: 'field-hint muted', id: 'pc-reply-hint' }, 'Not solved after all? Your reply reopens this complaint.') : null,
        err.el),
      errBox,
      h('div', { class: 'pc-form-actions' }, send));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (send.disabled) return;
      errBox.hidden = true;
      const value = text.value.trim();
      if (!value) { err.show('Write your reply first.'); text.focus(); return; }
      send.disabled = true;
      form.setAttribute('aria-busy', 'true');
      send.lastChild.textContent = 'Sending…';
      const before = t.status;
      try {
        const next = await api.replyTicket(t.id, value, { signal: ctx.signal, idempotencyKey: key });
        filed = false;
        keep(next, { focusReply: true });
        announcer.textContent = next.status === 'reopened' && before !== 'reopened'
          ? 'Reply sent. We reopened your complaint.'
          : 'Reply sent.';
      } catch (ex) {
        if (ex?.name === 'AbortError' || ex?.handled) return;
        send.disabled = false;
        form.removeAttribute('aria-busy');
        send.lastChild.textContent = 'Send reply';
        if (ex?.status === 409) {
          announcer.textContent = 'This complaint was closed in the meantime. Your reply was not sent.';
          reload();
          return;
        }
        if (ex?.isValidation && ex.fieldErrors.body) { err.show(sentence(`Your reply ${ex.fieldErrors.body[0]}`)); text.focus(); return; }
        errBox.hidden = false;
        mount(errBox, errorPanel(ex));
      }
    });
    return h('section', { class: 'card po-card pc-reply', 'aria-labelledby': 'pc-reply-title' },
      h('h2', { class: 'po-card-title', id: 'pc-reply-title' }, t.status === 'waiting' ? 'Reply to us' : 'Add a reply'),
      form);
  }

  function keep(t, opts) {
    render(t, opts);
  }

  function loadOrder(t) {
    if (!t.order_id || order) return;
    api.getOrder(t.order_id, { signal: ctx.signal }).then((o) => {
      order = o;
      const link = body.querySelector('[data-testid="complaint-order-link"]');
      if (link) link.textContent = orderTitle(o);
    }).catch(() => {});
  }

  function reload() {
    return api.getTicket(id, { signal: ctx.signal }).then((t) => {
      if (ctx.signal.aborted) return;
      ctx.setSignedIn(true);
      render(t);
      loadOrder(t);
    }).catch((err) => {
      if (err?.name === 'AbortError' || err?.handled) return;
      body.setAttribute('aria-busy', 'false');
      if (err?.status === 404 || err?.status === 422) {
        ctx.setTitle('Complaint not found');
        ctx.session();
        mount(body, emptyState({
          iconEl: icon('search', { size: 28 }), headingLevel: 'h1', testid: 'complaint-not-found',
          title: 'We could not find this complaint',
          text: 'It may belong to another email address, or the link is incomplete.',
          action: h('a', { class: 'btn btn-primary', href: '/portal/complaints' }, 'See your complaints'),
        }));
        return;
      }
      mount(body, h('h1', { class: 'po-title', tabindex: '-1' }, 'Complaint'), errorPanel(err, () => reload()));
    });
  }
  reload();
}

