// Automations › Handover (/automations/handover): when a rep leaves, hand
// their accounts over. Choose who is leaving (from the directory), see what
// they own now (companies, contacts, open deals, open tickets, open tasks),
// tick what moves, choose one or several colleagues, optionally rules ("records
// whose country is DE, AT go to Dieter": the first that matches wins), see who
// would get what (the plan, asked of the server as things change), start — and
// see what moved to whom, kind by kind, or the progress of a large handover
// (polled while it runs; the scheduler keeps working on it). Earlier handovers
// are listed beside it (?id= shows one). Owners, admins and managers only.

import { h, mount, icon, toast, toastError, pageTitle, formatDate } from './ui.js';
import { updateUrl } from './router.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import * as fapi from './automations-api.js';
import { emptyState } from './contacts.js';
import { confirmDialog } from './settings-kit.js';
import { capitalize } from './forms.js';
import { automationsHeader } from './form-display.js';
import { xicon, STAGES, SIZES, SOURCES, INDUSTRIES, stageLabel } from './records.js';
import { ago as relative } from './rule-display.js';

const KINDS = [
  { key: 'companies', label: 'Companies', one: 'company', iconName: 'building', note: 'First: their contacts and deals follow the company’s new owner' },
  { key: 'contacts', label: 'Contacts', one: 'contact', iconName: 'users', note: 'Those without a company are shared out in turn' },
  { key: 'deals', label: 'Open deals', one: 'open deal', iconName: 'pipeline', note: 'Won and lost deals keep their owner' },
  { key: 'tickets', label: 'Open tickets', one: 'open ticket', iconName: 'lifebuoy', note: 'Resolved and closed ones stay as they are' },
  { key: 'tasks', label: 'Open tasks', one: 'open task', iconName: 'task', note: 'Done tasks stay theirs' },
];
const POLL_MS = 1500;
const PLAN_DEBOUNCE_MS = 300;
const MAX_RULES = 50;
const MAX_VALUES = 100;
const nf = new Intl.NumberFormat();
let uid = 0;

// What a rule can look at (the record's field; `country` is its address's).
const RULE_FIELDS = [
  { key: 'country', label: 'Country', placeholder: 'DE, AT, CH', hint: 'Two-letter country codes: pick from the list or type them, commas between.' },
  { key: 'industry', label: 'Industry', placeholder: 'Software, Retail' },
  { key: 'size', label: 'Company size', placeholder: '1-10, 11-50' },
  { key: 'lifecycle_stage', label: 'Lifecycle stage', placeholder: 'Lead, Customer' },
  { key: 'source', label: 'Source', placeholder: 'Website, Referral' },
  { key: 'tag', label: 'Tag', placeholder: 'key account' },
];
// The server's words for a bad rule are for developers; these are for people.
const FRIENDLY_ERRORS = {
  field: 'Choose Country, Industry, Company size, Lifecycle stage, Source or Tag',
  values: 'Enter 1 to 100 values (each up to 200 characters)',
  to_user_id: 'Choose one of the colleagues taking over',
};
const ruleField = (key) => RULE_FIELDS.find((f) => f.key === key) || { key, label: key, placeholder: '' };
const HOW = [
  { key: 'company', label: 'by company', title: 'Follow their company to its new owner' },
  { key: 'rule', label: 'by rule', title: 'Matched a rule' },
  { key: 'turn', label: 'in turn', title: 'Shared out evenly' },
];

// Country codes with names (in the page's language), for suggestions and chips.
const NOT_COUNTRIES = new Set(['AC', 'AN', 'BU', 'CP', 'CS', 'DD', 'DG', 'EA', 'EU', 'EZ', 'FX', 'IC', 'NT', 'QO', 'SU', 'TA', 'TP', 'UK', 'UN', 'XA', 'XB', 'YD', 'YU', 'ZR', 'ZZ']);
let countryList = null;
function countries() {
  if (countryList) return countryList;
  countryList = [];
  try {
    const dn = new Intl.DisplayNames([document.documentElement.lang || navigator.language || 'en', 'en'], { type: 'region', fallback: 'none' });
    for (let a = 65; a <= 90; a++) {
      for (let b = 65; b <= 90; b++) {
        const code = String.fromCharCode(a, b);
        if (NOT_COUNTRIES.has(code)) continue;
        const label = dn.of(code);
        if (label && label !== code) countryList.push([code, label]);
      }
    }
    countryList.sort((x, y) => x[1].localeCompare(y[1]));
  } catch { /* no Intl.DisplayNames: codes only */ }
  return countryList;
}
let countryNames = null;
const countryName = (code) => (/^[A-Z]{2}$/.test(code) ? (countryNames ||= new Map(countries())).get(code) : null) || null;

