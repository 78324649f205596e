// Customer portal placeholder: tenant branding only. Magic-link sign-in
// arrives with the portal milestone; the form stays disabled until then.

import { icon, tenantName } from '/app/ui.js';

const tenant = tenantName();
const display = tenant.replace(/[-_]+/g, ' ');

document.title = `Customer portal · ${display}`;
document.querySelectorAll('[data-testid="tenant-name"]').forEach((el) => { el.textContent = display; });
const mark = document.querySelector('[data-testid="portal-mark"]');
if (mark) mark.textContent = (display.trim()[0] || '?').toUpperCase();

document.querySelectorAll('[data-icon]').forEach((el) => {
  el.replaceChildren(icon(el.dataset.icon, { size: Number(el.dataset.size) || 16 }));
});

// Belt and braces: even if a browser extension re-enables the controls,
// nothing is sent before the feature exists.
document.querySelector('[data-testid="magic-link-form"]')?.addEventListener('submit', (e) => e.preventDefault());
