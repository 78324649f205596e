// Small DOM helpers shared by every view. No framework: `h()` builds elements,
// `toast()` shows transient messages, plus a few formatting utilities.

const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_TAGS = new Set(['svg', 'path', 'circle', 'rect', 'line', 'polyline', 'g']);

/**
 * Create an element.
 *   h('a', { href: '/x', class: 'link', dataset: { testid: 'x' }, onclick: fn }, 'text', child)
 * - attrs may be null; `class` accepts a string or an array (falsy entries skipped);
 * - `on<event>` keys attach listeners; `dataset`/`style` objects are merged;
 * - boolean `true` sets an empty attribute, `false`/null/undefined skip it;
 * - children may be strings, numbers, nodes, arrays (flattened) or falsy (skipped).
 */
export function h(tag, attrs, ...children) {
  const isSvg = SVG_TAGS.has(tag);
  const el = isSvg ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class' || key === 'className') {
        const cls = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
        if (cls) el.setAttribute('class', cls);
      } else if (key === 'dataset') {
        for (const [k, v] of Object.entries(value)) if (v != null) el.dataset[k] = v;
      } else if (key === 'style' && typeof value === 'object') {
        Object.assign(el.style, value);
      } else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2).toLowerCase(), value);
      } else if (key === 'ref' && typeof value === 'function') {
        value(el);
      } else if (!isSvg && (key === 'value' || key === 'checked' || key === 'disabled') && key in el) {
        el[key] = value;
        if (key === 'disabled' && value) el.setAttribute('disabled', '');
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === true) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

/** Replace all children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Inline SVG icon from a tiny built-in set (stroke icons, 24x24 grid). */
const ICONS = {
  users: 'M16 19v-1.5a3.5 3.5 0 0 0-3.5-3.5h-5A3.5 3.5 0 0 0 4 17.5V19M10 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6M20 19v-1.5a3.5 3.5 0 0 0-2.5-3.35M15 5.15a3 3 0 0 1 0 5.7',
  building: 'M4 20V5a1 1 0 0 1 1-1h8a1 1 0 0 1 1 1v15M14 9h5a1 1 0 0 1 1 1v10M3 20h18M7.5 8h3M7.5 12h3M7.5 16h3',
  pipeline: 'M4 5h16M6 12h12M9 19h6',
  megaphone: 'M4 10v4a1 1 0 0 0 1 1h2l5 4V5L7 9H5a1 1 0 0 0-1 1M16 9a4 4 0 0 1 0 6M18.5 6.5a7.5 7.5 0 0 1 0 11',
  lifebuoy: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8M5.6 5.6l3.6 3.6M14.8 14.8l3.6 3.6M18.4 5.6l-3.6 3.6M9.2 14.8l-3.6 3.6',
  zap: 'M13 3 5 13.5h6L10 21l8-10.5h-6z',
  settings: 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6M19 12a7 7 0 0 0-.1-1.2l2-1.6-2-3.4-2.4 1a7 7 0 0 0-2-1.2L14 3h-4l-.5 2.6a7 7 0 0 0-2 1.2l-2.4-1-2 3.4 2 1.6a7 7 0 0 0 0 2.4l-2 1.6 2 3.4 2.4-1a7 7 0 0 0 2 1.2L10 21h4l.5-2.6a7 7 0 0 0 2-1.2l2.4 1 2-3.4-2-1.6c.07-.4.1-.8.1-1.2',
  search: 'M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14M20 20l-4-4',
  plus: 'M12 5v14M5 12h14',
  x: 'M6 6l12 12M18 6 6 18',
  menu: 'M4 6h16M4 12h16M4 18h16',
  sun: 'M12 17a5 5 0 1 0 0-10 5 5 0 0 0 0 10M12 1.5v2M12 20.5v2M4.2 4.2l1.4 1.4M18.4 18.4l1.4 1.4M1.5 12h2M20.5 12h2M4.2 19.8l1.4-1.4M18.4 5.6l1.4-1.4',
  moon: 'M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5',
  monitor: 'M3 5a1 1 0 0 1 1-1h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1zM8 20h8M12 16v4',
  keyboard: 'M3 7a1 1 0 0 1 1-1h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1zM7 10h.01M11 10h.01M15 10h.01M8 14h8',
  mail: 'M3 6.5A1.5 1.5 0 0 1 4.5 5h15A1.5 1.5 0 0 1 21 6.5v11a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5zM3.5 6l8.5 7 8.5-7',
  phone: 'M5 4h3l1.5 4.5-2 1.5a11 11 0 0 0 6.5 6.5l1.5-2L20 16v3a1.5 1.5 0 0 1-1.6 1.5A16.5 16.5 0 0 1 3.5 5.6 1.5 1.5 0 0 1 5 4',
  clock: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M12 7v5l3 2',
  arrowLeft: 'M19 12H5M11 18l-6-6 6-6',
  alert: 'M12 9v4M12 17h.01M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  copy: 'M9 9h10a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H9a1 1 0 0 1-1-1V10a1 1 0 0 1 1-1M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1',
  lock: 'M6 11h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1M8 11V7a4 4 0 0 1 8 0v4',
  logOut: 'M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3M10 17l-5-5 5-5M5 12h11',
  logIn: 'M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3M10 17l5-5-5-5M15 12H4',
  chevronDown: 'M6 9l6 6 6-6',
  chevronRight: 'M9 6l6 6-6 6',
  userPlus: 'M15 19v-1.5a3.5 3.5 0 0 0-3.5-3.5h-5A3.5 3.5 0 0 0 3 17.5V19M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6M19 8v6M16 11h6',
  userX: 'M15 19v-1.5a3.5 3.5 0 0 0-3.5-3.5h-5A3.5 3.5 0 0 0 3 17.5V19M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6M17 9l4 4M21 9l-4 4',
  eye: 'M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6',
  eyeOff: 'M3 3l18 18M10.6 5.1A10 10 0 0 1 12 5c6.5 0 10 7 10 7a17 17 0 0 1-2.6 3.5M6.6 6.6A17 17 0 0 0 2 12s3.5 7 10 7a9.8 9.8 0 0 0 5.4-1.6M9.9 9.9a3 3 0 0 0 4.2 4.2',
  inbox: 'M3 13l2.5-7.5A1 1 0 0 1 6.4 5h11.2a1 1 0 0 1 .9.5L21 13M3 13v5a1 1 0 0 0 1 1h16a1 1 0 0 0 1-1v-5M3 13h5l1.5 3h5l1.5-3h5',
  shield: 'M12 3l8 3v6c0 4.5-3.4 8-8 9-4.6-1-8-4.5-8-9V6z',
  key: 'M8 20a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9M11.2 12.3 20 3.5M16.5 7l2.5 2.5M14 9.5l2 2',
  history: 'M3.5 12a8.5 8.5 0 1 0 2.5-6L3.5 8.5M3.5 4v4.5H8M12 7.5V12l3 2',
  team: 'M12 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6M6.5 19v-1a3.5 3.5 0 0 1 3.5-3.5h4a3.5 3.5 0 0 1 3.5 3.5v1M5.5 11.5a2 2 0 1 0 0-4 2 2 0 0 0 0 4M18.5 11.5a2 2 0 1 0 0-4 2 2 0 0 0 0 4M2 18v-.5A2.5 2.5 0 0 1 4.5 15h.5M22 18v-.5a2.5 2.5 0 0 0-2.5-2.5H19',
  pencil: 'M15.5 4.5a2.1 2.1 0 0 1 3 3L8 18l-4 1 1-4zM13.5 6.5l3 3',
  trash: 'M4 7h16M9 7V4.5a.5.5 0 0 1 .5-.5h5a.5.5 0 0 1 .5.5V7M6 7l1 12.5a1.5 1.5 0 0 0 1.5 1.5h7a1.5 1.5 0 0 0 1.5-1.5L18 7M10 11v6M14 11v6',
};

