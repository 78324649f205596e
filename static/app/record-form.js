// Create and edit dialogs for contacts and companies.
//
// The form renders from a plain value object (the record normalised), reads
// back the same shape, and on edit sends only what changed as a JSON merge
// patch with If-Match. A 422's per-field errors land on their inputs, whatever
// the path: `emails.1.address`, `custom.tier`, `address.city`. A 412 offers to
// reload the latest version and re-applies the user's changes on top of it.

import { h, mount, icon, toast, toastError, openModal, debounce } from './ui.js';
import { capitalize } from './forms.js';
import * as crm from './crm-api.js';
import {
  STAGES, SIZES, SOURCES, INDUSTRIES, CONSENT_CHANNELS, CONSENT_VALUES, stageLabel, labelize, recordName, recordHref,
  moneyToInput, parseMoney, moneyDigits, loadUsers, knownUsers, userName, userActive, meId, xicon,
} from './records.js';

const EMAIL_LABELS = [['', 'Label'], ['work', 'Work'], ['personal', 'Personal'], ['other', 'Other']];
const PHONE_LABELS = [['', 'Label'], ['work', 'Work'], ['mobile', 'Mobile'], ['home', 'Home'], ['other', 'Other']];
const ADDRESS_FIELDS = [['street', 'Street', 'street-address'], ['city', 'City', 'address-level2'], ['region', 'Region / state', 'address-level1'], ['postal_code', 'Postal code', 'postal-code'], ['country', 'Country', 'country-name']];

// ---------------------------------------------------------------------------
// Normalising, diffing, merging

const str = (v) => (v === null || v === undefined ? null : String(v).trim() || null);

function isEmptyValue(v) {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)
    || (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isEmptyValue));
}

function same(a, b) {
  if (isEmptyValue(a) && isEmptyValue(b)) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

function normList(list, key, fallback) {
  const src = Array.isArray(list) && list.length ? list : fallback ? [{ [key]: fallback, primary: true }] : [];
  return src.map((e) => {
    const out = { [key]: str(e?.[key]), primary: !!e?.primary };
    if (str(e?.label)) out.label = str(e.label);
    return out;
  });
}

function normAddress(a) {
  return Object.fromEntries(ADDRESS_FIELDS.map(([k]) => [k, str(a?.[k])]));
}

export function normalize(entity, r = {}) {
  const base = {
    owner_id: r.owner_id || null,
    tags: Array.isArray(r.tags) ? r.tags.slice() : [],
    address: normAddress(r.address),
    custom: { ...(r.custom || {}) },
  };
  if (entity === 'company') {
    const domains = Array.isArray(r.domains) && r.domains.length ? r.domains.slice() : r.domain ? [r.domain] : [];
    return {
      ...base, name: str(r.name), domains, industry: str(r.industry), size: r.size || null,
      phone: str(r.phone), website: str(r.website), parent_id: r.parent_id || null,
    };
  }
  return {
    ...base,
    first_name: str(r.first_name), last_name: str(r.last_name), title: str(r.title), source: str(r.source),
    lifecycle_stage: r.lifecycle_stage || null,
    emails: normList(r.emails, 'address', r.email),
    phones: normList(r.phones, 'number', r.phone),
    company_id: r.company_id || null, company: str(r.company),
    company_ids: Array.isArray(r.company_ids) ? r.company_ids.slice() : [],
    consent: Object.fromEntries(CONSENT_CHANNELS.map(([k]) => [k, r.consent?.[k] || 'unknown'])),
  };
}

const NESTED = new Set(['address', 'consent', 'custom']);

/** JSON merge patch turning `orig` into `next` (both normalised). */
export function diff(orig, next, defs = []) {
  const patch = {};
  for (const k of Object.keys(next)) {
    if (k === 'company' || k === 'company_id' || k === 'company_ids') continue;
    if (NESTED.has(k)) {
      const sub = {};
      const keys = new Set([...Object.keys(orig[k] || {}), ...Object.keys(next[k] || {})]);
      for (const sk of keys) {
        const a = orig[k]?.[sk];
        const b = next[k]?.[sk];
        if (k === 'custom') {
          const def = defs.find((d) => d.key === sk);
          if (!def) continue; // values of deleted definitions are left alone
          if (def.kind === 'checkbox' && !a && !b) continue;
        }
        if (!same(a, b)) sub[sk] = isEmptyValue(b) ? null : b;
      }
      if (Object.keys(sub).length) patch[k] = sub;
    } else if (!same(orig[k], next[k])) {
      patch[k] = Array.isArray(next[k]) ? next[k] : (isEmptyValue(next[k]) ? null : next[k]);
    }
  }
  if ('company' in next) {
    const idChanged = (orig.company_id || null) !== (next.company_id || null);
    const textChanged = !idChanged && !next.company_id && !same(orig.company, next.company);
    if (idChanged || textChanged) {
      // The primary company is always one of the linked ones; replacing it
      // means unlinking the old one too.
      const others = (orig.company_ids || []).filter((id) => id !== orig.company_id);
      if (next.company_id) {
        patch.company_id = next.company_id;
        patch.company_ids = [next.company_id, ...others.filter((id) => id !== next.company_id)];
      } else {
        patch.company_id = null;
        patch.company_ids = others;
        patch.company = next.company || null;
      }
    }
  }
  return patch;
}

/**
 * A patch from diff() applied to normalised form values: like a JSON merge
 * patch, except that null stays null (a cleared field shows empty).
 */
export function applyPatch(target, patch) {
  const out = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    const t = target?.[k];
    const bothObjects = v && typeof v === 'object' && !Array.isArray(v) && t && typeof t === 'object' && !Array.isArray(t);
    out[k] = bothObjects ? applyPatch(t, v) : v;
  }
  return out;
}

