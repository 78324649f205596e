// Customer portal (/portal on the tenant's host): sign in with a link we
// email (no password), then follow your orders (the list, and each order's
// items, totals, shipping and status timeline) and your complaints, and read
// the help (public). Mobile first, light and dark (system setting), keyboard
// and screen-reader friendly.
//
// Pages (the web component serves this index.html for every /portal/... path):
//   /portal                    → your orders when signed in, else sign-in
//   /portal/sign-in            → email field → "check your email"
//   /portal/sign-in?token=…    → redeems the link (the token leaves the URL at once)
//   /portal/orders             → your orders
//   /portal/orders/<id>        → one order, with "Report a problem" (complaints.js)
//   /portal/complaints         → your complaints (?order=<id>: about one order)
//   /portal/complaints/new     → file one (?order=<id> preselects the order)
//   /portal/complaints/<id>    → the conversation, reply, rating
//   /portal/tickets[/<id>]     → the same (the address the service desk's emails use)
//   /portal/help[/<id>]        → the knowledge base (help.js; no sign-in needed)
// A 401 from the API anywhere returns to the sign-in page; after signing in
// (within the hour) the customer lands where they were going.

import { h, mount, icon, copyText } from '/app/ui.js';
import {
  orderStatusBadge, formatOrderMoney, totalsRows, statusTrack, orderTitle, itemsText, oicon,
} from '/app/order-display.js';
import * as api from '/portal/portal-api.js';
import { tenant, tenantTitle, page, notice, errorPanel, fullDate } from '/portal/portal-kit.js';
import { loadBrand, onBrand } from '/portal/brand.js';
import { helpView, articleView } from '/portal/help.js';
import { complaintsSlot, complaintsView, newComplaintView, complaintView } from '/portal/complaints.js';

const main = document.getElementById('portal-main');
const account = document.querySelector('[data-testid="portal-account"]');
const nav = document.querySelector('[data-testid="portal-nav"]');

// ---------------------------------------------------------------------------
// Chrome: branding (the portal's name and accent colour, brand.js), page
// titles, the account area

const mark = document.querySelector('[data-testid="portal-mark"]');
let titleParts = [];

function paintBrand() {
  document.querySelectorAll('[data-testid="tenant-name"]').forEach((el) => { el.textContent = tenant; });
  if (mark) mark.textContent = (Array.from(tenant.trim())[0] || '?').toUpperCase();
  setTitle(...titleParts);
}

function setTitle(...parts) {
  titleParts = parts;
  document.title = [...parts.filter(Boolean), `${tenantTitle} customer portal`].join(' · ');
}

onBrand(paintBrand);
paintBrand();
// The cached look applies at once; a first visit waits briefly for the server's.
const brandReady = loadBrand();

// true / false once known; null until then (a public page asks the server quietly).
let signedIn = null;
function setSignedIn(on) {
  signedIn = on;
  renderHeader();
}

/** The section of the portal a path belongs to (for the header's aria-current). */
function sectionOf(path) {
  const m = /^\/portal\/(orders|complaints|tickets|help|sign-in)(?:\/|$)/.exec(path);
  if (!m) return path === '/portal' ? 'orders' : null;
  return m[1] === 'tickets' ? 'complaints' : m[1];
}

const SECTIONS = [
  ['orders', '/portal/orders', 'Orders', () => oicon('bag', { size: 17 })],
  ['complaints', '/portal/complaints', 'Complaints', () => icon('inbox', { size: 17 })],
  ['help', '/portal/help', 'Help', () => icon('lifebuoy', { size: 17 })],
];

