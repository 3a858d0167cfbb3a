// Allow and block lists: the global ones (administrators), an owner's (an address or @domain in
// the caller's scope), or on the end-user page one's own (and delegated addresses').
import {h, replace, field, input, select, button, notice, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {confirmAction} from './confirm.js';
import {viewTitle} from './shell.js';

export async function render(el, ctx) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const body = h('div');
  let owner = ctx.realm === 'admin' ? (ctx.who.kind === 'admin' ? '' : null) : null;
  let picker;

  if (ctx.realm === 'admin') {
    const ownerInput = input('owner', {placeholder: ctx.who.kind === 'admin' ? 'empty: the global lists' : 'user@example.org or @example.org',
                                       value: ctx.arg || ''});
    picker = h('form', {class: 'filters', id: 'lists-owner'},
      h('div', {class: 'row'}, field('Owner', ownerInput, 'A mail address or @domain; empty for the global lists'),
        h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Show'))));
    picker.addEventListener('submit', e => { e.preventDefault(); owner = ownerInput.value.trim(); notice(status, ''); load(); });
    owner = ctx.arg || owner;
  } else {
    replace(el, viewTitle('My lists'), spinner());
    let settings = {addresses: []};
    try { settings = await rpc('user.settings'); } catch (e) { notice(status, e.message, 'error'); }
    const addresses = settings.addresses && settings.addresses.length ? settings.addresses : [settings.address].filter(Boolean);
    owner = addresses[0] || null;
    if (addresses.length > 1) {
      const sel = select('owner', addresses, owner);
      sel.addEventListener('change', () => { owner = sel.value; load(); });
      picker = h('div', {class: 'filters'}, field('Lists of', sel));
    }
  }
  replace(el, viewTitle(ctx.realm === 'admin' ? 'Allow and block lists' : 'My lists'), picker, status, body);
  if (owner === null && ctx.realm === 'admin') {
    replace(body, h('p', {class: 'muted'}, 'Enter an address or domain in your scope to see its lists.'));
    return;
  }
  load();

  async function load() {
    replace(body, spinner());
    const p = owner === null || owner === undefined ? {} : {owner};
    let lists;
    try { lists = await rpc('lists.show', p); } catch (e) { replace(body); notice(status, e.message, 'error'); return; }
    const who = lists.owner ? `Lists of ${lists.owner}` : 'Global lists (apply to all mail)';
    replace(body, h('p', {class: 'muted'}, who),
      h('div', {class: 'grid2'},
        listCard('allow', 'Allowed senders', 'Senders whose mail is wanted: the policy uses this list to let it through.', lists.allow || [], p),
        listCard('block', 'Blocked senders', 'Senders whose mail is not wanted: the policy uses this list to stop it.', lists.block || [], p)));
  }

  function listCard(list, title, explain, entries, p) {
    const area = h('textarea', {name: 'entries', rows: 3, placeholder: 'sender@example.com\n@example.net\n*.example.org'});
    const form = h('form', {class: 'add', id: `add-${list}`},
      field('Add entries (one per line)', area),
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Add')));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const items = area.value.split(/[\n,]/).map(s => s.trim()).filter(Boolean);
      if (!items.length) return;
      try {
        const r = await rpc('lists.add', {...p, list, entries: items});
        notice(status, `Added ${r.added ?? items.length} to the ${list} list.`, 'ok');
        load();
      } catch (err) { notice(status, err.message, 'error'); }
    });
    const text = e => typeof e === 'string' ? e : e.pattern || e.entry || JSON.stringify(e);
    return h('section', {class: 'card'}, h('h2', null, title), h('p', {class: 'muted'}, explain),
      entries.length ? h('ul', {class: 'entries'}, entries.map(e => h('li', null,
        h('span', null, h('code', null, text(e)), e.meaning ? h('span', {class: 'muted small'}, ` ${e.meaning}`) : null),
        button('Remove', async () => {
          if (!await confirmAction('Remove entry', `Remove ${text(e)} from the ${list} list?`, 'Remove', true)) return;
          try {
            await rpc('lists.remove', {...p, list, entries: [text(e)]});
            notice(status, `Removed ${text(e)}.`, 'ok');
            load();
          } catch (err) { notice(status, err.message, 'error'); }
        }, 'link danger', {'aria-label': `Remove ${text(e)}`}))))
      : h('p', {class: 'muted'}, 'No entries.'),
      form);
  }
}
