// Formatting values for display (plain strings; the caller puts them in text nodes).

// Local time as 2026-11-25 15:34:18: compact, sortable, unambiguous in every language.
export function time(us) {
  if (us === null || us === undefined || us === 0 || us === '') return '–';
  const d = new Date(Number(us) / 1000);
  if (Number.isNaN(d.getTime())) return String(us);
  const p = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function bytes(n) {
  if (n === null || n === undefined || n === '') return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n), i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + units[i];
}

export function score(s) {
  if (s === null || s === undefined || s === '') return '–';
  const n = Number(s);
  return Number.isFinite(n) ? n.toFixed(1) : String(s);
}

export function list(items, sep = ', ') {
  return Array.isArray(items) ? items.map(value).join(sep) : value(items);
}

// Any JSON value as short text (objects as compact JSON).
export function value(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.map(value).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function plural(n, one, many = one + 's') { return `${n} ${n === 1 ? one : many}`; }

// The state of a quarantined message: held, released, partly released.
export function qstate(m) {
  const states = m.recipient_states || [];
  if (!states.length) return m.held === false ? 'released' : 'held';
  const released = states.filter(s => s.released).length;
  return released === 0 ? 'held' : released === states.length ? 'released' : 'partly released';
}

// Words for ids in field names: "last_hour" → "Last hour".
export function label(key) {
  const s = String(key).replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
