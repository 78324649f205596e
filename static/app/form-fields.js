// The form builder's fields editor: one row per field — the contact field it
// fills (custom fields included, or the message, which only goes to the
// timeline), its label, kind, placeholder, menu options and whether it is
// required. Rows are added, removed (with undo) and moved with their buttons
// or Alt+↑/↓ from anywhere in the row; the email field is always there,
// required and of kind email (leads are matched to contacts by it). Errors
// from the server (`fields[2].label`, `fields`) are shown at their row.

import { h, mount, icon, toast } from './ui.js';
import { setFieldError, clearFieldError } from './mail-editor.js';
import { capitalize } from './forms.js';
import { FIELD_KINDS, allTargets, targetLabel } from './form-display.js';

let uid = 0;
export const MAX_FIELDS = 30;

function toRow(f) {
  return {
    id: ++uid,
    key: f.key || '',
    label: f.label || '',
    kind: f.kind || 'text',
    required: !!f.required,
    options: Array.isArray(f.options) ? f.options.join('\n') : '',
    placeholder: f.placeholder || '',
  };
}

/** "a\nb\n\n c" → ['a', 'b', 'c'] */
export function parseOptions(text) {
  return String(text || '').split('\n').map((s) => s.trim()).filter(Boolean);
}

/**
 * fieldsEditor({ fields, customTargets, readOnly, onChange })
 * → { el, addButton, read() → fields, keys() → [{key, label, kind, options}],
 *     showErrors(errors) → first control | null, clearErrors() }
 */
