// The knowledge base (/service-desk/kb): every article, drafts and published,
// with a category filter, a search over titles and text, and each article's
// views and deflections (tickets customers did not need to file). The editor
// (/service-desk/kb/new, /service-desk/kb/<id>): title, category, the text in
// a plain textarea with a preview (paragraphs from blank lines; nothing in it
// is read as HTML), save, publish / unpublish, delete with a confirmation.

import { h, mount, icon, toast, toastError, pageTitle, timeEl, debounce } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as tapi from './tickets-api.js';
import { emptyState } from './contacts.js';
import { confirmDialog } from './settings-kit.js';
import { compactTime } from './records.js';
import { deskHeader, dicon } from './ticket-display.js';
import { canWorkTickets } from './ticket-queue.js';

const nf = new Intl.NumberFormat();
const STATUS_FILTERS = [['', 'All'], ['published', 'Published'], ['draft', 'Drafts']];

function articleStatusBadge(status, testid = 'kb-status') {
  const published = status === 'published';
  return h('span', { class: ['kb-status', published ? 'kb-status-published' : 'kb-status-draft'], dataset: { testid, status } },
    published ? dicon('eye', { size: 12 }) : icon('pencil', { size: 12 }), published ? 'Published' : 'Draft');
}

/** Plain text → paragraphs (blank lines) with line breaks; text nodes only, never HTML. */
export function textPreview(text) {
  const paras = String(text || '').replace(/\r\n?/g, '\n').split(/\n{2,}/).map((p) => p.replace(/^\n+|\n+$/g, '')).filter((p) => p.trim());
  return paras.map((p) => h('p', null, p.split('\n').map((line, i) => [i ? h('br') : null, line])));
}

