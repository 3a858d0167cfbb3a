// Config: the keys changed from their defaults (or all), set or unset one.
import {h, replace, field, input, button, notice, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {dataTable} from './table.js';
import {confirmAction} from './confirm.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

let showAll = false;

export async function render(el) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const body = h('div');
  const key = input('key', {required: true, placeholder: 'queue.relay', list: 'config-keys'});
  const value = input('value', {required: true, placeholder: 'lists: a, b, c'});
  const keyList = h('datalist', {id: 'config-keys'});
  const form = h('form', {class: 'filters', id: 'config-set'},
    h('div', {class: 'row'}, field('Key', key), field('Value', value),
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Set'))), keyList);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    await set(key.value.trim(), value.value);
  });
  const filter = input('filter', {type: 'search', placeholder: 'Filter keys', 'aria-label': 'Filter keys'});
  const toggle = button('', () => { showAll = !showAll; load(); }, '', {id: 'config-toggle'});
  let rows = [];
  filter.addEventListener('input', () => draw());
  replace(el, viewTitle('Configuration'), form, status, h('div', {class: 'toolbar'}, toggle, filter), body);
  await load();

  async function set(k, v) {
    try {
      const r = await rpc('config.set', {key: k, value: v});
      notice(status, r && r.message ? r.message : `Set ${k}.`, 'ok');
    } catch (err) { notice(status, err.message, 'error'); }
    load();
  }

  async function load() {
    toggle.textContent = showAll ? 'Show changed keys only' : 'Show all keys';
    replace(body, spinner());
    let r;
    try { r = await rpc('config.show', showAll ? {} : {changed: true}); }
    catch (e) { replace(body); notice(status, e.message, 'error'); return; }
    rows = Array.isArray(r) ? r : r.settings || r.keys || [];
    if (showAll) replace(keyList, rows.map(x => h('option', {value: x.key})));
    draw();
  }

  function draw() {
    const q = filter.value.trim().toLowerCase();
    const shown = q ? rows.filter(x => String(x.key).toLowerCase().includes(q) || String(x.doc || '').toLowerCase().includes(q)) : rows;
    replace(body, dataTable([
      {key: 'key', render: x => h('div', null, h('code', {class: 'key'}, x.key), h('div', {class: 'muted small'}, x.doc || ''))},
      {key: 'value', render: x => h('div', null, h('code', null, fmt.value(x.value)),
                                    x.origin && x.origin !== 'default' ? h('div', {class: 'muted small'}, x.origin) : null)},
      {key: 'default', render: x => h('code', {class: 'muted'}, fmt.value(x.default))},
      {key: 'apply', label: 'Takes effect', render: x => x.apply === 'restart' ? 'on restart' : x.apply === 'reload' ? 'on reload' : fmt.value(x.apply)},
      {key: 'actions', label: 'Actions', render: x => h('div', {class: 'row-actions'},
        button('Edit', () => { key.value = x.key; value.value = fmt.value(x.value); value.focus(); }, 'link',
               {'aria-label': `Edit ${x.key}`}),
        JSON.stringify(x.value) !== JSON.stringify(x.default) || (x.origin && x.origin !== 'default') ? button('Unset', async () => {
          if (!await confirmAction('Unset key', `Return ${x.key} to its default (${fmt.value(x.default)})?`, 'Unset')) return;
          try { await rpc('config.unset', {key: x.key}); notice(status, `Unset ${x.key}.`, 'ok'); }
          catch (err) { notice(status, err.message, 'error'); }
          load();
        }, 'link danger', {'aria-label': `Unset ${x.key}`}) : null)},
    ], shown, {empty: showAll ? 'No keys match.' : 'Every key has its default value.'}));
  }
}
