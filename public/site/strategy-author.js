// The author's panel on their own strategy page: rotate the webhook secret (shown once), edit the
// strategy (name, description, pairs, max lag) and publish a signal.
import { api, el, say } from './common.js';

/** Renders the panel into `box` when the signed-in user authors `strategy`; `onPublished` reloads the page data. */
export async function authorPanel(box, strategy, onPublished) {
  const me = await api('GET', '/api/me').catch(() => null);
  if (!me || !me.strategies.some((s) => s.id === strategy.id)) return;
  const msg = el('div', { id: 'author-msg' });
  const rotate = el('button', { type: 'button', class: 'secondary', id: 'rotate' }, 'Rotate webhook secret');
  rotate.addEventListener('click', async () => {
    try {
      const r = await api('POST', `/api/strategies/${strategy.id}/webhook-secret`);
      msg.replaceChildren(el('div', { class: 'msg ok' }, 'New secret (shown once, copy it now): ', el('code', { class: 'secret', id: 'new-secret' }, r.webhookSecret)));
    } catch (err) { say(msg, err.message, false); }
  });
  const f = (id, attrs = {}) => el('input', { id, type: 'text', ...attrs });
  const pair = f('pub-pair', { value: strategy.pairs[0] ?? '', placeholder: 'BTC/USDT', required: true });
  const action = el('select', { id: 'pub-action' }, el('option', {}, 'OPEN'), el('option', {}, 'CLOSE'));
  const direction = el('select', { id: 'pub-direction' }, el('option', {}, 'LONG'), el('option', {}, 'SHORT'));
  const price = f('pub-price', { type: 'number', step: 'any', min: '0', required: true });
  const form = el('form', { class: 'stack', id: 'publish-form' },
    el('label', { for: 'pub-pair' }, 'Pair'), pair, el('label', { for: 'pub-action' }, 'Action'), action,
    el('label', { for: 'pub-direction' }, 'Direction'), direction, el('label', { for: 'pub-price' }, 'Price'), price,
    el('button', { type: 'submit' }, 'Publish signal'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const s = await api('POST', '/api/signals', { strategyId: strategy.id, pair: pair.value, action: action.value, direction: direction.value, price: Number(price.value) });
      say(msg, `Published signal #${s.seq}. Signals are permanent: they cannot be edited or deleted.`);
      onPublished();
    } catch (err) { say(msg, err.message, false); }
  });
  box.replaceChildren(el('div', { class: 'card' }, el('h2', {}, 'Your strategy'),
    el('p', { class: 'muted' }, `Webhook URL: /api/webhooks/tradingview/${strategy.id}`), rotate, editForm(strategy, msg, onPublished), form, msg));
}

/** PATCH /api/strategies/:id with the fields the author changed; pairs as a comma-separated list. */
function editForm(strategy, msg, onSaved) {
  const name = el('input', { id: 'edit-name', type: 'text', value: strategy.name, required: true, maxlength: '100' });
  const description = el('textarea', { id: 'edit-description', maxlength: '5000', rows: '3' });
  description.value = strategy.description ?? '';
  const pairs = el('input', { id: 'edit-pairs', type: 'text', value: strategy.pairs.join(', '), placeholder: 'BTC/USDT, ETH/USDT' });
  const lag = el('input', { id: 'edit-lag', type: 'number', min: '1', max: '86400', step: '1', value: String(strategy.maxLagSeconds ?? 60) });
  const form = el('form', { class: 'stack', id: 'edit-form' },
    el('label', { for: 'edit-name' }, 'Name'), name,
    el('label', { for: 'edit-description' }, 'Description'), description,
    el('label', { for: 'edit-pairs' }, 'Pairs (comma-separated; empty = any pair the reference exchange lists)'), pairs,
    el('label', { for: 'edit-lag' }, 'Refuse webhook alerts older than (seconds)'), lag,
    el('button', { type: 'submit', class: 'secondary', id: 'edit-save' }, 'Save strategy'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const list = pairs.value.split(/[\s,]+/).map((p) => p.trim()).filter(Boolean);
    try {
      const s = await api('PATCH', `/api/strategies/${strategy.id}`, { name: name.value, description: description.value, pairs: list, maxLagSeconds: Number(lag.value) });
      Object.assign(strategy, s);
      pairs.value = s.pairs.join(', ');
      say(msg, `Saved. Pairs: ${s.pairs.join(', ') || 'any pair the reference exchange lists'}.`);
      onSaved();
    } catch (err) { say(msg, err.message, false); }
  });
  return el('details', { id: 'edit-strategy' }, el('summary', {}, 'Edit strategy'), form);
}
