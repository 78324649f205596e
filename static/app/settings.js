// Settings. Owners and admins manage Users (invite, change role and team,
// deactivate), Teams, the Outbox (emails the workspace sent or captured, e.g.
// invitation links) and API keys; managers may look at API keys and the audit
// log. Owners, admins and managers define Custom fields, set up Pipelines
// (stages, currencies, reasons, rates, quotas) and the Service desk (business
// hours, SLA targets, escalation, categories, macros). The audit log is
// read-only for everybody.

import * as api from './api.js';
import { h, mount, icon, toast, toastError, timeEl, openModal, pageTitle, tenantName } from './ui.js';
import { emptyState } from './contacts.js';
import { field, formErrors, errorBox, busy } from './forms.js';
import * as session from './session.js';
import { dash, forbiddenState, sectionHeader, inlineError, badge, confirmDialog, dataTable } from './settings-kit.js';
import { apiKeysSection } from './apikeys.js';
import { zoneSelect } from './campaign-display.js';
import { auditSection } from './audit.js';
import { teamsSection, loadTeams } from './teams.js';
import { customFieldsSection, customFieldsIcon } from './customfields.js';
import { pipelineSettingsSection, pipelineSettingsIcon } from './pipeline-settings.js';
import { serviceSettingsSection, serviceSettingsIcon } from './service-settings.js';

/**
 * `need`: the settings access a section asks for ('write': owners and admins, 'read': also managers).
 * `iconEl`: a section's own icon, where ui.js has none.
 */
export const SETTINGS_SECTIONS = [
  { key: 'users', label: 'Users', path: '/settings/users', icon: 'users', need: 'write' },
  { key: 'teams', label: 'Teams', path: '/settings/teams', icon: 'team', need: 'write' },
  { key: 'custom-fields', label: 'Custom fields', path: '/settings/custom-fields', iconEl: customFieldsIcon, need: 'read' },
  // Managers may change the pipeline (its permission area), so they edit these too.
  { key: 'pipelines', label: 'Pipelines', path: '/settings/pipelines', iconEl: pipelineSettingsIcon, need: 'read' },
  // Managers work the service desk (its permission area), so they set it up too.
  { key: 'service-desk', label: 'Service desk', path: '/settings/service-desk', iconEl: serviceSettingsIcon, need: 'read' },
  { key: 'outbox', label: 'Outbox', path: '/settings/outbox', icon: 'inbox', need: 'write' },
  { key: 'api-keys', label: 'API keys', path: '/settings/api-keys', icon: 'key', need: 'read' },
  { key: 'audit', label: 'Audit log', path: '/settings/audit', icon: 'history', need: 'read' },
];

const ACCESS_RANK = { none: 0, read: 1, write: 2 };
function mayOpen(section, access) { return ACCESS_RANK[access] >= ACCESS_RANK[section.need]; }

/**
 * The settings page with its section tabs. Waits for the session, then shows
 * the section to those whose role allows it, or explains why it cannot.
 * `query` (URLSearchParams) carries a section's own state, e.g. audit filters.
 */
