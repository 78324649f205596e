// Building blocks shared by the settings sections: section headers, inline
// load errors, badges, the "need an admin" state and the confirm dialog.

import { h, mount, icon, openModal } from './ui.js';
import { emptyState } from './contacts.js';
import { errorBox, busy } from './forms.js';

export function dash() { return h('span', { class: 'muted', 'aria-label': 'none' }, '—'); }

/** Shown when an API call answers 403 although the session said admin. */
export function forbiddenState(err) {
  return emptyState({
    testid: 'settings-need-admin',
    iconName: 'lock',
    title: 'You need an admin for this',
    text: err?.detail && err.detail !== err.title ? err.detail : 'Your role does not allow this. Ask an owner or admin of this workspace.',
  });
}

export function sectionHeader(id, title, sub, actions) {
  return h('div', { class: 'section-header' },
    h('div', null,
      h('h2', { id, class: 'section-title' }, title),
      sub ? h('p', { class: 'page-sub', role: 'status', 'aria-live': 'polite' }, sub) : null),
    actions ? h('div', { class: 'page-actions' }, actions) : null);
}

export function inlineError(err, retry) {
  return h('div', { class: 'inline-error', role: 'alert' },
    icon('alert'),
    h('div', null,
      h('strong', null, err.title || 'Could not load'), ' ',
      h('span', null, err.detail || err.message),
      err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null),
    h('button', { type: 'button', class: 'btn btn-sm', onclick: retry }, 'Retry'));
}

/**
 * The table every settings section shows: a caption for screen readers and one
 * header row. `columns` are `[className, label, labelHidden?]`; falsy entries are
 * skipped (columns a role does not get).
 */
export function dataTable({ className, testid, caption, busy = false, columns }) {
  const tbody = h('tbody');
  const table = h('table', { class: ['data-table', className], dataset: { testid }, 'aria-busy': busy ? 'true' : null },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', null, h('tr', null, ...columns.filter(Boolean).map(([cls, label, hidden]) =>
      h('th', { scope: 'col', class: cls }, hidden ? h('span', { class: 'visually-hidden' }, label) : label)))),
    tbody);
  return { table, tbody, tableWrap: h('div', { class: 'table-wrap' }, table) };
}

export function badge(text, kind, testid) {
  return h('span', { class: ['badge', kind && `badge-${kind}`], dataset: { testid } }, text);
}


/** A confirm dialog whose confirm button runs `run()` (busy while it does). */
export function confirmDialog({ title, text, confirmLabel, workingLabel, testid, run }) {
  const error = errorBox('confirm-error');
  const confirm = h('button', { type: 'submit', class: 'btn btn-danger', dataset: { testid } }, confirmLabel);
  const form = h('form', { class: 'dialog-form', method: 'dialog' },
    h('header', { class: 'dialog-header' },
      h('h2', { id: 'confirm-title' }, title),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    h('div', { class: 'dialog-body' }, error, h('p', null, text)),
    h('footer', { class: 'dialog-footer' },
      h('button', { type: 'button', class: 'btn', autofocus: true, dataset: { testid: 'confirm-cancel' }, onclick: () => dialog.close('cancel') }, 'Cancel'),
      confirm));
  const dialog = h('dialog', { class: 'dialog confirm-dialog', role: 'alertdialog', 'aria-labelledby': 'confirm-title', dataset: { testid: 'confirm-dialog' } }, form);
  let running = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (running) return;
    running = true;
    busy(confirm, true, { idle: confirmLabel, working: workingLabel });
    try {
      await run();
      dialog.close('confirmed');
    } catch (err) {
      running = false;
      busy(confirm, false, { idle: confirmLabel, working: workingLabel });
      error.hidden = false;
      mount(error, icon('alert'), h('div', null, h('strong', null, err.title || 'Something went wrong'), ' ', err.detail || err.message,
        err.requestId ? h('div', { class: 'muted' }, `Request ID ${err.requestId}`) : null));
    }
  });
  openModal(dialog);
  return dialog;
}
