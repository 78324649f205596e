// Automations › Rules (/automations/rules): every workflow rule with its
// trigger in words, what it does, an on/off switch (If-Match; someone
// else's change reloads the list), how many times it ran and when it last
// did. Keyboard: j/k select, Enter opens, n or c makes a new rule.

import { h, mount, icon, toast, toastError, pageTitle, debounce, formatDate } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import * as fapi from './automations-api.js';
import { pipelines } from './pipeline-api.js';
import { emptyState } from './contacts.js';
import { loadList, rowSelection } from './list-kit.js';
import { automationsHeader } from './form-display.js';
import { ruleHref, triggerText, actionsText, ago, nf } from './rule-display.js';

export function ruleListView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    items: [], loaded: false, q: (query.get('q') || '').trim(), selected: -1, destroyed: false, controller: null,
    ctx: { stages: new Map(), forms: new Map(), defs: [] }, saving: new Set(),
  };
  pageTitle('Rules', 'Automations');

  const newButton = h('a', {
    class: 'btn btn-primary', href: '/automations/rules/new', dataset: { testid: 'new-rule' }, hidden: true, 'aria-keyshortcuts': 'n',
  }, icon('plus'), h('span', null, 'New rule'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));
  const searchInput = h('input', {
    id: 'rul-search', class: 'input-sm', type: 'search', autocomplete: 'off', maxlength: 120, placeholder: 'Search rules',
    value: state.q, dataset: { testid: 'rule-search' },
  });
  const search = h('form', { class: 'ol-search', role: 'search', 'aria-label': 'Find rules', onsubmit: (e) => { e.preventDefault(); render(); } },
    h('label', { for: 'rul-search', class: 'visually-hidden' }, 'Search rules'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), searchInput));
  const renderSoon = debounce(() => render(), 150);
  searchInput.addEventListener('input', renderSoon);
  const summary = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'rules-summary' } });

  const cols = ['rucol-name', 'rucol-when', 'rucol-on', 'rucol-runs', 'rucol-last'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table cp-table ru-table', dataset: { testid: 'rules-list' } },
    h('caption', { class: 'visually-hidden' }, 'Workflow rules'),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'rucol-name' }, 'Rule'),
      h('th', { scope: 'col', class: 'rucol-when' }, 'When'),
      h('th', { scope: 'col', class: 'rucol-on' }, 'On'),
      h('th', { scope: 'col', class: 'rucol-runs align-end' }, 'Runs'),
      h('th', { scope: 'col', class: 'rucol-last' }, 'Last run'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });

  mount(root,
    ...automationsHeader('rules', { sub: 'When something happens, or a date comes round, do something: tasks, tags, fields, owners, emails', actions: [newButton] }),
    h('div', { class: 'ol-toolbar cp-toolbar' }, search, summary),
    wrap, empty,
    h('p', { class: 'visually-hidden', id: 'rul-help' }, 'Press j and k to move between rules and Enter to open one.'));

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button, label, input')) return;
    tr.querySelector('a.row-link')?.click();
  });

  function syncUrl() {
    updateUrl(`/automations/rules${state.q ? `?q=${encodeURIComponent(state.q)}` : ''}`);
  }

  function toggle(r, input) {
    const want = input.checked;
    if (state.saving.has(r.id)) return;
    state.saving.add(r.id);
    input.disabled = true;
    fapi.updateRule(r.id, { enabled: want }, r.version).then(({ rule }) => {
      state.saving.delete(r.id);
      if (state.destroyed) return;
      Object.assign(r, rule);
      const tr = tbody.querySelector(`tr[data-id="${CSS.escape(r.id)}"]`);
      if (tr) tr.replaceWith(row(r));
      tbody.querySelector(`tr[data-id="${CSS.escape(r.id)}"] [data-testid=rule-row-enabled]`)?.focus();
      renderSummary();
      toast(`“${r.name}” is ${rule.enabled ? 'on: it acts on what happens from now on' : 'off: it stops at once'}.`, { kind: 'success', title: rule.enabled ? 'Rule on' : 'Rule off', timeout: 3500 });
    }).catch((err) => {
      state.saving.delete(r.id);
      if (state.destroyed) return;
      input.disabled = !fapi.canWriteRules();
      input.checked = !want;
      if (err.status === 412) {
        toast('Someone else changed this rule meanwhile. The list shows their version now.', { kind: 'error', title: 'Changed by someone else', requestId: err.requestId });
        load();
      } else toastError(err, 'Could not switch the rule');
    });
  }

  function switchCell(r) {
    const w = fapi.canWriteRules();
    const input = h('input', {
      type: 'checkbox', role: 'switch', checked: !!r.enabled, disabled: !w, 'aria-label': `${r.name}: on`,
      dataset: { testid: 'rule-row-enabled' },
    });
    input.addEventListener('change', () => toggle(r, input));
    return h('label', { class: 'fm-switch ru-row-switch', title: w ? (r.enabled ? 'On: switch off' : 'Off: switch on') : 'Your role can see rules but not change them' },
      input, h('span', { class: 'fm-switch-track', 'aria-hidden': 'true' }));
  }

  function row(r) {
    const when = triggerText(r.trigger, state.ctx);
    const n = Number(r.runs) || 0;
    return h('tr', { class: r.enabled ? null : 'ru-off', dataset: { testid: 'rule-row', id: r.id, ruleId: r.id, enabled: String(!!r.enabled) } },
      h('td', { class: 'rucol-name' },
        h('div', { class: 'name-text' },
          h('a', { class: 'row-link', href: ruleHref(r.id), 'aria-describedby': 'rul-help', dataset: { testid: 'rule-link' } }, r.name || 'Untitled rule'),
          h('div', { class: 'cp-sub truncate' },
            h('span', { class: 'ru-sub-when' }, when, '\u00a0→\u00a0'),
            actionsText(r.actions) || 'No actions',
            r.conditions?.length ? ` · ${r.conditions.length} ${r.conditions.length === 1 ? 'condition' : 'conditions'}` : ''))),
      h('td', { class: 'rucol-when', title: when }, h('span', { class: 'ru-when truncate', dataset: { testid: 'rule-row-when' } }, when)),
      h('td', { class: 'rucol-on' }, switchCell(r)),
      h('td', { class: 'rucol-runs align-end num', dataset: { testid: 'rule-row-runs' } },
        n ? h('a', { href: ruleHref(r.id, 'runs'), class: 'ru-runs-link', title: 'Open the run log' }, nf.format(n)) : h('span', { class: 'muted' }, '0')),
      h('td', { class: 'rucol-last' }, r.last_run_at
        ? h('time', { datetime: r.last_run_at, title: formatDate(r.last_run_at, { withTime: true }), dataset: { testid: 'rule-row-last' } }, ago(r.last_run_at))
        : h('span', { class: 'muted' }, 'Never')));
  }

  function shownItems() {
    const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    return state.items.filter((r) => {
      const hay = `${r.name} ${triggerText(r.trigger, state.ctx)} ${actionsText(r.actions)}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
  }

  function renderSummary() {
    const shown = shownItems();
    const on = shown.filter((r) => r.enabled).length;
    summary.textContent = `${nf.format(shown.length)} ${shown.length === 1 ? 'rule' : 'rules'}${shown.length ? ` · ${nf.format(on)} on` : ''}`;
  }

  function render() {
    state.q = searchInput.value.trim();
    syncUrl();
    if (!state.loaded) return;
    const shown = shownItems();
    const selectedId = tbody.querySelectorAll('tr[data-id]')[state.selected]?.dataset.id;
    mount(tbody, shown.map(row));
    if (selectedId) {
      const rows = [...tbody.querySelectorAll('tr[data-id]')];
      state.selected = rows.findIndex((r) => r.dataset.id === selectedId);
      rows[state.selected]?.classList.add('is-selected');
    } else state.selected = -1;
    renderSummary();
    wrap.hidden = !shown.length;
    empty.hidden = !!shown.length;
    if (shown.length) return;
    const w = fapi.canWriteRules();
    mount(empty, state.items.length
      ? emptyState({
        iconName: 'search', title: 'No rules match', text: 'Try another word.',
        actions: [h('button', { type: 'button', class: 'btn', onclick: () => { searchInput.value = ''; render(); } }, 'Show every rule')],
      })
      : emptyState({
        iconName: 'zap', title: 'No rules yet', testid: 'rules-empty',
        text: 'A rule does the routine for you: a task when a lead comes in, a reminder 30 days before a renewal, a welcome email with a first order, a note to win back a customer who went quiet.',
        actions: w ? [h('a', { class: 'btn btn-primary', href: '/automations/rules/new', dataset: { testid: 'empty-new-rule' } }, icon('plus', { size: 15 }), 'New rule')] : [],
        hint: w ? 'Start from a recipe on the next page, or build your own.' : 'Your role can see rules; marketing, managers, admins and owners build them.',
      }));
  }

  /** Names for the triggers' stages and forms (the list shows ids until then). */
  async function loadContext(signal) {
    const [pls, forms, defs] = await Promise.all([
      pipelines().catch(() => []),
      fapi.listForms({ signal }).catch(() => []),
      crm.customFields('contact').catch(() => []),
    ]);
    if (state.destroyed || signal.aborted) return;
    state.ctx = {
      stages: new Map(pls.flatMap((p) => p.stages.map((s) => [s.id, { ...s, name: pls.length > 1 ? `${p.name} › ${s.name}` : s.name }]))),
      forms: new Map(forms.map((f) => [f.id, f])),
      defs,
    };
    render();
  }

  function load() {
    return loadList({
      state, table, wrap, empty, tbody, cols, title: 'Rules', noun: 'the rules', retry: load,
      fetch: (signal) => Promise.all([fapi.listRules({ signal }), session.whenLoaded()]),
      loaded: ([items], signal) => {
        state.items = items;
        state.loaded = true;
        render();
        loadContext(signal);
      },
    });
  }

  const rowsKeys = rowSelection(tbody, state);

  session.whenLoaded().then(() => { if (!state.destroyed) newButton.hidden = !fapi.canWriteRules(); });
  load();
  return {
    kind: 'rule-list',
    moveSelection: rowsKeys.move,
    openSelection: rowsKeys.open,
    openCreate: () => { if (fapi.canWriteRules()) navigate('/automations/rules/new'); },
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      renderSoon.cancel();
    },
  };
}