export function settingsView(root, { section = 'users', query = new URLSearchParams() } = {}) {
  const current = SETTINGS_SECTIONS.find((s) => s.key === section) || SETTINGS_SECTIONS[0];
  pageTitle(current.label, 'Settings');
  let destroyed = false;
  let child = null;

  const body = h('div', { class: 'settings-body' });
  mount(root,
    h('div', { class: 'page-header' },
      h('div', { class: 'page-heading' },
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Settings'),
        h('p', { class: 'page-sub' }, 'Workspace ', h('strong', null, tenantName())))),
    body,
  );

  function tabs(sections) {
    return h('nav', { class: 'tabs', 'aria-label': 'Settings sections' },
      sections.map((s) => h('a', {
        class: 'tab', href: s.path, 'aria-current': s.key === current.key ? 'page' : null,
        dataset: { testid: `settings-tab-${s.key}` },
      }, s.iconEl ? s.iconEl({ size: 16 }) : icon(s.icon, { size: 16 }), h('span', null, s.label))));
  }

  /** On narrow screens the tab strip scrolls: keep the current tab in view. */
  function revealCurrentTab(nav) {
    requestAnimationFrame(() => {
      const tab = nav.querySelector('[aria-current="page"]');
      if (!tab || nav.scrollWidth <= nav.clientWidth) return;
      const n = nav.getBoundingClientRect();
      const t = tab.getBoundingClientRect();
      if (t.right > n.right) nav.scrollLeft += t.right - n.right + 8;
      else if (t.left < n.left) nav.scrollLeft -= n.left - t.left + 8;
    });
  }

  function show(state) {
    if (destroyed) return;
    child?.destroy?.();
    child = null;
    const { status, user } = state;
    const access = status === 'signed-in' ? session.settingsAccess(user) : 'none';
    const open = SETTINGS_SECTIONS.filter((s) => mayOpen(s, access));
    if (status === 'signed-in' && open.includes(current)) {
      const section_ = h('section', { class: 'settings-section', 'aria-labelledby': `settings-${current.key}-title` });
      const nav = tabs(open);
      mount(body, nav, section_);
      revealCurrentTab(nav);
      const canWrite = access === 'write';
      if (current.key === 'teams') child = teamsSection(section_);
      else if (current.key === 'outbox') child = outboxSection(section_);
      // Managers (settings 'read') define custom fields too; the API enforces it.
      else if (current.key === 'custom-fields') child = customFieldsSection(section_, { canDefine: canWrite || user.role === 'manager', query });
      else if (current.key === 'pipelines') child = pipelineSettingsSection(section_);
      else if (current.key === 'service-desk') child = serviceSettingsSection(section_);
      else if (current.key === 'api-keys') child = apiKeysSection(section_, { canWrite });
      else if (current.key === 'audit') child = auditSection(section_, { query });
      else child = usersSection(section_, user);
    } else if (status === 'signed-in') {
      mount(body, open.length ? tabs(open) : null, emptyState({
        testid: 'settings-need-admin',
        iconName: 'lock',
        title: 'You need an admin for this',
        text: `You are signed in as ${user.email || session.userDisplayName(user)} with the ${session.roleLabel(user.role)} role. Users, roles and workspace settings are managed by owners and admins; ask one of them for changes.${open.length ? ` You can open ${new Intl.ListFormat('en', { type: 'conjunction' }).format(open.map((s) => (s.key === 'api-keys' ? s.label : s.key === 'audit' ? 'the audit log' : s.label.toLowerCase())))}.` : ''}`,
        actions: [
          open.length ? h('a', { class: 'btn', href: open[0].path }, `Go to ${open[0].label}`) : null,
          h('a', { class: 'btn', href: '/contacts' }, 'Go to contacts'),
        ].filter(Boolean),
      }));
    } else if (status === 'signed-out') {
      const next = encodeURIComponent(location.pathname + location.search);
      mount(body, emptyState({
        testid: 'settings-sign-in',
        iconName: 'lock',
        title: 'Sign in to manage settings',
        text: 'Settings are available to the owners and admins of this workspace.',
        actions: [h('a', { class: 'btn btn-primary', href: `/sign-in?next=${next}` }, 'Sign in')],
      }));
    } else if (status === 'error') {
      const err = state.error;
      mount(body, emptyState({
        testid: 'error-state',
        iconName: 'alert',
        title: err?.title || 'Could not check your access',
        text: `${err?.detail || err?.message || ''}${err?.requestId ? ` (request ${err.requestId})` : ''}`,
        actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => { loading(); session.loadSession().then(show); } }, 'Retry')],
      }));
    } else {
      loading();
    }
  }

  function loading() {
    mount(body, h('p', { class: 'page-sub', role: 'status' }, 'Checking your access…'));
  }

  const state = session.getSession();
  if (state.status === 'loading') { loading(); session.whenLoaded().then(show); } else show(state);

  return {
    kind: 'settings',
    destroy() { destroyed = true; child?.destroy?.(); },
  };
}

