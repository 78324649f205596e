// Automations › Insights › Campaign return: per campaign its cost (edited in
// place: the cell becomes a box, Enter saves, Esc cancels; allowed whatever
// the campaign's status), the leads whose first touch it was, the cost per
// lead, and for the chosen attribution model (first touch, last touch,
// linear) the won deals and orders credited to it, their revenue and the
// return on spend; a bar chart of the return per campaign beside it.

import { h, mount, icon, toast, toastError } from './ui.js';
import * as fapi from './automations-api.js';
import * as capi from './campaigns-api.js';
import { campaignStatusBadge, campaignHref, cicon } from './campaign-display.js';
import { chartFigure, barList, dataTableOf } from './svg-charts.js';
import { setFieldError, clearFieldError } from './mail-editor.js';
import { parseMoney, moneyToInput } from './records.js';
import { pipelineSettings } from './pipeline-api.js';
import { money, nf } from './insight-display.js';

export const MODELS = [
  { key: 'first_touch', label: 'First touch', text: 'All the credit to the first campaign the customer touched' },
  { key: 'last_touch', label: 'Last touch', text: 'All the credit to the last campaign before they bought' },
  { key: 'linear', label: 'Linear', text: 'The credit shared evenly between every campaign they touched' },
];

let uid = 0;

function times(x) {
  const n = Number(x);
  if (x === null || x === undefined || !Number.isFinite(n)) return '—';
  return `${n.toLocaleString(undefined, { maximumFractionDigits: n < 10 ? 2 : 1 })}×`;
}

function conversions(m) {
  const d = Number(m?.deals) || 0;
  const o = Number(m?.orders) || 0;
  const f = (n) => n.toLocaleString(undefined, { maximumFractionDigits: 2 });
  const parts = [];
  if (d) parts.push(`${f(d)} ${d === 1 ? 'deal' : 'deals'}`);
  if (o) parts.push(`${f(o)} ${o === 1 ? 'order' : 'orders'}`);
  return parts.join(' · ') || 'None';
}

