// Reports: pick a report and a period, see the table and a chart; CSV made in the browser.
import {h, replace, field, input, select, button, notice, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {dataTable, autoColumns} from './table.js';
import {chart} from './chart.js';
import {toCsv, download} from './csv.js';
import {viewTitle} from './shell.js';
import * as fmt from './format.js';

export async function render(el) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const body = h('div');
  replace(el, viewTitle('Reports'), spinner());
  let reports = [];
  try {
    const r = await rpc('reports.list');
    reports = Array.isArray(r) ? r : r.reports || [];
  } catch (e) { replace(el, viewTitle('Reports'), h('p', {class: 'notice error', role: 'alert'}, e.message)); return; }
  const pick = select('name', reports.map(r => [r.name, r.name]), reports[0] && reports[0].name);
  const about = h('p', {class: 'muted'});
  const showAbout = () => { const r = reports.find(x => x.name === pick.value); about.textContent = r ? r.description || '' : ''; };
  pick.addEventListener('change', showAbout);
  showAbout();
  const from = input('from', {placeholder: '-7d, 2026-11-01', value: '-7d'});
  const to = input('to', {placeholder: 'now'});
  const form = h('form', {class: 'filters', id: 'report-form'},
    h('div', {class: 'row'}, field('Report', pick), field('From', from), field('To', to),
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Show'))), about);
  form.addEventListener('submit', e => { e.preventDefault(); load(); });
  replace(el, viewTitle('Reports'), form, status, body);
  if (reports.length) load();

  async function load() {
    const name = pick.value;
    const info = reports.find(r => r.name === name) || {};
    const p = {name};
    if (from.value.trim()) p.from = from.value.trim();
    if (to.value.trim()) p.to = to.value.trim();
    replace(body, spinner());
    let r;
    try { r = await rpc('reports.get', p); } catch (e) { replace(body); notice(status, e.message, 'error'); return; }
    notice(status, '');
    const rows = Array.isArray(r) ? r : r.rows || [];
    const cols = autoColumns(rows);
    if (!rows.length) { replace(body, h('p', {class: 'muted'}, 'No data for this period.')); return; }
    const labelKey = cols.find(c => !c.numeric) || cols[0];
    const numeric = cols.filter(c => c.numeric && c !== labelKey);
    const series = numeric.map(c => ({name: fmt.label(c.key), values: rows.map(x => Number(x[c.key]) || 0)}));
    const kind = info.kind === 'series' ? 'line' : 'bar';
    replace(body,
      h('div', {class: 'toolbar'},
        button('Download CSV', () => download(`pmx-${name}.csv`, toCsv(cols.map(c => c.key), rows)), '', {id: 'csv'})),
      series.length ? h('section', {class: 'card'},
        chart({labels: rows.map(x => fmt.value(x[labelKey.key])), series: series.slice(0, 6), kind, title: name})) : null,
      dataTable(cols, rows, {caption: name}));
  }
}
