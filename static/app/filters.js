// List filters: the JSON condition the API takes (`filter=`), split into what
// the filter bar shows — quick filters (stage or size "in", tag "has", "Owned
// by me") and a list of conditions from the "Add filter" builder joined by AND
// or OR — and put back together. The URL carries the API's JSON unchanged, so
// a bookmarked or shared view is exactly the query the server runs.

import { h, mount, icon } from './ui.js';
import {
  xicon, OPS, opLabel, opTakesValue, opTakesList, formatMoney, parseMoney, moneyToInput, formatDay,
  labelize, userName, knownUsers, meId, fieldCatalog, FIELD_GROUPS,
} from './records.js';

// ---------------------------------------------------------------------------
// Model

/**
 * state = { multi: string[], tag: string, mine: boolean, conds: Cond[], mode: 'and'|'or', extra: Node[] }
 * Cond  = { field, op, value? }
 * quick = { field: 'lifecycle_stage' | 'size', ... }
 */
export function emptyFilterState() {
  return { multi: [], tag: '', mine: false, conds: [], mode: 'and', extra: [] };
}

function isCond(n) { return n && typeof n === 'object' && typeof n.field === 'string' && typeof n.op === 'string'; }
function isGroup(n) { return n && typeof n === 'object' && (Array.isArray(n.and) || Array.isArray(n.or)); }

export function parseFilter(text, quick) {
  const st = emptyFilterState();
  if (!text) return st;
  let root;
  try { root = typeof text === 'string' ? JSON.parse(text) : text; } catch { return st; }
  if (!root || typeof root !== 'object') return st;

  const takeQuick = (c) => {
    if (c.field === quick.field && c.op === 'in' && Array.isArray(c.value) && !st.multi.length) { st.multi = c.value.map(String); return true; }
    if (c.field === 'tags' && c.op === 'has' && typeof c.value === 'string' && !st.tag) { st.tag = c.value; return true; }
    if (c.field === 'owner_id' && c.op === 'eq' && c.value && c.value === meId() && !st.mine) { st.mine = true; return true; }
    return false;
  };

  if (isCond(root)) {
    if (!takeQuick(root)) st.conds.push(root);
    return st;
  }
  if (Array.isArray(root.or)) {
    if (root.or.every(isCond)) { st.conds = root.or.slice(); st.mode = 'or'; } else st.extra.push(root);
    return st;
  }
  if (Array.isArray(root.and)) {
    let orGroupTaken = false;
    for (const n of root.and) {
      if (isCond(n)) {
        if (!takeQuick(n)) st.conds.push(n);
      } else if (isGroup(n) && Array.isArray(n.or) && n.or.every(isCond) && !orGroupTaken) {
        orGroupTaken = true;
        st.orGroup = n.or.slice();
      } else {
        st.extra.push(n);
      }
    }
    if (st.orGroup) {
      // An OR group next to plain builder conditions cannot be shown as one
      // list; keep the group as one opaque condition then.
      if (st.conds.length) st.extra.push({ or: st.orGroup });
      else { st.conds = st.orGroup; st.mode = 'or'; }
      delete st.orGroup;
    }
    return st;
  }
  st.extra.push(root);
  return st;
}

export function buildFilter(st, quick) {
  const parts = [];
  if (st.multi.length) parts.push({ field: quick.field, op: 'in', value: st.multi.slice() });
  if (st.tag) parts.push({ field: 'tags', op: 'has', value: st.tag });
  if (st.mine && meId()) parts.push({ field: 'owner_id', op: 'eq', value: meId() });
  if (st.conds.length) {
    if (st.mode === 'or' && st.conds.length > 1) parts.push({ or: st.conds.slice() });
    else parts.push(...st.conds);
  }
  parts.push(...st.extra);
  if (!parts.length) return null;
  if (parts.length === 1) {
    const only = parts[0];
    return only;
  }
  return { and: parts };
}

export function filterCount(st) {
  return (st.multi.length ? 1 : 0) + (st.tag ? 1 : 0) + (st.mine ? 1 : 0) + st.conds.length + st.extra.length;
}

// ---------------------------------------------------------------------------
// Describing a condition

function optionText(field, v) {
  if (field.kind === 'user') return v === meId() ? 'me' : userName(v);
  return field.optionLabel ? field.optionLabel(v) : String(v);
}

/** "-90d" → "90 days ago", "+7d" → "in 7 days", "now"; null when not a relative time. */
export function relativeText(value) {
  if (value === 'now') return 'now';
  const m = /^([+-])(\d+)([hdw])$/.exec(String(value ?? ''));
  if (!m) return null;
  const n = Number(m[2]);
  const unit = { h: 'hour', d: 'day', w: 'week' }[m[3]];
  const amount = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return m[1] === '-' ? `${amount} ago` : `in ${amount}`;
}

export function valueText(field, op, value) {
  if (!opTakesValue(op)) return '';
  const one = (v) => {
    if (v === null || v === undefined) return '—';
    if (field?.kind === 'time' && relativeText(v)) return relativeText(v);
    if (field?.kind === 'list') return field.optionLabel ? field.optionLabel(v) : String(v);
    if (field?.kind === 'money') return formatMoney(v, field.currency || 'EUR');
    if (field?.kind === 'number' && Number.isFinite(Number(v))) return new Intl.NumberFormat().format(Number(v));
    if (field?.kind === 'checkbox') return v ? 'checked' : 'not checked';
    if (field?.kind === 'time' || field?.kind === 'date') return formatDay(v);
    if (field?.kind === 'choice' || field?.kind === 'user') return optionText(field, v);
    return `“${v}”`;
  };
  if (op === 'between' && Array.isArray(value)) return `${one(value[0])} and ${one(value[1])}`;
  if (Array.isArray(value)) return value.map(one).join(', ');
  return one(value);
}