const STATE_LABELS = { invited: 'Invited', active: 'Active', deactivated: 'Deactivated' };
function stateBadge(state) {
  const kind = state === 'active' ? 'success' : state === 'invited' ? 'accent' : 'neutral';
  return badge(STATE_LABELS[state] || String(state || 'Unknown'), kind, 'user-state');
}

// ---------------------------------------------------------------------------
// Users

const VISIBILITY_SAVED = {
  all: 'Sales users now see all records.',
  own: 'Sales users now see only the records they own.',
  team: 'Sales users now see the records they own and those anyone in their team owns. Those in no team see only their own.',
};

/**
 * Saves a workspace setting as soon as `select` changes: `send(value)`, the
 * select off meanwhile, then a success toast (`title`, `message(answer,
 * value)`) or the error's.
 */
function saveOnChange(select, { send, title, message }) {
  select.addEventListener('change', async () => {
    select.disabled = true;
    try {
      const res = await send(select.value);
      toast(message(res, select.value), { kind: 'success', title });
    } catch (err) {
      toastError(err);
    } finally {
      select.disabled = false;
    }
  });
}

/** Whether sales users see every record, only the ones they own, or also their team's. */
function visibilityControl() {
  const select = h('select', {
    id: 'record-visibility-sales', class: 'select-sm', dataset: { testid: 'record-visibility-sales' }, disabled: true,
  },
  h('option', { value: 'all' }, 'All records'),
  h('option', { value: 'own' }, 'Only records they own'),
  h('option', { value: 'team' }, "Their own and their team's records"));
  api.getRecordVisibility()
    .then((v) => { select.value = Object.hasOwn(VISIBILITY_SAVED, v?.sales) ? v.sales : 'all'; select.disabled = false; })
    .catch(() => { /* read-only roles see the default */ });
  saveOnChange(select, {
    send: (sales) => api.setRecordVisibility({ sales }),
    title: 'Record visibility saved',
    message: (_, sales) => VISIBILITY_SAVED[sales] || VISIBILITY_SAVED.all,
  });
  return h('div', { class: 'settings-inline-setting' },
    h('label', { for: 'record-visibility-sales' }, 'Sales users see'),
    select,
    h('p', { class: 'muted' }, 'Owners, admins and managers always see every record. A record belongs to the person who created it. Teams are set up under ',
      h('a', { href: '/settings/teams' }, 'Teams'), '.'));
}

/** The workspace's time zone: date rules count their days in it. */
function workspaceZoneControl() {
  const select = zoneSelect({ id: 'workspace-time-zone', value: 'UTC', testid: 'workspace-time-zone', disabled: true, className: 'select-sm' });
  api.getWorkspaceSettings()
    .then((w) => {
      const z = w?.time_zone || 'UTC';
      if (![...select.options].some((o) => o.value === z)) select.prepend(h('option', { value: z }, z));
      select.value = z;
      select.disabled = false;
    })
    .catch(() => { /* read-only roles see the default */ });
  saveOnChange(select, {
    send: (zone) => api.setWorkspaceSettings({ time_zone: zone }),
    title: 'Time zone saved',
    message: (w) => `Date rules now count days in ${String(w.time_zone).replace(/_/g, ' ')} unless a rule names its own zone.`,
  });
  return h('div', { class: 'settings-inline-setting' },
    h('label', { for: 'workspace-time-zone' }, 'Workspace time zone'),
    select,
    h('p', { class: 'muted' }, 'Workflow rules that fire on dates (renewals, birthdays, days after an order) count days in this zone unless a rule names its own.'));
}

