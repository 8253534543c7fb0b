// My subscriptions: status, masked key, pause/resume/cancel, edit sizing, risk limits, pairs and max
// slippage (and a futures subscription's leverage and margin mode) in place, replace keys (with what to
// grant a key), test keys (fetchBalance). The market (spot or futures) is chosen when subscribing.
import { api, el, fmtQuote, futuresFields, header, keyGuidance, requireLogin, say, venueText, when, $ } from './common.js';

header();
await requireLogin();

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
  const gid = `key-guidance-${s.id}`;
  const k = el('input', { type: 'text', id: `new-key-${s.id}`, placeholder: 'new API key', autocomplete: 'off', class: 'new-key', 'aria-describedby': gid });
  const sec = el('input', { type: 'password', id: `new-secret-${s.id}`, placeholder: 'new API secret', autocomplete: 'new-password', class: 'new-secret' });
  const form = el('form', { class: 'stack keys-form' },
    el('h3', {}, s.hasKeys ? 'Replace keys' : 'Add keys'), keyGuidance(gid, s.market),
    el('label', { for: k.id }, 'API key'), k, el('label', { for: sec.id }, 'API secret'), sec,
    el('button', { type: 'submit', class: 'secondary' }, 'Save keys'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await api('PATCH', `/api/subscriptions/${s.id}`, { apiKey: k.value, apiSecret: sec.value }); await render(); } catch (err) { say(msg, err.message, false); }
  });
  return form;
}

/** A positive number from an input, or undefined when left empty. */
const optional = (input) => (input.value.trim() === '' ? undefined : Number(input.value));

/** Sizing, risk limits, pairs and max slippage, changed in place (PATCH /api/subscriptions/:id). */
function editForm(s, strategyPairs, msg) {
  const f = (name, attrs) => el('input', { id: `edit-${name}-${s.id}`, class: `edit-${name}`, ...attrs });
  const mode = el('select', { id: `edit-mode-${s.id}`, class: 'edit-mode' },
    el('option', { value: 'quote', selected: s.sizing.mode === 'quote' }, 'Fixed amount (quote currency) per signal'),
    el('option', { value: 'percent', selected: s.sizing.mode === 'percent' }, 'Percent of the free balance per signal'));
  const size = f('size', { type: 'number', min: '0', step: 'any', required: true, value: String(s.sizing.mode === 'quote' ? s.sizing.amount : s.sizing.percent) });
  const risk = s.risk ?? {};
  const maxTrade = f('max-trade', { type: 'number', min: '0', max: '100', step: 'any', value: risk.maxTradePercent ?? '', placeholder: 'no cap' });
  const dailyLoss = f('daily-loss', { type: 'number', min: '0', step: 'any', value: risk.dailyLossLimit ?? '', placeholder: 'no limit' });
  const closeOnly = f('close-only', { type: 'checkbox', checked: !!risk.closeOnly });
  const slippage = f('slippage', { type: 'number', min: '0.1', max: '50', step: 'any', required: true, value: String(s.maxSlippagePercent ?? 2) });
  const allPairs = f('all-pairs', { type: 'checkbox', checked: s.allPairs });
  const known = [...new Set([...strategyPairs, ...s.pairs])];
  const pairBoxes = known.map((p) => el('label', {}, el('input', { type: 'checkbox', class: 'edit-pair', value: p, checked: s.pairs.includes(p) }), ` ${p}`));
  const fut = s.market === 'futures' ? futuresFields(`edit-${s.id}`, s) : null;
  const form = el('form', { class: 'stack edit-form' },
    fut ? fut.box : '',
    el('label', { for: mode.id }, 'Sizing'), mode,
    el('label', { for: size.id }, 'Amount (quote currency) or percent'), size,
    el('label', { for: maxTrade.id }, 'Max per trade, % of the free balance (empty: no cap)'), maxTrade,
    el('label', { for: dailyLoss.id }, 'Daily loss limit, quote currency (empty: none; new entries stop for the UTC day)'), dailyLoss,
    el('label', { for: closeOnly.id }, closeOnly, ' Close only (no new entries; closes still run)'),
    el('label', { for: slippage.id }, 'Max slippage % (an entry further than this from the signal\'s price is skipped)'), slippage,
    el('label', { for: allPairs.id }, allPairs, ' All pairs of this strategy'),
    pairBoxes.length ? el('div', { class: 'pairs' }, el('span', { class: 'muted' }, 'or only: '), pairBoxes) : '',
    el('button', { type: 'submit', class: 'edit-save' }, 'Save changes'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const pairs = [...form.querySelectorAll('.edit-pair:checked')].map((c) => c.value);
    const riskBody = { maxTradePercent: optional(maxTrade), dailyLossLimit: optional(dailyLoss), closeOnly: closeOnly.checked };
    for (const k of Object.keys(riskBody)) if (riskBody[k] === undefined) delete riskBody[k];
    const body = {
      sizing: mode.value === 'quote' ? { mode: 'quote', amount: Number(size.value) } : { mode: 'percent', percent: Number(size.value) },
      risk: riskBody, maxSlippagePercent: Number(slippage.value), allPairs: allPairs.checked, ...(fut ? fut.values() : {}),
    };
    if (!allPairs.checked) body.pairs = pairs;
    try { await api('PATCH', `/api/subscriptions/${s.id}`, body); await render(); say($(`.subscription[data-id="${s.id}"] .sub-msg`) ?? msg, 'Saved.'); } catch (err) { say(msg, err.message, false); }
  });
  return el('details', { class: 'sub-edit' }, el('summary', {}, fut ? 'Edit leverage, margin mode, sizing, risk limits, pairs and slippage' : 'Edit sizing, risk limits, pairs and slippage'), form);
}

