// Settings › API keys: named keys for other systems, scoped per area
// (contacts, pipeline, campaigns, service desk; read or write). Owners and
// admins create and revoke them; managers see the list. A key's token is shown
// once, right after it is created, and never again.

import * as api from './api.js';
import { userDirectory } from './crm-api.js';
import { h, mount, icon, toast, toastError, timeEl, openModal } from './ui.js';
import { emptyState } from './contacts.js';
import { field, formErrors, errorBox, busy } from './forms.js';
import * as session from './session.js';
import { forbiddenState, sectionHeader, inlineError, badge, confirmDialog, dataTable } from './settings-kit.js';

/** Areas a key may be scoped to (never settings: keys do not manage users or keys). */
export const KEY_AREAS = [
  { key: 'contacts', label: 'Contacts' },
  { key: 'pipeline', label: 'Pipeline' },
  { key: 'campaigns', label: 'Campaigns' },
  { key: 'service-desk', label: 'Service desk' },
];

const ACCESS_OPTIONS = [
  { value: 'none', label: 'No access' },
  { value: 'read', label: 'Read' },
  { value: 'write', label: 'Read and write' },
];

function exampleCommand(token = '<token>') {
  return `curl -H "Authorization: Bearer ${token}" ${location.origin}/api/v1/contacts`;
}

// ---------------------------------------------------------------------------
// Who did it: actors ("user:u_1", "apikey:k_1", "operator", "anonymous")

/**
 * The workspace's users by id, from the directory every signed-in user may
 * read (so managers see names too), reloaded each time a settings section
 * opens. Resolves to an empty map when they cannot be read: names are a
 * nicety, raw actors still show.
 */
export async function loadUserDirectory(signal) {
  try {
    return await userDirectory({ fresh: true, signal });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    return new Map();
  }
}

/**
 * An actor as written (monospace); a known user by name, with the raw actor as
 * its title. `data-actor` lets the caller upgrade it once names are known.
 */
export function actorEl(actor, users) {
  const raw = actor == null || actor === '' ? 'unknown' : String(actor);
  const m = /^user:(.+)$/.exec(raw);
  const u = m && users?.get(m[1]);
  if (u) {
    return h('span', { class: 'actor actor-user truncate', title: raw, dataset: { actor: raw, testid: 'actor' } }, session.userDisplayName(u));
  }
  return h('code', { class: 'actor actor-raw truncate', title: raw, dataset: { actor: raw, testid: 'actor' } }, raw);
}

/** Re-render the actors under `root` with the users' names. */
export function upgradeActors(root, users) {
  if (!users?.size) return;
  root.querySelectorAll('[data-actor]').forEach((el) => el.replaceWith(actorEl(el.dataset.actor, users)));
}

// ---------------------------------------------------------------------------
// Scope chips

function scopeChip(scope) {
  const [area, access] = String(scope).split(':');
  const label = KEY_AREAS.find((a) => a.key === area)?.label || area;
  return h('span', {
    class: ['chip', access === 'write' && 'chip-write'],
    title: `${label}: ${access === 'write' ? 'read and write' : access || 'access'}`,
    dataset: { testid: 'api-key-scope', scope },
  }, scope);
}

function scopeChips(scopes) {
  const list = Array.isArray(scopes) ? scopes : [];
  if (!list.length) return h('span', { class: 'muted' }, 'No scopes');
  return h('span', { class: 'chips' }, list.map(scopeChip));
}

function copyButton(getText, { testid, label = 'Copy', describe } = {}) {
  const text = h('span', null, label);
  const button = h('button', {
    type: 'button', class: 'btn btn-sm', dataset: { testid }, 'aria-label': describe || null,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(getText());
        text.textContent = 'Copied';
        setTimeout(() => { text.textContent = label; }, 1500);
      } catch {
        // No clipboard (insecure context, permission): select it for Ctrl+C.
        const target = button.parentElement?.querySelector('code');
        if (target) {
          const range = document.createRange();
          range.selectNodeContents(target);
          const sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
        }
        toast('The text is selected: press Ctrl+C (⌘C on a Mac) to copy it.', { title: 'Copy by hand' });
      }
    },
  }, icon('copy', { size: 14 }), text);
  return button;
}

// ---------------------------------------------------------------------------
// The section

