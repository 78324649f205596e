// App shell: navigation, global search, theme, keyboard shortcuts, routes.

import { h, mount, icon, tenantName, pageTitle, toast } from './ui.js';
import { route, notFound, start, navigate, onNavigate } from './router.js';
import { emptyState } from './contacts.js';
import { contactListView, openCreateContact } from './contact-list.js';
import { contactPageView } from './contact-page.js';
import { companyListView } from './company-list.js';
import { companyPageView } from './company-page.js';
import { mountGlobalSearch } from './search.js';
import { installShortcuts, showShortcutsHelp } from './shortcuts.js';
import * as api from './api.js';
import * as session from './session.js';
import { signInView, acceptInviteView, resetPasswordView, isAuthPath } from './auth.js';
import { settingsView } from './settings.js';
import { mountUserMenu } from './usermenu.js';
import { importWizardView } from './import-wizard.js';
import { mergeScreenView } from './merge-screen.js';
import { duplicatesPageView } from './duplicates-page.js';
import { pipelineBoardView } from './pipeline-board.js';
import { dealPageView } from './deal-page.js';
import { salesReportsView } from './sales-reports.js';
import { orderListView } from './order-list.js';
import { orderPageView } from './order-page.js';
import { ticketQueueView } from './ticket-queue.js';
import { ticketPageView } from './ticket-page.js';
import { kbListView, kbEditorView } from './kb-page.js';
import { serviceReportsView } from './service-reports.js';
import { segmentListView } from './segment-list.js';
import { segmentPageView } from './segment-page.js';
import { templateListView, templateEditorView } from './templates-page.js';
import { campaignListView } from './campaign-list.js';
import { campaignPageView } from './campaign-page.js';
import { suppressionsView } from './suppressions-page.js';
import { sequenceListView } from './sequence-list.js';
import { sequencePageView } from './sequence-page.js';
import { formListView } from './form-list.js';
import { formPageView } from './form-page.js';
import { ruleListView } from './rule-list.js';
import { rulePageView } from './rule-page.js';
import { insightsView } from './insight-page.js';
import { handoverView } from './handover-page.js';
import { homeView, HOME_ICON_PATH } from './home-page.js';

const AREAS = [
  // Home: the user's dashboard (home-page.js). `/` still opens the contacts.
  { key: 'home', label: 'Home', path: '/home', icon: 'home', g: 'h' },
  { key: 'contacts', label: 'Contacts', path: '/contacts', icon: 'users', g: 'c' },
  { key: 'companies', label: 'Companies', path: '/companies', icon: 'building', g: 'o' },
  { key: 'pipeline', label: 'Pipeline', path: '/pipeline', icon: 'pipeline', g: 'p' },
  // Email campaigns, segments (dynamic rules and static lists), templates, suppressions.
  { key: 'campaigns', label: 'Campaigns', path: '/campaigns', icon: 'megaphone', g: 'm' },
  // Tickets (queues), orders, the knowledge base and service reports.
  { key: 'service-desk', label: 'Service desk', path: '/service-desk', icon: 'lifebuoy', g: 'd' },
  // Lead-capture forms (workflow rules triggered by dates and events come next).
  { key: 'automations', label: 'Automations', path: '/automations/forms', icon: 'zap', g: 'a' },
  { key: 'settings', label: 'Settings', path: '/settings', icon: 'settings', g: 's' },
];

const main = document.getElementById('main');
const search = document.getElementById('global-search');
const nav = document.getElementById('sidenav');
const menuButton = document.querySelector('.menu-button');
const scrim = document.querySelector('.scrim');

// ---------------------------------------------------------------------------
// Static chrome: icons, tenant, navigation

document.querySelectorAll('[data-icon]').forEach((el) => {
  el.replaceChildren(icon(el.dataset.icon, { size: Number(el.dataset.size) || 16 }));
});

const tenant = tenantName();
document.querySelectorAll('[data-testid="tenant-name"]').forEach((el) => {
  el.textContent = tenant;
  el.title = `Workspace: ${location.hostname}`;
});

