// Settings › Service desk (owners, admins, managers): business hours in the
// workspace's time zone (per weekday open/close or closed, holidays), the
// SLA policy per priority (first response and resolution, in business
// hours), escalation (reassign, notify), ticket categories, when resolved
// tickets close by themselves and the customer portal's look (its name and
// accent colour, with a preview in both themes): one document, PUT with
// If-Match. Below it the macros: canned replies that may also set the
// ticket's status.

import { h, mount, icon, toast, toastError, tenantName, debounce } from './ui.js';
import { normalizeHex, brandPalette, contrast, WHITE } from '../portal/brand-color.js';
import * as tapi from './tickets-api.js';
import { sectionHeader, inlineError, confirmDialog, forbiddenState } from './settings-kit.js';
import { loadUsers, knownUsers, userName, userActive, formatDay } from './records.js';
import { PRIORITIES, ticketPriorityBadge, ticketStatusLabel, ticketStatusBadge } from './ticket-display.js';

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

export function serviceSettingsIcon({ size = 16 } = {}) {
  return icon('lifebuoy', { size });
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
export const COMMON_ZONES = [
  'UTC', 'Europe/London', 'Europe/Dublin', 'Europe/Lisbon', 'Europe/Paris', 'Europe/Berlin', 'Europe/Amsterdam', 'Europe/Brussels',
  'Europe/Madrid', 'Europe/Rome', 'Europe/Vienna', 'Europe/Zurich', 'Europe/Stockholm', 'Europe/Oslo', 'Europe/Copenhagen',
  'Europe/Helsinki', 'Europe/Warsaw', 'Europe/Prague', 'Europe/Athens', 'Europe/Istanbul', 'Africa/Lagos', 'Africa/Cairo',
  'Africa/Johannesburg', 'Asia/Dubai', 'Asia/Kolkata', 'Asia/Singapore', 'Asia/Hong_Kong', 'Asia/Shanghai', 'Asia/Tokyo',
  'Asia/Seoul', 'Australia/Perth', 'Australia/Sydney', 'Australia/Melbourne', 'Pacific/Auckland', 'America/Sao_Paulo',
  'America/Buenos_Aires', 'America/Bogota', 'America/Mexico_City', 'America/New_York', 'America/Toronto', 'America/Chicago',
  'America/Denver', 'America/Phoenix', 'America/Los_Angeles', 'America/Vancouver', 'America/Anchorage', 'Pacific/Honolulu',
];

/** "UTC+1" for a zone now, or '' when the browser does not know it. */
function offsetOf(zone) {
  try {
    const part = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'shortOffset' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName');
    return (part?.value || '').replace('GMT', 'UTC').replace(/^UTC$/, 'UTC±0');
  } catch { return ''; }
}
function knownZone(zone) {
  try { new Intl.DateTimeFormat('en', { timeZone: zone }); return true; } catch { return false; }
}

/** JSON with sorted keys, for comparing settings documents. */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).filter((k) => k !== 'version').sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

/** "hours.week[0]" → "Monday's hours" and friends, for error messages. */
function fieldLabel(field) {
  const f = String(field || '');
  let m = /^hours\.week\[(\d)\]$/.exec(f);
  if (m) return `${WEEKDAYS[Number(m[1])]}’s hours`;
  m = /^policies\.(\w+)$/.exec(f);
  if (m) return `${m[1][0].toUpperCase()}${m[1].slice(1)} priority`;
  return {
    'hours.time_zone': 'Time zone', 'hours.week': 'Opening days', 'hours.holidays': 'Holidays', policies: 'SLA policy',
    'escalation.assign_to': 'Escalate to', 'escalation.notify': 'Notify', categories: 'Categories', close_after_days: 'Close after',
    portal_name: 'Portal name', brand_color: 'Accent colour',
  }[f] || f.replace(/[._]/g, ' ');
}

/** The portal's colours without an accent colour of its own (styles.css: --accent, --accent-text). */
const DEFAULT_LOOK = {
  light: { fill: '#2b59c3', onFill: '#ffffff', text: '#2b59c3', soft: '#e8eefb' },
  dark: { fill: '#7f9ffa', onFill: '#0c1222', text: '#7f9ffa', soft: '#1e2844' },
};
const PREVIEW_BG = { light: '#ffffff', dark: '#171a20' };
const PREVIEW_TEXT = { light: '#181b21', dark: '#e6e8ec' };

/**
 * Settings › Service desk › Customer portal: the name and accent colour
 * (`<input type=color>` and its hex code, "use the default" = null), with a
 * preview of the portal's header, a button and a link in both themes.
 * → { el, read() → {portal_name, brand_color} | {error: [label, message, el]} }
 */
