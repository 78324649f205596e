// Full-page staff identity screens: sign in, accept an invitation, reset a
// password. The shell hides its navigation while one of these is shown.

import * as api from './api.js';
import { h, mount, icon, toast, tenantName, pageTitle } from './ui.js';
import { navigate } from './router.js';
import { field, formErrors, errorBox, busy, checkNewPassword, MIN_PASSWORD } from './forms.js';
import * as session from './session.js';

export const AUTH_PATHS = ['/sign-in', '/accept-invite', '/reset-password'];

export function isAuthPath(pathname) {
  const p = pathname.replace(/\/+$/, '') || '/';
  return AUTH_PATHS.includes(p);
}

const DEFAULT_NEXT = '/contacts';

/** A same-origin app path from ?next=, or the default (never an open redirect). */
export function safeNext(raw) {
  if (!raw || typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return DEFAULT_NEXT;
  try {
    const url = new URL(raw, location.origin);
    if (url.origin !== location.origin) return DEFAULT_NEXT;
    if (isAuthPath(url.pathname) || url.pathname.startsWith('/api/')) return DEFAULT_NEXT;
    return url.pathname + url.search + url.hash;
  } catch {
    return DEFAULT_NEXT;
  }
}

function go(path) {
  if (path === '/portal' || path.startsWith('/portal/')) location.assign(path);
  else navigate(path, { replace: true });
}

function tenantLabel() {
  return tenantName().replace(/[-_]+/g, ' ');
}

/** Brand, card with title and lead, and a footer below the card. */
function shell(root, { testid, title, lead, body, foot }) {
  mount(root,
    h('div', { class: 'auth-wrap', dataset: { testid } },
      h('div', { class: 'auth-brand' },
        h('img', { src: '/favicon.svg', alt: '', width: 28, height: 28 }),
        h('span', { class: 'auth-brand-name' }, 'Edge CRM'),
        h('span', { class: 'tenant', title: `Workspace: ${location.hostname}` }, tenantName()),
      ),
      h('section', { class: 'card auth-card', 'aria-labelledby': 'auth-title' },
        h('h1', { id: 'auth-title', class: 'auth-title', tabindex: '-1' }, title),
        lead ? h('p', { class: 'auth-lead' }, lead) : null,
        body,
      ),
      foot ? h('p', { class: 'auth-foot' }, foot) : null,
    ),
  );
}

function emptyStateIcon(name) {
  return h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon(name, { size: 28 }));
}

/** Replaces a card's form with an outcome (sent, done, expired link). */
function outcome({ testid, kind = 'info', iconName, title, text, actions = [] }) {
  return h('div', { class: ['auth-outcome', `auth-outcome-${kind}`], role: kind === 'error' ? 'alert' : 'status', dataset: { testid } },
    emptyStateIcon(iconName),
    h('h2', { class: 'auth-outcome-title', tabindex: '-1' }, title),
    text ? h('p', { class: 'muted' }, text) : null,
    actions.length ? h('div', { class: 'auth-actions' }, actions) : null,
  );
}

function showOutcome(container, node) {
  // The outcome replaces the form's lead and footer links too (its own actions say what next).
  const wrap = container.closest('.auth-wrap');
  wrap?.querySelectorAll('.auth-lead, .auth-foot').forEach((el) => { el.hidden = true; });
  mount(container, node);
  node.querySelector('h2')?.focus();
}

function signInLink(label = 'Back to sign in') {
  return h('a', { href: '/sign-in', dataset: { testid: 'back-to-sign-in' } }, label);
}

// ---------------------------------------------------------------------------
// Sign in

