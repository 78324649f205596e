// Colour arithmetic for the portal's accent colour (WCAG 2 relative
// luminance and contrast): from one brand colour (`#rrggbb`) the colours the
// portal needs in the light and the dark theme — the fill of buttons and of
// the brand mark with a readable text colour on it (white or near-black),
// and a shade of it for text uses (links, focus rings, tinted notices) that
// keeps at least 4.5:1 against the theme's backgrounds. Pure functions, no
// DOM: Settings › Service desk (staff app) uses them for its preview too.

export const WHITE = '#ffffff';
/** The "near-black" text on light accents (the dark theme's page background). */
export const NEAR_BLACK = '#101217';
export const MIN_TEXT = 4.5;
export const MIN_UI = 3;

/** The backgrounds text sits on, per theme (--surface, --bg, --surface-2 of styles.css). */
export const THEMES = {
  light: { surface: '#ffffff', backgrounds: ['#ffffff', '#f5f6f8', '#f0f2f5'], softShare: 0.12, toward: '#000000' },
  dark: { surface: '#171a20', backgrounds: ['#171a20', '#101217', '#1f232a'], softShare: 0.2, toward: '#ffffff' },
};

/** "#1f6feb" or "#1f6" (any case) → "#1f6feb"; anything else → null. */
export function normalizeHex(value) {
  const t = String(value ?? '').trim().toLowerCase();
  let m = /^#?([0-9a-f]{6})$/.exec(t);
  if (m) return `#${m[1]}`;
  m = /^#?([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(t);
  return m ? `#${m[1]}${m[1]}${m[2]}${m[2]}${m[3]}${m[3]}` : null;
}

function rgb(hex) {
  const n = normalizeHex(hex);
  if (!n) throw new Error(`not a colour: ${hex}`);
  return [1, 3, 5].map((i) => parseInt(n.slice(i, i + 2), 16));
}

function hexOf([r, g, b]) {
  return `#${[r, g, b].map((c) => Math.round(Math.min(255, Math.max(0, c))).toString(16).padStart(2, '0')).join('')}`;
}

/** WCAG relative luminance, 0 (black) to 1 (white). */
export function luminance(hex) {
  const [r, g, b] = rgb(hex).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio, 1 to 21. */
export function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** `share` (0–1) of `b` mixed into `a`, in sRGB (as CSS color-mix(in srgb, …)). */
export function mix(a, b, share) {
  const x = rgb(a);
  const y = rgb(b);
  return hexOf(x.map((c, i) => c + (y[i] - c) * share));
}

/** The lowest contrast of `hex` against any of `backgrounds`. */
export function worstContrast(hex, backgrounds) {
  return Math.min(...backgrounds.map((bg) => contrast(hex, bg)));
}

/**
 * The colour nearest to `hex` on the way to `toward` (black darkens, white
 * lightens) with at least `ratio` against every background; `hex` itself
 * when it already has it.
 */
export function shiftFor(hex, toward, backgrounds, ratio) {
  for (let i = 0; i <= 100; i += 1) {
    const c = i === 0 ? normalizeHex(hex) : mix(hex, toward, i / 100);
    if (worstContrast(c, backgrounds) >= ratio) return c;
  }
  return normalizeHex(toward);
}

/** White or near-black, whichever reads better on `fill`. */
export function textOn(fill) {
  return contrast(fill, WHITE) >= contrast(fill, NEAR_BLACK) ? WHITE : NEAR_BLACK;
}

/**
 * A fill with a readable text colour: { fill, text }. Mid-tones where neither
 * white nor near-black reaches 4.5:1 move (as little as needed) darker under
 * white text or lighter under near-black text.
 */
export function readableFill(hex) {
  const fill = normalizeHex(hex);
  const text = textOn(fill);
  if (contrast(fill, text) >= MIN_TEXT) return { fill, text };
  const darker = shiftFor(fill, '#000000', [WHITE], MIN_TEXT);
  const lighter = shiftFor(fill, '#ffffff', [NEAR_BLACK], MIN_TEXT);
  const dist = (c) => rgb(c).reduce((n, v, i) => n + Math.abs(v - rgb(fill)[i]), 0);
  return dist(darker) <= dist(lighter) ? { fill: darker, text: WHITE } : { fill: lighter, text: NEAR_BLACK };
}

/**
 * Everything the portal needs from one brand colour, per theme:
 *   fill, fillHover, onFill   buttons and the brand mark (the brand itself where it can be)
 *   fillBorder                their edge (darker where the fill hardly shows on the page)
 *   text, textHover           links, focus rings, icons: ≥ 4.5:1 on the theme's backgrounds
 *   soft, softText            tinted notices and the current section
 *   adjusted                  whether `text` had to move away from the brand
 * → { light, dark } or null for something that is not a colour.
 */
export function brandPalette(hex) {
  const base = normalizeHex(hex);
  if (!base) return null;
  const out = {};
  for (const [name, theme] of Object.entries(THEMES)) {
    // The fill: the brand, except that on the dark theme a very dark brand is
    // lifted until it stands out from the page (3:1, as for any control).
    const raw = name === 'dark' ? shiftFor(base, '#ffffff', [theme.surface], MIN_UI) : base;
    const { fill, text: onFill } = readableFill(raw);
    const fillHover = mix(fill, onFill === WHITE ? '#000000' : '#ffffff', 0.14);
    // A fill that hardly stands out from the page (yellow, white on the light
    // theme) gets an edge a little towards its text colour.
    const fillBorder = contrast(fill, theme.surface) < MIN_UI ? mix(fill, onFill, 0.3) : fill;
    const soft = mix(theme.surface, base, theme.softShare);
    const text = shiftFor(base, theme.toward, [...theme.backgrounds, soft], MIN_TEXT);
    const textHover = mix(text, theme.toward, 0.18);
    out[name] = { fill, fillHover, fillBorder, onFill, text, textHover, soft, softText: text, adjusted: text !== base };
  }
  return out;
}
