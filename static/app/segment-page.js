// A segment (/campaigns/segments/new, /campaigns/segments/<id>). Dynamic
// segments open in the builder: name, description and rules in AND/OR groups
// (nested), with a live count (debounced, GET /segments/count?filter=…) and a
// preview of the first members beside them; ready-made starting points on a
// new one; save (If-Match; 412 reloads), delete. Static lists open in
// segment-static.js. Ctrl+Enter saves.

import { h, mount, icon, toast, toastError, pageTitle, debounce, timeEl } from './ui.js';
import { navigate } from './router.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import * as sapi from './segments-api.js';
import { emptyState } from './contacts.js';
import { confirmDialog } from './settings-kit.js';
import { formErrors, errorBox } from './forms.js';
import { avatar, contactName, stageBadge, formatMoney, parseMoney } from './records.js';
import { ruleBuilder } from './filters.js';
import {
  kindBadge, spinner, segmentHref, backToSegments, loadRuleContext, contactsText, nf,
} from './segment-display.js';
import { staticListView } from './segment-static.js';
import { loadingCard } from './editor-shell.js';

const PREVIEW = 10;

/** Ready-made starting points for a new segment. */
function templates(ctx) {
  const thousand = parseMoney('1000', ctx.currency);
  return [
    {
      key: 'quiet', title: 'Customers gone quiet (90 days)', text: 'Ordered before, nothing in the last 90 days',
      name: 'Customers gone quiet', description: 'Ordered before, nothing in the last 90 days.',
      filter: { and: [{ field: 'orders.count', op: 'gte', value: 1 }, { field: 'orders.last_at', op: 'lt', value: '-90d' }] },
    },
    {
      key: 'high-value', title: `High-value customers (orders total ≥ ${formatMoney(thousand, ctx.currency)})`,
      text: `Everything they ordered adds up to ${formatMoney(thousand, ctx.currency)} or more`,
      name: 'High-value customers', description: `Orders totalling ${formatMoney(thousand, ctx.currency)} or more.`,
      filter: { field: 'orders.total', op: 'gte', value: thousand },
    },
    {
      key: 'stalled', title: 'Open deals, no activity in 30 days', text: 'A deal is open, but nobody has been in touch for a month',
      name: 'Open deals, gone cold', description: 'An open deal and no activity in the last 30 days.',
      filter: {
        and: [
          { field: 'deals.open_count', op: 'gte', value: 1 },
          { or: [{ field: 'last_activity_at', op: 'lt', value: '-30d' }, { field: 'last_activity_at', op: 'empty' }] },
        ],
      },
    },
    {
      key: 'trade-fair', title: 'Leads from the trade fair list', text: 'Leads on a static list you keep, such as the people you met at a fair',
      name: 'Trade fair leads', description: 'Leads on the trade fair list.',
      filter: () => {
        const list = ctx.lists.find((l) => /trade\s*-?\s*fair|\bfair\b|messe|expo/i.test(l.name || ''));
        return { and: [{ field: 'lifecycle_stage', op: 'eq', value: 'lead' }, { field: 'lists', op: 'has', value: list?.id || '' }] };
      },
    },
  ];
}

/** The route: a new segment or list, or a saved one of either kind. */
export function segmentPageView(root, id = null, { query = new URLSearchParams() } = {}) {
  const controller = new AbortController();
  let inner = null;
  let destroyed = false;

  function skeleton() {
    mount(root, backToSegments(), loadingCard());
  }

  async function open() {
    if (!id) {
      await session.whenLoaded();
      if (destroyed) return;
      inner = query.get('kind') === 'static'
        ? staticListView(root, { segment: null, version: null })
        : dynamicEditor(root, { segment: null, version: null, template: query.get('template') });
      return;
    }
    skeleton();
    try {
      const [{ segment, version }] = await Promise.all([sapi.getSegment(id, { signal: controller.signal }), session.whenLoaded()]);
      if (destroyed) return;
      inner = segment.kind === 'static'
        ? staticListView(root, { segment, version })
        : dynamicEditor(root, { segment, version });
    } catch (err) {
      if (err?.name === 'AbortError' || destroyed) return;
      if (err.isNotFound || err.status === 422) {
        pageTitle('Segment not found');
        mount(root, backToSegments(), emptyState({
          testid: 'not-found', iconName: 'search', title: 'Segment not found', text: 'It may have been deleted, or the link is wrong.',
          actions: [h('a', { class: 'btn btn-primary', href: '/campaigns/segments' }, 'All segments')],
        }));
      } else {
        mount(root, backToSegments(), emptyState({
          testid: 'error-state', iconName: err.status === 403 ? 'lock' : 'alert',
          title: err.status === 403 ? 'Segments are not available to your role' : (err.title || 'Could not load this segment'),
          text: err.detail || err.message,
          actions: err.status === 403 ? [] : [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => open() }, 'Retry')],
        }));
        if (!err.handled && err.status !== 403) toastError(err, 'Could not load this segment');
      }
    }
  }
  open();

  return {
    kind: 'segment-page',
    destroy() { destroyed = true; controller.abort(); inner?.destroy?.(); },
  };
}

