// A record's timeline (activities, changes, and milestones other components record,
// such as deals won; newest first) with the composer above it (note, call,
// meeting, task), and the "next task" card.

import { h, mount, icon, toastError, formatDate } from './ui.js';
import * as crm from './crm-api.js';
import {
  xicon, ACTIVITY_KINDS, actorName, userName, meId, stageLabel, labelize, customText, relativeDue, timeAgo, canWrite, onUsers, loadUsers,
} from './records.js';
import { statusIcon, statusLabel, orderStatusBadge, formatOrderMoney } from './order-display.js';
import { ticketStatusBadge, dicon } from './ticket-display.js';

// ---------------------------------------------------------------------------
// Describing changes

const FIELD_LABELS = {
  first_name: 'first name', last_name: 'last name', emails: 'email addresses', phones: 'phone numbers', title: 'title',
  company: 'company', lifecycle_stage: 'lifecycle stage', source: 'source', owner_id: 'owner', tags: 'tags',
  address: 'address', external_id: 'external ID', name: 'name', domains: 'domains', industry: 'industry', size: 'size',
  phone: 'phone', website: 'website', parent_id: 'parent company', company_ids: 'linked companies',
};
const SKIP = new Set(['updated_at', 'created_at', 'version', 'id', 'last_activity_at', 'deleted_at', 'email', 'domain']);

function isEmpty(v) {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length)
    || (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isEmpty));
}

