// Reconciliation: the last runs with their findings by kind, the
// exceptions they raised, and a button that starts a run now.

import { get, post } from './api.js';
import { fill, h, num, table, time, toast } from './dom.js';

export const title = 'Reconciliation';

function findings(report) {
  const kinds = Object.entries(report.findings || {});
  return table(`Findings of run ${report.run_id}`, [{ label: 'Kind' }, { label: 'Count', num: true }],
    kinds.map(([k, n]) => [k, n ? h('strong', {}, num(n)) : '0']), 'No findings recorded.');
}

function runs(list) {
  return table('Reconciliation runs', [
    { label: 'Run' }, { label: 'Finished' }, { label: 'Kind' }, { label: 'Records', num: true }, { label: 'Groups', num: true },
    { label: 'Findings', num: true }, { label: 'Took', num: true },
  ], list.map((r) => [String(r.id), time(r.finished_at), r.report.incremental ? `incremental since ${r.report.since}` : 'full',
    num(r.report.records), num(r.report.groups_compared), num(r.report.findings_total), `${num(r.report.duration_ms)} ms`]),
  'No run yet.');
}

export async function render(root) {
  const list = h('div', {});
  const latest = h('div', {});
  const status = h('p', { 'aria-live': 'polite' });
  const start = h('button', { type: 'button' }, 'Start a run now');
  start.addEventListener('click', async () => {
    start.disabled = true;
    fill(status, h('progress', { 'aria-label': 'Reconciling' }), ' Reading every system\'s snapshot and comparing…');
    try {
      const run = await post('reconcile/run');
      fill(status, `Run ${run.id} finished: ${run.summary || ''}`);
      toast(`Reconciliation run ${run.id} finished.`);
    } catch (e) {
      fill(status, h('span', { class: 'error', role: 'alert' }, `Not started: ${e.message}`));
    } finally {
      start.disabled = false;
    }
    await refresh();
  });
  const refresh = async () => {
    const data = (await get('reconcile/runs')).runs;
    fill(list, runs(data));
    fill(latest, data.length ? [h('h2', {}, `Findings of the latest run (${data[0].id})`), findings(data[0].report)] : null);
  };
  fill(root,
    h('section', { class: 'card' }, h('div', { class: 'row' }, start,
      h('a', { href: '/console/exceptions?state=open&reason_prefix=recon-' }, 'Open exceptions (reconciliation raises recon-* exceptions)')), status),
    h('section', { class: 'card' }, latest), h('section', {}, h('h2', {}, 'Runs'), list));
  await refresh();
  return refresh;
}