function usersSection(root, me) {
  const controller = new AbortController();
  const users = new Map();
  /** The teams, sorted by name; null until loaded (or when they could not be). */
  let teams = null;

  const status = h('span', null, 'Loading users…');
  const inviteButton = h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid: 'invite-user' },
    onclick: () => openInviteDialog({ onInvited: (u) => { users.set(u.id, u); tbody.prepend(row(u, { fresh: true })); update(); } }),
  }, icon('userPlus'), h('span', null, 'Invite user'));

  const { table, tbody, tableWrap } = dataTable({
    className: 'users-table', testid: 'users-table', caption: 'Users of this workspace', busy: true,
    columns: [
      ['ucol-name', 'Name'], ['ucol-email', 'Email'], ['ucol-role', 'Role'], ['ucol-team', 'Team'],
      ['ucol-state', 'State'], ['ucol-last', 'Last sign-in'], ['ucol-actions', 'Actions', true],
    ],
  });
  const errorSlot = h('div');

  mount(root,
    sectionHeader('settings-users-title', 'Users', status, inviteButton),
    errorSlot,
    tableWrap,
    visibilityControl(),
    workspaceZoneControl(),
  );

  function update() {
    const all = [...users.values()];
    const n = all.length;
    const invited = all.filter((u) => u.state === 'invited').length;
    status.textContent = `${n} ${n === 1 ? 'user' : 'users'}${invited ? `, ${invited} invited` : ''}`;
  }

  function row(u, { fresh = false } = {}) {
    const name = session.userDisplayName(u);
    const isMe = u.id === me?.id;
    const deactivated = u.state === 'deactivated';

    let roleCell;
    if (u.role === 'owner' || isMe) {
      roleCell = h('span', {
        class: 'role-text', dataset: { testid: 'user-role-text' },
        title: isMe ? 'You cannot change your own role' : 'The owner’s role cannot be changed here',
      }, session.roleLabel(u.role));
    } else {
      const select = h('select', {
        class: 'select-sm', dataset: { testid: 'user-role' }, 'aria-label': `Role of ${name}`,
        disabled: deactivated,
      }, session.ASSIGNABLE_ROLES.map((r) => h('option', { value: r, selected: r === u.role ? true : null }, session.roleLabel(r))));
      select.addEventListener('change', () => changeRole(u, select));
      roleCell = select;
    }

    const canDeactivate = !deactivated && !isMe && u.role !== 'owner';
    const sub = [u.email && u.email !== name ? u.email : null, u.state !== 'active' ? STATE_LABELS[u.state] || u.state : null].filter(Boolean).join(' · ');

    return h('tr', { class: ['user-row', fresh && 'row-new', deactivated && 'is-deactivated'], dataset: { testid: 'user-row', userId: u.id, state: u.state } },
      h('td', { class: 'ucol-name' },
        h('div', { class: 'name-cell' },
          h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, session.userInitials(u)),
          h('div', { class: 'name-text' },
            h('div', { class: 'user-name truncate', title: name },
              h('span', { dataset: { testid: 'user-name' } }, name),
              isMe ? h('span', { class: 'you-tag' }, ' (you)') : null),
            sub ? h('div', { class: 'cell-sub' }, sub) : null))),
      h('td', { class: 'ucol-email' }, u.email ? h('span', { class: 'truncate', title: u.email, dataset: { testid: 'user-email' } }, u.email) : dash()),
      h('td', { class: 'ucol-role' }, roleCell),
      h('td', { class: 'ucol-team' }, teamCell(u, name)),
      h('td', { class: 'ucol-state' }, stateBadge(u.state)),
      h('td', { class: 'ucol-last' }, u.last_sign_in_at ? timeEl(u.last_sign_in_at) : h('span', { class: 'muted' }, 'Never')),
      h('td', { class: 'ucol-actions' }, canDeactivate ? h('button', {
        type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'deactivate-user' },
        'aria-label': `Deactivate ${name}`, title: `Deactivate ${name}`,
        onclick: () => confirmDeactivate(u),
      }, icon('userX', { size: 15 }), h('span', { class: 'btn-label' }, 'Deactivate')) : null),
    );
  }

  /** "No team" and each team; a team not in the list (e.g. deleted meanwhile) shows as unknown. */
  function teamCell(u, name) {
    if (!teams) return h('span', { class: 'muted', title: 'Teams could not be loaded' }, '—');
    const current = u.team_id || '';
    const known = !current || teams.some((t) => t.id === current);
    const select = h('select', {
      class: 'select-sm', dataset: { testid: 'user-team-select' }, 'aria-label': `Team of ${name}`,
    },
    h('option', { value: '', selected: current ? null : true }, 'No team'),
    teams.map((t) => h('option', { value: t.id, selected: t.id === current ? true : null }, t.name || t.id)),
    known ? null : h('option', { value: current, selected: true }, 'Unknown team'));
    select.addEventListener('change', () => changeTeam(u, select));
    return select;
  }

  /** `focus`: the testid of the control to focus in the new row (one that had the focus before it was disabled). */
  function replaceRow(u, { focus = null } = {}) {
    users.set(u.id, u);
    const old = tbody.querySelector(`tr[data-user-id="${CSS.escape(u.id)}"]`);
    const next = row(u);
    if (!old) { tbody.prepend(next); update(); return; }
    const focusedTestid = focus || (old.contains(document.activeElement) ? document.activeElement.dataset?.testid : null);
    old.replaceWith(next);
    if (focusedTestid) (next.querySelector(`[data-testid="${focusedTestid}"]`) || next.querySelector('select, button'))?.focus();
    update();
  }

  async function changeRole(u, select) {
    const role = select.value;
    const previous = u.role;
    if (role === previous) return;
    // A disabled control loses the focus: remember it to give it back.
    const hadFocus = document.activeElement === select;
    select.disabled = true;
    try {
      const updated = await api.updateUser(u.id, { role });
      const merged = { ...u, ...(updated && typeof updated === 'object' ? updated : {}), role: updated?.role || role };
      replaceRow(merged, { focus: hadFocus ? 'user-role' : null });
      session.updateUser(merged);
      toast(`${session.userDisplayName(merged)} now has the ${session.roleLabel(merged.role)} role.`, { kind: 'success', title: 'Role changed' });
    } catch (err) {
      select.value = previous;
      select.disabled = false;
      if (hadFocus) select.focus();
      toastError(err, 'Could not change the role');
    }
  }

  async function changeTeam(u, select) {
    const teamId = select.value || null;
    const previous = u.team_id || null;
    if (teamId === previous) return;
    const name = session.userDisplayName(u);
    const hadFocus = document.activeElement === select;
    select.disabled = true;
    try {
      const updated = await api.setUserTeam(u.id, teamId);
      const fromServer = updated && typeof updated === 'object' ? updated : {};
      const merged = { ...u, ...fromServer, team_id: 'team_id' in fromServer ? fromServer.team_id : teamId };
      replaceRow(merged, { focus: hadFocus ? 'user-team-select' : null });
      session.updateUser(merged);
      const team = teams?.find((t) => t.id === merged.team_id);
      toast(team ? `${name} is now in the ${team.name} team.` : `${name} is no longer in a team.`, { kind: 'success', title: 'Team changed' });
    } catch (err) {
      select.value = previous || '';
      select.disabled = false;
      if (hadFocus) select.focus();
      toastError(err, 'Could not change the team');
    }
  }

  function confirmDeactivate(u) {
    const name = session.userDisplayName(u);
    confirmDialog({
      title: `Deactivate ${name}?`,
      text: u.state === 'invited'
        ? `${name}${u.email && u.email !== name ? ` (${u.email})` : ''} has not joined yet. Their invitation link stops working.`
        : `${name}${u.email && u.email !== name ? ` (${u.email})` : ''} is signed out everywhere and can no longer sign in. Their records stay as they are.`,
      confirmLabel: 'Deactivate',
      workingLabel: 'Deactivating…',
      testid: 'confirm-deactivate',
      run: async () => {
        const updated = await api.deactivateUser(u.id);
        const merged = { ...u, ...(updated && typeof updated === 'object' ? updated : {}), state: updated?.state || 'deactivated' };
        replaceRow(merged);
        toast(`${name} can no longer sign in.`, { kind: 'success', title: 'User deactivated' });
      },
    });
  }

  async function load() {
    errorSlot.replaceChildren();
    table.setAttribute('aria-busy', 'true');
    tableWrap.classList.add('is-refreshing');
    // Teams load alongside; without them the Team column shows a dash.
    let teamsError = null;
    const teamList = loadTeams(controller.signal).catch((err) => {
      if (err?.name !== 'AbortError') teamsError = err;
      return null;
    });
    try {
      let cursor;
      const all = [];
      // Workspaces have few users; follow cursors (bounded) to show them all.
      for (let i = 0; i < 20; i += 1) {
        const pageData = await api.listUsers({ cursor, signal: controller.signal });
        all.push(...pageData.items);
        cursor = pageData.next_cursor;
        if (!cursor) break;
      }
      const loadedTeams = await teamList;
      if (controller.signal.aborted) return;
      teams = loadedTeams;
      if (teamsError) toastError(teamsError, 'Could not load teams');
      users.clear();
      all.forEach((u) => users.set(u.id, u));
      tbody.replaceChildren(...all.map((u) => row(u)));
      update();
    } catch (err) {
      if (err?.name === 'AbortError') return;
      if (err.status === 403) { mount(root, forbiddenState(err)); return; }
      status.textContent = 'Users could not be loaded.';
      errorSlot.replaceChildren(inlineError(err, load));
      toastError(err, 'Could not load users');
    } finally {
      table.setAttribute('aria-busy', 'false');
      tableWrap.classList.remove('is-refreshing');
    }
  }

  tbody.replaceChildren(...Array.from({ length: 3 }, () => h('tr', { 'aria-hidden': 'true' },
    h('td', { colspan: 7 }, h('span', { class: 'skeleton skeleton-text', style: { width: '60%' } })))));
  load();

  return { destroy() { controller.abort(); } };
}

