// CSV built in the browser from the rows on screen (RFC 4180 quoting), offered as a download.
// Cells starting with = + - @ get a leading ' so spreadsheets do not run them as formulas.

function cell(v) {
  let s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function toCsv(keys, rows) {
  const lines = [keys.map(cell).join(',')];
  for (const r of rows) lines.push(keys.map(k => cell(r[k])).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function download(filename, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], {type}));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