function plain(key, v) {
  if (isEmpty(v)) return '';
  if (key === 'lifecycle_stage') return stageLabel(v);
  if (key === 'owner_id') return userName(v);
  if (key === 'emails') return v.map((e) => e.address).filter(Boolean).join(', ');
  if (key === 'phones') return v.map((e) => e.number).filter(Boolean).join(', ');
  if (key === 'address') return ['street', 'city', 'region', 'postal_code', 'country'].map((k) => v[k]).filter(Boolean).join(', ');
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** → [{ label, before, after, text }] for one change event. */
export function changeLines(change, defs) {
  const before = change.before || {};
  const after = change.after || {};
  const out = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const hasPhonesList = keys.includes('phones');
  for (const key of keys) {
    if (SKIP.has(key) || (key === 'phone' && hasPhonesList) || key === 'company_id' || key === 'company_ids') continue;
    if (key === 'custom' || key === 'consent') {
      const b = before[key] || {};
      const a = after[key] || {};
      for (const sk of new Set([...Object.keys(b), ...Object.keys(a)])) {
        if (JSON.stringify(b[sk]) === JSON.stringify(a[sk])) continue;
        if (key === 'custom') {
          const def = defs.find((d) => d.key === sk);
          const label = (def?.label || labelize(sk)).toLowerCase();
          out.push(line(label, isEmpty(b[sk]) ? '' : customText(def, b[sk]), isEmpty(a[sk]) ? '' : customText(def, a[sk])));
        } else {
          out.push(line(`${sk === 'sms' ? 'SMS' : sk} consent`, labelize(b[sk] || ''), labelize(a[sk] || '')));
        }
      }
      continue;
    }
    if (key === 'tags') {
      const b = new Set(before.tags || []);
      const a = new Set(after.tags || []);
      const added = [...a].filter((t) => !b.has(t));
      const removed = [...b].filter((t) => !a.has(t));
      const parts = [];
      if (added.length) parts.push(`added ${added.length === 1 ? 'tag' : 'tags'} ${added.join(', ')}`);
      if (removed.length) parts.push(`removed ${removed.length === 1 ? 'tag' : 'tags'} ${removed.join(', ')}`);
      if (parts.length) out.push({ label: 'tags', text: parts.join(' and ') });
      continue;
    }
    const b = plain(key, before[key]);
    const a = plain(key, after[key]);
    if (b === a) continue;
    out.push(line(FIELD_LABELS[key] || labelize(key).toLowerCase(), b, a));
  }
  return out;
}

function line(label, b, a) {
  let text;
  if (!b) text = `set ${label} to ${a}`;
  else if (!a) text = `cleared ${label} (was ${b})`;
  else text = `changed ${label} from ${b} to ${a}`;
  return { label, before: b, after: a, text };
}

// ---------------------------------------------------------------------------
// Timeline card

const TIMELINE_LIMIT = 200;

/**
 * timelineCard({ entity, id, defs, noun, onActivity })
 * → { el, reload(), setDefs(defs), focusComposer(kind), destroy() }
 */
export function timelineCard({ entity, id, defs = [], noun, onActivity }) {
  const controller = new AbortController();
  let items = [];
  let cursor = null;
  let loading = false;
  let filterMode = 'all';
  let definitions = defs;
  let truncated = false;

  const list = h('ol', { class: 'timeline-list', 'aria-live': 'polite', 'aria-busy': 'true' });
  const more = h('button', { type: 'button', class: 'btn btn-sm', hidden: true, dataset: { testid: 'timeline-more' }, onclick: () => load() }, 'Show older');
  const status = h('p', { class: 'muted timeline-status' });
  const filters = h('div', { class: 'segmented segmented-sm', role: 'group', 'aria-label': 'Show' },
    [['all', 'All'], ['activity', 'Activities'], ['change', 'Changes']].map(([m, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(m === 'all'), dataset: { mode: m },
      onclick: (e) => {
        filterMode = m;
        filters.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b === e.currentTarget)));
        render();
      },
    }, label)));

  const composer = composerEl({ entity, id, onCreated: (a) => {
    items.unshift({ kind: 'activity', at: a.occurred_at || a.created_at, activity: a, fresh: true });
    render();
    onActivity?.(a);
  } });

  const el = h('section', { class: 'card timeline-card', 'aria-labelledby': `tl-title-${id}`, dataset: { testid: 'timeline' } },
    h('div', { class: 'card-head' }, h('h2', { id: `tl-title-${id}`, class: 'card-title' }, 'Activity'), filters),
    canWrite() ? composer.el : null,
    list, status,
    h('div', { class: 'timeline-foot' }, more));

  function itemEl(it) {
    if (it.kind === 'activity' && it.activity) return activityItem(it.activity, it.fresh);
    if (it.kind === 'change' && it.change) return changeItem(it);
    if (it.kind === 'event' && it.event) return eventItem(it);
    return null;
  }

  /**
   * Milestones other components record on the timeline, e.g. "Deal won: …"
   * from the pipeline, "Order 1002 shipped with DHL" from the portal.
   */
  function eventItem(it) {
    const e = it.event;
    if (String(e.kind || '').startsWith('order-')) return orderEventItem(it);
    if (String(e.kind || '').startsWith('ticket-')) return ticketEventItem(it);
    const dealId = e.detail?.deal_id || (String(e.ref || '').startsWith('d_') ? e.ref : null);
    const status = e.detail?.status;
    const iconName = e.kind === 'deal-won' ? 'check' : e.kind === 'deal-lost' ? 'x' : dealId ? 'pipeline' : 'zap';
    return h('li', { class: ['tl-item', 'tl-event', `tl-${e.kind || 'event'}`], dataset: { testid: 'timeline-item', kind: 'event', event: e.kind } },
      h('span', { class: 'tl-icon', 'aria-hidden': 'true' }, xicon(iconName, { size: 15 })),
      h('div', { class: 'tl-body' },
        h('div', { class: 'tl-head' },
          dealId ? h('a', { class: 'tl-subject', href: `/deals/${encodeURIComponent(dealId)}` }, e.title || 'Deal') : h('span', { class: 'tl-subject' }, e.title || labelize(e.kind || 'event'))),
        h('div', { class: 'tl-meta muted' },
          status ? h('span', null, labelize(status)) : null,
          h('time', { datetime: it.at, title: formatDate(it.at, { withTime: true }) }, timeAgo(it.at)))));
  }

  /** An order milestone (kind "order-<status>", detail {order_id, number, total, currency, status}): links to the order. */
  function orderEventItem(it) {
    const e = it.event;
    const d = e.detail || {};
    const status = d.status || String(e.kind).slice('order-'.length);
    const orderId = d.order_id || (String(e.ref || '').startsWith('o_') ? e.ref : null);
    // "(1 items)" reads better as "(1 item)".
    const title = (e.title || (d.number ? `Order ${d.number} ${statusLabel(status).toLowerCase()}` : `Order ${statusLabel(status).toLowerCase()}`))
      .replace(/\(1 items\)/, '(1 item)');
    return h('li', { class: ['tl-item', 'tl-event', 'tl-order', `tl-order-${status}`], dataset: { testid: 'timeline-item', kind: 'event', event: e.kind, orderId } },
      h('span', { class: 'tl-icon', 'aria-hidden': 'true' }, statusIcon(status, { size: 15 })),
      h('div', { class: 'tl-body' },
        h('div', { class: 'tl-head' },
          orderId ? h('a', { class: 'tl-subject', href: `/orders/${encodeURIComponent(orderId)}`, dataset: { testid: 'timeline-order-link' } }, title) : h('span', { class: 'tl-subject' }, title)),
        h('div', { class: 'tl-meta muted' },
          orderStatusBadge(status, { testid: 'timeline-order-status' }),
          d.total != null && d.currency ? h('span', { class: 'num' }, formatOrderMoney(d.total, d.currency)) : null,
          h('time', { datetime: it.at, title: formatDate(it.at, { withTime: true }) }, timeAgo(it.at)))));
  }

  /**
   * A service desk milestone (kind "ticket-opened|resolved|reopened", detail
   * {ticket_id, number, status}): links to the ticket.
   */
  function ticketEventItem(it) {
    const e = it.event;
    const d = e.detail || {};
    const what = String(e.kind).slice('ticket-'.length);
    const status = d.status || (what === 'opened' ? 'new' : what);
    const ticketId = d.ticket_id || (String(e.ref || '').startsWith('tk_') ? e.ref : null);
    const title = e.title || `Complaint ${d.number != null ? `#${d.number} ` : ''}${what}`;
    return h('li', { class: ['tl-item', 'tl-event', 'tl-ticket', `tl-ticket-${what}`], dataset: { testid: 'timeline-item', kind: 'event', event: e.kind, ticketId } },
      h('span', { class: 'tl-icon', 'aria-hidden': 'true' }, what === 'resolved' ? icon('check', { size: 15 }) : what === 'reopened' ? dicon('undo', { size: 15 }) : dicon('ticket', { size: 15 })),
      h('div', { class: 'tl-body' },
        h('div', { class: 'tl-head' },
          ticketId ? h('a', { class: 'tl-subject', href: `/tickets/${encodeURIComponent(ticketId)}`, dataset: { testid: 'timeline-ticket-link' } }, title) : h('span', { class: 'tl-subject' }, title)),
        h('div', { class: 'tl-meta muted' },
          ticketStatusBadge(status, { testid: 'timeline-ticket-status' }),
          h('time', { datetime: it.at, title: formatDate(it.at, { withTime: true }) }, timeAgo(it.at)))));
  }

  function activityItem(a, fresh) {
    const meta = ACTIVITY_KINDS[a.kind] || { label: labelize(a.kind), icon: 'note' };
    const isTask = a.kind === 'task';
    const done = !!a.done_at;
    const due = isTask && !done ? relativeDue(a.due_at) : null;
    const when = a.occurred_at || a.created_at;
    const head = [];
    if (isTask) {
      const cb = h('input', {
        type: 'checkbox', class: 'task-check', checked: done, dataset: { testid: 'task-done' }, disabled: !canWrite(),
        'aria-label': `${done ? 'Reopen' : 'Complete'} task: ${a.subject || 'task'}`,
        onchange: () => toggleTask(a, cb),
      });
      head.push(cb);
    }
    head.push(h('span', { class: 'tl-kind' }, meta.label));
    if (a.subject) head.push(h('span', { class: ['tl-subject', isTask && done && 'is-done'] }, a.subject));
    return h('li', { class: ['tl-item', `tl-${a.kind}`, isTask && done && 'is-done', fresh && 'tl-fresh'], dataset: { testid: 'timeline-item', kind: a.kind, id: a.id } },
      h('span', { class: 'tl-icon', 'aria-hidden': 'true' }, xicon(meta.icon, { size: 15 })),
      h('div', { class: 'tl-body' },
        h('div', { class: 'tl-head' }, ...head),
        a.body ? h('p', { class: 'tl-text' }, a.body) : null,
        h('div', { class: 'tl-meta muted' },
          a.owner_id ? h('span', null, a.owner_id === meId() ? 'You' : userName(a.owner_id)) : null,
          h('time', { datetime: when, title: formatDate(when, { withTime: true }) }, timeAgo(when)),
          isTask && a.due_at ? h('span', { class: ['due', due?.overdue && 'is-overdue', due?.today && 'is-today'] }, done ? `Done ${timeAgo(a.done_at)}` : due?.text || `Due ${formatDate(a.due_at)}`) : null,
          isTask && done && !a.due_at ? h('span', null, `Done ${timeAgo(a.done_at)}`) : null)));
  }

  function changeItem(it) {
    const c = it.change;
    const who = actorName(c.actor);
    let content;
    if (c.action === 'created') content = [h('strong', null, who), ` created this ${noun}`];
    else if (c.action === 'deleted') content = [h('strong', null, who), ` moved this ${noun} to the trash`];
    else if (c.action === 'restored') content = [h('strong', null, who), ` restored this ${noun}`];
    else if (c.action === 'merged') {
      const n = Array.isArray(c.before?.merged) ? c.before.merged.length : 0;
      content = [h('strong', null, who), ` merged ${n === 1 ? 'a duplicate' : n ? `${n} duplicates` : 'duplicates'} into this ${noun}`];
    } else if (c.action === 'merge-undone') content = [h('strong', null, who), ' undid a merge'];
    else if (c.action === 'merged-into') content = [h('strong', null, who), ` merged this ${noun} into another`];
    else {
      const lines = changeLines(c, definitions);
      if (!lines.length) content = [h('strong', null, who), ` updated this ${noun}`];
      else if (lines.length === 1) content = [h('strong', null, who), ` ${lines[0].text}`];
      else {
        content = [h('strong', null, who), ` made ${lines.length} changes`,
          h('ul', { class: 'tl-changes' }, lines.map((l) => h('li', null, l.text)))];
      }
    }
    return h('li', { class: 'tl-item tl-change', dataset: { testid: 'timeline-item', kind: 'change' } },
      h('span', { class: 'tl-icon tl-icon-quiet', 'aria-hidden': 'true' }, xicon(c.action === 'created' ? 'plus' : c.action === 'deleted' ? 'trash' : /^merge/.test(c.action) ? 'users' : 'edit3', { size: 13 })),
      h('div', { class: 'tl-body' },
        h('div', { class: 'tl-change-text' }, ...content),
        h('div', { class: 'tl-meta muted' }, h('time', { datetime: it.at, title: formatDate(it.at, { withTime: true }) }, timeAgo(it.at)))));
  }

  async function toggleTask(a, cb) {
    const done = cb.checked;
    cb.disabled = true;
    try {
      const updated = await crm.updateActivity(a.id, { done });
      Object.assign(a, updated || { done_at: done ? new Date().toISOString() : null });
      render();
      onActivity?.(a);
    } catch (err) {
      cb.checked = !done;
      cb.disabled = false;
      toastError(err, 'Could not update the task');
    }
  }

  function render() {
    const shown = items.filter((it) => filterMode === 'all' || it.kind === filterMode);
    mount(list, shown.map(itemEl));
    items.forEach((it) => { it.fresh = false; });
    list.setAttribute('aria-busy', String(loading));
    more.hidden = !cursor;
    more.disabled = loading;
    more.textContent = loading ? 'Loading…' : 'Show older';
    if (loading && !items.length) status.textContent = 'Loading activity…';
    else if (!shown.length) status.textContent = filterMode === 'change' ? 'No changes recorded.' : `Nothing here yet. Add a note, log a call or plan a task for this ${noun}.`;
    else status.textContent = truncated ? `Showing the latest ${TIMELINE_LIMIT} events; older ones are not shown yet.` : '';
    status.hidden = !status.textContent;
  }

  async function load({ reset = false } = {}) {
    if (loading && !reset) return;
    loading = true;
    render();
    try {
      const p = await crm.getTimeline(entity, id, { cursor: reset ? undefined : cursor, limit: TIMELINE_LIMIT, signal: controller.signal });
      if (reset) items = [];
      // The timeline API takes a limit but (so far) no cursor: say when older events are cut off.
      truncated = !p.next_cursor && p.items.length >= TIMELINE_LIMIT;
      const seen = new Set(items.map((it) => it.activity?.id || `${it.at}:${it.change?.action}`));
      items.push(...p.items.filter((it) => !seen.has(it.activity?.id || `${it.at}:${it.change?.action}`)));
      cursor = p.next_cursor;
    } catch (err) {
      if (err?.name === 'AbortError') return;
      toastError(err, 'Could not load the timeline');
    } finally {
      loading = false;
      if (!controller.signal.aborted) render();
    }
  }

  // Actor and owner names arrive with the user directory (once per page load).
  const offUsers = onUsers(() => { if (!controller.signal.aborted) render(); });
  loadUsers();

  load({ reset: true });
  return {
    el,
    reload: () => load({ reset: true }),
    setDefs(d) { definitions = d; render(); },
    focusComposer: (kind) => composer.focus(kind),
    destroy() { controller.abort(); offUsers(); },
  };
}

