// Settings › Custom fields: extra fields for contacts and companies (a tier, a
// renewal date, an annual revenue…). They show on the record forms and pages,
// as list columns and filters, and in imports and exports. Owners, admins and
// managers define them; the API answers 403 to everyone else. A field's entity,
// key and kind are fixed once it exists. Archiving one keeps its values in the
// records and keeps its key reserved.

import * as api from './api.js';
import { h, mount, icon, toast, toastError, openModal } from './ui.js';
import { emptyState } from './contacts.js';
import { field, formErrors, errorBox, busy, capitalize } from './forms.js';
import { updateUrl } from './router.js';
import { forbiddenState, sectionHeader, inlineError, badge, confirmDialog, dataTable, dash } from './settings-kit.js';

export const CF_ENTITIES = [
  { key: 'contact', label: 'Contacts', one: 'contact', many: 'contacts', icon: 'users' },
  { key: 'company', label: 'Companies', one: 'company', many: 'companies', icon: 'building' },
];

/** The kinds of field, in the order the kind menu lists them. `tone` colours the kind badge. */
export const CF_KINDS = [
  { value: 'text', label: 'Text', tone: 'text', hint: 'One line of text, up to 500 characters.' },
  { value: 'long-text', label: 'Long text', tone: 'text', hint: 'Several lines, up to 20,000 characters, such as notes or a description.' },
  { value: 'number', label: 'Number', tone: 'number', hint: 'Any number, such as a score or a head count. Lists can filter on less or more than.' },
  { value: 'money', label: 'Money', tone: 'number', hint: 'An amount in one currency, such as annual revenue. Stored exactly, in cents (minor units).' },
  { value: 'date', label: 'Date', tone: 'date', hint: 'A calendar day, such as a renewal or contract end date.' },
  { value: 'select', label: 'Select', tone: 'choice', hint: 'One choice from a list you define, such as a tier.' },
  { value: 'multi-select', label: 'Multi-select', tone: 'choice', hint: 'Any number of choices from a list you define, such as interests.' },
  { value: 'checkbox', label: 'Checkbox', tone: 'choice', hint: 'Yes or no, such as “Signed NDA”.' },
  { value: 'url', label: 'URL', tone: 'link', hint: 'A web address starting with http:// or https://.' },
  { value: 'email', label: 'Email', tone: 'link', hint: 'An email address, checked when a record is saved.' },
  { value: 'phone', label: 'Phone', tone: 'link', hint: 'A phone number, checked when a record is saved.' },
];
const KIND_BY_VALUE = new Map(CF_KINDS.map((k) => [k.value, k]));
const SELECT_KINDS = new Set(['select', 'multi-select']);

/** Standard field names a custom key may not take (mirrors the server's list). */
const RESERVED_KEYS = new Set(['id', 'name', 'email', 'phone', 'owner', 'tags', 'custom', 'created_at', 'updated_at']);
const KEY_RE = /^[a-z][a-z0-9_]*$/;
const MAX_KEY = 40;
const MAX_LABEL = 80;
const MAX_OPTIONS = 200;
const MAX_OPTION = 100;
const COMMON_CURRENCIES = ['USD', 'EUR', 'GBP', 'CHF', 'JPY', 'CAD', 'AUD', 'NZD', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'INR', 'CNY', 'SGD', 'HKD', 'BRL', 'MXN', 'ZAR'];

// ---------------------------------------------------------------------------
// Icons (stroke icons on the 24×24 grid, like ui.js's set)

const PATHS = {
  fields: 'M4 5h16v4H4zM4 15h16v4H4zM7 7h4M7 17h6',
  text: 'M5 7V5h14v2M12 5v14M9 19h6',
  'long-text': 'M4 6h16M4 10h16M4 14h16M4 18h10',
  number: 'M5 9h14M5 15h14M10 4 8 20M16 4l-2 16',
  money: 'M4 6h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1M12 14.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5M6.5 10v.01M17.5 14v.01',
  date: 'M5 5h14a1 1 0 0 1 1 1v13a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1M4 10h16M8 3v4M16 3v4',
  select: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M8.5 10.5 12 14l3.5-3.5',
  'multi-select': 'M4 7l1.5 1.5L8 6M4 15l1.5 1.5L8 14M11 7h9M11 15h9',
  checkbox: 'M5 4h14a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1M8 12l3 3 5-6',
  url: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
  email: 'M3 6.5A1.5 1.5 0 0 1 4.5 5h15A1.5 1.5 0 0 1 21 6.5v11a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5zM3.5 6l8.5 7 8.5-7',
  phone: 'M5 4h3l1.5 4.5-2 1.5a11 11 0 0 0 6.5 6.5l1.5-2L20 16v3a1.5 1.5 0 0 1-1.6 1.5A16.5 16.5 0 0 1 3.5 5.6 1.5 1.5 0 0 1 5 4',
  up: 'M12 19V5M6 11l6-6 6 6',
  down: 'M12 5v14M6 13l6 6 6-6',
  archive: 'M4 4h16v5H4zM5.5 9v10a1 1 0 0 0 1 1h11a1 1 0 0 0 1-1V9M10 13h4',
  lock: 'M6 11h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1M8 11V7a4 4 0 0 1 8 0v4',
};

function svg(name, { size = 16 } = {}) {
  return h('svg', {
    class: 'icon', width: size, height: size, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor',
    'stroke-width': 1.8, 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false',
  }, h('path', { d: PATHS[name] || '' }));
}

/** The section's icon, for the settings tab strip. */
export function customFieldsIcon({ size = 16 } = {}) { return svg('fields', { size }); }