function renderHeader() {
  const path = location.pathname.replace(/\/+$/, '') || '/portal';
  const section = sectionOf(path);
  const current = (key) => (key === section ? (path === `/portal/${key}` ? 'page' : 'true') : null);
  if (signedIn) {
    mount(nav, h('ul', { class: 'portal-nav-list' }, SECTIONS.map(([key, href, label, ic]) => h('li', null,
      h('a', { href, class: 'portal-nav-link', 'aria-current': current(key), dataset: { testid: `portal-nav-${key}` } }, ic(), h('span', null, label))))));
    nav.hidden = false;
    const who = api.known().email;
    mount(account,
      who ? h('span', { class: 'portal-who', title: `Signed in as ${who}` }, h('span', { class: 'visually-hidden' }, 'Signed in as '), who) : null,
      h('button', { type: 'button', class: 'btn btn-sm portal-sign-out', dataset: { testid: 'portal-sign-out' }, onclick: signOut },
        icon('logOut', { size: 15 }), h('span', null, 'Sign out')));
    account.hidden = false;
    return;
  }
  nav.hidden = true;
  nav.replaceChildren();
  if (signedIn === null) { account.hidden = true; account.replaceChildren(); return; }
  // Signed out: the way to the help, and to signing in.
  mount(account,
    section !== 'help' ? h('a', { class: 'btn btn-sm portal-head-link', href: '/portal/help', dataset: { testid: 'portal-help-link' } },
      icon('lifebuoy', { size: 15 }), h('span', null, 'Help')) : null,
    section !== 'sign-in' ? h('a', { class: 'btn btn-sm portal-head-link', href: '/portal/sign-in', dataset: { testid: 'portal-sign-in-link' } },
      icon('logIn', { size: 15 }), h('span', null, 'Sign in')) : null);
  account.hidden = false;
}

/** Is this tab signed in? Asks the server (quietly) when it is not known yet. */
let sessionCheck = null;
function session() {
  if (signedIn !== null) return Promise.resolve(signedIn);
  sessionCheck ||= api.me({ quiet: true }).then(() => { sessionCheck = null; setSignedIn(true); return true; })
    .catch((err) => {
      sessionCheck = null;
      if (err?.status === 401) { api.forget(); setSignedIn(false); }
      return false;
    });
  return sessionCheck;
}

// After signing in, go where the customer was going (a complaint from an email, say).
const NEXT_KEY = 'edgecrm.portal.next';
function rememberNext(path) {
  try { localStorage.setItem(NEXT_KEY, JSON.stringify({ path, at: Date.now() })); } catch { /* storage unavailable */ }
}
function takeNext() {
  try {
    const v = JSON.parse(localStorage.getItem(NEXT_KEY) || 'null');
    localStorage.removeItem(NEXT_KEY);
    if (v && typeof v.path === 'string' && /^\/portal\/(orders|complaints|tickets)(\/|\?|$)/.test(v.path) && Date.now() - v.at < 3600_000) return v.path;
  } catch { /* nothing remembered */ }
  return null;
}

async function signOut(e) {
  const button = e?.currentTarget;
  if (button) { button.disabled = true; button.setAttribute('aria-busy', 'true'); }
  try {
    await api.signOut();
  } catch {
    // The session may have ended already; this tab forgets it either way.
  }
  setSignedIn(false);
  go('/portal/sign-in', { state: { notice: 'signed-out' } });
}

// ---------------------------------------------------------------------------
// Routing (History API, /portal/... only)

let current = null; // { controller }
let firstRender = true;

function go(path, { replace = false, state = null } = {}) {
  if (replace) history.replaceState(state, '', path);
  else history.pushState(state, '', path);
  if (!replace) window.scrollTo(0, 0);
  render();
}

