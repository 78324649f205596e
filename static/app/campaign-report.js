// What a campaign did, on its page once it is sending or sent: tiles (sent,
// delivered, opened, clicked, unsubscribed, bounced, with their rates), opens
// and clicks per hour (svg-charts.js, with its table toggle), the A/B subject
// test with the winner marked, recipients skipped by reason, and the newest
// messages (to, subject, status) with a preview of each in a sandboxed frame.

import { h, mount, icon, openModal } from './ui.js';
import * as capi from './campaigns-api.js';
import { chartFigure, columnChart, dataTableOf } from './svg-charts.js';
import { pct, nf, cicon, formatInZone } from './campaign-display.js';

const SKIP_REASONS = {
  unsubscribed: ['Email consent withdrawn', 'They unsubscribed or withdrew consent'],
  suppressed: ['Address suppressed', 'Bounced, complained, or suppressed by hand'],
  no_email: ['No email address', 'The contact has no address to send to'],
};

const MESSAGE_STATUS = {
  queued: 'Queued', captured: 'Captured', sent: 'Sent', failed: 'Failed',
};

/** "Dec 6, 8:33 PM" in the campaign's zone. */
function shortTime(iso, tz) {
  try {
    return new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: tz || undefined }).format(new Date(iso));
  } catch {
    return String(iso);
  }
}

function tile(label, value, sub, testid, { tone } = {}) {
  return h('div', { class: ['report-tile', 'cp-tile', tone && `cp-tile-${tone}`], dataset: { testid } },
    h('div', { class: 'tile-label' }, label),
    h('div', { class: 'tile-value num', dataset: { testid: `${testid}-value` } }, value),
    sub ? h('div', { class: 'tile-sub muted' }, sub) : null);
}

/** Hourly buckets from the first to the last (gaps as zeros), or days when that is long. */
function buckets(series, tz) {
  const points = (series || []).map((s) => ({ t: new Date(s.hour).getTime(), opens: Number(s.opens) || 0, clicks: Number(s.clicks) || 0 }))
    .filter((p) => Number.isFinite(p.t)).sort((a, b) => a.t - b.t);
  if (!points.length) return [];
  const HOUR = 3600_000;
  const span = (points[points.length - 1].t - points[0].t) / HOUR;
  const step = span > 96 ? 24 * HOUR : HOUR;
  const start = step === HOUR ? points[0].t : Math.floor(points[0].t / step) * step;
  const out = [];
  const n = Math.min(400, Math.floor((points[points.length - 1].t - start) / step) + 1);
  for (let i = 0; i < n; i += 1) out.push({ t: start + i * step, opens: 0, clicks: 0 });
  for (const p of points) {
    const i = Math.min(out.length - 1, Math.floor((p.t - start) / step));
    out[i].opens += p.opens;
    out[i].clicks += p.clicks;
  }
  const fmt = new Intl.DateTimeFormat(undefined, step === HOUR
    ? { month: 'short', day: 'numeric', hour: 'numeric', timeZone: tz || undefined }
    : { month: 'short', day: 'numeric', timeZone: tz || undefined });
  return out.map((b) => ({ ...b, label: fmt.format(new Date(b.t)) }));
}

