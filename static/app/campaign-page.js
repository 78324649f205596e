// A campaign (/campaigns/new, /campaigns/c/<id>). A draft opens as a form:
// name and from name, the audience (a segment or list, with its live count),
// the content (copied from a template, then the shared mail editor with its
// live preview), the time zone and throttle, and an optional A/B test of two
// subject lines. Actions: Save (Ctrl/Cmd+S; If-Match, 412 reloads), Send test,
// Send now (a confirmation with the audience count), Schedule (a local time in
// a time zone, with the UTC and your-time equivalents), Unschedule, Cancel,
// Delete. While it sends (or is due) a progress bar follows it every 2 s; once
// sending starts its results follow (campaign-report.js).

import { h, mount, icon, toast, toastError, pageTitle, openModal } from './ui.js';
import * as session from './session.js';
import * as capi from './campaigns-api.js';
import * as sapi from './segments-api.js';
import { confirmDialog } from './settings-kit.js';
import { errorBox, busy } from './forms.js';
import { segmentHref, spinner } from './segment-display.js';
import {
  campaignStatusBadge, campaignHref, templateHref, backLink, cicon, nf, plural,
  browserZone, zoneSelect, localToUtc, localIn, formatInZone, relative, zonedTime,
} from './campaign-display.js';
import { mailEditor, openTestSend, setFieldError, clearFieldError } from './mail-editor.js';
import { campaignReport } from './campaign-report.js';
import {
  loadingCard, loadFailed, editorHeader, actionButton, deleteButton, unsavedNote,
  trackDirty, editorListeners, saveRecord, saveFailed, reloadRecord, showProblemsInBox, confirmDelete,
} from './editor-shell.js';

const POLL_MS = 2000;
const AB_DEFAULTS = { subject_b: '', sample_percent: 20, wait_minutes: 60, metric: 'opens' };
let uid = 0;

function draftDefaults() {
  return {
    id: null, name: '', status: 'draft', segment_id: null, template_id: null, subject: '', html: '', text: '',
    from_name: '', time_zone: browserZone(), throttle_per_minute: 600, ab: null,
  };
}

