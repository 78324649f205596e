// Sales reports (/pipeline/reports), all in the base currency: summary tiles
// (win rate, average won deal, sales cycle, won and lost), the forecast by
// expected-close month (weighted vs won, with the quota as a line) and by
// owner, the stage funnel with conversion, lost reasons, and quota attainment
// per owner. Filters: pipeline, owner, date range, attainment period.

import { h, mount, icon, toastError, pageTitle } from './ui.js';
import { updateUrl } from './router.js';
import * as papi from './pipeline-api.js';
import { loadUsers, onUsers, knownUsers, userName, userActive, meId, formatDay } from './records.js';
import { formatMoney, compactMoney } from './deal-display.js';
import { chartFigure, columnChart, barList, funnelChart, dataTableOf } from './svg-charts.js';

const nf = new Intl.NumberFormat();
const pct = (v) => (v === null || v === undefined || !Number.isFinite(Number(v)) ? '—' : `${Math.round(Number(v) * 10) / 10}%`);
const arr = (...xs) => xs.find((x) => Array.isArray(x)) || [];
const num = (...xs) => { for (const x of xs) if (x !== null && x !== undefined && x !== '' && Number.isFinite(Number(x))) return Number(x); return null; };
const monthFmt = new Intl.DateTimeFormat(undefined, { month: 'short', year: '2-digit' });

function monthLabel(m) {
  const x = /^(\d{4})-(\d{2})/.exec(String(m || ''));
  return x ? monthFmt.format(new Date(Number(x[1]), Number(x[2]) - 1, 1)) : String(m || '—');
}

/** A ratio as the API sends it (0.42; 1.0 = quota met) → a percentage (42). */
function percent(v) {
  const n = num(v);
  return n === null ? null : n * 100;
}

// --- normalising the report documents (tolerant of field-name variants) ----------
function normForecast(d) {
  const months = arr(d.months, d.by_month, d.monthly, d.items).map((m) => ({
    month: m.month || m.period || m.key,
    weighted: num(m.weighted, m.weighted_value, m.weighted_open) ?? 0,
    open: num(m.open_total, m.open, m.open_value),
    won: num(m.won_total, m.won, m.won_value) ?? 0,
    quota: num(m.quota, m.quota_amount),
  }));
  const owners = arr(d.owners, d.by_owner).map((o) => ({
    owner_id: o.owner_id || o.owner || null,
    weighted: num(o.weighted, o.weighted_value, o.weighted_open) ?? 0,
    won: num(o.won_total, o.won, o.won_value) ?? 0,
    quota: num(o.quota),
  }));
  return { months, owners, unconverted: num(d.unconverted), overdue: d.overdue || null };
}

function reasonList(x) {
  if (Array.isArray(x)) return x.map((r) => (typeof r === 'string' ? { reason: r, count: 1 } : { reason: r.reason || r.name || r.key || '—', count: num(r.count, r.deals) ?? 0, value: num(r.value, r.total) }));
  if (x && typeof x === 'object') return Object.entries(x).map(([reason, v]) => (typeof v === 'object' ? { reason, count: num(v.count) ?? 0, value: num(v.value) } : { reason, count: Number(v) || 0 }));
  return [];
}

function normSummary(d) {
  const won = num(d.won_count, d.won?.count) ?? 0;
  const lost = num(d.lost_count, d.lost?.count) ?? 0;
  const given = percent(d.win_rate);
  return {
    win_rate: won + lost > 0 ? (won / (won + lost)) * 100 : given,
    average_won: num(d.average_won_value, d.average_won, d.average_deal, d.avg_won_value, d.average_deal_value),
    cycle_days: num(d.average_sales_cycle_days, d.average_cycle_days, d.sales_cycle_days, d.avg_sales_cycle_days, d.average_sales_cycle),
    won_count: won, lost_count: lost,
    won_value: num(d.won_value, d.won?.value) ?? 0,
    lost_value: num(d.lost_value, d.lost?.value) ?? 0,
    open_count: num(d.open_count), open_total: num(d.open_total), open_weighted: num(d.open_weighted),
    lost_reasons: reasonList(d.lost_reasons).sort((a, b) => b.count - a.count),
    won_reasons: reasonList(d.won_reasons).sort((a, b) => b.count - a.count),
  };
}