/** campaignReport({ campaign }) → { el, refresh(campaign), destroy() } */
export function campaignReport({ campaign: initial }) {
  const state = { campaign: initial, destroyed: false, controller: null, stats: null, messages: [] };
  const tiles = h('div', { class: 'report-tiles cp-tiles', dataset: { testid: 'campaign-stats' }, 'aria-busy': 'true' },
    Array.from({ length: 6 }, () => h('div', { class: 'report-tile', 'aria-hidden': 'true' },
      h('span', { class: 'skeleton skeleton-text', style: { width: '50%' } }), h('span', { class: 'skeleton skeleton-text', style: { width: '40%', height: '22px', marginTop: '10px' } }))));
  const note = h('p', { class: 'muted cp-report-note', dataset: { testid: 'campaign-stats-note' } });
  const chartCard = h('section', { class: 'card report-card cp-chart-card', dataset: { testid: 'campaign-chart-card' } });
  const abCard = h('section', { class: 'card report-card report-wide', hidden: true, dataset: { testid: 'campaign-ab' } });
  const skippedCard = h('section', { class: 'card report-card', dataset: { testid: 'campaign-skipped' } });
  const messagesCard = h('section', { class: 'card report-card report-wide cp-messages-card', dataset: { testid: 'campaign-messages' } });
  const el = h('div', { class: 'cp-report' },
    h('h2', { class: 'cp-section-title' }, cicon('chart', { size: 16 }), 'Results'),
    tiles, note,
    h('div', { class: 'report-grid cp-report-grid' }, chartCard, skippedCard, abCard, messagesCard));

  function renderTiles(s) {
    tiles.setAttribute('aria-busy', 'false');
    const delivered = Number(s.delivered) || 0;
    mount(tiles,
      tile('Sent', nf.format(s.sent || 0), `${nf.format(s.queued || 0)} queued${s.waiting ? ` · ${nf.format(s.waiting)} waiting` : ''}`, 'stat-sent'),
      tile('Delivered', nf.format(delivered), s.sent ? `${pct(delivered / s.sent)} of sent` : 'Nothing sent yet', 'stat-delivered'),
      tile('Opened', nf.format(s.opened || 0), delivered ? `${pct(s.open_rate)} open rate` : '—', 'stat-opened', { tone: s.opened ? 'good' : null }),
      tile('Clicked', nf.format(s.clicked || 0), delivered ? `${pct(s.click_rate)} click rate` : '—', 'stat-clicked', { tone: s.clicked ? 'good' : null }),
      tile('Unsubscribed', nf.format(s.unsubscribed || 0), delivered ? `${pct(s.unsubscribe_rate)} of delivered` : '—', 'stat-unsubscribed'),
      tile('Bounced', nf.format(s.bounced || 0), s.sent ? `${pct(s.bounce_rate)} of sent${s.complained ? ` · ${nf.format(s.complained)} complained` : ''}` : '—', 'stat-bounced', { tone: s.bounced ? 'bad' : null }));
    const bits = [];
    if (s.automated_opens) bits.push(`${nf.format(s.automated_opens)} ${s.automated_opens === 1 ? 'open or click' : 'opens and clicks'} by mail scanners not counted`);
    if (s.failed) bits.push(`${nf.format(s.failed)} failed after retries`);
    bits.push('Rates are of delivered mail; without a mail provider, captured messages count as delivered');
    note.textContent = `${bits.join(' · ')}.`;
  }

  function renderChart(s) {
    const c = state.campaign;
    chartCard.__fig?.__disconnect?.();
    const b = buckets(s.series, c.time_zone);
    const fig = chartFigure({
      title: 'Opens and clicks over time',
      desc: `Human opens and clicks per ${b.length > 1 && b[1].t - b[0].t > 3600_000 ? 'day' : 'hour'}, in ${c.time_zone}. ${b.map((x) => `${x.label}: ${x.opens} opens, ${x.clicks} clicks`).join('; ')}.`,
      testid: 'campaign-chart',
      legend: [{ label: 'Opens', cls: 'chart-s1' }, { label: 'Clicks', cls: 'chart-s2' }],
      empty: b.length ? null : 'No opens or clicks yet. They appear here hour by hour as recipients read.',
      draw: columnChart({
        categories: b.map((x) => x.label),
        series: [{ label: 'Opens', cls: 'chart-s1', values: b.map((x) => x.opens) }, { label: 'Clicks', cls: 'chart-s2', values: b.map((x) => x.clicks) }],
        format: (v) => nf.format(v), axis: (v) => nf.format(v), height: 220,
      }),
      table: () => dataTableOf('Opens and clicks over time', [['When'], ['Opens', 'end'], ['Clicks', 'end']], b.map((x) => [x.label, nf.format(x.opens), nf.format(x.clicks)])),
    });
    chartCard.__fig = fig;
    mount(chartCard, fig, h('p', { class: 'muted cp-chart-note' }, `Times in ${c.time_zone.replace(/_/g, ' ')}.`));
  }

  function renderAb(s) {
    const c = state.campaign;
    const v = s.variants || {};
    if (!c.ab && !v.b) { abCard.hidden = true; return; }
    abCard.hidden = false;
    const metric = c.ab?.metric === 'clicks' ? 'clicks' : 'opens';
    const winner = c.ab_winner;
    const row = (key, subject) => {
      const x = v[key] || {};
      const won = winner === key;
      return h('tr', { class: won ? 'cp-ab-won' : null, dataset: { testid: `campaign-ab-${key}`, variant: key } },
        h('th', { scope: 'row' }, h('span', { class: 'cp-variant' }, key.toUpperCase()),
          won ? h('span', { class: 'cp-winner', dataset: { testid: 'campaign-ab-winner' } }, cicon('trophy', { size: 12 }), 'Winner') : null),
        h('td', { class: 'cp-ab-subject' }, subject || '—'),
        h('td', { class: 'align-end num' }, nf.format(x.sent || 0)),
        h('td', { class: ['align-end', 'num', metric === 'opens' && 'cp-ab-metric'] }, x.delivered ? pct(x.open_rate) : '—'),
        h('td', { class: ['align-end', 'num', metric === 'clicks' && 'cp-ab-metric'] }, x.delivered ? pct(x.click_rate) : '—'));
    };
    let status;
    if (winner) status = `Subject ${winner.toUpperCase()} won on ${metric}${c.status === 'sent' ? ' and went to everyone else' : ''}.`;
    else if (c.ab_decide_at) status = `The winner is picked by ${metric} ${formatInZone(c.ab_decide_at, c.time_zone)}; the rest of the audience waits until then.`;
    else status = `${c.ab?.sample_percent ?? '—'}% of the audience gets A or B; after ${c.ab?.wait_minutes ?? '—'} minutes the subject with more ${metric} goes to the rest.`;
    mount(abCard,
      h('h3', { class: 'chart-title cp-card-h' }, cicon('flask', { size: 15 }), 'A/B subject test'),
      h('p', { class: 'muted cp-ab-status', dataset: { testid: 'campaign-ab-status' } }, status),
      h('div', { class: 'table-wrap cp-inner-table' }, h('table', { class: 'data-table chart-data cp-ab-table' },
        h('caption', { class: 'visually-hidden' }, 'A/B test variants'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Variant'), h('th', { scope: 'col' }, 'Subject'),
          h('th', { scope: 'col', class: 'align-end' }, 'Sent'), h('th', { scope: 'col', class: 'align-end' }, 'Opens'), h('th', { scope: 'col', class: 'align-end' }, 'Clicks'))),
        h('tbody', null, row('a', c.subject), row('b', c.ab?.subject_b)))));
  }

  function renderSkipped(s) {
    const skipped = s.skipped && typeof s.skipped === 'object' ? s.skipped : {};
    const entries = Object.entries(skipped).filter(([, n]) => Number(n) > 0);
    const total = entries.reduce((a, [, n]) => a + Number(n), 0);
    mount(skippedCard,
      h('h3', { class: 'chart-title cp-card-h' }, cicon('skip', { size: 15 }), 'Skipped', total ? h('span', { class: 'muted card-count' }, ` ${nf.format(total)}`) : null),
      total
        ? h('ul', { class: 'cp-skipped-list' }, entries.map(([reason, n]) => {
          const [label, sub] = SKIP_REASONS[reason] || [reason, ''];
          return h('li', { dataset: { testid: 'campaign-skipped-reason', reason } },
            h('div', null, h('div', { class: 'cp-skip-label' }, label), sub ? h('div', { class: 'muted cp-skip-sub' }, sub) : null),
            h('strong', { class: 'num' }, nf.format(Number(n))));
        }))
        : h('p', { class: 'muted' }, 'Nobody in the audience was skipped.'),
      h('p', { class: 'muted cp-skip-note' }, 'Consent and suppressions are checked as each batch goes out, whatever the segment says.'));
  }

  function messageStatus(m) {
    const label = MESSAGE_STATUS[m.status] || m.status || '—';
    return h('span', { class: ['cp-msg-status', `cp-msg-${m.status}`], dataset: { testid: 'message-status', status: m.status } }, label);
  }

  function renderMessages(list) {
    const c = state.campaign;
    const ab = !!(c.ab || list.some((m) => m.variant && m.variant !== 'a'));
    const tbody = h('tbody', {
      onclick: (e) => {
        const tr = e.target.closest('tr[data-id]');
        if (tr && !e.target.closest('button, a')) tr.querySelector('[data-testid="message-open"]')?.click();
      },
    }, list.map((m) => h('tr', { dataset: { testid: 'message-row', id: m.id, messageId: m.id } },
      h('td', { class: 'mcol-to' }, h('span', { class: 'truncate', title: m.to || '' }, m.to || '—')),
      h('td', { class: 'mcol-subject' }, h('button', {
        type: 'button', class: 'link-button cp-msg-open truncate', dataset: { testid: 'message-open' }, onclick: () => openMessage(m, { ab }),
        title: `Preview the message to ${m.to || 'this recipient'}`,
      }, m.subject || '(no subject)'),
        h('div', { class: 'cell-sub' }, m.to || '')),
      ab ? h('td', { class: 'mcol-variant' }, m.variant ? h('span', { class: 'cp-variant' }, String(m.variant).toUpperCase()) : '—') : null,
      h('td', { class: 'mcol-status' }, messageStatus(m)),
      h('td', { class: 'mcol-time muted' }, m.created_at ? h('time', { datetime: m.created_at, title: formatInZone(m.created_at, c.time_zone) }, shortTime(m.created_at, c.time_zone)) : '—'))));
    mount(messagesCard,
      h('div', { class: 'cp-card-head' },
        h('h3', { class: 'chart-title cp-card-h' }, icon('mail', { size: 15 }), 'Messages', h('span', { class: 'muted card-count' }, ` ${nf.format(list.length)}${list.length >= 200 ? '+' : ''}`)),
        h('span', { class: 'muted cp-msg-hint' }, list.length >= 200 ? 'The newest 200. ' : '', 'Open one to see exactly what was sent.')),
      list.length
        ? h('div', { class: 'table-wrap cp-inner-table' }, h('table', { class: 'data-table cp-messages-table' },
          h('caption', { class: 'visually-hidden' }, 'Messages of this campaign'),
          h('colgroup', null, ['mcol-to', 'mcol-subject', ab ? 'mcol-variant' : null, 'mcol-status', 'mcol-time'].filter(Boolean).map((x) => h('col', { class: x }))),
          h('thead', null, h('tr', null,
            h('th', { scope: 'col', class: 'mcol-to' }, 'To'), h('th', { scope: 'col', class: 'mcol-subject' }, 'Subject'),
            ab ? h('th', { scope: 'col', class: 'mcol-variant' }, 'Variant') : null, h('th', { scope: 'col', class: 'mcol-status' }, 'Status'),
            h('th', { scope: 'col', class: 'mcol-time' }, 'Queued'))),
          tbody))
        : h('p', { class: 'muted' }, c.status === 'sending' ? 'Messages appear here as batches go out.' : 'No messages were sent.'));
  }

  async function refresh(campaign) {
    if (campaign) state.campaign = campaign;
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    const id = state.campaign.id;
    const [stats, messages] = await Promise.all([
      capi.campaignStats(id, { signal: controller.signal }).then((d) => ({ d }), (err) => ({ err })),
      capi.campaignMessages(id, { signal: controller.signal }).then((d) => ({ d }), (err) => ({ err })),
    ]);
    if (state.destroyed || controller.signal.aborted) return;
    if (stats.d) {
      state.stats = stats.d;
      renderTiles(stats.d);
      renderChart(stats.d);
      renderAb(stats.d);
      renderSkipped(stats.d);
    } else if (stats.err && stats.err.name !== 'AbortError') {
      mount(tiles, h('div', { class: 'inline-error', role: 'alert' }, icon('alert'),
        h('div', null, h('strong', null, stats.err.title || 'Could not load the numbers'), ' ', stats.err.detail || stats.err.message)));
    }
    if (messages.d) { state.messages = messages.d; renderMessages(messages.d); }
  }

  refresh();
  return {
    el,
    refresh,
    destroy() { state.destroyed = true; state.controller?.abort(); chartCard.__fig?.__disconnect?.(); },
  };
}