export function apiKeysSection(root, { canWrite = false } = {}) {
  const controller = new AbortController();
  const keys = new Map();
  let users = new Map();

  const status = h('span', null, 'Loading API keys…');
  const newButton = canWrite ? h('button', {
    type: 'button', class: 'btn btn-primary', dataset: { testid: 'new-api-key' },
    onclick: () => openNewKeyDialog({ onCreated: added }),
  }, icon('plus'), h('span', null, 'New API key')) : null;

  const cols = canWrite ? 7 : 6;
  const { table, tbody, tableWrap } = dataTable({
    className: 'api-keys-table', testid: 'api-keys-table', caption: 'API keys of this workspace', busy: true,
    columns: [
      ['kcol-name', 'Name'], ['kcol-scopes', 'Scopes'], ['kcol-by', 'Created by'], ['kcol-created', 'Created'],
      ['kcol-used', 'Last used'], ['kcol-status', 'Status'], canWrite && ['kcol-actions', 'Actions', true],
    ],
  });
  const empty = h('div', { hidden: true });
  const errorSlot = h('div');

  const example = exampleCommand();
  const usage = h('section', { class: 'card usage-card', 'aria-labelledby': 'api-key-usage-title', dataset: { testid: 'api-key-example' } },
    h('h3', { id: 'api-key-usage-title', class: 'card-title' }, 'Calling the API with a key'),
    h('p', { class: 'muted usage-text' },
      'Send the token in the Authorization header. A key can do only what its scopes allow, and never manages users, keys or settings.'),
    h('div', { class: 'code-block' },
      h('code', { class: 'code-text' }, example),
      copyButton(() => example, { testid: 'copy-api-key-example', describe: 'Copy the example command' })));

  mount(root,
    sectionHeader('settings-api-keys-title', 'API keys', status, newButton),
    h('p', { class: 'section-lead muted' },
      canWrite
        ? 'Keys let other systems, such as your website or an import script, use this workspace’s API. Give each system its own key with only the access it needs; revoke it when it is no longer used.'
        : 'Keys let other systems use this workspace’s API. Owners and admins create and revoke them; you can see which exist and when they were last used.'),
    errorSlot,
    tableWrap,
    empty,
    usage);

  function update() {
    const all = [...keys.values()];
    const n = all.length;
    const active = all.filter((k) => !k.revoked_at).length;
    status.textContent = n ? `${n} ${n === 1 ? 'key' : 'keys'}, ${active} active` : 'No keys';
    tableWrap.hidden = n === 0;
    empty.hidden = n !== 0;
    if (n === 0) {
      mount(empty, emptyState({
        testid: 'empty-state', iconName: 'key', title: 'No API keys yet',
        text: canWrite
          ? 'Create a key to let another system read or change contacts, deals, campaigns or tickets through the API.'
          : 'Nobody has created an API key for this workspace.',
      }));
    }
  }

  function row(k, { fresh = false } = {}) {
    const revoked = Boolean(k.revoked_at);
    const name = k.name || '(unnamed)';
    const usedText = k.last_used_at ? null : 'Never used';
    return h('tr', {
      class: ['api-key-row', fresh && 'row-new', revoked && 'is-revoked'],
      dataset: { testid: 'api-key-row', keyId: k.id, state: revoked ? 'revoked' : 'active' },
    },
    h('td', { class: 'kcol-name' },
      h('span', { class: 'truncate key-name', title: name, dataset: { testid: 'api-key-name-text' } }, name),
      h('div', { class: 'cell-sub' },
        usedText || ['Used ', timeEl(k.last_used_at)],
        h('span', { class: 'sub-status' }, ' · ', revoked ? 'Revoked' : 'Active'))),
    h('td', { class: 'kcol-scopes' }, scopeChips(k.scopes)),
    h('td', { class: 'kcol-by' }, actorEl(k.created_by, users)),
    h('td', { class: 'kcol-created' }, timeEl(k.created_at)),
    h('td', { class: 'kcol-used' }, k.last_used_at ? timeEl(k.last_used_at) : h('span', { class: 'muted' }, 'Never')),
    h('td', { class: 'kcol-status' }, revoked
      ? h('span', { title: `Revoked ${new Date(k.revoked_at).toLocaleString()}` }, badge('Revoked', 'neutral', 'api-key-status'))
      : badge('Active', 'success', 'api-key-status')),
    canWrite ? h('td', { class: 'kcol-actions' }, revoked ? null : h('button', {
      type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'revoke-api-key' },
      'aria-label': `Revoke ${name}`, title: `Revoke ${name}`,
      onclick: () => confirmRevoke(k),
    }, icon('x', { size: 15 }), h('span', { class: 'btn-label' }, 'Revoke'))) : null);
  }

  function added(k) {
    if (!k?.id) return;
    keys.set(k.id, k);
    tbody.querySelector(`tr[data-key-id="${CSS.escape(k.id)}"]`)?.remove();
    tbody.prepend(row(k, { fresh: true }));
    update();
  }

  function replaceRow(k) {
    keys.set(k.id, k);
    const old = tbody.querySelector(`tr[data-key-id="${CSS.escape(k.id)}"]`);
    const next = row(k);
    if (old) old.replaceWith(next); else tbody.prepend(next);
    update();
    return next;
  }

  function confirmRevoke(k) {
    const name = k.name || 'this key';
    confirmDialog({
      title: `Revoke ${name}?`,
      text: `Anything using ${name} stops working at once and gets “401 Unauthorized”. This cannot be undone; create a new key if it is needed again.`,
      confirmLabel: 'Revoke key',
      workingLabel: 'Revoking…',
      testid: 'confirm-revoke',
      run: async () => {
        await api.revokeApiKey(k.id);
        const next = replaceRow({ ...k, revoked_at: new Date().toISOString() });
        // The revoke button is gone: keep the keyboard user in the same row.
        setTimeout(() => {
          if (!next.isConnected || (document.activeElement && document.activeElement !== document.body)) return;
          const target = next.querySelector('.key-name');
          target.setAttribute('tabindex', '-1');
          target.focus();
        }, 50);
        toast(`${name} no longer works.`, { kind: 'success', title: 'API key revoked' });
      },
    });
  }

  async function load() {
    errorSlot.replaceChildren();
    table.setAttribute('aria-busy', 'true');
    tableWrap.classList.add('is-refreshing');
    const names = loadUserDirectory(controller.signal).catch(() => new Map());
    try {
      let cursor;
      const all = [];
      for (let i = 0; i < 20; i += 1) {
        const p = await api.listApiKeys({ cursor, signal: controller.signal });
        all.push(...p.items.filter((k) => k && k.id != null));
        cursor = p.next_cursor;
        if (!cursor) break;
      }
      keys.clear();
      all.forEach((k) => keys.set(k.id, k));
      tbody.replaceChildren(...all.map((k) => row(k)));
      update();
      users = await names;
      upgradeActors(tbody, users);
    } catch (err) {
      if (err?.name === 'AbortError') return;
      if (err.status === 403) { mount(root, forbiddenState(err)); return; }
      status.textContent = 'API keys could not be loaded.';
      tbody.replaceChildren();
      errorSlot.replaceChildren(inlineError(err, load));
      toastError(err, 'Could not load API keys');
    } finally {
      table.setAttribute('aria-busy', 'false');
      tableWrap.classList.remove('is-refreshing');
    }
  }

  tbody.replaceChildren(...Array.from({ length: 3 }, () => h('tr', { 'aria-hidden': 'true' },
    h('td', { colspan: cols }, h('span', { class: 'skeleton skeleton-text', style: { width: '60%' } })))));
  load();

  return { destroy() { controller.abort(); } };
}

