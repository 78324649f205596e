// Contacts list (/contacts) and the "New contact" flow.

import { navigate } from './router.js';
import { recordListView } from './record-list.js';
import { openRecordForm } from './record-form.js';
import { STAGES, stageLabel, stageBadge } from './records.js';
import { rememberRecord } from './record-page.js';
import { canWriteSegments } from './segments-api.js';
import { openSaveAsSegment } from './segment-display.js';

/** Open the create dialog; onCreated(contact) after the server created it. */
export function openCreateContact({ onCreated, initial } = {}) {
  return openRecordForm({
    entity: 'contact',
    initial,
    onSaved: (c, version) => {
      rememberRecord('contact', c, version);
      if (onCreated) onCreated(c);
      else navigate(`/contacts/${encodeURIComponent(c.id)}`);
    },
  });
}

export const CONTACTS_CONFIG = {
  entity: 'contact',
  title: 'Contacts',
  singular: 'contact',
  plural: 'contacts',
  path: '/contacts',
  tableTestid: 'contacts-table',
  rowTestid: 'contact-row',
  countTestid: 'contacts-count',
  restoreTestid: 'restore-contact',
  newTestid: 'new-contact',
  newLabel: 'New contact',
  duplicates: true,
  emptyIcon: 'users',
  emptyText: 'Contacts are the people you sell to and support. Add the first one, and everyone on your team works from the same record.',
  quick: {
    field: 'lifecycle_stage',
    label: 'Stage',
    options: STAGES,
    optionLabel: stageLabel,
    testid: 'stage-filter',
    optionTestid: 'stage-option',
    render: (s) => stageBadge(s),
  },
  subline: (c) => [c.email, c.company].filter(Boolean).join(' · '),
  openCreate: ({ onCreated }) => openCreateContact({ onCreated }),
  // "Save as segment" next to the filters (Campaigns › Segments).
  saveAsSegment: (opts) => openSaveAsSegment(opts),
  canSaveAsSegment: () => canWriteSegments(),
};

export function contactListView(root, { query, nav }) {
  return recordListView(root, { config: CONTACTS_CONFIG, query, nav });
}
