// Automations › Insights (/automations/insights): customer value and churn,
// then campaign return (insight-roi.js).
// - Customer value (purchases = orders + won deals): tiles (customers,
//   revenue, at risk with the revenue at stake, how concentrated revenue is),
//   revenue by RFM segment (SVG bars, with a table toggle), what each segment
//   means, the most valuable customers and those slipping away (named, linked
//   to their pages). "Recompute" runs a full pass now (the tick keeps it
//   current otherwise); a long one goes on in the scheduler, and while a pass
//   runs a progress note shows its phase (polled until it is done).
// The campaign return's model switch answers ←/→.

import { h, mount, icon, toast, toastError, pageTitle, formatDate } from './ui.js';
import { updateUrl } from './router.js';
import * as session from './session.js';
import * as fapi from './automations-api.js';
import { emptyState } from './contacts.js';
import { cicon } from './campaign-display.js';
import { ago } from './rule-display.js';
import { automationsHeader } from './form-display.js';
import { chartFigure, barList, dataTableOf } from './svg-charts.js';
import {
  SEGMENTS, segmentBadge, shopCurrency, money, moneyShort, pctText, contactLink, fillContactNames, nf,
  purchasesShort, purchasesCell, riskOf, riskText, riskDot, riskTitle,
} from './insight-display.js';
import { campaignReturnSection } from './insight-roi.js';

function tile(label, value, sub, testid, { tone } = {}) {
  return h('div', { class: ['report-tile', 'cp-tile', tone && `cp-tile-${tone}`], dataset: { testid } },
    h('div', { class: 'tile-label' }, label),
    h('div', { class: 'tile-value num', dataset: { testid: `${testid}-value` } }, value),
    sub ? h('div', { class: 'tile-sub muted' }, sub) : null);
}

/** A running full pass in words: its phase and how far it got. */
const PASS_PHASES = {
  orders: 'reading orders', deals: 'reading won deals', touches: 'reading calls, meetings and emails', bounds: 'setting the score bounds', score: 'scoring',
};
/** How often the page looks again while a pass runs. */
const PASS_POLL_MS = 4000;

function shortDay(iso) {
  if (!iso) return '—';
  return h('time', { datetime: iso, title: formatDate(iso, { withTime: true }) }, formatDate(iso));
}

