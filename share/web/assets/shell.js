// The frame of both pages: sign-in or header + navigation + the current view. Views are
// modules loaded when first shown; the address (#/view/arg) says which one, so Back works.
import {h, replace, button, spinner} from './dom.js';
import {whoami, logout} from './rpc.js';
import {signinForm} from './signin.js';

// options: {realm: 'admin'|'user', title, views: [{id, title, load: () => import(..), allow(who)}]}
export async function startApp(options) {
  const root = document.getElementById('app');
  let who = null;
  let current = null;  // the view module shown, to drop stale renders
  let moved = false;   // a view was shown before (focus moves to the title from then on)

  const main = h('main', {id: 'main', tabindex: '-1'});
  const nav = h('nav', {'aria-label': 'Sections'});
  const userBox = h('div', {class: 'who'});

  function allowed() { return options.views.filter(v => v.allow(who)); }

  function showSignin(message) {
    who = null;
    document.title = `Sign in · ${options.title}`;
    replace(root, signinForm({realm: options.realm, title: options.title, message, onSignedIn: w => showApp(w)}));
  }

  function showApp(w) {
    who = w;
    const views = allowed();
    const kind = {admin: 'Administrator', group_admin: 'Group administrator', user: ''}[who.kind] || '';
    replace(userBox, h('span', {class: 'name'}, who.name), kind ? h('span', {class: 'kind'}, kind) : null,
            button('Sign out', async () => { await logout(); showSignin('You are signed out.'); }, 'link', {id: 'signout'}));
    replace(nav, h('ul', null, views.map(v => h('li', null, h('a', {href: `#/${v.id}`, dataset: {view: v.id}}, v.title)))));
    replace(root,
      // The address holds the view (#/name): the skip link moves focus without changing it.
      h('a', {class: 'skip', href: '#main', onclick: e => { e.preventDefault(); main.focus(); }}, 'Skip to content'),
      h('header', {class: 'top'},
        h('div', {class: 'brand'}, h('img', {src: '/assets/logo.svg', alt: '', width: 28, height: 28}),
          h('span', null, options.title)),
        userBox),
      h('div', {class: 'layout'}, nav, main));
    route();
  }

  async function route() {
    if (!who) return;
    const views = allowed();
    const [id, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
    const view = views.find(v => v.id === id) || views[0];
    if (!view) { replace(main, h('p', null, 'This account may not use any part of this interface.')); return; }
    if (view.id !== id) { history.replaceState(null, '', `#/${view.id}`); }
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.view === view.id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `${view.title} · ${options.title}`;
    replace(main, spinner());
    const token = current = {};
    try {
      const mod = await view.load();
      if (token !== current) return;
      const section = h('section', {class: 'view', 'aria-labelledby': 'view-title'});
      replace(main, section);
      await mod.render(section, {who, arg: rest.map(decodeURIComponent).join('/'), realm: options.realm,
                                 go: hash => { location.hash = hash; }});
      // Screen readers follow a change of view: focus moves to its title (not on the first one,
      // which would take focus from the page as it opens).
      const title = section.querySelector('#view-title');
      if (title && token === current && moved) { title.tabIndex = -1; title.focus({preventScroll: false}); }
      moved = true;
    } catch (e) {
      if (token === current && who) replace(main, h('p', {class: 'notice error', role: 'alert'}, e.message));
    }
  }

  window.addEventListener('hashchange', route);
  window.addEventListener('pmx:signed-out', e => { if (who) showSignin(e.detail); });

  replace(root, spinner());
  try {
    const w = await whoami();
    if (w) showApp(w); else showSignin();
  } catch (e) {
    showSignin(e.message);
  }
}

// The title of a view (its h1 gets id view-title, which labels the section).
export function viewTitle(text, ...extra) {
  return h('div', {class: 'view-head'}, h('h1', {id: 'view-title'}, text), ...extra);
}

export function hasRight(who, right) {
  if (!who) return false;
  if (who.kind === 'admin') return true;
  if ((who.rights || []).includes(right)) return true;
  return (who.scope || []).some(s => (s.rights || []).includes(right));
}
