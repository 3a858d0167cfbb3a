// Data tables: column headers with scope, cells as text, optional row checkboxes.
import {h} from './dom.js';
import * as fmt from './format.js';

// columns: [{key, label, render?(row) → string|Node, numeric?}]
// options: {empty, caption, selectable (row → id), selectLabel (row → text), onSelect(ids), rowClass(row)}
export function dataTable(columns, rows, options = {}) {
  const selected = new Set();
  const boxes = [];
  const notify = () => options.onSelect && options.onSelect([...selected]);
  let all = null;
  if (options.selectable) {
    all = h('input', {type: 'checkbox', 'aria-label': 'Select all', onchange: () => {
      for (const [box, id] of boxes) { box.checked = all.checked; all.checked ? selected.add(id) : selected.delete(id); }
      notify();
    }});
  }
  const head = h('tr', null,
    options.selectable ? h('th', {scope: 'col', class: 'check'}, all) : null,
    columns.map(c => h('th', {scope: 'col', class: c.numeric ? 'num' : null}, c.label ?? fmt.label(c.key))));
  const body = h('tbody');
  for (const row of rows) {
    const tr = h('tr', {class: options.rowClass ? options.rowClass(row) : null});
    if (options.selectable) {
      const id = options.selectable(row);
      const box = h('input', {type: 'checkbox', 'aria-label': options.selectLabel ? options.selectLabel(row) : `Select ${id}`, onchange: () => {
        box.checked ? selected.add(id) : selected.delete(id);
        all.checked = selected.size === boxes.length;
        notify();
      }});
      boxes.push([box, id]);
      tr.append(h('td', {class: 'check'}, box));
    }
    for (const c of columns) {
      const v = c.render ? c.render(row) : fmt.value(row[c.key]);
      tr.append(h('td', {class: c.numeric ? 'num' : null, 'data-label': c.label ?? fmt.label(c.key)}, v));
    }
    body.append(tr);
  }
  if (!rows.length) {
    body.append(h('tr', null, h('td', {colspan: columns.length + (options.selectable ? 1 : 0), class: 'empty'},
                                  options.empty || 'Nothing to show')));
  }
  return h('div', {class: 'table-wrap'},
    h('table', {class: 'stack'}, options.caption ? h('caption', null, options.caption) : null, h('thead', null, head), body));
}

// Columns for an array of objects whose shape is not known in advance: every key whose values
// are scalars (or short lists), in first-seen order.
export function autoColumns(rows, skip = []) {
  const keys = [];
  for (const r of rows.slice(0, 50)) {
    for (const [k, v] of Object.entries(r || {})) {
      if (skip.includes(k) || keys.includes(k)) continue;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) continue;
      keys.push(k);
    }
  }
  return keys.map(k => ({key: k, numeric: rows.some(r => typeof r[k] === 'number')}));
}

// Key/value pairs as a description list.
export function details(pairs) {
  return h('dl', {class: 'details'},
    pairs.filter(p => p).map(([k, v]) => [h('dt', null, k), h('dd', null, v instanceof Node ? v : fmt.value(v))]));
}

// Any JSON value, readable (a <pre> of indented JSON).
export function jsonBlock(v) {
  return h('pre', {class: 'json'}, JSON.stringify(v, null, 2));
}
