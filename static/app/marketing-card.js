// The "Marketing email" card on contact pages: consent per channel (status,
// lawful basis, source, when), a form to record consent given or withdrawn
// (a lawful basis is required to grant), the history of changes in a
// disclosure, and the contact's campaign emails with what they did with them
// (GET /engagement/{id}). The profile's consent badges follow a change.

import { h, mount, icon, toast, toastError, formatDate } from './ui.js';
import * as capi from './campaigns-api.js';
import { labelize, timeAgo, consentBadge, actorName } from './records.js';
import { cicon, campaignHref } from './campaign-display.js';
import { errorBox, busy } from './forms.js';
import { setFieldError, clearFieldError } from './mail-editor.js';

const CHANNELS = [['email', 'Email'], ['sms', 'SMS'], ['phone', 'Phone']];
const BASIS_LABELS = {
  consent: 'Consent', legitimate_interest: 'Legitimate interest', contract: 'Contract', legal_obligation: 'Legal obligation',
};
let uid = 0;

function statusChip(status, testid = 'consent-status') {
  const s = status || 'unknown';
  return h('span', { class: ['cp-consent', `cp-consent-${s}`], dataset: { testid, status: s } },
    s === 'granted' ? icon('check', { size: 12 }) : s === 'withdrawn' ? icon('x', { size: 12 }) : null,
    s === 'granted' ? 'Granted' : s === 'withdrawn' ? 'Withdrawn' : 'Unknown');
}

function whenEl(iso) {
  if (!iso) return null;
  return h('time', { datetime: iso, title: formatDate(iso, { withTime: true }) }, timeAgo(iso));
}

