// The frame shared by the contact and company pages: loading, not-found and
// error states, header with Edit / Delete, delete-with-undo, the edit dialog
// (If-Match, 412 handling), the timeline, and keyboard hooks.

import { h, mount, icon, toast, toastError, pageTitle, timeEl } from './ui.js';
import { navigate } from './router.js';
import * as crm from './crm-api.js';
import * as session from './session.js';
import { emptyState } from './contacts.js';
import { xicon, recordName, recordHref, loadUsers, onUsers, dash, canWrite } from './records.js';
import { openRecordForm } from './record-form.js';
import { timelineCard, nextTaskCard } from './timeline.js';

/** Records seen recently, so a page can render at once (then refresh). */
const seen = new Map();
export function rememberRecord(entity, r, version) {
  if (!r?.id) return;
  seen.set(`${entity}:${r.id}`, { record: r, version: version ?? (r.version != null ? String(r.version) : null) });
  if (seen.size > 500) seen.delete(seen.keys().next().value);
}

/** A label/value row in a profile card. */
export function prop(label, value, { iconName, testid, full = false } = {}) {
  return h('div', { class: ['prop', full && 'prop-full'] },
    h('dt', null, iconName ? xicon(iconName, { size: 14 }) : null, label),
    h('dd', { dataset: { testid } }, value ?? dash()));
}

export function cardSection(title, ...children) {
  return h('div', { class: 'profile-section' }, title ? h('h3', { class: 'profile-section-title' }, title) : null, ...children);
}

/**
 * recordPageView(root, id, config)
 * config: {
 *   entity, noun, plural, listPath, listLabel, testids: { edit, delete, name, detail },
 *   header(record, ctx) → { sub: node[], chips: node[] },
 *   profile(record, ctx) → node,
 *   side(record, ctx) → node[] (cards under the next task),
 *   main(record, ctx) → node[] (cards before the timeline),
 *   banner(record, ctx) → node (a notice between the header and the cards; optional)
 * }
 */
