// Contacts: list (search, infinite scroll), create dialog, detail page.

import * as api from './api.js';
import { h, mount, icon, toast, toastError, timeEl, openModal, pageTitle, prefersReducedMotion } from './ui.js';
import { updateUrl } from './router.js';

const PAGE_SIZE = 50;

/** Contacts seen recently (list, create), so a detail page can render at once. */
const seen = new Map();
function remember(c) {
  if (!c?.id) return;
  seen.set(c.id, c);
  if (seen.size > 1000) seen.delete(seen.keys().next().value);
}

/** What the list looked like when the user left it, restored on Back. */
let savedList = null;

export function displayName(c) {
  const name = [c?.first_name, c?.last_name].map((s) => (s || '').trim()).filter(Boolean).join(' ');
  return name || (c?.email || '').trim() || '';
}

export function initials(c) {
  const parts = [c?.first_name, c?.last_name].map((s) => (s || '').trim()).filter(Boolean);
  const source = parts.length ? parts : [(c?.email || '?').trim()];
  return source.slice(0, 2).map((s) => s[0].toUpperCase()).join('') || '?';
}

function nameNode(c) {
  const name = displayName(c);
  return name ? name : h('span', { class: 'muted fst-italic' }, 'Unnamed contact');
}

function contactHref(c) {
  return `/contacts/${encodeURIComponent(c.id)}`;
}

function dash() { return h('span', { class: 'muted', 'aria-label': 'none' }, '—'); }

// ---------------------------------------------------------------------------
// List view

/**
 * Render the contacts list into `root`.
 * Returns the view object the shell talks to: setQuery, openCreate, prepend, destroy.
 */