mount(nav.querySelector('ul'), AREAS.map((a) => h('li', null,
  h('a', { href: a.path, class: 'nav-link', dataset: { nav: a.key, testid: `nav-${a.key}` } },
    icon(a.icon, { size: 18 }),
    h('span', { class: 'nav-label' }, a.label),
    a.blurb ? h('span', { class: 'nav-badge', 'aria-label': '(coming soon)' }, 'Soon') : null,
  ),
)));
// ui.js has no house: Home's icon is drawn here.
nav.querySelector('[data-nav="home"] svg path')?.setAttribute('d', HOME_ICON_PATH);

function setNavOpen(open) {
  document.body.classList.toggle('nav-open', open);
  menuButton.setAttribute('aria-expanded', String(open));
  menuButton.setAttribute('aria-label', open ? 'Close navigation' : 'Open navigation');
  scrim.hidden = !open;
  if (open) nav.querySelector('[aria-current="page"], a')?.focus();
}
menuButton.addEventListener('click', () => setNavOpen(!document.body.classList.contains('nav-open')));
scrim.addEventListener('click', () => setNavOpen(false));
window.matchMedia('(min-width: 721px)').addEventListener('change', (e) => { if (e.matches) setNavOpen(false); });

// ---------------------------------------------------------------------------
// Session: who is signed in (top bar account menu), CSRF token, and the
// redirect to the sign-in page when the server says the session has ended.

const userSlot = h('div', { class: 'user-slot' });
document.querySelector('.topbar-actions').append(userSlot);
const userMenu = mountUserMenu(userSlot);

let redirectingToSignIn = false;
api.onUnauthenticated(() => {
  // Only a session that existed can have "ended"; a first visit just signs in.
  const wasSignedIn = session.getSession().status === 'signed-in';
  session.signedOut();
  if (isAuthPath(location.pathname)) return false;
  if (redirectingToSignIn) return true;
  redirectingToSignIn = true;
  const next = location.pathname + location.search;
  // After the failing call has settled: the view it belongs to is replaced.
  queueMicrotask(() => {
    redirectingToSignIn = false;
    navigate(`/sign-in?next=${encodeURIComponent(next)}`);
    if (wasSignedIn) toast('Your session has ended. Sign in to continue.', { title: 'Signed out' });
  });
  return true;
});

session.loadSession();

// ---------------------------------------------------------------------------
// Theme: system (default) → light → dark, stored in localStorage.

const THEME_KEY = 'edgecrm.theme';
const themeButton = document.querySelector('[data-testid="theme-toggle"]');
const THEMES = {
  system: { icon: 'monitor', label: 'System', next: 'light' },
  light: { icon: 'sun', label: 'Light', next: 'dark' },
  dark: { icon: 'moon', label: 'Dark', next: 'system' },
};
function readTheme() {
  try { const t = localStorage.getItem(THEME_KEY); return t === 'light' || t === 'dark' ? t : 'system'; } catch { return 'system'; }
}
function applyTheme(theme) {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  try {
    if (theme === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, theme);
  } catch { /* private mode: the choice lasts for this page only */ }
  const t = THEMES[theme];
  themeButton.replaceChildren(icon(t.icon, { size: 18 }));
  themeButton.setAttribute('aria-label', `Theme: ${t.label}. Switch to ${THEMES[t.next].label.toLowerCase()}`);
  themeButton.title = `Theme: ${t.label}`;
  themeButton.dataset.theme = theme;
}
applyTheme(readTheme());
themeButton.addEventListener('click', () => applyTheme(THEMES[readTheme()].next));

// ---------------------------------------------------------------------------
// Global search: results as you type, grouped by contacts, companies, notes

mountGlobalSearch(search);

// ---------------------------------------------------------------------------
// Routes

function redirect(path) {
  queueMicrotask(() => navigate(path, { replace: true, focus: false }));
  return null;
}

