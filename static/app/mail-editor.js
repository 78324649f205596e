// The email content editor the template and campaign pages share: subject,
// HTML and plain-text parts, an "Insert field" menu (merge fields with a
// fallback for empty values), syntax errors shown at their field (the
// server's "at character N" made clickable), and a live preview — debounced
// POST /templates/preview of the unsaved content, as a chosen contact or a
// sample — in a sandboxed iframe (sandbox="", srcdoc: no scripts, no same
// origin, nothing the email says can touch the app). Also the contact picker
// ("Preview as") and the "Send a test" dialog.

import { h, mount, icon, toast, debounce, openModal } from './ui.js';
import * as crm from './crm-api.js';
import * as capi from './campaigns-api.js';
import { contactName } from './records.js';
import { combobox } from './record-form.js';
import { popover } from './filters.js';
import { errorBox, busy, capitalize } from './forms.js';
import * as session from './session.js';
import { cicon } from './campaign-display.js';

let uid = 0;

// ---------------------------------------------------------------------------
// Field errors (same markup as forms.js: .field-error, data-testid error-<field>)

export function setFieldError(input, message, { testid, at, source } = {}) {
  const wrap = input.closest('.field');
  if (!wrap) return;
  clearFieldError(input);
  const id = `${input.id}-error`;
  const text = capitalize(message);
  const p = h('p', { class: 'field-error', id, dataset: { testid: testid || `error-${input.name}`, source } },
    icon('alert', { size: 14 }), h('span', null, text));
  // "at character 12: …" → a button that puts the cursor there.
  if (at && input.setSelectionRange) {
    p.append(h('button', {
      type: 'button', class: 'link-button field-error-goto', dataset: { testid: `goto-${input.name}` },
      onclick: () => {
        input.focus();
        const i = Math.max(0, Math.min(input.value.length, at - 1));
        const end = input.value.indexOf('}}', i);
        input.setSelectionRange(i, end >= 0 ? end + 2 : i);
      },
    }, 'Show'));
  }
  wrap.append(p);
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-describedby', [input.dataset.hint, id].filter(Boolean).join(' '));
}

export function clearFieldError(input, { source } = {}) {
  const wrap = input.closest('.field');
  const p = wrap?.querySelector(':scope > .field-error');
  if (!p || (source && p.dataset.source !== source)) return;
  p.remove();
  input.removeAttribute('aria-invalid');
  if (input.dataset.hint) input.setAttribute('aria-describedby', input.dataset.hint);
  else input.removeAttribute('aria-describedby');
}

/** "at character 4: unknown filter …" → 4 */
export function errorPosition(message) {
  const m = /^at character (\d+)/.exec(String(message || ''));
  return m ? Number(m[1]) : null;
}

// ---------------------------------------------------------------------------
// A contact picker ("Preview as"): search contacts, pick one, or go back to a sample

/**
 * contactPicker({ label, testid, onPick(contact|null) })
 * → { el, contact, set(contact), close() }
 */
export function contactPicker({ label = 'Preview as', testid = 'preview-as', placeholder = 'A sample contact — search to pick one', onPick }) {
  const p = `cpk${++uid}`;
  let current = null;
  const input = h('input', {
    class: 'input-sm cp-picker-input', id: `${p}-input`, type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder,
    dataset: { testid },
  });
  const clear = h('button', {
    type: 'button', class: 'icon-button cp-picker-clear', hidden: true, 'aria-label': 'Use a sample contact', title: 'Use a sample contact',
    dataset: { testid: `${testid}-clear` }, onclick: () => { set(null); onPick?.(null); input.focus(); },
  }, icon('x', { size: 14 }));
  const picker = combobox({
    inputEl: input,
    fetch: async (q, signal) => {
      const page = await crm.listRecords('contact', { q, limit: 8, signal });
      return page.items.map((c) => ({ id: c.id, contact: c, label: contactName(c) || c.email || 'Unnamed contact', sub: c.email || c.company || '' }));
    },
    onPick: (item, { typing } = {}) => {
      if (item) { current = item.contact; clear.hidden = false; onPick?.(item.contact); return; }
      // Emptied by hand: back to the sample.
      if (typing && !input.value.trim() && current) { current = null; clear.hidden = true; onPick?.(null); }
    },
    emptyText: (q) => `No contact matches “${q}”.`,
  });
  function set(contact) {
    current = contact;
    input.value = contact ? (contactName(contact) || contact.email || '') : '';
    clear.hidden = !contact;
  }
  const el = h('div', { class: 'cp-picker' },
    h('label', { for: input.id, class: 'cp-picker-label' }, label),
    h('div', { class: 'cp-picker-box' }, picker.wrap, clear));
  return { el, get contact() { return current; }, set, close: () => picker.close() };
}

