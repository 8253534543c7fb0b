// The subscribe form on a strategy page: exchange (tested ones selectable, others listed as untested),
// all pairs or chosen pairs, sizing, API keys (sent once, never shown again).
import { api, el, say } from './common.js';

/** Renders the form into `box` for `strategy`. */
export async function subscribeForm(box, strategy) {
  const { exchanges } = await api('GET', '/api/exchanges');
  const msg = el('div', { id: 'subscribe-msg' });
  const exchange = el('select', { id: 'sub-exchange' }, exchanges.map((x) => el('option', { value: x.id, disabled: !x.tested }, x.tested ? x.id : `${x.id} (untested, not available yet)`)));
  const allPairs = el('input', { type: 'checkbox', id: 'sub-all', checked: true });
  const pairBoxes = strategy.pairs.map((p) => el('label', {}, el('input', { type: 'checkbox', class: 'sub-pair', value: p }), ` ${p}`));
  const amount = el('input', { type: 'number', id: 'sub-amount', min: '1', step: 'any', value: '100', required: true });
  const apiKey = el('input', { type: 'text', id: 'sub-key', autocomplete: 'off', spellcheck: 'false' });
  const apiSecret = el('input', { type: 'password', id: 'sub-secret', autocomplete: 'new-password' });

  const form = el('form', { class: 'stack card', id: 'subscribe-form' },
    el('h2', {}, 'Subscribe'),
    el('label', { for: 'sub-exchange' }, 'Exchange'), exchange,
    el('label', {}, el('span', {}, allPairs, ' All pairs of this strategy')),
    pairBoxes.length ? el('div', { class: 'pairs' }, el('span', { class: 'muted' }, 'or only: '), pairBoxes) : '',
    el('label', { for: 'sub-amount' }, 'Order size per signal (quote currency, e.g. USDT)'), amount,
    el('label', { for: 'sub-key' }, 'API key (optional; needed for automatic orders)'), apiKey,
    el('label', { for: 'sub-secret' }, 'API secret'), apiSecret,
    el('button', { type: 'submit', id: 'sub-submit' }, 'Subscribe'), msg);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const pairs = [...form.querySelectorAll('.sub-pair:checked')].map((c) => c.value);
    const body = { strategyId: strategy.id, exchange: exchange.value, allPairs: allPairs.checked, pairs: allPairs.checked ? [] : pairs, sizing: { mode: 'quote', amount: Number(amount.value) } };
    if (apiKey.value || apiSecret.value) Object.assign(body, { apiKey: apiKey.value, apiSecret: apiSecret.value });
    try {
      const s = await api('POST', '/api/subscriptions', body);
      apiKey.value = ''; apiSecret.value = '';
      say(msg, `Subscribed${s.apiKeyMasked ? ` with key ${s.apiKeyMasked}` : ' (no keys: signals only)'}. Manage it under My subscriptions.`);
    } catch (err) { say(msg, err.message, false); }
  });
  box.replaceChildren(form);
}