route('/', () => redirect('/contacts'));
route('/index.html', () => redirect('/contacts'));
route('/contacts', ({ query, nav: kind }) => {
  if (document.activeElement !== search) search.value = query.get('q') || '';
  return contactListView(main, { query, nav: kind });
});
// Fixed paths before /contacts/:id, which would match them too.
route('/contacts/import', ({ query }) => importWizardView(main, { entity: 'contact', query }));
route('/contacts/duplicates', ({ query }) => duplicatesPageView(main, { query }));
route('/contacts/:id/merge', ({ params, query }) => mergeScreenView(main, params.id, { query }));
route('/contacts/:id', ({ params }) => contactPageView(main, params.id));
route('/companies', ({ query, nav: kind }) => {
  if (document.activeElement !== search) search.value = query.get('q') || '';
  return companyListView(main, { query, nav: kind });
});
route('/companies/import', ({ query }) => importWizardView(main, { entity: 'company', query }));
route('/companies/:id', ({ params }) => companyPageView(main, params.id));
// Pipeline: the board (first pipeline, or one by id), reports, deal pages.
route('/pipeline', ({ query }) => pipelineBoardView(main, { query }));
route('/pipeline/reports', ({ query }) => salesReportsView(main, { query }));
route('/pipeline/:id', ({ params, query }) => pipelineBoardView(main, { pipelineId: params.id, query }));
route('/deals/:id', ({ params }) => dealPageView(main, params.id));
// Service desk: ticket queues and pages, orders (list with filters, order
// pages with status moves), the knowledge base (list, editor) and reports.
route('/service-desk', ({ query }) => ticketQueueView(main, { query }));
route('/service-desk/orders', ({ query }) => orderListView(main, { query }));
route('/service-desk/kb', ({ query }) => kbListView(main, { query }));
route('/service-desk/kb/new', () => kbEditorView(main, null));
route('/service-desk/kb/:id', ({ params }) => kbEditorView(main, params.id));
route('/service-desk/reports', ({ query }) => serviceReportsView(main, { query }));
route('/tickets/:id', ({ params }) => ticketPageView(main, params.id));
route('/orders/:id', ({ params }) => orderPageView(main, params.id));
// Campaigns: the campaigns list and pages, segments (list, builder for
// dynamic ones, page of a static list), templates (list, editor) and the
// suppression list. Fixed paths before the ones with an id.
route('/campaigns', ({ query }) => campaignListView(main, { query }));
route('/campaigns/list', ({ query }) => campaignListView(main, { query }));
route('/campaigns/new', ({ query }) => campaignPageView(main, null, { query }));
route('/campaigns/c/:id', ({ params, query }) => campaignPageView(main, params.id, { query }));
route('/campaigns/templates', ({ query }) => templateListView(main, { query }));
route('/campaigns/templates/new', () => templateEditorView(main, null));
route('/campaigns/templates/:id', ({ params }) => templateEditorView(main, params.id));
route('/campaigns/suppressions', ({ query }) => suppressionsView(main, { query }));
route('/campaigns/segments', ({ query }) => segmentListView(main, { query }));
route('/campaigns/segments/new', ({ query }) => segmentPageView(main, null, { query }));
route('/campaigns/segments/:id', ({ params, query }) => segmentPageView(main, params.id, { query }));
// Campaigns › Sequences (drips): the list, a new one, a sequence's page.
route('/campaigns/sequences', ({ query }) => sequenceListView(main, { query }));
route('/campaigns/sequences/new', ({ query }) => sequencePageView(main, null, { query }));
route('/campaigns/sequences/:id', ({ params, query }) => sequencePageView(main, params.id, { query }));
// Automations: lead-capture forms (list, builder with its website snippets
// and submissions). Fixed paths before the ones with an id.
route('/automations', () => redirect('/automations/forms'));
route('/automations/forms', ({ query }) => formListView(main, { query }));
route('/automations/forms/new', ({ query }) => formPageView(main, null, { query }));
route('/automations/forms/:id', ({ params, query }) => formPageView(main, params.id, { query }));
// Automations: workflow rules (list, builder with its run log), insights
// (customer value and churn, campaign return) and handing over accounts.
route('/automations/rules', ({ query }) => ruleListView(main, { query }));
route('/automations/rules/new', ({ query }) => rulePageView(main, null, { query }));
route('/automations/rules/:id', ({ params, query }) => rulePageView(main, params.id, { query }));
route('/automations/insights', ({ query }) => insightsView(main, { query }));
route('/automations/handover', ({ query }) => handoverView(main, { query }));
// Home: the signed-in user's dashboard.
route('/home', () => homeView(main));

