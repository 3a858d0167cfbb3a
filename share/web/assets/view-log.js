// Message log: every message judged, filtered by sender, recipient, verdict and time.
import {h, replace, field, input, select, notice, formValues, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {dataTable} from './table.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

const VERDICTS = [['', 'Any'], 'accept', 'quarantine', 'reject', 'tempfail', 'discard'];
let last = {limit: '100'};

export async function render(el) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const body = h('div');
  const form = h('form', {class: 'filters', id: 'log-search', role: 'search'},
    h('div', {class: 'row'},
      field('Sender', input('sender', {value: last.sender || ''})),
      field('Recipient', input('recipient', {value: last.recipient || ''})),
      field('Verdict', select('verdict', VERDICTS, last.verdict || '')),
      field('Since', input('since', {value: last.since || '', placeholder: '-2h, today, 2026-11-25'})),
      field('Until', input('until', {value: last.until || ''})),
      field('At most', select('limit', ['50', '100', '500', '1000'], last.limit || '100')),
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Search'))));
  form.addEventListener('submit', e => { e.preventDefault(); last = formValues(form); load(); });
  replace(el, viewTitle('Message log'), form, status, body);
  await load();

  async function load() {
    replace(body, spinner('Searching…'));
    const p = {...last};
    if (p.limit) p.limit = Number(p.limit);
    let r;
    try { r = await rpc('log.search', p); } catch (e) { replace(body); notice(status, e.message, 'error'); return; }
    notice(status, '');
    const rows = Array.isArray(r) ? r : r.messages || r.entries || [];
    replace(body, dataTable([
      {key: 'time', render: e => fmt.time(e.time_us)},
      {key: 'sender'},
      {key: 'recipients', render: e => h('ul', {class: 'plain'}, (e.recipients || []).map(rc => typeof rc === 'string'
        ? h('li', null, rc)
        : h('li', null, rc.address, ' ', h('span', {class: `badge ${rc.verdict}`}, rc.verdict))))},
      {key: 'client_ip', label: 'Client'},
      {key: 'score', numeric: true, render: e => fmt.score(e.score)},
      {key: 'size', numeric: true, render: e => fmt.bytes(e.size)},
      {key: 'rules', render: e => fmt.list(e.rules)},
      {key: 'quarantine_id', label: 'Quarantine', render: e => e.quarantine_id
        ? h('a', {href: `#/quarantine/${e.quarantine_id}`}, `#${e.quarantine_id}`) : '–'},
    ], rows, {empty: 'No messages match.', caption: 'Messages'}));
  }
}
