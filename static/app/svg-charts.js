// Hand-written SVG charts for the sales reports: grouped columns with an
// optional line (forecast vs won vs quota), horizontal bars (owners, lost
// reasons, attainment with a target mark) and a funnel. Colours come from CSS
// classes bound to theme variables (--chart-1 …), so the charts read well in
// light and dark. Each chart is a <figure> whose <svg role="img"> has a
// <title> and <desc>, and a "Table" toggle shows the same numbers as a table.
// Charts draw at their container's width and redraw when it changes.

import { h, icon } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';
let uid = 0;

/** An SVG element (ui.h only knows a few SVG tags). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class' && Array.isArray(v)) el.setAttribute('class', v.filter(Boolean).join(' '));
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A small bar-chart icon in the style of ui.icon. */
export function chartIcon(size = 16) {
  const el = icon('pipeline', { size });
  el.querySelector('path').setAttribute('d', 'M4 20h16M7 16v-5M12 16V6M17 16v-8');
  return el;
}

/** A "nice" axis maximum and tick step for values up to `max`. */
export function niceScale(max, ticks = 4) {
  if (!(max > 0)) return { max: 1, step: 1 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((x) => x >= raw) || 10 * mag;
  return { max: Math.ceil(max / step) * step, step };
}

function textWidth(text, px = 12) { return String(text).length * px * 0.64; }

/**
 * chartFigure({ title, desc, testid, legend, draw(width) → svg, table() → <table>, empty })
 * → <figure>
 */
export function chartFigure({ title, desc, testid, legend = [], draw, table, empty, minWidth = 260 }) {
  const id = `chart-${++uid}`;
  const area = h('div', { class: 'chart-area' });
  const tableWrap = h('div', { class: 'chart-table table-wrap', hidden: true });
  const toggle = h('button', {
    type: 'button', class: 'btn btn-sm chart-toggle', 'aria-pressed': 'false', 'aria-controls': `${id}-table`, dataset: { testid: 'chart-table-toggle' },
    onclick: () => {
      const showTable = toggle.getAttribute('aria-pressed') !== 'true';
      toggle.setAttribute('aria-pressed', String(showTable));
      toggle.replaceChildren(showTable ? chartIcon(14) : icon('menu', { size: 14 }), showTable ? 'Chart' : 'Table');
      tableWrap.hidden = !showTable;
      area.hidden = showTable;
      if (showTable && !tableWrap.firstChild) tableWrap.append(table());
      if (!showTable) redraw();
    },
  }, icon('menu', { size: 14 }), 'Table');
  tableWrap.id = `${id}-table`;
  const fig = h('figure', { class: 'chart', dataset: { testid } },
    h('figcaption', { class: 'chart-head' },
      h('h3', { class: 'chart-title', id: `${id}-title` }, title),
      legend.length ? h('ul', { class: 'chart-legend', 'aria-hidden': 'true' }, legend.map((l) => h('li', null,
        h('span', { class: ['legend-swatch', l.cls, l.line && 'is-line'] }), l.label))) : null,
      empty ? null : toggle),
    area, tableWrap);

  if (empty) {
    area.append(h('p', { class: 'chart-empty muted' }, empty));
    return fig;
  }

  let lastWidth = 0;
  function redraw() {
    const w = Math.max(minWidth, Math.floor(area.clientWidth || 600));
    if (w === lastWidth && area.firstChild) return;
    lastWidth = w;
    const svg = draw(w);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-labelledby', `${id}-svg-title ${id}-svg-desc`);
    svg.prepend(s('title', { id: `${id}-svg-title` }, title), s('desc', { id: `${id}-svg-desc` }, desc || ''));
    svg.classList.add('chart-svg');
    area.replaceChildren(svg);
  }
  if ('ResizeObserver' in window) {
    const ro = new ResizeObserver(() => { if (!area.hidden) redraw(); });
    ro.observe(area);
    fig.__disconnect = () => ro.disconnect();
  }
  requestAnimationFrame(redraw);
  area.append(draw(Math.max(minWidth, 600)));
  area.firstChild.classList.add('chart-svg');
  return fig;
}

/** A plain data table for a chart's numbers. columns: [label, align?]; rows: [[cell…]] */
export function dataTableOf(caption, columns, rows) {
  return h('table', { class: 'data-table chart-data' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', null, h('tr', null, columns.map(([label, align]) => h('th', { scope: 'col', class: align === 'end' ? 'align-end' : null }, label)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i === 0
      ? h('th', { scope: 'row' }, c)
      : h('td', { class: columns[i]?.[1] === 'end' ? 'align-end num' : null }, c)))))));
}

