// Home (/home): each user's dashboard: the widgets they chose, in their order
// (GET/PUT /api/v1/insights/dashboard), two columns on wide screens and one on
// phones. Each widget (home-widgets.js) loads on its own, with a skeleton,
// and shows its own error with Retry, or a polite note when the user's role
// cannot see that area; one failing never breaks the others.
//
// "Customize" arranges them: remove (×), move (↑ ↓, or Alt+↑ / Alt+↓ from
// anywhere in a widget), add from the list of the others; "Save layout"
// keeps it for the user, "Cancel" (or Esc) puts it back as it was.

import { h, mount, icon, toast, toastError, pageTitle } from './ui.js';
import * as session from './session.js';
import * as fapi from './automations-api.js';
import { emptyState } from './contacts.js';
import { xicon } from './records.js';
import { WIDGETS, widgetOf, DEFAULT_WIDGETS } from './home-widgets.js';

/** The house outline for the sidebar (24×24 stroke, like ui.icon's). */
export const HOME_ICON_PATH = 'M4 10.5 12 4l8 6.5M6 9v10a1 1 0 0 0 1 1h3.5v-5.5h3V20H17a1 1 0 0 0 1-1V9';

function greeting(user, now = new Date()) {
  const hour = now.getHours();
  const part = hour < 5 ? 'evening' : hour < 12 ? 'morning' : hour < 18 ? 'afternoon' : 'evening';
  const first = String(user?.name || '').trim().split(/\s+/)[0];
  const day = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' }).format(now);
  return `Good ${part}${first ? `, ${first}` : ''} · ${day}`;
}

function placeholders(n) {
  return Array.from({ length: n }, () => h('div', { class: 'card home-widget is-placeholder', 'aria-hidden': 'true' },
    h('span', { class: 'skeleton skeleton-text', style: { width: '40%', height: '14px' } }),
    h('div', { class: 'chart-skeleton' }, [60, 85, 45, 70].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%` } })))));
}

function widgetSkeleton() {
  return h('div', { class: 'home-skeleton', 'aria-hidden': 'true' },
    h('div', { class: 'home-stats' }, [0, 1].map(() => h('div', { class: 'home-stat is-skeleton' },
      h('span', { class: 'skeleton skeleton-text', style: { width: '45%' } }),
      h('span', { class: 'skeleton skeleton-text', style: { width: '70%', height: '22px', marginTop: '8px' } })))),
    h('div', { class: 'chart-skeleton' }, [72, 90, 55, 80].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%` } }))));
}