export function fieldsEditor({ fields = [], customTargets = [], readOnly = false, onChange }) {
  const p = `ffe${++uid}`;
  const targets = allTargets(customTargets);
  const targetOf = (key) => targets.find((t) => t.key === key) || null;
  let rows = fields.map(toRow);
  const list = h('ol', { class: 'fm-rows', dataset: { testid: 'form-fields' }, 'aria-label': 'Fields, in the order visitors see them' });
  const box = h('div', { class: 'form-error', role: 'alert', hidden: true, dataset: { testid: 'error-fields' } });
  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const addButton = h('button', {
    type: 'button', class: 'btn btn-sm fm-add-field', dataset: { testid: 'form-add-field' }, disabled: readOnly,
    onclick: () => add(),
  }, icon('plus', { size: 14 }), h('span', null, 'Add a field'));
  const help = h('p', { class: 'muted fm-help', id: `${p}-help` }, 'Alt+↑ and Alt+↓ move the field you are in.');

  const changed = () => onChange?.();

  // --- one row -----------------------------------------------------------------------------
  function keyOptions(r) {
    const used = new Set(rows.filter((x) => x !== r).map((x) => x.key));
    const opt = (t) => h('option', {
      value: t.key, selected: t.key === r.key ? true : null,
      disabled: (used.has(t.key) || (t.unsupported && t.key !== r.key)) ? true : null,
    }, t.unsupported ? `${t.label} (a ${t.unsupported} field: not on forms yet)` : t.label);
    const known = !!targetOf(r.key);
    return [
      h('optgroup', { label: 'Contact' }, targets.filter((t) => t.group === 'contact').map(opt)),
      customTargets.length ? h('optgroup', { label: 'Custom fields' }, targets.filter((t) => t.group === 'custom').map(opt)) : null,
      h('optgroup', { label: 'Timeline only' }, h('option', { value: 'message', selected: r.key === 'message' ? true : null, disabled: used.has('message') ? true : null }, 'Message (timeline note)')),
      !known && r.key ? h('option', { value: r.key, selected: true }, targetLabel(r.key, targets)) : null,
    ];
  }

  function rowEl(r, i) {
    const id = (s) => `${p}-${r.id}-${s}`;
    const isEmail = r.key === 'email';
    const name = (s) => `fields[${i}].${s}`;
    const keySel = h('select', { class: 'input', id: id('key'), name: name('key'), disabled: readOnly, dataset: { testid: 'form-field-key', role: 'key' } }, keyOptions(r));
    const label = h('input', {
      class: 'input', id: id('label'), name: name('label'), maxlength: 200, autocomplete: 'off', value: r.label, readonly: readOnly,
      placeholder: targetOf(r.key)?.label || 'What visitors read', dataset: { testid: 'form-field-label', role: 'label' },
    });
    const kind = h('select', { class: 'input', id: id('kind'), name: name('kind'), disabled: readOnly || isEmail, dataset: { testid: 'form-field-kind', role: 'kind' } },
      FIELD_KINDS.map((k) => h('option', { value: k.value, selected: k.value === r.kind ? true : null }, k.label)));
    const required = h('input', {
      type: 'checkbox', id: id('required'), name: name('required'), checked: r.required || isEmail, disabled: readOnly || isEmail,
      dataset: { testid: 'form-field-required', role: 'required' },
    });
    const placeholder = h('input', {
      class: 'input', id: id('placeholder'), name: name('placeholder'), maxlength: 200, autocomplete: 'off', value: r.placeholder, readonly: readOnly,
      placeholder: 'Shown inside the empty box (optional)', dataset: { testid: 'form-field-placeholder', role: 'placeholder' },
    });
    const options = h('textarea', {
      class: 'input', id: id('options'), name: name('options'), rows: 3, readonly: readOnly, placeholder: 'One choice per line',
      dataset: { testid: 'form-field-options', role: 'options' },
    }, r.options);
    const showPlaceholder = !['select', 'checkbox'].includes(r.kind);
    const t = targetOf(r.key);

    const tool = (testid, label, iconName, onclick, disabled) => h('button', {
      type: 'button', class: 'icon-button fm-tool', 'aria-label': label, title: label, disabled: readOnly || disabled, dataset: { testid, role: testid }, onclick,
    }, icon(iconName, { size: 15 }));
    const title = r.label.trim() || t?.label || 'Untitled field';
    const el = h('li', { class: ['fm-row', isEmail && 'is-email'], dataset: { testid: 'form-field-row', key: r.key, rowId: String(r.id) }, 'aria-describedby': readOnly ? null : help.id },
      h('div', { class: 'fm-row-head' },
        h('span', { class: 'fm-row-num', 'aria-hidden': 'true' }, String(i + 1)),
        h('span', { class: 'fm-row-title truncate', dataset: { testid: 'form-field-title' } }, title),
        r.required || isEmail ? h('span', { class: 'fm-row-req' }, 'Required') : null,
        h('span', { class: 'fm-row-tools' },
          tool('form-field-up', `Move “${title}” up`, 'chevronDown', () => move(r, -1), i === 0),
          tool('form-field-down', `Move “${title}” down`, 'chevronDown', () => move(r, 1), i === rows.length - 1),
          tool('form-field-remove', isEmail ? 'The email field stays: leads are matched to contacts by it' : `Remove “${title}”`, 'trash', () => remove(r), isEmail))),
      h('div', { class: 'field-grid fm-row-grid' },
        h('div', { class: 'field field-half', dataset: { field: name('key') } }, h('label', { for: keySel.id }, 'Fills'), keySel,
          t?.group === 'timeline' ? h('p', { class: 'field-hint muted' }, 'Kept in the note on the contact’s timeline.') : null),
        h('div', { class: 'field field-half', dataset: { field: name('label') } }, h('label', { for: label.id }, 'Label'), label),
        h('div', { class: 'field field-half', dataset: { field: name('kind') } }, h('label', { for: kind.id }, 'Kind'), kind),
        showPlaceholder
          ? h('div', { class: 'field field-half', dataset: { field: name('placeholder') } }, h('label', { for: placeholder.id }, 'Placeholder'), placeholder)
          : h('div', { class: 'field field-half fm-spacer', 'aria-hidden': 'true' }),
        r.kind === 'select' ? h('div', { class: 'field', dataset: { field: name('options') } }, h('label', { for: options.id }, 'Choices'), options,
          t?.options?.length ? h('p', { class: 'field-hint muted' }, `The custom field takes: ${t.options.join(', ')}.`) : null) : null,
        h('div', { class: 'field fm-required', dataset: { field: name('required') } },
          h('label', { class: 'check-row', for: required.id }, required, h('span', null, 'Required')),
          isEmail ? h('p', { class: 'field-hint muted' }, 'Every form asks for an email, required: submissions are matched to contacts by it.') : null)));

    el.querySelector('[data-testid=form-field-up] svg').style.transform = 'rotate(180deg)';
    keySel.addEventListener('change', () => {
      clearFieldError(keySel);
      const before = targetOf(r.key);
      const next = targetOf(keySel.value);
      r.key = keySel.value;
      if (next) {
        if (!r.label.trim() || r.label === before?.label) r.label = next.label;
        if (r.kind === before?.kind || r.key === 'email' || !before) r.kind = next.kind;
        if (next.kind === 'select' && !parseOptions(r.options).length) r.options = (next.options || []).join('\n');
      }
      if (r.key === 'email') { r.kind = 'email'; r.required = true; }
      renderRows({ focus: { id: r.id, role: 'key' } });
      changed();
    });
    label.addEventListener('input', () => {
      clearFieldError(label);
      r.label = label.value;
      el.querySelector('.fm-row-title').textContent = r.label.trim() || t?.label || 'Untitled field';
      changed();
    });
    kind.addEventListener('change', () => {
      clearFieldError(kind);
      r.kind = kind.value;
      if (r.kind === 'select' && !parseOptions(r.options).length && t?.options?.length) r.options = t.options.join('\n');
      renderRows({ focus: { id: r.id, role: 'kind' } });
      changed();
    });
    required.addEventListener('change', () => {
      r.required = required.checked;
      renderRows({ focus: { id: r.id, role: 'required' } });
      changed();
    });
    placeholder.addEventListener('input', () => { clearFieldError(placeholder); r.placeholder = placeholder.value; changed(); });
    options.addEventListener('input', () => { clearFieldError(options); r.options = options.value; changed(); });
    el.addEventListener('keydown', (e) => {
      if (readOnly || !e.altKey || e.ctrlKey || e.metaKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
      e.preventDefault();
      const role = document.activeElement?.dataset?.role;
      move(r, e.key === 'ArrowUp' ? -1 : 1, { role });
    });
    return el;
  }

  function renderRows({ focus } = {}) {
    mount(list, rows.map(rowEl));
    addButton.disabled = readOnly || rows.length >= MAX_FIELDS || !nextKey();
    if (focus) {
      const row = list.querySelector(`[data-row-id="${focus.id}"]`);
      const usable = (role) => { const el = row?.querySelector(`[data-role="${role}"]`); return el && !el.disabled ? el : null; };
      const target = [focus.role || 'key', ...(focus.fallback || []), 'label'].map(usable).find(Boolean);
      target?.focus();
    }
  }

  // --- structure ----------------------------------------------------------------------------
  function nextKey() {
    const used = new Set(rows.map((r) => r.key));
    const order = ['first_name', 'last_name', 'email', 'company', 'phone', 'title', 'message', ...targets.filter((t) => t.group === 'custom' && !t.unsupported).map((t) => t.key)];
    return order.find((k) => !used.has(k)) || null;
  }

  function add() {
    const key = nextKey();
    if (!key || rows.length >= MAX_FIELDS) return;
    const t = targetOf(key);
    const r = toRow({ key, label: t?.label || '', kind: t?.kind || 'text', required: key === 'email', options: t?.options || [] });
    rows.push(r);
    renderRows({ focus: { id: r.id, role: 'key' } });
    live.textContent = `Added a field for ${t?.label || key}, number ${rows.length}.`;
    changed();
  }

  function remove(r) {
    const i = rows.indexOf(r);
    if (i < 0 || r.key === 'email') return;
    rows.splice(i, 1);
    const near = rows[Math.min(i, rows.length - 1)];
    renderRows({ focus: near ? { id: near.id, role: 'form-field-remove' } : null });
    if (!near) addButton.focus();
    changed();
    const title = r.label.trim() || targetOf(r.key)?.label || 'The field';
    toast(`“${title}” was removed.`, {
      title: 'Field removed', timeout: 7000,
      action: { label: 'Undo', onClick: () => {
        if (!list.isConnected || rows.some((x) => x.key === r.key)) return;
        rows.splice(Math.min(i, rows.length), 0, r);
        renderRows({ focus: { id: r.id, role: 'label' } });
        changed();
      } },
    });
  }

  function move(r, d, { role } = {}) {
    const i = rows.indexOf(r);
    const j = i + d;
    if (i < 0 || j < 0 || j >= rows.length) return;
    rows.splice(i, 1);
    rows.splice(j, 0, r);
    // From a move button that went disabled (now first or last), focus goes to the other one.
    const button = d < 0 ? 'form-field-up' : 'form-field-down';
    renderRows({ focus: { id: r.id, role: role || button, fallback: role ? [] : [d < 0 ? 'form-field-down' : 'form-field-up'] } });
    live.textContent = `Moved “${r.label.trim() || targetOf(r.key)?.label || 'the field'}” to position ${j + 1} of ${rows.length}.`;
    changed();
  }

  // --- reading, errors -----------------------------------------------------------------------------
  function read() {
    return rows.map((r) => {
      const f = { key: r.key, label: r.label.trim(), kind: r.key === 'email' ? 'email' : r.kind, required: r.key === 'email' ? true : r.required };
      if (f.kind === 'select') f.options = parseOptions(r.options);
      const ph = r.placeholder.trim();
      if (ph && !['select', 'checkbox'].includes(f.kind)) f.placeholder = ph;
      return f;
    });
  }

  function keys() {
    return rows.map((r) => ({ key: r.key, label: r.label.trim() || targetOf(r.key)?.label || r.key, kind: r.kind, options: parseOptions(r.options) }));
  }

  function clearErrors() {
    box.hidden = true;
    list.querySelectorAll('select, input, textarea').forEach((el) => clearFieldError(el));
  }

  /** Shows `fields…` errors; → the first control with one (or the box), null when none were ours. */
  function showErrors(errors) {
    let first = null;
    const general = [];
    for (const e of errors || []) {
      const m = /^fields\[(\d+)\]\.(\w+)$/.exec(e.field || '');
      if (m) {
        const row = list.children[Number(m[1])];
        const el = row?.querySelector(`[data-role="${m[2]}"]`) || row?.querySelector('[data-role="key"]');
        if (el) {
          setFieldError(el, e.message, { testid: `error-${e.field}` });
          first ||= el;
          continue;
        }
      }
      if (e.field === 'fields' || m) general.push(capitalize(e.message));
    }
    if (general.length) {
      box.hidden = false;
      mount(box, icon('alert'), h('div', null, general.join('. ')));
      first ||= box;
    }
    return first;
  }

  renderRows();
  const el = h('div', { class: 'fm-fields' }, box, list, live,
    readOnly ? null : h('div', { class: 'fm-fields-foot' }, addButton, help));
  return { el, addButton, read, keys, showErrors, clearErrors };
}
