// Workspace-wide duplicates (/contacts/duplicates?reason=email|phone|name):
// groups of contacts sharing an email address, a phone number, or a name at
// the same company, a page at a time (keyset `after`), each with "Merge",
// which opens the merge screen for its first contact with the others ticked.

import { h, mount, icon, toastError, pageTitle } from './ui.js';
import { updateUrl } from './router.js';
import * as crm from './crm-api.js';
import { avatar, contactName, recordHref, stageBadge, canWrite, shortDate } from './records.js';
import { emptyState } from './contacts.js';
import { reasonBadge } from './merge-screen.js';
import { num } from './bulk-ui.js';

const PAGE = 25;
const TABS = [
  ['email', 'Email'],
  ['phone', 'Phone'],
  ['name', 'Name at a company'],
];

function byAge(a, b) {
  return String(a.created_at || '').localeCompare(String(b.created_at || '')) || String(a.id).localeCompare(String(b.id));
}

function groupTitle(g) {
  const first = g.contacts[0] || {};
  if (g.reason === 'email') return [h('strong', null, g.key)];
  if (g.reason === 'phone') {
    const shown = g.contacts.map((c) => c.phones?.find((p) => String(p.number || '').replace(/\D/g, '') === g.key)?.number).find(Boolean) || first.phone || g.key;
    return [h('strong', { class: 'num' }, shown)];
  }
  const company = g.contacts.find((c) => c.company)?.company;
  return [h('strong', null, contactName(first) || 'Same name'), company ? [' at ', h('strong', null, company)] : ' at the same company'];
}

export function duplicatesPageView(root, { query }) {
  const controller = new AbortController();
  let reason = TABS.some(([k]) => k === query.get('reason')) ? query.get('reason') : 'email';
  let cursor = null;
  let loading = false;
  let shown = 0;
  let destroyed = false;

  pageTitle('Duplicates', 'Contacts');
  const tabs = h('div', { class: 'segmented dup-tabs', role: 'group', 'aria-label': 'Duplicates by' });
  const list = h('div', { class: 'dup-groups', 'aria-live': 'polite' });
  const status = h('p', { class: 'page-sub', role: 'status' }, '\u00a0');
  const more = h('button', { type: 'button', class: 'btn', hidden: true, dataset: { testid: 'duplicates-more' }, onclick: () => load() }, 'Show more');

  mount(root,
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/contacts', class: 'back-link' }, icon('arrowLeft'), 'Contacts')),
    h('div', { class: 'page-header' },
      h('div', { class: 'page-heading' }, h('h1', { class: 'page-title', tabindex: '-1' }, 'Duplicates'), status)),
    h('p', { class: 'muted dup-lead' }, 'Contacts that share an email address or a phone number, or have the same name at the same company. Merge a group to keep one contact with everything the others had.'),
    h('div', { class: 'dup-toolbar' }, tabs),
    h('div', { class: 'dup-page', dataset: { testid: 'duplicates-page' } }, list, h('div', { class: 'list-footer' }, more)));

  function renderTabs() {
    mount(tabs, h('span', { class: 'segmented-label muted' }, 'Same'), TABS.map(([k, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(k === reason), dataset: { testid: `duplicates-reason-${k}` },
      onclick: () => { if (reason !== k) { reason = k; updateUrl(`/contacts/duplicates?reason=${k}`); renderTabs(); load({ reset: true }); } },
    }, label)));
  }

  function groupEl(g) {
    const contacts = g.contacts.slice().sort(byAge);
    const [first, ...others] = contacts;
    const href = `/contacts/${encodeURIComponent(first.id)}/merge?with=${encodeURIComponent(others.map((c) => c.id).join(','))}`;
    return h('section', { class: 'card dup-group', dataset: { testid: 'duplicate-group', reason: g.reason, key: g.key } },
      h('div', { class: 'dup-group-head' },
        h('div', { class: 'dup-group-title' }, reasonBadge(g.reason), h('span', { class: 'truncate' }, groupTitle(g))),
        h('span', { class: 'muted dup-count' }, `${num(contacts.length)} contacts`),
        canWrite()
          ? h('a', { class: 'btn btn-sm btn-primary', href, dataset: { testid: 'duplicate-merge' }, 'aria-label': `Merge ${contacts.length} contacts: ${contactName(first) || 'unnamed'} and others` }, icon('users', { size: 14 }), 'Merge')
          : h('a', { class: 'btn btn-sm', href }, 'Compare')),
      h('ul', { class: 'dup-contacts' }, contacts.map((c, i) => h('li', { class: 'dup-contact', dataset: { id: c.id } },
        avatar('contact', c, 'sm'),
        h('div', { class: 'dup-contact-text' },
          h('a', { href: recordHref('contact', c.id), class: 'dup-contact-name' }, contactName(c) || 'Unnamed contact'),
          h('div', { class: 'muted cell-sub' }, [c.email, c.company].filter(Boolean).join(' · ') || '\u00a0')),
        c.lifecycle_stage ? stageBadge(c.lifecycle_stage) : null,
        h('span', { class: 'muted dup-added' }, i === 0 ? 'oldest · ' : '', c.created_at ? `added ${shortDate(c.created_at)}` : '')))));
  }

  async function load({ reset = false } = {}) {
    if (loading && !reset) return;
    const mine = reason;
    loading = true;
    more.disabled = true;
    more.textContent = 'Loading…';
    if (reset) {
      cursor = null;
      shown = 0;
      status.textContent = 'Looking for duplicates…';
      mount(list, h('div', { class: 'card dup-group' }, [55, 40, 48].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '12px 0' } }))));
    }
    try {
      const p = await crm.duplicateGroups({ reason: mine, after: cursor || undefined, limit: PAGE, signal: controller.signal });
      if (destroyed || mine !== reason) return;
      const groups = p.items.filter((g) => Array.isArray(g.contacts) && g.contacts.length > 1);
      if (reset) list.replaceChildren();
      list.append(...groups.map(groupEl));
      shown += groups.length;
      // The next page starts after the last key; a short page is the last one.
      cursor = p.items.length >= PAGE ? p.next_cursor : null;
      more.hidden = !cursor;
      status.textContent = shown ? `${num(shown)}${cursor ? '+' : ''} ${shown === 1 ? 'group' : 'groups'} of possible duplicates` : 'No duplicates found';
      if (!shown) {
        mount(list, emptyState({
          testid: 'duplicates-empty', iconName: 'users', title: 'No duplicates here',
          text: mine === 'name' ? 'No two contacts have the same first and last name at the same company. Try the other tabs.' : `No two contacts share ${mine === 'email' ? 'an email address' : 'a phone number'}. Try the other tabs.`,
          actions: [h('a', { class: 'btn', href: '/contacts' }, 'Back to contacts')],
        }));
      }
    } catch (err) {
      if (err?.name === 'AbortError' || destroyed) return;
      status.textContent = 'Duplicates could not be loaded.';
      if (reset) list.replaceChildren();
      list.append(h('div', { class: 'inline-error', role: 'alert' }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not load duplicates'), ' ', err.detail || err.message),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => load({ reset: true }) }, 'Retry')));
      toastError(err, 'Could not load duplicates');
    } finally {
      if (mine === reason) {
        loading = false;
        more.disabled = false;
        more.textContent = 'Show more';
      }
    }
  }

  renderTabs();
  load({ reset: true });
  return {
    kind: 'contact-duplicates',
    destroy() { destroyed = true; controller.abort(); },
  };
}
