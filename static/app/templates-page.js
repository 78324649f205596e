// Campaigns › Templates (/campaigns/templates): every email template with its
// subject and the merge fields it uses; a name search; "New template". The
// editor (/campaigns/templates/new, /campaigns/templates/<id>): name, subject,
// HTML and plain-text parts with "Insert field", a live preview as a chosen
// contact, syntax errors at their field, Save (Ctrl/Cmd+S, If-Match; 412
// reloads), a test send, delete, and "Use in a campaign".

import { h, mount, icon, toast, toastError, pageTitle, debounce, timeEl } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as capi from './campaigns-api.js';
import { emptyState } from './contacts.js';
import { skeletonRows, showLoadError, rowSelection } from './list-kit.js';
import { confirmDialog } from './settings-kit.js';
import { errorBox } from './forms.js';
import { compactTime } from './records.js';
import { campaignsHeader, backLink, templateHref, cicon, nf } from './campaign-display.js';
import { mailEditor, openTestSend, setFieldError, clearFieldError } from './mail-editor.js';

// ---------------------------------------------------------------------------
// The list

export function templateListView(root, { query = new URLSearchParams() } = {}) {
  const state = { all: [], loaded: false, q: (query.get('q') || '').trim(), selected: -1, destroyed: false, controller: new AbortController() };
  pageTitle('Templates', 'Campaigns');

  const newButton = h('a', {
    class: 'btn btn-primary', href: '/campaigns/templates/new', dataset: { testid: 'new-template' }, hidden: true, 'aria-keyshortcuts': 'n',
  }, icon('plus'), h('span', null, 'New template'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));
  const searchInput = h('input', {
    id: 'tpl-search', class: 'input-sm', type: 'search', autocomplete: 'off', maxlength: 120, placeholder: 'Search names and subjects',
    value: state.q, dataset: { testid: 'template-search' },
  });
  const search = h('form', { class: 'ol-search', role: 'search', 'aria-label': 'Find templates', onsubmit: (e) => { e.preventDefault(); apply(); } },
    h('label', { for: 'tpl-search', class: 'visually-hidden' }, 'Search templates'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), searchInput));
  const applySoon = debounce(() => apply(), 150);
  searchInput.addEventListener('input', applySoon);
  const summary = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'templates-summary' } });

  const cols = ['tpcol-name', 'tpcol-fields', 'tpcol-updated'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table cp-templates-table', dataset: { testid: 'templates-list' } },
    h('caption', { class: 'visually-hidden' }, 'Email templates'),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'tpcol-name' }, 'Template'),
      h('th', { scope: 'col', class: 'tpcol-fields' }, 'Merge fields'),
      h('th', { scope: 'col', class: 'tpcol-updated' }, 'Updated'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });

  mount(root,
    ...campaignsHeader('templates', { sub: 'Reusable emails with merge fields; a campaign copies one and can change it', actions: [newButton] }),
    h('div', { class: 'ol-toolbar cp-toolbar' }, search, summary),
    wrap, empty,
    h('p', { class: 'visually-hidden', id: 'tpl-help' }, 'Press j and k to move between templates and Enter to open one.'));

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    tr.querySelector('a.row-link')?.click();
  });

  function row(t) {
    const fields = (t.fields || []).filter(Boolean);
    return h('tr', { dataset: { testid: 'template-row', id: t.id, templateId: t.id } },
      h('td', { class: 'tpcol-name' },
        h('div', { class: 'seg-name-cell' },
          h('span', { class: 'seg-icon seg-icon-dynamic', 'aria-hidden': 'true' }, cicon('template', { size: 15 })),
          h('div', { class: 'name-text' },
            h('a', { class: 'row-link', href: templateHref(t.id), 'aria-describedby': 'tpl-help', dataset: { testid: 'template-link' } }, t.name || 'Untitled template'),
            h('div', { class: 'cp-sub truncate', title: t.subject || '' }, t.subject || h('span', { class: 'fst-italic' }, 'No subject'))))),
      h('td', { class: 'tpcol-fields' }, fields.length
        ? h('span', { class: 'cp-field-chips', title: fields.join(', ') }, fields.slice(0, 4).map((f) => h('code', { class: 'cp-field-chip' }, f)), fields.length > 4 ? h('span', { class: 'muted' }, ` +${fields.length - 4}`) : null)
        : h('span', { class: 'muted' }, 'None')),
      h('td', { class: 'tpcol-updated' }, compactTime(t.updated_at)));
  }

  function apply() {
    state.q = searchInput.value.trim();
    updateUrl(`/campaigns/templates${state.q ? `?q=${encodeURIComponent(state.q)}` : ''}`);
    if (!state.loaded) return;
    const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = state.all.filter((t) => words.every((w) => `${t.name || ''} ${t.subject || ''}`.toLowerCase().includes(w)));
    state.selected = -1;
    mount(tbody, shown.map(row));
    summary.textContent = shown.length === state.all.length
      ? `${nf.format(state.all.length)} ${state.all.length === 1 ? 'template' : 'templates'}`
      : `${nf.format(shown.length)} of ${nf.format(state.all.length)} templates`;
    wrap.hidden = !shown.length;
    empty.hidden = !!shown.length;
    if (shown.length) return;
    const w = capi.canWriteCampaigns();
    mount(empty, state.all.length
      ? emptyState({
        iconName: 'search', title: 'No templates match', text: 'Try another word.',
        actions: [h('button', { type: 'button', class: 'btn', onclick: () => { searchInput.value = ''; apply(); searchInput.focus(); } }, 'Show every template')],
      })
      : emptyState({
        iconName: 'mail', title: 'No templates yet',
        text: 'A template is an email you write once, with merge fields such as the contact’s first name, and send in many campaigns.',
        actions: w ? [h('a', { class: 'btn btn-primary', href: '/campaigns/templates/new', dataset: { testid: 'empty-new-template' } }, icon('plus', { size: 15 }), 'New template')] : [],
        hint: w ? null : 'Your role can see templates; marketing writes them.',
      }));
  }

  async function load() {
    mount(tbody, skeletonRows(cols, 4));
    table.setAttribute('aria-busy', 'true');
    try {
      const [list] = await Promise.all([capi.listTemplates({ signal: state.controller.signal }), session.whenLoaded()]);
      if (state.destroyed) return;
      state.all = list;
      state.loaded = true;
      apply();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      wrap.hidden = true;
      empty.hidden = false;
      showLoadError(empty, err, { title: 'Templates', noun: 'the templates', retry: load });
    } finally {
      table.setAttribute('aria-busy', 'false');
    }
  }

  const rowsKeys = rowSelection(tbody, state);

  session.whenLoaded().then(() => { if (!state.destroyed) newButton.hidden = !capi.canWriteCampaigns(); });
  load();
  return {
    kind: 'template-list',
    moveSelection: rowsKeys.move,
    openSelection: rowsKeys.open,
    openCreate: () => { if (capi.canWriteCampaigns()) navigate('/campaigns/templates/new'); },
    destroy() { state.destroyed = true; state.controller.abort(); applySoon.cancel(); },
  };
}

