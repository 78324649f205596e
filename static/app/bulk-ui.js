// Small pieces shared by the import wizard, exports and the merge screens:
// a progress bar, byte and duration formatting, and saving a Blob as a file.

import { h } from './ui.js';

const nf = new Intl.NumberFormat();
export function num(n) { return nf.format(Number(n) || 0); }

/**
 * A determinate progress bar (role=progressbar, aria-valuenow in percent).
 * → { el, set(fraction 0…1, text?) }
 */
export function progressBar({ testid, label }) {
  const fill = h('span', { class: 'progress-fill' });
  const el = h('div', {
    class: 'progress', role: 'progressbar', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0',
    dataset: { testid },
  }, fill);
  return {
    el,
    set(fraction, text) {
      const pct = Math.max(0, Math.min(100, Math.floor((Number(fraction) || 0) * 100)));
      el.setAttribute('aria-valuenow', String(pct));
      el.setAttribute('aria-valuetext', text || `${pct}%`);
      fill.style.width = `${Math.max(0, Math.min(100, (Number(fraction) || 0) * 100))}%`;
    },
    indeterminate(on) { el.classList.toggle('is-indeterminate', on); if (on) el.removeAttribute('aria-valuenow'); },
  };
}

export function formatBytes(n) {
  const b = Number(n) || 0;
  if (b < 1024) return `${b} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = b / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** "less than a minute", "about 3 min", "about 1 h 20 min" */
export function formatEta(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return 'less than a minute';
  const m = Math.round(s / 60);
  if (m < 60) return `about ${m} min`;
  const hrs = Math.floor(m / 60);
  const rest = m % 60;
  return `about ${hrs} h${rest ? ` ${rest} min` : ''}`;
}

/** Offer a Blob as a download named `filename`. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, rel: 'external', hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(new DOMException('Aborted', 'AbortError')); }, { once: true });
  });
}