/** The "Invite user" dialog; onInvited(user) after the server created it. */
export function openInviteDialog({ onInvited } = {}) {
  if (document.querySelector('dialog.invite-dialog[open]')) return null;
  let saving = false;
  const box = errorBox();
  const DEFAULT_ROLE = 'sales';
  const email = field({ name: 'email', label: 'Email', type: 'email', idPrefix: 'invite', testid: 'invite-email', inputmode: 'email', required: true, autofocus: true, maxlength: 320 });
  const name = field({ name: 'name', label: 'Name', idPrefix: 'invite', testid: 'invite-name', maxlength: 200 });
  const role = field({
    name: 'role', label: 'Role', idPrefix: 'invite', testid: 'invite-role', value: DEFAULT_ROLE,
    options: session.ASSIGNABLE_ROLES.map((r) => ({ value: r, label: session.roleLabel(r) })),
    hint: session.ROLE_HINTS[DEFAULT_ROLE],
  });
  role.input.addEventListener('change', () => {
    const hint = role.wrap.querySelector('.field-hint');
    if (hint) hint.textContent = session.ROLE_HINTS[role.input.value] || '';
    errs.clearField('role');
  });
  const inputs = { email: email.input, name: name.input, role: role.input };
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'send-invite' } }, 'Send invitation');

  const form = h('form', { class: 'dialog-form', novalidate: true, dataset: { testid: 'invite-form' }, 'aria-describedby': 'invite-form-hint' },
    h('header', { class: 'dialog-header' },
      h('h2', { id: 'invite-dialog-title' }, 'Invite user'),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    h('div', { class: 'dialog-body' },
      h('p', { id: 'invite-form-hint', class: 'muted form-hint' }, 'We email them a link to choose a password and join this workspace.'),
      box,
      h('div', { class: 'field-grid' }, email.wrap, name.wrap, role.wrap)),
    h('footer', { class: 'dialog-footer' },
      h('span', { class: 'muted footer-hint' }, h('kbd', null, 'Enter'), ' to send · ', h('kbd', null, 'Esc'), ' to close'),
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      submit));
  const dialog = h('dialog', { class: 'dialog invite-dialog', 'aria-labelledby': 'invite-dialog-title' }, form);
  const errs = formErrors({ form, inputs, idPrefix: 'invite', box });
  email.input.addEventListener('input', () => errs.clearField('email'));
  name.input.addEventListener('input', () => errs.clearField('name'));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    errs.clearAll();
    const body = { email: email.input.value.trim(), name: name.input.value.trim(), role: role.input.value };
    if (!body.email) { errs.setField('email', ['Enter an email address']); email.input.focus(); return; }
    saving = true;
    busy(submit, true, { idle: 'Send invitation', working: 'Sending…' });
    try {
      const user = await api.inviteUser(body);
      const invited = { state: 'invited', last_sign_in_at: null, ...body, ...(user && typeof user === 'object' ? user : {}) };
      dialog.close('invited');
      onInvited?.(invited);
      toast(`We emailed ${invited.email} a link to join with the ${session.roleLabel(invited.role)} role.`, {
        kind: 'success',
        title: 'Invitation sent',
        action: { label: 'Open outbox', href: '/settings/outbox' },
      });
    } catch (err) {
      saving = false;
      busy(submit, false, { idle: 'Send invitation', working: 'Sending…' });
      errs.fromApi(err, { fallbackTitle: 'Could not send the invitation', focus: email.input });
      if (!err.isValidation) toastError(err, 'Could not send the invitation');
    }
  });

  openModal(dialog);
  email.input.focus();
  return dialog;
}

