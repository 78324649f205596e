// Form building blocks shared by the sign-in pages and the settings dialogs:
// labelled fields, per-field errors (data-testid "error-<field>") and a form
// level error box, mapped from the server's problem documents.

import { h, mount, icon } from './ui.js';

export function capitalize(s) {
  const t = String(s || '').trim();
  return t ? t[0].toUpperCase() + t.slice(1) : t;
}

/**
 * A labelled input or select.
 *   field({ name: 'email', label: 'Email', type: 'email', idPrefix: 'signin', testid: 'sign-in-email' })
 *   field({ name: 'role', label: 'Role', options: [{ value, label }] })
 * `reveal: true` adds a show/hide toggle to a password input.
 * → { wrap, input }
 */
export function field({
  name, label, type = 'text', idPrefix = 'f', testid, autocomplete = 'off', inputmode, required = false,
  hint, autofocus = false, maxlength, minlength, options, value, reveal = false, half = false, onInput,
}) {
  const id = `${idPrefix}-${name}`;
  const hintId = hint ? `${id}-hint` : null;
  let input;
  if (options) {
    input = h('select', {
      id, name, required, dataset: { testid, autofocus: autofocus ? '' : null },
      'aria-describedby': hintId,
    }, options.map((o) => h('option', { value: o.value, selected: o.value === value ? true : null }, o.label)));
  } else {
    const isEmail = type === 'email';
    input = h('input', {
      id, name, type, autocomplete, inputmode, required, maxlength, minlength, value,
      spellcheck: isEmail || type === 'password' ? 'false' : null,
      autocapitalize: isEmail || type === 'password' ? 'off' : null,
      dataset: { testid, autofocus: autofocus ? '' : null },
      'aria-describedby': hintId,
    });
  }
  if (onInput) input.addEventListener(options ? 'change' : 'input', onInput);
  input.dataset.hint = hintId || '';

  let control = input;
  if (reveal && type === 'password') {
    const toggle = h('button', {
      type: 'button', class: 'input-reveal icon-button', 'aria-label': 'Show password', 'aria-pressed': 'false',
      'aria-controls': id, title: 'Show password',
      onclick: () => {
        const show = input.type === 'password';
        input.type = show ? 'text' : 'password';
        toggle.setAttribute('aria-pressed', String(show));
        toggle.setAttribute('aria-label', show ? 'Hide password' : 'Show password');
        toggle.title = show ? 'Hide password' : 'Show password';
        toggle.replaceChildren(icon(show ? 'eyeOff' : 'eye'));
      },
    }, icon('eye'));
    control = h('div', { class: 'input-wrap' }, input, toggle);
  }

  const wrap = h('div', { class: ['field', half && 'field-half'], dataset: { field: name } },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'field-hint muted', id: hintId }, hint) : null,
  );
  return { wrap, input };
}

/**
 * Error display for one form.
 *   const errs = formErrors({ form, inputs, idPrefix, box });
 *   errs.setField('email', ['is not a valid email address']);
 *   errs.fromApi(err)   // maps a 422 to its fields; anything else to the box
 */
export function formErrors({ form, inputs, idPrefix = 'f', box }) {
  function wrapOf(name) { return form.querySelector(`.field[data-field="${CSS.escape(name)}"]`); }

  function describedBy(input, extra) {
    return [input.dataset.hint, extra].filter(Boolean).join(' ') || null;
  }

  function clearField(name) {
    const wrap = wrapOf(name);
    wrap?.querySelector('.field-error')?.remove();
    const input = inputs[name];
    if (input) {
      input.removeAttribute('aria-invalid');
      const d = describedBy(input);
      if (d) input.setAttribute('aria-describedby', d); else input.removeAttribute('aria-describedby');
    }
  }

  function setField(name, messages) {
    clearField(name);
    const wrap = wrapOf(name);
    const input = inputs[name];
    if (!wrap || !input) return false;
    const id = `${idPrefix}-${name}-error`;
    wrap.append(h('p', { class: 'field-error', id, dataset: { testid: `error-${name}` } },
      icon('alert', { size: 14 }), h('span', null, messages.map(capitalize).join('. '))));
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', describedBy(input, id));
    return true;
  }

  function showBox(content) {
    if (!box) return;
    if (!content) { box.hidden = true; box.replaceChildren(); return; }
    box.hidden = false;
    mount(box, icon('alert'), h('div', null, content));
  }

  function clearAll() {
    Object.keys(inputs).forEach(clearField);
    showBox(null);
  }

  /** Field errors → their inputs (focusing the first); the rest → the box. */
  function fromApi(err, { fallbackTitle = 'Something went wrong', focus } = {}) {
    if (err?.isValidation) {
      const leftovers = [];
      let first = null;
      for (const [name, msgs] of Object.entries(err.fieldErrors)) {
        if (setField(name, msgs)) first ||= name;
        else leftovers.push(...msgs.map((m) => (name ? `${name}: ${m}` : m)));
      }
      if (leftovers.length || !first) {
        showBox(h('div', null,
          h('strong', null, err.title || 'Please check the form'),
          h('div', null, leftovers.length ? leftovers.map(capitalize).join('. ') : err.detail),
        ));
      }
      const target = first ? inputs[first] : focus;
      target?.focus();
      target?.select?.();
      return;
    }
    showBox(h('div', null,
      h('strong', null, err?.title || fallbackTitle), ' ',
      h('span', null, err?.detail || err?.message || ''),
      err?.requestId ? h('div', { class: 'muted' }, `Request ID ${err.requestId}`) : null,
    ));
  }

  return { setField, clearField, clearAll, showBox, fromApi };
}

/** The form-level error box (hidden until used). */
export function errorBox(testid = 'form-error') {
  return h('div', { class: 'form-error', role: 'alert', dataset: { testid }, hidden: true });
}

/** Toggle a submit button's busy state. */
export function busy(button, on, { idle, working }) {
  button.disabled = on;
  button.textContent = on ? working : idle;
  button.closest('form')?.setAttribute('aria-busy', String(on));
}

export const MIN_PASSWORD = 10;

/** Client-side checks for a new password and its confirmation. → {field: [msg]} */
export function checkNewPassword(password, confirm) {
  const out = {};
  if (!password) out.password = ['Enter a password'];
  else if (password.length < MIN_PASSWORD) out.password = [`Use at least ${MIN_PASSWORD} characters`];
  if (password && confirm !== password) out.confirm = ['The passwords do not match'];
  return out;
}
