// Quarantine: search (the filters of quarantine.search), page through, select and release or
// delete in bulk, open one message (headers, parts, text, why it was held). Used on both
// pages: the server limits an end user to their own addresses.
import {h, replace, field, input, select, button, notice, formValues, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {dataTable, details} from './table.js';
import {confirmAction} from './confirm.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

// The last search, kept while the page lives so that Back from a message returns to it.
const state = {filters: {state: 'held'}, limit: 50, offset: 0};

const NUMERIC = ['min_score', 'max_score'];

export async function render(el, ctx) {
  if (ctx.arg) return renderMessage(el, ctx, ctx.arg);
  return renderSearch(el, ctx);
}

function searchForm(ctx, onSearch) {
  const f = state.filters;
  const form = h('form', {class: 'filters', id: 'quarantine-search', role: 'search'},
    h('div', {class: 'row'},
      field('Text', input('text', {value: f.text || '', placeholder: 'any words', type: 'search'})),
      field('Sender', input('sender', {value: f.sender || ''})),
      field('Recipient', input('recipient', {value: f.recipient || ''})),
      field('Subject', input('subject', {value: f.subject || ''})),
      field('State', select('state', [['held', 'Held'], ['released', 'Released'], ['any', 'Any']], f.state || 'held'))),
    h('details', {open: ['reason', 'min_score', 'max_score', 'since', 'until'].some(k => f[k])},
      h('summary', null, 'More filters'),
      h('div', {class: 'row'},
        field('Reason', input('reason', {value: f.reason || ''})),
        field('Score at least', input('min_score', {value: f.min_score ?? '', inputmode: 'decimal'})),
        field('Score below', input('max_score', {value: f.max_score ?? '', inputmode: 'decimal'})),
        field('Since', input('since', {value: f.since || '', placeholder: '2026-11-25, -2h, today'})),
        field('Until', input('until', {value: f.until || '', placeholder: '2026-11-25 10:00'})))),
    h('div', {class: 'actions'},
      field('Per page', select('limit', ['25', '50', '100', '200'], String(state.limit))),
      h('button', {type: 'submit', class: 'primary'}, 'Search'),
      button('Clear', () => { state.filters = {state: 'held'}; state.offset = 0; onSearch(true); })));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const v = formValues(form);
    state.limit = Number(v.limit) || 50;
    delete v.limit;
    state.filters = v;
    state.offset = 0;
    onSearch(false);
  });
  return form;
}

function params() {
  const p = {limit: state.limit, offset: state.offset};
  for (const [k, v] of Object.entries(state.filters)) {
    if (NUMERIC.includes(k)) {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`${fmt.label(k)}: "${v}" is not a number`);
      p[k] = n;
    } else p[k] = v;
  }
  return p;
}

async function renderSearch(el, ctx) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const results = h('div', {class: 'results'});
  let formHolder = h('div');
  const rebuild = reset => {
    if (reset) { const f = searchForm(ctx, rebuild); formHolder.replaceWith(f); formHolder = f; }
    search();
  };
  formHolder = searchForm(ctx, rebuild);
  replace(el, viewTitle(ctx.realm === 'admin' ? 'Quarantine' : 'My quarantine'), formHolder, status, results);

  async function search() {
    replace(results, spinner('Searching…'));
    let reply;
    try {
      reply = await rpc('quarantine.search', params());
    } catch (e) {
      replace(results);
      notice(status, e.message, 'error');
      return;
    }
    showResults(reply.messages || []);
  }

  function showResults(messages) {
    let chosen = [];
    const releaseBtn = button('Release…', () => act('release'), 'primary', {disabled: true, id: 'bulk-release'});
    const deleteBtn = button('Delete…', () => act('delete'), 'danger', {disabled: true, id: 'bulk-delete'});
    const count = h('span', {class: 'muted'}, 'None selected');
    const onSelect = ids => {
      chosen = ids;
      releaseBtn.disabled = deleteBtn.disabled = ids.length === 0;
      count.textContent = ids.length ? `${fmt.plural(ids.length, 'message')} selected` : 'None selected';
    };
    async function act(what) {
      const n = fmt.plural(chosen.length, 'message');
      const yes = what === 'release'
        ? await confirmAction('Release messages', `Deliver ${n} to their recipients?`, 'Release')
        : await confirmAction('Delete messages', `Delete ${n} from the quarantine? This cannot be undone.`, 'Delete', true);
      if (!yes) return;
      try {
        const r = await rpc(`quarantine.${what}`, {ids: chosen});
        notice(status, summarize(what, r.results || []), (r.results || []).some(x => x.error) ? 'error' : 'ok');
      } catch (e) {
        notice(status, e.message, 'error');
        return;
      }
      search();
    }
    const from = state.offset + 1, to = state.offset + messages.length;
    const prev = button('← Previous', () => { state.offset = Math.max(0, state.offset - state.limit); search(); }, '',
                        {disabled: state.offset === 0});
    const next = button('Next →', () => { state.offset += state.limit; search(); }, '',
                        {disabled: messages.length < state.limit});
    replace(results,
      h('div', {class: 'toolbar'}, releaseBtn, deleteBtn, count),
      dataTable(columns(ctx), messages, {
        selectable: m => m.id, selectLabel: m => `Select: ${m.subject || '(no subject)'}`, onSelect, empty: 'No messages match.', caption: 'Quarantined messages',
        rowClass: m => fmt.qstate(m) === 'held' ? null : 'dim'}),
      h('div', {class: 'pager'},
        prev, h('span', {class: 'muted'}, messages.length ? `Messages ${from}–${to}` : ''), next));
  }
  search();
}

