// Automations › Forms: pieces the forms list and the form page share: the
// area header with its section tabs, status badges, the contact fields a
// form field can fill (the tenant's contact custom fields included), the
// kinds of field, and the hosted page drawn client-side for the live preview
// (the same markup and styles the server's hosted page uses).

import { h, icon } from './ui.js';
import { cicon } from './campaign-display.js';

export const nf = new Intl.NumberFormat();

export function formHref(id, tab) {
  const base = `/automations/forms/${encodeURIComponent(id)}`;
  return tab && tab !== 'build' ? `${base}?tab=${tab}` : base;
}

// ---------------------------------------------------------------------------
// The area header and its section tabs

export const AUTOMATION_SECTIONS = [
  { key: 'forms', label: 'Forms', path: '/automations/forms', iconName: 'template' },
  { key: 'rules', label: 'Rules', path: '/automations/rules', iconName: 'zap' },
  { key: 'insights', label: 'Insights', path: '/automations/insights', iconName: 'chart' },
  { key: 'handover', label: 'Handover', path: '/automations/handover', iconName: 'userX' },
];

/** "Automations" with a line about the section, actions, and the section tabs. → [header, nav] */
export function automationsHeader(current, { sub, actions } = {}) {
  const header = h('div', { class: 'page-header cp-header fm-header' },
    h('div', { class: 'page-heading' },
      h('h1', { class: 'page-title', tabindex: '-1' }, 'Automations'),
      h('p', { class: 'page-sub', dataset: { testid: 'automations-sub' } }, sub || '\u00a0')),
    actions ? h('div', { class: 'page-actions cp-actions' }, actions) : null);
  const nav = h('nav', { class: 'tabs cp-tabs', 'aria-label': 'Automations sections', dataset: { testid: 'automations-tabs' } },
    AUTOMATION_SECTIONS.map((s) => h('a', {
      class: 'tab', href: s.path, 'aria-current': s.key === current ? 'page' : null, dataset: { testid: `automations-tab-${s.key}` },
    }, cicon(s.iconName, { size: 16 }), h('span', null, s.label))));
  requestAnimationFrame(() => {
    const tab = nav.querySelector('[aria-current="page"]');
    if (!tab || nav.scrollWidth <= nav.clientWidth) return;
    const t = tab.getBoundingClientRect();
    const n = nav.getBoundingClientRect();
    if (t.right > n.right) nav.scrollLeft += t.right - n.right + 16;
  });
  return [header, nav];
}

// ---------------------------------------------------------------------------
// Status

export function formStatusBadge(status, testid = 'form-status-badge') {
  const on = status === 'active';
  return h('span', { class: ['cp-status', on ? 'fm-status-active' : 'fm-status-inactive'], dataset: { testid, status } },
    on ? icon('check', { size: 12 }) : cicon('pause', { size: 12 }), on ? 'Active' : 'Off');
}

// ---------------------------------------------------------------------------
// What a field fills, and its kinds

/** Contact fields a form field may fill (besides custom fields and the message). */
export const CONTACT_TARGETS = [
  { key: 'first_name', label: 'First name', kind: 'text' },
  { key: 'last_name', label: 'Last name', kind: 'text' },
  { key: 'email', label: 'Email', kind: 'email' },
  { key: 'phone', label: 'Phone', kind: 'tel' },
  { key: 'title', label: 'Job title', kind: 'text' },
  { key: 'company', label: 'Company', kind: 'text' },
];
export const MESSAGE_TARGET = { key: 'message', label: 'Message', kind: 'textarea', group: 'timeline' };

export const FIELD_KINDS = [
  { value: 'text', label: 'Short text' },
  { value: 'email', label: 'Email address' },
  { value: 'tel', label: 'Phone number' },
  { value: 'textarea', label: 'Long text' },
  { value: 'select', label: 'Menu (pick one)' },
  { value: 'checkbox', label: 'Checkbox' },
];
export function kindLabel(kind) { return FIELD_KINDS.find((k) => k.value === kind)?.label || kind; }

/**
 * Custom field kinds a form cannot fill yet: the visitor's answer arrives as
 * text, and the contacts API wants a number (number, money) or a list
 * (multi-select) for these, so such a lead would fail.
 */
const UNSUPPORTED_CUSTOM = new Set(['number', 'money', 'multi-select']);

const CUSTOM_KIND = {
  'long-text': 'textarea', select: 'select', checkbox: 'checkbox', email: 'email', phone: 'tel',
};

