// The "Customer value" card on company pages (GET /insights/companies/{id}):
// the company's people who bought added up — what they paid so far (orders
// and won deals) and the projection for the next three years, how many of
// them are customers and how many are at risk, the first and last purchase —
// then the most valuable of them (up to ten: name, segment, value, at-risk
// mark). A company where nobody bought gets a line saying so.

import { h, mount, timeEl } from './ui.js';
import * as fapi from './automations-api.js';
import {
  segmentBadge, riskDot, riskText, shopCurrency, money, nf, purchasesShort, contactLink, fillContactNames, valueCardShell, valueCardError,
} from './insight-display.js';

function person(c, cur) {
  const risk = c.at_risk ? riskText(c, { short: true }) : '';
  return h('li', { class: ['in-co-person', c.at_risk && 'is-at-risk'], dataset: { testid: 'company-value-person', contactId: c.contact_id, atRisk: c.at_risk ? 'true' : 'false' } },
    h('div', { class: 'in-co-person-main' },
      h('div', { class: 'in-co-person-name' }, contactLink(c.contact_id, 'company-value-person-link'), riskDot(c, 'company-value-person-risk')),
      h('div', { class: 'in-co-person-sub muted' }, segmentBadge(c.segment, 'company-value-person-segment'),
        h('span', { class: 'truncate', title: risk ? riskText(c) : null }, risk || purchasesShort(c)))),
    h('span', { class: 'num in-co-person-value', title: `Paid so far; ${money(c.projected_clv, cur, { whole: true })} in the next 3 years` }, money(c.clv ?? c.total, cur, { whole: true })));
}

/** companyValueCard({ record }) → <section> */
export function companyValueCard({ record }) {
  const { card, body } = valueCardShell({ testid: 'company-value-card', idPrefix: 'cov' });

  Promise.all([fapi.companyValue(record.id), shopCurrency()]).then(([v, cur]) => {
    body.setAttribute('aria-busy', 'false');
    const customers = Number(v?.customers) || 0;
    if (!customers) {
      card.dataset.state = 'none';
      mount(body, h('p', { class: 'muted in-card-none', dataset: { testid: 'company-value-empty' } },
        'Nobody at this company has bought yet: their value and churn risk appear with a first order or won deal.'));
      return;
    }
    const atRisk = Number(v.at_risk) || 0;
    const people = Array.isArray(v.people) ? v.people : [];
    card.dataset.state = atRisk ? 'at-risk' : 'ok';
    const list = h('ul', { class: 'in-co-people', 'aria-label': 'Most valuable customers at this company' }, people.map((c) => person(c, cur)));
    mount(body,
      h('dl', { class: 'in-card-money' },
        h('div', null, h('dt', null, 'Paid so far'), h('dd', { class: 'num', dataset: { testid: 'company-value-total' } }, money(v.clv ?? v.total, cur)),
          h('dd', { class: 'muted in-card-sub' }, `${nf.format(Number(v.purchases) || 0)} ${Number(v.purchases) === 1 ? 'purchase' : 'purchases'}`)),
        h('div', null, h('dt', null, 'Next 3 years'), h('dd', { class: 'num', dataset: { testid: 'company-value-projected' } }, money(v.projected_clv, cur, { whole: true })),
          h('dd', { class: 'muted in-card-sub' }, atRisk ? 'Halved for those at risk' : 'At their pace so far'))),
      h('p', { class: 'in-co-counts' },
        h('span', { dataset: { testid: 'company-value-customers', count: String(customers) }, title: 'People at this company with an order or a won deal' },
          h('strong', { class: 'num' }, nf.format(customers)), customers === 1 ? ' customer' : ' customers'),
        h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'),
        h('span', { class: ['in-co-risk', atRisk ? 'in-bad' : 'muted'], dataset: { testid: 'company-value-at-risk', count: String(atRisk) }, title: 'Customers who went quiet for longer than usual' },
          h('strong', { class: 'num' }, nf.format(atRisk)), ' at risk')),
      v.first_purchase_at || v.last_purchase_at ? h('p', { class: 'muted in-card-foot' },
        v.first_purchase_at ? ['First purchase ', timeEl(v.first_purchase_at)] : null,
        v.first_purchase_at && v.last_purchase_at ? ' · ' : null,
        v.last_purchase_at ? [v.first_purchase_at ? 'last ' : 'Last purchase ', timeEl(v.last_purchase_at)] : null) : null,
      people.length ? list : null,
      customers > people.length ? h('p', { class: 'muted in-card-foot' }, `The ${nf.format(people.length)} most valuable of ${nf.format(customers)} customers.`) : null);
    if (people.length) fillContactNames(list);
  }).catch((err) => valueCardError(card, body, err, 'customer value'));
  return card;
}
