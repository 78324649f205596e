// Company page: header, profile, its contacts, timeline with composer, next
// task, open deals, customer value (its people who bought, added up), and
// related companies (parent and subsidiaries).

import { h, mount, icon, toastError } from './ui.js';
import * as crm from './crm-api.js';
import {
  avatar, tagChips, ownerCell, formatCustom, labelize, recordHref, externalLink, stageBadge, contactName, xicon,
} from './records.js';
import { recordPageView, prop, cardSection, metaLine, rememberRecord } from './record-page.js';
import { openCreateCompany } from './company-list.js';
import { openCreateContact } from './contact-list.js';
import { dealsCard } from './deals-card.js';
import { companyValueCard } from './insight-company-card.js';

function addressBlock(a) {
  if (!a) return null;
  const lines = [a.street, [a.postal_code, a.city].filter(Boolean).join(' '), a.region, a.country].filter(Boolean);
  return lines.length ? h('address', { class: 'address' }, lines.map((l, i) => [i ? h('br') : null, l])) : null;
}

function domainList(c) {
  const list = c.domains?.length ? c.domains : c.domain ? [c.domain] : [];
  if (!list.length) return null;
  return h('ul', { class: 'value-list' }, list.map((d, i) => h('li', null, externalLink(d, d),
    i === 0 && list.length > 1 ? h('span', { class: 'primary-badge' }, 'Primary') : null)));
}

function parentLink(id) {
  if (!id) return null;
  const a = h('a', { href: recordHref('company', id) }, 'Loading…');
  crm.companyById(id).then((p) => { a.textContent = p?.name || 'Unnamed company'; }).catch(() => { a.textContent = 'Not available'; });
  return a;
}

function profile(c, ctx) {
  const defs = ctx.defs;
  return h('section', { class: 'card profile-card', 'aria-label': 'Profile', dataset: { testid: 'company-profile' } },
    cardSection('Details',
      h('dl', { class: 'props' },
        prop('Domains', domainList(c), { iconName: 'globe', testid: 'company-domains' }),
        prop('Industry', c.industry || null, { testid: 'company-industry' }),
        prop('Size', c.size ? `${c.size} employees` : null, { testid: 'company-size' }),
        prop('Phone', c.phone ? h('a', { href: `tel:${c.phone.replace(/[^\d+]/g, '')}`, class: 'num' }, c.phone) : null, { iconName: 'phone' }),
        prop('Website', c.website ? externalLink(c.website) : null, { iconName: 'link' }),
        prop('Parent', parentLink(c.parent_id), { iconName: 'building' }),
        prop('Owner', ownerCell(c.owner_id)),
        prop('Tags', c.tags?.length ? tagChips(c.tags) : null, { iconName: 'tag' }),
        c.external_id ? prop('External ID', h('code', null, c.external_id)) : null)),
    cardSection('Address', addressBlock(c.address) || h('p', { class: 'muted' }, 'No address')),
    defs.length ? cardSection('Custom fields',
      h('dl', { class: 'props', dataset: { testid: 'custom-fields' } }, defs.map((d) => prop(d.label || labelize(d.key), formatCustom(d, c.custom?.[d.key]), { testid: `custom-${d.key}` })))) : null,
    metaLine(c));
}