// ---------------------------------------------------------------------------
// Outbox

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** Text with its http(s) URLs turned into links (no HTML is interpreted). */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of String(text || '').matchAll(URL_RE)) {
    const url = m[0].replace(/[.,;:!?)\]}>]+$/, '');
    if (m.index > last) out.push(text.slice(last, m.index));
    let sameOrigin = false;
    try { sameOrigin = new URL(url).origin === location.origin; } catch { /* keep as external */ }
    out.push(h('a', {
      href: url, dataset: { testid: 'outbox-link' },
      target: sameOrigin ? null : '_blank', rel: sameOrigin ? null : 'noopener noreferrer',
    }, url));
    last = m.index + url.length;
  }
  if (last < String(text || '').length) out.push(text.slice(last));
  return out;
}

function statusKind(s) {
  const v = String(s || '').toLowerCase();
  if (['sent', 'delivered', 'captured'].includes(v)) return 'success';
  if (['failed', 'bounced', 'rejected', 'error'].includes(v)) return 'danger';
  if (['queued', 'pending', 'sending', 'retrying'].includes(v)) return 'accent';
  return 'neutral';
}

function outboxSection(root) {
  const controller = new AbortController();
  const state = { items: 0, cursor: null, loading: false, ids: new Set() };

  const status = h('span', null, 'Loading emails…');
  const refresh = h('button', { type: 'button', class: 'btn', dataset: { testid: 'outbox-refresh' }, onclick: () => load({ reset: true }) }, 'Refresh');
  const { table, tbody, tableWrap } = dataTable({
    className: 'outbox-table', testid: 'outbox-table', caption: 'Outbox: emails sent from this workspace',
    columns: [
      ['ocol-toggle', 'Show message', true], ['ocol-to', 'To'], ['ocol-subject', 'Subject'],
      ['ocol-created', 'Created'], ['ocol-status', 'Status'],
    ],
  });
  const empty = h('div', { hidden: true });
  const errorSlot = h('div');
  const loadMore = h('button', { type: 'button', class: 'btn', hidden: true, dataset: { testid: 'load-more' }, onclick: () => load() }, 'Load more');

  mount(root,
    sectionHeader('settings-outbox-title', 'Outbox', status, refresh),
    h('p', { class: 'section-lead muted' },
      'Emails this workspace sends, such as invitations and password-reset links, newest first. Where email delivery is not set up, messages are kept here instead, so you can open their links.'),
    errorSlot,
    tableWrap,
    empty,
    h('div', { class: 'list-footer' }, loadMore));

  tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr.outbox-row');
    if (!tr || e.target.closest('a, button')) return;
    if (window.getSelection()?.toString()) return;
    tr.querySelector('.expand-button')?.click();
  });

  function rows(m) {
    const detailId = `outbox-msg-${m.id}`;
    const toggle = h('button', {
      type: 'button', class: 'icon-button expand-button', 'aria-expanded': 'false', 'aria-controls': detailId,
      'aria-label': `Show message: ${m.subject || '(no subject)'}`, dataset: { testid: 'outbox-toggle' },
    }, icon('chevronRight', { size: 16 }));
    const detail = h('tr', { class: 'outbox-detail', id: detailId, hidden: true },
      h('td', { colspan: 5, class: 'detail-cell' },
        h('div', { class: 'mail' },
          h('dl', { class: 'mail-meta' },
            h('div', null, h('dt', null, 'To'), h('dd', null, m.to || '—')),
            h('div', null, h('dt', null, 'Subject'), h('dd', null, m.subject || '(no subject)')),
            h('div', null, h('dt', null, 'Created'), h('dd', null, timeEl(m.created_at, { withTime: true })))),
          h('div', { class: 'mail-body', dataset: { testid: 'outbox-body' } },
            m.body_text ? linkify(m.body_text) : h('span', { class: 'muted' }, 'This message has no text body.')))));
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      toggle.setAttribute('aria-label', `${open ? 'Hide' : 'Show'} message: ${m.subject || '(no subject)'}`);
      detail.hidden = !open;
      tr.classList.toggle('is-open', open);
    });
    const tr = h('tr', { class: 'outbox-row', dataset: { testid: 'outbox-row', outboxId: m.id } },
      h('td', { class: 'ocol-toggle' }, toggle),
      h('td', { class: 'ocol-to' }, h('span', { class: 'truncate', title: m.to }, m.to || '—')),
      h('td', { class: 'ocol-subject' },
        h('span', { class: 'truncate subject', title: m.subject }, m.subject || h('span', { class: 'muted' }, '(no subject)')),
        h('div', { class: 'cell-sub' }, m.to ? `${m.to} · ` : null, timeEl(m.created_at))),
      h('td', { class: 'ocol-created' }, timeEl(m.created_at, { withTime: true })),
      h('td', { class: 'ocol-status' }, badge(m.status ? m.status[0].toUpperCase() + m.status.slice(1) : 'Unknown', statusKind(m.status), 'outbox-status')));
    return [tr, detail];
  }

  async function load({ reset = false } = {}) {
    if (state.loading) return;
    state.loading = true;
    errorSlot.replaceChildren();
    refresh.disabled = true;
    loadMore.disabled = true;
    tableWrap.classList.add('is-refreshing');
    table.setAttribute('aria-busy', 'true');
    try {
      const p = await api.listOutbox({ cursor: reset ? undefined : state.cursor, signal: controller.signal });
      if (reset) { tbody.replaceChildren(); state.ids.clear(); state.items = 0; }
      const fresh = p.items.filter((m) => m?.id != null && !state.ids.has(m.id));
      fresh.forEach((m) => state.ids.add(m.id));
      tbody.append(...fresh.flatMap(rows));
      state.items += fresh.length;
      state.cursor = p.next_cursor || null;
      const n = state.items;
      status.textContent = `${n}${state.cursor ? '+' : ''} ${n === 1 ? 'email' : 'emails'}`;
      tableWrap.hidden = n === 0;
      empty.hidden = n !== 0;
      if (n === 0) {
        mount(empty, emptyState({
          testid: 'empty-state', iconName: 'inbox', title: 'No emails yet',
          text: 'Invitations and password-reset emails appear here as soon as they are sent.',
        }));
      }
      loadMore.hidden = !state.cursor;
    } catch (err) {
      if (err?.name === 'AbortError') return;
      if (err.status === 403) { mount(root, forbiddenState(err)); return; }
      status.textContent = 'The outbox could not be loaded.';
      errorSlot.replaceChildren(inlineError(err, () => load({ reset: state.items === 0 })));
      if (state.items === 0) tbody.replaceChildren();
      toastError(err, 'Could not load the outbox');
    } finally {
      state.loading = false;
      refresh.disabled = false;
      loadMore.disabled = false;
      tableWrap.classList.remove('is-refreshing');
      table.setAttribute('aria-busy', 'false');
    }
  }

  tbody.replaceChildren(...Array.from({ length: 3 }, () => h('tr', { 'aria-hidden': 'true' },
    h('td', { colspan: 5 }, h('span', { class: 'skeleton skeleton-text', style: { width: '60%' } })))));
  load({ reset: true });

  return { destroy() { controller.abort(); } };
}

