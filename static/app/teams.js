// Settings › Teams: named groups of users, e.g. by region. A user is in at most
// one team (chosen in the Team column of Settings › Users). When sales users
// see "their own and their team's records", everyone in a team sees what its
// members own. Owners and admins create, rename and delete teams; deleting a
// team leaves its members in no team.

import * as api from './api.js';
import { h, mount, icon, toast, toastError, openModal } from './ui.js';
import { emptyState } from './contacts.js';
import { field, formErrors, errorBox, busy } from './forms.js';
import * as session from './session.js';
import { forbiddenState, sectionHeader, inlineError, confirmDialog, dataTable } from './settings-kit.js';
import { loadUserDirectory } from './apikeys.js';

const byText = (a, b) => a.localeCompare(b, undefined, { sensitivity: 'base', numeric: true });

/** Teams sorted by name (a copy). */
export function sortTeams(list) {
  return [...list].sort((a, b) => byText(String(a?.name || ''), String(b?.name || '')));
}

/** All teams of the workspace (follows cursors, bounded), sorted by name. */
export async function loadTeams(signal) {
  let cursor;
  const all = [];
  for (let i = 0; i < 20; i += 1) {
    const p = await api.listTeams({ cursor, signal });
    all.push(...p.items.filter((t) => t && t.id != null));
    cursor = p.next_cursor;
    if (!cursor) break;
  }
  return sortTeams(all);
}

function plural(n, one, many) { return `${n} ${n === 1 ? one : many}`; }

/** The members' names, sorted; an unknown user shows as their id. */
function memberNames(team, users) {
  const ids = Array.isArray(team?.members) ? team.members : [];
  return ids.map((id) => {
    const u = users?.get(String(id));
    return u ? session.userDisplayName(u) : String(id);
  }).sort(byText);
}

/** Focus `target` shortly, unless something else already has the focus (e.g. after its row was replaced). */
function refocus(target) {
  setTimeout(() => {
    if (!target?.isConnected || target.closest('[hidden]')) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    target.focus();
  }, 50);
}

// ---------------------------------------------------------------------------
// The section

