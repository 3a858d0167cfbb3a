// Dashboard: services and their state, mail of the last hour and day by verdict, the queue,
// what the quarantine holds, the latest job failures.
import {h, replace, button, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {dataTable, autoColumns, details} from './table.js';
import {chart} from './chart.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

export async function render(el) {
  const body = h('div', {class: 'dashboard'});
  replace(el, viewTitle('Dashboard', button('Refresh', () => load(), '', {id: 'refresh'})), body);
  await load();

  async function load() {
    replace(body, spinner());
    let d;
    try { d = await rpc('dashboard.summary'); }
    catch (e) { replace(body, h('p', {class: 'notice error', role: 'alert'}, e.message)); return; }
    const services = Array.isArray(d.services) ? d.services : [];
    const mail = d.mail || {};
    const hour = mail.last_hour || {}, day = mail.last_day || {};
    // "messages" and "recipients" are totals; the other keys count recipients by verdict.
    const TOTALS = ['messages', 'recipients'];
    const verdicts = [...new Set([...Object.keys(day), ...Object.keys(hour)])].filter(k => !TOTALS.includes(k));
    const total = o => 'messages' in o ? o.messages
      : Object.entries(o).filter(([k]) => !TOTALS.includes(k)).reduce((a, [, b]) => a + (Number(b) || 0), 0);
    const held = d.quarantine && d.quarantine.held;
    const failures = Array.isArray(d.job_failures) ? d.job_failures : [];
    const errors = Array.isArray(d.errors) ? d.errors : [];

    replace(body,
      errors.length ? h('ul', {class: 'notice warn', role: 'status'},
                        errors.map(e => h('li', null, `Not available: ${e}`))) : null,
      h('div', {class: 'tiles'},
        tile('Mail, last hour', total(hour)), tile('Mail, last day', total(day)),
        tile('Held in quarantine', held ?? '–', held ? '#/quarantine' : null),
        tile('In the queue', queueSize(d.queue)),
        tile('Job failures', failures.length, failures.length ? '#/jobs' : null, failures.length ? 'bad' : null)),
      h('div', {class: 'grid2'},
        h('section', {class: 'card'}, h('h2', null, 'Services'),
          services.length ? h('ul', {class: 'services'}, services.map(serviceItem)) : h('p', {class: 'muted'}, 'No services.'),
          d.scheduler ? h('p', {class: 'muted'}, 'Scheduler: ', h('span', {class: `badge ${d.scheduler === 'active' ? 'good' : 'neutral'}`}, d.scheduler)) : null),
        h('section', {class: 'card'}, h('h2', null, 'Mail by verdict'),
          dataTable([{key: 'verdict', render: r => fmt.label(r.verdict)},
                     {key: 'hour', label: 'Last hour', numeric: true}, {key: 'day', label: 'Last day', numeric: true}],
                    verdicts.map(v => ({verdict: v, hour: hour[v] ?? 0, day: day[v] ?? 0})),
                    {empty: 'No mail yet.'}),
          verdicts.length ? chart({labels: verdicts.map(fmt.label), kind: 'bar', title: 'Mail by verdict',
                                   series: [{name: 'Last hour', values: verdicts.map(v => hour[v] ?? 0)},
                                            {name: 'Last day', values: verdicts.map(v => day[v] ?? 0)}]}) : null)),
      h('div', {class: 'grid2'},
        h('section', {class: 'card'}, h('h2', null, 'Queue'),
          d.queue && typeof d.queue === 'object' && !Array.isArray(d.queue)
            ? details(Object.entries(d.queue).map(([k, v]) => [fmt.label(k), v])) : h('p', null, fmt.value(d.queue))),
        h('section', {class: 'card'}, h('h2', null, 'Last job failures'),
          failures.length ? dataTable(autoColumns(failures), failures) : h('p', {class: 'muted'}, 'No failed jobs.'))));
  }
}

function queueSize(q) {
  if (q === null || q === undefined) return '–';
  if (typeof q === 'number') return q;
  for (const k of ['total', 'size', 'entries', 'count']) if (typeof q[k] === 'number') return q[k];
  const nums = Object.values(q).filter(v => typeof v === 'number');
  return nums.length ? nums.reduce((a, b) => a + b, 0) : '–';
}

function tile(label, value, href, cls) {
  const inner = [h('span', {class: 'value'}, fmt.value(value)), h('span', {class: 'label'}, label)];
  return h('div', {class: `tile ${cls || ''}`}, href ? h('a', {href}, inner) : inner);
}

function serviceItem(s) {
  const name = s.id || s.name || s.unit || fmt.value(s);
  const st = s.active_state || s.state || 'unknown';
  const cls = st === 'active' ? 'good' : st === 'failed' ? 'bad' : 'neutral';
  return h('li', null, h('span', {class: `dot ${cls}`, 'aria-hidden': 'true'}), h('span', {class: 'svc'}, name),
           h('span', {class: `badge ${cls}`}, s.sub_state && s.sub_state !== st ? `${st} (${s.sub_state})` : st),
           s.status_text ? h('span', {class: 'muted small'}, s.status_text) : null);
}