/** Create body: the non-empty parts only. */
function createBody(entity, v) {
  const out = {};
  for (const [k, val] of Object.entries(v)) {
    if (k === 'company_ids') continue;
    if (k === 'custom') {
      const c = Object.fromEntries(Object.entries(val).filter(([, x]) => !isEmptyValue(x) && x !== false));
      if (Object.keys(c).length) out.custom = c;
    } else if (k === 'consent') {
      if (Object.values(val).some((x) => x !== 'unknown')) out.consent = val;
    } else if (k === 'address') {
      const a = Object.fromEntries(Object.entries(val).filter(([, x]) => !isEmptyValue(x)));
      if (Object.keys(a).length) out.address = a;
    } else if (!isEmptyValue(val)) out[k] = val;
  }
  if (entity === 'contact' && out.company_id) delete out.company;
  return out;
}

// ---------------------------------------------------------------------------
// Small controls

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

function input(attrs) {
  return h('input', { class: 'input', autocomplete: 'off', ...attrs });
}

function selectEl(options, value, attrs = {}) {
  return h('select', { class: 'input', ...attrs },
    options.map(([v, label]) => h('option', { value: v, selected: String(v) === String(value ?? '') ? true : null }, label)));
}

/**
 * A text input with a dropdown of suggestions fetched as the user types.
 * fetch(q, signal) → [{ id, label, sub }]; onPick(item|null).
 */
export function combobox({ inputEl, fetch, onPick, emptyText }) {
  const listId = nextId('cb-list');
  const list = h('ul', { class: 'combo-list', id: listId, role: 'listbox', hidden: true });
  const wrap = h('div', { class: 'combo' }, inputEl, list);
  let items = [];
  let active = -1;
  let controller = null;
  inputEl.setAttribute('role', 'combobox');
  inputEl.setAttribute('aria-autocomplete', 'list');
  inputEl.setAttribute('aria-expanded', 'false');
  inputEl.setAttribute('aria-controls', listId);

  function close() {
    list.hidden = true;
    inputEl.setAttribute('aria-expanded', 'false');
    inputEl.removeAttribute('aria-activedescendant');
    active = -1;
  }
  function render() {
    if (!items.length) {
      if (emptyText && inputEl.value.trim()) {
        mount(list, h('li', { class: 'combo-empty muted', role: 'presentation' }, emptyText(inputEl.value.trim())));
        list.hidden = false;
        inputEl.setAttribute('aria-expanded', 'true');
      } else close();
      return;
    }
    mount(list, items.map((it, i) => h('li', {
      id: `${listId}-${i}`, role: 'option', class: ['combo-item', i === active && 'is-active'], 'aria-selected': String(i === active),
      dataset: { testid: 'combo-option' },
      onmousedown: (e) => { e.preventDefault(); pick(i); },
    }, h('span', { class: 'combo-label' }, it.label), it.sub ? h('span', { class: 'combo-sub muted' }, it.sub) : null)));
    list.hidden = false;
    inputEl.setAttribute('aria-expanded', 'true');
    if (active >= 0) inputEl.setAttribute('aria-activedescendant', `${listId}-${active}`);
    else inputEl.removeAttribute('aria-activedescendant');
  }
  function pick(i) {
    const it = items[i];
    if (!it) return;
    inputEl.value = it.label;
    close();
    onPick(it);
  }
  const run = debounce(async () => {
    controller?.abort();
    const q = inputEl.value.trim();
    if (!q) { items = []; close(); return; }
    controller = new AbortController();
    try {
      items = await fetch(q, controller.signal);
      active = -1;
      if (document.activeElement === inputEl) render();
    } catch (err) {
      if (err?.name !== 'AbortError') { items = []; close(); }
    }
  }, 150);
  inputEl.addEventListener('input', () => { onPick(null, { typing: true }); run(); });
  inputEl.addEventListener('keydown', (e) => {
    if (list.hidden || !items.length) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); active = (active + 1) % items.length; render(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); active = active <= 0 ? items.length - 1 : active - 1; render(); }
    else if (e.key === 'Enter' && active >= 0) { e.preventDefault(); pick(active); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
  });
  inputEl.addEventListener('blur', () => setTimeout(close, 120));
  return { wrap, close };
}

async function companySuggestions(q, signal, excludeId) {
  const page = await crm.listRecords('company', { q, limit: 8, signal });
  return page.items.filter((c) => c.id !== excludeId).map((c) => ({ id: c.id, label: c.name || c.domain || c.id, sub: c.domain || c.industry || '' }));
}

// ---------------------------------------------------------------------------
// The dialog

/**
 * openRecordForm({ entity, record, version, onSaved, onReloaded })
 * record null → create. onSaved(record, version) after the server answered.
 */