/** Contact custom field definitions → targets `custom.<key>`. */
export function customTargets(defs) {
  return (defs || []).filter((d) => d?.key && !d.archived_at).map((d) => ({
    key: `custom.${d.key}`,
    label: d.label || d.key,
    kind: CUSTOM_KIND[d.kind] || 'text',
    options: Array.isArray(d.options) ? d.options : [],
    group: 'custom',
    unsupported: UNSUPPORTED_CUSTOM.has(d.kind) ? d.kind : null,
  }));
}

/** Every target, for a key's label: contact fields, custom fields, the message. */
export function allTargets(custom = []) {
  return [...CONTACT_TARGETS.map((t) => ({ ...t, group: 'contact' })), ...custom, MESSAGE_TARGET];
}

export function targetLabel(key, targets) {
  const t = targets.find((x) => x.key === key);
  if (t) return t.group === 'custom' ? `${t.label} (custom)` : t.label;
  return key?.startsWith('custom.') ? `${key.slice(7)} (custom, archived)` : String(key || '');
}

// ---------------------------------------------------------------------------
// The hosted page, drawn here (components/automation/src/public.rs makes the
// real one): the same markup and the same styles, so the preview shows what
// visitors get.

const esc = (s) => String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const AUTOCOMPLETE = { email: 'email', first_name: 'given-name', last_name: 'family-name', phone: 'tel', company: 'organization' };

const PAGE_STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1f2933}h1{font-size:1.4rem}'
  + '.edge-field label{display:block;font-weight:600;margin-bottom:.2rem}input,select,textarea{font:inherit;width:100%;box-sizing:border-box;padding:.45rem;border:1px solid #9aa5b1;border-radius:6px}'
  + '.edge-consent input{width:auto}button{font:inherit;padding:.55rem 1.2rem;border-radius:6px;border:0;background:#1f4fd1;color:#fff;cursor:pointer}'
  + '.errors{color:#b42318}@media(prefers-color-scheme:dark){body{background:#111;color:#eee}input,select,textarea{background:#1b1b1b;color:#eee}}';

function fieldsHtml(form) {
  let out = '<form class="edge-form" method="post" action="#" accept-charset="utf-8">';
  (form.fields || []).forEach((f, i) => {
    const id = `ef-preview-${i}`;
    const req = f.required ? ' required' : '';
    const star = f.required ? ' <span aria-hidden="true">*</span>' : '';
    const ph = f.placeholder ? ` placeholder="${esc(f.placeholder)}"` : '';
    const name = esc(f.key);
    let input;
    if (f.kind === 'textarea') input = `<textarea id="${id}" name="${name}" rows="4" maxlength="5000"${req}${ph}></textarea>`;
    else if (f.kind === 'select') input = `<select id="${id}" name="${name}"${req}><option value=""></option>${(f.options || []).map((o) => `<option>${esc(o)}</option>`).join('')}</select>`;
    else if (f.kind === 'checkbox') input = `<input id="${id}" type="checkbox" name="${name}"${req}>`;
    else {
      const auto = AUTOCOMPLETE[f.key] ? ` autocomplete="${AUTOCOMPLETE[f.key]}"` : '';
      input = `<input id="${id}" type="${esc(f.kind || 'text')}" name="${name}" maxlength="300"${auto}${req}${ph}>`;
    }
    out += `<p class="edge-field"><label for="${id}">${esc(f.label)}${star}</label>${input}</p>`;
  });
  if (form.consent?.enabled) {
    out += `<p class="edge-consent"><label><input type="checkbox" name="consent"${form.consent.required ? ' required' : ''}> ${esc(form.consent.wording)}</label></p>`;
  }
  out += `<p><button type="submit">${esc(form.submit_label || 'Send')}</button></p></form>`;
  return out;
}

export const DEFAULT_THANK_YOU = 'Thank you! We will be in touch soon.';

/**
 * The hosted page for `form` (unsaved values welcome) as an HTML document.
 * `after`: the page a visitor sees once sent (the thank-you message, or
 * where the redirect goes).
 */
export function previewDocument(form, { after = false } = {}) {
  const title = esc(form.name || 'Untitled form');
  let body;
  if (!after) body = fieldsHtml(form);
  else if (form.redirect_url) body = `<p role="status">Visitors go on to <a href="${esc(form.redirect_url)}">${esc(form.redirect_url)}</a>.</p>`;
  else body = `<p role="status">${esc(form.thank_you || DEFAULT_THANK_YOU)}</p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>`
    + `<style>${PAGE_STYLE}</style></head><body><h1>${title}</h1>${body}</body></html>`;
}
