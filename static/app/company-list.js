// Companies list (/companies) and the "New company" flow.

import { navigate } from './router.js';
import { recordListView } from './record-list.js';
import { openRecordForm } from './record-form.js';
import { SIZES } from './records.js';
import { rememberRecord } from './record-page.js';

export function openCreateCompany({ onCreated, initial } = {}) {
  return openRecordForm({
    entity: 'company',
    initial,
    onSaved: (c, version) => {
      rememberRecord('company', c, version);
      if (onCreated) onCreated(c);
      else navigate(`/companies/${encodeURIComponent(c.id)}`);
    },
  });
}

export const COMPANIES_CONFIG = {
  entity: 'company',
  title: 'Companies',
  singular: 'company',
  plural: 'companies',
  path: '/companies',
  tableTestid: 'companies-table',
  rowTestid: 'company-row',
  countTestid: 'companies-count',
  restoreTestid: 'restore-company',
  newTestid: 'new-company',
  newLabel: 'New company',
  emptyIcon: 'building',
  emptyText: 'One record per organisation, with its people and their activity together.',
  quick: {
    field: 'size',
    label: 'Size',
    options: SIZES,
    optionLabel: (s) => `${s} employees`,
    testid: 'size-filter',
    optionTestid: 'size-option',
  },
  subline: (c) => [c.domain, c.industry].filter(Boolean).join(' · '),
  openCreate: ({ onCreated }) => openCreateCompany({ onCreated }),
};

export function companyListView(root, { query, nav }) {
  return recordListView(root, { config: COMPANIES_CONFIG, query, nav });
}