// Staff identity (full-page, without the app navigation).
route('/sign-in', (ctx) => signInView(main, ctx));
route('/accept-invite', (ctx) => acceptInviteView(main, ctx));
route('/reset-password', (ctx) => resetPasswordView(main, ctx));

// Owners and admins land on Users; managers (who may only look) on API keys.
route('/settings', () => {
  const landing = (st) => (session.settingsAccess(st.user) === 'read' ? '/settings/api-keys' : '/settings/users');
  const st = session.getSession();
  if (st.status !== 'loading') return redirect(landing(st));
  session.whenLoaded().then((loaded) => { if (location.pathname === '/settings') redirect(landing(loaded)); });
  return null;
});
route('/settings/users', () => settingsView(main, { section: 'users' }));
route('/settings/teams', () => settingsView(main, { section: 'teams' }));
route('/settings/custom-fields', ({ query }) => settingsView(main, { section: 'custom-fields', query }));
route('/settings/pipelines', () => settingsView(main, { section: 'pipelines' }));
route('/settings/service-desk', () => settingsView(main, { section: 'service-desk' }));
route('/settings/outbox', () => settingsView(main, { section: 'outbox' }));
route('/settings/api-keys', () => settingsView(main, { section: 'api-keys' }));
route('/settings/audit', ({ query }) => settingsView(main, { section: 'audit', query }));

for (const area of AREAS.filter((a) => a.blurb)) {
  route(area.path, () => comingSoonView(area));
}

notFound(({ path }) => {
  pageTitle('Page not found');
  mount(main, emptyState({
    testid: 'not-found',
    iconName: 'search',
    title: 'Page not found',
    text: `Nothing lives at ${path}. It may have moved, or the link is mistyped.`,
    actions: [h('a', { class: 'btn btn-primary', href: '/contacts' }, 'Go to contacts')],
  }));
  return null;
});

function comingSoonView(area) {
  pageTitle(area.label);
  mount(main,
    h('div', { class: 'page-header' },
      h('div', { class: 'page-heading' }, h('h1', { class: 'page-title', tabindex: '-1' }, area.label))),
    emptyState({
      testid: 'coming-soon',
      iconName: area.icon,
      title: `${area.label} is coming soon`,
      text: area.blurb,
      actions: [h('a', { class: 'btn', href: '/contacts' }, 'Go to contacts')],
    }),
  );
  return null;
}

onNavigate(({ path, focus, nav: kind }) => {
  // The search box shows a list's query; elsewhere it starts empty.
  if (!/^\/(contacts|companies)\/?$/.test(path) && document.activeElement !== search) search.value = '';
  const authPage = isAuthPath(path);
  document.body.classList.toggle('auth-mode', authPage);
  userMenu.update(path + location.search);
  const first = path.split('/')[1] || 'contacts';
  const areaKey = first === 'deals' ? 'pipeline' : first === 'orders' || first === 'tickets' ? 'service-desk' : first;
  nav.querySelectorAll('a[data-nav]').forEach((a) => {
    if (a.dataset.nav === areaKey) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  setNavOpen(false);
  // Sign-in style pages put the cursor in their first field.
  const autofocus = main.querySelector('[data-autofocus]');
  if (autofocus && (focus || kind === 'initial')) {
    autofocus.focus({ preventScroll: true });
  } else if (focus && document.activeElement !== search) {
    const target = main.querySelector('h1[tabindex], h2[tabindex]') || main;
    target.focus({ preventScroll: true });
  }
});

// ---------------------------------------------------------------------------
// Keyboard shortcuts (shortcuts.js); Esc also closes the phone navigation.

installShortcuts({
  search,
  areas: AREAS,
  newContact: () => openCreateContact({}),
});
document.querySelector('[data-testid="shortcuts-button"]').addEventListener('click', showShortcutsHelp);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && document.body.classList.contains('nav-open')) {
    setNavOpen(false);
    menuButton.focus();
  }
});

start();
