// Closing and reopening deals, shared by the board, the list and the deal
// page: won (at once), lost (asks for a reason from the pipeline settings),
// reopen. Every change is a PATCH with If-Match; a 412 reloads the deal and
// says so.

import { h, icon, toast, toastError, openModal } from './ui.js';
import * as papi from './pipeline-api.js';
import { errorBox, busy } from './forms.js';

function describe(deal) { return deal?.title ? `“${deal.title}”` : 'The deal'; }

/**
 * PATCH the deal's status. → { deal, version } or null when it did not happen
 * (errors are shown; on a 412 `onConflict(latest)` gets the current deal).
 */
async function setStatus(deal, version, patch, { onConflict } = {}) {
  try {
    return await papi.updateDeal(deal.id, patch, version ?? deal.version);
  } catch (err) {
    if (err?.status === 412) {
      const current = err.body?.current;
      let latest = current ? { deal: current, version: current.version != null ? String(current.version) : null } : null;
      if (!latest) latest = await papi.getDeal(deal.id).catch(() => null);
      toast(`Someone else changed ${describe(deal)} just now. The board shows its current state; try again if you still want to.`, {
        kind: 'error', title: 'Changed by someone else', requestId: err.requestId,
      });
      if (latest) onConflict?.(latest);
      return null;
    }
    throw err;
  }
}

/** Mark won at once. → { deal, version } | null */
export async function markWon(deal, version, opts = {}) {
  try {
    const res = await setStatus(deal, version, { status: 'won' }, opts);
    if (res) {
      toast(`${describe(res.deal || deal)} is won.${deal.contact_id ? ' Its contact is now a customer.' : ''}`, {
        kind: 'success', title: 'Deal won',
        action: opts.undo ? { label: 'Undo', onClick: () => reopen(res.deal, res.version, opts).then((r) => r && opts.onUndone?.(r)) } : { label: 'Open deal', href: `/deals/${encodeURIComponent(deal.id)}` },
      });
    }
    return res;
  } catch (err) {
    toastError(err, 'Could not mark the deal won');
    return null;
  }
}

export async function reopen(deal, version, opts = {}) {
  try {
    const res = await setStatus(deal, version, { status: 'open' }, opts);
    if (res) toast(`${describe(res.deal || deal)} is open again.`, { kind: 'success', title: 'Deal reopened' });
    return res;
  } catch (err) {
    toastError(err, 'Could not reopen the deal');
    return null;
  }
}

/**
 * Ask for a lost reason (required, from the settings' list) and mark the deal
 * lost. Resolves to { deal, version } or null (cancelled / failed).
 */
export function markLost(deal, version, opts = {}) {
  return new Promise((resolve) => {
    if (document.querySelector('dialog.lost-dialog[open]')) { resolve(null); return; }
    const box = errorBox('lost-error');
    const select = h('select', { id: 'lost-reason', name: 'lost_reason', class: 'input', required: true, dataset: { testid: 'lost-reason' }, disabled: true },
      h('option', { value: '' }, 'Loading reasons…'));
    const hint = h('p', { class: 'field-hint muted', id: 'lost-reason-hint' }, 'Reasons are kept for the lost-reasons report. Owners and admins edit the list under Settings › Pipelines.');
    const submit = h('button', { type: 'submit', class: 'btn btn-danger', dataset: { testid: 'lost-confirm' } }, 'Mark lost');
    const form = h('form', { class: 'dialog-form', method: 'dialog', novalidate: true },
      h('header', { class: 'dialog-header' },
        h('h2', { id: 'lost-title' }, `Mark ${describe(deal)} lost`),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
      h('div', { class: 'dialog-body' }, box,
        h('div', { class: 'field', dataset: { field: 'lost_reason' } },
          h('label', { for: 'lost-reason' }, 'Why was it lost?'), select, hint)),
      h('footer', { class: 'dialog-footer' },
        h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
        submit));
    const dialog = h('dialog', { class: 'dialog lost-dialog', 'aria-labelledby': 'lost-title', dataset: { testid: 'lost-dialog' } }, form);
    let result = null;

    papi.pipelineSettings().then((s) => {
      const reasons = s.lost_reasons.filter(Boolean);
      select.replaceChildren(h('option', { value: '' }, reasons.length ? 'Choose a reason…' : 'No reasons are set up'),
        ...reasons.map((r) => h('option', { value: r, selected: r === deal.lost_reason ? true : null }, r)));
      select.disabled = false;
      select.focus();
    }).catch((err) => {
      select.replaceChildren(h('option', { value: '' }, 'Reasons could not be loaded'));
      box.hidden = false;
      box.replaceChildren(icon('alert'), h('div', null, h('strong', null, err.title || 'Could not load the reasons'), ' ', err.detail || err.message));
    });

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      box.hidden = true;
      form.querySelector('.field-error')?.remove();
      if (!select.value) {
        select.setAttribute('aria-invalid', 'true');
        select.after(h('p', { class: 'field-error', dataset: { testid: 'error-lost_reason' } }, icon('alert', { size: 14 }), h('span', null, 'Choose a reason')));
        select.focus();
        return;
      }
      busy(submit, true, { idle: 'Mark lost', working: 'Saving…' });
      try {
        const res = await setStatus(deal, version, { status: 'lost', lost_reason: select.value }, opts);
        result = res;
        dialog.close(res ? 'saved' : 'conflict');
        if (res) {
          toast(`${describe(res.deal || deal)} is lost (${select.value}).`, {
            title: 'Deal lost',
            action: opts.undo ? { label: 'Undo', onClick: () => reopen(res.deal, res.version, opts).then((r) => r && opts.onUndone?.(r)) } : undefined,
          });
        }
      } catch (err) {
        busy(submit, false, { idle: 'Mark lost', working: 'Saving…' });
        if (err.isValidation && err.errors.some((x) => x.field === 'lost_reason')) {
          select.setAttribute('aria-invalid', 'true');
          select.after(h('p', { class: 'field-error', dataset: { testid: 'error-lost_reason' } }, icon('alert', { size: 14 }),
            h('span', null, err.errors.filter((x) => x.field === 'lost_reason').map((x) => x.message).join('. '))));
          select.focus();
        } else {
          box.hidden = false;
          box.replaceChildren(icon('alert'), h('div', null, h('strong', null, err.title || 'Could not save'), ' ', err.detail || err.message,
            err.requestId ? h('div', { class: 'muted' }, `Request ID ${err.requestId}`) : null));
        }
      }
    });
    select.addEventListener('change', () => { select.removeAttribute('aria-invalid'); form.querySelector('.field-error')?.remove(); });
    openModal(dialog, { onClose: () => resolve(result) });
  });
}

