// The form page's "Put it on your website" tab: the hosted page's address
// (open it in a new tab, copy it, with UTM parameters to tell campaigns
// apart), the script snippet (recommended: always the current form, sends in
// place) and the plain HTML form (for sites without scripts), each with a
// copy button. GET /forms/{id}/embed gives all three.

import { h, mount, icon, copyText } from './ui.js';
import * as fapi from './automations-api.js';
import { spinner } from './segment-display.js';

let uid = 0;

/** embedPanel({ form, dirty: () => bool }) → { el, load(), destroy() } */
export function embedPanel({ form, dirty = () => false }) {
  const p = `fep${++uid}`;
  const controller = new AbortController();
  let destroyed = false;
  const el = h('div', { class: 'fm-embed', dataset: { testid: 'form-embed' } });

  function copyButton(testid, text, label) {
    return h('button', {
      type: 'button', class: 'btn btn-sm', dataset: { testid }, 'aria-label': label,
      onclick: (e) => copyText(text, e.currentTarget.querySelector('span')),
    }, icon('copy', { size: 14 }), h('span', null, 'Copy'));
  }

  function snippet({ key, title, lead, code, testid, rows }) {
    const area = h('textarea', {
      class: 'input cp-code fm-snippet', id: `${p}-${key}`, readonly: true, rows, spellcheck: 'false', wrap: 'soft',
      dataset: { testid }, onfocus: (e) => e.currentTarget.select(),
    }, code);
    return h('section', { class: 'card fm-embed-card', 'aria-labelledby': `${p}-${key}-h` },
      h('div', { class: 'cp-card-head' },
        h('h2', { class: 'seg-card-title', id: `${p}-${key}-h` }, title),
        copyButton(`${testid}-copy`, code, `Copy the ${title.toLowerCase()}`)),
      h('p', { class: 'muted fm-embed-lead' }, lead),
      h('label', { class: 'visually-hidden', for: area.id }, title), area);
  }

  function show(e) {
    const off = form.status !== 'active';
    const utm = `${e.page_url}?utm_source=newsletter&utm_campaign=spring`;
    mount(el,
      off ? h('div', { class: 'inline-error fm-embed-warning', role: 'status', dataset: { testid: 'form-embed-inactive' } }, icon('alert'),
        h('div', null, h('strong', null, 'This form is switched off. '), 'The page, the script and posted forms answer that it is not taking submissions until you switch it on (Build › Taking submissions) and save.')) : null,
      dirty() ? h('div', { class: 'inline-error fm-embed-warning', role: 'status', dataset: { testid: 'form-embed-dirty' } }, icon('alert'),
        h('div', null, h('strong', null, 'You have unsaved changes. '), 'The page and the snippets show the form as last saved.')) : null,
      h('section', { class: 'card fm-embed-card fm-embed-page', 'aria-labelledby': `${p}-page-h` },
        h('div', { class: 'cp-card-head' },
          h('h2', { class: 'seg-card-title', id: `${p}-page-h` }, 'A page we host'),
          h('span', { class: 'fm-embed-actions' },
            copyButton('form-embed-page-copy', e.page_url, 'Copy the page address'),
            h('a', { class: 'btn btn-sm btn-primary', href: e.page_url, target: '_blank', rel: 'noopener', dataset: { testid: 'form-embed-open' } },
              h('span', null, 'Open'), icon('chevronRight', { size: 14 }), h('span', { class: 'visually-hidden' }, '(in a new tab)')))),
        h('p', { class: 'muted fm-embed-lead' }, 'No website needed: link to it from emails, ads or social posts.'),
        h('p', { class: 'fm-page-url' },
          h('a', { href: e.page_url, target: '_blank', rel: 'noopener', class: 'fm-url', dataset: { testid: 'form-embed-page-url' } }, e.page_url)),
        h('p', { class: 'muted fm-embed-hint' }, 'To see which campaign a lead came from, add UTM parameters to the link — they show in Submissions: ',
          h('code', { class: 'fm-url-example' }, utm.replace(e.page_url, '…/page')))),
      snippet({
        key: 'script', title: 'Script snippet', testid: 'form-embed-script', rows: 3, code: e.script || '',
        lead: 'Recommended. Paste it where the form should appear. It always shows the form as saved here, sends without leaving the page, and records the page and UTM parameters.',
      }),
      snippet({
        key: 'html', title: 'Plain HTML form', testid: 'form-embed-html', rows: 8, code: e.html || '',
        lead: 'For sites that do not allow scripts. It is a copy of the fields as they are now: paste it again after changing them. Style it with your site’s CSS (class edge-form); visitors see a thank-you page, or go to your redirect.',
      }));
  }

  async function load() {
    mount(el, h('div', { class: 'card fm-embed-loading', 'aria-busy': 'true' }, spinner('Loading the snippets…'), h('span', { class: 'muted' }, ' Loading the snippets…')));
    try {
      const e = await fapi.formEmbed(form.id, { signal: controller.signal });
      if (destroyed) return;
      show(e);
    } catch (err) {
      if (err?.name === 'AbortError' || destroyed) return;
      mount(el, h('div', { class: 'form-error', role: 'alert', dataset: { testid: 'form-embed-error' } }, icon('alert'),
        h('div', null, h('strong', null, err.title || 'Could not load the snippets'), ' ', err.detail || err.message, ' ',
          h('button', { type: 'button', class: 'link-button', onclick: () => load() }, 'Try again'))));
    }
  }

  return { el, load, destroy() { destroyed = true; controller.abort(); } };
}