function normFunnel(d, stagesById) {
  return arr(d.stages, d.items, d.funnel).map((s) => ({
    id: s.stage_id || s.id,
    name: s.name || s.stage_name || stagesById.get(s.stage_id || s.id)?.name || 'Stage',
    reached: num(s.reached, s.deals, s.count, s.entered) ?? 0,
    conversion: percent(s.conversion ?? s.conversion_rate ?? s.conversion_to_next),
    days: num(s.average_days, s.avg_days, s.average_days_in_stage),
  }));
}

function normAttainment(d) {
  return arr(Array.isArray(d) ? d : null, d.items, d.owners).map((o) => {
    const quota = num(o.quota, o.amount);
    const won = num(o.won, o.won_value) ?? 0;
    return { owner_id: o.owner_id || null, quota, won, attainment: percent(o.attainment) ?? (quota ? (won / quota) * 100 : null) };
  });
}

// --- periods -------------------------------------------------------------------------
function pad(n) { return String(n).padStart(2, '0'); }
function currentQuarter(d = new Date()) { return `${d.getFullYear()}-Q${Math.floor(d.getMonth() / 3) + 1}`; }
function periodOptions() {
  const y = new Date().getFullYear();
  const out = [];
  for (const yr of [y - 1, y, y + 1]) {
    for (let q = 1; q <= 4; q += 1) out.push([`${yr}-Q${q}`, `Q${q} ${yr}`]);
  }
  for (let m = 1; m <= 12; m += 1) out.push([`${y}-${pad(m)}`, monthFmt.format(new Date(y, m - 1, 1))]);
  return out;
}

