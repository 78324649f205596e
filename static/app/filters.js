// List filters: the JSON condition the API takes (`filter=`), split into what
// the filter bar shows — quick filters (stage or size "in", tag "has", "Owned
// by me") and a list of conditions from the "Add filter" builder joined by AND
// or OR — and put back together. The URL carries the API's JSON unchanged, so
// a bookmarked or shared view is exactly the query the server runs.

import { h, mount, icon } from './ui.js';
import {
  xicon, OPS, opLabel, opTakesValue, opTakesList, formatMoney, parseMoney, moneyToInput, formatDay,
  labelize, userName, knownUsers, meId,
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

export function valueText(field, op, value) {
  if (!opTakesValue(op)) return '';
  const one = (v) => {
    if (v === null || v === undefined) return '—';
    if (field?.kind === 'money') return formatMoney(v, field.currency || 'EUR');
    if (field?.kind === 'checkbox') return v ? 'checked' : 'not checked';
    if (field?.kind === 'time' || field?.kind === 'date') return formatDay(v);
    if (field?.kind === 'choice' || field?.kind === 'user') return optionText(field, v);
    return `“${v}”`;
  };
  if (op === 'between' && Array.isArray(value)) return `${one(value[0])} and ${one(value[1])}`;
  if (Array.isArray(value)) return value.map(one).join(', ');
  return one(value);
}

export function describeCond(cond, catalog) {
  const field = catalog.find((f) => f.key === cond.field) || { key: cond.field, label: labelize(cond.field.replace(/^custom\./, '')), kind: 'text' };
  if (field.kind === 'checkbox' && cond.op === 'eq') return `${field.label} is ${cond.value ? 'checked' : 'not checked'}`;
  const v = valueText(field, cond.op, cond.value);
  return `${field.label} ${opLabel(cond.op, field.kind)}${v ? ` ${v}` : ''}`;
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
 * filterBar({ entity, quick, catalog, tags, state, q, onChange, onClearQuery })
 * quick = { field, label, options, optionLabel, testid, optionTestid, render? }
 * → { el, update({ state, catalog, tags, q }) }
 */
export function filterBar({ quick, onChange, onClearQuery }) {
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

    const fieldSelect = h('select', { class: 'select-sm', id: 'fb-field', 'aria-label': 'Field', dataset: { testid: 'filter-field', autofocus: '' } },
      h('optgroup', { label: 'Fields' }, filterable.filter((f) => !f.custom).map((f) => h('option', { value: f.key, selected: f.key === field.key }, f.label))),
      filterable.some((f) => f.custom)
        ? h('optgroup', { label: 'Custom fields' }, filterable.filter((f) => f.custom).map((f) => h('option', { value: f.key, selected: f.key === field.key }, f.label)))
        : null);
    const opSelect = h('select', { class: 'select-sm', id: 'fb-op', 'aria-label': 'Condition', dataset: { testid: 'filter-op' } });
    const valueSlot = h('div', { class: 'fb-value' });
    const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
    const apply = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', dataset: { testid: 'filter-apply' } }, editing ? 'Update filter' : 'Apply filter');
    let readValue = () => undefined;

    function renderOps(selected) {
      const ops = OPS[field.kind] || OPS.text;
      const op = ops.includes(selected) ? selected : ops[0];
      mount(opSelect, ops.map((o) => h('option', { value: o, selected: o === op }, opLabel(o, field.kind))));
      opSelect.value = op;
      renderValue(op, editing && editing.field === field.key && editing.op === op ? editing.value : undefined);
    }

    function renderValue(op, initial) {
      error.hidden = true;
      readValue = () => undefined;
      valueSlot.replaceChildren();
      if (!opTakesValue(op)) return;
      const kind = field.kind;
      const options = kind === 'user' ? userOptions() : kind === 'tags' ? tagList.map((t) => t.tag) : field.options || [];
      const labelFor = (v) => (kind === 'user' ? (v === meId() ? `Me (${userName(v)})` : userName(v)) : field.optionLabel ? field.optionLabel(v) : String(v));

      if (opTakesList(op) && (options.length || kind === 'choice' || kind === 'user')) {
        const chosen = new Set(Array.isArray(initial) ? initial.map(String) : []);
        const box = h('fieldset', { class: 'fb-checks', dataset: { testid: 'filter-value' } },
          h('legend', { class: 'visually-hidden' }, 'Values'),
          options.map((v, i) => h('label', { class: 'check-row', for: `fb-v-${i}` },
            h('input', { type: 'checkbox', id: `fb-v-${i}`, value: v, checked: chosen.has(String(v)) }), h('span', null, labelFor(v)))));
        valueSlot.append(box);
        readValue = () => {
          const vals = [...box.querySelectorAll('input:checked')].map((x) => x.value);
          return vals.length ? vals : new Error('Choose at least one value');
        };
        return;
      }
      if (kind === 'choice' || kind === 'user' || kind === 'multi') {
        const sel = h('select', { class: 'select-sm', 'aria-label': 'Value', dataset: { testid: 'filter-value' } },
          options.map((v) => h('option', { value: v, selected: String(v) === String(initial ?? '') }, labelFor(v))));
        valueSlot.append(sel);
        readValue = () => sel.value || new Error('Choose a value');
        return;
      }
      if (kind === 'checkbox') {
        const sel = h('select', { class: 'select-sm', 'aria-label': 'Value', dataset: { testid: 'filter-value' } },
          h('option', { value: 'true', selected: initial !== false }, 'Checked'),
          h('option', { value: 'false', selected: initial === false }, 'Not checked'));
        valueSlot.append(sel);
        readValue = () => sel.value === 'true';
        return;
      }
      if (kind === 'time' || kind === 'date') {
        const a = h('input', { type: 'date', class: 'input-sm', 'aria-label': op === 'between' ? 'From' : 'Date', dataset: { testid: 'filter-value' },
          value: Array.isArray(initial) ? initial[0] : initial || '' });
        if (op === 'between') {
          const b = h('input', { type: 'date', class: 'input-sm', 'aria-label': 'To', dataset: { testid: 'filter-value-to' }, value: Array.isArray(initial) ? initial[1] || '' : '' });
          valueSlot.append(h('div', { class: 'fb-range' }, a, h('span', { class: 'muted' }, 'and'), b));
          readValue = () => (a.value && b.value ? [a.value, b.value] : new Error('Choose both dates'));
        } else {
          valueSlot.append(a);
          readValue = () => a.value || new Error('Choose a date');
        }
        return;
      }
      if (kind === 'number' || kind === 'money') {
        const money = kind === 'money';
        const input = h('input', {
          type: money ? 'text' : 'number', inputmode: 'decimal', step: 'any', class: 'input-sm', 'aria-label': money ? `Amount in ${field.currency || 'EUR'}` : 'Number',
          dataset: { testid: 'filter-value' }, value: initial == null ? '' : money ? moneyToInput(initial, field.currency) : String(initial),
          placeholder: money ? `Amount (${field.currency || 'EUR'})` : '',
        });
        valueSlot.append(input);
        readValue = () => {
          if (input.value.trim() === '') return new Error('Enter a number');
          const n = money ? parseMoney(input.value, field.currency || 'EUR') : Number(input.value);
          return Number.isFinite(n) ? n : new Error('Enter a number');
        };
        return;
      }
      // text, tags (free text with suggestions)
      const listId = kind === 'tags' ? 'fb-tag-list' : null;
      const input = h('input', {
        type: 'text', class: 'input-sm', 'aria-label': 'Value', dataset: { testid: 'filter-value' }, list: listId, autocomplete: 'off',
        value: Array.isArray(initial) ? initial.join(', ') : initial ?? '',
        placeholder: opTakesList(op) ? 'Values, separated by commas' : kind === 'tags' ? 'Tag' : 'Value',
      });
      valueSlot.append(input);
      if (listId) valueSlot.append(h('datalist', { id: listId }, tagList.map((t) => h('option', { value: t.tag }))));
      readValue = () => {
        if (opTakesList(op)) {
          const vals = input.value.split(',').map((s) => s.trim()).filter(Boolean);
          return vals.length ? vals : new Error('Enter at least one value');
        }
        const v = input.value.trim();
        return v || new Error('Enter a value');
      };
    }

    fieldSelect.addEventListener('change', () => {
      field = filterable.find((f) => f.key === fieldSelect.value) || filterable[0];
      renderOps(opSelect.value);
    });
    opSelect.addEventListener('change', () => renderValue(opSelect.value));

    const form = h('form', { class: 'fb-form', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const op = opSelect.value;
      let cond = { field: field.key, op };
      if (opTakesValue(op)) {
        const v = readValue();
        if (v instanceof Error) {
          error.hidden = false;
          mount(error, icon('alert', { size: 14 }), h('span', null, v.message));
          valueSlot.querySelector('input, select')?.focus();
          return;
        }
        cond = { ...cond, value: v };
      }
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
    renderOps(editing?.op);
  }

  function userOptions() {
    const ids = new Set([...knownUsers().keys()]);
    if (meId()) ids.add(meId());
    const me = meId();
    return [...ids].sort((a, b) => (a === me ? -1 : b === me ? 1 : userName(a).localeCompare(userName(b))));
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
    chipList, modeToggle, clearAll);

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
