// Home (/home): what each dashboard widget loads and shows. home-page.js puts
// them in the user's order, each in its own card with a skeleton, its own
// error (with Retry) and a polite note when the role cannot see that area.
//
// A widget is { key, title, iconEl(), area, href, linkLabel, blurb, period,
// load({ signal }) → data, render(data, ctx) → nodes }; ctx = { signal,
// reload(), onCleanup(fn), destroyed() }. Every number is a link to the
// records behind it: the contacts list with a filter (the URL carries the
// API's filter JSON, as filters.js reads it), the pipeline list for a range of
// expected-close dates, a contact or deal page, or the report it comes from.
// The charts are SVG (svg-charts.js), coloured by the theme's chart variables.

import { h, icon, toast, toastError } from './ui.js';
import { navigate } from './router.js';
import * as fapi from './automations-api.js';
import * as papi from './pipeline-api.js';
import * as tapi from './tickets-api.js';
import * as crm from './crm-api.js';
import { xicon, relativeDue, canWrite } from './records.js';
import { recordNameOf, compactMoney } from './deal-display.js';
import { cicon, campaignHref, plural } from './campaign-display.js';
import { s, chartFigure, columnChart, chartIcon, dataTableOf } from './svg-charts.js';
import { money, nf, pctText, shopCurrency, fillContactNames, riskText, riskTitle } from './insight-display.js';

// ---------------------------------------------------------------------------
// Links to the records behind a number

const contactsWhere = (filter) => `/contacts?filter=${encodeURIComponent(JSON.stringify(filter))}`;
const createdWithin = (days) => ({ field: 'created_at', op: 'gte', value: `-${days}d` });

/** The contacts list: new in the last `days` days with this source ("(none)": without one). */
export function sourceHref(source, days = 30) {
  const cond = source === '(none)' ? { field: 'source', op: 'empty' } : { field: 'source', op: 'eq', value: source };
  return contactsWhere({ and: [cond, createdWithin(days)] });
}

function pad(n) { return String(n).padStart(2, '0'); }
function isoDay(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }

/** "2027-01" → the open deals expected to close that month, as a list. */
function monthDealsHref(month) {
  const m = /^(\d{4})-(\d{2})/.exec(String(month || ''));
  if (!m) return '/pipeline?view=list';
  const last = new Date(Number(m[1]), Number(m[2]), 0).getDate();
  return `/pipeline?view=list&from=${m[1]}-${m[2]}-01&to=${m[1]}-${m[2]}-${pad(last)}`;
}

const monthFmt = new Intl.DateTimeFormat(undefined, { month: 'short', year: '2-digit' });
function monthLabel(month) {
  const m = /^(\d{4})-(\d{2})/.exec(String(month || ''));
  return m ? monthFmt.format(new Date(Number(m[1]), Number(m[2]) - 1, 1)) : String(month || '—');
}

const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);

// ---------------------------------------------------------------------------
// Building blocks

/** A headline number that opens the records behind it. */
function stat({ label, value, href, sub, testid, tone, title }) {
  return h('a', { class: ['home-stat', tone && `home-stat-${tone}`], href, title, dataset: { testid } },
    h('span', { class: 'home-stat-label' }, label),
    h('span', { class: 'home-stat-value num', dataset: { testid: testid ? `${testid}-value` : null } }, value),
    sub ? h('span', { class: 'home-stat-sub' }, sub) : null);
}

function stats(...items) {
  return h('div', { class: 'home-stats' }, items.filter(Boolean));
}

/**
 * Horizontal bars as a list of links: label, an SVG bar (its length against
 * `max`, or against `target` with a tick there) and the value.
 * items: [{ label, value, text, note, href, cls, testid, dataset, target }]
 */
