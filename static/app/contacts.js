// Shared helpers other views import from here (empty states, contact names).
// The contacts screens themselves live in contact-list.js (list, create),
// contact-page.js (record page) and record-form.js (create/edit form).

import { h, icon } from './ui.js';
import { contactName, contactInitials } from './records.js';

export function displayName(c) { return contactName(c); }

export function initials(c) { return contactInitials(c); }

export function emptyState({ iconName = 'users', title, text, actions = [], hint, testid = 'empty-state' }) {
  return h('div', { class: 'empty-state', dataset: { testid } },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon(iconName, { size: 28 })),
    h('h2', { class: 'empty-title' }, title),
    text ? h('p', { class: 'empty-text' }, text) : null,
    actions.length ? h('div', { class: 'empty-actions' }, actions) : null,
    hint ? h('p', { class: 'empty-hint muted' }, hint) : null,
  );
}
