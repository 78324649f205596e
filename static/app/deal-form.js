// The deal dialog: create (shortcut `n` on the board, "New deal" buttons, the
// Deals card of a contact or company, prefilled) and edit (every field,
// including line items). Inputs carry `name` attributes equal to the API's
// field names (`title`, `value`, `currency`, `expected_close`, `pipeline_id`,
// `stage_id`, `owner_id`, `contact_id`, `company_id`, `priority`, `source`,
// `tags`, `next_step`, `line_items.N.product` …; the probability override is
// `probability`, as the API reads it). A 422's per-field errors
// land on their inputs; a 412 on edit offers to reload and re-apply.

import { h, mount, icon, toast, toastError, openModal } from './ui.js';
import { capitalize } from './forms.js';
import * as crm from './crm-api.js';
import * as papi from './pipeline-api.js';
import { combobox } from './record-form.js';
import {
  parseMoney, moneyToInput, contactName, loadUsers, knownUsers, userName, userActive, meId,
} from './records.js';
import { CURRENCIES, PRIORITIES, SOURCES, formatMoney, priorityLabel, rememberName, recordNameOf } from './deal-display.js';

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;
const str = (v) => (v === null || v === undefined ? null : String(v).trim() || null);

function input(attrs) { return h('input', { class: 'input', autocomplete: 'off', ...attrs }); }
function selectEl(options, value, attrs = {}) {
  return h('select', { class: 'input', ...attrs },
    options.map(([v, label]) => h('option', { value: v, selected: String(v) === String(value ?? '') ? true : null }, label)));
}

/** Line item total in minor units: quantity × unit price, less the discount. */
export function lineTotal(li) {
  const q = Number(li.quantity) || 0;
  const p = Number(li.unit_price) || 0;
  const d = Math.min(100, Math.max(0, Number(li.discount_percent) || 0));
  return Math.round(q * p * (1 - d / 100));
}

async function contactSuggestions(q, signal) {
  const p = await crm.listRecords('contact', { q, limit: 8, signal });
  return p.items.map((c) => ({ id: c.id, label: contactName(c) || c.email || c.id, sub: [c.company, c.email].filter(Boolean).join(' · '), record: c }));
}
async function companySuggestions(q, signal) {
  const p = await crm.listRecords('company', { q, limit: 8, signal });
  return p.items.map((c) => ({ id: c.id, label: c.name || c.domain || c.id, sub: c.domain || c.industry || '', record: c }));
}