/** marketingCard({ record }) → <section> */
export function marketingCard({ record }) {
  const p = `mk${++uid}`;
  const w = capi.canWriteCampaigns();
  const titleId = `${p}-title`;
  const consentBody = h('div', { class: 'cp-consent-body', 'aria-busy': 'true' },
    [60, 45, 70].map((x) => h('span', { class: 'skeleton skeleton-text', style: { width: `${x}%`, margin: '8px 0' } })));
  const historyEl = h('details', { class: 'cp-history', hidden: true, dataset: { testid: 'consent-history' } });
  const engagementEl = h('div', { class: 'cp-engagement', dataset: { testid: 'contact-engagement' } });
  const recordBtn = w ? h('button', {
    type: 'button', class: 'btn btn-sm', dataset: { testid: 'consent-record' }, 'aria-expanded': 'false', 'aria-controls': `${p}-form`,
    onclick: () => toggleForm(),
  }, icon('pencil', { size: 13 }), 'Record') : null;

  // --- the form -------------------------------------------------------------------------------
  const channel = h('select', { class: 'input', id: `${p}-channel`, name: 'channel', dataset: { testid: 'consent-channel' } },
    CHANNELS.map(([v, l]) => h('option', { value: v }, l)));
  const status = h('select', { class: 'input', id: `${p}-status`, name: 'status', dataset: { testid: 'consent-status-input' } },
    h('option', { value: 'granted' }, 'Granted'), h('option', { value: 'withdrawn' }, 'Withdrawn'));
  const basis = h('select', { class: 'input', id: `${p}-basis`, name: 'lawful_basis', dataset: { testid: 'consent-basis' } },
    h('option', { value: '' }, 'Choose…'),
    capi.CONSENT_BASES.map((b) => h('option', { value: b }, BASIS_LABELS[b] || labelize(b))));
  const source = h('input', {
    class: 'input', id: `${p}-source`, name: 'source', maxlength: 200, autocomplete: 'off', placeholder: 'e.g. signed up at the trade fair',
    dataset: { testid: 'consent-source' },
  });
  const box = errorBox('consent-error');
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', dataset: { testid: 'consent-save' } }, 'Save');
  const basisField = h('div', { class: 'field', dataset: { field: 'lawful_basis' } },
    h('label', { for: basis.id }, 'Lawful basis', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), basis);
  const form = h('form', { class: 'cp-consent-form', id: `${p}-form`, hidden: true, novalidate: true, 'aria-label': 'Record consent', dataset: { testid: 'consent-form' } },
    box,
    h('div', { class: 'field-grid' },
      h('div', { class: 'field field-half', dataset: { field: 'channel' } }, h('label', { for: channel.id }, 'Channel'), channel),
      h('div', { class: 'field field-half', dataset: { field: 'status' } }, h('label', { for: status.id }, 'Consent'), status),
      basisField,
      h('div', { class: 'field', dataset: { field: 'source' } }, h('label', { for: source.id }, 'Source'), source)),
    h('div', { class: 'cp-consent-actions' },
      h('button', { type: 'button', class: 'btn btn-sm', onclick: () => toggleForm(false) }, 'Cancel'),
      save));
  function syncBasis() {
    const granting = status.value === 'granted';
    basisField.hidden = !granting;
    if (!granting) clearFieldError(basis);
  }
  status.addEventListener('change', syncBasis);
  basis.addEventListener('change', () => clearFieldError(basis));
  syncBasis();

  function toggleForm(open = form.hidden) {
    form.hidden = !open;
    recordBtn?.setAttribute('aria-expanded', String(open));
    if (open) { box.hidden = true; channel.focus(); } else recordBtn?.focus();
  }

  let saving = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    box.hidden = true;
    [basis, source, channel, status].forEach((el) => clearFieldError(el));
    const body = { channel: channel.value, status: status.value };
    if (status.value === 'granted') {
      if (!basis.value) { setFieldError(basis, 'Granting needs a lawful basis'); basis.focus(); return; }
      body.lawful_basis = basis.value;
    }
    if (source.value.trim()) body.source = source.value.trim();
    saving = true;
    busy(save, true, { idle: 'Save', working: 'Saving…' });
    try {
      const res = await capi.recordConsent(record.id, body);
      saving = false;
      busy(save, false, { idle: 'Save', working: 'Saving…' });
      renderConsent(res);
      syncProfile(res);
      form.reset();
      syncBasis();
      toggleForm(false);
      toast(`${CHANNELS.find(([v]) => v === body.channel)?.[1] || body.channel} consent ${body.status === 'granted' ? 'granted' : 'withdrawn'}.`, { kind: 'success', title: 'Consent recorded' });
    } catch (err) {
      saving = false;
      busy(save, false, { idle: 'Save', working: 'Saving…' });
      const inputs = { lawful_basis: basis, source, channel, status };
      const rest = [];
      for (const x of err.errors || []) {
        if (inputs[x.field]) setFieldError(inputs[x.field], x.message, { testid: `error-${x.field}` });
        else rest.push(`${x.field}: ${x.message}`);
      }
      if (rest.length || !err.errors?.length) {
        box.hidden = false;
        mount(box, icon('alert'), h('div', null, h('strong', null, err.title || 'Could not record consent'), ' ', rest.join('. ') || err.detail || err.message));
      }
    }
  });

  const card = h('section', { class: 'card side-card cp-marketing-card', 'aria-labelledby': titleId, dataset: { testid: 'contact-marketing' } },
    h('div', { class: 'card-head' }, h('h2', { id: titleId, class: 'card-title' }, 'Marketing email'), recordBtn),
    consentBody, form, historyEl,
    h('h3', { class: 'cp-side-subtitle' }, 'Campaign emails'),
    engagementEl);

  // --- consent ----------------------------------------------------------------------------------
  function renderConsent({ channels, history }) {
    consentBody.setAttribute('aria-busy', 'false');
    const by = Object.fromEntries(channels.map((c) => [c.channel, c]));
    mount(consentBody, h('ul', { class: 'cp-consent-list' }, CHANNELS.map(([key, label]) => {
      const c = by[key] || { channel: key, status: 'unknown' };
      const meta = [c.lawful_basis ? BASIS_LABELS[c.lawful_basis] || labelize(c.lawful_basis) : null, c.source].filter(Boolean);
      return h('li', { class: 'cp-consent-row', dataset: { testid: 'consent-row', channel: key, status: c.status } },
        h('div', { class: 'cp-consent-main' },
          h('span', { class: 'cp-consent-channel' }, label),
          statusChip(c.status)),
        c.status !== 'unknown' ? h('div', { class: 'muted cp-consent-meta' },
          meta.length ? h('span', { dataset: { testid: 'consent-meta' } }, meta.join(' · ')) : null,
          meta.length && c.at ? ' · ' : null, whenEl(c.at)) : null);
    })));
    historyEl.hidden = !history.length;
    mount(historyEl,
      h('summary', null, `History (${history.length})`),
      h('ol', { class: 'cp-history-list' }, history.map((x) => h('li', { dataset: { testid: 'consent-history-item' } },
        h('div', null, h('strong', null, CHANNELS.find(([v]) => v === x.channel)?.[1] || x.channel), ' ', statusChip(x.status, 'consent-history-status')),
        h('div', { class: 'muted' }, [x.lawful_basis ? BASIS_LABELS[x.lawful_basis] || labelize(x.lawful_basis) : null, x.source, x.actor ? actorName(x.actor) : null].filter(Boolean).join(' · '),
          x.at ? [' · ', whenEl(x.at)] : null)))));
  }

  /** The profile card shows the contact record's consent (granted / denied): keep it in step. */
  function syncProfile({ channels }) {
    for (const c of channels) {
      const dd = card.closest('[data-testid="contact-detail"]')?.parentElement?.querySelector(`[data-testid="consent-${c.channel}"]`)
        || document.querySelector(`[data-testid="consent-${c.channel}"]`);
      if (dd && c.status !== 'unknown') dd.replaceChildren(consentBadge(c.status === 'granted' ? 'granted' : 'denied'));
    }
  }

  // --- engagement ----------------------------------------------------------------------------------
  function step(label, iso, cls, testid) {
    return iso ? h('li', { class: ['cp-step', cls], dataset: { testid } }, h('span', null, label), ' ', whenEl(iso)) : null;
  }
  function renderEngagement(items) {
    if (!items.length) {
      mount(engagementEl, h('p', { class: 'muted orders-note' }, cicon('send', { size: 14 }), h('span', null, 'No campaign emails to this contact yet.')));
      return;
    }
    mount(engagementEl, h('ul', { class: 'side-list cp-engagement-list' }, items.slice(0, 20).map((m) => h('li', { class: 'cp-engagement-item', dataset: { testid: 'engagement-row', status: m.status } },
      h('div', { class: 'side-item-text' },
        m.campaign_id ? h('a', { href: campaignHref(m.campaign_id) }, m.campaign || 'A campaign') : h('span', null, m.campaign || 'Test message'),
        h('div', { class: 'muted side-sub truncate', title: m.subject || '' }, m.subject || ''),
        h('ul', { class: 'cp-steps' },
          step('Sent', m.queued_at, null, 'engagement-sent'),
          step('Opened', m.opened_at, 'is-good', 'engagement-opened'),
          step('Clicked', m.clicked_at, 'is-good', 'engagement-clicked'),
          step('Unsubscribed', m.unsubscribed_at, 'is-bad', 'engagement-unsubscribed'),
          step('Bounced', m.bounced_at, 'is-bad', 'engagement-bounced')))))),
    items.length > 20 ? h('p', { class: 'muted cp-more' }, `And ${items.length - 20} older.`) : null);
  }

  capi.getConsents(record.id).then(renderConsent).catch((err) => {
    consentBody.setAttribute('aria-busy', 'false');
    mount(consentBody, h('p', { class: 'muted' }, err?.status === 403 ? 'Your role cannot see consent.' : 'Consent could not be loaded.'));
    if (recordBtn) recordBtn.hidden = true;
    if (err?.status !== 403 && err?.status !== 404 && !err?.handled && err?.name !== 'AbortError') toastError(err, 'Could not load the consent');
  });
  mount(engagementEl, h('span', { class: 'skeleton skeleton-text', style: { width: '55%', margin: '8px 0' } }));
  capi.contactEngagement(record.id).then(renderEngagement).catch((err) => {
    mount(engagementEl, h('p', { class: 'muted' }, err?.status === 403 ? 'Your role cannot see campaign emails.' : 'Campaign emails could not be loaded.'));
  });
  return card;
}
