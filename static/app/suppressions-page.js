// Campaigns › Suppressions (/campaigns/suppressions): addresses no campaign
// may mail — hard bounces, spam complaints, unsubscribes without a contact,
// and addresses added by hand — with a search (?q=), "Add address" (email
// and reason) and "Remove" (the address can be mailed again).

import { h, mount, icon, toast, toastError, pageTitle, debounce, formatDate } from './ui.js';
import { updateUrl } from './router.js';
import * as session from './session.js';
import * as capi from './campaigns-api.js';
import { emptyState } from './contacts.js';
import { confirmDialog } from './settings-kit.js';
import { errorBox, busy } from './forms.js';
import { compactTime, labelize, actorName } from './records.js';
import { campaignsHeader, nf } from './campaign-display.js';
import { setFieldError, clearFieldError } from './mail-editor.js';

const REASONS = {
  manual: 'Added by hand', bounced: 'Hard bounce', complained: 'Spam complaint', unsubscribed: 'Unsubscribed',
};

/** Who or what suppressed it: a user, a message that bounced, a page. */
function sourceText(source) {
  const raw = String(source || '');
  if (/^(user|apikey|system):/.test(raw)) return actorName(raw);
  if (/^ms_/.test(raw)) return `Message …${raw.slice(-6)}`;
  return raw;
}