function riskText(r = {}) {
  const parts = [];
  if (r.maxTradePercent !== undefined) parts.push(`max ${r.maxTradePercent} % per trade`);
  if (r.dailyLossLimit !== undefined) parts.push(`daily loss limit ${fmtQuote(r.dailyLossLimit, '')}`);
  if (r.closeOnly) parts.push('close only');
  return parts.length ? parts.join(', ') : 'no limits';
}

function card(s, strategies) {
  const msg = el('div', { class: 'sub-msg' });
  const st = strategies.get(s.strategyId);
  const sizing = s.sizing.mode === 'quote' ? `${fmtQuote(s.sizing.amount, '')} (quote currency) per signal` : `${s.sizing.percent} % of free balance`;
  return el('div', { class: 'card subscription', 'data-id': s.id },
    el('h2', {}, el('a', { href: `/strategies/${s.strategyId}` }, st?.name ?? s.strategyId), ' ', el('span', { class: `badge ${s.status}` }, s.status)),
    el('p', { class: 'sub-summary' }, `Exchange: ${venueText(s)} · Pairs: ${s.allPairs ? 'all' : s.pairs.join(', ')} · Size: ${sizing} · Risk: ${riskText(s.risk ?? {})} · Max slippage: ${s.maxSlippagePercent ?? 2} %`),
    el('p', {}, 'API key: ', el('code', { class: 'masked-key' }, s.apiKeyMasked ?? 'none (signals only, no orders)'),
      s.keysInvalid ? el('span', { class: 'badge FAILED' }, ' keys refused by the exchange') : ''),
    el('p', { class: 'muted' }, 'Since ', when(s.createdAt), ' · ', el('a', { href: `/executions?subscriptionId=${s.id}` }, 'executions')),
    actions(s, msg), s.status !== 'CANCELLED' ? [editForm(s, st?.pairs ?? [], msg), keyForm(s, msg)] : '', msg);
}

async function render() {
  const { subscriptions } = await api('GET', '/api/subscriptions');
  // The list is paged: ask for exactly the subscribed strategies (at most 100 ids a request).
  const ids = [...new Set(subscriptions.map((s) => s.strategyId))];
  const chunks = Array.from({ length: Math.ceil(ids.length / 100) }, (_, i) => ids.slice(i * 100, i * 100 + 100));
  const strategies = (await Promise.all(chunks.map((c) => api('GET', `/api/strategies?ids=${c.join(',')}&limit=100`)))).flatMap((r) => r.strategies);
  const byId = new Map(strategies.map((s) => [s.id, s]));
  $('#subs').replaceChildren(...(subscriptions.length ? subscriptions.map((s) => card(s, byId)) : [el('p', { class: 'muted' }, 'No subscriptions yet. Pick a strategy on the ', el('a', { href: '/' }, 'marketplace'), '.')]));
}

render().catch((err) => say($('#msg'), err.message, false));