export function contactListView(root, { q = '', nav = 'push' } = {}) {
  const state = {
    q: q.trim(),
    items: [],
    ids: new Set(),
    cursor: null,
    exhausted: false,
    loading: false,
    error: null,
    controller: null,
    generation: 0,
  };

  pageTitle(state.q ? `Search “${state.q}”` : 'Contacts');

  // --- DOM -------------------------------------------------------------
  const status = h('p', { class: 'page-sub', role: 'status', 'aria-live': 'polite', dataset: { testid: 'list-status' } }, '\u00a0');
  const newButton = h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid: 'new-contact' },
    'aria-keyshortcuts': 'n', onclick: () => view.openCreate(),
  }, icon('plus'), h('span', null, 'New contact'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));

  const tbody = h('tbody');
  const table = h('table', { class: 'data-table', dataset: { testid: 'contacts-table' } },
    h('caption', { class: 'visually-hidden' }, 'Contacts'),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'col-name' }, 'Name'),
      h('th', { scope: 'col', class: 'col-email' }, 'Email'),
      h('th', { scope: 'col', class: 'col-phone' }, 'Phone'),
      h('th', { scope: 'col', class: 'col-company' }, 'Company'),
      h('th', { scope: 'col', class: 'col-created' }, 'Created'),
    )),
    tbody,
  );
  const tableWrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { class: 'empty-wrap', hidden: true });
  const errorBox = h('div', { class: 'inline-error', hidden: true, role: 'alert' });
  const loadMore = h('button', {
    type: 'button', class: 'btn', dataset: { testid: 'load-more' }, hidden: true,
    onclick: () => load(),
  }, 'Load more');
  const endNote = h('p', { class: 'list-end muted', hidden: true }, 'You’ve reached the end of the list.');
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const footer = h('div', { class: 'list-footer' }, loadMore, endNote, sentinel);

  mount(root,
    h('div', { class: 'page-header' },
      h('div', { class: 'page-heading' },
        h('h1', { tabindex: '-1', class: 'page-title' }, 'Contacts'),
        status,
      ),
      h('div', { class: 'page-actions' }, newButton),
    ),
    errorBox,
    tableWrap,
    empty,
    footer,
  );

  // Row clicks open the contact (the name cell holds the real link for
  // keyboards, screen readers, and middle-click / open-in-new-tab).
  tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    if (window.getSelection()?.toString()) return; // user is selecting text
    const link = tr.querySelector('a.row-link');
    if (!link) return;
    if (e.metaKey || e.ctrlKey) window.open(link.href, '_blank', 'noopener');
    else link.click();
  });

  // --- Rendering ---------------------------------------------------------
  function row(c, { fresh = false } = {}) {
    remember(c);
    return h('tr', { dataset: { testid: 'contact-row', id: c.id }, class: fresh ? 'row-new' : null },
      h('td', { class: 'col-name' },
        h('div', { class: 'name-cell' },
          h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, initials(c)),
          h('div', { class: 'name-text' },
            h('a', { class: 'row-link', href: contactHref(c) }, nameNode(c)),
            c.email ? h('div', { class: 'cell-sub' }, c.email) : null,
          ),
        ),
      ),
      h('td', { class: 'col-email' }, c.email ? h('span', { class: 'truncate', title: c.email }, c.email) : dash()),
      h('td', { class: 'col-phone' }, c.phone || dash()),
      h('td', { class: 'col-company' }, c.company ? h('span', { class: 'truncate', title: c.company }, c.company) : dash()),
      h('td', { class: 'col-created' }, timeEl(c.created_at)),
    );
  }

  function skeletonRows(n = 8) {
    return Array.from({ length: n }, (_, i) => h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' },
      h('td', { class: 'col-name' }, h('div', { class: 'name-cell' },
        h('span', { class: 'avatar avatar-sm skeleton' }),
        h('span', { class: 'skeleton skeleton-text', style: { width: `${40 + ((i * 37) % 45)}%` } }))),
      h('td', { class: 'col-email' }, h('span', { class: 'skeleton skeleton-text', style: { width: `${55 + ((i * 23) % 35)}%` } })),
      h('td', { class: 'col-phone' }, h('span', { class: 'skeleton skeleton-text', style: { width: '70%' } })),
      h('td', { class: 'col-company' }, h('span', { class: 'skeleton skeleton-text', style: { width: `${35 + ((i * 29) % 40)}%` } })),
      h('td', { class: 'col-created' }, h('span', { class: 'skeleton skeleton-text', style: { width: '60%' } })),
    ));
  }

  function renderEmpty() {
    if (state.q) {
      mount(empty, emptyState({
        testid: 'empty-state',
        iconName: 'search',
        title: `No contacts match “${state.q}”`,
        text: 'Search looks at names, email addresses and companies. Try fewer letters, or add this person now.',
        actions: [
          h('button', { type: 'button', class: 'btn', onclick: () => clearSearch() }, 'Clear search'),
          h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'empty-new-contact' }, onclick: () => view.openCreate() }, icon('plus'), 'New contact'),
        ],
      }));
    } else {
      mount(empty, emptyState({
        testid: 'empty-state',
        iconName: 'users',
        title: 'No contacts yet',
        text: 'Contacts are the people you sell to and support. Add the first one, and everyone on your team works from the same record.',
        actions: [
          h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'empty-new-contact' }, onclick: () => view.openCreate() }, icon('plus'), 'Add your first contact'),
        ],
        hint: h('span', null, 'Tip: press ', h('kbd', null, 'N'), ' anywhere to add a contact.'),
      }));
    }
  }

  function updateChrome() {
    const n = state.items.length;
    const hasItems = n > 0;
    tableWrap.hidden = !hasItems && !state.loading;
    empty.hidden = hasItems || state.loading || !!state.error || !state.exhausted;
    if (!empty.hidden) renderEmpty();
    loadMore.hidden = !state.cursor || !!state.error;
    loadMore.disabled = state.loading;
    loadMore.textContent = state.loading && hasItems ? 'Loading…' : 'Load more';
    endNote.hidden = !(state.exhausted && n > PAGE_SIZE);
    table.setAttribute('aria-busy', String(state.loading));
    tableWrap.classList.toggle('is-refreshing', state.loading && hasItems);

    let text;
    if (state.loading && !hasItems) text = state.q ? `Searching for “${state.q}”…` : 'Loading contacts…';
    else if (state.error && !hasItems) text = 'Contacts could not be loaded.';
    else if (state.q) text = `${n}${state.cursor ? '+' : ''} ${n === 1 ? 'match' : 'matches'} for “${state.q}”`;
    else text = n ? `${n}${state.cursor ? '+' : ''} ${n === 1 ? 'contact' : 'contacts'}` : (state.loading ? 'Loading…' : 'No contacts');
    status.textContent = text;
  }

  function showError(err) {
    state.error = err;
    if (!err) { errorBox.hidden = true; errorBox.replaceChildren(); return; }
    errorBox.hidden = false;
    mount(errorBox,
      icon('alert'),
      h('div', null,
        h('strong', null, err.title || 'Could not load contacts'), ' ',
        h('span', null, err.detail || err.message),
        err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null,
      ),
      h('button', { type: 'button', class: 'btn btn-sm', onclick: () => load({ reset: state.items.length === 0 }) }, 'Retry'),
    );
  }

  // --- Data ------------------------------------------------------------------
  async function load({ reset = false } = {}) {
    if (state.loading && !reset) return;
    if (!reset && (state.exhausted || (!state.cursor && state.items.length))) return;
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    const generation = ++state.generation;
    state.loading = true;
    showError(null);
    if (reset && state.items.length === 0) tbody.replaceChildren(...skeletonRows());
    updateChrome();

    try {
      const page = await api.listContacts({
        limit: PAGE_SIZE,
        cursor: reset ? undefined : state.cursor,
        q: state.q,
        signal: controller.signal,
      });
      if (generation !== state.generation) return;
      if (reset) {
        state.items = [];
        state.ids.clear();
        tbody.replaceChildren();
      }
      const fresh = page.items.filter((c) => c?.id && !state.ids.has(c.id));
      for (const c of fresh) state.ids.add(c.id);
      state.items.push(...fresh);
      tbody.append(...fresh.map((c) => row(c)));
      state.cursor = page.next_cursor || null;
      state.exhausted = !state.cursor;
      state.loading = false;
      updateChrome();
      rearmObserver();
    } catch (err) {
      if (err?.name === 'AbortError' || generation !== state.generation) return;
      state.loading = false;
      if (state.items.length === 0) tbody.replaceChildren();
      showError(err);
      updateChrome();
      toastError(err, 'Could not load contacts');
    }
  }

  // Auto-load the next page when the footer scrolls into view.
  let observer = null;
  if ('IntersectionObserver' in window) {
    observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && state.cursor && !state.loading && !state.error) load();
    }, { rootMargin: '0px 0px 400px 0px' });
    observer.observe(sentinel);
  }
  // Re-observing fires a fresh callback, so a page that still leaves the
  // sentinel visible (tall screens) keeps loading until the viewport is full.
  function rearmObserver() {
    if (!observer || !state.cursor) return;
    observer.unobserve(sentinel);
    observer.observe(sentinel);
  }

  function clearSearch() {
    const input = document.querySelector('[data-testid="search"]');
    if (input) input.value = '';
    view.setQuery('');
    input?.focus();
  }

  // --- Public view API -----------------------------------------------------
  const view = {
    kind: 'contacts-list',
    get query() { return state.q; },
    setQuery(next) {
      const value = (next || '').trim();
      if (value === state.q) return;
      state.q = value;
      updateUrl(value ? `/contacts?q=${encodeURIComponent(value)}` : '/contacts');
      pageTitle(value ? `Search “${value}”` : 'Contacts');
      state.cursor = null;
      state.exhausted = false;
      load({ reset: true });
    },
    openCreate() {
      openCreateContactDialog({ onCreated: (c) => view.prepend(c) });
    },
    prepend(c) {
      if (!c?.id) return;
      if (state.ids.has(c.id)) {
        tbody.querySelector(`tr[data-id="${CSS.escape(c.id)}"]`)?.remove();
        state.items = state.items.filter((x) => x.id !== c.id);
      }
      state.ids.add(c.id);
      state.items.unshift(c);
      const tr = row(c, { fresh: true });
      tbody.prepend(tr);
      showError(null);
      updateChrome();
      tr.scrollIntoView({ block: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    },
    destroy() {
      savedList = {
        q: state.q,
        items: state.items.slice(),
        cursor: state.cursor,
        exhausted: state.exhausted,
        scrollY: window.scrollY,
        at: Date.now(),
      };
      state.controller?.abort();
      observer?.disconnect();
    },
  };

  // Coming back with the Back button: restore what was on screen.
  const restore = nav === 'pop' && savedList && savedList.q === state.q && Date.now() - savedList.at < 10 * 60 * 1000
    && savedList.items.length > 0;
  if (restore) {
    state.items = savedList.items;
    state.items.forEach((c) => state.ids.add(c.id));
    state.cursor = savedList.cursor;
    state.exhausted = savedList.exhausted;
    tbody.append(...state.items.map((c) => row(c)));
    updateChrome();
    const y = savedList.scrollY;
    requestAnimationFrame(() => window.scrollTo(0, y));
    rearmObserver();
  } else {
    load({ reset: true });
  }
  return view;
}

export function emptyState({ iconName = 'users', title, text, actions = [], hint, testid = 'empty-state' }) {
  return h('div', { class: 'empty-state', dataset: { testid } },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon(iconName, { size: 28 })),
    h('h2', { class: 'empty-title' }, title),
    text ? h('p', { class: 'empty-text' }, text) : null,
    actions.length ? h('div', { class: 'empty-actions' }, actions) : null,
    hint ? h('p', { class: 'empty-hint muted' }, hint) : null,
  );
}

