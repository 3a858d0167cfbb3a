// IP blocker: the blocked networks, block one (for a while or until removed), unblock.
import {h, replace, field, input, button, notice, formValues, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {dataTable} from './table.js';
import {confirmAction} from './confirm.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

export async function render(el) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const body = h('div');
  const form = h('form', {class: 'filters', id: 'ipblock-add'},
    h('div', {class: 'row'},
      field('Address or network', input('address', {required: true, placeholder: '192.0.2.7 or 198.51.100.0/24'})),
      field('For', input('ttl', {placeholder: '2h, 7d (empty: until removed)'})),
      field('Reason', input('reason')),
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Block'))));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const v = formValues(form);
    try {
      await rpc('ipblock.add', v);
      notice(status, `Blocked ${v.address}.`, 'ok');
      form.reset();
    } catch (err) { notice(status, err.message, 'error'); }
    load();
  });
  replace(el, viewTitle('IP blocker'), form, status, body);
  await load();

  async function load() {
    replace(body, spinner());
    let r;
    try { r = await rpc('ipblock.list'); } catch (e) { replace(body); notice(status, e.message, 'error'); return; }
    const rows = Array.isArray(r) ? r : r.blocks || r.entries || [];
    replace(body, dataTable([
      {key: 'network'}, {key: 'source'}, {key: 'reason'},
      {key: 'added_us', label: 'Added', render: b => fmt.time(b.added_us)},
      {key: 'expires_us', label: 'Expires', render: b => b.expires_us ? fmt.time(b.expires_us) : 'never'},
      {key: 'offenses', numeric: true},
      {key: 'actions', label: 'Actions', render: b => button('Unblock', async () => {
        if (!await confirmAction('Unblock', `Accept connections from ${b.network} again?`, 'Unblock')) return;
        try { await rpc('ipblock.remove', {address: b.network}); notice(status, `Unblocked ${b.network}.`, 'ok'); }
        catch (err) { notice(status, err.message, 'error'); }
        load();
      }, '', {'aria-label': `Unblock ${b.network}`})},
    ], rows, {empty: 'Nothing is blocked.', caption: 'Blocked addresses'}));
  }
}