export function suppressionsView(root, { query = new URLSearchParams() } = {}) {
  const state = { items: [], q: (query.get('q') || '').trim(), destroyed: false, controller: null, adding: false };
  pageTitle('Suppressions', 'Campaigns');
  const w = () => capi.canWriteCampaigns();

  const addBtn = h('button', {
    type: 'button', class: 'btn btn-primary', hidden: true, dataset: { testid: 'suppression-add' }, 'aria-expanded': 'false', 'aria-controls': 'sup-add-form',
    onclick: () => toggleAdd(),
  }, icon('plus'), h('span', null, 'Add address'));

  const searchInput = h('input', {
    id: 'sup-search', class: 'input-sm', type: 'search', autocomplete: 'off', maxlength: 120, placeholder: 'Search addresses',
    value: state.q, dataset: { testid: 'suppression-search' },
  });
  const search = h('form', { class: 'ol-search', role: 'search', 'aria-label': 'Find suppressed addresses', onsubmit: (e) => { e.preventDefault(); load(); } },
    h('label', { for: 'sup-search', class: 'visually-hidden' }, 'Search suppressed addresses'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), searchInput));
  const loadSoon = debounce(() => load(), 250);
  searchInput.addEventListener('input', loadSoon);
  const summary = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'suppressions-summary' } });

  // --- add -------------------------------------------------------------------------------------
  const email = h('input', {
    class: 'input', id: 'sup-email', name: 'email', type: 'email', autocomplete: 'off', spellcheck: 'false', required: true,
    placeholder: 'name@example.com', dataset: { testid: 'suppression-email' },
  });
  const reason = h('select', { class: 'input', id: 'sup-reason', name: 'reason', dataset: { testid: 'suppression-reason' } },
    capi.SUPPRESSION_REASONS.map((r) => h('option', { value: r }, REASONS[r] || labelize(r))));
  const box = errorBox('suppression-error');
  const save = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'suppression-save' } }, 'Suppress');
  const addForm = h('form', { class: 'card cp-sup-form', id: 'sup-add-form', hidden: true, novalidate: true, 'aria-label': 'Add a suppressed address' },
    box,
    h('div', { class: 'cp-sup-fields' },
      h('div', { class: 'field', dataset: { field: 'email' } }, h('label', { for: email.id }, 'Email address'), email),
      h('div', { class: 'field', dataset: { field: 'reason' } }, h('label', { for: reason.id }, 'Reason'), reason),
      h('div', { class: 'cp-sup-buttons' },
        h('button', { type: 'button', class: 'btn', onclick: () => toggleAdd(false) }, 'Cancel'),
        save)),
    h('p', { class: 'muted field-hint' }, 'No campaign mails this address again, whichever contact has it, until you remove it here.'));
  email.addEventListener('input', () => clearFieldError(email));
  function toggleAdd(open = addForm.hidden) {
    addForm.hidden = !open;
    addBtn.setAttribute('aria-expanded', String(open));
    if (open) { box.hidden = true; email.focus(); } else addBtn.focus();
  }
  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (state.adding) return;
    box.hidden = true;
    clearFieldError(email);
    const address = email.value.trim();
    if (!/^[^@\s]+@[^@\s]+$/.test(address)) { setFieldError(email, 'Enter an email address'); email.focus(); return; }
    state.adding = true;
    busy(save, true, { idle: 'Suppress', working: 'Saving…' });
    try {
      const res = await capi.addSuppression({ email: address, reason: reason.value });
      state.adding = false;
      busy(save, false, { idle: 'Suppress', working: 'Saving…' });
      if (state.destroyed) return;
      email.value = '';
      toast(`${res?.email || address} will not get campaign email.`, { kind: 'success', title: 'Address suppressed' });
      await load();
      email.focus();
    } catch (err) {
      state.adding = false;
      busy(save, false, { idle: 'Suppress', working: 'Saving…' });
      const fields = { email, reason };
      const rest = [];
      for (const x of err.errors || []) {
        if (fields[x.field]) setFieldError(fields[x.field], x.message, { testid: `error-${x.field}` });
        else rest.push(`${x.field}: ${x.message}`);
      }
      if (rest.length || !err.errors?.length) {
        box.hidden = false;
        mount(box, icon('alert'), h('div', null, h('strong', null, err.title || 'Could not add the address'), ' ', rest.join('. ') || err.detail || err.message));
      }
    }
  });

  // --- list ------------------------------------------------------------------------------------
  const cols = ['spcol-email', 'spcol-reason', 'spcol-source', 'spcol-at', 'spcol-actions'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table cp-sup-table', dataset: { testid: 'suppressions-list' } },
    h('caption', { class: 'visually-hidden' }, 'Suppressed addresses'),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'spcol-email' }, 'Address'),
      h('th', { scope: 'col', class: 'spcol-reason' }, 'Reason'),
      h('th', { scope: 'col', class: 'spcol-source' }, 'Source'),
      h('th', { scope: 'col', class: 'spcol-at' }, 'Since'),
      h('th', { scope: 'col', class: 'spcol-actions' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });

  mount(root,
    ...campaignsHeader('suppressions', { sub: 'Addresses no campaign may mail: bounces, complaints and addresses you add', actions: [addBtn] }),
    addForm,
    h('div', { class: 'ol-toolbar cp-toolbar' }, search, summary),
    wrap, empty);

  function row(s) {
    return h('tr', { dataset: { testid: 'suppression-row', email: s.email } },
      h('td', { class: 'spcol-email' }, h('span', { class: 'truncate cp-sup-email', title: s.email }, s.email),
        h('div', { class: 'cell-sub' }, REASONS[s.reason] || labelize(s.reason || ''))),
      h('td', { class: 'spcol-reason' }, h('span', { class: ['cp-reason', `cp-reason-${s.reason}`] }, REASONS[s.reason] || labelize(s.reason || '—'))),
      h('td', { class: 'spcol-source' }, s.source ? h('span', { class: 'truncate muted', title: s.source }, sourceText(s.source)) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'spcol-at', title: s.at ? formatDate(s.at, { withTime: true }) : '' }, compactTime(s.at)),
      h('td', { class: 'spcol-actions' }, w() ? h('button', {
        type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'suppression-remove' }, 'aria-label': `Remove ${s.email} from the suppression list`,
        onclick: () => remove(s),
      }, icon('trash', { size: 14 }), h('span', { class: 'btn-label' }, 'Remove')) : null));
  }

  function remove(s) {
    confirmDialog({
      title: `Mail ${s.email} again?`,
      text: s.reason === 'complained'
        ? 'This address marked your mail as spam. Removing it lets campaigns reach it again (if its contact has not withdrawn consent).'
        : 'Campaigns can reach this address again, unless its contact has withdrawn consent.',
      confirmLabel: 'Remove suppression', workingLabel: 'Removing…', testid: 'suppression-confirm-remove',
      run: async () => {
        try {
          await capi.removeSuppression(s.email);
        } catch (err) {
          if (!err.isNotFound) throw err;
        }
        if (state.destroyed) return;
        toast(`${s.email} can get campaign email again.`, { title: 'Suppression removed' });
        load();
      },
    });
  }

  async function load() {
    state.q = searchInput.value.trim();
    updateUrl(`/campaigns/suppressions${state.q ? `?q=${encodeURIComponent(state.q)}` : ''}`);
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    table.setAttribute('aria-busy', 'true');
    if (!state.items.length) {
      mount(tbody, Array.from({ length: 3 }, (_, i) => h('tr', { 'aria-hidden': 'true' },
        cols.map((c, j) => h('td', { class: c }, h('span', { class: 'skeleton skeleton-text', style: { width: `${35 + ((i * 29 + j * 13) % 50)}%` } }))))));
    } else wrap.classList.add('is-refreshing');
    try {
      const [items] = await Promise.all([capi.listSuppressions({ q: state.q, signal: controller.signal }), session.whenLoaded()]);
      if (state.destroyed || controller.signal.aborted) return;
      state.items = items;
      mount(tbody, items.map(row));
      summary.textContent = `${nf.format(items.length)}${items.length >= 500 ? '+' : ''} ${items.length === 1 ? 'address' : 'addresses'}${state.q ? ` matching “${state.q}”` : ''}`;
      wrap.hidden = !items.length;
      empty.hidden = !!items.length;
      if (!items.length) {
        mount(empty, state.q
          ? emptyState({ iconName: 'search', title: 'No address matches', text: `Nothing suppressed contains “${state.q}”.`,
            actions: [h('button', { type: 'button', class: 'btn', onclick: () => { searchInput.value = ''; load(); searchInput.focus(); } }, 'Show every address')] })
          : emptyState({ iconName: 'shield', title: 'No suppressed addresses',
            text: 'Hard bounces and spam complaints land here by themselves, so nobody is mailed who cannot or does not want to be. You can add addresses by hand too.' }));
      }
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      wrap.hidden = true;
      empty.hidden = false;
      const forbidden = err.status === 403;
      mount(empty, emptyState({
        testid: 'error-state', iconName: forbidden ? 'lock' : 'alert',
        title: forbidden ? 'Suppressions are not available to your role' : (err.title || 'Could not load the suppressions'),
        text: err.detail || err.message,
        actions: forbidden ? [] : [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => load() }, 'Retry')],
      }));
      if (!forbidden) toastError(err, 'Could not load the suppressions');
    } finally {
      if (!controller.signal.aborted) { table.setAttribute('aria-busy', 'false'); wrap.classList.remove('is-refreshing'); }
    }
  }

  session.whenLoaded().then(() => { if (!state.destroyed) addBtn.hidden = !w(); });
  load();
  return {
    kind: 'suppressions',
    openCreate: () => { if (w()) toggleAdd(true); },
    destroy() { state.destroyed = true; state.controller?.abort(); loadSoon.cancel(); },
  };
}