function barLinks(items, { max, caption, cls = 'chart-s1' } = {}) {
  const top = max ?? Math.max(1, ...items.map((it) => Math.max(num(it.value), num(it.target))));
  return h('ul', { class: 'home-bars', 'aria-label': caption }, items.map((it) => {
    const w = Math.max(0, Math.min(100, (num(it.value) / top) * 100));
    const bar = s('svg', { class: 'home-bar-svg', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false' },
      s('rect', { class: 'chart-track', x: 0, y: 0, width: 100, height: 10 }),
      s('rect', { class: ['chart-bar', it.cls || cls], x: 0, y: 0, width: w, height: 10 }),
      it.target != null ? s('line', { class: 'chart-target', x1: (num(it.target) / top) * 100, x2: (num(it.target) / top) * 100, y1: 0, y2: 10, 'vector-effect': 'non-scaling-stroke' }) : null);
    return h('li', null, h('a', { class: 'home-bar', href: it.href, title: it.title || null, dataset: { testid: it.testid, ...(it.dataset || {}) } },
      h('span', { class: 'home-bar-label truncate' }, it.label),
      bar,
      h('span', { class: 'home-bar-value num' }, it.text ?? nf.format(num(it.value)), it.note ? h('span', { class: 'home-bar-note' }, ` · ${it.note}`) : null)));
  }));
}

/** A quiet "nothing here" line with an icon and an optional link. */
function none(text, { iconName = 'check', link, testid } = {}) {
  return h('div', { class: ['in-none', 'home-none', iconName === 'check' && 'is-good'], dataset: { testid } }, (iconName === 'task' ? xicon : icon)(iconName, { size: 16 }),
    h('span', null, text, link ? [' ', h('a', { href: link.href }, link.label)] : null));
}

/**
 * Chart bars that open what they stand for: the mouse clicks a bar; from the
 * keyboard (and for screen readers) the chart's table lists the same links.
 */
function linkBars(svg, hrefOf) {
  svg.querySelectorAll('rect.chart-bar').forEach((rect, i) => {
    const href = hrefOf(i);
    if (!href) return;
    rect.dataset.href = href;
    rect.classList.add('home-chart-link');
  });
  return svg;
}

function chartClicks(fig) {
  fig.addEventListener('click', (e) => {
    const target = e.target.closest?.('[data-href]');
    if (!target || !fig.contains(target)) return;
    e.preventDefault();
    navigate(target.dataset.href);
  });
  return fig;
}

// ---------------------------------------------------------------------------
// Pipeline: open value per stage of one pipeline

const PIPELINE_KEY = 'edgecrm.home.pipeline';
function rememberedPipeline() { try { return localStorage.getItem(PIPELINE_KEY) || ''; } catch { return ''; } }
function rememberPipeline(id) { try { localStorage.setItem(PIPELINE_KEY, id); } catch { /* private mode */ } }

const pipeline = {
  key: 'pipeline',
  title: 'Open pipeline',
  iconEl: () => icon('pipeline', { size: 16 }),
  area: 'the pipeline',
  href: '/pipeline',
  linkLabel: 'Pipeline',
  blurb: 'Open deal value in each stage of a pipeline',
  async load({ signal }) {
    const list = await papi.pipelines();
    if (!list.length) return { list, board: null };
    const wanted = rememberedPipeline();
    const p = list.find((x) => x.id === wanted) || list[0];
    const board = await papi.board(p.id, { perStage: 1, signal });
    return { list, pipeline: p, board };
  },
  render({ list, pipeline: p, board }, ctx) {
    if (!board) return [none('There is no pipeline yet.', { iconName: 'pipeline', link: { href: '/settings/pipelines', label: 'Set one up' } })];
    const cur = board.base_currency || 'EUR';
    const stages = board.stages;
    const total = stages.reduce((a, st) => a + num(st.total), 0);
    const weighted = stages.reduce((a, st) => a + num(st.weighted), 0);
    const count = stages.reduce((a, st) => a + num(st.count), 0);
    const unconverted = stages.reduce((a, st) => a + num(st.unconverted), 0);
    const boardHref = `/pipeline/${encodeURIComponent(p.id)}`;
    const picker = list.length > 1 ? h('select', {
      class: 'select-sm home-picker', 'aria-label': 'Pipeline', dataset: { testid: 'home-pipeline-picker' },
      onchange: (e) => { rememberPipeline(e.target.value); ctx.reload(); },
    }, list.map((x) => h('option', { value: x.id, selected: x.id === p.id ? true : null }, x.name))) : null;
    return [
      picker,
      stats(
        stat({ label: 'Open value', value: money(total, cur, { whole: true }), href: boardHref, sub: `in ${plural(count, 'open deal', 'open deals')}`, testid: 'widget-pipeline-total', title: `The board of ${p.name}` }),
        stat({ label: 'Weighted', value: money(weighted, cur, { whole: true }), href: `/pipeline/reports?pipeline=${encodeURIComponent(p.id)}`, sub: 'by stage probability', testid: 'widget-pipeline-weighted' })),
      count ? barLinks(stages.map((st) => ({
        label: st.name, value: num(st.total), text: compactMoney(num(st.total), cur), note: plural(num(st.count), 'deal', 'deals'),
        href: boardHref, title: `${st.name}: ${plural(num(st.count), 'open deal', 'open deals')}, ${money(num(st.total), cur)}`,
        testid: 'home-pipeline-stage', dataset: { stageId: st.id },
      })), { caption: `Open value per stage of ${p.name}` })
        : none('No open deals in this pipeline.', { iconName: 'pipeline', link: { href: boardHref, label: 'Open the board' } }),
      unconverted ? h('p', { class: 'muted home-foot' }, icon('alert', { size: 12 }), ` ${plural(unconverted, 'deal', 'deals')} in a currency without an exchange rate left out.`) : null,
    ];
  },
};

// ---------------------------------------------------------------------------
// Forecast: weighted open value and won value by month

const forecast = {
  key: 'forecast',
  title: 'Forecast',
  iconEl: () => chartIcon(16),
  area: 'the sales reports',
  href: '/pipeline/reports',
  linkLabel: 'Reports',
  blurb: 'Weighted pipeline and won deals by expected-close month',
  period: 'Next 6 months',
  load({ signal }) { return papi.report('forecast', {}, { signal }); },
  render(d, ctx) {
    const cur = d.base_currency || 'EUR';
    const months = (Array.isArray(d.months) ? d.months : []).map((m) => ({
      month: m.month, weighted: num(m.weighted), won: num(m.won_total), open: num(m.open_count), openTotal: num(m.open_total),
    }));
    const weighted = months.reduce((a, m) => a + m.weighted, 0);
    const won = months.reduce((a, m) => a + m.won, 0);
    const overdue = d.overdue || {};
    const yesterday = new Date(); yesterday.setDate(yesterday.getDate() - 1);
    const fmt = (v) => money(v, cur, { whole: true });
    const any = months.some((m) => m.weighted || m.won);
    const fig = chartClicks(chartFigure({
      title: 'By expected-close month',
      desc: `Weighted open value and won value by month, in ${cur}. ${months.map((m) => `${monthLabel(m.month)}: weighted ${fmt(m.weighted)}, won ${fmt(m.won)}`).join('; ')}.`,
      testid: 'home-forecast-chart',
      legend: [{ label: 'Weighted', cls: 'chart-s1' }, { label: 'Won', cls: 'chart-s2' }],
      empty: any ? null : 'No open or won deals expected to close in these months.',
      draw: (width) => linkBars(columnChart({
        categories: months.map((m) => monthLabel(m.month)),
        series: [{ label: 'Weighted', cls: 'chart-s1', values: months.map((m) => m.weighted) }, { label: 'Won', cls: 'chart-s2', values: months.map((m) => m.won) }],
        format: fmt, axis: (v) => compactMoney(v, cur), height: 190,
      })(width), (i) => monthDealsHref(months[Math.floor(i / 2)]?.month)),
      table: () => dataTableOf('Forecast by month', [['Month'], ['Weighted', 'end'], ['Won', 'end'], ['Open deals', 'end']],
        months.map((m) => [h('a', { href: monthDealsHref(m.month) }, monthLabel(m.month)), fmt(m.weighted), fmt(m.won), nf.format(m.open)])),
      minWidth: 240,
    }));
    ctx.onCleanup(() => fig.__disconnect?.());
    return [
      stats(
        stat({ label: 'Weighted', value: fmt(weighted), href: '/pipeline/reports', sub: 'open deals × probability', testid: 'widget-forecast-weighted' }),
        stat({ label: 'Won', value: fmt(won), href: '/pipeline/reports', sub: 'closed in these months', testid: 'widget-forecast-won', tone: won ? 'good' : null }),
        num(overdue.open_count) ? stat({
          label: 'Past due', value: nf.format(num(overdue.open_count)), href: `/pipeline?view=list&to=${isoDay(yesterday)}`,
          sub: `open, ${fmt(num(overdue.open_total))}`, testid: 'widget-forecast-overdue', tone: 'bad', title: 'Open deals whose expected close has passed',
        }) : null),
      fig,
    ];
  },
};

// ---------------------------------------------------------------------------
// New leads by source (last 30 days)

const LEAD_DAYS = 30;

const leadsBySource = {
  key: 'leads_by_source',
  title: 'New leads by source',
  iconEl: () => icon('userPlus', { size: 16 }),
  area: 'contacts',
  href: contactsWhere(createdWithin(LEAD_DAYS)),
  linkLabel: 'Contacts',
  blurb: 'New contacts of the last 30 days, by where they came from',
  period: `Last ${LEAD_DAYS} days`,
  load({ signal }) { return fapi.leadsBySource({ days: LEAD_DAYS, signal }); },
  render(d) {
    const sources = Array.isArray(d.sources) ? d.sources : [];
    const total = num(d.total);
    const customers = sources.reduce((a, x) => a + num(x.customers), 0);
    return [
      stats(
        stat({ label: 'New contacts', value: nf.format(total), href: contactsWhere(createdWithin(LEAD_DAYS)), sub: `from ${plural(sources.length, 'source', 'sources')}`, testid: 'widget-leads-total' }),
        stat({
          label: 'Customers now', value: nf.format(customers), sub: total ? `${pctText(customers / total)} of them` : 'of them',
          href: contactsWhere({ and: [{ field: 'lifecycle_stage', op: 'in', value: ['customer'] }, createdWithin(LEAD_DAYS)] }), testid: 'widget-leads-customers', tone: customers ? 'good' : null,
        })),
      sources.length ? barLinks(sources.map((x) => ({
        label: x.source === '(none)' ? 'No source' : x.source, value: num(x.contacts),
        note: num(x.customers) ? `${nf.format(num(x.customers))} ${num(x.customers) === 1 ? 'customer' : 'customers'}` : null,
        href: sourceHref(x.source, LEAD_DAYS), cls: x.source === '(none)' ? 'in-seg-sleep' : 'chart-s1',
        title: `${plural(num(x.contacts), 'new contact', 'new contacts')} from ${x.source === '(none)' ? 'no source' : x.source}`,
        testid: 'home-leads-source', dataset: { source: x.source },
      })), { caption: 'New contacts per source' })
        : none(`No new contacts in the last ${LEAD_DAYS} days.`, { iconName: 'users', link: { href: '/automations/forms', label: 'Capture leads with a form' } }),
    ];
  },
};

// ---------------------------------------------------------------------------
// Campaign return (last touch)

const campaignReturn = {
  key: 'campaign_return',
  title: 'Campaign return',
  iconEl: () => cicon('megaphone', { size: 16 }),
  area: 'insights',
  href: '/automations/insights?model=last_touch',
  linkLabel: 'Insights',
  blurb: 'What each campaign brought back, credited to the last touch',
  period: 'Last touch',
  async load({ signal }) {
    const [res, settings] = await Promise.all([fapi.campaignReturn({ signal }), papi.pipelineSettings().catch(() => ({ base_currency: 'EUR' }))]);
    return { ...res, base: settings?.base_currency || 'EUR' };
  },
  render({ items, base }) {
    const rows = items.map((c) => {
      const m = c.models?.last_touch || {};
      return { ...c, revenue: num(m.revenue), ros: m.return_on_spend, won: num(m.deals) + num(m.orders) };
    }).sort((a, b) => b.revenue - a.revenue || num(b.leads) - num(a.leads));
    const insights = '/automations/insights?model=last_touch';
    if (!rows.length) return [none('No campaign has been sent yet.', { iconName: 'megaphone', link: { href: '/campaigns', label: 'Campaigns' } })];
    const revenue = rows.reduce((a, c) => a + c.revenue, 0);
    const cost = rows.reduce((a, c) => a + num(c.cost), 0);
    const leads = rows.reduce((a, c) => a + num(c.leads), 0);
    const times = (x) => { const v = Number(x) || 0; return `${v.toLocaleString(undefined, { maximumFractionDigits: v < 10 ? 1 : 0 })}×`; };
    const shown = rows.slice(0, 5);
    return [
      stats(
        stat({ label: 'Revenue back', value: money(revenue, base, { whole: true }), href: insights, sub: cost ? `for ${money(cost, base, { whole: true })} spent` : `from ${plural(rows.length, 'campaign', 'campaigns')}`, testid: 'widget-campaign-revenue', tone: cost && revenue >= cost ? 'good' : null }),
        stat({ label: 'Leads', value: nf.format(leads), href: insights, sub: 'first touched by a campaign', testid: 'widget-campaign-leads' }),
        cost ? stat({ label: 'Return', value: times(revenue / cost), href: insights, sub: 'revenue ÷ cost', testid: 'widget-campaign-return', tone: revenue >= cost ? 'good' : 'bad' }) : null),
      barLinks(shown.map((c) => ({
        label: c.name || 'Untitled campaign', value: c.revenue, text: compactMoney(c.revenue, c.cost_currency || base),
        note: c.ros != null ? times(Number(c.ros)) : `${nf.format(num(c.leads))} ${num(c.leads) === 1 ? 'lead' : 'leads'}`,
        cls: c.ros != null && Number(c.ros) < 1 ? 'chart-s4' : 'chart-s2', href: campaignHref(c.campaign_id),
        title: `${c.name}: ${money(c.revenue, c.cost_currency || base)} back${c.cost != null ? ` for ${money(c.cost, c.cost_currency || base)}` : ''}`,
        testid: 'home-campaign', dataset: { campaignId: c.campaign_id },
      })), { caption: 'Revenue back per campaign' }),
      rows.length > shown.length ? h('p', { class: 'home-foot' }, h('a', { href: insights }, `All ${nf.format(rows.length)} campaigns`)) : null,
    ];
  },
};

// ---------------------------------------------------------------------------
// Service levels (last 30 days)

const sla = {
  key: 'sla',
  title: 'Service levels',
  iconEl: () => icon('lifebuoy', { size: 16 }),
  area: 'the service desk',
  href: '/service-desk/reports',
  linkLabel: 'Reports',
  blurb: 'How often the response and resolution targets held',
  period: 'Last 30 days',
  load({ signal }) { return tapi.serviceReport({}, { signal }); },
  render(r) {
    const fr = r.sla?.first_response || {};
    const rs = r.sla?.resolution || {};
    const cs = r.csat || {};
    const reports = '/service-desk/reports';
    const tone = (a) => (a == null ? null : a >= 0.9 ? 'good' : a >= 0.75 ? 'fair' : 'bad');
    const pct = (a) => (a == null ? '—' : pctText(a, a < 1 && a > 0.99 ? 1 : 0));
    const judged = (x) => num(x.met) + num(x.missed);
    const any = judged(fr) + judged(rs) > 0;
    return [
      stats(
        stat({ label: 'Response', value: pct(fr.attainment), href: reports, sub: `target met · ${nf.format(num(fr.met))} of ${nf.format(judged(fr))}`, testid: 'widget-sla-response', tone: tone(fr.attainment) }),
        stat({ label: 'Resolution', value: pct(rs.attainment), href: reports, sub: `target met · ${nf.format(num(rs.met))} of ${nf.format(judged(rs))}`, testid: 'widget-sla-resolution', tone: tone(rs.attainment) }),
        stat({ label: 'Tickets', value: nf.format(num(r.created)), href: reports, sub: cs.average != null ? `filed · rated ${(Math.round(cs.average * 10) / 10).toFixed(1)} / 5` : 'filed', testid: 'widget-sla-tickets' })),
      any ? barLinks([
        { label: 'First response', value: fr.attainment != null ? fr.attainment * 100 : 0, text: pct(fr.attainment), href: reports, cls: 'chart-s1', testid: 'home-sla-bar', title: `First response target met for ${nf.format(num(fr.met))} of ${nf.format(judged(fr))} tickets` },
        { label: 'Resolution', value: rs.attainment != null ? rs.attainment * 100 : 0, text: pct(rs.attainment), href: reports, cls: 'chart-s2', testid: 'home-sla-bar', title: `Resolution target met for ${nf.format(num(rs.met))} of ${nf.format(judged(rs))} tickets` },
      ], { max: 100, caption: 'Share of tickets that met each target' })
        : none('No ticket has been answered, resolved or missed a target yet.', { iconName: 'lifebuoy' }),
      h('p', { class: 'home-foot' }, h('a', { href: '/service-desk?queue=breaching', dataset: { testid: 'widget-sla-breaching' } }, icon('clock', { size: 13 }), 'Tickets breaching soon')),
    ];
  },
};

// ---------------------------------------------------------------------------
// Customers at risk

const atRisk = {
  key: 'at_risk',
  title: 'Customers at risk',
  iconEl: () => icon('alert', { size: 16 }),
  area: 'insights',
  href: '/automations/insights',
  linkLabel: 'Insights',
  blurb: 'Regular customers who went quiet for longer than usual',
  async load({ signal }) {
    const [summary, items, currency] = await Promise.all([
      fapi.customerSummary({ signal }), fapi.listCustomers({ atRisk: true, limit: 5, signal }), shopCurrency(),
    ]);
    return { summary, items, currency };
  },
  render({ summary, items, currency }, ctx) {
    const n = num(summary.at_risk);
    const list = h('ul', { class: 'home-list', dataset: { testid: 'widget-at-risk-list' } }, items.map((c) => h('li', { class: 'home-list-row', dataset: { testid: 'home-at-risk-row', contactId: c.contact_id } },
      h('div', { class: 'home-list-main' },
        h('a', { href: `/contacts/${encodeURIComponent(c.contact_id)}`, class: 'home-list-title truncate is-loading', dataset: { contactName: c.contact_id, testid: 'home-at-risk-link' } }, `Contact …${String(c.contact_id).slice(-6)}`),
        h('span', { class: 'home-list-meta', title: riskTitle(c) }, riskText(c) || `Silent ${nf.format(num(c.silence_days))} days`)),
      h('span', { class: 'home-list-end num', title: 'What they paid so far' }, money(c.total, currency, { whole: true })))));
    if (items.length) queueMicrotask(() => { if (!ctx.destroyed()) fillContactNames(list, { signal: ctx.signal }); });
    return [
      stats(
        stat({ label: 'At risk', value: nf.format(n), href: contactsWhere({ field: 'value.at_risk', op: 'eq', value: 1 }), sub: `of ${plural(num(summary.customers), 'customer', 'customers')}`, testid: 'widget-at-risk-count', tone: n ? 'bad' : 'good' }),
        stat({ label: 'Revenue at stake', value: money(num(summary.at_risk_revenue), currency, { whole: true }), href: '/automations/insights', sub: 'what they paid before', testid: 'widget-at-risk-revenue' })),
      items.length ? list : none('Nobody is slipping away: every repeat customer buys at their usual pace.', { testid: 'widget-at-risk-none' }),
      n > items.length ? h('p', { class: 'home-foot' }, h('a', { href: '/automations/insights' }, `All ${nf.format(n)} customers at risk`)) : null,
    ];
  },
};

// ---------------------------------------------------------------------------
// My open tasks, overdue first

const TASKS_SHOWN = 6;

function taskRecord(t) {
  if (t.deal_id) return { entity: 'deal', id: t.deal_id, href: `/deals/${encodeURIComponent(t.deal_id)}`, iconName: 'pipeline', noun: 'Deal' };
  if (t.contact_id) return { entity: 'contact', id: t.contact_id, href: `/contacts/${encodeURIComponent(t.contact_id)}`, iconName: 'user', noun: 'Contact' };
  if (t.company_id) return { entity: 'company', id: t.company_id, href: `/companies/${encodeURIComponent(t.company_id)}`, iconName: 'building', noun: 'Company' };
  return null;
}

const dealTitles = new Map();
function dealTitle(id) {
  if (!dealTitles.has(id)) {
    const p = papi.getDeal(id).then(({ deal }) => deal?.title || null).catch(() => { dealTitles.delete(id); return null; });
    dealTitles.set(id, p);
  }
  return dealTitles.get(id);
}

/** Overdue first (oldest first), then by due date; undated last. */
export function sortTasks(tasks) {
  const at = (t) => (t.due_at ? Date.parse(t.due_at) : Infinity);
  const overdue = (t) => !!relativeDue(t.due_at)?.overdue;
  return tasks.slice().sort((a, b) => (overdue(b) - overdue(a)) || (at(a) - at(b)));
}

const tasksDue = {
  key: 'tasks_due',
  title: 'My tasks',
  iconEl: () => xicon('task', { size: 16 }),
  area: 'contacts',
  href: null,
  linkLabel: null,
  blurb: 'Your open tasks, overdue ones first',
  async load({ signal }) {
    const items = [];
    let cursor;
    for (let i = 0; i < 3; i += 1) {
      const p = await crm.listActivities({ open_tasks_of: 'me', limit: 200, cursor }, { signal });
      items.push(...p.items);
      cursor = p.next_cursor;
      if (!cursor) break;
    }
    return { tasks: sortTasks(items.filter((t) => t.kind === 'task' && !t.done_at)), more: !!cursor };
  },
  render({ tasks, more }, ctx) {
    let expanded = false;
    const overdue = tasks.filter((t) => relativeDue(t.due_at)?.overdue).length;
    const today = tasks.filter((t) => relativeDue(t.due_at)?.today).length;
    const summary = h('p', { class: 'home-tasks-summary', dataset: { testid: 'widget-tasks-summary' } },
      overdue ? h('span', { class: 'home-tasks-overdue' }, `${nf.format(overdue)} overdue`) : null,
      overdue && today ? ' · ' : null,
      today ? h('span', { class: 'home-tasks-today' }, `${nf.format(today)} due today`) : null,
      overdue || today ? ' · ' : null,
      h('span', { class: 'muted' }, `${nf.format(tasks.length)}${more ? '+' : ''} open`));
    const list = h('ul', { class: 'home-list home-tasks', dataset: { testid: 'widget-tasks-list' } });
    const toggle = h('button', { type: 'button', class: 'link-button home-more', dataset: { testid: 'widget-tasks-more' }, 'aria-expanded': 'false', onclick: () => { expanded = !expanded; fill(); } });

    async function complete(t, cb) {
      cb.disabled = true;
      try {
        await crm.updateActivity(t.id, { done: true });
        if (ctx.destroyed()) return;
        toast(`“${t.subject || 'Task'}” is done.`, {
          kind: 'success', title: 'Task done', timeout: 6000,
          action: { label: 'Undo', onClick: async () => { try { await crm.updateActivity(t.id, { done: false }); if (!ctx.destroyed()) ctx.reload(); } catch (err) { toastError(err, 'Could not reopen the task'); } } },
        });
        ctx.reload();
      } catch (err) {
        cb.checked = false;
        cb.disabled = false;
        toastError(err, 'Could not complete the task');
      }
    }

    function row(t) {
      const due = relativeDue(t.due_at);
      const rec = taskRecord(t);
      const name = rec ? h('span', { class: 'home-task-record truncate' }, xicon(rec.iconName, { size: 12 }), h('span', { class: 'truncate', dataset: rec.entity === 'contact' ? { contactName: rec.id } : { recordName: `${rec.entity}:${rec.id}` } }, rec.noun)) : null;
      const cb = h('input', { type: 'checkbox', class: 'task-check', disabled: !canWrite(), 'aria-label': `Complete task: ${t.subject || 'task'}`, dataset: { testid: 'home-task-done' }, onchange: () => complete(t, cb) });
      const subject = t.subject || 'Task';
      return h('li', { class: 'home-list-row home-task', dataset: { testid: 'home-task', id: t.id, overdue: due?.overdue ? 'true' : 'false' } },
        cb,
        h('div', { class: 'home-list-main' },
          rec ? h('a', { class: 'home-list-title truncate', href: rec.href, dataset: { testid: 'home-task-link' } }, subject) : h('span', { class: 'home-list-title truncate' }, subject),
          h('span', { class: 'home-list-meta' },
            h('span', { class: ['due', due?.overdue && 'is-overdue', due?.today && 'is-today'] }, due?.text || 'No due date'),
            name ? h('span', { class: 'home-sep', 'aria-hidden': 'true' }, '·') : null, name)));
    }

    function fill() {
      const shown = expanded ? tasks : tasks.slice(0, TASKS_SHOWN);
      list.replaceChildren(...shown.map(row));
      toggle.hidden = tasks.length <= TASKS_SHOWN;
      toggle.setAttribute('aria-expanded', String(expanded));
      toggle.textContent = expanded ? 'Show fewer' : `Show all ${nf.format(tasks.length)}`;
      fillContactNames(list, { signal: ctx.signal });
      list.querySelectorAll('[data-record-name]').forEach((el) => {
        const [entity, id] = el.dataset.recordName.split(':');
        (entity === 'deal' ? dealTitle(id) : recordNameOf(entity, id)).then((n) => { if (n && !ctx.destroyed()) el.textContent = n; });
      });
    }

    if (!tasks.length) return [none('Nothing to do: no open task is assigned to you.', { testid: 'widget-tasks-none' }), list];
    fill();
    return [summary, list, h('p', { class: 'home-foot' }, toggle)];
  },
};

// ---------------------------------------------------------------------------

/** Every widget, in the order "Add widget" offers them. */
export const WIDGETS = [pipeline, forecast, leadsBySource, campaignReturn, sla, atRisk, tasksDue];
export const widgetOf = (key) => WIDGETS.find((w) => w.key === key) || null;
/** What a user sees before choosing (as the server answers then). */
export const DEFAULT_WIDGETS = ['pipeline', 'leads_by_source', 'tasks_due', 'at_risk', 'campaign_return', 'sla'];
