// Contact page: header (name, title, company, stage, owner, tags), profile
// card with every field, timeline with composer, next task, open deals,
// orders (lifetime value, latest orders), open tickets, marketing email
// (consent per channel with history, campaign engagement) and linked companies.

import { h, mount, icon } from './ui.js';
import * as crm from './crm-api.js';
import {
  avatar, stageBadge, tagChips, ownerCell, consentBadge, CONSENT_CHANNELS, formatCustom, labelize, recordHref, xicon,
} from './records.js';
import { recordPageView, prop, cardSection, metaLine } from './record-page.js';
import { openCreateContact } from './contact-list.js';
import { dealsCard } from './deals-card.js';
import { ordersCard } from './orders-card.js';
import { ticketsCard } from './tickets-card.js';
import { marketingCard } from './marketing-card.js';
import { customerValueCard } from './insight-contact-card.js';

function companyLink(c) {
  if (!c.company) return null;
  return c.company_id ? h('a', { href: recordHref('company', c.company_id) }, c.company) : h('span', null, c.company);
}

function contactList(items, kind) {
  const key = kind === 'email' ? 'address' : 'number';
  const list = (items || []).filter((x) => x?.[key]);
  if (!list.length) return null;
  return h('ul', { class: 'value-list' }, list.map((x) => h('li', { class: x.primary && list.length > 1 ? 'is-primary' : null },
    kind === 'email'
      ? h('a', { href: `mailto:${x[key]}` }, x[key])
      : h('a', { href: `tel:${String(x[key]).replace(/[^\d+]/g, '')}`, class: 'num' }, x[key]),
    x.label ? h('span', { class: 'value-label muted' }, labelize(x.label)) : null,
    x.primary && list.length > 1 ? h('span', { class: 'primary-badge' }, 'Primary') : null)));
}

function addressBlock(a) {
  if (!a) return null;
  const lines = [a.street, [a.postal_code, a.city].filter(Boolean).join(' '), a.region, a.country].filter(Boolean);
  return lines.length ? h('address', { class: 'address' }, lines.map((l, i) => [i ? h('br') : null, l])) : null;
}

function profile(c, ctx) {
  const emails = contactList(c.emails?.length ? c.emails : c.email ? [{ address: c.email, primary: true }] : [], 'email');
  const phones = contactList(c.phones?.length ? c.phones : c.phone ? [{ number: c.phone, primary: true }] : [], 'phone');
  const defs = ctx.defs;
  return h('section', { class: 'card profile-card', 'aria-label': 'Profile', dataset: { testid: 'contact-profile' } },
    cardSection('Contact',
      h('dl', { class: 'props' },
        prop('Email', emails, { iconName: 'mail', testid: 'contact-email' }),
        prop('Phone', phones, { iconName: 'phone', testid: 'contact-phone' }))),
    cardSection('Details',
      h('dl', { class: 'props' },
        prop('Title', c.title || null, { testid: 'contact-title' }),
        prop('Company', companyLink(c), { iconName: 'building', testid: 'contact-company' }),
        prop('Stage', stageBadge(c.lifecycle_stage), { testid: 'contact-stage' }),
        prop('Source', c.source || null),
        prop('Owner', ownerCell(c.owner_id)),
        prop('Tags', c.tags?.length ? tagChips(c.tags) : null, { iconName: 'tag' }),
        c.external_id ? prop('External ID', h('code', null, c.external_id)) : null)),
    cardSection('Address', addressBlock(c.address) || h('p', { class: 'muted' }, 'No address')),
    cardSection('Consent',
      h('dl', { class: 'props props-compact' }, CONSENT_CHANNELS.map(([k, label]) => prop(label, consentBadge(c.consent?.[k]), { testid: `consent-${k}` })))),
    defs.length ? cardSection('Custom fields',
      h('dl', { class: 'props', dataset: { testid: 'custom-fields' } }, defs.map((d) => prop(d.label || labelize(d.key), formatCustom(d, c.custom?.[d.key]), { testid: `custom-${d.key}` })))) : null,
    metaLine(c));
}

