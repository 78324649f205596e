// Saved views of the contacts and companies lists: a "Views" menu listing the
// user's own views and the shared ones (GET /api/v1/views?entity=), applying
// one (its query string and columns), saving the current list as a view
// (shared with everyone by owners, admins and managers), and renaming or
// deleting the ones the user may change.

import { h, mount, icon, openModal, toast, toastError } from './ui.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import { xicon, canWrite, meId } from './records.js';
import { popover } from './filters.js';
import { field, formErrors, errorBox, busy } from './forms.js';
import { confirmDialog } from './settings-kit.js';

const SHARERS = new Set(['owner', 'admin', 'manager']);
export function mayShare() { return SHARERS.has(session.getSession().user?.role); }

/** A list query string without paging (cursor, limit), its parameters in a stable order. */
export function normalizeQuery(qs) {
  const p = new URLSearchParams(String(qs || '').replace(/^\?/, ''));
  const out = new URLSearchParams();
  const keys = [...new Set(p.keys())].filter((k) => k !== 'cursor' && k !== 'limit');
  const order = ['q', 'filter', 'sort'];
  keys.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  for (const k of keys) {
    const v = p.get(k);
    if (v) out.set(k, v);
  }
  return out.toString();
}

function mayChange(v) {
  if (v.shared) return mayShare();
  return !!v.owner_id && v.owner_id === meId();
}

/**
 * viewsMenu({ entity, plural, current: () => ({ query, columns }), apply(view) })
 * → { wrap, refresh(), close(), setHidden(bool) }
 */