function columns(ctx) {
  const cols = [
    {key: 'time', label: 'Received', render: m => fmt.time(m.time_us)},
    {key: 'sender', label: 'From'},
    {key: 'recipients', label: 'To', render: m => fmt.list(m.recipients)},
    {key: 'subject', label: 'Subject',
     render: m => h('a', {href: `#/quarantine/${encodeURIComponent(m.id)}`, class: 'subject'}, m.subject || '(no subject)')},
    {key: 'reason', label: 'Why held'},
    {key: 'score', label: 'Score', numeric: true, render: m => fmt.score(m.score)},
    {key: 'state', label: 'State', render: m => h('span', {class: `badge ${fmt.qstate(m).replace(' ', '-')}`}, fmt.qstate(m))},
  ];
  return ctx.realm === 'admin' ? cols : cols.filter(c => c.key !== 'score');
}

function summarize(what, results) {
  const ok = results.filter(r => !r.error);
  const bad = results.filter(r => r.error);
  let text;
  if (what === 'release') {
    const sent = ok.reduce((n, r) => n + (r.released || []).length, 0);
    const again = ok.reduce((n, r) => n + (r.already_released || []).length, 0);
    text = `Released ${fmt.plural(ok.length, 'message')} (${fmt.plural(sent, 'recipient')})` +
           (again ? `; ${again} already released before, not sent again` : '') + '.';
  } else {
    text = `Deleted ${fmt.plural(ok.length, 'message')}.`;
  }
  if (bad.length) text += ' Failed: ' + bad.map(r => `${r.id}: ${r.error}`).join('; ');
  return text;
}

async function renderMessage(el, ctx, id) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  replace(el, viewTitle('Message'), spinner());
  let m;
  try {
    m = await rpc('quarantine.show', {id: Number(id)});
  } catch (e) {
    replace(el, viewTitle('Message'), h('p', {class: 'notice error', role: 'alert'}, e.message),
            h('p', null, h('a', {href: '#/quarantine'}, '← Back to the quarantine')));
    return;
  }
  const held = fmt.qstate(m) !== 'released';
  const release = button('Release', async () => {
    if (!await confirmAction('Release message', 'Deliver this message to its recipients?', 'Release')) return;
    try {
      const r = await rpc('quarantine.release', {ids: [m.id]});
      const res = (r.results || [])[0] || {};
      if (res.error) notice(status, res.error, 'error');
      else {
        notice(status, res.released && res.released.length ? `Released to ${fmt.list(res.released)}.`
                                                           : 'It was already released: not sent again.', 'ok');
        release.disabled = true;
      }
    } catch (e) { notice(status, e.message, 'error'); }
  }, 'primary', {disabled: !held, id: 'release'});
  const del = button('Delete', async () => {
    if (!await confirmAction('Delete message', 'Delete this message from the quarantine? This cannot be undone.',
                             'Delete', true)) return;
    try {
      const r = await rpc('quarantine.delete', {ids: [m.id]});
      const res = (r.results || [])[0] || {};
      if (res.error) notice(status, res.error, 'error');
      else ctx.go('#/quarantine');
    } catch (e) { notice(status, e.message, 'error'); }
  }, 'danger', {id: 'delete'});

  const why = m.why || {reason: m.reason, rule: m.rule, score: m.score};
  replace(el,
    viewTitle(m.subject || '(no subject)', h('a', {href: '#/quarantine', class: 'back'}, '← Back to the list')),
    h('div', {class: 'toolbar'}, release, del),
    status,
    h('div', {class: 'grid2'},
      h('section', {class: 'card'}, h('h2', null, 'Message'),
        details([['From', m.sender], ['To', fmt.list(m.recipients)], ['Received', fmt.time(m.time_us)],
                 ['Size', fmt.bytes(m.size)], ['Client', m.client_ip], ['Queue id', m.queue_id],
                 ['State', fmt.qstate(m)], ctx.realm === 'admin' ? ['Node', m.node] : null])),
      h('section', {class: 'card why'}, h('h2', null, 'Why it was held'),
        details([['Reason', why.reason], ['Rule', why.rule], ['Score', fmt.score(why.score)]]),
        (m.recipient_states || []).length ? dataTable(
          [{key: 'recipient'}, {key: 'released', render: s => s.released ? `yes, ${fmt.time(s.released_us)}` : 'no'},
           {key: 'released_by', label: 'By'}], m.recipient_states, {caption: 'Recipients'}) : null)),
    h('section', {class: 'card'}, h('h2', null, 'Text'),
      m.text ? h('pre', {class: 'message-text'}, m.text) : h('p', {class: 'muted'}, 'No text part.')),
    h('section', {class: 'card'}, h('h2', null, 'Parts'),
      dataTable([{key: 'part'}, {key: 'content_type', label: 'Type'}, {key: 'filename', label: 'File name'},
                 {key: 'size', numeric: true, render: p => fmt.bytes(p.size)}], m.parts || [], {empty: 'No parts.'})),
    h('section', {class: 'card'}, h('details', null, h('summary', null, h('h2', {class: 'inline'}, 'Headers')),
      h('pre', {class: 'headers'}, m.headers || ''))));
}
