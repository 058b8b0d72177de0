// Exceptions: the queue with filters; one exception's violations, document
// and audit trail; approve, reject, retry, replay through a version, or
// resolve, each with a note and recorded under the operator's name.

import { get, post, seg } from './api.js';
import { doc, facts, field, fill, h, more, num, stateBadge, table, time, toast } from './dom.js';

export const title = 'Exceptions';

const STATES = ['open', 'approved', 'rejected', 'retried', 'resolved'];
const ACTOR_KEY = 'waybill.console.actor';

function filters() {
  const p = new URLSearchParams(window.location.search);
  return {
    state: p.has('state') ? p.get('state') : 'open', reason: p.get('reason') || '', prefix: p.get('reason_prefix') || '', id: p.get('id') || '',
  };
}

function filterForm(f) {
  const state = h('select', { name: 'state' }, h('option', { value: '' }, 'any'),
    STATES.map((s) => h('option', { value: s, selected: s === f.state }, s)));
  return h('form', { class: 'inline', method: 'get', action: '/console/exceptions', 'aria-label': 'Filter exceptions' },
    f.prefix ? h('input', { type: 'hidden', name: 'reason_prefix', value: f.prefix }) : null,
    field('State', state), field('Reason', h('input', { name: 'reason', value: f.reason, size: '22', placeholder: 'approval-violation' })),
    h('button', { type: 'submit' }, 'Filter'));
}

function queue(list, current, open) {
  return table('Exception queue', [
    { label: 'Id' }, { label: 'Raised' }, { label: 'Reason' }, { label: 'State' }, { label: 'Business key' },
    { label: 'Route → target' }, { label: 'Seen', num: true }, { label: '' },
  ], list.map((e) => h('tr', { class: String(e.id) === current ? 'selected' : null, 'data-exception': e.id }, [
    String(e.id), time(e.created_at), e.reason, stateBadge(e.state), h('code', {}, e.business_key),
    `${e.route || '—'} → ${e.target || '—'}`, num(e.occurrences),
    h('button', { type: 'button', class: 'secondary', 'aria-label': `Open exception ${e.id}`, onclick: () => open(e.id) }, 'Open'),
  ].map((c) => h('td', {}, c)))), 'The queue is empty for this filter.');
}

function violations(v) {
  const list = Array.isArray(v) ? v : [];
  return table('Violations', [{ label: 'Path' }, { label: 'Code' }, { label: 'Message' }],
    list.map((x) => [h('code', {}, x.path || ''), x.code || '', x.message || '']), 'No violations recorded.');
}

function audit(trail) {
  return h('ol', { class: 'audit', 'aria-label': 'Audit trail' }, trail.map((a) => h('li', { 'data-audit': a.action },
    time(a.at), ' ', h('strong', {}, a.action), ` by ${a.actor}`, a.note ? ` — “${a.note}”` : '',
    a.detail && Object.keys(a.detail).length ? more('What it did', () => doc(a.detail), `audit-${a.at}-${a.action}`) : null)));
}

function actions(e, plugins, done) {
  if (e.state !== 'open') return h('p', { class: 'muted' }, `This exception is ${e.state}; no action is left.`);
  const note = h('textarea', { name: 'note', rows: '2' });
  const actor = h('input', { name: 'actor', value: localStorage.getItem(ACTOR_KEY) || 'console', size: '14', autocomplete: 'username' });
  const version = h('select', { name: 'version' }, h('option', { value: '' }, 'choose a version'),
    plugins.flatMap((p) => (p.versions || []).map((v) => h('option', { value: `${p.name}|${v.version}` }, `${p.name} ${v.version}`))));
  const message = h('p', { 'aria-live': 'polite' });
  const run = async (action) => {
    const body = { note: note.value.trim() || undefined, actor: actor.value.trim() || 'console' };
    if (action === 'resolve' && !body.note) {
      fill(message, h('span', { class: 'error' }, 'Resolving needs a note saying why.'));
      note.focus();
      return;
    }
    if (action === 'replay') {
      if (!version.value) { fill(message, h('span', { class: 'error' }, 'Choose the version to replay through.')); version.focus(); return; }
      [body.plugin, body.version] = version.value.split('|');
    }
    localStorage.setItem(ACTOR_KEY, body.actor);
    try {
      await post(`exceptions/${e.id}/${action}`, body);
      toast(`Exception ${e.id}: ${action} done.`);
      await done();
    } catch (err) {
      fill(message, h('span', { class: 'error', role: 'alert' }, `${action} refused: ${err.message}`));
    }
  };
  const button = (action, label, cls) => h('button', { type: 'button', class: cls, onclick: () => run(action) }, label);
  return h('div', {},
    h('div', { class: 'row' }, field('Note', note), field('Your name', actor)),
    h('div', { class: 'row' }, button('approve', 'Approve'), button('reject', 'Reject', 'danger'), button('retry', 'Retry', 'secondary'),
      button('resolve', 'Resolve', 'secondary')),
    h('div', { class: 'row' }, field('Replay through', version), button('replay', 'Replay', 'secondary')),
    message);
}

function detail(e, plugins, done) {
  return [
    h('h2', { id: 'exception-h', tabindex: '-1' }, `Exception ${e.id}: ${e.reason}`),
    facts([['State', stateBadge(e.state)], ['Business key', h('code', {}, e.business_key)], ['Route', e.route], ['Target', e.target],
      ['Schema', e.schema_id], ['Plugins', (e.plugins || []).map((p) => p.plugin).join(', ')], ['Raised', time(e.created_at)],
      ['Changed', time(e.updated_at)],
      ['Message', e.correlation_id ? h('a', { href: `/console/messages?${new URLSearchParams({ q: e.correlation_id, cid: e.correlation_id })}` }, 'Whole timeline') : null]]),
    h('h3', {}, 'Violations'), violations(e.violations),
    h('h3', {}, 'Document'), e.document ? doc(e.document) : h('p', { class: 'empty' }, 'No document is held.'),
    e.detail && Object.keys(e.detail).length ? more('Detail', () => doc(e.detail), 'detail') : null,
    h('h3', {}, 'Act'), actions(e, plugins, done),
    h('h3', {}, 'Audit trail'), audit(e.audit || []),
  ];
}

export async function render(root) {
  const f = filters();
  const plugins = (await get('plugins')).plugins;
  const list = h('div', {});
  const pane = h('section', { class: 'card', 'aria-live': 'polite', id: 'exception' }, h('p', { class: 'empty' }, 'Open an exception to see it here.'));
  let current = f.id;
  let rows = [];
  const drawQueue = () => fill(list, queue(rows, current, open));
  async function open(id) {
    current = String(id);
    const e = await get(`exceptions/${seg(current)}`);
    fill(pane, detail(e, plugins, async () => { await open(id); await refresh(); }));
    drawQueue();
    pane.querySelector('#exception-h').focus();
  }
  const refresh = async () => {
    const q = new URLSearchParams();
    if (f.state) q.set('state', f.state);
    if (f.reason) q.set('reason', f.reason);
    if (f.prefix) q.set('reason_prefix', f.prefix);
    rows = (await get(`exceptions?${q}`)).exceptions;
    drawQueue();
  };
  fill(root, h('section', { class: 'card' }, filterForm(f), f.prefix ? h('p', {}, `Reasons starting with ${f.prefix} only. `, h('a', { href: '/console/exceptions' }, 'All reasons')) : null), h('div', { class: 'split' }, h('section', {}, list), pane));
  await refresh();
  if (current) await open(current);
  return refresh;
}
