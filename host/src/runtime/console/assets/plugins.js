// Plugins: every plugin's versions (loaded here and stored in the store)
// with sha256, calls, faults and call time; activate a version, roll back;
// (mean, and the p99 from the host's histogram, to within 10 %);
// and the shadow and canary reports when the host has them (their routes
// are probed: a host without them shows nothing).

import { get, post, probe, seg } from './api.js';
import { badge, doc, facts, fill, h, more, num, sha, stateBadge, table, time, toast } from './dom.js';

export const title = 'Plugins';

// Probed every 15 s at most (two requests per plugin), and at once after
// an action on them.
const PROBE_MS = 15000;
const reports = new Map();

async function act(what, path, body, confirmText) {
  if (!window.confirm(confirmText)) return;
  try {
    const r = await post(path, body);
    toast(`${what}: ${r.active} is active (decision ${r.seq}).`);
  } catch (e) {
    toast(`${what} refused: ${e.message}`, true);
  }
}

function meanMicros(v) {
  return v.calls ? `${Math.round(v.call_micros / v.calls)} µs` : '—';
}

function versionsTable(p, refresh) {
  const loaded = p.versions || [];
  const rows = loaded.map((v) => [
    h('strong', {}, v.version), sha(v.sha256), v.active ? badge('active', 'ok') : '', stateBadge(v.health),
    num(v.calls), num(v.faults), meanMicros(v),
    typeof v.p99_call_micros === 'number' ? `≈ ${num(v.p99_call_micros)} µs` : '—',
    v.contract || '',
    v.active ? '' : h('button', {
      type: 'button', class: 'secondary', 'aria-label': `Activate ${p.name} ${v.version}`,
      onclick: async () => { await act('Activate', `plugins/${seg(p.name)}/activate`, { version: v.version }, `Activate ${p.name} ${v.version} on every host?`); await refresh(); },
    }, 'Activate'),
  ]);
  const loadedShas = new Set(loaded.map((v) => v.sha256));
  for (const s of p.stored || []) {
    if (loadedShas.has(s.sha256)) continue;
    rows.push([h('strong', {}, s.version), sha(s.sha256), badge('stored', 'neutral'), '', '—', '—', '—', '—', '',
      h('button', {
        type: 'button', class: 'secondary', 'aria-label': `Activate ${p.name} ${s.version}`,
        onclick: async () => { await act('Activate', `plugins/${seg(p.name)}/activate`, { version: s.sha256 }, `Activate ${p.name} ${s.version} on every host?`); await refresh(); },
      }, 'Activate')]);
  }
  return table(`Versions of ${p.name}`, [
    { label: 'Version' }, { label: 'sha256' }, { label: 'State' }, { label: 'Health' }, { label: 'Calls', num: true },
    { label: 'Faults', num: true }, { label: 'Mean call', num: true }, { label: 'p99 call' }, { label: 'Contract' }, { label: 'Action' },
  ], rows, 'No version loaded.');
}

function actionButton(label, aria, what, path, confirmText, refresh) {
  return h('button', {
    type: 'button', class: 'secondary', 'aria-label': aria,
    onclick: async () => {
      if (!window.confirm(confirmText)) return;
      try {
        await post(path, {});
        toast(`${what} done.`);
      } catch (e) {
        toast(`${what} refused: ${e.message}`, true);
      }
      await refresh(true);
    },
  }, label);
}

/** GET .../{name}/canary: the newest canary, its end, this host's split. */
function canaryPanel(name, data, refresh) {
  const c = data.canary || {};
  const here = c.this_host || {};
  const ended = c.ended;
  return h('section', { class: 'card', 'data-report': 'canary', 'aria-label': `Canary of ${name}` },
    h('div', { class: 'row' }, h('h3', {}, `Canary: ${c.version || '?'} on ${c.percent}% of business keys`),
      c.running ? badge('running', 'warn') : badge(ended ? ended.outcome : 'ended', 'neutral'),
      c.running ? [
        actionButton('Promote', `Promote the canary of ${name}`, 'Promote', `plugins/${seg(name)}/promote`, `Make ${name} ${c.version} the active version everywhere?`, refresh),
        actionButton('Abort', `Abort the canary of ${name}`, 'Abort', `plugins/${seg(name)}/abort`, `Send all of ${name}'s traffic back to the active version?`, refresh),
      ] : null),
    facts([['Started', h('span', {}, `by ${c.started_by} `, time(c.started_at))],
      ['Ended', ended ? `${ended.outcome}${ended.automatic ? ' (automatic)' : ''} by ${ended.host}: ${ended.reason}` : null],
      ['This host', here.state ? `${here.host}: ${here.state}${here.refused ? ` (${here.refused})` : ''}` : null]]),
    here.candidate || here.active ? table(`Canary calls of ${name} on this host`, [{ label: 'Side' }, { label: 'Calls', num: true }, { label: 'Errors', num: true }, { label: 'Error rate', num: true }],
      [['candidate', here.candidate], ['active', here.active]].filter(([, v]) => v).map(([side, v]) => [side, num(v.calls), num(v.errors),
        typeof v.error_rate === 'number' ? `${(v.error_rate * 100).toFixed(2)} %` : '—'])) : null,
    more('The canary as the host reports it', () => doc(data), `canary-${name}`));
}