/** Does an article contain every word of the search (title or text, any case)? */
function matches(a, q) {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = `${a.title || ''}\n${a.body || ''}\n${a.category || ''}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

// ---------------------------------------------------------------------------
// The list

export function kbListView(root, { query = new URLSearchParams() } = {}) {
  const state = {
    all: [], loaded: false, q: (query.get('q') || '').trim(), category: query.get('category') || '',
    status: STATUS_FILTERS.some(([v]) => v === query.get('status')) ? query.get('status') : '',
    selected: -1, destroyed: false, controller: new AbortController(),
  };
  pageTitle('Knowledge base', 'Service desk');

  const newButton = h('a', {
    class: 'btn btn-primary', href: '/service-desk/kb/new', dataset: { testid: 'kb-new' }, hidden: true, 'aria-keyshortcuts': 'n',
  }, icon('plus'), h('span', null, 'New article'), h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, 'N'));

  const searchInput = h('input', {
    id: 'kb-search', class: 'input-sm', type: 'search', autocomplete: 'off', maxlength: 120, placeholder: 'Search titles and text',
    value: state.q, dataset: { testid: 'kb-search' },
  });
  const search = h('form', { class: 'ol-search', role: 'search', 'aria-label': 'Search articles', onsubmit: (e) => { e.preventDefault(); apply(); } },
    h('label', { for: 'kb-search', class: 'visually-hidden' }, 'Search articles'),
    h('span', { class: 'ol-search-box' }, icon('search', { size: 14 }), searchInput));
  const applySoon = debounce(() => apply(), 200);
  searchInput.addEventListener('input', applySoon);
  const catSelect = h('select', { class: 'select-sm kb-category-filter', id: 'kb-category-filter', 'aria-label': 'Category', dataset: { testid: 'kb-category-filter' } },
    h('option', { value: '' }, 'All categories'));
  catSelect.addEventListener('change', () => { state.category = catSelect.value; apply(); });
  const statusSwitch = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Status' },
    STATUS_FILTERS.map(([v, label]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === state.status), dataset: { testid: `kb-status-filter-${v || 'all'}`, value: v },
      onclick: () => { state.status = v; apply(); },
    }, label)));
  const summary = h('span', { class: 'muted dl-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'kb-summary' } });

  const cols = ['kcl-title', 'kcl-category', 'kcl-status', 'kcl-views', 'kcl-deflections', 'kcl-updated'];
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table kb-table', dataset: { testid: 'kb-articles' } },
    h('caption', { class: 'visually-hidden' }, 'Knowledge base articles'),
    h('colgroup', null, cols.map((c) => h('col', { class: c }))),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'kcl-title' }, 'Article'),
      h('th', { scope: 'col', class: 'kcl-category' }, 'Category'),
      h('th', { scope: 'col', class: 'kcl-status' }, 'Status'),
      h('th', { scope: 'col', class: 'kcl-views align-end', title: 'Times customers opened it in the portal' }, 'Views'),
      h('th', { scope: 'col', class: 'kcl-deflections align-end', title: '“This answered my question”: complaints not filed' }, 'Deflections'),
      h('th', { scope: 'col', class: 'kcl-updated' }, 'Updated'))),
    tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { hidden: true });

  mount(root,
    ...deskHeader('kb', { sub: 'Answers customers find in the portal before they file a complaint', actions: [newButton] }),
    h('div', { class: 'ol-toolbar kb-toolbar' }, search, h('label', { class: 'visually-hidden', for: 'kb-category-filter' }, 'Category'), catSelect, statusSwitch, summary),
    h('div', { class: 'kb-list' }, wrap, empty));

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a, button')) return;
    tr.querySelector('a.row-link')?.click();
  });

  function row(a) {
    return h('tr', { dataset: { testid: 'kb-article-row', id: a.id, articleId: a.id, status: a.status } },
      h('td', { class: 'kcl-title' },
        h('a', { class: 'row-link', href: `/service-desk/kb/${encodeURIComponent(a.id)}`, dataset: { testid: 'kb-article-link' } }, a.title || 'Untitled'),
        h('div', { class: 'cell-sub kb-sub' }, [a.category, a.status === 'published' ? `${nf.format(a.views || 0)} views · ${nf.format(a.deflections || 0)} deflections` : 'Draft'].filter(Boolean).join(' · '))),
      h('td', { class: 'kcl-category' }, a.category ? h('span', { class: 'truncate' }, a.category) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'kcl-status' }, articleStatusBadge(a.status)),
      h('td', { class: 'kcl-views align-end num' }, nf.format(a.views || 0)),
      h('td', { class: 'kcl-deflections align-end num' }, nf.format(a.deflections || 0)),
      h('td', { class: 'kcl-updated' }, compactTime(a.updated_at)));
  }

  function syncUrl() {
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    if (state.category) p.set('category', state.category);
    if (state.status) p.set('status', state.status);
    const s = p.toString();
    updateUrl(`/service-desk/kb${s ? `?${s}` : ''}`);
  }

  function apply() {
    state.q = searchInput.value.trim();
    statusSwitch.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.value === state.status)));
    syncUrl();
    if (!state.loaded) return;
    const shown = state.all.filter((a) => (!state.status || a.status === state.status) && (!state.category || a.category === state.category) && matches(a, state.q));
    state.selected = -1;
    mount(tbody, shown.map(row));
    const published = state.all.filter((a) => a.status === 'published');
    const views = published.reduce((n, a) => n + (a.views || 0), 0);
    const defl = state.all.reduce((n, a) => n + (a.deflections || 0), 0);
    summary.textContent = shown.length === state.all.length
      ? `${nf.format(state.all.length)} ${state.all.length === 1 ? 'article' : 'articles'} · ${nf.format(published.length)} published · ${nf.format(views)} views · ${nf.format(defl)} ${defl === 1 ? 'deflection' : 'deflections'}`
      : `${nf.format(shown.length)} of ${nf.format(state.all.length)} articles`;
    wrap.hidden = !shown.length;
    empty.hidden = !!shown.length;
    if (!shown.length) {
      const filtered = state.q || state.category || state.status;
      mount(empty, emptyState({
        testid: 'empty-state', iconName: filtered ? 'search' : 'inbox',
        title: filtered ? 'No articles match' : 'No articles yet',
        text: filtered ? 'Try other words, or another category or status.' : 'Write answers to the questions customers ask most. Published articles show in the portal, and as suggestions while a customer types a complaint.',
        actions: filtered
          ? [h('button', { type: 'button', class: 'btn', onclick: () => { searchInput.value = ''; state.category = ''; catSelect.value = ''; state.status = ''; apply(); } }, 'Show every article')]
          : (canWorkTickets() ? [h('a', { class: 'btn btn-primary', href: '/service-desk/kb/new' }, icon('plus', { size: 15 }), 'New article')] : []),
      }));
      if (!filtered) empty.querySelector('.empty-icon')?.replaceChildren(dicon('book', { size: 28 }));
    }
  }

  async function load() {
    mount(tbody, Array.from({ length: 5 }, (_, i) => h('tr', { 'aria-hidden': 'true' },
      cols.map((c, j) => h('td', { class: c }, h('span', { class: 'skeleton skeleton-text', style: { width: `${35 + ((i * 29 + j * 13) % 50)}%` } }))))));
    table.setAttribute('aria-busy', 'true');
    try {
      const [items, cats] = await Promise.all([tapi.listArticles({}, { signal: state.controller.signal }), tapi.ticketCategories()]);
      if (state.destroyed) return;
      state.all = items;
      state.loaded = true;
      const known = [...new Set([...cats, ...items.map((a) => a.category).filter(Boolean), ...(state.category ? [state.category] : [])])].sort((a, b) => a.localeCompare(b));
      mount(catSelect, h('option', { value: '' }, 'All categories'), known.map((c) => h('option', { value: c, selected: c === state.category ? true : null }, c)));
      apply();
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      tbody.replaceChildren();
      wrap.hidden = true;
      empty.hidden = false;
      mount(empty, emptyState({
        testid: 'error-state', iconName: err.status === 403 ? 'lock' : 'alert',
        title: err.status === 403 ? 'The knowledge base is not available to your role' : (err.title || 'Could not load the articles'),
        text: err.detail || err.message,
        actions: err.status === 403 ? [] : [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => load() }, 'Retry')],
      }));
      if (err.status !== 403) toastError(err, 'Could not load the articles');
    } finally {
      table.setAttribute('aria-busy', 'false');
    }
  }

  function select(i) {
    const rows = [...tbody.querySelectorAll('tr[data-id]')];
    if (!rows.length) return;
    state.selected = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, j) => r.classList.toggle('is-selected', j === state.selected));
    rows[state.selected].querySelector('a.row-link')?.focus();
  }

  session.whenLoaded().then(() => { if (!state.destroyed) newButton.hidden = !canWorkTickets(); });
  load();
  return {
    kind: 'kb-list',
    moveSelection: (d) => select(state.selected + d),
    openSelection: () => { const a = tbody.querySelectorAll('tr[data-id]')[state.selected]?.querySelector('a.row-link'); if (a) { a.click(); return true; } return false; },
    openCreate: () => { if (canWorkTickets()) navigate('/service-desk/kb/new'); },
    destroy() { state.destroyed = true; state.controller.abort(); applySoon.cancel(); },
  };
}

// ---------------------------------------------------------------------------
// The editor

let uid = 0;

export function kbEditorView(root, id = null) {
  const creating = !id;
  const controller = new AbortController();
  const state = { article: null, version: null, saving: false, destroyed: false };
  const p = `kb${++uid}`;

  const back = () => h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/service-desk/kb', class: 'back-link' }, icon('arrowLeft'), 'Knowledge base'));

  function skeleton() {
    mount(root, back(), h('div', { class: 'card kb-editor-card', 'aria-busy': 'true' },
      [40, 25, 90, 85, 70, 60].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '16px 0' } }))));
  }

  function render() {
    const a = state.article || { title: '', body: '', category: '', status: 'draft', views: 0, deflections: 0 };
    const w = canWorkTickets();
    pageTitle(creating ? 'New article' : (a.title || 'Article'), 'Knowledge base');

    const title = h('input', { class: 'input kb-title-input', id: `${p}-title`, name: 'title', maxlength: 200, value: a.title || '', autocomplete: 'off', dataset: { testid: 'kb-title' }, required: true, readonly: !w });
    const category = h('input', { class: 'input', id: `${p}-category`, name: 'category', maxlength: 60, value: a.category || '', autocomplete: 'off', list: `${p}-cats`, dataset: { testid: 'kb-category' }, readonly: !w, placeholder: 'e.g. Delivery' });
    const cats = h('datalist', { id: `${p}-cats` });
    tapi.ticketCategories().then((list) => mount(cats, list.map((c) => h('option', { value: c }))));
    const body = h('textarea', {
      class: 'input kb-body', id: `${p}-body`, name: 'body', rows: 16, dataset: { testid: 'kb-body' }, readonly: !w,
      placeholder: 'Write the answer in plain text. Leave an empty line between paragraphs.',
    }, a.body || '');
    const preview = h('div', { class: 'kb-preview-text', dataset: { testid: 'kb-preview' }, 'aria-live': 'off' });
    const renderPreview = () => {
      const parts = textPreview(body.value);
      mount(preview, h('h2', { class: 'kb-preview-title' }, title.value.trim() || h('span', { class: 'muted' }, 'Untitled')),
        parts.length ? parts : h('p', { class: 'muted' }, 'Nothing to preview yet.'));
    };
    const previewSoon = debounce(renderPreview, 150);
    body.addEventListener('input', previewSoon);
    title.addEventListener('input', previewSoon);
    renderPreview();

    const panes = h('div', { class: 'kb-panes', dataset: { pane: 'write' } });
    const paneTabs = h('div', { class: 'segmented kb-pane-tabs', role: 'group', 'aria-label': 'Show' },
      [['write', 'Write'], ['preview', 'Preview']].map(([v, l]) => h('button', {
        type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === 'write'), dataset: { pane: v, testid: `kb-pane-${v}` },
        onclick: () => {
          panes.dataset.pane = v;
          paneTabs.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.pane === v)));
          if (v === 'preview') renderPreview();
        },
      }, l)));
    mount(panes,
      h('div', { class: 'kb-write field', dataset: { field: 'body' } }, h('label', { for: body.id }, 'Text'), body,
        h('p', { class: 'field-hint muted' }, 'Plain text: an empty line starts a new paragraph. Links and formatting are shown as typed.')),
      h('div', { class: 'kb-preview' }, h('span', { class: 'kb-preview-label' }, icon('eye', { size: 13 }), 'Preview, as customers see it'), preview));

    const box = h('div', { class: 'form-error', role: 'alert', hidden: true, dataset: { testid: 'kb-error' } });
    const published = a.status === 'published';
    const saveBtn = h('button', {
      type: 'button', class: ['btn', published ? 'btn-primary' : null], dataset: { testid: 'kb-save', status: creating ? 'draft' : a.status },
      'aria-keyshortcuts': 'Control+Enter', onclick: () => form.requestSubmit(),
    }, creating ? 'Save draft' : 'Save');
    const publishBtn = h('button', {
      type: 'button', class: ['btn', published ? 'btn-danger-quiet' : 'btn-primary'], dataset: { testid: published ? 'kb-unpublish' : 'kb-publish' },
      onclick: () => submit(published ? 'draft' : 'published'),
    }, published ? [icon('eyeOff', { size: 15 }), 'Unpublish'] : [dicon('eye', { size: 15 }), creating ? 'Publish' : 'Save and publish']);
    const deleteBtn = creating ? null : h('button', {
      type: 'button', class: 'btn btn-danger-quiet', dataset: { testid: 'kb-delete' }, onclick: () => remove(),
    }, icon('trash', { size: 15 }), h('span', { class: 'btn-label' }, 'Delete'));

    const form = h('form', { class: 'card kb-editor-card', novalidate: true, 'aria-labelledby': `${p}-h`, dataset: { testid: 'kb-editor', articleId: a.id || null, status: a.status } },
      box,
      h('div', { class: 'field-grid kb-fields' },
        h('div', { class: 'field kb-field-title', dataset: { field: 'title' } }, h('label', { for: title.id }, 'Title', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), title),
        h('div', { class: 'field kb-field-category', dataset: { field: 'category' } }, h('label', { for: category.id }, 'Category'), category, cats)),
      paneTabs,
      panes,
      w ? h('p', { class: 'muted kb-save-hint' }, h('kbd', null, 'Ctrl'), '+', h('kbd', null, 'Enter'), ' saves from anywhere in the form.')
        : h('p', { class: 'muted' }, 'Your role can read articles but not change them.'));
    // The actions sit at the top, clear of the notifications in the bottom corner.
    const actions = w ? h('div', { class: 'page-actions kb-actions' }, deleteBtn, saveBtn, publishBtn) : null;
    form.addEventListener('submit', (e) => { e.preventDefault(); submit(creating ? 'draft' : a.status); });
    form.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); } });
    [title, category, body].forEach((el) => el.addEventListener('input', () => {
      el.removeAttribute('aria-invalid');
      el.closest('.field')?.querySelector(':scope > .field-error')?.remove();
    }));

    const stats = creating ? null : h('dl', { class: 'kb-stats', dataset: { testid: 'kb-stats' } },
      h('div', null, h('dt', null, 'Views'), h('dd', { class: 'num' }, nf.format(a.views || 0))),
      h('div', null, h('dt', null, 'Deflections'), h('dd', { class: 'num', title: 'Customers who said this answered their question, and did not file a complaint' }, nf.format(a.deflections || 0))),
      h('div', null, h('dt', null, published ? 'Published' : 'Updated'), h('dd', null, timeEl(published ? a.published_at || a.updated_at : a.updated_at, { withTime: true }))));

    mount(root,
      back(),
      h('div', { class: 'page-header kb-editor-header' },
        h('div', { class: 'page-heading' },
          h('h1', { class: 'page-title', id: `${p}-h`, tabindex: '-1' }, creating ? 'New article' : (a.title || 'Article')),
          h('p', { class: 'page-sub kb-editor-sub' }, creating ? 'Drafts stay private until you publish them.' : articleStatusBadge(a.status, 'kb-editor-status'),
            !creating && !published ? h('span', { class: 'muted' }, ' Only staff see drafts.') : null,
            !creating && published ? h('span', { class: 'muted' }, ' Customers find it in the portal.') : null)),
        actions),
      stats,
      form);

    async function submit(status) {
      if (state.saving) return;
      box.hidden = true;
      form.querySelectorAll('.field-error').forEach((x) => x.remove());
      const fields = { title: title.value.trim(), category: category.value.trim(), body: body.value, status };
      const local = {};
      if (fields.title.length < 3) local.title = 'Write a title of at least 3 characters';
      if (!fields.body.trim()) local.body = 'Write the text of the article';
      if (Object.keys(local).length) { showErrors(Object.entries(local).map(([field, message]) => ({ field, message }))); return; }
      const patch = {};
      if (creating) Object.assign(patch, fields);
      else {
        for (const k of ['title', 'body', 'status']) if (fields[k] !== (a[k] ?? '')) patch[k] = fields[k];
        if (fields.category !== (a.category || '')) patch.category = fields.category;
        if (!Object.keys(patch).length) { toast('Nothing changed.', { title: 'Saved', timeout: 2000 }); return; }
      }
      state.saving = true;
      [saveBtn, publishBtn].forEach((b) => { b.disabled = true; });
      form.setAttribute('aria-busy', 'true');
      try {
        const res = creating ? await tapi.createArticle(patch) : await tapi.updateArticle(id, patch, state.version);
        state.saving = false;
        const wasPublished = a.status === 'published';
        const nowPublished = res.article.status === 'published';
        toast(nowPublished && !wasPublished ? 'Customers can find it in the portal now.' : !nowPublished && wasPublished ? 'It is a draft again; customers no longer see it.'
          : creating ? 'The draft is saved; only staff can see it.' : 'Your changes are saved.', {
          kind: 'success', title: nowPublished && !wasPublished ? 'Published' : !nowPublished && wasPublished ? 'Unpublished' : 'Saved',
        });
        if (creating) { navigate(`/service-desk/kb/${encodeURIComponent(res.article.id)}`, { replace: true }); return; }
        state.article = res.article;
        state.version = res.version;
        render();
        root.querySelector('[data-testid="kb-save"]')?.focus({ preventScroll: true });
      } catch (err) {
        state.saving = false;
        [saveBtn, publishBtn].forEach((b) => { b.disabled = false; });
        form.removeAttribute('aria-busy');
        if (err.status === 412) {
          toast('Someone else changed this article meanwhile. The page shows their version now; make your change again if it is still needed.', {
            kind: 'error', title: 'Changed by someone else', requestId: err.requestId,
          });
          await fetchIt();
          return;
        }
        if (err.isValidation) { showErrors(err.errors, err); return; }
        toastError(err, 'Could not save the article');
      }
    }

    function showErrors(errors, err) {
      const inputs = { title, category, body, status: publishBtn };
      let first = null;
      const rest = [];
      for (const e of errors) {
        const el = inputs[e.field];
        if (!el || e.field === 'status') { rest.push(`${e.field ? `${e.field}: ` : ''}${e.message}`); continue; }
        el.setAttribute('aria-invalid', 'true');
        el.closest('.field').append(h('p', { class: 'field-error' }, icon('alert', { size: 14 }), h('span', null, e.message[0].toUpperCase() + e.message.slice(1))));
        first ||= el;
      }
      if (rest.length || (!first && err)) {
        box.hidden = false;
        mount(box, icon('alert'), h('div', null, h('strong', null, err?.title || 'Please check the article'), ' ', rest.join('. ') || err?.detail || ''));
      }
      if (first) {
        if (first === body && panes.dataset.pane === 'preview') paneTabs.querySelector('[data-pane="write"]').click();
        first.focus();
      }
    }

    function remove() {
      confirmDialog({
        title: `Delete “${a.title || 'this article'}”?`,
        text: a.status === 'published'
          ? 'It disappears from the portal at once, with its view and deflection counts. This cannot be undone; unpublish it instead to keep it as a draft.'
          : 'The draft is deleted. This cannot be undone.',
        confirmLabel: 'Delete article', workingLabel: 'Deleting…', testid: 'kb-confirm-delete',
        run: async () => {
          await tapi.deleteArticle(id);
          navigate('/service-desk/kb');
          toast(`“${a.title}” was deleted.`, { title: 'Article deleted' });
        },
      });
    }
  }

  async function fetchIt(showSkeleton = false) {
    if (showSkeleton) skeleton();
    try {
      const [{ article, version }] = await Promise.all([tapi.getArticle(id, { signal: controller.signal }), session.whenLoaded()]);
      if (state.destroyed) return;
      state.article = article;
      state.version = version;
      render();
      if (showSkeleton) root.querySelector('h1')?.focus({ preventScroll: true });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      if (err.isNotFound || err.status === 422) {
        pageTitle('Article not found');
        mount(root, back(), emptyState({
          testid: 'not-found', iconName: 'search', title: 'Article not found', text: 'It may have been deleted, or the link is wrong.',
          actions: [h('a', { class: 'btn btn-primary', href: '/service-desk/kb' }, 'All articles')],
        }));
      } else {
        mount(root, back(), emptyState({
          testid: 'error-state', iconName: 'alert', title: err.title || 'Could not load this article', text: err.detail || err.message,
          actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => fetchIt(true) }, 'Retry')],
        }));
        if (!err.handled) toastError(err, 'Could not load this article');
      }
    }
  }

  if (creating) {
    session.whenLoaded().then(() => {
      if (state.destroyed) return;
      render();
      root.querySelector('[data-testid="kb-title"]')?.focus();
    });
  } else fetchIt(true);

  return {
    kind: 'kb-editor',
    destroy() { state.destroyed = true; controller.abort(); },
  };
}
