// A workflow rule (/automations/rules/new, /automations/rules/<id>), in two
// tabs (?tab=):
// - Build: name and on/off, then "When" (the trigger and its parameters),
//   "Only if" (conditions) and "Then" (actions), built by rule-builder.js,
//   beside the rule in words. A new rule can start from a recipe (renewal
//   reminder, replacement notice, welcome on an order, win-back, won deal).
//   Save (Ctrl/Cmd+S; If-Match, 412 reloads); server errors sit beside their
//   controls.
// - Runs (rule-runs.js): the run log with each action's result.
// Roles that cannot build rules see the same pages, read-only.

import { h, mount, icon, toast, pageTitle } from './ui.js';
import { updateUrl } from './router.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import * as fapi from './automations-api.js';
import * as capi from './campaigns-api.js';
import { pipelines } from './pipeline-api.js';
import { emptyState } from './contacts.js';
import { errorBox } from './forms.js';
import { backLink, cicon } from './campaign-display.js';
import { setFieldError, clearFieldError } from './mail-editor.js';
import { ruleHref, ruleStateBadge, recipes, dateFields, nf } from './rule-display.js';
import { ruleBuilder } from './rule-builder.js';
import { runsPanel } from './rule-runs.js';
import {
  loadingCard, loadFailed, editorHeader, saveButton, deleteButton, unsavedNote,
  trackDirty, editorListeners, saveRecord, savedAndRedrawn, saveFailed, reloadRecord, showProblemsInBox, confirmDelete,
} from './editor-shell.js';

let uid = 0;

const TABS = [
  { key: 'build', label: 'Build', iconName: 'pencil' },
  { key: 'runs', label: 'Runs', iconName: 'history' },
];

function newRule() {
  return {
    id: null, name: '', enabled: true,
    trigger: { kind: 'record_created', entity: 'contact' },
    conditions: [],
    actions: [{ kind: 'create_task', subject: 'Follow up with {{ name }}', due_in_days: 1, user: 'owner' }],
    runs: 0,
  };
}

