// Automations › Handover (/automations/handover): when a rep leaves, hand
// their accounts over. Choose who is leaving (from the directory), see what
// they own now (companies, contacts, open deals, open tickets, open tasks),
// tick what moves, choose one or several colleagues, start — and see what
// moved to whom, kind by kind, or the progress of a large handover (polled
// while it runs; the scheduler keeps working on it). Earlier handovers are
// listed beside it (?id= shows one). Owners, admins and managers only.

import { h, mount, icon, toast, toastError, pageTitle, formatDate } from './ui.js';
import { updateUrl } from './router.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import * as fapi from './automations-api.js';
import { emptyState } from './contacts.js';
import { confirmDialog } from './settings-kit.js';
import { automationsHeader } from './form-display.js';
import { xicon } from './records.js';
import { ago as relative } from './rule-display.js';

const KINDS = [
  { key: 'companies', label: 'Companies', one: 'company', iconName: 'building', note: 'First: their contacts and deals follow the company’s new owner' },
  { key: 'contacts', label: 'Contacts', one: 'contact', iconName: 'users', note: 'Those without a company are shared out in turn' },
  { key: 'deals', label: 'Open deals', one: 'open deal', iconName: 'pipeline', note: 'Won and lost deals keep their owner' },
  { key: 'tickets', label: 'Open tickets', one: 'open ticket', iconName: 'lifebuoy', note: 'Resolved and closed ones stay as they are' },
  { key: 'tasks', label: 'Open tasks', one: 'open task', iconName: 'task', note: 'Done tasks stay theirs' },
];
const POLL_MS = 1500;
const nf = new Intl.NumberFormat();
let uid = 0;

function kindIcon(k, size = 15) { return k.iconName === 'task' ? xicon('task', { size }) : icon(k.iconName, { size }); }