// ---------------------------------------------------------------------------
// New key: the form, then (in the same dialog) the token, shown once.

export function openNewKeyDialog({ onCreated } = {}) {
  if (document.querySelector('dialog.api-key-dialog[open]')) return null;
  let saving = false;
  let created = null;

  const box = errorBox();
  const name = field({
    name: 'name', label: 'Name', idPrefix: 'apikey', testid: 'api-key-name', required: true, autofocus: true, maxlength: 100,
    hint: 'Say what uses it, e.g. “Website sign-up form”.',
  });
  const selects = KEY_AREAS.map((a) => h('select', {
    id: `apikey-scope-${a.key}`, name: `scope-${a.key}`, class: 'select-sm',
    dataset: { testid: `api-key-scope-${a.key}`, area: a.key },
  }, ACCESS_OPTIONS.map((o) => h('option', { value: o.value }, o.label))));
  const scopes = h('fieldset', { class: 'field scope-fieldset', dataset: { field: 'scopes' } },
    h('legend', null, 'Access'),
    h('p', { class: 'field-hint muted', id: 'apikey-scopes-hint' }, 'Choose read or write access for each area the key needs. Keys never manage users, keys or settings.'),
    h('div', { class: 'scope-grid' },
      KEY_AREAS.map((a, i) => h('div', { class: 'scope-row' },
        h('label', { for: `apikey-scope-${a.key}` }, a.label),
        selects[i]))));
  selects[0].dataset.hint = 'apikey-scopes-hint';
  selects.forEach((s) => s.setAttribute('aria-describedby', 'apikey-scopes-hint'));

  const inputs = { name: name.input, scopes: selects[0] };
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'create-api-key' } }, 'Create key');

  const form = h('form', { class: 'dialog-form', novalidate: true, dataset: { testid: 'api-key-form' } },
    h('header', { class: 'dialog-header' },
      h('h2', { id: 'api-key-dialog-title' }, 'New API key'),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
    h('div', { class: 'dialog-body' },
      box,
      h('div', { class: 'field-grid' }, name.wrap, scopes)),
    h('footer', { class: 'dialog-footer' },
      h('span', { class: 'muted footer-hint' }, h('kbd', null, 'Enter'), ' to create · ', h('kbd', null, 'Esc'), ' to close'),
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
      submit));
  const dialog = h('dialog', { class: 'dialog api-key-dialog', 'aria-labelledby': 'api-key-dialog-title' }, form);
  const errs = formErrors({ form, inputs, idPrefix: 'apikey', box });
  name.input.addEventListener('input', () => errs.clearField('name'));
  selects.forEach((s) => s.addEventListener('change', () => errs.clearField('scopes')));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    errs.clearAll();
    const body = {
      name: name.input.value.trim(),
      scopes: selects.filter((s) => s.value === 'read' || s.value === 'write').map((s) => `${s.dataset.area}:${s.value}`),
    };
    let invalid = false;
    if (!body.name) { errs.setField('name', ['Enter a name for the key']); invalid = true; }
    if (!body.scopes.length) { errs.setField('scopes', ['Choose read or write access for at least one area']); invalid = true; }
    if (invalid) { (body.name ? selects[0] : name.input).focus(); return; }
    saving = true;
    busy(submit, true, { idle: 'Create key', working: 'Creating…' });
    try {
      const { key, token } = await api.createApiKey(body);
      created = { last_used_at: null, revoked_at: null, created_at: new Date().toISOString(), ...body, ...(key || {}) };
      showToken(created, token);
    } catch (err) {
      saving = false;
      busy(submit, false, { idle: 'Create key', working: 'Creating…' });
      errs.fromApi(err, { fallbackTitle: 'Could not create the key', focus: name.input });
      if (!err.isValidation) toastError(err, 'Could not create the key');
    }
  });

  function showToken(key, token) {
    // A stray click on the backdrop must not lose a token shown only once.
    dialog.setAttribute('data-keep-open', '');
    dialog.setAttribute('aria-labelledby', 'api-key-token-title');
    const value = h('code', { class: 'token-value', dataset: { testid: 'api-key-token-value' } }, token);
    const done = h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'api-key-token-done' }, onclick: () => dialog.close('done') }, 'Done');
    const copy = copyButton(() => token, { testid: 'copy-api-key-token', describe: 'Copy the token' });
    const view = h('div', { class: 'dialog-form token-view', dataset: { testid: 'api-key-token' } },
      h('header', { class: 'dialog-header' },
        h('h2', { id: 'api-key-token-title' }, 'API key created'),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('done') }, icon('x'))),
      h('div', { class: 'dialog-body' },
        h('div', { class: 'token-warning', role: 'alert', dataset: { testid: 'api-key-token-warning' } },
          icon('alert'),
          h('div', null,
            h('strong', null, 'Copy this token now. '),
            'It will not be shown again: the workspace keeps only a fingerprint of it. If it is lost, revoke the key and create a new one.')),
        h('p', { class: 'token-label', id: 'api-key-token-label' }, 'Token for ', h('strong', null, key.name || 'the new key')),
        h('div', { class: 'code-block token-block', 'aria-labelledby': 'api-key-token-label', role: 'group' }, value, copy),
        h('p', { class: 'muted token-usage' }, 'Send it in the header ', h('code', null, 'Authorization: Bearer <token>'), '.'),
        h('div', { class: 'token-scopes' }, h('span', { class: 'muted' }, 'Access'), scopeChips(key.scopes))),
      h('footer', { class: 'dialog-footer' }, done));
    form.replaceWith(view);
    copy.focus();
  }

  openModal(dialog, { onClose: () => { if (created) onCreated?.(created); } });
  name.input.focus();
  return dialog;
}