/** The fields a deal form edits, from a deal (or defaults). */
function normalize(d = {}) {
  return {
    title: str(d.title),
    value: d.value ?? null,
    currency: d.currency || null,
    expected_close: d.expected_close || null,
    pipeline_id: d.pipeline_id || null,
    stage_id: d.stage_id || null,
    owner_id: d.owner_id || null,
    contact_id: d.contact_id || null,
    company_id: d.company_id || null,
    priority: d.priority || 'normal',
    source: str(d.source),
    // The API reads the override as `probability` and shows it as `probability_override`.
    probability: d.probability_override ?? null,
    tags: Array.isArray(d.tags) ? d.tags.slice() : [],
    next_step: str(d.next_step),
    line_items: Array.isArray(d.line_items) ? d.line_items.map((li) => ({
      product: li.product ?? '', quantity: li.quantity ?? 1, unit_price: li.unit_price ?? 0, discount_percent: li.discount_percent ?? 0,
    })) : [],
  };
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * openDealForm({ deal, version, initial, onSaved })
 * deal null → create; `initial` prefills a new deal: { pipeline_id, stage_id,
 * contact_id, contact_name, company_id, company_name, … }.
 * onSaved(deal, version) after the server answered.
 */
export function openDealForm({ deal = null, version = null, initial = null, onSaved } = {}) {
  if (document.querySelector('dialog.deal-dialog[open]')) return null;
  const creating = !deal;
  let baseline = normalize(deal || { owner_id: meId(), ...(initial || {}) });
  let currentVersion = version ?? (deal?.version != null ? String(deal.version) : null);
  let idempotencyKey = crm.newIdempotencyKey();
  let saving = false;
  let pipelineList = [];
  let settings = { base_currency: 'EUR' };
  /** API path → { wrap, input, tid } */
  const controls = new Map();
  let readers = [];

  const title = creating ? 'New deal' : `Edit ${deal.title || 'deal'}`;
  const saveLabel = creating ? 'Create deal' : 'Save changes';
  const box = h('div', { class: 'form-error', role: 'alert', dataset: { testid: 'form-error' }, hidden: true });
  const body = h('div', { class: 'dialog-body record-form-body' }, h('p', { class: 'muted', role: 'status' }, 'Loading…'));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: creating ? 'save-deal' : 'deal-save' }, disabled: true }, saveLabel);
  const form = h('form', { class: 'dialog-form record-form deal-form', novalidate: true, dataset: { testid: 'deal-form' } },
    h('header', { class: 'dialog-header' },
      h('h2', { id: 'deal-form-title' }, title),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    body,
    h('footer', { class: 'dialog-footer' },
      h('span', { class: 'muted footer-hint' }, h('kbd', null, 'Ctrl'), '+', h('kbd', null, 'Enter'), ' to save · ', h('kbd', null, 'Esc'), ' to close'),
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      submit));
  const dialog = h('dialog', { class: 'dialog record-dialog deal-dialog', 'aria-labelledby': 'deal-form-title' }, form);
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });

  // --- controls and errors ----------------------------------------------------
  function reg(path, wrap, el, tid) { controls.set(path, { wrap, input: el, tid: tid || path.replace(/\./g, '-') }); }

  function fieldWrap(label, control, { path, half = false, hint, required = false, cls, tid } = {}) {
    const id = control.id || nextId('df');
    control.id = id;
    const hintId = hint ? `${id}-hint` : null;
    if (hintId) control.setAttribute('aria-describedby', hintId);
    const wrap = h('div', { class: ['field', half && 'field-half', cls], dataset: { field: path } },
      h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      control.__wrap || control,
      hint ? h('p', { class: 'field-hint muted', id: hintId }, hint) : null);
    if (path) reg(path, wrap, control, tid);
    control.addEventListener('input', () => clearError(path));
    control.addEventListener('change', () => clearError(path));
    return wrap;
  }

  function clearError(path) {
    const c = path && controls.get(path);
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
    const grouped = new Map();
    for (const e of errors) {
      // `line_items[0].product` (the server's spelling) → `line_items.0.product`
      const key = String(e.field || '').replace(/\[(\d+)\]/g, '.$1');
      if (!grouped.has(key)) grouped.set(key, []);
      grouped.get(key).push(e.message || 'is invalid');
    }
    const leftovers = [];
    let first = null;
    for (const [path, msgs] of grouped) {
      const c = path ? setError(path, msgs) : null;
      if (c) first ||= c;
      else leftovers.push(...msgs.map((m) => (path ? `${path}: ${m}` : m)));
    }
    if (leftovers.length || !first) {
      showBox(h('strong', null, err?.title || 'Please check the form'), h('div', null, leftovers.length ? leftovers.map(capitalize).join('. ') : err?.detail || ''));
    }
    if (first?.input) { first.input.focus(); first.input.select?.(); } else box.scrollIntoView({ block: 'nearest' });
  }

  function section(titleText, ...children) {
    return h('section', { class: 'form-section' },
      titleText ? h('h3', { class: 'form-section-title' }, titleText) : null,
      h('div', { class: 'field-grid' }, ...children));
  }

  // --- fields ------------------------------------------------------------------
  let currencySelect;
  let valueInput;
  let lineItems;

  function currentCurrency() { return currencySelect?.value || settings.base_currency || 'EUR'; }

  function pipelineFields(v) {
    const pSel = selectEl(pipelineList.map((p) => [p.id, p.name || 'Pipeline']), v.pipeline_id, { name: 'pipeline_id', dataset: { testid: 'field-pipeline_id' } });
    const sSel = h('select', { class: 'input', name: 'stage_id', dataset: { testid: 'field-stage_id' } });
    function fillStages(keep) {
      const p = pipelineList.find((x) => x.id === pSel.value) || pipelineList[0];
      const stages = p?.stages || [];
      mount(sSel, stages.map((s) => h('option', { value: s.id, selected: s.id === keep ? true : null }, `${s.name} (${s.probability ?? 0}%)`)));
      if (!stages.some((s) => s.id === keep) && stages[0]) sSel.value = stages[0].id;
    }
    if (!pipelineList.some((p) => p.id === v.pipeline_id) && pipelineList[0]) pSel.value = pipelineList[0].id;
    fillStages(v.stage_id);
    pSel.addEventListener('change', () => fillStages(null));
    readers.push((out) => { out.pipeline_id = pSel.value || null; out.stage_id = sSel.value || null; });
    const wraps = [
      fieldWrap('Pipeline', pSel, { path: 'pipeline_id', half: true }),
      fieldWrap('Stage', sSel, { path: 'stage_id', half: true }),
    ];
    // Editing: the stage of an open deal changes by moving it (the board, or the stage picker on its page).
    if (!creating) { pSel.disabled = true; sSel.disabled = true; }
    return wraps;
  }

  function valueFields(v) {
    const cur = v.currency || settings.base_currency || 'EUR';
    const list = CURRENCIES.includes(cur) ? CURRENCIES : [cur, ...CURRENCIES];
    currencySelect = selectEl(list.map((c) => [c, c]), cur, { name: 'currency', dataset: { testid: 'field-currency' } });
    valueInput = input({ type: 'text', name: 'value', inputmode: 'decimal', value: moneyToInput(v.value, cur), placeholder: '0', dataset: { testid: 'field-value' }, class: 'input input-money' });
    currencySelect.addEventListener('change', () => lineItems?.recalc());
    readers.push((out, errs) => {
      out.currency = currencySelect.value;
      if (lineItems?.count()) { out.value = lineItems.sum(); return; }
      const raw = valueInput.value.trim();
      if (!raw) { out.value = null; return; }
      const minor = parseMoney(raw, currencySelect.value);
      if (!Number.isFinite(minor) || minor < 0) { errs.push({ field: 'value', message: 'Enter an amount such as 12500 or 12,500.50' }); return; }
      out.value = minor;
    });
    return [
      fieldWrap('Value', valueInput, { path: 'value', half: true, tid: 'value' }),
      fieldWrap('Currency', currencySelect, { path: 'currency', half: true }),
    ];
  }

  function ownerField(v) {
    const ids = new Set([...knownUsers().keys()].filter((id) => userActive(id)));
    if (v.owner_id) ids.add(v.owner_id);
    if (meId()) ids.add(meId());
    const options = [...ids].map((id) => [id, id === meId() ? `${userName(id)} (you)` : userName(id)]).sort((a, b) => a[1].localeCompare(b[1]));
    const sel = selectEl(options, v.owner_id || meId() || '', { name: 'owner_id', dataset: { testid: 'field-owner_id' } });
    readers.push((out) => { out.owner_id = sel.value || null; });
    return fieldWrap('Owner', sel, { path: 'owner_id', half: true });
  }

  /** A search box that links a contact or company (its name shows; the id is sent). */
  function linkField(entity, v) {
    const path = entity === 'company' ? 'company_id' : 'contact_id';
    const label = entity === 'company' ? 'Company' : 'Contact';
    let pickedId = v[path] || null;
    let pickedName = '';
    const el = input({ type: 'text', name: path, placeholder: entity === 'company' ? 'Search companies…' : 'Search contacts…', dataset: { testid: `field-${path}` } });
    const linked = h('span', { class: 'combo-linked', hidden: !pickedId }, icon('check', { size: 13 }), 'Linked');
    const cb = combobox({
      inputEl: el,
      fetch: (q, signal) => (entity === 'company' ? companySuggestions(q, signal) : contactSuggestions(q, signal)),
      onPick: (item, { typing } = {}) => {
        if (item) {
          pickedId = item.id; pickedName = item.label;
          rememberName(entity, item.id, item.label);
          // A contact brings its company along when none is chosen yet.
          if (entity === 'contact' && item.record?.company_id) companyLink?.suggest(item.record.company_id, item.record.company);
        } else if (typing && el.value.trim() !== pickedName) pickedId = null;
        linked.hidden = !pickedId;
      },
      emptyText: (q) => `No ${entity === 'company' ? 'company' : 'contact'} matches “${q}”.`,
    });
    el.__wrap = h('div', { class: 'combo-field' }, cb.wrap, linked);
    const name = entity === 'company' ? (initial?.company_name) : (initial?.contact_name);
    if (pickedId) {
      el.value = name || '…';
      pickedName = el.value;
      (name ? Promise.resolve(name) : recordNameOf(entity, pickedId)).then((n) => {
        if (el.value === '…' || el.value === pickedName) { el.value = n || pickedId; pickedName = el.value; }
      });
    }
    readers.push((out) => { out[path] = el.value.trim() ? pickedId : null; });
    const wrap = fieldWrap(label, el, { path, half: true });
    return {
      wrap,
      suggest(id, text) {
        if (pickedId || el.value.trim()) return;
        pickedId = id; el.value = text || '…'; pickedName = el.value; linked.hidden = false;
        if (!text) recordNameOf(entity, id).then((n) => { if (pickedId === id) { el.value = n || id; pickedName = el.value; } });
      },
    };
  }
  let companyLink = null;

  function tagsField(values) {
    const tags = values.slice();
    const chips = h('span', { class: 'tag-edit-chips' });
    const entry = input({ type: 'text', name: 'tags', 'aria-label': 'Add a tag', placeholder: 'Add a tag…', dataset: { testid: 'field-tags' }, class: 'tag-entry', maxlength: 60 });
    const control = h('div', { class: 'tag-input', onclick: (e) => { if (e.target === control) entry.focus(); } }, chips, entry);
    entry.__wrap = control;
    function render() {
      mount(chips, tags.map((t, i) => h('span', { class: 'tag-chip tag-chip-edit', dataset: { testid: 'tag-chip' } }, t,
        h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove tag ${t}`, onclick: () => { tags.splice(i, 1); render(); entry.focus(); } }, icon('x', { size: 12 })))));
    }
    function add(raw) {
      for (const t of String(raw).split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!tags.some((x) => x.toLowerCase() === t.toLowerCase())) tags.push(t);
      }
      entry.value = '';
      render();
    }
    entry.addEventListener('keydown', (e) => {
      if ((e.key === 'Enter' || e.key === ',') && entry.value.trim()) { e.preventDefault(); add(entry.value); }
      else if (e.key === 'Backspace' && !entry.value && tags.length) { tags.pop(); render(); }
    });
    entry.addEventListener('blur', () => { if (entry.value.trim()) add(entry.value); });
    render();
    readers.push((out) => { if (entry.value.trim()) add(entry.value); out.tags = tags.slice(); });
    return fieldWrap('Tags', entry, { path: 'tags', hint: 'Enter or comma adds a tag.' });
  }

  /** Product rows; their sum becomes the deal's value. */
  function lineItemsEditor(items) {
    const rows = [];
    const list = h('div', { class: 'li-rows', role: 'group', 'aria-label': 'Line items' });
    const head = h('div', { class: 'li-row li-head', 'aria-hidden': 'true' },
      h('span', null, 'Product'), h('span', null, 'Qty'), h('span', null, 'Unit price'), h('span', null, 'Disc. %'), h('span', { class: 'li-total' }, 'Total'), h('span'));
    const sumEl = h('strong', { class: 'num', dataset: { testid: 'line-items-sum' } });
    const foot = h('div', { class: 'li-foot' },
      h('button', { type: 'button', class: 'link-button', dataset: { testid: 'add-line-item' }, onclick: () => addRow({ quantity: 1, discount_percent: 0 }, true) },
        icon('plus', { size: 14 }), 'Add line item'),
      h('span', { class: 'li-sum', hidden: true }, 'Deal value ', sumEl));
    const group = h('div', { class: 'field line-items', dataset: { field: 'line_items' } },
      h('span', { class: 'field-label' }, 'Line items'),
      h('p', { class: 'field-hint muted' }, 'Optional. With line items the deal’s value is their sum.'),
      head, list, foot);
    reg('line_items', group, null, 'line_items');

    function read(r) {
      const cur = currentCurrency();
      return {
        product: r.product.value.trim(),
        quantity: r.quantity.value.trim() === '' ? NaN : Number(r.quantity.value.replace(',', '.')),
        unit_price: parseMoney(r.price.value, cur),
        discount_percent: r.discount.value.trim() === '' ? 0 : Number(r.discount.value.replace(',', '.')),
      };
    }
    function recalc() {
      const cur = currentCurrency();
      let sum = 0;
      for (const r of rows) {
        const li = read(r);
        const t = Number.isFinite(li.quantity) && Number.isFinite(li.unit_price) && Number.isFinite(li.discount_percent) ? lineTotal(li) : null;
        r.total.textContent = t === null ? '—' : formatMoney(t, cur);
        if (t !== null) sum += t;
      }
      sumEl.textContent = formatMoney(sum, cur);
      foot.querySelector('.li-sum').hidden = !rows.length;
      head.hidden = !rows.length;
      if (valueInput) {
        valueInput.readOnly = rows.length > 0;
        valueInput.classList.toggle('is-computed', rows.length > 0);
        if (rows.length) valueInput.value = moneyToInput(sum, cur);
        valueInput.title = rows.length ? 'The sum of the line items' : '';
      }
      return sum;
    }
    function syncNames() {
      rows.forEach((r, i) => {
        r.product.name = `line_items.${i}.product`;
        r.quantity.name = `line_items.${i}.quantity`;
        r.price.name = `line_items.${i}.unit_price`;
        r.discount.name = `line_items.${i}.discount_percent`;
        for (const k of ['product', 'quantity', 'unit_price', 'discount_percent']) {
          const el = { product: r.product, quantity: r.quantity, unit_price: r.price, discount_percent: r.discount }[k];
          reg(`line_items.${i}.${k}`, r.el, el, `line_items-${i}-${k}`);
        }
        reg(`line_items.${i}`, r.el, r.product, `line_items-${i}`);
      });
    }
    function addRow(li, focus = false) {
      const cur = currentCurrency();
      const product = input({ type: 'text', value: li.product ?? '', 'aria-label': 'Product', placeholder: 'Product or service', maxlength: 200 });
      const quantity = input({ type: 'text', inputmode: 'decimal', value: li.quantity ?? 1, 'aria-label': 'Quantity', class: 'input num' });
      const price = input({ type: 'text', inputmode: 'decimal', value: li.unit_price != null ? moneyToInput(li.unit_price, cur) : '', 'aria-label': 'Unit price', placeholder: '0', class: 'input num' });
      const discount = input({ type: 'text', inputmode: 'decimal', value: li.discount_percent ?? 0, 'aria-label': 'Discount in percent', class: 'input num' });
      const total = h('span', { class: 'li-total num', 'aria-label': 'Line total' }, '—');
      const el = h('div', { class: 'li-row', dataset: { testid: 'line-item' } }, product, quantity, price, discount, total,
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Remove line item', onclick: () => {
          rows.splice(rows.indexOf(row), 1); el.remove();
          for (const p of [...controls.keys()]) if (p.startsWith('line_items.')) controls.delete(p);
          syncNames(); recalc();
          (rows[0]?.product || foot.querySelector('button')).focus();
        } }, icon('x', { size: 15 })));
      const row = { el, product, quantity, price, discount, total };
      [product, quantity, price, discount].forEach((x) => x.addEventListener('input', () => { recalc(); clearError('line_items'); el.querySelector('.field-error')?.remove(); }));
      rows.push(row);
      list.append(el);
      syncNames();
      recalc();
      if (focus) product.focus();
    }
    items.forEach((li) => addRow(li));
    readers.push((out, errs) => {
      out.line_items = rows.map((r, i) => {
        const li = read(r);
        if (!li.product) errs.push({ field: `line_items.${i}.product`, message: 'Name the product' });
        if (!Number.isFinite(li.quantity) || li.quantity <= 0) errs.push({ field: `line_items.${i}.quantity`, message: 'Quantity must be more than 0' });
        if (!Number.isFinite(li.unit_price) || li.unit_price < 0) errs.push({ field: `line_items.${i}.unit_price`, message: 'Enter a price' });
        if (!Number.isFinite(li.discount_percent) || li.discount_percent < 0 || li.discount_percent > 100) errs.push({ field: `line_items.${i}.discount_percent`, message: 'Discount is 0 to 100' });
        return li;
      });
    });
    return { el: group, recalc, count: () => rows.length, sum: () => recalc() };
  }

  function build(v) {
    controls.clear();
    readers = [];
    const titleInput = input({ type: 'text', name: 'title', value: v.title ?? '', required: true, maxlength: 200, dataset: { testid: 'field-title' }, placeholder: 'e.g. 40 licences for Acme' });
    readers.push((out) => { out.title = str(titleInput.value); });
    const close = input({ type: 'date', name: 'expected_close', value: v.expected_close ?? '', dataset: { testid: 'field-expected_close' } });
    readers.push((out) => { out.expected_close = close.value || null; });
    const prio = selectEl(PRIORITIES.map((p) => [p, priorityLabel(p)]), v.priority, { name: 'priority', dataset: { testid: 'field-priority' } });
    readers.push((out) => { out.priority = prio.value; });
    const sourceList = nextId('sources');
    const source = input({ type: 'text', name: 'source', value: v.source ?? '', list: sourceList, maxlength: 120, dataset: { testid: 'field-source' } });
    source.__wrap = h('div', null, source, h('datalist', { id: sourceList }, SOURCES.map((s) => h('option', { value: s }))));
    readers.push((out) => { out.source = str(source.value); });
    const prob = input({ type: 'number', name: 'probability', min: 0, max: 100, step: 1, value: v.probability ?? '', placeholder: 'From the stage', dataset: { testid: 'field-probability' } });
    readers.push((out, errs) => {
      const raw = prob.value.trim();
      if (!raw) { out.probability = null; return; }
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 100) errs.push({ field: 'probability', message: 'Use a whole number from 0 to 100' });
      out.probability = n;
    });
    const next = h('textarea', { class: 'input', name: 'next_step', rows: 2, maxlength: 500, dataset: { testid: 'field-next_step' }, placeholder: 'e.g. Send the revised quote by Friday' }, v.next_step ?? '');
    readers.push((out) => { out.next_step = str(next.value); });

    const contact = linkField('contact', v);
    companyLink = linkField('company', v);
    lineItems = null;
    const valueWraps = valueFields(v);
    lineItems = lineItemsEditor(v.line_items || []);

    mount(body,
      box,
      section(null,
        fieldWrap('Title', titleInput, { path: 'title', required: true }),
        ...valueWraps,
        fieldWrap('Expected close', close, { path: 'expected_close', half: true }),
        ownerField(v),
        ...pipelineFields(v)),
      section('People',
        contact.wrap,
        companyLink.wrap),
      section('Details',
        fieldWrap('Priority', prio, { path: 'priority', half: true }),
        fieldWrap('Source', source, { path: 'source', half: true }),
        fieldWrap('Probability override (%)', prob, { path: 'probability', half: true, hint: 'Leave empty to use the stage’s probability.' }),
        tagsField(v.tags || []),
        fieldWrap('Next step', next, { path: 'next_step' })),
      section(null, lineItems.el));
    lineItems.recalc();
    return titleInput;
  }

  function collect() {
    const out = {};
    const errs = [];
    for (const read of readers) read(out, errs);
    return { values: out, errs };
  }

  function createBody(v) {
    const out = {};
    for (const [k, val] of Object.entries(v)) {
      if (val === null || val === undefined || val === '' || (Array.isArray(val) && !val.length)) continue;
      out[k] = val;
    }
    if (out.line_items) delete out.value; // the server sums them
    return out;
  }

  function patchOf(orig, next) {
    const patch = {};
    for (const k of Object.keys(next)) {
      if (k === 'pipeline_id' || k === 'stage_id') continue;
      if (k === 'line_items') {
        const a = (orig.line_items || []).map((li) => ({ product: li.product, quantity: Number(li.quantity), unit_price: Number(li.unit_price), discount_percent: Number(li.discount_percent) || 0 }));
        if (!same(a, next.line_items)) patch.line_items = next.line_items;
        continue;
      }
      if (k === 'value' && next.line_items?.length) continue;
      if (!same(orig[k], next[k]) && !(k === 'tags' && !orig.tags?.length && !next.tags?.length)) patch[k] = next[k];
    }
    return patch;
  }

  function setBusy(on) {
    saving = on;
    submit.disabled = on;
    submit.textContent = on ? 'Saving…' : saveLabel;
    form.setAttribute('aria-busy', String(on));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving || submit.disabled && !controls.size) return;
    clearAllErrors();
    const { values, errs } = collect();
    if (!values.title) errs.push({ field: 'title', message: 'Give the deal a title' });
    if (creating && !values.stage_id) errs.push({ field: 'stage_id', message: 'Choose a stage' });
    if (errs.length) { showValidation(errs); return; }
    setBusy(true);
    try {
      let result;
      if (creating) {
        result = await papi.createDeal(createBody(values), { idempotencyKey });
      } else {
        const patch = patchOf(baseline, values);
        if (!Object.keys(patch).length) { dialog.close('unchanged'); toast('Nothing was changed.', { title: 'No changes' }); return; }
        result = await papi.updateDeal(deal.id, patch, currentVersion);
      }
      dialog.close('saved');
      onSaved?.(result.deal, result.version);
      toast(creating ? `“${result.deal?.title || values.title}” was added to the pipeline.` : `“${result.deal?.title || values.title}” was updated.`, {
        kind: 'success', title: creating ? 'Deal created' : 'Saved',
        action: creating && result.deal?.id ? { label: 'Open deal', href: `/deals/${encodeURIComponent(result.deal.id)}` } : undefined,
      });
    } catch (err) {
      setBusy(false);
      if (!err.isNetwork) idempotencyKey = crm.newIdempotencyKey();
      if (err.status === 412) showConflict();
      else if (err.isValidation) showValidation(err.errors.length ? err.errors : [{ field: '', message: err.detail }], err);
      else {
        showBox(h('strong', null, err.title || 'Could not save'), ' ', err.detail || err.message,
          err.requestId ? h('div', { class: 'muted' }, `Request ID ${err.requestId}`) : null);
        if (!err.handled) toastError(err, 'Could not save the deal');
      }
    }
  });

  function showConflict() {
    const reload = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'conflict-reload' }, onclick: () => rebase(reload) }, 'Reload latest version');
    showBox(h('strong', null, 'Someone else changed this deal while you were editing.'),
      h('div', null, 'Reload to get their changes; your edits are kept and applied on top. Then check and save again.'),
      h('div', { class: 'box-actions' }, reload));
    box.dataset.kind = 'conflict';
    reload.focus();
  }

  async function rebase(button) {
    button.disabled = true;
    button.textContent = 'Reloading…';
    try {
      const { values } = collect();
      const mine = patchOf(baseline, values);
      const latest = await papi.getDeal(deal.id);
      deal = latest.deal;
      currentVersion = latest.version;
      baseline = normalize(latest.deal);
      build({ ...baseline, ...mine });
      showBox(h('strong', null, 'Reloaded the latest version.'), ' ', Object.keys(mine).length ? 'Your changes are applied on top of it. Check them and save again.' : 'You had no changes of your own.');
      box.dataset.kind = 'info';
    } catch (err) {
      button.disabled = false;
      button.textContent = 'Reload latest version';
      toastError(err, 'Could not reload');
    }
  }

  openModal(dialog);
  Promise.all([
    papi.pipelines(),
    papi.pipelineSettings().catch(() => ({ base_currency: 'EUR' })),
    loadUsers(),
  ]).then(([list, s]) => {
    if (!dialog.isConnected) return;
    pipelineList = list;
    settings = s;
    if (creating && !baseline.currency) baseline.currency = s.base_currency;
    if (creating && !baseline.pipeline_id && list[0]) baseline.pipeline_id = list[0].id;
    const first = build(baseline);
    submit.disabled = false;
    first.focus();
  }).catch((err) => {
    if (!dialog.isConnected) return;
    mount(body, box);
    showBox(h('strong', null, err.title || 'Could not load the pipelines'), ' ', err.detail || err.message);
    toastError(err, 'Could not open the deal form');
  });
  return dialog;
}