/**
 * A sent message's HTML for looking at it here: without its open pixel (or
 * viewing it would count as the recipient opening it). Its tracked links
 * cannot be followed either: the frame's sandbox allows no popups, and every
 * link targets a new window.
 */
function viewable(html) {
  return String(html || '').replace(/<img\b[^>]*\/api\/v1\/mail\/o\/[^>]*>/gi, '');
}

/** A sent message as its recipient got it: HTML in a sandboxed frame, the text part, headers. */
export function openMessage(m, { ab = false } = {}) {
  const frame = h('iframe', { class: 'cp-frame cp-frame-dialog', sandbox: '', title: `Message to ${m.to}`, referrerpolicy: 'no-referrer', dataset: { testid: 'message-frame' } });
  frame.srcdoc = `<meta charset="utf-8"><base target="_blank"><style>html{background:#fff;color:#111;font:14px/1.5 system-ui,sans-serif}body{margin:12px}img{max-width:100%}</style>${m.html ? viewable(m.html) : `<pre style="white-space:pre-wrap">${String(m.text || '').replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[ch])}</pre>`}`;
  const textPane = h('pre', { class: 'cp-text-preview', hidden: true }, m.text || '');
  const headers = m.headers && typeof m.headers === 'object' ? Object.entries(m.headers) : [];
  const headPane = h('dl', { class: 'cp-headers', hidden: true },
    headers.length ? headers.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, h('code', null, String(v))))) : h('p', { class: 'muted' }, 'No extra headers.'));
  const panes = { html: frame, text: textPane, headers: headPane };
  const sw = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Show' },
    [['html', 'HTML'], ['text', 'Plain text'], ['headers', 'Headers']].map(([v, l]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === 'html'), dataset: { pane: v },
      onclick: () => {
        sw.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.pane === v)));
        Object.entries(panes).forEach(([k, el]) => { el.hidden = k !== v; });
      },
    }, l)));
  const dialog = h('dialog', { class: 'dialog cp-message-dialog', 'aria-labelledby': 'cp-msg-title', dataset: { testid: 'message-preview' } },
    h('header', { class: 'dialog-header' },
      h('h2', { id: 'cp-msg-title' }, 'Message'),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', autofocus: true, onclick: () => dialog.close() }, icon('x'))),
    h('div', { class: 'dialog-body' },
      h('dl', { class: 'cp-preview-meta' },
        h('div', null, h('dt', null, 'To'), h('dd', null, m.to || '—')),
        h('div', null, h('dt', null, 'Subject'), h('dd', null, h('strong', { dataset: { testid: 'message-subject' } }, m.subject || '—'))),
        h('div', null, h('dt', null, 'Status'), h('dd', null, MESSAGE_STATUS[m.status] || m.status || '—', ab && m.variant ? ` · subject ${String(m.variant).toUpperCase()}` : ''))),
      sw,
      h('div', { class: 'cp-frame-wrap' }, frame, textPane, headPane)));
  openModal(dialog);
  return dialog;
}