function render() {
  current?.controller.abort();
  const controller = new AbortController();
  current = { controller };
  const path = location.pathname.replace(/\/+$/, '') || '/portal';
  const query = new URLSearchParams(location.search);
  const state = history.state || {};
  const ctx = { signal: controller.signal, state, query, main, go, settle, setTitle, setSignedIn, session };
  main.setAttribute('aria-busy', 'false');

  // The service desk's emails link to /portal/tickets/<id>: the complaint page.
  let m = /^\/portal\/tickets(\/[^/]+)?$/.exec(path);
  if (m) {
    history.replaceState(history.state, '', `/portal/complaints${m[1] || ''}${location.search}`);
    render();
    return;
  }
  renderHeader();
  if (path === '/portal') homeView(ctx);
  else if (path === '/portal/sign-in') {
    if (query.get('token')) redeemView(ctx, query.get('token'));
    else signInView(ctx);
  } else if (path === '/portal/orders') ordersView(ctx);
  else if ((m = /^\/portal\/orders\/([^/]+)$/.exec(path))) orderView(ctx, safeDecode(m[1]));
  else if (path === '/portal/complaints') complaintsView(ctx);
  else if (path === '/portal/complaints/new') newComplaintView(ctx);
  else if ((m = /^\/portal\/complaints\/([^/]+)$/.exec(path))) complaintView(ctx, safeDecode(m[1]));
  else if (path === '/portal/help') { helpView(ctx); session(); }
  else if ((m = /^\/portal\/help\/([^/]+)$/.exec(path))) { articleView(ctx, safeDecode(m[1])); session(); }
  else notFoundView(ctx);
  firstRender = false;
}

function safeDecode(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}

/** After a page renders: move the focus to its heading (not on the first load, which starts at the top). */
function settle() {
  if (firstRender) return;
  queueMicrotask(() => main.querySelector('h1')?.focus({ preventScroll: true }));
}

document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target && a.target !== '_self') return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !(url.pathname === '/portal' || url.pathname.startsWith('/portal/'))) return;
  e.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener('popstate', () => { render(); settle(); });
// Back to this page from the browser's cache (e.g. after following a sign-in link): show it as it is now.
window.addEventListener('pageshow', (e) => { if (e.persisted) render(); });

// Any portal call answering 401 (not signed in, or the session ended): back to sign-in.
api.onUnauthenticated((err) => {
  const wasSignedIn = signedIn || err?.hadSession;
  const here = location.pathname + location.search;
  const deep = /^\/portal\/(orders\/|complaints)/.test(location.pathname);
  if (deep) rememberNext(here);
  setSignedIn(false);
  queueMicrotask(() => go('/portal/sign-in', { replace: true, state: { notice: wasSignedIn ? 'expired' : deep ? 'continue' : 'signed-out-quiet' } }));
  return true;
});

// ---------------------------------------------------------------------------
// Home: orders when signed in, else sign-in

function homeView(ctx) {
  setTitle();
  mount(main, page(h('p', { class: 'portal-loading-text muted', role: 'status' }, 'Loading…')));
  api.me({ signal: ctx.signal }).then(() => {
    if (ctx.signal.aborted) return;
    setSignedIn(true);
    go('/portal/orders', { replace: true });
  }).catch((err) => {
    if (err?.name === 'AbortError' || err?.handled) return;
    // 401 is handled (→ sign-in); anything else: show the sign-in page anyway.
    go('/portal/sign-in', { replace: true });
  });
}

// ---------------------------------------------------------------------------
// Sign-in: email → link → "check your email"

const NOTICES = {
  'signed-out': ['info', 'check', 'You are signed out.', 'Thanks for stopping by. Sign in again any time with a new link.'],
  expired: ['info', 'clock', 'Your session has ended.', 'For your security, sign-ins last a limited time. Enter your email and we will send you a new link.'],
  continue: ['info', 'lock', 'Please sign in first.', 'Once you are signed in with the link we email you, we take you to the page you were opening.'],
  'link-invalid': ['warn', 'alert', 'This sign-in link cannot be used any more.',
    'Each link works once, for 15 minutes. Enter your email and we will send you a fresh one.'],
};

