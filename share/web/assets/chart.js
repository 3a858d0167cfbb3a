// Small SVG charts for reports and the dashboard: grouped bars or lines, y axis from 0,
// a legend, and a <title> on every mark (the value on hover and for screen readers).
import {h} from './dom.js';

const W = 760, H = 300, PAD = {left: 56, right: 16, top: 16, bottom: 56};

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function short(n) {
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(n % 1e6 ? 1 : 0) + 'M';
  if (Math.abs(n) >= 1e3) return (n / 1e3).toFixed(n % 1e3 ? 1 : 0) + 'k';
  return String(Math.round(n * 100) / 100);
}

// labels: x labels; series: [{name, values: [numbers]}]; kind: 'bar' | 'line'.
export function chart({labels, series, kind = 'bar', title = ''}) {
  const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
  const max = niceMax(Math.max(0, ...series.flatMap(s => s.values.map(v => Number(v) || 0))));
  const y = v => PAD.top + plotH - (Math.max(0, Number(v) || 0) / max) * plotH;
  const n = Math.max(labels.length, 1);
  const slot = plotW / n;
  const svg = h('svg:svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
                            'aria-label': title || 'Chart', preserveAspectRatio: 'xMidYMid meet'});
  if (title) svg.append(h('svg:title', null, title));

  for (let i = 0; i <= 4; i++) {  // grid and y ticks
    const v = (max / 4) * i, yy = y(v);
    svg.append(h('svg:line', {x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy, class: i ? 'grid' : 'axis'}));
    svg.append(h('svg:text', {x: PAD.left - 6, y: yy + 4, class: 'tick', 'text-anchor': 'end'}, short(v)));
  }
  const every = Math.ceil(n / 12);  // at most ~12 x labels
  labels.forEach((l, i) => {
    if (i % every) return;
    const x = PAD.left + slot * (i + 0.5);
    const text = String(l).length > 16 ? String(l).slice(0, 15) + '…' : String(l);
    svg.append(h('svg:text', {x, y: H - PAD.bottom + 16, class: 'tick', 'text-anchor': 'middle'}, text));
  });

  if (kind === 'line') {
    series.forEach((s, si) => {
      const pts = s.values.map((v, i) => `${PAD.left + slot * (i + 0.5)},${y(v)}`).join(' ');
      svg.append(h('svg:polyline', {points: pts, class: `line s${si % 6}`}));
      s.values.forEach((v, i) => svg.append(
        h('svg:circle', {cx: PAD.left + slot * (i + 0.5), cy: y(v), r: 3, class: `dot s${si % 6}`},
          h('svg:title', null, `${s.name}, ${labels[i]}: ${v}`))));
    });
  } else {
    const barW = Math.min(slot * 0.8 / Math.max(series.length, 1), 48);  // few rows: no slabs
    const groupW = barW * series.length;
    series.forEach((s, si) => s.values.forEach((v, i) => {
      const x = PAD.left + slot * i + (slot - groupW) / 2 + barW * si, top = y(v);
      svg.append(h('svg:rect', {x, y: top, width: Math.max(barW - 1, 1), height: PAD.top + plotH - top,
                                class: `bar s${si % 6}`},
                    h('svg:title', null, `${s.name}, ${labels[i]}: ${v}`)));
    }));
  }

  const legend = h('ul', {class: 'legend'},
    series.map((s, si) => h('li', null, h('span', {class: `swatch s${si % 6}`, 'aria-hidden': 'true'}), s.name)));
  return h('figure', {class: 'chart-box'}, svg, series.length > 1 ? legend : null);
}
