// The shell the record editors share (campaign-page.js, form-page.js,
// rule-page.js, sequence-page.js): the loading and load-failure views, the
// page header, dirty tracking with its "leave without saving?" guard and
// Ctrl/Cmd+S, and the save and delete flows. What each record shows, checks
// and sends stays in its page.
//
// Each page keeps one `state` with creating, dirty, saving, destroyed,
// version, baseline, save, and the record under its own name (`what`:
// state.campaign, state.form, state.rule, state.sequence), as the API
// answers it ({ campaign, version }).

import { h, mount, icon, toast, toastError, pageTitle } from './ui.js';
import { navigate, updateUrl } from './router.js';
import { emptyState } from './contacts.js';
import { confirmDialog } from './settings-kit.js';
import { capitalize as capital } from './forms.js';

// --- views ---------------------------------------------------------------------------------------

/** The placeholder card while the record loads. */
export function loadingCard() {
  return h('div', { class: 'card seg-loading', 'aria-busy': 'true' },
    [35, 60, 90, 80, 70].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '16px 0' } })));
}

/**
 * The record would not load: "not found" (a malformed id answers 422), not
 * for this role (403), or an error with Retry. `what` is the record's noun
 * ("form"); its list is `listHref`.
 */
export function loadFailed(root, back, err, { what, listHref, retry }) {
  if (err.isNotFound || err.status === 422) {
    pageTitle(`${capital(what)} not found`);
    mount(root, back, emptyState({
      testid: 'not-found', iconName: 'search', title: `${capital(what)} not found`, text: 'It may have been deleted, or the link is wrong.',
      actions: [h('a', { class: 'btn btn-primary', href: listHref }, `All ${what}s`)],
    }));
    return;
  }
  mount(root, back, emptyState({
    testid: 'error-state', iconName: err.status === 403 ? 'lock' : 'alert',
    title: err.status === 403 ? `${capital(what)}s are not available to your role` : (err.title || `Could not load this ${what}`),
    text: err.detail || err.message,
    actions: err.status === 403 ? [] : [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => retry() }, 'Retry')],
  }));
  if (!err.handled && err.status !== 403) toastError(err, `Could not load this ${what}`);
}

/**
 * The header: eyebrow, title (focusable, `titleId` labels the form), a line
 * under it (`sub`, children) and the actions on the right.
 */
export function editorHeader({ titleId, eyebrow, title, titleTestid, sub, subTestid, actions, className = null }) {
  return h('div', { class: ['page-header seg-editor-header cp-page-header', className] },
    h('div', { class: 'page-heading' },
      h('p', { class: 'seg-eyebrow muted' }, eyebrow),
      h('h1', { class: 'page-title', id: titleId, tabindex: '-1', dataset: { testid: titleTestid } }, title),
      h('p', { class: 'page-sub cp-page-sub', dataset: { testid: subTestid } }, sub)),
    actions.length ? h('div', { class: 'page-actions seg-editor-actions cp-page-actions' }, actions) : null);
}

/** A header button; its label hides on narrow screens (.btn-label). */
export function actionButton(testid, label, iconEl, onclick, cls = 'btn', attrs = {}) {
  return h('button', { type: 'button', class: cls, dataset: { testid }, onclick, ...attrs }, iconEl, h('span', { class: 'btn-label' }, label));
}

/** The header's primary Save button (Ctrl/Cmd+S too); unlike actionButton() its label stays on narrow screens. */
export function saveButton(testid, label, onclick) {
  return h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid }, 'aria-keyshortcuts': 'Control+S Meta+S',
    title: 'Save (Ctrl+S)', onclick,
  }, icon('check', { size: 15 }), h('span', null, label));
}

export function deleteButton(testid, onclick) {
  return actionButton(testid, 'Delete', icon('trash', { size: 15 }), onclick, 'btn btn-danger-quiet');
}

/** "Unsaved changes" beside the actions; trackDirty() shows it. */
export function unsavedNote(testid) {
  return h('span', { class: 'seg-dirty muted', hidden: true, dataset: { testid } }, 'Unsaved changes');
}

// --- dirty state and leaving ---------------------------------------------------------------------

/**
 * Takes the body as drawn as the baseline (state.baseline) and → sync(), to
 * call on every change. A new record counts as dirty until its first save,
 * without the note: there is nothing saved yet to differ from.
 */
export function trackDirty(state, note, currentBody) {
  state.baseline = JSON.stringify(currentBody());
  return () => {
    state.dirty = state.creating || JSON.stringify(currentBody()) !== state.baseline;
    note.hidden = !state.dirty || state.creating;
  };
}