export function handoverView(root, { query = new URLSearchParams() } = {}) {
  const p = `ho${++uid}`;
  const state = {
    destroyed: false, controller: new AbortController(), users: new Map(), from: '', to: new Set(), include: new Set(KINDS.map((k) => k.key)),
    preview: null, previewing: null, starting: false, current: null, timer: null, history: [],
  };
  pageTitle('Handover', 'Automations');
  const me = () => session.getSession().user?.id;
  const name = (id) => {
    const u = state.users.get(id);
    return u ? `${session.userDisplayName(u)}${id === me() ? ' (you)' : ''}` : `User …${String(id).slice(-5)}`;
  };

  const body = h('div', { class: 'ho-body' });
  mount(root, ...automationsHeader('handover', { sub: 'When someone leaves, their contacts, companies, open deals, tickets and tasks go to colleagues, so nothing is left unowned' }), body);

  // --- step 1: who is leaving ------------------------------------------------------------------------
  const fromSel = h('select', { class: 'input', id: `${p}-from`, name: 'from_user_id', dataset: { testid: 'handover-from' } });
  const fromNote = h('p', { class: 'field-hint muted ho-from-note', id: `${p}-from-hint`, dataset: { testid: 'handover-from-note' } });
  fromSel.setAttribute('aria-describedby', fromNote.id);
  fromSel.addEventListener('change', () => {
    state.from = fromSel.value;
    state.to.delete(state.from);
    renderFromNote();
    renderTo();
    loadPreview();
  });

  function fillFrom() {
    const list = [...state.users.values()].sort((a, b) => (a.active === b.active ? session.userDisplayName(a).localeCompare(session.userDisplayName(b)) : a.active ? 1 : -1));
    mount(fromSel, h('option', { value: '' }, 'Choose a person…'),
      h('optgroup', { label: 'Deactivated' }, list.filter((u) => u.active === false).map((u) => h('option', { value: u.id, selected: u.id === state.from ? true : null }, session.userDisplayName(u)))),
      h('optgroup', { label: 'Active' }, list.filter((u) => u.active !== false).map((u) => h('option', { value: u.id, selected: u.id === state.from ? true : null }, name(u.id)))));
    fromSel.querySelectorAll('optgroup').forEach((g) => { if (!g.children.length) g.remove(); });
  }

  function renderFromNote() {
    const u = state.users.get(state.from);
    if (!state.from) {
      mount(fromNote, 'Deactivate them in ', h('a', { href: '/settings/users' }, 'Settings › Users'), ' (their history stays), before or after handing over.');
    } else if (u?.active === false) {
      mount(fromNote, icon('check', { size: 13 }), ' Deactivated: they can no longer sign in; their history stays.');
    } else {
      mount(fromNote, 'Still active. Once their accounts are handed over, deactivate them in ', h('a', { href: '/settings/users', dataset: { testid: 'handover-deactivate-link' } }, 'Settings › Users'), '.');
    }
  }

  // --- step 2: what they own, what moves -----------------------------------------------------------
  const preview = h('div', { class: 'ho-preview', dataset: { testid: 'handover-preview' }, 'aria-live': 'polite' });

  function renderPreview() {
    if (!state.from) {
      mount(preview, h('p', { class: 'muted' }, 'Choose who is leaving to see what they own.'));
      return;
    }
    if (!state.preview) {
      preview.setAttribute('aria-busy', 'true');
      mount(preview, h('ul', { class: 'ho-kinds' }, KINDS.map((k) => h('li', { class: 'ho-kind', 'aria-hidden': 'true' },
        kindIcon(k), h('span', { class: 'skeleton skeleton-text', style: { width: '40%' } })))));
      return;
    }
    preview.setAttribute('aria-busy', 'false');
    const owns = state.preview.owns || {};
    const total = KINDS.reduce((a, k) => a + (Number(owns[k.key]?.count) || 0), 0);
    mount(preview,
      h('fieldset', { class: 'fm-fieldset ho-fieldset' },
        h('legend', { class: 'fm-legend' }, 'What moves'),
        h('ul', { class: 'ho-kinds' }, KINDS.map((k) => {
          const o = owns[k.key] || { count: 0, more: false };
          const n = Number(o.count) || 0;
          const box = h('input', { type: 'checkbox', id: `${p}-inc-${k.key}`, checked: state.include.has(k.key), dataset: { testid: `handover-include-${k.key}`, kind: k.key } });
          box.addEventListener('change', () => {
            if (box.checked) state.include.add(k.key); else state.include.delete(k.key);
            syncStart();
          });
          return h('li', { class: ['ho-kind', !n && 'is-zero'], dataset: { testid: 'handover-kind', kind: k.key, count: String(n) } },
            h('label', { class: 'check-row ho-kind-row', for: box.id }, box,
              h('span', { class: 'ho-kind-icon', 'aria-hidden': 'true' }, kindIcon(k)),
              h('span', { class: 'ho-kind-text' }, h('span', { class: 'ho-kind-label' }, k.label), h('span', { class: 'muted ho-kind-note' }, k.note)),
              h('span', { class: 'ho-kind-count num', dataset: { testid: `handover-count-${k.key}` } }, `${nf.format(n)}${o.more ? '+' : ''}`)));
        }))),
      total ? null : h('p', { class: 'ho-nothing', dataset: { testid: 'handover-nothing' } }, icon('check', { size: 14 }), h('span', null, `${name(state.from)} owns nothing that would move.`)));
  }

  async function loadPreview() {
    state.preview = null;
    state.previewing?.abort();
    syncStart();
    renderPreview();
    if (!state.from) return;
    const c = new AbortController();
    state.previewing = c;
    try {
      const res = await fapi.handoverPreview(state.from, { signal: c.signal });
      if (state.destroyed || c.signal.aborted) return;
      state.preview = res;
      renderPreview();
      syncStart();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      mount(preview, h('div', { class: 'inline-error', role: 'alert' }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not see what they own'), ' ', err.detail || err.message),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => loadPreview() }, 'Retry')));
    }
  }

  // --- step 3: who takes over ------------------------------------------------------------------------
  const toList = h('div', { class: 'fm-people ho-people', role: 'group', dataset: { testid: 'handover-to' } });
  const toError = h('p', { class: 'field-error', hidden: true, dataset: { testid: 'error-to_user_ids' } });

  function renderTo() {
    const people = [...state.users.values()].filter((u) => u.active !== false && u.id !== state.from)
      .sort((a, b) => session.userDisplayName(a).localeCompare(session.userDisplayName(b)));
    toList.setAttribute('aria-labelledby', `${p}-to-h`);
    mount(toList, people.length ? people.map((u) => {
      const box = h('input', { type: 'checkbox', value: u.id, checked: state.to.has(u.id), dataset: { testid: 'handover-to-user', userId: u.id } });
      box.addEventListener('change', () => {
        if (box.checked) state.to.add(u.id); else state.to.delete(u.id);
        toError.hidden = true;
        syncStart();
      });
      return h('label', { class: 'check-row fm-person' }, box,
        h('span', { class: 'fm-person-text' },
          h('span', { class: 'truncate' }, name(u.id)),
          u.email && u.email !== u.name ? h('span', { class: 'muted fm-person-email truncate' }, u.email) : null));
    }) : h('p', { class: 'muted' }, 'Nobody else is active: invite a colleague in ', h('a', { href: '/settings/users' }, 'Settings › Users'), ' first.'));
    syncStart();
  }

  // --- start -------------------------------------------------------------------------------------------
  const startBtn = h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'handover-start' }, onclick: () => start() },
    icon('userPlus', { size: 15 }), h('span', null, 'Hand over'));
  const startNote = h('p', { class: 'muted ho-start-note', role: 'status', 'aria-live': 'polite' });

  function movingCount() {
    const owns = state.preview?.owns || {};
    return KINDS.filter((k) => state.include.has(k.key)).reduce((a, k) => a + (Number(owns[k.key]?.count) || 0), 0);
  }

  function syncStart() {
    const n = movingCount();
    const more = KINDS.some((k) => state.include.has(k.key) && state.preview?.owns?.[k.key]?.more);
    const ready = state.from && state.preview && state.to.size && state.include.size && (n > 0 || more) && !state.starting;
    startBtn.disabled = !ready;
    const label = startBtn.querySelector('span');
    label.textContent = state.starting ? 'Starting…' : state.to.size && state.preview ? `Hand over ${nf.format(n)}${more ? '+' : ''} to ${state.to.size === 1 ? name([...state.to][0]) : `${state.to.size} colleagues`}` : 'Hand over';
    if (!state.from) startNote.textContent = 'Choose who is leaving first.';
    else if (!state.preview) startNote.textContent = 'Looking at what they own…';
    else if (!state.include.size) startNote.textContent = 'Tick at least one kind of record.';
    else if (!n && !more) startNote.textContent = 'Nothing of what is ticked is left with them.';
    else if (!state.to.size) startNote.textContent = 'Choose who takes over.';
    else startNote.textContent = state.to.size > 1 ? 'Companies are shared out in turn, each with its contacts and deals; the rest too.' : 'Everything goes to one person.';
  }

  function start() {
    if (startBtn.disabled) return;
    const from = state.from;
    const to = [...state.to];
    const include = KINDS.map((k) => k.key).filter((k) => state.include.has(k));
    const n = movingCount();
    confirmDialog({
      title: `Hand over ${name(from)}’s accounts?`,
      text: `${nf.format(n)} ${n === 1 ? 'record moves' : 'records move'} now to ${to.map(name).join(', ')} (${include.map((k) => KINDS.find((x) => x.key === k).label.toLowerCase()).join(', ')}). Each change is in the records’ history and the audit log.`,
      confirmLabel: 'Hand over', workingLabel: 'Starting…', testid: 'handover-confirm',
      run: async () => {
        state.starting = true;
        syncStart();
        try {
          const h0 = await fapi.startHandover({ from_user_id: from, to_user_ids: to, include });
          if (state.destroyed) return;
          state.current = h0;
          updateUrl(`/automations/handover?id=${encodeURIComponent(h0.id)}`);
          renderResult();
          resultCard.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
          if (h0.status === 'running') poll();
          else finished(h0);
          loadHistory();
        } catch (err) {
          if (err.isValidation && (err.errors || []).some((e) => e.field === 'to_user_ids')) {
            toError.hidden = false;
            mount(toError, icon('alert', { size: 14 }), h('span', null, err.errors.filter((e) => e.field === 'to_user_ids').map((e) => e.message).join('. ')));
          }
          throw err;
        } finally {
          state.starting = false;
          if (!state.destroyed) syncStart();
        }
      },
    });
  }

  function finished(x) {
    const total = Object.values(x.moved || {}).reduce((a, v) => a + (Number(v?.total) || 0), 0);
    if (x.status === 'done') toast(`${nf.format(total)} ${total === 1 ? 'record' : 'records'} moved from ${name(x.from_user_id)}.`, { kind: 'success', title: 'Handed over' });
    else if (x.status === 'failed') toast(x.error || 'A record refused to move.', { kind: 'error', title: 'The handover stopped' });
    if (x.from_user_id === state.from) loadPreview();
  }

  // --- the result -----------------------------------------------------------------------------------------
  const resultCard = h('section', { class: 'card ho-result', hidden: true, 'aria-labelledby': `${p}-res-h`, dataset: { testid: 'handover-result' }, 'aria-live': 'polite' });

  function renderResult() {
    const x = state.current;
    resultCard.hidden = !x;
    if (!x) return;
    resultCard.dataset.status = x.status;
    resultCard.dataset.handoverId = x.id;
    const moved = x.moved && typeof x.moved === 'object' ? x.moved : {};
    const total = Object.values(moved).reduce((a, v) => a + (Number(v?.total) || 0), 0);
    const kinds = KINDS.filter((k) => (x.include || []).includes(k.key) || moved[k.key]);
    const status = x.status === 'running'
      ? h('p', { class: 'ho-status is-running', dataset: { testid: 'handover-status' } }, h('span', { class: 'seg-spinner', 'aria-hidden': 'true' }), `Moving… ${nf.format(total)} so far. You can leave this page: it carries on.`)
      : x.status === 'done'
        ? h('p', { class: 'ho-status is-done', dataset: { testid: 'handover-status' } }, icon('check', { size: 15 }), `Done: ${nf.format(total)} ${total === 1 ? 'record' : 'records'} moved.`)
        : h('div', { class: 'ho-status is-failed', dataset: { testid: 'handover-status' } }, icon('alert', { size: 15 }),
          h('div', null, h('strong', null, 'Stopped: '), x.error || 'a record refused to move.',
            h('div', { class: 'muted' }, `${nf.format(total)} moved before it stopped. Fix the record and start again: what is left moves.`)));
    mount(resultCard,
      h('div', { class: 'cp-card-head' },
        h('h2', { class: 'seg-card-title', id: `${p}-res-h` }, `${name(x.from_user_id)} → ${(x.to_user_ids || []).map(name).join(', ')}`),
        x.created_at ? h('time', { class: 'muted ho-when', datetime: x.created_at, title: formatDate(x.created_at, { withTime: true }) }, relative(x.created_at)) : null),
      status,
      h('ul', { class: 'ho-moved', dataset: { testid: 'handover-moved' } }, kinds.map((k) => {
        const m = moved[k.key] || { total: 0, to: {} };
        const to = m.to && typeof m.to === 'object' ? m.to : {};
        return h('li', { class: 'ho-moved-row', dataset: { testid: 'handover-moved-kind', kind: k.key, total: String(Number(m.total) || 0) } },
          h('span', { class: 'ho-kind-icon', 'aria-hidden': 'true' }, kindIcon(k)),
          h('span', { class: 'ho-moved-label' }, k.label),
          h('strong', { class: 'num ho-moved-total' }, nf.format(Number(m.total) || 0)),
          h('span', { class: 'ho-moved-to' }, (x.to_user_ids || []).map((u) => h('span', { class: 'ho-chip', dataset: { userId: u } },
            h('span', { class: 'truncate' }, name(u)), h('span', { class: 'num' }, nf.format(Number(to[u]) || 0))))));
      })));
  }

  function poll() {
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => {
      const x = state.current;
      if (!x || state.destroyed) return;
      try {
        const fresh = await fapi.getHandover(x.id, { signal: state.controller.signal });
        if (state.destroyed || state.current?.id !== x.id) return;
        state.current = fresh;
        renderResult();
        if (fresh.status === 'running') poll();
        else { finished(fresh); loadHistory(); }
      } catch (err) {
        if (err?.name === 'AbortError' || state.destroyed) return;
        poll();
      }
    }, POLL_MS);
  }

  // --- earlier handovers ---------------------------------------------------------------------------------
  const historyList = h('ul', { class: 'ho-history', dataset: { testid: 'handover-history' } });

  function renderHistory() {
    mount(historyList, state.history.length ? state.history.map((x) => {
      const total = Object.values(x.moved || {}).reduce((a, v) => a + (Number(v?.total) || 0), 0);
      const on = state.current?.id === x.id;
      return h('li', null, h('button', {
        type: 'button', class: ['ho-history-item', on && 'is-current'], 'aria-current': on ? 'true' : null, dataset: { testid: 'handover-history-item', id: x.id, status: x.status },
        onclick: () => show(x.id),
      },
      h('span', { class: 'ho-history-who truncate' }, `${name(x.from_user_id)} → ${(x.to_user_ids || []).map(name).join(', ')}`),
      h('span', { class: 'muted ho-history-sub' },
        h('span', { class: ['ho-dot', `is-${x.status}`], 'aria-hidden': 'true' }),
        `${x.status === 'done' ? 'Done' : x.status === 'running' ? 'Running' : 'Stopped'} · ${nf.format(total)} moved · ${relative(x.created_at)}`)));
    }) : h('li', { class: 'muted ho-history-empty' }, 'None yet.'));
  }

  async function loadHistory() {
    try {
      const items = await fapi.listHandovers({ signal: state.controller.signal });
      if (state.destroyed) return;
      state.history = items;
      renderHistory();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      mount(historyList, h('li', { class: 'muted' }, 'Could not load them.'));
    }
  }

  async function show(id) {
    clearTimeout(state.timer);
    try {
      const x = await fapi.getHandover(id, { signal: state.controller.signal });
      if (state.destroyed) return;
      state.current = x;
      updateUrl(`/automations/handover?id=${encodeURIComponent(id)}`);
      renderResult();
      renderHistory();
      resultCard.scrollIntoView({ block: 'nearest' });
      if (x.status === 'running') poll();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (err.isNotFound) updateUrl('/automations/handover');
      else toastError(err, 'Could not load the handover');
    }
  }

  // --- the page ---------------------------------------------------------------------------------------------
  function renderPage() {
    const step = (n, key, title, ...children) => h('section', { class: 'card ru-card ho-step', 'aria-labelledby': `${p}-${key}-h`, dataset: { testid: `handover-step-${key}` } },
      h('h2', { class: 'seg-card-title ru-card-title', id: `${p}-${key}-h` }, h('span', { class: 'ru-step' }, h('span', { class: 'ru-step-num', 'aria-hidden': 'true' }, String(n)), title)),
      ...children);
    mount(body, h('div', { class: 'ho-layout' },
      h('div', { class: 'ho-main cp-stack' },
        step(1, 'from', 'Who is leaving',
          h('div', { class: 'field', dataset: { field: 'from_user_id' } }, h('label', { for: fromSel.id, class: 'visually-hidden' }, 'Who is leaving'), fromSel, fromNote)),
        step(2, 'owns', 'What they own', preview),
        step(3, 'to', 'Who takes over',
          h('p', { class: 'muted seg-card-lead', id: `${p}-to-h` }, 'One or several colleagues: companies are shared out in turn, and each company’s contacts and deals follow it, so an account stays in one pair of hands.'),
          h('div', { class: 'field', dataset: { field: 'to_user_ids' } }, toList, toError)),
        h('div', { class: 'ho-start' }, startBtn, startNote),
        resultCard),
      h('aside', { class: 'ho-side' },
        h('section', { class: 'card side-card', 'aria-labelledby': `${p}-hist-h` },
          h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: `${p}-hist-h` }, 'Earlier handovers')),
          historyList))));
    fillFrom();
    renderFromNote();
    renderPreview();
    renderTo();
  }

  async function boot() {
    mount(body, h('div', { class: 'card seg-loading', 'aria-busy': 'true' },
      [35, 60, 90, 70].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '16px 0' } }))));
    try {
      const [users] = await Promise.all([crm.userDirectory({ fresh: true, signal: state.controller.signal }), session.whenLoaded()]);
      if (state.destroyed) return;
      if (!fapi.canHandOver()) {
        mount(body, emptyState({
          testid: 'error-state', iconName: 'lock', title: 'Handovers are for owners, admins and managers',
          text: 'Ask one of them to hand a departing colleague’s accounts over.',
        }));
        return;
      }
      state.users = users;
      const wanted = query.get('from');
      if (wanted && users.has(wanted)) state.from = wanted;
      renderPage();
      loadHistory();
      if (state.from) loadPreview();
      const id = query.get('id');
      if (id) show(id);
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      mount(body, emptyState({
        testid: 'error-state', iconName: 'alert', title: err.title || 'Could not load the handover page', text: err.detail || err.message,
        actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => boot() }, 'Retry')],
      }));
    }
  }

  boot();
  return {
    kind: 'handover',
    destroy() {
      state.destroyed = true;
      clearTimeout(state.timer);
      state.controller.abort();
      state.previewing?.abort();
    },
  };
}
