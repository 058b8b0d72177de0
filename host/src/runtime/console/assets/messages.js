// Messages: search by order, shipment or invoice number, the source's id
// or a correlation id; then one correlation id's whole story: received,
// mapped (by which plugin version), the outbox with every attempt, dead
// letters and exceptions, with the document at each step.

import { get, seg } from './api.js';
import { doc, facts, fill, h, more, sha, stateBadge, table, time } from './dom.js';

export const title = 'Messages';

const MATCHED = {
  business_key: 'business key', correlation_id: 'correlation id', message_id: 'message id', idempotency_key: 'source id',
};

function params() {
  return new URLSearchParams(window.location.search);
}

function searchForm(q) {
  const input = h('input', { name: 'q', type: 'search', value: q || '', required: true, size: '40', placeholder: 'SO-2026-004512' });
  return h('form', { class: 'inline', role: 'search', action: '/console/messages', method: 'get' },
    h('div', { class: 'field' }, h('label', { for: 'q' }, 'Order, shipment or invoice number, source id or correlation id'), Object.assign(input, { id: 'q' })),
    h('button', { type: 'submit' }, 'Search'));
}

function hits(found, q) {
  return table(`Messages for ${q}`,
    [{ label: 'Received' }, { label: 'Source' }, { label: 'Kind' }, { label: 'State' }, { label: 'Matched' }, { label: 'Correlation id' }],
    found.map((m) => [time(m.received_at), m.source, m.kind, stateBadge(m.state), MATCHED[m.matched] || m.matched,
      h('a', { href: `/console/messages?${new URLSearchParams({ q, cid: m.correlation_id })}` }, m.correlation_id)]),
    `No message matches ${q}.`);
}

function shown(d) {
  if (!d) return h('p', { class: 'empty' }, 'Not kept.');
  const note = d.truncated ? h('p', { class: 'muted' }, `First ${d.body.length} of ${d.bytes} bytes.`) : null;
  return [note, d.encoding === 'base64' ? h('pre', { tabindex: '0' }, `base64: ${d.body}`) : doc(d.body)];
}

function step(kind, cls, head, body) {
  return h('li', { class: cls, 'data-step': kind }, h('div', { class: 'step-head' }, head), body);
}