export function signInView(root, { query }) {
  pageTitle('Sign in');
  const next = safeNext(query.get('next'));
  let saving = false;
  let retryTimer = 0;
  const controller = new AbortController();

  const box = errorBox();
  const email = field({ name: 'email', label: 'Email', type: 'email', idPrefix: 'signin', testid: 'sign-in-email', autocomplete: 'username', inputmode: 'email', required: true, autofocus: true, maxlength: 320 });
  const password = field({ name: 'password', label: 'Password', type: 'password', idPrefix: 'signin', testid: 'sign-in-password', autocomplete: 'current-password', required: true, reveal: true, maxlength: 1024 });
  const forgot = h('a', { href: '/reset-password', class: 'label-link', dataset: { testid: 'forgot-password' } }, 'Forgot your password?');
  const passLabel = password.wrap.querySelector('label');
  const labelRow = h('div', { class: 'label-row' });
  passLabel.before(labelRow);
  labelRow.append(passLabel, forgot);

  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', dataset: { testid: 'sign-in-submit' } }, 'Sign in');
  const inputs = { email: email.input, password: password.input };
  const form = h('form', { class: 'auth-form', novalidate: true, dataset: { testid: 'sign-in-form' }, 'aria-describedby': 'auth-title' },
    box, email.wrap, password.wrap, submit);
  const errs = formErrors({ form, inputs, idPrefix: 'signin', box });
  Object.entries(inputs).forEach(([name, input]) => input.addEventListener('input', () => errs.clearField(name)));
  // A throttle is per address: another address may be tried at once.
  email.input.addEventListener('input', () => { if (retryTimer) { clearTimeout(retryTimer); retryTimer = 0; submit.disabled = false; } });

  const signedInAs = session.getSession().user;
  shell(root, {
    testid: 'sign-in-page',
    title: 'Sign in',
    lead: ['to the ', h('strong', { class: 'tenant-cap' }, tenantLabel()), ' workspace'],
    body: [
      signedInAs ? h('p', { class: 'auth-note', role: 'note' }, icon('check'),
        h('span', null, 'You are already signed in as ', h('strong', null, signedInAs.email || signedInAs.name), '. ',
          h('a', { href: next }, 'Continue'))) : null,
      form,
    ],
    foot: ['New here? Ask an admin of your workspace for an invitation.'],
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving || submit.disabled) return;
    errs.clearAll();
    const body = { email: email.input.value.trim(), password: password.input.value };
    let first = null;
    if (!body.email) { errs.setField('email', ['Enter your email address']); first ||= email.input; }
    if (!body.password) { errs.setField('password', ['Enter your password']); first ||= password.input; }
    if (first) { first.focus(); return; }

    saving = true;
    busy(submit, true, { idle: 'Sign in', working: 'Signing in…' });
    try {
      const user = await api.signIn(body, { signal: controller.signal });
      session.signedIn(user);
      go(next);
    } catch (err) {
      if (err?.name === 'AbortError') return;
      saving = false;
      busy(submit, false, { idle: 'Sign in', working: 'Signing in…' });
      if (err.status === 401) {
        errs.showBox(h('div', null, h('strong', null, 'Email or password is wrong'),
          h('div', null, 'Check both and try again. Passwords are case-sensitive.')));
        password.input.value = '';
        password.input.focus();
      } else if (err.status === 429) {
        const wait = err.retryAfter;
        errs.showBox(h('div', null,
          h('strong', null, err.title && err.title !== 'Too many requests' ? err.title : 'Too many attempts'),
          h('div', null, err.detail || 'Too many sign-in attempts.',
            wait != null ? ` Try again in ${wait} ${wait === 1 ? 'second' : 'seconds'}.` : ''),
        ));
        if (wait) {
          submit.disabled = true;
          clearTimeout(retryTimer);
          retryTimer = setTimeout(() => { submit.disabled = false; retryTimer = 0; }, Math.min(wait, 600) * 1000);
        }
      } else {
        errs.fromApi(err, { fallbackTitle: 'Could not sign in', focus: email.input });
      }
    }
  });

  return {
    kind: 'sign-in',
    destroy() { controller.abort(); clearTimeout(retryTimer); },
  };
}

// ---------------------------------------------------------------------------
// Accept an invitation

