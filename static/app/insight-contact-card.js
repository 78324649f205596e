// The "Customer value" card on contact pages (GET /insights/customers/{id}):
// the segment, an at-risk badge with the silence against the customer's
// usual interval between orders, recency / frequency / money scores (1–5)
// as small meters, what they paid so far and the projection for the next
// three years. A contact who never ordered gets a line saying so.

import { h, mount, timeEl } from './ui.js';
import * as fapi from './automations-api.js';
import { segmentBadge, segmentOf, riskBadge, shopCurrency, money, nf } from './insight-display.js';

let uid = 0;

const SCORES = [
  ['r', 'Recency', 'How lately they ordered'],
  ['f', 'Frequency', 'How often they order'],
  ['m', 'Money', 'How much they spend'],
];

function meter(key, label, hint, score) {
  const n = Math.max(0, Math.min(5, Number(score) || 0));
  return h('li', { class: 'in-score', dataset: { testid: `contact-value-${key}`, score: String(n) }, title: `${hint}: ${n} of 5 (5 is best, by fifths of your customers)` },
    h('span', { class: 'in-score-label' }, label),
    h('span', { class: 'in-meter', role: 'img', 'aria-label': `${label} ${n} of 5` },
      [1, 2, 3, 4, 5].map((i) => h('span', { class: ['in-meter-step', i <= n && 'is-on'] }))),
    h('span', { class: 'num in-score-n', 'aria-hidden': 'true' }, String(n)));
}

/** customerValueCard({ record }) → <section> */
export function customerValueCard({ record }) {
  const titleId = `cvc${++uid}-title`;
  const body = h('div', { class: 'in-card-body', 'aria-busy': 'true' },
    [50, 80, 65].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '8px 0' } })));
  const card = h('section', { class: 'card side-card in-value-card', 'aria-labelledby': titleId, dataset: { testid: 'contact-value-card' } },
    h('div', { class: 'card-head' },
      h('h2', { id: titleId, class: 'card-title' }, 'Customer value'),
      h('a', { class: 'btn btn-sm', href: '/automations/insights', title: 'Every customer’s value, segments and who is slipping away' }, 'Insights')),
    body);

  Promise.all([fapi.customerValue(record.id), shopCurrency()]).then(([c, cur]) => {
    body.setAttribute('aria-busy', 'false');
    if (!Number(c?.orders)) {
      card.dataset.state = 'none';
      mount(body, h('p', { class: 'muted in-card-none', dataset: { testid: 'contact-value-none' } },
        'No orders yet: the scores, lifetime value and churn risk appear with a first order.'));
      return;
    }
    card.dataset.state = c.at_risk ? 'at-risk' : 'ok';
    const seg = segmentOf(c.segment);
    mount(body,
      h('div', { class: 'in-card-top' },
        segmentBadge(c.segment, 'contact-value-segment'),
        h('span', { class: 'muted in-card-seg-text' }, seg.text)),
      riskBadge(c, 'contact-value-risk'),
      h('dl', { class: 'in-card-money' },
        h('div', null, h('dt', null, 'Paid so far'), h('dd', { class: 'num', dataset: { testid: 'contact-value-clv' } }, money(c.clv ?? c.total, cur)),
          h('dd', { class: 'muted in-card-sub' }, `${nf.format(c.orders)} ${c.orders === 1 ? 'order' : 'orders'}`)),
        h('div', null, h('dt', null, 'Next 3 years'), h('dd', { class: 'num', dataset: { testid: 'contact-value-projected' } }, money(c.projected_clv, cur, { whole: true })),
          h('dd', { class: 'muted in-card-sub' }, c.at_risk ? 'Halved while at risk' : 'At their pace so far'))),
      h('ul', { class: 'in-scores', 'aria-label': `RFM score ${c.rfm}` }, SCORES.map(([k, label, hint]) => meter(k, label, hint, c[k]))),
      h('p', { class: 'muted in-card-foot' },
        'RFM ', h('strong', { class: 'num', dataset: { testid: 'contact-value-rfm' } }, String(c.rfm ?? '—')),
        c.last_order_at ? [' · last order ', timeEl(c.last_order_at)] : null,
        c.usual_interval_days != null && !c.at_risk ? ` · orders every ${nf.format(c.usual_interval_days)} days or so` : null));
  }).catch((err) => {
    body.setAttribute('aria-busy', 'false');
    card.dataset.state = 'error';
    mount(body, h('p', { class: 'muted' }, err?.status === 403 ? 'Your role cannot see customer values.' : 'Customer value could not be loaded.'));
    if (err?.status && err.status !== 403 && err.status !== 404 && !err.handled) console.warn('customer value unavailable', err);
  });
  return card;
}
