// Groups: group administrators (members) with their items (addresses, @domains) and rights;
// web users (end-user passwords); delegations (one address reads another's quarantine).
import {h, replace, field, input, button, notice, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {dataTable} from './table.js';
import {confirmAction} from './confirm.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

const RIGHTS = ['quarantine', 'lists', 'reports', 'policy'];

export async function render(el) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const groups = h('section', {class: 'card'}, h('h2', null, 'Groups'));
  const users = h('section', {class: 'card'}, h('h2', null, 'Web users'));
  const delegations = h('section', {class: 'card'}, h('h2', null, 'Delegations'));
  replace(el, viewTitle('Groups and users'), status, groups, users, delegations);
  const run = async (method, params, done, reload) => {
    try { await rpc(method, params); notice(status, done, 'ok'); return true; }
    catch (e) { notice(status, e.message, 'error'); return false; }
    finally { reload(); }
  };

  async function loadGroups() {
    replace(groups, h('h2', null, 'Groups'), spinner());
    let list;
    try { list = await rpc('groups.list'); } catch (e) { replace(groups, h('h2', null, 'Groups'), h('p', {class: 'notice error'}, e.message)); return; }
    list = Array.isArray(list) ? list : list.groups || [];
    replace(groups, h('h2', null, 'Groups'),
      dataTable([
        {key: 'name'},
        {key: 'members', render: g => fmt.list(g.members)},
        {key: 'items', label: 'Items and rights', render: g => h('ul', {class: 'plain'},
          (g.items || []).map(i => h('li', null, h('code', null, i.pattern), ': ', fmt.list(i.rights))))},
        {key: 'actions', label: 'Actions', render: g => h('div', {class: 'row-actions'},
          button('Edit', () => editor(g), 'link', {'aria-label': `Edit ${g.name}`}),
          button('Delete', async () => {
            if (await confirmAction('Delete group', `Delete the group ${g.name}? Its members lose these rights.`, 'Delete', true))
              run('groups.delete', {name: g.name}, `Deleted ${g.name}.`, loadGroups);
          }, 'link danger', {'aria-label': `Delete ${g.name}`}))},
      ], list, {empty: 'No groups yet.'}),
      editor(null, true));
  }

  // The form for a new group, or filled in with g.
  function editor(g, inline = false) {
    const name = input('name', {required: true, value: g ? g.name : '', readonly: !!g});
    const members = h('textarea', {name: 'members', rows: 3, placeholder: 'alice\nbob@example.org'},
                      g ? (g.members || []).join('\n') : '');
    const items = h('textarea', {name: 'items', rows: 4, class: 'mono', placeholder: '@example.org quarantine,lists\nceo@example.org quarantine'},
                    g ? (g.items || []).map(i => `${i.pattern} ${(i.rights || []).join(',')}`).join('\n') : '');
    const form = h('form', {class: 'group-editor', id: g ? null : 'group-new'},
      h('h3', null, g ? `Edit ${g.name}` : 'New group'),
      h('div', {class: 'row'}, field('Name', name),
        field('Members (one per line)', members, 'System accounts or mail addresses'),
        field('Items and rights (one per line)', items, `Address or @domain, then rights: ${RIGHTS.join(', ')}`)),
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Save')));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const parsed = [];
      for (const line of items.value.split('\n').map(s => s.trim()).filter(Boolean)) {
        const [pattern, rights = ''] = line.split(/\s+/, 2);
        const rs = rights.split(',').map(s => s.trim()).filter(Boolean);
        const bad = rs.filter(r => !RIGHTS.includes(r));
        if (bad.length) { notice(status, `Unknown right "${bad[0]}" (rights: ${RIGHTS.join(', ')})`, 'error'); return; }
        parsed.push({pattern, rights: rs});
      }
      await run('groups.save', {name: name.value.trim(),
                                members: members.value.split('\n').map(s => s.trim()).filter(Boolean), items: parsed},
                `Saved ${name.value.trim()}.`, loadGroups);
    });
    if (!inline) {
      const old = groups.querySelector('.group-editor');
      if (old) old.replaceWith(form); else groups.append(form);
      name.focus();
    }
    return form;
  }

  async function loadUsers() {
    replace(users, h('h2', null, 'Web users'), spinner());
    let list;
    try { list = await rpc('web_users.list'); } catch (e) { replace(users, h('h2', null, 'Web users'), h('p', {class: 'notice error'}, e.message)); return; }
    list = Array.isArray(list) ? list : list.users || [];
    const address = input('address', {type: 'email', required: true});
    const password = input('password', {type: 'password', required: true, autocomplete: 'new-password'});
    const form = h('form', {class: 'row', id: 'web-user-set'}, field('Address', address), field('Password', password),
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Set password')));
    form.addEventListener('submit', e => {
      e.preventDefault();
      run('web_users.set_password', {address: address.value.trim(), password: password.value},
          `Set the password of ${address.value.trim()}.`, loadUsers);
    });
    replace(users, h('h2', null, 'Web users'),
      h('p', {class: 'muted'}, 'End users who sign in with a password (others use mailed sign-in links).'),
      dataTable([
        {key: 'address'}, {key: 'has_password', label: 'Password'},
        {key: 'created', render: u => typeof u.created === 'number' ? fmt.time(u.created) : fmt.value(u.created)},
        {key: 'actions', label: 'Actions', render: u => button('Delete', async () => {
          if (await confirmAction('Delete web user', `Delete ${u.address}'s password and settings?`, 'Delete', true))
            run('web_users.delete', {address: u.address}, `Deleted ${u.address}.`, loadUsers);
        }, 'link danger', {'aria-label': `Delete ${u.address}`})},
      ], list, {empty: 'No web users.'}),
      form);
  }

  async function loadDelegations() {
    replace(delegations, h('h2', null, 'Delegations'), spinner());
    let list;
    try { list = await rpc('delegations.list'); } catch (e) { replace(delegations, h('h2', null, 'Delegations'), h('p', {class: 'notice error'}, e.message)); return; }
    list = Array.isArray(list) ? list : list.delegations || [];
    const owner = input('owner', {required: true, placeholder: 'boss@example.org'});
    const delegate = input('delegate', {required: true, placeholder: 'assistant@example.org'});
    const form = h('form', {class: 'row', id: 'delegation-add'}, field('Owner', owner), field('Delegate', delegate),
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Add')));
    form.addEventListener('submit', e => {
      e.preventDefault();
      run('delegations.add', {owner: owner.value.trim(), delegate: delegate.value.trim()},
          `${delegate.value.trim()} now sees ${owner.value.trim()}'s quarantine.`, loadDelegations);
    });
    replace(delegations, h('h2', null, 'Delegations'),
      h('p', {class: 'muted'}, 'A delegate sees and releases the owner\'s quarantined mail and edits their lists.'),
      dataTable([
        {key: 'owner'}, {key: 'delegate'},
        {key: 'actions', label: 'Actions', render: d => button('Remove', async () => {
          if (await confirmAction('Remove delegation', `${d.delegate} no longer sees ${d.owner}'s mail?`, 'Remove', true))
            run('delegations.remove', {owner: d.owner, delegate: d.delegate}, 'Removed.', loadDelegations);
        }, 'link danger', {'aria-label': `Remove ${d.delegate} for ${d.owner}`})},
      ], list, {empty: 'No delegations.'}),
      form);
  }

  await Promise.all([loadGroups(), loadUsers(), loadDelegations()]);
}
