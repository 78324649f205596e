// How orders look, in the staff app and in the customer portal alike: status
// labels and badges, the moves the lifecycle allows, money from minor units,
// the status track built from an order's history, and a few icons.
//
// Depends on ui.js only: the portal (static/portal/) imports this module too,
// without the staff app's session and API modules.

import { h, icon, formatDate } from './ui.js';

export const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned'];
/** The forward path; cancelled and returned end it. */
export const PROGRESS = ['placed', 'paid', 'shipped', 'delivered'];

const LABELS = {
  placed: 'Placed', paid: 'Paid', shipped: 'Shipped', delivered: 'Delivered', cancelled: 'Cancelled', returned: 'Returned',
};

export function statusLabel(status) {
  return LABELS[status] || String(status || 'Unknown').replace(/[-_]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/**
 * What the lifecycle allows from each status (mirrors the server): forward
 * through placed → paid → shipped → delivered, steps may be skipped;
 * cancelled before shipping, returned after.
 */
const MOVES = {
  placed: ['paid', 'shipped', 'delivered', 'cancelled'],
  paid: ['shipped', 'delivered', 'cancelled'],
  shipped: ['delivered', 'returned'],
  delivered: ['returned'],
  cancelled: [],
  returned: [],
};

export function allowedMoves(status) {
  return MOVES[status] ? MOVES[status].slice() : [];
}

/** Button labels for the moves ("…" where a dialog asks for more). */
export const MOVE_LABELS = {
  paid: 'Mark paid',
  shipped: 'Mark shipped…',
  delivered: 'Mark delivered',
  cancelled: 'Cancel order…',
  returned: 'Mark returned…',
};

// ---------------------------------------------------------------------------
// Icons (same 24x24 stroke style as ui.js)

const ORDER_ICONS = {
  bag: 'M5.5 8h13l-1 12a1 1 0 0 1-1 .9h-9a1 1 0 0 1-1-.9zM9 10V6.5a3 3 0 0 1 6 0V10',
  card: 'M3 6.5A1.5 1.5 0 0 1 4.5 5h15A1.5 1.5 0 0 1 21 6.5v11a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5zM3 10h18M7 15h3',
  truck: 'M2.5 6h11v10.5h-11zM13.5 9.5h4l3 3.5v3.5h-7M6.5 19.5a1.8 1.8 0 1 0 0-3.6 1.8 1.8 0 0 0 0 3.6M17 19.5a1.8 1.8 0 1 0 0-3.6 1.8 1.8 0 0 0 0 3.6',
  box: 'M12 3l8 4.5v9L12 21l-8-4.5v-9zM4 7.5l8 4.5 8-4.5M12 12v9M8 5.3l8 4.5',
  checkCircle: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M8 12.5l2.7 2.7L16.2 9.5',
  xCircle: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M9 9l6 6M15 9l-6 6',
  undo: 'M9 14 4 9l5-5M4 9h10.5a5.5 5.5 0 0 1 0 11H11',
  flag: 'M5 21V4M5 4h11l-2 4 2 4H5',
};

/** ui.icon plus the order shapes above. */
export function oicon(name, opts = {}) {
  const el = icon(name, opts);
  if (ORDER_ICONS[name]) el.querySelector('path').setAttribute('d', ORDER_ICONS[name]);
  return el;
}

const STATUS_ICONS = {
  placed: 'bag', paid: 'card', shipped: 'truck', delivered: 'checkCircle', cancelled: 'xCircle', returned: 'undo',
};

export function statusIcon(status, opts = {}) {
  return oicon(STATUS_ICONS[status] || 'box', opts);
}

/** A status badge: icon and word (never colour alone). */
export function orderStatusBadge(status, { testid = 'order-status' } = {}) {
  const s = ORDER_STATUSES.includes(status) ? status : 'unknown';
  return h('span', { class: ['order-status', `order-status-${s}`], dataset: { testid, status: s } },
    statusIcon(s, { size: 13 }), statusLabel(status));
}

// ---------------------------------------------------------------------------
// Money

function digitsOf(currency) {
  try { return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits; } catch { return 2; }
}

/**
 * Integer minor units → "€129.00", "¥4,400", "$24.50" in the reader's locale,
 * always with the currency's own number of decimals (none for JPY).
 */
export function formatOrderMoney(minor, currency = 'EUR') {
  if (minor === null || minor === undefined || minor === '') return '';
  const n = Number(minor);
  if (!Number.isFinite(n)) return String(minor);
  const cur = String(currency || 'EUR').toUpperCase();
  const digits = digitsOf(cur);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: cur, minimumFractionDigits: digits, maximumFractionDigits: digits })
      .format(n / 10 ** digits);
  } catch {
    return `${(n / 10 ** digits).toFixed(digits)} ${cur}`;
  }
}

