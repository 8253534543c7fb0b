// The author's panel on their own strategy page: the full webhook URL and the TradingView alert messages
// with copy buttons, the author's counts (signals, subscribers, bots), rotating the webhook secret (shown
// once; the messages then carry it), editing the strategy (name, description, pairs, max lag), publishing a
// signal with stop loss / take profit / note, and the strategy's bots (strategy-bots.js).
import { api, el, plural, say } from './common.js';
import { botsPanel } from './strategy-bots.js';

/** Copies `text`; the button says whether it worked (the Clipboard API, else a selected textarea). */
export async function copyText(text, button) {
  let ok = false;
  try { await navigator.clipboard.writeText(text); ok = true; } catch {
    const area = el('textarea', { readonly: true, 'aria-hidden': 'true', style: 'position:fixed;left:-9999px;top:0' });
    area.value = text;
    document.body.append(area);
    area.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    area.remove();
  }
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = ok ? 'Copied' : 'Copy failed: select the text';
  setTimeout(() => { button.textContent = label; }, 2000);
  return ok;
}

const copyButton = (id, get) => {
  const b = el('button', { type: 'button', class: 'secondary', id }, 'Copy');
  b.addEventListener('click', () => copyText(get(), b));
  return b;
};

/** Renders the panel into `box` when the signed-in user authors `strategy`; `onPublished` reloads the page data. */
export async function authorPanel(box, strategy, onPublished) {
  const me = await api('GET', '/api/me').catch(() => null);
  if (!me || !me.strategies.some((s) => s.id === strategy.id)) return;
  const info = await api('GET', `/api/strategies/${strategy.id}/authoring`).catch(() => null);
  const msg = el('div', { id: 'author-msg' });
  const counts = el('p', { id: 'author-counts', class: 'muted' });
  const refreshCounts = async () => {
    const i = await api('GET', `/api/strategies/${strategy.id}/authoring`).catch(() => null);
    if (!i) return;
    const c = i.counts;
    counts.textContent = `${plural(c.signals, 'signal')} published · ${plural(c.subscribers.active, 'active subscriber')}`
      + (c.subscribers.paused ? ` (${c.subscribers.paused} paused)` : '') + ` · bots: ${c.bots.enabled} enabled, ${c.bots.disabled} disabled`;
  };
  const hook = info ? webhookBox(info, msg) : { box: el('p', { class: 'muted' }, `Webhook URL: /api/webhooks/tradingview/${strategy.id}`), setSecret: () => {} };
  const rotate = el('button', { type: 'button', class: 'secondary', id: 'rotate' }, 'Rotate webhook secret');
  rotate.addEventListener('click', async () => {
    try {
      const r = await api('POST', `/api/strategies/${strategy.id}/webhook-secret`);
      msg.replaceChildren(el('div', { class: 'msg ok' }, 'New secret (shown once, copy it now; the alert message below now carries it): ', el('code', { class: 'secret', id: 'new-secret' }, r.webhookSecret)));
      hook.setSecret(r.webhookSecret);
    } catch (err) { say(msg, err.message, false); }
  });
  const refresh = () => { onPublished(); refreshCounts(); };
  const bots = el('div', { id: 'bots' });
  box.replaceChildren(el('div', { class: 'card' }, el('h2', {}, 'Your strategy'), counts,
    hook.box, rotate, editForm(strategy, msg, refresh), publishForm(strategy, msg, refresh), msg),
  el('div', { class: 'card' }, el('h2', {}, 'Strategy bots'), bots));
  refreshCounts();
  // Just created on the marketplace page (strategy-new.js): the secret, shown there once, fills the message.
  const fresh = sessionStorage.getItem(`sm.newSecret.${strategy.id}`);
  if (fresh && info) { sessionStorage.removeItem(`sm.newSecret.${strategy.id}`); hook.setSecret(fresh); }
  botsPanel(bots, strategy, refreshCounts);
}