// ---------------------------------------------------------------------------
// Insert field

const MERGE_FIELDS = [
  { key: 'contact.first_name', label: 'First name', fallback: true },
  { key: 'contact.last_name', label: 'Last name', fallback: true },
  { key: 'contact.email', label: 'Email', fallback: false },
  { key: 'contact.company', label: 'Company', fallback: true },
  { key: 'unsubscribe_url', label: 'Unsubscribe link', fallback: false },
];

function mergeTag(field, fallback) {
  const f = String(fallback || '').replace(/["|{}\n\r]/g, '').trim();
  return field.fallback && f ? `{{ ${field.key} | default: "${f}" }}` : `{{ ${field.key} }}`;
}

/** insertFieldMenu({ insert(text, field) , testid }) → { wrap } */
function insertFieldMenu({ insert, target }) {
  const p = `ifm${++uid}`;
  const button = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'insert-field' } },
    cicon('braces', { size: 14 }), h('span', null, 'Insert field'), icon('chevronDown', { size: 13 }));
  const fallback = h('input', { class: 'input-sm', id: `${p}-fallback`, value: 'there', maxlength: 40, autocomplete: 'off', dataset: { testid: 'insert-field-fallback' } });
  const targetNote = h('p', { class: 'menu-note muted' });
  const items = MERGE_FIELDS.map((f, i) => {
    const code = h('code', { class: 'menu-item-sub muted' });
    const b = h('button', {
      type: 'button', class: 'menu-item menu-item-2', role: 'menuitem', dataset: { testid: 'insert-field-option', field: f.key, autofocus: i === 0 ? '' : null },
      onclick: () => { menu.close(); insert(f.key === 'unsubscribe_url' ? 'unsubscribe' : mergeTag(f, fallback.value), f); },
    }, cicon(f.key === 'unsubscribe_url' ? 'ban' : 'braces', { size: 15 }), h('span', { class: 'menu-item-text' }, h('span', null, f.label), code));
    b.__code = code;
    b.__field = f;
    return b;
  });
  function syncCodes() { items.forEach((b) => { b.__code.textContent = mergeTag(b.__field, fallback.value); }); }
  fallback.addEventListener('input', syncCodes);
  syncCodes();
  const panel = h('div', { class: 'cp-insert-panel', role: 'menu', 'aria-label': 'Insert a merge field' },
    h('div', { class: 'column-panel-title' }, 'Insert a merge field'),
    targetNote,
    h('div', { class: 'cp-insert-fallback' },
      h('label', { for: fallback.id }, 'When empty, use'), fallback),
    h('div', { class: 'menu-list' }, items));
  panel.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const list = [fallback, ...items];
    const i = list.indexOf(document.activeElement);
    e.preventDefault();
    list[(i + (e.key === 'ArrowDown' ? 1 : list.length - 1)) % list.length].focus();
  });
  const menu = popover({
    button, panel, align: 'end', testid: 'insert-field-menu',
    onOpen: () => { targetNote.textContent = `Into the ${target()}, at the cursor.`; },
  });
  return menu;
}

// ---------------------------------------------------------------------------
// The editor

/**
 * mailEditor({ content: {subject, html, text}, readOnly, testids: {subject, html, text, preview}, onInput })
 * → { fields, preview, read(), set(content), showErrors(errors) → first input | null,
 *     clearErrors(), refresh(), destroy(), inputs }
 */
