// Automations › Rules: what the rules list, the rule builder and its run log
// share: the kinds of trigger, condition and action with their labels, the
// fields each kind of record offers (custom fields and, for contacts, the
// customer value figures included), a rule's trigger and actions in words,
// run status badges, links to the records runs acted on, and the ready-made
// recipes of the new-rule page.

import { h, icon } from './ui.js';
import { cicon, relative } from './campaign-display.js';
import { fieldCatalog, STAGES, stageLabel, contactName, labelize, xicon } from './records.js';
import * as session from './session.js';

export const nf = new Intl.NumberFormat();

export function ruleHref(id, tab) {
  const base = `/automations/rules/${encodeURIComponent(id)}`;
  return tab && tab !== 'build' ? `${base}?tab=${tab}` : base;
}

// ---------------------------------------------------------------------------
// Triggers

export const TRIGGERS = [
  { value: 'record_created', label: 'A record is created', group: 'Records' },
  { value: 'record_updated', label: 'A record is updated', group: 'Records' },
  { value: 'deal_entered_stage', label: 'A deal enters a stage', group: 'Deals' },
  { value: 'deal_won', label: 'A deal is won', group: 'Deals' },
  { value: 'deal_lost', label: 'A deal is lost', group: 'Deals' },
  { value: 'ticket_created', label: 'A ticket comes in', group: 'Tickets' },
  { value: 'ticket_breached', label: 'A ticket misses its SLA', group: 'Tickets' },
  { value: 'form_submitted', label: 'A form is submitted', group: 'Forms' },
  { value: 'date', label: 'A date comes round (before or after it)', group: 'Dates' },
];

export const ENTITIES = [
  { value: 'contact', label: 'Contact', plural: 'contacts' },
  { value: 'company', label: 'Company', plural: 'companies' },
  { value: 'deal', label: 'Deal', plural: 'deals' },
  { value: 'ticket', label: 'Ticket', plural: 'tickets' },
  { value: 'order', label: 'Order', plural: 'orders' },
];

export function entityLabel(e) { return ENTITIES.find((x) => x.value === e)?.label || labelize(e); }

/** The kind of record a rule with this trigger acts on. */
export function triggerEntity(t = {}) {
  if (t.kind === 'record_created' || t.kind === 'record_updated') return t.entity || 'contact';
  if (t.kind?.startsWith('deal_')) return 'deal';
  if (t.kind?.startsWith('ticket_')) return 'ticket';
  return 'contact';
}

/** Date fields of contacts a date rule can count from (custom date fields first). */
export function dateFields(defs = []) {
  const cat = fieldCatalog('contact', defs);
  const custom = cat.filter((f) => f.custom && f.kind === 'date').map((f) => ({ key: f.key, label: f.label, group: 'Custom fields' }));
  const known = [
    { key: 'orders.last_at', label: 'Last order', group: 'Orders' },
    { key: 'orders.first_at', label: 'First order', group: 'Orders' },
    { key: 'last_activity_at', label: 'Last activity', group: 'Activity' },
    { key: 'deals.last_won_at', label: 'Last deal won', group: 'Deals' },
    { key: 'created_at', label: 'Created', group: 'Contact' },
  ];
  return [...custom, ...known];
}

function offsetWords(days, fieldLabel) {
  const n = Math.abs(Number(days) || 0);
  const d = `${nf.format(n)} ${n === 1 ? 'day' : 'days'}`;
  const of = `a contact’s ${fieldLabel.toLowerCase()}`;
  if (!n) return `on the day of ${of}`;
  return days < 0 ? `${d} before ${of}` : `${d} after ${of}`;
}