export function orderMoneyEl(minor, currency, { cls, testid } = {}) {
  if (minor === null || minor === undefined || minor === '') return h('span', { class: ['muted', cls] }, '—');
  return h('span', { class: ['num', cls], dataset: { testid } }, formatOrderMoney(minor, currency));
}

/** Number of pieces in the order (sum of quantities). */
export function itemCount(order) {
  return (order?.items || []).reduce((n, it) => n + (Number(it.quantity) || 0), 0);
}

export function itemsText(order) {
  const n = itemCount(order);
  return `${n} ${n === 1 ? 'item' : 'items'}`;
}

/** Sum of the line totals. */
export function subtotal(order) {
  return (order?.items || []).reduce((n, it) => n + (Number(it.total ?? (it.quantity * it.unit_price)) || 0), 0);
}

/** The lines of a totals block: subtotal, shipping, tax, discount (only those set), total. */
export function totalsRows(order) {
  const cur = order.currency;
  const rows = [['Subtotal', formatOrderMoney(subtotal(order), cur)]];
  if (order.shipping) rows.push(['Shipping', formatOrderMoney(order.shipping, cur)]);
  else rows.push(['Shipping', 'Free']);
  if (order.tax) rows.push(['Tax', formatOrderMoney(order.tax, cur)]);
  if (order.discount) rows.push(['Discount', `−${formatOrderMoney(order.discount, cur)}`]);
  return rows;
}

// ---------------------------------------------------------------------------
// Status track

/**
 * The steps to show for an order, from its history:
 * [{ status, state, at, note }] where state is
 *   'done'     reached, with the time it happened;
 *   'skipped'  passed over (e.g. shipped straight from placed);
 *   'current'  where the order is now (on the forward path);
 *   'upcoming' still ahead;
 *   'ended'    cancelled or returned (always last).
 * A cancelled order shows no steps after the last one it reached.
 */
export function statusSteps(order) {
  const history = Array.isArray(order?.history) ? order.history : [];
  const entry = (s) => { for (let i = history.length - 1; i >= 0; i -= 1) if (history[i]?.status === s) return history[i]; return null; };
  const status = order?.status;
  const ended = status === 'cancelled' || status === 'returned';
  let reached = -1;
  for (const e of history) reached = Math.max(reached, PROGRESS.indexOf(e?.status));
  reached = Math.max(reached, PROGRESS.indexOf(status));
  if (reached < 0) reached = 0; // every order was placed
  const steps = [];
  PROGRESS.forEach((s, i) => {
    const e = entry(s);
    if (i > reached) {
      if (!ended) steps.push({ status: s, state: 'upcoming', at: null, note: null });
      return;
    }
    const isNow = !ended && i === reached;
    steps.push({ status: s, state: isNow ? 'current' : (e || i === 0 ? 'done' : 'skipped'), at: e?.at || (i === 0 ? order?.placed_at : null) || null, note: e?.note || null });
  });
  if (ended) {
    const e = entry(status);
    steps.push({ status, state: 'ended', at: e?.at || null, note: e?.note || null });
  }
  return steps;
}

/**
 * The status track as an ordered list (vertical, fits a phone).
 *   statusTrack(order, { testid, skippedText, upcomingText })
 */
export function statusTrack(order, { testid, skippedText = '', upcomingText = '', label = 'Order status' } = {}) {
  const steps = statusSteps(order);
  return h('ol', { class: ['order-track', `is-${order?.status || 'unknown'}`], 'aria-label': label, dataset: { testid } },
    steps.map((st) => {
      const reachedStep = st.state === 'done' || st.state === 'current' || st.state === 'ended';
      const stateText = {
        done: 'done', current: 'current status', skipped: 'skipped', upcoming: 'not yet', ended: 'current status',
      }[st.state];
      return h('li', {
        class: ['ot-step', `ot-${st.state}`, `ot-status-${st.status}`],
        'aria-current': st.state === 'current' || st.state === 'ended' ? 'step' : null,
        dataset: { status: st.status, state: st.state },
      },
      h('span', { class: 'ot-dot', 'aria-hidden': 'true' }, reachedStep ? statusIcon(st.status, { size: 14 }) : null),
      h('div', { class: 'ot-body' },
        h('div', { class: 'ot-label' },
          h('span', { class: 'ot-name' }, statusLabel(st.status)),
          h('span', { class: 'visually-hidden' }, `: ${stateText}`)),
        st.at
          ? h('time', { class: 'ot-time', datetime: st.at }, formatDate(st.at, { withTime: true }))
          : (st.state === 'skipped' && skippedText) || (st.state === 'upcoming' && upcomingText)
            ? h('span', { class: 'ot-time muted' }, st.state === 'skipped' ? skippedText : upcomingText)
            : null,
        st.note ? h('p', { class: 'ot-note' }, st.note) : null));
    }));
}

/** "Order 1002" */
export function orderTitle(order) {
  return order?.number ? `Order ${order.number}` : 'Order';
}
