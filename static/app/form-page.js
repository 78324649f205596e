// A lead-capture form (/automations/forms/new, /automations/forms/<id>),
// in three tabs (?tab=):
// - Build: name, on/off, the fields (form-fields.js), consent, what
//   visitors see afterwards (a thank-you message or a redirect), who gets
//   the leads (form-leads.js), owner emails, tags and lifecycle stage for
//   new contacts — beside a live preview of the hosted page, drawn here.
//   Save (Ctrl/Cmd+S; If-Match, 412 reloads); server errors sit beside
//   their fields.
// - Put it on your website (form-embed.js): hosted page, script, plain HTML.
// - Submissions (form-submissions.js): accepted against spam, and each one.
// Roles that cannot build forms see the same pages, read-only.

import { h, mount, icon, toast, pageTitle, debounce } from './ui.js';
import { updateUrl } from './router.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import * as fapi from './automations-api.js';
import { emptyState } from './contacts.js';
import { errorBox } from './forms.js';
import { backLink, cicon } from './campaign-display.js';
import { setFieldError, clearFieldError } from './mail-editor.js';
import { STAGES, stageLabel } from './records.js';
import { formHref, formStatusBadge, customTargets, previewDocument, DEFAULT_THANK_YOU, nf } from './form-display.js';
import { fieldsEditor } from './form-fields.js';
import { assignmentEditor, tagEditor } from './form-leads.js';
import { embedPanel } from './form-embed.js';
import { submissionsPanel } from './form-submissions.js';
import {
  loadingCard, loadFailed, editorHeader, saveButton, deleteButton, unsavedNote,
  trackDirty, editorListeners, saveRecord, savedAndRedrawn, saveFailed, reloadRecord, showProblemsInBox, confirmDelete,
} from './editor-shell.js';

let uid = 0;

const TABS = [
  { key: 'build', label: 'Build', iconName: 'pencil' },
  { key: 'website', label: 'Put it on your website', short: 'Website', iconName: 'copy' },
  { key: 'submissions', label: 'Submissions', iconName: 'inbox' },
];

const DEFAULT_CONSENT = 'I agree to receive emails about products and offers. I can unsubscribe at any time.';

function newForm() {
  return {
    id: null, name: '', status: 'active',
    fields: [
      { key: 'first_name', label: 'First name', kind: 'text', required: false },
      { key: 'email', label: 'Email', kind: 'email', required: true },
    ],
    consent: { enabled: false, wording: '', required: false },
    submit_label: null, thank_you: null, redirect_url: null,
    assignment: { mode: 'none', users: [], rules: [] },
    notify_owner: true, tags: [], lifecycle_stage: null, submissions: 0,
  };
}