export function teamsSection(root) {
  const controller = new AbortController();
  const teams = new Map();
  let users = new Map();

  const status = h('span', null, 'Loading teams…');
  const newButton = h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid: 'new-team' },
    onclick: () => openTeamDialog({ onSaved: added }),
  }, icon('plus'), h('span', null, 'New team'));

  const { table, tbody, tableWrap } = dataTable({
    className: 'teams-table', testid: 'teams-table', caption: 'Teams of this workspace', busy: true,
    columns: [['tcol-name', 'Name'], ['tcol-members', 'Members'], ['tcol-actions', 'Actions', true]],
  });
  const empty = h('div', { hidden: true });
  const errorSlot = h('div');

  mount(root,
    sectionHeader('settings-teams-title', 'Teams', status, newButton),
    h('p', { class: 'section-lead muted' },
      'Group users into teams, for example by region or product line. Each user is in at most one team: choose it in the Team column under ',
      h('a', { href: '/settings/users' }, 'Users'),
      '. When sales users see their own and their team’s records (also set under Users), everyone in a team sees the records its members own.'),
    errorSlot,
    tableWrap,
    empty);

  function update() {
    const n = teams.size;
    status.textContent = n ? plural(n, 'team', 'teams') : 'No teams';
    tableWrap.hidden = n === 0;
    empty.hidden = n !== 0;
    if (n === 0) {
      mount(empty, emptyState({
        testid: 'empty-state', iconName: 'team', title: 'No teams yet',
        text: "Teams decide which records sales users see when record visibility is set to “Their own and their team's records”: each sales user then sees the records they own and those anyone in their team owns. Create a team, then put people in it under Users.",
        actions: [h('button', {
          type: 'button', class: 'btn btn-primary', dataset: { testid: 'empty-new-team' },
          onclick: () => openTeamDialog({ onSaved: added }),
        }, icon('plus'), 'Create the first team')],
      }));
    }
  }

  function membersCell(names) {
    if (!names.length) return h('span', { class: 'muted', dataset: { testid: 'team-members' } }, 'No members');
    const list = names.join(', ');
    return h('span', { class: 'member-summary', dataset: { testid: 'team-members' } },
      h('span', { class: 'badge', 'aria-hidden': 'true', dataset: { testid: 'team-member-count' } }, String(names.length)),
      h('span', { class: 'visually-hidden' }, `${plural(names.length, 'member', 'members')}: `),
      h('span', { class: 'truncate member-names', title: list }, list));
  }

  function row(t, { fresh = false } = {}) {
    const name = t.name || '(unnamed)';
    const names = memberNames(t, users);
    return h('tr', { class: ['team-row', fresh && 'row-new'], dataset: { testid: 'team-row', teamId: t.id } },
      h('td', { class: 'tcol-name' },
        h('span', { class: 'truncate team-name', title: name, dataset: { testid: 'team-name' } }, name),
        h('div', { class: 'cell-sub', title: names.join(', ') || null },
          names.length ? `${plural(names.length, 'member', 'members')} · ${names.join(', ')}` : 'No members')),
      h('td', { class: 'tcol-members' }, membersCell(names)),
      h('td', { class: 'tcol-actions' },
        h('div', { class: 'row-actions' },
          h('button', {
            type: 'button', class: 'btn btn-sm', dataset: { testid: 'rename-team' },
            'aria-label': `Rename ${name}`, title: `Rename ${name}`,
            onclick: () => openTeamDialog({ team: t, onSaved: renamed }),
          }, icon('pencil', { size: 15 }), h('span', { class: 'btn-label' }, 'Rename')),
          h('button', {
            type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'delete-team' },
            'aria-label': `Delete ${name}`, title: `Delete ${name}`,
            onclick: () => confirmDelete(t),
          }, icon('trash', { size: 15 }), h('span', { class: 'btn-label' }, 'Delete')))));
  }

  function rowOf(id) { return tbody.querySelector(`tr[data-team-id="${CSS.escape(id)}"]`); }

  function added(t) {
    if (!t?.id) return;
    teams.set(t.id, t);
    rowOf(t.id)?.remove();
    const tr = row(t, { fresh: true });
    tbody.prepend(tr);
    update();
    // Created from the empty state, whose button is now hidden: stay in the table.
    refocus(tr.querySelector('[data-testid="rename-team"]'));
  }

  function renamed(t) {
    if (!t?.id) return;
    teams.set(t.id, t);
    const next = row(t);
    const old = rowOf(t.id);
    if (old) old.replaceWith(next); else tbody.prepend(next);
    update();
    refocus(next.querySelector('[data-testid="rename-team"]'));
  }

  function confirmDelete(t) {
    const name = t.name || 'this team';
    const n = Array.isArray(t.members) ? t.members.length : 0;
    confirmDialog({
      title: `Delete ${name}?`,
      text: n
        ? `${n === 1 ? 'Its member is' : `Its ${n} members are`} left in no team. Where sales users see their own and their team’s records, ${n === 1 ? 'this person then sees' : 'these people then see'} only the records they own until you put them in another team under Users.`
        : `${name} has no members, so nobody’s access changes.`,
      confirmLabel: 'Delete team',
      workingLabel: 'Deleting…',
      testid: 'confirm-delete-team',
      run: async () => {
        await api.deleteTeam(t.id);
        const tr = rowOf(t.id);
        const neighbour = tr?.nextElementSibling || tr?.previousElementSibling;
        teams.delete(t.id);
        tr?.remove();
        update();
        // The delete button is gone: keep the keyboard user near where they were.
        refocus(neighbour?.querySelector('[data-testid="delete-team"]') || newButton);
        toast(n ? `${name} was deleted. Its members are in no team now.` : `${name} was deleted.`, { kind: 'success', title: 'Team deleted' });
      },
    });
  }

  async function load() {
    errorSlot.replaceChildren();
    table.setAttribute('aria-busy', 'true');
    tableWrap.classList.add('is-refreshing');
    const names = loadUserDirectory(controller.signal).catch(() => new Map());
    try {
      const all = await loadTeams(controller.signal);
      users = await names;
      teams.clear();
      all.forEach((t) => teams.set(t.id, t));
      tbody.replaceChildren(...all.map((t) => row(t)));
      update();
    } catch (err) {
      if (err?.name === 'AbortError') return;
      if (err.status === 403) { mount(root, forbiddenState(err)); return; }
      status.textContent = 'Teams could not be loaded.';
      tbody.replaceChildren();
      errorSlot.replaceChildren(inlineError(err, load));
      toastError(err, 'Could not load teams');
    } finally {
      table.setAttribute('aria-busy', 'false');
      tableWrap.classList.remove('is-refreshing');
    }
  }

  tbody.replaceChildren(...Array.from({ length: 3 }, () => h('tr', { 'aria-hidden': 'true' },
    h('td', { colspan: 3 }, h('span', { class: 'skeleton skeleton-text', style: { width: '60%' } })))));
  load();

  return { destroy() { controller.abort(); } };
}

