// Settings › Pipelines: the pipelines and their stages (add, rename,
// probability, stale days, reorder with up/down, remove: a stage that still
// holds deals answers 409 and its message is shown), the base currency, lost
// and won reasons, exchange rates and sales quotas.

import { h, mount, icon, toast, toastError } from './ui.js';
import * as papi from './pipeline-api.js';
import { sectionHeader, inlineError, confirmDialog, dataTable, forbiddenState } from './settings-kit.js';
import { loadUsers, knownUsers, userName, userActive, parseMoney } from './records.js';
import { CURRENCIES, formatMoney } from './deal-display.js';

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

export function pipelineSettingsIcon({ size = 16 } = {}) {
  return icon('pipeline', { size });
}

/** An error shown under a control (field-error), or removed with null. */
function fieldError(slot, err) {
  if (!err) { slot.hidden = true; slot.replaceChildren(); return; }
  slot.hidden = false;
  const msgs = err.errors?.length ? err.errors.map((e) => `${e.field ? `${e.field.replace(/_/g, ' ')}: ` : ''}${e.message}`) : [err.detail || err.message];
  slot.replaceChildren(icon('alert', { size: 14 }), h('span', null, msgs.join('. ')));
}

export function pipelineSettingsSection(root) {
  const state = { pipelines: [], settings: null, rates: [], quotas: [], destroyed: false };
  const status = h('span', null, 'Loading…');
  const newPipeline = h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'new-pipeline' }, onclick: () => addPipeline() }, icon('plus'), h('span', null, 'New pipeline'));
  const pipelinesEl = h('div', { class: 'ps-pipelines', dataset: { testid: 'settings-pipelines' } });
  const generalEl = h('section', { class: 'card ps-card', 'aria-labelledby': 'ps-general-title', dataset: { testid: 'pipeline-general' } });
  const ratesEl = h('section', { class: 'card ps-card', 'aria-labelledby': 'ps-rates-title', dataset: { testid: 'exchange-rates' } });
  const quotasEl = h('section', { class: 'card ps-card', 'aria-labelledby': 'ps-quotas-title', dataset: { testid: 'quotas' } });
  const errorSlot = h('div');

  mount(root,
    sectionHeader('settings-pipelines-title', 'Pipelines', status, newPipeline),
    h('p', { class: 'section-lead muted' }, 'Stages in board order, each with the probability of winning a deal there (for the weighted forecast) and the days after which an untouched deal is marked stale.'),
    errorSlot,
    pipelinesEl,
    h('div', { class: 'ps-grid' }, generalEl, ratesEl),
    quotasEl);

  // --- pipelines and stages ---------------------------------------------------------
  function renderPipelines() {
    status.textContent = `${state.pipelines.length} ${state.pipelines.length === 1 ? 'pipeline' : 'pipelines'}`;
    mount(pipelinesEl, state.pipelines.map(pipelineCard));
  }

  function replacePipeline(p, { focus } = {}) {
    const i = state.pipelines.findIndex((x) => x.id === p.id);
    const norm = { ...p, stages: (p.stages || []).slice().sort((a, b) => a.position - b.position) };
    if (i >= 0) state.pipelines[i] = norm; else state.pipelines.push(norm);
    const old = pipelinesEl.querySelector(`[data-pipeline-id="${CSS.escape(p.id)}"]`);
    const next = pipelineCard(norm);
    if (old) old.replaceWith(next); else pipelinesEl.append(next);
    status.textContent = `${state.pipelines.length} ${state.pipelines.length === 1 ? 'pipeline' : 'pipelines'}`;
    if (focus) next.querySelector(focus)?.focus();
    return next;
  }

  function pipelineCard(p) {
    const nameInput = h('input', { class: 'input ps-name', value: p.name, maxlength: 80, 'aria-label': 'Pipeline name', dataset: { testid: 'pipeline-name' } });
    const nameErr = h('p', { class: 'field-error', hidden: true });
    const rename = h('button', { type: 'submit', class: 'btn btn-sm', hidden: true }, 'Rename');
    nameInput.addEventListener('input', () => { rename.hidden = nameInput.value.trim() === p.name; });
    const nameForm = h('form', { class: 'ps-name-form', onsubmit: async (e) => {
      e.preventDefault();
      rename.disabled = true;
      try {
        const updated = await papi.updatePipeline(p.id, { name: nameInput.value.trim() }, p.version);
        replacePipeline(updated, { focus: '[data-testid="pipeline-name"]' });
        toast(`Renamed to ${updated.name}.`, { kind: 'success', title: 'Pipeline saved' });
      } catch (err) {
        rename.disabled = false;
        if (err.status === 412) { toast('Someone else changed this pipeline; reloaded.', { kind: 'error', title: 'Changed by someone else' }); reloadPipelines(); } else fieldError(nameErr, err);
      }
    } }, nameInput, rename);

    const del = h('button', { type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'delete-pipeline' }, 'aria-label': `Delete pipeline ${p.name}`, onclick: () => confirmDialog({
      title: `Delete the ${p.name} pipeline?`,
      text: 'Its stages go with it. A pipeline that still holds open deals cannot be deleted: move or close them first.',
      confirmLabel: 'Delete pipeline', workingLabel: 'Deleting…', testid: 'confirm-delete-pipeline',
      run: async () => {
        await papi.deletePipeline(p.id);
        state.pipelines = state.pipelines.filter((x) => x.id !== p.id);
        renderPipelines();
        toast(`${p.name} was deleted.`, { title: 'Pipeline deleted' });
      },
    }) }, icon('trash', { size: 14 }), h('span', { class: 'btn-label' }, 'Delete'));

    const { table, tbody, tableWrap } = dataTable({
      className: 'ps-stages', testid: 'stages-table', caption: `Stages of ${p.name}`,
      columns: [['pscol-order', 'Order', true], ['pscol-name', 'Stage'], ['pscol-prob', 'Win %'], ['pscol-stale', 'Stale days'], ['pscol-actions', 'Actions', true]],
    });
    table.setAttribute('aria-label', `Stages of ${p.name}`);
    p.stages.forEach((s, i) => tbody.append(stageRow(p, s, i)));

    // add a stage
    const addName = h('input', { class: 'input', placeholder: 'New stage name', maxlength: 80, 'aria-label': 'New stage name', dataset: { testid: 'new-stage-name' } });
    const addProb = h('input', { class: 'input num', type: 'number', min: 0, max: 100, step: 1, value: 50, 'aria-label': 'Probability in percent', dataset: { testid: 'new-stage-probability' } });
    const addStale = h('input', { class: 'input num', type: 'number', min: 1, max: 3650, step: 1, placeholder: 'Never', 'aria-label': 'Stale after days', dataset: { testid: 'new-stage-stale' } });
    const addErr = h('p', { class: 'field-error', hidden: true, dataset: { testid: 'new-stage-error' } });
    const addBtn = h('button', { type: 'submit', class: 'btn btn-sm', dataset: { testid: 'add-stage' } }, icon('plus', { size: 14 }), 'Add stage');
    const addForm = h('form', { class: 'ps-add-stage', onsubmit: async (e) => {
      e.preventDefault();
      fieldError(addErr, null);
      if (!addName.value.trim()) { fieldError(addErr, { detail: 'Name the stage' }); addName.focus(); return; }
      addBtn.disabled = true;
      try {
        const updated = await papi.createStage(p.id, {
          name: addName.value.trim(), probability: Number(addProb.value || 0), stale_days: addStale.value ? Number(addStale.value) : null,
        });
        const card = replacePipeline(updated.stages ? updated : (await papi.getPipeline(p.id)).pipeline);
        card.querySelector('[data-testid="new-stage-name"]')?.focus();
        toast(`Stage ${addName.value.trim()} added.`, { kind: 'success', title: 'Stage added' });
      } catch (err) {
        addBtn.disabled = false;
        fieldError(addErr, err);
      }
    } }, addName, addProb, addStale, addBtn, addErr);

    return h('section', { class: 'card ps-pipeline', dataset: { testid: 'settings-pipeline', pipelineId: p.id }, 'aria-label': `Pipeline ${p.name}` },
      h('div', { class: 'ps-pipeline-head' }, nameForm, h('a', { class: 'btn btn-sm', href: `/pipeline/${encodeURIComponent(p.id)}` }, 'Open board'), del),
      nameErr,
      tableWrap,
      h('div', { class: 'ps-add' }, h('h3', { class: 'ps-add-title' }, 'Add a stage'), addForm));
  }

  function stageRow(p, s, i) {
    const name = h('input', { class: 'input', value: s.name, maxlength: 80, 'aria-label': `Name of stage ${s.name}`, dataset: { testid: 'stage-name' } });
    const prob = h('input', { class: 'input num', type: 'number', min: 0, max: 100, step: 1, value: s.probability, 'aria-label': `Probability of ${s.name} in percent`, dataset: { testid: 'stage-probability' } });
    const stale = h('input', { class: 'input num', type: 'number', min: 1, max: 3650, step: 1, value: s.stale_days ?? '', placeholder: 'Never', 'aria-label': `Days until a deal in ${s.name} is stale`, dataset: { testid: 'stage-stale-days' } });
    const err = h('p', { class: 'field-error', hidden: true, role: 'alert', dataset: { testid: 'stage-error' } });
    const save = h('button', { type: 'button', class: 'btn btn-sm btn-primary', hidden: true, dataset: { testid: 'save-stage' } }, 'Save');
    const dirty = () => name.value.trim() !== s.name || Number(prob.value) !== s.probability || (stale.value ? Number(stale.value) : null) !== (s.stale_days ?? null);
    [name, prob, stale].forEach((x) => {
      x.addEventListener('input', () => { save.hidden = !dirty(); });
      x.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); if (dirty()) save.click(); } });
    });
    save.addEventListener('click', async () => {
      save.disabled = true;
      fieldError(err, null);
      try {
        const updated = await papi.updateStage(p.id, s.id, { name: name.value.trim(), probability: Number(prob.value), stale_days: stale.value ? Number(stale.value) : null });
        replacePipeline(updated.stages ? updated : (await papi.getPipeline(p.id)).pipeline, { focus: `tr[data-stage-id="${CSS.escape(s.id)}"] [data-testid="stage-name"]` });
        toast(`${name.value.trim()} saved.`, { kind: 'success', title: 'Stage saved', timeout: 2500 });
      } catch (e) {
        save.disabled = false;
        fieldError(err, e);
      }
    });
    const up = h('button', { type: 'button', class: 'icon-button', 'aria-label': `Move ${s.name} up`, title: 'Move up', disabled: i === 0, dataset: { testid: 'stage-up' }, onclick: () => reorder(p, i, -1) }, arrow('up'));
    const down = h('button', { type: 'button', class: 'icon-button', 'aria-label': `Move ${s.name} down`, title: 'Move down', disabled: i === p.stages.length - 1, dataset: { testid: 'stage-down' }, onclick: () => reorder(p, i, +1) }, arrow('down'));
    const remove = h('button', { type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'remove-stage' }, 'aria-label': `Remove stage ${s.name}`, onclick: async () => {
      remove.disabled = true;
      fieldError(err, null);
      try {
        const updated = await papi.deleteStage(p.id, s.id).then(() => papi.getPipeline(p.id)).then((r) => r.pipeline);
        replacePipeline(updated);
        toast(`${s.name} was removed.`, { title: 'Stage removed' });
      } catch (e) {
        remove.disabled = false;
        // 409 stage-not-empty / last-stage: the server's message says what to do.
        fieldError(err, e);
        if (e.status === 409) toast(e.detail || 'The stage still holds deals.', { kind: 'error', title: e.title || 'Stage not empty', requestId: e.requestId });
        remove.focus();
      }
    } }, icon('trash', { size: 14 }), h('span', { class: 'btn-label' }, 'Remove'));
    return h('tr', { dataset: { testid: 'stage-row', stageId: s.id } },
      h('td', { class: 'pscol-order' }, h('div', { class: 'ps-order' }, up, down)),
      h('td', { class: 'pscol-name' }, name, err),
      h('td', { class: 'pscol-prob' }, prob),
      h('td', { class: 'pscol-stale' }, stale),
      h('td', { class: 'pscol-actions' }, h('div', { class: 'row-actions' }, save, remove)));
  }

  function arrow(dir) {
    const el = icon('chevronDown', { size: 16 });
    if (dir === 'up') el.style.transform = 'rotate(180deg)';
    return el;
  }

  async function reorder(p, i, delta) {
    const ids = p.stages.map((s) => s.id);
    const j = i + delta;
    if (j < 0 || j >= ids.length) return;
    [ids[i], ids[j]] = [ids[j], ids[i]];
    try {
      const updated = await papi.setStageOrder(p.id, ids);
      const moved = p.stages[i].id;
      replacePipeline(updated.stages ? updated : (await papi.getPipeline(p.id)).pipeline,
        { focus: `tr[data-stage-id="${CSS.escape(moved)}"] [data-testid="${delta < 0 ? 'stage-up' : 'stage-down'}"]:not([disabled]), tr[data-stage-id="${CSS.escape(moved)}"] [data-testid="stage-name"]` });
    } catch (err) {
      toastError(err, 'Could not reorder the stages');
    }
  }

  function addPipeline() {
    const existing = pipelinesEl.querySelector('.ps-new');
    if (existing) { existing.querySelector('input')?.focus(); return; }
    const name = h('input', { class: 'input', placeholder: 'e.g. Renewals', maxlength: 80, 'aria-label': 'Name of the new pipeline', dataset: { testid: 'new-pipeline-name' } });
    const err = h('p', { class: 'field-error', hidden: true });
    const create = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', dataset: { testid: 'create-pipeline' } }, 'Create pipeline');
    const form = h('form', { class: 'card ps-new', onsubmit: async (e) => {
      e.preventDefault();
      if (!name.value.trim()) { fieldError(err, { detail: 'Name the pipeline' }); name.focus(); return; }
      create.disabled = true;
      try {
        const p = await papi.createPipeline({
          name: name.value.trim(),
          stages: [
            { name: 'Qualification', probability: 10, stale_days: 14 },
            { name: 'Proposal', probability: 50, stale_days: 21 },
            { name: 'Negotiation', probability: 75, stale_days: 30 },
          ],
        });
        form.remove();
        replacePipeline(p, { focus: '[data-testid="pipeline-name"]' });
        toast(`${p.name} was created with three stages; rename or add stages as you need.`, { kind: 'success', title: 'Pipeline created' });
      } catch (ex) {
        create.disabled = false;
        fieldError(err, ex);
      }
    } },
    h('label', { class: 'field-label', for: (name.id = nextId('np')) }, 'New pipeline'),
    h('div', { class: 'ps-inline' }, name, create, h('button', { type: 'button', class: 'btn btn-sm', onclick: () => form.remove() }, 'Cancel')),
    h('p', { class: 'field-hint muted' }, 'It starts with Qualification, Proposal and Negotiation stages.'),
    err);
    pipelinesEl.prepend(form);
    name.focus();
  }

  // --- base currency and reasons ----------------------------------------------------------
  function reasonsEditor(label, list, testid) {
    const items = list.slice();
    const one = label.toLowerCase().replace(/s$/, '');
    const ul = h('ul', { class: 'ps-reasons', dataset: { testid } });
    const entry = h('input', { class: 'input', placeholder: `Add a ${one}`, maxlength: 80, 'aria-label': `Add a ${one}`, dataset: { testid: `${testid}-add` } });
    function render() {
      mount(ul, items.map((r, i) => h('li', { class: 'tag-chip tag-chip-edit' }, r,
        h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove ${r}`, onclick: () => { items.splice(i, 1); render(); entry.focus(); } }, icon('x', { size: 12 })))));
    }
    entry.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && entry.value.trim()) {
        e.preventDefault();
        const v = entry.value.trim();
        if (!items.includes(v)) items.push(v);
        entry.value = '';
        render();
      }
    });
    render();
    return {
      el: h('div', { class: 'field', dataset: { field: testid } }, h('span', { class: 'field-label' }, label), ul, entry, h('p', { class: 'field-hint muted' }, 'Enter adds one.')),
      read: () => { const v = entry.value.trim(); if (v && !items.includes(v)) items.push(v); entry.value = ''; render(); return items.slice(); },
    };
  }

  function renderGeneral() {
    const s = state.settings;
    const curId = nextId('base');
    const base = h('select', { class: 'input', id: curId, name: 'base_currency', dataset: { testid: 'base-currency' } },
      (CURRENCIES.includes(s.base_currency) ? CURRENCIES : [s.base_currency, ...CURRENCIES]).map((c) => h('option', { value: c, selected: c === s.base_currency ? true : null }, c)));
    const lost = reasonsEditor('Lost reasons', s.lost_reasons, 'lost-reasons');
    const won = reasonsEditor('Won reasons', s.won_reasons, 'won-reasons');
    const err = h('p', { class: 'field-error', hidden: true, role: 'alert' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'save-pipeline-settings' } }, 'Save');
    mount(generalEl,
      h('h2', { class: 'card-title', id: 'ps-general-title' }, 'Currency and reasons'),
      h('form', { class: 'ps-form', onsubmit: async (e) => {
        e.preventDefault();
        fieldError(err, null);
        save.disabled = true;
        try {
          const changedBase = base.value !== s.base_currency;
          const saved = await papi.savePipelineSettings({ base_currency: base.value, lost_reasons: lost.read(), won_reasons: won.read() });
          state.settings = { ...s, ...saved };
          renderGeneral();
          renderRates();
          toast(changedBase ? `Reports and totals are now in ${saved.base_currency}; every deal was converted again.` : 'The reasons were saved.', { kind: 'success', title: 'Pipeline settings saved' });
        } catch (ex) {
          save.disabled = false;
          fieldError(err, ex);
        }
      } },
      h('div', { class: 'field' }, h('label', { for: curId }, 'Base currency'), base,
        h('p', { class: 'field-hint muted' }, 'Board totals and reports are in this currency. Deals in other currencies are converted with the exchange rates below.')),
      lost.el, won.el, err,
      h('div', { class: 'ps-actions' }, save)));
  }

  // --- exchange rates -------------------------------------------------------------------
  function renderRates() {
    const base = state.settings?.base_currency || 'EUR';
    const { tbody, tableWrap } = dataTable({
      className: 'ps-rates', testid: 'rates-table', caption: 'Exchange rates',
      columns: [['rcol-cur', 'Currency'], ['rcol-from', 'Valid from'], ['rcol-rate', `Rate (in ${base})`], ['rcol-actions', 'Actions', true]],
    });
    if (!state.rates.length) tbody.append(h('tr', null, h('td', { colspan: 4, class: 'muted ps-empty-row' }, 'No rates yet. Deals in other currencies are left out of totals until their currency has one.')));
    for (const r of state.rates) {
      tbody.append(h('tr', { dataset: { testid: 'rate-row' } },
        h('td', null, h('strong', null, r.currency)),
        h('td', null, r.valid_from),
        h('td', { class: 'num' }, `1 ${r.currency} = ${r.rate} ${base}`),
        h('td', { class: 'rcol-actions' }, h('button', { type: 'button', class: 'icon-button', 'aria-label': `Delete the ${r.currency} rate from ${r.valid_from}`, onclick: async (e) => {
          e.currentTarget.disabled = true;
          try { await papi.deleteExchangeRate(r.currency, r.valid_from); state.rates = state.rates.filter((x) => x !== r); renderRates(); toast(`The ${r.currency} rate from ${r.valid_from} was deleted.`, { title: 'Rate deleted' }); } catch (err) { toastError(err, 'Could not delete the rate'); }
        } }, icon('trash', { size: 14 })))));
    }
    const cur = h('input', { class: 'input', maxlength: 3, placeholder: 'USD', 'aria-label': 'Currency', name: 'currency', dataset: { testid: 'rate-currency' }, autocapitalize: 'characters' });
    const from = h('input', { class: 'input', type: 'date', 'aria-label': 'Valid from', name: 'valid_from', value: new Date().toISOString().slice(0, 10), dataset: { testid: 'rate-valid-from' } });
    const rate = h('input', { class: 'input num', inputmode: 'decimal', placeholder: '0.92', 'aria-label': `Rate in ${base}`, name: 'rate', dataset: { testid: 'rate-value' } });
    const err = h('p', { class: 'field-error', hidden: true, role: 'alert' });
    const add = h('button', { type: 'submit', class: 'btn btn-sm', dataset: { testid: 'add-rate' } }, icon('plus', { size: 14 }), 'Add rate');
    mount(ratesEl,
      h('h2', { class: 'card-title', id: 'ps-rates-title' }, 'Exchange rates'),
      h('p', { class: 'muted ps-lead' }, `A deal is converted at the rate valid on its close date (open deals: today).`),
      tableWrap,
      h('form', { class: 'ps-inline ps-rate-form', onsubmit: async (e) => {
        e.preventDefault();
        fieldError(err, null);
        add.disabled = true;
        try {
          const saved = await papi.addExchangeRate({ currency: cur.value.trim().toUpperCase(), valid_from: from.value, rate: rate.value.trim().replace(',', '.') });
          state.rates = [...state.rates.filter((x) => !(x.currency === saved.currency && x.valid_from === saved.valid_from)), saved]
            .sort((a, b) => a.currency.localeCompare(b.currency) || b.valid_from.localeCompare(a.valid_from));
          renderRates();
          ratesEl.querySelector('[data-testid="rate-currency"]')?.focus();
          toast(`1 ${saved.currency} = ${saved.rate} ${base} from ${saved.valid_from}.`, { kind: 'success', title: 'Rate saved' });
        } catch (ex) {
          add.disabled = false;
          fieldError(err, ex);
        }
      } }, cur, from, rate, add),
      err);
  }

  // --- quotas ----------------------------------------------------------------------------------
  function renderQuotas() {
    const base = state.settings?.base_currency || 'EUR';
    const { tbody, tableWrap } = dataTable({
      className: 'ps-quotas', testid: 'quotas-table', caption: 'Sales quotas',
      columns: [['qcol-owner', 'Owner'], ['qcol-period', 'Period'], ['qcol-amount', `Quota (${base})`], ['qcol-actions', 'Actions', true]],
    });
    if (!state.quotas.length) tbody.append(h('tr', null, h('td', { colspan: 4, class: 'muted ps-empty-row' }, 'No quotas yet. Quotas show in the forecast and the attainment report.')));
    for (const q of state.quotas) {
      tbody.append(h('tr', { dataset: { testid: 'quota-row' } },
        h('td', null, userName(q.owner_id)),
        h('td', null, q.period),
        h('td', { class: 'num' }, formatMoney(q.amount, base)),
        h('td', { class: 'qcol-actions' }, h('button', { type: 'button', class: 'icon-button', 'aria-label': `Remove the ${q.period} quota of ${userName(q.owner_id)}`, onclick: async (e) => {
          e.currentTarget.disabled = true;
          try { state.quotas = await papi.saveQuotas([{ owner_id: q.owner_id, period: q.period, amount: 0 }]); renderQuotas(); toast('The quota was removed.', { title: 'Quota removed' }); } catch (err) { toastError(err, 'Could not remove the quota'); }
        } }, icon('trash', { size: 14 })))));
    }
    const ids = [...knownUsers().keys()].filter((id) => userActive(id));
    const owner = h('select', { class: 'input', 'aria-label': 'Owner', name: 'owner_id', dataset: { testid: 'quota-owner' } },
      ids.map((id) => [id, userName(id)]).sort((a, b) => a[1].localeCompare(b[1])).map(([id, n]) => h('option', { value: id }, n)));
    const d = new Date();
    const period = h('input', { class: 'input', 'aria-label': 'Period: a month like 2026-11 or a quarter like 2026-Q4', name: 'period', value: `${d.getFullYear()}-Q${Math.floor(d.getMonth() / 3) + 1}`, placeholder: '2026-Q4', maxlength: 7, dataset: { testid: 'quota-period' } });
    const amount = h('input', { class: 'input num', inputmode: 'decimal', 'aria-label': `Amount in ${base}`, name: 'amount', placeholder: '50000', dataset: { testid: 'quota-amount' } });
    const err = h('p', { class: 'field-error', hidden: true, role: 'alert' });
    const add = h('button', { type: 'submit', class: 'btn btn-sm', dataset: { testid: 'add-quota' } }, icon('plus', { size: 14 }), 'Set quota');
    mount(quotasEl,
      h('h2', { class: 'card-title', id: 'ps-quotas-title' }, 'Quotas'),
      h('p', { class: 'muted ps-lead' }, 'What each owner should win per month (2026-11) or quarter (2026-Q4), in the base currency. Setting one again replaces it.'),
      tableWrap,
      h('form', { class: 'ps-inline ps-quota-form', onsubmit: async (e) => {
        e.preventDefault();
        fieldError(err, null);
        const minor = parseMoney(amount.value, base);
        if (!Number.isFinite(minor) || minor <= 0) { fieldError(err, { detail: 'Enter an amount such as 50000' }); amount.focus(); return; }
        add.disabled = true;
        try {
          state.quotas = await papi.saveQuotas([{ owner_id: owner.value, period: period.value.trim().toUpperCase().replace(/-q/i, '-Q'), amount: minor }]);
          renderQuotas();
          quotasEl.querySelector('[data-testid="quota-amount"]')?.focus();
          toast('The quota was saved.', { kind: 'success', title: 'Quota saved' });
        } catch (ex) {
          add.disabled = false;
          fieldError(err, ex);
        }
      } }, owner, period, amount, add),
      err);
  }

  // --- loading ------------------------------------------------------------------------------------
  async function reloadPipelines() {
    state.pipelines = await papi.pipelines({ fresh: true });
    renderPipelines();
  }

  async function load() {
    mount(pipelinesEl, h('div', { class: 'card' }, [50, 70, 60].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '12px 0' } }))));
    try {
      const [pipelines, settings, rates, quotas] = await Promise.all([
        papi.pipelines({ fresh: true }), papi.pipelineSettings({ fresh: true }), papi.exchangeRates(), papi.quotas(), loadUsers(),
      ]);
      if (state.destroyed) return;
      Object.assign(state, { pipelines, settings, rates, quotas });
      renderPipelines();
      renderGeneral();
      renderRates();
      renderQuotas();
    } catch (err) {
      if (state.destroyed) return;
      if (err.status === 403) { mount(root, forbiddenState(err)); return; }
      status.textContent = 'Could not load the pipeline settings.';
      pipelinesEl.replaceChildren();
      errorSlot.replaceChildren(inlineError(err, () => { errorSlot.replaceChildren(); load(); }));
      if (!err.handled) toastError(err, 'Could not load the pipeline settings');
    }
  }

  load();
  return { destroy() { state.destroyed = true; } };
}
