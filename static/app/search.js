// Global search in the top bar: results as you type (debounced, stale
// requests aborted), grouped by contacts, companies and notes, with the
// matching word prefixes highlighted. Arrow keys move, Enter opens, Esc
// closes; Enter with nothing selected searches the list.

import { h, mount, icon, formatDate } from './ui.js';
import { navigate, currentView } from './router.js';
import * as crm from './crm-api.js';
import { avatar, contactName, recordHref, stageBadge, xicon } from './records.js';

const DEBOUNCE_MS = 120;

function words(q) {
  return q.toLowerCase().split(/[^\p{L}\p{N}@.+-]+/u).filter(Boolean);
}

/** Text with each word starting with one of the query words wrapped in <mark>. */
export function highlight(text, q) {
  const s = String(text ?? '');
  const ws = words(q).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!s || !ws.length) return s;
  const re = new RegExp(`(^|[^\\p{L}\\p{N}])(${ws.join('|')})`, 'giu');
  const out = [];
  let last = 0;
  let m;
  while ((m = re.exec(s))) {
    const start = m.index + m[1].length;
    if (start > last) out.push(s.slice(last, start));
    out.push(h('mark', null, m[2]));
    last = start + m[2].length;
    if (m[0].length === 0) re.lastIndex += 1;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

/** A window of a long note around the first match. */
function snippet(text, q, size = 110) {
  const s = String(text || '').replace(/\s+/g, ' ').trim();
  if (s.length <= size) return s;
  const lower = s.toLowerCase();
  const idx = Math.min(...words(q).map((w) => lower.indexOf(w)).filter((i) => i >= 0), Infinity);
  const start = Number.isFinite(idx) ? Math.max(0, idx - 30) : 0;
  return `${start > 0 ? '…' : ''}${s.slice(start, start + size)}${start + size < s.length ? '…' : ''}`;
}

export function mountGlobalSearch(input) {
  const wrap = input.closest('.search');
  const listId = 'global-search-results';
  const panel = h('div', { class: 'search-panel', id: listId, role: 'listbox', 'aria-label': 'Search results', dataset: { testid: 'search-results' }, hidden: true });
  wrap.append(panel);
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', listId);

  let controller = null;
  let timer = null;
  let options = []; // [{ el, href, action }]
  let active = -1;
  let lastQuery = '';

  function close() {
    panel.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }
  function open() {
    panel.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  }
  function setActive(i) {
    options.forEach((o, j) => { o.el.classList.toggle('is-active', j === i); o.el.setAttribute('aria-selected', String(j === i)); });
    active = i;
    if (i >= 0) {
      input.setAttribute('aria-activedescendant', options[i].el.id);
      options[i].el.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }

  function option({ kind, href, content, label, testid = 'search-result' }) {
    const i = options.length;
    const el = h('a', {
      id: `gs-opt-${i}`, href, role: 'option', class: 'search-item', 'aria-selected': 'false', tabindex: '-1',
      'aria-label': label || null, dataset: { testid, kind },
      onmousedown: (e) => e.preventDefault(), // keep focus in the input
      onmousemove: () => { if (active !== i) setActive(i); },
      onclick: (e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        go(href);
      },
    }, content);
    options.push({ el, href });
    return el;
  }

  function go(href) {
    close();
    input.blur();
    navigate(href);
  }

  function searchList(q) {
    const v = currentView();
    const target = v?.kind === 'company-list' ? '/companies' : '/contacts';
    close();
    if (v?.setQuery && v.kind === `${target === '/companies' ? 'company' : 'contact'}-list`) v.setQuery(q);
    else navigate(q ? `${target}?q=${encodeURIComponent(q)}` : target);
  }

  function render(q, res) {
    options = [];
    active = -1;
    const groups = [];
    const group = (title, iconName, items) => {
      if (!items.length) return;
      groups.push(h('div', { class: 'search-group', role: 'group', 'aria-label': title },
        h('div', { class: 'search-group-title', 'aria-hidden': 'true' }, xicon(iconName, { size: 13 }), title), items));
    };
    group('Contacts', 'users', res.contacts.map((c) => option({
      kind: 'contact', href: recordHref('contact', c.id), label: contactName(c),
      content: [avatar('contact', c, 'xs'),
        h('span', { class: 'search-main' },
          h('span', { class: 'search-title' }, highlight(contactName(c) || 'Unnamed contact', q)),
          h('span', { class: 'search-sub' }, highlight([c.email, c.company].filter(Boolean).join(' · '), q))),
        c.lifecycle_stage ? stageBadge(c.lifecycle_stage) : null],
    })));
    group('Companies', 'building', res.companies.map((c) => option({
      kind: 'company', href: recordHref('company', c.id), label: c.name,
      content: [avatar('company', c, 'xs'),
        h('span', { class: 'search-main' },
          h('span', { class: 'search-title' }, highlight(c.name || 'Unnamed company', q)),
          h('span', { class: 'search-sub' }, highlight([c.domain, c.industry].filter(Boolean).join(' · '), q)))],
    })));
    group('Notes', 'note', res.notes.map((n) => {
      const href = n.contact_id ? recordHref('contact', n.contact_id) : n.company_id ? recordHref('company', n.company_id) : null;
      return href ? option({
        kind: 'note', href, label: snippet(n.body, q),
        content: [h('span', { class: 'search-note-icon', 'aria-hidden': 'true' }, xicon('note', { size: 14 })),
          h('span', { class: 'search-main' },
            h('span', { class: 'search-title search-note' }, highlight(snippet(n.subject ? `${n.subject}: ${n.body || ''}` : n.body, q), q)),
            h('span', { class: 'search-sub' }, `${n.contact_id ? 'On a contact' : 'On a company'} · ${formatDate(n.occurred_at || n.created_at)}`))],
      }) : null;
    }).filter(Boolean));

    const all = option({
      kind: 'all', testid: 'search-all', href: `/contacts?q=${encodeURIComponent(q)}`,
      content: [icon('search', { size: 14 }), h('span', { class: 'search-main' }, h('span', { class: 'search-title' }, 'All contacts matching ', h('strong', null, `“${q}”`)))],
    });
    all.classList.add('search-all');
    mount(panel,
      groups.length ? groups : h('div', { class: 'search-empty muted', role: 'presentation' }, `Nothing found for “${q}”.`),
      h('div', { class: 'search-foot' }, all,
        h('span', { class: 'search-keys muted', 'aria-hidden': 'true' }, h('kbd', null, '↑'), h('kbd', null, '↓'), ' move ', h('kbd', null, 'Enter'), ' open ', h('kbd', null, 'Esc'), ' close')));
    open();
  }

  async function run(q) {
    controller?.abort();
    if (!q) { close(); return; }
    controller = new AbortController();
    const signal = controller.signal;
    panel.setAttribute('aria-busy', 'true');
    try {
      const res = await crm.search(q, { limit: 5, signal });
      if (signal.aborted || input.value.trim() !== q) return;
      lastQuery = q;
      if (document.activeElement === input) render(q, res);
    } catch (err) {
      if (err?.name === 'AbortError') return;
      mount(panel, h('div', { class: 'search-empty muted' }, err.detail || 'Search failed.'));
      options = [];
      open();
    } finally {
      panel.removeAttribute('aria-busy');
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) { controller?.abort(); close(); return; }
    timer = setTimeout(() => run(q), DEBOUNCE_MS);
  });
  input.addEventListener('focus', () => {
    const q = input.value.trim();
    if (q && q === lastQuery && options.length) open();
    else if (q) run(q);
  });
  input.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== input) close(); }, 150));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      if (panel.hidden) { if (input.value.trim()) run(input.value.trim()); return; }
      e.preventDefault();
      setActive(options.length ? (active + 1) % options.length : -1);
    } else if (e.key === 'ArrowUp') {
      if (panel.hidden) return;
      e.preventDefault();
      setActive(active <= 0 ? options.length - 1 : active - 1);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(timer);
      if (!panel.hidden && active >= 0 && options[active]) go(options[active].href);
      else searchList(input.value.trim());
    } else if (e.key === 'Escape') {
      e.preventDefault();
      if (!panel.hidden) close();
      else if (input.value) { input.value = ''; }
      else input.blur();
    }
  });
  document.addEventListener('mousedown', (e) => { if (!wrap.contains(e.target)) close(); });

  return { close };
}