function signInView(ctx, { noticeKey = ctx.state?.notice, prefill = '' } = {}) {
  setTitle('Sign in');
  setSignedIn(false);
  const n = NOTICES[noticeKey];
  const body = h('div', { class: 'portal-signin-body' });
  const card = h('section', { class: 'card portal-card', 'aria-labelledby': 'portal-title', dataset: { testid: 'portal-sign-in' } },
    h('h1', { id: 'portal-title', tabindex: '-1' }, 'Sign in'),
    h('p', { class: 'portal-lead' }, 'Follow your orders and complaints with ', h('strong', { class: 'tenant-cap' }, tenant), '. No password needed: we email you a link that signs you in.'),
    n ? notice(n[0], n[1], n[2], n[3], noticeKey === 'link-invalid' ? 'portal-link-invalid' : 'portal-notice') : null,
    body);
  const helpNote = h('p', { class: 'portal-help-note', dataset: { testid: 'portal-sign-in-help' } },
    icon('lifebuoy', { size: 16 }),
    'Have a question? ', h('a', { href: '/portal/help' }, 'Browse the help'), '. No sign-in needed.');
  mount(main, page(card, helpNote));
  showForm(body, { prefill, signal: ctx.signal });
  settle();
  // Back on this page while this tab is still signed in (e.g. with the back button): say so.
  if (!n && api.known().csrf) {
    api.me({ signal: ctx.signal, quiet: true }).then(() => {
      if (ctx.signal.aborted) return;
      setSignedIn(true);
      const who = api.known().email;
      const note = notice('success', 'check', 'You are signed in.', null, 'portal-already-signed-in');
      note.querySelector('div').append(h('p', null, who ? ['As ', h('strong', null, who), '. '] : null, h('a', { href: '/portal/orders' }, 'See your orders'), '.'));
      body.before(note);
    }).catch(() => {});
  }
}

function showForm(body, { prefill = '', signal } = {}) {
  const input = h('input', {
    id: 'portal-email', name: 'email', type: 'email', autocomplete: 'email', inputmode: 'email', required: true,
    spellcheck: 'false', autocapitalize: 'off', maxlength: 254, placeholder: 'you@example.com', value: prefill,
    'aria-describedby': 'portal-email-hint', dataset: { testid: 'portal-email' },
  });
  const err = h('p', { class: 'field-error', id: 'portal-email-error', role: 'alert', hidden: true, dataset: { testid: 'portal-email-error' } });
  const box = h('div', { hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', dataset: { testid: 'portal-request-link' } },
    icon('mail', { size: 17 }), h('span', null, 'Email me a sign-in link'));
  const form = h('form', { class: 'portal-form', novalidate: true, 'aria-labelledby': 'portal-title' },
    box,
    h('div', { class: 'field' },
      h('label', { for: 'portal-email' }, 'Email address'),
      input,
      h('p', { class: 'field-hint muted', id: 'portal-email-hint' }, 'Use the address you gave when you ordered.'),
      err),
    submit);
  mount(body, form);

  function fieldError(message) {
    err.hidden = false;
    mount(err, icon('alert', { size: 14 }), h('span', null, message));
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', 'portal-email-hint portal-email-error');
    input.focus();
  }
  function clearError() {
    err.hidden = true;
    input.removeAttribute('aria-invalid');
    input.setAttribute('aria-describedby', 'portal-email-hint');
  }
  input.addEventListener('input', clearError);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    clearError();
    box.hidden = true;
    const address = input.value.trim();
    if (!address) { fieldError('Enter your email address.'); return; }
    if (!/^[^\s@]+@[^\s@]+$/.test(address)) { fieldError('This does not look like an email address. Check it for typos.'); return; }
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    submit.lastChild.textContent = 'Sending…';
    try {
      await api.requestLink(address, { signal });
      showCheckEmail(body, address, { signal });
    } catch (ex) {
      if (ex?.name === 'AbortError') return;
      submit.disabled = false;
      form.removeAttribute('aria-busy');
      submit.lastChild.textContent = 'Email me a sign-in link';
      if (ex?.isValidation) fieldError('This does not look like an email address. Check it for typos.');
      else if (ex?.status === 429) {
        box.hidden = false;
        mount(box, notice('warn', 'clock', 'Too many links asked for.', `Please wait ${ex.retryAfter ? `${Math.ceil(ex.retryAfter / 60)} min` : 'a few minutes'} and try again. Links already sent still work.`));
      } else {
        box.hidden = false;
        mount(box, errorPanel(ex));
      }
    }
  });
  return input;
}