function timeline(t, docs, exceptions) {
  const received = new Map(docs.received.map((d) => [d.message_id, d]));
  const sent = new Map(docs.deliveries.map((d) => [d.id, d]));
  const items = [];
  for (const m of t.messages) {
    items.push(step('received', '', [h('strong', {}, 'Received'), time(m.received_at), stateBadge(m.state)], [
      facts([['Source', m.source], ['Kind', m.kind], ['Message id', h('code', {}, m.message_id)],
        ['Source id (idempotency key)', m.idempotency_key], ['Content type', m.content_type], ['Received by', m.received_by]]),
      more('Received document', () => shown(received.get(m.message_id)), `rx-${m.message_id}`),
    ]));
  }
  for (const p of t.processing) {
    const [name, version] = p.plugin.split('@');
    items.push(step('mapped', p.ok ? 'ok' : 'bad', [
      h('strong', {}, p.stage === 'inbound' ? 'Mapped in' : p.stage.startsWith('outbound:') ? `Mapped out for ${p.stage.slice(9)}` : p.stage),
      time(p.at), p.ok ? stateBadge('processed') : stateBadge('failed')], [
      facts([['Route', p.route], ['Plugin', h('span', {}, h('a', { href: `/console/plugins#plugin-${name}` }, name), ` version ${version || '?'} `, sha(p.plugin_sha256))],
        ['Call time', `${p.elapsed_us} µs`], ['Host', p.host]]),
      more(p.ok ? 'Documents produced' : 'Error', () => doc(p.result), `run-${p.message_id}-${p.stage}-${p.at}`),
    ]));
  }
  for (const d of t.deliveries) {
    const attempts = t.attempts.filter((a) => a.delivery_id === d.id);
    items.push(step('outbox', d.state === 'delivered' ? 'ok' : d.state === 'dead' ? 'bad' : '', [
      h('strong', {}, `Outbox → ${d.target}`), stateBadge(d.state), `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`], [
      facts([['Business key', d.business_key], ['Idempotency key sent', h('code', {}, d.idempotency_key)], ['Schema', d.schema_id],
        ['Plugin', h('span', {}, `${d.plugin} `, sha(d.plugin_sha256))], ['Last response', d.last_response]]),
      attempts.length ? table(`Attempts of delivery ${d.id}`, [{ label: '#', num: true }, { label: 'Started' }, { label: 'Status' }, { label: 'Took', num: true }, { label: 'Response' }, { label: 'Host' }],
        attempts.map((a) => [String(a.attempt), time(a.started_at), a.status ? String(a.status) : 'no answer', `${a.elapsed_ms} ms`, h('code', {}, a.response), a.host || ''])) : null,
      more(`Document sent to ${d.target}`, () => shown(sent.get(d.id)), `tx-${d.id}`),
    ]));
  }
  for (const l of t.dead_letters) {
    items.push(step('dead-letter', l.replayed_at ? '' : 'bad', [h('strong', {}, `Dead letter ${l.id}`), time(l.created_at), stateBadge(l.replayed_at ? 'retried' : 'dead'), l.reason], [
      facts([['Route', l.route], ['Target', l.target], ['Attempts', String(l.attempts)], ['Last response', l.last_response],
        ['Plugin', l.plugin], ['Replayed', l.replayed_at ? time(l.replayed_at) : 'not yet']]),
      more('Why', () => doc(l.detail), `dl-${l.id}`),
      l.replayed_at ? null : h('a', { href: `/console/dead-letters?id=${l.id}` }, 'Replay on the dead letters page'),
    ]));
  }
  for (const e of exceptions) {
    items.push(step('exception', e.state === 'open' ? 'bad' : 'ok', [h('strong', {}, `Exception ${e.id}`), time(e.created_at), stateBadge(e.state), e.reason], [
      facts([['Business key', e.business_key], ['Route', e.route], ['Target', e.target]]),
      h('a', { href: `/console/exceptions?id=${e.id}` }, 'Open in the exception queue'),
    ]));
  }
  const keys = [...new Set(t.deliveries.map((d) => d.business_key))];
  return [
    h('h2', { id: 'timeline-h' }, `Timeline of ${t.messages[0].correlation_id}`),
    keys.length ? h('p', {}, 'Business keys: ', keys.map((k) => h('code', {}, `${k} `))) : null,
    h('ol', { class: 'timeline', 'aria-labelledby': 'timeline-h' }, items),
  ];
}

export async function render(root) {
  const p = params();
  const q = p.get('q');
  const cid = p.get('cid');
  const results = h('section', { 'aria-live': 'polite' });
  const story = h('section', { class: 'card', id: 'timeline' });
  fill(root, h('section', { class: 'card' }, searchForm(q)), results, cid ? story : null);
  if (q && !cid) {
    const found = (await get(`messages?${new URLSearchParams({ q })}`)).messages;
    if (found.length === 1) {
      window.location.replace(`/console/messages?${new URLSearchParams({ q, cid: found[0].correlation_id })}`);
      return undefined;
    }
    fill(results, h('h2', {}, `${found.length} message${found.length === 1 ? '' : 's'} for ${q}`), hits(found, q));
  }
  if (!cid) return undefined;
  let last = '';
  const refresh = async () => {
    const [t, docs, ex] = await Promise.all([
      get(`messages/${seg(cid)}`),
      get(`messages/${seg(cid)}/documents`),
      get(`exceptions?correlation_id=${seg(cid)}`),
    ]);
    const key = JSON.stringify([t, ex]);
    if (key === last) return;
    last = key;
    // Keep what the reader opened.
    const open = new Set([...story.querySelectorAll('details[open]')].map((d) => d.dataset.key));
    fill(story, timeline(t, docs, ex.exceptions));
    for (const d of story.querySelectorAll('details')) {
      if (open.has(d.dataset.key)) d.open = true;
    }
  };
  await refresh();
  return refresh;
}
