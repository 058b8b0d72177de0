// Dead letters: filter, inspect, and replay the selected ones or all that
// the filter selects, through the active plugin versions or a chosen one;
// the replay's report, then each replayed message's deliveries as they go.

import { get, post, seg } from './api.js';
import { doc, facts, field, fill, h, num, stateBadge, table, time, toast } from './dom.js';

export const title = 'Dead letters';

const selected = new Set();
const inspected = new Set();

function filters() {
  const p = new URLSearchParams(window.location.search);
  return {
    route: p.get('route') || '', target: p.get('target') || '', reason: p.get('reason') || '',
    include_replayed: p.get('include_replayed') === 'true', id: p.get('id') || '',
  };
}

function select(name, label, current, options) {
  const s = h('select', { name }, h('option', { value: '' }, 'any'),
    options.map((o) => h('option', { value: o, selected: o === current }, o)));
  return field(label, s);
}

function filterForm(f, overview) {
  const routes = overview.routes.map((r) => r.name);
  const targets = overview.targets.map((t) => t.name);
  const reasons = Object.keys(overview.dead_letters);
  const replayed = h('input', { type: 'checkbox', name: 'include_replayed', value: 'true', checked: f.include_replayed });
  return h('form', { class: 'inline', method: 'get', action: '/console/dead-letters', 'aria-label': 'Filter dead letters' },
    select('route', 'Route', f.route, routes), select('target', 'Target', f.target, targets),
    field('Reason', h('input', { name: 'reason', value: f.reason, list: 'reasons', size: '18' })),
    h('datalist', { id: 'reasons' }, reasons.map((r) => h('option', { value: r }))),
    field('Include replayed', replayed, 'check'),
    h('button', { type: 'submit' }, 'Filter'));
}

function versionChoice(plugins) {
  const s = h('select', { name: 'version' }, h('option', { value: '' }, 'the active versions'),
    plugins.flatMap((p) => (p.versions || []).map((v) => h('option', { value: `${p.name}|${v.version}` }, `${p.name} ${v.version}${v.active ? ' (active)' : ''}`))));
  s.id = 'replay-version';
  return s;
}

function inspect(l) {
  return h('tr', { class: 'detail' }, h('td', { colspan: '10' },
    facts([['Message', h('code', {}, l.message_id)], ['Source', l.source], ['Last response', l.last_response],
      ['Plugin', l.plugin], ['Replayed', l.replayed_at ? time(l.replayed_at) : 'not yet']]),
    h('a', { href: `/console/messages?${new URLSearchParams({ q: l.correlation_id, cid: l.correlation_id })}` }, 'Whole timeline'),
    doc(l.detail)));
}

function rows(letters, redraw) {
  const out = [];
  for (const l of letters) {
    const box = h('input', {
      type: 'checkbox', checked: selected.has(l.id), disabled: !!l.replayed_at, 'aria-label': `Select dead letter ${l.id}`,
      onchange: (e) => { if (e.target.checked) selected.add(l.id); else selected.delete(l.id); redraw(); },
    });
    const open = inspected.has(l.id);
    out.push(h('tr', { class: selected.has(l.id) ? 'selected' : null, 'data-dead-letter': l.id },
      [box, String(l.id), time(l.created_at), l.route || '—', l.target || '—', l.reason, num(l.attempts),
        l.last_status ? String(l.last_status) : '—', l.replayed_at ? stateBadge('retried') : stateBadge('dead'),
        h('button', {
          type: 'button', class: 'secondary', 'aria-expanded': String(open), 'aria-label': `Inspect dead letter ${l.id}`,
          onclick: () => { if (open) inspected.delete(l.id); else inspected.add(l.id); redraw(); },
        }, open ? 'Hide' : 'Inspect')].map((c) => h('td', {}, c))));
    if (open) out.push(inspect(l));
  }
  return out;
}

