// Top bar account control: a "Sign in" link when nobody is signed in, or a
// menu button (name, role) with Settings, Sign out and Sign out everywhere.
// Menu keyboard: Enter/Space/↓ open on the first item, ↑ on the last; ↑/↓,
// Home/End move; Esc closes and returns to the button; Tab closes.

import * as api from './api.js';
import { h, mount, icon, toast, toastError } from './ui.js';
import { navigate } from './router.js';
import * as session from './session.js';

export function mountUserMenu(slot) {
  let closeMenu = () => {};
  let signInHref = '/sign-in';

  function render(state) {
    closeMenu();
    closeMenu = () => {};
    if (state.status === 'signed-in' && state.user) {
      mount(slot, userMenu(state.user));
    } else if (state.status === 'signed-out') {
      mount(slot, h('a', { class: 'btn btn-sm sign-in-link', href: signInHref, title: 'Sign in', dataset: { testid: 'sign-in-link' } },
        icon('logIn', { size: 16 }), h('span', { class: 'sign-in-label' }, 'Sign in')));
    } else {
      slot.replaceChildren(); // loading, or the server has no auth yet
    }
  }

  function userMenu(user) {
    const name = session.userDisplayName(user);
    const role = session.roleLabel(user.role);
    const menuId = 'user-menu-list';
    let busyAction = false;

    const button = h('button', {
      type: 'button', class: 'user-button', dataset: { testid: 'user-menu' },
      'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId,
      'aria-label': `Account: ${name}, ${role}`, title: `${user.email || name} · ${role}`,
    },
    h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, session.userInitials(user)),
    h('span', { class: 'user-button-text', 'aria-hidden': 'true' },
      h('span', { class: 'user-button-name', dataset: { testid: 'user-name' } }, name),
      h('span', { class: 'user-button-role', dataset: { testid: 'user-role' } }, role)),
    h('span', { class: 'user-button-chevron', 'aria-hidden': 'true' }, icon('chevronDown', { size: 14 })));

    const item = (attrs, iconName, label) => h(attrs.href ? 'a' : 'button', {
      ...(attrs.href ? {} : { type: 'button' }), role: 'menuitem', tabindex: '-1', class: 'menu-item', ...attrs,
    }, icon(iconName, { size: 16 }), h('span', null, label));

    const items = [
      session.isAdmin(user) ? item({ href: '/settings/users', dataset: { testid: 'menu-settings' } }, 'settings', 'Settings') : null,
      item({ dataset: { testid: 'sign-out' }, onclick: () => doSignOut(false) }, 'logOut', 'Sign out'),
      item({ dataset: { testid: 'sign-out-everywhere' }, onclick: () => doSignOut(true) }, 'shield', 'Sign out everywhere'),
    ].filter(Boolean);

    const menu = h('div', { id: menuId, role: 'menu', class: 'menu-list', 'aria-label': 'Account' }, items);
    const popover = h('div', { class: 'menu-popover', hidden: true, dataset: { testid: 'user-menu-popover' } },
      h('div', { class: 'menu-head' },
        h('span', { class: 'avatar', 'aria-hidden': 'true' }, session.userInitials(user)),
        h('div', { class: 'menu-head-text' },
          h('div', { class: 'menu-head-name' }, name),
          user.email && user.email !== name ? h('div', { class: 'menu-head-email muted' }, user.email) : null,
          h('span', { class: 'badge badge-role' }, role))),
      menu);
    const wrap = h('div', { class: 'user-menu' }, button, popover);

    const isOpen = () => !popover.hidden;
    function open(focusIndex = 0) {
      popover.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      document.addEventListener('pointerdown', onOutside, true);
      const list = menuItems();
      list[(focusIndex + list.length) % list.length]?.focus();
    }
    function close({ focusButton = false } = {}) {
      if (!isOpen()) return;
      popover.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      document.removeEventListener('pointerdown', onOutside, true);
      if (focusButton) button.focus();
    }
    closeMenu = () => close();
    function onOutside(e) { if (!wrap.contains(e.target)) close(); }
    function menuItems() { return [...menu.querySelectorAll('[role="menuitem"]')]; }

    button.addEventListener('click', () => (isOpen() ? close() : open(0)));
    button.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        open(e.key === 'ArrowDown' ? 0 : -1);
      } else if (e.key === 'Escape' && isOpen()) {
        e.preventDefault();
        close({ focusButton: true });
      }
    });
    menu.addEventListener('keydown', (e) => {
      const list = menuItems();
      const i = list.indexOf(document.activeElement);
      let next = null;
      if (e.key === 'ArrowDown') next = (i + 1) % list.length;
      else if (e.key === 'ArrowUp') next = (i - 1 + list.length) % list.length;
      else if (e.key === 'Home') next = 0;
      else if (e.key === 'End') next = list.length - 1;
      else if (e.key === 'Escape') { e.preventDefault(); close({ focusButton: true }); return; }
      else if (e.key === 'Tab') { close(); return; }
      else if ((e.key === ' ' || e.key === 'Spacebar') && document.activeElement?.tagName === 'A') {
        e.preventDefault(); document.activeElement.click(); return;
      }
      if (next !== null) { e.preventDefault(); list[next].focus(); }
    });
    menu.addEventListener('click', (e) => { if (e.target.closest('a[role="menuitem"]')) close(); });

    async function doSignOut(everywhere) {
      if (busyAction) return;
      busyAction = true;
      menuItems().forEach((el) => el.setAttribute('aria-disabled', 'true'));
      try {
        if (everywhere) await api.signOutEverywhere();
        else await api.signOut();
        close();
        session.signedOut();
        navigate('/sign-in', { replace: false });
        toast(everywhere ? 'You are signed out on every device and browser.' : 'You are signed out.', {
          kind: 'success', title: everywhere ? 'Signed out everywhere' : 'Signed out',
        });
      } catch (err) {
        busyAction = false;
        menuItems().forEach((el) => el.removeAttribute('aria-disabled'));
        toastError(err, 'Could not sign out');
      }
    }

    return wrap;
  }

  session.onSessionChange(render);
  render(session.getSession());

  return {
    /** Keep ?next= pointing at the page the user is on; close the menu on navigation. */
    update(path) {
      closeMenu();
      signInHref = `/sign-in?next=${encodeURIComponent(path)}`;
      const link = slot.querySelector('[data-testid="sign-in-link"]');
      if (link) link.setAttribute('href', signInHref);
    },
  };
}
