// A sequence (/campaigns/sequences/new, /campaigns/sequences/<id>): a drip
// of emails to everyone who joins a segment. Two tabs on a saved one:
//  - Steps: name and from name, the segment people enter from (with its live
//    count), the goal (none, a ready-made one, or rules from the segment
//    builder: who matches it has converted and leaves), and the steps as a
//    vertical timeline ("Day 0: Welcome", "+2 days: Tips") — each with its
//    wait in days and hours, and, for the open step, the shared mail editor
//    (subject, HTML, plain text, "Insert field") with its live preview beside
//    the timeline. Steps are added, removed (with undo) and moved with their
//    buttons or Alt+↑/↓.
//  - Enrolments & results: enrolments by state, exits by reason, sent /
//    opened / clicked per step (svg-charts.js, with its table toggle), and
//    who is in it (step, next send, status or why they left) with "Take out".
// Actions: Save (Ctrl/Cmd+S; If-Match, 412 reloads), Activate or Resume and
// Pause (each confirmed with how many contacts the segment holds now),
// Delete. Server field errors (steps[1].subject, goal, segment_id …) are shown
// at their field; a closed step with an error says so and the first opens.

import { h, mount, icon, toast, pageTitle, openModal, timeEl, debounce } from './ui.js';
import { updateUrl } from './router.js';
import * as session from './session.js';
import * as capi from './campaigns-api.js';
import * as sapi from './segments-api.js';
import * as qapi from './sequences-api.js';
import { emptyState } from './contacts.js';
import { confirmDialog } from './settings-kit.js';
import { errorBox, busy } from './forms.js';
import { ruleBuilder, describeFilter } from './filters.js';
import { segmentHref, spinner, loadRuleContext } from './segment-display.js';
import { backLink, cicon, nf, plural, pct, relative, formatInZone, browserZone } from './campaign-display.js';
import { mailEditor, setFieldError, clearFieldError } from './mail-editor.js';
import { chartFigure, columnChart, dataTableOf } from './svg-charts.js';
import {
  sicon, sequenceHref, sequenceStatusBadge, enrolmentBadge, exitLabel, splitDelay, delayText,
  stepWhen, stepOffset, stepTitle, lengthText, GOAL_PRESETS, goalPreset, readableSubject,
} from './sequence-display.js';
import {
  loadingCard, loadFailed, editorHeader, actionButton, deleteButton, unsavedNote,
  trackDirty, editorListeners, saveRecord, saveFailed, reloadRecord, showProblemsInBox, confirmDelete,
} from './editor-shell.js';

const DAY = 1440;
const POLL_MS = 20000;
const ENROL_FILTERS = [['', 'All'], ['active', 'In progress'], ['completed', 'Completed'], ['exited', 'Exited']];
let uid = 0;

function draftDefaults() {
  return {
    id: null, name: '', status: 'draft', segment_id: null, goal: null, from_name: '',
    steps: [{ delay_minutes: 0, subject: '', html: '', text: '' }],
    enrolments: { total: 0, active: 0, completed: 0, exited: 0, exits: {} },
  };
}

const shortFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
/** "Dec 8, 9:14 PM" in the viewer's time. */
function shortTime(d) { try { return shortFmt.format(d); } catch { return d.toISOString(); } }

function personName(e) {
  return [e.first_name, e.last_name].filter((x) => x && String(x).trim()).join(' ').trim();
}