/** A whole filter (conditions and nested groups) in words, for summaries. */
export function describeFilter(node, catalog, { nested = false } = {}) {
  if (!node || typeof node !== 'object') return '';
  if (isCond(node)) return describeCond(node, catalog);
  const join = Array.isArray(node.and) ? 'and' : Array.isArray(node.or) ? 'or' : null;
  if (!join) return '';
  const parts = node[join].map((n) => describeFilter(n, catalog, { nested: true })).filter(Boolean);
  const text = parts.join(` ${join} `);
  return nested && parts.length > 1 ? `(${text})` : text;
}

export function describeCond(cond, catalog) {
  const field = catalog.find((f) => f.key === cond.field) || { key: cond.field, label: labelize(cond.field.replace(/^custom\./, '')), kind: 'text' };
  if (field.kind === 'checkbox' && cond.op === 'eq') return `${field.label} is ${cond.value ? 'checked' : 'not checked'}`;
  const rel = field.kind === 'time' ? relativeDays(cond.value) : null;
  if (rel != null && cond.op === 'gte') return `${field.label} in the last ${rel} ${rel === 1 ? 'day' : 'days'}`;
  if (rel != null && cond.op === 'lt') return `${field.label} more than ${rel} ${rel === 1 ? 'day' : 'days'} ago`;
  const v = valueText(field, cond.op, cond.value);
  return `${field.label} ${opLabel(cond.op, field.kind)}${v ? ` ${v}` : ''}`;
}

// ---------------------------------------------------------------------------
// Operators and value inputs, shared by the filter bar's "Add filter" form and
// the segment rule builder. Times get two relative operators on top of the
// API's own, which are only a way of writing a condition:
//   within  "in the last N days"    → {op: "gte", value: "-Nd"}
//   ago     "more than N days ago"  → {op: "lt",  value: "-Nd"}

const RELATIVE_OPS = { within: 'gte', ago: 'lt' };

/** "-90d" → 90, "-2w" → 14; null for anything else. */
export function relativeDays(value) {
  const m = /^-(\d+)([dw])$/.exec(String(value ?? ''));
  if (!m) return null;
  return Number(m[1]) * (m[2] === 'w' ? 7 : 1);
}

/** The operators a field offers, relative ones included. */
export function opsFor(field) {
  const kind = field?.kind || 'text';
  // The server also takes empty / not_empty here (never happened, no value).
  if (kind === 'time') return ['within', 'ago', 'lt', 'lte', 'gt', 'gte', 'on', 'between', 'empty', 'not_empty'];
  if (kind === 'date') return [...OPS.date, 'empty', 'not_empty'];
  if ((kind === 'number' || kind === 'money') && field.custom) return [...OPS[kind], 'empty', 'not_empty'];
  return OPS[kind] || OPS.text;
}

export function uiOpLabel(op, kind) {
  if (op === 'within') return 'in the last …';
  if (op === 'ago') return 'more than … ago';
  return opLabel(op, kind);
}

/** An API condition → the operator and value the inputs show. */
export function fromCondition(cond, field) {
  const op = cond?.op;
  if (field?.kind === 'time' && relativeDays(cond.value) != null) {
    if (op === 'gte') return { op: 'within', value: cond.value };
    if (op === 'lt') return { op: 'ago', value: cond.value };
  }
  return { op, value: cond?.value };
}

/** What the inputs show → an API condition. */
export function toCondition(field, op, value) {
  const apiOp = RELATIVE_OPS[op] || op;
  if (!opTakesValue(apiOp)) return { field: field.key, op: apiOp };
  return { field: field.key, op: apiOp, value };
}

function userOptions() {
  const ids = new Set([...knownUsers().keys()]);
  if (meId()) ids.add(meId());
  const me = meId();
  return [...ids].sort((a, b) => (a === me ? -1 : b === me ? 1 : userName(a).localeCompare(userName(b))));
}

const isDay = (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);

/**
 * The value input(s) for one field and operator.
 *   valueEditor({ field, op, initial, tags, lists, idPrefix, testid, onInput })
 * tags: [{tag, count}]; lists: [{id, name}] (static lists, for `lists`).
 * → { el (null when the operator takes no value), read() → value | Error, focus() }
 * `read()` answers the API value ("-90d" for the relative operators), or an
 * Error saying what is missing.
 */
