// The rule builder's three parts: "When" (the kind of trigger, then its
// parameters: the kind of record and the fields whose change counts, the
// stage, the form, or a contact's date field with days before or after it
// and the time zone that says which day it is), "Only if" (conditions on
// the record: field, operator, value) and "Then" (actions, each with its
// parameters and pickers: people, templates, sequences). Rows are added,
// removed, and actions moved (their order is the order they run in). The
// server's errors (`trigger.field`, `conditions[0].op`, `actions[1].template_id`)
// are shown beside their controls (each control's name is its error field).

import { h, mount, icon } from './ui.js';
import { setFieldError, clearFieldError } from './mail-editor.js';
import { capitalize } from './forms.js';
import { zoneSelect } from './campaign-display.js';
import * as session from './session.js';
import {
  TRIGGERS, ENTITIES, OPS, ACTIONS, triggerEntity, triggerText, dateFields, recordFields, opTakesValue, parseValue, valueText,
  actionLabel, actionIcon, entityLabel, stageLabel,
} from './rule-display.js';

let uid = 0;
export const MAX_CONDITIONS = 20;
export const MAX_ACTIONS = 10;

const ACTION_KEYS = {
  create_task: ['subject', 'due_in_days', 'user'],
  add_tag: ['tag'],
  update_field: ['field', 'value'],
  change_owner: ['user'],
  send_email: ['template_id'],
  enrol_in_sequence: ['sequence_id'],
};

function freshAction(kind) {
  switch (kind) {
    case 'create_task': return { kind, subject: 'Follow up with {{ name }}', due_in_days: 1, user: 'owner' };
    case 'add_tag': return { kind, tag: '' };
    case 'update_field': return { kind, field: '', value: '' };
    case 'change_owner': return { kind, user: '' };
    case 'send_email': return { kind, template_id: '' };
    case 'enrol_in_sequence': return { kind, sequence_id: '' };
    default: return { kind };
  }
}

/** A labelled control in a `.field` (so field errors land beside it). */
function fieldWrap(name, label, control, { hint, hintId, half = false, cls } = {}) {
  return h('div', { class: ['field', half && 'field-half', cls], dataset: { field: name } },
    label ? h('label', { for: control.id }, label) : null, control,
    hint ? h('p', { class: 'field-hint muted', id: hintId || null }, hint) : null);
}

function options(list, value, { empty } = {}) {
  return [
    empty ? h('option', { value: '' }, empty) : null,
    list.map((o) => h('option', { value: o.value, selected: String(o.value) === String(value ?? '') ? true : null, disabled: o.disabled ? true : null }, o.label)),
  ];
}

/**
 * ruleBuilder({ rule, ctx, readOnly, onChange })
 *   ctx: { users: Map, pipelines: [], forms: [], templates: [], sequences: [], contactDefs: [], companyDefs: [], tags: [] }
 * → { when, conditions, actions (elements), read() → {trigger, conditions, actions}, fill(rule),
 *     showErrors(errors) → first control | null, clearErrors(), summary() → text }
 */