async function follow(progress, report) {
  // The deliveries each replay made: the newest of its message's outbox
  // entries (the dead one it replaced stays in the timeline).
  const cids = [...new Set(report.replayed.map((r) => r.correlation_id))];
  const timelines = new Map(await Promise.all(cids.map(async (cid) => [cid, (await get(`messages/${seg(cid)}`)).deliveries])));
  const all = report.replayed.flatMap((r) => {
    const mine = (timelines.get(r.correlation_id) || []).filter((d) => d.message_id === r.message_id);
    return r.deliveries ? mine.slice(-r.deliveries) : [];
  });
  const count = (s) => all.filter((d) => d.state === s).length;
  const delivered = count('delivered');
  fill(progress,
    h('p', {}, `Replayed ${report.replayed.length}, skipped ${report.skipped.length}`,
      report.replayed.some((r) => r.failed_again) ? `, ${report.replayed.reduce((a, r) => a + r.failed_again, 0)} failed again` : '', '.'),
    all.length ? h('div', { class: 'progress' },
      h('progress', { max: String(all.length), value: String(delivered), 'aria-label': 'Deliveries of the replayed messages' }),
      h('span', { 'data-replay-progress': `${delivered}/${all.length}` }, `${delivered} of ${all.length} deliveries delivered, ${count('pending') + count('inflight')} waiting, ${count('dead')} dead`)) : null,
    report.skipped.length ? table('Skipped', [{ label: 'Dead letter' }, { label: 'Why' }], report.skipped.map((s) => [String(s.dead_letter), s.reason])) : null);
  return all.length > 0 && count('pending') + count('inflight') === 0;
}

export async function render(root) {
  const f = filters();
  const [overview, plugins] = await Promise.all([get('overview'), get('plugins')]);
  const list = h('div', {});
  const progress = h('div', { 'aria-live': 'polite', id: 'replay-progress' });
  const version = versionChoice(plugins.plugins);
  let letters = [];
  let following = null;
  const selectedButton = h('button', { type: 'button' }, 'Replay selected');
  const allButton = h('button', { type: 'button', class: 'secondary' }, 'Replay all matching');
  const redraw = () => {
    fill(list, table('Dead letters', [
      { label: 'Select' }, { label: 'Id' }, { label: 'Created' }, { label: 'Route' }, { label: 'Target' }, { label: 'Reason' },
      { label: 'Attempts', num: true }, { label: 'Last status' }, { label: 'State' }, { label: 'Inspect' },
    ], rows(letters, redraw), 'No dead letters match.'));
    selectedButton.textContent = `Replay selected (${selected.size})`;
    selectedButton.disabled = selected.size === 0;
    allButton.disabled = letters.filter((l) => !l.replayed_at).length === 0;
  };
  const replay = async (body, what) => {
    if (!window.confirm(`Replay ${what}?`)) return;
    const [plugin, ver] = version.value ? version.value.split('|') : [];
    if (plugin) Object.assign(body, { plugin, version: ver });
    fill(progress, h('div', { class: 'progress' }, h('progress', { 'aria-label': 'Replaying' }), `Replaying ${what}…`));
    try {
      const report = await post('dead-letters/replay', body);
      selected.clear();
      following = report;
      toast(`Replayed ${report.replayed.length} dead letter${report.replayed.length === 1 ? '' : 's'}.`);
      if (await follow(progress, report)) following = null;
    } catch (e) {
      fill(progress, h('p', { class: 'error', role: 'alert' }, `Replay refused: ${e.message}`));
    }
    await refresh();
  };
  selectedButton.addEventListener('click', () => replay({ ids: [...selected] }, `${selected.size} selected dead letter${selected.size === 1 ? '' : 's'}`));
  allButton.addEventListener('click', () => replay({ all: true, route: f.route || undefined, target: f.target || undefined, reason: f.reason || undefined }, 'every dead letter that matches the filter'));
  const refresh = async () => {
    const q = new URLSearchParams();
    for (const k of ['route', 'target', 'reason']) if (f[k]) q.set(k, f[k]);
    if (f.include_replayed) q.set('include_replayed', 'true');
    letters = (await get(`dead-letters?${q}`)).dead_letters;
    if (f.id) letters = letters.filter((l) => String(l.id) === f.id);
    redraw();
    if (following && await follow(progress, following)) following = null;
  };
  fill(root,
    h('section', { class: 'card' }, filterForm(f, overview), f.id ? h('p', {}, `Showing dead letter ${f.id} only. `, h('a', { href: '/console/dead-letters' }, 'Show all')) : null),
    h('section', { class: 'card', 'aria-labelledby': 'replay-h' }, h('h2', { id: 'replay-h' }, 'Replay'),
      h('div', { class: 'row' }, field('Through', version), selectedButton, allButton), progress),
    list);
  await refresh();
  return refresh;
}