export function mailEditor({ content = {}, readOnly = false, testids = {}, onInput, previewNote } = {}) {
  const p = `me${++uid}`;
  const t = { subject: 'mail-subject', html: 'mail-html', text: 'mail-text', preview: 'mail-preview', ...testids };
  const state = { destroyed: false, controller: null, lastField: 'html', contact: null, key: null, pane: 'html' };

  const subject = h('input', {
    class: 'input', id: `${p}-subject`, name: 'subject', maxlength: 300, autocomplete: 'off', readonly: readOnly,
    value: content.subject || '', placeholder: 'e.g. Our winter sale starts today', dataset: { testid: t.subject },
  });
  const html = h('textarea', {
    class: 'input cp-code', id: `${p}-html`, name: 'html', rows: 14, spellcheck: 'false', readonly: readOnly, dataset: { testid: t.html },
    placeholder: '<h1>Hello {{ contact.first_name | default: "there" }}</h1>\n<p>…</p>',
  }, content.html || '');
  const text = h('textarea', {
    class: 'input cp-code', id: `${p}-text`, name: 'text', rows: 6, readonly: readOnly, dataset: { testid: t.text, hint: `${p}-text-hint` },
    placeholder: 'Left empty, it is made from the HTML when you save.', 'aria-describedby': `${p}-text-hint`,
  }, content.text || '');
  const inputs = { subject, html, text };
  const labels = { subject: 'subject', html: 'HTML part', text: 'plain-text part' };

  function insertAt(kind, f) {
    const el = inputs[state.lastField] || html;
    if (el.readOnly) return;
    let snippet = kind;
    if (kind === 'unsubscribe') {
      snippet = state.lastField === 'html' ? '<a href="{{ unsubscribe_url }}">Unsubscribe</a>' : '{{ unsubscribe_url }}';
    }
    const start = el.selectionStart ?? el.value.length;
    const end = el.selectionEnd ?? el.value.length;
    el.focus();
    el.setRangeText(snippet, start, end, 'end');
    el.dispatchEvent(new Event('input', { bubbles: true }));
    toast(`${f.label} is in the ${labels[state.lastField]}.`, { timeout: 1800, title: 'Field inserted' });
  }
  const menu = readOnly ? null : insertFieldMenu({ insert: insertAt, target: () => labels[state.lastField] });
  Object.entries(inputs).forEach(([k, el]) => el.addEventListener('focus', () => { state.lastField = k; }));

  const fields = h('div', { class: 'cp-fields' },
    h('div', { class: 'field', dataset: { field: 'subject' } },
      h('div', { class: 'cp-field-head' },
        h('label', { for: subject.id }, 'Subject', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
        menu ? menu.wrap : null),
      subject),
    h('div', { class: 'field', dataset: { field: 'html' } },
      h('label', { for: html.id }, 'HTML'), html,
      h('p', { class: 'field-hint muted' }, 'Merge fields such as ', h('code', null, '{{ contact.first_name | default: "there" }}'),
        '; filters ', h('code', null, 'default'), ', ', h('code', null, 'upcase'), ', ', h('code', null, 'downcase'), ', ', h('code', null, 'capitalize'),
        '. Links are tracked and an unsubscribe link is added when you leave it out.')),
    h('div', { class: 'field', dataset: { field: 'text' } },
      h('label', { for: text.id }, 'Plain text'), text,
      h('p', { class: 'field-hint muted', id: `${p}-text-hint` }, 'For mail apps that show no HTML. Left empty, it is made from the HTML.')));

  // --- the preview --------------------------------------------------------------------------
  const frame = h('iframe', { class: 'cp-frame', sandbox: '', title: 'Email preview', referrerpolicy: 'no-referrer', dataset: { testid: 'preview-frame' } });
  const textPane = h('pre', { class: 'cp-text-preview', hidden: true, dataset: { testid: 'preview-text' } });
  const subjectOut = h('strong', { class: 'cp-preview-subject', dataset: { testid: 'preview-subject' } }, '—');
  const toOut = h('span', { class: 'muted', dataset: { testid: 'preview-to' } }, '—');
  const status = h('p', { class: 'cp-preview-status muted', role: 'status', 'aria-live': 'polite', dataset: { testid: 'preview-status' } });
  const picker = contactPicker({ onPick: (c) => { state.contact = c; state.key = null; refresh(); } });
  const paneSwitch = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Show' },
    [['html', 'HTML'], ['text', 'Plain text']].map(([v, l]) => h('button', {
      type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === 'html'), dataset: { pane: v, testid: `preview-pane-${v}` },
      onclick: () => showPane(v),
    }, l)));
  function showPane(v) {
    state.pane = v;
    paneSwitch.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.pane === v)));
    frame.hidden = v !== 'html';
    textPane.hidden = v !== 'text';
  }
  const preview = h('section', { class: 'card cp-preview', 'aria-labelledby': `${p}-preview-h`, dataset: { testid: t.preview, state: 'idle' } },
    h('div', { class: 'cp-preview-head' },
      h('h2', { class: 'seg-card-title', id: `${p}-preview-h` }, icon('eye', { size: 15 }), 'Preview'),
      paneSwitch),
    picker.el,
    h('dl', { class: 'cp-preview-meta' },
      h('div', null, h('dt', null, 'To'), h('dd', null, toOut)),
      h('div', null, h('dt', null, 'Subject'), h('dd', null, subjectOut))),
    h('div', { class: 'cp-frame-wrap' }, frame, textPane),
    status,
    previewNote ? h('p', { class: 'muted cp-preview-note' }, previewNote) : null);

  function read() { return { subject: subject.value, html: html.value, text: text.value }; }
  function set(c) {
    subject.value = c.subject || '';
    html.value = c.html || '';
    text.value = c.text || '';
    clearErrors();
    refresh();
  }

  function clearErrors({ source } = {}) { Object.values(inputs).forEach((el) => clearFieldError(el, { source })); }

  /** Server field errors → their inputs; → the first input with one (or null). */
  function showErrors(errors, { source } = {}) {
    let first = null;
    for (const e of errors || []) {
      const el = inputs[e.field];
      if (!el) continue;
      setFieldError(el, e.message, { at: errorPosition(e.message), source });
      first ||= el;
    }
    return first;
  }

  function setStatus(kind, message) {
    preview.dataset.state = kind;
    preview.classList.toggle('is-loading', kind === 'loading');
    status.className = ['cp-preview-status', kind === 'error' ? 'is-error' : 'muted'].join(' ');
    mount(status, kind === 'error' ? icon('alert', { size: 13 }) : null, message || '');
  }

  function escapeHtml(s) { return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]); }

  function show(r) {
    subjectOut.textContent = r.subject || '(no subject)';
    const who = state.contact ? (r.contact?.email || state.contact.email || contactName(state.contact)) : (r.contact?.email || 'alex@example.com');
    toOut.textContent = state.contact ? `${contactName(r.contact || state.contact) || ''} <${who}>`.trim() : `${who} (a sample contact)`;
    const body = r.html && r.html.trim()
      ? r.html
      : `<pre style="font:14px/1.5 system-ui,sans-serif;white-space:pre-wrap;margin:16px">${escapeHtml(r.text || '')}</pre>`;
    const base = '<meta charset="utf-8"><base target="_blank"><style>html{background:#fff;color:#111;font:14px/1.5 system-ui,sans-serif}body{margin:12px}img{max-width:100%}</style>';
    frame.srcdoc = `${base}${body}`;
    textPane.textContent = r.text || '';
  }

  async function refresh() {
    if (state.destroyed) return;
    const c = read();
    if (!c.html.trim() && !c.text.trim()) {
      state.controller?.abort();
      state.key = null;
      subjectOut.textContent = c.subject.trim() || '—';
      frame.srcdoc = '<meta charset="utf-8"><style>html{font:14px system-ui,sans-serif;color:#666}body{display:grid;place-items:center;height:90vh;margin:0}</style><p>Write the message to see it here.</p>';
      textPane.textContent = '';
      setStatus('empty', '');
      return;
    }
    const key = JSON.stringify([c, state.contact?.id || null]);
    if (key === state.key) return;
    state.key = key;
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    setStatus('loading', 'Updating the preview…');
    try {
      const r = await capi.previewContent({ subject: c.subject.trim() ? c.subject : '(no subject)', html: c.html, text: c.text }, { contactId: state.contact?.id, signal: controller.signal });
      if (controller.signal.aborted || state.destroyed) return;
      clearErrors({ source: 'preview' });
      show(r);
      setStatus('done', state.contact ? `As ${contactName(r.contact || state.contact) || 'this contact'} would get it.` : 'With a sample contact; pick one above to see their values.');
    } catch (err) {
      if (err?.name === 'AbortError' || controller.signal.aborted || state.destroyed) return;
      state.key = null;
      if (err.isValidation) {
        // Merge-field syntax errors while typing; "is required" waits for Save.
        const syntax = err.errors.filter((e) => errorPosition(e.message) != null);
        clearErrors({ source: 'preview' });
        showErrors(syntax, { source: 'preview' });
        const contactErr = err.errors.find((e) => e.field === 'contact_id');
        setStatus('error', contactErr ? `Cannot preview as this contact: ${contactErr.message}.`
          : syntax.length ? 'Fix the merge field marked above to update the preview.' : (err.errors[0]?.message ? capitalize(err.errors[0].message) : err.detail));
        return;
      }
      setStatus('error', `Could not update the preview: ${err.detail || err.message}`);
    }
  }
  const refreshSoon = debounce(refresh, 400);

  Object.values(inputs).forEach((el) => el.addEventListener('input', () => {
    clearFieldError(el);
    refreshSoon();
    onInput?.();
  }));

  showPane('html');
  refresh();

  return {
    fields, preview, inputs, read, set, showErrors, clearErrors,
    refresh: () => { state.key = null; refresh(); },
    destroy() { state.destroyed = true; state.controller?.abort(); refreshSoon.cancel(); picker.close(); menu?.close(); },
  };
}