function portalLookCard(s) {
  const workspace = tenantName().replace(/[-_]+/g, ' ');
  const nameId = nextId('sd-portal-name');
  const name = h('input', {
    class: 'input', id: nameId, maxlength: 80, autocomplete: 'off', value: s.portal_name || '',
    placeholder: workspace.replace(/\b\w/g, (c) => c.toUpperCase()), 'aria-describedby': `${nameId}-hint`, dataset: { testid: 'portal-name-setting' },
  });
  let color = normalizeHex(s.brand_color);
  const hexId = nextId('sd-brand-hex');
  const picker = h('input', {
    type: 'color', class: 'sd-color-picker', value: color || DEFAULT_LOOK.light.fill, 'aria-label': 'Pick the accent colour',
    dataset: { testid: 'brand-color-picker' },
  });
  const hex = h('input', {
    class: 'input sd-color-hex', id: hexId, maxlength: 7, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
    value: color || '', placeholder: 'Default', 'aria-describedby': `${hexId}-hint`, dataset: { testid: 'brand-color-setting' },
  });
  const reset = h('button', {
    type: 'button', class: 'link-button', dataset: { testid: 'brand-color-reset' },
    onclick: () => { color = null; hex.value = ''; picker.value = DEFAULT_LOOK.light.fill; clearHexError(); update(); hex.focus(); },
  }, 'Reset to default');
  const hexHint = h('p', { class: 'field-hint muted', id: `${hexId}-hint` });

  const tile = (theme) => {
    const mark = h('span', { class: 'sd-pv-mark', 'aria-hidden': 'true' });
    const title = h('span', { class: 'sd-pv-name' });
    const el = h('div', { class: ['sd-pv', `sd-pv-${theme}`], dataset: { testid: `brand-preview-${theme}` } },
      h('span', { class: 'sd-pv-theme' }, theme === 'light' ? 'Light' : 'Dark'),
      h('div', { class: 'sd-pv-head' }, mark, h('span', { class: 'sd-pv-brand' }, title, h('span', { class: 'sd-pv-sub' }, 'Customer portal'))),
      h('div', { class: 'sd-pv-body' },
        h('span', { class: 'sd-pv-button' }, 'Email me a link'),
        h('span', { class: 'sd-pv-link' }, 'Browse the help')));
    return { el, mark, title };
  };
  const tiles = { light: tile('light'), dark: tile('dark') };
  const swatch = h('span', { class: 'sd-swatch', 'aria-hidden': 'true', title: 'Text on the accent colour', dataset: { testid: 'brand-color-swatch' } }, 'Aa');
  const hexError = h('p', { class: 'field-error', id: `${hexId}-error`, hidden: true, dataset: { testid: 'error-brand_color' } });
  const summary = h('p', { class: 'sd-pv-note muted', id: nextId('sd-pv-note'), role: 'status', 'aria-live': 'polite', dataset: { testid: 'brand-color-note' } });

  function update() {
    const shown = name.value.trim() || workspace;
    const palette = color ? brandPalette(color) : DEFAULT_LOOK;
    for (const theme of ['light', 'dark']) {
      const t = tiles[theme];
      const p = palette[theme];
      t.el.style.setProperty('--pv-bg', PREVIEW_BG[theme]);
      t.el.style.setProperty('--pv-ink', PREVIEW_TEXT[theme]);
      t.el.style.setProperty('--pv-fill', p.fill);
      t.el.style.setProperty('--pv-on-fill', p.onFill);
      t.el.style.setProperty('--pv-border', p.fillBorder || p.fill);
      t.el.style.setProperty('--pv-text', p.text);
      t.mark.textContent = (Array.from(shown)[0] || '?').toUpperCase();
      t.title.textContent = shown;
      t.title.classList.toggle('is-workspace', !name.value.trim());
    }
    swatch.style.background = palette.light.fill;
    swatch.style.color = palette.light.onFill;
    swatch.classList.toggle('is-default', !color);
    describe(palette);
  }
  // Said once the colour settles (dragging in the picker changes it many times a second).
  const describe = debounce((palette) => {
    if (!color) {
      summary.textContent = 'The portal uses its default blue.';
      hexHint.textContent = 'A colour like #e11d48, or pick one. Empty: the default.';
      return;
    }
    const l = palette.light;
    const onWord = l.onFill === WHITE ? 'White' : 'Near-black';
    const parts = [`${onWord} text on it (${contrast(l.fill, l.onFill).toFixed(1)}:1).`];
    if (l.fill !== color) parts.push(`Buttons use ${l.fill} so that their text reads well.`);
    if (l.text !== color) parts.push(`Links and focus rings use the darker ${l.text} on the light background (${contrast(l.text, PREVIEW_BG.light).toFixed(1)}:1).`);
    if (palette.dark.text !== color) parts.push(`In the dark theme they use the lighter ${palette.dark.text}.`);
    summary.textContent = parts.join(' ');
    hexHint.textContent = 'A colour like #e11d48, or pick one.';
  }, 250);

  function clearHexError() {
    hex.removeAttribute('aria-invalid');
    hex.setAttribute('aria-describedby', `${hexId}-hint`);
    hexError.hidden = true;
  }
  picker.addEventListener('input', () => {
    color = normalizeHex(picker.value);
    hex.value = color || '';
    clearHexError();
    update();
  });
  hex.addEventListener('input', () => {
    const v = hex.value.trim();
    const n = normalizeHex(v);
    clearHexError();
    if (!v) color = null;
    else if (n) { color = n; picker.value = n; }
    else return; // half typed: keep the last colour until it is one
    update();
  });
  hex.addEventListener('blur', () => {
    const n = normalizeHex(hex.value);
    if (n) hex.value = n;
  });
  name.addEventListener('input', update);
  update();
  describe.flush(color ? brandPalette(color) : DEFAULT_LOOK);

  const el = h('section', { class: 'card ps-card sd-portal', 'aria-labelledby': 'sd-portal-title', dataset: { testid: 'sd-portal' } },
    h('h2', { class: 'card-title', id: 'sd-portal-title' }, 'Customer portal'),
    h('p', { class: 'muted ps-lead' }, 'How the portal at ', h('a', { href: '/portal', target: '_blank', rel: 'noopener' }, `${location.host}/portal`),
      ' introduces itself. Customers see a change within a minute or two.'),
    h('div', { class: 'sd-portal-grid' },
      h('div', { class: 'sd-portal-fields' },
        h('div', { class: 'field', dataset: { field: 'portal_name' } },
          h('label', { for: nameId }, 'Portal name'), name,
          h('p', { class: 'field-hint muted', id: `${nameId}-hint` }, `In the portal’s header, page titles and texts. Empty: the workspace’s name (${workspace}).`)),
        h('div', { class: 'field', dataset: { field: 'brand_color' } },
          h('label', { for: hexId }, 'Accent colour'),
          h('div', { class: 'sd-color-row' }, picker, hex, swatch, reset),
          hexHint, hexError)),
      h('div', { class: 'sd-portal-preview' },
        h('span', { class: 'field-label', id: 'sd-portal-preview-label' }, 'Preview'),
        h('div', { class: 'sd-pv-tiles', role: 'img', 'aria-labelledby': 'sd-portal-preview-label', 'aria-describedby': summary.id }, tiles.light.el, tiles.dark.el),
        summary)));

  return {
    el,
    read() {
      const v = hex.value.trim();
      if (v && !normalizeHex(v)) {
        hex.setAttribute('aria-invalid', 'true');
        hex.setAttribute('aria-describedby', `${hexId}-hint ${hexId}-error`);
        hexError.hidden = false;
        mount(hexError, icon('alert', { size: 14 }), h('span', null, `“${v}” is not a colour. Use a hex code like #1f6feb, or leave it empty for the default.`));
        return { error: ['Accent colour', 'use a colour like #1f6feb, or leave it empty for the default', hex] };
      }
      return { portal_name: name.value.trim() || null, brand_color: v ? normalizeHex(v) : null };
    },
  };
}