/**
 * The page-wide listeners: Ctrl/Cmd+S calls state.save() wherever the focus
 * is (not while a dialog is open), and closing or reloading the tab asks
 * first while a saved record has unsaved changes. → a function removing them.
 */
export function editorListeners(state) {
  const onKey = (e) => {
    if ((e.key === 's' || e.key === 'S') && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey) {
      if (document.querySelector('dialog[open]') || !state.save) return;
      e.preventDefault();
      state.save();
    }
  };
  const beforeUnload = (e) => { if (state.dirty && !state.saving && !state.creating) { e.preventDefault(); e.returnValue = ''; } };
  document.addEventListener('keydown', onKey);
  window.addEventListener('beforeunload', beforeUnload);
  return () => {
    document.removeEventListener('keydown', onKey);
    window.removeEventListener('beforeunload', beforeUnload);
  };
}

// --- saving --------------------------------------------------------------------------------------

/**
 * Sends a save (`send()`: create or If-Match update) with the form busy and
 * its Save button off meanwhile. Saved: the record and its version are
 * taken, it is no longer dirty, a new record gets its own address
 * (`href(record)`, replacing /new: a reload then opens what was saved),
 * then `saved(res, wasNew)` redraws. → true; a failure is thrown for
 * saveFailed() (after the busy state is undone).
 */
export async function saveRecord({ state, what, form, button, send, href, saved }) {
  state.saving = true;
  form.setAttribute('aria-busy', 'true');
  if (button) button.disabled = true;
  let res;
  try {
    res = await send();
  } finally {
    state.saving = false;
    if (button) button.disabled = false;
    form.removeAttribute('aria-busy');
  }
  if (state.destroyed) return true;
  const wasNew = state.creating;
  state[what] = res[what];
  state.version = res.version;
  state.creating = false;
  state.dirty = false;
  if (wasNew) updateUrl(href(res[what]));
  saved(res, wasNew);
  return true;
}

/**
 * The usual `saved` of saveRecord(): the toast (`message`, `options`), the
 * page drawn again (`render()`) at the same scroll position, and the focus
 * back on its Save button (`saveTestid`).
 */
export function savedAndRedrawn({ root, render, saveTestid, message, options }) {
  toast(message, options);
  const scroll = window.scrollY;
  render();
  window.scrollTo(0, scroll);
  root.querySelector(`[data-testid=${saveTestid}]`)?.focus({ preventScroll: true });
}

/**
 * Loads the record again (after a 412 or a refused change): `fetch()`
 * answers { [what]: record, version }; the record and version are taken,
 * `after(record)` updates what the page keeps beside them, the page is no
 * longer dirty and `render()` draws it. A failure (not an abort) is a toast.
 */
export async function reloadRecord({ state, what, fetch, after = null, render }) {
  try {
    const res = await fetch();
    if (state.destroyed) return;
    state[what] = res[what];
    state.version = res.version;
    after?.(res[what]);
    state.dirty = false;
    render();
  } catch (err) {
    if (err?.name !== 'AbortError') toastError(err, `Could not reload the ${what}`);
  }
}

/**
 * A failed save: 412 (someone saved since this version) says so and reloads
 * theirs, 422 goes to the fields (showErrors), anything else is a toast. → false.
 */
export async function saveFailed(err, { state, what, reload, showErrors }) {
  if (state.destroyed) return false;
  if (err.status === 412) {
    toast(`Someone else changed this ${what} meanwhile. The page shows their version now; make your change again if it is still needed.`,
      { kind: 'error', title: 'Changed by someone else', requestId: err.requestId });
    await reload();
    return false;
  }
  if (err.isValidation) { showErrors(err); return false; }
  toastError(err, `Could not save the ${what}`);
  return false;
}

/** A 422's problems no field took (`rest`, or its detail when none) go in the form's error box. */
export function showProblemsInBox(box, err, rest, fallbackTitle) {
  box.hidden = false;
  mount(box, icon('alert'), h('div', null, h('strong', null, err.title || fallbackTitle), ' ', rest.join('. ') || err.detail));
}

// --- deleting ------------------------------------------------------------------------------------

/** Asks, deletes (`send()`), then goes to the list with a toast. */
export function confirmDelete({ state, what, name, text, testid, send, listHref }) {
  confirmDialog({
    title: `Delete “${name || `this ${what}`}”?`,
    text,
    confirmLabel: `Delete ${what}`, workingLabel: 'Deleting…', testid,
    run: async () => {
      await send();
      state.dirty = false;
      navigate(listHref);
      toast(`“${name}” was deleted.`, { title: `${capital(what)} deleted` });
    },
  });
}