export function valueEditor({ field, op, initial, tags = [], lists = [], idPrefix = 'fv', testid = 'filter-value', onInput, disabled = false }) {
  const changed = () => onInput?.();
  const none = { el: null, read: () => undefined, focus: () => {} };
  if (!opTakesValue(RELATIVE_OPS[op] || op)) return none;
  const kind = field?.kind || 'text';
  const on = (el) => { el.addEventListener('input', changed); el.addEventListener('change', changed); if (disabled) el.disabled = true; return el; };
  const first = (el) => ({ focus: () => (el.querySelector?.('input, select') || el).focus() });

  // Relative times: a number of days.
  if (op === 'within' || op === 'ago') {
    const days = relativeDays(initial);
    const input = on(h('input', {
      type: 'number', inputmode: 'numeric', min: 1, max: 36500, step: 1, class: 'input-sm fv-days', id: `${idPrefix}-days`,
      'aria-label': op === 'within' ? 'Number of days (in the last)' : 'Number of days ago', dataset: { testid },
      value: days != null ? String(days) : '', placeholder: '90',
    }));
    const el = h('span', { class: 'fv-inline' }, input, h('span', { class: 'muted fv-unit' }, op === 'within' ? 'days' : 'days ago'));
    return {
      el,
      read: () => {
        const n = Number(input.value);
        if (input.value.trim() === '' || !Number.isInteger(n) || n < 1) return new Error('Enter a number of days');
        // Unchanged: keep the value as it was written ("-2w" stays "-2w").
        return n === days ? initial : `-${n}d`;
      },
      focus: () => input.focus(),
    };
  }

  const options = kind === 'user' ? userOptions()
    : kind === 'tags' ? tags.map((t) => t.tag)
      : kind === 'list' ? lists.map((l) => l.id)
        : field.options || [];
  const labelFor = (v) => (kind === 'user' ? (v === meId() ? `Me (${userName(v)})` : userName(v))
    : kind === 'list' ? (lists.find((l) => l.id === v)?.name || `Unknown list (${v})`)
      : field.optionLabel ? field.optionLabel(v) : String(v));

  if (opTakesList(op) && (options.length || kind === 'choice' || kind === 'user')) {
    const chosen = new Set(Array.isArray(initial) ? initial.map(String) : []);
    const all = [...options, ...[...chosen].filter((v) => !options.map(String).includes(v))];
    const box = h('fieldset', { class: 'fb-checks', dataset: { testid } },
      h('legend', { class: 'visually-hidden' }, 'Values'),
      all.map((v, i) => h('label', { class: 'check-row', for: `${idPrefix}-v-${i}` },
        on(h('input', { type: 'checkbox', id: `${idPrefix}-v-${i}`, value: v, checked: chosen.has(String(v)) })), h('span', null, labelFor(v)))));
    return {
      el: box,
      read: () => {
        const vals = [...box.querySelectorAll('input:checked')].map((x) => x.value);
        return vals.length ? vals : new Error('Choose at least one value');
      },
      ...first(box),
    };
  }

  // One value from a known set: choices, users, multi-select options, tags, lists.
  if (kind === 'choice' || kind === 'user' || kind === 'multi' || kind === 'list' || (kind === 'tags' && options.length)) {
    const known = options.map(String);
    const extra = initial != null && initial !== '' && !known.includes(String(initial)) ? [String(initial)] : [];
    const placeholder = kind === 'list' ? (options.length || extra.length ? 'Choose a list…' : 'No static lists yet')
      : kind === 'tags' ? 'Choose a tag…' : null;
    const sel = on(h('select', { class: 'select-sm', id: `${idPrefix}-value`, 'aria-label': kind === 'list' ? 'List' : kind === 'tags' ? 'Tag' : 'Value', dataset: { testid } },
      placeholder ? h('option', { value: '', selected: initial == null || initial === '' }, placeholder) : null,
      [...options, ...extra].map((v) => h('option', { value: v, selected: String(v) === String(initial ?? '') }, labelFor(v)))));
    if (kind === 'list' && !options.length && !extra.length) sel.disabled = true;
    return {
      el: sel,
      read: () => sel.value || new Error(kind === 'list' ? (options.length ? 'Choose a list' : 'Make a static list first') : kind === 'tags' ? 'Choose a tag' : 'Choose a value'),
      focus: () => sel.focus(),
    };
  }
  if (kind === 'checkbox') {
    const sel = on(h('select', { class: 'select-sm', id: `${idPrefix}-value`, 'aria-label': 'Value', dataset: { testid } },
      h('option', { value: 'true', selected: initial !== false }, 'Checked'),
      h('option', { value: 'false', selected: initial === false }, 'Not checked')));
    return { el: sel, read: () => sel.value === 'true', focus: () => sel.focus() };
  }
  if (kind === 'time' || kind === 'date') {
    // A date picker; a value it cannot show (a relative time such as "+7d",
    // "now", a full timestamp) stays as typed text, so nothing is lost.
    const one = (v, label, tid) => (v == null || v === '' || isDay(v)
      ? on(h('input', { type: 'date', class: 'input-sm', 'aria-label': label, dataset: { testid: tid }, value: v || '' }))
      : on(h('input', { type: 'text', class: 'input-sm', 'aria-label': `${label} (date or relative time such as -30d)`, dataset: { testid: tid }, value: String(v) })));
    if (op === 'between') {
      const a = one(Array.isArray(initial) ? initial[0] : null, 'From', testid);
      const b = one(Array.isArray(initial) ? initial[1] : null, 'To', `${testid}-to`);
      const el = h('div', { class: 'fb-range' }, a, h('span', { class: 'muted' }, 'and'), b);
      return { el, read: () => (a.value.trim() && b.value.trim() ? [a.value.trim(), b.value.trim()] : new Error('Choose both dates')), focus: () => a.focus() };
    }
    const a = one(Array.isArray(initial) ? null : initial, 'Date', testid);
    return { el: a, read: () => a.value.trim() || new Error('Choose a date'), focus: () => a.focus() };
  }
  if (kind === 'number' || kind === 'money') {
    const money = kind === 'money';
    const cur = field.currency || 'EUR';
    const input = on(h('input', {
      type: money ? 'text' : 'number', inputmode: 'decimal', step: 'any', class: 'input-sm', id: `${idPrefix}-value`,
      'aria-label': money ? `Amount in ${cur}` : 'Number',
      dataset: { testid }, value: initial == null ? '' : money ? moneyToInput(initial, cur) : String(initial),
      placeholder: money ? `Amount (${cur})` : '',
    }));
    const el = money ? h('span', { class: 'fv-inline' }, input, h('span', { class: 'muted fv-unit' }, cur)) : input;
    return {
      el,
      read: () => {
        if (input.value.trim() === '') return new Error(money ? 'Enter an amount' : 'Enter a number');
        const n = money ? parseMoney(input.value, cur) : Number(input.value);
        return Number.isFinite(n) ? n : new Error(money ? 'Enter an amount' : 'Enter a number');
      },
      focus: () => input.focus(),
    };
  }
  if (field?.unknown) {
    // A field this app does not know (kept as it came): the raw JSON value.
    const input = on(h('input', { type: 'text', class: 'input-sm', 'aria-label': 'Value', dataset: { testid }, value: typeof initial === 'string' ? initial : JSON.stringify(initial ?? '') }));
    return {
      el: input,
      read: () => { const t = input.value.trim(); if (!t) return new Error('Enter a value'); try { return typeof initial === 'string' ? t : JSON.parse(t); } catch { return t; } },
      focus: () => input.focus(),
    };
  }
  // text (and tags when none are in use yet)
  const input = on(h('input', {
    type: 'text', class: 'input-sm', id: `${idPrefix}-value`, 'aria-label': kind === 'tags' ? 'Tag' : 'Value', dataset: { testid }, autocomplete: 'off',
    value: Array.isArray(initial) ? initial.join(', ') : initial ?? '',
    placeholder: opTakesList(op) ? 'Values, separated by commas' : kind === 'tags' ? 'Tag' : 'Value',
  }));
  return {
    el: input,
    read: () => {
      if (opTakesList(op)) {
        const vals = input.value.split(',').map((x) => x.trim()).filter(Boolean);
        return vals.length ? vals : new Error('Enter at least one value');
      }
      const v = input.value.trim();
      return v || new Error('Enter a value');
    },
    focus: () => input.focus(),
  };
}