export function recordPageView(root, id, config) {
  const { entity, noun } = config;
  const controller = new AbortController();
  const state = { record: null, version: null, defs: [], destroyed: false };
  let timeline = null;
  let tasks = null;
  const cleanups = [];

  const back = h('a', { href: config.listPath, class: 'back-link' }, icon('arrowLeft'), config.listLabel);
  const crumbs = () => h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, back);

  function skeleton() {
    mount(root, crumbs(),
      h('div', { class: 'card record-header', 'aria-busy': 'true' },
        h('span', { class: 'avatar avatar-lg skeleton' }),
        h('div', { style: { flex: '1' } },
          h('div', { class: 'skeleton skeleton-text', style: { width: '40%', height: '20px' } }),
          h('div', { class: 'skeleton skeleton-text', style: { width: '25%', marginTop: '10px' } }))),
      h('div', { class: 'record-grid' },
        h('section', { class: 'card' }, [70, 50, 60, 40, 55].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '14px 0' } }))),
        h('section', { class: 'card' }, h('div', { class: 'skeleton skeleton-text', style: { width: '30%' } }))));
  }

  const ctx = {
    get defs() { return state.defs; },
    get record() { return state.record; },
    reload: () => fetchIt(false),
    timeline: () => timeline,
    refreshTasks: () => tasks?.reload(),
  };

  function render() {
    const r = state.record;
    const name = recordName(entity, r);
    pageTitle(name || (noun[0].toUpperCase() + noun.slice(1)));
    const head = config.header(r, ctx);
    const editBtn = h('button', { type: 'button', class: 'btn', dataset: { testid: config.testids.edit }, 'aria-keyshortcuts': 'e', onclick: () => view.edit() },
      icon('pencil', { size: 15 }), h('span', { class: 'btn-label' }, 'Edit'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'E'));
    const delBtn = h('button', { type: 'button', class: 'btn btn-danger-quiet', dataset: { testid: config.testids.delete }, onclick: (e) => remove(e.currentTarget) },
      icon('trash', { size: 15 }), h('span', { class: 'btn-label' }, 'Delete'));

    // The timeline and task card live across re-renders (a half-written note survives a save).
    if (!timeline) {
      timeline = timelineCard({ entity, id: r.id, defs: state.defs, noun, onActivity: () => { tasks?.reload(); } });
      tasks = nextTaskCard({
        query: { [entity === 'company' ? 'company_id' : 'contact_id']: r.id },
        onAddTask: () => timeline.focusComposer('task'),
        onChanged: () => timeline.reload(),
      });
    } else timeline.setDefs(state.defs);

    mount(root,
      crumbs(),
      h('header', { class: 'card record-header', dataset: { testid: config.testids.detail, id: r.id } },
        config.avatar(r),
        h('div', { class: 'record-heading' },
          h('h1', { id: `${entity}-name`, class: 'page-title', tabindex: '-1', dataset: { testid: config.testids.name } }, name || h('span', { class: 'muted fst-italic' }, `Unnamed ${noun}`)),
          head.sub?.length ? h('p', { class: 'record-sub' }, ...head.sub) : null,
          head.chips?.length ? h('div', { class: 'record-chips' }, ...head.chips) : null),
        canWrite() ? h('div', { class: 'record-actions' }, editBtn, delBtn) : null),
      config.banner?.(r, ctx) || null,
      h('div', { class: 'record-grid' },
        h('div', { class: 'record-col-profile' }, config.profile(r, ctx)),
        h('div', { class: 'record-col-main' }, ...(config.main?.(r, ctx) || []), timeline.el),
        h('div', { class: 'record-col-side' }, tasks.el, ...(config.side?.(r, ctx) || []))));
  }

  function renderNotFound(err) {
    // A merged contact points at the one it became.
    const mergedInto = String(err?.type || '').endsWith('/merged') ? (String(err.detail || '').match(/\b(c_[0-9A-Z]{26})\b/) || [])[1] : null;
    if (mergedInto) {
      pageTitle(`${noun[0].toUpperCase()}${noun.slice(1)} merged`);
      mount(root, crumbs(), emptyState({
        testid: 'merged-into', iconName: 'users', title: `This ${noun} was merged`,
        text: `It was merged into another ${noun}, which now holds its emails, phones, tags and activities.`,
        actions: [
          h('a', { class: 'btn btn-primary', href: `${config.listPath}/${mergedInto}`, dataset: { testid: 'open-merged-into' } }, `Open the merged ${noun}`),
          h('a', { class: 'btn', href: config.listPath }, `Back to ${config.plural}`),
        ],
      }));
      return;
    }
    pageTitle(`${noun[0].toUpperCase()}${noun.slice(1)} not found`);
    mount(root, crumbs(), emptyState({
      testid: 'not-found', iconName: 'search', title: `${noun[0].toUpperCase()}${noun.slice(1)} not found`,
      text: err?.detail && err.detail !== err.title && !/^No \w+ with this id$/.test(err.detail) ? err.detail : `It may have been deleted (look in the trash) or the link is wrong.`,
      actions: [
        h('a', { class: 'btn', href: `${config.listPath}?view=trash` }, icon('trash', { size: 15 }), 'Open the trash'),
        h('a', { class: 'btn btn-primary', href: config.listPath }, `Back to ${config.plural}`),
      ],
    }));
  }

  function renderError(err) {
    mount(root, crumbs(), emptyState({
      testid: 'error-state', iconName: 'alert', title: err.title || `Could not load this ${noun}`,
      text: `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
      actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => fetchIt(true) }, 'Retry')],
    }));
  }

  async function fetchIt(showSkeleton) {
    if (showSkeleton) skeleton();
    try {
      const [{ record, version }, defs] = await Promise.all([
        crm.getRecord(entity, id, { signal: controller.signal }),
        crm.customFields(entity).catch(() => []),
        session.whenLoaded(),
      ]);
      if (state.destroyed) return;
      state.record = record;
      state.version = version;
      state.defs = defs;
      rememberRecord(entity, record, version);
      const hadFocus = root.contains(document.activeElement) && document.activeElement !== root;
      render();
      if (hadFocus || showSkeleton) root.querySelector('h1')?.focus({ preventScroll: true });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (err.isNotFound) renderNotFound(err);
      else if (!state.record) { renderError(err); toastError(err, `Could not load this ${noun}`); }
      else toastError(err, `Could not refresh this ${noun}`);
    }
  }

  async function remove(button) {
    const r = state.record;
    button.disabled = true;
    try {
      await crm.deleteRecord(entity, r.id);
      seen.delete(`${entity}:${r.id}`);
      navigate(config.listPath);
      const name = recordName(entity, r) || `The ${noun}`;
      let undone = false;
      toast(`${name} was moved to the trash.`, {
        title: 'Deleted', timeout: 10000,
        action: { label: 'Undo', onClick: async () => {
          if (undone) return;
          undone = true;
          try {
            await crm.restoreRecord(entity, r.id);
            toast(`${name} is back.`, { kind: 'success', title: 'Restored' });
            navigate(recordHref(entity, r.id));
          } catch (err) { toastError(err, 'Could not restore'); }
        } },
      });
      // data-testid for the undo button, so tests can find it.
      document.querySelectorAll('.toast .toast-action').forEach((b) => { if (b.textContent === 'Undo') b.dataset.testid = 'undo-delete'; });
    } catch (err) {
      button.disabled = false;
      toastError(err, `Could not delete this ${noun}`);
    }
  }

  function applySaved(record, version) {
    state.record = record;
    state.version = version;
    rememberRecord(entity, record, version);
    render();
    timeline?.reload();
  }

  const view = {
    kind: `${entity}-page`,
    entity,
    id,
    edit() {
      if (!state.record || !canWrite()) return;
      openRecordForm({
        entity, record: state.record, version: state.version,
        onSaved: (rec, ver) => { applySaved(rec, ver); root.querySelector('h1')?.focus({ preventScroll: true }); },
        onReloaded: (rec, ver) => { state.record = rec; state.version = ver; render(); },
      });
    },
    openCreate: () => { if (canWrite()) config.openCreate(); },
    destroy() {
      state.destroyed = true;
      controller.abort();
      timeline?.destroy();
      cleanups.forEach((fn) => fn());
    },
  };

  cleanups.push(onUsers(() => { if (state.record && !document.querySelector('dialog[open]')) render(); }));
  loadUsers();

  const cached = seen.get(`${entity}:${id}`);
  if (cached) {
    state.record = cached.record;
    state.version = cached.version;
    crm.customFields(entity).then((d) => { state.defs = d; }).catch(() => {});
    render();
  }
  fetchIt(!cached);
  return view;
}

export function metaLine(r) {
  return h('p', { class: 'record-meta muted' },
    'Created ', timeEl(r.created_at, { withTime: true }), ' · updated ', timeEl(r.updated_at, { withTime: true }),
    h('br'), 'ID ', h('code', null, r.id), r.version != null ? ` · version ${r.version}` : null);
}