// ---------------------------------------------------------------------------
// The builder for dynamic segments

let uid = 0;

function dynamicEditor(root, { segment: initial, version: initialVersion, template }) {
  const p = `seg${++uid}`;
  const state = {
    segment: initial, version: initialVersion, creating: !initial, ctx: null, builder: null,
    baseline: null, saving: false, destroyed: false, liveKey: null, liveController: null, total: null,
  };
  const controller = new AbortController();
  const w = sapi.canWriteSegments();

  // --- the live count and preview ---------------------------------------------------------
  const countNum = h('span', { class: 'seg-count-num num', dataset: { testid: 'segment-count', state: 'idle' }, 'aria-hidden': 'true' }, '—');
  const countSpin = h('span', { class: 'seg-count-spin', hidden: true }, spinner());
  const countLabel = h('span', { class: 'seg-count-label' }, 'contacts match');
  const countOf = h('span', { class: 'seg-count-of muted' });
  const countBar = h('span', { class: 'seg-bar', 'aria-hidden': 'true' }, h('span', { class: 'seg-bar-fill' }));
  const countMsg = h('p', { class: 'seg-count-msg', dataset: { testid: 'segment-count-message' }, hidden: true });
  const countSr = h('span', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const countCard = h('section', { class: 'card seg-count-card', 'aria-labelledby': `${p}-count-h`, dataset: { state: 'idle' } },
    h('h2', { class: 'seg-card-title', id: `${p}-count-h` }, 'Live count'),
    h('div', { class: 'seg-count-line' }, countNum, countSpin, h('span', { class: 'seg-count-text' }, countOf, countLabel)),
    countBar, countMsg, countSr);

  const previewList = h('ul', { class: 'seg-preview-list', dataset: { testid: 'segment-preview' }, 'aria-busy': 'false' });
  const previewNote = h('p', { class: 'seg-preview-note muted' });
  const previewAll = h('a', { class: 'seg-preview-all', hidden: true, dataset: { testid: 'segment-open-contacts' } }, 'See them all in Contacts', icon('chevronRight', { size: 14 }));
  const previewCard = h('section', { class: 'card seg-preview-card', 'aria-labelledby': `${p}-preview-h` },
    h('h2', { class: 'seg-card-title', id: `${p}-preview-h` }, 'Preview'),
    previewNote, previewList, previewAll);

  function setCount(kind, { n, message } = {}) {
    countCard.dataset.state = kind;
    countNum.dataset.state = kind;
    countSpin.hidden = kind !== 'loading';
    countCard.classList.toggle('is-loading', kind === 'loading');
    if (kind === 'loading') {
      countSr.textContent = '';
      if (countNum.dataset.count == null) {
        // Nothing counted yet: say so instead of showing a stale label.
        countLabel.textContent = 'counting…';
        countOf.textContent = '';
        countBar.hidden = true;
        countMsg.hidden = true;
      }
      return;
    }
    state.lastCount = kind === 'done' ? n : null;
    if (kind === 'done') {
      countNum.textContent = nf.format(n);
      countNum.dataset.count = String(n);
      countLabel.textContent = state.total != null ? (state.total === 1 ? 'contact matches' : 'contacts match') : (n === 1 ? 'contact matches' : 'contacts match');
      countMsg.hidden = true;
      countMsg.replaceChildren();
      countSr.textContent = `${contactsText(n)} ${n === 1 ? 'matches' : 'match'}.`;
      const total = state.total;
      countOf.textContent = total != null ? `of ${nf.format(total)} ` : '';
      countBar.hidden = total == null || !total;
      countBar.firstChild.style.width = total ? `${Math.min(100, (n / total) * 100).toFixed(1)}%` : '0';
    } else {
      countNum.textContent = '—';
      delete countNum.dataset.count;
      countLabel.textContent = { refused: 'rule refused', empty: 'no rules yet', error: 'not counted' }[kind] || 'rules incomplete';
      countOf.textContent = '';
      countBar.hidden = true;
      countMsg.hidden = !message;
      countMsg.className = ['seg-count-msg', kind === 'refused' || kind === 'error' ? 'is-error' : ''].join(' ');
      mount(countMsg, icon(kind === 'refused' || kind === 'error' ? 'alert' : 'pencil', { size: 14 }), h('span', null, message || ''));
      countSr.textContent = `No count: ${message || ''}`;
    }
  }

  function setPreview(kind, { items = [], message, filter } = {}) {
    previewList.setAttribute('aria-busy', String(kind === 'loading'));
    previewList.dataset.state = kind;
    previewAll.hidden = true;
    if (kind === 'loading') {
      if (!previewList.querySelector('.seg-member')) {
        mount(previewList, Array.from({ length: 4 }, (_, i) => h('li', { class: 'seg-member seg-member-skel', 'aria-hidden': 'true' },
          h('span', { class: 'avatar avatar-sm skeleton' }), h('span', { class: 'skeleton skeleton-text', style: { width: `${45 + ((i * 23) % 40)}%` } }))));
      }
      previewList.classList.add('is-refreshing');
      return;
    }
    previewList.classList.remove('is-refreshing');
    if (kind !== 'done') {
      previewNote.textContent = message || '';
      previewList.replaceChildren();
      return;
    }
    previewNote.textContent = items.length ? `The first ${items.length === 1 ? 'contact' : `${items.length} contacts`} in the segment:` : 'No contact matches these rules today.';
    mount(previewList, items.map((c) => h('li', { class: 'seg-member', dataset: { testid: 'segment-preview-member', id: c.id } },
      avatar('contact', c, 'sm'),
      h('div', { class: 'seg-member-text' },
        h('a', { href: `/contacts/${encodeURIComponent(c.id)}`, class: 'seg-member-name' }, contactName(c) || h('span', { class: 'muted fst-italic' }, 'Unnamed contact')),
        c.email ? h('span', { class: 'seg-member-sub muted' }, c.email) : null),
      c.lifecycle_stage ? stageBadge(c.lifecycle_stage) : null)));
    if (items.length && filter) {
      previewAll.hidden = false;
      previewAll.href = `/contacts?filter=${encodeURIComponent(JSON.stringify(filter))}`;
    }
  }

  const refreshSoon = debounce(() => refresh(), 300);

  function problemText(pr) {
    return pr.label ? `${pr.label}: ${pr.message.charAt(0).toLowerCase()}${pr.message.slice(1)}` : pr.message;
  }

  function refresh({ force = false } = {}) {
    if (!state.builder || state.destroyed) return;
    const { filter, problems } = state.builder.read();
    if (problems.length) {
      state.liveController?.abort();
      state.liveKey = null;
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
      if (state.builder.isEmpty()) setCount('empty', { message: 'Add a rule, or start from an example.' });
      else setCount('incomplete', { message: `${problemText(problems[0])}${more}.` });
      setPreview('incomplete', { message: 'Finish the rules to see who matches.' });
      return;
    }
    const key = JSON.stringify(filter);
    if (key === state.liveKey && !force) return;
    state.liveKey = key;
    state.liveController?.abort();
    const c = new AbortController();
    state.liveController = c;
    setCount('loading');
    setPreview('loading');
    // A saved segment whose rules are unchanged: ask for its own members.
    const saved = !state.creating && JSON.stringify(state.segment.filter) === key;
    const counting = saved ? sapi.countSegment(state.segment.id, { signal: c.signal }) : sapi.countFilter(filter, { signal: c.signal });
    const previewing = saved
      ? sapi.segmentMembers(state.segment.id, { limit: PREVIEW, signal: c.signal })
      : crm.listRecords('contact', { filter, limit: PREVIEW, signal: c.signal });
    counting.then((n) => { if (!c.signal.aborted) setCount('done', { n }); }, (err) => {
      if (err?.name === 'AbortError' || c.signal.aborted) return;
      const refused = err.isValidation;
      const message = refused ? (err.errors.find((e) => e.field === 'filter')?.message || err.detail) : (err.detail || err.message);
      setCount(refused ? 'refused' : 'error', { message: refused ? `The server refused a rule: ${message}` : `Could not count: ${message}` });
    });
    previewing.then((page) => { if (!c.signal.aborted) setPreview('done', { items: page.items.slice(0, PREVIEW), filter }); }, (err) => {
      if (err?.name === 'AbortError' || c.signal.aborted) return;
      setPreview('error', { message: err.isValidation ? 'No preview while a rule is refused.' : `Could not load the preview: ${err.detail || err.message}` });
    });
  }

  // --- the page ------------------------------------------------------------------------
  function render() {
    const s = state.segment || { name: '', description: '', kind: 'dynamic', filter: null };
    pageTitle(state.creating ? 'New segment' : (s.name || 'Segment'), 'Segments');
    const ctx = state.ctx;

    const name = h('input', {
      class: 'input', id: `${p}-name`, name: 'name', maxlength: 120, autocomplete: 'off', required: true, readonly: !w,
      value: s.name || '', placeholder: 'e.g. Customers gone quiet', dataset: { testid: 'segment-name' },
    });
    const description = h('textarea', {
      class: 'input', id: `${p}-description`, name: 'description', rows: 2, maxlength: 500, readonly: !w,
      placeholder: 'What the segment is for (optional)', dataset: { testid: 'segment-description' },
    }, s.description || '');
    const box = errorBox('segment-error');
    const rulesError = h('div', { class: 'form-error', role: 'alert', hidden: true, dataset: { testid: 'segment-rules-error' } });
    const dirtyNote = h('span', { class: 'seg-dirty muted', hidden: true, dataset: { testid: 'segment-dirty' } }, 'Unsaved changes');

    const builder = ruleBuilder({
      catalog: ctx.catalog, tags: ctx.tags, lists: ctx.lists, readOnly: !w,
      onChange: () => { rulesError.hidden = true; syncDirty(); refreshSoon(); },
    });
    state.builder = builder;
    if (s.filter) builder.setFilter(s.filter);

    const saveBtn = w ? h('button', {
      type: 'submit', form: `${p}-form`, class: 'btn btn-primary', dataset: { testid: 'segment-save' }, 'aria-keyshortcuts': 'Control+Enter',
    }, icon('check', { size: 15 }), state.creating ? 'Create segment' : 'Save') : null;
    const deleteBtn = w && !state.creating ? h('button', {
      type: 'button', class: 'btn btn-danger-quiet', dataset: { testid: 'segment-delete' }, onclick: () => remove(),
    }, icon('trash', { size: 15 }), h('span', { class: 'btn-label' }, 'Delete')) : null;

    const details = h('section', { class: 'card seg-details', 'aria-labelledby': `${p}-details-h` },
      h('h2', { class: 'seg-card-title', id: `${p}-details-h` }, 'Details'),
      box,
      h('div', { class: 'field-grid' },
        h('div', { class: 'field', dataset: { field: 'name' } },
          h('label', { for: name.id }, 'Name', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), name),
        h('div', { class: 'field', dataset: { field: 'description' } },
          h('label', { for: description.id }, 'Description'), description)));

    const starters = state.creating && w ? h('section', { class: 'card seg-starters', 'aria-labelledby': `${p}-start-h`, dataset: { testid: 'segment-templates' } },
      h('h2', { class: 'seg-card-title', id: `${p}-start-h` }, 'Start from an example'),
      h('p', { class: 'muted seg-card-lead' }, 'Pick one to fill in the rules, then change them as you like.'),
      h('div', { class: 'seg-starter-grid' }, templates(ctx).map((t) => h('button', {
        type: 'button', class: 'seg-starter', dataset: { testid: 'segment-template', template: t.key },
        onclick: () => applyTemplate(t),
      }, h('span', { class: 'seg-starter-title' }, t.title), h('span', { class: 'seg-starter-text muted' }, t.text))))) : null;

    const rules = h('section', { class: 'card seg-rules', 'aria-labelledby': `${p}-rules-h` },
      h('div', { class: 'seg-rules-head' },
        h('h2', { class: 'seg-card-title', id: `${p}-rules-h` }, 'Rules'),
        h('p', { class: 'muted seg-card-lead' }, 'Contacts, their deals and their orders. Money is in ', ctx.currency, '; times can be relative, such as “in the last 30 days”.')),
      rulesError,
      builder.el);

    const form = h('form', { id: `${p}-form`, class: 'seg-editor', novalidate: true, 'aria-labelledby': `${p}-h`, dataset: { testid: 'segment-editor', segmentId: s.id || null } },
      details, starters, rules,
      h('div', { class: 'seg-side' }, countCard, previewCard));
    form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (w) save(); }
    });
    [name, description].forEach((el) => el.addEventListener('input', () => { errs.clearField(el.name); syncDirty(); }));
    const errs = formErrors({ form, inputs: { name, description }, idPrefix: p, box });

    mount(root,
      backToSegments(),
      h('div', { class: 'page-header seg-editor-header' },
        h('div', { class: 'page-heading' },
          h('p', { class: 'seg-eyebrow muted' }, 'Campaigns · Segments'),
          h('h1', { class: 'page-title', id: `${p}-h`, tabindex: '-1', dataset: { testid: 'segment-title' } }, state.creating ? 'New segment' : (s.name || 'Segment')),
          h('p', { class: 'page-sub seg-editor-sub' },
            kindBadge('dynamic'),
            state.creating ? h('span', null, ' Members follow the rules: anyone who matches today is in it.')
              : h('span', { dataset: { testid: 'segment-updated' } }, ' Updated ', timeEl(s.updated_at, { withTime: true }), '.'),
            !w ? h('span', { class: 'muted' }, ' Your role can see this segment but not change it.') : null)),
        w ? h('div', { class: 'page-actions seg-editor-actions' }, dirtyNote, deleteBtn, saveBtn) : null),
      form,
      w ? h('p', { class: 'muted seg-save-hint' }, h('kbd', null, 'Ctrl'), '+', h('kbd', null, 'Enter'), ' saves from anywhere on the page.') : null);

    function currentBody() {
      const { filter } = builder.read();
      return { name: name.value.trim(), description: description.value.trim(), filter };
    }
    state.baseline = JSON.stringify(currentBody());
    function syncDirty() {
      const dirty = JSON.stringify(currentBody()) !== state.baseline;
      dirtyNote.hidden = !dirty;
      state.dirty = dirty;
    }

    function applyTemplate(t) {
      const filter = typeof t.filter === 'function' ? t.filter() : t.filter;
      builder.setFilter(filter);
      if (!name.value.trim()) name.value = t.name;
      if (!description.value.trim()) description.value = t.description;
      rulesError.hidden = true;
      syncDirty();
      refresh();
      toast(`“${t.title}” is filled in. Change the rules as you like, then create the segment.`, { title: 'Example applied', timeout: 3500 });
    }

    async function save() {
      if (state.saving) return;
      errs.clearAll();
      rulesError.hidden = true;
      const body = currentBody();
      const { problems } = builder.read();
      let invalid = false;
      if (!body.name) { errs.setField('name', ['Give the segment a name']); invalid = true; }
      if (problems.length) {
        rulesError.hidden = false;
        mount(rulesError, icon('alert'), h('div', null, h('strong', null, 'Finish the rules first.'), ' ',
          problems.length === 1 ? `${problemText(problems[0])}.` : `${problems.length} rules need attention.`));
        builder.showProblems(problems);
      }
      if (invalid) { name.focus(); return; }
      if (problems.length) return;
      let patch;
      if (state.creating) patch = { name: body.name, description: body.description || null, kind: 'dynamic', filter: body.filter };
      else {
        patch = {};
        if (body.name !== (state.segment.name || '')) patch.name = body.name;
        if (body.description !== (state.segment.description || '')) patch.description = body.description || null;
        if (JSON.stringify(body.filter) !== JSON.stringify(state.segment.filter)) patch.filter = body.filter;
        if (!Object.keys(patch).length) { toast('Nothing changed.', { title: 'Saved', timeout: 2000 }); return; }
      }
      state.saving = true;
      saveBtn.disabled = true;
      form.setAttribute('aria-busy', 'true');
      try {
        const res = state.creating ? await sapi.createSegment(patch) : await sapi.updateSegment(state.segment.id, patch, state.version);
        state.saving = false;
        if (state.destroyed) return;
        if (state.creating) {
          state.dirty = false;
          toast(`“${res.segment.name}” keeps itself up to date from now on.`, { kind: 'success', title: 'Segment created' });
          navigate(segmentHref(res.segment.id), { replace: true });
          return;
        }
        state.segment = res.segment;
        state.version = res.version;
        state.baseline = JSON.stringify(currentBody());
        syncDirty();
        saveBtn.disabled = false;
        form.removeAttribute('aria-busy');
        root.querySelector('[data-testid="segment-title"]').textContent = res.segment.name;
        root.querySelector('[data-testid="segment-updated"]')?.replaceChildren(' Updated ', timeEl(res.segment.updated_at, { withTime: true }), '.');
        pageTitle(res.segment.name, 'Segments');
        toast('Your changes are saved.', { kind: 'success', title: 'Saved' });
      } catch (err) {
        state.saving = false;
        saveBtn.disabled = false;
        form.removeAttribute('aria-busy');
        if (state.destroyed) return;
        if (err.status === 412) {
          toast('Someone else changed this segment meanwhile. The page shows their version now; make your change again if it is still needed.', {
            kind: 'error', title: 'Changed by someone else', requestId: err.requestId,
          });
          await reload();
          return;
        }
        if (err.isValidation) {
          let first = null;
          const rest = [];
          for (const e of err.errors) {
            if (e.field === 'name' || e.field === 'description') { errs.setField(e.field, [e.message]); first ||= e.field === 'name' ? name : description; }
            else if (e.field === 'filter') {
              rulesError.hidden = false;
              mount(rulesError, icon('alert'), h('div', null, h('strong', null, 'The server refused the rules.'), ' ', e.message));
              first ||= builder.el.querySelector('select, input');
            } else rest.push(`${e.field ? `${e.field}: ` : ''}${e.message}`);
          }
          if (rest.length || !first) errs.showBox(h('div', null, h('strong', null, err.title || 'Please check the segment'), ' ', rest.join('. ') || err.detail));
          (first || name).focus();
          if (!first) details.scrollIntoView({ block: 'nearest' });
          return;
        }
        toastError(err, 'Could not save the segment');
      }
    }

    function remove() {
      confirmDialog({
        title: `Delete “${s.name || 'this segment'}”?`,
        text: 'The segment and its rules are deleted; the contacts in it stay as they are. This cannot be undone.',
        confirmLabel: 'Delete segment', workingLabel: 'Deleting…', testid: 'segment-confirm-delete',
        run: async () => {
          await sapi.deleteSegment(s.id);
          state.dirty = false;
          navigate('/campaigns/segments');
          toast(`“${s.name}” was deleted.`, { title: 'Segment deleted' });
        },
      });
    }

    state.liveKey = null;
    refresh({ force: true });
    return { name };
  }

  async function reload() {
    try {
      const { segment, version } = await sapi.getSegment(state.segment.id, { signal: controller.signal });
      if (state.destroyed) return;
      if (segment.kind === 'static') { navigate(segmentHref(segment.id), { replace: true }); return; }
      state.segment = segment;
      state.version = version;
      render();
      root.querySelector('[data-testid="segment-save"]')?.focus({ preventScroll: true });
    } catch (err) {
      if (err?.name !== 'AbortError') toastError(err, 'Could not reload the segment');
    }
  }

  // Leaving with unsaved changes asks first (closing the tab or reloading).
  const beforeUnload = (e) => { if (state.dirty && !state.saving) { e.preventDefault(); e.returnValue = ''; } };
  window.addEventListener('beforeunload', beforeUnload);

  async function start() {
    mount(root, backToSegments(), h('div', { class: 'card seg-loading', 'aria-busy': 'true' },
      [35, 60, 90, 80, 70].map((wd) => h('div', { class: 'skeleton skeleton-text', style: { width: `${wd}%`, margin: '16px 0' } }))));
    try {
      const ctx = await loadRuleContext({ signal: controller.signal });
      if (state.destroyed) return;
      state.ctx = ctx;
      crm.countRecords('contact', { signal: controller.signal }).then((c) => {
        state.total = c.more ? null : c.count;
        if (state.lastCount != null && !state.destroyed) setCount('done', { n: state.lastCount });
      }, () => {});
      if (state.creating && template && !state.segment) {
        const t = templates(ctx).find((x) => x.key === template);
        if (t) {
          state.segment = null;
          const { name } = render();
          // Fill in the example as if picked.
          root.querySelector(`[data-testid="segment-template"][data-template="${t.key}"]`)?.click();
          name.focus();
          return;
        }
      }
      const { name } = render();
      if (state.creating && w) name.focus();
      else root.querySelector('h1')?.focus({ preventScroll: true });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      toastError(err, 'Could not load the segment builder');
    }
  }
  start();

  return {
    destroy() {
      state.destroyed = true;
      controller.abort();
      state.liveController?.abort();
      refreshSoon.cancel();
      window.removeEventListener('beforeunload', beforeUnload);
    },
  };
}