export function formPageView(root, id = null, { query = new URLSearchParams() } = {}) {
  const p = `fp${++uid}`;
  const controller = new AbortController();
  const state = {
    form: null, version: null, creating: !id, users: new Map(), custom: [], destroyed: false,
    tab: TABS.some((t) => t.key === query.get('tab')) ? query.get('tab') : 'build',
    dirty: false, saving: false, baseline: null, save: null,
    embed: null, subs: null, embedStale: true, subsStale: true,
  };
  const back = () => backLink('/automations/forms', 'Forms', 'back-to-forms');

  // --- the page ------------------------------------------------------------------------------------
  function render() {
    state.embed?.destroy();
    state.subs?.destroy();
    state.embed = null;
    state.subs = null;
    state.embedStale = true;
    state.subsStale = true;
    const f = state.form;
    const w = fapi.canWriteForms();
    if (state.creating && state.tab !== 'build') state.tab = 'build';
    pageTitle(state.creating ? 'New form' : (f.name || 'Form'), 'Automations');

    const dirtyNote = unsavedNote('form-dirty');
    const actions = [];
    if (w) {
      actions.push(dirtyNote);
      if (!state.creating) actions.push(deleteButton('form-delete', () => remove()));
      actions.push(saveButton('form-save', state.creating ? 'Save form' : 'Save', () => state.save?.()));
    }

    const leads = Number(f.submissions) || 0;
    const sub = state.creating
      ? [h('span', { class: 'muted' }, 'A new form: nothing is published until you save it.')]
      : [formStatusBadge(f.status, 'form-status-badge'), ' ',
        h('span', { dataset: { testid: 'form-leads' } }, `${nf.format(leads)} ${leads === 1 ? 'lead' : 'leads'}`),
        !w ? h('span', { class: 'muted' }, ' · Your role can see this form but not change it.') : null];
    const header = editorHeader({
      className: 'fm-page-header', titleId: `${p}-h`, eyebrow: 'Automations · Form',
      title: state.creating ? 'New form' : (f.name || 'Untitled form'), titleTestid: 'form-title', sub, subTestid: 'form-sub', actions,
    });

    // Tabs (roving focus: ←/→, Home, End).
    const tabButtons = TABS.map((t) => {
      const off = state.creating && t.key !== 'build';
      return h('button', {
        type: 'button', role: 'tab', class: 'tab fm-tab', id: `${p}-tab-${t.key}`, 'aria-controls': `${p}-panel-${t.key}`,
        'aria-selected': String(t.key === state.tab), tabindex: t.key === state.tab ? '0' : '-1', 'aria-disabled': off ? 'true' : null,
        title: off ? 'Save the form first' : null, dataset: { testid: `form-tab-${t.key}`, tab: t.key },
        onclick: () => { if (!off) selectTab(t.key); },
      }, cicon(t.iconName, { size: 16 }), t.short
        ? [h('span', { class: 'fm-tab-long' }, t.label), h('span', { class: 'fm-tab-short', 'aria-hidden': 'true' }, t.short)]
        : h('span', null, t.label),
      t.key === 'submissions' && !state.creating ? h('span', { class: 'fm-tab-count num', dataset: { testid: 'form-tab-count' } }, nf.format(leads)) : null);
    });
    const tablist = h('div', { class: 'tabs fm-tabs', role: 'tablist', 'aria-label': 'Form sections', dataset: { testid: 'form-tabs' } }, tabButtons);
    tablist.addEventListener('keydown', (e) => {
      const i = tabButtons.indexOf(document.activeElement);
      if (i < 0) return;
      const enabled = tabButtons.filter((b) => b.getAttribute('aria-disabled') !== 'true');
      const j = enabled.indexOf(tabButtons[i]);
      let next = null;
      if (e.key === 'ArrowRight') next = enabled[(j + 1) % enabled.length];
      else if (e.key === 'ArrowLeft') next = enabled[(j - 1 + enabled.length) % enabled.length];
      else if (e.key === 'Home') next = enabled[0];
      else if (e.key === 'End') next = enabled[enabled.length - 1];
      if (!next) return;
      e.preventDefault();
      selectTab(next.dataset.tab);
      next.focus();
    });

    const panels = {
      build: h('div', { role: 'tabpanel', id: `${p}-panel-build`, 'aria-labelledby': `${p}-tab-build`, class: 'fm-panel' }, builder(f, dirtyNote, w)),
      website: h('div', { role: 'tabpanel', id: `${p}-panel-website`, 'aria-labelledby': `${p}-tab-website`, class: 'fm-panel', tabindex: '-1' }),
      submissions: h('div', { role: 'tabpanel', id: `${p}-panel-submissions`, 'aria-labelledby': `${p}-tab-submissions`, class: 'fm-panel', tabindex: '-1' }),
    };
    state.panels = panels;
    state.tabButtons = tabButtons;
    mount(root, back(), header, tablist, ...Object.values(panels));
    selectTab(state.tab, { initial: true });
  }

  function selectTab(key, { initial = false } = {}) {
    state.tab = key;
    state.tabButtons.forEach((b) => {
      const on = b.dataset.tab === key;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    });
    Object.entries(state.panels).forEach(([k, el]) => { el.hidden = k !== key; });
    if (!state.creating) updateUrl(formHref(state.form.id, key));
    if (key === 'build') state.fitFrame?.();
    if (key === 'website' && (state.embedStale || !state.embed)) {
      state.embed?.destroy();
      state.embed = embedPanel({ form: state.form, dirty: () => state.dirty });
      mount(state.panels.website, state.embed.el);
      state.embed.load();
      state.embedStale = false;
    }
    if (key === 'submissions') {
      if (!state.subs) {
        state.subs = submissionsPanel({ form: state.form, users: state.users });
        state.subs.onCount((n) => {
          const c = root.querySelector('[data-testid=form-tab-count]');
          if (c) c.textContent = nf.format(n);
        });
        mount(state.panels.submissions, state.subs.el);
        state.subs.load();
      } else if (!initial && state.subsStale) state.subs.load();
      state.subsStale = false;
    }
    if (key !== 'submissions') state.subsStale = true;
  }

  // --- Build: the form and its preview -----------------------------------------------------------
  function builder(f, dirtyNote, w) {
    const readOnly = !w;
    const box = errorBox('form-error');
    const req = h('span', { class: 'req', 'aria-hidden': 'true' }, ' *');
    const changed = () => { syncDirty(); previewSoon(); state.embedStale = true; };

    // Details
    const name = h('input', {
      class: 'input', id: `${p}-name`, name: 'name', maxlength: 120, autocomplete: 'off', required: true, value: f.name || '', readonly: readOnly,
      placeholder: 'e.g. Contact us, Request a quote', dataset: { testid: 'form-name', hint: `${p}-name-hint` }, 'aria-describedby': `${p}-name-hint`,
    });
    const status = h('input', {
      type: 'checkbox', role: 'switch', id: `${p}-status`, name: 'status', checked: f.status === 'active', disabled: readOnly,
      dataset: { testid: 'form-status' },
    });
    const statusText = h('span', { class: 'fm-switch-text', dataset: { testid: 'form-status-text' } });
    const syncStatus = () => {
      statusText.textContent = status.checked ? 'On: taking submissions' : 'Off: the page and snippets say it is not taking submissions';
    };
    syncStatus();
    const submitLabel = h('input', {
      class: 'input', id: `${p}-submit`, name: 'submit_label', maxlength: 60, autocomplete: 'off', value: f.submit_label || '', readonly: readOnly,
      placeholder: 'Send', dataset: { testid: 'form-submit-label' },
    });

    // Fields (the rules of "who gets the leads" offer them)
    let ae = null;
    const fe = fieldsEditor({ fields: f.fields || [], customTargets: state.custom, readOnly, onChange: () => { ae?.refreshFields(); changed(); } });

    // Consent
    const consent = f.consent || {};
    const consentOn = h('input', { type: 'checkbox', id: `${p}-consent`, checked: !!consent.enabled, disabled: readOnly, dataset: { testid: 'form-consent-enabled' } });
    const wording = h('textarea', {
      class: 'input', id: `${p}-wording`, name: 'consent.wording', rows: 3, maxlength: 1000, readonly: readOnly, dataset: { testid: 'form-consent-wording', hint: `${p}-wording-hint` },
      placeholder: DEFAULT_CONSENT, 'aria-describedby': `${p}-wording-hint`,
    }, consent.wording || '');
    const consentReq = h('input', { type: 'checkbox', id: `${p}-consent-req`, checked: !!consent.required, disabled: readOnly, dataset: { testid: 'form-consent-required' } });
    const consentFields = h('div', { class: 'fm-consent-fields' },
      h('div', { class: 'field', dataset: { field: 'consent.wording' } }, h('label', { for: wording.id }, 'Wording beside the checkbox'), wording,
        h('p', { class: 'field-hint muted', id: `${p}-wording-hint` }, 'Kept with every submission, so you can show what each person agreed to. A ticked box records email consent on the contact.')),
      h('label', { class: 'check-row', for: consentReq.id }, consentReq, h('span', null, 'Visitors must tick it to send the form')));
    const syncConsent = () => {
      consentFields.hidden = !consentOn.checked;
      if (consentOn.checked && !wording.value.trim() && !readOnly) wording.value = DEFAULT_CONSENT;
    };
    consentOn.addEventListener('change', () => { syncConsent(); changed(); });
    syncConsent();

    // After sending
    const afterName = `${p}-after`;
    const afterMessage = h('input', { type: 'radio', name: afterName, id: `${p}-after-msg`, value: 'message', checked: !f.redirect_url, disabled: readOnly, dataset: { testid: 'form-after-message' } });
    const afterRedirect = h('input', { type: 'radio', name: afterName, id: `${p}-after-url`, value: 'redirect', checked: !!f.redirect_url, disabled: readOnly, dataset: { testid: 'form-after-redirect' } });
    const thankYou = h('textarea', {
      class: 'input', id: `${p}-thanks`, name: 'thank_you', rows: 2, maxlength: 2000, readonly: readOnly, placeholder: DEFAULT_THANK_YOU,
      dataset: { testid: 'form-thank-you' },
    }, f.thank_you || '');
    const redirect = h('input', {
      class: 'input', id: `${p}-redirect`, name: 'redirect_url', type: 'url', inputmode: 'url', maxlength: 2000, autocomplete: 'off', readonly: readOnly,
      value: f.redirect_url || '', placeholder: 'https://www.example.com/thanks', spellcheck: 'false', dataset: { testid: 'form-redirect-url' },
    });
    const thankWrap = h('div', { class: 'field', dataset: { field: 'thank_you' } }, h('label', { for: thankYou.id }, 'Thank-you message'), thankYou);
    const redirectWrap = h('div', { class: 'field', dataset: { field: 'redirect_url' } }, h('label', { for: redirect.id }, 'Send visitors to'), redirect,
      h('p', { class: 'field-hint muted' }, 'A page of your website, such as a thank-you page. The embed script goes there too.'));
    const syncAfter = () => { thankWrap.hidden = afterRedirect.checked; redirectWrap.hidden = !afterRedirect.checked; };
    [afterMessage, afterRedirect].forEach((r) => r.addEventListener('change', () => { syncAfter(); changed(); if (afterRedirect.checked && !readOnly) redirect.focus(); }));
    syncAfter();

    // New contacts
    ae = assignmentEditor({ assignment: f.assignment || {}, users: state.users, fieldKeys: () => fe.keys(), readOnly, onChange: () => { syncNotify(); changed(); } });
    const notify = h('input', { type: 'checkbox', id: `${p}-notify`, checked: !!f.notify_owner, disabled: readOnly, dataset: { testid: 'form-notify-owner' } });
    const notifyHint = h('p', { class: 'field-hint muted fm-notify-hint' });
    function syncNotify() {
      notifyHint.textContent = ae.mode === 'none' ? 'Only when the lead has an owner: choose who gets new leads above.' : 'An email with the answers and a link to the contact.';
    }
    syncNotify();
    const tags = tagEditor({ tags: f.tags || [], id: `${p}-tags`, readOnly, onChange: () => changed() });
    const stage = h('select', { class: 'input', id: `${p}-stage`, name: 'lifecycle_stage', disabled: readOnly, dataset: { testid: 'form-lifecycle-stage' } },
      h('option', { value: '' }, 'Lead (the default)'),
      STAGES.map((s) => h('option', { value: s, selected: s === f.lifecycle_stage ? true : null }, stageLabel(s))));

    // Preview
    const frame = h('iframe', {
      class: 'fm-frame', title: 'Preview of the hosted form page', sandbox: 'allow-same-origin', dataset: { testid: 'form-preview-frame' },
    });
    const frameWrap = h('div', { class: 'fm-frame-wrap', dataset: { device: 'desktop' } }, frame);
    let previewAfter = false;
    const seg = (testid, items, onPick) => {
      const el = h('div', { class: 'segmented segmented-sm', role: 'group', dataset: { testid } },
        items.map(([v, label], i) => h('button', {
          type: 'button', class: 'segmented-btn', 'aria-pressed': String(i === 0), dataset: { value: v },
          onclick: (e) => { el.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b === e.currentTarget))); onPick(v); },
        }, label)));
      return el;
    };
    const modeSwitch = seg('form-preview-mode', [['form', 'Form'], ['after', 'After sending']], (v) => { previewAfter = v === 'after'; drawPreview(); });
    modeSwitch.setAttribute('aria-label', 'Show');
    const deviceSwitch = seg('form-preview-device', [['desktop', 'Wide'], ['phone', 'Phone']], (v) => { frameWrap.dataset.device = v; fitFrame(); });
    deviceSwitch.setAttribute('aria-label', 'Width');
    const preview = h('section', { class: 'card cp-preview fm-preview', 'aria-labelledby': `${p}-pv-h`, dataset: { testid: 'form-preview' } },
      h('div', { class: 'cp-preview-head' },
        h('h2', { class: 'seg-card-title', id: `${p}-pv-h` }, icon('eye', { size: 15 }), 'Preview'),
        modeSwitch),
      h('div', { class: 'fm-preview-bar' }, deviceSwitch, h('span', { class: 'muted fm-preview-note' }, 'The hosted page, as you edit. It does not send.')),
      frameWrap);
    function fitFrame() {
      try {
        const doc = frame.contentDocument;
        if (!doc?.body) return;
        // The page's own height (its body and the body's bottom margin), not the frame's.
        const bottom = doc.body.getBoundingClientRect().bottom + (parseFloat(frame.contentWindow.getComputedStyle(doc.body).marginBottom) || 0);
        frame.style.height = `${Math.max(240, Math.min(1600, Math.ceil(bottom) + 2))}px`;
      } catch { /* not readable: keep the fixed height */ }
    }
    frame.addEventListener('load', fitFrame);
    state.fitFrame = fitFrame;
    function drawPreview() {
      if (state.destroyed) return;
      const body = currentBody();
      frame.srcdoc = previewDocument({ ...body, name: body.name || 'Untitled form' }, { after: previewAfter });
    }
    const previewSoon = debounce(drawPreview, 150);
    state.previewSoon = previewSoon;

    const card = (key, title, ...children) => h('section', { class: 'card', 'aria-labelledby': `${p}-${key}-h`, dataset: { testid: `form-card-${key}` } },
      h('h2', { class: 'seg-card-title', id: `${p}-${key}-h` }, title), ...children);
    const main = h('fieldset', { class: 'cp-editor-main cp-stack fm-main', disabled: readOnly },
      h('legend', { class: 'visually-hidden' }, 'The form'),
      box,
      card('details', 'Details',
        h('div', { class: 'field-grid' },
          h('div', { class: 'field', dataset: { field: 'name' } }, h('label', { for: name.id }, 'Name', req), name,
            h('p', { class: 'field-hint muted', id: `${p}-name-hint` }, 'The page’s title, and the source of the contacts it makes (“Web form: …”).')),
          h('div', { class: 'field field-half', dataset: { field: 'status' } }, h('span', { class: 'fm-label' }, 'Taking submissions'),
            h('label', { class: 'fm-switch', for: status.id }, status, h('span', { class: 'fm-switch-track', 'aria-hidden': 'true' }), statusText)),
          h('div', { class: 'field field-half', dataset: { field: 'submit_label' } }, h('label', { for: submitLabel.id }, 'Button text'), submitLabel))),
      card('fields', 'Fields', h('p', { class: 'muted seg-card-lead' }, 'Each field fills a field of the contact it makes or updates (matched by email); empty answers never blank what a contact has.'), fe.el),
      card('consent', 'Consent',
        h('label', { class: 'check-row fm-check', for: consentOn.id }, consentOn, h('span', null, 'Ask for consent to email marketing (a checkbox under the fields)')),
        consentFields),
      card('after', 'After sending',
        h('div', { class: 'fm-radios', role: 'radiogroup', 'aria-label': 'After sending' },
          h('label', { class: 'check-row', for: afterMessage.id }, afterMessage, h('span', null, 'Show a thank-you message')),
          h('label', { class: 'check-row', for: afterRedirect.id }, afterRedirect, h('span', null, 'Send them to another page'))),
        thankWrap, redirectWrap),
      card('leads', 'New leads',
        ae.el,
        h('div', { class: 'field', dataset: { field: 'notify_owner' } },
          h('label', { class: 'check-row fm-check', for: notify.id }, notify, h('span', null, 'Email the owner about each new lead')), notifyHint),
        h('div', { class: 'field-grid fm-leads-grid' },
          h('div', { class: 'field field-half', dataset: { field: 'tags' } }, h('label', { for: tags.input.id }, 'Tags for their contacts'), tags.el,
            h('p', { class: 'field-hint muted', id: `${p}-tags-hint` }, 'Enter or comma adds a tag. Added to new and existing contacts.')),
          h('div', { class: 'field field-half', dataset: { field: 'lifecycle_stage' } }, h('label', { for: stage.id }, 'Stage of new contacts'), stage,
            h('p', { class: 'field-hint muted' }, 'Contacts that exist already keep theirs.')))));
    const form = h('form', { class: 'cp-editor fm-editor', novalidate: true, 'aria-labelledby': `${p}-h`, dataset: { testid: 'form-builder', formId: f.id || null } },
      main, h('div', { class: 'cp-editor-side' }, preview));
    form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
    // Enter in a one-line box must not submit (the tag box uses it); Ctrl/Cmd+Enter saves.
    form.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || e.target.tagName === 'TEXTAREA' || e.target.tagName === 'BUTTON') return;
      if (e.ctrlKey || e.metaKey) { e.preventDefault(); save(); } else if (e.target.tagName === 'INPUT') e.preventDefault();
    });

    const inputs = { name, status, submit_label: submitLabel, 'consent.wording': wording, thank_you: thankYou, redirect_url: redirect, tags: tags.input, lifecycle_stage: stage };
    [name, submitLabel, wording, thankYou, redirect].forEach((el) => el.addEventListener('input', () => { clearFieldError(el); changed(); }));
    name.addEventListener('input', () => { if (!state.creating) return; root.querySelector('[data-testid=form-title]').textContent = name.value.trim() || 'New form'; });
    [consentReq, notify, stage].forEach((el) => el.addEventListener('change', () => changed()));
    status.addEventListener('change', () => { syncStatus(); changed(); });

    function currentBody() {
      return {
        name: name.value.trim(),
        status: status.checked ? 'active' : 'inactive',
        fields: fe.read(),
        consent: { enabled: consentOn.checked, wording: wording.value.trim(), required: consentOn.checked && consentReq.checked },
        submit_label: submitLabel.value.trim(),
        thank_you: thankYou.value.trim(),
        redirect_url: afterRedirect.checked ? redirect.value.trim() : '',
        assignment: ae.read(),
        notify_owner: notify.checked,
        tags: tags.read(),
        lifecycle_stage: stage.value,
      };
    }
    const syncDirty = trackDirty(state, dirtyNote, currentBody);
    syncDirty();
    drawPreview();

    function showErrors(err) {
      fe.clearErrors();
      ae.clearErrors();
      Object.values(inputs).forEach((el) => clearFieldError(el));
      box.hidden = true;
      const errors = err.errors || [];
      let first = fe.showErrors(errors.filter((e) => /^fields(\[|$)/.test(e.field || '')));
      const a = ae.showErrors(errors.filter((e) => /^assignment\./.test(e.field || '')));
      const rest = [];
      let own = null;
      for (const e of errors) {
        if (/^(fields|assignment\.)/.test(e.field || '')) continue;
        const el = inputs[e.field];
        if (el) {
          if (e.field === 'consent.wording' && !consentOn.checked) { consentOn.checked = true; syncConsent(); }
          if (e.field === 'redirect_url' && !afterRedirect.checked) { afterRedirect.checked = true; syncAfter(); }
          setFieldError(el, e.message, { testid: `error-${e.field}` });
          own ||= el;
        } else rest.push(`${e.field ? `${e.field}: ` : ''}${e.message}`);
      }
      // The first in page order.
      first = [own === name ? own : null, first, own, a].find(Boolean) || null;
      if (rest.length || !first) showProblemsInBox(box, err, rest, 'Please check the form');
      const target = first || box;
      if (state.tab !== 'build') selectTab('build');
      target.scrollIntoView?.({ block: 'center' });
      target.focus?.({ preventScroll: true });
    }

    /** Saves the form; → true when saved (or nothing changed). */
    async function save({ quiet = false } = {}) {
      if (state.saving || readOnly) return false;
      const body = currentBody();
      box.hidden = true;
      clearFieldError(name);
      clearFieldError(redirect);
      if (!body.name) {
        showErrors({ errors: [{ field: 'name', message: 'give the form a name' }] });
        return false;
      }
      if (afterRedirect.checked && !body.redirect_url) {
        showErrors({ errors: [{ field: 'redirect_url', message: 'enter the address to send visitors to, or show a message instead' }] });
        return false;
      }
      if (!state.creating && JSON.stringify(body) === state.baseline) {
        if (!quiet) toast('Nothing changed.', { title: 'Saved', timeout: 2000 });
        return true;
      }
      try {
        return await saveRecord({
          state, what: 'form', form, button: root.querySelector('[data-testid=form-save]'),
          send: () => (state.creating ? fapi.createForm(body) : fapi.updateForm(state.form.id, body, state.version)),
          href: (saved) => formHref(saved.id),
          saved: (res, wasNew) => savedAndRedrawn({
            root, render, saveTestid: 'form-save',
            message: wasNew ? `“${res.form.name}” is saved. Put it on your website next.` : 'Your changes are saved.',
            options: {
              kind: 'success', title: wasNew ? 'Form created' : 'Saved',
              action: wasNew ? { label: 'Put it on your website', onClick: () => { if (!state.destroyed) selectTab('website'); } } : null,
            },
          }),
        });
      } catch (err) {
        return saveFailed(err, { state, what: 'form', reload, showErrors });
      }
    }
    state.save = readOnly ? null : save;
    return form;
  }

  // --- actions --------------------------------------------------------------------------------------
  function remove() {
    const f = state.form;
    const n = Number(f.submissions) || 0;
    confirmDelete({
      state, what: 'form', name: f.name, testid: 'form-confirm-delete', listHref: '/automations/forms',
      text: `It stops taking submissions at once: its page, script and pasted HTML forms answer “not found”. The contacts it made${n ? ` (${nf.format(n)} ${n === 1 ? 'lead' : 'leads'})` : ''} stay. This cannot be undone.`,
      send: () => fapi.deleteForm(f.id),
    });
  }

  function reload() {
    return reloadRecord({ state, what: 'form', fetch: () => fapi.getForm(state.form.id, { signal: controller.signal }), render });
  }

  // --- start ------------------------------------------------------------------------------------------
  async function start() {
    mount(root, back(), loadingCard());
    const signal = controller.signal;
    try {
      const [one, users, defs] = await Promise.all([
        id ? fapi.getForm(id, { signal }) : null,
        crm.userDirectory({ fresh: true, signal }).catch((err) => { if (err?.name === 'AbortError') throw err; return new Map(); }),
        crm.customFields('contact').catch(() => []),
        session.whenLoaded(),
      ]);
      if (state.destroyed) return;
      if (!id && !fapi.canWriteForms()) {
        pageTitle('New form', 'Automations');
        mount(root, back(), emptyState({
          testid: 'error-state', iconName: 'lock', title: 'Your role cannot build forms',
          text: 'Marketing, managers, admins and owners build forms; you can see them and their submissions.',
          actions: [h('a', { class: 'btn btn-primary', href: '/automations/forms' }, 'All forms')],
        }));
        return;
      }
      state.users = users;
      state.custom = customTargets(defs);
      if (one) {
        state.form = one.form;
        state.version = one.version;
      } else {
        state.form = newForm();
      }
      render();
      const first = state.creating && fapi.canWriteForms() ? root.querySelector('[data-testid=form-name]') : root.querySelector('h1');
      first?.focus({ preventScroll: !state.creating });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      loadFailed(root, back(), err, { what: 'form', listHref: '/automations/forms', retry: start });
    }
  }

  const stopListening = editorListeners(state);

  start();
  return {
    kind: 'form-page',
    destroy() {
      state.destroyed = true;
      controller.abort();
      state.previewSoon?.cancel();
      state.embed?.destroy();
      state.subs?.destroy();
      stopListening();
    },
  };
}
