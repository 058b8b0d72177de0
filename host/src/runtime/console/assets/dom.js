// Building the page from data without ever parsing data as HTML: every
// text goes in through textContent, so nothing a partner sent can run.

/** An element: h('td', {class: 'num', onclick: fn}, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table: columns [{label, num}], rows of cells (nodes or text). */
export function table(caption, columns, rows, empty = 'Nothing here.') {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
      h('tbody', {}, rows.map((r) => r instanceof Node ? r : h('tr', {}, r.map((cell, i) => h('td', { class: columns[i] && columns[i].num ? 'num' : null }, cell)))))));
}

/** A JSON document, pretty-printed. */
export function doc(value) {
  let text = value;
  if (typeof value !== 'string') text = JSON.stringify(value, null, 2);
  else {
    try { text = JSON.stringify(JSON.parse(value), null, 2); } catch { /* not JSON: as sent */ }
  }
  return h('pre', { tabindex: '0' }, text);
}

/** A <details> with `summary` that shows `body()` when opened. */
export function more(summary, body, key) {
  const d = h('details', { 'data-key': key || summary }, h('summary', {}, summary));
  let built = false;
  d.addEventListener('toggle', () => {
    if (d.open && !built) { built = true; append(d, [body()]); }
  });
  return d;
}

/** Facts as a definition list: [[label, value], ...]; empty values left out. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs
    .filter(([, v]) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** A state badge; `kind` ok | warn | bad | neutral. */
export function badge(text, kind = 'neutral') {
  return h('span', { class: `badge ${kind}` }, text);
}

const STATES = {
  delivered: 'ok', processed: 'ok', closed: 'ok', approved: 'ok', resolved: 'ok', healthy: 'ok', completed: 'ok',
  pending: 'warn', inflight: 'warn', received: 'warn', open: 'warn', 'half-open': 'warn', retried: 'warn',
  dead: 'bad', rejected: 'bad', quarantined: 'bad', failed: 'bad', duplicate: 'neutral',
};

/** A badge coloured by what the state means. */
export function stateBadge(state) {
  return badge(state, STATES[state] || 'neutral');
}

/** Milliseconds since the epoch as local date and time. */
export function time(ms) {
  if (ms === undefined || ms === null) return '';
  const d = new Date(ms);
  return h('time', { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
}

/** A sha256, shortened, whole in its title. */
export function sha(hex) {
  if (!hex) return '';
  return h('code', { title: hex }, hex.slice(0, 12));
}

/** A number with thousands separators. */
export function num(n) {
  return n === undefined || n === null ? '—' : Number(n).toLocaleString();
}

/** Shows `message` in the toast for a few seconds. */
export function toast(message, error = false) {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.className = `toast show${error ? ' error' : ''}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = 'toast'; }, error ? 9000 : 5000);
}

/** A labelled form field around `input`. */
export function field(label, input, extraClass = '') {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h('div', { class: `field ${extraClass}` }, h('label', { for: id }, label), input);
}

/** A line chart of one or two series as an SVG sparkline. */
export function spark(label, first, second) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 160 32');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const all = [...first, ...(second || [])];
  const max = Math.max(1, ...all);
  for (const [series, cls] of [[first, ''], [second, 'second']]) {
    if (!series || series.length < 2) continue;
    const step = 160 / (series.length - 1);
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', series.map((v, i) => `${(i * step).toFixed(1)},${(30 - (v / max) * 28).toFixed(1)}`).join(' '));
    if (cls) line.setAttribute('class', cls);
    svg.append(line);
  }
  return svg;
}