function splitMinutes(total) {
  const n = Math.max(0, Math.round(Number(total) || 0));
  return { h: Math.floor(n / 60), m: n % 60 };
}

export function serviceSettingsSection(root) {
  const state = { settings: null, version: null, macros: [], destroyed: false, saving: false };
  const status = h('span', null, 'Loading…');
  const errorSlot = h('div');
  const formSlot = h('div', { class: 'sd-settings-slot' });
  const macrosEl = h('section', { class: 'card ps-card sd-macros', 'aria-labelledby': 'sd-macros-title', dataset: { testid: 'macros' } });

  mount(root,
    sectionHeader('settings-service-desk-title', 'Service desk', status),
    h('p', { class: 'section-lead muted' }, 'When the desk is open, how fast tickets must be answered and resolved (counted in these business hours), what happens when a target is missed, and the replies agents reuse.'),
    errorSlot,
    formSlot,
    macrosEl);

  // --- the settings form ------------------------------------------------------------------
  function renderForm() {
    const s = state.settings;
    const box = h('div', { class: 'form-error', role: 'alert', hidden: true, dataset: { testid: 'sd-settings-error' } });
    const notice = h('div', { class: 'sd-notice', role: 'status', hidden: true, dataset: { testid: 'sd-settings-notice' } });

    // time zone: common zones, or any IANA name typed in
    const tzId = nextId('sd-tz');
    const current = s.hours?.time_zone || 'UTC';
    const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const zones = [...new Set([...COMMON_ZONES, ...(browserZone ? [browserZone] : [])])];
    const inList = zones.includes(current);
    const tzSelect = h('select', { class: 'input', id: tzId, dataset: { testid: 'sd-time-zone' } },
      zones.map((z) => h('option', { value: z, selected: z === current ? true : null }, `${z.replace(/_/g, ' ')}${offsetOf(z) ? ` (${offsetOf(z)})` : ''}`)),
      h('option', { value: '__other', selected: inList ? null : true }, 'Other (type the IANA name)…'));
    const tzOther = h('input', {
      class: 'input', id: `${tzId}-other`, value: inList ? '' : current, placeholder: 'e.g. America/Halifax', autocomplete: 'off', spellcheck: 'false',
      'aria-label': 'IANA time zone', dataset: { testid: 'sd-time-zone-other' }, hidden: inList,
    });
    const tzHint = h('p', { class: 'field-hint muted' });
    const tzValue = () => (tzSelect.value === '__other' ? tzOther.value.trim() : tzSelect.value);
    const syncTz = () => {
      tzOther.hidden = tzSelect.value !== '__other';
      const z = tzValue();
      const off = z ? offsetOf(z) : '';
      tzHint.textContent = z && !knownZone(z) ? `“${z}” is not a time zone this browser knows; the server checks it too.`
        : `Targets count the hours below in this zone${off ? ` (now ${off})` : ''}, including daylight-saving changes.${browserZone && browserZone !== z ? ` Your computer is in ${browserZone}.` : ''}`;
    };
    tzSelect.addEventListener('change', () => { syncTz(); if (tzSelect.value === '__other') tzOther.focus(); });
    tzOther.addEventListener('input', syncTz);
    syncTz();

    // weekly hours
    const dayRows = WEEKDAYS.map((day, i) => {
      const v = s.hours?.week?.[i] || null;
      const open = h('input', { type: 'checkbox', id: nextId('sd-open'), checked: !!v, dataset: { testid: `sd-day-open-${i}` } });
      const from = h('input', { type: 'time', class: 'input', value: v?.[0] || '09:00', 'aria-label': `${day} opens at`, dataset: { testid: `sd-day-from-${i}` }, disabled: !v });
      const to = h('input', { type: 'time', class: 'input', value: v?.[1] === '24:00' ? '23:59' : (v?.[1] || '17:00'), 'aria-label': `${day} closes at`, dataset: { testid: `sd-day-to-${i}` }, disabled: !v });
      const closedNote = h('span', { class: 'muted sd-closed', hidden: !!v }, 'Closed');
      const times = h('div', { class: 'sd-times', hidden: !v }, from, h('span', { class: 'muted', 'aria-hidden': 'true' }, '–'), to);
      open.addEventListener('change', () => {
        from.disabled = !open.checked; to.disabled = !open.checked;
        times.hidden = !open.checked; closedNote.hidden = open.checked;
        if (open.checked) from.focus();
      });
      const row = h('li', { class: 'sd-day', dataset: { day: String(i) } },
        h('label', { class: 'check-row sd-day-name', for: open.id }, open, h('span', null, day)),
        times, closedNote);
      return {
        row,
        read: () => {
          if (!open.checked) return null;
          const close = to.value === '23:59' && v?.[1] === '24:00' ? '24:00' : to.value;
          return [from.value, close];
        },
        set: (val) => {
          open.checked = !!val; from.disabled = !val; to.disabled = !val; times.hidden = !val; closedNote.hidden = !!val;
          if (val) { from.value = val[0]; to.value = val[1] === '24:00' ? '23:59' : val[1]; }
        },
      };
    });
    const copyMonday = h('button', {
      type: 'button', class: 'link-button', dataset: { testid: 'sd-copy-monday' },
      onclick: () => {
        const m = dayRows[0].read();
        if (!m) return;
        for (let i = 1; i < 5; i += 1) dayRows[i].set(m);
        copyDone.textContent = ' Done: Tuesday to Friday have Monday’s hours now.';
        setTimeout(() => { copyDone.textContent = ''; }, 4000);
      },
    }, 'Copy Monday to Tuesday–Friday');
    const copyDone = h('span', { class: 'muted', role: 'status' });

    // holidays
    const holidays = [...(s.hours?.holidays || [])].sort();
    const holList = h('ul', { class: 'ps-reasons sd-holidays', dataset: { testid: 'sd-holidays' } });
    const holInput = h('input', { type: 'date', class: 'input', id: nextId('sd-hol'), dataset: { testid: 'sd-holiday-date' } });
    const holAdd = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'sd-holiday-add' }, onclick: () => addHoliday() }, icon('plus', { size: 14 }), 'Add');
    function renderHolidays() {
      mount(holList, holidays.length ? holidays.map((d, i) => h('li', { class: 'tag-chip tag-chip-edit', dataset: { date: d } }, formatDay(d),
        h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove the holiday on ${formatDay(d)}`, onclick: () => { holidays.splice(i, 1); renderHolidays(); holInput.focus(); } }, icon('x', { size: 12 }))))
        : h('li', { class: 'muted sd-none' }, 'No holidays.'));
    }
    function addHoliday() {
      const d = holInput.value;
      if (!d) { holInput.focus(); return; }
      if (!holidays.includes(d)) { holidays.push(d); holidays.sort(); }
      holInput.value = '';
      renderHolidays();
      holInput.focus();
    }
    holInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); addHoliday(); } });
    renderHolidays();

    // SLA policy
    const policyRows = PRIORITIES.map((p) => {
      const pol = s.policies?.[p] || { first_response_minutes: 480, resolution_minutes: 2400 };
      const pair = (total, label, testid) => {
        const { h: hh, m } = splitMinutes(total);
        const hours = h('input', { type: 'number', class: 'input num', min: 0, max: 8760, step: 1, value: hh, 'aria-label': `${label} hours`, dataset: { testid: `${testid}-hours` } });
        const mins = h('input', { type: 'number', class: 'input num', min: 0, max: 59, step: 1, value: m, 'aria-label': `${label} minutes`, dataset: { testid: `${testid}-minutes` } });
        return {
          el: h('div', { class: 'sd-duration' }, hours, h('span', { class: 'muted' }, 'h'), mins, h('span', { class: 'muted' }, 'm')),
          read: () => (Number(hours.value) || 0) * 60 + (Number(mins.value) || 0),
          focus: () => hours.focus(),
        };
      };
      const label = `${p[0].toUpperCase()}${p.slice(1)} priority`;
      const first = pair(pol.first_response_minutes, `${label}: first response`, `sd-policy-${p}-first`);
      const resolution = pair(pol.resolution_minutes, `${label}: resolution`, `sd-policy-${p}-resolution`);
      return {
        p, first, resolution,
        row: h('tr', { dataset: { testid: 'sd-policy-row', priority: p } },
          h('th', { scope: 'row', class: 'sdcol-priority' }, ticketPriorityBadge(p)),
          h('td', { class: 'sdcol-first', dataset: { label: 'First response' } }, first.el),
          h('td', { class: 'sdcol-resolution', dataset: { label: 'Resolution' } }, resolution.el)),
      };
    });
    const policyTable = h('div', { class: 'table-wrap sd-policy-wrap' }, h('table', { class: 'data-table sd-policy', dataset: { testid: 'sd-policies' } },
      h('caption', { class: 'visually-hidden' }, 'SLA targets per priority, in business hours'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', class: 'sdcol-priority' }, 'Priority'),
        h('th', { scope: 'col', class: 'sdcol-first' }, 'First response within'),
        h('th', { scope: 'col', class: 'sdcol-resolution' }, 'Resolution within'))),
      h('tbody', null, policyRows.map((r) => r.row))));

    // escalation
    const escId = nextId('sd-esc');
    const userIds = new Set([...knownUsers().keys()].filter((id) => userActive(id)));
    if (s.escalation?.assign_to) userIds.add(s.escalation.assign_to);
    const escAssign = h('select', { class: 'input', id: escId, dataset: { testid: 'sd-escalation-assign' } },
      h('option', { value: '' }, 'Nobody: keep the assignee'),
      [...userIds].map((id) => [id, userName(id)]).sort((a, b) => a[1].localeCompare(b[1])).map(([id, n]) => h('option', { value: id, selected: id === s.escalation?.assign_to ? true : null }, n)));
    const escNotify = h('input', { type: 'email', class: 'input', id: `${escId}-notify`, value: s.escalation?.notify || '', placeholder: 'team-lead@example.com', autocomplete: 'off', dataset: { testid: 'sd-escalation-notify' } });

    // categories
    const categories = [...(s.categories || [])];
    const catList = h('ul', { class: 'ps-reasons', dataset: { testid: 'sd-categories' } });
    const catInput = h('input', { class: 'input', id: nextId('sd-cat'), maxlength: 60, placeholder: 'Add a category', dataset: { testid: 'sd-category-add' } });
    function renderCats() {
      mount(catList, categories.map((c, i) => h('li', { class: 'tag-chip tag-chip-edit' }, c,
        h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove ${c}`, onclick: () => { categories.splice(i, 1); renderCats(); catInput.focus(); } }, icon('x', { size: 12 })))));
    }
    const addCat = () => { const v = catInput.value.trim(); if (v && !categories.includes(v)) categories.push(v); catInput.value = ''; renderCats(); };
    catInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); addCat(); } });
    renderCats();

    const closeDays = h('input', { type: 'number', class: 'input num sd-close-days', id: nextId('sd-close'), min: 1, max: 365, step: 1, value: s.close_after_days ?? 7, dataset: { testid: 'sd-close-after' } });

    // The portal's look: only with a server that has it in the settings.
    const portal = 'portal_name' in s || 'brand_color' in s ? portalLookCard(s) : null;

    const save = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'sd-save' } }, 'Save settings');
    const savedNote = h('span', { class: 'sd-saved', role: 'status', 'aria-live': 'polite', dataset: { testid: 'sd-saved' } });
    const form = h('form', { class: 'sd-settings', novalidate: true, dataset: { testid: 'service-settings' } },
      box, notice,
      h('section', { class: 'card ps-card sd-hours', 'aria-labelledby': 'sd-hours-title' },
        h('h2', { class: 'card-title', id: 'sd-hours-title' }, 'Business hours'),
        h('div', { class: 'field' }, h('label', { for: tzId }, 'Time zone'), h('div', { class: 'sd-tz' }, tzSelect, tzOther), tzHint),
        h('div', { class: 'field' },
          h('span', { class: 'field-label' }, 'Opening hours'),
          h('ul', { class: 'sd-week', dataset: { testid: 'sd-week' } }, dayRows.map((d) => d.row)),
          h('p', { class: 'field-hint' }, copyMonday, copyDone)),
        h('div', { class: 'field' },
          h('label', { for: holInput.id }, 'Holidays'),
          holList,
          h('div', { class: 'ps-inline sd-hol-add' }, holInput, holAdd),
          h('p', { class: 'field-hint muted' }, 'Closed all day on these dates (in the time zone above); targets skip them.'))),
      h('section', { class: 'card ps-card sd-policies-card', 'aria-labelledby': 'sd-policy-title' },
        h('h2', { class: 'card-title', id: 'sd-policy-title' }, 'SLA targets'),
        h('p', { class: 'muted ps-lead' }, 'Business time from when a ticket is filed. The first public reply meets the first-response target; resolving it meets the other. Changing a ticket’s priority recomputes its targets.'),
        policyTable),
      h('div', { class: 'ps-grid sd-grid' },
        h('section', { class: 'card ps-card', 'aria-labelledby': 'sd-esc-title' },
          h('h2', { class: 'card-title', id: 'sd-esc-title' }, 'Escalation'),
          h('p', { class: 'muted ps-lead' }, 'The first time a ticket misses a target, once per ticket.'),
          h('div', { class: 'field', dataset: { field: 'escalation.assign_to' } }, h('label', { for: escId }, 'Reassign it to'), escAssign),
          h('div', { class: 'field', dataset: { field: 'escalation.notify' } }, h('label', { for: escNotify.id }, 'And email'), escNotify,
            h('p', { class: 'field-hint muted' }, 'A team lead or a shared inbox. Empty: nobody is emailed.'))),
        h('section', { class: 'card ps-card', 'aria-labelledby': 'sd-cat-title' },
          h('h2', { class: 'card-title', id: 'sd-cat-title' }, 'Categories and closing'),
          h('div', { class: 'field', dataset: { field: 'categories' } },
            h('label', { for: catInput.id }, 'Ticket categories'), catList, catInput,
            h('p', { class: 'field-hint muted' }, 'Enter adds one. Customers pick one when they file a complaint.')),
          h('div', { class: 'field', dataset: { field: 'close_after_days' } },
            h('label', { for: closeDays.id }, 'Close resolved tickets after'),
            h('div', { class: 'ps-inline' }, closeDays, h('span', { class: 'muted' }, 'days without a reply'))))),
      portal?.el,
      h('div', { class: 'sd-save-bar' }, h('span', { class: 'muted sd-version' }, state.version != null ? `Version ${state.version}` : ''), savedNote, save));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (state.saving) return;
      box.hidden = true;
      notice.hidden = true;
      form.querySelectorAll('[aria-invalid="true"]').forEach((x) => x.removeAttribute('aria-invalid'));
      addCat();
      const problems = [];
      const tz = tzValue();
      if (!tz) problems.push(['Time zone', 'pick or type one', tzSelect.value === '__other' ? tzOther : tzSelect]);
      const week = dayRows.map((d) => d.read());
      if (week.every((d) => !d)) problems.push(['Opening hours', 'the desk must be open on at least one day', dayRows[0].row.querySelector('input')]);
      week.forEach((d, i) => { if (d && !(d[0] && d[1] && d[0] < d[1])) problems.push([`${WEEKDAYS[i]}’s hours`, 'the opening must be before the closing', dayRows[i].row.querySelector('input[type="time"]')]); });
      const policies = {};
      for (const r of policyRows) {
        const f = r.first.read();
        const res = r.resolution.read();
        policies[r.p] = { first_response_minutes: f, resolution_minutes: res };
        if (f <= 0) problems.push([`${r.p[0].toUpperCase()}${r.p.slice(1)} priority`, 'the first response needs some time', null]);
        else if (res < f) problems.push([`${r.p[0].toUpperCase()}${r.p.slice(1)} priority`, 'resolution cannot come before the first response', null]);
        else if (res > 525600) problems.push([`${r.p[0].toUpperCase()}${r.p.slice(1)} priority`, 'at most a year', null]);
      }
      if (!categories.length) problems.push(['Categories', 'keep at least one', catInput]);
      const days = Number(closeDays.value);
      if (!Number.isInteger(days) || days < 1 || days > 365) problems.push(['Close after', 'use a whole number of days from 1 to 365', closeDays]);
      const notify = escNotify.value.trim();
      if (notify && !notify.includes('@')) problems.push(['Notify', 'must be an email address', escNotify]);
      const look = portal ? portal.read() : null;
      if (look?.error) problems.push(look.error);
      if (problems.length) {
        box.hidden = false;
        mount(box, icon('alert'), h('div', null, h('strong', null, 'Please check the settings'),
          h('ul', { class: 'sd-problems' }, problems.map(([f, m]) => h('li', null, `${f}: ${m}`)))));
        problems.forEach(([, , el]) => el?.setAttribute('aria-invalid', 'true'));
        (problems.find(([, , el]) => el)?.[2] || box).focus?.();
        box.scrollIntoView({ block: 'nearest' });
        return;
      }
      const doc = {
        hours: { time_zone: tz, week, holidays: holidays.slice() },
        policies,
        escalation: { assign_to: escAssign.value || null, notify: notify || null },
        categories: categories.slice(),
        close_after_days: days,
      };
      if (look) { doc.portal_name = look.portal_name; doc.brand_color = look.brand_color; }
      state.saving = true;
      save.disabled = true;
      save.textContent = 'Saving…';
      try {
        const res = await tapi.saveServiceSettings(doc, state.version);
        state.saving = false;
        state.settings = res.settings;
        state.version = res.version;
        const kept = canonical(res.settings) === canonical(doc);
        renderForm();
        formSlot.querySelector('[data-testid="sd-save"]')?.focus({ preventScroll: true });
        if (kept) {
          const n = formSlot.querySelector('[data-testid="sd-saved"]');
          mount(n, icon('check', { size: 14 }), h('span', null, 'Saved. New targets apply to tickets filed from now on.'));
          setTimeout(() => n.replaceChildren(), 8000);
        }
        else {
          const n = formSlot.querySelector('[data-testid="sd-settings-notice"]');
          n.hidden = false;
          mount(n, icon('alert', { size: 16 }), h('div', null, h('strong', null, 'The server did not keep every change. '),
            'It answered with different settings than the ones sent; the form shows what it holds now. Try again, or tell whoever runs the workspace.'));
          n.scrollIntoView({ block: 'nearest' });
        }
      } catch (err) {
        state.saving = false;
        save.disabled = false;
        save.textContent = 'Save settings';
        if (err.status === 412) {
          toast('Someone else changed these settings meanwhile. The form shows their version now; make your changes again.', { kind: 'error', title: 'Changed by someone else', requestId: err.requestId });
          load();
          return;
        }
        if (err.status === 403) { toastError(err, 'Not allowed'); return; }
        box.hidden = false;
        mount(box, icon('alert'), h('div', null, h('strong', null, err.title || 'Could not save'), ' ',
          err.errors?.length ? h('ul', { class: 'sd-problems' }, err.errors.map((x) => h('li', null, `${fieldLabel(x.field)}: ${x.message}`))) : (err.detail || err.message)));
        box.scrollIntoView({ block: 'nearest' });
        if (!err.isValidation) toastError(err, 'Could not save the settings');
      }
    });
    mount(formSlot, form);
    status.textContent = `Open ${week_summary(s)} · ${s.hours?.time_zone || 'UTC'}`;
  }

  function week_summary(s) {
    const open = (s.hours?.week || []).map((d, i) => (d ? WEEKDAYS[i].slice(0, 3) : null)).filter(Boolean);
    return open.length ? open.join(', ') : 'never';
  }

  // --- macros -------------------------------------------------------------------------------
  const macroNote = h('span', { class: 'sd-saved', role: 'status', 'aria-live': 'polite', dataset: { testid: 'macro-note' } });
  let macroNoteTimer = null;
  function macroSaid(text) {
    clearTimeout(macroNoteTimer);
    mount(macroNote, icon('check', { size: 14 }), h('span', null, text));
    macroNoteTimer = setTimeout(() => macroNote.replaceChildren(), 6000);
  }

  function renderMacros({ editing = null, focus = null } = {}) {
    const add = h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'macro-new' }, onclick: () => renderMacros({ editing: 'new' }) }, icon('plus', { size: 14 }), 'New macro');
    const list = h('ul', { class: 'sd-macro-list', dataset: { testid: 'macro-list' } });
    if (editing === 'new') list.append(h('li', { class: 'sd-macro is-editing' }, macroForm(null)));
    for (const m of state.macros) {
      list.append(editing === m.id ? h('li', { class: 'sd-macro is-editing', dataset: { macroId: m.id } }, macroForm(m)) : macroRow(m));
    }
    if (!state.macros.length && editing !== 'new') list.append(h('li', { class: 'muted sd-none' }, 'No macros yet. A macro is a reply agents insert with one pick; it may also set the status (e.g. “Waiting on customer”).'));
    mount(macrosEl,
      h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: 'sd-macros-title' }, 'Macros ', h('span', { class: 'muted card-count' }, state.macros.length ? String(state.macros.length) : '')),
        h('div', { class: 'sd-macro-head-end' }, macroNote, editing === 'new' ? null : add)),
      list);
    if (focus) macrosEl.querySelector(focus)?.focus();
    else if (editing) macrosEl.querySelector('.is-editing input')?.focus();
  }

  function macroRow(m) {
    return h('li', { class: 'sd-macro', dataset: { testid: 'macro-row', macroId: m.id } },
      h('div', { class: 'sd-macro-text' },
        h('div', { class: 'sd-macro-name' }, h('strong', null, m.name), m.status ? h('span', { class: 'muted sd-macro-then' }, ' then ', ticketStatusBadge(m.status, { testid: 'macro-status' })) : null),
        h('p', { class: 'sd-macro-body muted' }, m.body)),
      h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-sm', dataset: { testid: 'macro-edit' }, 'aria-label': `Edit macro ${m.name}`, onclick: () => renderMacros({ editing: m.id }) }, icon('pencil', { size: 14 }), h('span', { class: 'btn-label' }, 'Edit')),
        h('button', {
          type: 'button', class: 'btn btn-sm btn-danger-quiet', dataset: { testid: 'macro-delete' }, 'aria-label': `Delete macro ${m.name}`,
          onclick: () => confirmDialog({
            title: `Delete the macro “${m.name}”?`, text: 'Agents can no longer insert it. Replies already sent stay as they are.',
            confirmLabel: 'Delete macro', workingLabel: 'Deleting…', testid: 'confirm-delete-macro',
            run: async () => {
              await tapi.deleteMacro(m.id);
              state.macros = state.macros.filter((x) => x.id !== m.id);
              renderMacros({ focus: '[data-testid="macro-new"]' });
              macroSaid(`“${m.name}” was deleted.`);
            },
          }),
        }, icon('trash', { size: 14 }), h('span', { class: 'btn-label' }, 'Delete'))));
  }

  function macroForm(m) {
    const p = nextId('mf');
    const name = h('input', { class: 'input', id: `${p}-name`, maxlength: 80, value: m?.name || '', autocomplete: 'off', dataset: { testid: 'macro-name' } });
    const body = h('textarea', { class: 'input', id: `${p}-body`, rows: 4, maxlength: 20000, dataset: { testid: 'macro-body' } }, m?.body || '');
    const st = h('select', { class: 'input', id: `${p}-status`, dataset: { testid: 'macro-status-select' } },
      h('option', { value: '' }, 'Leave the status as chosen'),
      ['open', 'waiting', 'resolved'].map((v) => h('option', { value: v, selected: m?.status === v ? true : null }, v === 'waiting' ? 'Waiting on customer' : ticketStatusLabel(v))));
    const err = h('p', { class: 'field-error', role: 'alert', hidden: true });
    const saveBtn = h('button', { type: 'submit', class: 'btn btn-sm btn-primary', dataset: { testid: 'macro-save' } }, m ? 'Save macro' : 'Create macro');
    const form = h('form', { class: 'sd-macro-form', novalidate: true, dataset: { testid: 'macro-form' } },
      h('div', { class: 'field-grid' },
        h('div', { class: 'field' }, h('label', { for: name.id }, 'Name'), name),
        h('div', { class: 'field' }, h('label', { for: body.id }, 'Reply text'), body),
        h('div', { class: 'field' }, h('label', { for: st.id }, 'After sending, set the ticket to'), st)),
      err,
      h('div', { class: 'ps-inline sd-macro-actions' }, saveBtn,
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => renderMacros({ focus: m ? `[data-macro-id="${CSS.escape(m.id)}"] [data-testid="macro-edit"]` : '[data-testid="macro-new"]' }) }, 'Cancel')));
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); form.querySelector('.btn:not(.btn-primary)').click(); }
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.hidden = true;
      const payload = { name: name.value.trim(), body: body.value.trim(), status: st.value || null };
      if (!payload.name || !payload.body) {
        err.hidden = false;
        mount(err, icon('alert', { size: 14 }), h('span', null, !payload.name ? 'Name the macro.' : 'Write the reply text.'));
        (!payload.name ? name : body).focus();
        return;
      }
      saveBtn.disabled = true;
      try {
        const saved = m ? await tapi.updateMacro(m.id, payload) : await tapi.createMacro(payload);
        state.macros = [...state.macros.filter((x) => x.id !== saved.id), saved].sort((a, b) => a.name.localeCompare(b.name));
        renderMacros({ focus: `[data-macro-id="${CSS.escape(saved.id)}"] [data-testid="macro-edit"]` });
        macroSaid(`“${saved.name}” ${m ? 'saved' : 'created'}; agents can insert it in replies.`);
      } catch (ex) {
        saveBtn.disabled = false;
        err.hidden = false;
        mount(err, icon('alert', { size: 14 }), h('span', null, ex.errors?.length ? ex.errors.map((x) => `${x.field}: ${x.message}`).join('. ') : (ex.detail || ex.message)));
      }
    });
    return form;
  }

  // --- loading ----------------------------------------------------------------------------------
  async function load() {
    errorSlot.replaceChildren();
    mount(formSlot, h('div', { class: 'card' }, [40, 70, 60, 50, 65].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '14px 0' } }))));
    mount(macrosEl, h('h2', { class: 'card-title', id: 'sd-macros-title' }, 'Macros'), [55, 75].map((w) => h('div', { class: 'skeleton skeleton-text', style: { width: `${w}%`, margin: '12px 0' } })));
    try {
      const [{ settings, version }, macros] = await Promise.all([tapi.serviceSettings({ fresh: true }), tapi.listMacros(), loadUsers()]);
      if (state.destroyed) return;
      Object.assign(state, { settings, version, macros });
      renderForm();
      renderMacros();
    } catch (err) {
      if (state.destroyed) return;
      if (err.status === 403) { mount(root, forbiddenState(err)); return; }
      status.textContent = 'Could not load the service desk settings.';
      formSlot.replaceChildren();
      macrosEl.replaceChildren();
      errorSlot.replaceChildren(inlineError(err, () => load()));
      if (!err.handled) toastError(err, 'Could not load the service desk settings');
    }
  }

  load();
  return { destroy() { state.destroyed = true; } };
}