/** The full webhook URL and the alert messages, each with a copy button. */
function webhookBox(info, msg) {
  let secret = info.secretPlaceholder;
  const url = el('code', { id: 'webhook-url', style: 'word-break:break-all' }, info.webhookUrl);
  const kind = el('select', { id: 'alert-kind' },
    el('option', { value: 'strategy' }, 'Pine strategy alert (position changes)'),
    el('option', { value: 'open' }, 'Indicator alert: OPEN LONG'), el('option', { value: 'close' }, 'Indicator alert: CLOSE LONG'));
  const pre = el('pre', { id: 'alert-message', style: 'white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:8px' });
  const show = () => { pre.textContent = info.alertMessages[kind.value].replace(info.secretPlaceholder, secret); };
  kind.addEventListener('change', show);
  show();
  const source = info.baseUrlSource === 'PUBLIC_BASE_URL' ? '' : ' (built from this page’s address; the operator can fix it with PUBLIC_BASE_URL)';
  const box = el('div', { id: 'webhook' },
    el('p', {}, 'Webhook URL', source, ': ', url, ' ', copyButton('copy-webhook-url', () => info.webhookUrl)),
    el('label', { for: 'alert-kind' }, 'TradingView alert message (paste into the alert’s Message box; Webhook URL above)'), kind, pre,
    copyButton('copy-alert-message', () => pre.textContent),
    el('p', { class: 'muted' }, 'The secret is stored hashed: rotate it to get one the message can carry. Alerts older than the max lag are refused.'));
  return { box, setSecret: (s) => { secret = s; show(); say(msg, 'The alert message now carries the new secret.'); } };
}

/** POST /api/signals: pair, action, direction, price, stop loss, take profit, note. */
function publishForm(strategy, msg, onPublished) {
  const f = (id, attrs = {}) => el('input', { id, type: 'text', ...attrs });
  const pair = f('pub-pair', { value: strategy.pairs[0] ?? '', placeholder: 'BTC/USDT', required: true });
  const action = el('select', { id: 'pub-action' }, el('option', {}, 'OPEN'), el('option', {}, 'CLOSE'));
  const direction = el('select', { id: 'pub-direction' }, el('option', {}, 'LONG'), el('option', {}, 'SHORT'));
  const price = f('pub-price', { type: 'number', step: 'any', min: '0', required: true });
  const stop = f('pub-stop', { type: 'number', step: 'any', min: '0', placeholder: 'optional' });
  const target = f('pub-target', { type: 'number', step: 'any', min: '0', placeholder: 'optional' });
  const note = el('textarea', { id: 'pub-note', maxlength: '1000', rows: '2', placeholder: 'optional' });
  const form = el('form', { class: 'stack', id: 'publish-form' },
    el('label', { for: 'pub-pair' }, 'Pair'), pair, el('label', { for: 'pub-action' }, 'Action'), action,
    el('label', { for: 'pub-direction' }, 'Direction'), direction, el('label', { for: 'pub-price' }, 'Price'), price,
    el('label', { for: 'pub-stop' }, 'Stop loss (OPEN only)'), stop, el('label', { for: 'pub-target' }, 'Take profit (OPEN only)'), target,
    el('label', { for: 'pub-note' }, 'Note'), note,
    el('button', { type: 'submit', id: 'pub-submit' }, 'Publish signal'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const opt = (v) => (v.trim() === '' ? undefined : Number(v));
    try {
      const s = await api('POST', '/api/signals', {
        strategyId: strategy.id, pair: pair.value, action: action.value, direction: direction.value, price: Number(price.value),
        stopLoss: opt(stop.value), takeProfit: opt(target.value), note: note.value.trim() || undefined,
      });
      say(msg, `Published signal #${s.seq}. Signals are permanent: they cannot be edited or deleted.`);
      onPublished();
    } catch (err) { say(msg, err.message, false); }
  });
  return el('details', { id: 'publish' }, el('summary', {}, 'Publish a signal'), form);
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