function showCheckEmail(body, address, { signal } = {}) {
  const resendNote = h('p', { class: 'portal-resend-note muted', role: 'status' });
  let wait = 30;
  const resend = h('button', { type: 'button', class: 'btn btn-block', dataset: { testid: 'portal-resend' }, disabled: true }, `Send a new link (${wait} s)`);
  const timer = setInterval(() => {
    if (signal?.aborted || !resend.isConnected) { clearInterval(timer); return; }
    wait -= 1;
    if (wait <= 0) { clearInterval(timer); resend.disabled = false; resend.textContent = 'Send a new link'; } else resend.textContent = `Send a new link (${wait} s)`;
  }, 1000);
  resend.addEventListener('click', async () => {
    resend.disabled = true;
    resend.textContent = 'Sending…';
    try {
      await api.requestLink(address, { signal });
      resendNote.textContent = 'We sent another link. Use the newest one.';
    } catch (ex) {
      if (ex?.name === 'AbortError') return;
      resendNote.textContent = ex?.detail || 'The link could not be sent. Please try again in a moment.';
    }
    resend.textContent = 'Send a new link';
    setTimeout(() => { if (resend.isConnected) resend.disabled = false; }, 30000);
  });

  const panel = h('div', { class: 'portal-check', role: 'status', dataset: { testid: 'portal-check-email' } },
    h('div', { class: 'portal-check-icon', 'aria-hidden': 'true' }, icon('mail', { size: 30 })),
    h('h2', { class: 'portal-check-title', tabindex: '-1' }, 'Check your email'),
    h('p', null, 'If ', h('strong', { class: 'portal-address' }, address), ' belongs to a customer of ', h('span', { class: 'tenant-cap' }, tenant),
      ', a sign-in link is on its way.'),
    h('p', { class: 'muted' }, 'Open it on this device. It works once, for 15 minutes. Nothing there after a few minutes? Check your spam folder or send a new link.'));
  mount(body, panel,
    h('div', { class: 'portal-check-actions' },
      resend,
      h('button', { type: 'button', class: 'link-button portal-other-email', dataset: { testid: 'portal-other-email' }, onclick: () => {
        clearInterval(timer);
        body.closest('.portal-card')?.querySelectorAll('.portal-lead').forEach((el) => { el.hidden = false; });
        const input = showForm(body, { prefill: address, signal });
        input.focus();
        input.select();
      } }, 'Use a different email address')),
    resendNote);
  body.closest('.portal-card')?.querySelectorAll('.portal-lead, .portal-notice').forEach((el) => { el.hidden = true; });
  panel.querySelector('h2').focus();
}

// ---------------------------------------------------------------------------
// Redeeming a link: the token leaves the URL (and the history) at once