/** A typed value as the rule keeps it (country codes upper-cased, a stage by its key). */
function normalizeValue(field, raw) {
  const t = String(raw ?? '').trim().slice(0, 200);
  if (!t) return '';
  if (field === 'country' && /^[a-z]{2}$/i.test(t)) return t.toUpperCase();
  if (field === 'lifecycle_stage') return STAGES.find((x) => x === t.toLowerCase() || stageLabel(x).toLowerCase() === t.toLowerCase()) || t;
  return t;
}

/** How a value shows on its chip → [main, secondary|null]. */
function valueLabel(field, v) {
  if (field === 'country') return [v, countryName(v)];
  if (field === 'lifecycle_stage' && STAGES.includes(v)) return [stageLabel(v), null];
  return [v, null];
}

function kindIcon(k, size = 15) { return k.iconName === 'task' ? xicon('task', { size }) : icon(k.iconName, { size }); }

export function handoverView(root, { query = new URLSearchParams() } = {}) {
  const p = `ho${++uid}`;
  const state = {
    destroyed: false, controller: new AbortController(), users: new Map(), from: '', to: new Set(), include: new Set(KINDS.map((k) => k.key)),
    preview: null, previewing: null, starting: false, current: null, timer: null, history: [],
    // Rules: {id, field, values: [string], to, errors: {field|values|to_user_id: message}}
    rules: [], plan: null, planFor: '', planning: null, planTimer: null, planError: null, tags: null,
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
    renderRules();
    loadPreview();
    schedulePlan();
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
            schedulePlan();
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
        renderRules();
        syncStart();
        schedulePlan();
      });
      return h('label', { class: 'check-row fm-person' }, box,
        h('span', { class: 'fm-person-text' },
          h('span', { class: 'truncate' }, name(u.id)),
          u.email && u.email !== u.name ? h('span', { class: 'muted fm-person-email truncate' }, u.email) : null));
    }) : h('p', { class: 'muted' }, 'Nobody else is active: invite a colleague in ', h('a', { href: '/settings/users' }, 'Settings › Users'), ' first.'));
    syncStart();
  }

  // --- step 4: rules (optional) ------------------------------------------------------------------------
  const rulesList = h('ol', { class: 'ho-rules', dataset: { testid: 'handover-rules' } });
  const addRuleBtn = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'handover-add-rule' }, onclick: () => addRule() },
    icon('plus', { size: 14 }), h('span', null, 'Add a rule'));
  const rulesNote = h('p', { class: 'muted ho-rules-note', id: `${p}-rules-note` });
  addRuleBtn.setAttribute('aria-describedby', rulesNote.id);

  /** The chosen colleagues, by name (the order of the lists). */
  const chosen = () => [...state.to].sort((a, b) => name(a).localeCompare(name(b)));
  const ruleComplete = (r) => RULE_FIELDS.some((f) => f.key === r.field) && r.values.length > 0 && state.to.has(r.to);
  const ruleBody = (r) => ({ field: r.field, values: r.values.slice(), to_user_id: r.to });

  function addRule() {
    if (!state.to.size || state.rules.length >= MAX_RULES) return;
    // The next colleague nobody's rule names yet, else the first.
    const used = new Set(state.rules.map((r) => r.to));
    const people = chosen();
    const r = { id: ++uid, field: 'country', values: [], to: people.find((u) => !used.has(u)) || people[0] || '', errors: {} };
    state.rules.push(r);
    renderRules({ id: r.id, role: 'field' });
    syncStart();
  }

  function removeRule(r) {
    const i = state.rules.indexOf(r);
    state.rules = state.rules.filter((x) => x !== r);
    renderRules();
    const removes = rulesList.querySelectorAll('[data-testid=handover-rule-remove]');
    (removes[Math.min(i, removes.length - 1)] || addRuleBtn).focus();
    syncStart();
    schedulePlan();
  }

  function suggestions(field) {
    switch (field) {
      case 'country': return countries();
      case 'industry': return INDUSTRIES.map((x) => [x, null]);
      case 'size': return SIZES.map((x) => [x, `${x} employees`]);
      case 'lifecycle_stage': return STAGES.map((x) => [x, stageLabel(x)]);
      case 'source': return SOURCES.map((x) => [x, null]);
      case 'tag': {
        if (!state.tags) loadTags();
        return (state.tags || []).map((t) => [t.tag, `${nf.format(t.count)} ${t.count === 1 ? 'record' : 'records'}`]);
      }
      default: return [];
    }
  }

  // Tags of companies and contacts (deals and the rest follow them, or take their turn).
  let tagsLoading = false;
  async function loadTags() {
    if (tagsLoading) return;
    tagsLoading = true;
    try {
      const lists = await Promise.all(['company', 'contact'].map((e) => crm.tags(e).catch(() => [])));
      if (state.destroyed) return;
      const byTag = new Map();
      for (const t of lists.flat()) {
        const k = t.tag.toLowerCase();
        const x = byTag.get(k);
        if (x) x.count += t.count || 0; else byTag.set(k, { tag: t.tag, count: t.count || 0 });
      }
      state.tags = [...byTag.values()].sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag));
      rulesList.querySelectorAll('datalist[data-field=tag]').forEach((dl) => fillList(dl, 'tag'));
    } catch { state.tags = []; }
  }

  function fillList(dl, field) {
    mount(dl, suggestions(field).map(([value, label]) => h('option', { value, label: label || null })));
  }

  const sentence = (msg) => capitalize(msg || 'is not right');

  /** Shows each row's errors (r.errors) in place: a re-render would lose what is being typed. */
  function paintRuleErrors() {
    state.rules.forEach((r, i) => {
      const li = rulesList.querySelector(`[data-rule-id="${r.id}"]`);
      if (!li) return;
      for (const key of ['field', 'values', 'to_user_id']) {
        const part = li.querySelector(`.ho-rule-part[data-key="${key}"]`);
        const control = part?.querySelector('[data-role]');
        if (!control) continue;
        part.querySelector(':scope > .field-error')?.remove();
        const msg = r.errors?.[key];
        const errId = `${p}-r${r.id}-${key}-error`;
        if (msg) {
          part.append(h('p', { class: 'field-error', id: errId, dataset: { testid: `error-rules[${i}].${key}` } }, icon('alert', { size: 14 }), h('span', null, sentence(msg))));
          control.setAttribute('aria-invalid', 'true');
        } else control.removeAttribute('aria-invalid');
        const describedBy = [control.dataset.hint, msg ? errId : null].filter(Boolean).join(' ');
        if (describedBy) control.setAttribute('aria-describedby', describedBy); else control.removeAttribute('aria-describedby');
      }
      const sentenceEl = li.querySelector('.ho-rule-sentence');
      sentenceEl.querySelector(':scope > .ho-rule-error')?.remove();
      if (r.errors?.rule) sentenceEl.append(h('p', { class: 'field-error ho-rule-error', dataset: { testid: `error-rules[${i}]` } }, icon('alert', { size: 14 }), h('span', null, sentence(r.errors.rule))));
      li.classList.toggle('has-error', Object.keys(r.errors || {}).length > 0);
    });
  }

  function clearRuleError(r, key) {
    if (!r.errors?.[key]) return;
    delete r.errors[key];
    paintRuleErrors();
  }

  function ruleEl(r, i) {
    const id = (s) => `${p}-r${r.id}-${s}`;
    const f = ruleField(r.field);
    const n = `Rule ${i + 1}: `;
    const word = (forId, text) => h('label', { class: 'ho-rule-word', for: forId }, h('span', { class: 'visually-hidden' }, n), text);

    // Records whose [field]
    const fieldSel = h('select', { class: 'input', id: id('field'), name: `rules[${i}].field`, dataset: { testid: 'handover-rule-field', role: 'field' } },
      RULE_FIELDS.map((x) => h('option', { value: x.key, selected: x.key === r.field ? true : null }, x.label)),
      RULE_FIELDS.some((x) => x.key === r.field) ? null : h('option', { value: r.field, selected: true }, r.field || 'Choose…'));
    fieldSel.addEventListener('change', () => {
      r.field = fieldSel.value;
      delete r.errors.field;
      delete r.errors.values;
      r.values = [...new Set(r.values.map((v) => normalizeValue(r.field, v)).filter(Boolean))];
      renderRules({ id: r.id, role: 'field' });
      schedulePlan();
    });

    // is [values, as chips]
    const listId = id('list');
    const hintId = id('values-hint');
    const entry = h('input', {
      class: 'input tag-entry', id: id('values'), name: `rules[${i}].values`, type: 'text', list: listId, autocomplete: 'off', maxlength: 2000,
      placeholder: r.values.length ? '' : `e.g. ${f.placeholder}`, dataset: { testid: 'handover-rule-values', role: 'values', hint: hintId }, 'aria-describedby': hintId,
    });
    const chips = h('span', { class: 'tag-edit-chips' });
    const datalist = h('datalist', { id: listId, dataset: { field: r.field } });
    fillList(datalist, r.field);
    const control = h('div', { class: 'tag-input ho-values', onclick: (e) => { if (e.target === control) entry.focus(); } }, chips, entry);
    const renderChips = () => {
      mount(chips, r.values.map((v, j) => {
        const [main, sub] = valueLabel(r.field, v);
        return h('span', { class: 'tag-chip tag-chip-edit ho-value-chip', title: sub || null, dataset: { testid: 'handover-rule-value', value: v } },
          h('span', { class: 'truncate' }, main, sub ? h('span', { class: 'ho-value-sub' }, ` ${sub}`) : null),
          h('button', {
            type: 'button', class: 'chip-x', 'aria-label': `Remove ${sub || main} from rule ${i + 1}`,
            onclick: () => { r.values.splice(j, 1); changedValues(); entry.focus(); },
          }, icon('x', { size: 12 })));
      }));
      entry.placeholder = r.values.length ? '' : `e.g. ${f.placeholder}`;
      control.closest('li')?.setAttribute('data-values', r.values.join(','));
    };
    const changedValues = () => {
      renderChips();
      clearRuleError(r, 'values');
      syncStart();
      schedulePlan();
    };
    const add = (raw) => {
      let added = false;
      for (const part of String(raw).split(',')) {
        const v = normalizeValue(r.field, part);
        if (v && r.values.length < MAX_VALUES && !r.values.some((x) => x.toLowerCase() === v.toLowerCase())) { r.values.push(v); added = true; }
      }
      entry.value = '';
      if (added) changedValues();
    };
    entry.addEventListener('keydown', (e) => {
      if ((e.key === 'Enter' || e.key === ',') && entry.value.trim()) { e.preventDefault(); add(entry.value); }
      else if (e.key === 'Enter') e.preventDefault();
      else if (e.key === 'Backspace' && !entry.value && r.values.length) { r.values.pop(); changedValues(); }
    });
    entry.addEventListener('input', (e) => {
      // A pick from the suggestions arrives whole; a paste may hold several.
      if (e.inputType === 'insertReplacementText' || (!e.inputType && entry.value)) add(entry.value);
      else if (entry.value.includes(',')) {
        const cut = entry.value.lastIndexOf(',');
        const rest = entry.value.slice(cut + 1);
        add(entry.value.slice(0, cut));
        entry.value = rest;
      }
    });
    entry.addEventListener('blur', () => { if (entry.value.trim()) add(entry.value); });

    // go to [colleague]
    const people = chosen();
    const toSel = h('select', { class: 'input', id: id('to'), name: `rules[${i}].to_user_id`, dataset: { testid: 'handover-rule-to', role: 'to' } },
      state.to.has(r.to) ? null : h('option', { value: '', selected: true }, 'Choose a colleague…'),
      people.map((u) => h('option', { value: u, selected: u === r.to ? true : null }, name(u))));
    toSel.addEventListener('change', () => {
      r.to = toSel.value;
      clearRuleError(r, 'to_user_id');
      toSel.querySelector('option[value=""]')?.remove();
      syncStart();
      schedulePlan();
    });

    const li = h('li', { class: 'ho-rule', dataset: { testid: 'handover-rule-row', ruleId: String(r.id), field: r.field, values: r.values.join(',') } },
      h('div', { class: 'ho-rule-sentence' },
        h('div', { class: 'field ho-rule-part ho-rule-field', dataset: { field: `rules[${i}].field`, key: 'field' } }, word(fieldSel.id, 'Records whose'), fieldSel),
        h('div', { class: 'field ho-rule-part ho-rule-values', dataset: { field: `rules[${i}].values`, key: 'values' } }, word(entry.id, 'is'), control, datalist,
          h('p', { class: 'visually-hidden', id: hintId }, `${f.hint || 'Commas between values.'} Any of them matches; case does not matter.`)),
        h('div', { class: 'field ho-rule-part ho-rule-to', dataset: { field: `rules[${i}].to_user_id`, key: 'to_user_id' } }, word(toSel.id, 'go to'), toSel)),
      h('button', {
        type: 'button', class: 'icon-button fm-tool ho-rule-remove', 'aria-label': `Remove rule ${i + 1}`, title: 'Remove the rule',
        dataset: { testid: 'handover-rule-remove' }, onclick: () => removeRule(r),
      }, icon('trash', { size: 15 })));
    renderChips();
    return li;
  }

  function renderRules(focus) {
    // A colleague no longer chosen cannot get anything by rule.
    for (const r of state.rules) if (r.to && !state.to.has(r.to)) r.to = '';
    mount(rulesList, state.rules.map(ruleEl));
    paintRuleErrors();
    rulesList.hidden = !state.rules.length;
    addRuleBtn.disabled = !state.to.size || state.rules.length >= MAX_RULES;
    rulesNote.textContent = !state.to.size
      ? 'Choose who takes over first: a rule sends records to one of them.'
      : state.rules.length >= MAX_RULES ? `At most ${MAX_RULES} rules.`
        : state.rules.length ? '' : 'No rules: everything is shared out evenly, each company with its contacts and deals.';
    rulesNote.hidden = !rulesNote.textContent;
    if (focus) rulesList.querySelector(`[data-rule-id="${focus.id}"] [data-role=${focus.role}]`)?.focus();
  }

  /** Field errors of a 422 (`rules[i].field`, …) beside their rows; `sent` maps the i back to a row. → whether any landed. */
  function showRuleErrors(errors, sent) {
    let any = false;
    for (const r of state.rules) r.errors = {};
    for (const e of errors || []) {
      const m = /^rules\[(\d+)\](?:\.(field|values|to_user_id))?/.exec(e.field || '');
      const r = m && sent[Number(m[1])];
      if (!r) continue;
      const key = m[2] || 'rule';
      const msg = FRIENDLY_ERRORS[key] || e.message || 'is not right';
      if (r.errors[key] !== msg) r.errors[key] = r.errors[key] ? `${r.errors[key]}. ${msg}` : msg;
      any = true;
    }
    paintRuleErrors();
    return any;
  }

  // --- the plan: who would get what ---------------------------------------------------------------------------
  const planBody = h('div', { class: 'ho-plan-body' });
  // A short line for screen readers when the plan changes (the whole card would be a lot to hear).
  const planStatus = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const planCard = h('section', { class: 'card ru-card ho-plan', hidden: true, 'aria-labelledby': `${p}-plan-h`, dataset: { testid: 'handover-plan' } },
    h('div', { class: 'ho-plan-head' },
      h('h2', { class: 'seg-card-title ru-card-title', id: `${p}-plan-h` }, 'Who gets what'),
      h('ul', { class: 'ho-legend', 'aria-label': 'Why they get it' }, HOW.map((x) => h('li', { title: x.title }, h('span', { class: `ho-swatch is-${x.key}`, 'aria-hidden': 'true' }), x.label)))),
    planBody, planStatus);

  function planInput() {
    const sent = state.rules.filter(ruleComplete);
    return {
      sent,
      body: { from_user_id: state.from, to_user_ids: [...state.to], include: KINDS.map((k) => k.key).filter((k) => state.include.has(k)), rules: sent.map(ruleBody) },
    };
  }

  /** Asks again for the plan ~300 ms after the last change (the one before is dropped). */
  function schedulePlan({ force = false } = {}) {
    clearTimeout(state.planTimer);
    state.planTimer = null;
    const ready = state.from && state.to.size && state.include.size;
    planCard.hidden = !ready;
    if (!ready) {
      state.planning?.abort();
      state.planning = null;
      state.plan = null;
      state.planError = null;
      state.planFor = '';
      return;
    }
    const key = JSON.stringify(planInput().body);
    if (!force && key === state.planFor && (state.plan || state.planError)) {
      // Back to what is shown: nothing to ask.
      state.planning?.abort();
      state.planning = null;
      renderPlan();
      return;
    }
    state.planTimer = setTimeout(loadPlan, PLAN_DEBOUNCE_MS);
    renderPlan();
  }

  async function loadPlan() {
    state.planTimer = null;
    state.planning?.abort();
    const c = new AbortController();
    state.planning = c;
    const { sent, body } = planInput();
    const key = JSON.stringify(body);
    try {
      const res = await fapi.handoverPlan(body, { signal: c.signal });
      if (state.destroyed || c.signal.aborted) return;
      state.plan = res;
      state.planFor = key;
      state.planError = null;
      // The server took these rules: earlier complaints about them are settled.
      if (sent.some((r) => Object.keys(r.errors || {}).length)) { for (const r of sent) r.errors = {}; paintRuleErrors(); }
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed || c.signal.aborted) return;
      state.plan = null;
      state.planFor = key;
      state.planError = err;
      if (err.isValidation) showRuleErrors(err.errors, sent);
    } finally {
      if (state.planning === c) state.planning = null;
    }
    if (!state.destroyed && !c.signal.aborted) renderPlan();
  }

  function renderPlan() {
    const pending = !!(state.planTimer || state.planning);
    planCard.classList.toggle('is-stale', pending && !!(state.plan || state.planError));
    planBody.setAttribute('aria-busy', pending ? 'true' : 'false');
    const people = chosen();
    if (state.planError) {
      const err = state.planError;
      const ruleErrs = err.isValidation && (err.errors || []).filter((e) => /^rules/.test(e.field || ''));
      mount(planBody, h('div', { class: 'inline-error', role: 'alert', dataset: { testid: 'handover-plan-error' } }, icon('alert'),
        h('div', null, h('strong', null, ruleErrs?.length ? 'A rule needs fixing:' : err.title || 'Could not work out who gets what'), ' ',
          ruleErrs?.length ? 'see the rules above.' : (err.errors || []).length ? err.errors.map((e) => `${e.field}: ${e.message}`).join('. ') : err.detail || err.message),
        ruleErrs?.length ? null : h('button', { type: 'button', class: 'btn btn-sm', onclick: () => schedulePlan({ force: true }) }, 'Retry')));
      return;
    }
    if (!state.plan) {
      mount(planBody, h('ul', { class: 'ho-plan-users', 'aria-hidden': 'true' }, people.map(() => h('li', { class: 'ho-plan-user is-loading' },
        h('span', { class: 'skeleton skeleton-text', style: { width: '30%' } }), h('span', { class: 'skeleton skeleton-text', style: { width: '70%' } })))));
      return;
    }
    const plan = state.plan.plan && typeof state.plan.plan === 'object' ? state.plan.plan : {};
    const owns = state.plan.owns || state.preview?.owns || {};
    const kinds = KINDS.filter((k) => state.include.has(k.key));
    const rows = people.map((u) => {
      const per = kinds.map((k) => ({ k, x: plan[k.key]?.[u] || {} }));
      const sum = (f) => per.reduce((a, { x }) => a + (Number(x[f]) || 0), 0);
      return { u, per, total: sum('total'), how: Object.fromEntries(HOW.map((x) => [x.key, sum(x.key)])) };
    });
    const max = Math.max(1, ...rows.map((r) => r.total));
    const more = kinds.filter((k) => owns[k.key]?.more);
    const all = rows.reduce((a, r) => a + r.total, 0);
    planStatus.textContent = `Who gets what: ${rows.map((r) => `${name(r.u)} ${nf.format(r.total)}`).join(', ')}.`;
    const unmatched = all > 0 && state.rules.some(ruleComplete) && !rows.some((r) => r.how.rule);
    mount(planBody,
      h('ul', { class: 'ho-plan-users' }, rows.map(({ u, per, total, how }) => h('li', { class: ['ho-plan-user', !total && 'is-zero'], dataset: { testid: 'handover-plan-user', userId: u, total: String(total) } },
        h('div', { class: 'ho-plan-line' },
          h('span', { class: 'ho-plan-name truncate' }, name(u)),
          h('span', { class: 'ho-plan-count' }, h('strong', { class: 'num', dataset: { testid: 'handover-plan-total' } }, nf.format(total)), ` ${total === 1 ? 'record' : 'records'}`)),
        h('div', { class: 'ho-bar', 'aria-hidden': 'true' },
          h('div', { class: 'ho-bar-fill', style: { width: `${(total / max) * 100}%` } },
            HOW.map((x) => (how[x.key] ? h('span', { class: `ho-bar-seg is-${x.key}`, style: { flexGrow: String(how[x.key]) }, title: `${how[x.key]} ${x.label}` }) : null)))),
        h('p', { class: 'ho-plan-split muted', dataset: { testid: 'handover-plan-split' } },
          total ? HOW.map((x, j) => [j ? ' · ' : null, h('span', { class: 'ho-split-item', dataset: { how: x.key } }, h('span', { class: `ho-swatch is-${x.key}`, 'aria-hidden': 'true' }), `${nf.format(how[x.key])} ${x.label}`)])
            : 'Nothing under this plan.'),
        total ? h('ul', { class: 'ho-plan-kinds', 'aria-label': `What ${name(u)} gets` }, per.filter(({ x }) => Number(x.total) > 0).map(({ k, x }) => h('li', { class: 'ho-plan-kind', dataset: { kind: k.key, count: String(Number(x.total) || 0) } },
          h('span', { class: 'ho-plan-kind-icon', 'aria-hidden': 'true' }, kindIcon(k, 13)),
          h('span', null, h('strong', { class: 'num' }, nf.format(Number(x.total) || 0)), ` ${Number(x.total) === 1 ? k.one : k.label.toLowerCase()}`)))) : null))),
      unmatched ? h('p', { class: 'muted ho-plan-note', dataset: { testid: 'handover-plan-unmatched' } }, icon('alert', { size: 13 }), ' No record matches the rules: check the values (a company’s country is in its address).') : null,
      more.length ? h('p', { class: 'muted ho-plan-note' }, `Planned for the first 200 ${more.map((k) => k.label.toLowerCase()).join(', ')}; the rest follow the same rules when it runs.`) : null,
      h('p', { class: 'muted ho-plan-note' }, 'By company: contacts and deals follow their company to its new owner. By rule: the first rule that matches. In turn: the rest, shared out evenly.'));
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
    const unfinished = state.rules.findIndex((r) => !ruleComplete(r));
    const ready = state.from && state.preview && state.to.size && state.include.size && (n > 0 || more) && unfinished < 0 && !state.starting;
    startBtn.disabled = !ready;
    const label = startBtn.querySelector('span');
    label.textContent = state.starting ? 'Starting…' : state.to.size && state.preview ? `Hand over ${nf.format(n)}${more ? '+' : ''} to ${state.to.size === 1 ? name([...state.to][0]) : `${state.to.size} colleagues`}` : 'Hand over';
    if (!state.from) startNote.textContent = 'Choose who is leaving first.';
    else if (!state.preview) startNote.textContent = 'Looking at what they own…';
    else if (!state.include.size) startNote.textContent = 'Tick at least one kind of record.';
    else if (!n && !more) startNote.textContent = 'Nothing of what is ticked is left with them.';
    else if (!state.to.size) startNote.textContent = 'Choose who takes over.';
    else if (unfinished >= 0) {
      const r = state.rules[unfinished];
      startNote.textContent = `Rule ${unfinished + 1} ${!r.values.length ? 'has no values yet' : 'needs a colleague'}: finish it or remove it.`;
    } else if (state.to.size === 1) startNote.textContent = 'Everything goes to one person.';
    else startNote.textContent = state.rules.length
      ? 'Each company goes by the first rule that matches, else in turn, with its contacts and deals; the rest likewise.'
      : 'Companies are shared out in turn, each with its contacts and deals; the rest too.';
  }

  function start() {
    if (startBtn.disabled) return;
    const from = state.from;
    const to = [...state.to];
    const include = KINDS.map((k) => k.key).filter((k) => state.include.has(k));
    const sent = state.rules.slice();
    const rules = sent.map(ruleBody);
    const n = movingCount();
    confirmDialog({
      title: `Hand over ${name(from)}’s accounts?`,
      text: `${nf.format(n)} ${n === 1 ? 'record moves' : 'records move'} now to ${to.map(name).join(', ')} (${include.map((k) => KINDS.find((x) => x.key === k).label.toLowerCase()).join(', ')}).${rules.length ? ` ${rules.length === 1 ? 'Rule' : 'Rules'}: ${rules.map(ruleText).join('; ')}.` : ''} Each change is in the records’ history and the audit log.`,
      confirmLabel: 'Hand over', workingLabel: 'Starting…', testid: 'handover-confirm',
      run: async () => {
        state.starting = true;
        syncStart();
        try {
          const h0 = await fapi.startHandover({ from_user_id: from, to_user_ids: to, include, rules });
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
          if (err.isValidation && showRuleErrors(err.errors, sent)) err.detail = `${err.detail || ''} See the rules.`.trim();
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
    if (x.from_user_id === state.from) { loadPreview(); schedulePlan({ force: true }); }
  }

  /** "Country is DE or AT → Dieter Lang" */
  function ruleText(r) {
    const vals = (r.values || []).map((v) => { const [main, sub] = valueLabel(r.field, v); return sub ? `${main} (${sub})` : main; });
    const list = vals.length > 1 ? `${vals.slice(0, -1).join(', ')} or ${vals[vals.length - 1]}` : vals[0] || '…';
    return `${ruleField(r.field).label} is ${list} → ${name(r.to_user_id)}`;
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
      Array.isArray(x.rules) && x.rules.length ? h('div', { class: 'ho-result-rules', dataset: { testid: 'handover-result-rules' } },
        h('span', { class: 'ho-result-rules-title' }, x.rules.length === 1 ? 'Rule' : 'Rules, first match wins'),
        h('ol', null, x.rules.map((r) => h('li', null, ruleText(r))))) : null,
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
        `${x.status === 'done' ? 'Done' : x.status === 'running' ? 'Running' : 'Stopped'} · ${nf.format(total)} moved${x.rules?.length ? ` · ${x.rules.length} ${x.rules.length === 1 ? 'rule' : 'rules'}` : ''} · ${relative(x.created_at)}`)));
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
        step(4, 'rules', ['Rules ', h('span', { class: 'ho-optional' }, '(optional)')],
          h('p', { class: 'muted seg-card-lead' }, 'Send records to a particular colleague by country, industry, size, stage, source or tag. The first rule that matches wins; the rest are shared out evenly. A company’s contacts and deals still follow the company.'),
          rulesList,
          h('div', { class: 'ho-rules-foot' }, addRuleBtn, rulesNote)),
        planCard,
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
    renderRules();
    schedulePlan();
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
      clearTimeout(state.planTimer);
      state.controller.abort();
      state.previewing?.abort();
      state.planning?.abort();
    },
  };
}
