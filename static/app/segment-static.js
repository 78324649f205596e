// A static list (/campaigns/segments/<id> of kind "static", and
// /campaigns/segments/new?kind=static): name and description, its members
// (GET /segments/{id}/members, paged), a contact search to add people
// (GET /contacts?q=… → POST /segments/{id}/members {contact_ids}) and a
// remove button per member (DELETE /segments/{id}/members/{contact_id}).

import { h, mount, icon, toast, toastError, pageTitle, timeEl } from './ui.js';
import { navigate } from './router.js';
import * as crm from './crm-api.js';
import * as sapi from './segments-api.js';
import { confirmDialog } from './settings-kit.js';
import { formErrors, errorBox } from './forms.js';
import { avatar, contactName, stageBadge, dash } from './records.js';
import { combobox } from './record-form.js';
import { kindBadge, segmentHref, backToSegments, contactsText } from './segment-display.js';

const PAGE = 50;
let uid = 0;

export function staticListView(root, { segment: initial, version: initialVersion }) {
  const p = `sl${++uid}`;
  const w = sapi.canWriteSegments();
  const state = {
    segment: initial, version: initialVersion, creating: !initial, members: [], ids: new Set(), cursor: null,
    count: initial?.members ?? null, loading: false, destroyed: false, saving: false,
  };
  const controller = new AbortController();

  const s = () => state.segment || { name: '', description: '' };
  pageTitle(state.creating ? 'New static list' : (s().name || 'Static list'), 'Segments');

  // --- details ----------------------------------------------------------------------------
  const name = h('input', {
    class: 'input', id: `${p}-name`, name: 'name', maxlength: 120, autocomplete: 'off', required: true, readonly: !w,
    value: s().name || '', placeholder: 'e.g. Trade fair 2026 leads', dataset: { testid: 'segment-name' },
  });
  const description = h('textarea', {
    class: 'input', id: `${p}-description`, name: 'description', rows: 2, maxlength: 500, readonly: !w,
    placeholder: 'Where these contacts come from (optional)', dataset: { testid: 'segment-description' },
  }, s().description || '');
  const box = errorBox('segment-error');
  const saveBtn = w ? h('button', {
    type: 'submit', form: `${p}-form`, class: 'btn btn-primary', dataset: { testid: 'segment-save' }, 'aria-keyshortcuts': 'Control+Enter',
  }, icon('check', { size: 15 }), state.creating ? 'Create list' : 'Save') : null;
  const deleteBtn = w && !state.creating ? h('button', {
    type: 'button', class: 'btn btn-danger-quiet', dataset: { testid: 'segment-delete' }, onclick: () => remove(),
  }, icon('trash', { size: 15 }), h('span', { class: 'btn-label' }, 'Delete')) : null;
  const title = h('h1', { class: 'page-title', id: `${p}-h`, tabindex: '-1', dataset: { testid: 'segment-title' } }, state.creating ? 'New static list' : (s().name || 'Static list'));
  const countEl = h('span', { class: 'seg-list-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'segment-count' } });

  const form = h('form', { id: `${p}-form`, class: 'card seg-details', novalidate: true, 'aria-labelledby': `${p}-details-h` },
    h('h2', { class: 'seg-card-title', id: `${p}-details-h` }, 'Details'),
    box,
    h('div', { class: 'field-grid' },
      h('div', { class: 'field', dataset: { field: 'name' } },
        h('label', { for: name.id }, 'Name', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), name),
      h('div', { class: 'field', dataset: { field: 'description' } },
        h('label', { for: description.id }, 'Description'), description)));
  const errs = formErrors({ form, inputs: { name, description }, idPrefix: p, box });
  form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
  form.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (w) save(); } });
  [name, description].forEach((el) => el.addEventListener('input', () => errs.clearField(el.name)));

  // --- members ------------------------------------------------------------------------------
  const addInput = h('input', {
    class: 'input', id: `${p}-add`, type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: 'Search contacts by name or email…',
    dataset: { testid: 'list-add-contact' }, 'aria-describedby': `${p}-add-hint`,
  });
  const picker = combobox({
    inputEl: addInput,
    fetch: async (q, signal) => {
      const page = await crm.listRecords('contact', { q, limit: 8, signal });
      return page.items.map((c) => ({
        id: c.id, contact: c, label: contactName(c) || c.email || 'Unnamed contact',
        sub: state.ids.has(c.id) ? 'already on the list' : (c.email || c.company || ''),
      }));
    },
    onPick: (item) => { if (item) add(item.contact); },
    emptyText: (q) => `No contact matches “${q}”.`,
  });
  // What the last add or remove did, said next to the search (and to screen readers).
  const addStatus = h('p', { class: 'seg-add-status muted', role: 'status', 'aria-live': 'polite', dataset: { testid: 'list-status' } });
  function say(text, kind = '') {
    addStatus.textContent = text;
    addStatus.className = ['seg-add-status', kind === 'success' ? 'is-success' : 'muted'].join(' ');
  }
  const addRow = w ? h('div', { class: 'field seg-add' },
    h('label', { for: addInput.id }, 'Add contacts'),
    picker.wrap,
    h('p', { class: 'field-hint muted', id: `${p}-add-hint` }, 'Type a name or email, pick with ↑ ↓ and Enter. The search stays ready for the next one.'),
    addStatus) : null;

  const tbody = h('tbody');
  const table = h('table', { class: 'data-table seg-members-table', dataset: { testid: 'list-members' } },
    h('caption', { class: 'visually-hidden' }, 'Contacts on this list'),
    h('colgroup', null, ['slcol-name', 'slcol-email', 'slcol-stage', w ? 'slcol-actions' : null].filter(Boolean).map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'slcol-name' }, 'Contact'),
      h('th', { scope: 'col', class: 'slcol-email' }, 'Email'),
      h('th', { scope: 'col', class: 'slcol-stage' }, 'Stage'),
      w ? h('th', { scope: 'col', class: 'slcol-actions' }, h('span', { class: 'visually-hidden' }, 'Actions')) : null)),
    tbody);
  const tableWrap = h('div', { class: 'table-wrap' }, table);
  const membersEmpty = h('div', { class: 'seg-members-empty', hidden: true, dataset: { testid: 'list-empty' } });
  const more = h('button', { type: 'button', class: 'btn', hidden: true, dataset: { testid: 'load-more' }, onclick: () => loadMembers(false) }, 'Load more');
  const membersCard = h('section', { class: 'card seg-members', 'aria-labelledby': `${p}-members-h` },
    h('div', { class: 'seg-members-head' },
      h('h2', { class: 'seg-card-title', id: `${p}-members-h` }, 'Members'), countEl),
    state.creating
      ? h('p', { class: 'muted seg-card-lead', dataset: { testid: 'list-create-first' } }, 'Create the list first; then search for contacts here and add them one by one.')
      : [addRow, tableWrap, membersEmpty, h('div', { class: 'list-footer' }, more)],
    !state.creating ? h('p', { class: 'muted seg-use-hint' }, icon('zap', { size: 13 }),
      h('span', null, 'Use it in a dynamic segment with the rule “Static lists include ', h('strong', null, s().name || 'this list'), '”.')) : null);

  mount(root,
    backToSegments(),
    h('div', { class: 'page-header seg-editor-header' },
      h('div', { class: 'page-heading' },
        h('p', { class: 'seg-eyebrow muted' }, 'Campaigns · Segments'),
        title,
        h('p', { class: 'page-sub seg-editor-sub' }, kindBadge('static'),
          state.creating ? h('span', null, ' Contacts you add by hand; they stay until you remove them.')
            : h('span', null, ' Updated ', timeEl(s().updated_at, { withTime: true }), '.'),
          !w ? h('span', { class: 'muted' }, ' Your role can see this list but not change it.') : null)),
      w ? h('div', { class: 'page-actions seg-editor-actions' }, deleteBtn, saveBtn) : null),
    h('div', { class: 'seg-static' }, form, membersCard));

  function renderCount() {
    countEl.textContent = state.count == null ? '' : contactsText(state.count);
  }

  // --- member rows --------------------------------------------------------------------------
  function memberRow(c, { fresh = false } = {}) {
    const label = contactName(c) || 'Unnamed contact';
    return h('tr', { class: [fresh && 'row-new'], dataset: { testid: 'list-member', id: c.id, contactId: c.id } },
      h('td', { class: 'slcol-name' },
        h('div', { class: 'name-cell' },
          avatar('contact', c, 'sm'),
          h('div', { class: 'name-text' },
            h('a', { class: 'row-link', href: `/contacts/${encodeURIComponent(c.id)}` }, contactName(c) || h('span', { class: 'muted fst-italic' }, 'Unnamed contact')),
            c.email ? h('div', { class: 'cell-sub' }, c.email) : null))),
      h('td', { class: 'slcol-email' }, c.email ? h('span', { class: 'truncate', title: c.email }, c.email) : dash()),
      h('td', { class: 'slcol-stage' }, c.lifecycle_stage ? stageBadge(c.lifecycle_stage) : dash()),
      w ? h('td', { class: 'slcol-actions' }, h('button', {
        type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'list-remove-member' },
        'aria-label': `Remove ${label} from the list`, title: 'Remove from the list',
        onclick: (e) => removeMember(c, e.currentTarget),
      }, icon('userX', { size: 14 }), h('span', { class: 'btn-label' }, 'Remove'))) : null);
  }

  function syncEmpty() {
    const none = !state.members.length && !state.loading;
    tableWrap.hidden = none;
    membersEmpty.hidden = !none;
    if (none) {
      mount(membersEmpty, h('div', { class: 'empty-state seg-members-empty-state' },
        h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('users', { size: 24 })),
        h('h3', { class: 'empty-title' }, 'No one on this list yet'),
        h('p', { class: 'empty-text' }, w ? 'Search above to add contacts, one after the other.' : 'Contacts appear here once someone adds them.')));
    }
  }

  async function loadMembers(reset) {
    if (state.creating || state.loading) return;
    state.loading = true;
    more.disabled = true;
    table.setAttribute('aria-busy', 'true');
    if (reset) {
      state.members = []; state.ids.clear(); state.cursor = null;
      tableWrap.hidden = false; membersEmpty.hidden = true;
      mount(tbody, Array.from({ length: 4 }, (_, i) => h('tr', { 'aria-hidden': 'true' },
        h('td', { class: 'slcol-name' }, h('div', { class: 'name-cell' }, h('span', { class: 'avatar avatar-sm skeleton' }), h('span', { class: 'skeleton skeleton-text', style: { width: `${40 + ((i * 23) % 40)}%` } }))),
        h('td', { class: 'slcol-email' }, h('span', { class: 'skeleton skeleton-text', style: { width: '70%' } })),
        h('td', { class: 'slcol-stage' }, h('span', { class: 'skeleton skeleton-text', style: { width: '50%' } })),
        w ? h('td', { class: 'slcol-actions' }) : null)));
    }
    try {
      const page = await sapi.segmentMembers(state.segment.id, { limit: PAGE, cursor: reset ? undefined : state.cursor, signal: controller.signal });
      if (state.destroyed) return;
      if (reset) tbody.replaceChildren();
      const fresh = page.items.filter((c) => c?.id && !state.ids.has(c.id));
      fresh.forEach((c) => state.ids.add(c.id));
      state.members.push(...fresh);
      tbody.append(...fresh.map((c) => memberRow(c)));
      state.cursor = page.next_cursor;
      more.hidden = !state.cursor;
      // An empty list (just created, say): the search is what comes next.
      if (reset && !state.members.length && w && (document.activeElement === title || document.activeElement === document.body)) addInput.focus();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (reset) tbody.replaceChildren();
      toastError(err, 'Could not load the members');
    } finally {
      state.loading = false;
      more.disabled = false;
      table.setAttribute('aria-busy', 'false');
      if (!state.destroyed) syncEmpty();
    }
  }

  async function add(contact) {
    if (state.ids.has(contact.id)) {
      say(`${contactName(contact) || 'This contact'} is already on the list.`);
      addInput.value = '';
      return;
    }
    try {
      const res = await sapi.addMembers(state.segment.id, [contact.id]);
      if (state.destroyed) return;
      if (res.segment) {
        state.segment = { ...state.segment, ...res.segment };
        if (res.segment.version != null) state.version = String(res.segment.version);
        if (res.segment.members != null) state.count = res.segment.members;
      } else if (state.count != null) state.count += res.added;
      renderCount();
      state.ids.add(contact.id);
      state.members.unshift(contact);
      tbody.prepend(memberRow(contact, { fresh: true }));
      syncEmpty();
      addInput.value = '';
      say(`Added ${contactName(contact) || 'the contact'}. ${contactsText(state.count ?? state.members.length)} on the list.`, 'success');
      addInput.focus();
    } catch (err) {
      toastError(err, 'Could not add the contact');
    }
  }

  async function removeMember(c, button) {
    button.disabled = true;
    const label = contactName(c) || 'The contact';
    try {
      await sapi.removeMember(state.segment.id, c.id);
      if (state.destroyed) return;
      const tr = button.closest('tr');
      const next = tr.nextElementSibling || tr.previousElementSibling;
      tr.remove();
      state.ids.delete(c.id);
      state.members = state.members.filter((x) => x.id !== c.id);
      if (state.count != null) state.count = Math.max(0, state.count - 1);
      renderCount();
      syncEmpty();
      say(`Removed ${label} from the list. ${contactsText(state.count ?? state.members.length)} on it.`);
      (next?.querySelector('[data-testid="list-remove-member"]') || addInput).focus();
      // Pick up the list's current version (and count) for the next save.
      sapi.getSegment(state.segment.id, { signal: controller.signal }).then(({ segment, version }) => {
        if (state.destroyed) return;
        state.version = version;
        if (segment.members != null) { state.count = segment.members; renderCount(); }
      }, () => {});
    } catch (err) {
      button.disabled = false;
      if (err.isNotFound) {
        // Someone else took them off meanwhile.
        button.closest('tr')?.remove();
        state.ids.delete(c.id);
        state.members = state.members.filter((x) => x.id !== c.id);
        syncEmpty();
        say(`${label} was not on the list any more.`);
        return;
      }
      toastError(err, 'Could not remove the contact');
    }
  }

  // --- save and delete ------------------------------------------------------------------------
  async function save() {
    if (state.saving) return;
    errs.clearAll();
    const body = { name: name.value.trim(), description: description.value.trim() };
    if (!body.name) { errs.setField('name', ['Give the list a name']); name.focus(); return; }
    let patch;
    if (state.creating) patch = { name: body.name, description: body.description || null, kind: 'static' };
    else {
      patch = {};
      if (body.name !== (state.segment.name || '')) patch.name = body.name;
      if (body.description !== (state.segment.description || '')) patch.description = body.description || null;
      if (!Object.keys(patch).length) { toast('Nothing changed.', { title: 'Saved', timeout: 2000 }); return; }
    }
    state.saving = true;
    saveBtn.disabled = true;
    try {
      const res = state.creating ? await sapi.createSegment(patch) : await sapi.updateSegment(state.segment.id, patch, state.version);
      state.saving = false;
      saveBtn.disabled = false;
      if (state.destroyed) return;
      if (state.creating) {
        toast(`“${res.segment.name}” is ready. Add contacts to it now.`, { kind: 'success', title: 'List created' });
        navigate(segmentHref(res.segment.id), { replace: true });
        return;
      }
      state.segment = res.segment;
      state.version = res.version;
      title.textContent = res.segment.name;
      pageTitle(res.segment.name, 'Segments');
      toast('Your changes are saved.', { kind: 'success', title: 'Saved' });
    } catch (err) {
      state.saving = false;
      saveBtn.disabled = false;
      if (err.status === 412) {
        toast('Someone else changed this list meanwhile. The page shows their version now; make your change again if it is still needed.', {
          kind: 'error', title: 'Changed by someone else', requestId: err.requestId,
        });
        navigate(segmentHref(state.segment.id), { replace: true });
        return;
      }
      errs.fromApi(err, { fallbackTitle: 'Could not save the list', focus: name });
    }
  }

  function remove() {
    confirmDialog({
      title: `Delete “${s().name || 'this list'}”?`,
      text: `The list and who is on it are deleted (${contactsText(state.count ?? state.members.length)}); the contacts themselves stay. Segments whose rules use this list no longer match anyone through it. This cannot be undone.`,
      confirmLabel: 'Delete list', workingLabel: 'Deleting…', testid: 'segment-confirm-delete',
      run: async () => {
        await sapi.deleteSegment(state.segment.id);
        navigate('/campaigns/segments');
        toast(`“${s().name}” was deleted.`, { title: 'List deleted' });
      },
    });
  }

  renderCount();
  if (state.creating) {
    if (w) name.focus();
  } else {
    loadMembers(true);
    sapi.countSegment(state.segment.id, { signal: controller.signal }).then((n) => { state.count = n; renderCount(); }, () => {});
    title.focus({ preventScroll: true });
  }

  return {
    destroy() { state.destroyed = true; controller.abort(); picker.close(); },
  };
}