// ---------------------------------------------------------------------------
// Create dialog

const FIELDS = [
  { name: 'first_name', label: 'First name', autocomplete: 'off', half: true },
  { name: 'last_name', label: 'Last name', autocomplete: 'off', half: true },
  { name: 'email', label: 'Email', type: 'email', autocomplete: 'off', inputmode: 'email' },
  { name: 'phone', label: 'Phone', type: 'tel', autocomplete: 'off', inputmode: 'tel' },
  { name: 'company', label: 'Company', autocomplete: 'off' },
];

/**
 * Open the "New contact" dialog. Resolves nothing; calls onCreated(contact)
 * after the server has created it.
 */
export function openCreateContactDialog({ onCreated } = {}) {
  if (document.querySelector('dialog.contact-dialog[open]')) return null;

  let idempotencyKey = api.newIdempotencyKey();
  let saving = false;
  const inputs = {};

  const formError = h('div', { class: 'form-error', role: 'alert', dataset: { testid: 'form-error' }, hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'save-contact' } }, 'Create contact');

  const fieldNodes = FIELDS.map((f) => {
    const id = `contact-${f.name}`;
    const input = h('input', {
      id,
      name: f.name,
      type: f.type || 'text',
      autocomplete: f.autocomplete,
      inputmode: f.inputmode,
      spellcheck: f.type === 'email' ? 'false' : null,
      autocapitalize: f.type === 'email' ? 'off' : null,
      maxlength: 320,
      dataset: { testid: `field-${f.name}` },
      autofocus: f.name === 'first_name' ? true : null,
      oninput: () => clearFieldError(f.name),
    });
    inputs[f.name] = input;
    return h('div', { class: ['field', f.half && 'field-half'], dataset: { field: f.name } },
      h('label', { for: id }, f.label),
      input,
    );
  });

  const form = h('form', { class: 'dialog-form', novalidate: true, dataset: { testid: 'contact-form' }, 'aria-describedby': 'contact-form-hint' },
    h('header', { class: 'dialog-header' },
      h('h2', { id: 'contact-dialog-title' }, 'New contact'),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x')),
    ),
    h('div', { class: 'dialog-body' },
      h('p', { id: 'contact-form-hint', class: 'muted form-hint' }, 'A name or an email address is enough; you can add the rest later.'),
      formError,
      h('div', { class: 'field-grid' }, fieldNodes),
    ),
    h('footer', { class: 'dialog-footer' },
      h('span', { class: 'muted footer-hint' }, h('kbd', null, 'Enter'), ' to save · ', h('kbd', null, 'Esc'), ' to close'),
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      submit,
    ),
  );

  const dialog = h('dialog', { class: 'dialog contact-dialog', 'aria-labelledby': 'contact-dialog-title' }, form);

  function fieldWrap(name) { return form.querySelector(`.field[data-field="${name}"]`); }

  function clearFieldError(name) {
    const wrap = fieldWrap(name);
    wrap?.querySelector('.field-error')?.remove();
    const input = inputs[name];
    if (input) { input.removeAttribute('aria-invalid'); input.removeAttribute('aria-describedby'); }
  }

  function setFieldError(name, messages) {
    clearFieldError(name);
    const wrap = fieldWrap(name);
    const input = inputs[name];
    if (!wrap || !input) return false;
    const id = `contact-${name}-error`;
    wrap.append(h('p', { class: 'field-error', id, dataset: { testid: `error-${name}` } },
      icon('alert', { size: 14 }), h('span', null, messages.map(capitalize).join('. '))));
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    return true;
  }

  function showFormError(content) {
    if (!content) { formError.hidden = true; formError.replaceChildren(); return; }
    formError.hidden = false;
    mount(formError, icon('alert'), h('div', null, content));
  }

  function clearAllErrors() {
    FIELDS.forEach((f) => clearFieldError(f.name));
    showFormError(null);
  }

  function values() {
    const out = {};
    for (const f of FIELDS) {
      const v = inputs[f.name].value.trim();
      if (v) out[f.name] = v;
    }
    return out;
  }

  function setSaving(on) {
    saving = on;
    submit.disabled = on;
    submit.textContent = on ? 'Saving…' : 'Create contact';
    form.setAttribute('aria-busy', String(on));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    clearAllErrors();
    const body = values();
    if (!body.first_name && !body.last_name && !body.email) {
      setFieldError('first_name', ['Enter a name or an email address']);
      inputs.first_name.focus();
      return;
    }
    setSaving(true);
    try {
      const { contact } = await api.createContact(body, { idempotencyKey });
      remember(contact);
      dialog.close('created');
      onCreated?.(contact);
      toast(`${displayName(contact) || 'Contact'} was added to your contacts.`, {
        kind: 'success',
        title: 'Contact created',
        action: { label: 'Open contact', href: contactHref(contact) },
      });
    } catch (err) {
      setSaving(false);
      // The server answered: a new submission is a new request. On a network
      // failure keep the key so a retry cannot create the contact twice.
      if (!err.isNetwork) idempotencyKey = api.newIdempotencyKey();
      if (err.isValidation) {
        const byField = err.fieldErrors;
        const leftovers = [];
        let first = null;
        for (const [field, msgs] of Object.entries(byField)) {
          if (setFieldError(field, msgs)) { first ||= field; } else leftovers.push(...msgs.map((m) => (field ? `${field}: ${m}` : m)));
        }
        if (leftovers.length || !first) {
          showFormError(h('div', null,
            h('strong', null, err.title || 'Please check the form'),
            h('div', null, leftovers.length ? leftovers.map(capitalize).join('. ') : err.detail),
          ));
        }
        const target = first ? inputs[first] : inputs.first_name;
        target.focus();
        target.select?.();
      } else {
        showFormError(h('div', null,
          h('strong', null, err.title || 'Could not create the contact'), ' ',
          h('span', null, err.detail || err.message),
          err.requestId ? h('div', { class: 'muted' }, `Request ID ${err.requestId}`) : null,
        ));
        toastError(err, 'Could not create the contact');
      }
    }
  });

  openModal(dialog);
  inputs.first_name.focus();
  return dialog;
}