/** The company's people, 25 at a time. */
function contactsCard(c) {
  let cursor = null;
  let loaded = 0;
  const tbody = h('tbody');
  const count = h('span', { class: 'muted card-count' });
  const more = h('button', { type: 'button', class: 'btn btn-sm', hidden: true, onclick: () => load() }, 'Show more');
  const emptyNote = h('p', { class: 'muted', hidden: true }, 'No contacts at this company yet.');
  const add = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'company-add-contact' }, onclick: () => openCreateContact({
    initial: { company_id: c.id, company: c.name },
    onCreated: (contact) => { rememberRecord('contact', contact); tbody.prepend(row(contact)); loaded += 1; update(); emptyNote.hidden = true; },
  }) }, icon('plus', { size: 14 }), 'Add contact');

  const card = h('section', { class: 'card company-contacts', 'aria-labelledby': 'company-contacts-title', dataset: { testid: 'company-contacts' } },
    h('div', { class: 'card-head' }, h('h2', { id: 'company-contacts-title', class: 'card-title' }, 'People ', count), add),
    h('div', { class: 'mini-table-wrap' }, h('table', { class: 'mini-table' }, h('caption', { class: 'visually-hidden' }, 'Contacts at this company'), tbody)),
    emptyNote,
    h('div', { class: 'card-foot' }, more));

  function row(p) {
    return h('tr', { dataset: { testid: 'company-contact-row', id: p.id } },
      h('td', { class: 'mt-name' }, h('div', { class: 'name-cell' }, avatar('contact', p, 'xs'),
        h('div', { class: 'name-text' }, h('a', { href: recordHref('contact', p.id), class: 'row-link' }, contactName(p) || 'Unnamed contact'),
          p.title ? h('div', { class: 'cell-sub cell-sub-always' }, p.title) : null))),
      h('td', { class: 'mt-email hide-phone' }, p.email ? h('a', { href: `mailto:${p.email}`, class: 'truncate' }, p.email) : null),
      h('td', { class: 'mt-stage' }, stageBadge(p.lifecycle_stage)));
  }
  function update() {
    count.textContent = loaded ? `${loaded}${cursor ? '+' : ''}` : '';
    more.hidden = !cursor;
  }
  async function load() {
    more.disabled = true;
    try {
      const p = await crm.listCompanyContacts(c.id, { cursor, limit: 25 });
      tbody.append(...p.items.map(row));
      loaded += p.items.length;
      cursor = p.next_cursor;
      emptyNote.hidden = loaded > 0;
      update();
    } catch (err) {
      toastError(err, 'Could not load the company’s contacts');
    } finally {
      more.disabled = false;
    }
  }
  load();
  return card;
}

function relatedCard(c) {
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const card = h('section', { class: 'card side-card', 'aria-labelledby': 'related-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'related-title', class: 'card-title' }, 'Related companies')), body);
  crm.listRecords('company', { filter: { field: 'parent_id', op: 'eq', value: c.id }, limit: 20 }).then(async (p) => {
    const parent = c.parent_id ? await crm.companyById(c.parent_id).catch(() => null) : null;
    const item = (co, sub) => h('li', { class: 'side-item' }, avatar('company', co, 'xs'),
      h('div', { class: 'side-item-text' }, h('a', { href: recordHref('company', co.id) }, co.name || 'Unnamed company'), h('div', { class: 'muted side-sub' }, sub)));
    const items = [
      parent ? item(parent, 'Parent company') : null,
      ...p.items.map((s) => item(s, 'Subsidiary')),
    ].filter(Boolean);
    mount(body, items.length ? h('ul', { class: 'side-list' }, items) : h('p', { class: 'muted' }, 'No parent or subsidiaries.'));
  }).catch(() => mount(body, h('p', { class: 'muted' }, 'Could not load related companies.')));
  return card;
}

export function companyPageView(root, id) {
  return recordPageView(root, id, {
    entity: 'company',
    noun: 'company',
    plural: 'companies',
    listPath: '/companies',
    listLabel: 'Companies',
    testids: { edit: 'company-edit', delete: 'company-delete', name: 'company-name', detail: 'company-detail' },
    avatar: (c) => avatar('company', c, 'lg'),
    header: (c) => ({
      sub: [
        c.domain ? externalLink(c.domain, c.domain) : null,
        c.industry ? h('span', null, c.industry) : null,
        c.size ? h('span', null, `${c.size} employees`) : null,
      ].filter(Boolean).flatMap((n, i) => (i ? [h('span', { class: 'sep', 'aria-hidden': 'true' }, '·'), n] : [n])),
      chips: [
        c.owner_id ? h('span', { class: 'header-owner', title: 'Owner' }, xicon('user', { size: 13 }), ownerCell(c.owner_id)) : null,
        c.tags?.length ? tagChips(c.tags) : null,
      ].filter(Boolean),
    }),
    profile,
    main: (c) => [contactsCard(c)],
    side: (c) => [dealsCard({ entity: 'company', record: c }), companyValueCard({ record: c }), relatedCard(c)],
    openCreate: () => openCreateCompany({}),
  });
}