function redeemView(ctx, token) {
  // Replace the URL before anything else: no token stays in the history.
  history.replaceState(null, '', '/portal/sign-in');
  setTitle('Signing in');
  setSignedIn(false);
  const body = h('div', { class: 'portal-redeem', role: 'status', dataset: { testid: 'portal-redeeming' } },
    h('span', { class: 'portal-spinner', 'aria-hidden': 'true' }),
    h('p', null, 'Signing you in…'));
  mount(main, page(h('section', { class: 'card portal-card', 'aria-labelledby': 'portal-title' },
    h('h1', { id: 'portal-title', tabindex: '-1' }, 'Signing in'), body)));

  const attempt = () => api.redeem(token.trim(), { signal: ctx.signal }).then(() => {
    if (ctx.signal.aborted) return;
    setSignedIn(true);
    go(takeNext() || '/portal/orders', { replace: true, state: { welcome: true } });
  }).catch((err) => {
    if (err?.name === 'AbortError') return;
    if (api.isLinkInvalid(err) || err?.status === 401 || err?.isValidation) {
      signInView(ctx, { noticeKey: 'link-invalid' });
      // An old link opened while still signed in: say so, with the way to the orders.
      api.me({ signal: ctx.signal, quiet: true }).then(() => {
        const note = main.querySelector('[data-testid="portal-link-invalid"] > div');
        if (!note) return;
        setSignedIn(true);
        note.append(h('p', { dataset: { testid: 'portal-still-signed-in' } }, 'You are still signed in, though: ',
          h('a', { href: '/portal/orders' }, 'see your orders'), '.'));
      }).catch(() => {});
      return;
    }
    mount(body, errorPanel(err, () => { mount(body, h('span', { class: 'portal-spinner', 'aria-hidden': 'true' }), h('p', null, 'Signing you in…')); attempt(); }));
  });
  attempt();
}

// ---------------------------------------------------------------------------
// Orders list

function orderRow(o) {
  return h('li', { class: 'po-item', dataset: { testid: 'portal-order-row', orderId: o.id, status: o.status } },
    h('a', { class: 'po-row', href: `/portal/orders/${encodeURIComponent(o.id)}` },
      h('span', { class: 'po-number' }, orderTitle(o)),
      h('span', { class: 'po-total num' }, formatOrderMoney(o.total, o.currency)),
      h('span', { class: 'po-meta' },
        h('time', { datetime: o.placed_at }, fullDate(o.placed_at)),
        h('span', { 'aria-hidden': 'true' }, ' · '),
        h('span', { class: 'visually-hidden' }, ', '),
        itemsText(o)),
      h('span', { class: 'po-status' }, h('span', { class: 'visually-hidden' }, 'Status: '), orderStatusBadge(o.status, { testid: 'portal-order-status' })),
      h('span', { class: 'po-chevron', 'aria-hidden': 'true' }, icon('chevronRight', { size: 18 }))));
}

function ordersView(ctx) {
  setTitle('Your orders');
  const list = h('div', { class: 'po-body', 'aria-busy': 'true' },
    h('ul', { class: 'po-list', 'aria-hidden': 'true' }, [1, 2, 3].map(() => h('li', { class: 'po-skeleton' },
      h('span', { class: 'skeleton skeleton-text', style: { width: '38%' } }),
      h('span', { class: 'skeleton skeleton-text', style: { width: '58%', marginTop: '10px' } })))),
    h('p', { class: 'visually-hidden', role: 'status' }, 'Loading your orders…'));
  const welcome = ctx.state?.welcome ? notice('success', 'check', 'You are signed in.', null, 'portal-welcome') : null;
  const who = api.known().email;
  mount(main, page(
    h('div', { class: 'po-head' },
      h('h1', { tabindex: '-1' }, 'Your orders'),
      who ? h('p', { class: 'muted po-sub' }, 'Orders placed with ', h('span', { class: 'tenant-cap' }, tenant), ' by ', h('strong', null, who)) : null),
    welcome,
    list));
  if (welcome) history.replaceState({}, '', location.pathname);

  const load = () => api.listOrders({ signal: ctx.signal }).then((orders) => {
    if (ctx.signal.aborted) return;
    setSignedIn(true);
    list.setAttribute('aria-busy', 'false');
    if (!orders.length) {
      mount(list, h('div', { class: 'portal-empty', dataset: { testid: 'portal-orders-empty' } },
        h('div', { class: 'portal-empty-icon', 'aria-hidden': 'true' }, oicon('bag', { size: 28 })),
        h('h2', null, 'No orders yet'),
        h('p', { class: 'muted' }, 'When you order from ', h('span', { class: 'tenant-cap' }, tenant), ' with this email address, your orders show up here with their status.')));
      return;
    }
    mount(list,
      h('p', { class: 'visually-hidden', role: 'status' }, `${orders.length} ${orders.length === 1 ? 'order' : 'orders'}`),
      h('ul', { class: 'po-list', 'aria-label': 'Orders, newest first', dataset: { testid: 'portal-orders' } }, orders.map(orderRow)));
  }).catch((err) => {
    if (err?.name === 'AbortError' || err?.handled) return;
    list.setAttribute('aria-busy', 'false');
    mount(list, errorPanel(err, () => { mount(list, h('p', { class: 'muted', role: 'status' }, 'Loading your orders…')); load(); }));
  });
  load();
  settle();
}

