// Campaigns › Segments: pieces the list, the builder and the static list page
// share (headers, the kind badge, counts with a spinner, what a rule builder
// needs loaded), and the contacts list's "Save as segment" dialog.

import { h, mount, icon, toast, openModal } from './ui.js';
import * as crm from './crm-api.js';
import { pipelineSettings } from './pipeline-api.js';
import * as sapi from './segments-api.js';
import { formErrors, errorBox, busy } from './forms.js';
import { xicon } from './records.js';
import { ruleCatalog, describeFilter } from './filters.js';

export const nf = new Intl.NumberFormat();

export function segmentHref(id) { return `/campaigns/segments/${encodeURIComponent(id)}`; }

export function kindLabel(kind) { return kind === 'static' ? 'Static list' : 'Dynamic'; }

export function kindBadge(kind, testid = 'segment-kind') {
  const isStatic = kind === 'static';
  return h('span', { class: ['seg-kind', isStatic ? 'seg-kind-static' : 'seg-kind-dynamic'], dataset: { testid, kind: isStatic ? 'static' : 'dynamic' } },
    isStatic ? icon('users', { size: 12 }) : icon('zap', { size: 12 }), kindLabel(kind));
}

/** A small spinner for counts that are on their way. */
export function spinner(label = 'Counting…') {
  return h('span', { class: 'seg-spinner', role: 'img', 'aria-label': label });
}

export function contactsText(n) { return `${nf.format(n)} ${n === 1 ? 'contact' : 'contacts'}`; }

/** "← Segments" above the builder and the list pages. */
export function backToSegments() {
  return h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/campaigns/segments', class: 'back-link', dataset: { testid: 'back-to-segments' } }, icon('arrowLeft'), 'Segments'));
}

/**
 * What a rule builder needs, loaded once per view: custom fields, tags in
 * use, static lists and the base currency (money rules are in its minor
 * units). Anything that fails to load is left out rather than blocking.
 * → { defs, tags, lists, currency, catalog }
 */
export async function loadRuleContext({ signal } = {}) {
  const [defs, tags, lists, settings] = await Promise.all([
    crm.customFields('contact').catch(() => []),
    crm.tags('contact').catch(() => []),
    sapi.staticLists({ signal }).catch((err) => { if (err?.name === 'AbortError') throw err; return []; }),
    pipelineSettings().catch(() => ({ base_currency: 'EUR' })),
  ]);
  const currency = settings?.base_currency || 'EUR';
  return { defs, tags, lists, currency, catalog: ruleCatalog(defs, { currency, lists }) };
}

let uid = 0;

/**
 * "Save as segment" from the contacts list: name it, see how many contacts
 * match today, create a dynamic segment with the list's filter.
 * openSaveAsSegment({ filter, q, catalog })
 */
export function openSaveAsSegment({ filter, q, catalog = [] }) {
  if (!filter) return null;
  const p = `sas${++uid}`;
  const name = h('input', { class: 'input', id: `${p}-name`, name: 'name', maxlength: 120, autocomplete: 'off', required: true, dataset: { testid: 'segment-name' } });
  const description = h('textarea', { class: 'input', id: `${p}-description`, name: 'description', rows: 2, maxlength: 500, dataset: { testid: 'segment-description' } });
  const box = errorBox('save-segment-error');
  const count = h('span', { class: 'seg-dialog-count', dataset: { testid: 'segment-count' } }, spinner());
  const save = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'segment-save' } }, 'Save segment');
  const summary = describeFilter(filter, catalog);

  const form = h('form', { class: 'dialog-form', novalidate: true },
    h('header', { class: 'dialog-header' },
      h('h2', { id: `${p}-title` }, 'Save as segment'),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    h('div', { class: 'dialog-body' },
      box,
      h('p', { class: 'form-hint muted' }, 'A dynamic segment keeps these filters: its members are always the contacts that match them today, ready for a campaign.'),
      h('div', { class: 'seg-dialog-rules' },
        xicon('filter', { size: 14 }),
        h('div', null,
          h('div', { class: 'seg-dialog-summary' }, summary || 'The current filters'),
          h('div', { class: 'muted' }, count))),
      q ? h('p', { class: 'field-hint muted seg-dialog-note', dataset: { testid: 'save-segment-q-note' } }, `The search “${q}” is not part of a segment; only the filters are kept.`) : null,
      h('div', { class: 'field-grid' },
        h('div', { class: 'field', dataset: { field: 'name' } }, h('label', { for: name.id }, 'Name', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), name),
        h('div', { class: 'field', dataset: { field: 'description' } }, h('label', { for: description.id }, 'Description'), description))),
    h('footer', { class: 'dialog-footer' },
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      save));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': `${p}-title`, dataset: { testid: 'save-segment-dialog' } }, form);
  const errs = formErrors({ form, inputs: { name, description }, idPrefix: p, box });
  const controller = new AbortController();

  sapi.countFilter(filter, { signal: controller.signal })
    .then((n) => mount(count, `${contactsText(n)} match today`))
    .catch((err) => { if (err?.name !== 'AbortError') mount(count, h('span', { title: err.detail || err.message }, '— ', err.detail || 'could not be counted')); });

  let saving = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    errs.clearAll();
    const body = { name: name.value.trim(), description: description.value.trim() || null, kind: 'dynamic', filter };
    if (!body.name) { errs.setField('name', ['Give the segment a name']); name.focus(); return; }
    saving = true;
    busy(save, true, { idle: 'Save segment', working: 'Saving…' });
    try {
      const { segment } = await sapi.createSegment(body);
      dialog.close('saved');
      toast(`“${segment.name}” is saved with these filters.`, {
        kind: 'success', title: 'Segment saved', action: { label: 'Open segment', href: segmentHref(segment.id) },
      });
    } catch (err) {
      saving = false;
      busy(save, false, { idle: 'Save segment', working: 'Saving…' });
      errs.fromApi(err, { fallbackTitle: 'Could not save the segment', focus: name });
    }
  });
  openModal(dialog, { onClose: () => controller.abort() });
  name.focus();
  return dialog;
}