/**
 * Grouped columns per category with an optional line.
 * { categories: [label], series: [{label, cls, values}], line: {label, cls, values} | null, format(v), axis(v), height }
 * → draw(width) → svg
 */
export function columnChart({ categories, series, line = null, format = String, axis = format, height = 260 }) {
  return (width) => {
    const pad = { top: 14, right: 12, bottom: 34, left: 0 };
    const all = [...series.flatMap((x) => x.values), ...(line ? line.values : [])].map((v) => Number(v) || 0);
    const { max, step } = niceScale(Math.max(0, ...all));
    const ticks = [];
    for (let v = 0; v <= max + step / 2; v += step) ticks.push(v);
    pad.left = Math.ceil(Math.max(...ticks.map((t) => textWidth(axis(t), 11)))) + 12;
    const w = width - pad.left - pad.right;
    const ht = height - pad.top - pad.bottom;
    const y = (v) => pad.top + ht - (Math.max(0, Number(v) || 0) / max) * ht;
    const n = Math.max(1, categories.length);
    const band = w / n;
    const groupW = Math.min(band * 0.78, 26 * series.length + 8);
    const barW = Math.max(2, (groupW - (series.length - 1) * 2) / series.length);
    const labelEvery = Math.max(1, Math.ceil((textWidth(categories.reduce((a, c) => (String(c).length > a.length ? String(c) : a), ''), 11) + 8) / band));

    const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}` });
    const grid = s('g', { class: 'chart-grid' });
    for (const t of ticks) {
      grid.append(s('line', { x1: pad.left, x2: width - pad.right, y1: y(t), y2: y(t), class: t === 0 ? 'chart-baseline' : null }),
        s('text', { x: pad.left - 6, y: y(t), dy: '0.32em', 'text-anchor': 'end', class: 'chart-axis' }, axis(t)));
    }
    svg.append(grid);
    const bars = s('g');
    categories.forEach((c, i) => {
      const x0 = pad.left + band * i + (band - groupW) / 2;
      series.forEach((ser, j) => {
        const v = Number(ser.values[i]) || 0;
        const x = x0 + j * (barW + 2);
        const top = y(v);
        bars.append(s('rect', { x, y: top, width: barW, height: Math.max(0, pad.top + ht - top), rx: Math.min(3, barW / 3), class: ['chart-bar', ser.cls] },
          s('title', null, `${c} · ${ser.label}: ${format(v)}`)));
      });
      if (i % labelEvery === 0) {
        bars.append(s('text', { x: pad.left + band * i + band / 2, y: height - pad.bottom + 16, 'text-anchor': 'middle', class: 'chart-axis' }, c));
      }
    });
    svg.append(bars);
    if (line) {
      const pts = line.values.map((v, i) => [pad.left + band * i + band / 2, y(v)]);
      const shown = pts.filter((_, i) => line.values[i] !== null && line.values[i] !== undefined);
      if (shown.length) {
        svg.append(s('polyline', { points: shown.map((p) => p.join(',')).join(' '), class: ['chart-line', line.cls], fill: 'none' }));
        pts.forEach((p, i) => {
          if (line.values[i] === null || line.values[i] === undefined) return;
          svg.append(s('circle', { cx: p[0], cy: p[1], r: 3.5, class: ['chart-dot', line.cls] }, s('title', null, `${categories[i]} · ${line.label}: ${format(line.values[i])}`)));
        });
      }
    }
    return svg;
  };
}

/**
 * Horizontal bars, one per item, value label at the end; optional `target`
 * per item (a tick mark, e.g. quota) and `percent` text.
 * { items: [{label, value, target?, cls?, note?}], format(v), rowHeight }
 */
export function barList({ items, format = String, rowHeight = 30, cls = 'chart-s1' }) {
  return (width) => {
    const labelW = Math.min(width * 0.38, Math.max(...items.map((it) => textWidth(it.label, 12)), 40) + 16);
    const valueW = Math.min(width * 0.4, Math.max(...items.map((it) => textWidth(`${format(it.value)}${it.note ? ` · ${it.note}` : ''}`, 12)), 30) + 16);
    const barMaxW = Math.max(20, width - labelW - valueW - 8);
    const max = Math.max(1, ...items.map((it) => Math.max(Number(it.value) || 0, Number(it.target) || 0)));
    const height = items.length * rowHeight + 8;
    const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}` });
    items.forEach((it, i) => {
      const yMid = 4 + i * rowHeight + rowHeight / 2;
      const bw = Math.max(0, ((Number(it.value) || 0) / max) * barMaxW);
      const label = String(it.label);
      const maxChars = Math.floor((labelW - 10) / 7.7);
      svg.append(
        s('text', { x: labelW - 10, y: yMid, dy: '0.32em', 'text-anchor': 'end', class: 'chart-label' }, label.length > maxChars ? `${label.slice(0, maxChars - 1)}…` : label, s('title', null, label)),
        s('rect', { x: labelW, y: yMid - rowHeight * 0.3, width: barMaxW, height: rowHeight * 0.6, rx: 3, class: 'chart-track' }),
        s('rect', { x: labelW, y: yMid - rowHeight * 0.3, width: bw, height: rowHeight * 0.6, rx: 3, class: ['chart-bar', it.cls || cls] },
          s('title', null, `${label}: ${format(it.value)}${it.target != null ? ` of ${format(it.target)}` : ''}`)),
      );
      if (it.target != null && Number(it.target) > 0) {
        const tx = labelW + (Number(it.target) / max) * barMaxW;
        svg.append(s('line', { x1: tx, x2: tx, y1: yMid - rowHeight * 0.42, y2: yMid + rowHeight * 0.42, class: 'chart-target' }, s('title', null, `Target ${format(it.target)}`)));
      }
      svg.append(s('text', { x: labelW + barMaxW + 8, y: yMid, dy: '0.32em', class: 'chart-value' }, format(it.value),
        it.note ? s('tspan', { class: 'chart-note' }, ` · ${it.note}`) : null));
    });
    return svg;
  };
}