// ---------------------------------------------------------------------------
// One order

function orderView(ctx, id) {
  setTitle('Order');
  const back = h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/portal/orders', class: 'back-link', dataset: { testid: 'portal-back' } }, icon('arrowLeft'), 'All orders'));
  const body = h('div', { class: 'po-body', 'aria-busy': 'true' },
    h('h1', { class: 'po-title', tabindex: '-1' }, 'Order'),
    h('p', { class: 'visually-hidden', role: 'status' }, 'Loading the order…'),
    h('div', { class: 'card po-card', 'aria-hidden': 'true' }, [50, 70, 40, 60].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '12px 0' } }))));
  mount(main, page(back, body));
  settle();

  const load = () => api.getOrder(id, { signal: ctx.signal }).then((o) => {
    if (ctx.signal.aborted) return;
    setSignedIn(true);
    const focused = document.activeElement === body.querySelector('h1');
    mount(body, orderDetail(o, ctx));
    body.setAttribute('aria-busy', 'false');
    setTitle(orderTitle(o));
    if (focused) body.querySelector('h1')?.focus({ preventScroll: true });
  }).catch((err) => {
    if (err?.name === 'AbortError' || err?.handled) return;
    body.setAttribute('aria-busy', 'false');
    if (err?.status === 404 || err?.status === 422) {
      setTitle('Order not found');
      session();
      mount(body, h('div', { class: 'portal-empty', dataset: { testid: 'portal-order-not-found' } },
        h('div', { class: 'portal-empty-icon', 'aria-hidden': 'true' }, icon('search', { size: 28 })),
        h('h1', { tabindex: '-1' }, 'We could not find this order'),
        h('p', { class: 'muted' }, 'It may belong to another email address, or the link is incomplete.'),
        h('a', { class: 'btn btn-primary', href: '/portal/orders' }, 'See your orders')));
      return;
    }
    mount(body, h('h1', { class: 'po-title', tabindex: '-1' }, 'Order'), errorPanel(err, () => load()));
  });
  load();
}