export function homeView(root) {
  const state = {
    destroyed: false,
    controller: null,
    widgets: [], // saved, in order
    available: WIDGETS.map((w) => w.key),
    draft: null, // while customizing
    frames: new Map(), // key → frame
    saving: false,
  };
  pageTitle('Home');

  // --- chrome --------------------------------------------------------------------------------
  const sub = h('p', { class: 'page-sub', dataset: { testid: 'home-greeting' } }, '\u00a0');
  const customizeBtn = h('button', {
    type: 'button', class: 'btn', dataset: { testid: 'home-customize' }, onclick: () => startCustomizing(),
  }, icon('pencil', { size: 15 }), h('span', null, 'Customize'));
  const cancelBtn = h('button', { type: 'button', class: 'btn', hidden: true, dataset: { testid: 'home-cancel-layout' }, onclick: () => stopCustomizing({ keep: false }) }, 'Cancel');
  const saveBtn = h('button', {
    type: 'button', class: 'btn btn-primary', hidden: true, dataset: { testid: 'home-save-layout' }, onclick: () => saveLayout(),
  }, icon('check', { size: 15 }), h('span', null, 'Save layout'));

  const notice = h('div', { class: 'inline-error home-notice', role: 'alert', hidden: true, dataset: { testid: 'home-layout-error' } });
  const trayList = h('ul', { class: 'home-tray-list' });
  const panelTitle = h('h2', { class: 'home-panel-title', tabindex: '-1', id: 'home-panel-title' }, 'Customize your home');
  const panel = h('section', { class: 'home-panel', hidden: true, 'aria-labelledby': 'home-panel-title', dataset: { testid: 'home-tray' } },
    h('div', { class: 'home-panel-head' }, panelTitle,
      h('p', { class: 'muted home-panel-hint' }, 'Remove a widget with ', icon('x', { size: 12 }), h('span', { class: 'visually-hidden' }, 'its remove button'),
        ', move it with ', xicon('arrowUp', { size: 12 }), xicon('arrowDown', { size: 12 }), h('span', { class: 'visually-hidden' }, 'its arrows'),
        ' or with ', h('kbd', null, 'Alt'), ' + ', h('kbd', null, '↑'), ' / ', h('kbd', null, '↓'), ' from anywhere in it, then save.')),
    h('h3', { class: 'home-tray-title' }, 'Add a widget'),
    trayList);
  const grid = h('div', { class: 'home-grid', dataset: { testid: 'home-grid' } });
  const empty = h('div', { hidden: true });
  const announcer = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', dataset: { testid: 'home-announcer' } });
  const page = h('div', { class: 'home', dataset: { testid: 'home' } },
    h('div', { class: 'page-header home-header' },
      h('div', { class: 'page-heading' }, h('h1', { class: 'page-title', tabindex: '-1' }, 'Home'), sub),
      h('div', { class: 'page-actions' }, customizeBtn, cancelBtn, saveBtn)),
    notice, panel, grid, empty, announcer);
  mount(root, page);

  session.whenLoaded().then((st) => { if (!state.destroyed) sub.textContent = greeting(st?.user || session.getSession().user); });

  // --- one widget ----------------------------------------------------------------------------
  function createFrame(def) {
    const f = { def, controller: null, cleanups: [], destroyed: false, loaded: false };
    const titleId = `home-w-${def.key}`;
    const body = h('div', { class: 'home-widget-body', 'aria-busy': 'true' });
    const tool = (testid, label, title, iconEl, onclick, keys) => h('button', {
      type: 'button', class: 'icon-button home-tool', 'aria-label': label, title, 'aria-keyshortcuts': keys || null, dataset: { testid }, onclick,
    }, iconEl);
    const up = tool('home-widget-up', `Move ${def.title} up`, 'Move up (Alt+↑)', xicon('arrowUp', { size: 15 }), () => move(def.key, -1), 'Alt+ArrowUp');
    const down = tool('home-widget-down', `Move ${def.title} down`, 'Move down (Alt+↓)', xicon('arrowDown', { size: 15 }), () => move(def.key, 1), 'Alt+ArrowDown');
    const remove = tool('home-widget-remove', `Remove ${def.title}`, 'Remove from your home', icon('x', { size: 15 }), () => removeWidget(def.key));
    const el = h('section', { class: 'card home-widget', 'aria-labelledby': titleId, dataset: { testid: 'home-widget', widget: def.key } },
      h('header', { class: 'home-widget-head' },
        h('h2', { class: 'home-widget-title', id: titleId }, def.iconEl(), h('span', { class: 'truncate' }, def.title)),
        def.period ? h('span', { class: 'home-widget-period' }, def.period) : null,
        def.href ? h('a', { class: 'home-widget-open', href: def.href, dataset: { testid: 'home-widget-open' } }, def.linkLabel, icon('chevronRight', { size: 14 })) : null,
        h('div', { class: 'home-widget-tools', role: 'group', 'aria-label': `Arrange ${def.title}` }, up, down, remove)),
      body);

    function cleanup() {
      const fns = f.cleanups.splice(0);
      for (const fn of fns) { try { fn(); } catch (err) { console.error(err); } }
    }

    async function load() {
      f.controller?.abort();
      const c = new AbortController();
      f.controller = c;
      body.setAttribute('aria-busy', 'true');
      if (f.loaded) body.classList.add('is-refreshing');
      else mount(body, widgetSkeleton());
      const alive = () => !f.destroyed && !state.destroyed && f.controller === c;
      try {
        const data = await def.load({ signal: c.signal });
        if (!alive()) return;
        cleanup();
        const ctx = { signal: c.signal, reload: () => load(), onCleanup: (fn) => f.cleanups.push(fn), destroyed: () => f.destroyed || state.destroyed };
        mount(body, def.render(data, ctx));
        f.loaded = true;
        el.classList.remove('is-forbidden');
      } catch (err) {
        if (err?.name === 'AbortError' || !alive()) return;
        cleanup();
        f.loaded = false;
        el.classList.toggle('is-forbidden', err?.status === 403);
        if (err?.status === 403) {
          mount(body, h('div', { class: 'home-forbidden', dataset: { testid: 'home-widget-forbidden' } }, icon('lock', { size: 18 }),
            h('div', null, h('strong', null, 'Not part of your role'),
              h('p', { class: 'muted' }, `Your role does not include ${def.area}, so there is nothing to show here. An admin can change roles under Settings › Users; or remove this widget with Customize.`))));
        } else if (err?.handled) {
          mount(body); // on the way to the sign-in page
        } else {
          if (!(err instanceof Error) || !err.status) console.error(`home widget ${def.key}`, err);
          mount(body, h('div', { class: 'inline-error home-error', role: 'alert', dataset: { testid: 'home-widget-error' } }, icon('alert'),
            h('div', null, h('strong', null, err?.title || 'Could not load'), ' ', err?.status ? (err.detail || err.message) : 'Something went wrong while showing this widget.',
              err?.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null),
            h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'home-widget-retry' }, onclick: () => load() }, 'Retry')));
        }
      } finally {
        if (f.controller === c) {
          body.setAttribute('aria-busy', 'false');
          body.classList.remove('is-refreshing');
        }
      }
    }

    Object.assign(f, {
      el, body, up, down, remove, load,
      destroy() {
        f.destroyed = true;
        f.controller?.abort();
        cleanup();
        el.remove();
      },
    });
    return f;
  }

  function frameOf(key) {
    let f = state.frames.get(key);
    if (!f) {
      f = createFrame(widgetOf(key));
      state.frames.set(key, f);
      f.load();
    }
    return f;
  }

  // --- the grid ------------------------------------------------------------------------------
  const shown = () => state.draft || state.widgets;

  /** Puts the shown widgets in order (moving nodes keeps what they loaded; focus is kept). */
  function layout() {
    const keys = shown();
    const active = document.activeElement;
    keys.forEach((key, i) => {
      const f = frameOf(key);
      if (grid.children[i] !== f.el) grid.insertBefore(f.el, grid.children[i] || null);
    });
    [...grid.children].forEach((el) => { if (!keys.includes(el.dataset.widget)) el.remove(); });
    if (active && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });
    keys.forEach((key, i) => {
      const f = state.frames.get(key);
      f.up.setAttribute('aria-disabled', String(i === 0));
      f.down.setAttribute('aria-disabled', String(i === keys.length - 1));
      f.body.inert = !!state.draft;
    });
    grid.hidden = !keys.length;
    empty.hidden = !!keys.length;
    if (!keys.length) {
      mount(empty, emptyState({
        testid: 'home-empty', iconName: 'inbox', title: state.draft ? 'No widgets left' : 'Your home is empty',
        text: state.draft ? 'Add some from the list above, or save an empty home.' : 'Choose what to see here: your pipeline, new leads, your tasks, customers at risk and more.',
        actions: state.draft ? [] : [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => startCustomizing() }, icon('pencil', { size: 15 }), 'Customize')],
      }));
    }
    renderTray();
  }

  function renderTray() {
    if (!state.draft) return;
    const missing = state.available.filter((k) => !state.draft.includes(k)).map(widgetOf).filter(Boolean);
    mount(trayList, missing.length ? missing.map((def) => h('li', null, h('button', {
      type: 'button', class: 'home-tray-item', dataset: { testid: 'home-widget-add', widget: def.key }, onclick: () => addWidget(def.key),
    }, h('span', { class: 'home-tray-icon', 'aria-hidden': 'true' }, def.iconEl()),
    h('span', { class: 'home-tray-text' }, h('strong', null, def.title), h('span', { class: 'muted' }, def.blurb)),
    h('span', { class: 'home-tray-add' }, icon('plus', { size: 14 }), 'Add'))))
      : h('li', { class: 'muted home-tray-none' }, 'Every widget is on your home.'));
  }

  function say(text) {
    announcer.textContent = '';
    requestAnimationFrame(() => { announcer.textContent = text; });
  }

  /** Lets go of the widgets that are no longer on the (saved) home. */
  function prune() {
    for (const [key, f] of state.frames) {
      if (!state.widgets.includes(key)) { f.destroy(); state.frames.delete(key); }
    }
  }

  // --- customizing ---------------------------------------------------------------------------
  function setCustomizing(on) {
    page.classList.toggle('is-customizing', on);
    customizeBtn.hidden = on;
    cancelBtn.hidden = !on;
    saveBtn.hidden = !on;
    panel.hidden = !on;
  }

  function startCustomizing() {
    if (state.draft) return;
    state.draft = state.widgets.slice();
    setCustomizing(true);
    layout();
    panelTitle.focus({ preventScroll: false });
    say('Customizing your home. Move, remove or add widgets, then save.');
  }

  function stopCustomizing({ keep }) {
    if (!state.draft) return;
    if (keep) state.widgets = state.draft;
    state.draft = null;
    prune();
    setCustomizing(false);
    layout();
    customizeBtn.focus({ preventScroll: true });
    if (!keep) say('Changes discarded.');
  }

  function move(key, delta) {
    if (!state.draft) return;
    const list = state.draft;
    const i = list.indexOf(key);
    const j = i + delta;
    if (i < 0) return;
    if (j < 0 || j >= list.length) { say(`${widgetOf(key).title} is already ${j < 0 ? 'first' : 'last'}.`); return; }
    [list[i], list[j]] = [list[j], list[i]];
    layout();
    state.frames.get(key)?.el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    say(`${widgetOf(key).title} moved to position ${j + 1} of ${list.length}.`);
  }

  function removeWidget(key) {
    if (!state.draft) return;
    const i = state.draft.indexOf(key);
    if (i < 0) return;
    state.draft.splice(i, 1);
    layout();
    const next = state.draft[i] ?? state.draft[i - 1];
    if (next) state.frames.get(next).remove.focus();
    else panelTitle.focus();
    say(`${widgetOf(key).title} removed. Add it back from the list of widgets.`);
  }

  function addWidget(key) {
    if (!state.draft || state.draft.includes(key)) return;
    state.draft.push(key);
    layout();
    const f = state.frames.get(key);
    f.el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    f.up.focus({ preventScroll: true });
    say(`${widgetOf(key).title} added at the end.`);
  }

  async function saveLayout() {
    if (!state.draft || state.saving) return;
    state.saving = true;
    saveBtn.disabled = true;
    try {
      const res = await fapi.saveDashboard(state.draft);
      if (state.destroyed) return;
      state.draft = (Array.isArray(res.widgets) ? res.widgets : state.draft).filter((k) => widgetOf(k));
      stopCustomizing({ keep: true });
      toast('Your home keeps this layout.', { kind: 'success', title: 'Layout saved', timeout: 3000 });
    } catch (err) {
      if (!state.destroyed) toastError(err, 'Could not save the layout');
    } finally {
      state.saving = false;
      saveBtn.disabled = false;
    }
  }

  page.addEventListener('keydown', (e) => {
    if (!state.draft || e.defaultPrevented || e.isComposing) return;
    if (e.key === 'Escape' && !document.querySelector('dialog[open]')) {
      e.preventDefault();
      stopCustomizing({ keep: false });
      return;
    }
    if (!e.altKey || e.ctrlKey || e.metaKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
    const el = e.target.closest?.('[data-testid="home-widget"]');
    if (!el || !grid.contains(el)) return;
    e.preventDefault();
    move(el.dataset.widget, e.key === 'ArrowUp' ? -1 : 1);
  });

  // --- the layout ----------------------------------------------------------------------------
  async function loadLayout() {
    state.controller?.abort();
    const c = new AbortController();
    state.controller = c;
    notice.hidden = true;
    if (!state.frames.size) mount(grid, placeholders(4));
    try {
      const d = await fapi.dashboard({ signal: c.signal });
      if (state.destroyed || c.signal.aborted) return;
      if (Array.isArray(d.available)) state.available = d.available.filter((k) => widgetOf(k));
      state.widgets = (Array.isArray(d.widgets) ? d.widgets : DEFAULT_WIDGETS).filter((k) => widgetOf(k));
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed || err?.handled) return;
      state.widgets = DEFAULT_WIDGETS.slice();
      mount(notice, icon('alert'),
        h('div', null, h('strong', null, 'Your layout could not be loaded'), ' ', `${err.detail || err.message}. This is the default one for now.`),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => loadLayout() }, 'Retry'));
      notice.hidden = false;
    }
    grid.querySelectorAll('.is-placeholder').forEach((el) => el.remove());
    if (!state.draft) prune();
    layout();
  }

  loadLayout();

  return {
    kind: 'home',
    destroy() {
      state.destroyed = true;
      state.controller?.abort();
      for (const f of state.frames.values()) f.destroy();
      state.frames.clear();
    },
  };
}