/**
 * Funnel: one centred bar per stage, width by the deals that reached it,
 * with the conversion to the next stage between bars.
 * { stages: [{label, value, conversion (0–100 | null), note}], format }
 */
export function funnelChart({ stages, format = String }) {
  return (width) => {
    const rowH = 34;
    const gap = 20;
    const labelW = Math.min(width * 0.3, Math.max(...stages.map((st) => textWidth(st.label, 12)), 40) + 16);
    const valueW = Math.min(width * 0.35, Math.max(...stages.map((st) => textWidth(`${format(st.value)}${st.note ? ` · ${st.note}` : ''}`, 12)), 24) + 12);
    const area = Math.max(40, width - labelW - valueW - 8);
    const max = Math.max(1, ...stages.map((st) => Number(st.value) || 0));
    const height = stages.length * (rowH + gap) - gap + 8;
    const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}` });
    stages.forEach((st, i) => {
      const y0 = 4 + i * (rowH + gap);
      const bw = Math.max(4, ((Number(st.value) || 0) / max) * area);
      const x = labelW + (area - bw) / 2;
      svg.append(
        s('text', { x: labelW - 10, y: y0 + rowH / 2, dy: '0.32em', 'text-anchor': 'end', class: 'chart-label' }, st.label),
        s('rect', { x, y: y0, width: bw, height: rowH, rx: 4, class: ['chart-bar', 'chart-funnel', `chart-f${i % 6}`] },
          s('title', null, `${st.label}: ${format(st.value)}${st.note ? ` · ${st.note}` : ''}`)),
        s('text', { x: x + bw + 8, y: y0 + rowH / 2, dy: '0.32em', class: 'chart-value' },
          format(st.value), st.note ? s('tspan', { class: 'chart-note' }, ` · ${st.note}`) : null),
      );
      if (i < stages.length - 1 && st.conversion != null) {
        svg.append(s('text', { x: labelW + area / 2, y: y0 + rowH + gap / 2, dy: '0.35em', 'text-anchor': 'middle', class: 'chart-conv' },
          `↓ ${Math.round(Number(st.conversion))}% convert`));
      }
    });
    return svg;
  };
}