/** GET .../{name}/shadow: the latest shadow run, every host's counts merged. */
function shadowPanel(name, data, refresh) {
  const r = data.report || {};
  const run = data.run || {};
  return h('section', { class: 'card', 'data-report': 'shadow', 'aria-label': `Shadow run of ${name}` },
    h('div', { class: 'row' }, h('h3', {}, `Shadow run: ${run.version || run.sha256 || '?'} beside the active version`),
      data.running ? badge('running', 'warn') : badge('stopped', 'neutral'),
      data.running ? actionButton('Stop', `Stop the shadow run of ${name}`, 'Stop', `plugins/${seg(name)}/shadow-stop`, `Stop comparing ${name}'s candidate?`, refresh) : null),
    facts([['Compared', num(r.compared)], ['Identical', num(r.identical)], ['Different', num(r.different)],
      ['Hosts', (data.hosts || []).map((x) => h('div', {}, `${x.host}: ${x.refused ? `refused (${x.refused})` : `${num(x.compared)} compared, ${num(x.dropped)} dropped`}`))]]),
    r.by_pointer && Object.keys(r.by_pointer).length ? table(`Where ${name}'s candidate differs`, [{ label: 'Pointer' }, { label: 'Calls', num: true }],
      Object.entries(r.by_pointer).map(([ptr, n]) => [h('code', {}, ptr), num(n)])) : null,
    more('The whole report (errors, latency, examples)', () => doc(data), `shadow-${name}`));
}

function card(p, refresh) {
  const info = p.info || {};
  const d = p.decision;
  const r = reports.get(p.name) || {};
  return h('section', { class: 'card', id: `plugin-${p.name}`, 'aria-labelledby': `plugin-${p.name}-h` },
    h('div', { class: 'row' },
      h('h2', { id: `plugin-${p.name}-h` }, p.name),
      h('span', {}, p.active ? `active ${p.active}` : 'no active version'),
      h('button', {
        type: 'button', 'aria-label': `Roll back ${p.name}`,
        onclick: async () => { await act('Roll back', `plugins/${seg(p.name)}/rollback`, {}, `Roll ${p.name} back to its previous version on every host?`); await refresh(); },
      }, 'Roll back')),
    facts([
      ['Role', info.role], ['Consumes', (info.consumes || []).join(', ')], ['Produces', (info.produces || []).join(', ')],
      ['Store decision', d ? h('span', {}, `${d.action} ${d.version} (seq ${d.seq}) by ${d.host} `, time(d.decided_at)) : 'none (directory version)'],
      ['Last refusal', p.last_refusal],
      ['Hosts', (p.hosts || []).map((x) => h('div', {}, `${x.host}: `, stateBadge(x.state), ` ${x.detail}`))],
    ]),
    versionsTable(p, refresh),
    r.canary ? canaryPanel(p.name, r.canary, refresh) : null,
    r.shadow ? shadowPanel(p.name, r.shadow, refresh) : null);
}

async function probeReports(plugins) {
  await Promise.all(plugins.map(async (p) => {
    const [shadow, canary] = await Promise.all([
      probe(`plugins/${seg(p.name)}/shadow`),
      probe(`plugins/${seg(p.name)}/canary`),
    ]);
    reports.set(p.name, { shadow, canary });
  }));
}

export async function render(root) {
  let probed = 0;
  const list = h('div', {});
  fill(root, h('p', { class: 'muted' }, 'Activate and roll back are store-wide: every host on the store follows the decision.'), list);
  const refresh = async (probeNow = false) => {
    const data = await get('plugins');
    if (probeNow === true || Date.now() - probed > PROBE_MS) {
      probed = Date.now();
      await probeReports(data.plugins);
    }
    const focused = document.activeElement && document.activeElement.getAttribute('aria-label');
    fill(list, data.plugins.map((p) => card(p, refresh)));
    if (focused) {
      const again = [...list.querySelectorAll('button')].find((b) => b.getAttribute('aria-label') === focused);
      if (again) again.focus();
    }
  };
  await refresh();
  if (window.location.hash) document.getElementById(window.location.hash.slice(1))?.scrollIntoView();
  return refresh;
}
