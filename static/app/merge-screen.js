// Merge screen (/contacts/:id/merge, ?with=id1,id2 preselects): the likely
// duplicates of a contact with a checkbox each, a side-by-side comparison of
// the fields whose values differ with a radio per field (which contact's value
// to keep), and "Merge", which keeps this contact, unites emails, phones, tags
// and companies, moves activities, and offers Undo in a toast.

import { h, mount, icon, toast, toastError, pageTitle, timeEl } from './ui.js';
import { navigate } from './router.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import {
  avatar, contactName, recordHref, stageBadge, labelize, userName, loadUsers, onUsers, consentBadge, CONSENT_CHANNELS,
  formatCustom, customText, canWrite, dash,
} from './records.js';
import { rememberRecord } from './record-page.js';
import { emptyState } from './contacts.js';
import { num } from './bulk-ui.js';

export const REASONS = {
  email: 'Same email',
  phone: 'Same phone',
  name: 'Same name at the same company',
  chosen: 'Chosen',
};

export function reasonBadge(reason) {
  return h('span', { class: ['badge', 'reason-badge', `reason-${reason}`], dataset: { testid: 'duplicate-reason', reason } }, REASONS[reason] || labelize(reason));
}

/** Fields a merge chooses (the API's names), in display order. */
const FIELDS = [
  ['first_name', 'First name'],
  ['last_name', 'Last name'],
  ['title', 'Title'],
  ['company_id', 'Company'],
  ['lifecycle_stage', 'Stage'],
  ['source', 'Source'],
  ['owner_id', 'Owner'],
  ['address', 'Address'],
  ['consent', 'Consent'],
  ['external_id', 'External ID'],
];

function isEmpty(v) {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length)
    || (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isEmpty));
}

/** The comparable value of a field (what the merge would take). */
function valueOf(c, key) {
  if (key.startsWith('custom.')) return c.custom?.[key.slice(7)];
  if (key === 'company_id') return c.company_id || null;
  if (key === 'consent') {
    const v = c.consent || {};
    // "unknown" everywhere is the same as no consent recorded.
    return CONSENT_CHANNELS.every(([k]) => !v[k] || v[k] === 'unknown') ? null : v;
  }
  return c[key];
}

function same(a, b) {
  if (isEmpty(a) && isEmpty(b)) return true;
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}
function norm(v) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return Object.fromEntries(Object.keys(v).sort().filter((k) => !isEmpty(v[k])).map((k) => [k, norm(v[k])]));
  }
  return v;
}

function addressText(a) {
  return ['street', 'postal_code', 'city', 'region', 'country'].map((k) => a?.[k]).filter(Boolean).join(', ');
}

function display(key, c, defs) {
  const v = valueOf(c, key);
  if (isEmpty(v)) return h('span', { class: 'muted merge-empty' }, 'empty');
  if (key === 'company_id') return h('span', null, c.company || 'Linked company');
  if (key === 'lifecycle_stage') return stageBadge(v);
  if (key === 'owner_id') return h('span', { class: 'merge-owner', dataset: { userId: v } }, userName(v));
  if (key === 'address') return h('span', null, addressText(v));
  if (key === 'consent') {
    return h('span', { class: 'merge-consent' }, CONSENT_CHANNELS.map(([k, label]) => h('span', { class: 'merge-consent-item' }, h('span', { class: 'muted' }, `${label} `), consentBadge(v[k]))));
  }
  if (key === 'external_id') return h('code', null, v);
  if (key.startsWith('custom.')) {
    const def = defs.find((d) => `custom.${d.key}` === key);
    return def ? formatCustom(def, v) : h('span', null, customText(null, v));
  }
  return h('span', null, String(v));
}

function subline(c) {
  return [c.email, c.phone, c.company].filter(Boolean).join(' · ');
}