export function ruleBuilder({ rule, ctx, readOnly = false, onChange }) {
  const p = `rb${++uid}`;
  const changed = () => onChange?.();
  let m = null;
  const me = session.getSession().user?.id;
  const people = [...(ctx.users?.values?.() || [])].filter((u) => u.active !== false)
    .sort((a, b) => session.userDisplayName(a).localeCompare(session.userDisplayName(b)));
  const userName = (id) => {
    const u = ctx.users?.get?.(id);
    return u ? `${session.userDisplayName(u)}${id === me ? ' (you)' : ''}` : `User …${String(id).slice(-5)}`;
  };
  const stagesById = new Map((ctx.pipelines || []).flatMap((pl) => pl.stages.map((s) => [s.id, { ...s, pipeline: pl.name }])));
  const textCtx = () => ({ stages: stagesById, forms: new Map((ctx.forms || []).map((f) => [f.id, f])), defs: ctx.contactDefs || [] });
  const fieldsOf = (entity) => recordFields(entity, { contactDefs: ctx.contactDefs, companyDefs: ctx.companyDefs });

  function load(r) {
    const t = r?.trigger || { kind: 'record_created', entity: 'contact' };
    m = {
      trigger: { ...t, changed: Array.isArray(t.changed) ? t.changed.slice() : [] },
      conditions: (r?.conditions || []).map((c) => ({ id: ++uid, field: c.field || '', op: c.op || 'eq', value: valueText(c.value) })),
      actions: (r?.actions || []).map((a) => ({ id: ++uid, ...a, value: a.kind === 'update_field' ? valueText(a.value) : a.value })),
    };
  }
  load(rule);

  // =====================================================================================
  // When
  const whenBox = h('div', { class: 'form-error', role: 'alert', hidden: true, dataset: { testid: 'error-trigger' } });
  const kindSel = h('select', {
    class: 'input', id: `${p}-kind`, name: 'trigger.kind', disabled: readOnly, dataset: { testid: 'rule-trigger-kind' },
  });
  const params = h('div', { class: 'field-grid ru-params', dataset: { testid: 'rule-trigger-params' } });
  const whenText = h('p', { class: 'ru-words', dataset: { testid: 'rule-when-text' } });
  const whenEl = h('div', { class: 'ru-when-editor' },
    whenBox,
    fieldWrap('trigger.kind', 'What starts the rule', kindSel),
    params,
    h('div', { class: 'ru-words-line' }, icon('zap', { size: 14 }), whenText));

  function fillKinds() {
    const groups = [...new Set(TRIGGERS.map((t) => t.group))];
    mount(kindSel, groups.map((g) => h('optgroup', { label: g },
      TRIGGERS.filter((t) => t.group === g).map((t) => h('option', { value: t.value, selected: t.value === m.trigger.kind ? true : null }, t.label)))));
    if (!TRIGGERS.some((t) => t.value === m.trigger.kind)) kindSel.append(h('option', { value: m.trigger.kind, selected: true }, m.trigger.kind));
  }

  kindSel.addEventListener('change', () => {
    clearFieldError(kindSel);
    const kind = kindSel.value;
    const before = triggerEntity(m.trigger);
    const t = { kind, changed: [] };
    if (kind === 'record_created' || kind === 'record_updated') t.entity = m.trigger.entity || 'contact';
    if (kind === 'date') { t.field = dateFields(ctx.contactDefs)[0]?.key || 'orders.last_at'; t.offset_days = 0; t.time_zone = ''; }
    if (kind === 'deal_entered_stage') t.stage_id = '';
    m.trigger = t;
    renderParams();
    if (triggerEntity(t) !== before) { renderConditions(); renderActions(); }
    changed();
  });

  function renderParams() {
    const t = m.trigger;
    const els = [];
    if (t.kind === 'record_created' || t.kind === 'record_updated') {
      const ent = h('select', { class: 'input', id: `${p}-entity`, name: 'trigger.entity', disabled: readOnly, dataset: { testid: 'rule-trigger-entity' } },
        options(ENTITIES.map((e) => ({ value: e.value, label: e.label })), t.entity || 'contact'));
      ent.addEventListener('change', () => {
        clearFieldError(ent);
        t.entity = ent.value;
        t.changed = [];
        renderParams();
        renderConditions();
        renderActions();
        changed();
      });
      els.push(fieldWrap('trigger.entity', 'Kind of record', ent, { half: true }));
      if (t.kind === 'record_updated') {
        const known = fieldsOf(t.entity || 'contact').filter((f) => !f.key.startsWith('value.'));
        const extra = (t.changed || []).filter((k) => !known.some((f) => f.key === k)).map((k) => ({ key: k, label: k }));
        const boxes = [...known, ...extra].map((f) => {
          const box = h('input', { type: 'checkbox', value: f.key, checked: t.changed.includes(f.key), disabled: readOnly, dataset: { testid: 'rule-trigger-changed', key: f.key } });
          box.addEventListener('change', () => {
            t.changed = box.checked ? [...t.changed, f.key] : t.changed.filter((k) => k !== f.key);
            syncWords();
            changed();
          });
          return h('label', { class: 'check-row ru-check' }, box, h('span', { class: 'truncate' }, f.label));
        });
        els.push(h('fieldset', { class: 'field fm-fieldset', dataset: { field: 'trigger.changed' } },
          h('legend', { class: 'fm-legend' }, 'Only when one of these changes'),
          h('p', { class: 'field-hint muted ru-hint-top' }, 'None ticked: any change counts.'),
          h('div', { class: 'ru-checks' }, boxes)));
      }
    } else if (t.kind === 'deal_entered_stage') {
      const sel = h('select', { class: 'input', id: `${p}-stage`, name: 'trigger.stage_id', disabled: readOnly, dataset: { testid: 'rule-trigger-stage' } },
        h('option', { value: '' }, 'Choose a stage…'),
        (ctx.pipelines || []).map((pl) => h('optgroup', { label: pl.name },
          pl.stages.map((s) => h('option', { value: s.id, selected: s.id === t.stage_id ? true : null }, s.name)))),
        t.stage_id && !stagesById.has(t.stage_id) ? h('option', { value: t.stage_id, selected: true }, 'A stage that was deleted') : null);
      sel.addEventListener('change', () => { clearFieldError(sel); t.stage_id = sel.value; syncWords(); changed(); });
      els.push(fieldWrap('trigger.stage_id', 'Stage', sel, { half: true }));
    } else if (t.kind === 'form_submitted') {
      const sel = h('select', { class: 'input', id: `${p}-form`, name: 'trigger.form_id', disabled: readOnly, dataset: { testid: 'rule-trigger-form' } },
        h('option', { value: '' }, 'Any form'),
        (ctx.forms || []).map((f) => h('option', { value: f.id, selected: f.id === t.form_id ? true : null }, f.name || 'Untitled form')));
      sel.addEventListener('change', () => { clearFieldError(sel); t.form_id = sel.value || undefined; syncWords(); changed(); });
      els.push(fieldWrap('trigger.form_id', 'Form', sel, { half: true, hint: 'It runs for the contact the submission made or updated.' }));
    } else if (t.kind === 'date') {
      const fields = dateFields(ctx.contactDefs);
      const groups = [...new Set(fields.map((f) => f.group))];
      const fieldSel = h('select', { class: 'input', id: `${p}-field`, name: 'trigger.field', disabled: readOnly, dataset: { testid: 'rule-trigger-field' } },
        h('option', { value: '' }, 'Choose a date…'),
        groups.map((g) => h('optgroup', { label: g }, fields.filter((f) => f.group === g).map((f) => h('option', { value: f.key, selected: f.key === t.field ? true : null }, f.label)))),
        t.field && !fields.some((f) => f.key === t.field) ? h('option', { value: t.field, selected: true }, t.field.replace(/^custom\./, '')) : null);
      fieldSel.addEventListener('change', () => { clearFieldError(fieldSel); t.field = fieldSel.value; syncWords(); changed(); });
      const offset = Number(t.offset_days) || 0;
      const days = h('input', {
        class: 'input ru-days', id: `${p}-days`, type: 'number', inputmode: 'numeric', min: 0, max: 3660, step: 1, name: 'trigger.offset_days',
        value: String(Math.abs(offset)), readonly: readOnly, dataset: { testid: 'rule-trigger-offset' },
      });
      const dir = h('select', { class: 'input', id: `${p}-dir`, 'aria-label': 'Before or after the date', disabled: readOnly, dataset: { testid: 'rule-trigger-direction' } },
        options([{ value: 'before', label: 'days before' }, { value: 'after', label: 'days after' }], offset < 0 ? 'before' : 'after'));
      const syncOffset = () => {
        const n = Math.max(0, Math.round(Number(days.value) || 0));
        t.offset_days = dir.value === 'before' ? -n : n;
        clearFieldError(days);
        syncWords();
        changed();
      };
      days.addEventListener('input', syncOffset);
      dir.addEventListener('change', syncOffset);
      const zone = zoneSelect({ id: `${p}-zone`, value: t.time_zone || 'UTC', testid: 'rule-trigger-zone', disabled: readOnly });
      // No zone of its own: the workspace's (Settings › Users).
      zone.prepend(h('option', { value: '' }, 'The workspace’s time zone'));
      zone.value = t.time_zone || '';
      zone.name = 'trigger.time_zone';
      zone.addEventListener('change', () => { clearFieldError(zone); t.time_zone = zone.value; syncWords(); changed(); });
      const hasCustom = fields.some((f) => f.group === 'Custom fields');
      els.push(
        fieldWrap('trigger.field', 'Contact’s date', fieldSel, {
          half: true,
          hint: hasCustom ? null : h('span', null, 'Add a date custom field (a renewal, a birthday) in ', h('a', { href: '/settings/custom-fields' }, 'Settings › Custom fields'), '.'),
        }),
        h('div', { class: 'field field-half', dataset: { field: 'trigger.offset_days' } },
          h('label', { for: days.id }, 'When'),
          h('div', { class: 'ru-offset' }, days, dir)),
        fieldWrap('trigger.time_zone', 'Days are counted in', zone, { half: true, hint: 'Once per contact and day; missed days are caught up for a week.' }));
    }
    mount(params, els);
    params.hidden = !els.length;
    syncWords();
  }

  function syncWords() {
    whenText.textContent = `${triggerText(m.trigger, textCtx())}${m.trigger.kind === 'date' ? ' (for each contact, once a day)' : ''}.`;
  }

  // =====================================================================================
  // Only if
  const condList = h('ol', { class: 'ru-conds', dataset: { testid: 'rule-conditions' } });
  const condBox = h('div', { class: 'form-error', role: 'alert', hidden: true, dataset: { testid: 'error-conditions' } });
  const addCond = h('button', {
    type: 'button', class: 'btn btn-sm', disabled: readOnly, dataset: { testid: 'rule-add-condition' },
    onclick: () => {
      if (m.conditions.length >= MAX_CONDITIONS) return;
      const first = fieldsOf(triggerEntity(m.trigger))[0];
      const c = { id: ++uid, field: first?.key || '', op: 'eq', value: '' };
      m.conditions.push(c);
      renderConditions({ id: c.id, role: 'field' });
      changed();
    },
  }, icon('plus', { size: 14 }), h('span', null, 'Add a condition'));
  const conditionsEl = h('div', { class: 'ru-conditions' }, condBox, condList, readOnly ? null : h('div', null, addCond));

  function condRow(c, i) {
    const entity = triggerEntity(m.trigger);
    const fields = fieldsOf(entity);
    const f = fields.find((x) => x.key === c.field);
    const groups = [...new Set(fields.map((x) => x.group))];
    const fieldSel = h('select', {
      class: 'input', id: `${p}-c${c.id}-field`, name: `conditions[${i}].field`, disabled: readOnly, 'aria-label': `Condition ${i + 1}: field`,
      dataset: { testid: 'rule-condition-field', role: 'field' },
    },
    groups.map((g) => h('optgroup', { label: g }, fields.filter((x) => x.group === g).map((x) => h('option', { value: x.key, selected: x.key === c.field ? true : null }, x.label)))),
    c.field && !f ? h('option', { value: c.field, selected: true }, c.field) : null);
    const opSel = h('select', {
      class: 'input', id: `${p}-c${c.id}-op`, name: `conditions[${i}].op`, disabled: readOnly, 'aria-label': `Condition ${i + 1}: operator`,
      dataset: { testid: 'rule-condition-op', role: 'op' },
    }, options(OPS, c.op));
    let value;
    if (f?.options?.length) {
      value = h('select', {
        class: 'input', id: `${p}-c${c.id}-value`, name: `conditions[${i}].value`, disabled: readOnly, 'aria-label': `Condition ${i + 1}: value`,
        dataset: { testid: 'rule-condition-value', role: 'value' },
      }, h('option', { value: '' }, 'Choose…'),
      f.options.map((o) => h('option', { value: o, selected: String(o).toLowerCase() === String(c.value).toLowerCase() ? true : null }, f.key === 'lifecycle_stage' ? stageLabel(o) : o)),
      c.value && !f.options.some((o) => String(o).toLowerCase() === String(c.value).toLowerCase()) ? h('option', { value: c.value, selected: true }, c.value) : null);
      value.addEventListener('change', () => { clearFieldError(value); c.value = value.value; changed(); });
    } else {
      value = h('input', {
        class: 'input', id: `${p}-c${c.id}-value`, name: `conditions[${i}].value`, value: c.value, readonly: readOnly, autocomplete: 'off', maxlength: 300,
        'aria-label': `Condition ${i + 1}: value`, placeholder: f?.key === 'tags' ? 'a tag' : 'a value', dataset: { testid: 'rule-condition-value', role: 'value' },
      });
      value.addEventListener('input', () => { clearFieldError(value); c.value = value.value; changed(); });
    }
    fieldSel.addEventListener('change', () => { clearFieldError(fieldSel); c.field = fieldSel.value; c.value = ''; renderConditions({ id: c.id, role: 'field' }); changed(); });
    opSel.addEventListener('change', () => { clearFieldError(opSel); c.op = opSel.value; renderConditions({ id: c.id, role: 'op' }); changed(); });
    const takes = opTakesValue(c.op);
    return h('li', { class: 'ru-cond', dataset: { testid: 'rule-condition-row', rowId: String(c.id) } },
      h('span', { class: 'ru-word', 'aria-hidden': 'true' }, i ? 'and' : 'if'),
      h('div', { class: 'field ru-cond-field', dataset: { field: `conditions[${i}].field` } }, fieldSel),
      h('div', { class: 'field ru-cond-op', dataset: { field: `conditions[${i}].op` } }, opSel),
      takes ? h('div', { class: 'field ru-cond-value', dataset: { field: `conditions[${i}].value` } }, value) : h('span', { class: 'ru-cond-value ru-novalue muted' }, '—'),
      h('button', {
        type: 'button', class: 'icon-button fm-tool', 'aria-label': `Remove condition ${i + 1}`, title: 'Remove the condition', disabled: readOnly,
        dataset: { testid: 'rule-condition-remove', role: 'remove' },
        onclick: () => {
          m.conditions = m.conditions.filter((x) => x !== c);
          renderConditions();
          (condList.querySelector('[data-testid=rule-condition-remove]') || addCond).focus();
          changed();
        },
      }, icon('trash', { size: 15 })));
  }

  function renderConditions(focus) {
    const entity = entityLabel(triggerEntity(m.trigger)).toLowerCase();
    mount(condList, m.conditions.length ? m.conditions.map(condRow)
      : h('li', { class: 'muted fm-rules-empty', dataset: { testid: 'rule-conditions-empty' } }, `No conditions: the rule acts on every ${entity} the trigger brings.`));
    addCond.disabled = readOnly || m.conditions.length >= MAX_CONDITIONS;
    if (focus) condList.querySelector(`[data-row-id="${focus.id}"] [data-role=${focus.role}]`)?.focus();
  }

  // =====================================================================================
  // Then
  const actList = h('ol', { class: 'ru-actions', dataset: { testid: 'rule-actions' } });
  const actBox = h('div', { class: 'form-error', role: 'alert', hidden: true, dataset: { testid: 'error-actions' } });
  const addAct = h('button', {
    type: 'button', class: 'btn btn-sm', disabled: readOnly, dataset: { testid: 'rule-add-action' },
    onclick: () => {
      if (m.actions.length >= MAX_ACTIONS) return;
      const a = { id: ++uid, ...freshAction('create_task') };
      m.actions.push(a);
      renderActions({ id: a.id, role: 'kind' });
      changed();
    },
  }, icon('plus', { size: 14 }), h('span', null, 'Add an action'));
  const actionsEl = h('div', { class: 'ru-actions-editor' }, actBox, actList, readOnly ? null : h('div', null, addAct));

  function userSelect(a, i, { withOwner }) {
    const sel = h('select', { class: 'input', id: `${p}-a${a.id}-user`, name: `actions[${i}].user`, disabled: readOnly, dataset: { testid: 'rule-action-user', role: 'user' } },
      withOwner ? h('option', { value: 'owner' }, 'The record’s owner') : h('option', { value: '' }, 'Choose someone…'),
      people.map((u) => h('option', { value: u.id, selected: u.id === a.user ? true : null }, `${session.userDisplayName(u)}${u.id === me ? ' (you)' : ''}`)),
      a.user && a.user !== 'owner' && !people.some((u) => u.id === a.user) ? h('option', { value: a.user, selected: true }, userName(a.user)) : null);
    if (withOwner && (!a.user || a.user === 'owner')) sel.value = 'owner';
    sel.addEventListener('change', () => { clearFieldError(sel); a.user = sel.value; changed(); });
    return sel;
  }

  function actionParams(a, i) {
    const id = (s) => `${p}-a${a.id}-${s}`;
    const name = (s) => `actions[${i}].${s}`;
    const entity = triggerEntity(m.trigger);
    switch (a.kind) {
      case 'create_task': {
        const subject = h('input', {
          class: 'input', id: id('subject'), name: name('subject'), value: a.subject || '', readonly: readOnly, maxlength: 200, autocomplete: 'off',
          placeholder: 'Call {{ name }}', dataset: { testid: 'rule-action-subject', role: 'subject', hint: id('subject-hint') }, 'aria-describedby': id('subject-hint'),
        });
        subject.addEventListener('input', () => { clearFieldError(subject); a.subject = subject.value; changed(); });
        const insert = h('button', {
          type: 'button', class: 'link-button ru-insert', disabled: readOnly, dataset: { testid: 'rule-action-insert-name' },
          onclick: () => {
            const at = subject.selectionStart ?? subject.value.length;
            subject.value = `${subject.value.slice(0, at)}{{ name }}${subject.value.slice(subject.selectionEnd ?? at)}`;
            a.subject = subject.value;
            subject.focus();
            changed();
          },
        }, 'Insert the name');
        const due = h('input', {
          class: 'input', id: id('due'), type: 'number', inputmode: 'numeric', min: 0, max: 365, step: 1, name: name('due_in_days'),
          value: a.due_in_days ?? '', readonly: readOnly, placeholder: '0', dataset: { testid: 'rule-action-due', role: 'due_in_days' },
        });
        due.addEventListener('input', () => { clearFieldError(due); a.due_in_days = due.value === '' ? undefined : Math.round(Number(due.value)); changed(); });
        return [
          h('div', { class: 'field', dataset: { field: name('subject') } },
            h('label', { for: subject.id }, 'Task'), subject,
            h('p', { class: 'field-hint muted', id: id('subject-hint') }, h('code', null, '{{ name }}'), ' becomes the record’s name. ', readOnly ? null : insert)),
          fieldWrap(name('due_in_days'), 'Due in (days)', due, { half: true }),
          fieldWrap(name('user'), 'For', userSelect(a, i, { withOwner: true }), { half: true }),
        ];
      }
      case 'add_tag': {
        const listId = id('tags');
        const tag = h('input', {
          class: 'input', id: id('tag'), name: name('tag'), value: a.tag || '', readonly: readOnly, maxlength: 50, autocomplete: 'off', list: listId,
          placeholder: 'e.g. vip', dataset: { testid: 'rule-action-tag', role: 'tag' },
        });
        tag.addEventListener('input', () => { clearFieldError(tag); a.tag = tag.value; changed(); });
        return [fieldWrap(name('tag'), 'Tag', tag, { half: true }), h('datalist', { id: listId }, (ctx.tags || []).map((t) => h('option', { value: t.tag })))];
      }
      case 'update_field': {
        const fields = fieldsOf(entity).filter((f) => !f.key.startsWith('value.') && !['owner_id', 'assignee_id', 'tags', 'stage_id', 'status'].includes(f.key));
        const f = fields.find((x) => x.key === a.field);
        const fieldSel = h('select', { class: 'input', id: id('field'), name: name('field'), disabled: readOnly, dataset: { testid: 'rule-action-field', role: 'field' } },
          h('option', { value: '' }, 'Choose a field…'),
          fields.map((x) => h('option', { value: x.key, selected: x.key === a.field ? true : null }, x.label)),
          a.field && !f ? h('option', { value: a.field, selected: true }, a.field) : null);
        fieldSel.addEventListener('change', () => { clearFieldError(fieldSel); a.field = fieldSel.value; a.value = ''; renderActions({ id: a.id, role: 'field' }); changed(); });
        let value;
        if (f?.options?.length) {
          value = h('select', { class: 'input', id: id('value'), name: name('value'), disabled: readOnly, dataset: { testid: 'rule-action-value', role: 'value' } },
            h('option', { value: '' }, 'Choose…'),
            f.options.map((o) => h('option', { value: o, selected: String(o) === String(a.value) ? true : null }, f.key === 'lifecycle_stage' ? stageLabel(o) : o)));
          value.addEventListener('change', () => { clearFieldError(value); a.value = value.value; changed(); });
        } else {
          value = h('input', { class: 'input', id: id('value'), name: name('value'), value: a.value ?? '', readonly: readOnly, autocomplete: 'off', maxlength: 500, dataset: { testid: 'rule-action-value', role: 'value' } });
          value.addEventListener('input', () => { clearFieldError(value); a.value = value.value; changed(); });
        }
        return [fieldWrap(name('field'), 'Field', fieldSel, { half: true }), fieldWrap(name('value'), 'New value', value, { half: true })];
      }
      case 'change_owner':
        return [fieldWrap(name('user'), entity === 'ticket' ? 'New assignee' : 'New owner', userSelect(a, i, { withOwner: false }), { half: true })];
      case 'send_email': {
        const sel = h('select', { class: 'input', id: id('template'), name: name('template_id'), disabled: readOnly, dataset: { testid: 'rule-action-template', role: 'template_id' } },
          h('option', { value: '' }, (ctx.templates || []).length ? 'Choose a template…' : 'No templates yet'),
          (ctx.templates || []).map((t) => h('option', { value: t.id, selected: t.id === a.template_id ? true : null }, t.name || 'Untitled template')),
          a.template_id && !(ctx.templates || []).some((t) => t.id === a.template_id) ? h('option', { value: a.template_id, selected: true }, 'A template that was deleted') : null);
        sel.addEventListener('change', () => { clearFieldError(sel); a.template_id = sel.value; changed(); });
        return [fieldWrap(name('template_id'), 'Email template', sel, {
          half: true,
          hint: h('span', null, 'To the record’s contact; consent and suppressions are checked as for campaigns. ', h('a', { href: '/campaigns/templates/new', target: '_blank', rel: 'noopener' }, 'New template')),
        })];
      }
      case 'enrol_in_sequence': {
        const seqs = ctx.sequences || [];
        const sel = h('select', { class: 'input', id: id('sequence'), name: name('sequence_id'), disabled: readOnly, dataset: { testid: 'rule-action-sequence', role: 'sequence_id' } },
          h('option', { value: '' }, seqs.length ? 'Choose a sequence…' : 'No sequences yet'),
          seqs.map((s) => h('option', { value: s.id, selected: s.id === a.sequence_id ? true : null }, `${s.name || 'Untitled sequence'}${s.status && s.status !== 'active' ? ` (${s.status})` : ''}`)),
          a.sequence_id && !seqs.some((s) => s.id === a.sequence_id) ? h('option', { value: a.sequence_id, selected: true }, 'A sequence that was deleted') : null);
        sel.addEventListener('change', () => { clearFieldError(sel); a.sequence_id = sel.value; changed(); });
        return [fieldWrap(name('sequence_id'), 'Sequence', sel, { half: true, hint: 'Once per contact, whatever the sequence’s segment says.' })];
      }
      default:
        return [h('p', { class: 'muted' }, `An action this page does not know: ${a.kind}.`)];
    }
  }

  function actRow(a, i) {
    const title = actionLabel(a.kind);
    const kind = h('select', {
      class: 'input ru-kind', id: `${p}-a${a.id}-kind`, name: `actions[${i}].kind`, disabled: readOnly, 'aria-label': `Action ${i + 1}`,
      dataset: { testid: 'rule-action-kind', role: 'kind' },
    }, options(ACTIONS.map((x) => ({ value: x.value, label: x.label })), a.kind),
    ACTIONS.some((x) => x.value === a.kind) ? null : h('option', { value: a.kind, selected: true }, a.kind));
    kind.addEventListener('change', () => {
      clearFieldError(kind);
      const fresh = { id: a.id, ...freshAction(kind.value) };
      m.actions[m.actions.indexOf(a)] = fresh;
      renderActions({ id: a.id, role: 'kind' });
      changed();
    });
    const tool = (testid, label, iconName, onclick, disabled) => h('button', {
      type: 'button', class: 'icon-button fm-tool', 'aria-label': label, title: label, disabled: readOnly || disabled, dataset: { testid, role: testid }, onclick,
    }, icon(iconName, { size: 15 }));
    const up = tool('rule-action-up', `Move “${title}” up`, 'chevronDown', () => moveAction(a, -1), i === 0);
    up.querySelector('svg').style.transform = 'rotate(180deg)';
    return h('li', { class: 'fm-row ru-action', dataset: { testid: 'rule-action-row', kind: a.kind, rowId: String(a.id) } },
      h('div', { class: 'fm-row-head' },
        h('span', { class: 'fm-row-num', 'aria-hidden': 'true' }, String(i + 1)),
        h('div', { class: 'field ru-kind-field', dataset: { field: `actions[${i}].kind` } }, kind),
        h('span', { class: 'fm-row-tools' },
          up,
          tool('rule-action-down', `Move “${title}” down`, 'chevronDown', () => moveAction(a, 1), i === m.actions.length - 1),
          tool('rule-action-remove', `Remove “${title}”`, 'trash', () => {
            m.actions = m.actions.filter((x) => x !== a);
            renderActions();
            (actList.querySelector('[data-testid=rule-action-remove]') || addAct).focus();
            changed();
          }))),
      h('div', { class: 'field-grid fm-row-grid' }, actionParams(a, i)));
  }

  function moveAction(a, d) {
    const i = m.actions.indexOf(a);
    const j = i + d;
    if (i < 0 || j < 0 || j >= m.actions.length) return;
    m.actions.splice(i, 1);
    m.actions.splice(j, 0, a);
    renderActions({ id: a.id, role: d < 0 ? 'rule-action-up' : 'rule-action-down', fallback: d < 0 ? 'rule-action-down' : 'rule-action-up' });
    changed();
  }

  function renderActions(focus) {
    mount(actList, m.actions.length ? m.actions.map(actRow)
      : h('li', { class: 'muted fm-rules-empty', dataset: { testid: 'rule-actions-empty' } }, 'No actions yet: add what the rule should do.'));
    addAct.disabled = readOnly || m.actions.length >= MAX_ACTIONS;
    if (focus) {
      const row = actList.querySelector(`[data-row-id="${focus.id}"]`);
      const usable = (role) => { const el = role && row?.querySelector(`[data-role="${role}"]`); return el && !el.disabled ? el : null; };
      (usable(focus.role) || usable(focus.fallback) || usable('kind'))?.focus();
    }
  }

  // =====================================================================================
  // Reading, errors

  function read() {
    const t = m.trigger;
    const trigger = { kind: t.kind };
    if (t.kind === 'record_created' || t.kind === 'record_updated') trigger.entity = t.entity || 'contact';
    if (t.kind === 'record_updated' && t.changed?.length) trigger.changed = t.changed.slice();
    if (t.kind === 'deal_entered_stage') trigger.stage_id = t.stage_id || '';
    if (t.kind === 'form_submitted' && t.form_id) trigger.form_id = t.form_id;
    if (t.kind === 'date') {
      trigger.field = t.field || '';
      trigger.offset_days = Number.isFinite(Number(t.offset_days)) ? Number(t.offset_days) : 0;
      if (t.time_zone) trigger.time_zone = t.time_zone;
    }
    const conditions = m.conditions.map((c) => {
      const out = { field: c.field, op: c.op };
      if (opTakesValue(c.op)) out.value = parseValue(c.value, c.op);
      return out;
    });
    const numeric = new Set(['value', 'probability', 'total', ...(ctx.contactDefs || []).concat(ctx.companyDefs || []).filter((d) => d.kind === 'number' || d.kind === 'money').map((d) => `custom.${d.key}`)]);
    const actions = m.actions.map((a) => {
      const out = { kind: a.kind };
      for (const k of ACTION_KEYS[a.kind] || []) {
        let v = a[k];
        if (k === 'subject' || k === 'tag') v = String(v ?? '').trim();
        if (k === 'value') {
          v = parseValue(v, 'eq');
          if (typeof v === 'string' && numeric.has(a.field) && v !== '' && Number.isFinite(Number(v))) v = Number(v);
        }
        if (k === 'user' && a.kind === 'create_task' && !v) v = 'owner';
        if (v !== undefined && v !== null && !(k === 'due_in_days' && v === '')) out[k] = v;
      }
      return out;
    });
    return { trigger, conditions, actions };
  }

  function clearErrors() {
    [whenBox, condBox, actBox].forEach((b) => { b.hidden = true; });
    [whenEl, conditionsEl, actionsEl].forEach((el) => el.querySelectorAll('select, input, textarea').forEach((x) => clearFieldError(x)));
    whenEl.querySelectorAll('.field-error').forEach((x) => x.remove());
  }

  /** Shows trigger/conditions/actions errors; → the first control with one (or a box), null when none were ours. */
  function showErrors(errors) {
    let first = null;
    const boxes = new Map();
    for (const e of errors || []) {
      const f = e.field || '';
      if (!/^(trigger|conditions|actions)/.test(f)) continue;
      const el = [whenEl, conditionsEl, actionsEl].map((x) => x.querySelector(`[name="${CSS.escape(f)}"]`)).find(Boolean);
      if (el) {
        setFieldError(el, e.message, { testid: `error-${f}` });
        first ||= el;
        continue;
      }
      if (f === 'trigger.changed') {
        const wrap = whenEl.querySelector('[data-field="trigger.changed"]');
        if (wrap) {
          wrap.querySelector(':scope > .field-error')?.remove();
          wrap.append(h('p', { class: 'field-error', dataset: { testid: 'error-trigger.changed' } }, icon('alert', { size: 14 }), h('span', null, capitalize(e.message))));
          first ||= wrap.querySelector('input') || wrap;
          continue;
        }
      }
      const box = f.startsWith('trigger') ? whenBox : f.startsWith('conditions') ? condBox : actBox;
      if (!boxes.has(box)) boxes.set(box, []);
      boxes.get(box).push(capitalize(e.message));
    }
    for (const [box, msgs] of boxes) {
      box.hidden = false;
      mount(box, icon('alert'), h('div', null, msgs.join('. ')));
      first ||= box;
    }
    return first;
  }

  /** The rule in one sentence, for the summary beside the builder. */
  function summary(name) {
    const entity = triggerEntity(m.trigger);
    const fields = fieldsOf(entity);
    const label = (k) => fields.find((f) => f.key === k)?.label || k;
    const op = (o) => OPS.find((x) => x.value === o)?.label || o;
    const parts = [];
    parts.push(h('p', null, h('strong', null, 'When '), triggerText(m.trigger, textCtx()).replace(/^When /, '').replace(/^./, (c) => c.toLowerCase())));
    if (m.conditions.length) {
      parts.push(h('p', null, h('strong', null, 'Only if '), m.conditions.map((c, i) => [i ? ' and ' : '', h('span', { class: 'ru-sum-field' }, label(c.field)), ` ${op(c.op)}`,
        opTakesValue(c.op) ? [' ', h('q', null, c.field === 'lifecycle_stage' ? stageLabel(c.value) : c.value)] : null])));
    }
    parts.push(h('p', null, h('strong', null, 'Then')));
    parts.push(m.actions.length ? h('ol', { class: 'ru-sum-actions' }, m.actions.map((a) => h('li', null, h('span', { class: 'ru-sum-icon', 'aria-hidden': 'true' }, actionIcon(a.kind, 13)), h('span', null, actionSentence(a))))) : h('p', { class: 'muted' }, 'Nothing yet.'));
    return h('div', { class: 'ru-summary-body', dataset: { testid: 'rule-summary-text', name: name || '' } }, parts);
  }

  function actionSentence(a) {
    const who = (u) => (!u || u === 'owner' ? 'the record’s owner' : userName(u));
    switch (a.kind) {
      case 'create_task': {
        const due = Number(a.due_in_days) || 0;
        return `A task “${a.subject || '…'}” for ${who(a.user)}, due ${due ? `in ${due} ${due === 1 ? 'day' : 'days'}` : 'the same day'}`;
      }
      case 'add_tag': return `Tag it “${a.tag || '…'}”`;
      case 'update_field': return `Set ${a.field ? fieldsOf(triggerEntity(m.trigger)).find((f) => f.key === a.field)?.label || a.field : '…'} to “${a.value ?? ''}”`;
      case 'change_owner': return `Give it to ${a.user ? userName(a.user) : '…'}`;
      case 'send_email': return `Email “${(ctx.templates || []).find((t) => t.id === a.template_id)?.name || '…'}” to the contact`;
      case 'enrol_in_sequence': return `Enrol the contact in “${(ctx.sequences || []).find((s) => s.id === a.sequence_id)?.name || '…'}”`;
      default: return actionLabel(a.kind);
    }
  }

  function fill(r) {
    load(r);
    fillKinds();
    renderParams();
    renderConditions();
    renderActions();
    clearErrors();
  }

  fill(rule);
  return {
    when: whenEl, conditions: conditionsEl, actions: actionsEl, read, fill, showErrors, clearErrors, summary,
    get model() { return m; },
  };
}
