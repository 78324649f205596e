// "Export" menu of the contacts, companies and deals lists: the current view
// (its search, filter and sort, plus any list-specific parameters such as a
// deal list's pipeline_id) as CSV or JSON. Pages of 5,000 rows are fetched one
// after another following `x-next-cursor`, with the rows so far in a progress
// toast (cancellable), then saved as one file: CSV pages are concatenated (the
// header comes with the first), JSON pages' items are merged into one array.

import { h, icon, toast, toastError } from './ui.js';
import { API_BASE } from './api.js';
import { rawRequest } from './import-api.js';
import { xicon } from './records.js';
import { popover } from './filters.js';
import { saveBlob, num } from './bulk-ui.js';
import { ENTITY_PATH } from './crm-api.js';

const MAX_PAGES = 2000; // 10 million rows: a guard against a cursor that never ends

/** Records in a CSV text: newlines outside quoted cells. */
function csvRows(text) {
  let n = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 10 && !quoted) n += 1;
  }
  if (text.length && text[text.length - 1] !== '\n') n += 1;
  return n;
}

function stamp() {
  const d = new Date();
  const pad = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}`;
}

/**
 * Fetch every page of an export. onProgress(rows) after each page.
 * → { blob, rows }
 */
export async function exportView(entity, format, { q, filter, sort, ...extra }, { signal, onProgress } = {}) {
  const path = `${API_BASE}/${ENTITY_PATH[entity]}/export`;
  const parts = [];
  const items = [];
  let rows = 0;
  let cursor;
  for (let i = 0; i < MAX_PAGES; i += 1) {
    const res = await rawRequest('GET', path, {
      query: { ...extra, format, q: q || undefined, filter: filter ? (typeof filter === 'string' ? filter : JSON.stringify(filter)) : undefined, sort: sort || undefined, cursor },
      accept: format === 'csv' ? 'text/csv' : 'application/json',
      signal,
    });
    const next = res.headers.get('x-next-cursor');
    if (format === 'csv') {
      const text = await res.text();
      parts.push(text);
      rows += Math.max(0, csvRows(text) - (i === 0 ? 1 : 0));
    } else {
      const data = await res.json();
      const page = Array.isArray(data?.items) ? data.items : Array.isArray(data) ? data : [];
      items.push(...page);
      rows = items.length;
    }
    onProgress?.(rows);
    if (!next || next === cursor) break;
    cursor = next;
  }
  const blob = format === 'csv'
    // A byte-order mark so spreadsheet apps read the file as UTF-8.
    ? new Blob(['\ufeff', ...parts], { type: 'text/csv;charset=utf-8' })
    : new Blob([JSON.stringify(items, null, 2)], { type: 'application/json' });
  return { blob, rows };
}

/**
 * exportMenu({ entity, plural, singular, params: () => ({ q, filter, sort }), describe: () => text })
 * → { wrap, close() }
 */
export function exportMenu({ entity, plural, singular, params, describe }) {
  let running = null;
  const button = h('button', { type: 'button', class: 'btn', dataset: { testid: 'export-button' }, title: `Export these ${plural}`, 'aria-label': `Export ${plural}` },
    xicon('download', { size: 15 }), h('span', { class: 'btn-label' }, 'Export'), icon('chevronDown', { size: 14 }));
  const note = h('p', { class: 'menu-note muted' });
  const item = (format, label, sub) => h('button', {
    type: 'button', class: 'menu-item menu-item-2', role: 'menuitem', dataset: { testid: `export-${format}` },
    onclick: () => { menu.close({ focus: true }); start(format); },
  }, xicon('note', { size: 16 }), h('span', { class: 'menu-item-text' }, h('span', null, label), h('span', { class: 'muted menu-item-sub' }, sub)));
  const panel = h('div', { class: 'export-panel', role: 'menu', 'aria-label': 'Export' },
    h('div', { class: 'column-panel-title' }, 'Export this view'),
    note,
    item('csv', 'CSV', 'For spreadsheets; opens in Excel, Numbers, Sheets'),
    item('json', 'JSON', 'Every field, for other systems'));
  const menu = popover({
    button, panel, align: 'end', testid: 'export-menu',
    onOpen: () => { note.textContent = describe?.() || ''; note.hidden = !note.textContent; },
  });

  async function start(format) {
    if (running) { toast('An export is already running.', { title: 'Export' }); return; }
    const controller = new AbortController();
    running = controller;
    button.disabled = true;
    const t = toast(`Preparing the ${format.toUpperCase()} file…`, {
      title: `Exporting ${plural}`, timeout: 0,
      action: { label: 'Cancel', onClick: () => controller.abort() },
    });
    t.el.dataset.export = 'progress';
    const msg = t.el.querySelector('.toast-message');
    try {
      const { blob, rows } = await exportView(entity, format, params(), {
        signal: controller.signal,
        onProgress: (n) => { if (msg) msg.textContent = `${num(n)} ${plural} so far…`; },
      });
      t.dismiss();
      saveBlob(blob, `${ENTITY_PATH[entity]}-${stamp()}.${format}`);
      toast(`${num(rows)} ${rows === 1 ? singular : plural} exported as ${format.toUpperCase()}.`, { kind: 'success', title: 'Export ready' })
        .el.dataset.export = 'done';
    } catch (err) {
      t.dismiss();
      if (err?.name === 'AbortError') toast('The export was cancelled.', { title: 'Export' });
      else toastError(err, 'Could not export');
    } finally {
      running = null;
      button.disabled = false;
    }
  }

  return { wrap: menu.wrap, close: () => menu.close() };
}
