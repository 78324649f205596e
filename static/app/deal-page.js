// The deal page (/deals/<id>): header with value, status and stage, won /
// lost / reopen, a stage track (click a stage to move the deal there), details
// with inline edit (each field a PATCH with If-Match; a 412 reloads and says
// so), line items, links to the contact and company, and the stage history as
// a timeline with the time spent in each stage.

import { h, mount, icon, toast, toastError, pageTitle, timeEl } from './ui.js';
import { navigate } from './router.js';
import * as session from './session.js';
import * as papi from './pipeline-api.js';
import { combobox } from './record-form.js';
import * as crm from './crm-api.js';
import {
  loadUsers, onUsers, knownUsers, userName, userActive, meId, ownerCell, tagChips, dash, xicon, parseMoney, moneyToInput, contactName, actorName, formatDay,
} from './records.js';
import {
  formatMoney, moneyEl, statusBadge, staleBadge, priorityLabel, PRIORITIES, CURRENCIES, SOURCES, recordNameOf, rememberName, durationText, isOverdue,
} from './deal-display.js';
import { markWon, markLost, reopen } from './deal-actions.js';
import { openDealForm, lineTotal } from './deal-form.js';
import { canEditPipeline } from './pipeline-board.js';
import { emptyState } from './contacts.js';

function historyTime(e) { return e?.at || e?.changed_at || e?.created_at || null; }

/**
 * Stage history (oldest first: {at, actor, from_stage_id, to_stage_id, status})
 * → [{ stageId, from, until }] spans of time an open deal spent in a stage
 * (the last one still running while the deal is open).
 */
export function stageSpans(history, deal) {
  const spans = [];
  for (const e of history) {
    const at = historyTime(e);
    const stageId = e.to_stage_id || e.stage_id;
    if (!at || !stageId) continue;
    const last = spans[spans.length - 1];
    const running = last && !last.until;
    if ((e.status || 'open') !== 'open') { if (running) last.until = at; continue; }
    if (running && last.stageId === stageId) continue;
    if (running) last.until = at;
    spans.push({ stageId, from: at, until: null });
  }
  const last = spans[spans.length - 1];
  if (last && !last.until && deal?.status !== 'open') last.until = deal?.closed_at || last.from;
  if (!spans.length && deal?.stage_entered_at) spans.push({ stageId: deal.stage_id, from: deal.stage_entered_at, until: deal.status !== 'open' ? deal.closed_at : null });
  return spans;
}

/** What each history entry says: created, moved, won, lost, reopened. */
export function describeHistory(history) {
  let prevStatus = null;
  return history.map((e, i) => {
    const status = e.status || 'open';
    let kind;
    if (i === 0 && !e.from_stage_id) kind = status === 'open' ? 'created' : status;
    else if (prevStatus && status !== prevStatus) kind = status === 'open' ? 'reopened' : status;
    else if (e.from_stage_id && e.from_stage_id !== e.to_stage_id) kind = 'moved';
    else kind = 'updated';
    prevStatus = status;
    return { ...e, kind };
  });
}

