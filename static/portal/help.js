// Help: the tenant's public knowledge base (no sign-in needed).
//   /portal/help           → search box, topics, articles
//   /portal/help/<id>      → one article, "Did this answer your question?"
// Article bodies are plain text: shown as paragraphs, never as HTML.

import { h, mount, icon, debounce, formatDate } from '/app/ui.js';
import * as api from '/portal/portal-api.js';
import { page, errorPanel, paragraphs, emptyState, tenant } from '/portal/portal-kit.js';

const LAST_SEARCH = 'edgecrm.portal.help.last';
const ANSWERED = 'edgecrm.portal.help.answered';

function lastSearch() {
  try { return sessionStorage.getItem(LAST_SEARCH) || ''; } catch { return ''; }
}
function saveSearch(qs) {
  try { sessionStorage.setItem(LAST_SEARCH, qs); } catch { /* memory only */ }
}
function answered() {
  try { return new Set(JSON.parse(sessionStorage.getItem(ANSWERED) || '[]')); } catch { return new Set(); }
}
function markAnswered(id) {
  try { const s = answered(); s.add(id); sessionStorage.setItem(ANSWERED, JSON.stringify([...s].slice(-100))); } catch { /* memory only */ }
}

/** The excerpt as one line, cut at a word. */
function shortText(text, max = 170) {
  const t = String(text || '').replace(/\s+/g, ' ').trim();
  if (t.length <= max) return t;
  const cut = t.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), max - 20)).replace(/[\s,.;:]+$/, '')}…`;
}

function helpQuery(q, category) {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  if (category) p.set('category', category);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** "Didn't find your answer?": file a complaint when signed in, else sign in first. */
function contactCard(ctx) {
  const text = h('p', { class: 'muted' }, 'Tell us what happened and we will get back to you.');
  const action = h('a', { class: 'btn btn-block', href: '/portal/complaints/new', dataset: { testid: 'help-contact' } },
    icon('mail', { size: 16 }), h('span', null, 'File a complaint'));
  const card = h('section', { class: 'card po-card hk-contact', 'aria-labelledby': 'hk-contact-title' },
    h('h2', { class: 'po-card-title', id: 'hk-contact-title' }, 'Did not find your answer?'), text, action);
  ctx.session().then((on) => {
    if (on || !card.isConnected) return;
    text.textContent = 'Sign in with your email address, then tell us what happened. We will get back to you.';
    action.setAttribute('href', '/portal/sign-in');
    action.lastChild.textContent = 'Sign in to contact us';
  });
  return card;
}

// ---------------------------------------------------------------------------
// /portal/help

export function helpView(ctx) {
  ctx.setTitle('Help');
  let q = (ctx.query.get('q') || '').trim();
  let category = (ctx.query.get('category') || '').trim();
  let categories = [];
  let loadCtl = null;

  const input = h('input', {
    id: 'hk-search', type: 'search', name: 'q', value: q, autocomplete: 'off', enterkeyhint: 'search',
    maxlength: 200, placeholder: 'Return, parcel, refund…', dataset: { testid: 'help-search' },
    'aria-describedby': 'hk-search-hint', 'aria-controls': 'hk-results',
  });
  const form = h('form', { class: 'hk-search', role: 'search', 'aria-label': 'Help articles' },
    h('label', { for: 'hk-search', class: 'hk-search-label' }, 'Search the help'),
    h('div', { class: 'hk-search-row' },
      h('span', { class: 'hk-search-icon', 'aria-hidden': 'true' }, icon('search', { size: 18 })),
      input,
      h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'help-search-submit' } }, 'Search')),
    h('p', { class: 'field-hint muted', id: 'hk-search-hint' }, 'Results update as you type.'));
  const topics = h('div', { class: 'hk-topics', role: 'group', 'aria-label': 'Topics', dataset: { testid: 'help-categories' }, hidden: true });
  const status = h('p', { class: 'hk-status muted', role: 'status', 'aria-live': 'polite', dataset: { testid: 'help-status' } });
  const results = h('div', { id: 'hk-results', class: 'hk-results', 'aria-busy': 'true' },
    h('ul', { class: 'hk-list', 'aria-hidden': 'true' }, [1, 2, 3].map(() => h('li', { class: 'hk-skeleton' },
      h('span', { class: 'skeleton skeleton-text', style: { width: '45%' } }),
      h('span', { class: 'skeleton skeleton-text', style: { width: '85%', marginTop: '10px' } })))));

  mount(ctx.main, page(
    h('div', { class: 'po-head' },
      h('h1', { tabindex: '-1' }, 'Help'),
      h('p', { class: 'muted po-sub' }, 'Answers to common questions about orders from ', h('span', { class: 'tenant-cap' }, tenant), '. No sign-in needed.')),
    form,
    topics,
    h('section', { class: 'hk-results-wrap', 'aria-labelledby': 'hk-results-title' },
      h('h2', { class: 'visually-hidden', id: 'hk-results-title' }, 'Articles'),
      status,
      results),
    contactCard(ctx)));
  ctx.settle();

  function syncUrl() {
    const qs = helpQuery(q, category);
    saveSearch(qs);
    history.replaceState(history.state, '', `/portal/help${qs}`);
  }

  function renderTopics() {
    if (!categories.length) { topics.hidden = true; return; }
    topics.hidden = false;
    const total = categories.reduce((n, c) => n + (Number(c.count) || 0), 0);
    const chip = (value, label, count) => h('button', {
      type: 'button', class: 'hk-topic', 'aria-pressed': String(category === value),
      dataset: { testid: 'help-category', category: value || 'all' },
      onclick: () => {
        if (category === value) return;
        category = value;
        topics.querySelectorAll('.hk-topic').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.category === (value || 'all'))));
        syncUrl();
        load();
      },
    }, label, h('span', { class: 'hk-topic-count' }, h('span', { class: 'visually-hidden' }, ', '), String(count), h('span', { class: 'visually-hidden' }, count === 1 ? ' article' : ' articles')));
    mount(topics, chip('', 'All topics', total), categories.map((c) => chip(c.category, c.category, Number(c.count) || 0)));
  }

  function renderResults(items) {
    results.setAttribute('aria-busy', 'false');
    const n = items.length;
    const about = [q ? `for “${q}”` : null, category ? `in ${category}` : null].filter(Boolean).join(' ');
    status.textContent = n ? `${n} ${n === 1 ? 'article' : 'articles'}${about ? ` ${about}` : ''}` : '';
    if (!n) {
      mount(results, emptyState({
        iconEl: icon('search', { size: 28 }),
        title: q ? 'No articles match your search' : 'No articles yet',
        text: q ? `Nothing ${about}. Try fewer or other words${category ? ', or all topics' : ''}.` : 'Check back soon, or contact us below.',
        testid: 'help-empty',
        action: q || category ? h('button', { type: 'button', class: 'btn', onclick: () => { q = ''; category = ''; input.value = ''; renderTopics(); syncUrl(); load(); input.focus(); } }, 'Clear the search') : null,
      }));
      return;
    }
    mount(results, h('ul', { class: 'hk-list', dataset: { testid: 'help-results' } }, items.map((a) => h('li', { class: 'hk-item' },
      h('h3', { class: 'hk-item-title' },
        h('a', { href: `/portal/help/${encodeURIComponent(a.id)}`, class: 'hk-link', dataset: { testid: 'help-article', articleId: a.id } }, a.title)),
      a.excerpt ? h('p', { class: 'hk-excerpt muted' }, shortText(a.excerpt)) : null,
      a.category ? h('p', { class: 'hk-cat' }, h('span', { class: 'visually-hidden' }, 'Topic: '), a.category) : null))));
  }

  function load() {
    loadCtl?.abort();
    loadCtl = new AbortController();
    const signal = AbortSignal.any ? AbortSignal.any([ctx.signal, loadCtl.signal]) : loadCtl.signal;
    results.setAttribute('aria-busy', 'true');
    return api.searchKb({ q, category, signal }).then(({ items, categories: cats }) => {
      if (signal.aborted) return;
      if (JSON.stringify(cats) !== JSON.stringify(categories)) {
        const had = document.activeElement?.closest?.('.hk-topic')?.dataset.category;
        categories = cats;
        renderTopics();
        if (had) topics.querySelector(`.hk-topic[data-category="${CSS.escape(had)}"]`)?.focus();
      }
      // The server filters by topic; keep to it here as well.
      renderResults(category ? items.filter((a) => a.category === category) : items);
    }).catch((err) => {
      if (err?.name === 'AbortError' || signal.aborted) return;
      results.setAttribute('aria-busy', 'false');
      status.textContent = '';
      mount(results, errorPanel(err, () => load()));
    });
  }

  const typed = debounce(() => {
    const next = input.value.trim();
    if (next === q) return;
    q = next;
    syncUrl();
    load();
  }, 300);
  input.addEventListener('input', typed);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    typed.cancel();
    q = input.value.trim();
    syncUrl();
    load().then(() => { if (q) results.querySelector('a')?.focus(); });
  });
  ctx.signal.addEventListener('abort', () => { typed.cancel(); loadCtl?.abort(); });
  load();
}

// ---------------------------------------------------------------------------
// /portal/help/<id>

export function articleView(ctx, id) {
  ctx.setTitle('Help');
  const back = h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: `/portal/help${lastSearch()}`, class: 'back-link', dataset: { testid: 'help-back' } }, icon('arrowLeft'), 'Help'));
  const body = h('div', { class: 'po-body', 'aria-busy': 'true' },
    h('h1', { class: 'po-title', tabindex: '-1' }, 'Help article'),
    h('p', { class: 'visually-hidden', role: 'status' }, 'Loading the article…'),
    h('div', { class: 'card po-card', 'aria-hidden': 'true' }, [60, 90, 80, 70].map((w) => h('span', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '12px 0' } }))));
  mount(ctx.main, page(back, body));
  ctx.settle();

  const load = () => api.getArticle(id, { signal: ctx.signal }).then((a) => {
    if (ctx.signal.aborted) return;
    const focused = document.activeElement === body.querySelector('h1');
    ctx.setTitle(a.title, 'Help');
    mount(body,
      h('article', { class: 'card po-card hk-article', 'aria-labelledby': 'hk-article-title', dataset: { testid: 'help-article', articleId: a.id } },
        a.category ? h('p', { class: 'hk-eyebrow' }, h('span', { class: 'visually-hidden' }, 'Topic: '), a.category) : null,
        h('h1', { class: 'po-title', id: 'hk-article-title', tabindex: '-1' }, a.title),
        a.updated_at || a.published_at
          ? h('p', { class: 'hk-updated muted' }, 'Updated ', h('time', { datetime: a.updated_at || a.published_at }, formatDate(a.updated_at || a.published_at)))
          : null,
        paragraphs(a.body, { cls: 'pk-prose hk-body', testid: 'help-article-body' })),
      feedback(ctx, a),
      related(ctx, a));
    body.setAttribute('aria-busy', 'false');
    if (focused) body.querySelector('h1')?.focus({ preventScroll: true });
  }).catch((err) => {
    if (err?.name === 'AbortError') return;
    body.setAttribute('aria-busy', 'false');
    if (err?.status === 404 || err?.status === 422) {
      ctx.setTitle('Article not found', 'Help');
      mount(body, emptyState({
        iconEl: icon('search', { size: 28 }), headingLevel: 'h1', testid: 'help-not-found',
        title: 'We could not find this article',
        text: 'It may have been moved or taken down. Search the help for an answer.',
        action: h('a', { class: 'btn btn-primary', href: '/portal/help' }, 'Search the help'),
      }));
      return;
    }
    mount(body, h('h1', { class: 'po-title', tabindex: '-1' }, 'Help article'), errorPanel(err, () => load()));
  });
  load();
}

function feedback(ctx, a) {
  const zone = h('div', { class: 'hk-feedback-body' });
  const card = h('section', { class: 'card po-card hk-feedback', 'aria-labelledby': 'hk-feedback-title', dataset: { testid: 'help-feedback' } },
    h('h2', { class: 'po-card-title', id: 'hk-feedback-title' }, 'Did this answer your question?'), zone);

  function thanks(focus) {
    const msg = h('div', { class: 'hk-thanks', role: 'status', tabindex: '-1', dataset: { testid: 'help-thanks' } },
      h('span', { class: 'hk-thanks-icon', 'aria-hidden': 'true' }, icon('check', { size: 18 })),
      h('div', null,
        h('strong', null, 'Thanks for letting us know!'),
        h('p', { class: 'muted' }, 'We are glad it helped.')));
    mount(zone, msg);
    if (focus) msg.focus();
  }

  function notHelpful() {
    const contact = h('a', { class: 'btn', href: '/portal/complaints/new', dataset: { testid: 'help-contact' } }, icon('mail', { size: 16 }), h('span', null, 'File a complaint'));
    const msg = h('div', { class: 'hk-sorry', role: 'status', tabindex: '-1', dataset: { testid: 'help-not-helpful' } },
      h('p', null, h('strong', null, 'Sorry it did not help.'), ' Search the help for another answer, or tell us what happened.'),
      h('div', { class: 'hk-actions' },
        h('a', { class: 'btn', href: `/portal/help${lastSearch()}` }, icon('search', { size: 16 }), h('span', null, 'Search the help')),
        contact));
    mount(zone, msg);
    msg.focus();
    ctx.session().then((on) => {
      if (on || !contact.isConnected) return;
      contact.setAttribute('href', '/portal/sign-in');
      contact.lastChild.textContent = 'Sign in to contact us';
    });
  }

  function ask() {
    const err = h('div', { class: 'hk-error', hidden: true });
    const yes = h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'help-answered-yes' } }, icon('check', { size: 16 }), h('span', null, 'Yes'));
    const no = h('button', { type: 'button', class: 'btn', dataset: { testid: 'help-answered-no' }, onclick: notHelpful }, icon('x', { size: 16 }), h('span', null, 'No'));
    yes.addEventListener('click', async () => {
      yes.disabled = true; no.disabled = true;
      yes.setAttribute('aria-busy', 'true');
      err.hidden = true;
      try {
        await api.deflected(a.id, { signal: ctx.signal });
        markAnswered(a.id);
        thanks(true);
      } catch (ex) {
        if (ex?.name === 'AbortError') return;
        yes.disabled = false; no.disabled = false;
        yes.removeAttribute('aria-busy');
        err.hidden = false;
        mount(err, errorPanel(ex));
      }
    });
    mount(zone, h('div', { class: 'hk-actions', role: 'group', 'aria-labelledby': 'hk-feedback-title' }, yes, no), err);
  }

  if (answered().has(a.id)) thanks(false); else ask();
  return card;
}

/** Other articles on the same topic (up to three). */
function related(ctx, a) {
  if (!a.category) return null;
  const box = h('section', { class: 'hk-related', 'aria-labelledby': 'hk-related-title', hidden: true },
    h('h2', { class: 'hk-related-title', id: 'hk-related-title' }, `More about ${a.category}`));
  api.searchKb({ category: a.category, signal: ctx.signal }).then(({ items }) => {
    const others = items.filter((x) => x.id !== a.id && x.category === a.category).slice(0, 3);
    if (!others.length || !box.isConnected) return;
    box.append(h('ul', { class: 'hk-related-list' }, others.map((x) => h('li', null,
      h('a', { href: `/portal/help/${encodeURIComponent(x.id)}`, dataset: { articleId: x.id } }, icon('chevronRight', { size: 16 }), h('span', null, x.title))))));
    box.hidden = false;
  }).catch(() => {});
  return box;
}