function kindInfo(kind) {
  return KIND_BY_VALUE.get(kind) || { value: kind, label: capitalize(String(kind || 'unknown').replace(/-/g, ' ')), tone: 'text', hint: '' };
}

/** A kind as a small tinted icon and its name. */
export function kindBadge(kind, { testid = 'cf-kind-badge' } = {}) {
  const k = kindInfo(kind);
  return h('span', { class: ['cf-kind', `cf-tone-${k.tone}`], dataset: { testid, kind: k.value } },
    h('span', { class: 'cf-kind-icon' }, svg(PATHS[k.value] ? k.value : 'text', { size: 13 })),
    h('span', { class: 'cf-kind-label' }, k.label));
}

// ---------------------------------------------------------------------------
// Keys

/** "Renewal date" → "renewal_date": lower-case letters, digits and _, starting with a letter. */
export function deriveKey(label) {
  let k = String(label || '')
    .normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (k && !/^[a-z]/.test(k)) k = `f_${k}`;
  return k.slice(0, MAX_KEY).replace(/_+$/, '');
}

/** `base`, or `base_2`, `base_3`… when it is a standard name or already taken. */
function uniqueKey(base, taken) {
  if (!base) return '';
  if (!RESERVED_KEYS.has(base) && !taken.has(base)) return base;
  for (let i = 2; i < 1000; i += 1) {
    const suffix = `_${i}`;
    const k = `${base.slice(0, MAX_KEY - suffix.length).replace(/_+$/, '')}${suffix}`;
    if (!RESERVED_KEYS.has(k) && !taken.has(k)) return k;
  }
  return base;
}

/** What is wrong with a key, or null. `takenBy`: the live fields by key. */
function keyProblem(key, takenBy, entity) {
  if (!key) return 'Enter a key, or a label to derive one from';
  if (key.length > MAX_KEY) return `Use at most ${MAX_KEY} characters`;
  if (!/^[a-z]/.test(key)) return 'Start the key with a lower-case letter (a–z)';
  if (!KEY_RE.test(key)) return 'Use only lower-case letters (a–z), digits and _';
  if (RESERVED_KEYS.has(key)) return `“${key}” is the name of a standard field; choose another key`;
  const other = takenBy.get(key);
  if (other) return `The ${entity.one} field “${other.label || other.key}” already uses this key`;
  return null;
}

function parseOptions(text) {
  const out = [];
  for (const line of String(text || '').split('\n')) {
    const o = line.trim();
    if (o && !out.includes(o)) out.push(o);
  }
  return out;
}

function plural(n, one, many) { return `${n} ${n === 1 ? one : many}`; }

function sameList(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }

/** Focus `target` shortly, unless something else already has the focus. */
function refocus(target) {
  setTimeout(() => {
    if (!target?.isConnected || target.disabled || target.closest('[hidden]')) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    target.focus();
  }, 50);
}

/** Show the first `n` options as chips, and how many more there are. */
function fillChips(box, n) {
  const opts = box.cfOptions || [];
  box.replaceChildren(...opts.slice(0, n).map((o) => h('span', { class: 'chip cf-chip' }, o)));
  if (opts.length > n) box.append(h('span', { class: 'cf-more muted' }, `+${opts.length - n}${n ? '' : ' options'}`));
}

/** Trim the option chips of each row to what fits its cell (re-run when the table resizes). */
function fitChips(root) {
  root.querySelectorAll('.cf-option-chips').forEach((box) => {
    if (!box.clientWidth) return; // column hidden at this width
    let n = Math.min(box.cfOptions?.length || 0, 6);
    fillChips(box, n);
    while (n > 1 && box.scrollWidth > box.clientWidth + 1) { n -= 1; fillChips(box, n); }
  });
}

/**
 * Record forms and lists cache the definitions briefly (crm-api.js): drop that
 * cache after a change here. Loaded lazily and optional, so this section works
 * whatever shape that module has.
 */
function definitionsChanged() {
  import('./crm-api.js').then((m) => m.invalidate?.('cf:')).catch(() => {});
}

/** The server's display order: position, then creation. */
function byPosition(a, b) {
  return (Number(a.position) || 0) - (Number(b.position) || 0) || String(a.created_at || '').localeCompare(String(b.created_at || ''));
}

const FORBIDDEN_TEXT = 'Only owners, admins and managers define custom fields.';

/** A 403 on a change, said plainly. */
function forbiddenContent(err) {
  const detail = err?.detail && err.detail !== err.title ? err.detail.replace(/\.?$/, '.') : FORBIDDEN_TEXT;
  return h('div', { dataset: { testid: 'cf-forbidden' } },
    h('strong', null, 'Your role cannot change custom fields.'), ' ',
    h('span', null, detail, ' Ask an owner, admin or manager of this workspace to make the change.'),
    err?.requestId ? h('div', { class: 'muted' }, `Request ID ${err.requestId}`) : null);
}

// ---------------------------------------------------------------------------
// The section

/**
 * `canDefine`: show the create, edit, reorder and archive controls (owners,
 * admins and managers). `query`: `?entity=company` opens the companies tab.
 */