/** "a contact", "an order" */
function withArticle(word) { return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`; }

/**
 * A trigger in words: "When a contact is created", "30 days before a
 * contact's Renewal date (Europe/Berlin)". `ctx`: { stages: Map, forms: Map, defs }.
 */
export function triggerText(t = {}, ctx = {}) {
  const ent = entityLabel(t.entity || 'contact').toLowerCase();
  switch (t.kind) {
    case 'record_created': return `When ${withArticle(ent)} is created`;
    case 'record_updated': {
      const ch = (t.changed || []).map((f) => fieldLabel(t.entity || 'contact', f, ctx.defs)).join(', ');
      return `When ${withArticle(ent)} is updated${ch ? ` (${ch})` : ''}`;
    }
    case 'deal_entered_stage': {
      const st = ctx.stages?.get(t.stage_id);
      return `When a deal enters ${st ? `“${st.name}”` : 'a stage'}`;
    }
    case 'deal_won': return 'When a deal is won';
    case 'deal_lost': return 'When a deal is lost';
    case 'ticket_created': return 'When a ticket comes in';
    case 'ticket_breached': return 'When a ticket misses its SLA';
    case 'form_submitted': {
      if (!t.form_id) return 'When any form is submitted';
      const f = ctx.forms?.get(t.form_id);
      return `When “${f?.name || 'a form'}” is submitted`;
    }
    case 'date': {
      const f = dateFields(ctx.defs).find((x) => x.key === t.field);
      const label = f ? f.label : (t.field || 'date').replace(/^custom\./, '');
      const zone = t.time_zone && t.time_zone !== 'UTC' ? ` (${t.time_zone.replace(/_/g, ' ')})` : '';
      return `${offsetWords(t.offset_days, label)}${zone}`.replace(/^./, (c) => c.toUpperCase());
    }
    default: return labelize(t.kind || 'Unknown trigger');
  }
}

// ---------------------------------------------------------------------------
// Conditions

export const OPS = [
  { value: 'eq', label: 'is' },
  { value: 'neq', label: 'is not' },
  { value: 'contains', label: 'contains' },
  { value: 'gt', label: 'is more than' },
  { value: 'lt', label: 'is less than' },
  { value: 'empty', label: 'is empty' },
  { value: 'not_empty', label: 'is not empty' },
];
export function opTakesValue(op) { return op !== 'empty' && op !== 'not_empty'; }

/** Customer value figures a contact condition can test. */
const VALUE_FIELDS = [
  { key: 'value.at_risk', label: 'At risk', group: 'Customer value', options: ['true', 'false'] },
  { key: 'value.rfm', label: 'RFM score (111–555)', group: 'Customer value' },
  { key: 'value.r', label: 'Recency score (1–5)', group: 'Customer value' },
  { key: 'value.f', label: 'Frequency score (1–5)', group: 'Customer value' },
  { key: 'value.m', label: 'Monetary score (1–5)', group: 'Customer value' },
  { key: 'value.segment', label: 'Segment', group: 'Customer value', options: ['champions', 'loyal', 'new', 'potential', 'hibernating', 'at_risk'] },
  { key: 'value.orders', label: 'Orders', group: 'Customer value' },
  { key: 'value.clv', label: 'Lifetime value (minor units)', group: 'Customer value' },
  { key: 'value.projected_clv', label: 'Projected value, 3 years (minor units)', group: 'Customer value' },
  { key: 'value.silence_days', label: 'Days since the last order', group: 'Customer value' },
];

const OTHER_FIELDS = {
  deal: [
    ['title', 'Title'], ['value', 'Value (minor units)'], ['currency', 'Currency'], ['status', 'Status', ['open', 'won', 'lost']],
    ['stage_id', 'Stage (id)'], ['probability', 'Probability'], ['priority', 'Priority'], ['source', 'Source'], ['next_step', 'Next step'],
    ['tags', 'Tags'], ['owner_id', 'Owner (user id)'], ['lost_reason', 'Lost reason'], ['won_reason', 'Won reason'],
  ],
  ticket: [
    ['subject', 'Subject'], ['category', 'Category'], ['priority', 'Priority', ['low', 'normal', 'high', 'urgent']],
    ['status', 'Status', ['new', 'open', 'waiting', 'resolved', 'closed', 'reopened']], ['channel', 'Channel'], ['assignee_id', 'Assignee (user id)'],
  ],
  order: [
    ['number', 'Number'], ['status', 'Status', ['placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned']], ['total', 'Total (minor units)'],
    ['currency', 'Currency'], ['external_id', 'External ID'], ['order_number', 'The customer’s order number (1: their first)'],
  ],
};

/** Fields of a kind of record for conditions and "set a field": [{key, label, group, options?}] */
export function recordFields(entity, { contactDefs = [], companyDefs = [] } = {}) {
  if (entity === 'contact' || entity === 'company') {
    const cat = fieldCatalog(entity, entity === 'contact' ? contactDefs : companyDefs)
      .filter((f) => f.kind && !f.linked && !['created_at', 'updated_at', 'last_activity_at'].includes(f.key));
    const own = cat.map((f) => ({
      key: f.key, label: f.label, group: f.custom ? 'Custom fields' : (entity === 'contact' ? 'Contact' : 'Company'),
      options: f.key === 'lifecycle_stage' ? STAGES : (Array.isArray(f.options) && f.options.length ? f.options : null),
    }));
    return entity === 'contact' ? [...own, ...VALUE_FIELDS] : own;
  }
  return (OTHER_FIELDS[entity] || []).map(([key, label, options]) => ({ key, label, group: entityLabel(entity), options: options || null }));
}

export function fieldLabel(entity, key, defs) {
  const all = recordFields(entity, { contactDefs: defs || [], companyDefs: [] });
  return all.find((f) => f.key === key)?.label || String(key || '').replace(/^custom\./, '');
}

/** A typed value for the API from what was typed: true/false as booleans, numbers for gt/lt. */
export function parseValue(text, op) {
  const t = String(text ?? '').trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if ((op === 'gt' || op === 'lt') && t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

export function valueText(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

// ---------------------------------------------------------------------------
// Actions

export const ACTIONS = [
  { value: 'create_task', label: 'Create a task', iconName: 'task' },
  { value: 'add_tag', label: 'Add a tag', iconName: 'tag' },
  { value: 'update_field', label: 'Set a field', iconName: 'edit3' },
  { value: 'change_owner', label: 'Change the owner', iconName: 'user' },
  { value: 'send_email', label: 'Send an email (a template)', iconName: 'mail' },
  { value: 'enrol_in_sequence', label: 'Enrol in a sequence', iconName: 'send' },
];
export function actionLabel(kind) { return ACTIONS.find((a) => a.value === kind)?.label || labelize(kind); }

export function actionIcon(kind, size = 14) {
  const a = ACTIONS.find((x) => x.value === kind);
  if (!a) return icon('zap', { size });
  return a.iconName === 'send' ? cicon('send', { size }) : xicon(a.iconName, { size });
}

/** "Create a task, Add a tag" … shortened to fit a list row. */
export function actionsText(actions = []) {
  return actions.map((a) => actionLabel(a.kind).replace(/ \(a template\)$/, '')).join(' · ');
}

// ---------------------------------------------------------------------------
// Runs

const RUN_STATUS = {
  done: { label: 'Done', iconName: 'check' },
  skipped: { label: 'Skipped', iconName: 'skip' },
  failed: { label: 'Failed', iconName: 'alert' },
  pending: { label: 'Pending', iconName: 'clock' },
};

export function runStatusBadge(status, testid = 'run-status') {
  const s = RUN_STATUS[status] || { label: labelize(status), iconName: 'clock' };
  return h('span', { class: ['cp-status', `ru-run-${status}`], dataset: { testid, status } },
    s.iconName === 'skip' ? cicon('skip', { size: 12 }) : icon(s.iconName, { size: 12 }), s.label);
}

const RECORD_PATHS = { contact: 'contacts', company: 'companies', deal: 'deals', ticket: 'tickets', order: 'orders' };

/** The app page of a record a run acted on. */
export function recordPageHref(entity, id) {
  const p = RECORD_PATHS[entity];
  return p ? `/${p}/${encodeURIComponent(id)}` : null;
}

/** The API path to read it (for its name). */
export function recordApiPath(entity, id) {
  const p = RECORD_PATHS[entity];
  return p ? `/api/v1/${p}/${encodeURIComponent(id)}` : null;
}

/** A record's name as people know it. */
export function recordTitle(entity, r) {
  if (!r) return '';
  if (entity === 'contact') return contactName(r);
  if (entity === 'company') return r.name || '';
  if (entity === 'deal') return r.title || '';
  if (entity === 'ticket') return `#${r.number ?? ''} ${r.subject || ''}`.trim();
  if (entity === 'order') return `Order ${r.number || r.external_id || ''}`.trim();
  return '';
}

