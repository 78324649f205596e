// The "Customer value" card on contact pages (GET /insights/customers/{id}):
// the segment, an at-risk badge with the silence against the customer's
// usual interval (between purchases, or between calls, meetings and emails),
// recency / frequency / money scores (1–5) as small meters, what they paid so
// far (orders and won deals) and the projection for the next three years,
// then the last purchase and the last contact. A contact who never bought
// gets a line saying so.

import { h, mount, timeEl } from './ui.js';
import * as fapi from './automations-api.js';
import {
  segmentBadge, segmentOf, riskBadge, shopCurrency, money, nf, purchasesOf, purchasesText, touchLine, valueCardShell, valueCardError,
} from './insight-display.js';

const SCORES = [
  ['r', 'Recency', 'How lately they bought'],
  ['f', 'Frequency', 'How often they buy'],
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
  const { card, body } = valueCardShell({ testid: 'contact-value-card', idPrefix: 'cvc' });

  Promise.all([fapi.customerValue(record.id), shopCurrency()]).then(([c, cur]) => {
    body.setAttribute('aria-busy', 'false');
    if (!purchasesOf(c)) {
      card.dataset.state = 'none';
      mount(body, h('p', { class: 'muted in-card-none', dataset: { testid: 'contact-value-none' } },
        'No purchases yet: the scores, lifetime value and churn risk appear with a first order or won deal.'));
      return;
    }
    card.dataset.state = c.at_risk ? 'at-risk' : 'ok';
    const seg = segmentOf(c.segment);
    const lastPurchase = c.last_purchase_at ?? c.last_order_at;
    const touches = touchLine(c, 'contact-value-touches');
    mount(body,
      h('div', { class: 'in-card-top' },
        segmentBadge(c.segment, 'contact-value-segment'),
        h('span', { class: 'muted in-card-seg-text' }, seg.text)),
      riskBadge(c, 'contact-value-risk'),
      h('dl', { class: 'in-card-money' },
        h('div', null, h('dt', null, 'Paid so far'), h('dd', { class: 'num', dataset: { testid: 'contact-value-clv' } }, money(c.clv ?? c.total, cur)),
          h('dd', { class: 'muted in-card-sub', dataset: { testid: 'contact-value-purchases' } }, purchasesText(c))),
        h('div', null, h('dt', null, 'Next 3 years'), h('dd', { class: 'num', dataset: { testid: 'contact-value-projected' } }, money(c.projected_clv, cur, { whole: true })),
          h('dd', { class: 'muted in-card-sub' }, c.at_risk ? 'Halved while at risk' : 'At their pace so far'))),
      h('ul', { class: 'in-scores', 'aria-label': `RFM score ${c.rfm}` }, SCORES.map(([k, label, hint]) => meter(k, label, hint, c[k]))),
      h('p', { class: 'muted in-card-foot' },
        'RFM ', h('strong', { class: 'num', dataset: { testid: 'contact-value-rfm' } }, String(c.rfm ?? '—')),
        lastPurchase ? [' · last purchase ', timeEl(lastPurchase)] : null,
        c.usual_interval_days != null && !c.at_risk ? ` · buys every ${nf.format(c.usual_interval_days)} days or so` : null),
      touches ? h('p', { class: 'muted in-card-foot in-card-touch' }, touches) : null);
  }).catch((err) => valueCardError(card, body, err, 'customer value'));
  return card;
}