export function customFieldsSection(root, { canDefine = false, query = new URLSearchParams() } = {}) {
  const controller = new AbortController();
  /** Live fields per entity, in display order; null until loaded. */
  const lists = { contact: null, company: null };
  let entity = CF_ENTITIES.find((e) => e.key === query.get('entity')) || CF_ENTITIES[0];
  let reordering = false;
  let loaded = false;

  const status = h('span', null, 'Loading custom fields…');
  const announcer = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', dataset: { testid: 'cf-announcer' } });
  const newButton = h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid: 'new-custom-field' },
    onclick: () => openNew(),
  }, icon('plus'), h('span', null, 'New field'));
  newButton.hidden = !canDefine;

  const tabButtons = CF_ENTITIES.map((e) => h('button', {
    type: 'button', role: 'tab', id: `cf-tab-${e.key}`, class: 'cf-seg',
    'aria-controls': 'cf-panel', dataset: { testid: `cf-entity-${e.key}`, entity: e.key },
    onclick: () => select(e),
  }, icon(e.icon, { size: 15 }), h('span', null, e.label), h('span', { class: 'cf-seg-count', dataset: { testid: `cf-count-${e.key}` } })));
  const switcher = h('div', { class: 'cf-switch', role: 'tablist', 'aria-label': 'Record type', dataset: { testid: 'cf-entity-switch' } }, tabButtons);
  switcher.addEventListener('keydown', (e) => {
    const i = tabButtons.indexOf(document.activeElement);
    if (i < 0) return;
    let j = null;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') j = (i + 1) % tabButtons.length;
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') j = (i - 1 + tabButtons.length) % tabButtons.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = tabButtons.length - 1;
    if (j == null) return;
    e.preventDefault();
    select(CF_ENTITIES[j]);
    tabButtons[j].focus();
  });

  const lead = h('p', { class: 'section-lead muted' });
  const notice = h('div');
  const errorSlot = h('div');
  const empty = h('div', { hidden: true });
  const panel = h('div', { id: 'cf-panel', role: 'tabpanel', class: 'cf-panel' });
  let tableParts = null;

  mount(root,
    sectionHeader('settings-custom-fields-title', 'Custom fields', status, newButton),
    lead,
    notice,
    switcher,
    errorSlot,
    panel,
    announcer);

  function writeLead() {
    mount(lead,
      'Extra fields for what your team tracks beyond the standard ones, such as a customer tier or a renewal date. ',
      'They appear on contact and company forms and pages, and in list columns, filters, imports and exports. ',
      canDefine ? 'The arrows set the order they appear in.' : 'Owners, admins and managers define them.');
  }

  /** (Re)build the table: its columns depend on whether this role may change fields. */
  function buildTable() {
    tableParts = dataTable({
      className: 'custom-fields-table', testid: 'custom-fields-table', caption: '', busy: !loaded,
      columns: [
        canDefine && ['cfcol-order', 'Order', true],
        ['cfcol-label', 'Label'], ['cfcol-key', 'Key'], ['cfcol-kind', 'Kind'], ['cfcol-options', 'Options'],
        ['cfcol-required', 'Required'],
        canDefine && ['cfcol-actions', 'Actions', true],
      ],
    });
    mount(panel, tableParts.tableWrap, empty);
    resizeObserver.disconnect();
    resizeObserver.observe(tableParts.tableWrap);
  }
  let fitFrame = 0;
  const resizeObserver = new ResizeObserver(() => {
    cancelAnimationFrame(fitFrame);
    fitFrame = requestAnimationFrame(() => fitChips(tableParts.tbody));
  });

  function cols() { return canDefine ? 7 : 5; }

  function list() { return lists[entity.key] || []; }

  function select(e) {
    entity = e;
    tabButtons.forEach((b, i) => {
      const on = CF_ENTITIES[i] === e;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    });
    panel.setAttribute('aria-labelledby', `cf-tab-${e.key}`);
    const params = new URLSearchParams(location.search);
    if (e.key === 'contact') params.delete('entity'); else params.set('entity', e.key);
    const qs = params.toString();
    if (location.pathname === '/settings/custom-fields') updateUrl(`${location.pathname}${qs ? `?${qs}` : ''}`);
    render();
  }

  function updateCounts() {
    CF_ENTITIES.forEach((e, i) => {
      const n = lists[e.key]?.length;
      const count = tabButtons[i].querySelector('.cf-seg-count');
      count.textContent = n == null ? '' : String(n);
      count.setAttribute('aria-label', n == null ? '' : plural(n, 'field', 'fields'));
    });
    if (!loaded) return;
    status.textContent = CF_ENTITIES.map((e) => plural(lists[e.key]?.length || 0, `${e.one} field`, `${e.one} fields`)).join(' · ');
  }

  function render({ fresh = null, focus = null } = {}) {
    const { table, tbody, tableWrap } = tableParts;
    table.querySelector('caption').textContent = `Custom fields of ${entity.many}`;
    updateCounts();
    if (!loaded) return;
    const items = list();
    tbody.replaceChildren(...items.map((f, i) => row(f, i, items.length, f.id === fresh)));
    tableWrap.hidden = items.length === 0;
    empty.hidden = items.length !== 0;
    fitChips(tbody);
    if (!items.length) {
      mount(empty, emptyState({
        testid: 'empty-state',
        iconName: 'pencil',
        title: `No ${entity.one} fields yet`,
        text: `Custom fields hold what your team tracks about ${entity.many} beyond the standard fields, such as ${entity.key === 'contact' ? 'a customer tier or a renewal date' : 'annual revenue or a contract end date'}. They appear on ${entity.one} forms and pages, and you can show them as list columns, filter on them, and include them in imports and exports.`,
        actions: canDefine ? [h('button', {
          type: 'button', class: 'btn btn-primary', dataset: { testid: 'cf-empty-new' }, onclick: () => openNew(),
        }, icon('plus'), `Create the first ${entity.one} field`)] : [],
        hint: canDefine ? null : 'Owners, admins and managers can define them.',
      }));
      // The generic icon → this section's own.
      empty.querySelector('.empty-icon')?.replaceChildren(svg('fields', { size: 28 }));
    }
    if (focus) {
      const target = tbody.querySelector(`tr[data-field-id="${CSS.escape(focus.id)}"] [data-testid="${focus.testid}"]`);
      if (target && !target.disabled) target.focus();
      else tbody.querySelector(`tr[data-field-id="${CSS.escape(focus.id)}"] button:not(:disabled)`)?.focus();
    }
  }

  function optionsCell(f) {
    if (SELECT_KINDS.has(f.kind)) {
      const opts = Array.isArray(f.options) ? f.options : [];
      if (!opts.length) return h('span', { class: 'muted' }, 'No options');
      const box = h('span', { class: 'chips cf-option-chips', title: opts.join(', '), dataset: { testid: 'cf-row-options' } });
      box.cfOptions = opts;
      fillChips(box, Math.min(opts.length, 6));
      return box;
    }
    if (f.kind === 'money') {
      return h('span', { class: 'cf-currency', title: `Amounts in ${f.currency || 'USD'}`, dataset: { testid: 'cf-row-options' } },
        h('span', { class: 'muted' }, 'Currency '), h('code', null, f.currency || 'USD'));
    }
    return dash();
  }

  /**
   * What the columns hidden on narrower screens would say, under the label.
   * Each part shows only while its column is hidden (see styles.css).
   */
  function subline(f) {
    const k = kindInfo(f.kind);
    let opts = null;
    if (SELECT_KINDS.has(f.kind)) opts = plural(f.options?.length || 0, 'option', 'options');
    else if (f.kind === 'money') opts = f.currency || 'USD';
    return h('div', { class: 'cell-sub cf-sub' },
      h('code', { class: 'cf-key cf-sub-key' }, f.key),
      h('span', { class: 'cf-sub-kind' }, svg(PATHS[k.value] ? k.value : 'text', { size: 12 }), k.label),
      opts ? h('span', { class: 'cf-sub-opts', title: SELECT_KINDS.has(f.kind) ? (f.options || []).join(', ') : null }, opts) : null,
      f.required ? h('span', { class: 'cf-sub-req' }, 'Required') : null);
  }

  function row(f, index, count, fresh) {
    const label = f.label || f.key;
    const moveButton = (dir) => {
      // Only the ends are disabled: while a move saves, clicks are ignored
      // instead, so the keyboard focus stays on the button.
      const disabled = dir === 'up' ? index === 0 : index === count - 1;
      return h('button', {
        type: 'button', class: 'icon-button cf-move-button', dataset: { testid: `cf-move-${dir}` },
        'aria-label': `Move ${label} ${dir}`, title: `Move ${dir}`, disabled,
        onclick: () => move(f, dir === 'up' ? -1 : 1),
      }, svg(dir, { size: 15 }));
    };
    return h('tr', {
      class: ['cf-row', fresh && 'row-new'],
      dataset: { testid: 'custom-field-row', fieldId: f.id, key: f.key, kind: f.kind },
    },
    canDefine ? h('td', { class: 'cfcol-order' }, h('div', { class: 'cf-move' }, moveButton('up'), moveButton('down'))) : null,
    h('td', { class: 'cfcol-label' },
      h('span', { class: 'cf-label truncate', title: label, dataset: { testid: 'cf-row-label' } }, label),
      subline(f)),
    h('td', { class: 'cfcol-key' }, h('code', { class: 'cf-key truncate', title: `custom.${f.key}`, dataset: { testid: 'cf-row-key' } }, f.key)),
    h('td', { class: 'cfcol-kind' }, kindBadge(f.kind)),
    h('td', { class: 'cfcol-options' }, optionsCell(f)),
    h('td', { class: 'cfcol-required' }, f.required
      ? badge('Required', 'accent', 'cf-row-required')
      : h('span', { class: 'muted', dataset: { testid: 'cf-row-required' } }, 'Optional')),
    canDefine ? h('td', { class: 'cfcol-actions' },
      h('div', { class: 'row-actions' },
        h('button', {
          type: 'button', class: 'btn btn-sm', dataset: { testid: 'cf-edit' },
          'aria-label': `Edit ${label}`, title: `Edit ${label}`,
          onclick: () => openEdit(f),
        }, icon('pencil', { size: 15 }), h('span', { class: 'btn-label' }, 'Edit')),
        h('button', {
          type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'cf-archive' },
          'aria-label': `Archive ${label}`, title: `Archive ${label}`,
          onclick: () => confirmArchive(f),
        }, svg('archive', { size: 15 }), h('span', { class: 'btn-label' }, 'Archive')))) : null);
  }

  // -------------------------------------------------------------- changes

  /** A change answered 403: this role may not define fields. Hide the controls and say so. */
  function lockWrites() {
    if (!canDefine) return;
    canDefine = false;
    newButton.hidden = true;
    writeLead();
    mount(notice, h('div', { class: 'cf-notice', role: 'note', dataset: { testid: 'cf-read-only' } },
      svg('lock', { size: 16 }),
      h('span', null, `${FORBIDDEN_TEXT} You can see the fields, but not change them.`)));
    buildTable();
    render();
  }

  function openNew() {
    openFieldDialog({
      entity,
      lists,
      onSaved: (f) => {
        const e = CF_ENTITIES.find((x) => x.key === f.entity) || entity;
        lists[e.key] = [...(lists[e.key] || []).filter((x) => x.id !== f.id), f].sort(byPosition);
        if (e !== entity) select(e);
        render({ fresh: f.id });
        refocus(tableParts.tbody.querySelector(`tr[data-field-id="${CSS.escape(f.id)}"] [data-testid="cf-edit"]`));
      },
      onForbidden: lockWrites,
    });
  }

  function openEdit(f) {
    openFieldDialog({
      field: f,
      entity: CF_ENTITIES.find((x) => x.key === f.entity) || entity,
      lists,
      onSaved: (saved) => {
        const key = saved.entity || f.entity;
        lists[key] = (lists[key] || []).map((x) => (x.id === saved.id ? saved : x));
        render();
        refocus(tableParts.tbody.querySelector(`tr[data-field-id="${CSS.escape(saved.id)}"] [data-testid="cf-edit"]`));
      },
      onForbidden: lockWrites,
      onGone: () => load(),
    });
  }

  function confirmArchive(f) {
    const label = f.label || f.key;
    const e = CF_ENTITIES.find((x) => x.key === f.entity) || entity;
    confirmDialog({
      title: `Archive “${label}”?`,
      text: [
        `It disappears from ${e.one} forms and pages, list columns, filters, imports and exports. `,
        `Values already stored on ${e.many} are kept, and the key `, h('code', null, f.key),
        ` stays reserved, so a new ${e.one} field cannot reuse it.`,
      ],
      confirmLabel: 'Archive field',
      workingLabel: 'Archiving…',
      testid: 'cf-archive-confirm',
      run: async () => {
        try {
          await api.archiveFieldDefinition(f.id);
        } catch (err) {
          if (err?.isNotFound) { /* archived meanwhile: the outcome is the same */ } else {
            if (err?.isForbidden) {
              err.title = 'Your role cannot change custom fields';
              err.detail = `${err.detail && err.detail !== 'Forbidden' ? err.detail.replace(/\.?$/, '.') : FORBIDDEN_TEXT} Ask an owner, admin or manager to archive it.`;
              setTimeout(lockWrites, 0);
            }
            throw err;
          }
        }
        definitionsChanged();
        const items = lists[e.key] || [];
        const i = items.findIndex((x) => x.id === f.id);
        lists[e.key] = items.filter((x) => x.id !== f.id);
        render();
        const rows = tableParts.tbody.querySelectorAll('tr');
        const neighbour = rows[Math.min(i, rows.length - 1)];
        refocus(neighbour?.querySelector('[data-testid="cf-archive"]') || newButton);
        toast(`${label} no longer shows on ${e.many}. Their values are kept and the key ${f.key} stays reserved.`, { kind: 'success', title: 'Field archived' });
      },
    });
  }

  /** Move a field one place up (-1) or down (+1), saving the new positions. */
  async function move(f, delta) {
    if (reordering) return;
    const key = f.entity || entity.key;
    const before = lists[key] || [];
    const from = before.findIndex((x) => x.id === f.id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= before.length) return;
    const next = [...before];
    [next[from], next[to]] = [next[to], next[from]];

    // Positions strictly increasing: swap the two. Otherwise (e.g. several
    // at 0) number them all 0, 1, 2… so the order is well defined.
    const positions = before.map((x) => Number(x.position) || 0);
    const increasing = positions.every((p, i) => i === 0 || p > positions[i - 1]);
    const wanted = new Map(next.map((x, i) => [x.id, increasing ? positions[i] : i]));
    const changes = next.filter((x) => wanted.get(x.id) !== (Number(x.position) || 0));

    const dir = delta < 0 ? 'up' : 'down';
    reordering = true;
    lists[key] = next.map((x) => ({ ...x, position: wanted.get(x.id) }));
    render({ focus: { id: f.id, testid: `cf-move-${dir}` } });
    const other = dir === 'up' ? 'down' : 'up';
    try {
      for (const x of changes) {
        const saved = await api.updateFieldDefinition(x.id, { position: wanted.get(x.id) }, { signal: controller.signal });
        if (saved && typeof saved === 'object' && saved.id === x.id) {
          lists[key] = lists[key].map((y) => (y.id === x.id ? { ...y, ...saved } : y));
        }
      }
      reordering = false;
      definitionsChanged();
      render({ focus: { id: f.id, testid: to === 0 || to === next.length - 1 ? `cf-move-${other}` : `cf-move-${dir}` } });
      announcer.textContent = `${f.label || f.key} moved to position ${to + 1} of ${next.length}`;
    } catch (err) {
      reordering = false;
      if (err?.name === 'AbortError') return;
      lists[key] = before;
      render({ focus: { id: f.id, testid: `cf-move-${dir}` } });
      if (err?.isForbidden) {
        toast(`${FORBIDDEN_TEXT} Ask an owner, admin or manager to change the order.`, { kind: 'error', title: 'Your role cannot reorder fields', requestId: err.requestId });
        lockWrites();
      } else {
        toastError(err, 'Could not change the order');
        definitionsChanged();
        if (changes.length > 1) load(); // part of the renumbering may have landed
      }
    }
  }

  async function load() {
    errorSlot.replaceChildren();
    tableParts.table.setAttribute('aria-busy', 'true');
    tableParts.tableWrap.classList.add('is-refreshing');
    try {
      const [contacts, companies] = await Promise.all(CF_ENTITIES.map((e) => api.listFieldDefinitions(e.key, { signal: controller.signal })));
      lists.contact = contacts.items.filter((f) => f && f.id != null).sort(byPosition);
      lists.company = companies.items.filter((f) => f && f.id != null).sort(byPosition);
      loaded = true;
      render();
    } catch (err) {
      if (err?.name === 'AbortError') return;
      if (err.status === 403) { mount(root, forbiddenState(err)); return; }
      status.textContent = 'Custom fields could not be loaded.';
      tableParts.tbody.replaceChildren();
      errorSlot.replaceChildren(inlineError(err, load));
      toastError(err, 'Could not load custom fields');
    } finally {
      tableParts.table.setAttribute('aria-busy', 'false');
      tableParts.tableWrap.classList.remove('is-refreshing');
    }
  }

  writeLead();
  buildTable();
  select(entity);
  tableParts.tbody.replaceChildren(...Array.from({ length: 3 }, () => h('tr', { 'aria-hidden': 'true' },
    h('td', { colspan: cols() }, h('span', { class: 'skeleton skeleton-text', style: { width: '60%' } })))));
  load();

  return { destroy() { controller.abort(); resizeObserver.disconnect(); cancelAnimationFrame(fitFrame); } };
}