export function viewsMenu({ entity, plural, current, apply }) {
  let views = null;
  let loading = null;
  let error = null;

  const label = h('span', { class: 'btn-label views-label truncate' }, 'Views');
  const button = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'views-menu' }, title: 'Saved views' },
    xicon('bookmark', { size: 15 }), label, icon('chevronDown', { size: 14 }));
  const list = h('div', { class: 'views-list', role: 'group', 'aria-label': 'Saved views' });
  const saveBtn = h('button', {
    type: 'button', class: 'menu-item views-save', dataset: { testid: 'save-view' },
    onclick: () => { menu.close(); openSaveDialog(); },
  }, icon('plus', { size: 15 }), h('span', null, 'Save current view…'));
  const panel = h('div', { class: 'views-panel' },
    h('div', { class: 'column-panel-title' }, `Saved views of ${plural}`),
    list,
    h('div', { class: 'views-foot' }, saveBtn));
  const menu = popover({ button, panel, align: 'end', testid: 'views-popover', onOpen: () => { render(); load(true); } });

  function activeView() {
    if (!views) return null;
    const q = normalizeQuery(current().query);
    return views.find((v) => normalizeQuery(v.query) === q && (q || sameColumns(v.columns, current().columns))) || null;
  }
  function sameColumns(a, b) { return JSON.stringify(a || []) === JSON.stringify(b || []); }

  function updateLabel() {
    const active = activeView();
    label.textContent = active ? active.name : 'Views';
    button.classList.toggle('is-active', !!active);
    button.title = active ? `View: ${active.name}` : 'Saved views';
  }

  async function load(force = false) {
    if (loading && !force) return loading;
    loading = crm.listViews(entity).then((items) => {
      views = items.filter((v) => !v.entity || v.entity === entity);
      error = null;
    }).catch((err) => {
      error = err;
    }).finally(() => {
      render();
      updateLabel();
    });
    return loading;
  }

  function render() {
    saveBtn.hidden = !canWrite();
    if (!views && !error) { mount(list, h('p', { class: 'muted views-empty' }, 'Loading…')); return; }
    if (error && !views) {
      mount(list, h('p', { class: 'muted views-empty' }, `Views could not be loaded (${error.detail || error.message}). `,
        h('button', { type: 'button', class: 'link-button', onclick: () => load(true) }, 'Retry')));
      return;
    }
    if (!views.length) {
      mount(list, h('p', { class: 'muted views-empty', dataset: { testid: 'views-empty' } },
        `No saved views yet. Filter, sort and choose columns, then save the view to come back to it in one click.`));
      return;
    }
    const active = activeView();
    const own = views.filter((v) => !v.shared);
    const shared = views.filter((v) => v.shared);
    const item = (v) => h('div', { class: ['view-item', active?.id === v.id && 'is-active'], dataset: { testid: 'view-item', id: v.id, shared: v.shared ? 'true' : null } },
      h('button', {
        type: 'button', class: 'menu-item view-apply', title: v.query ? `Apply: ${describeQuery(v.query)}` : 'Apply',
        'aria-current': active?.id === v.id ? 'true' : null,
        onclick: () => { menu.close(); apply(v); },
      },
      active?.id === v.id ? icon('check', { size: 15 }) : h('span', { class: 'view-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'truncate' }, v.name),
      v.shared ? h('span', { class: 'badge badge-accent view-shared', dataset: { testid: 'view-shared' }, title: 'Shared with everyone in the workspace' }, 'Shared') : null),
      mayChange(v) && canWrite() ? h('span', { class: 'view-actions' },
        h('button', { type: 'button', class: 'icon-button icon-button-sm', 'aria-label': `Rename view ${v.name}`, title: 'Rename', dataset: { testid: 'view-rename' },
          onclick: () => { menu.close(); openRenameDialog(v); } }, icon('pencil', { size: 14 })),
        h('button', { type: 'button', class: 'icon-button icon-button-sm', 'aria-label': `Delete view ${v.name}`, title: 'Delete', dataset: { testid: 'view-delete' },
          onclick: () => { menu.close(); confirmDelete(v); } }, icon('trash', { size: 14 }))) : null);
    mount(list,
      own.length ? [h('div', { class: 'column-group-title muted' }, 'Yours'), own.map(item)] : null,
      shared.length ? [h('div', { class: 'column-group-title muted' }, 'Shared'), shared.map(item)] : null);
  }

  function describeQuery(qs) {
    const p = new URLSearchParams(qs);
    const bits = [];
    if (p.get('q')) bits.push(`search “${p.get('q')}”`);
    if (p.get('filter')) bits.push('filters');
    if (p.get('sort')) {
      const key = p.get('sort').replace(/^-/, '').replace(/^custom\./, '').replace(/[._]+/g, ' ');
      bits.push(`sorted by ${key}${p.get('sort').startsWith('-') ? ', descending' : ''}`);
    }
    return bits.join(', ') || 'all records';
  }

  // --- dialogs --------------------------------------------------------------------

  function nameDialog({ title, submitLabel, workingLabel, initial = '', hint, withShare = false, testid, run }) {
    const name = field({ name: 'name', label: 'Name', idPrefix: 'view', testid: 'view-name', maxlength: 80, required: true, value: initial, autofocus: true });
    const share = withShare
      ? h('label', { class: 'check-row share-row', for: 'view-shared' },
        h('input', { type: 'checkbox', id: 'view-shared', name: 'shared', dataset: { testid: 'view-share' } }),
        h('span', null, 'Share with everyone in the workspace', h('span', { class: 'check-hint muted' }, ' (they can apply it; owners, admins and managers can change it)')))
      : null;
    const box = errorBox('view-error');
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'view-save' } }, submitLabel);
    const form = h('form', { class: 'dialog-form', novalidate: true },
      h('header', { class: 'dialog-header' },
        h('h2', { id: 'view-dialog-title' }, title),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
      h('div', { class: 'dialog-body' }, box, hint ? h('p', { class: 'form-hint muted' }, hint) : null, name.wrap, share),
      h('footer', { class: 'dialog-footer' },
        h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'), submit));
    const dialog = h('dialog', { class: 'dialog view-dialog', 'aria-labelledby': 'view-dialog-title', dataset: { testid } }, form);
    const errs = formErrors({ form, inputs: { name: name.input }, idPrefix: 'view', box });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      errs.clearAll();
      const value = name.input.value.trim();
      if (!value) { errs.setField('name', ['Give the view a name']); name.input.focus(); return; }
      busy(submit, true, { idle: submitLabel, working: workingLabel });
      try {
        await run({ name: value, shared: !!form.querySelector('#view-shared')?.checked });
        dialog.close('saved');
      } catch (err) {
        busy(submit, false, { idle: submitLabel, working: workingLabel });
        if (err?.status === 403) {
          errs.showBox(h('div', null, h('strong', null, 'Not allowed'), ' ', 'Only owners, admins and managers share views with everyone. Save it for yourself instead.'));
        } else errs.fromApi(err, { fallbackTitle: 'Could not save the view', focus: name.input });
      }
    });
    openModal(dialog);
    name.input.focus();
    name.input.select();
    return dialog;
  }

  function openSaveDialog() {
    const { query, columns } = current();
    const hint = query ? `Saves the search, filters and sort (${describeQuery(query)}) and the columns shown.` : 'Saves the columns shown; filter or sort the list first to save those too.';
    nameDialog({
      title: 'Save view',
      submitLabel: 'Save view',
      workingLabel: 'Saving…',
      testid: 'save-view-dialog',
      hint,
      withShare: mayShare(),
      run: async ({ name, shared }) => {
        const v = await crm.createView({ entity, name, query: normalizeQuery(query), columns, shared: mayShare() && shared });
        views = [...(views || []), v].sort((a, b) => (a.shared === b.shared ? a.name.localeCompare(b.name) : a.shared ? 1 : -1));
        updateLabel();
        toast(`“${v.name}” is saved${v.shared ? ' and shared with everyone' : ''}. Find it under Views.`, { kind: 'success', title: 'View saved' });
      },
    });
  }

  function openRenameDialog(v) {
    nameDialog({
      title: 'Rename view',
      submitLabel: 'Rename',
      workingLabel: 'Renaming…',
      initial: v.name,
      testid: 'rename-view-dialog',
      run: async ({ name }) => {
        const updated = await crm.updateView(v.id, { name });
        views = (views || []).map((x) => (x.id === v.id ? { ...x, ...updated } : x));
        updateLabel();
        toast(`The view is now called “${updated?.name || name}”.`, { kind: 'success', title: 'View renamed' });
      },
    });
  }

  function confirmDelete(v) {
    confirmDialog({
      title: `Delete view “${v.name}”?`,
      text: v.shared ? 'It is shared: it disappears for everyone in the workspace. The records stay as they are.' : 'The records stay as they are; only the saved view goes.',
      confirmLabel: 'Delete view',
      workingLabel: 'Deleting…',
      testid: 'view-delete-confirm',
      run: async () => {
        await crm.deleteView(v.id);
        views = (views || []).filter((x) => x.id !== v.id);
        updateLabel();
        toast(`“${v.name}” was deleted.`, { title: 'View deleted' });
      },
    });
  }

  // Names of views load in the background so the button can show the active one.
  load().catch((err) => { if (err?.name !== 'AbortError') toastError(err, 'Could not load saved views'); });

  return {
    wrap: menu.wrap,
    refresh: updateLabel,
    close: () => menu.close(),
  };
}