function linkedCompanies(c) {
  const ids = [...new Set([c.company_id, ...(c.company_ids || [])].filter(Boolean))];
  const body = h('div', null);
  const card = h('section', { class: 'card side-card', 'aria-labelledby': 'linked-companies-title', dataset: { testid: 'linked-companies' } },
    h('div', { class: 'card-head' }, h('h2', { id: 'linked-companies-title', class: 'card-title' }, 'Companies')), body);
  if (!ids.length) {
    mount(body, c.company
      ? h('p', null, c.company, h('span', { class: 'muted' }, ' (not linked to a company record)'))
      : h('p', { class: 'muted' }, 'Not linked to a company.'));
    return card;
  }
  mount(body, h('ul', { class: 'side-list' }, ids.map((id) => {
    const li = h('li', { class: 'side-item' },
      avatar('company', { id, name: id === c.company_id ? c.company : '' }, 'xs'),
      h('div', { class: 'side-item-text' },
        h('a', { href: recordHref('company', id) }, id === c.company_id && c.company ? c.company : 'Loading…'),
        h('div', { class: 'muted side-sub' }, id === c.company_id && ids.length > 1 ? 'Primary' : '\u00a0')));
    crm.companyById(id).then((co) => {
      const text = li.querySelector('.side-item-text');
      mount(text,
        h('a', { href: recordHref('company', id) }, co?.name || 'Unnamed company'),
        h('div', { class: 'muted side-sub' }, [co?.domain, co?.industry].filter(Boolean).join(' · ') || (id === c.company_id ? 'Primary' : '\u00a0')));
      li.firstChild.replaceWith(avatar('company', co || { id }, 'xs'));
    }).catch(() => { li.querySelector('a').textContent = 'Company not available'; });
    return li;
  })));
  return card;
}

/**
 * "N possible duplicates · Review" under the header, from the contact's
 * summary (possible_duplicates); hidden when there are none. One element per
 * page view, kept across re-renders.
 */
function duplicatesNotice(id) {
  const el = h('div', { class: 'dup-notice', role: 'status', hidden: true, dataset: { testid: 'duplicates-notice' } });
  crm.contactSummary(id).then((s) => {
    const n = Number(s?.possible_duplicates) || 0;
    if (!n) return;
    el.hidden = false;
    mount(el,
      h('span', { class: 'dup-notice-icon', 'aria-hidden': 'true' }, icon('users', { size: 16 })),
      h('span', { class: 'dup-notice-text' }, h('strong', null, `${n} possible ${n === 1 ? 'duplicate' : 'duplicates'}`),
        h('span', { class: 'muted' }, ': other contacts with the same email, phone number, or name at the same company.')),
      h('a', { class: 'btn btn-sm', href: `/contacts/${encodeURIComponent(id)}/merge`, dataset: { testid: 'duplicates-review' } }, 'Review'));
  }).catch((err) => { if (err?.name !== 'AbortError' && err?.status !== 404) console.warn('summary unavailable', err); });
  return el;
}

export function contactPageView(root, id) {
  const notice = duplicatesNotice(id);
  return recordPageView(root, id, {
    banner: () => notice,
    entity: 'contact',
    noun: 'contact',
    plural: 'contacts',
    listPath: '/contacts',
    listLabel: 'Contacts',
    testids: { edit: 'contact-edit', delete: 'contact-delete', name: 'contact-name', detail: 'contact-detail' },
    avatar: (c) => avatar('contact', c, 'lg'),
    header: (c) => ({
      sub: [c.title ? h('span', null, c.title) : null, c.title && c.company ? h('span', { class: 'muted' }, ' at ') : null, companyLink(c)].filter(Boolean),
      chips: [
        stageBadge(c.lifecycle_stage, 'contact-stage-badge'),
        c.owner_id ? h('span', { class: 'header-owner', title: 'Owner' }, xicon('user', { size: 13 }), ownerCell(c.owner_id)) : null,
        c.tags?.length ? tagChips(c.tags) : null,
      ].filter(Boolean),
    }),
    profile,
    side: (c) => [dealsCard({ entity: 'contact', record: c }), ordersCard({ record: c }), customerValueCard({ record: c }), ticketsCard({ record: c }), marketingCard({ record: c }), linkedCompanies(c)],
    openCreate: () => openCreateContact({}),
  });
}