// ---------------------------------------------------------------------------
// New team / rename: one name field. onSaved(team) once the dialog closed.

export function openTeamDialog({ team = null, onSaved } = {}) {
  if (document.querySelector('dialog.team-dialog[open]')) return null;
  const renaming = Boolean(team);
  const label = renaming
    ? { title: `Rename ${team.name || 'team'}`, idle: 'Save', working: 'Saving…', fail: 'Could not rename the team' }
    : { title: 'New team', idle: 'Create team', working: 'Creating…', fail: 'Could not create the team' };
  let saving = false;
  let saved = null;

  const box = errorBox();
  const name = field({
    name: 'name', label: 'Name', idPrefix: 'team', testid: 'team-name-input', required: true, autofocus: true, maxlength: 80,
    value: team?.name || undefined,
    hint: 'For example “East” or “Key accounts”. Each team needs its own name.',
  });
  const inputs = { name: name.input };
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'team-save' } }, label.idle);

  const form = h('form', { class: 'dialog-form', novalidate: true, dataset: { testid: 'team-form' } },
    h('header', { class: 'dialog-header' },
      h('h2', { id: 'team-dialog-title' }, label.title),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    h('div', { class: 'dialog-body' },
      renaming ? null : h('p', { class: 'muted form-hint' }, 'After creating it, put people in the team from the Team column under Users.'),
      box,
      h('div', { class: 'field-grid' }, name.wrap)),
    h('footer', { class: 'dialog-footer' },
      h('span', { class: 'muted footer-hint' }, h('kbd', null, 'Enter'), ' to save · ', h('kbd', null, 'Esc'), ' to close'),
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      submit));
  const dialog = h('dialog', { class: 'dialog team-dialog', 'aria-labelledby': 'team-dialog-title' }, form);
  const errs = formErrors({ form, inputs, idPrefix: 'team', box });
  name.input.addEventListener('input', () => errs.clearField('name'));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    errs.clearAll();
    const body = { name: name.input.value.trim() };
    if (!body.name) { errs.setField('name', ['Enter a name for the team']); name.input.focus(); return; }
    if (renaming && body.name === team.name) { dialog.close('cancel'); return; }
    saving = true;
    busy(submit, true, { idle: label.idle, working: label.working });
    try {
      const result = renaming ? await api.renameTeam(team.id, body) : await api.createTeam(body);
      saved = {
        members: [], ...(team || {}), ...(result && typeof result === 'object' ? result : {}),
      };
      if (!saved.name) saved.name = body.name;
      dialog.close('saved');
      if (renaming) {
        toast(`${team.name} is now called ${saved.name}.`, { kind: 'success', title: 'Team renamed' });
      } else {
        toast(`${saved.name} is ready. Put people in it from the Team column under Users.`, {
          kind: 'success',
          title: 'Team created',
          action: { label: 'Open users', href: '/settings/users' },
        });
      }
    } catch (err) {
      saving = false;
      busy(submit, false, { idle: label.idle, working: label.working });
      errs.fromApi(err, { fallbackTitle: label.fail, focus: name.input });
      if (!err.isValidation) toastError(err, label.fail);
    }
  });

  openModal(dialog, { onClose: () => { if (saved) onSaved?.(saved); } });
  name.input.focus();
  if (renaming) name.input.select();
  return dialog;
}
