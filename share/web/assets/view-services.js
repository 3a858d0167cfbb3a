// Services: each pmx service's state; start, stop, restart.
import {h, replace, button, notice, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {dataTable} from './table.js';
import {confirmAction} from './confirm.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

export async function render(el) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const body = h('div');
  replace(el, viewTitle('Services', button('Refresh', () => load(), '')), status, body);
  await load();

  async function act(what, s) {
    const name = s.id || s.unit;
    const why = name === 'httpd'
      ? (what === 'stop' ? 'This web interface stops too: start it again with `pmx start httpd`.'
                         : 'This page loses its connection for a moment.')
      : 'Mail it handles waits (or is tempfailed) meanwhile.';
    if (what !== 'start' && !await confirmAction(`${fmt.label(what)} ${name}`, `${fmt.label(what)} ${name}? ${why}`,
                                                 fmt.label(what), what === 'stop')) return;
    try {
      await rpc(`services.${what}`, {service: name});
      notice(status, `${fmt.label(what)}: ${name} done.`, 'ok');
    } catch (e) { notice(status, e.message, 'error'); }
    load();
  }

  async function load() {
    replace(body, spinner());
    let r;
    try { r = await rpc('services.status'); } catch (e) { replace(body); notice(status, e.message, 'error'); return; }
    const rows = Array.isArray(r) ? r : r.services || [];
    replace(body, dataTable([
      {key: 'id', label: 'Service', render: s => s.id || s.unit},
      {key: 'description'},
      {key: 'active_state', label: 'State', render: s => {
        const st = s.active_state || s.state || '?';
        return h('span', {class: `badge ${st === 'active' ? 'good' : st === 'failed' ? 'bad' : 'neutral'}`},
                 s.sub_state && s.sub_state !== st ? `${st} (${s.sub_state})` : st);
      }},
      {key: 'since', label: 'Since', render: s => fmt.time(s.since_usec)},
      {key: 'memory', label: 'Memory', numeric: true, render: s => fmt.bytes(s.memory_bytes)},
      {key: 'status_text', label: 'Status', render: s => s.status_text || (s.daemon && s.daemon.status_text) || s.daemon_error || ''},
      {key: 'actions', label: 'Actions', render: s => h('div', {class: 'row-actions'},
        s.active_state === 'active'
          ? [button('Restart', () => act('restart', s)), button('Stop', () => act('stop', s), 'danger')]
          : button('Start', () => act('start', s), 'primary'))},
    ], rows, {empty: 'No services.'}));
  }
}