function orderDetail(o, ctx) {
  const cur = o.currency;
  const ended = o.status === 'cancelled' || o.status === 'returned';
  const head = h('div', { class: 'po-head po-order-head' },
    h('div', { class: 'po-order-title-row' },
      h('h1', { class: 'po-title', tabindex: '-1', dataset: { testid: 'portal-order-number' } }, orderTitle(o)),
      orderStatusBadge(o.status, { testid: 'portal-order-status' })),
    h('p', { class: 'muted po-sub' }, 'Placed on ', h('time', { datetime: o.placed_at }, fullDate(o.placed_at)), ` · ${itemsText(o)} · `,
      h('strong', { class: 'po-sub-total num' }, formatOrderMoney(o.total, cur))));

  const endedNote = ended ? notice(o.status === 'cancelled' ? 'error' : 'warn', o.status === 'cancelled' ? 'x' : 'history',
    o.status === 'cancelled' ? 'This order was cancelled.' : 'This order was returned.',
    o.status === 'cancelled' ? 'It will not be shipped. The timeline below has the details.' : 'The timeline below has the details.',
    'portal-order-ended') : null;

  const statusCard = h('section', { class: 'card po-card', 'aria-labelledby': 'po-status-title' },
    h('h2', { class: 'po-card-title', id: 'po-status-title' }, 'Status'),
    statusTrack(o, { testid: 'portal-order-timeline', label: 'Order status timeline' }));

  const hasShipping = o.carrier || o.tracking_number;
  const shippingCard = hasShipping ? h('section', { class: 'card po-card', 'aria-labelledby': 'po-ship-title', dataset: { testid: 'portal-order-shipping' } },
    h('h2', { class: 'po-card-title', id: 'po-ship-title' }, oicon('truck', { size: 18 }), 'Shipping'),
    h('dl', { class: 'po-facts' },
      o.carrier ? h('div', null, h('dt', null, 'Carrier'), h('dd', { dataset: { testid: 'portal-order-carrier' } }, o.carrier)) : null,
      o.tracking_number ? h('div', null, h('dt', null, 'Tracking number'),
        h('dd', { class: 'po-tracking' },
          h('code', { dataset: { testid: 'portal-order-tracking' } }, o.tracking_number),
          h('button', {
            type: 'button', class: 'btn btn-sm', 'aria-label': `Copy tracking number ${o.tracking_number}`,
            onclick: (e) => copyText(o.tracking_number, e.currentTarget.querySelector('.po-copy-label')),
          }, icon('copy', { size: 14 }), h('span', { class: 'po-copy-label' }, 'Copy')))) : null)) : null;

  const items = o.items || [];
  const itemsCard = h('section', { class: 'card po-card', 'aria-labelledby': 'po-items-title', dataset: { testid: 'portal-order-items' } },
    h('h2', { class: 'po-card-title', id: 'po-items-title' }, 'Items'),
    h('ul', { class: 'po-lines' }, items.map((it) => h('li', { class: 'po-line' },
      h('div', { class: 'po-line-text' },
        h('span', { class: 'po-line-name' }, it.product || 'Item'),
        h('span', { class: 'po-line-qty muted' }, `${it.quantity} × ${formatOrderMoney(it.unit_price, cur)}`)),
      h('span', { class: 'po-line-total num' }, formatOrderMoney(it.total ?? it.quantity * it.unit_price, cur))))),
    h('dl', { class: 'po-totals' },
      totalsRows(o).map(([label, value]) => h('div', null, h('dt', null, label), h('dd', { class: 'num' }, value))),
      h('div', { class: 'po-grand' }, h('dt', null, 'Total'), h('dd', { class: 'num', dataset: { testid: 'portal-order-total' } }, formatOrderMoney(o.total, cur)))));

  // Complaints about this order: the ones filed, and "Report a problem" (complaints.js).
  const help = complaintsSlot(ctx, o);

  return [head, endedNote, statusCard, shippingCard, itemsCard, help];
}

// ---------------------------------------------------------------------------
// Anything else under /portal

function notFoundView() {
  setTitle('Page not found');
  mount(main, page(h('div', { class: 'portal-empty', dataset: { testid: 'portal-not-found' } },
    h('div', { class: 'portal-empty-icon', 'aria-hidden': 'true' }, icon('search', { size: 28 })),
    h('h1', { tabindex: '-1' }, 'Page not found'),
    h('p', { class: 'muted' }, 'This address does not lead anywhere in the portal.'),
    h('a', { class: 'btn btn-primary', href: '/portal' }, 'Go to the portal'))));
  settle();
}

// The first page waits for the portal's look (at most a moment), so that it
// does not change its name and colours right after appearing.
Promise.race([brandReady, new Promise((resolve) => { setTimeout(resolve, 400); })]).then(() => render());
