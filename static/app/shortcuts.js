// Keyboard shortcuts and their help dialog. Shortcuts never fire while the
// user types in a field, while a dialog is open, or on the sign-in pages.

import { h, icon, isTypingTarget, openModal } from './ui.js';
import { navigate, currentView } from './router.js';

let helpGroups = [];

export function showShortcutsHelp() {
  if (document.querySelector('dialog.help-dialog')) return;
  const dialog = h('dialog', { class: 'dialog help-dialog', 'aria-labelledby': 'help-title', dataset: { testid: 'shortcuts-help' } },
    h('header', { class: 'dialog-header' },
      h('h2', { id: 'help-title' }, 'Keyboard shortcuts'),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', autofocus: true, onclick: () => dialog.close() }, icon('x'))),
    h('div', { class: 'dialog-body', dataset: { testid: 'shortcuts-dialog' } },
      helpGroups.map((g) => h('section', { class: 'shortcut-group' },
        h('h3', { class: 'shortcut-group-title' }, g.title),
        h('dl', { class: 'shortcut-list' },
          g.items.map((s) => h('div', { class: 'shortcut' },
            h('dt', null, s.keys.map((k, i) => [i ? h('span', { class: 'muted then' }, s.chord ? '+' : 'then') : null, h('kbd', null, k)])),
            h('dd', null, s.text)))))),
      h('p', { class: 'muted form-hint' }, 'Shortcuts are off while you type in a field.')));
  openModal(dialog);
}

/**
 * installShortcuts({ search, areas, newContact })
 * areas: [{ g, path, label }] for the "g then x" jumps.
 */
export function installShortcuts({ search, areas, newContact }) {
  const goTargets = Object.fromEntries(areas.map((a) => [a.g, a.path]));
  helpGroups = [
    { title: 'Anywhere', items: [
      { keys: ['/'], text: 'Search contacts, companies and notes' },
      { keys: ['c'], text: 'New contact (new company on company pages, new deal on the pipeline)' },
      ...areas.map((a) => ({ keys: ['g', a.g], text: `Go to ${a.label.toLowerCase()}` })),
      { keys: ['?'], text: 'Show keyboard shortcuts' },
      { keys: ['Esc'], text: 'Close a dialog, menu or search results' },
    ] },
    { title: 'Lists', items: [
      { keys: ['j'], text: 'Select the next row' },
      { keys: ['k'], text: 'Select the previous row' },
      { keys: ['Enter'], text: 'Open the selected row' },
      { keys: ['f'], text: 'Add a filter' },
    ] },
    { title: 'Pipeline board', items: [
      { keys: ['n'], text: 'New deal' },
      { keys: ['← ↑ → ↓'], text: 'Move between deal cards' },
      { keys: ['Alt', '←'], chord: true, text: 'Move the focused deal to the previous stage (also Shift)' },
      { keys: ['Alt', '→'], chord: true, text: 'Move the focused deal to the next stage' },
      { keys: ['Alt', '↑'], chord: true, text: 'Move the focused deal up or down its column (with ↓)' },
      { keys: ['m'], text: 'Move the focused deal to… (pick a stage)' },
      { keys: ['Enter'], text: 'Open the focused deal' },
    ] },
    { title: 'Service desk', items: [
      { keys: ['j'], text: 'Select the next ticket in a queue' },
      { keys: ['k'], text: 'Select the previous ticket' },
      { keys: ['Enter'], text: 'Open the selected ticket' },
      { keys: ['n'], text: 'New ticket (new article in the knowledge base)' },
      { keys: ['r'], text: 'Reply to the customer (on a ticket)' },
      { keys: ['Ctrl', 'Enter'], chord: true, text: 'Send the reply or note' },
    ] },
    { title: 'Campaigns', items: [
      { keys: ['n'], text: 'New campaign (new template, segment or suppression on their pages)' },
      { keys: ['Ctrl', 'S'], chord: true, text: 'Save a template or a draft campaign (⌘ S on a Mac)' },
    ] },
    { title: 'Automations', items: [
      { keys: ['n'], text: 'New form (on the forms list)' },
      { keys: ['Ctrl', 'S'], chord: true, text: 'Save a form (⌘ S on a Mac)' },
      { keys: ['Alt', '↑'], chord: true, text: 'Move the field you are in up or down the form (with ↓)' },
    ] },
    { title: 'Contact and company pages', items: [
      { keys: ['e'], text: 'Edit' },
      { keys: ['Ctrl', 'Enter'], chord: true, text: 'Save a form or a note' },
    ] },
  ];

  function newRecord() {
    const view = currentView();
    if (view?.openCreate) view.openCreate();
    else newContact();
  }

  let gPressedAt = 0;
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (isTypingTarget(e.target) || document.querySelector('dialog[open]')) return;
    if (document.body.classList.contains('auth-mode')) return;
    const view = currentView();

    if (gPressedAt && Date.now() - gPressedAt < 1500) {
      gPressedAt = 0;
      const dest = goTargets[e.key.toLowerCase()];
      if (dest) { e.preventDefault(); navigate(dest); }
      return;
    }
    gPressedAt = 0;

    switch (e.key) {
      case '/':
        e.preventDefault();
        search.focus();
        search.select();
        break;
      case 'c':
      case 'n':
        e.preventDefault();
        newRecord();
        break;
      case 'j':
      case 'k':
        if (view?.moveSelection) { e.preventDefault(); view.moveSelection(e.key === 'j' ? 1 : -1); }
        break;
      case 'Enter': {
        // Links and buttons handle Enter themselves.
        if (e.target.closest?.('a, button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])')) return;
        if (view?.openSelection?.()) e.preventDefault();
        break;
      }
      case 'e':
        if (view?.edit) { e.preventDefault(); view.edit(); }
        break;
      case 'r':
        if (view?.reply) { e.preventDefault(); view.reply(); }
        break;
      case 'f':
        if (view?.openFilter) { e.preventDefault(); view.openFilter(); }
        break;
      case 'g':
        gPressedAt = Date.now();
        break;
      case '?':
        e.preventDefault();
        showShortcutsHelp();
        break;
      default:
    }
  });
}
