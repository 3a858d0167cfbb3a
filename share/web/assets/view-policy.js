// Policy: what policy.show reports, and a pasted message tested against it (policy.test).
import {h, replace, field, input, notice, formValues, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {details, dataTable, autoColumns, jsonBlock} from './table.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

export async function render(el) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const shown = h('section', {class: 'card'}, h('h2', null, 'Current policy'), spinner());
  const result = h('div', {class: 'test-result', 'aria-live': 'polite'});
  const message = h('textarea', {name: 'message', rows: 12, required: true, class: 'mono',
                                 placeholder: 'From: someone@example.com\nTo: user@example.org\nSubject: test\n\nHello'});
  const form = h('form', {class: 'card', id: 'policy-test'}, h('h2', null, 'Test a message'),
    field('Message (headers, empty line, body)', message),
    h('div', {class: 'row'},
      field('Envelope sender', input('sender')),
      field('Recipients', input('recipients', {placeholder: 'a@example.org, b@example.org'})),
      field('Client IP', input('client_ip', {placeholder: '192.0.2.7'}))),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Test')));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const v = formValues(form);
    const p = {message: message.value};
    if (v.sender) p.sender = v.sender;
    if (v.recipients) p.recipients = v.recipients.split(/[\s,]+/).filter(Boolean);
    if (v.client_ip) p.client_ip = v.client_ip;
    replace(result, spinner('Testing…'));
    try {
      const r = await rpc('policy.test', p);
      notice(status, '');
      replace(result, h('section', {class: 'card'}, h('h2', null, 'Result'), describe(r)));
    } catch (err) { replace(result); notice(status, err.message, 'error'); }
  });
  replace(el, viewTitle('Policy'), status, shown, form, result);

  try {
    const p = await rpc('policy.show');
    replace(shown, h('h2', null, 'Current policy'), describe(p));
  } catch (e) { replace(shown, h('h2', null, 'Current policy'), h('p', {class: 'notice error'}, e.message)); }
}

// An object: its scalar fields as a list, arrays of objects as tables, the rest as JSON.
export function describe(v) {
  if (v === null || typeof v !== 'object') return h('p', null, fmt.value(v));
  if (Array.isArray(v)) return v.length && typeof v[0] === 'object' ? dataTable(autoColumns(v), v) : h('p', null, fmt.value(v));
  const scalars = [], rest = [];
  for (const [k, x] of Object.entries(v)) {
    if (k === 'text' && typeof x === 'string') { rest.push([k, x]); continue; }
    if (x === null || typeof x !== 'object' || (Array.isArray(x) && x.every(i => typeof i !== 'object'))) scalars.push([fmt.label(k), x]);
    else rest.push([k, x]);
  }
  return h('div', null, details(scalars),
    rest.map(([k, x]) => h('div', {class: 'sub'}, h('h3', null, fmt.label(k)),
      typeof x === 'string' ? h('pre', {class: 'policy-text'}, x)
        : Array.isArray(x) && x.length && x.every(i => i && typeof i === 'object') ? dataTable(autoColumns(x), x) : jsonBlock(x))));
}