/** "just now", "5 min ago", "in 2 days" (clocks a few seconds apart read as now). */
export function ago(iso) {
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return '';
  return Math.abs(Date.now() - t) < 45_000 ? 'just now' : relative(iso);
}

/** What an action's result says, for people: ids and raw answers left out. */
export function resultDetail(kind, detail) {
  const d = String(detail ?? '').trim();
  if (!d) return '';
  if (kind === 'create_task' && /^task a_\w+$/.test(d)) return 'on the record’s timeline';
  if (/^[[{]/.test(d)) {
    try {
      const v = JSON.parse(d);
      return v?.status ? String(v.status).replace(/_/g, ' ') : 'sent';
    } catch { return d; }
  }
  return d;
}

// ---------------------------------------------------------------------------
// Enabled badge

export function ruleStateBadge(enabled, testid = 'rule-state') {
  return h('span', { class: ['cp-status', enabled ? 'fm-status-active' : 'fm-status-inactive'], dataset: { testid, enabled: String(!!enabled) } },
    enabled ? icon('check', { size: 12 }) : cicon('pause', { size: 12 }), enabled ? 'On' : 'Off');
}

// ---------------------------------------------------------------------------
// Recipes: ready-made rules the new-rule page fills the builder with.

/**
 * recipes({ dateDefs: [{key,label}], templates: [{id,name}] }) → [{key, title, text, rule}]
 * A recipe may leave a choice open (a template, a date field): the builder
 * then shows that field's message when saving.
 */
export function recipes({ dateDefs = [], templates = [] } = {}) {
  const renewal = dateDefs.find((d) => /renew/i.test(d.key) || /renew/i.test(d.label)) || dateDefs[0];
  const template = templates[0]?.id || '';
  const me = session.getSession().user?.id || 'owner';
  return [
    {
      key: 'renewal', title: 'Renewal reminder', text: `A task for the owner 30 days before ${renewal ? `“${renewal.label}”` : 'a date field'}.`,
      rule: {
        name: 'Renewal reminder', enabled: true,
        trigger: { kind: 'date', field: renewal?.key || '', offset_days: -30 },
        conditions: [],
        actions: [{ kind: 'create_task', subject: 'Renewal coming up: {{ name }}', due_in_days: 7, user: 'owner' }],
      },
    },
    {
      key: 'replacement', title: 'Replacement notice', text: 'An email 180 days after a customer’s last order.',
      rule: {
        name: 'Replacement notice', enabled: true,
        trigger: { kind: 'date', field: 'orders.last_at', offset_days: 180 },
        conditions: [],
        actions: [{ kind: 'send_email', template_id: template }],
      },
    },
    {
      key: 'welcome', title: 'Welcome on a first order', text: 'A welcome email to a new customer when their first order comes in.',
      rule: {
        name: 'Welcome new customers', enabled: true,
        trigger: { kind: 'record_created', entity: 'order' },
        conditions: [{ field: 'order_number', op: 'eq', value: 1 }],
        actions: [{ kind: 'send_email', template_id: template }],
      },
    },
    {
      key: 'winback', title: 'Win back a customer at risk', text: 'A task for the owner when a customer has gone quiet for longer than usual.',
      rule: {
        name: 'Win back customers slipping away', enabled: true,
        trigger: { kind: 'date', field: 'orders.last_at', offset_days: 60 },
        conditions: [{ field: 'value.at_risk', op: 'eq', value: true }],
        actions: [{ kind: 'create_task', subject: 'Win back {{ name }}', due_in_days: 3, user: 'owner' }],
      },
    },
    {
      key: 'won', title: 'Tell me when a deal is won', text: 'A task for you the day a deal is won.',
      rule: {
        name: 'Tell me about won deals', enabled: true,
        trigger: { kind: 'deal_won' },
        conditions: [],
        actions: [{ kind: 'create_task', subject: 'Won: {{ name }}', due_in_days: 0, user: me }],
      },
    },
  ];
}

export { stageLabel };
