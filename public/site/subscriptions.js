// My subscriptions: status, masked key, pause/resume/cancel, replace keys, test keys (fetchBalance).
import { api, el, fmtDate, header, requireLogin, say, $ } from './common.js';

header();
requireLogin();

function actions(s, msg) {
  const act = (label, id, cls, f) => el('button', { type: 'button', class: cls, 'data-action': id, onclick: async () => {
    try { await f(); await render(); } catch (err) { say(msg, err.message, false); }
  } }, label);
  if (s.status === 'CANCELLED') return [];
  const list = [
    s.status === 'ACTIVE'
      ? act('Pause', 'pause', 'secondary', () => api('PATCH', `/api/subscriptions/${s.id}`, { status: 'PAUSED' }))
      : act('Resume', 'resume', 'secondary', () => api('PATCH', `/api/subscriptions/${s.id}`, { status: 'ACTIVE' })),
    act('Cancel', 'cancel', 'danger', async () => { if (confirm('Cancel this subscription? No new orders will be placed.')) await api('DELETE', `/api/subscriptions/${s.id}`); }),
  ];
  if (s.hasKeys) {
    list.push(el('button', { type: 'button', class: 'secondary', 'data-action': 'test-keys', onclick: async () => {
      say(msg, 'Asking the exchange…');
      try {
        const r = await api('POST', `/api/subscriptions/${s.id}/test-keys`);
        say(msg, r.message, r.ok);
      } catch (err) { say(msg, err.message, false); }
    } }, 'Test keys'));
  }
  return list;
}

function keyForm(s, msg) {
  const k = el('input', { type: 'text', placeholder: 'new API key', autocomplete: 'off', class: 'new-key' });
  const sec = el('input', { type: 'password', placeholder: 'new API secret', autocomplete: 'new-password', class: 'new-secret' });
  const form = el('form', { class: 'stack keys-form' }, el('label', {}, s.hasKeys ? 'Replace keys' : 'Add keys'), k, sec, el('button', { type: 'submit', class: 'secondary' }, 'Save keys'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await api('PATCH', `/api/subscriptions/${s.id}`, { apiKey: k.value, apiSecret: sec.value }); await render(); } catch (err) { say(msg, err.message, false); }
  });
  return form;
}

function card(s, names) {
  const msg = el('div', { class: 'sub-msg' });
  const sizing = s.sizing.mode === 'quote' ? `${s.sizing.amount} per signal` : `${s.sizing.percent} % of free balance`;
  return el('div', { class: 'card subscription', 'data-id': s.id },
    el('h2', {}, el('a', { href: `/strategies/${s.strategyId}` }, names.get(s.strategyId) ?? s.strategyId), ' ', el('span', { class: `badge ${s.status}` }, s.status)),
    el('p', {}, `Exchange: ${s.exchange} · Pairs: ${s.allPairs ? 'all' : s.pairs.join(', ')} · Size: ${sizing}`),
    el('p', {}, 'API key: ', el('code', { class: 'masked-key' }, s.apiKeyMasked ?? 'none (signals only, no orders)'),
      s.keysInvalid ? el('span', { class: 'badge FAILED' }, ' keys refused by the exchange') : ''),
    el('p', { class: 'muted' }, `Since ${fmtDate(s.createdAt)} · `, el('a', { href: `/executions?subscriptionId=${s.id}` }, 'executions')),
    actions(s, msg), s.status !== 'CANCELLED' ? keyForm(s, msg) : '', msg);
}

async function render() {
  const [{ subscriptions }, { strategies }] = await Promise.all([api('GET', '/api/subscriptions'), api('GET', '/api/strategies')]);
  const names = new Map(strategies.map((s) => [s.id, s.name]));
  $('#subs').replaceChildren(...(subscriptions.length ? subscriptions.map((s) => card(s, names)) : [el('p', { class: 'muted' }, 'No subscriptions yet. Pick a strategy on the ', el('a', { href: '/' }, 'marketplace'), '.')]));
}

render().catch((err) => say($('#msg'), err.message, false));