/**
 * "Move to…": pick a stage of the deal's pipeline (and top or bottom of its
 * column). Resolves to { stage_id, position: 'top' | 'bottom' } or null.
 */
export function chooseStage({ deal, stages, currentStageId }) {
  return new Promise((resolve) => {
    if (document.querySelector('dialog.move-dialog[open]')) { resolve(null); return; }
    const name = `move-stage-${deal.id}`;
    const radios = stages.map((s, i) => {
      const id = `${name}-${i}`;
      const here = s.id === currentStageId;
      return h('label', { class: ['check-row', 'move-option', here && 'is-current'], for: id },
        h('input', { type: 'radio', id, name, value: s.id, checked: here ? true : null, dataset: { testid: 'move-stage-option', stageId: s.id } }),
        h('span', { class: 'move-option-name' }, s.name),
        h('span', { class: 'muted move-option-sub' }, `${s.probability ?? 0}%${here ? ' · current stage' : ''}`));
    });
    const position = h('select', { class: 'input', id: `${name}-pos`, name: 'position', dataset: { testid: 'move-position' } },
      h('option', { value: 'top' }, 'Top of the column'),
      h('option', { value: 'bottom' }, 'Bottom of the column'));
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'move-confirm' } }, 'Move');
    const form = h('form', { class: 'dialog-form', method: 'dialog' },
      h('header', { class: 'dialog-header' },
        h('h2', { id: 'move-title' }, `Move ${describe(deal)}`),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close('cancel') }, icon('x'))),
      h('div', { class: 'dialog-body' },
        h('fieldset', { class: 'move-stages' }, h('legend', null, 'Stage'), radios),
        h('div', { class: 'field' }, h('label', { for: `${name}-pos` }, 'Position'), position),
        h('p', { class: 'muted form-hint move-hint' }, 'Tip: on the board, Alt+← / Alt+→ moves a focused deal to the previous or next stage, Alt+↑ / Alt+↓ within its column.')),
      h('footer', { class: 'dialog-footer' },
        h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
        submit));
    const dialog = h('dialog', { class: 'dialog move-dialog', 'aria-labelledby': 'move-title', dataset: { testid: 'move-dialog' } }, form);
    let result = null;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const picked = form.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
      if (!picked) return;
      result = { stage_id: picked.value, position: position.value };
      dialog.close('move');
    });
    // Enter on a radio submits; double-click a stage to move there at once.
    form.addEventListener('dblclick', (e) => { if (e.target.closest('.move-option')) form.requestSubmit(); });
    openModal(dialog, { onClose: () => resolve(result) });
    (form.querySelector('input:checked') || form.querySelector('input'))?.focus();
  });
}