// ---------------------------------------------------------------------------
// Composer

const COMPOSER = {
  note: { label: 'Note', submit: 'Add note', placeholder: 'Write a note… (Ctrl+Enter to save)', subject: false },
  call: { label: 'Call', submit: 'Log call', placeholder: 'What was said? Next steps?', subject: 'Call subject', when: true },
  meeting: { label: 'Meeting', submit: 'Log meeting', placeholder: 'Notes from the meeting', subject: 'Meeting subject', when: true },
  task: { label: 'Task', submit: 'Create task', placeholder: 'Details (optional)', subject: 'What needs doing?', due: true },
};

function localDateTimeValue(d = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function localDateValue(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function composerEl({ entity, id, onCreated }) {
  let kind = 'note';
  let saving = false;
  let key = crm.newIdempotencyKey();
  const uidp = `cmp-${id}`;

  const subject = h('input', { class: 'input', type: 'text', id: `${uidp}-subject`, maxlength: 300, dataset: { testid: 'composer-subject' }, autocomplete: 'off' });
  const bodyEl = h('textarea', { class: 'input composer-text', id: `${uidp}-body`, rows: 3, maxlength: 20000, dataset: { testid: 'composer-note' }, 'aria-label': 'Note' });
  const when = h('input', { class: 'input', type: 'datetime-local', id: `${uidp}-when`, dataset: { testid: 'composer-when' } });
  const due = h('input', { class: 'input', type: 'date', id: `${uidp}-due`, dataset: { testid: 'composer-due' } });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', dataset: { testid: 'composer-submit' } }, COMPOSER.note.submit);

  const tabs = h('div', { class: 'composer-tabs', role: 'tablist', 'aria-label': 'Add to the timeline' },
    Object.entries(COMPOSER).map(([k, c]) => h('button', {
      type: 'button', role: 'tab', class: 'composer-tab', id: `${uidp}-tab-${k}`, 'aria-selected': String(k === kind), tabindex: k === kind ? '0' : '-1',
      dataset: { testid: `composer-tab-${k}`, kind: k },
      onclick: () => setKind(k, true),
    }, xicon(ACTIVITY_KINDS[k].icon, { size: 14 }), c.label)));
  tabs.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const keys = Object.keys(COMPOSER);
    const i = keys.indexOf(kind);
    const next = keys[(i + (e.key === 'ArrowRight' ? 1 : keys.length - 1)) % keys.length];
    setKind(next, false);
    tabs.querySelector(`[data-kind="${next}"]`).focus();
  });

  const subjectRow = h('div', { class: 'composer-row' }, h('label', { class: 'visually-hidden', for: subject.id }, 'Subject'), subject);
  const whenRow = h('label', { class: 'composer-inline', for: when.id }, h('span', { class: 'muted' }, 'When'), when);
  const dueRow = h('label', { class: 'composer-inline', for: due.id }, h('span', { class: 'muted' }, 'Due'), due);
  const quickDue = h('span', { class: 'quick-due' },
    [['Today', 0], ['Tomorrow', 1], ['Next week', 7]].map(([label, days]) => h('button', {
      type: 'button', class: 'link-button', onclick: () => { const d = new Date(); d.setDate(d.getDate() + days); due.value = localDateValue(d); },
    }, label)));

  const form = h('form', { class: 'composer', novalidate: true, role: 'tabpanel', 'aria-labelledby': `${uidp}-tab-note` },
    subjectRow, bodyEl, error,
    h('div', { class: 'composer-foot' }, whenRow, dueRow, quickDue, h('span', { class: 'composer-spacer' }), submit));

  function setKind(k, focus) {
    kind = k;
    const c = COMPOSER[k];
    tabs.querySelectorAll('[role=tab]').forEach((t) => {
      const on = t.dataset.kind === k;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
    });
    form.setAttribute('aria-labelledby', `${uidp}-tab-${k}`);
    subjectRow.hidden = !c.subject;
    subject.placeholder = c.subject || '';
    bodyEl.placeholder = c.placeholder;
    bodyEl.setAttribute('aria-label', k === 'note' ? 'Note' : 'Details');
    whenRow.hidden = !c.when;
    dueRow.hidden = !c.due;
    quickDue.hidden = !c.due;
    if (c.when && !when.value) when.value = localDateTimeValue();
    if (c.due && !due.value) { const d = new Date(); d.setDate(d.getDate() + 1); due.value = localDateValue(d); }
    submit.textContent = c.submit;
    error.hidden = true;
    if (focus) (c.subject ? subject : bodyEl).focus();
  }

  form.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    const c = COMPOSER[kind];
    const text = bodyEl.value.trim();
    const subj = subject.value.trim();
    const fail = (msg, focusEl) => { error.hidden = false; mount(error, icon('alert', { size: 14 }), h('span', null, msg)); focusEl.focus(); };
    if (kind === 'note' && !text) return fail('Write something first.', bodyEl);
    if (c.subject && kind !== 'note' && !subj && !text) return fail(kind === 'task' ? 'Say what needs doing.' : 'Add a subject or some notes.', subject);
    const payload = { kind, [entity === 'company' ? 'company_id' : 'contact_id']: id };
    if (subj && c.subject) payload.subject = subj;
    if (text) payload.body = text;
    if (kind === 'task' && !payload.subject) { payload.subject = text.split('\n')[0].slice(0, 120); }
    if (c.when && when.value) { const d = new Date(when.value); if (!Number.isNaN(d.getTime())) payload.occurred_at = d.toISOString(); }
    if (c.due && due.value) { const d = new Date(`${due.value}T09:00`); if (!Number.isNaN(d.getTime())) payload.due_at = d.toISOString(); }

    saving = true;
    submit.disabled = true;
    error.hidden = true;
    try {
      const created = await crm.createActivity(payload, { idempotencyKey: key });
      key = crm.newIdempotencyKey();
      bodyEl.value = '';
      subject.value = '';
      when.value = '';
      if (c.when) when.value = localDateTimeValue();
      onCreated(created);
      bodyEl.focus();
    } catch (err) {
      if (!err.isNetwork) key = crm.newIdempotencyKey();
      if (err.isValidation) fail(err.errors.map((x) => `${x.field ? `${labelize(x.field)}: ` : ''}${x.message}`).join('. ') || err.detail, bodyEl);
      else toastError(err, 'Could not save');
    } finally {
      saving = false;
      submit.disabled = false;
    }
  });

  setKind('note', false);
  return {
    el: h('div', { class: 'composer-wrap' }, tabs, form),
    focus(k = 'note') { setKind(k, true); },
  };
}

