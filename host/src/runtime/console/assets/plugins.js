// Plugins: every plugin's versions (loaded here and stored in the store)
// with sha256, calls, faults and call time; activate a version, roll back;
// (mean, and the p99 from the host's histogram, to within 10 %);
// and the shadow and canary reports when the host has them (their routes
// are probed: a host without them shows nothing).

import { get, post, probe, seg } from './api.js';
import { badge, doc, facts, fill, h, num, sha, stateBadge, table, time, toast } from './dom.js';

export const title = 'Plugins';

// Probed once a minute at most: they change slowly.
const PROBE_MS = 60000;
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

function reportPanel(kind, data) {
  return h('section', { class: 'card', 'data-report': kind }, h('h3', {}, kind === 'shadow' ? 'Shadow run' : 'Canary'), doc(data));
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
    r.shadow ? reportPanel('shadow', r.shadow) : null,
    r.canary ? reportPanel('canary', r.canary) : null);
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
  const refresh = async () => {
    const data = await get('plugins');
    if (Date.now() - probed > PROBE_MS) {
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