/** <optgroup>s of fields by their group (FIELD_GROUPS order), for field pickers. */
export function fieldOptions(fields, selectedKey) {
  const groups = new Map();
  for (const f of fields) {
    const g = f.group || (f.custom ? 'Custom fields' : 'Fields');
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(f);
  }
  const rank = (g) => { const i = FIELD_GROUPS.indexOf(g); return i < 0 ? (g === 'Other' ? 99 : -1) : i; };
  return [...groups.entries()].sort((a, b) => rank(a[0]) - rank(b[0])).map(([g, list]) => h('optgroup', { label: g },
    list.map((f) => h('option', { value: f.key, selected: f.key === selectedKey }, f.label))));
}

// ---------------------------------------------------------------------------
// Popover: a button that opens a panel below it. Esc or a click outside closes.

let openPopover = null;

export function popover({ button, panel, onOpen, onClose, align = 'start', testid }) {
  const wrap = h('div', { class: 'popover-wrap', dataset: { testid } }, button, panel);
  panel.classList.add('popover-panel', `popover-${align}`);
  panel.hidden = true;
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-haspopup', 'true');

  function close({ focus = false } = {}) {
    if (panel.hidden) return;
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('mousedown', outside, true);
    document.removeEventListener('keydown', onKey, true);
    if (openPopover === api) openPopover = null;
    onClose?.();
    if (focus) button.focus();
  }
  function open() {
    if (openPopover && openPopover !== api) openPopover.close();
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('mousedown', outside, true);
    document.addEventListener('keydown', onKey, true);
    openPopover = api;
    onOpen?.();
    // Keep the panel on screen on narrow windows.
    panel.style.removeProperty('--shift');
    const r = panel.getBoundingClientRect();
    if (r.right > window.innerWidth - 8) panel.style.setProperty('--shift', `${Math.round(window.innerWidth - 8 - r.right)}px`);
    else if (r.left < 8) panel.style.setProperty('--shift', `${Math.round(8 - r.left)}px`);
    (panel.querySelector('[data-autofocus]') || panel.querySelector('input, select, button, textarea'))?.focus();
  }
  function outside(e) { if (!wrap.contains(e.target)) close(); }
  // Esc closes the panel wherever the focus is (a tap may not move focus into it).
  function onKey(e) {
    if (e.key !== 'Escape' || panel.hidden || document.querySelector('dialog[open]')) return;
    e.preventDefault();
    e.stopPropagation();
    close({ focus: wrap.contains(document.activeElement) });
  }
  button.addEventListener('click', () => (panel.hidden ? open() : close()));
  const api = { wrap, open, close, get isOpen() { return !panel.hidden; } };
  return api;
}

// ---------------------------------------------------------------------------
// Filter bar

/**
 * filterBar({ entity, quick, catalog, tags, state, q, onChange, onClearQuery, onSaveAsSegment, canSaveAsSegment })
 * quick = { field, label, options, optionLabel, testid, optionTestid, render? }
 * onSaveAsSegment() (optional): offers "Save as segment" while filters are
 * set and canSaveAsSegment() (optional) agrees.
 * → { el, update({ state, catalog, tags, q }) }
 */