export function icon(name, { size = 16, label } = {}) {
  const svg = h('svg', {
    class: 'icon',
    width: size,
    height: size,
    viewBox: '0 0 24 24',
    fill: 'none',
    stroke: 'currentColor',
    'stroke-width': 1.8,
    'stroke-linecap': 'round',
    'stroke-linejoin': 'round',
    'aria-hidden': label ? null : 'true',
    role: label ? 'img' : null,
    'aria-label': label || null,
    focusable: 'false',
  }, h('path', { d: ICONS[name] || '' }));
  return svg;
}

// ---------------------------------------------------------------------------
// Toasts

let toastRegion;

function region() {
  if (!toastRegion || !toastRegion.isConnected) {
    toastRegion = h('section', { class: 'toasts', 'aria-label': 'Notifications' });
    document.body.append(toastRegion);
  }
  // A toast must appear above an open modal <dialog> (which lives in the top
  // layer); move the region into the top-most open dialog while one is open.
  const dialogs = document.querySelectorAll('dialog[open]');
  const host = dialogs.length ? dialogs[dialogs.length - 1] : document.body;
  if (toastRegion.parentNode !== host) host.append(toastRegion);
  return toastRegion;
}

/**
 * Show a toast.
 *   toast('Contact created', { kind: 'success', action: { label: 'View', href: '/contacts/c_1' } })
 *   toast(err.message, { kind: 'error', requestId: err.requestId })
 * Errors stay longer and are announced assertively; hovering or focusing pauses dismissal.
 */
