// Building the page with DOM APIs only: every piece of data becomes a text node or an
// attribute value, never markup (the pages never use innerHTML with data).
const SVG_NS = 'http://www.w3.org/2000/svg';
const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'multiple', 'required', 'open']);

// h('button', {class: 'primary', onclick: fn}, 'Release') → <button class="primary">Release</button>
// Children: strings and numbers (text), nodes, arrays of them, null/false (skipped).
export function h(tag, props, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'innerHTML' || k === 'outerHTML' || k === 'style') throw new Error(`h(): ${k} is not allowed`);
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (!svg && PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces everything in el with children.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let idCounter = 0;
export function uid(prefix = 'f') { return `${prefix}-${++idCounter}`; }

// A labelled form field: field('Sender', h('input', {name: 'sender'})) → <div class="field"><label>..</label><input></div>
export function field(label, control, hint) {
  if (!control.id) control.id = uid();
  return h('div', {class: 'field'},
    h('label', {for: control.id}, label),
    control,
    hint ? h('small', {class: 'hint'}, hint) : null);
}

export function input(name, props = {}) {
  return h('input', {name, type: 'text', autocomplete: 'off', ...props});
}

export function select(name, options, value) {
  return h('select', {name},
    options.map(o => {
      const [v, label] = Array.isArray(o) ? o : [o, o];
      return h('option', {value: v, selected: v === value}, label);
    }));
}

export function button(label, onclick, cls = '', props = {}) {
  return h('button', {type: 'button', class: cls, onclick, ...props}, label);
}

// The values of a form's named controls, as strings (checkboxes: booleans); empty ones dropped.
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox') out[el.name] = el.checked;
    else if (el.value.trim() !== '') out[el.name] = el.value.trim();
  }
  return out;
}

// A status line for the outcome of an action: role=status so screen readers announce it.
export function notice(el, text, kind = 'info') {
  replace(el, text);
  el.className = `notice ${kind}`;
  el.hidden = !text;
}

export function spinner(text = 'Loading…') {
  return h('p', {class: 'loading', role: 'status'}, text);
}