export function salesReportsView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    pipeline_id: query.get('pipeline') || '',
    owner_id: query.get('owner') || '',
    // Empty: each report's own default range (the forecast looks ahead, the
    // others back), shown under the title.
    from: query.get('from') || '',
    to: query.get('to') || '',
    period: query.get('period') || currentQuarter(),
    base: 'EUR',
    stages: new Map(),
    controller: null,
    destroyed: false,
  };
  pageTitle('Reports', 'Pipeline');

  const pSel = h('select', { class: 'select-sm', id: 'rf-pipeline', dataset: { testid: 'report-pipeline' } }, h('option', { value: '' }, 'All pipelines'));
  const oSel = h('select', { class: 'select-sm', id: 'rf-owner', dataset: { testid: 'report-owner' } });
  const fFrom = h('input', { type: 'date', class: 'input-sm', id: 'rf-from', value: state.from, dataset: { testid: 'report-from' } });
  const fTo = h('input', { type: 'date', class: 'input-sm', id: 'rf-to', value: state.to, dataset: { testid: 'report-to' } });
  const perSel = h('select', { class: 'select-sm', id: 'rf-period', dataset: { testid: 'report-period' } },
    periodOptions().map(([v, l]) => h('option', { value: v, selected: v === state.period ? true : null }, l)));
  [pSel, oSel, fFrom, fTo, perSel].forEach((el) => el.addEventListener('change', () => {
    state.pipeline_id = pSel.value; state.owner_id = oSel.value; state.from = fFrom.value; state.to = fTo.value; state.period = perSel.value;
    syncUrl(); load();
  }));

  const tiles = h('div', { class: 'report-tiles', dataset: { testid: 'report-tiles' } });
  const slots = {
    month: h('section', { class: 'card report-card report-wide', dataset: { testid: 'report-forecast-month' } }),
    owner: h('section', { class: 'card report-card', dataset: { testid: 'report-forecast-owner' } }),
    funnel: h('section', { class: 'card report-card', dataset: { testid: 'report-funnel' } }),
    lost: h('section', { class: 'card report-card', dataset: { testid: 'report-lost-reasons' } }),
    attain: h('section', { class: 'card report-card', dataset: { testid: 'report-attainment' } }),
  };

  mount(root,
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/pipeline', class: 'back-link' }, icon('arrowLeft'), 'Pipeline')),
    h('div', { class: 'page-header' },
      h('div', { class: 'page-heading' },
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Sales reports'),
        h('p', { class: 'page-sub', dataset: { testid: 'report-currency' } }, 'Amounts in the base currency'))),
    h('form', { class: 'board-filters report-filters', 'aria-label': 'Report filters', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'bf' }, h('label', { for: 'rf-pipeline' }, 'Pipeline'), pSel),
      h('div', { class: 'bf' }, h('label', { for: 'rf-owner' }, 'Owner'), oSel),
      h('div', { class: 'bf' }, h('label', { for: 'rf-from' }, 'From'), fFrom),
      h('div', { class: 'bf' }, h('label', { for: 'rf-to' }, 'To'), fTo),
      h('button', { type: 'button', class: 'link-button bf-clear', onclick: () => { fFrom.value = ''; fTo.value = ''; fFrom.dispatchEvent(new Event('change')); } }, 'Default range'),
      h('div', { class: 'bf' }, h('label', { for: 'rf-period' }, 'Quota period'), perSel)),
    tiles,
    h('div', { class: 'report-grid' }, slots.month, slots.owner, slots.funnel, slots.lost, slots.attain));

  function syncUrl() {
    const p = new URLSearchParams();
    if (state.pipeline_id) p.set('pipeline', state.pipeline_id);
    if (state.owner_id) p.set('owner', state.owner_id);
    if (state.from) p.set('from', state.from);
    if (state.to) p.set('to', state.to);
    if (state.period !== currentQuarter()) p.set('period', state.period);
    const s = p.toString();
    updateUrl(s ? `/pipeline/reports?${s}` : '/pipeline/reports');
  }

  function fillOwners() {
    const ids = new Set([...knownUsers().keys()].filter((id) => userActive(id)));
    if (meId()) ids.add(meId());
    if (state.owner_id) ids.add(state.owner_id);
    const opts = [...ids].map((id) => [id, id === meId() ? `${userName(id)} (you)` : userName(id)]).sort((a, b) => a[1].localeCompare(b[1]));
    mount(oSel, h('option', { value: '' }, 'Everyone'), opts.map(([id, l]) => h('option', { value: id, selected: id === state.owner_id ? true : null }, l)));
  }

  const fmt = (v) => formatMoney(Math.round(Number(v) || 0), state.base);
  const axis = (v) => compactMoney(v, state.base);

  function loadingCard(el, title) {
    mount(el, h('h2', { class: 'card-title' }, title),
      h('div', { class: 'chart-skeleton', 'aria-busy': 'true' }, [62, 80, 45, 70, 55].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%` } }))));
  }
  function errorCard(el, title, err, retry) {
    mount(el, h('h2', { class: 'card-title' }, title),
      h('div', { class: 'inline-error', role: 'alert' }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not load'), ' ', err.detail || err.message),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: retry }, 'Retry')));
  }
  function cardWith(el, fig) { el.__fig?.__disconnect?.(); el.__fig = fig; mount(el, fig); }

  function tile(label, value, sub, testid) {
    return h('div', { class: 'report-tile', dataset: { testid } },
      h('div', { class: 'tile-label' }, label),
      h('div', { class: 'tile-value num' }, value),
      sub ? h('div', { class: 'tile-sub muted' }, sub) : null);
  }

  function renderSummary(sm, fc) {
    const weighted = sm.open_weighted ?? (fc ? fc.months.reduce((a, m) => a + m.weighted, 0) : null);
    mount(tiles,
      tile('Win rate', pct(sm.win_rate), `${nf.format(sm.won_count)} won · ${nf.format(sm.lost_count)} lost`, 'tile-win-rate'),
      tile('Average won deal', sm.average_won != null ? fmt(sm.average_won) : '—', null, 'tile-average-deal'),
      tile('Sales cycle', sm.cycle_days != null ? `${nf.format(Math.round(sm.cycle_days))} days` : '—', 'From creation to won, on average', 'tile-sales-cycle'),
      tile('Won', fmt(sm.won_value), `${nf.format(sm.won_count)} ${sm.won_count === 1 ? 'deal' : 'deals'}`, 'tile-won'),
      tile('Lost', fmt(sm.lost_value), `${nf.format(sm.lost_count)} ${sm.lost_count === 1 ? 'deal' : 'deals'}`, 'tile-lost'),
      weighted != null ? tile('Open, weighted', fmt(weighted), sm.open_total != null ? `of ${fmt(sm.open_total)} in ${nf.format(sm.open_count || 0)} open ${sm.open_count === 1 ? 'deal' : 'deals'}` : 'Weighted by stage probability', 'tile-open-weighted') : null);
  }

  function renderForecast(fc) {
    const cats = fc.months.map((m) => monthLabel(m.month));
    const hasQuota = fc.months.some((m) => m.quota != null);
    cardWith(slots.month, chartFigure({
      title: 'Forecast by month',
      desc: `Weighted open value and won value by expected-close month${hasQuota ? ', with the quota as a line' : ''}, in ${state.base}. ${fc.months.map((m) => `${monthLabel(m.month)}: weighted ${fmt(m.weighted)}, won ${fmt(m.won)}${m.quota != null ? `, quota ${fmt(m.quota)}` : ''}`).join('; ')}.`,
      testid: 'chart-forecast-month',
      legend: [{ label: 'Weighted', cls: 'chart-s1' }, { label: 'Won', cls: 'chart-s2' }, ...(hasQuota ? [{ label: 'Quota', cls: 'chart-quota', line: true }] : [])],
      empty: fc.months.length ? null : 'No open or won deals with an expected close in this range.',
      draw: columnChart({
        categories: cats,
        series: [{ label: 'Weighted', cls: 'chart-s1', values: fc.months.map((m) => m.weighted) }, { label: 'Won', cls: 'chart-s2', values: fc.months.map((m) => m.won) }],
        line: hasQuota ? { label: 'Quota', cls: 'chart-quota', values: fc.months.map((m) => m.quota) } : null,
        format: fmt, axis,
      }),
      table: () => dataTableOf('Forecast by month', [['Month'], ['Weighted', 'end'], ['Won', 'end'], ['Quota', 'end'], ['Attainment', 'end']],
        fc.months.map((m) => [monthLabel(m.month), fmt(m.weighted), fmt(m.won), m.quota != null ? fmt(m.quota) : '—', m.quota ? pct((m.won / m.quota) * 100) : '—'])),
    }));
    const owners = fc.owners.slice().sort((a, b) => b.weighted - a.weighted);
    cardWith(slots.owner, chartFigure({
      title: 'Forecast by owner',
      desc: `Weighted open value per owner, in ${state.base}. ${owners.map((o) => `${userName(o.owner_id) || 'No owner'}: ${fmt(o.weighted)}`).join('; ')}.`,
      testid: 'chart-forecast-owner',
      legend: [{ label: 'Weighted', cls: 'chart-s1' }],
      empty: owners.length ? null : 'No open deals in this range.',
      draw: barList({ items: owners.map((o) => ({ label: o.owner_id ? userName(o.owner_id) : 'No owner', value: o.weighted, note: o.won ? `won ${axis(o.won)}` : null })), format: fmt }),
      table: () => dataTableOf('Forecast by owner', [['Owner'], ['Weighted', 'end'], ['Won', 'end'], ['Quota', 'end']],
        owners.map((o) => [o.owner_id ? userName(o.owner_id) : 'No owner', fmt(o.weighted), fmt(o.won), o.quota != null ? fmt(o.quota) : '—'])),
    }));
  }

  function renderFunnel(stages) {
    cardWith(slots.funnel, chartFigure({
      title: 'Funnel',
      desc: `Deals that reached each stage, and the share that went on to the next. ${stages.map((s) => `${s.name}: ${s.reached}${s.conversion != null ? `, ${pct(s.conversion)} convert` : ''}`).join('; ')}.`,
      testid: 'chart-funnel',
      empty: stages.length ? null : 'No deals in this range.',
      draw: funnelChart({ stages: stages.map((s) => ({ label: s.name, value: s.reached, conversion: s.conversion, note: s.days != null ? `${Math.round(s.days)} d avg` : null })), format: (v) => nf.format(v) }),
      table: () => dataTableOf('Funnel', [['Stage'], ['Deals reached', 'end'], ['Conversion to next', 'end'], ['Average days in stage', 'end']],
        stages.map((s) => [s.name, nf.format(s.reached), pct(s.conversion), s.days != null ? nf.format(Math.round(s.days * 10) / 10) : '—'])),
    }));
  }

  function renderLost(sm) {
    const reasons = sm.lost_reasons;
    cardWith(slots.lost, chartFigure({
      title: 'Lost reasons',
      desc: `Deals lost per reason. ${reasons.map((r) => `${r.reason}: ${r.count}`).join('; ')}.`,
      testid: 'chart-lost-reasons',
      empty: reasons.length ? null : 'No lost deals in this range.',
      draw: barList({ items: reasons.map((r) => ({ label: r.reason, value: r.count, note: r.value != null ? axis(r.value) : null })), format: (v) => nf.format(v), cls: 'chart-s4' }),
      table: () => dataTableOf('Lost reasons', [['Reason'], ['Deals', 'end'], ['Value', 'end']],
        reasons.map((r) => [r.reason, nf.format(r.count), r.value != null ? fmt(r.value) : '—'])),
    }));
  }

  function renderAttainment(items) {
    const rows = items.slice().sort((a, b) => (b.attainment ?? -1) - (a.attainment ?? -1));
    const periodLabel = perSel.selectedOptions[0]?.textContent || state.period;
    cardWith(slots.attain, chartFigure({
      title: `Quota attainment · ${periodLabel}`,
      desc: `Won value against quota per owner for ${periodLabel}. ${rows.map((r) => `${userName(r.owner_id)}: ${fmt(r.won)} of ${r.quota != null ? fmt(r.quota) : 'no quota'} (${pct(r.attainment)})`).join('; ')}.`,
      testid: 'chart-attainment',
      legend: [{ label: 'Won', cls: 'chart-s2' }, { label: 'Quota', cls: 'chart-target-swatch', line: true }],
      empty: rows.length ? null : 'No quotas or won deals in this period. Quotas are set under Settings › Pipelines.',
      draw: barList({ items: rows.map((r) => ({ label: r.owner_id ? userName(r.owner_id) : 'No owner', value: r.won, target: r.quota, note: r.attainment != null ? pct(r.attainment) : 'no quota', cls: 'chart-s2' })), format: axis }),
      table: () => dataTableOf('Quota attainment', [['Owner'], ['Quota', 'end'], ['Won', 'end'], ['Attainment', 'end']],
        rows.map((r) => [r.owner_id ? userName(r.owner_id) : 'No owner', r.quota != null ? fmt(r.quota) : '—', fmt(r.won), pct(r.attainment)])),
    }));
  }

  async function load() {
    state.controller?.abort();
    const c = new AbortController();
    state.controller = c;
    const q = { pipeline_id: state.pipeline_id || undefined, owner_id: state.owner_id || undefined, from: state.from || undefined, to: state.to || undefined };
    mount(tiles, Array.from({ length: 5 }, () => h('div', { class: 'report-tile', 'aria-hidden': 'true' },
      h('span', { class: 'skeleton skeleton-text', style: { width: '50%' } }), h('span', { class: 'skeleton skeleton-text', style: { width: '70%', height: '22px', marginTop: '10px' } }))));
    loadingCard(slots.month, 'Forecast by month');
    loadingCard(slots.owner, 'Forecast by owner');
    loadingCard(slots.funnel, 'Funnel');
    loadingCard(slots.lost, 'Lost reasons');
    loadingCard(slots.attain, 'Quota attainment');
    const opt = { signal: c.signal };
    const get = (kind, extra = {}) => papi.report(kind, { ...q, ...extra }, opt).then((d) => ({ d }), (err) => ({ err }));
    const [fc, sm, fu, at] = await Promise.all([
      get('forecast'), get('summary'), get('funnel'), get('attainment', { period: state.period, from: undefined, to: undefined }),
    ]);
    if (c.signal.aborted || state.destroyed) return;
    const base = fc.d?.base_currency || sm.d?.base_currency || fu.d?.base_currency || at.d?.base_currency;
    if (base) state.base = base;
    const range = (d) => (d?.from && d?.to ? `${formatDay(d.from)} – ${formatDay(d.to)}` : null);
    const ranges = state.from || state.to
      ? [range(fc.d) || range(sm.d)]
      : [range(fc.d) ? `forecast ${range(fc.d)}` : null, range(sm.d) ? `results ${range(sm.d)}` : null];
    root.querySelector('[data-testid="report-currency"]').textContent = [`Amounts in ${state.base}, the base currency`, ...ranges.filter(Boolean),
      fc.d?.unconverted ? `${nf.format(fc.d.unconverted)} open ${fc.d.unconverted === 1 ? 'deal' : 'deals'} without an exchange rate left out` : null].filter(Boolean).join(' · ');
    const forecast = fc.d ? normForecast(fc.d) : null;
    const failed = [fc, sm, fu, at].find((x) => x.err && x.err.name !== 'AbortError' && !x.err.handled);
    if (failed) toastError(failed.err, 'Some reports could not be loaded');
    if (sm.d) { const summary = normSummary(sm.d); renderSummary(summary, forecast); renderLost(summary); } else if (sm.err) { mount(tiles); errorCard(slots.lost, 'Lost reasons', sm.err, load); }
    if (forecast) renderForecast(forecast); else if (fc.err) { errorCard(slots.month, 'Forecast by month', fc.err, load); errorCard(slots.owner, 'Forecast by owner', fc.err, load); }
    if (fu.d) renderFunnel(normFunnel(fu.d, state.stages)); else if (fu.err) errorCard(slots.funnel, 'Funnel', fu.err, load);
    if (at.d) renderAttainment(normAttainment(at.d)); else if (at.err) errorCard(slots.attain, 'Quota attainment', at.err, load);
  }

  const offUsers = onUsers(() => { fillOwners(); });
  fillOwners();
  loadUsers();
  Promise.all([papi.pipelines().catch(() => []), papi.pipelineSettings().catch(() => null)]).then(([list, settings]) => {
    if (state.destroyed) return;
    if (settings?.base_currency) state.base = settings.base_currency;
    for (const p of list) for (const s of p.stages) state.stages.set(s.id, s);
    mount(pSel, h('option', { value: '' }, 'All pipelines'), list.map((p) => h('option', { value: p.id, selected: p.id === state.pipeline_id ? true : null }, p.name)));
    if (list.length === 1 && !state.pipeline_id) { state.pipeline_id = list[0].id; pSel.value = list[0].id; }
    load();
  });

  return {
    kind: 'sales-reports',
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      Object.values(slots).forEach((el) => el.__fig?.__disconnect?.());
      offUsers();
    },
  };
}