export function dealPageView(root, id) {
  const controller = new AbortController();
  const state = { deal: null, version: null, pipeline: null, pipelines: [], history: null, historyError: null, editing: null, destroyed: false };
  const cleanups = [];

  const back = () => h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: state.deal?.pipeline_id ? `/pipeline/${encodeURIComponent(state.deal.pipeline_id)}` : '/pipeline', class: 'back-link' }, icon('arrowLeft'), 'Pipeline'));

  function skeleton() {
    mount(root, back(),
      h('div', { class: 'card record-header', 'aria-busy': 'true' },
        h('div', { style: { flex: '1' } },
          h('div', { class: 'skeleton skeleton-text', style: { width: '40%', height: '20px' } }),
          h('div', { class: 'skeleton skeleton-text', style: { width: '25%', marginTop: '10px' } }))),
      h('div', { class: 'deal-grid' },
        h('section', { class: 'card' }, [70, 50, 60, 40, 55, 45].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '14px 0' } }))),
        h('section', { class: 'card' }, [50, 70, 40].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '14px 0' } })))));
  }

  const stageById = (sid) => state.pipeline?.stages.find((s) => s.id === sid) || null;
  const writable = () => canEditPipeline();

  // --- saving -----------------------------------------------------------------------
  async function save(patch, { errorSlot } = {}) {
    try {
      const res = await papi.updateDeal(state.deal.id, patch, state.version);
      apply(res.deal, res.version);
      toast('Saved.', { kind: 'success', title: state.deal.title || 'Deal', timeout: 2500 });
      return true;
    } catch (err) {
      if (err.status === 412) {
        toast('Someone else changed this deal meanwhile. The page shows their version now; make your change again if it is still needed.', {
          kind: 'error', title: 'Changed by someone else', requestId: err.requestId,
        });
        await refetch();
        return false;
      }
      if (err.isValidation && errorSlot) {
        errorSlot.replaceChildren(icon('alert', { size: 14 }), h('span', null, err.errors.map((e) => e.message).join('. ') || err.detail));
        errorSlot.hidden = false;
        return false;
      }
      toastError(err, 'Could not save');
      return false;
    }
  }

  function apply(deal, version) {
    state.deal = deal;
    state.version = version ?? (deal?.version != null ? String(deal.version) : state.version);
    state.editing = null;
    const p = state.pipelines.find((x) => x.id === deal.pipeline_id);
    if (p) state.pipeline = p;
    render();
    loadHistory();
  }

  // --- inline editing -----------------------------------------------------------------
  /**
   * A details row. `display()` renders the value; `editor()` returns
   * { el, focus, read() → patch | { error } } for inline editing.
   */
  function editableProp(key, label, display, editor, { testid } = {}) {
    const isEditing = state.editing === key;
    const dd = h('dd', { dataset: { testid: testid || `deal-${key}` } });
    const row = h('div', { class: ['prop', 'deal-prop', isEditing && 'is-editing'], dataset: { field: key } }, h('dt', null, label), dd);
    if (!isEditing) {
      dd.append(h('span', { class: 'prop-value' }, display() ?? dash()));
      if (editor && writable()) {
        dd.append(h('button', {
          type: 'button', class: 'icon-button prop-edit', 'aria-label': `Edit ${label.toLowerCase()}`, title: `Edit ${label.toLowerCase()}`,
          dataset: { testid: `edit-${key}` },
          onclick: () => { state.editing = key; render(); },
        }, icon('pencil', { size: 14 })));
      }
      return row;
    }
    const ed = editor();
    const err = h('p', { class: 'field-error', hidden: true, dataset: { testid: `error-${key}` } });
    const saveBtn = h('button', { type: 'submit', class: 'btn btn-sm btn-primary', dataset: { testid: `save-${key}` } }, 'Save');
    const form = h('form', { class: 'inline-edit', novalidate: true },
      ed.el,
      h('div', { class: 'inline-edit-actions' },
        saveBtn,
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => cancel() }, 'Cancel')),
      err);
    function cancel() { state.editing = null; render(); root.querySelector(`[data-testid="edit-${key}"]`)?.focus(); }
    form.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); cancel(); } });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const out = ed.read();
      if (out?.error) { err.hidden = false; err.replaceChildren(icon('alert', { size: 14 }), h('span', null, out.error)); return; }
      if (!out || !Object.keys(out).length) { cancel(); return; }
      saveBtn.disabled = true;
      saveBtn.textContent = 'Saving…';
      const ok = await save(out, { errorSlot: err });
      if (ok) root.querySelector(`[data-testid="edit-${key}"]`)?.focus();
      else if (saveBtn.isConnected) { saveBtn.disabled = false; saveBtn.textContent = 'Save'; }
    });
    dd.append(form);
    queueMicrotask(() => ed.focus?.());
    return row;
  }

  const inputEl = (attrs) => h('input', { class: 'input', autocomplete: 'off', ...attrs });
  const selectEl = (options, value, attrs = {}) => h('select', { class: 'input', ...attrs },
    options.map(([v, l]) => h('option', { value: v, selected: String(v) === String(value ?? '') ? true : null }, l)));

  function textEditor(key, { multiline = false, max = 200, required = false, label } = {}) {
    return () => {
      const el = multiline
        ? h('textarea', { class: 'input', rows: 3, maxlength: max, name: key, 'aria-label': label }, state.deal[key] ?? '')
        : inputEl({ type: 'text', value: state.deal[key] ?? '', maxlength: max, name: key, 'aria-label': label });
      return {
        el, focus: () => { el.focus(); el.select?.(); },
        read: () => {
          const v = el.value.trim();
          if (required && !v) return { error: `${label} cannot be empty` };
          return (v || null) === (state.deal[key] ?? null) ? {} : { [key]: v || null };
        },
      };
    };
  }

  function valueEditor() {
    const d = state.deal;
    const cur = d.currency || 'EUR';
    const hasItems = (d.line_items || []).length > 0;
    const amount = inputEl({ type: 'text', inputmode: 'decimal', name: 'value', value: moneyToInput(d.value, cur), 'aria-label': 'Value', disabled: hasItems });
    const currency = selectEl((CURRENCIES.includes(cur) ? CURRENCIES : [cur, ...CURRENCIES]).map((c) => [c, c]), cur, { name: 'currency', 'aria-label': 'Currency' });
    return {
      el: h('div', { class: 'inline-money' }, amount, currency, hasItems ? h('p', { class: 'field-hint muted' }, 'The value is the sum of the line items; edit them with “Edit all”.') : null),
      focus: () => amount.focus(),
      read: () => {
        const out = {};
        if (currency.value !== cur) out.currency = currency.value;
        if (!hasItems) {
          const minor = amount.value.trim() ? parseMoney(amount.value, currency.value) : null;
          if (minor !== null && (!Number.isFinite(minor) || minor < 0)) return { error: 'Enter an amount such as 12500 or 12,500.50' };
          if (minor !== (d.value ?? null)) out.value = minor;
        }
        return out;
      },
    };
  }

  function dateEditor() {
    const el = inputEl({ type: 'date', name: 'expected_close', value: state.deal.expected_close || '', 'aria-label': 'Expected close' });
    return { el, focus: () => el.focus(), read: () => ((el.value || null) === (state.deal.expected_close || null) ? {} : { expected_close: el.value || null }) };
  }

  function ownerEditor() {
    const ids = new Set([...knownUsers().keys()].filter((uid) => userActive(uid)));
    if (state.deal.owner_id) ids.add(state.deal.owner_id);
    if (meId()) ids.add(meId());
    const opts = [...ids].map((uid) => [uid, uid === meId() ? `${userName(uid)} (you)` : userName(uid)]).sort((a, b) => a[1].localeCompare(b[1]));
    const el = selectEl(opts, state.deal.owner_id, { name: 'owner_id', 'aria-label': 'Owner' });
    return { el, focus: () => el.focus(), read: () => (el.value === state.deal.owner_id ? {} : { owner_id: el.value || null }) };
  }

  function choiceEditor(key, options, label) {
    return () => {
      const el = selectEl(options, state.deal[key] ?? '', { name: key, 'aria-label': label });
      return { el, focus: () => el.focus(), read: () => ((el.value || null) === (state.deal[key] ?? null) ? {} : { [key]: el.value || null }) };
    };
  }

  function probabilityEditor() {
    // The API reads the override as `probability` (and shows it as `probability_override`).
    const el = inputEl({ type: 'number', min: 0, max: 100, step: 1, name: 'probability', value: state.deal.probability_override ?? '', placeholder: `Stage: ${stageById(state.deal.stage_id)?.probability ?? '—'}%`, 'aria-label': 'Probability override in percent' });
    return {
      el: h('div', null, el, h('p', { class: 'field-hint muted' }, 'Empty: use the stage’s probability.')),
      focus: () => el.focus(),
      read: () => {
        const raw = el.value.trim();
        const v = raw === '' ? null : Number(raw);
        if (v !== null && (!Number.isInteger(v) || v < 0 || v > 100)) return { error: 'Use a whole number from 0 to 100' };
        return v === (state.deal.probability_override ?? null) ? {} : { probability: v };
      },
    };
  }

  function tagsEditor() {
    const el = inputEl({ type: 'text', name: 'tags', value: (state.deal.tags || []).join(', '), 'aria-label': 'Tags, separated by commas' });
    return {
      el: h('div', null, el, h('p', { class: 'field-hint muted' }, 'Separate tags with commas.')),
      focus: () => el.focus(),
      read: () => {
        const tags = [...new Set(el.value.split(',').map((t) => t.trim()).filter(Boolean))];
        return JSON.stringify(tags) === JSON.stringify(state.deal.tags || []) ? {} : { tags };
      },
    };
  }

  function linkEditor(entity) {
    return () => {
      const key = entity === 'company' ? 'company_id' : 'contact_id';
      let picked = state.deal[key] || null;
      const el = inputEl({ type: 'text', name: key, 'aria-label': entity === 'company' ? 'Company' : 'Contact', placeholder: 'Search…' });
      if (picked) recordNameOf(entity, picked).then((n) => { if (!el.value) el.value = n || ''; });
      const cb = combobox({
        inputEl: el,
        fetch: async (q, signal) => {
          const p = await crm.listRecords(entity, { q, limit: 8, signal });
          return p.items.map((r) => ({ id: r.id, label: entity === 'company' ? (r.name || r.id) : (contactName(r) || r.email || r.id), sub: entity === 'company' ? (r.domain || '') : (r.company || r.email || '') }));
        },
        onPick: (item, { typing } = {}) => { if (item) { picked = item.id; rememberName(entity, item.id, item.label); } else if (typing) picked = null; },
        emptyText: (q) => `Nothing matches “${q}”.`,
      });
      return {
        el: h('div', null, cb.wrap, h('p', { class: 'field-hint muted' }, 'Clear the box to unlink.')),
        focus: () => el.focus(),
        read: () => {
          const next = el.value.trim() ? picked : null;
          if (el.value.trim() && !picked) return { error: 'Pick one from the list' };
          return next === (state.deal[key] || null) ? {} : { [key]: next };
        },
      };
    };
  }

  function reasonEditor(key, kind) {
    return () => {
      const el = selectEl([['', 'Loading…']], '', { name: key, 'aria-label': `${kind} reason`, disabled: true });
      papi.pipelineSettings().then((s) => {
        const list = (kind === 'Lost' ? s.lost_reasons : s.won_reasons).filter(Boolean);
        const cur = state.deal[key];
        const all = cur && !list.includes(cur) ? [cur, ...list] : list;
        mount(el, kind === 'Won' ? h('option', { value: '' }, 'No reason') : null, all.map((r) => h('option', { value: r, selected: r === cur ? true : null }, r)));
        el.disabled = false;
        el.focus();
      }).catch(() => mount(el, h('option', { value: '' }, 'Reasons could not be loaded')));
      return { el, focus: () => el.focus(), read: () => ((el.value || null) === (state.deal[key] ?? null) ? {} : { [key]: el.value || null }) };
    };
  }

  // --- pieces ----------------------------------------------------------------------------
  function linkDisplay(entity) {
    const key = entity === 'company' ? 'company_id' : 'contact_id';
    const rid = state.deal[key];
    if (!rid) return null;
    const href = `/${entity === 'company' ? 'companies' : 'contacts'}/${encodeURIComponent(rid)}`;
    const a = h('a', { href, dataset: { testid: `deal-${entity}-link` } }, 'Loading…');
    recordNameOf(entity, rid).then((n) => { a.textContent = n || (entity === 'company' ? 'Unnamed company' : 'Unnamed contact'); });
    return a;
  }

  function stageTrack() {
    const d = state.deal;
    const stages = state.pipeline?.stages || [];
    if (!stages.length) return null;
    const ci = stages.findIndex((s) => s.id === d.stage_id);
    const canMove = writable() && d.status === 'open';
    return h('ol', { class: ['stage-track', `is-${d.status}`], 'aria-label': 'Stages', dataset: { testid: 'deal-stage-track' } },
      stages.map((s, i) => {
        const current = s.id === d.stage_id;
        const label = h('span', { class: 'st-name', title: s.name }, s.name);
        const inner = canMove && !current
          ? h('button', { type: 'button', class: 'st-btn', title: `Move to ${s.name}`, dataset: { testid: 'deal-stage-step', stageId: s.id }, onclick: () => moveTo(s) }, label)
          : h('span', { class: 'st-btn', 'aria-current': current ? 'step' : null, dataset: { testid: 'deal-stage-step', stageId: s.id } }, label);
        return h('li', { class: ['st', i < ci && 'is-done', current && 'is-current'] }, inner);
      }));
  }

  async function moveTo(stage) {
    try {
      const res = await papi.moveDeal(state.deal.id, { stage_id: stage.id }, state.version);
      apply({ ...state.deal, ...(res.deal || {}), stage_id: res.deal?.stage_id || stage.id }, res.version ?? res.deal?.version);
      toast(`Moved to ${stage.name}.`, { kind: 'success', title: state.deal.title || 'Deal', timeout: 3000 });
      root.querySelector(`.stage-track [data-stage-id="${CSS.escape(stage.id)}"]`)?.focus?.();
    } catch (err) {
      if (err.status === 412) {
        toast('Someone else changed this deal meanwhile; the page shows its current state.', { kind: 'error', title: 'Changed by someone else', requestId: err.requestId });
        if (err.body?.current) apply(err.body.current, err.body.current.version); else refetch();
      } else toastError(err, 'Could not move the deal');
    }
  }

  function lineItemsCard() {
    const items = state.deal.line_items || [];
    if (!items.length) return null;
    const cur = state.deal.currency || 'EUR';
    return h('section', { class: 'card deal-items', 'aria-labelledby': 'deal-items-title', dataset: { testid: 'deal-line-items' } },
      h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: 'deal-items-title' }, 'Line items')),
      h('div', { class: 'mini-table-wrap' }, h('table', { class: 'mini-table li-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col', class: 'align-end' }, 'Qty'), h('th', { scope: 'col', class: 'align-end' }, 'Unit price'), h('th', { scope: 'col', class: 'align-end' }, 'Discount'), h('th', { scope: 'col', class: 'align-end' }, 'Total'))),
        h('tbody', null, items.map((li) => h('tr', null,
          h('td', null, li.product || '—'),
          h('td', { class: 'align-end num' }, String(li.quantity ?? '')),
          h('td', { class: 'align-end num' }, formatMoney(li.unit_price ?? 0, cur)),
          h('td', { class: 'align-end num' }, li.discount_percent ? `${li.discount_percent}%` : '—'),
          h('td', { class: 'align-end num' }, formatMoney(li.total ?? lineTotal(li), cur))))),
        h('tfoot', null, h('tr', null, h('th', { scope: 'row', colspan: 4 }, 'Deal value'), h('td', { class: 'align-end num' }, h('strong', null, formatMoney(state.deal.value ?? 0, cur))))))));
  }

  function historyCard() {
    const body = h('div', { class: 'deal-history-body' });
    const card = h('section', { class: 'card deal-history', 'aria-labelledby': 'deal-history-title', dataset: { testid: 'deal-history' } },
      h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: 'deal-history-title' }, 'Stage history')), body);
    if (state.historyError) {
      mount(body, h('div', { class: 'inline-error', role: 'alert' }, icon('alert'), h('div', null, state.historyError.detail || state.historyError.message),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => loadHistory() }, 'Retry')));
      return card;
    }
    if (!state.history) {
      mount(body, [60, 45, 70].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '12px 0' } })));
      return card;
    }
    const d = state.deal;
    const spans = stageSpans(state.history, d);
    // Time in each stage (summed if it came back), in board order.
    const totals = new Map();
    for (const sp of spans) {
      const ms = (Date.parse(sp.until || '') || Date.now()) - Date.parse(sp.from);
      totals.set(sp.stageId, (totals.get(sp.stageId) || 0) + Math.max(0, ms));
    }
    const maxMs = Math.max(1, ...totals.values());
    const stagesSeen = (state.pipeline?.stages || []).filter((s) => totals.has(s.id));
    for (const sid of totals.keys()) if (!stagesSeen.some((s) => s.id === sid)) stagesSeen.push({ id: sid, name: 'Removed stage' });
    const bars = stagesSeen.length ? h('ul', { class: 'time-in-stage', 'aria-label': 'Time in each stage', dataset: { testid: 'time-in-stage' } },
      stagesSeen.map((s) => {
        const ms = totals.get(s.id);
        const isNow = d.status === 'open' && s.id === d.stage_id;
        return h('li', null,
          h('span', { class: 'tis-name truncate' }, s.name),
          h('span', { class: 'tis-bar', 'aria-hidden': 'true' }, h('span', { class: ['tis-fill', isNow && 'is-now'], style: { width: `${Math.max(3, (ms / maxMs) * 100)}%` } })),
          h('span', { class: 'tis-time num' }, durationText(ms), isNow ? h('span', { class: 'muted' }, ' so far') : null));
      })) : null;

    const nameOf = (sid, fallback) => stageById(sid)?.name || fallback || (sid ? 'a removed stage' : null);
    const items = describeHistory(state.history).reverse().map((e) => {
      const at = historyTime(e);
      const from = nameOf(e.from_stage_id, e.from_stage);
      const to = nameOf(e.to_stage_id, e.to_stage);
      const text = {
        created: [h('strong', null, 'Created'), to ? [' in ', h('strong', null, to)] : ''],
        moved: ['Moved from ', h('strong', null, from), ' to ', h('strong', null, to)],
        won: [h('strong', null, 'Won'), to ? ` in ${to}` : ''],
        lost: [h('strong', null, 'Lost'), to ? ` in ${to}` : ''],
        reopened: [h('strong', null, 'Reopened'), to ? [' in ', h('strong', null, to)] : ''],
        updated: [h('strong', null, 'Changed'), to ? ` in ${to}` : ''],
      }[e.kind];
      const actor = e.actor || e.by || e.user_id;
      return h('li', { class: ['tl-item', 'dh-item', `dh-${e.kind}`], dataset: { testid: 'deal-history-item', kind: e.kind } },
        h('span', { class: 'tl-icon', 'aria-hidden': 'true' }, e.kind === 'won' ? icon('check', { size: 14 }) : e.kind === 'lost' ? icon('x', { size: 14 }) : e.kind === 'created' ? icon('plus', { size: 14 }) : e.kind === 'reopened' ? xicon('undo', { size: 14 }) : icon('chevronRight', { size: 14 })),
        h('div', { class: 'tl-body' },
          h('div', { class: 'tl-head' }, h('span', null, ...text)),
          h('div', { class: 'tl-meta muted' }, at ? timeEl(at, { withTime: true }) : null, actor ? h('span', null, actorName(String(actor).includes(':') ? actor : `user:${actor}`)) : null)));
    });
    mount(body, bars,
      items.length ? h('ol', { class: 'timeline-list deal-history-list' }, items) : h('p', { class: 'muted' }, 'No stage changes yet.'));
    return card;
  }

  function render() {
    const d = state.deal;
    const stage = stageById(d.stage_id);
    pageTitle(d.title || 'Deal', 'Pipeline');
    const w = writable();
    const actions = w ? h('div', { class: 'record-actions deal-actions' },
      d.status === 'open' ? [
        h('button', { type: 'button', class: 'btn btn-success', dataset: { testid: 'deal-won' }, onclick: async (e) => {
          e.currentTarget.disabled = true;
          const r = await markWon(d, state.version, { onConflict: (l) => apply(l.deal, l.version) });
          if (r) apply(r.deal, r.version); else render();
        } }, icon('check', { size: 15 }), 'Won'),
        h('button', { type: 'button', class: 'btn btn-danger-quiet', dataset: { testid: 'deal-lost' }, onclick: async () => {
          const r = await markLost(d, state.version, { onConflict: (l) => apply(l.deal, l.version) });
          if (r) apply(r.deal, r.version);
        } }, icon('x', { size: 15 }), 'Lost'),
      ] : h('button', { type: 'button', class: 'btn', dataset: { testid: 'deal-reopen' }, onclick: async (e) => {
        e.currentTarget.disabled = true;
        const r = await reopen(d, state.version, { onConflict: (l) => apply(l.deal, l.version) });
        if (r) apply(r.deal, r.version); else render();
      } }, xicon('undo', { size: 15 }), 'Reopen'),
      h('button', { type: 'button', class: 'btn', dataset: { testid: 'deal-edit' }, 'aria-keyshortcuts': 'e', onclick: () => view.edit() },
        icon('pencil', { size: 15 }), h('span', { class: 'btn-label' }, 'Edit all'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'E')),
      h('button', { type: 'button', class: 'btn btn-danger-quiet', dataset: { testid: 'deal-delete' }, 'aria-label': 'Delete deal', title: 'Delete deal', onclick: (e) => remove(e.currentTarget) },
        icon('trash', { size: 15 }))) : null;

    const closedNote = d.status !== 'open' ? h('p', { class: ['deal-closed-note', `is-${d.status}`] },
      d.status === 'won' ? icon('check', { size: 15 }) : icon('x', { size: 15 }),
      `${d.status === 'won' ? 'Won' : 'Lost'}${d.closed_at ? ` on ${formatDay(String(d.closed_at).slice(0, 10))}` : ''}`,
      d.status === 'lost' && d.lost_reason ? ` · ${d.lost_reason}` : '', d.status === 'won' && d.won_reason ? ` · ${d.won_reason}` : '') : null;

    const stages = state.pipeline?.stages || [];
    const details = h('section', { class: 'card profile-card deal-details', 'aria-label': 'Details', dataset: { testid: 'deal-details' } },
      h('div', { class: 'profile-section' },
        h('h3', { class: 'profile-section-title' }, 'Deal'),
        h('dl', { class: 'props' },
          editableProp('title', 'Title', () => d.title, textEditor('title', { required: true, label: 'Title' })),
          editableProp('value', 'Value', () => h('span', null, moneyEl(d.value, d.currency),
            d.base_value != null && d.currency && state.base && d.currency !== state.base ? h('span', { class: 'muted' }, ` ≈ ${formatMoney(d.base_value, state.base)}`) : null,
            d.base_value === null && d.currency !== state.base ? h('span', { class: 'muted', title: 'No exchange rate for this currency yet' }, ' (not converted)') : null), valueEditor),
          editableProp('expected_close', 'Expected close', () => (d.expected_close ? h('span', { class: isOverdue(d) ? 'is-overdue-text' : null }, formatDay(d.expected_close), isOverdue(d) ? ' (past due)' : '') : null), dateEditor),
          editableProp('owner_id', 'Owner', () => ownerCell(d.owner_id), ownerEditor),
          editableProp('probability_override', 'Probability', () => h('span', null, `${d.probability ?? stage?.probability ?? 0}%`,
            h('span', { class: 'muted' }, d.status === 'won' ? ' (won)' : d.status === 'lost' ? ' (lost)' : d.probability_override != null ? ' (set for this deal)' : ' (from the stage)')), probabilityEditor),
          editableProp('priority', 'Priority', () => priorityLabel(d.priority), choiceEditor('priority', PRIORITIES.map((p) => [p, priorityLabel(p)]), 'Priority')),
          editableProp('source', 'Source', () => d.source, choiceEditor('source', [['', 'None'], ...[...new Set([...(d.source ? [d.source] : []), ...SOURCES])].map((s) => [s, s])], 'Source')),
          editableProp('next_step', 'Next step', () => (d.next_step ? h('span', { class: 'pre-wrap' }, d.next_step) : null), textEditor('next_step', { multiline: true, max: 500, label: 'Next step' })),
          editableProp('tags', 'Tags', () => (d.tags?.length ? tagChips(d.tags) : null), tagsEditor),
          d.status === 'lost' ? editableProp('lost_reason', 'Lost reason', () => d.lost_reason, reasonEditor('lost_reason', 'Lost')) : null,
          d.status === 'won' ? editableProp('won_reason', 'Won reason', () => d.won_reason, reasonEditor('won_reason', 'Won')) : null)),
      h('div', { class: 'profile-section' },
        h('h3', { class: 'profile-section-title' }, 'People'),
        h('dl', { class: 'props' },
          editableProp('contact_id', 'Contact', () => linkDisplay('contact'), linkEditor('contact')),
          editableProp('company_id', 'Company', () => linkDisplay('company'), linkEditor('company')))),
      h('p', { class: 'record-meta muted' }, 'Created ', timeEl(d.created_at, { withTime: true }), ' · updated ', timeEl(d.updated_at, { withTime: true }),
        h('br'), 'ID ', h('code', null, d.id), state.version != null ? ` · version ${state.version}` : null));

    mount(root,
      back(),
      h('header', { class: 'card record-header deal-header', dataset: { testid: 'deal-detail', id: d.id, status: d.status } },
        h('div', { class: 'record-heading' },
          h('h1', { class: 'page-title', tabindex: '-1', dataset: { testid: 'deal-title' } }, d.title || h('span', { class: 'muted fst-italic' }, 'Untitled deal')),
          h('p', { class: 'record-sub' },
            h('span', { class: 'deal-big-value num', dataset: { testid: 'deal-value' } }, d.value != null ? formatMoney(d.value, d.currency || 'EUR') : 'No value'),
            h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'),
            h('span', { dataset: { testid: 'deal-stage' } }, `${state.pipeline?.name ? `${state.pipeline.name} › ` : ''}${stage?.name || 'Unknown stage'}`)),
          h('div', { class: 'record-chips' }, statusBadge(d.status), staleBadge(d, stage),
            d.owner_id ? h('span', { class: 'header-owner', title: 'Owner' }, xicon('user', { size: 13 }), ownerCell(d.owner_id)) : null, closedNote)),
        actions),
      stages.length ? stageTrack() : null,
      h('div', { class: 'deal-grid' },
        h('div', { class: 'deal-col-main' }, details, lineItemsCard()),
        h('div', { class: 'deal-col-side' }, historyCard())));
  }

  async function loadHistory() {
    try {
      state.history = await papi.dealHistory(id, { signal: controller.signal });
      state.historyError = null;
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      state.historyError = err;
    }
    if (!state.destroyed && state.deal) {
      root.querySelector('[data-testid="deal-history"]')?.replaceWith(historyCard());
    }
  }

  async function refetch(showSkeleton = false) {
    if (showSkeleton) skeleton();
    try {
      const [{ deal, version }, pipelines, settings] = await Promise.all([
        papi.getDeal(id, { signal: controller.signal }),
        papi.pipelines().catch(() => []),
        papi.pipelineSettings().catch(() => null),
        session.whenLoaded(),
      ]);
      if (state.destroyed) return;
      state.pipelines = pipelines;
      state.base = settings?.base_currency || null;
      state.pipeline = pipelines.find((p) => p.id === deal.pipeline_id) || null;
      state.deal = deal;
      state.version = version;
      state.editing = null;
      render();
      if (showSkeleton) root.querySelector('h1')?.focus({ preventScroll: true });
      loadHistory();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (err.isNotFound) {
        pageTitle('Deal not found');
        mount(root, back(), emptyState({ testid: 'not-found', iconName: 'search', title: 'Deal not found',
          text: 'It may have been deleted, or the link is wrong.', actions: [h('a', { class: 'btn btn-primary', href: '/pipeline' }, 'Back to the pipeline')] }));
      } else if (!state.deal) {
        mount(root, back(), emptyState({ testid: 'error-state', iconName: 'alert', title: err.title || 'Could not load this deal',
          text: `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
          actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => refetch(true) }, 'Retry')] }));
        if (!err.handled) toastError(err, 'Could not load this deal');
      } else toastError(err, 'Could not refresh this deal');
    }
  }

  async function remove(button) {
    const d = state.deal;
    button.disabled = true;
    try {
      await papi.deleteDeal(d.id);
      navigate(d.pipeline_id ? `/pipeline/${encodeURIComponent(d.pipeline_id)}` : '/pipeline');
      let undone = false;
      const t = toast(`“${d.title || 'The deal'}” was deleted.`, {
        title: 'Deleted', timeout: 10000,
        action: { label: 'Undo', onClick: async () => {
          if (undone) return;
          undone = true;
          try { await papi.restoreDeal(d.id); toast('The deal is back.', { kind: 'success', title: 'Restored' }); navigate(`/deals/${encodeURIComponent(d.id)}`); } catch (err) { toastError(err, 'Could not restore'); }
        } },
      });
      t.el.querySelector('.toast-action')?.setAttribute('data-testid', 'undo-delete');
    } catch (err) {
      button.disabled = false;
      toastError(err, 'Could not delete the deal');
    }
  }

  const view = {
    kind: 'deal-page',
    id,
    edit() {
      if (!state.deal || !writable()) return;
      openDealForm({ deal: state.deal, version: state.version, onSaved: (deal, version) => { apply(deal, version); root.querySelector('h1')?.focus({ preventScroll: true }); } });
    },
    openCreate() {
      if (!writable()) return;
      const d = state.deal;
      openDealForm({ initial: { pipeline_id: d?.pipeline_id, contact_id: d?.contact_id, company_id: d?.company_id }, onSaved: (nd) => nd?.id && navigate(`/deals/${encodeURIComponent(nd.id)}`) });
    },
    destroy() {
      state.destroyed = true;
      controller.abort();
      cleanups.forEach((fn) => fn());
    },
  };

  cleanups.push(onUsers(() => { if (state.deal && !state.editing && !document.querySelector('dialog[open]')) render(); }));
  loadUsers();
  refetch(true);
  return view;
}
