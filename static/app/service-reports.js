// Service desk reports (/service-desk/reports) over tickets filed in a date
// range (default the last 30 days): tickets per day, average first response
// and resolution in business time, SLA attainment for both targets, and
// satisfaction (average and the spread of ratings). Each chart has a table
// view (svg-charts.js).

import { h, mount, icon, toastError, pageTitle } from './ui.js';
import { updateUrl } from './router.js';
import * as tapi from './tickets-api.js';
import { formatDay } from './records.js';
import { chartFigure, columnChart, barList, dataTableOf } from './svg-charts.js';
import { deskHeader, businessTime } from './ticket-display.js';

const nf = new Intl.NumberFormat();
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const isDate = (v) => /^\d{4}-\d{2}-\d{2}$/.test(v || '');

function iso(d) { return d.toISOString().slice(0, 10); }
function addDays(s, n) { const d = new Date(`${s}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + n); return iso(d); }
function pct(ratio) { return ratio === null || ratio === undefined || !Number.isFinite(Number(ratio)) ? '—' : `${Math.round(Number(ratio) * 1000) / 10}%`; }

/** Every day from `from` to `to` (inclusive) with its count (0 where none). */
export function fillDays(volume, from, to) {
  const counts = new Map((volume || []).map((v) => [v.day, Number(v.count) || 0]));
  const out = [];
  if (!isDate(from) || !isDate(to) || from > to) return (volume || []).map((v) => ({ day: v.day, count: Number(v.count) || 0 }));
  for (let d = from, i = 0; d <= to && i < 800; d = addDays(d, 1), i += 1) out.push({ day: d, count: counts.get(d) || 0 });
  return out;
}

const PRESETS = [['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days']];

export function serviceReportsView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    from: isDate(query.get('from')) ? query.get('from') : '',
    to: isDate(query.get('to')) ? query.get('to') : '',
    controller: null, destroyed: false, figs: [],
  };
  pageTitle('Reports', 'Service desk');

  const fFrom = h('input', { type: 'date', class: 'input-sm', id: 'sr-from', value: state.from, dataset: { testid: 'report-from' } });
  const fTo = h('input', { type: 'date', class: 'input-sm', id: 'sr-to', value: state.to, dataset: { testid: 'report-to' } });
  [fFrom, fTo].forEach((el) => el.addEventListener('change', () => {
    state.from = fFrom.value; state.to = fTo.value;
    syncPresets(); syncUrl(); load();
  }));
  const presets = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Range' },
    PRESETS.map(([n, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': 'false', dataset: { days: n, testid: `report-range-${n}` },
      onclick: () => {
        const today = iso(new Date());
        state.to = n === '30' ? '' : today;
        state.from = n === '30' ? '' : addDays(today, -(Number(n) - 1));
        fFrom.value = state.from; fTo.value = state.to;
        syncPresets(); syncUrl(); load();
      },
    }, label)));
  function syncPresets() {
    const today = iso(new Date());
    presets.querySelectorAll('button').forEach((b) => {
      const n = Number(b.dataset.days);
      const on = n === 30 ? (!state.from && !state.to) : (state.to === today && state.from === addDays(today, -(n - 1)));
      b.setAttribute('aria-pressed', String(on));
    });
  }

  const rangeNote = h('p', { class: 'muted sr-range', role: 'status', 'aria-live': 'polite', dataset: { testid: 'report-range' } }, '\u00a0');
  const tiles = h('div', { class: 'report-tiles sr-tiles', dataset: { testid: 'report-tiles' } });
  const slots = {
    volume: h('section', { class: 'card report-card report-wide', dataset: { testid: 'report-volume' } }),
    sla: h('section', { class: 'card report-card', dataset: { testid: 'report-sla' } }),
    csat: h('section', { class: 'card report-card', dataset: { testid: 'report-csat' } }),
  };

  mount(root,
    ...deskHeader('reports', { sub: 'How fast customers hear back, how often the targets hold, and how customers rate it' }),
    h('div', { class: 'service-reports', dataset: { testid: 'service-reports' } },
      h('form', { class: 'sr-filters', 'aria-label': 'Report range', onsubmit: (e) => e.preventDefault() },
        presets,
        h('div', { class: 'bf' }, h('label', { for: 'sr-from' }, 'From'), fFrom),
        h('div', { class: 'bf' }, h('label', { for: 'sr-to' }, 'To'), fTo),
        rangeNote),
      tiles,
      h('div', { class: 'report-grid' }, slots.volume, slots.sla, slots.csat)));

  function syncUrl() {
    const p = new URLSearchParams();
    if (state.from) p.set('from', state.from);
    if (state.to) p.set('to', state.to);
    const s = p.toString();
    updateUrl(`/service-desk/reports${s ? `?${s}` : ''}`);
  }

  function loadingCard(el, title) {
    mount(el, h('h2', { class: 'card-title' }, title),
      h('div', { class: 'chart-skeleton', 'aria-busy': 'true' }, [62, 80, 45, 70, 55].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%` } }))));
  }
  function cardWith(el, fig) { el.__fig?.__disconnect?.(); el.__fig = fig; mount(el, fig); }

  function tile(label, value, sub, testid, cls) {
    return h('div', { class: ['report-tile', cls], dataset: { testid } },
      h('div', { class: 'tile-label' }, label),
      h('div', { class: 'tile-value num' }, value),
      sub ? h('div', { class: 'tile-sub muted' }, sub) : null);
  }

  function attainmentClass(ratio) {
    if (ratio === null || ratio === undefined) return null;
    return ratio >= 0.9 ? 'is-good' : ratio >= 0.75 ? 'is-fair' : 'is-poor';
  }

  function render(r, from, to) {
    const fr = r.sla?.first_response || {};
    const rs = r.sla?.resolution || {};
    const cs = r.csat || {};
    const dist = Array.isArray(cs.distribution) ? cs.distribution.map((n) => Number(n) || 0) : [0, 0, 0, 0, 0];
    mount(tiles,
      tile('Tickets', nf.format(r.created || 0), 'filed in this range', 'tile-created'),
      tile('First response', businessTime(r.average_first_response_minutes), 'on average, in business hours', 'tile-first-response'),
      tile('Resolution', businessTime(r.average_resolution_minutes), 'on average, in business hours', 'tile-resolution'),
      tile('Response target met', pct(fr.attainment), `${nf.format(fr.met || 0)} met · ${nf.format(fr.missed || 0)} missed`, 'tile-sla-response', attainmentClass(fr.attainment)),
      tile('Resolution target met', pct(rs.attainment), `${nf.format(rs.met || 0)} met · ${nf.format(rs.missed || 0)} missed`, 'tile-sla-resolution', attainmentClass(rs.attainment)),
      tile('Satisfaction', cs.average != null ? `${(Math.round(cs.average * 10) / 10).toFixed(1)} / 5` : '—', `${nf.format(cs.rated || 0)} ${cs.rated === 1 ? 'rating' : 'ratings'}`, 'tile-csat'));

    const days = fillDays(r.volume, from, to);
    const total = days.reduce((n, d) => n + d.count, 0);
    const label = (d) => dayFmt.format(new Date(`${d}T00:00:00Z`));
    cardWith(slots.volume, chartFigure({
      title: 'Tickets per day',
      desc: `Tickets filed per day from ${formatDay(from)} to ${formatDay(to)}: ${total} in all. ${days.filter((d) => d.count).map((d) => `${label(d.day)}: ${d.count}`).join('; ')}.`,
      testid: 'chart-volume',
      legend: [{ label: 'Tickets', cls: 'chart-s1' }],
      empty: total ? null : 'No tickets were filed in this range.',
      draw: columnChart({
        categories: days.map((d) => label(d.day)),
        series: [{ label: 'Tickets', cls: 'chart-s1', values: days.map((d) => d.count) }],
        format: (v) => nf.format(v), axis: (v) => nf.format(v), height: 220,
      }),
      table: () => dataTableOf('Tickets per day', [['Day'], ['Tickets', 'end']], days.filter((d) => d.count).map((d) => [formatDay(d.day), nf.format(d.count)])),
    }));

    const slaItems = [
      { label: 'First response', value: fr.attainment != null ? fr.attainment * 100 : 0, note: `${nf.format(fr.met || 0)} of ${nf.format((fr.met || 0) + (fr.missed || 0))}`, cls: 'chart-s1' },
      { label: 'Resolution', value: rs.attainment != null ? rs.attainment * 100 : 0, note: `${nf.format(rs.met || 0)} of ${nf.format((rs.met || 0) + (rs.missed || 0))}`, cls: 'chart-s2' },
    ];
    const anySla = (fr.met || 0) + (fr.missed || 0) + (rs.met || 0) + (rs.missed || 0) > 0;
    cardWith(slots.sla, chartFigure({
      title: 'SLA attainment',
      desc: `Share of tickets that met each target. First response: ${pct(fr.attainment)} (${fr.met || 0} met, ${fr.missed || 0} missed). Resolution: ${pct(rs.attainment)} (${rs.met || 0} met, ${rs.missed || 0} missed).`,
      testid: 'chart-sla',
      empty: anySla ? null : 'No ticket in this range has been answered or resolved yet, and none missed a target.',
      draw: (width) => {
        const svg = barList({ items: slaItems.map((x) => ({ ...x, target: 100 })), format: (v) => `${Math.round(v * 10) / 10}%`, rowHeight: 40 })(width);
        return svg;
      },
      table: () => dataTableOf('SLA attainment', [['Target'], ['Met', 'end'], ['Missed', 'end'], ['Attainment', 'end']], [
        ['First response', nf.format(fr.met || 0), nf.format(fr.missed || 0), pct(fr.attainment)],
        ['Resolution', nf.format(rs.met || 0), nf.format(rs.missed || 0), pct(rs.attainment)],
      ]),
    }));

    const stars = (n) => `${n} ${n === 1 ? 'star' : 'stars'}`;
    cardWith(slots.csat, chartFigure({
      title: 'Satisfaction ratings',
      desc: `How customers rated resolved tickets (1 to 5 stars): ${dist.map((n, i) => `${stars(i + 1)}: ${n}`).join('; ')}. Average ${cs.average != null ? (Math.round(cs.average * 10) / 10).toFixed(1) : 'none'}.`,
      testid: 'chart-csat',
      legend: [{ label: 'Ratings', cls: 'chart-s2' }],
      empty: cs.rated ? null : 'No ratings yet. Customers are asked to rate a ticket when it is resolved.',
      draw: columnChart({
        categories: ['1 ★', '2 ★', '3 ★', '4 ★', '5 ★'],
        series: [{ label: 'Ratings', cls: 'chart-s2', values: dist }],
        format: (v) => nf.format(v), axis: (v) => nf.format(v), height: 220,
      }),
      table: () => dataTableOf('Satisfaction ratings', [['Rating'], ['Tickets', 'end'], ['Share', 'end']],
        dist.map((n, i) => [stars(i + 1), nf.format(n), cs.rated ? `${Math.round((n / cs.rated) * 100)}%` : '—']).reverse()),
    }));
  }

  async function load() {
    state.controller?.abort();
    const c = new AbortController();
    state.controller = c;
    if (state.from && state.to && state.from > state.to) {
      rangeNote.textContent = 'The start is after the end: pick another range.';
      return;
    }
    rangeNote.textContent = 'Loading…';
    mount(tiles, Array.from({ length: 6 }, () => h('div', { class: 'report-tile', 'aria-hidden': 'true' },
      h('span', { class: 'skeleton skeleton-text', style: { width: '50%' } }), h('span', { class: 'skeleton skeleton-text', style: { width: '70%', height: '20px', marginTop: '10px' } }))));
    loadingCard(slots.volume, 'Tickets per day');
    loadingCard(slots.sla, 'SLA attainment');
    loadingCard(slots.csat, 'Satisfaction ratings');
    try {
      const r = await tapi.serviceReport({ from: state.from, to: state.to }, { signal: c.signal });
      if (state.destroyed || state.controller !== c) return;
      // The answer's `to` is the end of the range (exclusive): show the last day included.
      const from = isDate(r.from) ? r.from : state.from;
      const to = state.to || (isDate(r.to) ? addDays(r.to, -1) : iso(new Date()));
      rangeNote.textContent = `Tickets filed ${formatDay(from)} – ${formatDay(to)} · times in business hours`;
      render(r, from, to);
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      rangeNote.textContent = '';
      mount(tiles);
      const box = (el, title) => mount(el, h('h2', { class: 'card-title' }, title),
        h('div', { class: 'inline-error', role: 'alert' }, icon('alert'),
          h('div', null, h('strong', null, err.status === 403 ? 'Not available to your role' : (err.title || 'Could not load')), ' ', err.detail || err.message),
          err.status === 403 ? null : h('button', { type: 'button', class: 'btn btn-sm', onclick: load }, 'Retry')));
      box(slots.volume, 'Tickets per day');
      box(slots.sla, 'SLA attainment');
      box(slots.csat, 'Satisfaction ratings');
      if (err.status !== 403 && !err.handled) toastError(err, 'Could not load the reports');
    }
  }

  syncPresets();
  load();
  return {
    kind: 'service-reports',
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      Object.values(slots).forEach((el) => el.__fig?.__disconnect?.());
    },
  };
}