export function openRecordForm({ entity, record = null, version = null, initial = null, onSaved, onReloaded }) {
  const isContact = entity === 'contact';
  const creating = !record;
  const dialogClass = `${entity}-form-dialog`;
  if (document.querySelector(`dialog.${dialogClass}[open]`)) return null;

  let baseline = normalize(entity, record || { ...(isContact ? { lifecycle_stage: 'lead' } : {}), ...(initial || {}) });
  let currentVersion = version ?? (record?.version != null ? String(record.version) : null);
  let defs = [];
  let saving = false;
  let idempotencyKey = crm.newIdempotencyKey();
  /** API field path → { wrap, input, tid } */
  let controls = new Map();
  let readers = [];
  let customReaders = [];

  const noun = isContact ? 'contact' : 'company';
  const title = creating ? `New ${noun}` : `Edit ${recordName(entity, record) || noun}`;
  const saveLabel = creating ? `Create ${noun}` : 'Save changes';
  const saveTestid = isContact ? (creating ? 'save-contact' : 'contact-save') : 'company-save';

  const box = h('div', { class: 'form-error', role: 'alert', dataset: { testid: 'form-error' }, hidden: true });
  const body = h('div', { class: 'dialog-body record-form-body' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: saveTestid } }, saveLabel);
  const form = h('form', { class: 'dialog-form record-form', novalidate: true, dataset: { testid: `${entity}-form` } },
    h('header', { class: 'dialog-header' },
      h('h2', { id: `${dialogClass}-title` }, title),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    body,
    h('footer', { class: 'dialog-footer' },
      h('span', { class: 'muted footer-hint' }, h('kbd', null, 'Ctrl'), '+', h('kbd', null, 'Enter'), ' to save · ', h('kbd', null, 'Esc'), ' to close'),
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      submit));
  const dialog = h('dialog', { class: ['dialog', 'record-dialog', dialogClass, isContact && 'contact-dialog'], 'aria-labelledby': `${dialogClass}-title` }, form);

  form.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });

  // --- registry of controls, for errors ------------------------------------------
  function reg(path, wrap, inputEl, tid) {
    controls.set(path, { wrap, input: inputEl, tid: tid || path.replace(/\./g, '-') });
  }

  function fieldWrap(label, control, { path, tid, half = false, hint, required = false, cls } = {}) {
    const id = control.id || nextId('rf');
    control.id = id;
    const wrap = h('div', { class: ['field', half && 'field-half', cls], dataset: { field: path } },
      h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      control.__wrap || control,
      hint ? h('p', { class: 'field-hint muted' }, hint) : null);
    if (path) reg(path, wrap, control, tid);
    control.addEventListener('input', () => clearError(path));
    control.addEventListener('change', () => clearError(path));
    return wrap;
  }

  function textField(path, label, value, { type = 'text', half = false, tid, hint, required, inputmode, autocomplete, list, maxlength = 320 } = {}) {
    const el = input({ name: path, type, value: value ?? '', inputmode, list, maxlength, required, autocomplete: autocomplete || 'off', dataset: { testid: `field-${tid || path}` },
      spellcheck: type === 'email' || type === 'url' ? 'false' : null, autocapitalize: type === 'email' || type === 'url' ? 'off' : null });
    return fieldWrap(label, el, { path, tid: tid || path, half, hint, required });
  }

  // --- errors ---------------------------------------------------------------------
  function clearError(path) {
    if (!path) return;
    const c = controls.get(path);
    if (!c) return;
    c.wrap.querySelector(':scope > .field-error')?.remove();
    c.input?.removeAttribute('aria-invalid');
  }
  function clearAllErrors() {
    for (const p of controls.keys()) clearError(p);
    box.hidden = true;
    box.replaceChildren();
  }
  function resolve(path) {
    let p = path;
    while (p) {
      if (controls.has(p)) return controls.get(p);
      const cut = p.lastIndexOf('.');
      if (cut < 0) break;
      p = p.slice(0, cut);
    }
    return null;
  }
  function setError(path, messages) {
    const c = resolve(path);
    if (!c) return null;
    c.wrap.querySelector(':scope > .field-error')?.remove();
    const id = nextId('err');
    c.wrap.append(h('p', { class: 'field-error', id, dataset: { testid: `error-${c.tid}` } },
      icon('alert', { size: 14 }), h('span', null, messages.map(capitalize).join('. '))));
    if (c.input) {
      c.input.setAttribute('aria-invalid', 'true');
      c.input.setAttribute('aria-describedby', id);
    }
    return c;
  }
  function showBox(...content) {
    box.hidden = false;
    mount(box, icon('alert'), h('div', null, ...content));
  }
  function showValidation(errors, err) {
    const leftovers = [];
    let first = null;
    const grouped = new Map();
    for (const e of errors) {
      const key = e.field || '';
      if (!grouped.has(key)) grouped.set(key, []);
      grouped.get(key).push(e.message || 'is invalid');
    }
    for (const [path, msgs] of grouped) {
      const c = path ? setError(path, msgs) : null;
      if (c) first ||= c;
      else leftovers.push(...msgs.map((m) => (path ? `${path}: ${m}` : m)));
    }
    if (leftovers.length || !first) {
      showBox(h('strong', null, err?.title || 'Please check the form'), h('div', null, leftovers.length ? leftovers.map(capitalize).join('. ') : err?.detail || ''));
    }
    if (first?.input) {
      first.input.focus();
      first.input.select?.();
    } else box.scrollIntoView({ block: 'nearest' });
  }

  // --- sections -------------------------------------------------------------------
  function section(titleText, ...children) {
    return h('section', { class: 'form-section' },
      titleText ? h('h3', { class: 'form-section-title' }, titleText) : null,
      h('div', { class: 'field-grid' }, ...children));
  }

  /** Email / phone rows: value, label, primary radio, remove. */
  function multiRows({ kind, values }) {
    const isEmail = kind === 'email';
    const key = isEmail ? 'address' : 'number';
    const listPath = isEmail ? 'emails' : 'phones';
    const rows = [];
    const radioName = nextId(`primary-${kind}`);
    const list = h('div', { class: 'multi-rows', role: 'group', 'aria-label': isEmail ? 'Email addresses' : 'Phone numbers' });
    const addButton = h('button', { type: 'button', class: 'link-button add-row', dataset: { testid: `add-${kind}` }, onclick: () => { addRow({}, true); } },
      icon('plus', { size: 14 }), isEmail ? 'Add email' : 'Add phone');
    const group = h('div', { class: 'field multi-field', dataset: { field: listPath } },
      h('span', { class: 'field-label' }, isEmail ? 'Email addresses' : 'Phone numbers'), list, addButton);
    reg(listPath, group, null, listPath);
    reg(kind, group, null, kind); // `email` / `phone` without a row: the group

    function syncPrimary() {
      if (rows.length && !rows.some((r) => r.radio.checked)) rows[0].radio.checked = true;
      rows.forEach((r, i) => {
        const primary = r.radio.checked;
        r.el.classList.toggle('is-primary', primary);
        // The primary row is what the API calls `email` / `phone`.
        r.valueInput.dataset.testid = primary ? `field-${kind}` : `field-${kind}-${i}`;
        r.valueInput.name = primary ? kind : `${listPath}.${i}.${key}`;
        r.badge.hidden = !primary || rows.length < 2;
      });
    }
    function addRow(v, focus = false) {
      const valueInput = input({
        type: isEmail ? 'email' : 'tel', value: v[key] ?? '', inputmode: isEmail ? 'email' : 'tel',
        'aria-label': isEmail ? 'Email address' : 'Phone number', placeholder: isEmail ? 'name@company.com' : '+1 555 123 4567',
        spellcheck: isEmail ? 'false' : null, autocapitalize: 'off', maxlength: 320,
      });
      const labelSel = selectEl(isEmail ? EMAIL_LABELS : PHONE_LABELS, v.label || '', { 'aria-label': 'Label', class: 'input input-label' });
      const radio = h('input', { type: 'radio', name: radioName, checked: !!v.primary, 'aria-label': isEmail ? 'Primary email' : 'Primary phone', title: 'Primary' });
      const badge = h('span', { class: 'primary-badge', hidden: true }, 'Primary');
      const el = h('div', { class: 'multi-row' },
        h('label', { class: 'primary-pick', title: 'Make primary' }, radio),
        valueInput, labelSel, badge,
        h('button', { type: 'button', class: 'icon-button', 'aria-label': isEmail ? 'Remove email' : 'Remove phone', onclick: () => {
          const i = rows.indexOf(row);
          rows.splice(i, 1);
          el.remove();
          rebuildPaths();
          syncPrimary();
          (rows[Math.min(i, rows.length - 1)]?.valueInput || addButton).focus();
        } }, icon('x', { size: 15 })));
      const row = { el, valueInput, labelSel, radio, badge };
      radio.addEventListener('change', syncPrimary);
      valueInput.addEventListener('input', () => { clearError(row.path); clearError(kind); clearError(listPath); });
      rows.push(row);
      list.append(el);
      rebuildPaths();
      syncPrimary();
      if (focus) valueInput.focus();
    }
    function rebuildPaths() {
      for (const p of [...controls.keys()]) if (p.startsWith(`${listPath}.`)) controls.delete(p);
      rows.forEach((r, i) => {
        r.path = `${listPath}.${i}`;
        reg(r.path, r.el, r.valueInput, `${kind}-${i}`);
      });
    }
    (values.length ? values : [{ primary: true }]).forEach((v) => addRow(v));

    // Errors name the index of the *sent* list, which skips blank rows.
    readers.push((out) => {
      const sent = [];
      const paths = new Map();
      rows.forEach((r) => {
        const val = r.valueInput.value.trim();
        if (!val) return;
        const item = { [key]: val, primary: r.radio.checked };
        if (r.labelSel.value) item.label = r.labelSel.value;
        paths.set(sent.length, r);
        sent.push(item);
      });
      if (sent.length && !sent.some((x) => x.primary)) sent[0].primary = true;
      out[listPath] = sent;
      // Re-point error paths at the sent indexes.
      for (const p of [...controls.keys()]) if (p.startsWith(`${listPath}.`)) controls.delete(p);
      rows.forEach((r, i) => {
        const sentIndex = [...paths.entries()].find(([, row]) => row === r)?.[0];
        const idx = sentIndex ?? `x${i}`;
        const tid = r.radio.checked ? kind : `${kind}-${i}`;
        reg(`${listPath}.${idx}`, r.el, r.valueInput, tid);
        if (r.radio.checked) reg(kind, r.el, r.valueInput, kind);
      });
    });
    return group;
  }

  function tagsField(values) {
    const tags = values.slice();
    const listId = nextId('tag-suggest');
    const chips = h('span', { class: 'tag-edit-chips' });
    const entry = input({ type: 'text', list: listId, 'aria-label': 'Add a tag', placeholder: 'Add a tag…', dataset: { testid: 'field-tags' }, class: 'tag-entry', maxlength: 60 });
    const datalist = h('datalist', { id: listId });
    const control = h('div', { class: 'tag-input', onclick: (e) => { if (e.target === control) entry.focus(); } }, chips, entry, datalist);
    entry.__wrap = control;
    crm.tags(entity).then((list) => mount(datalist, list.map((t) => h('option', { value: t.tag }, `${t.count} ${t.count === 1 ? 'record' : 'records'}`)))).catch(() => {});

    function render() {
      mount(chips, tags.map((t, i) => h('span', { class: 'tag-chip tag-chip-edit', dataset: { testid: 'tag-chip' } }, t,
        h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove tag ${t}`, onclick: () => { tags.splice(i, 1); render(); entry.focus(); } }, icon('x', { size: 12 })))));
    }
    function add(raw) {
      const parts = String(raw).split(',').map((s) => s.trim()).filter(Boolean);
      for (const t of parts) if (!tags.some((x) => x.toLowerCase() === t.toLowerCase())) tags.push(t);
      entry.value = '';
      render();
    }
    entry.addEventListener('keydown', (e) => {
      if ((e.key === 'Enter' || e.key === ',') && entry.value.trim()) { e.preventDefault(); add(entry.value); }
      else if (e.key === 'Backspace' && !entry.value && tags.length) { tags.pop(); render(); }
    });
    entry.addEventListener('input', (e) => {
      // A pick from the suggestion list arrives as one replacement.
      if (e.inputType === 'insertReplacementText' || (!e.inputType && entry.value)) add(entry.value);
    });
    entry.addEventListener('blur', () => { if (entry.value.trim()) add(entry.value); });
    render();
    readers.push((out) => { if (entry.value.trim()) add(entry.value); out.tags = tags.slice(); });
    return fieldWrap('Tags', entry, { path: 'tags', tid: 'tags', hint: 'Enter or comma adds a tag.' });
  }

  function companyField(v) {
    let pickedId = v.company_id || null;
    let pickedName = v.company || '';
    const el = input({ type: 'text', name: 'company', value: v.company || '', dataset: { testid: 'field-company' }, placeholder: 'Search companies or type a name', maxlength: 320 });
    const linked = h('span', { class: 'combo-linked', hidden: !pickedId, title: 'Linked to a company record' }, xicon('link', { size: 13 }), 'Linked');
    const cb = combobox({
      inputEl: el,
      fetch: (q, signal) => companySuggestions(q, signal),
      onPick: (item, { typing } = {}) => {
        if (item) { pickedId = item.id; pickedName = item.label; }
        else if (typing && el.value.trim() !== pickedName) pickedId = null;
        linked.hidden = !pickedId;
      },
      emptyText: (q) => `No company called “${q}” yet; it will be saved as text.`,
    });
    el.__wrap = h('div', { class: 'combo-field' }, cb.wrap, linked);
    readers.push((out) => {
      const text = el.value.trim();
      if (pickedId && text === pickedName) { out.company_id = pickedId; out.company = pickedName || null; }
      else { out.company_id = null; out.company = text || null; }
      out.company_ids = baseline.company_ids || [];
    });
    const wrap = fieldWrap('Company', el, { path: 'company', tid: 'company', half: true });
    reg('company_id', wrap, el, 'company');
    reg('company_ids', wrap, el, 'company');
    return wrap;
  }

  function parentField(v) {
    let pickedId = v.parent_id || null;
    const el = input({ type: 'text', name: 'parent_id', value: '', dataset: { testid: 'field-parent_id' }, placeholder: 'Search companies…' });
    const cb = combobox({
      inputEl: el,
      fetch: (q, signal) => companySuggestions(q, signal, record?.id),
      onPick: (item, { typing } = {}) => {
        if (item) pickedId = item.id;
        else if (typing && !el.value.trim()) pickedId = null;
      },
      emptyText: (q) => `No company matches “${q}”.`,
    });
    el.__wrap = cb.wrap;
    if (pickedId) {
      el.value = '…';
      crm.companyById(pickedId).then((c) => { el.value = c?.name || pickedId; }).catch(() => { el.value = pickedId; });
    }
    el.addEventListener('blur', () => { if (!el.value.trim()) pickedId = null; });
    readers.push((out) => { out.parent_id = el.value.trim() ? pickedId : null; });
    return fieldWrap('Parent company', el, { path: 'parent_id', tid: 'parent_id', half: true });
  }

  function domainsField(values) {
    const rows = [];
    const list = h('div', { class: 'multi-rows', role: 'group', 'aria-label': 'Domains' });
    const radioName = nextId('primary-domain');
    const addButton = h('button', { type: 'button', class: 'link-button add-row', onclick: () => addRow('', true) }, icon('plus', { size: 14 }), 'Add domain');
    const group = h('div', { class: 'field multi-field', dataset: { field: 'domains' } }, h('span', { class: 'field-label' }, 'Domains'), list, addButton);
    reg('domains', group, null, 'domains');
    reg('domain', group, null, 'domain');
    function sync() {
      if (rows.length && !rows.some((r) => r.radio.checked)) rows[0].radio.checked = true;
      rows.forEach((r, i) => {
        r.el.classList.toggle('is-primary', r.radio.checked);
        r.valueInput.dataset.testid = r.radio.checked ? 'field-domain' : `field-domain-${i}`;
        r.valueInput.name = r.radio.checked ? 'domain' : `domains.${i}`;
        r.badge.hidden = !r.radio.checked || rows.length < 2;
      });
    }
    function addRow(value, focus = false, primary = false) {
      const valueInput = input({ type: 'text', value, 'aria-label': 'Domain', placeholder: 'example.com', spellcheck: 'false', autocapitalize: 'off', inputmode: 'url' });
      const radio = h('input', { type: 'radio', name: radioName, checked: primary, 'aria-label': 'Primary domain' });
      const badge = h('span', { class: 'primary-badge', hidden: true }, 'Primary');
      const el = h('div', { class: 'multi-row multi-row-domain' }, h('label', { class: 'primary-pick' }, radio), valueInput, badge,
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Remove domain', onclick: () => {
          rows.splice(rows.indexOf(row), 1); el.remove(); sync(); (rows[0]?.valueInput || addButton).focus();
        } }, icon('x', { size: 15 })));
      const row = { el, valueInput, radio, badge };
      radio.addEventListener('change', sync);
      rows.push(row);
      list.append(el);
      sync();
      if (focus) valueInput.focus();
    }
    (values.length ? values : ['']).forEach((d, i) => addRow(d, false, i === 0));
    readers.push((out) => {
      const primary = rows.find((r) => r.radio.checked);
      const ordered = primary ? [primary, ...rows.filter((r) => r !== primary)] : rows;
      const sent = [];
      for (const p of [...controls.keys()]) if (p.startsWith('domains.')) controls.delete(p);
      ordered.forEach((r) => {
        const d = r.valueInput.value.trim().replace(/^https?:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
        if (!d) return;
        reg(`domains.${sent.length}`, r.el, r.valueInput, r.radio.checked ? 'domain' : `domain-${sent.length}`);
        sent.push(d);
      });
      out.domains = sent;
    });
    return group;
  }

  let ownerSelect = null;
  const ownerSlot = h('div', { class: 'owner-slot' });
  /** The owner picker, once user names are known (only owners and admins can list users). */
  function fillOwner(v) {
    ownerSelect = null;
    ownerSlot.replaceChildren();
    // Deactivated users cannot be given records (but a record's current owner stays listed).
    const ids = new Set([...knownUsers().keys()].filter((id) => userActive(id)));
    if (v.owner_id) ids.add(v.owner_id);
    if (meId()) ids.add(meId());
    if (ids.size < 2) return;
    const options = [...ids].map((id) => [id, id === meId() ? `${userName(id)} (you)` : userName(id)]).sort((a, b) => a[1].localeCompare(b[1]));
    ownerSelect = selectEl(creating ? [['', 'Me (default)'], ...options] : options, v.owner_id || '', { name: 'owner_id', dataset: { testid: 'field-owner_id' } });
    ownerSlot.append(fieldWrap('Owner', ownerSelect, { path: 'owner_id', tid: 'owner_id', half: true }));
  }
  function ownerField(v) {
    fillOwner(v);
    readers.push((out) => { out.owner_id = ownerSelect ? ownerSelect.value || null : baseline.owner_id; });
    return ownerSlot;
  }

  function addressSection(a) {
    const els = {};
    const fields = ADDRESS_FIELDS.map(([k, label]) => {
      const el = input({ type: 'text', name: `address.${k}`, value: a[k] ?? '', dataset: { testid: `field-address-${k}` }, autocomplete: 'off', maxlength: 200, });
      els[k] = el;
      return fieldWrap(label, el, { path: `address.${k}`, tid: `address-${k}`, half: k !== 'street' });
    });
    readers.push((out) => { out.address = Object.fromEntries(ADDRESS_FIELDS.map(([k]) => [k, str(els[k].value)])); });
    return section('Address', ...fields);
  }

  function consentSection(c) {
    const els = {};
    const fields = CONSENT_CHANNELS.map(([k, label]) => {
      const sel = selectEl(CONSENT_VALUES.map((x) => [x, labelize(x)]), c[k] || 'unknown', { name: `consent.${k}`, dataset: { testid: `field-consent-${k}` } });
      els[k] = sel;
      return fieldWrap(label, sel, { path: `consent.${k}`, tid: `consent-${k}`, cls: 'field-third' });
    });
    readers.push((out) => { out.consent = Object.fromEntries(CONSENT_CHANNELS.map(([k]) => [k, els[k].value])); });
    return section('Consent to contact', ...fields);
  }

  function customControl(def, value) {
    const path = `custom.${def.key}`;
    const tid = `custom-${def.key}`;
    const testid = `field-${tid}`;
    const label = def.label || labelize(def.key);
    const required = !!def.required;
    switch (def.kind) {
      case 'long-text': {
        const el = h('textarea', { class: 'input', name: path, rows: 3, dataset: { testid }, maxlength: 10000 });
        el.value = value ?? '';
        readers.push((out) => { out.custom[def.key] = str(el.value); });
        return fieldWrap(label, el, { path, tid, required });
      }
      case 'number': {
        const el = input({ type: 'number', step: 'any', name: path, value: value ?? '', dataset: { testid }, inputmode: 'decimal' });
        readers.push((out, errs) => {
          if (el.value.trim() === '') { out.custom[def.key] = null; return; }
          const n = Number(el.value);
          if (!Number.isFinite(n)) errs.push({ field: path, message: 'Enter a number' });
          out.custom[def.key] = n;
        });
        return fieldWrap(label, el, { path, tid, half: true, required });
      }
      case 'money': {
        const currency = def.currency || 'EUR';
        const el = input({ type: 'text', name: path, value: moneyToInput(value, currency), dataset: { testid }, inputmode: 'decimal', placeholder: moneyDigits(currency) ? '0.00' : '0', class: 'input input-money' });
        const ctl = h('div', { class: 'input-affix' }, el, h('span', { class: 'affix' }, currency));
        el.__wrap = ctl;
        readers.push((out, errs) => {
          const n = parseMoney(el.value, currency);
          if (Number.isNaN(n)) errs.push({ field: path, message: `Enter an amount in ${currency}, like 1250.50` });
          out.custom[def.key] = Number.isNaN(n) ? value ?? null : n;
        });
        return fieldWrap(label, el, { path, tid, half: true, required, hint: `In ${currency}` });
      }
      case 'date': {
        const el = input({ type: 'date', name: path, value: value ?? '', dataset: { testid } });
        readers.push((out) => { out.custom[def.key] = el.value || null; });
        return fieldWrap(label, el, { path, tid, half: true, required });
      }
      case 'select': {
        const opts = [['', '—'], ...(def.options || []).map((o) => [o, o])];
        if (value && !(def.options || []).includes(value)) opts.push([value, `${value} (no longer an option)`]);
        const el = selectEl(opts, value ?? '', { name: path, dataset: { testid } });
        readers.push((out) => { out.custom[def.key] = el.value || null; });
        return fieldWrap(label, el, { path, tid, half: true, required });
      }
      case 'multi-select': {
        const chosen = new Set(Array.isArray(value) ? value : []);
        const boxes = (def.options || []).map((o) => h('label', { class: 'toggle-chip' },
          h('input', { type: 'checkbox', name: path, value: o, checked: chosen.has(o) }), h('span', null, o)));
        const fs = h('fieldset', { class: 'field chip-field', dataset: { field: path, testid } },
          h('legend', null, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
          h('div', { class: 'toggle-chips' }, boxes.length ? boxes : h('span', { class: 'muted' }, 'No options defined')));
        reg(path, fs, fs.querySelector('input'), tid);
        fs.addEventListener('change', () => clearError(path));
        readers.push((out) => { out.custom[def.key] = [...fs.querySelectorAll('input:checked')].map((x) => x.value); });
        return fs;
      }
      case 'checkbox': {
        const el = h('input', { type: 'checkbox', name: path, checked: !!value, dataset: { testid }, id: nextId('cb') });
        const wrap = h('div', { class: 'field field-half field-check', dataset: { field: path } },
          h('label', { class: 'check-row', for: el.id }, el, h('span', null, label)));
        reg(path, wrap, el, tid);
        readers.push((out) => { out.custom[def.key] = el.checked; });
        return wrap;
      }
      case 'url':
      case 'email':
      case 'phone':
      case 'text':
      default: {
        const type = def.kind === 'url' ? 'url' : def.kind === 'email' ? 'email' : def.kind === 'phone' ? 'tel' : 'text';
        const el = input({ type, name: path, value: value ?? '', dataset: { testid }, placeholder: def.kind === 'url' ? 'https://' : null, maxlength: 2000,
          inputmode: def.kind === 'url' ? 'url' : def.kind === 'email' ? 'email' : def.kind === 'phone' ? 'tel' : null });
        readers.push((out) => { out.custom[def.key] = str(el.value); });
        return fieldWrap(label, el, { path, tid, half: def.kind !== 'text', required });
      }
    }
  }

  // --- building the form ------------------------------------------------------------
  const customSlot = h('div', { class: 'custom-slot' });

  function build(v) {
    controls = new Map();
    readers = [];
    const sections = [];
    if (isContact) {
      const first = textField('first_name', 'First name', v.first_name, { half: true, autocomplete: 'off' });
      const last = textField('last_name', 'Last name', v.last_name, { half: true });
      const stage = selectEl(STAGES.map((s) => [s, stageLabel(s)]), v.lifecycle_stage || 'lead', { name: 'lifecycle_stage', dataset: { testid: 'field-lifecycle_stage' } });
      const sourceList = nextId('sources');
      sections.push(section(null,
        first, last,
        textField('title', 'Title', v.title, { half: true }),
        companyField(v),
        fieldWrap('Lifecycle stage', stage, { path: 'lifecycle_stage', tid: 'lifecycle_stage', half: true }),
        textField('source', 'Source', v.source, { half: true, list: sourceList }),
        h('datalist', { id: sourceList }, SOURCES.map((s) => h('option', { value: s }))),
        ownerField(v)));
      readers.push((out) => {
        for (const k of ['first_name', 'last_name', 'title', 'source']) out[k] = str(controls.get(k).input.value);
        out.lifecycle_stage = stage.value || null;
      });
      sections.push(section('Email and phone', multiRows({ kind: 'email', values: v.emails }), multiRows({ kind: 'phone', values: v.phones })));
      sections.push(section(null, tagsField(v.tags)));
      sections.push(addressSection(v.address));
      sections.push(consentSection(v.consent));
    } else {
      const size = selectEl([['', '—'], ...SIZES.map((s) => [s, `${s} employees`])], v.size || '', { name: 'size', dataset: { testid: 'field-size' } });
      const industryList = nextId('industries');
      sections.push(section(null,
        textField('name', 'Name', v.name, { required: true }),
        domainsField(v.domains),
        textField('industry', 'Industry', v.industry, { half: true, list: industryList }),
        h('datalist', { id: industryList }, INDUSTRIES.map((s) => h('option', { value: s }))),
        fieldWrap('Size', size, { path: 'size', tid: 'size', half: true }),
        textField('phone', 'Phone', v.phone, { type: 'tel', half: true, inputmode: 'tel' }),
        textField('website', 'Website', v.website, { type: 'url', half: true, inputmode: 'url' }),
        parentField(v),
        ownerField(v)));
      readers.push((out) => {
        for (const k of ['name', 'industry', 'phone', 'website']) out[k] = str(controls.get(k).input.value);
        if (out.website && !/^https?:\/\//i.test(out.website)) out.website = `https://${out.website}`;
        out.size = size.value || null;
      });
      sections.push(section(null, tagsField(v.tags)));
      sections.push(addressSection(v.address));
    }
    sections.push(customSlot);
    mount(body,
      creating && isContact ? h('p', { class: 'muted form-hint' }, 'A name or an email address is enough; you can add the rest later.') : null,
      box, ...sections);
    renderCustom(v);
  }

  function renderCustom(v) {
    for (const p of [...controls.keys()]) if (p.startsWith('custom.')) controls.delete(p);
    const before = readers.length;
    if (!defs.length) { customSlot.replaceChildren(); customReaders = []; return; }
    mount(customSlot, section('Custom fields', defs.map((d) => customControl(d, v.custom?.[d.key]))));
    // customControl pushed its readers onto `readers`; keep them apart so a
    // re-render replaces rather than adds to them.
    customReaders = readers.splice(before);
  }

  function collect() {
    const out = { custom: {} };
    const errs = [];
    for (const read of [...readers, ...customReaders]) read(out, errs);
    if (isContact) {
      // fields not in the form keep their values
      out.company_ids ??= baseline.company_ids;
    }
    return { values: out, errs };
  }

  // --- saving -----------------------------------------------------------------------
  function setBusy(on) {
    saving = on;
    submit.disabled = on;
    submit.textContent = on ? 'Saving…' : saveLabel;
    form.setAttribute('aria-busy', String(on));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    clearAllErrors();
    const { values, errs } = collect();
    if (isContact && creating && !values.first_name && !values.last_name && !(values.emails || []).length) {
      errs.push({ field: 'first_name', message: 'Enter a name or an email address' });
    }
    if (!isContact && !values.name) errs.push({ field: 'name', message: 'Enter the company’s name' });
    if (errs.length) { showValidation(errs); return; }

    setBusy(true);
    try {
      let result;
      if (creating) {
        result = await crm.createRecord(entity, createBody(entity, values), { idempotencyKey });
      } else {
        const patch = diff(baseline, values, defs);
        if (!Object.keys(patch).length) {
          dialog.close('unchanged');
          toast('Nothing was changed.', { title: 'No changes' });
          return;
        }
        result = await crm.updateRecord(entity, record.id, patch, currentVersion);
      }
      dialog.close('saved');
      onSaved?.(result.record, result.version);
      const name = recordName(entity, result.record) || (isContact ? 'The contact' : 'The company');
      toast(creating ? `${name} was added to your ${isContact ? 'contacts' : 'companies'}.` : `${name} was updated.`, {
        kind: 'success',
        title: creating ? `${capitalize(noun)} created` : 'Saved',
        action: creating ? { label: `Open ${noun}`, href: recordHref(entity, result.record.id) } : undefined,
      });
    } catch (err) {
      setBusy(false);
      if (!err.isNetwork) idempotencyKey = crm.newIdempotencyKey();
      if (err.status === 412) {
        showConflict();
      } else if (err.isValidation) {
        showValidation(err.errors.length ? err.errors : [{ field: '', message: err.detail }], err);
      } else if (err.isNotFound && !creating) {
        showBox(h('strong', null, `This ${noun} no longer exists.`), ' ', `It may have been deleted by someone else. Check the trash.`);
      } else {
        showBox(h('strong', null, err.title || 'Could not save'), ' ', err.detail || err.message,
          err.requestId ? h('div', { class: 'muted' }, `Request ID ${err.requestId}`) : null);
        if (!err.handled) toastError(err, 'Could not save');
      }
    }
  });

  function showConflict() {
    const reload = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'conflict-reload' }, onclick: () => rebase(reload) }, 'Reload latest version');
    showBox(
      h('strong', null, `Someone else changed this ${noun} while you were editing.`),
      h('div', null, 'Reload to get their changes. Your edits in this form are kept and applied on top; then check and save again.'),
      h('div', { class: 'box-actions' }, reload));
    box.dataset.kind = 'conflict';
    box.scrollIntoView({ block: 'nearest' });
    reload.focus();
  }

  async function rebase(button) {
    button.disabled = true;
    button.textContent = 'Reloading…';
    try {
      const { values } = collect();
      const mine = diff(baseline, values, defs);
      const latest = await crm.getRecord(entity, record.id);
      record = latest.record;
      currentVersion = latest.version;
      baseline = normalize(entity, latest.record);
      const merged = applyPatch(baseline, mine);
      // A newly picked company is sent by id only; keep showing its name.
      if (isContact && mine.company_id) merged.company = values.company;
      build(merged);
      onReloaded?.(latest.record, latest.version);
      showBox(h('strong', null, 'Reloaded the latest version.'), ' ', Object.keys(mine).length
        ? 'Your changes are applied on top of it. Check them and save again.'
        : 'You had no changes of your own.');
      box.dataset.kind = 'info';
    } catch (err) {
      button.disabled = false;
      button.textContent = 'Reload latest version';
      toastError(err, 'Could not reload');
    }
  }

  build(baseline);
  openModal(dialog);
  (controls.get(isContact ? 'first_name' : 'name')?.input)?.focus();

  // Custom-field definitions and user names arrive after the first paint
  // (usually from cache). They are added in place: nothing the user may
  // already be typing into is rebuilt.
  Promise.all([crm.customFields(entity).catch(() => []), loadUsers()]).then(([d]) => {
    if (!dialog.isConnected) return;
    if (!ownerSelect) fillOwner(baseline);
    defs = d;
    if (defs.length) renderCustom(baseline);
  });
  return dialog;
}