// ---------------------------------------------------------------------------
// Send a test

/**
 * openTestSend({ title, intro, send({to, contactId}) → Promise })
 * The address starts as the signed-in user's; a contact fills the merge fields.
 */
export function openTestSend({ title = 'Send a test', intro, send }) {
  const p = `ts${++uid}`;
  const to = h('input', {
    class: 'input', id: `${p}-to`, name: 'to', type: 'email', autocomplete: 'email', required: true, spellcheck: 'false',
    value: session.getSession().user?.email || '', dataset: { testid: 'test-to' },
  });
  const picker = contactPicker({ label: 'Fill the merge fields as', testid: 'test-contact', placeholder: 'A sample contact — search to pick one' });
  const box = errorBox('test-error');
  const sendBtn = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'test-send' } }, 'Send test');
  const form = h('form', { class: 'dialog-form', novalidate: true },
    h('header', { class: 'dialog-header' },
      h('h2', { id: `${p}-title` }, title),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    h('div', { class: 'dialog-body' },
      box,
      h('p', { class: 'form-hint muted' }, intro || 'A copy marked [Test] goes to this address. It is not counted in any statistics.'),
      h('div', { class: 'field-grid' },
        h('div', { class: 'field', dataset: { field: 'to' } }, h('label', { for: to.id }, 'Send to'), to),
        h('div', { class: 'field', dataset: { field: 'contact_id' } }, picker.el))),
    h('footer', { class: 'dialog-footer' },
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      sendBtn));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': `${p}-title`, dataset: { testid: 'test-send-dialog' } }, form);
  to.addEventListener('input', () => clearFieldError(to));
  let sending = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (sending) return;
    box.hidden = true;
    clearFieldError(to);
    const address = to.value.trim();
    if (!/^[^@\s]+@[^@\s]+$/.test(address)) { setFieldError(to, 'Enter an email address', {}); to.focus(); return; }
    sending = true;
    busy(sendBtn, true, { idle: 'Send test', working: 'Sending…' });
    try {
      await send({ to: address, contactId: picker.contact?.id || null });
      dialog.close('sent');
      toast(`A test copy is on its way to ${address}.`, { kind: 'success', title: 'Test sent' });
    } catch (err) {
      sending = false;
      busy(sendBtn, false, { idle: 'Send test', working: 'Sending…' });
      const toErr = err.errors?.find((x) => x.field === 'to');
      if (toErr) { setFieldError(to, toErr.message, {}); to.focus(); return; }
      box.hidden = false;
      mount(box, icon('alert'), h('div', null, h('strong', null, err.title || 'Could not send the test'), ' ',
        err.errors?.map((x) => `${x.field}: ${x.message}`).join('. ') || err.detail || err.message));
    }
  });
  openModal(dialog, { onClose: () => picker.close() });
  to.focus();
  to.select();
  return dialog;
}