export function toast(message, { kind = 'info', title, requestId, action, timeout } = {}) {
  const isError = kind === 'error';
  const ms = timeout ?? (isError ? 12000 : 5000);
  const children = [
    h('span', { class: 'toast-icon' }, icon(isError ? 'alert' : kind === 'success' ? 'check' : 'zap')),
    h('div', { class: 'toast-body' },
      title ? h('strong', { class: 'toast-title' }, title) : null,
      h('div', { class: 'toast-message' }, message),
      requestId ? h('div', { class: 'toast-meta' },
        'Request ID ',
        h('code', { dataset: { testid: 'toast-request-id' } }, requestId),
        h('button', {
          type: 'button', class: 'link-button', 'aria-label': 'Copy request ID',
          onclick: (e) => copyText(requestId, e.currentTarget),
        }, 'Copy'),
      ) : null,
      action ? (action.href
        ? h('a', { class: 'toast-action', href: action.href, onclick: () => dismiss() }, action.label)
        : h('button', { type: 'button', class: 'link-button toast-action', onclick: () => { action.onClick?.(); dismiss(); } }, action.label))
        : null,
    ),
    h('button', { type: 'button', class: 'icon-button toast-close', 'aria-label': 'Dismiss notification', onclick: () => dismiss() }, icon('x')),
  ];
  const el = h('div', {
    class: ['toast', `toast-${kind}`],
    role: isError ? 'alert' : 'status',
    'aria-live': isError ? 'assertive' : 'polite',
    dataset: { testid: 'toast', kind },
  }, children);

  let timer;
  const start = () => { if (ms > 0) timer = setTimeout(dismiss, ms); };
  const stop = () => clearTimeout(timer);
  el.addEventListener('mouseenter', stop);
  el.addEventListener('mouseleave', start);
  el.addEventListener('focusin', stop);
  el.addEventListener('focusout', start);

  function dismiss() {
    stop();
    if (!el.isConnected) return;
    el.classList.add('toast-leaving');
    const remove = () => el.remove();
    el.addEventListener('animationend', remove, { once: true });
    setTimeout(remove, 300);
  }

  const r = region();
  r.append(el);
  while (r.children.length > 4) r.firstElementChild.remove();
  start();
  return { dismiss, el };
}

/** Show an ApiError (or any Error) as an error toast, with the request id for support. */
export function toastError(err, fallbackTitle = 'Something went wrong') {
  if (err?.name === 'AbortError' || err?.handled) return null;
  return toast(err?.detail || err?.message || String(err), {
    kind: 'error',
    title: err?.title || fallbackTitle,
    requestId: err?.requestId,
  });
}

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    if (button) {
      const old = button.textContent;
      button.textContent = 'Copied';
      setTimeout(() => { button.textContent = old; }, 1500);
    }
  } catch {
    // Clipboard may be unavailable (insecure context); select the text instead.
    window.prompt('Copy to clipboard:', text);
  }
}

// ---------------------------------------------------------------------------
// Formatting & misc

export function debounce(fn, ms) {
  let t;
  const wrapped = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(t);
  wrapped.flush = (...args) => { clearTimeout(t); fn(...args); };
  return wrapped;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso, { withTime = false } = {}) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return (withTime ? dateTimeFmt : dateFmt).format(d);
}

/** <time> element with a readable date and the full timestamp on hover. */
export function timeEl(iso, opts) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: formatDate(iso, { withTime: true }) }, formatDate(iso, opts));
}

/** Tenant slug: first DNS label of the host ("demo" for demo.localhost:3000). */
export function tenantName(hostname = location.hostname) {
  if (!hostname) return 'local';
  if (/^[\d.]+$/.test(hostname) || hostname.includes(':')) return 'local'; // IPv4 / IPv6 literal
  return hostname.split('.')[0];
}

/** Set document.title: "Contacts · demo · Edge CRM". */
export function pageTitle(...parts) {
  document.title = [...parts.filter(Boolean), tenantName(), 'Edge CRM'].join(' · ');
}

/** Is the keyboard focus in a place where typing text is expected? */
export function isTypingTarget(el) {
  if (!el || el === document.body) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el.type || 'text').toLowerCase();
    return !['button', 'submit', 'reset', 'checkbox', 'radio', 'range', 'color', 'file', 'image'].includes(type);
  }
  return false;
}

/**
 * Open a modal <dialog>, return focus to the opener when it closes and remove
 * it from the DOM. Returns the dialog element.
 */
export function openModal(dialog, { onClose } = {}) {
  const opener = document.activeElement;
  document.body.append(dialog);
  dialog.addEventListener('close', () => {
    // Keep toasts that were shown while the dialog was open.
    if (toastRegion && dialog.contains(toastRegion)) document.body.append(toastRegion);
    dialog.remove();
    onClose?.(dialog.returnValue);
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  }, { once: true });
  // Click on the backdrop (outside the dialog box) closes it.
  // (Not while it shows something that must not be lost by a stray click,
  // marked with data-keep-open, e.g. a token shown only once.)
  dialog.addEventListener('mousedown', (e) => {
    if (e.target !== dialog || dialog.hasAttribute('data-keep-open')) return;
    const r = dialog.getBoundingClientRect();
    const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    if (!inside) dialog.close('dismiss');
  });
  dialog.showModal();
  return dialog;
}

export function prefersReducedMotion() {
  return window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
}