function capitalize(s) {
  const t = String(s || '').trim();
  return t ? t[0].toUpperCase() + t.slice(1) : t;
}

// ---------------------------------------------------------------------------
// Detail view

export function contactDetailView(root, id) {
  const controller = new AbortController();
  const back = h('a', { href: '/contacts', class: 'back-link' }, icon('arrowLeft'), 'Contacts');

  function skeleton() {
    return h('div', { class: 'detail-grid', 'aria-busy': 'true' },
      h('section', { class: 'card profile-card', 'aria-label': 'Loading contact' },
        h('div', { class: 'profile-head' },
          h('span', { class: 'avatar avatar-lg skeleton' }),
          h('div', { style: { flex: '1' } },
            h('div', { class: 'skeleton skeleton-text', style: { width: '55%', height: '20px' } }),
            h('div', { class: 'skeleton skeleton-text', style: { width: '35%', marginTop: '8px' } }))),
        h('div', { style: { marginTop: '20px' } },
          [70, 50, 60, 40].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '12px 0' } })))),
      h('section', { class: 'card' }, h('div', { class: 'skeleton skeleton-text', style: { width: '30%' } })),
    );
  }

  function render(c) {
    const name = displayName(c);
    pageTitle(name || 'Contact');
    const rows = [
      ['Email', 'mail', c.email ? h('a', { href: `mailto:${c.email}` }, c.email) : null],
      ['Phone', 'phone', c.phone ? h('a', { href: `tel:${c.phone.replace(/[^\d+]/g, '')}` }, c.phone) : null],
      ['Company', 'building', c.company || null],
      ['Created', 'clock', c.created_at ? timeEl(c.created_at, { withTime: true }) : null],
      ['Updated', 'clock', c.updated_at ? timeEl(c.updated_at, { withTime: true }) : null],
    ];
    mount(root,
      h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, back),
      h('div', { class: 'detail-grid', dataset: { testid: 'contact-detail', id: c.id } },
        h('section', { class: 'card profile-card', 'aria-labelledby': 'contact-name' },
          h('div', { class: 'profile-head' },
            h('span', { class: 'avatar avatar-lg', 'aria-hidden': 'true' }, initials(c)),
            h('div', { class: 'profile-title' },
              h('h1', { id: 'contact-name', class: 'page-title', tabindex: '-1', dataset: { testid: 'contact-name' } }, nameNode(c)),
              c.company ? h('p', { class: 'muted' }, c.company) : null,
            ),
          ),
          h('dl', { class: 'props' },
            rows.map(([label, ic, value]) => h('div', { class: 'prop' },
              h('dt', null, icon(ic, { size: 14 }), label),
              h('dd', { dataset: { testid: `contact-${label.toLowerCase()}` } }, value ?? dash()),
            )),
          ),
          h('p', { class: 'record-meta muted' },
            'ID ', h('code', null, c.id),
            c.version != null ? ` · version ${c.version}` : null,
          ),
        ),
        h('section', { class: 'card timeline-card', 'aria-labelledby': 'timeline-title', dataset: { testid: 'timeline' } },
          h('h2', { id: 'timeline-title', class: 'card-title' }, 'Timeline'),
          emptyState({
            testid: 'timeline-empty',
            iconName: 'clock',
            title: 'The timeline arrives with the activities feature',
            text: 'Calls, emails, meetings, deals and support tickets for this contact will be listed here, newest first, so every team sees the same history.',
          }),
        ),
      ),
    );
  }

  function renderNotFound(err) {
    pageTitle('Contact not found');
    mount(root,
      h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, back),
      emptyState({
        testid: 'not-found',
        iconName: 'search',
        title: 'Contact not found',
        text: err?.detail && err.detail !== err.title ? err.detail : 'It may have been deleted or merged into another contact, or the link is wrong.',
        actions: [h('a', { class: 'btn btn-primary', href: '/contacts' }, 'Back to contacts')],
      }),
    );
    root.querySelector('h2')?.setAttribute('tabindex', '-1');
  }

  function renderError(err) {
    pageTitle('Contact');
    mount(root,
      h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, back),
      emptyState({
        testid: 'error-state',
        iconName: 'alert',
        title: err.title || 'Could not load this contact',
        text: `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
        actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => fetchIt(true) }, 'Retry')],
      }),
    );
  }

  async function fetchIt(showSkeleton) {
    if (showSkeleton) mount(root, h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, back), skeleton());
    try {
      const c = await api.getContact(id, { signal: controller.signal });
      remember(c);
      const focused = document.activeElement;
      const hadFocusInMain = root.contains(focused);
      render(c);
      if (hadFocusInMain) root.querySelector('h1')?.focus();
    } catch (err) {
      if (err?.name === 'AbortError') return;
      if (err.isNotFound) renderNotFound(err);
      else if (showSkeleton || !seen.has(id)) { renderError(err); toastError(err, 'Could not load this contact'); }
      else toastError(err, 'Could not refresh this contact');
    }
  }

  const cached = seen.get(id);
  pageTitle(cached ? displayName(cached) || 'Contact' : 'Contact');
  if (cached) render(cached);
  fetchIt(!cached);

  return {
    kind: 'contact-detail',
    destroy() { controller.abort(); },
  };
}
