// The form builder's "Who gets the leads" part — nobody, people in turn
// (round robin), or rules ("if <field> is <value> → <person>", first match
// wins, else the turn goes on) — and the tag editor for the contacts a form
// makes.

import { h, mount, icon } from './ui.js';
import * as crm from './crm-api.js';
import { setFieldError, clearFieldError } from './mail-editor.js';
import { capitalize } from './forms.js';
import * as session from './session.js';

let uid = 0;

export const ASSIGNMENT_MODES = [
  { value: 'none', label: 'Nobody: leave new contacts unassigned' },
  { value: 'round_robin', label: 'People in turn (round robin)' },
  { value: 'rules', label: 'By rules, then people in turn' },
];

function wrapError(wrap, message, testid) {
  wrap.querySelector(':scope > .field-error')?.remove();
  if (!message) return;
  wrap.append(h('p', { class: 'field-error', dataset: { testid } }, icon('alert', { size: 14 }), h('span', null, capitalize(message))));
}

/**
 * assignmentEditor({ assignment, users: Map<id, user>, fieldKeys: () => [{key, label, kind, options}], readOnly, onChange })
 * → { el, read(), refreshFields(), showErrors(errors) → first | null, clearErrors(), mode }
 */
export function assignmentEditor({ assignment = {}, users = new Map(), fieldKeys, readOnly = false, onChange }) {
  const p = `fae${++uid}`;
  const chosen = new Set(Array.isArray(assignment.users) ? assignment.users : []);
  let rules = (Array.isArray(assignment.rules) ? assignment.rules : []).map((r) => ({ id: ++uid, field: r.field || '', value: r.value || '', user_id: r.user_id || '' }));
  const changed = () => onChange?.();
  const name = (id) => session.userDisplayName(users.get(id)) || `User …${String(id).slice(-5)}`;
  const people = [...users.values()]
    .filter((u) => u.active !== false || chosen.has(u.id))
    .sort((a, b) => session.userDisplayName(a).localeCompare(session.userDisplayName(b)));
  // Chosen before, since gone from the directory.
  chosen.forEach((id) => { if (!users.has(id)) people.push({ id, name: `User …${String(id).slice(-5)}`, active: false }); });

  const mode = h('select', { class: 'input', id: `${p}-mode`, name: 'assignment.mode', disabled: readOnly, dataset: { testid: 'form-assignment-mode' } },
    ASSIGNMENT_MODES.map((m) => h('option', { value: m.value, selected: m.value === (assignment.mode || 'none') ? true : null }, m.label)));
  const explain = h('p', { class: 'field-hint muted', id: `${p}-explain`, dataset: { testid: 'form-assignment-explain' } });
  mode.setAttribute('aria-describedby', explain.id);
  mode.dataset.hint = explain.id;

  // --- people -------------------------------------------------------------------------------------
  const peopleTitle = h('legend', { class: 'fm-legend' });
  const peopleList = h('div', { class: 'fm-people', role: 'group' },
    people.length ? people.map((u) => {
      const box = h('input', {
        type: 'checkbox', value: u.id, checked: chosen.has(u.id), disabled: readOnly || (u.active === false && !chosen.has(u.id)),
        dataset: { testid: 'form-assignee', userId: u.id },
      });
      box.addEventListener('change', () => {
        if (box.checked) chosen.add(u.id); else chosen.delete(u.id);
        wrapError(peopleWrap, null);
        changed();
      });
      return h('label', { class: 'check-row fm-person' }, box,
        h('span', { class: 'fm-person-text' },
          h('span', { class: 'truncate' }, session.userDisplayName(u), u.active === false ? h('span', { class: 'muted' }, ' (deactivated)') : null),
          u.email && u.email !== u.name ? h('span', { class: 'muted fm-person-email truncate' }, u.email) : null));
    }) : h('p', { class: 'muted' }, 'Nobody to choose yet: invite your colleagues in Settings › Users.'));
  const peopleWrap = h('fieldset', { class: 'field fm-fieldset', dataset: { field: 'assignment.users', testid: 'form-assignees' } }, peopleTitle, peopleList);

  // --- rules --------------------------------------------------------------------------------------
  const rulesList = h('ol', { class: 'fm-rules', dataset: { testid: 'form-rules' } });
  const addRule = h('button', { type: 'button', class: 'btn btn-sm', disabled: readOnly, dataset: { testid: 'form-add-rule' }, onclick: () => {
    const first = fieldKeys().find((k) => k.kind === 'select') || fieldKeys().find((k) => k.key !== 'email') || fieldKeys()[0];
    const r = { id: ++uid, field: first?.key || '', value: '', user_id: '' };
    rules.push(r);
    renderRules();
    rulesList.querySelector(`[data-rule-id="${r.id}"] [data-role=field]`)?.focus();
    changed();
  } }, icon('plus', { size: 14 }), h('span', null, 'Add a rule'));
  const rulesWrap = h('fieldset', { class: 'field fm-fieldset', dataset: { field: 'assignment.rules' } },
    h('legend', { class: 'fm-legend' }, 'Rules, in order: the first that matches decides'),
    rulesList, h('div', null, addRule));

  function ruleEl(r, i) {
    const id = (s) => `${p}-r${r.id}-${s}`;
    const keys = fieldKeys();
    const fieldSel = h('select', { class: 'input', id: id('field'), name: `assignment.rules[${i}].field`, disabled: readOnly, 'aria-label': `Rule ${i + 1}: field`, dataset: { testid: 'form-rule-field', role: 'field' } },
      keys.map((k) => h('option', { value: k.key, selected: k.key === r.field ? true : null }, k.label)),
      r.field && !keys.some((k) => k.key === r.field) ? h('option', { value: r.field, selected: true }, `${r.field} (not on the form)`) : null);
    const k = keys.find((x) => x.key === r.field);
    const listId = id('choices');
    const value = h('input', {
      class: 'input', id: id('value'), name: `assignment.rules[${i}].value`, value: r.value, readonly: readOnly, autocomplete: 'off', maxlength: 300,
      list: k?.options?.length ? listId : null, placeholder: k?.options?.length ? k.options.slice(0, 3).join(', ') : 'a value', 'aria-label': `Rule ${i + 1}: value`,
      dataset: { testid: 'form-rule-value', role: 'value' },
    });
    const userSel = h('select', { class: 'input', id: id('user'), name: `assignment.rules[${i}].user_id`, disabled: readOnly, 'aria-label': `Rule ${i + 1}: give the lead to`, dataset: { testid: 'form-rule-user', role: 'user' } },
      h('option', { value: '' }, 'Choose someone…'),
      people.filter((u) => u.active !== false || u.id === r.user_id).map((u) => h('option', { value: u.id, selected: u.id === r.user_id ? true : null }, session.userDisplayName(u))),
      r.user_id && !people.some((u) => u.id === r.user_id) ? h('option', { value: r.user_id, selected: true }, name(r.user_id)) : null);
    fieldSel.addEventListener('change', () => { clearFieldError(fieldSel); r.field = fieldSel.value; renderRules({ id: r.id, role: 'field' }); changed(); });
    value.addEventListener('input', () => { clearFieldError(value); r.value = value.value; changed(); });
    userSel.addEventListener('change', () => { clearFieldError(userSel); r.user_id = userSel.value; changed(); });
    return h('li', { class: 'fm-rule', dataset: { testid: 'form-rule-row', ruleId: String(r.id) } },
      h('span', { class: 'fm-rule-word' }, 'If'),
      h('div', { class: 'field fm-rule-field', dataset: { field: `assignment.rules[${i}].field` } }, fieldSel),
      h('span', { class: 'fm-rule-word' }, 'is'),
      h('div', { class: 'field fm-rule-value', dataset: { field: `assignment.rules[${i}].value` } }, value,
        k?.options?.length ? h('datalist', { id: listId }, k.options.map((o) => h('option', { value: o }))) : null),
      h('span', { class: 'fm-rule-word', 'aria-hidden': 'true' }, '→'),
      h('div', { class: 'field fm-rule-user', dataset: { field: `assignment.rules[${i}].user_id` } }, userSel),
      h('button', {
        type: 'button', class: 'icon-button fm-tool', 'aria-label': `Remove rule ${i + 1}`, title: 'Remove the rule', disabled: readOnly,
        dataset: { testid: 'form-rule-remove' },
        onclick: () => {
          rules = rules.filter((x) => x !== r);
          renderRules();
          (rulesList.querySelector('[data-testid=form-rule-remove]') || addRule).focus();
          changed();
        },
      }, icon('trash', { size: 15 })));
  }

  function renderRules(focus) {
    mount(rulesList, rules.length ? rules.map(ruleEl) : h('li', { class: 'muted fm-rules-empty' }, 'No rules yet. For example: if Country is FR → your French-speaking rep.'));
    if (focus) rulesList.querySelector(`[data-rule-id="${focus.id}"] [data-role=${focus.role}]`)?.focus();
  }

  function sync() {
    const m = mode.value;
    peopleWrap.hidden = m === 'none';
    rulesWrap.hidden = m !== 'rules';
    peopleTitle.textContent = m === 'rules' ? 'When no rule matches, people in turn' : 'People who get the leads, in turn';
    explain.textContent = m === 'none'
      ? 'New contacts have no owner; existing contacts keep theirs.'
      : m === 'round_robin'
        ? 'Each new lead goes to the next person in the list, so everyone gets as many. Existing contacts keep their owner.'
        : 'The first matching rule decides (ignoring case); otherwise the next person in turn. Existing contacts keep their owner.';
  }
  mode.addEventListener('change', () => { clearFieldError(mode); sync(); changed(); });
  renderRules();
  sync();

  function read() {
    const m = mode.value;
    return {
      mode: m,
      users: m === 'none' ? [] : people.filter((u) => chosen.has(u.id)).map((u) => u.id),
      rules: m === 'rules' ? rules.map((r) => ({ field: r.field, value: r.value.trim(), user_id: r.user_id })) : [],
    };
  }

  function clearErrors() {
    clearFieldError(mode);
    wrapError(peopleWrap, null);
    rulesList.querySelectorAll('select, input').forEach((el) => clearFieldError(el));
  }

  function showErrors(errors) {
    let first = null;
    for (const e of errors || []) {
      if (e.field === 'assignment.mode') { setFieldError(mode, e.message, { testid: 'error-assignment.mode' }); first ||= mode; continue; }
      if (e.field === 'assignment.users') {
        wrapError(peopleWrap, e.message, 'error-assignment.users');
        first ||= peopleWrap.querySelector('input:not(:disabled)') || mode;
        continue;
      }
      const m = /^assignment\.rules\[(\d+)\]\.(\w+)$/.exec(e.field || '');
      if (m) {
        const row = rulesList.children[Number(m[1])];
        const el = row?.querySelector(`[data-role="${m[2] === 'user_id' ? 'user' : m[2]}"]`);
        if (el) { setFieldError(el, e.message, { testid: `error-${e.field}` }); first ||= el; }
      }
    }
    return first;
  }

  const el = h('div', { class: 'fm-assignment' },
    h('div', { class: 'field', dataset: { field: 'assignment.mode' } }, h('label', { for: mode.id }, 'Who gets new leads'), mode, explain),
    rulesWrap, peopleWrap);
  return {
    el, read, showErrors, clearErrors,
    get mode() { return mode.value; },
    /** The form's fields changed: rules offer the current ones. */
    refreshFields() { if (!rulesWrap.hidden) renderRules(); },
  };
}

