// Tiny History API router.
//
// The server answers every unknown app path with index.html (SPA fallback), so
// routing happens here, from location.pathname. Routes are patterns such as
// '/contacts/:id'; a handler renders into the page and may return a view object
// with `destroy()` (called before the next route renders) and any other methods
// the shell wants to call on the current view.

const routes = [];
let notFoundHandler = () => null;
let current = null; // { view, route, path }
let afterNavigate = () => {};

/** Paths the router must leave to the browser (server-rendered or other apps). */
const EXTERNAL_PREFIXES = ['/api/', '/portal/', '/app/'];
const EXTERNAL_PATHS = ['/portal', '/favicon.svg', '/index.html'];

export function route(pattern, handler) {
  const keys = [];
  const source = pattern
    .replace(/\/+$/, '')
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) { keys.push(seg.slice(1)); return '([^/]+)'; }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  routes.push({ pattern, keys, re: new RegExp(`^${source || ''}/?$`), handler });
}

export function notFound(handler) { notFoundHandler = handler; }
export function onNavigate(fn) { afterNavigate = fn; }
export function currentView() { return current?.view || null; }
export function currentPattern() { return current?.route?.pattern || null; }

function match(pathname) {
  for (const r of routes) {
    const m = r.re.exec(pathname);
    if (!m) continue;
    const params = {};
    r.keys.forEach((k, i) => {
      try { params[k] = decodeURIComponent(m[i + 1]); } catch { params[k] = m[i + 1]; }
    });
    return { route: r, params };
  }
  return null;
}

function render({ focus = false, nav = 'push' } = {}) {
  const { pathname, search } = location;
  const query = new URLSearchParams(search);
  const found = match(pathname);

  if (current?.view?.destroy) {
    try { current.view.destroy(); } catch (err) { console.error(err); }
  }
  current = null;

  const ctx = { path: pathname, query, params: found?.params || {}, nav };
  let view;
  try {
    view = found ? found.route.handler(ctx) : notFoundHandler(ctx);
  } catch (err) {
    console.error('route render failed', err);
  }
  current = { view: view || null, route: found?.route || null, path: pathname };
  afterNavigate({ path: pathname, pattern: found?.route?.pattern || null, focus, nav });
}

/**
 * Navigate within the app. `replace` rewrites the current history entry
 * (used for redirects and for search-as-you-type).
 */
export function navigate(url, { replace = false, focus = true } = {}) {
  const target = new URL(url, location.origin);
  const next = target.pathname + target.search + target.hash;
  const here = location.pathname + location.search + location.hash;
  if (next === here && !replace) { render({ focus, nav: 'push' }); return; }
  if (replace) history.replaceState(null, '', next);
  else history.pushState(null, '', next);
  if (!replace) window.scrollTo(0, 0);
  render({ focus, nav: replace ? 'replace' : 'push' });
}

/** Update the URL (e.g. ?q=) without re-rendering the current view. */
export function updateUrl(url) {
  const target = new URL(url, location.origin);
  history.replaceState(history.state, '', target.pathname + target.search + target.hash);
}

function isInternalLink(a, event) {
  if (event.defaultPrevented || event.button !== 0) return false;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return false;
  if (a.target && a.target !== '_self') return false;
  if (a.hasAttribute('download') || a.getAttribute('rel')?.includes('external')) return false;
  const href = a.getAttribute('href');
  if (!href || href.startsWith('#') || href.startsWith('mailto:') || href.startsWith('tel:')) return false;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return false;
  if (EXTERNAL_PATHS.includes(url.pathname)) return false;
  return !EXTERNAL_PREFIXES.some((p) => url.pathname.startsWith(p));
}

export function start() {
  document.addEventListener('click', (event) => {
    const a = event.target.closest?.('a[href]');
    if (!a || !isInternalLink(a, event)) return;
    event.preventDefault();
    navigate(a.href);
  });
  window.addEventListener('popstate', () => render({ focus: true, nav: 'pop' }));
  render({ focus: false, nav: 'initial' });
}