export function insightsView(root, { query = new URLSearchParams() } = {}) {
  const state = { destroyed: false, controller: null, names: null, summary: null, currency: 'EUR', recomputing: false, roi: null, poll: null };
  pageTitle('Insights', 'Automations');

  const canRecompute = () => fapi.canWriteRules();
  const recompute = h('button', {
    type: 'button', class: 'btn', hidden: true, dataset: { testid: 'insights-recompute' },
    title: 'Value every customer again now (the scheduler does it daily, and after each order)', onclick: () => runRecompute(),
  }, icon('history', { size: 15 }), h('span', null, 'Recompute'));

  const computed = h('p', { class: 'muted in-computed', role: 'status', 'aria-live': 'polite', dataset: { testid: 'insights-computed' } });
  const passNote = h('p', { class: 'in-pass', role: 'status', hidden: true, dataset: { testid: 'insight-pass' } });
  const tiles = h('div', { class: 'report-tiles in-tiles', dataset: { testid: 'insights-summary' }, 'aria-busy': 'true' },
    Array.from({ length: 4 }, () => h('div', { class: 'report-tile', 'aria-hidden': 'true' },
      h('span', { class: 'skeleton skeleton-text', style: { width: '50%' } }), h('span', { class: 'skeleton skeleton-text', style: { width: '40%', height: '22px', marginTop: '10px' } }))));
  const chartCard = h('section', { class: 'card report-card in-chart-card', dataset: { testid: 'insights-segments-card' } });
  const legendCard = h('section', { class: 'card report-card in-legend-card', dataset: { testid: 'insights-segments-legend' } });
  const valuableCard = h('section', { class: 'card report-card report-wide in-table-card', dataset: { testid: 'insights-valuable' } });
  const slippingCard = h('section', { class: 'card report-card report-wide in-table-card', dataset: { testid: 'insights-slipping' } });
  const grid = h('div', { class: 'report-grid in-grid' }, chartCard, legendCard, valuableCard, slippingCard);
  const empty = h('div', { hidden: true });
  const roiSlot = h('div', { class: 'in-roi-slot' });

  mount(root,
    ...automationsHeader('insights', { sub: 'Who your best customers are, who is slipping away, and what each campaign brought back', actions: [recompute] }),
    h('section', { class: 'in-section', 'aria-labelledby': 'in-cv-h' },
      h('div', { class: 'in-section-head' },
        h('h2', { class: 'cp-section-title', id: 'in-cv-h', tabindex: '-1' }, icon('users', { size: 16 }), 'Customer value'),
        computed),
      passNote, tiles, grid, empty),
    roiSlot);

  // --- rendering ------------------------------------------------------------------------------------
  function renderTiles(s) {
    const cur = state.currency;
    tiles.setAttribute('aria-busy', 'false');
    const n = Number(s.customers) || 0;
    const top = s.top_20_percent_revenue_share;
    mount(tiles,
      tile('Customers', nf.format(n), 'people with an order or a won deal', 'insights-customers'),
      tile('Revenue', money(s.revenue, cur, { whole: true }), n ? `${money(Math.round(s.revenue / n), cur, { whole: true })} per customer` : 'No purchases yet', 'insights-revenue'),
      tile('At risk', nf.format(s.at_risk || 0), s.at_risk ? `${money(s.at_risk_revenue, cur, { whole: true })} of past revenue at stake` : 'Nobody is slipping away', 'insights-at-risk', { tone: s.at_risk ? 'bad' : null }),
      tile('Concentration', n ? pctText(top) : '—',
        n ? `of revenue comes from the top 20% of customers; ${nf.format(s.customers_for_80_percent_of_revenue || 0)} ${s.customers_for_80_percent_of_revenue === 1 ? 'customer brings' : 'customers bring'} 80%` : 'Shown once there are purchases',
        'insights-concentration'));
    computed.textContent = s.computed_at ? `Computed ${ago(s.computed_at)} from orders (cancelled and returned ones left out) and won deals.` : '';
    if (s.computed_at) computed.title = formatDate(s.computed_at, { withTime: true });
    renderPass(s.pass);
  }

  /** The progress note of a running full pass (hidden when none runs). */
  function renderPass(pass) {
    passNote.hidden = !pass;
    if (!pass) { delete passNote.dataset.phase; passNote.replaceChildren(); return; }
    const done = Number(pass.done) || 0;
    passNote.dataset.phase = pass.phase || '';
    passNote.title = pass.started_at ? `Started ${formatDate(pass.started_at, { withTime: true })}; the figures below are from the last full pass until it is done.` : '';
    mount(passNote, h('span', { class: 'seg-spinner', 'aria-hidden': 'true' }),
      h('span', null, `Recomputing customer value… ${PASS_PHASES[pass.phase] || pass.phase || 'starting'}, ${nf.format(done)} ${done === 1 ? 'customer' : 'customers'}`));
  }

  /** While a pass runs, look again now and then (quietly) until it is done. */
  function schedulePoll(pass) {
    clearTimeout(state.poll);
    state.poll = null;
    if (!pass || state.destroyed) return;
    state.poll = setTimeout(() => {
      state.poll = null;
      if (!state.destroyed && !document.hidden) load({ quiet: true });
      else schedulePoll(pass);
    }, PASS_POLL_MS);
  }

  function renderChart(s) {
    chartCard.__fig?.__disconnect?.();
    const cur = state.currency;
    const segs = SEGMENTS.map((x) => ({ ...x, customers: Number(s.segments?.[x.key]?.customers) || 0, revenue: Number(s.segments?.[x.key]?.revenue) || 0 }));
    const total = segs.reduce((a, x) => a + x.revenue, 0);
    const fig = chartFigure({
      title: 'Revenue by segment',
      desc: segs.map((x) => `${x.label}: ${money(x.revenue, cur, { whole: true })} from ${x.customers} customers`).join('; '),
      testid: 'insights-segments-chart',
      empty: total ? null : 'No revenue yet: segments appear with the first orders.',
      // The customer counts beside the bars when there is room for them.
      draw: (width) => barList({
        items: segs.map((x) => ({ label: x.label, value: x.revenue, cls: x.cls, note: width >= 440 ? `${nf.format(x.customers)} ${x.customers === 1 ? 'customer' : 'customers'}` : null })),
        format: (v) => moneyShort(v, cur), rowHeight: 44,
      })(width),
      table: () => dataTableOf('Revenue by segment', [['Segment'], ['Customers', 'end'], ['Revenue', 'end'], ['Share', 'end']],
        segs.map((x) => [x.label, nf.format(x.customers), money(x.revenue, cur, { whole: true }), total ? pctText(x.revenue / total) : '—'])),
    });
    chartCard.__fig = fig;
    mount(chartCard, fig);
  }

  function renderLegend(s) {
    const n = Number(s.customers) || 0;
    mount(legendCard,
      h('h3', { class: 'chart-title cp-card-h' }, 'The segments'),
      h('ul', { class: 'in-legend' }, SEGMENTS.map((x) => {
        const c = Number(s.segments?.[x.key]?.customers) || 0;
        return h('li', { dataset: { testid: 'insights-segment', segment: x.key } },
          h('span', { class: ['in-swatch', x.cls], 'aria-hidden': 'true' }),
          h('div', { class: 'in-legend-text' }, h('strong', null, x.label), h('span', { class: 'muted' }, x.text)),
          h('span', { class: 'num in-legend-n' }, nf.format(c), h('span', { class: 'muted' }, n ? ` · ${pctText(c / n)}` : '')));
      })),
      h('p', { class: 'muted in-note' }, 'Scores 1–5 for recency, frequency and money, by fifths of your customers (RFM). Contact filters, segments and rule conditions can use them (value.rfm, value.at_risk, …).'));
  }

  function customerTable({ caption, columns, rows, testid }) {
    return h('div', { class: 'table-wrap cp-inner-table' }, h('table', { class: 'data-table in-table', dataset: { testid } },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', null, h('tr', null, columns.map(([label, cls]) => h('th', { scope: 'col', class: cls }, label)))),
      h('tbody', null, rows)));
  }

  function renderValuable(s) {
    const cur = state.currency;
    const list = Array.isArray(s.most_valuable) ? s.most_valuable : [];
    mount(valuableCard,
      h('div', { class: 'cp-card-head' }, h('h3', { class: 'chart-title cp-card-h' }, cicon('trophy', { size: 15 }), 'Most valuable'),
        h('span', { class: 'muted in-card-note' }, 'By what they paid')),
      list.length ? customerTable({
        caption: 'Most valuable customers', testid: 'insights-valuable-table',
        columns: [['Customer', 'incol-name'], ['Segment', 'incol-seg'], ['Purchases', 'incol-n align-end'], ['Paid', 'incol-money align-end'], ['Next 3 years', 'incol-money align-end incol-proj'], ['RFM', 'incol-rfm align-end'], ['Last purchase', 'incol-when']],
        rows: list.map((c) => h('tr', { dataset: { testid: 'valuable-row', contactId: c.contact_id } },
          h('td', { class: 'incol-name' }, contactLink(c.contact_id), h('div', { class: 'cell-sub' }, segmentBadge(c.segment, 'customer-segment-phone'), ` ${purchasesShort(c)}`)),
          h('td', { class: 'incol-seg' }, segmentBadge(c.segment), riskDot(c)),
          h('td', { class: 'incol-n align-end num' }, purchasesCell(c)),
          h('td', { class: 'incol-money align-end num' }, money(c.total, cur)),
          h('td', { class: 'incol-money align-end num muted incol-proj' }, money(c.projected_clv, cur, { whole: true })),
          h('td', { class: 'incol-rfm align-end num' }, h('span', { title: `Recency ${c.r}, frequency ${c.f}, money ${c.m} (5 is best)` }, String(c.rfm ?? '—'))),
          h('td', { class: 'incol-when muted' }, shortDay(c.last_purchase_at ?? c.last_order_at)))),
      }) : h('p', { class: 'muted' }, 'Nobody yet.'));
  }

  function renderSlipping(s) {
    const cur = state.currency;
    const list = Array.isArray(s.slipping_away) ? s.slipping_away : [];
    mount(slippingCard,
      h('div', { class: 'cp-card-head' }, h('h3', { class: 'chart-title cp-card-h' }, icon('alert', { size: 15 }), 'Slipping away'),
        h('span', { class: 'muted in-card-note' }, 'Silent for more than 1.5 × their usual interval between purchases, or between calls, meetings and emails')),
      list.length ? customerTable({
        caption: 'Customers slipping away', testid: 'insights-slipping-table',
        columns: [['Customer', 'incol-name'], ['Last purchase', 'incol-when'], ['Silent for', 'incol-n align-end'], ['Usually every', 'incol-n align-end'], ['Paid', 'incol-money align-end'], ['At stake, 3 years', 'incol-money align-end incol-proj']],
        rows: list.map((c) => {
          const r = riskOf(c) || { why: 'purchases', silence: c.silence_days, usual: c.usual_interval_days };
          const contact = r.why === 'touches';
          return h('tr', { dataset: { testid: 'slipping-row', contactId: c.contact_id, why: r.why } },
            h('td', { class: 'incol-name' }, contactLink(c.contact_id, 'slipping-link'),
              h('div', { class: 'cell-sub' }, riskText(c) || `Silent ${nf.format(c.silence_days ?? 0)} days`)),
            h('td', { class: 'incol-when muted' }, shortDay(c.last_purchase_at ?? c.last_order_at)),
            h('td', { class: 'incol-n align-end num in-bad', title: riskTitle(c) }, `${nf.format(r.silence ?? 0)} days`,
              contact ? h('div', { class: 'in-why muted' }, 'no contact') : null),
            h('td', { class: 'incol-n align-end num' }, r.usual != null ? `${nf.format(r.usual)} days` : '—',
              contact ? h('div', { class: 'in-why muted' }, 'in touch') : null),
            h('td', { class: 'incol-money align-end num' }, money(c.total, cur)),
            h('td', { class: 'incol-money align-end num incol-proj' }, money(c.projected_clv, cur, { whole: true })));
        }),
      }) : h('div', { class: 'in-none', dataset: { testid: 'insights-slipping-none' } }, icon('check', { size: 16 }),
        h('span', null, 'Nobody is slipping away: every repeat customer is buying, and keeping in touch, at their usual pace.')),
      h('p', { class: 'muted in-note' }, h('a', { href: '/automations/rules/new' }, 'A win-back rule'), ' can give their owners a task the day they go quiet.'));
  }

  function render(s) {
    const n = Number(s.customers) || 0;
    renderTiles(s);
    if (!n) {
      grid.hidden = true;
      empty.hidden = false;
      mount(empty, emptyState({
        testid: 'insights-empty', iconName: 'inbox', title: 'No customer values yet',
        text: 'Customers are valued from their purchases (orders from your shop or entered in Service desk › Orders, and won deals): recency, frequency and money, lifetime value and who is slipping away.',
        actions: canRecompute() ? [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => runRecompute() }, 'Recompute now')] : [],
      }));
      return;
    }
    grid.hidden = false;
    empty.hidden = true;
    renderChart(s);
    renderLegend(s);
    renderValuable(s);
    renderSlipping(s);
    // Their own controller: a quiet poll (load) must not cancel names still coming in.
    state.names?.abort();
    state.names = new AbortController();
    fillContactNames(grid, { signal: state.names.signal });
  }

  async function load({ quiet = false } = {}) {
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    try {
      const [s, cur] = await Promise.all([fapi.customerSummary({ signal: controller.signal }), shopCurrency(), session.whenLoaded()]);
      if (state.destroyed || controller.signal.aborted) return;
      const passEnded = quiet && !s.pass && state.summary?.pass;
      const same = quiet && state.summary && s.computed_at === state.summary.computed_at && s.customers === state.summary.customers;
      state.summary = s;
      state.currency = cur;
      recompute.hidden = !canRecompute();
      // A poll while a pass runs only moves its note on (the figures change when it is done).
      if (same && !passEnded) renderPass(s.pass);
      else render(s);
      if (passEnded) toast('Every customer was valued again.', { kind: 'success', title: 'Recomputed', timeout: 3500 });
      schedulePoll(s.pass);
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      // A failed poll tries again later rather than replacing the page with an error.
      if (quiet && state.summary) { schedulePoll(state.summary.pass || { phase: '' }); return; }
      tiles.setAttribute('aria-busy', 'false');
      mount(tiles);
      grid.hidden = true;
      empty.hidden = false;
      const forbidden = err.status === 403;
      mount(empty, emptyState({
        testid: 'error-state', iconName: forbidden ? 'lock' : 'alert',
        title: forbidden ? 'Insights are not available to your role' : (err.title || 'Could not load the customer values'),
        text: `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
        actions: forbidden ? [] : [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => load() }, 'Retry')],
      }));
      if (!forbidden) toastError(err, 'Could not load the customer values');
    }
  }

  async function runRecompute() {
    if (state.recomputing || !canRecompute()) return;
    state.recomputing = true;
    recompute.disabled = true;
    recompute.querySelector('span').textContent = 'Recomputing…';
    try {
      const res = await fapi.recomputeCustomers();
      if (state.destroyed) return;
      if (res.status === 'running') {
        // Too many to do at once: the scheduler finishes it; the note shows how far it got.
        if (state.summary) state.summary = { ...state.summary, pass: res.pass || { phase: 'orders', done: 0 } };
        renderPass(state.summary?.pass || res.pass);
        toast('Recomputing in the background: the figures update when it is done.', { title: 'Recomputing', timeout: 3500 });
        schedulePoll(res.pass || {});
        return;
      }
      toast(`${nf.format(res.customers ?? 0)} ${res.customers === 1 ? 'customer' : 'customers'} valued again.`, { kind: 'success', title: 'Recomputed', timeout: 3500 });
      await load();
    } catch (err) {
      if (!state.destroyed) toastError(err, 'Could not recompute');
    } finally {
      state.recomputing = false;
      if (!state.destroyed) {
        recompute.disabled = false;
        recompute.querySelector('span').textContent = 'Recompute';
      }
    }
  }

  state.roi = campaignReturnSection({
    model: query.get('model'),
    onModel: (m) => updateUrl(`/automations/insights${m && m !== 'first_touch' ? `?model=${m}` : ''}`),
  });
  mount(roiSlot, state.roi.el);
  load();
  state.roi.load();

  return {
    kind: 'insights',
    destroy() {
      state.destroyed = true;
      clearTimeout(state.poll);
      state.controller?.abort();
      state.names?.abort();
      chartCard.__fig?.__disconnect?.();
      state.roi?.destroy();
    },
  };
}