export function mergeScreenView(root, id, { query }) {
  const controller = new AbortController();
  const signal = controller.signal;
  const preselect = new Set((query.get('with') || '').split(',').map((s) => s.trim()).filter((s) => s && s !== id));
  const state = { primary: null, candidates: [], selected: new Set(), choices: {}, defs: [], destroyed: false, merging: false };

  pageTitle('Merge duplicates');
  const crumbs = h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: recordHref('contact', id), class: 'back-link' }, icon('arrowLeft'), h('span', { class: 'crumb-name' }, 'Contact')));
  const title = h('h1', { class: 'page-title', tabindex: '-1' }, 'Merge duplicates');
  const sub = h('p', { class: 'page-sub' }, '\u00a0');
  const body = h('div', { class: 'merge-body', dataset: { testid: 'merge-screen' }, 'aria-busy': 'true' },
    h('div', { class: 'card merge-card' }, [60, 45, 52].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '14px 0' } }))));
  mount(root, crumbs,
    h('div', { class: 'page-header' },
      h('div', { class: 'page-heading' }, title, sub),
      h('div', { class: 'page-actions' }, h('a', { class: 'btn', href: '/contacts/duplicates', dataset: { testid: 'all-duplicates' } }, icon('users', { size: 15 }), h('span', { class: 'btn-label' }, 'All duplicates')))),
    body);

  const pickList = h('ul', { class: 'merge-picks' });
  const compare = h('div', { class: 'merge-compare' });
  const error = h('div', { class: 'inline-error', role: 'alert', hidden: true, dataset: { testid: 'merge-error' } });
  const submit = h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'merge-submit' }, onclick: () => merge() }, 'Merge');

  function selectedContacts() {
    return state.candidates.filter((x) => state.selected.has(x.contact.id)).map((x) => x.contact);
  }

  function renderPicks() {
    const p = state.primary;
    mount(pickList,
      h('li', { class: 'merge-pick is-primary', dataset: { testid: 'merge-primary', id: p.id } },
        h('span', { class: 'merge-keep-badge' }, icon('check', { size: 13 }), 'Kept'),
        avatar('contact', p, 'sm'),
        h('div', { class: 'merge-pick-text' },
          h('a', { href: recordHref('contact', p.id), class: 'merge-pick-name' }, contactName(p) || 'Unnamed contact'),
          h('div', { class: 'muted cell-sub' }, subline(p) || '\u00a0'))),
      state.candidates.map(({ reason, contact: c }) => {
        const cbId = `merge-pick-${c.id}`;
        const others = [id, ...[...state.selected].filter((x) => x !== c.id)];
        return h('li', { class: ['merge-pick', state.selected.has(c.id) && 'is-selected'], dataset: { testid: 'merge-candidate', id: c.id } },
          h('input', {
            type: 'checkbox', id: cbId, checked: state.selected.has(c.id), disabled: !canWrite(), dataset: { testid: `merge-pick-${c.id}` },
            onchange: (e) => { if (e.target.checked) state.selected.add(c.id); else state.selected.delete(c.id); renderPicks(); renderCompare(); },
          }),
          avatar('contact', c, 'sm'),
          h('div', { class: 'merge-pick-text' },
            h('label', { for: cbId, class: 'merge-pick-name' }, contactName(c) || 'Unnamed contact'),
            h('div', { class: 'muted cell-sub' }, subline(c) || '\u00a0', c.created_at ? [' · added ', timeEl(c.created_at)] : null)),
          reasonBadge(reason),
          h('span', { class: 'merge-pick-links' },
            h('a', { href: recordHref('contact', c.id), class: 'link-small', target: '_blank', rel: 'noopener', title: 'Open in a new tab' }, 'Open'),
            canWrite() ? h('a', {
              href: `/contacts/${encodeURIComponent(c.id)}/merge?with=${encodeURIComponent(others.join(','))}`, class: 'link-small',
              title: `Keep ${contactName(c) || 'this contact'} and merge the others into it`, dataset: { testid: 'merge-keep-this' },
            }, 'Keep this one') : null));
      }));
  }

  function fieldKeys(list) {
    const keys = FIELDS.map(([k]) => k);
    const customKeys = new Set();
    list.forEach((c) => Object.keys(c.custom || {}).forEach((k) => customKeys.add(k)));
    const ordered = state.defs.map((d) => d.key).filter((k) => customKeys.has(k));
    customKeys.forEach((k) => { if (!ordered.includes(k)) ordered.push(k); });
    return [...keys, ...ordered.map((k) => `custom.${k}`)];
  }

  function labelOf(key) {
    const f = FIELDS.find(([k]) => k === key);
    if (f) return f[1];
    const def = state.defs.find((d) => `custom.${d.key}` === key);
    return def?.label || labelize(key.slice(7));
  }

  /** The value the merge keeps by default: the kept contact's, else the first one set. */
  function defaultChoice(key, list) {
    if (!isEmpty(valueOf(list[0], key))) return list[0].id;
    return (list.find((c) => !isEmpty(valueOf(c, key))) || list[0]).id;
  }

  function renderCompare() {
    const chosen = selectedContacts();
    const n = chosen.length;
    submit.disabled = !n || !canWrite() || state.merging;
    submit.textContent = n ? `Merge ${n} ${n === 1 ? 'contact' : 'contacts'} into ${contactName(state.primary) || 'this contact'}` : 'Merge';
    if (!n) {
      mount(compare, h('p', { class: 'muted merge-none' }, 'Tick the contacts to merge into the kept one. Their differing fields appear here to choose from.'));
      return;
    }
    const list = [state.primary, ...chosen];
    const diff = fieldKeys(list).filter((k) => list.some((c) => !same(valueOf(c, k), valueOf(list[0], k))));
    // Keep earlier choices that still point at a shown contact.
    const ids = new Set(list.map((c) => c.id));
    for (const k of Object.keys(state.choices)) if (!diff.includes(k) || !ids.has(state.choices[k])) delete state.choices[k];
    diff.forEach((k) => { state.choices[k] ||= defaultChoice(k, list); });

    const head = h('tr', null,
      h('th', { scope: 'col', class: 'mc-field' }, 'Field'),
      list.map((c, i) => h('th', { scope: 'col', class: 'mc-contact' },
        h('span', { class: 'mc-head' }, avatar('contact', c, 'xs'), h('span', { class: 'truncate' }, contactName(c) || 'Unnamed'), i === 0 ? h('span', { class: 'mc-kept muted' }, '(kept)') : null))));
    const rows = diff.map((k) => h('tr', { class: 'mc-row', dataset: { testid: `merge-field-${k}`, field: k }, role: 'radiogroup', 'aria-label': labelOf(k) },
      h('th', { scope: 'row', class: 'mc-field' }, labelOf(k)),
      list.map((c) => {
        const rid = `mc-${k.replace(/\W/g, '_')}-${c.id}`;
        return h('td', { class: ['mc-cell', state.choices[k] === c.id && 'is-chosen'] },
          h('label', { class: 'mc-choice', for: rid },
            h('input', {
              type: 'radio', id: rid, name: `mc-${k}`, value: c.id, checked: state.choices[k] === c.id, disabled: !canWrite(),
              onchange: () => { state.choices[k] = c.id; renderCompare(); },
            }),
            h('span', { class: 'mc-value' }, display(k, c, state.defs)),
            h('span', { class: 'mc-who muted', 'aria-hidden': 'true' }, contactName(c) || 'Unnamed', c.id === id ? ' (kept)' : '')));
      })));

    // As the server unites them: emails and tags ignoring case, phones by their digits.
    const union = (get, key = (x) => String(x).toLowerCase()) => [...new Map(list.flatMap(get).filter(Boolean).map((x) => [key(x), x])).values()];
    const emails = union((c) => (c.emails?.length ? c.emails.map((e) => e.address) : [c.email]));
    const phones = union((c) => (c.phones?.length ? c.phones.map((p) => p.number) : [c.phone]), (x) => String(x).replace(/\D/g, ''));
    const tags = union((c) => c.tags || []);
    const companies = new Set(list.flatMap((c) => [c.company_id, ...(c.company_ids || [])]).filter(Boolean));

    mount(compare,
      diff.length
        ? h('div', { class: 'table-wrap merge-table-wrap' },
          h('table', { class: 'data-table merge-table', dataset: { testid: 'merge-compare' } },
            h('caption', { class: 'visually-hidden' }, 'Fields that differ: choose which value to keep'),
            h('colgroup', null, h('col', { class: 'mc-field-col' }), list.map(() => h('col'))),
            h('thead', null, head), h('tbody', null, rows)))
        : h('p', { class: 'import-note is-ok', dataset: { testid: 'merge-no-differences' } }, icon('check', { size: 15 }),
          h('span', null, 'The other fields are the same in these contacts, or empty in all but one: nothing to choose.')),
      h('div', { class: 'merge-union' },
        h('h3', { class: 'profile-section-title' }, 'Combined automatically'),
        h('dl', { class: 'props merge-union-list' },
          unionProp('Emails', emails), unionProp('Phones', phones), unionProp('Tags', tags),
          h('div', { class: 'prop' }, h('dt', null, 'Companies'), h('dd', null, companies.size ? `${num(companies.size)} linked` : dash()))),
        h('p', { class: 'muted merge-note', dataset: { testid: 'merge-note' } },
          'Emails, phone numbers, tags and linked companies of all of them are combined on the kept contact, and their notes, calls, meetings and tasks move to it. ',
          `The merged ${n === 1 ? 'contact is' : 'contacts are'} retired. You can undo the merge until the kept contact is changed.`)));
  }

  function unionProp(label, items) {
    return h('div', { class: 'prop' }, h('dt', null, label), h('dd', null, items.length ? items.join(', ') : dash()));
  }

  async function merge() {
    const chosen = selectedContacts();
    if (!chosen.length || state.merging) return;
    state.merging = true;
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = 'Merging…';
    const fields = {};
    for (const [k, cid] of Object.entries(state.choices)) fields[k] = cid;
    try {
      const { merge: record, contact } = await crm.mergeContacts({ primary_id: id, merged_ids: chosen.map((c) => c.id), fields });
      if (contact) rememberRecord('contact', contact, contact.version != null ? String(contact.version) : null);
      navigate(recordHref('contact', id));
      const name = contactName(contact || state.primary) || 'The contact';
      const t = toast(`${num(chosen.length)} ${chosen.length === 1 ? 'duplicate was' : 'duplicates were'} merged into ${name}.`, {
        kind: 'success', title: 'Merged', timeout: 15000,
        action: record?.id ? { label: 'Undo', onClick: () => undo(record.id, name) } : undefined,
      });
      const undoBtn = t.el.querySelector('.toast-action');
      if (undoBtn) undoBtn.dataset.testid = 'undo-merge';
    } catch (err) {
      state.merging = false;
      submit.disabled = false;
      renderCompare();
      error.hidden = false;
      const fieldProblems = err?.errors?.map((e) => `${e.field ? `${e.field.replace(/^fields\./, '')}: ` : ''}${e.message}`).join('. ');
      mount(error, icon('alert'), h('div', null,
        h('strong', null, err.title || 'Could not merge'), ' ', fieldProblems || err.detail || err.message,
        err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null));
      if (err?.isNotFound) load();
    }
  }

  function render() {
    const p = state.primary;
    const name = contactName(p) || 'Unnamed contact';
    pageTitle('Merge duplicates', name);
    crumbs.querySelector('.crumb-name').textContent = name;
    title.textContent = `Merge duplicates of ${name}`;
    sub.textContent = state.candidates.length
      ? `${num(state.candidates.length)} possible ${state.candidates.length === 1 ? 'duplicate' : 'duplicates'}. ${name} is kept; the ones you tick are merged into it.`
      : '';
    body.setAttribute('aria-busy', 'false');
    if (!state.candidates.length) {
      mount(body, emptyState({
        testid: 'merge-empty', iconName: 'users', title: 'No likely duplicates',
        text: `No other contact shares an email address or a phone number with ${name}, or has the same name at the same company.`,
        actions: [h('a', { class: 'btn btn-primary', href: recordHref('contact', id) }, `Back to ${name}`), h('a', { class: 'btn', href: '/contacts/duplicates' }, 'All duplicates')],
      }));
      return;
    }
    renderPicks();
    renderCompare();
    mount(body,
      h('section', { class: 'card merge-card', 'aria-labelledby': 'merge-pick-title' },
        h('h2', { id: 'merge-pick-title', class: 'card-title' }, 'Contacts to merge'),
        pickList),
      h('section', { class: 'card merge-card', 'aria-labelledby': 'merge-values-title' },
        h('h2', { id: 'merge-values-title', class: 'card-title' }, 'Values to keep'),
        compare,
        error,
        canWrite() ? null : h('p', { class: 'muted' }, 'Your role can look at duplicates but not merge them.'),
        h('div', { class: 'import-actions' },
          h('a', { class: 'btn', href: recordHref('contact', id) }, 'Cancel'),
          submit)));
  }

  async function load() {
    try {
      const [{ record }, dupes, defs] = await Promise.all([
        crm.getRecord('contact', id, { signal }),
        crm.contactDuplicates(id, { signal }),
        crm.customFields('contact').catch(() => []),
        session.whenLoaded(),
        loadUsers(),
      ]);
      if (state.destroyed) return;
      state.primary = record;
      state.defs = defs;
      state.candidates = dupes.map((d) => ({ reason: d.reason, contact: d.contact }));
      // Contacts passed in ?with= that are not found as duplicates (e.g. picked by hand).
      const missing = [...preselect].filter((x) => !state.candidates.some((c) => c.contact.id === x));
      const extra = await Promise.all(missing.map((x) => crm.getRecord('contact', x, { signal }).then((r) => r.record).catch(() => null)));
      extra.filter(Boolean).forEach((c) => state.candidates.push({ reason: 'chosen', contact: c }));
      state.selected = new Set(state.candidates.map((c) => c.contact.id).filter((x) => preselect.has(x)));
      if (!preselect.size && state.candidates.length === 1) state.selected.add(state.candidates[0].contact.id);
      render();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      body.setAttribute('aria-busy', 'false');
      mount(body, emptyState({
        testid: err.isNotFound ? 'not-found' : 'error-state', iconName: 'alert',
        title: err.isNotFound ? 'Contact not found' : err.title || 'Could not load the duplicates',
        text: err.isNotFound ? 'It may have been merged into another contact or deleted.' : `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
        actions: [h('a', { class: 'btn btn-primary', href: '/contacts' }, 'Back to contacts')],
      }));
    }
  }

  const offUsers = onUsers(() => { if (state.primary && !state.destroyed) renderCompare(); });
  load();
  return {
    kind: 'contact-merge',
    destroy() { state.destroyed = true; controller.abort(); offUsers(); },
  };
}

/** POST …/merges/{id}/undo; a 409 means the kept contact changed since (or it was undone already). */
export async function undo(mergeId, name) {
  try {
    const restored = await crm.undoMerge(mergeId);
    if (restored?.id) rememberRecord('contact', restored, restored.version != null ? String(restored.version) : null);
    toast(`The merge is undone: ${contactName(restored) || name} and the merged contacts are back as they were.`, { kind: 'success', title: 'Merge undone' });
    // Show the restored contact (the page reloads it).
    const here = location.pathname;
    navigate(here, { replace: true, focus: false });
  } catch (err) {
    if (err?.status === 409) {
      toast(`${err.detail ? `${err.detail[0].toUpperCase()}${err.detail.slice(1)}.` : ''} A merge can only be undone while the kept contact is unchanged since the merge; edit the contacts by hand instead.`, {
        kind: 'error', title: 'The merge cannot be undone', requestId: err.requestId,
      });
    } else toastError(err, 'Could not undo the merge');
  }
}