// ---------------------------------------------------------------------------
// Next task card

/**
 * nextTaskCard({ query: {contact_id}|{company_id}, onAddTask })
 * → { el, reload() }
 */
export function nextTaskCard({ query, onAddTask, onChanged }) {
  const body = h('div', { class: 'next-task-body' });
  const el = h('section', { class: 'card side-card', 'aria-labelledby': 'next-task-title', dataset: { testid: 'next-task' } },
    h('div', { class: 'card-head' },
      h('h2', { id: 'next-task-title', class: 'card-title' }, 'Next task'),
      h('button', { type: 'button', class: 'link-button', onclick: () => onAddTask?.() }, icon('plus', { size: 14 }), 'Task')),
    body);

  async function reload() {
    try {
      // The assignee's name comes from the user directory (cached per page load).
      const names = loadUsers();
      const tasks = [];
      let cursor;
      for (let i = 0; i < 5; i += 1) {
        const p = await crm.listActivities({ ...query, kind: 'task', limit: 200, cursor });
        tasks.push(...p.items);
        cursor = p.next_cursor;
        if (!cursor) break;
      }
      await names;
      const open = tasks.filter((t) => !t.done_at).sort((a, b) => (a.due_at ? Date.parse(a.due_at) : Infinity) - (b.due_at ? Date.parse(b.due_at) : Infinity));
      if (!open.length) {
        mount(body, h('p', { class: 'muted' }, 'No open tasks.'));
        return;
      }
      const t = open[0];
      const due = relativeDue(t.due_at);
      const cb = h('input', { type: 'checkbox', class: 'task-check', 'aria-label': `Complete task: ${t.subject || 'task'}`, onchange: async () => {
        cb.disabled = true;
        try { await crm.updateActivity(t.id, { done: true }); onChanged?.(); reload(); } catch (err) { cb.checked = false; cb.disabled = false; toastError(err, 'Could not update the task'); }
      } });
      mount(body,
        h('div', { class: 'next-task' }, cb,
          h('div', null,
            h('div', { class: 'next-task-subject' }, t.subject || 'Task'),
            h('div', { class: ['due', due?.overdue && 'is-overdue', due?.today && 'is-today'] }, due?.text || 'No due date',
              t.assignee_id && t.assignee_id !== meId() ? ` · ${userName(t.assignee_id)}` : ''))),
        open.length > 1 ? h('p', { class: 'muted more-tasks' }, `${open.length - 1} more open ${open.length === 2 ? 'task' : 'tasks'}`) : null);
    } catch (err) {
      if (err?.name === 'AbortError') return;
      mount(body, h('p', { class: 'muted' }, 'Tasks could not be loaded.'));
    }
  }
  reload();
  return { el, reload };
}