// ---------------------------------------------------------------------------
// New field / edit field. Entity, key and kind are chosen when creating and
// read-only when editing. onSaved(field) once the dialog has closed.

export function openFieldDialog({ field: existing = null, entity, lists = {}, onSaved, onForbidden, onGone } = {}) {
  if (document.querySelector('dialog.cf-dialog[open]')) return null;
  const editing = Boolean(existing);
  const entityOf = (key) => CF_ENTITIES.find((e) => e.key === key) || CF_ENTITIES[0];
  let currentEntity = editing ? entityOf(existing.entity) : entity || CF_ENTITIES[0];
  const text = editing
    ? { title: `Edit ${existing.label || existing.key}`, idle: 'Save', working: 'Saving…', fail: 'Could not save the field' }
    : { title: 'New field', idle: 'Create field', working: 'Creating…', fail: 'Could not create the field' };
  let saving = false;
  let saved = null;
  let gone = false;
  let keyTouched = editing;

  const takenBy = () => {
    const m = new Map();
    for (const f of lists[currentEntity.key] || []) if (!editing || f.id !== existing.id) m.set(f.key, f);
    return m;
  };

  const box = errorBox('cf-form-error');
  const label = field({
    name: 'label', label: 'Label', idPrefix: 'cf', testid: 'cf-label', required: true, autofocus: true, maxlength: MAX_LABEL,
    value: existing?.label || undefined,
    hint: editing ? 'What people see on forms, pages and list columns.' : 'What people see on forms, pages and list columns, e.g. “Renewal date”.',
  });
  const key = field({
    name: 'key', label: 'Key', idPrefix: 'cf', testid: 'cf-key', required: !editing, maxlength: MAX_KEY,
    value: existing?.key || undefined,
    hint: ' ',
  });
  key.input.classList.add('cf-key-input');
  key.input.spellcheck = false;
  key.input.setAttribute('autocapitalize', 'off');
  const keyHint = key.wrap.querySelector('.field-hint');
  const entitySelect = field({
    name: 'entity', label: 'Record type', idPrefix: 'cf', testid: 'cf-entity', value: currentEntity.key, half: true,
    options: CF_ENTITIES.map((e) => ({ value: e.key, label: e.label })),
  });
  const kind = field({
    name: 'kind', label: 'Kind', idPrefix: 'cf', testid: 'cf-kind', value: existing?.kind || 'text', half: true,
    options: (editing && !KIND_BY_VALUE.has(existing.kind) ? [...CF_KINDS, kindInfo(existing.kind)] : CF_KINDS)
      .map((k) => ({ value: k.value, label: k.label })),
    hint: ' ',
  });
  const kindHint = kind.wrap.querySelector('.field-hint');

  // Options: one per line, with a preview of what the menu will offer.
  const optionsInput = h('textarea', {
    id: 'cf-options', name: 'options', rows: 5, class: 'cf-options-input', spellcheck: 'true',
    dataset: { testid: 'cf-options', hint: 'cf-options-hint' }, 'aria-describedby': 'cf-options-hint',
  });
  optionsInput.value = (existing?.options || []).join('\n');
  const optionsPreview = h('div', { class: 'cf-options-preview', 'aria-hidden': 'true', dataset: { testid: 'cf-options-preview' } });
  const optionsHintText = h('span');
  const optionsWrap = h('div', { class: 'field cf-options-field', dataset: { field: 'options' } },
    h('label', { for: 'cf-options' }, 'Options'),
    optionsInput,
    h('p', { class: 'field-hint muted', id: 'cf-options-hint' }, optionsHintText),
    optionsPreview);

  const currency = field({
    name: 'currency', label: 'Currency', idPrefix: 'cf', testid: 'cf-currency', maxlength: 3, half: true,
    value: existing?.currency || 'USD',
    hint: editing ? 'Changing it does not convert amounts already stored.' : 'ISO 4217 code, such as USD or EUR.',
  });
  currency.input.classList.add('cf-currency-input');
  currency.input.setAttribute('list', 'cf-currency-list');
  currency.input.setAttribute('autocapitalize', 'characters');
  currency.input.spellcheck = false;
  currency.wrap.append(h('datalist', { id: 'cf-currency-list' }, COMMON_CURRENCIES.map((c) => h('option', { value: c }))));

  const requiredInput = h('input', {
    type: 'checkbox', id: 'cf-required', name: 'required', checked: Boolean(existing?.required),
    dataset: { testid: 'cf-required', hint: 'cf-required-hint' }, 'aria-describedby': 'cf-required-hint',
  });
  const requiredWrap = h('div', { class: 'field cf-check-field', dataset: { field: 'required' } },
    h('label', { class: 'cf-check', for: 'cf-required' }, requiredInput, h('span', null, 'Required')),
    h('p', { class: 'field-hint muted', id: 'cf-required-hint' }, ''));

  if (editing) {
    key.input.readOnly = true;
    key.input.setAttribute('aria-readonly', 'true');
    entitySelect.input.disabled = true;
    kind.input.disabled = true;
  }

  const inputs = {
    label: label.input, key: key.input, entity: entitySelect.input, kind: kind.input,
    options: optionsInput, currency: currency.input, required: requiredInput,
  };
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'cf-save' } }, text.idle);
  const title = h('h2', { id: 'cf-dialog-title' }, text.title);

  const form = h('form', { class: 'dialog-form', novalidate: true, dataset: { testid: 'custom-field-form', mode: editing ? 'edit' : 'create' } },
    h('header', { class: 'dialog-header' },
      title,
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    h('div', { class: 'dialog-body' },
      box,
      h('div', { class: 'field-grid' },
        label.wrap, key.wrap, entitySelect.wrap, kind.wrap, optionsWrap, currency.wrap, requiredWrap),
      editing ? h('p', { class: 'cf-fixed-note muted', dataset: { testid: 'cf-fixed-note' } },
        svg('lock', { size: 14 }),
        h('span', null, 'Record type, key and kind cannot change once a field exists. To change them, archive this field and define a new one.')) : null),
    h('footer', { class: 'dialog-footer' },
      h('span', { class: 'muted footer-hint' }, h('kbd', null, 'Enter'), ' to save · ', h('kbd', null, 'Esc'), ' to close'),
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      submit));
  const dialog = h('dialog', { class: 'dialog cf-dialog', 'aria-labelledby': 'cf-dialog-title' }, form);
  const errs = formErrors({ form, inputs, idPrefix: 'cf', box });

  function writeTitle() {
    if (!editing) title.textContent = `New ${currentEntity.one} field`;
  }

  function writeKeyHint() {
    const k = key.input.value.trim() || 'key';
    mount(keyHint,
      editing ? 'Fixed. ' : 'Derived from the label; you can change it until the field is created. ',
      'Filters, imports, exports and the API use it as ', h('code', null, `custom.${k}`), '.');
  }

  function writeKindExtras() {
    const k = kind.input.value;
    kindHint.textContent = kindInfo(k).hint;
    const isSelect = SELECT_KINDS.has(k);
    optionsWrap.hidden = !isSelect;
    currency.wrap.hidden = k !== 'money';
    if (!isSelect) errs.clearField('options');
    if (k !== 'money') errs.clearField('currency');
    writeOptionsPreview();
  }

  function writeOptionsPreview() {
    const opts = parseOptions(optionsInput.value);
    const lines = optionsInput.value.split('\n').filter((l) => l.trim()).length;
    const removed = editing && SELECT_KINDS.has(existing.kind) ? (existing.options || []).filter((o) => !opts.includes(o)) : [];
    mount(optionsHintText,
      kind.input.value === 'multi-select' ? 'One option per line. People can pick several.' : 'One option per line, in the order the menu shows them.',
      opts.length ? ` ${plural(opts.length, 'option', 'options')}${lines > opts.length ? ' (repeats are dropped)' : ''}.` : '',
      removed.length ? h('span', { class: 'cf-removed-note', dataset: { testid: 'cf-options-removed' } },
        ` Removing ${removed.map((o) => `“${o}”`).join(', ')} does not clear ${removed.length === 1 ? 'it' : 'them'} from ${currentEntity.many} that already have ${removed.length === 1 ? 'it' : 'them'}.`) : null);
    mount(optionsPreview, opts.slice(0, 30).map((o) => h('span', { class: 'chip cf-chip' }, o)),
      opts.length > 30 ? h('span', { class: 'cf-more muted' }, `+${opts.length - 30} more`) : null);
    optionsPreview.hidden = opts.length === 0;
  }

  function writeRequiredHint() {
    requiredWrap.querySelector('.field-hint').textContent = requiredInput.checked
      ? `Every ${currentEntity.one} created or edited from now on needs a value${editing && !existing.required ? `, including ${currentEntity.many} that have none yet` : ''}.`
      : `${capitalize(currentEntity.many)} may leave it empty.`;
  }

  function deriveFromLabel() {
    if (keyTouched) return;
    key.input.value = uniqueKey(deriveKey(label.input.value), new Set(takenBy().keys()));
    writeKeyHint();
  }

  label.input.addEventListener('input', () => {
    errs.clearField('label');
    if (!keyTouched) { errs.clearField('key'); deriveFromLabel(); }
  });
  key.input.addEventListener('input', () => {
    if (editing) return;
    // Same-length clean-up as you type (A→a, space or - → _), keeping the caret.
    const { selectionStart: s, selectionEnd: e } = key.input;
    const cleaned = key.input.value.toLowerCase().replace(/[\s-]/g, '_');
    if (cleaned !== key.input.value) {
      key.input.value = cleaned;
      key.input.setSelectionRange(s, e);
    }
    keyTouched = key.input.value !== '';
    errs.clearField('key');
    writeKeyHint();
    if (!keyTouched) deriveFromLabel();
  });
  key.input.addEventListener('blur', () => {
    if (editing || !key.input.value) return;
    const problem = keyProblem(key.input.value.trim(), takenBy(), currentEntity);
    if (problem) errs.setField('key', [problem]);
  });
  entitySelect.input.addEventListener('change', () => {
    currentEntity = entityOf(entitySelect.input.value);
    errs.clearField('entity');
    errs.clearField('key');
    writeTitle();
    deriveFromLabel();
    writeRequiredHint();
    writeOptionsPreview();
  });
  kind.input.addEventListener('change', () => { errs.clearField('kind'); writeKindExtras(); });
  optionsInput.addEventListener('input', () => { errs.clearField('options'); writeOptionsPreview(); });
  currency.input.addEventListener('input', () => {
    const { selectionStart: s, selectionEnd: e } = currency.input;
    currency.input.value = currency.input.value.toUpperCase();
    currency.input.setSelectionRange(s, e);
    errs.clearField('currency');
  });
  requiredInput.addEventListener('change', writeRequiredHint);

  /** Client-side checks, the same rules the server applies. → {field: [msg]} */
  function check(body) {
    const out = {};
    const k = editing ? existing.kind : body.kind;
    if (!body.label && (!editing || 'label' in body)) out.label = ['Enter a label'];
    else if (body.label && [...body.label].length > MAX_LABEL) out.label = [`Use at most ${MAX_LABEL} characters`];
    if (!editing) {
      const problem = keyProblem(body.key, takenBy(), currentEntity);
      if (problem) out.key = [problem];
    }
    if (SELECT_KINDS.has(k) && body.options) {
      if (!body.options.length) out.options = ['Enter at least one option, one per line'];
      else if (body.options.length > MAX_OPTIONS) out.options = [`Use at most ${MAX_OPTIONS} options`];
      else if (body.options.some((o) => [...o].length > MAX_OPTION)) out.options = [`Keep each option to at most ${MAX_OPTION} characters`];
    }
    if (k === 'money' && 'currency' in body && !/^[A-Z]{3}$/.test(body.currency || '')) {
      out.currency = ['Enter a three-letter ISO 4217 code, such as USD or EUR'];
    }
    return out;
  }

  /** The server's messages, with a word on why a key may be taken although no field shows it. */
  function explain(err) {
    for (const e of err.errors || []) {
      if (e.field === 'key' && /already used/i.test(e.message || '') && !takenBy().has(key.input.value.trim())) {
        e.message = 'Another field already has this key. Archived fields keep their keys (their values stay in the records), so choose another key';
      }
    }
    return err;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    errs.clearAll();
    let body;
    const k = editing ? existing.kind : kind.input.value;
    if (editing) {
      body = {};
      const l = label.input.value.trim();
      if (l !== existing.label) body.label = l;
      if (requiredInput.checked !== Boolean(existing.required)) body.required = requiredInput.checked;
      if (SELECT_KINDS.has(k)) {
        const opts = parseOptions(optionsInput.value);
        if (!sameList(opts, existing.options || [])) body.options = opts;
      }
      if (k === 'money') {
        const c = currency.input.value.trim().toUpperCase();
        if (c !== (existing.currency || 'USD')) body.currency = c;
      }
    } else {
      body = {
        entity: currentEntity.key,
        key: key.input.value.trim(),
        label: label.input.value.trim(),
        kind: k,
        required: requiredInput.checked,
      };
      if (SELECT_KINDS.has(k)) body.options = parseOptions(optionsInput.value);
      if (k === 'money') body.currency = currency.input.value.trim().toUpperCase() || 'USD';
      const same = lists[currentEntity.key] || [];
      body.position = same.length ? Math.max(...same.map((f) => Number(f.position) || 0)) + 1 : 0;
    }
    const problems = check(body);
    const names = Object.keys(problems);
    if (names.length) {
      names.forEach((n) => errs.setField(n, problems[n]));
      const first = ['label', 'key', 'options', 'currency'].find((n) => problems[n]);
      inputs[first]?.focus();
      return;
    }
    if (editing && !Object.keys(body).length) { dialog.close('cancel'); return; }
    saving = true;
    busy(submit, true, { idle: text.idle, working: text.working });
    try {
      const result = editing
        ? await api.updateFieldDefinition(existing.id, body)
        : await api.createFieldDefinition(body);
      saved = { ...(existing || { options: [], required: false }), ...body, ...(result && typeof result === 'object' ? result : {}) };
      definitionsChanged();
      dialog.close('saved');
      const e2 = entityOf(saved.entity);
      if (editing) {
        toast(`Changes to ${saved.label} show on ${e2.many} from now on.`, { kind: 'success', title: 'Field saved' });
      } else {
        toast(`${saved.label} is now on ${e2.one} forms and pages, and available for list columns, filters, imports and exports.`, { kind: 'success', title: 'Field created' });
      }
    } catch (err) {
      saving = false;
      busy(submit, false, { idle: text.idle, working: text.working });
      if (err?.isForbidden) {
        errs.showBox(forbiddenContent(err));
        submit.disabled = true;
        onForbidden?.(err);
        return;
      }
      if (err?.isNotFound && editing) {
        gone = true;
        errs.showBox(h('div', null, h('strong', null, 'This field no longer exists.'), ' ',
          'Someone archived it meanwhile. Close this dialog to see the current fields.'));
        submit.disabled = true;
        return;
      }
      errs.fromApi(explain(err), { fallbackTitle: text.fail, focus: label.input });
      if (!err.isValidation) toastError(err, text.fail);
    }
  });

  writeTitle();
  writeKeyHint();
  writeKindExtras();
  writeRequiredHint();
  openModal(dialog, {
    onClose: () => {
      if (saved) onSaved?.(saved);
      else if (gone) onGone?.();
    },
  });
  label.input.focus();
  if (editing) label.input.select();
  return dialog;
}