/**
 * tagEditor({ tags, id, readOnly, onChange }) → { el (the control), input, read() }
 * Enter or comma adds a tag; Backspace in the empty box removes the last.
 */
export function tagEditor({ tags = [], id, readOnly = false, onChange }) {
  const list = tags.slice();
  const listId = `${id}-suggest`;
  const chips = h('span', { class: 'tag-edit-chips' });
  const entry = h('input', {
    class: 'input tag-entry', id, type: 'text', list: listId, placeholder: readOnly ? '' : 'Add a tag…', maxlength: 50, autocomplete: 'off',
    readonly: readOnly, name: 'tags', dataset: { testid: 'form-tags', hint: `${id}-hint` }, 'aria-describedby': `${id}-hint`,
  });
  const datalist = h('datalist', { id: listId });
  const control = h('div', { class: 'tag-input', onclick: (e) => { if (e.target === control) entry.focus(); } }, chips, entry, datalist);
  crm.tags('contact').then((all) => mount(datalist, all.map((t) => h('option', { value: t.tag }, `${t.count} ${t.count === 1 ? 'contact' : 'contacts'}`)))).catch(() => {});
  function render() {
    mount(chips, list.map((t, i) => h('span', { class: 'tag-chip tag-chip-edit', dataset: { testid: 'form-tag-chip' } }, t,
      readOnly ? null : h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove tag ${t}`, onclick: () => { list.splice(i, 1); render(); entry.focus(); onChange?.(); } }, icon('x', { size: 12 })))));
  }
  function add(raw) {
    const parts = String(raw).split(',').map((s) => s.trim()).filter(Boolean);
    let added = false;
    for (const t of parts) if (!list.some((x) => x.toLowerCase() === t.toLowerCase())) { list.push(t.slice(0, 50)); added = true; }
    entry.value = '';
    render();
    if (added) onChange?.();
  }
  entry.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ',') && entry.value.trim()) { e.preventDefault(); add(entry.value); }
    else if (e.key === 'Enter') e.preventDefault();
    else if (e.key === 'Backspace' && !entry.value && list.length && !readOnly) { list.pop(); render(); onChange?.(); }
  });
  entry.addEventListener('input', (e) => {
    clearFieldError(entry);
    if (e.inputType === 'insertReplacementText' || (!e.inputType && entry.value)) add(entry.value);
  });
  entry.addEventListener('blur', () => { if (entry.value.trim()) add(entry.value); });
  render();
  // What would be saved: the chips, plus what is typed but not added yet (reading changes nothing).
  function read() {
    const out = list.slice();
    for (const t of entry.value.split(',').map((s) => s.trim()).filter(Boolean)) if (!out.some((x) => x.toLowerCase() === t.toLowerCase())) out.push(t.slice(0, 50));
    return out;
  }
  return { el: control, input: entry, read };
}