export function rulePageView(root, id = null, { query = new URLSearchParams() } = {}) {
  const p = `rp${++uid}`;
  const controller = new AbortController();
  const state = {
    rule: null, version: null, creating: !id, destroyed: false, ctx: null,
    tab: TABS.some((t) => t.key === query.get('tab')) ? query.get('tab') : 'build',
    dirty: false, saving: false, baseline: null, save: null, runs: null,
  };
  const back = () => backLink('/automations/rules', 'Rules', 'back-to-rules');

  // --- the page ------------------------------------------------------------------------------------
  function render() {
    state.runs?.destroy();
    state.runs = null;
    const r = state.rule;
    const w = fapi.canWriteRules();
    if (state.creating && state.tab !== 'build') state.tab = 'build';
    pageTitle(state.creating ? 'New rule' : (r.name || 'Rule'), 'Automations');

    const dirtyNote = unsavedNote('rule-dirty');
    const actions = [];
    if (w) {
      actions.push(dirtyNote);
      if (!state.creating) actions.push(deleteButton('rule-delete', () => remove()));
      actions.push(saveButton('rule-save', state.creating ? 'Save rule' : 'Save', () => state.save?.()));
    }

    const runs = Number(r.runs) || 0;
    const sub = state.creating
      ? [h('span', { class: 'muted' }, 'A new rule: it acts on what happens once it is saved, not on the past.')]
      : [ruleStateBadge(r.enabled, 'rule-state-badge'), ' ',
        h('span', { dataset: { testid: 'rule-run-count' } }, `${nf.format(runs)} ${runs === 1 ? 'run' : 'runs'}`),
        !w ? h('span', { class: 'muted' }, ' · Your role can see this rule but not change it.') : null];
    const header = editorHeader({
      className: 'fm-page-header', titleId: `${p}-h`, eyebrow: 'Automations · Rule',
      title: state.creating ? 'New rule' : (r.name || 'Untitled rule'), titleTestid: 'rule-title', sub, subTestid: 'rule-sub', actions,
    });

    // Tabs (roving focus: ←/→, Home, End).
    const tabButtons = TABS.map((t) => {
      const off = state.creating && t.key !== 'build';
      return h('button', {
        type: 'button', role: 'tab', class: 'tab fm-tab', id: `${p}-tab-${t.key}`, 'aria-controls': `${p}-panel-${t.key}`,
        'aria-selected': String(t.key === state.tab), tabindex: t.key === state.tab ? '0' : '-1', 'aria-disabled': off ? 'true' : null,
        title: off ? 'Save the rule first' : null, dataset: { testid: `rule-tab-${t.key}`, tab: t.key },
        onclick: () => { if (!off) selectTab(t.key); },
      }, cicon(t.iconName, { size: 16 }), h('span', null, t.label),
      t.key === 'runs' && !state.creating ? h('span', { class: 'fm-tab-count num', dataset: { testid: 'rule-tab-count' } }, nf.format(runs)) : null);
    });
    const tablist = h('div', { class: 'tabs fm-tabs', role: 'tablist', 'aria-label': 'Rule sections', dataset: { testid: 'rule-tabs' } }, tabButtons);
    tablist.addEventListener('keydown', (e) => {
      const enabled = tabButtons.filter((b) => b.getAttribute('aria-disabled') !== 'true');
      const j = enabled.indexOf(document.activeElement);
      if (j < 0) return;
      let next = null;
      if (e.key === 'ArrowRight') next = enabled[(j + 1) % enabled.length];
      else if (e.key === 'ArrowLeft') next = enabled[(j - 1 + enabled.length) % enabled.length];
      else if (e.key === 'Home') next = enabled[0];
      else if (e.key === 'End') next = enabled[enabled.length - 1];
      if (!next) return;
      e.preventDefault();
      selectTab(next.dataset.tab);
      next.focus();
    });

    const panels = {
      build: h('div', { role: 'tabpanel', id: `${p}-panel-build`, 'aria-labelledby': `${p}-tab-build`, class: 'fm-panel' }, builder(r, dirtyNote, w)),
      runs: h('div', { role: 'tabpanel', id: `${p}-panel-runs`, 'aria-labelledby': `${p}-tab-runs`, class: 'fm-panel', tabindex: '-1' }),
    };
    state.panels = panels;
    state.tabButtons = tabButtons;
    mount(root, back(), header, tablist, ...Object.values(panels));
    selectTab(state.tab, { initial: true });
  }

  function selectTab(key, { initial = false } = {}) {
    state.tab = key;
    state.tabButtons.forEach((b) => {
      const on = b.dataset.tab === key;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    });
    Object.entries(state.panels).forEach(([k, el]) => { el.hidden = k !== key; });
    if (!state.creating) updateUrl(ruleHref(state.rule.id, key));
    if (key === 'runs') {
      if (!state.runs) {
        state.runs = runsPanel({ rule: state.rule });
        state.runs.onCount((n) => {
          const c = root.querySelector('[data-testid=rule-tab-count]');
          if (!c || n <= Number(c.textContent.replace(/\D/g, '') || 0)) return;
          c.textContent = nf.format(n);
          const sub = root.querySelector('[data-testid=rule-run-count]');
          if (sub) sub.textContent = `${nf.format(n)}${n >= 200 ? '+' : ''} ${n === 1 ? 'run' : 'runs'}`;
        });
        mount(state.panels.runs, state.runs.el);
        state.runs.load();
      } else if (!initial) state.runs.load();
    }
  }

  // --- Build -----------------------------------------------------------------------------------------
  function builder(r, dirtyNote, w) {
    const readOnly = !w;
    const box = errorBox('rule-error');
    const req = h('span', { class: 'req', 'aria-hidden': 'true' }, ' *');

    const name = h('input', {
      class: 'input', id: `${p}-name`, name: 'name', maxlength: 120, autocomplete: 'off', required: true, value: r.name || '', readonly: readOnly,
      placeholder: 'e.g. Call new leads, Renewal reminder', dataset: { testid: 'rule-name' },
    });
    const enabled = h('input', { type: 'checkbox', role: 'switch', id: `${p}-enabled`, name: 'enabled', checked: r.enabled !== false, disabled: readOnly, dataset: { testid: 'rule-enabled' } });
    const enabledText = h('span', { class: 'fm-switch-text', dataset: { testid: 'rule-enabled-text' } });
    const syncEnabled = () => {
      enabledText.textContent = enabled.checked ? 'On: it acts on what happens from now on' : 'Off: it does nothing until switched on';
    };
    syncEnabled();

    const summaryBody = h('div', { class: 'ru-summary', 'aria-live': 'polite' });
    const b = ruleBuilder({ rule: r, ctx: state.ctx, readOnly, onChange: () => changed() });
    state.builder = b;
    function changed() {
      syncDirty();
      mount(summaryBody, b.summary(name.value.trim()));
    }

    const card = (key, title, lead, ...children) => h('section', { class: 'card ru-card', 'aria-labelledby': `${p}-${key}-h`, dataset: { testid: `rule-card-${key}` } },
      h('h2', { class: 'seg-card-title ru-card-title', id: `${p}-${key}-h` }, title),
      lead ? h('p', { class: 'muted seg-card-lead' }, lead) : null, ...children);

    // Recipes (a new rule only).
    let recipesCard = null;
    if (state.creating && w) {
      const list = recipes({ dateDefs: dateFields(state.ctx.contactDefs).filter((f) => f.group === 'Custom fields'), templates: state.ctx.templates });
      recipesCard = h('section', { class: 'card ru-card ru-recipes', 'aria-labelledby': `${p}-rc-h`, dataset: { testid: 'rule-recipes' } },
        h('h2', { class: 'seg-card-title', id: `${p}-rc-h` }, 'Start from a recipe'),
        h('p', { class: 'muted seg-card-lead' }, 'It fills in the rule below; change anything before you save.'),
        h('div', { class: 'seg-starter-grid ru-recipe-grid' }, list.map((x) => h('button', {
          type: 'button', class: 'seg-starter', dataset: { testid: `rule-recipe-${x.key}`, recipe: x.key },
          onclick: () => {
            b.fill(x.rule);
            name.value = x.rule.name;
            enabled.checked = x.rule.enabled !== false;
            syncEnabled();
            clearFieldError(name);
            box.hidden = true;
            root.querySelector('[data-testid=rule-title]').textContent = x.rule.name;
            changed();
            toast(`“${x.title}” is filled in below. Check the choices it left open, then save.`, { title: 'Recipe used', timeout: 4000 });
            root.querySelector(`[data-testid=rule-card-when]`)?.scrollIntoView({ block: 'start', behavior: 'smooth' });
            root.querySelector('[data-testid=rule-trigger-kind]')?.focus({ preventScroll: true });
          },
        }, h('span', { class: 'seg-starter-title' }, x.title), h('span', { class: 'seg-starter-text muted' }, x.text)))));
    }

    const main = h('fieldset', { class: 'cp-editor-main cp-stack fm-main ru-main', disabled: readOnly },
      h('legend', { class: 'visually-hidden' }, 'The rule'),
      box,
      recipesCard,
      card('details', 'Details', null,
        h('div', { class: 'field-grid' },
          h('div', { class: 'field field-half', dataset: { field: 'name' } }, h('label', { for: name.id }, 'Name', req), name),
          h('div', { class: 'field field-half', dataset: { field: 'enabled' } }, h('span', { class: 'fm-label' }, 'On'),
            h('label', { class: 'fm-switch', for: enabled.id }, enabled, h('span', { class: 'fm-switch-track', 'aria-hidden': 'true' }), enabledText)))),
      card('when', h('span', { class: 'ru-step' }, h('span', { class: 'ru-step-num', 'aria-hidden': 'true' }, '1'), 'When'), null, b.when),
      card('if', h('span', { class: 'ru-step' }, h('span', { class: 'ru-step-num', 'aria-hidden': 'true' }, '2'), 'Only if'),
        'All conditions must hold on the record as it is when the rule runs.', b.conditions),
      card('then', h('span', { class: 'ru-step' }, h('span', { class: 'ru-step-num', 'aria-hidden': 'true' }, '3'), 'Then'),
        'In this order; each is done once per run, and a refusal is recorded in the run log.', b.actions));
    const side = h('div', { class: 'cp-editor-side' },
      h('section', { class: 'card ru-summary-card', 'aria-labelledby': `${p}-sum-h`, dataset: { testid: 'rule-summary' } },
        h('h2', { class: 'seg-card-title', id: `${p}-sum-h` }, icon('eye', { size: 15 }), 'In words'),
        summaryBody,
        h('p', { class: 'muted ru-summary-note' }, 'Changes made by rules start no other rules, so rules cannot loop.')));
    const form = h('form', { class: 'cp-editor ru-editor', novalidate: true, 'aria-labelledby': `${p}-h`, dataset: { testid: 'rule-builder', ruleId: r.id || null } }, main, side);
    form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
    form.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || e.target.tagName === 'TEXTAREA' || e.target.tagName === 'BUTTON') return;
      if (e.ctrlKey || e.metaKey) { e.preventDefault(); save(); } else if (e.target.tagName === 'INPUT') e.preventDefault();
    });
    name.addEventListener('input', () => {
      clearFieldError(name);
      changed();
      if (state.creating) root.querySelector('[data-testid=rule-title]').textContent = name.value.trim() || 'New rule';
    });
    enabled.addEventListener('change', () => { syncEnabled(); changed(); });

    function currentBody() {
      return { name: name.value.trim(), enabled: enabled.checked, ...b.read() };
    }
    const syncDirty = trackDirty(state, dirtyNote, currentBody);
    changed();

    function showErrors(err) {
      b.clearErrors();
      clearFieldError(name);
      box.hidden = true;
      const errors = err.errors || [];
      const ours = b.showErrors(errors);
      const rest = [];
      let own = null;
      for (const e of errors) {
        if (/^(trigger|conditions|actions)/.test(e.field || '')) continue;
        if (e.field === 'name') { setFieldError(name, e.message, { testid: 'error-name' }); own ||= name; } else rest.push(`${e.field ? `${e.field}: ` : ''}${e.message}`);
      }
      const first = own || ours;
      if (rest.length || !first) showProblemsInBox(box, err, rest, 'Please check the rule');
      const target = first || box;
      if (state.tab !== 'build') selectTab('build');
      target.scrollIntoView?.({ block: 'center' });
      target.focus?.({ preventScroll: true });
    }

    /** Saves the rule; → true when saved (or nothing changed). */
    async function save() {
      if (state.saving || readOnly) return false;
      const body = currentBody();
      box.hidden = true;
      if (!body.name) {
        showErrors({ errors: [{ field: 'name', message: 'give the rule a name' }] });
        return false;
      }
      if (!state.creating && JSON.stringify(body) === state.baseline) {
        toast('Nothing changed.', { title: 'Saved', timeout: 2000 });
        return true;
      }
      try {
        return await saveRecord({
          state, what: 'rule', form, button: root.querySelector('[data-testid=rule-save]'),
          send: () => (state.creating ? fapi.createRule(body) : fapi.updateRule(state.rule.id, body, state.version)),
          href: (saved) => ruleHref(saved.id),
          saved: (res, wasNew) => savedAndRedrawn({
            root, render, saveTestid: 'rule-save',
            message: wasNew
              ? `“${res.rule.name}” is saved${res.rule.enabled ? ' and on: it acts on what happens from now on' : ' (off)'}.`
              : 'Your changes are saved.',
            options: {
              kind: 'success', title: wasNew ? 'Rule created' : 'Saved',
              action: wasNew ? { label: 'See its runs', onClick: () => { if (!state.destroyed) selectTab('runs'); } } : null,
            },
          }),
        });
      } catch (err) {
        return saveFailed(err, { state, what: 'rule', reload, showErrors });
      }
    }
    state.save = readOnly ? null : save;
    return form;
  }

  // --- actions --------------------------------------------------------------------------------------
  function remove() {
    const r = state.rule;
    const n = Number(r.runs) || 0;
    confirmDelete({
      state, what: 'rule', name: r.name, testid: 'rule-confirm-delete', listHref: '/automations/rules',
      text: `It stops at once. What it did${n ? ` in its ${nf.format(n)} ${n === 1 ? 'run' : 'runs'}` : ''} (tasks, tags, emails) stays. This cannot be undone; to pause it, switch it off instead.`,
      send: () => fapi.deleteRule(r.id),
    });
  }

  function reload() {
    return reloadRecord({ state, what: 'rule', fetch: () => fapi.getRule(state.rule.id, { signal: controller.signal }), render });
  }

  // --- start ------------------------------------------------------------------------------------------
  async function start() {
    mount(root, back(), loadingCard());
    const signal = controller.signal;
    const soft = (promise, fallback) => promise.catch((err) => { if (err?.name === 'AbortError') throw err; return fallback; });
    try {
      const [one, users, pls, forms, templates, sequences, contactDefs, companyDefs, tags] = await Promise.all([
        id ? fapi.getRule(id, { signal }) : null,
        soft(crm.userDirectory({ fresh: true, signal }), new Map()),
        soft(pipelines(), []),
        soft(fapi.listForms({ signal }), []),
        soft(capi.listTemplates({ signal }), []),
        soft(fapi.listSequences({ signal }), []),
        soft(crm.customFields('contact'), []),
        soft(crm.customFields('company'), []),
        soft(crm.tags('contact'), []),
        session.whenLoaded(),
      ]);
      if (state.destroyed) return;
      if (!id && !fapi.canWriteRules()) {
        pageTitle('New rule', 'Automations');
        mount(root, back(), emptyState({
          testid: 'error-state', iconName: 'lock', title: 'Your role cannot build rules',
          text: 'Marketing, managers, admins and owners build rules; you can see them and their runs.',
          actions: [h('a', { class: 'btn btn-primary', href: '/automations/rules' }, 'All rules')],
        }));
        return;
      }
      state.ctx = { users, pipelines: pls, forms, templates, sequences, contactDefs, companyDefs, tags };
      if (one) {
        state.rule = one.rule;
        state.version = one.version;
      } else {
        state.rule = newRule();
      }
      render();
      const first = state.creating && fapi.canWriteRules() ? root.querySelector('[data-testid=rule-name]') : root.querySelector('h1');
      first?.focus({ preventScroll: !state.creating });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      loadFailed(root, back(), err, { what: 'rule', listHref: '/automations/rules', retry: start });
    }
  }

  const stopListening = editorListeners(state);

  start();
  return {
    kind: 'rule-page',
    destroy() {
      state.destroyed = true;
      controller.abort();
      state.runs?.destroy();
      stopListening();
    },
  };
}