export function campaignPageView(root, id = null, { query = new URLSearchParams() } = {}) {
  const p = `cp${++uid}`;
  const controller = new AbortController();
  const state = {
    campaign: null, version: null, creating: !id, segments: [], templates: [], counts: new Map(),
    destroyed: false, pollTimer: null, editor: null, report: null, saving: false, dirty: false, baseline: null,
    templateId: null, save: null, busy: false,
  };
  const back = () => backLink('/campaigns', 'Campaigns', 'back-to-campaigns');
  const segmentOf = (sid) => state.segments.find((s) => s.id === sid) || null;

  // --- audience counts -----------------------------------------------------------------------
  function countOf(segmentId) {
    if (!segmentId) return Promise.resolve(null);
    if (!state.counts.has(segmentId)) {
      const pr = sapi.countSegment(segmentId, { signal: controller.signal });
      pr.catch(() => state.counts.delete(segmentId));
      state.counts.set(segmentId, pr);
    }
    return state.counts.get(segmentId);
  }
  function countLine(segmentId, el) {
    if (!segmentId) { mount(el, h('span', { class: 'muted' }, 'Nobody yet: choose a segment or a list.')); return; }
    mount(el, spinner('Counting…'), h('span', { class: 'muted' }, ' counting…'));
    el.dataset.state = 'loading';
    countOf(segmentId).then((n) => {
      if (state.destroyed) return;
      el.dataset.state = 'done';
      el.dataset.count = String(n);
      mount(el, h('strong', { class: 'num' }, nf.format(n)), ` ${n === 1 ? 'contact matches' : 'contacts match'} today`,
        h('a', { href: segmentHref(segmentId), class: 'cp-open-segment' }, 'Open the segment'));
    }, (err) => {
      if (err?.name === 'AbortError' || state.destroyed) return;
      el.dataset.state = 'error';
      mount(el, h('span', { class: 'muted' }, `Could not be counted: ${err.detail || err.message}`));
    });
  }

  // --- header ------------------------------------------------------------------------------------
  function whenText(c) {
    const tz = c.time_zone;
    if (c.status === 'scheduled' && c.send_at) {
      const d = new Date(c.send_at);
      return [h('span', null, d.getTime() <= Date.now() ? 'Due since ' : 'Goes out '), zonedTime(c.send_at, tz, { testid: 'campaign-send-at' }),
        h('span', { class: 'muted' }, ` (${relative(c.send_at)})`)];
    }
    if (c.status === 'sending') return [h('span', null, 'Sending since '), zonedTime(c.started_at || c.send_at, tz)];
    if (c.status === 'sent') return [h('span', null, 'Sent '), zonedTime(c.finished_at || c.started_at, tz)];
    if (c.status === 'cancelled') return [h('span', null, 'Stopped '), zonedTime(c.finished_at || c.updated_at, tz)];
    return [h('span', { class: 'muted' }, state.creating ? 'A new draft: nothing is sent until you send or schedule it.' : 'Draft: not scheduled.')];
  }

  // --- the page ------------------------------------------------------------------------------------
  function render() {
    state.editor?.destroy();
    state.editor = null;
    state.report?.destroy();
    state.report = null;
    state.save = null;
    state.showErrors = null;
    const c = state.campaign || state.draft || draftDefaults();
    const w = capi.canWriteCampaigns();
    const editable = w && (state.creating || c.status === 'draft');
    pageTitle(state.creating ? 'New campaign' : (c.name || 'Campaign'), 'Campaigns');

    const actions = [];
    const dirtyNote = unsavedNote('campaign-dirty');
    if (editable) {
      actions.push(dirtyNote);
      if (!state.creating) actions.push(deleteButton('campaign-delete', () => remove()));
      actions.push(
        actionButton('campaign-save', state.creating ? 'Save draft' : 'Save', icon('check', { size: 15 }), () => state.save?.(), 'btn', { 'aria-keyshortcuts': 'Control+S Meta+S' }),
        actionButton('campaign-send-test', 'Send test', cicon('send', { size: 15 }), () => sendTest()),
        actionButton('campaign-schedule', 'Schedule', icon('clock', { size: 15 }), () => scheduleFlow()),
        h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'campaign-send-now' }, onclick: () => sendNowFlow() },
          cicon('send', { size: 15 }), h('span', null, 'Send now')));
    } else if (w && c.status === 'scheduled') {
      actions.push(actionButton('campaign-send-test', 'Send test', cicon('send', { size: 15 }), () => sendTest()),
        actionButton('campaign-cancel', 'Cancel', icon('x', { size: 15 }), () => cancelFlow(), 'btn btn-danger-quiet'),
        actionButton('campaign-unschedule', 'Unschedule', icon('pencil', { size: 15 }), () => unschedule(), 'btn btn-primary'));
    } else if (w && c.status === 'sending') {
      actions.push(actionButton('campaign-cancel', 'Stop sending', cicon('pause', { size: 15 }), () => cancelFlow(), 'btn btn-danger-quiet'));
    } else if (w && (c.status === 'sent' || c.status === 'cancelled')) {
      actions.push(deleteButton('campaign-delete', () => remove()),
        h('a', { class: 'btn', href: `/campaigns/new?copy=${encodeURIComponent(c.id)}`, dataset: { testid: 'campaign-copy' } }, icon('copy', { size: 15 }), h('span', { class: 'btn-label' }, 'Use again')));
    }

    const header = editorHeader({
      titleId: `${p}-h`, eyebrow: 'Campaigns · Campaign',
      title: state.creating ? 'New campaign' : (c.name || 'Campaign'), titleTestid: 'campaign-title',
      sub: [campaignStatusBadge(c.status), ' ', whenText(c), !w ? h('span', { class: 'muted' }, ' Your role can see this campaign but not send it.') : null],
      subTestid: 'campaign-when', actions,
    });

    const parts = [back(), header];
    if (!state.creating && c.status !== 'draft') parts.push(progressCard(c));
    if (['sending', 'sent', 'cancelled'].includes(c.status)) {
      state.report = campaignReport({ campaign: c });
      parts.push(state.report.el);
    }
    parts.push(editable ? draftForm(c, dirtyNote) : detailsView(c));
    mount(root, ...parts);
    schedulePoll();
  }

  // --- progress ------------------------------------------------------------------------------------
  function progressCard(c) {
    const el = h('section', { class: 'card cp-progress', 'aria-labelledby': `${p}-prog-h`, dataset: { testid: 'campaign-progress', state: c.status } });
    fillProgress(el, c);
    return el;
  }
  function fillProgress(el, c) {
    el.dataset.state = c.status;
    const pr = c.progress && typeof c.progress === 'object' ? c.progress : {};
    const total = Number(pr.recipients) || 0;
    const queued = Number(pr.queued) || 0;
    const skipped = Number(pr.skipped) || 0;
    const cancelled = Number(pr.cancelled) || 0;
    const hold = Number(pr.hold) || 0;
    const pending = Number(pr.pending) || 0;
    const done = queued + skipped + cancelled;
    const due = c.status === 'scheduled' && c.send_at && new Date(c.send_at).getTime() <= Date.now();
    const title = h('h2', { class: 'seg-card-title', id: `${p}-prog-h` }, c.status === 'scheduled' && !due ? 'Scheduled' : 'Progress');
    if (c.status === 'scheduled' && !due) {
      const local = localIn(new Date(c.send_at), browserZone());
      mount(el, title,
        h('p', { class: 'cp-progress-line' }, 'Goes out ', h('strong', null, formatInZone(c.send_at, c.time_zone)), ` — ${relative(c.send_at)}.`),
        h('p', { class: 'muted cp-progress-sub' }, `That is ${formatInZone(c.send_at, 'UTC', { weekday: false })} and ${formatInZone(c.send_at, browserZone(), { weekday: false })} your time`,
          local ? '.' : ''),
        h('p', { class: 'muted cp-progress-sub' }, 'The audience is read when it starts, so people who join the segment until then get it too.'));
      return;
    }
    const ratio = total ? Math.min(1, done / total) : (c.status === 'sent' ? 1 : 0);
    const bar = h('div', {
      class: ['progress', 'cp-progress-bar', !total && (c.status === 'sending' || due) && 'is-indeterminate'],
      role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(total || 100), 'aria-valuenow': String(total ? done : Math.round(ratio * 100)),
      'aria-labelledby': `${p}-prog-h`, dataset: { testid: 'campaign-progress-bar', queued: String(queued), recipients: String(total) },
    }, h('span', { class: 'progress-fill', style: { width: `${(ratio * 100).toFixed(1)}%` } }));
    let line;
    if (!total && (c.status === 'sending' || due)) line = 'Reading the audience…';
    else if (c.status === 'sent') line = `Done: ${plural(queued, 'message')} queued for ${plural(total, 'recipient')}`;
    else if (c.status === 'cancelled') line = `Stopped: ${plural(queued, 'message')} had gone out of ${plural(total, 'recipient')}`;
    else line = `${nf.format(queued)} of ${plural(total, 'recipient')} queued`;
    const bits = [];
    if (skipped) bits.push(`${nf.format(skipped)} skipped`);
    if (hold) bits.push(`${nf.format(hold)} wait for the A/B test's winner`);
    if (pending && c.status !== 'cancelled') bits.push(`${nf.format(pending)} still to go`);
    if (cancelled) bits.push(`${nf.format(cancelled)} not sent`);
    mount(el, title,
      h('div', { class: 'cp-progress-row' }, bar, h('span', { class: 'cp-progress-pct num' }, `${Math.round(ratio * 100)}%`)),
      h('p', { class: 'cp-progress-line', role: 'status', 'aria-live': 'polite', dataset: { testid: 'campaign-progress-text' } },
        line, bits.length ? h('span', { class: 'muted' }, ` · ${bits.join(' · ')}`) : null),
      c.status === 'sending' || due ? h('p', { class: 'muted cp-progress-sub' }, `${nf.format(c.throttle_per_minute || 600)} a minute at most; this page follows along.`) : null);
  }

  // --- polling while it sends or is due -----------------------------------------------------------
  function schedulePoll() {
    clearTimeout(state.pollTimer);
    const c = state.campaign;
    if (state.destroyed || !c || state.creating) return;
    const at = c.send_at ? new Date(c.send_at).getTime() : NaN;
    if (c.status === 'sending' || (c.status === 'scheduled' && at <= Date.now())) state.pollTimer = setTimeout(poll, POLL_MS);
    else if (c.status === 'scheduled' && Number.isFinite(at) && at - Date.now() < 2 ** 31 - 1) state.pollTimer = setTimeout(poll, Math.max(POLL_MS, at - Date.now()));
  }

  async function poll() {
    const c = state.campaign;
    if (state.destroyed || !c || state.busy) { schedulePoll(); return; }
    try {
      const { campaign, version } = await capi.getCampaign(c.id, { signal: controller.signal });
      if (state.destroyed) return;
      const changed = campaign.status !== state.campaign.status;
      state.campaign = campaign;
      state.version = version;
      if (changed) { render(); return; }
      const el = root.querySelector('[data-testid="campaign-progress"]');
      if (el) fillProgress(el, campaign);
      const when = root.querySelector('[data-testid="campaign-when"]');
      if (when) mount(when, campaignStatusBadge(campaign.status), ' ', whenText(campaign));
      state.report?.refresh(campaign);
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
    }
    schedulePoll();
  }

  // --- a draft: the form ---------------------------------------------------------------------------
  function draftForm(c, dirtyNote) {
    const box = errorBox('campaign-error');
    const name = h('input', {
      class: 'input', id: `${p}-name`, name: 'name', maxlength: 120, autocomplete: 'off', required: true, value: c.name || '',
      placeholder: 'e.g. Winter sale 2026', dataset: { testid: 'campaign-name' },
    });
    const fromName = h('input', {
      class: 'input', id: `${p}-from`, name: 'from_name', maxlength: 100, autocomplete: 'off', value: c.from_name || '',
      placeholder: 'e.g. Demo Outdoor', dataset: { testid: 'campaign-from-name' },
    });
    const dyn = state.segments.filter((s) => s.kind !== 'static');
    const lists = state.segments.filter((s) => s.kind === 'static');
    const byName = (a, b) => String(a.name || '').localeCompare(String(b.name || ''));
    const segSel = h('select', { class: 'input', id: `${p}-segment`, name: 'segment_id', dataset: { testid: 'campaign-segment' } },
      h('option', { value: '' }, 'Choose a segment or list…'),
      dyn.length ? h('optgroup', { label: 'Segments' }, dyn.sort(byName).map((s) => h('option', { value: s.id, selected: s.id === c.segment_id ? true : null }, s.name || 'Untitled segment'))) : null,
      lists.length ? h('optgroup', { label: 'Static lists' }, lists.sort(byName).map((s) => h('option', { value: s.id, selected: s.id === c.segment_id ? true : null }, s.name || 'Untitled list'))) : null,
      c.segment_id && !segmentOf(c.segment_id) ? h('option', { value: c.segment_id, selected: true }, 'A deleted segment') : null);
    const segCount = h('p', { class: 'cp-audience-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'campaign-audience-count' } });
    segSel.addEventListener('change', () => { clearFieldError(segSel); countLine(segSel.value, segCount); syncDirty(); });
    countLine(c.segment_id, segCount);

    const tplSel = h('select', { class: 'input', id: `${p}-template`, name: 'template_id', dataset: { testid: 'campaign-template' } },
      h('option', { value: '' }, state.templates.length ? 'Copy the content of a template…' : 'No templates yet'),
      state.templates.map((t) => h('option', { value: t.id, selected: t.id === state.templateId ? true : null }, t.name || 'Untitled template')));
    const tplNote = h('p', { class: 'field-hint muted', dataset: { testid: 'campaign-template-note' } });
    function syncTplNote() {
      const t = state.templates.find((x) => x.id === state.templateId);
      mount(tplNote, t ? ['Started from ', h('a', { href: templateHref(t.id) }, t.name || 'a template'), '. Changes here stay in this campaign.']
        : 'The campaign keeps its own copy: changing the template later does not change it.');
    }
    syncTplNote();

    const editor = mailEditor({
      content: c,
      testids: { subject: 'campaign-subject', html: 'campaign-html', text: 'campaign-text', preview: 'campaign-preview' },
      onInput: () => syncDirty(),
    });
    state.editor = editor;
    tplSel.addEventListener('change', () => {
      const t = state.templates.find((x) => x.id === tplSel.value);
      if (!t) { tplSel.value = state.templateId || ''; return; }
      const prev = { content: editor.read(), templateId: state.templateId, name: name.value };
      editor.set({ subject: t.subject, html: t.html, text: t.text });
      state.templateId = t.id;
      if (!name.value.trim()) name.value = t.name || '';
      syncTplNote();
      syncDirty();
      const hadContent = prev.content.subject || prev.content.html || prev.content.text;
      toast(`The subject and content of “${t.name}” are copied in.`, {
        title: 'Template copied', timeout: hadContent ? 8000 : 3500,
        action: hadContent ? { label: 'Undo', onClick: () => {
          editor.set(prev.content);
          state.templateId = prev.templateId;
          tplSel.value = prev.templateId || '';
          name.value = prev.name;
          syncTplNote();
          syncDirty();
        } } : null,
      });
    });

    const tz = zoneSelect({ id: `${p}-tz`, value: c.time_zone, testid: 'campaign-time-zone' });
    const throttle = h('input', {
      class: 'input', id: `${p}-throttle`, name: 'throttle_per_minute', type: 'number', min: 1, max: 100000, step: 1, inputmode: 'numeric',
      value: String(c.throttle_per_minute || 600), dataset: { testid: 'campaign-throttle', hint: `${p}-throttle-hint` }, 'aria-describedby': `${p}-throttle-hint`,
    });

    const ab = c.ab || AB_DEFAULTS;
    const abToggle = h('input', { type: 'checkbox', id: `${p}-ab`, checked: !!c.ab, dataset: { testid: 'campaign-ab-toggle' } });
    const abSubject = h('input', { class: 'input', id: `${p}-ab-subject`, name: 'ab_subject_b', maxlength: 300, autocomplete: 'off', value: ab.subject_b || '', placeholder: 'Another subject line to try', dataset: { testid: 'campaign-ab-subject' } });
    const abSample = h('input', { class: 'input', id: `${p}-ab-sample`, name: 'ab_sample_percent', type: 'number', min: 2, max: 50, step: 1, value: String(ab.sample_percent ?? 20), dataset: { testid: 'campaign-ab-sample' } });
    const abWait = h('input', { class: 'input', id: `${p}-ab-wait`, name: 'ab_wait_minutes', type: 'number', min: 5, max: 10080, step: 5, value: String(ab.wait_minutes ?? 60), dataset: { testid: 'campaign-ab-wait' } });
    const abMetric = h('select', { class: 'input', id: `${p}-ab-metric`, name: 'ab_metric', dataset: { testid: 'campaign-ab-metric' } },
      [['opens', 'Opens'], ['clicks', 'Clicks']].map(([v, l]) => h('option', { value: v, selected: v === (ab.metric || 'opens') ? true : null }, l)));
    const abExplain = h('p', { class: 'muted cp-ab-explain', dataset: { testid: 'campaign-ab-explain' } });
    const abFields = h('div', { class: 'field-grid cp-ab-fields' },
      h('div', { class: 'field', dataset: { field: 'ab.subject_b' } }, h('label', { for: abSubject.id }, 'Subject B'), abSubject,
        h('p', { class: 'field-hint muted' }, 'Subject A is the campaign’s subject above. Merge fields work here too.')),
      h('div', { class: 'field field-third', dataset: { field: 'ab.sample_percent' } }, h('label', { for: abSample.id }, 'Test on (% of the audience)'), abSample),
      h('div', { class: 'field field-third', dataset: { field: 'ab.wait_minutes' } }, h('label', { for: abWait.id }, 'Wait (minutes)'), abWait),
      h('div', { class: 'field field-third', dataset: { field: 'ab.metric' } }, h('label', { for: abMetric.id }, 'Winner by'), abMetric),
      abExplain);
    function syncAb() {
      abFields.hidden = !abToggle.checked;
      const n = Number(abSample.value) || 0;
      const wait = Number(abWait.value) || 0;
      const hours = wait >= 120 ? `${Math.round((wait / 60) * 10) / 10} hours` : `${wait} minutes`;
      abExplain.textContent = `${n}% of the audience gets a test: half subject A, half subject B. ${hours} later, the subject with the higher ${abMetric.value === 'clicks' ? 'click' : 'open'} rate goes to the other ${Math.max(0, 100 - n)}% (A on a tie).`;
    }
    [abToggle, abSample, abWait, abMetric, abSubject].forEach((el) => el.addEventListener(el.tagName === 'SELECT' || el.type === 'checkbox' ? 'change' : 'input', () => { clearFieldError(el); syncAb(); syncDirty(); }));
    syncAb();

    const inputs = {
      name, from_name: fromName, segment_id: segSel, template_id: tplSel, time_zone: tz, throttle_per_minute: throttle,
      'ab.subject_b': abSubject, 'ab.sample_percent': abSample, 'ab.wait_minutes': abWait, 'ab.metric': abMetric,
    };
    [name, fromName, throttle].forEach((el) => el.addEventListener('input', () => { clearFieldError(el); syncDirty(); }));
    tz.addEventListener('change', () => { clearFieldError(tz); syncDirty(); });

    const req = h('span', { class: 'req', 'aria-hidden': 'true' }, ' *');
    const form = h('form', { class: 'cp-editor cp-campaign-form', novalidate: true, 'aria-labelledby': `${p}-h`, dataset: { testid: 'campaign-form', campaignId: c.id || null } },
      h('div', { class: 'cp-editor-main cp-stack' },
        box,
        h('section', { class: 'card', 'aria-labelledby': `${p}-d-h` },
          h('h2', { class: 'seg-card-title', id: `${p}-d-h` }, 'Details'),
          h('div', { class: 'field-grid' },
            h('div', { class: 'field field-half', dataset: { field: 'name' } }, h('label', { for: name.id }, 'Name', req), name),
            h('div', { class: 'field field-half', dataset: { field: 'from_name' } }, h('label', { for: fromName.id }, 'From name'), fromName,
              h('p', { class: 'field-hint muted' }, 'Shown as the sender, with the workspace’s address.')))),
        h('section', { class: 'card', 'aria-labelledby': `${p}-a-h` },
          h('h2', { class: 'seg-card-title', id: `${p}-a-h` }, 'Audience'),
          h('div', { class: 'field', dataset: { field: 'segment_id' } }, h('label', { for: segSel.id }, 'Send to', req), segSel, segCount),
          h('p', { class: 'muted cp-card-foot' }, 'Contacts whose email consent is withdrawn, whose address is suppressed or who have no address are skipped. ',
            h('a', { href: '/campaigns/segments/new' }, 'New segment'), ' · ', h('a', { href: '/campaigns/segments/new?kind=static' }, 'New list'))),
        h('section', { class: 'card', 'aria-labelledby': `${p}-c-h` },
          h('div', { class: 'cp-card-head' }, h('h2', { class: 'seg-card-title', id: `${p}-c-h` }, 'Content')),
          h('div', { class: 'field', dataset: { field: 'template_id' } }, h('label', { for: tplSel.id }, 'Start from a template'), tplSel, tplNote),
          editor.fields),
        h('section', { class: 'card', 'aria-labelledby': `${p}-s-h` },
          h('h2', { class: 'seg-card-title', id: `${p}-s-h` }, 'Delivery'),
          h('div', { class: 'field-grid' },
            h('div', { class: 'field field-half', dataset: { field: 'time_zone' } }, h('label', { for: tz.id }, 'Time zone'), tz,
              h('p', { class: 'field-hint muted' }, 'Scheduled times are in this zone.')),
            h('div', { class: 'field field-half', dataset: { field: 'throttle_per_minute' } }, h('label', { for: throttle.id }, 'At most, per minute'), throttle,
              h('p', { class: 'field-hint muted', id: `${p}-throttle-hint` }, 'No more leaves in any minute; large audiences take longer.')))),
        h('section', { class: 'card cp-ab-card', 'aria-labelledby': `${p}-ab-h` },
          h('h2', { class: 'seg-card-title', id: `${p}-ab-h` }, cicon('flask', { size: 15 }), 'A/B test'),
          h('label', { class: 'check-row cp-ab-check', for: abToggle.id }, abToggle, h('span', null, 'Test two subject lines on part of the audience first')),
          abFields)),
      h('div', { class: 'cp-editor-side' }, editor.preview));
    form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
    form.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); save(); } });

    function currentBody() {
      const content = editor.read();
      return {
        name: name.value.trim(),
        segment_id: segSel.value || '',
        subject: content.subject, html: content.html, text: content.text,
        from_name: fromName.value.trim(),
        time_zone: tz.value,
        throttle_per_minute: Number(throttle.value) || 0,
        ab: abToggle.checked ? {
          subject_b: abSubject.value, sample_percent: Number(abSample.value) || 0, wait_minutes: Number(abWait.value) || 0, metric: abMetric.value,
        } : null,
        template_id: state.templateId || '',
      };
    }
    const syncDirty = trackDirty(state, dirtyNote, currentBody);
    syncDirty();

    function showErrors(err) {
      editor.clearErrors();
      Object.values(inputs).forEach((el) => clearFieldError(el));
      box.hidden = true;
      let first = editor.showErrors(err.errors);
      const rest = [];
      for (const e of err.errors) {
        if (['subject', 'html', 'text'].includes(e.field)) continue;
        const el = inputs[e.field] || (e.field === 'ab' ? abSubject : null);
        if (el) {
          if (e.field.startsWith('ab') && !abToggle.checked) { abToggle.checked = true; syncAb(); }
          setFieldError(el, e.message, { testid: `error-${e.field}` });
          first ||= el;
        } else rest.push(`${e.field ? `${e.field}: ` : ''}${e.message}`);
      }
      if (rest.length || !first) showProblemsInBox(box, err, rest, 'Please check the campaign');
      (first || box).focus?.();
      (first || box).scrollIntoView?.({ block: 'center' });
    }

    /** Saves the draft; → true when it is saved (or nothing changed). */
    async function save({ quiet = false } = {}) {
      if (state.saving) return false;
      const body = currentBody();
      box.hidden = true;
      clearFieldError(name);
      if (!body.name) { setFieldError(name, 'Give the campaign a name'); name.focus(); return false; }
      let patch;
      const before = state.campaign;
      if (state.creating) {
        patch = {};
        for (const [k, v] of Object.entries(body)) if (v !== '' && v !== null) patch[k] = v;
        if (body.ab) patch.ab = body.ab;
      } else {
        patch = {};
        for (const k of ['name', 'subject', 'html', 'text', 'time_zone', 'throttle_per_minute']) if (body[k] !== (before[k] ?? '')) patch[k] = body[k];
        if (body.segment_id !== (before.segment_id || '')) patch.segment_id = body.segment_id;
        if (body.from_name !== (before.from_name || '')) patch.from_name = body.from_name;
        if (JSON.stringify(body.ab) !== JSON.stringify(before.ab || null)) patch.ab = body.ab;
        if (body.template_id && body.template_id !== (before.template_id || '')) patch.template_id = body.template_id;
        if (!Object.keys(patch).length) { if (!quiet) toast('Nothing changed.', { title: 'Saved', timeout: 2000 }); return true; }
      }
      try {
        return await saveRecord({
          state, what: 'campaign', form, button: root.querySelector('[data-testid="campaign-save"]'),
          send: () => (state.creating ? capi.createCampaign(patch) : capi.updateCampaign(before.id, patch, state.version)),
          href: (saved) => campaignHref(saved.id),
          saved: (res, wasNew) => {
            if (wasNew) {
              if (!quiet) toast(`“${res.campaign.name}” is saved as a draft.`, { kind: 'success', title: 'Campaign created' });
              render();
              root.querySelector('[data-testid="campaign-save"]')?.focus({ preventScroll: true });
              return;
            }
            if (!body.text.trim() && res.campaign.text) editor.inputs.text.value = res.campaign.text;
            state.baseline = JSON.stringify(currentBody());
            syncDirty();
            root.querySelector('[data-testid="campaign-title"]').textContent = res.campaign.name;
            pageTitle(res.campaign.name, 'Campaigns');
            if (!quiet) toast('Your changes are saved.', { kind: 'success', title: 'Saved' });
          },
        });
      } catch (err) {
        // 409: it stopped being a draft (sent or scheduled elsewhere) meanwhile.
        if (err.status === 409 && !state.destroyed) {
          toast(err.detail || 'Only a draft can be changed.', { kind: 'error', title: 'Not a draft any more', requestId: err.requestId });
          await reload();
          return false;
        }
        return saveFailed(err, { state, what: 'campaign', reload, showErrors });
      }
    }
    state.save = save;
    state.showErrors = showErrors;
    return form;
  }

  // --- anything but an editable draft: what it is ---------------------------------------------------
  function detailsView(c) {
    const seg = segmentOf(c.segment_id);
    const tpl = state.templates.find((t) => t.id === c.template_id);
    const countEl = h('span', { class: 'cp-audience-count', dataset: { testid: 'campaign-audience-count' } });
    if (c.status === 'draft' || c.status === 'scheduled') countLine(c.segment_id, countEl);
    const editor = mailEditor({ content: c, readOnly: true, previewNote: c.status === 'draft' ? null : 'Previewed from the campaign’s content; each recipient got their own values, tracked links and unsubscribe link.' });
    state.editor = editor;
    const row = (label, value, testid) => h('div', null, h('dt', null, label), h('dd', { dataset: { testid } }, value ?? h('span', { class: 'muted' }, '—')));
    return h('div', { class: 'cp-editor cp-details' },
      h('section', { class: 'card cp-editor-main', 'aria-labelledby': `${p}-det-h`, dataset: { testid: 'campaign-details' } },
        h('h2', { class: 'seg-card-title', id: `${p}-det-h` }, 'Campaign'),
        h('dl', { class: 'cp-dl' },
          row('Audience', c.segment_id ? h('span', null, h('a', { href: segmentHref(c.segment_id) }, seg?.name || 'A deleted segment'),
            c.status === 'draft' || c.status === 'scheduled' ? [h('br'), countEl] : null) : null, 'campaign-audience'),
          row('Subject', c.subject || null, 'campaign-subject-text'),
          c.ab ? row('Subject B', `${c.ab.subject_b} (A/B test on ${c.ab.sample_percent}%, ${c.ab.wait_minutes} min, by ${c.ab.metric})`, 'campaign-ab-text') : null,
          row('From name', c.from_name || null),
          row('Time zone', c.time_zone),
          row('At most', `${nf.format(c.throttle_per_minute || 600)} a minute`),
          tpl ? row('Started from', h('a', { href: templateHref(tpl.id) }, tpl.name)) : null,
          c.status === 'scheduled' && c.send_at_local ? row('Local send time', `${c.send_at_local.replace('T', ' ')} in ${c.time_zone}`) : null)),
      h('div', { class: 'cp-editor-side' }, editor.preview));
  }

  // --- actions --------------------------------------------------------------------------------------
  /** Saves a new or changed draft, then checks it can be sent. → the campaign or null. */
  async function readyToSend() {
    if (state.save && (state.creating || state.dirty)) {
      const ok = await state.save({ quiet: true });
      if (!ok) return null;
    }
    const c = state.campaign;
    if (!c) return null;
    const errors = [];
    if (!c.segment_id) errors.push({ field: 'segment_id', message: 'choose who receives the campaign first' });
    if (!String(c.subject || '').trim()) errors.push({ field: 'subject', message: 'write a subject first' });
    if (!String(c.html || '').trim() && !String(c.text || '').trim()) errors.push({ field: 'html', message: 'write the message first: an HTML or a plain-text part' });
    if (errors.length) {
      if (state.showErrors) state.showErrors({ errors, title: 'Not ready to send' });
      else toast(errors.map((e) => e.message).join('; '), { kind: 'error', title: 'Not ready to send' });
      return null;
    }
    return c;
  }

  async function sendNowFlow() {
    const c = await readyToSend();
    if (!c || state.destroyed) return;
    const seg = segmentOf(c.segment_id);
    const box = errorBox('send-error');
    const countText = h('strong', { class: 'num', dataset: { testid: 'send-count' } }, spinner('Counting…'));
    const confirm = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'confirm-send' } }, 'Send now');
    const form = h('form', { class: 'dialog-form', method: 'dialog' },
      h('header', { class: 'dialog-header' },
        h('h2', { id: `${p}-send-title` }, `Send “${c.name}” now?`),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
      h('div', { class: 'dialog-body' }, box,
        h('div', { class: 'cp-send-summary' },
          h('span', { class: 'cp-send-icon', 'aria-hidden': 'true' }, cicon('send', { size: 22 })),
          h('div', null,
            h('p', null, 'It goes to ', countText, ' in ', h('strong', null, seg?.name || 'its segment'), ', starting now.'),
            h('p', { class: 'muted' }, 'Subject: ', h('span', null, c.subject)))),
        c.ab ? h('p', { class: 'muted' }, `A/B test: ${c.ab.sample_percent}% get subject A or B first; the winner goes to the rest after ${c.ab.wait_minutes} minutes.`) : null,
        h('p', { class: 'muted form-hint' }, 'Anyone whose email consent is withdrawn, or whose address is suppressed, is skipped. Mail that has gone out cannot be called back.')),
      h('footer', { class: 'dialog-footer' },
        h('button', { type: 'button', class: 'btn', autofocus: true, dataset: { testid: 'confirm-cancel' }, onclick: () => dialog.close('cancel') }, 'Cancel'),
        confirm));
    const dialog = h('dialog', { class: 'dialog confirm-dialog', role: 'alertdialog', 'aria-labelledby': `${p}-send-title`, dataset: { testid: 'send-dialog' } }, form);
    countOf(c.segment_id).then((n) => {
      mount(countText, plural(n, 'contact'));
      countText.dataset.count = String(n);
      if (!running) confirm.textContent = `Send to ${plural(n, 'contact')}`;
    }, () => mount(countText, 'everyone in the segment'));
    let running = false;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (running) return;
      running = true;
      state.busy = true;
      busy(confirm, true, { idle: 'Send now', working: 'Starting…' });
      try {
        const res = await capi.scheduleCampaign(c.id, {}, state.version);
        state.busy = false;
        dialog.close('sent');
        if (state.destroyed) return;
        state.campaign = res.campaign;
        state.version = res.version;
        state.dirty = false;
        toast(res.campaign.status === 'sent' ? `“${c.name}” has gone out.` : `“${c.name}” is going out now. This page follows its progress.`, { kind: 'success', title: 'Sending' });
        render();
      } catch (err) {
        state.busy = false;
        running = false;
        busy(confirm, false, { idle: 'Send now', working: 'Starting…' });
        box.hidden = false;
        mount(box, icon('alert'), h('div', null, h('strong', null, err.title || 'Could not send'), ' ',
          err.errors?.length ? err.errors.map((x) => `${x.field}: ${x.message}`).join('. ') : (err.detail || err.message)));
        if (err.status === 409 || err.status === 412) reload();
      }
    });
    openModal(dialog);
  }

  async function scheduleFlow() {
    const c = await readyToSend();
    if (!c || state.destroyed) return;
    const sp = `${p}-sch`;
    const tzSel = zoneSelect({ id: `${sp}-tz`, value: c.time_zone, testid: 'schedule-tz' });
    const tomorrow9 = () => `${localIn(new Date(Date.now() + 86400_000), tzSel.value).slice(0, 10)}T09:00`;
    const at = h('input', {
      class: 'input', id: `${sp}-at`, name: 'send_at', type: 'datetime-local', required: true, step: 60,
      value: c.send_at_local || tomorrow9(), dataset: { testid: 'schedule-at' },
    });
    const equiv = h('div', { class: 'cp-equivalent', role: 'status', 'aria-live': 'polite', dataset: { testid: 'schedule-equivalent' } });
    const box = errorBox('schedule-error');
    const confirm = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'schedule-confirm' } }, 'Schedule');
    function sync() {
      at.min = localIn(new Date(), tzSel.value);
      const d = localToUtc(at.value, tzSel.value);
      if (!d) { mount(equiv, h('span', { class: 'muted' }, 'Pick a date and a time.')); return; }
      const past = d.getTime() < Date.now() - 60_000;
      equiv.classList.toggle('is-error', past);
      mount(equiv,
        past ? h('p', null, icon('alert', { size: 13 }), ` That time has passed in ${tzSel.value}.`) : null,
        h('dl', { class: 'cp-dl cp-dl-compact' },
          h('div', null, h('dt', null, 'In UTC'), h('dd', { dataset: { testid: 'schedule-utc' } }, formatInZone(d, 'UTC'))),
          h('div', null, h('dt', null, 'Your time'), h('dd', { dataset: { testid: 'schedule-local' } }, `${formatInZone(d, browserZone())}`, h('span', { class: 'muted' }, ` · ${browserZone().replace(/_/g, ' ')}`))),
          h('div', null, h('dt', null, 'From now'), h('dd', null, relative(d.toISOString())))));
    }
    at.addEventListener('input', () => { clearFieldError(at); sync(); });
    tzSel.addEventListener('change', () => { clearFieldError(tzSel); sync(); });
    const form = h('form', { class: 'dialog-form', novalidate: true },
      h('header', { class: 'dialog-header' },
        h('h2', { id: `${sp}-title` }, `Schedule “${c.name}”`),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
      h('div', { class: 'dialog-body' }, box,
        h('p', { class: 'form-hint muted' }, 'It goes out at this time in the chosen time zone. You can unschedule it until then.'),
        h('div', { class: 'field-grid' },
          h('div', { class: 'field field-half', dataset: { field: 'send_at' } }, h('label', { for: at.id }, 'Date and time'), at),
          h('div', { class: 'field field-half', dataset: { field: 'time_zone' } }, h('label', { for: tzSel.id }, 'Time zone'), tzSel),
          h('div', { class: 'field' }, equiv))),
      h('footer', { class: 'dialog-footer' },
        h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
        confirm));
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': `${sp}-title`, dataset: { testid: 'schedule-dialog' } }, form);
    let running = false;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (running) return;
      box.hidden = true;
      if (!localToUtc(at.value, tzSel.value)) { setFieldError(at, 'Pick a date and a time'); at.focus(); return; }
      running = true;
      state.busy = true;
      busy(confirm, true, { idle: 'Schedule', working: 'Scheduling…' });
      try {
        const res = await capi.scheduleCampaign(c.id, { sendAt: at.value.slice(0, 16), timeZone: tzSel.value }, state.version);
        state.busy = false;
        dialog.close('scheduled');
        if (state.destroyed) return;
        state.campaign = res.campaign;
        state.version = res.version;
        state.dirty = false;
        toast(`“${c.name}” goes out ${formatInZone(res.campaign.send_at, res.campaign.time_zone)}.`, { kind: 'success', title: 'Scheduled' });
        render();
      } catch (err) {
        state.busy = false;
        running = false;
        busy(confirm, false, { idle: 'Schedule', working: 'Scheduling…' });
        const fields = { send_at: at, time_zone: tzSel };
        const rest = [];
        for (const x of err.errors || []) {
          if (fields[x.field]) setFieldError(fields[x.field], x.message, { testid: `error-${x.field}` });
          else rest.push(`${x.field}: ${x.message}`);
        }
        if (rest.length || !err.errors?.length) {
          box.hidden = false;
          mount(box, icon('alert'), h('div', null, h('strong', null, err.title || 'Could not schedule'), ' ', rest.join('. ') || err.detail || err.message));
        }
        if (err.status === 409 || err.status === 412) reload();
      }
    });
    sync();
    openModal(dialog);
    at.focus();
  }

  async function unschedule() {
    const c = state.campaign;
    state.busy = true;
    try {
      const res = await capi.unscheduleCampaign(c.id, state.version);
      state.busy = false;
      if (state.destroyed) return;
      state.campaign = res.campaign;
      state.version = res.version;
      toast('It is a draft again: change it, then send or schedule it.', { title: 'Unscheduled' });
      render();
    } catch (err) {
      state.busy = false;
      toastError(err, 'Could not unschedule');
      if (err.status === 409 || err.status === 412) reload();
    }
  }

  function cancelFlow() {
    const c = state.campaign;
    const sending = c.status === 'sending';
    confirmDialog({
      title: sending ? `Stop sending “${c.name}”?` : `Cancel “${c.name}”?`,
      text: sending
        ? 'Nobody else gets it; mail already queued still goes out. A cancelled campaign cannot be restarted (use it again as a new draft).'
        : 'It will not go out. A cancelled campaign cannot be scheduled again (use it again as a new draft, or unschedule it instead to keep it as a draft).',
      confirmLabel: sending ? 'Stop sending' : 'Cancel campaign', workingLabel: 'Stopping…', testid: 'campaign-confirm-cancel',
      run: async () => {
        const res = await capi.cancelCampaign(c.id, state.version);
        if (state.destroyed) return;
        state.campaign = res.campaign;
        state.version = res.version;
        toast('Nothing more of it is sent.', { title: 'Cancelled' });
        render();
      },
    });
  }

  function remove() {
    const c = state.campaign;
    confirmDelete({
      state, what: 'campaign', name: c.name, testid: 'campaign-confirm-delete', listHref: '/campaigns',
      text: c.status === 'draft' ? 'The draft is deleted. This cannot be undone.' : 'The campaign and its results leave the list; messages already sent are not affected. This cannot be undone.',
      send: () => capi.deleteCampaign(c.id),
    });
  }

  async function sendTest() {
    if (state.save && (state.creating || state.dirty)) {
      const ok = await state.save({ quiet: true });
      if (!ok) return;
    }
    const c = state.campaign;
    if (!c) return;
    openTestSend({ title: 'Send a test of this campaign', send: ({ to, contactId }) => capi.testCampaign(c.id, { to, contactId }) });
  }

  function reload() {
    return reloadRecord({
      state, what: 'campaign', fetch: () => capi.getCampaign(state.campaign.id, { signal: controller.signal }),
      after: (campaign) => { state.templateId = campaign.template_id; }, render,
    });
  }

  // --- start ------------------------------------------------------------------------------------------
  async function start() {
    mount(root, back(), loadingCard());
    const signal = controller.signal;
    const soft = (pr) => pr.catch((err) => { if (err?.name === 'AbortError') throw err; return []; });
    try {
      const copyId = state.creating ? query.get('copy') : null;
      const [one, segments, templates] = await Promise.all([
        id || copyId ? capi.getCampaign(id || copyId, { signal }) : null,
        soft(sapi.listSegments({ signal })),
        soft(capi.listTemplates({ signal })),
        session.whenLoaded(),
      ]);
      if (state.destroyed) return;
      state.segments = segments;
      state.templates = templates;
      if (id) {
        state.campaign = one.campaign;
        state.version = one.version;
        state.templateId = one.campaign.template_id;
      } else {
        const draft = draftDefaults();
        if (one) {
          const src = one.campaign;
          Object.assign(draft, {
            name: `${src.name} (again)`.slice(0, 120), segment_id: src.segment_id, template_id: src.template_id, subject: src.subject, html: src.html, text: src.text,
            from_name: src.from_name || '', time_zone: src.time_zone, throttle_per_minute: src.throttle_per_minute, ab: src.ab,
          });
          state.templateId = src.template_id;
        }
        const t = templates.find((x) => x.id === query.get('template'));
        if (t) {
          Object.assign(draft, { name: draft.name || t.name || '', subject: t.subject, html: t.html, text: t.text });
          state.templateId = t.id;
        }
        const s = segments.find((x) => x.id === query.get('segment'));
        if (s) draft.segment_id = s.id;
        state.campaign = null;
        state.draft = draft;
      }
      render();
      const first = state.creating && capi.canWriteCampaigns() ? root.querySelector('[data-testid="campaign-name"]') : root.querySelector('h1');
      first?.focus({ preventScroll: !state.creating });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      loadFailed(root, back(), err, { what: 'campaign', listHref: '/campaigns', retry: start });
    }
  }

  // Ctrl/Cmd+S saves a draft (state.save is only set while one is shown).
  const stopListening = editorListeners(state);

  start();
  return {
    kind: 'campaign-page',
    destroy() {
      state.destroyed = true;
      controller.abort();
      clearTimeout(state.pollTimer);
      state.editor?.destroy();
      state.report?.destroy();
      stopListening();
    },
  };
}