export function filterBar({ quick, onChange, onClearQuery, onSaveAsSegment, canSaveAsSegment = () => true }) {
  let st = emptyFilterState();
  let catalog = [];
  let tagList = [];
  let q = '';

  const el = h('div', { class: 'filter-row', role: 'group', 'aria-label': 'Filters' });
  const emit = () => onChange({ ...st, multi: st.multi.slice(), conds: st.conds.slice(), extra: st.extra.slice() });

  // --- quick: stage / size multi-select --------------------------------------
  const multiLabel = h('span', { class: 'qf-label' });
  const multiButton = h('button', { type: 'button', class: 'btn btn-sm qf-button' }, xicon('filter', { size: 14 }), multiLabel, icon('chevronDown', { size: 14 }));
  const multiList = h('div', { class: 'qf-options', role: 'group', 'aria-label': quick.label });
  const multiPanel = h('div', { class: 'qf-panel' }, multiList,
    h('div', { class: 'qf-panel-foot' },
      h('button', { type: 'button', class: 'link-button', onclick: () => { st.multi = []; emit(); renderMulti(); } }, 'Clear')));
  const multi = popover({ button: multiButton, panel: multiPanel, testid: quick.testid });

  function renderMulti() {
    const chosen = st.multi;
    renderMultiLabel();
    mount(multiList, quick.options.map((v) => {
      const id = `qf-${quick.field}-${v}`.replace(/[^\w-]/g, '_');
      return h('label', { class: 'check-row', for: id },
        h('input', {
          type: 'checkbox', id, value: v, checked: chosen.includes(v), dataset: { testid: `${quick.optionTestid}-${v}` },
          onchange: (e) => {
            const set = new Set(st.multi);
            if (e.target.checked) set.add(v); else set.delete(v);
            st.multi = quick.options.filter((o) => set.has(o));
            emit();
            renderMultiLabel();
          },
        }),
        quick.render ? quick.render(v) : h('span', null, (quick.optionLabel || String)(v)));
    }));
  }
  function renderMultiLabel() {
    const chosen = st.multi;
    multiLabel.textContent = chosen.length
      ? `${quick.label}: ${chosen.length <= 2 ? chosen.map((v) => (quick.optionLabel || String)(v)).join(', ') : `${chosen.length} selected`}`
      : quick.label;
    multiButton.classList.toggle('is-active', chosen.length > 0);
  }

  // --- quick: tag ---------------------------------------------------------------
  const tagSelect = h('select', {
    class: 'select-sm qf-select', 'aria-label': 'Tag', dataset: { testid: 'tag-filter' },
    onchange: (e) => { st.tag = e.target.value; emit(); tagSelect.classList.toggle('is-active', !!st.tag); },
  });
  function renderTags() {
    const names = tagList.map((t) => t.tag);
    if (st.tag && !names.includes(st.tag)) names.unshift(st.tag);
    mount(tagSelect,
      h('option', { value: '' }, 'Any tag'),
      names.map((t) => {
        const n = tagList.find((x) => x.tag === t)?.count;
        return h('option', { value: t, selected: t === st.tag }, n != null ? `${t} (${n})` : t);
      }));
    tagSelect.value = st.tag || '';
    tagSelect.classList.toggle('is-active', !!st.tag);
  }

  // --- quick: owned by me -------------------------------------------------------
  const mineButton = h('button', {
    type: 'button', class: 'btn btn-sm qf-toggle', 'aria-pressed': 'false', dataset: { testid: 'mine-filter' },
    onclick: () => { st.mine = !st.mine; mineButton.setAttribute('aria-pressed', String(st.mine)); emit(); },
  }, xicon('user', { size: 14 }), 'Owned by me');

  // --- builder ------------------------------------------------------------------
  const addButton = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'filter-add' } }, icon('plus', { size: 14 }), 'Add filter');
  const builderPanel = h('div', { class: 'filter-builder' });
  const builder = popover({
    button: addButton, panel: builderPanel, testid: 'filter-builder',
    onOpen: () => { if (!builderPanel.dataset.editing) renderBuilder(null); },
    onClose: () => { delete builderPanel.dataset.editing; },
  });

  const chipList = h('div', { class: 'filter-chips' });
  const modeToggle = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Match', dataset: { testid: 'filter-mode' } });
  const clearAll = h('button', { type: 'button', class: 'link-button filter-clear-all', dataset: { testid: 'filter-clear' }, onclick: () => {
    st = emptyFilterState();
    q && onClearQuery?.();
    emit();
    render();
  } }, 'Clear all');
  const saveSegment = onSaveAsSegment ? h('button', {
    type: 'button', class: 'link-button filter-save-segment', dataset: { testid: 'save-as-segment' }, hidden: true,
    title: 'Keep these filters as a dynamic segment for campaigns',
    onclick: () => onSaveAsSegment(),
  }, xicon('bookmark', { size: 14 }), 'Save as segment') : null;

  function renderModeToggle() {
    modeToggle.hidden = st.conds.length < 2;
    mount(modeToggle,
      h('span', { class: 'segmented-label muted' }, 'Match'),
      [['and', 'all'], ['or', 'any']].map(([m, label]) => h('button', {
        type: 'button', class: 'segmented-btn', 'aria-pressed': String(st.mode === m), dataset: { mode: m },
        title: m === 'and' ? 'Show records matching all of these conditions (AND)' : 'Show records matching any of these conditions (OR)',
        onclick: () => { if (st.mode !== m) { st.mode = m; emit(); renderModeToggle(); renderChips(); } },
      }, label === 'all' ? 'All (AND)' : 'Any (OR)')));
  }

  function renderChips() {
    const chips = [];
    if (q) {
      chips.push(h('span', { class: 'filter-chip filter-chip-q', dataset: { testid: 'query-chip' } },
        icon('search', { size: 13 }), h('span', { class: 'truncate' }, `“${q}”`),
        h('button', { type: 'button', class: 'chip-x', 'aria-label': `Clear search ${q}`, onclick: () => onClearQuery?.() }, icon('x', { size: 13 }))));
    }
    st.conds.forEach((c, i) => {
      const text = describeCond(c, catalog);
      if (i > 0) chips.push(h('span', { class: 'filter-joiner', 'aria-hidden': 'true' }, st.mode === 'or' ? 'or' : 'and'));
      chips.push(h('span', { class: 'filter-chip', dataset: { testid: 'filter-chip', field: c.field, op: c.op } },
        h('button', { type: 'button', class: 'chip-body', title: `Edit: ${text}`, onclick: () => editCond(i) }, h('span', { class: 'truncate' }, text)),
        h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove filter: ${text}`, dataset: { testid: 'filter-chip-remove' }, onclick: () => {
          st.conds.splice(i, 1); emit(); render();
        } }, icon('x', { size: 13 }))));
    });
    st.extra.forEach((n, i) => {
      chips.push(h('span', { class: 'filter-chip filter-chip-extra', dataset: { testid: 'filter-chip' }, title: JSON.stringify(n) },
        h('span', { class: 'chip-body' }, h('span', { class: 'truncate' }, 'Advanced condition')),
        h('button', { type: 'button', class: 'chip-x', 'aria-label': 'Remove advanced condition', onclick: () => { st.extra.splice(i, 1); emit(); render(); } }, icon('x', { size: 13 }))));
    });
    mount(chipList, chips);
    chipList.hidden = !chips.length;
    clearAll.hidden = filterCount(st) === 0 && !q;
    if (saveSegment) saveSegment.hidden = filterCount(st) === 0 || !canSaveAsSegment();
  }

  function editCond(i) {
    builderPanel.dataset.editing = String(i);
    renderBuilder(i);
    builder.open();
  }

  /** The builder form; `index` is the condition being edited, or null for a new one. */
  function renderBuilder(index) {
    const editing = index != null ? st.conds[index] : null;
    const filterable = catalog.filter((f) => f.kind);
    let field = filterable.find((f) => f.key === editing?.field) || filterable[0];
    if (!field) { mount(builderPanel, h('p', { class: 'muted' }, 'Nothing to filter on.')); return; }
    // The operator and value as the inputs show them ("in the last 30 days").
    const shown = editing ? fromCondition(editing, field) : null;

    const fieldSelect = h('select', { class: 'select-sm', id: 'fb-field', 'aria-label': 'Field', dataset: { testid: 'filter-field', autofocus: '' } },
      fieldOptions(filterable, field.key));
    const opSelect = h('select', { class: 'select-sm', id: 'fb-op', 'aria-label': 'Condition', dataset: { testid: 'filter-op' } });
    const valueSlot = h('div', { class: 'fb-value' });
    const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
    const apply = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', dataset: { testid: 'filter-apply' } }, editing ? 'Update filter' : 'Apply filter');
    let readValue = () => undefined;

    function renderOps(selected) {
      const ops = opsFor(field);
      const op = ops.includes(selected) ? selected : ops[0];
      mount(opSelect, ops.map((o) => h('option', { value: o, selected: o === op }, uiOpLabel(o, field.kind))));
      opSelect.value = op;
      renderValue(op, shown && editing.field === field.key && shown.op === op ? shown.value : undefined);
    }

    function renderValue(op, initial) {
      error.hidden = true;
      valueSlot.replaceChildren();
      const editor = valueEditor({ field, op, initial, tags: tagList, idPrefix: 'fb', testid: 'filter-value' });
      if (editor.el) valueSlot.append(editor.el);
      readValue = editor.read;
    }

    fieldSelect.addEventListener('change', () => {
      field = filterable.find((f) => f.key === fieldSelect.value) || filterable[0];
      renderOps(opSelect.value);
    });
    opSelect.addEventListener('change', () => renderValue(opSelect.value));

    const form = h('form', { class: 'fb-form', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const op = opSelect.value;
      const v = readValue();
      if (v instanceof Error) {
        error.hidden = false;
        mount(error, icon('alert', { size: 14 }), h('span', null, v.message));
        valueSlot.querySelector('input, select')?.focus();
        return;
      }
      const cond = toCondition(field, op, v);
      if (index != null) st.conds[index] = cond; else st.conds.push(cond);
      delete builderPanel.dataset.editing;
      builder.close({ focus: true });
      emit();
      render();
    } },
    h('div', { class: 'fb-title' }, editing ? 'Edit filter' : 'Add a filter'),
    h('div', { class: 'fb-grid' },
      h('label', { class: 'fb-label', for: 'fb-field' }, 'Field'), fieldSelect,
      h('label', { class: 'fb-label', for: 'fb-op' }, 'Condition'), opSelect,
      h('span', { class: 'fb-label' }, 'Value'), valueSlot),
    error,
    h('div', { class: 'fb-actions' },
      h('button', { type: 'button', class: 'btn btn-sm', onclick: () => builder.close({ focus: true }) }, 'Cancel'),
      apply));
    mount(builderPanel, form);
    renderOps(shown?.op);
  }

  function render() {
    renderMulti();
    renderTags();
    mineButton.setAttribute('aria-pressed', String(st.mine));
    mineButton.hidden = !meId();
    renderChips();
    renderModeToggle();
  }

  mount(el,
    h('div', { class: 'filter-quick' }, multi.wrap, tagSelect, mineButton, builder.wrap),
    chipList, modeToggle, clearAll, saveSegment);

  return {
    el,
    update(next) {
      if (next.state) st = next.state;
      if (next.catalog) catalog = next.catalog;
      if (next.tags) tagList = next.tags;
      if (next.q !== undefined) q = next.q;
      render();
    },
    openBuilder() { builder.open(); },
  };
}

export { describeCond as describeCondition };

// ---------------------------------------------------------------------------
// Rule builder: a filter as nested AND/OR groups of rules, edited in place
// (Campaigns › Segments). Each row picks a field (grouped: contact, address,
// consent, activity, deals, orders, lists, custom fields), an operator for
// its kind and a value, with the same inputs as the filter bar above.

/** Every contact field a rule may use: the contacts catalogue plus static lists. */
export function ruleCatalog(defs = [], { currency = 'EUR', lists = [] } = {}) {
  const fields = fieldCatalog('contact', defs, { currency }).filter((f) => f.kind);
  fields.push({
    key: 'lists', label: 'Static lists', kind: 'list', group: 'Lists',
    optionLabel: (id) => lists.find((l) => l.id === id)?.name || 'an unknown list',
  });
  return fields;
}

const shapeOf = (op) => (!opTakesValue(RELATIVE_OPS[op] || op) ? 'none' : opTakesList(op) ? 'list' : op === 'between' ? 'pair' : RELATIVE_OPS[op] ? 'rel' : 'one');

/** The operator a new rule on this field starts with. */
function defaultOp(field) {
  const ops = opsFor(field);
  const pick = { text: 'contains', number: 'gte', money: 'gte', time: 'within' }[field.kind];
  return ops.includes(pick) ? pick : ops[0];
}

let ruleUid = 0;

/**
 * ruleBuilder({ catalog, tags, lists, onChange, readOnly, maxDepth })
 * → {
 *   el, setFilter(apiFilter), read() → { filter, problems: [{ id, message, label }] },
 *   showProblems(problems), focusFirst(), isEmpty()
 * }
 * Groups nest `maxDepth` levels (the root is level 1); the server takes 5.
 */
export function ruleBuilder({ catalog = [], tags = [], lists = [], onChange, readOnly = false, maxDepth = 3 }) {
  const group = (join, children = []) => ({ id: `rg${++ruleUid}`, type: 'group', join, children });
  const rule = (field = '', op = '', value) => ({ id: `rr${++ruleUid}`, type: 'rule', field, op, value });
  let root = group('and');
  const editors = new Map();
  const el = h('div', { class: 'rb', dataset: { testid: 'rule-builder' } });
  const changed = () => onChange?.();

  function fieldOf(key) {
    if (!key) return null;
    return catalog.find((f) => f.key === key)
      || { key, label: labelize(String(key).replace(/^custom\./, '')), kind: 'text', group: 'Other', unknown: true };
  }

  // --- API filter <-> tree --------------------------------------------------------
  function fromFilter(node) {
    if (isCond(node)) {
      const ui = fromCondition(node, fieldOf(node.field));
      return rule(node.field, ui.op, ui.value);
    }
    if (isGroup(node)) {
      const join = Array.isArray(node.and) ? 'and' : 'or';
      return group(join, node[join].map(fromFilter).filter(Boolean));
    }
    return null;
  }

  function read() {
    const problems = [];
    const walk = (node, isRoot) => {
      if (node.type === 'rule') {
        const field = fieldOf(node.field);
        if (!field) { problems.push({ id: node.id, message: 'Choose a field', label: 'New rule' }); return null; }
        const editor = editors.get(node.id);
        const v = editor ? editor.read() : node.value;
        if (v instanceof Error) { problems.push({ id: node.id, message: v.message, label: field.label }); return null; }
        return toCondition(field, node.op, v);
      }
      if (!node.children.length) {
        problems.push({ id: node.id, message: isRoot ? 'Add a rule' : 'Add a rule to the group, or remove it', label: isRoot ? '' : 'Group' });
        return null;
      }
      const kids = node.children.map((c) => walk(c, false));
      return { [node.join]: kids };
    };
    const out = walk(root, true);
    if (problems.length) return { filter: null, problems };
    // One rule alone is sent as a plain condition.
    if (root.children.length === 1 && root.children[0].type === 'rule') return { filter: out[root.join][0], problems };
    return { filter: out, problems };
  }

  // --- changes ----------------------------------------------------------------------
  function parentOf(id, node = root) {
    if (node.type !== 'group') return null;
    for (const c of node.children) {
      if (c.id === id) return node;
      const p = parentOf(id, c);
      if (p) return p;
    }
    return null;
  }

  function addRule(g) {
    const r = rule();
    g.children.push(r);
    render({ id: r.id, part: 'field' });
    changed();
  }
  function addGroup(g) {
    const r = rule();
    const sub = group(g.join === 'and' ? 'or' : 'and', [r]);
    g.children.push(sub);
    render({ id: r.id, part: 'field' });
    changed();
  }
  function removeNode(id) {
    let p = parentOf(id);
    if (!p) return;
    let i = p.children.findIndex((c) => c.id === id);
    p.children.splice(i, 1);
    // A group left empty goes too.
    while (p !== root && !p.children.length) {
      const pp = parentOf(p.id);
      i = pp.children.findIndex((c) => c.id === p.id);
      pp.children.splice(i, 1);
      p = pp;
    }
    const next = p.children[Math.min(i, p.children.length - 1)];
    const firstRule = (n) => (n?.type === 'rule' ? n : n?.children?.length ? firstRule(n.children[0]) : null);
    const target = firstRule(next);
    render(target ? { id: target.id, part: 'field' } : { id: p.id, part: 'add-rule' });
    changed();
  }

  // --- rendering ----------------------------------------------------------------------
  function render(focus) {
    editors.clear();
    mount(el, groupEl(root, 1, null));
    if (focus) {
      const target = el.querySelector(`[data-node="${focus.id}"][data-part="${focus.part}"]`);
      if (target) target.focus();
      else if (focus.part === 'value') el.querySelector(`[data-testid="rule-row"][data-node="${focus.id}"] .rb-value :is(input, select)`)?.focus();
    }
  }

  function groupEl(g, depth, parent) {
    const isRoot = !parent;
    const joinId = `${g.id}-join`;
    const joinSel = h('select', {
      class: 'select-sm rb-join', id: joinId, disabled: readOnly, dataset: { testid: 'group-join', node: g.id, part: 'join' },
      onchange: (e) => { g.join = e.target.value === 'or' ? 'or' : 'and'; render({ id: g.id, part: 'join' }); changed(); },
    },
    h('option', { value: 'and', selected: g.join === 'and' }, 'all'),
    h('option', { value: 'or', selected: g.join === 'or' }, 'any'));
    const head = h('div', { class: 'rb-group-head' },
      h('label', { for: joinId, class: 'rb-join-label' }, isRoot ? 'Contacts who match' : 'Match'),
      joinSel,
      h('span', { class: 'rb-join-tail' }, isRoot ? 'of these rules' : 'of these rules'),
      !isRoot && !readOnly ? h('button', {
        type: 'button', class: 'btn btn-sm btn-danger-quiet rb-remove-group', dataset: { testid: 'remove-group' },
        onclick: () => removeNode(g.id),
      }, icon('trash', { size: 14 }), h('span', { class: 'btn-label' }, 'Remove group')) : null);
    const items = [];
    g.children.forEach((c, i) => {
      if (i > 0) items.push(h('li', { class: 'rb-joiner', 'aria-hidden': 'true' }, h('span', null, g.join === 'or' ? 'or' : 'and')));
      items.push(h('li', { class: 'rb-item' }, c.type === 'group' ? groupEl(c, depth + 1, g) : ruleEl(c)));
    });
    const foot = readOnly ? null : h('div', { class: 'rb-group-foot' },
      h('button', {
        type: 'button', class: 'btn btn-sm', dataset: { testid: 'add-rule', node: g.id, part: 'add-rule' }, onclick: () => addRule(g),
      }, icon('plus', { size: 14 }), 'Add rule'),
      depth < maxDepth ? h('button', {
        type: 'button', class: 'btn btn-sm', dataset: { testid: 'add-group', node: g.id, part: 'add-group' }, onclick: () => addGroup(g),
        title: isRoot ? 'A group of rules joined the other way, e.g. (this or that)' : 'A group inside this group',
      }, icon('plus', { size: 14 }), 'Add group') : null);
    return h('div', {
      class: ['rb-group', isRoot ? 'rb-root' : 'rb-sub'], role: 'group',
      'aria-label': `${isRoot ? 'Rules' : 'Group'}: match ${g.join === 'or' ? 'any' : 'all'}`,
      dataset: { testid: isRoot ? 'rule-root' : 'rule-group', node: g.id, join: g.join },
    },
    head,
    g.children.length ? h('ul', { class: 'rb-list' }, items)
      : h('p', { class: 'rb-empty muted', dataset: { node: g.id, part: 'empty' } }, isRoot ? 'No rules yet: add one, or start from an example.' : 'No rules in this group yet.'),
    h('p', { class: 'field-error rb-error', hidden: true, dataset: { errorFor: g.id } }),
    foot);
  }

  function ruleEl(r) {
    const field = fieldOf(r.field);
    const fields = catalog.slice();
    if (field?.unknown) fields.push(field);
    const fieldSel = h('select', {
      class: 'select-sm', 'aria-label': 'Field', disabled: readOnly, dataset: { testid: 'rule-field', node: r.id, part: 'field' },
      onchange: (e) => {
        const f = fieldOf(e.target.value);
        if (!f) return;
        const prev = fieldOf(r.field);
        r.field = f.key;
        if (!prev || prev.kind !== f.kind || !opsFor(f).includes(r.op)) { r.op = defaultOp(f); r.value = undefined; }
        else if (prev.key !== f.key && (f.kind === 'choice' || f.kind === 'multi')) r.value = undefined;
        render({ id: r.id, part: 'field' });
        changed();
      },
    },
    field ? null : h('option', { value: '', selected: true, disabled: true }, 'Choose a field…'),
    fieldOptions(fields, r.field));
    const ops = field ? [...opsFor(field)] : [];
    if (field && r.op && !ops.includes(r.op)) ops.push(r.op);
    const opSel = h('select', {
      class: 'select-sm', 'aria-label': 'Condition', disabled: readOnly || !field, dataset: { testid: 'rule-op', node: r.id, part: 'op' },
      onchange: (e) => {
        const next = e.target.value;
        if (shapeOf(next) !== shapeOf(r.op)) r.value = undefined;
        r.op = next;
        render({ id: r.id, part: 'op' });
        changed();
      },
    }, field ? ops.map((o) => h('option', { value: o, selected: o === r.op }, uiOpLabel(o, field.kind))) : h('option', { value: '' }, 'Condition'));
    const error = h('p', { class: 'field-error rb-error', hidden: true, dataset: { errorFor: r.id } });
    let editor = null;
    if (field) {
      editor = valueEditor({
        field, op: r.op, initial: r.value, tags, lists, idPrefix: r.id, testid: 'rule-value', disabled: readOnly,
        onInput: () => {
          const v = editor.read();
          r.value = v instanceof Error ? undefined : v;
          error.hidden = true;
          row.classList.remove('is-invalid');
          changed();
        },
      });
      editors.set(r.id, editor);
    }
    const remove = readOnly ? null : h('button', {
      type: 'button', class: 'icon-button rb-remove', dataset: { testid: 'remove-rule' },
      'aria-label': `Remove rule${field ? `: ${field.label}` : ''}`, title: 'Remove rule',
      onclick: () => removeNode(r.id),
    }, icon('x', { size: 16 }));
    const row = h('div', { class: 'rb-rule', dataset: { testid: 'rule-row', node: r.id, field: r.field || '', op: r.op || '' } },
      h('div', { class: 'rb-cells' },
        h('div', { class: 'rb-cell rb-field' }, fieldSel),
        h('div', { class: 'rb-cell rb-op' }, opSel),
        h('div', { class: 'rb-cell rb-value' }, editor?.el || (field ? h('span', { class: 'rb-novalue muted' }, 'no value needed') : null)),
        remove),
      error);
    return row;
  }

  function showProblems(problems) {
    el.querySelectorAll('.rb-error').forEach((x) => { x.hidden = true; });
    el.querySelectorAll('.rb-rule.is-invalid').forEach((x) => x.classList.remove('is-invalid'));
    let first = null;
    for (const p of problems) {
      const box = el.querySelector(`.rb-error[data-error-for="${p.id}"]`);
      if (!box) continue;
      box.hidden = false;
      mount(box, icon('alert', { size: 14 }), h('span', null, p.message));
      const row = box.closest('.rb-rule');
      row?.classList.add('is-invalid');
      first ||= row ? row.querySelector('.rb-value :is(input, select)') || row.querySelector('[data-part="field"]') : el.querySelector(`[data-node="${p.id}"][data-part="add-rule"]`);
    }
    first?.focus();
  }

  render();
  return {
    el,
    setFilter(filter) {
      root = group('and');
      if (isCond(filter)) root.children.push(fromFilter(filter));
      else if (isGroup(filter)) root = fromFilter(filter);
      render();
    },
    read,
    showProblems,
    isEmpty: () => !root.children.length,
    focusFirst() { (el.querySelector('[data-part="field"]') || el.querySelector('[data-part="add-rule"]'))?.focus(); },
  };
}
