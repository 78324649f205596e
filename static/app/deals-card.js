// The "Deals" card on contact and company pages: their open deals (value and
// stage) and a "New deal" button prefilled with the contact or company.

import { h, mount, icon, toastError } from './ui.js';
import * as papi from './pipeline-api.js';
import { contactName } from './records.js';
import { moneyEl, closeDateEl, staleBadge, rememberName } from './deal-display.js';
import { openDealForm } from './deal-form.js';
import { canEditPipeline } from './pipeline-board.js';

/**
 * dealsCard({ entity: 'contact' | 'company', record })
 * → <section>
 */
export function dealsCard({ entity, record }) {
  const key = entity === 'company' ? 'company_id' : 'contact_id';
  const titleId = `${entity}-deals-title`;
  const list = h('ul', { class: 'side-list deal-side-list' });
  const count = h('span', { class: 'muted card-count' });
  const note = h('p', { class: 'muted', hidden: true });
  const more = h('a', { class: 'card-foot-link', hidden: true }, 'All deals');
  const add = canEditPipeline() ? h('button', {
    type: 'button', class: 'btn btn-sm', dataset: { testid: `${entity}-new-deal` },
    onclick: () => {
      const initial = entity === 'company'
        ? { company_id: record.id, company_name: record.name }
        : { contact_id: record.id, contact_name: contactName(record), company_id: record.company_id || null, company_name: record.company || null };
      if (initial.company_id && initial.company_name) rememberName('company', initial.company_id, initial.company_name);
      openDealForm({ initial, onSaved: (d) => { if (d?.status === 'open') { list.prepend(item(d, true)); n += 1; update(); } } });
    },
  }, icon('plus', { size: 14 }), 'New deal') : null;

  const card = h('section', { class: 'card side-card deals-card', 'aria-labelledby': titleId, dataset: { testid: `${entity}-deals` } },
    h('div', { class: 'card-head' }, h('h2', { id: titleId, class: 'card-title' }, 'Deals ', count), add),
    h('div', { class: 'deal-side-loading' }, [60, 40].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '8px 0' } }))),
    list, note, more);

  let n = 0;
  let stageNames = new Map();
  function update() {
    count.textContent = n ? String(n) : '';
    note.hidden = n > 0;
    note.textContent = entity === 'company' ? 'No open deals with this company.' : 'No open deals with this contact.';
  }

  function item(d, fresh = false) {
    const stage = stageNames.get(d.stage_id);
    return h('li', { class: ['side-item', 'deal-side-item', fresh && 'tl-fresh'], dataset: { testid: 'related-deal', dealId: d.id } },
      h('div', { class: 'side-item-text' },
        h('a', { href: `/deals/${encodeURIComponent(d.id)}` }, d.title || 'Untitled deal'),
        h('div', { class: 'muted side-sub' },
          stage ? h('span', { dataset: { testid: 'related-deal-stage' } }, stage.name) : null,
          stage ? ' · ' : null,
          closeDateEl(d, { withIcon: false }) || 'No close date',
          staleBadge(d, stage))),
      moneyEl(d.value, d.currency, { cls: 'deal-side-value', testid: 'related-deal-value' }));
  }

  Promise.all([
    papi.listDeals({ [key]: record.id, status: 'open', limit: 10, sort: 'expected_close' }),
    papi.pipelines().catch(() => []),
  ]).then(([p, pipelines]) => {
    stageNames = new Map(pipelines.flatMap((pl) => pl.stages.map((s) => [s.id, { ...s, pipeline: pl.name }])));
    card.querySelector('.deal-side-loading')?.remove();
    mount(list, p.items.map((d) => item(d)));
    n = p.items.length;
    if (p.next_cursor) {
      more.hidden = false;
      more.textContent = 'More open deals in the pipeline list';
      more.href = '/pipeline?view=list';
    }
    update();
  }).catch((err) => {
    card.querySelector('.deal-side-loading')?.remove();
    note.hidden = false;
    note.textContent = err?.status === 403 ? 'Your role cannot see deals.' : 'Deals could not be loaded.';
    if (err?.status !== 403 && err?.status !== 404 && !err?.handled) toastError(err, 'Could not load the deals');
  });
  return card;
}
