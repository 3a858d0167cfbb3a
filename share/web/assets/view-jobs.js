// Jobs: the scheduled jobs, enable/disable, change a schedule, run now, last result; the scheduler.
import {h, replace, input, button, notice, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {dataTable} from './table.js';
import {confirmAction} from './confirm.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

export async function render(el) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const body = h('div');
  replace(el, viewTitle('Jobs', button('Refresh', () => load(), '')), status, body);
  await load();

  async function call(method, params, done) {
    try {
      const r = await rpc(method, params);
      if (r && r.ok === false) notice(status, `${params.name}: ${r.result_text || r.error || r.result || 'failed'}`, 'error');
      else notice(status, done, 'ok');
    } catch (e) { notice(status, e.message, 'error'); }
    load();
  }

  async function load() {
    replace(body, spinner());
    let r;
    try { r = await rpc('jobs.list'); } catch (e) { replace(body); notice(status, e.message, 'error'); return; }
    const jobs = Array.isArray(r) ? r : r.jobs || [];
    const sched = r.scheduler || '';
    replace(body,
      h('div', {class: 'toolbar'},
        h('span', null, 'Scheduler: ', h('span', {class: `badge ${sched === 'active' ? 'good' : 'neutral'}`}, sched || 'unknown')),
        sched === 'active' ? button('Stop scheduler', async () => {
          if (await confirmAction('Stop the scheduler', 'No job runs on its schedule until it is started again.', 'Stop', true))
            call('scheduler.stop', {}, 'The scheduler is stopped.');
        }) : button('Start scheduler', () => call('scheduler.start', {}, 'The scheduler is started.'))),
      (r.problems || []).length ? h('ul', {class: 'notice error'}, r.problems.map(p => h('li', null, p))) : null,
      dataTable([
        {key: 'name', render: j => h('span', {title: fmt.list(j.command, ' ')}, j.name)},
        {key: 'description'},
        {key: 'enabled', render: j => h('span', {class: `badge ${j.enabled ? 'good' : 'neutral'}`}, j.enabled ? 'enabled' : 'disabled')},
        {key: 'schedule', render: j => scheduleCell(j)},
        {key: 'next', label: 'Next run', render: j => j.next || fmt.time(j.next_usec)},
        {key: 'last', label: 'Last run', render: j => j.last || fmt.time(j.last_usec)},
        {key: 'result', label: 'Last result', render: j => h('span', {class: j.failed ? 'badge bad' : ''}, j.result_text || j.result || '–')},
        {key: 'actions', label: 'Actions', render: j => h('div', {class: 'row-actions'},
          button('Run now', () => call('jobs.run', {name: j.name}, `Ran ${j.name}.`), ''),
          j.enabled ? button('Disable', () => call('jobs.disable', {name: j.name}, `Disabled ${j.name}.`), '')
                    : button('Enable', () => call('jobs.enable', {name: j.name}, `Enabled ${j.name}.`), ''))},
      ], jobs, {empty: 'No jobs are configured.', rowClass: j => j.failed ? 'bad' : null}));
  }

  function scheduleCell(j) {
    const text = h('span', null, fmt.list(j.schedule, '; '));
    const edit = button('Change', () => {
      const box = input('schedule', {value: fmt.list(j.schedule, '; '), 'aria-label': `Schedule of ${j.name}`,
                                     placeholder: 'daily; *-*-* 03:00'});
      const form = h('form', {class: 'inline'}, box, h('button', {type: 'submit', class: 'primary'}, 'Save'),
                     button('Cancel', () => form.replaceWith(cell), 'link'));
      form.addEventListener('submit', e => {
        e.preventDefault();
        call('jobs.set_schedule', {name: j.name, schedule: box.value.split(';').map(s => s.trim()).filter(Boolean)}, `Changed the schedule of ${j.name}.`);
      });
      cell.replaceWith(form);
      box.focus();
    }, 'link');
    const cell = h('span', {class: 'schedule'}, text, ' ', edit);
    return cell;
  }
}
