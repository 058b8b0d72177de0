// Overview: the business KPIs (as far as the host computes them), then per
// target the rate, errors, backlog and breaker, per route its source and
// targets, and what waits for a person. Rates and the charts come from the
// differences between polls, kept in this tab for up to an hour.

import { get } from './api.js';
import { badge, fill, h, num, spark, stateBadge, table } from './dom.js';

export const title = 'Overview';

const HISTORY_KEY = 'waybill.overview.history';
const HOUR_MS = 3600 * 1000;

// The KPIs of issue 14. The host reports them under `kpis` in
// GET /admin/v1/overview once it computes them; until then each card says so.
const KPIS = [
  { key: 'shipment_event_latency_seconds', label: 'Shipment event latency', show: (v) => `p50 ${secs(v.p50)} · p99 ${secs(v.p99)}` },
  { key: 'invoices_touchless_ratio', label: 'Invoices posted without manual touch', show: pct },
  { key: 'charge_discrepancy_ratio', label: 'Charge discrepancy rate', show: pct },
  { key: 'order_to_cash_completeness_ratio', label: 'Order-to-cash completeness', show: pct },
];

function pct(v) { return typeof v === 'number' ? `${(v * 100).toFixed(1)} %` : '—'; }
function secs(v) { return typeof v === 'number' ? (v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(1)} s`) : '—'; }

function history() {
  try { return JSON.parse(sessionStorage.getItem(HISTORY_KEY)) || []; } catch { return []; }
}

function remember(data) {
  const now = Date.now();
  const samples = history().filter((s) => now - s.t < HOUR_MS);
  const targets = {};
  for (const t of data.targets) {
    targets[t.name] = { delivered: t.deliveries.delivered || 0, dead: t.deliveries.dead || 0, backlog: t.backlog };
  }
  samples.push({ t: now, targets });
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify(samples));
  return samples;
}

/** Per minute, between consecutive samples, for one target's counter. */
function rates(samples, target, field) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1].targets[target];
    const b = samples[i].targets[target];
    const minutes = (samples[i].t - samples[i - 1].t) / 60000;
    if (!a || !b || minutes <= 0) continue;
    out.push(Math.max(0, (b[field] - a[field]) / minutes));
  }
  return out;
}

function kpiCards(kpis) {
  return h('div', { class: 'grid' }, KPIS.map((k) => {
    const v = kpis && kpis[k.key];
    return v === undefined
      ? h('div', { class: 'card kpi placeholder', 'data-kpi': k.key },
        h('div', {}, k.label), h('div', { class: 'value' }, '—'),
        h('div', { class: 'note' }, 'Not computed by this host yet (business KPI metrics, issue 14).'))
      : h('div', { class: 'card kpi', 'data-kpi': k.key },
        h('div', {}, k.label), h('div', { class: 'value' }, k.show(v)));
  }));
}

function breaker(state) {
  return badge(state, state === 'closed' ? 'ok' : state === 'open' ? 'bad' : state === 'half-open' ? 'warn' : 'neutral');
}

function targetsTable(data, samples) {
  const span = samples.length > 1 ? Math.round((samples[samples.length - 1].t - samples[0].t) / 60000) : 0;
  const rows = data.targets.map((t) => {
    const delivered = rates(samples, t.name, 'delivered');
    const dead = rates(samples, t.name, 'dead');
    const backlog = samples.map((s) => (s.targets[t.name] || {}).backlog || 0);
    const last = (xs) => (xs.length ? xs[xs.length - 1].toFixed(1) : '—');
    return [
      h('strong', {}, t.name),
      last(delivered),
      last(dead),
      num(t.backlog),
      num(t.deliveries.delivered || 0),
      num(t.deliveries.dead || 0),
      num(t.attempts),
      breaker(t.breaker),
      spark(`${t.name}: delivered per minute (blue) and dead per minute (red)`, delivered, dead),
      spark(`${t.name}: backlog`, backlog),
    ];
  });
  return [
    h('p', { class: 'muted' }, `Rates are per minute between this page's updates; charts cover the ${span ? `last ${span} min` : 'time since this page opened'} (up to an hour).`),
    table('Targets', [
      { label: 'Target' }, { label: 'Delivered / min', num: true }, { label: 'Dead / min', num: true },
      { label: 'Backlog', num: true }, { label: 'Delivered', num: true }, { label: 'Dead', num: true },
      { label: 'Attempts', num: true }, { label: 'Breaker' }, { label: 'Rate' }, { label: 'Backlog' },
    ], rows, 'No targets are configured.'),
  ];
}

