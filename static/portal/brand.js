// The portal's look: the name and accent colour the service desk settings
// give it (GET /api/v1/portal/brand, public), fetched once per page load and
// kept in sessionStorage for a minute. The colour becomes CSS custom
// properties on <html> (--brand-l-* for the light theme, --brand-d-* for the
// dark one; portal.css maps them onto the theme's --accent, --focus, … and
// the fill of buttons and the brand mark), computed by brand-color.js so that
// text stays readable (≥ 4.5:1) in both themes. Without a look (not set, or
// the request failed) the portal keeps its default colours and the
// workspace's name.

import * as api from '/portal/portal-api.js';
import { brandPalette, normalizeHex } from '/portal/brand-color.js';
import { setBrandName } from '/portal/portal-kit.js';

const KEY = 'edgecrm.portal.brand';
const TTL_MS = 60_000;
/** palette key → custom property suffix */
const VARS = {
  fill: 'fill', fillHover: 'fill-hover', fillBorder: 'fill-border', onFill: 'on-fill',
  text: 'text', textHover: 'text-hover', soft: 'soft', softText: 'soft-text',
};

function readCache() {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (v && typeof v.at === 'number') return v;
  } catch { /* storage unavailable or garbled */ }
  return null;
}

function writeCache(look) {
  try { sessionStorage.setItem(KEY, JSON.stringify({ at: Date.now(), name: look.name, brand_color: look.brand_color })); } catch { /* memory only */ }
}

let current = { name: null, brand_color: null };
const listeners = new Set();

/** fn(look) after every change of the look; → unsubscribe */
export function onBrand(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function currentBrand() { return current; }

/** Puts a look ({ name, brand_color }) on the page. */
export function applyBrand(look) {
  const root = document.documentElement;
  const color = normalizeHex(look?.brand_color);
  const palette = color ? brandPalette(color) : null;
  for (const theme of ['light', 'dark']) {
    for (const [key, suffix] of Object.entries(VARS)) {
      const prop = `--brand-${theme[0]}-${suffix}`;
      if (palette) root.style.setProperty(prop, palette[theme][key]);
      else root.style.removeProperty(prop);
    }
  }
  if (palette) root.dataset.brand = color;
  else delete root.dataset.brand;
  const name = typeof look?.name === 'string' && look.name.trim() ? look.name.trim() : null;
  setBrandName(name);
  current = { name, brand_color: color };
  listeners.forEach((fn) => { try { fn(current); } catch (err) { console.error(err); } });
  return current;
}

/**
 * Applies the cached look at once, and asks the server when the cache is
 * missing or older than a minute. Resolves to the look in force (never
 * rejects: without one the defaults stay).
 */
export function loadBrand() {
  const cached = readCache();
  if (cached) applyBrand(cached);
  const age = cached ? Date.now() - cached.at : Infinity;
  if (age >= 0 && age < TTL_MS) return Promise.resolve(current);
  return api.brand().then((look) => {
    writeCache(look);
    return applyBrand(look);
  }).catch(() => current);
}