// ---------------------------------------------------------------------------
// The editor

let uid = 0;

export function templateEditorView(root, id = null) {
  const creating = !id;
  const p = `tpl${++uid}`;
  const controller = new AbortController();
  const state = { template: null, version: null, saving: false, destroyed: false, dirty: false, baseline: null, editor: null };
  const back = () => backLink('/campaigns/templates', 'Templates', 'back-to-templates');

  function skeleton() {
    mount(root, back(), h('div', { class: 'card seg-loading', 'aria-busy': 'true' },
      [35, 60, 90, 80, 70].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '16px 0' } }))));
  }

  function render() {
    const t = state.template || { name: '', subject: '', html: '', text: '' };
    const w = capi.canWriteCampaigns();
    pageTitle(creating ? 'New template' : (t.name || 'Template'), 'Templates');
    state.editor?.destroy();

    const name = h('input', {
      class: 'input', id: `${p}-name`, name: 'name', maxlength: 120, autocomplete: 'off', required: true, readonly: !w,
      value: t.name || '', placeholder: 'e.g. Winter sale', dataset: { testid: 'template-name' },
    });
    const box = errorBox('template-error');
    const dirtyNote = h('span', { class: 'seg-dirty muted', hidden: true, dataset: { testid: 'template-dirty' } }, 'Unsaved changes');
    const editor = mailEditor({
      content: t, readOnly: !w,
      testids: { subject: 'template-subject', html: 'template-html', text: 'template-text', preview: 'template-preview' },
      onInput: () => syncDirty(),
    });
    state.editor = editor;

    const saveBtn = w ? h('button', {
      type: 'button', class: 'btn btn-primary', dataset: { testid: 'template-save' }, 'aria-keyshortcuts': 'Control+S Meta+S', onclick: () => save(),
    }, icon('check', { size: 15 }), creating ? 'Create template' : 'Save', h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'Ctrl S')) : null;
    const testBtn = !creating ? h('button', {
      type: 'button', class: 'btn', dataset: { testid: 'template-test' }, onclick: () => sendTest(),
    }, cicon('send', { size: 15 }), h('span', { class: 'btn-label' }, 'Send test')) : null;
    const useBtn = !creating && w ? h('a', {
      class: 'btn', href: `/campaigns/new?template=${encodeURIComponent(t.id)}`, dataset: { testid: 'template-use' },
    }, icon('plus', { size: 15 }), h('span', { class: 'btn-label' }, 'Use in a campaign')) : null;
    const deleteBtn = w && !creating ? h('button', {
      type: 'button', class: 'btn btn-danger-quiet', dataset: { testid: 'template-delete' }, onclick: () => remove(),
    }, icon('trash', { size: 15 }), h('span', { class: 'btn-label' }, 'Delete')) : null;

    const form = h('form', { class: 'cp-editor', novalidate: true, 'aria-labelledby': `${p}-h`, dataset: { testid: 'template-editor', templateId: t.id || null } },
      h('section', { class: 'card cp-editor-main' },
        box,
        h('div', { class: 'field', dataset: { field: 'name' } },
          h('label', { for: name.id }, 'Name', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), name,
          h('p', { class: 'field-hint muted' }, 'For you and your colleagues; recipients never see it.')),
        editor.fields),
      h('div', { class: 'cp-editor-side' }, editor.preview));
    form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
    form.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (w) save(); } });
    name.addEventListener('input', () => { clearFieldError(name); syncDirty(); });

    mount(root,
      back(),
      h('div', { class: 'page-header seg-editor-header' },
        h('div', { class: 'page-heading' },
          h('p', { class: 'seg-eyebrow muted' }, 'Campaigns · Templates'),
          h('h1', { class: 'page-title', id: `${p}-h`, tabindex: '-1', dataset: { testid: 'template-title' } }, creating ? 'New template' : (t.name || 'Template')),
          h('p', { class: 'page-sub' }, creating ? 'Write it once; campaigns copy it.'
            : h('span', { dataset: { testid: 'template-updated' } }, 'Updated ', timeEl(t.updated_at, { withTime: true }), '.'),
          !w ? h('span', { class: 'muted' }, ' Your role can see this template but not change it.') : null)),
        h('div', { class: 'page-actions seg-editor-actions' }, dirtyNote, deleteBtn, useBtn, testBtn, saveBtn)),
      form,
      w ? h('p', { class: 'muted seg-save-hint' }, h('kbd', null, 'Ctrl'), '+', h('kbd', null, 'S'), ' (', h('kbd', null, '⌘'), '+', h('kbd', null, 'S'), ' on a Mac) saves.') : null);

    function currentBody() { return { name: name.value.trim(), ...editor.read() }; }
    state.baseline = JSON.stringify(currentBody());
    function syncDirty() {
      state.dirty = JSON.stringify(currentBody()) !== state.baseline;
      dirtyNote.hidden = !state.dirty;
    }

    async function save({ quiet = false } = {}) {
      if (state.saving || !w) return false;
      box.hidden = true;
      clearFieldError(name);
      editor.clearErrors();
      const body = currentBody();
      if (!body.name) { setFieldError(name, 'Give the template a name'); name.focus(); return false; }
      let patch = body;
      if (!creating) {
        const before = state.template;
        patch = {};
        for (const k of ['name', 'subject', 'html', 'text']) if (body[k] !== (before[k] ?? '')) patch[k] = body[k];
        if (!Object.keys(patch).length) { if (!quiet) toast('Nothing changed.', { title: 'Saved', timeout: 2000 }); return true; }
      }
      state.saving = true;
      if (saveBtn) saveBtn.disabled = true;
      form.setAttribute('aria-busy', 'true');
      try {
        const res = creating ? await capi.createTemplate(patch) : await capi.updateTemplate(id, patch, state.version);
        state.saving = false;
        if (state.destroyed) return true;
        if (creating) {
          state.dirty = false;
          toast(`“${res.template.name}” is saved. Use it in a campaign when it is ready.`, { kind: 'success', title: 'Template created' });
          navigate(templateHref(res.template.id), { replace: true });
          return true;
        }
        state.template = res.template;
        state.version = res.version;
        if (saveBtn) saveBtn.disabled = false;
        form.removeAttribute('aria-busy');
        // The server derives the plain text when it was left empty: show it.
        if (!body.text.trim() && res.template.text) editor.inputs.text.value = res.template.text;
        state.baseline = JSON.stringify(currentBody());
        syncDirty();
        root.querySelector('[data-testid="template-title"]').textContent = res.template.name;
        root.querySelector('[data-testid="template-updated"]')?.replaceChildren('Updated ', timeEl(res.template.updated_at, { withTime: true }), '.');
        pageTitle(res.template.name, 'Templates');
        if (!quiet) toast('Your changes are saved.', { kind: 'success', title: 'Saved' });
        return true;
      } catch (err) {
        state.saving = false;
        if (saveBtn) saveBtn.disabled = false;
        form.removeAttribute('aria-busy');
        if (state.destroyed) return false;
        if (err.status === 412) {
          toast('Someone else changed this template meanwhile. The page shows their version now; make your change again if it is still needed.', {
            kind: 'error', title: 'Changed by someone else', requestId: err.requestId,
          });
          await fetchIt(false);
          return false;
        }
        if (err.isValidation) {
          const first = editor.showErrors(err.errors);
          const nameErr = err.errors.find((e) => e.field === 'name');
          if (nameErr) setFieldError(name, nameErr.message);
          const rest = err.errors.filter((e) => !['name', 'subject', 'html', 'text'].includes(e.field));
          if (rest.length || (!first && !nameErr)) {
            box.hidden = false;
            mount(box, icon('alert'), h('div', null, h('strong', null, err.title || 'Please check the template'), ' ',
              rest.map((e) => `${e.field}: ${e.message}`).join('. ') || err.detail));
          }
          (nameErr ? name : first || name).focus();
          return false;
        }
        toastError(err, 'Could not save the template');
        return false;
      }
    }
    state.save = save;

    async function sendTest() {
      if (state.dirty && w) {
        const ok = await save({ quiet: true });
        if (!ok) return;
      }
      openTestSend({
        title: 'Send a test of this template',
        send: ({ to, contactId }) => capi.testTemplate(state.template.id, { to, contactId }),
      });
    }

    function remove() {
      confirmDialog({
        title: `Delete “${t.name || 'this template'}”?`,
        text: 'The template is deleted. Campaigns made from it keep their own copy of the content. This cannot be undone.',
        confirmLabel: 'Delete template', workingLabel: 'Deleting…', testid: 'template-confirm-delete',
        run: async () => {
          await capi.deleteTemplate(id);
          state.dirty = false;
          navigate('/campaigns/templates');
          toast(`“${t.name}” was deleted.`, { title: 'Template deleted' });
        },
      });
    }
    return { name };
  }

  async function fetchIt(showSkeleton = true) {
    if (showSkeleton) skeleton();
    try {
      const [{ template, version }] = await Promise.all([capi.getTemplate(id, { signal: controller.signal }), session.whenLoaded()]);
      if (state.destroyed) return;
      state.template = template;
      state.version = version;
      render();
      root.querySelector('h1')?.focus({ preventScroll: true });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (err.isNotFound || err.status === 422) {
        pageTitle('Template not found');
        mount(root, back(), emptyState({
          testid: 'not-found', iconName: 'search', title: 'Template not found', text: 'It may have been deleted, or the link is wrong.',
          actions: [h('a', { class: 'btn btn-primary', href: '/campaigns/templates' }, 'All templates')],
        }));
      } else {
        mount(root, back(), emptyState({
          testid: 'error-state', iconName: err.status === 403 ? 'lock' : 'alert',
          title: err.status === 403 ? 'Templates are not available to your role' : (err.title || 'Could not load this template'),
          text: err.detail || err.message,
          actions: err.status === 403 ? [] : [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => fetchIt(true) }, 'Retry')],
        }));
        if (!err.handled && err.status !== 403) toastError(err, 'Could not load this template');
      }
    }
  }

  // Ctrl/Cmd+S saves wherever the focus is on this page (not while a dialog is open).
  const onKey = (e) => {
    if ((e.key === 's' || e.key === 'S') && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey) {
      if (document.querySelector('dialog[open]') || !state.save) return;
      e.preventDefault();
      state.save();
    }
  };
  document.addEventListener('keydown', onKey);
  const beforeUnload = (e) => { if (state.dirty && !state.saving) { e.preventDefault(); e.returnValue = ''; } };
  window.addEventListener('beforeunload', beforeUnload);

  if (creating) {
    session.whenLoaded().then(() => {
      if (state.destroyed) return;
      const { name } = render();
      if (capi.canWriteCampaigns()) name.focus();
    });
  } else fetchIt(true);

  return {
    kind: 'template-editor',
    destroy() {
      state.destroyed = true;
      controller.abort();
      state.editor?.destroy();
      document.removeEventListener('keydown', onKey);
      window.removeEventListener('beforeunload', beforeUnload);
    },
  };
}