function routesTable(data) {
  return table('Routes', [{ label: 'Route' }, { label: 'Source' }, { label: 'Inbound plugin' }, { label: 'Targets (outbound plugin)' }],
    data.routes.map((r) => [
      h('strong', {}, r.name), r.source, r.inbound || '—',
      r.targets.map((t) => h('div', {}, `${t.target} (${t.outbound})`)),
    ]), 'No routes are configured.');
}

function waiting(data) {
  const open = data.exceptions.filter((e) => e.state === 'open');
  const deadTotal = Object.values(data.dead_letters).reduce((a, b) => a + b, 0);
  return h('div', { class: 'split' },
    h('section', { class: 'card' }, h('h2', {}, 'Dead letters not replayed'),
      h('p', {}, h('a', { href: '/console/dead-letters' }, `${num(deadTotal)} dead letter${deadTotal === 1 ? '' : 's'}`)),
      table('Dead letters by reason', [{ label: 'Reason' }, { label: 'Count', num: true }],
        Object.entries(data.dead_letters).map(([reason, n]) => [reason, num(n)]), 'None.')),
    h('section', { class: 'card' }, h('h2', {}, 'Exceptions'),
      h('p', {}, h('a', { href: '/console/exceptions?state=open' }, `${num(open.reduce((a, e) => a + e.count, 0))} open`)),
      table('Exceptions by reason and state', [{ label: 'Reason' }, { label: 'State' }, { label: 'Count', num: true }],
        data.exceptions.map((e) => [e.reason, stateBadge(e.state), num(e.count)]), 'None.')));
}

function draw(root, data) {
  const samples = remember(data);
  const msgs = Object.entries(data.messages);
  fill(root,
    h('section', { 'aria-labelledby': 'kpi-h' }, h('h2', { id: 'kpi-h' }, 'Business KPIs'), kpiCards(data.kpis)),
    h('section', { class: 'card', 'aria-labelledby': 'msg-h' }, h('h2', { id: 'msg-h' }, `Messages on host ${data.host}`),
      h('p', {}, msgs.length ? msgs.map(([s, n]) => h('span', {}, stateBadge(s), ` ${num(n)}  `)) : 'No messages yet.')),
    h('section', { 'aria-labelledby': 'tgt-h' }, h('h2', { id: 'tgt-h' }, 'Targets'), targetsTable(data, samples)),
    h('section', { 'aria-labelledby': 'rt-h' }, h('h2', { id: 'rt-h' }, 'Routes'), routesTable(data)),
    waiting(data),
    h('section', { 'aria-labelledby': 'pl-h' }, h('h2', { id: 'pl-h' }, 'Plugins'),
      table('Plugin calls', [{ label: 'Plugin' }, { label: 'Active' }, { label: 'Calls', num: true }, { label: 'Faults', num: true }, { label: 'Mean call', num: true }, { label: 'p99 call (active)', num: true }],
        data.plugins.map((p) => [h('a', { href: `/console/plugins#plugin-${p.name}` }, p.name), p.active || '—', num(p.calls), num(p.faults),
          p.calls ? `${num(Math.round(p.call_micros / p.calls))} µs` : '—',
          typeof p.active_p99_call_micros === 'number' ? `≈ ${num(p.active_p99_call_micros)} µs` : '—']), 'No plugins loaded.')));
}

export async function render(root) {
  const refresh = async () => draw(root, await get('overview'));
  await refresh();
  return refresh;
}