export function acceptInviteView(root, { query }) {
  const token = query.get('token') || '';
  const tenant = tenantLabel();
  pageTitle(`Join ${tenant}`);
  const controller = new AbortController();
  const title = ['Join ', h('span', { class: 'tenant-cap', dataset: { testid: 'invite-tenant' } }, tenant)];

  if (!token) {
    shell(root, {
      testid: 'accept-invite-page',
      title,
      body: outcome({
        testid: 'link-invalid', kind: 'error', iconName: 'alert',
        title: 'This invitation link is incomplete',
        text: 'Open the link from your invitation email again (all of it), or ask an admin to send a new invitation.',
        actions: [h('a', { class: 'btn', href: '/sign-in' }, 'Go to sign in')],
      }),
    });
    return { kind: 'accept-invite', destroy() {} };
  }

  let saving = false;
  const box = errorBox();
  const name = field({ name: 'name', label: 'Your name', idPrefix: 'accept', testid: 'accept-name', autocomplete: 'name', required: true, autofocus: true, maxlength: 200 });
  const password = field({ name: 'password', label: 'Password', type: 'password', idPrefix: 'accept', testid: 'accept-password', autocomplete: 'new-password', required: true, reveal: true, minlength: MIN_PASSWORD, maxlength: 1024, hint: `At least ${MIN_PASSWORD} characters.` });
  const confirm = field({ name: 'confirm', label: 'Confirm password', type: 'password', idPrefix: 'accept', testid: 'accept-confirm', autocomplete: 'new-password', required: true, maxlength: 1024 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', dataset: { testid: 'accept-submit' } }, 'Join workspace');
  const inputs = { name: name.input, password: password.input, confirm: confirm.input };
  const form = h('form', { class: 'auth-form', novalidate: true, dataset: { testid: 'accept-invite-form' } },
    box, name.wrap, password.wrap, confirm.wrap, submit);
  const errs = formErrors({ form, inputs, idPrefix: 'accept', box });
  Object.entries(inputs).forEach(([n, input]) => input.addEventListener('input', () => errs.clearField(n)));
  const container = h('div', null, form);

  shell(root, {
    testid: 'accept-invite-page',
    title,
    lead: 'You were invited to this workspace. Choose the name your team will see and a password to finish setting up your account.',
    body: container,
    foot: ['Already have an account? ', signInLink('Sign in')],
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    errs.clearAll();
    const body = { token, name: name.input.value.trim(), password: password.input.value };
    const problems = checkNewPassword(body.password, confirm.input.value);
    if (!body.name) problems.name = ['Enter your name'];
    const order = ['name', 'password', 'confirm'].filter((k) => problems[k]);
    if (order.length) {
      order.forEach((k) => errs.setField(k, problems[k]));
      inputs[order[0]].focus();
      return;
    }
    saving = true;
    busy(submit, true, { idle: 'Join workspace', working: 'Joining…' });
    try {
      const user = await api.acceptInvite(body, { signal: controller.signal });
      session.signedIn(user);
      navigate('/contacts', { replace: true });
      toast(`You are signed in as ${user?.email || body.name}.`, { kind: 'success', title: `Welcome to ${tenant}` });
    } catch (err) {
      if (err?.name === 'AbortError') return;
      saving = false;
      busy(submit, false, { idle: 'Join workspace', working: 'Joining…' });
      if (err.status === 410) {
        showOutcome(container, outcome({
          testid: 'link-gone', kind: 'error', iconName: 'clock',
          title: 'This invitation has expired or was already used',
          text: 'Ask an admin of your workspace to send you a new invitation. If you already accepted it, sign in instead.',
          actions: [h('a', { class: 'btn btn-primary', href: '/sign-in' }, 'Go to sign in')],
        }));
      } else {
        errs.fromApi(err, { fallbackTitle: 'Could not accept the invitation', focus: name.input });
      }
    }
  });

  return { kind: 'accept-invite', destroy() { controller.abort(); } };
}

// ---------------------------------------------------------------------------
// Reset a password: ask for a link (no token), or choose a new one (token)

export function resetPasswordView(root, { query }) {
  const token = query.get('token') || '';
  return token ? chooseNewPassword(root, token) : requestResetLink(root);
}

function requestResetLink(root) {
  pageTitle('Reset your password');
  const controller = new AbortController();
  let saving = false;
  const box = errorBox();
  const email = field({ name: 'email', label: 'Email', type: 'email', idPrefix: 'reset', testid: 'reset-email', autocomplete: 'username', inputmode: 'email', required: true, autofocus: true, maxlength: 320 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', dataset: { testid: 'reset-submit' } }, 'Send reset link');
  const inputs = { email: email.input };
  const form = h('form', { class: 'auth-form', novalidate: true, dataset: { testid: 'reset-request-form' } }, box, email.wrap, submit);
  const errs = formErrors({ form, inputs, idPrefix: 'reset', box });
  email.input.addEventListener('input', () => errs.clearField('email'));
  const container = h('div', null, form);

  shell(root, {
    testid: 'reset-password-page',
    title: 'Reset your password',
    lead: 'Enter the email address you sign in with. We will send you a link to choose a new password.',
    body: container,
    foot: ['Remembered it? ', signInLink()],
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    errs.clearAll();
    const value = email.input.value.trim();
    if (!value) { errs.setField('email', ['Enter your email address']); email.input.focus(); return; }
    saving = true;
    busy(submit, true, { idle: 'Send reset link', working: 'Sending…' });
    try {
      await api.requestPasswordReset({ email: value }, { signal: controller.signal });
      showOutcome(container, outcome({
        testid: 'reset-requested', kind: 'success', iconName: 'mail',
        title: 'If that address has an account, we’ve sent a link',
        text: `Check the inbox of ${value}. The link works once and expires after a while; if nothing arrives, check your spam folder or try again.`,
        actions: [h('a', { class: 'btn', href: '/sign-in' }, 'Back to sign in')],
      }));
    } catch (err) {
      if (err?.name === 'AbortError') return;
      saving = false;
      busy(submit, false, { idle: 'Send reset link', working: 'Sending…' });
      if (err.status === 429) {
        errs.showBox(h('div', null, h('strong', null, 'Too many requests'),
          h('div', null, err.detail || 'Please wait a moment.',
            err.retryAfter != null ? ` Try again in ${err.retryAfter} ${err.retryAfter === 1 ? 'second' : 'seconds'}.` : '')));
      } else {
        errs.fromApi(err, { fallbackTitle: 'Could not send the link', focus: email.input });
      }
    }
  });

  return { kind: 'reset-request', destroy() { controller.abort(); } };
}

function chooseNewPassword(root, token) {
  pageTitle('Choose a new password');
  const controller = new AbortController();
  let saving = false;
  const box = errorBox();
  const password = field({ name: 'password', label: 'New password', type: 'password', idPrefix: 'reset', testid: 'reset-password', autocomplete: 'new-password', required: true, reveal: true, autofocus: true, minlength: MIN_PASSWORD, maxlength: 1024, hint: `At least ${MIN_PASSWORD} characters.` });
  const confirm = field({ name: 'confirm', label: 'Confirm new password', type: 'password', idPrefix: 'reset', testid: 'reset-confirm', autocomplete: 'new-password', required: true, maxlength: 1024 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', dataset: { testid: 'reset-save' } }, 'Save new password');
  const inputs = { password: password.input, confirm: confirm.input };
  const form = h('form', { class: 'auth-form', novalidate: true, dataset: { testid: 'reset-form' } }, box, password.wrap, confirm.wrap, submit);
  const errs = formErrors({ form, inputs, idPrefix: 'reset', box });
  Object.entries(inputs).forEach(([n, input]) => input.addEventListener('input', () => errs.clearField(n)));
  const container = h('div', null, form);

  shell(root, {
    testid: 'reset-password-page',
    title: 'Choose a new password',
    lead: 'Pick a password you do not use anywhere else.',
    body: container,
    foot: [signInLink()],
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    errs.clearAll();
    const problems = checkNewPassword(password.input.value, confirm.input.value);
    const order = ['password', 'confirm'].filter((k) => problems[k]);
    if (order.length) {
      order.forEach((k) => errs.setField(k, problems[k]));
      inputs[order[0]].focus();
      return;
    }
    saving = true;
    busy(submit, true, { idle: 'Save new password', working: 'Saving…' });
    try {
      await api.resetPassword({ token, password: password.input.value }, { signal: controller.signal });
      showOutcome(container, outcome({
        testid: 'reset-done', kind: 'success', iconName: 'check',
        title: 'Your password was changed',
        text: 'Sign in with your new password.',
        actions: [h('a', { class: 'btn btn-primary', href: '/sign-in', dataset: { testid: 'reset-sign-in' } }, 'Sign in')],
      }));
    } catch (err) {
      if (err?.name === 'AbortError') return;
      saving = false;
      busy(submit, false, { idle: 'Save new password', working: 'Saving…' });
      if (err.status === 410) {
        showOutcome(container, outcome({
          testid: 'link-gone', kind: 'error', iconName: 'clock',
          title: 'This reset link has expired or was already used',
          text: 'Reset links work once and only for a limited time. Ask for a new one.',
          actions: [h('a', { class: 'btn btn-primary', href: '/reset-password' }, 'Request a new link')],
        }));
      } else {
        errs.fromApi(err, { fallbackTitle: 'Could not change the password', focus: password.input });
      }
    }
  });

  return { kind: 'reset-password', destroy() { controller.abort(); } };
}
