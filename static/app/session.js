// Who is signed in: loaded once from GET /api/v1/auth/me at start, updated on
// sign-in, accept-invite and sign-out. Views subscribe with onSessionChange().

import * as api from './api.js';

/** status: 'loading' | 'signed-in' | 'signed-out' | 'error' */
let state = { status: 'loading', user: null, error: null };
let loaded = null;
const listeners = new Set();

export function getSession() { return state; }

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function set(next) {
  state = next;
  for (const fn of listeners) {
    try { fn(state); } catch (err) { console.error(err); }
  }
}

/** Ask the server who is signed in. Resolves to the session state. */
export function loadSession() {
  loaded = api.me()
    .then((user) => set(user ? { status: 'signed-in', user, error: null } : { status: 'signed-out', user: null, error: null }))
    .catch((err) => {
      if (err?.status === 401) set({ status: 'signed-out', user: null, error: null });
      else set({ status: 'error', user: null, error: err });
    })
    .then(() => state);
  return loaded;
}

/** The session once it is known (loads it on first use). */
export function whenLoaded() { return loaded || loadSession(); }

export function signedIn(user) {
  set({ status: 'signed-in', user, error: null });
  loaded = Promise.resolve(state);
}

export function signedOut() {
  api.setCsrfToken(null);
  if (state.status === 'signed-out') return;
  set({ status: 'signed-out', user: null, error: null });
  loaded = Promise.resolve(state);
}

/** Update the signed-in user's record (e.g. after an admin edits it). */
export function updateUser(user) {
  if (state.status === 'signed-in' && user?.id === state.user?.id) set({ ...state, user: { ...state.user, ...user } });
}

// ---------------------------------------------------------------------------
// Roles

export const ROLES = ['owner', 'admin', 'manager', 'sales', 'marketing', 'support', 'read-only'];
/** Roles an invitation or a role change may give (nobody becomes owner here). */
export const ASSIGNABLE_ROLES = ROLES.filter((r) => r !== 'owner');

const ROLE_LABELS = {
  owner: 'Owner',
  admin: 'Admin',
  manager: 'Manager',
  sales: 'Sales',
  marketing: 'Marketing',
  support: 'Support',
  'read-only': 'Read-only',
};

/** What each role may do (mirrors the server's permission matrix). */
export const ROLE_HINTS = {
  owner: 'Owns the workspace: everything, including users and settings.',
  admin: 'Everything, including users and settings.',
  manager: 'Edits contacts, pipeline, campaigns and the service desk; sees settings.',
  sales: 'Edits contacts and the pipeline; sees campaigns and the service desk.',
  marketing: 'Edits contacts and campaigns; sees the pipeline and the service desk.',
  support: 'Edits contacts and the service desk; sees the pipeline and campaigns.',
  'read-only': 'Sees contacts, pipeline, campaigns and the service desk; changes nothing.',
};

export function roleLabel(role) {
  if (!role) return '';
  return ROLE_LABELS[role] || String(role).replace(/[-_]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

export function isAdmin(user) {
  return user?.role === 'owner' || user?.role === 'admin';
}

/**
 * What a user may do in Settings (mirrors the server's matrix for the
 * settings area): 'write' for owners and admins, 'read' for managers, 'none'
 * for everyone else.
 */
export function settingsAccess(user) {
  if (isAdmin(user)) return 'write';
  if (user?.role === 'manager') return 'read';
  return 'none';
}

export function userDisplayName(u) {
  return (u?.name || '').trim() || (u?.email || '').trim() || 'Unnamed user';
}

export function userInitials(u) {
  const name = (u?.name || '').trim();
  if (name) {
    const parts = name.split(/\s+/).filter(Boolean);
    return (parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : parts[0].slice(0, 2)).toUpperCase();
  }
  return ((u?.email || '?').trim()[0] || '?').toUpperCase();
}
