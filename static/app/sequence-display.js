// Campaigns › Sequences: pieces the list and the sequence page share: links,
// the status badge, delays in words ("Day 0", "+2 days", "+1 day 4 h"),
// exit reasons, a few icons, and the ready-made goals.

import { h, icon } from './ui.js';
import { nf } from './campaign-display.js';

const PATHS = {
  // A vertical timeline: three dots joined by a line, with a bar beside each.
  drip: 'M6 3.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 1 0 0-3M6 10.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 1 0 0-3M6 17.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 1 0 0-3M6 6.5v4M6 13.5v4M10.5 5H20M10.5 12H20M10.5 19h6',
  play: 'M7 4.5v15l12-7.5z',
  pause: 'M8 5v14M16 5v14',
  arrowUp: 'M12 19V5M6 11l6-6 6 6',
  arrowDown: 'M12 5v14M6 13l6 6 6-6',
  target: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8M12 12h.01',
  refresh: 'M20 11a8 8 0 0 0-14.5-4.5L3 9M3 4v5h5M4 13a8 8 0 0 0 14.5 4.5L21 15M21 20v-5h-5',
};

/** ui.icon plus the sequence shapes above. */
export function sicon(name, opts = {}) {
  const el = icon(PATHS[name] ? 'plus' : name, opts);
  if (PATHS[name]) el.querySelector('path').setAttribute('d', PATHS[name]);
  return el;
}

export function sequenceHref(id) { return `/campaigns/sequences/${encodeURIComponent(id)}`; }

// ---------------------------------------------------------------------------
// Status

const STATUS = {
  draft: { label: 'Draft', iconName: 'pencil' },
  active: { label: 'Active', iconName: 'play' },
  paused: { label: 'Paused', iconName: 'pause' },
};

export function sequenceStatusLabel(status) { return STATUS[status]?.label || String(status || '—'); }

export function sequenceStatusBadge(status, testid = 'sequence-status') {
  const s = STATUS[status] || { label: sequenceStatusLabel(status), iconName: 'clock' };
  return h('span', { class: ['cp-status', 'sq-status', `sq-status-${status}`], dataset: { testid, status } }, sicon(s.iconName, { size: 12 }), s.label);
}

// ---------------------------------------------------------------------------
// Enrolments

export const EXIT_LABELS = {
  converted: 'Reached the goal',
  replied: 'Replied',
  unsubscribed: 'Unsubscribed',
  suppressed: 'Address suppressed',
  removed: 'Taken out',
  no_email: 'No email address',
};

export function exitLabel(reason) { return EXIT_LABELS[reason] || (reason ? String(reason).replace(/_/g, ' ') : 'Left'); }

/** "Active", "Completed", "Exited · Taken out" as a small badge. */
export function enrolmentBadge(e) {
  const label = e.status === 'active' ? 'In progress' : e.status === 'completed' ? 'Completed' : 'Exited';
  return h('span', { class: ['sq-enrol-status', `sq-enrol-${e.status}`, e.exit_reason && `sq-exit-${e.exit_reason}`], dataset: { testid: 'enrolment-status', status: e.status, reason: e.exit_reason || null } },
    label, e.status === 'exited' && e.exit_reason ? h('span', { class: 'sq-enrol-reason' }, `· ${exitLabel(e.exit_reason)}`) : null);
}

// ---------------------------------------------------------------------------
// Delays

const DAY = 1440;

/** Minutes → {days, hours, minutes} (minutes: what whole hours leave over). */
export function splitDelay(total) {
  const t = Math.max(0, Math.round(Number(total) || 0));
  return { days: Math.floor(t / DAY), hours: Math.floor((t % DAY) / 60), minutes: t % 60 };
}

/** 2880 → "2 days", 1680 → "1 day 4 h", 90 → "1 h 30 min", 0 → "no wait". */
export function delayText(total) {
  const { days, hours, minutes } = splitDelay(total);
  const parts = [];
  if (days) parts.push(`${nf.format(days)} ${days === 1 ? 'day' : 'days'}`);
  if (hours) parts.push(`${hours} h`);
  if (minutes) parts.push(`${minutes} min`);
  return parts.join(' ') || 'no wait';
}

/**
 * Where a step sits on the timeline: the first counts from enrolment ("Day 0",
 * "Day 3", "After 4 h"), the rest from the step before ("+2 days", "Right after").
 */
export function stepWhen(steps, i) {
  const d = Math.max(0, Number(steps[i]?.delay_minutes) || 0);
  if (i === 0) {
    if (d % DAY === 0) return `Day ${nf.format(d / DAY)}`;
    return `After ${delayText(d)}`;
  }
  return d ? `+${delayText(d)}` : 'Right after';
}

/** Minutes from enrolment to step i. */
export function stepOffset(steps, i) {
  let t = 0;
  for (let j = 0; j <= i && j < steps.length; j += 1) t += Math.max(0, Number(steps[j]?.delay_minutes) || 0);
  return t;
}

/** A subject as people read it: merge fields as ‹first name›. */
export function readableSubject(subject) {
  return String(subject || '').replace(/\{\{\s*([\w.]+)[^}]*\}\}/g, (_, key) => `‹${key.split('.').pop().replace(/_/g, ' ')}›`).trim();
}

/** "Day 0: Welcome" */
export function stepTitle(steps, i) {
  const subject = readableSubject(steps[i]?.subject);
  return `${stepWhen(steps, i)}: ${subject || `Step ${i + 1}`}`;
}

/** How long the whole sequence takes, in words ("9 days"). */
export function lengthText(steps) {
  if (!steps?.length) return 'No steps yet';
  const total = stepOffset(steps, steps.length - 1);
  return `${steps.length} ${steps.length === 1 ? 'step' : 'steps'} over ${total ? delayText(total) : 'one moment'}`;
}

// ---------------------------------------------------------------------------
// Goals

/** Ready-made goals; anything else is edited as rules. */
export const GOAL_PRESETS = [
  { key: 'customer', label: 'Becomes a customer', text: 'Their lifecycle stage is Customer', filter: { field: 'lifecycle_stage', op: 'eq', value: 'customer' } },
  { key: 'deal-won', label: 'Wins a deal', text: 'They have at least one won deal', filter: { field: 'deals.won_count', op: 'gt', value: 0 } },
  { key: 'ordered', label: 'Places an order', text: 'They have at least one order', filter: { field: 'orders.count', op: 'gt', value: 0 } },
];

/** The preset a goal is, or 'custom' (or 'none' without one). */
export function goalPreset(goal) {
  if (!goal) return 'none';
  const key = JSON.stringify(goal);
  return GOAL_PRESETS.find((p) => JSON.stringify(p.filter) === key)?.key || 'custom';
}