/** campaignReturnSection({ model, onModel }) → { el, load(), destroy() } */
export function campaignReturnSection({ model: initial, onModel } = {}) {
  const p = `roi${++uid}`;
  const state = {
    model: MODELS.some((m) => m.key === initial) ? initial : 'first_touch',
    items: [], lookback: 90, base: 'EUR', destroyed: false, controller: null, editing: null,
  };

  const sw = h('div', { class: 'segmented in-model', role: 'radiogroup', 'aria-label': 'Attribution model', dataset: { testid: 'roi-model', model: state.model } },
    MODELS.map((m) => h('button', {
      type: 'button', role: 'radio', class: 'segmented-btn', 'aria-checked': String(m.key === state.model), 'aria-pressed': String(m.key === state.model),
      tabindex: m.key === state.model ? '0' : '-1', title: m.text, dataset: { value: m.key, testid: `roi-model-${m.key}` },
      onclick: () => setModel(m.key),
    }, m.label)));
  sw.addEventListener('keydown', (e) => {
    const i = MODELS.findIndex((m) => m.key === state.model);
    let j = null;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') j = (i + 1) % MODELS.length;
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') j = (i - 1 + MODELS.length) % MODELS.length;
    if (j === null) return;
    e.preventDefault();
    setModel(MODELS[j].key);
    sw.querySelector(`[data-value="${MODELS[j].key}"]`)?.focus();
  });
  const explain = h('p', { class: 'muted in-roi-explain', role: 'status', 'aria-live': 'polite', dataset: { testid: 'roi-explain' } });
  const tableCard = h('section', { class: 'card report-card report-wide in-roi-card', 'aria-labelledby': `${p}-t` });
  const chartCard = h('section', { class: 'card report-card report-wide in-roi-chart', dataset: { testid: 'roi-chart-card' } });
  const el = h('section', { class: 'in-section in-roi', 'aria-labelledby': `${p}-h`, dataset: { testid: 'insights-roi' } },
    h('div', { class: 'in-section-head' },
      h('h2', { class: 'cp-section-title', id: `${p}-h` }, cicon('megaphone', { size: 16 }), 'Campaign return'),
      h('div', { class: 'in-model-wrap' }, h('span', { class: 'muted in-model-label', id: `${p}-ml` }, 'Credit by'), sw)),
    explain,
    h('div', { class: 'report-grid' }, tableCard, chartCard));
  sw.setAttribute('aria-labelledby', `${p}-ml`);

  function setModel(key) {
    if (key === state.model) return;
    state.model = key;
    sw.dataset.model = key;
    sw.querySelectorAll('button').forEach((b) => {
      const on = b.dataset.value === key;
      b.setAttribute('aria-checked', String(on));
      b.setAttribute('aria-pressed', String(on));
      b.tabIndex = on ? 0 : -1;
    });
    onModel?.(key);
    render();
  }

  // --- cost, edited in place -------------------------------------------------------------------
  function costCell(c) {
    const cur = c.cost_currency || state.base;
    const w = capi.canWriteCampaigns();
    if (state.editing === c.campaign_id) {
      const input = h('input', {
        class: 'input input-sm in-cost-input', id: `${p}-cost-${c.campaign_id}`, name: 'cost', inputmode: 'decimal', autocomplete: 'off',
        value: moneyToInput(c.cost, cur), placeholder: '0', 'aria-label': `Cost of ${c.name} in ${cur}`, dataset: { testid: 'roi-cost-input' },
      });
      const save = h('button', { type: 'submit', class: 'btn btn-sm btn-primary', dataset: { testid: 'roi-cost-save' } }, 'Save');
      const cancel = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Cancel', title: 'Cancel (Esc)', onclick: () => stopEditing(c) }, icon('x', { size: 14 }));
      const form = h('form', { class: 'field in-cost-form', novalidate: true, dataset: { field: 'cost' } },
        h('div', { class: 'in-cost-row' }, h('span', { class: 'muted in-cost-cur' }, cur), input, save, cancel));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFieldError(input);
        const minor = input.value.trim() === '' ? null : parseMoney(input.value, cur);
        if (Number.isNaN(minor) || (minor !== null && minor < 0)) { setFieldError(input, 'enter an amount such as 1,250.00', { testid: 'error-cost' }); input.focus(); return; }
        save.disabled = true;
        try {
          await fapi.setCampaignCost(c.campaign_id, minor, cur);
          if (state.destroyed) return;
          state.editing = null;
          toast(minor === null ? `The cost of “${c.name}” was cleared.` : `“${c.name}” cost ${money(minor, cur)}.`, { kind: 'success', title: 'Cost saved', timeout: 3000 });
          await load({ focusCost: c.campaign_id });
        } catch (err) {
          save.disabled = false;
          if (state.destroyed) return;
          if (err.isValidation) {
            const msg = (err.errors || []).map((x) => x.message).join('. ') || err.detail;
            setFieldError(input, msg, { testid: 'error-cost' });
            input.focus();
          } else toastError(err, 'Could not save the cost');
        }
      });
      input.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); stopEditing(c); } });
      requestAnimationFrame(() => { input.focus(); input.select(); });
      return form;
    }
    const text = c.cost != null ? money(c.cost, cur) : null;
    if (!w) return text ? h('span', { class: 'num' }, text) : h('span', { class: 'muted' }, 'Not set');
    return h('button', {
      type: 'button', class: ['link-button', 'in-cost-edit', !text && 'is-empty'], dataset: { testid: 'roi-cost-edit', campaignId: c.campaign_id },
      title: `Change the cost of ${c.name}`, 'aria-label': text ? `Cost ${text}: change` : `Add the cost of ${c.name}`,
      onclick: () => { state.editing = c.campaign_id; render(); },
    }, text ? h('span', { class: 'num' }, text) : 'Add cost', icon('pencil', { size: 12 }));
  }

  function stopEditing(c) {
    state.editing = null;
    render();
    tableCard.querySelector(`[data-testid=roi-cost-edit][data-campaign-id="${CSS.escape(c.campaign_id)}"]`)?.focus();
  }

  // --- table and chart --------------------------------------------------------------------------
  function row(c) {
    const m = c.models?.[state.model] || {};
    const cur = c.cost_currency || state.base;
    const ros = m.return_on_spend;
    return h('tr', { dataset: { testid: 'roi-row', campaignId: c.campaign_id } },
      h('td', { class: 'ricol-name' },
        h('a', { href: campaignHref(c.campaign_id), class: 'row-link truncate', dataset: { testid: 'roi-campaign' } }, c.name || 'Untitled campaign'),
        h('div', { class: 'cell-sub in-roi-sub' }, campaignStatusBadge(c.status, 'roi-status'))),
      h('td', { class: 'ricol-cost align-end' }, costCell(c)),
      h('td', { class: 'ricol-leads align-end num', dataset: { testid: 'roi-leads' } }, nf.format(c.leads || 0)),
      h('td', { class: 'ricol-cpl align-end num' }, c.cost_per_lead != null ? money(c.cost_per_lead, cur) : '—'),
      h('td', { class: 'ricol-conv' }, conversions(m)),
      h('td', { class: 'ricol-rev align-end num', dataset: { testid: 'roi-revenue' } }, money(m.revenue || 0, cur)),
      h('td', { class: ['ricol-ros', 'align-end', 'num', ros != null && (ros >= 1 ? 'in-good' : 'in-bad')], dataset: { testid: 'roi-return' } },
        ros != null ? times(ros) : h('span', { class: 'muted', title: 'Enter the cost to see the return' }, '—')));
  }

  function renderTable() {
    const model = MODELS.find((m) => m.key === state.model);
    explain.textContent = `${model.text}. A touch is a person’s click in a campaign email or a form sent from a link tagged with it; deals won and orders placed within ${state.lookback} days after a touch count.`;
    if (!state.items.length) {
      mount(tableCard, h('h3', { class: 'chart-title cp-card-h', id: `${p}-t` }, 'Campaigns'),
        h('div', { class: 'in-none', dataset: { testid: 'roi-empty' } }, cicon('megaphone', { size: 16 }),
          h('span', null, 'No campaign has been sent yet, nor has a cost. ', h('a', { href: '/campaigns/new' }, 'New campaign'))));
      return;
    }
    const total = state.items.reduce((a, c) => {
      const m = c.models?.[state.model] || {};
      return { cost: a.cost + (Number(c.cost) || 0), leads: a.leads + (Number(c.leads) || 0), revenue: a.revenue + (Number(m.revenue) || 0) };
    }, { cost: 0, leads: 0, revenue: 0 });
    mount(tableCard,
      h('div', { class: 'cp-card-head' }, h('h3', { class: 'chart-title cp-card-h', id: `${p}-t` }, 'Campaigns'),
        h('span', { class: 'muted in-card-note' }, `${nf.format(state.items.length)} · ${money(total.cost, state.base, { whole: true })} spent · ${money(total.revenue, state.base, { whole: true })} back`)),
      h('div', { class: 'table-wrap cp-inner-table' }, h('table', { class: 'data-table in-table in-roi-table', dataset: { testid: 'roi-table', model: state.model } },
        h('caption', { class: 'visually-hidden' }, `Campaign return, ${model.label.toLowerCase()}`),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col', class: 'ricol-name' }, 'Campaign'),
          h('th', { scope: 'col', class: 'ricol-cost align-end' }, 'Cost'),
          h('th', { scope: 'col', class: 'ricol-leads align-end', title: 'Contacts whose first touch ever was this campaign' }, 'Leads'),
          h('th', { scope: 'col', class: 'ricol-cpl align-end' }, 'Per lead'),
          h('th', { scope: 'col', class: 'ricol-conv' }, 'Credited'),
          h('th', { scope: 'col', class: 'ricol-rev align-end' }, 'Revenue'),
          h('th', { scope: 'col', class: 'ricol-ros align-end', title: 'Revenue ÷ cost' }, 'Return'))),
        h('tbody', null, state.items.map(row)))));
  }

  function renderChart() {
    chartCard.__fig?.__disconnect?.();
    const model = MODELS.find((m) => m.key === state.model);
    const withCost = state.items.filter((c) => Number(c.cost) > 0);
    chartCard.hidden = !state.items.length;
    const items = withCost.map((c) => {
      const m = c.models?.[state.model] || {};
      return { label: c.name || 'Untitled', value: Number(m.return_on_spend) || 0, cls: (Number(m.return_on_spend) || 0) >= 1 ? 'chart-s2' : 'chart-s4', note: money(m.revenue || 0, c.cost_currency || state.base, { whole: true }) };
    });
    const fig = chartFigure({
      title: `Return on spend, ${model.label.toLowerCase()}`,
      desc: items.map((x) => `${x.label}: ${times(x.value)}, ${x.note}`).join('; '),
      testid: 'roi-chart',
      empty: items.length ? null : 'Enter what a campaign cost (in the table) to see its return.',
      draw: barList({ items, format: (v) => times(v), rowHeight: 30 }),
      table: () => dataTableOf('Return on spend', [['Campaign'], ['Return', 'end'], ['Revenue', 'end']], items.map((x) => [x.label, times(x.value), x.note])),
    });
    chartCard.__fig = fig;
    mount(chartCard, fig, items.length ? h('p', { class: 'muted cp-chart-note' }, 'Green: the campaign brought back more than it cost (1× and above).') : null);
  }

  function render() {
    renderTable();
    renderChart();
  }

  async function load({ focusCost } = {}) {
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    if (!state.items.length) {
      mount(tableCard, h('div', { class: 'chart-skeleton', 'aria-busy': 'true' }, [60, 90, 75].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%` } }))));
    }
    try {
      const [res, settings] = await Promise.all([
        fapi.campaignReturn({ signal: controller.signal }),
        pipelineSettings().catch(() => ({ base_currency: 'EUR' })),
      ]);
      if (state.destroyed || controller.signal.aborted) return;
      state.items = res.items;
      state.lookback = res.lookback_days;
      state.base = settings?.base_currency || 'EUR';
      render();
      if (focusCost) tableCard.querySelector(`[data-testid=roi-cost-edit][data-campaign-id="${CSS.escape(focusCost)}"]`)?.focus();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      chartCard.hidden = true;
      mount(tableCard, h('div', { class: 'inline-error', role: 'alert' }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not load the campaign return'), ' ', err.detail || err.message),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => load() }, 'Retry')));
      if (!err.handled && err.status !== 403) toastError(err, 'Could not load the campaign return');
    }
  }

  return {
    el,
    load,
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      chartCard.__fig?.__disconnect?.();
    },
  };
}