function plainSnippet(st) {
  const src = String(st.text || '').trim() || String(st.html || '').replace(/<(style|script)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ');
  return src.replace(/\s+/g, ' ').trim().slice(0, 140);
}

export function sequencePageView(root, id = null, { query = new URLSearchParams() } = {}) {
  const p = `sq${++uid}`;
  const controller = new AbortController();
  const wantTab = query.get('tab');
  const state = {
    sequence: null, version: null, creating: !id, segments: [], ctx: null, counts: new Map(),
    destroyed: false, dirty: false, saving: false, busy: false, baseline: null,
    steps: [], openKey: null, editor: null, builder: null, stepErrors: new Map(),
    tab: wantTab === 'enrolments' || wantTab === 'steps' ? wantTab : null,
    enrolments: [], stats: null, enrolFilter: '', resultsController: null, pollTimer: null,
    save: null, showErrors: null, results: null,
  };
  const back = () => backLink('/campaigns/sequences', 'Sequences', 'back-to-sequences');
  const segmentOf = (sid) => state.segments.find((s) => s.id === sid) || null;
  const writer = () => capi.canWriteCampaigns();
  const newKey = () => `${p}-s${++uid}`;

  // --- segment counts ------------------------------------------------------------------------
  function countOf(segmentId, { fresh = false } = {}) {
    if (!segmentId) return Promise.resolve(null);
    if (fresh || !state.counts.has(segmentId)) {
      const pr = sapi.countSegment(segmentId, { signal: controller.signal });
      pr.catch(() => state.counts.delete(segmentId));
      state.counts.set(segmentId, pr);
    }
    return state.counts.get(segmentId);
  }
  function countLine(segmentId, el) {
    delete el.dataset.count;
    el.dataset.segment = segmentId || '';
    if (!segmentId) { el.dataset.state = 'none'; mount(el, h('span', { class: 'muted' }, 'Nobody yet: choose a segment or a list.')); return; }
    mount(el, spinner('Counting…'), h('span', { class: 'muted' }, ' counting…'));
    el.dataset.state = 'loading';
    countOf(segmentId).then((n) => {
      if (state.destroyed || el.dataset.segment !== segmentId) return;
      el.dataset.state = 'done';
      el.dataset.count = String(n);
      mount(el, h('strong', { class: 'num' }, nf.format(n)), ` ${n === 1 ? 'contact is' : 'contacts are'} in it today`,
        h('a', { href: segmentHref(segmentId), class: 'cp-open-segment' }, 'Open the segment'));
    }, (err) => {
      if (err?.name === 'AbortError' || state.destroyed) return;
      el.dataset.state = 'error';
      mount(el, h('span', { class: 'muted' }, `Could not be counted: ${err.detail || err.message}`));
    });
  }

  // --- the steps model ------------------------------------------------------------------------
  function loadSteps(steps) {
    state.steps = (steps || []).map((st) => ({
      key: newKey(), delay_minutes: Math.max(0, Number(st.delay_minutes) || 0), subject: st.subject || '', html: st.html || '', text: st.text || '',
    }));
    state.openKey = state.steps[0]?.key || null;
    state.stepErrors = new Map();
  }
  function readOpen() {
    if (!state.editor || !state.openKey) return;
    const st = state.steps.find((s) => s.key === state.openKey);
    if (st) Object.assign(st, state.editor.read());
  }
  function stepsBody() {
    readOpen();
    return state.steps.map((st) => ({ delay_minutes: st.delay_minutes, subject: st.subject, html: st.html, text: st.text }));
  }

  // --- header --------------------------------------------------------------------------------------
  function subText(s) {
    if (state.creating) return 'A new draft: nobody enters until you activate it.';
    if (s.status === 'active') {
      const seg = segmentOf(s.segment_id);
      return ['Active: members of ', seg ? h('a', { href: segmentHref(seg.id) }, seg.name) : 'its segment', ' enter as they join; steps go out on their own.'];
    }
    if (s.status === 'paused') return 'Paused: nobody enters and no step goes out until you resume it.';
    return 'Draft: nobody enters until you activate it.';
  }

  function headerActions(s, dirtyNote) {
    if (!writer()) return [];
    const out = [dirtyNote];
    if (!state.creating) out.push(deleteButton('sequence-delete', () => remove()));
    out.push(actionButton('sequence-save', state.creating ? 'Save draft' : 'Save', icon('check', { size: 15 }), () => state.save?.(), 'btn', { 'aria-keyshortcuts': 'Control+S Meta+S' }));
    if (s.status === 'active') out.push(actionButton('sequence-pause', 'Pause', sicon('pause', { size: 15 }), () => pauseFlow(), 'btn btn-primary'));
    else out.push(actionButton('sequence-activate', s.status === 'paused' ? 'Resume' : 'Activate', sicon('play', { size: 15 }), () => activateFlow(), 'btn btn-primary'));
    return out;
  }

  // --- the page ----------------------------------------------------------------------------------------
  function render() {
    state.editor?.destroy();
    state.editor = null;
    state.builder = null;
    state.save = null;
    state.showErrors = null;
    state.results = null;
    clearTimeout(state.pollTimer);
    const s = state.sequence || state.draft || draftDefaults();
    pageTitle(state.creating ? 'New sequence' : (s.name || 'Sequence'), 'Sequences');

    const dirtyNote = unsavedNote('sequence-dirty');
    const header = editorHeader({
      titleId: `${p}-h`, eyebrow: 'Campaigns · Sequence',
      title: state.creating ? 'New sequence' : (s.name || 'Sequence'), titleTestid: 'sequence-title',
      sub: [sequenceStatusBadge(s.status), ' ', h('span', null, subText(s)), !writer() ? h('span', { class: 'muted' }, ' Your role can see this sequence but not change it.') : null],
      subTestid: 'sequence-sub', actions: headerActions(s, dirtyNote),
    });

    const form = stepsForm(s, dirtyNote);
    if (state.creating) {
      mount(root, back(), header, form);
      return;
    }
    if (!state.tab) state.tab = s.status !== 'draft' || (s.enrolments?.total || 0) > 0 ? 'enrolments' : 'steps';
    state.results = resultsPanel(s);
    const panels = { steps: form, enrolments: state.results.el };
    const tabBtn = (key, label, extra) => h('button', {
      type: 'button', role: 'tab', class: 'tab sq-tab', id: `${p}-tab-${key}`, 'aria-controls': `${p}-panel-${key}`,
      'aria-selected': String(state.tab === key), tabindex: state.tab === key ? '0' : '-1', dataset: { testid: `sequence-tab-${key}`, tab: key },
      onclick: () => showTab(key, { focus: false }),
    }, label, extra);
    const enrolCount = h('span', { class: 'sq-tab-count', dataset: { testid: 'sequence-tab-count' } }, nf.format(s.enrolments?.total || 0));
    const tabs = h('div', { class: 'tabs sq-tabs', role: 'tablist', 'aria-label': 'Sequence', dataset: { testid: 'sequence-tabs' } },
      tabBtn('steps', [sicon('drip', { size: 16 }), h('span', null, 'Steps')], h('span', { class: 'sq-tab-count' }, nf.format(state.steps.length))),
      tabBtn('enrolments', [cicon('chart', { size: 16 }), h('span', null, 'Enrolments & results')], enrolCount));
    tabs.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight' && e.key !== 'Home' && e.key !== 'End') return;
      e.preventDefault();
      const keys = ['steps', 'enrolments'];
      const i = keys.indexOf(state.tab);
      const next = e.key === 'Home' ? 0 : e.key === 'End' ? keys.length - 1 : (i + (e.key === 'ArrowRight' ? 1 : keys.length - 1)) % keys.length;
      showTab(keys[next], { focus: true });
    });
    const wrapPanel = (key) => h('div', {
      role: 'tabpanel', id: `${p}-panel-${key}`, 'aria-labelledby': `${p}-tab-${key}`, hidden: state.tab !== key, class: 'sq-panel', dataset: { testid: `sequence-panel-${key}` },
    }, panels[key]);
    state.tabs = tabs;
    state.enrolCount = enrolCount;
    mount(root, back(), header, tabs, wrapPanel('enrolments'), wrapPanel('steps'));
    if (state.tab === 'enrolments') loadResults();
  }

  function showTab(key, { focus } = {}) {
    if (!state.tabs) return;
    state.tab = key;
    state.tabs.querySelectorAll('[role=tab]').forEach((t) => {
      const on = t.dataset.tab === key;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      if (on && focus) t.focus();
    });
    root.querySelectorAll(':scope > [role=tabpanel]').forEach((el) => { el.hidden = el.id !== `${p}-panel-${key}`; });
    const q = new URLSearchParams(location.search);
    q.set('tab', key);
    updateUrl(`${location.pathname}?${q}`);
    if (key === 'enrolments') loadResults();
    else clearTimeout(state.pollTimer);
  }

  // --- Steps: the form -----------------------------------------------------------------------------
  function stepsForm(s, dirtyNote) {
    const editable = writer();
    const box = errorBox('sequence-error');
    const name = h('input', {
      class: 'input', id: `${p}-name`, name: 'name', maxlength: 120, autocomplete: 'off', required: true, value: s.name || '', readonly: !editable,
      placeholder: 'e.g. Welcome new leads', dataset: { testid: 'sequence-name' },
    });
    const fromName = h('input', {
      class: 'input', id: `${p}-from`, name: 'from_name', maxlength: 100, autocomplete: 'off', value: s.from_name || '', readonly: !editable,
      placeholder: 'e.g. Demo Outdoor', dataset: { testid: 'sequence-from-name' },
    });

    // Who enters
    const dyn = state.segments.filter((x) => x.kind !== 'static');
    const lists = state.segments.filter((x) => x.kind === 'static');
    const byName = (a, b) => String(a.name || '').localeCompare(String(b.name || ''));
    const segSel = h('select', { class: 'input', id: `${p}-segment`, name: 'segment_id', disabled: !editable, dataset: { testid: 'sequence-segment' } },
      h('option', { value: '' }, 'Choose a segment or list…'),
      dyn.length ? h('optgroup', { label: 'Segments' }, dyn.sort(byName).map((x) => h('option', { value: x.id, selected: x.id === s.segment_id ? true : null }, x.name || 'Untitled segment'))) : null,
      lists.length ? h('optgroup', { label: 'Static lists' }, lists.sort(byName).map((x) => h('option', { value: x.id, selected: x.id === s.segment_id ? true : null }, x.name || 'Untitled list'))) : null,
      s.segment_id && !segmentOf(s.segment_id) ? h('option', { value: s.segment_id, selected: true }, 'A deleted segment') : null);
    const segCount = h('p', { class: 'cp-audience-count', role: 'status', 'aria-live': 'polite', dataset: { testid: 'sequence-segment-count' } });
    segSel.addEventListener('change', () => { clearFieldError(segSel); countLine(segSel.value, segCount); syncDirty(); });
    countLine(s.segment_id, segCount);

    // The goal
    const preset = goalPreset(s.goal);
    const goalSel = h('select', { class: 'input', id: `${p}-goal`, name: 'goal', disabled: !editable, dataset: { testid: 'sequence-goal' } },
      h('option', { value: 'none', selected: preset === 'none' ? true : null }, 'No goal: everyone gets every step'),
      h('optgroup', { label: 'They leave when they…' },
        GOAL_PRESETS.map((g) => h('option', { value: g.key, selected: preset === g.key ? true : null }, g.label))),
      h('option', { value: 'custom', selected: preset === 'custom' ? true : null }, 'Match rules of your own…'));
    const goalText = h('p', { class: 'sq-goal-text', dataset: { testid: 'sequence-goal-text' } });
    const goalError = h('div', { class: 'form-error', role: 'alert', hidden: true, dataset: { testid: 'sequence-goal-error' } });
    const builderWrap = h('div', { class: 'sq-goal-rules', hidden: preset !== 'custom' });
    if (state.ctx) {
      const builder = ruleBuilder({
        catalog: state.ctx.catalog, tags: state.ctx.tags, lists: state.ctx.lists, readOnly: !editable,
        onChange: () => { goalError.hidden = true; clearFieldError(goalSel); syncGoalText(); syncDirty(); },
      });
      if (preset === 'custom') builder.setFilter(s.goal);
      state.builder = builder;
      builderWrap.append(builder.el);
    } else {
      builderWrap.append(h('p', { class: 'muted' }, 'The rule builder could not be loaded; pick a ready-made goal, or reload the page.'));
    }
    function readGoal() {
      const v = goalSel.value;
      if (v === 'none') return { goal: null, problems: [] };
      const pr = GOAL_PRESETS.find((g) => g.key === v);
      if (pr) return { goal: pr.filter, problems: [] };
      if (!state.builder) return { goal: s.goal || null, problems: [] };
      const { filter, problems } = state.builder.read();
      return { goal: filter, problems };
    }
    function syncGoalText() {
      const { goal, problems } = readGoal();
      const catalog = state.ctx?.catalog || [];
      if (!goal && !problems.length) {
        mount(goalText, h('span', { class: 'muted' }, 'Nobody leaves early except those who reply, unsubscribe or are taken out.'));
      } else if (problems.length) {
        mount(goalText, h('span', { class: 'muted' }, 'Finish the rules below: contacts who match them leave the sequence.'));
      } else {
        mount(goalText, sicon('target', { size: 14 }), h('span', null, 'Contacts leave as soon as they match: ', h('strong', null, describeFilter(goal, catalog) || 'the rules below'), '.'));
      }
    }
    goalSel.addEventListener('change', () => {
      clearFieldError(goalSel);
      goalError.hidden = true;
      const prev = state.lastGoalPreset;
      if (goalSel.value === 'custom' && state.builder) {
        // Start the rules from the ready-made goal chosen before, to change as you like.
        const from = GOAL_PRESETS.find((g) => g.key === prev);
        if (from || state.builder.isEmpty()) state.builder.setFilter(from ? from.filter : null);
        if (state.builder.isEmpty()) builderWrap.querySelector('[data-testid=add-rule]')?.click();
      }
      builderWrap.hidden = goalSel.value !== 'custom';
      state.lastGoalPreset = goalSel.value;
      syncGoalText();
      syncDirty();
    });
    state.lastGoalPreset = preset;
    syncGoalText();

    // The steps
    const stepsError = h('div', { class: 'form-error', role: 'alert', hidden: true, dataset: { testid: 'sequence-steps-error' } });
    const timeline = h('ol', { class: 'sq-timeline', dataset: { testid: 'sequence-steps' }, 'aria-label': 'Steps, in the order they go out' });
    const lengthNote = h('span', { class: 'muted sq-length', dataset: { testid: 'sequence-length' } });
    const addBtn = editable ? h('button', {
      type: 'button', class: 'btn sq-add-step', dataset: { testid: 'sequence-add-step' }, onclick: () => addStep(),
    }, icon('plus', { size: 15 }), 'Add step') : null;
    const sideLabel = h('p', { class: 'sq-preview-of muted', dataset: { testid: 'sequence-preview-of' } });
    const side = h('div', { class: 'cp-editor-side sq-side' });

    function stepItem(st, i) {
      const open = st.key === state.openKey;
      const errs = state.stepErrors.get(st.key) || {};
      const { days, hours, minutes } = splitDelay(st.delay_minutes);
      const daysIn = h('input', {
        class: 'input sq-num', id: `${st.key}-days`, name: 'delay_days', type: 'number', min: 0, max: 90, step: 1, inputmode: 'numeric', value: String(days),
        readonly: !editable, dataset: { testid: 'sequence-step-delay-days' }, 'aria-describedby': `${st.key}-delay-label`,
      });
      const hoursIn = h('input', {
        class: 'input sq-num', id: `${st.key}-hours`, name: 'delay_hours', type: 'number', min: 0, max: 23, step: 1, inputmode: 'numeric', value: String(hours),
        readonly: !editable, dataset: { testid: 'sequence-step-delay-hours' }, 'aria-describedby': `${st.key}-delay-label`,
      });
      const onDelay = () => {
        clearFieldError(daysIn);
        const d = Number(daysIn.value);
        const hh = Number(hoursIn.value);
        const extra = st.delay_minutes % 60;
        if (Number.isInteger(d) && Number.isInteger(hh) && d >= 0 && hh >= 0) st.delay_minutes = d * DAY + hh * 60 + extra;
        const e = state.stepErrors.get(st.key);
        if (e) delete e.delay_minutes;
        if (e && !Object.keys(e).length) daysIn.closest('.sq-step')?.classList.remove('is-invalid');
        syncLabels();
        syncDirty();
      };
      daysIn.addEventListener('input', onDelay);
      hoursIn.addEventListener('input', onDelay);
      const whenEl = h('span', { class: 'sq-when', dataset: { testid: 'sequence-step-when' } }, stepWhen(state.steps, i));
      const subjectEl = h('span', { class: ['sq-step-subject', !st.subject.trim() && 'is-empty'], title: st.subject.trim() || null }, readableSubject(st.subject) || 'No subject yet');
      const toggle = h('button', {
        type: 'button', class: 'sq-step-toggle', 'aria-expanded': String(open), 'aria-controls': `${st.key}-content`,
        dataset: { testid: 'sequence-step-toggle', key: st.key, part: 'toggle' },
        onclick: () => openStep(open ? null : st.key, { focus: open ? 'toggle' : 'subject' }),
      }, icon(open ? 'chevronDown' : 'chevronRight', { size: 15 }), h('span', { class: 'sq-step-title' }, whenEl, h('span', { class: 'sq-sep', 'aria-hidden': 'true' }, ': '), subjectEl));
      const tool = (part, label, iconEl, onclick, disabled) => h('button', {
        type: 'button', class: 'icon-button icon-button-sm', 'aria-label': `${label}: step ${i + 1}`, title: label, disabled,
        dataset: { testid: `sequence-step-${part}`, key: st.key, part }, onclick,
      }, iconEl);
      const tools = editable ? h('div', { class: 'sq-step-tools' },
        tool('up', 'Move up', sicon('arrowUp', { size: 15 }), () => moveStep(st.key, -1, 'up'), i === 0),
        tool('down', 'Move down', sicon('arrowDown', { size: 15 }), () => moveStep(st.key, 1, 'down'), i === state.steps.length - 1),
        tool('remove', 'Remove step', icon('trash', { size: 15 }), () => removeStep(st.key), false)) : null;
      const delay = h('div', { class: 'field sq-delay', dataset: { field: `steps[${i}].delay_minutes` } },
        h('div', { class: 'sq-delay-row', role: 'group', 'aria-labelledby': `${st.key}-delay-label` },
          h('span', { class: 'sq-delay-label', id: `${st.key}-delay-label` }, 'Wait'),
          h('label', { class: 'sq-num-wrap', for: daysIn.id }, daysIn, h('span', null, 'days')),
          h('label', { class: 'sq-num-wrap', for: hoursIn.id }, hoursIn, h('span', null, 'hours')),
          h('span', { class: 'muted sq-delay-after' }, minutes ? `and ${minutes} min ` : '', i === 0 ? 'after they enter' : 'after the step before'),
          h('span', { class: 'muted sq-offset', dataset: { testid: 'sequence-step-offset' } }, i ? offsetText(i) : '')));
      const issues = Object.entries(errs).filter(([k]) => k !== 'delay_minutes');
      const issueEl = !open && issues.length ? h('p', { class: 'field-error sq-step-issue', dataset: { testid: 'sequence-step-issue' } },
        icon('alert', { size: 14 }), h('span', null, issues.map(([k, m]) => `${{ subject: 'Subject', html: 'HTML', text: 'Plain text' }[k] || k}: ${m}`).join(' · '))) : null;
      const content = h('div', { class: 'sq-step-content', id: `${st.key}-content` });
      if (!open) {
        const snip = plainSnippet(st);
        mount(content, h('button', {
          type: 'button', class: 'sq-step-summary', dataset: { testid: 'sequence-step-open' },
          onclick: () => openStep(st.key, { focus: 'subject' }),
        }, h('span', { class: ['sq-snippet', !snip && 'is-empty'] }, snip || 'No message yet'), h('span', { class: 'sq-edit-hint' }, icon('pencil', { size: 13 }), editable ? 'Edit' : 'Show')));
      }
      const li = h('li', {
        class: ['sq-step', open && 'is-open', issues.length && 'is-invalid'],
        dataset: { testid: 'sequence-step', key: st.key, index: String(i), delay: String(st.delay_minutes) },
        'aria-label': `Step ${i + 1}`,
      },
      h('div', { class: 'sq-rail', 'aria-hidden': 'true' }, h('span', { class: 'sq-dot' }, String(i + 1))),
      h('div', { class: 'sq-step-card' },
        h('div', { class: 'sq-step-head' }, toggle, tools),
        delay, issueEl, content));
      li.addEventListener('keydown', (e) => {
        if (!editable || !e.altKey || e.ctrlKey || e.metaKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
        e.preventDefault();
        moveStep(st.key, e.key === 'ArrowUp' ? -1 : 1, document.activeElement?.dataset?.part || 'toggle');
      });
      li.__content = content;
      li.__days = daysIn;
      if (errs.delay_minutes) queueMicrotask(() => setFieldError(daysIn, errs.delay_minutes, { testid: 'error-delay' }));
      return li;
    }

    function offsetText(i) {
      const t = stepOffset(state.steps, i);
      const { days, hours } = splitDelay(t);
      if (!t) return 'as they enter';
      return `day ${nf.format(days)}${hours ? `, ${hours} h` : ''} after entering`;
    }

    function syncLabels() {
      timeline.querySelectorAll(':scope > [data-testid=sequence-step]').forEach((li) => {
        const i = Number(li.dataset.index);
        const st = state.steps[i];
        if (!st) return;
        li.dataset.delay = String(st.delay_minutes);
        li.querySelector('[data-testid=sequence-step-when]').textContent = stepWhen(state.steps, i);
        li.querySelector('[data-testid=sequence-step-offset]').textContent = i ? offsetText(i) : '';
      });
      lengthNote.textContent = lengthText(state.steps);
      const open = state.steps.findIndex((st) => st.key === state.openKey);
      sideLabel.textContent = open >= 0 ? `Previewing step ${open + 1} · ${stepWhen(state.steps, open)}` : '';
      const tabCount = state.tabs?.querySelector('[data-tab=steps] .sq-tab-count');
      if (tabCount) tabCount.textContent = nf.format(state.steps.length);
    }

    function renderTimeline({ focus } = {}) {
      state.editor?.destroy();
      state.editor = null;
      if (state.openKey && !state.steps.some((st) => st.key === state.openKey)) state.openKey = null;
      const items = state.steps.map(stepItem);
      mount(timeline, items);
      const openIndex = state.steps.findIndex((st) => st.key === state.openKey);
      if (openIndex >= 0) {
        const st = state.steps[openIndex];
        const ed = mailEditor({
          content: st, readOnly: !editable,
          testids: { subject: 'sequence-step-subject', html: 'sequence-step-html', text: 'sequence-step-text', preview: 'sequence-preview' },
          previewNote: 'Each contact gets their own values, tracked links and an unsubscribe link.',
          onInput: () => {
            Object.assign(st, ed.read());
            const e = state.stepErrors.get(st.key);
            if (e) {
              delete e.subject; delete e.html; delete e.text;
              items[openIndex].classList.toggle('is-invalid', Object.keys(e).length > 0);
            }
            const subj = items[openIndex].querySelector('.sq-step-subject');
            subj.textContent = readableSubject(st.subject) || 'No subject yet';
            subj.title = st.subject.trim();
            subj.classList.toggle('is-empty', !st.subject.trim());
            syncDirty();
          },
        });
        state.editor = ed;
        mount(items[openIndex].__content, ed.fields);
        const errs = state.stepErrors.get(st.key);
        if (errs) ed.showErrors(Object.entries(errs).filter(([k]) => k !== 'delay_minutes').map(([field, message]) => ({ field, message })));
        mount(side, sideLabel, ed.preview);
      } else {
        mount(side, h('section', { class: 'card sq-preview-empty', dataset: { testid: 'sequence-preview' } },
          h('h2', { class: 'seg-card-title' }, icon('eye', { size: 15 }), ' Preview'),
          h('p', { class: 'muted' }, state.steps.length ? 'Open a step to write it and see it as a contact would get it.' : 'Add a step to write the first email.')));
      }
      if (addBtn) {
        addBtn.disabled = state.steps.length >= qapi.MAX_STEPS;
        addBtn.title = addBtn.disabled ? `At most ${qapi.MAX_STEPS} steps` : '';
      }
      syncLabels();
      if (focus) {
        const li = focus.key ? timeline.querySelector(`[data-key="${focus.key}"][data-testid=sequence-step]`) : null;
        let target = null;
        if (focus.part === 'subject' && state.editor) target = state.editor.inputs.subject;
        else if (li && focus.part) target = li.querySelector(`[data-part="${focus.part}"]:not(:disabled)`) || li.querySelector('[data-part=toggle]');
        else if (focus.part === 'add') target = addBtn;
        target?.focus();
        if (target && li) li.scrollIntoView({ block: 'nearest' });
      }
    }

    function openStep(key, { focus } = {}) {
      readOpen();
      state.openKey = key;
      renderTimeline({ focus: { key, part: focus } });
    }

    function addStep() {
      if (state.steps.length >= qapi.MAX_STEPS) return;
      readOpen();
      const st = { key: newKey(), delay_minutes: state.steps.length ? 2 * DAY : 0, subject: '', html: '', text: '' };
      state.steps.push(st);
      state.openKey = st.key;
      stepsError.hidden = true;
      renderTimeline({ focus: { key: st.key, part: 'subject' } });
      syncDirty();
    }

    function removeStep(key) {
      readOpen();
      const i = state.steps.findIndex((st) => st.key === key);
      if (i < 0) return;
      const [gone] = state.steps.splice(i, 1);
      const wasOpen = state.openKey === key;
      if (wasOpen) state.openKey = state.steps[Math.min(i, state.steps.length - 1)]?.key || null;
      const next = state.steps[Math.min(i, state.steps.length - 1)];
      renderTimeline({ focus: next ? { key: next.key, part: 'toggle' } : { part: 'add' } });
      syncDirty();
      toast(`Step ${i + 1}${gone.subject.trim() ? ` (“${readableSubject(gone.subject)}”)` : ''} is removed.`, {
        title: 'Step removed', timeout: 8000,
        action: { label: 'Undo', onClick: () => {
          if (state.destroyed || !timeline.isConnected) return;
          readOpen();
          state.steps.splice(Math.min(i, state.steps.length), 0, gone);
          if (wasOpen) state.openKey = gone.key;
          renderTimeline({ focus: { key: gone.key, part: 'toggle' } });
          syncDirty();
        } },
      });
    }

    function moveStep(key, d, part) {
      readOpen();
      const i = state.steps.findIndex((st) => st.key === key);
      const j = i + d;
      if (i < 0 || j < 0 || j >= state.steps.length) return;
      [state.steps[i], state.steps[j]] = [state.steps[j], state.steps[i]];
      const movedPart = part === 'up' && j === 0 ? 'down' : part === 'down' && j === state.steps.length - 1 ? 'up' : part;
      renderTimeline({ focus: { key, part: ['up', 'down', 'remove', 'toggle'].includes(movedPart) ? movedPart : 'toggle' } });
      syncDirty();
    }

    const inputs = { name, from_name: fromName, segment_id: segSel, goal: goalSel };
    [name, fromName].forEach((el) => el.addEventListener('input', () => { clearFieldError(el); syncDirty(); }));

    const req = h('span', { class: 'req', 'aria-hidden': 'true' }, ' *');
    const form = h('form', { class: 'cp-editor sq-editor', novalidate: true, 'aria-labelledby': `${p}-h`, dataset: { testid: 'sequence-form', sequenceId: s.id || null } },
      h('div', { class: 'cp-editor-main cp-stack' },
        box,
        h('section', { class: 'card', 'aria-labelledby': `${p}-d-h` },
          h('h2', { class: 'seg-card-title', id: `${p}-d-h` }, 'Details'),
          h('div', { class: 'field-grid' },
            h('div', { class: 'field field-half', dataset: { field: 'name' } }, h('label', { for: name.id }, 'Name', req), name),
            h('div', { class: 'field field-half', dataset: { field: 'from_name' } }, h('label', { for: fromName.id }, 'From name'), fromName,
              h('p', { class: 'field-hint muted' }, 'Shown as the sender, with the workspace’s address.')))),
        h('section', { class: 'card', 'aria-labelledby': `${p}-a-h` },
          h('h2', { class: 'seg-card-title', id: `${p}-a-h` }, 'Who enters'),
          h('div', { class: 'field', dataset: { field: 'segment_id' } }, h('label', { for: segSel.id }, 'Members of', req), segSel, segCount),
          h('p', { class: 'muted cp-card-foot' }, 'Everyone in it when you activate enters at once; people who join later enter within a few minutes. Each contact goes through once. ',
            h('a', { href: '/campaigns/segments/new' }, 'New segment'), ' · ', h('a', { href: '/campaigns/segments/new?kind=static' }, 'New list'))),
        h('section', { class: 'card sq-goal-card', 'aria-labelledby': `${p}-g-h` },
          h('h2', { class: 'seg-card-title', id: `${p}-g-h` }, sicon('target', { size: 15 }), 'Goal'),
          h('div', { class: 'field', dataset: { field: 'goal' } }, h('label', { for: goalSel.id }, 'Contacts who reach the goal have converted and leave'), goalSel, goalText),
          goalError, builderWrap),
        h('section', { class: 'card sq-steps-card', 'aria-labelledby': `${p}-st-h` },
          h('div', { class: 'cp-card-head sq-steps-head' },
            h('h2', { class: 'seg-card-title', id: `${p}-st-h` }, sicon('drip', { size: 15 }), 'Steps'),
            lengthNote),
          h('p', { class: 'muted seg-card-lead sq-steps-lead' }, 'Each email waits its time after the one before; merge fields work in every part. ',
            s.status === 'active' ? h('strong', null, 'People already in it get your changes from their next step on.') : null),
          stepsError, timeline,
          addBtn ? h('div', { class: 'sq-add-row' }, addBtn, h('span', { class: 'muted sq-add-hint' }, 'Alt+↑/↓ moves the step you are in.')) : null)),
      side);
    form.addEventListener('submit', (e) => { e.preventDefault(); save(); });

    renderTimeline();

    function currentBody() {
      const { goal } = readGoal();
      return {
        name: name.value.trim(),
        segment_id: segSel.value || '',
        goal: goal || null,
        from_name: fromName.value.trim(),
        steps: stepsBody(),
      };
    }
    const syncDirty = trackDirty(state, dirtyNote, currentBody);
    syncDirty();

    /** 422 → the fields (steps[i].x at their step, opening the first with content errors). */
    function showErrors(err) {
      Object.values(inputs).forEach((el) => clearFieldError(el));
      box.hidden = true;
      stepsError.hidden = true;
      goalError.hidden = true;
      state.stepErrors = new Map();
      let first = null;
      let firstStepKey = null;
      const rest = [];
      for (const e of err.errors || []) {
        const m = /^steps\[(\d+)\]\.(\w+)$/.exec(e.field || '');
        if (m) {
          const st = state.steps[Number(m[1])];
          if (!st) { rest.push(`Step ${Number(m[1]) + 1}: ${e.message}`); continue; }
          const cur = state.stepErrors.get(st.key) || {};
          cur[m[2]] = e.message;
          state.stepErrors.set(st.key, cur);
          if (m[2] !== 'delay_minutes' && !firstStepKey) firstStepKey = st.key;
          continue;
        }
        if (e.field === 'steps' || e.field === 'step') {
          stepsError.hidden = false;
          mount(stepsError, icon('alert'), h('div', null, h('strong', null, 'Steps: '), e.message));
          first ||= addBtn || stepsError;
        } else if (e.field === 'goal') {
          if (goalSel.value === 'custom') {
            goalError.hidden = false;
            mount(goalError, icon('alert'), h('div', null, h('strong', null, 'The server refused the goal.'), ' ', e.message));
          } else setFieldError(goalSel, e.message, { testid: 'error-goal' });
          first ||= goalSel;
        } else if (inputs[e.field]) {
          setFieldError(inputs[e.field], e.message, { testid: `error-${e.field}` });
          first ||= inputs[e.field];
        } else rest.push(`${e.field ? `${e.field}: ` : ''}${e.message}`);
      }
      if (state.stepErrors.size) {
        readOpen();
        if (firstStepKey && firstStepKey !== state.openKey) state.openKey = firstStepKey;
        renderTimeline();
        if (!first) {
          const key = firstStepKey || [...state.stepErrors.keys()][0];
          const li = timeline.querySelector(`[data-key="${key}"][data-testid=sequence-step]`);
          first = li?.querySelector('[aria-invalid=true]') || li?.__days || null;
        }
      }
      if (rest.length || !first) showProblemsInBox(box, err, rest, 'Please check the sequence');
      showTab('steps');
      const target = first || box;
      target.focus?.();
      target.scrollIntoView?.({ block: 'center' });
    }

    /** Checks what the browser can; → an error list like the server's. */
    function localProblems(body) {
      const errors = [];
      if (!body.name) errors.push({ field: 'name', message: 'give the sequence a name' });
      state.steps.forEach((st, i) => {
        const li = timeline.querySelector(`[data-key="${st.key}"][data-testid=sequence-step]`);
        const d = Number(li?.querySelector('[name=delay_days]')?.value ?? 0);
        const hh = Number(li?.querySelector('[name=delay_hours]')?.value ?? 0);
        if (!Number.isInteger(d) || !Number.isInteger(hh) || d < 0 || hh < 0 || hh > 23 || st.delay_minutes > qapi.MAX_DELAY_MINUTES) {
          errors.push({ field: `steps[${i}].delay_minutes`, message: 'wait whole days (0 to 90) and hours (0 to 23)' });
        }
      });
      return errors;
    }

    /** Saves; → true when it is saved (or nothing changed). */
    async function save({ quiet = false } = {}) {
      if (state.saving || !editable) return false;
      const body = currentBody();
      const { problems } = readGoal();
      const local = localProblems(body);
      if (problems.length) {
        goalError.hidden = false;
        mount(goalError, icon('alert'), h('div', null, h('strong', null, 'Finish the goal’s rules first.'), ' ', problems[0].label ? `${problems[0].label}: ${problems[0].message}` : problems[0].message));
        state.builder?.showProblems(problems);
        if (!local.length) { showTab('steps'); return false; }
      }
      if (local.length) { showErrors({ errors: local, title: 'Please check the sequence' }); return false; }
      if (problems.length) return false;
      let patch;
      const before = state.sequence;
      if (state.creating) {
        patch = { name: body.name, steps: body.steps };
        if (body.segment_id) patch.segment_id = body.segment_id;
        if (body.goal) patch.goal = body.goal;
        if (body.from_name) patch.from_name = body.from_name;
      } else {
        patch = {};
        if (body.name !== (before.name || '')) patch.name = body.name;
        if (body.segment_id !== (before.segment_id || '')) patch.segment_id = body.segment_id;
        if (body.from_name !== (before.from_name || '')) patch.from_name = body.from_name;
        if (JSON.stringify(body.goal) !== JSON.stringify(before.goal || null)) patch.goal = body.goal;
        const beforeSteps = (before.steps || []).map((st) => ({ delay_minutes: st.delay_minutes, subject: st.subject || '', html: st.html || '', text: st.text || '' }));
        if (JSON.stringify(body.steps) !== JSON.stringify(beforeSteps)) patch.steps = body.steps;
        if (!Object.keys(patch).length) { if (!quiet) toast('Nothing changed.', { title: 'Saved', timeout: 2000 }); return true; }
      }
      try {
        return await saveRecord({
          state, what: 'sequence', form, button: root.querySelector('[data-testid="sequence-save"]'),
          send: () => (state.creating ? qapi.createSequence(patch) : qapi.updateSequence(before.id, patch, state.version)),
          href: (saved) => `${sequenceHref(saved.id)}?tab=steps`,
          saved: (res, wasNew) => {
            if (wasNew) {
              state.tab = 'steps';
              if (!quiet) toast(`“${res.sequence.name}” is saved as a draft. Activate it when it is ready.`, { kind: 'success', title: 'Sequence created' });
              resetSteps(res.sequence.steps);
              render();
              root.querySelector('[data-testid="sequence-save"]')?.focus({ preventScroll: true });
              return;
            }
            // The server fills in plain text left empty: show it.
            (res.sequence.steps || []).forEach((st, i) => {
              const mine = state.steps[i];
              if (mine && !mine.text.trim() && st.text) {
                mine.text = st.text;
                if (mine.key === state.openKey && state.editor) state.editor.inputs.text.value = st.text;
              }
            });
            state.stepErrors = new Map();
            timeline.querySelectorAll('.sq-step-issue').forEach((x) => x.remove());
            timeline.querySelectorAll('.sq-step.is-invalid').forEach((x) => x.classList.remove('is-invalid'));
            state.baseline = JSON.stringify(currentBody());
            syncDirty();
            root.querySelector('[data-testid="sequence-title"]').textContent = res.sequence.name;
            const sub = root.querySelector('[data-testid="sequence-sub"] > span:not([data-testid])');
            if (sub) mount(sub, subText(res.sequence));
            pageTitle(res.sequence.name, 'Sequences');
            if (!quiet) toast(res.sequence.status === 'active' ? 'Your changes are saved; people in the sequence get them from their next step.' : 'Your changes are saved.', { kind: 'success', title: 'Saved' });
          },
        });
      } catch (err) {
        return saveFailed(err, { state, what: 'sequence', reload, showErrors });
      }
    }

    state.save = save;
    state.showErrors = showErrors;
    return form;
  }

  // --- Enrolments & results --------------------------------------------------------------------------
  function resultsPanel(s) {
    const tiles = h('div', { class: 'report-tiles sq-tiles', 'aria-busy': 'true' },
      Array.from({ length: 4 }, () => h('div', { class: 'report-tile', 'aria-hidden': 'true' },
        h('span', { class: 'skeleton skeleton-text', style: { width: '50%' } }), h('span', { class: 'skeleton skeleton-text', style: { width: '40%', height: '22px', marginTop: '10px' } }))));
    const chartCard = h('section', { class: 'card report-card sq-chart-card', dataset: { testid: 'sequence-step-stats' } });
    const exitsCard = h('section', { class: 'card report-card sq-exits-card', dataset: { testid: 'sequence-exits' } });
    const stats = h('section', { class: 'sq-stats', 'aria-labelledby': `${p}-res-h`, dataset: { testid: 'sequence-stats' } },
      h('div', { class: 'sq-section-head' },
        h('h2', { class: 'cp-section-title', id: `${p}-res-h` }, cicon('chart', { size: 16 }), 'Results'),
        h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'sequence-refresh' }, onclick: () => loadResults({ quiet: true, announce: true }) },
          sicon('refresh', { size: 14 }), h('span', { class: 'btn-label' }, 'Refresh'))),
      tiles,
      h('div', { class: 'report-grid sq-report-grid' }, chartCard, exitsCard));

    const filterSwitch = h('div', { class: 'segmented sq-enrol-filter', role: 'group', 'aria-label': 'Show', dataset: { testid: 'enrolment-filter' } },
      ENROL_FILTERS.map(([v, label]) => h('button', {
        type: 'button', class: 'segmented-btn', 'aria-pressed': String(v === state.enrolFilter), dataset: { value: v, testid: `enrolment-filter-${v || 'all'}` },
        onclick: () => { state.enrolFilter = v; renderEnrolments(); },
      }, h('span', null, label), h('span', { class: 'sq-filter-count num' }))));
    const tbody = h('tbody');
    const cols = ['ecol-who', 'ecol-step', 'ecol-next', 'ecol-status', 'ecol-entered', 'ecol-actions'];
    const table = h('table', { class: 'data-table sq-enrol-table' },
      h('caption', { class: 'visually-hidden' }, 'Who is in the sequence, at which step, or why they left'),
      h('colgroup', null, cols.map((c) => h('col', { class: c }))),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', class: 'ecol-who' }, 'Contact'),
        h('th', { scope: 'col', class: 'ecol-step' }, 'Steps sent'),
        h('th', { scope: 'col', class: 'ecol-next' }, 'Next send'),
        h('th', { scope: 'col', class: 'ecol-status' }, 'Status'),
        h('th', { scope: 'col', class: 'ecol-entered' }, 'Entered'),
        h('th', { scope: 'col', class: 'ecol-actions' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      tbody);
    const tableWrap = h('div', { class: 'table-wrap cp-inner-table sq-enrol-wrap' }, table);
    const enrolEmpty = h('div', { class: 'sq-enrol-empty', hidden: true });
    const enrolNote = h('p', { class: 'muted sq-enrol-note', dataset: { testid: 'enrolments-note' } });
    const enrolCard = h('section', { class: 'card sq-enrol-card', 'aria-labelledby': `${p}-en-h`, dataset: { testid: 'sequence-enrolments' } },
      h('div', { class: 'cp-card-head sq-enrol-head' },
        h('h2', { class: 'seg-card-title', id: `${p}-en-h` }, icon('users', { size: 15 }), 'Enrolments'),
        filterSwitch),
      tableWrap, enrolEmpty, enrolNote);

    const el = h('div', { class: 'sq-results' }, stats, enrolCard);

    function tile(label, value, sub, testid, tone) {
      return h('div', { class: ['report-tile', 'cp-tile', tone && `cp-tile-${tone}`], dataset: { testid } },
        h('div', { class: 'tile-label' }, label),
        h('div', { class: 'tile-value num', dataset: { testid: `${testid}-value` } }, value),
        sub ? h('div', { class: 'tile-sub muted' }, sub) : null);
    }

    function renderStats() {
      const e = state.stats?.enrolments || state.sequence?.enrolments || {};
      const total = Number(e.total) || 0;
      const exits = Object.entries(e.exits || {}).filter(([, n]) => Number(n) > 0).sort((a, b) => b[1] - a[1]);
      const converted = Number(e.exits?.converted) || 0;
      tiles.setAttribute('aria-busy', 'false');
      mount(tiles,
        tile('Enrolled', nf.format(total), total ? 'since it started' : 'nobody yet', 'stat-enrolled'),
        tile('In progress', nf.format(e.active || 0), e.active ? 'waiting for their next step' : '—', 'stat-active'),
        tile('Completed', nf.format(e.completed || 0), total ? `${pct((e.completed || 0) / total)} got every step` : '—', 'stat-completed', e.completed ? 'good' : null),
        tile('Exited', nf.format(e.exited || 0), converted ? `${nf.format(converted)} reached the goal` : total ? `${pct((e.exited || 0) / total)} left early` : '—', 'stat-exited'));

      // Exits by reason
      const exited = Number(e.exited) || 0;
      mount(exitsCard,
        h('h3', { class: 'chart-title cp-card-h' }, sicon('target', { size: 15 }), 'Why people left'),
        exits.length ? h('ul', { class: 'sq-exit-list', dataset: { testid: 'sequence-exit-reasons' } }, exits.map(([reason, n]) => h('li', { class: 'sq-exit', dataset: { reason, count: String(n) } },
          h('div', { class: 'sq-exit-line' }, h('span', { class: 'sq-exit-label' }, exitLabel(reason)), h('span', { class: 'num sq-exit-n' }, nf.format(n), h('span', { class: 'muted' }, ` · ${pct(n / (exited || 1), { digits: 0 })}`))),
          h('span', { class: ['sq-exit-bar', `sq-exit-bar-${reason}`], 'aria-hidden': 'true' }, h('span', { style: { width: `${Math.max(2, (n / (exited || 1)) * 100).toFixed(1)}%` } })))))
          : h('p', { class: 'chart-empty muted' }, total ? 'Nobody has left early.' : 'Nobody has entered yet.'),
        h('p', { class: 'muted cp-chart-note' }, 'People leave when they reach the goal, reply, unsubscribe, get suppressed or are taken out.'));

      // Per step: sent, opened, clicked
      chartCard.__fig?.__disconnect?.();
      const steps = state.sequence?.steps || [];
      const byStep = new Map((state.stats?.steps || []).map((x) => [Number(x.step), x]));
      const n = Math.max(steps.length, ...[...byStep.keys()].map((k) => k + 1), 0);
      const rows = Array.from({ length: n }, (_, i) => {
        const x = byStep.get(i) || {};
        return {
          label: `Step ${i + 1}`, title: i < steps.length ? stepTitle(steps, i) : `Step ${i + 1} (removed since)`,
          sent: Number(x.sent) || 0, delivered: Number(x.delivered) || 0, opened: Number(x.opened) || 0, clicked: Number(x.clicked) || 0,
        };
      });
      const anySent = rows.some((r) => r.sent);
      const fig = chartFigure({
        title: 'Sent, opened and clicked per step',
        desc: rows.map((r) => `${r.title}: ${r.sent} sent, ${r.opened} opened, ${r.clicked} clicked`).join('; '),
        testid: 'sequence-step-chart',
        legend: [{ label: 'Sent', cls: 'chart-s1' }, { label: 'Opened', cls: 'chart-s2' }, { label: 'Clicked', cls: 'chart-s3' }],
        empty: anySent ? null : (n ? 'Nothing sent yet. Each step’s numbers appear here as it goes out.' : 'No steps yet.'),
        draw: columnChart({
          categories: rows.map((r) => r.label),
          series: [
            { label: 'Sent', cls: 'chart-s1', values: rows.map((r) => r.sent) },
            { label: 'Opened', cls: 'chart-s2', values: rows.map((r) => r.opened) },
            { label: 'Clicked', cls: 'chart-s3', values: rows.map((r) => r.clicked) },
          ],
          format: (v) => nf.format(v), axis: (v) => nf.format(v), height: 200,
        }),
        table: () => dataTableOf('Sent, opened and clicked per step', [['Step'], ['Sent', 'end'], ['Opened', 'end'], ['Clicked', 'end'], ['Open rate', 'end']],
          rows.map((r) => [r.title, nf.format(r.sent), nf.format(r.opened), nf.format(r.clicked), r.delivered ? pct(r.opened / r.delivered) : '—'])),
      });
      chartCard.__fig = fig;
      mount(chartCard, fig, h('ol', { class: 'sq-step-legend muted', dataset: { testid: 'sequence-step-legend' } },
        rows.map((r) => h('li', { dataset: { step: r.label } }, h('strong', null, r.label), ` · ${r.title}`,
          r.sent ? h('span', { class: 'num' }, ` — ${nf.format(r.sent)} sent${r.delivered ? `, ${pct(r.opened / r.delivered, { digits: 0 })} opened, ${pct(r.clicked / r.delivered, { digits: 0 })} clicked` : ''}`) : null))));
    }

    function nextCell(e) {
      if (e.status !== 'active') return h('span', { class: 'muted' }, e.status === 'completed' ? 'Done' : '—');
      if (!e.next_at) return h('span', { class: 'muted' }, '—');
      const paused = state.sequence?.status !== 'active';
      const d = new Date(e.next_at);
      const overdue = d.getTime() <= Date.now();
      return h('span', { class: 'sq-next', title: `${formatInZone(d, browserZone())}\n${formatInZone(d, 'UTC', { weekday: false })}` },
        h('time', { datetime: d.toISOString(), dataset: { testid: 'enrolment-next' } }, paused ? 'Paused' : overdue ? 'Due now' : relative(e.next_at)),
        h('span', { class: 'cell-sub sq-next-sub' }, shortTime(d)));
    }

    function progressCell(e) {
      const total = Math.max((state.sequence?.steps || []).length, Number(e.step) || 0);
      const sent = Math.min(Number(e.step) || 0, total);
      return h('span', { class: 'sq-progress', title: `${sent} of ${total} steps sent` },
        h('span', { class: 'sq-progress-text num', dataset: { testid: 'enrolment-step' } }, `${nf.format(sent)} of ${nf.format(total)}`),
        total <= 12 ? h('span', { class: 'sq-pips', 'aria-hidden': 'true' }, Array.from({ length: total }, (_, i) => h('span', { class: ['sq-pip', i < sent && 'is-done'] }))) : null);
    }

    function row(e) {
      const nm = personName(e);
      const canTakeOut = writer() && e.status === 'active';
      return h('tr', {
        dataset: {
          testid: 'enrolment-row', contactId: e.contact_id, status: e.status, step: String(e.step ?? 0), reason: e.exit_reason || null,
        },
      },
      h('td', { class: 'ecol-who' },
        h('a', { href: `/contacts/${encodeURIComponent(e.contact_id)}`, class: 'row-link sq-who', dataset: { testid: 'enrolment-contact' } }, nm || e.email || 'Unnamed contact'),
        h('span', { class: 'cell-sub sq-who-sub' }, nm ? (e.email || '') : ''),
        h('span', { class: 'sq-who-status' }, enrolmentBadge(e))),
      h('td', { class: 'ecol-step' }, progressCell(e)),
      h('td', { class: 'ecol-next' }, nextCell(e)),
      h('td', { class: 'ecol-status' }, enrolmentBadge(e)),
      h('td', { class: 'ecol-entered' }, timeEl(e.entered_at)),
      h('td', { class: 'ecol-actions' }, canTakeOut ? h('button', {
        type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'enrolment-take-out' },
        'aria-label': `Take ${nm || e.email || 'this contact'} out of the sequence`, onclick: () => takeOut(e),
      }, icon('logOut', { size: 14 }), h('span', { class: 'btn-label' }, 'Take out')) : null));
    }

    function renderEnrolments() {
      const all = state.enrolments;
      const counts = { '': all.length, active: 0, completed: 0, exited: 0 };
      all.forEach((e) => { if (counts[e.status] != null) counts[e.status] += 1; });
      filterSwitch.querySelectorAll('button').forEach((b) => {
        b.setAttribute('aria-pressed', String(b.dataset.value === state.enrolFilter));
        b.querySelector('.sq-filter-count').textContent = nf.format(counts[b.dataset.value] || 0);
      });
      const shown = all.filter((e) => !state.enrolFilter || e.status === state.enrolFilter);
      mount(tbody, shown.map(row));
      tableWrap.hidden = !shown.length;
      enrolEmpty.hidden = !!shown.length;
      if (!shown.length) {
        const s2 = state.sequence;
        mount(enrolEmpty, all.length
          ? h('p', { class: 'muted sq-empty-line' }, `Nobody here is ${ENROL_FILTERS.find(([v]) => v === state.enrolFilter)?.[1].toLowerCase()}.`)
          : emptyState({
            testid: 'enrolments-empty', iconName: 'users', title: 'Nobody has entered yet',
            text: s2?.status === 'active' ? 'Members of the segment enter within a few minutes of joining it.'
              : 'When you activate the sequence, everyone in its segment enters at once.',
          }));
      }
      enrolNote.textContent = all.length >= 500 ? 'The newest 500 are shown.' : all.length ? 'Newest first. Someone taken out does not enter this sequence again.' : '';
      if (state.enrolCount) state.enrolCount.textContent = nf.format(state.stats?.enrolments?.total ?? all.length);
    }

    function takeOut(e) {
      const nm = personName(e) || e.email || 'this contact';
      const s2 = state.sequence;
      confirmDialog({
        title: `Take ${nm} out of “${s2.name}”?`,
        text: 'No more of its steps go to them, and they do not enter this sequence again, even while they stay in its segment. Mail already sent is not affected.',
        confirmLabel: 'Take out', workingLabel: 'Taking out…', testid: 'confirm-take-out',
        run: async () => {
          await qapi.removeEnrolment(s2.id, e.contact_id);
          if (state.destroyed) return;
          Object.assign(e, { status: 'exited', exit_reason: 'removed', next_at: null });
          toast(`${nm} is out of the sequence.`, { kind: 'success', title: 'Taken out' });
          renderEnrolments();
          loadResults({ quiet: true });
        },
      });
    }

    function showError(err) {
      tiles.setAttribute('aria-busy', 'false');
      mount(tiles, h('div', { class: 'inline-error sq-results-error', role: 'alert', dataset: { testid: 'sequence-results-error' } }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not load the results'), ' ', err.detail || err.message),
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => loadResults() }, 'Retry')));
    }

    return { el, renderStats, renderEnrolments, showError, setLoading: (on) => { el.classList.toggle('is-refreshing', on); el.setAttribute('aria-busy', String(on)); } };
  }

  async function loadResults({ quiet = false, announce = false } = {}) {
    const s = state.sequence;
    const panel = state.results;
    if (!s || !panel || state.destroyed) return;
    clearTimeout(state.pollTimer);
    state.resultsController?.abort();
    const c = new AbortController();
    state.resultsController = c;
    if (!quiet) panel.setLoading(true);
    try {
      const [stats, enrolments] = await Promise.all([
        qapi.sequenceStats(s.id, { signal: c.signal }),
        qapi.listEnrolments(s.id, { signal: c.signal }),
      ]);
      if (state.destroyed || c.signal.aborted || panel !== state.results) return;
      state.stats = stats;
      state.enrolments = enrolments;
      if (state.sequence) state.sequence.enrolments = stats.enrolments;
      panel.renderStats();
      panel.renderEnrolments();
      if (announce) toast('The numbers are up to date.', { timeout: 1800, title: 'Refreshed' });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed || c.signal.aborted) return;
      if (!quiet) panel.showError(err);
    } finally {
      if (!c.signal.aborted) panel.setLoading(false);
    }
    schedulePoll();
  }

  function schedulePoll() {
    clearTimeout(state.pollTimer);
    if (state.destroyed || state.sequence?.status !== 'active' || state.tab !== 'enrolments') return;
    state.pollTimer = setTimeout(() => {
      if (document.visibilityState === 'visible' && !document.querySelector('dialog[open]')) loadResults({ quiet: true });
      else schedulePoll();
    }, POLL_MS);
  }

  // --- actions ------------------------------------------------------------------------------------------
  /** Saves a new or changed sequence, then checks it can start. → the sequence or null. */
  async function readyToActivate() {
    if (!(await saveIfDirty())) return null;
    const s = state.sequence;
    if (!s) return null;
    const errors = [];
    if (!s.segment_id) errors.push({ field: 'segment_id', message: 'choose who enters the sequence first' });
    if (!(s.steps || []).length) errors.push({ field: 'steps', message: 'add at least one step' });
    if (errors.length) {
      if (state.showErrors) state.showErrors({ errors, title: 'Not ready to start' });
      else toast(errors.map((e) => e.message).join('; '), { kind: 'error', title: 'Not ready to start' });
      return null;
    }
    return s;
  }

  function statusDialog({ kind, s }) {
    const resume = kind === 'activate' && s.status === 'paused';
    const seg = segmentOf(s.segment_id);
    const box = errorBox(`${kind}-error`);
    const countText = h('strong', { class: 'num', dataset: { testid: `${kind}-count` } }, spinner('Counting…'));
    const idle = kind === 'pause' ? 'Pause sequence' : resume ? 'Resume' : 'Activate';
    const working = kind === 'pause' ? 'Pausing…' : resume ? 'Resuming…' : 'Activating…';
    const confirm = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: `confirm-${kind}` } }, idle);
    const steps = s.steps || [];
    const first = steps[0];
    const active = Number(s.enrolments?.active) || 0;
    let lines;
    if (kind === 'pause') {
      lines = [
        h('p', null, countText, ' in ', h('strong', null, seg?.name || 'its segment'), ' now. While it is paused nobody new enters and no step goes out.'),
        h('p', { class: 'muted' }, active ? `${plural(active, 'contact is', 'contacts are')} partway through; they continue where they left off when you resume it.` : 'Nobody is partway through it.'),
      ];
    } else {
      const when = first && first.delay_minutes ? `${delayText(first.delay_minutes)} after they enter` : 'right away';
      lines = [
        h('p', null, countText, ' in ', h('strong', null, seg?.name || 'its segment'), resume ? ' now. Those who have not been in it enter; ' : ' now. They enter at once; ',
          'the first step, ', h('strong', null, `“${readableSubject(first?.subject) || 'Step 1'}”`), `, goes to each ${when}.`),
        resume && active ? h('p', { class: 'muted' }, `${plural(active, 'contact is', 'contacts are')} partway through and continue where they left off; steps that fell due while paused go out now.`) : null,
        h('p', { class: 'muted' }, `${lengthText(steps)}. People who join the segment later enter within a few minutes; each contact goes through once.`),
        h('p', { class: 'muted form-hint' }, 'Anyone whose email consent is withdrawn, or whose address is suppressed, leaves instead of getting mail.'),
      ];
    }
    const form = h('form', { class: 'dialog-form', method: 'dialog' },
      h('header', { class: 'dialog-header' },
        h('h2', { id: `${p}-${kind}-title` }, kind === 'pause' ? `Pause “${s.name}”?` : resume ? `Resume “${s.name}”?` : `Activate “${s.name}”?`),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
      h('div', { class: 'dialog-body' }, box,
        h('div', { class: 'cp-send-summary' },
          h('span', { class: 'cp-send-icon', 'aria-hidden': 'true' }, sicon(kind === 'pause' ? 'pause' : 'play', { size: 20 })),
          h('div', { class: 'sq-dialog-lines' }, lines))),
      h('footer', { class: 'dialog-footer' },
        h('button', { type: 'button', class: 'btn', autofocus: true, dataset: { testid: 'confirm-cancel' }, onclick: () => dialog.close('cancel') }, 'Cancel'),
        confirm));
    const dialog = h('dialog', { class: 'dialog confirm-dialog', role: 'alertdialog', 'aria-labelledby': `${p}-${kind}-title`, dataset: { testid: `${kind}-dialog` } }, form);
    let running = false;
    countOf(s.segment_id, { fresh: true }).then((n) => {
      if (!dialog.isConnected) return;
      mount(countText, plural(n, kind === 'pause' ? 'contact is' : 'contact', kind === 'pause' ? 'contacts are' : 'contacts'));
      countText.dataset.count = String(n);
      if (!running && kind === 'activate') confirm.textContent = `${resume ? 'Resume' : 'Activate'} for ${plural(n, 'contact')}`;
    }, () => { if (dialog.isConnected) mount(countText, 'Everyone'); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (running) return;
      running = true;
      state.busy = true;
      const label = confirm.textContent;
      busy(confirm, true, { idle: label, working });
      try {
        const res = kind === 'pause' ? await qapi.pauseSequence(s.id, state.version) : await qapi.activateSequence(s.id, state.version);
        state.busy = false;
        dialog.close('done');
        if (state.destroyed) return;
        state.sequence = res.sequence;
        state.version = res.version;
        resetSteps(res.sequence.steps);
        const en = res.sequence.enrolments || {};
        if (kind === 'pause') toast('Nobody enters and no step goes out until you resume it.', { title: 'Paused' });
        else {
          toast(`${plural(Number(en.total) || 0, 'contact')} ${Number(en.total) === 1 ? 'is' : 'are'} in it; steps go out on their own from now on.`, { kind: 'success', title: resume ? 'Resumed' : 'Active' });
          state.tab = 'enrolments';
          updateUrl(`${sequenceHref(res.sequence.id)}?tab=enrolments`);
        }
        render();
      } catch (err) {
        state.busy = false;
        running = false;
        busy(confirm, false, { idle: label, working });
        box.hidden = false;
        mount(box, icon('alert'), h('div', null, h('strong', null, err.title || (kind === 'pause' ? 'Could not pause' : 'Could not activate')), ' ',
          err.errors?.length ? err.errors.map((x) => `${x.field}: ${x.message}`).join('. ') : (err.detail || err.message)));
        if (err.status === 409 || err.status === 412) reload();
      }
    });
    openModal(dialog);
    return dialog;
  }

  /** The saved steps, keeping the same step open. */
  function resetSteps(steps) {
    const open = state.steps.findIndex((st) => st.key === state.openKey);
    loadSteps(steps);
    state.openKey = open >= 0 ? state.steps[Math.min(open, state.steps.length - 1)]?.key || null : null;
  }

  /** Saves unsaved changes first; → true when there is nothing unsaved left. */
  async function saveIfDirty() {
    if (state.save && (state.creating || state.dirty)) return state.save({ quiet: true });
    return true;
  }

  async function activateFlow() {
    const s = await readyToActivate();
    if (!s || state.destroyed) return;
    statusDialog({ kind: 'activate', s });
  }

  async function pauseFlow() {
    if (!(await saveIfDirty()) || state.destroyed) return;
    const s = state.sequence;
    if (!s) return;
    statusDialog({ kind: 'pause', s });
  }

  function remove() {
    const s = state.sequence;
    const active = Number(s.enrolments?.active) || 0;
    confirmDelete({
      state, what: 'sequence', name: s.name, testid: 'sequence-confirm-delete', listHref: '/campaigns/sequences',
      text: `${active ? `${plural(active, 'contact')} still in it ${active === 1 ? 'leaves' : 'leave'}; no more steps go out. ` : ''}Mail already sent is not affected. This cannot be undone.`,
      send: () => qapi.deleteSequence(s.id),
    });
  }

  function reload() {
    return reloadRecord({
      state, what: 'sequence', fetch: () => qapi.getSequence(state.sequence.id, { signal: controller.signal }),
      after: (sequence) => loadSteps(sequence.steps), render,
    });
  }

  // --- start ---------------------------------------------------------------------------------------------
  async function start() {
    mount(root, back(), loadingCard());
    const signal = controller.signal;
    const soft = (pr, fallback) => pr.catch((err) => { if (err?.name === 'AbortError') throw err; return fallback; });
    try {
      const [one, segments, ctx] = await Promise.all([
        id ? qapi.getSequence(id, { signal }) : null,
        soft(sapi.listSegments({ signal }), []),
        soft(loadRuleContext({ signal }), null),
        session.whenLoaded(),
      ]);
      if (state.destroyed) return;
      state.segments = segments;
      state.ctx = ctx;
      if (id) {
        state.sequence = one.sequence;
        state.version = one.version;
        loadSteps(one.sequence.steps);
      } else {
        const draft = draftDefaults();
        const seg = segments.find((x) => x.id === query.get('segment'));
        if (seg) draft.segment_id = seg.id;
        state.draft = draft;
        loadSteps(draft.steps);
      }
      render();
      const first = state.creating && writer() ? root.querySelector('[data-testid="sequence-name"]') : root.querySelector('h1');
      first?.focus({ preventScroll: !state.creating });
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      loadFailed(root, back(), err, { what: 'sequence', listHref: '/campaigns/sequences', retry: start });
    }
  }

  const stopListening = editorListeners(state);
  const onVisible = debounce(() => { if (document.visibilityState === 'visible' && state.tab === 'enrolments' && state.sequence?.status === 'active') loadResults({ quiet: true }); }, 300);
  document.addEventListener('visibilitychange', onVisible);

  start();
  return {
    kind: 'sequence-page',
    destroy() {
      state.destroyed = true;
      controller.abort();
      state.resultsController?.abort();
      clearTimeout(state.pollTimer);
      onVisible.cancel();
      state.editor?.destroy();
      document.removeEventListener('visibilitychange', onVisible);
      stopListening();
    },
  };
}
