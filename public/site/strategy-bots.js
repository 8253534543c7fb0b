// Strategy bots on the author's strategy page: attach a built-in chart strategy (parameters, pairs,
// timeframe, chart exchange), preview its chart pages with their markers, enable / disable / delete it,
// and follow its captures, failures and latest screenshot (fetched with the author's token).
import { api, el, plural, say, session, table, when } from './common.js';

/** The built-in strategies' parameters and defaults (the server validates them: a bad one is a 400 naming it). */
const KINDS = {
  'ma-crossover': { label: 'MA crossover', params: { fast: 9, slow: 21, kind: ['ema', 'sma'] } },
  'rsi-divergence': { label: 'RSI divergence', params: { period: 14, lookback: 20, oversold: 30, overbought: 70 } },
  'bollinger-breakout': { label: 'Bollinger breakout', params: { period: 20, stdDev: 2 } },
  'macd-trend': { label: 'MACD trend', params: { fast: 12, slow: 26, signal: 9 } },
};
const TIMEFRAMES = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w'];

/** Renders the bots of `strategy` into `box`; `onChange` refreshes the author's counts. */
export async function botsPanel(box, strategy, onChange = () => {}) {
  const msg = el('div', { id: 'bot-msg' });
  const list = el('div', { id: 'bot-list' });
  const preview = el('div', { id: 'bot-preview' });
  const limits = el('p', { class: 'muted', id: 'bot-limit' });
  let exchanges = ['binance'];
  const reload = async () => {
    const r = await api('GET', `/api/strategies/${strategy.id}/bots`).catch((err) => { say(msg, err.message, false); return null; });
    if (!r) return;
    exchanges = r.exchanges;
    limits.textContent = `You hold ${plural(r.used, 'bot')} of ${r.limit} allowed per author. A bot’s signals are published on this strategy, like webhook alerts.`;
    renderList(r.bots);
  };
  const act = async (fn, ok) => {
    try { await fn(); if (ok) say(msg, ok); await reload(); onChange(); } catch (err) { say(msg, err.message, false); }
  };
  function renderList(bots) {
    if (!bots.length) { list.replaceChildren(el('p', { class: 'muted' }, 'No bots yet.')); return; }
    const rows = bots.map((b) => [
      b.name, KINDS[b.builtin]?.label ?? b.builtin, el('td', {}, el('code', {}, Object.entries(b.params).map(([k, v]) => `${k}=${v}`).join(' '))),
      b.pairs.join(', '), `${b.timeframe} · ${b.exchange}`, el('td', { class: b.enabled ? 'pos' : 'muted' }, b.enabled ? 'enabled' : 'disabled'),
      el('td', { class: 'num' }, `${b.captures} / ${b.signals}`), el('td', { class: b.failures ? 'neg' : '' }, String(b.failures), b.lastFailure ? el('div', { class: 'muted' }, b.lastFailure) : ''),
      when(b.lastCaptureAt), shotCell(b),
      el('td', {},
        el('button', { type: 'button', class: 'secondary bot-preview', 'data-bot': b.id, onclick: () => showPreview(b) }, 'Preview'), ' ',
        el('button', { type: 'button', class: 'bot-toggle', 'data-bot': b.id, onclick: () => act(() => api('PATCH', `/api/strategies/${strategy.id}/bots/${b.id}`, { enabled: !b.enabled }), b.enabled ? 'Bot disabled.' : 'Bot enabled: the capturer picks it up within seconds.') }, b.enabled ? 'Disable' : 'Enable'), ' ',
        el('button', { type: 'button', class: 'secondary bot-delete', 'data-bot': b.id, onclick: () => { if (confirm(`Delete bot “${b.name}”? Its signals stay.`)) act(() => api('DELETE', `/api/strategies/${strategy.id}/bots/${b.id}`), 'Bot deleted.'); } }, 'Delete')),
    ]);
    list.replaceChildren(table(['Name', 'Strategy', 'Parameters', 'Pairs', 'Timeframe', 'State', 'Captures / signals', 'Failures', 'Last capture', 'Last screenshot', ''], rows,
      { id: 'bot-table', label: 'Strategy bots', rowAttrs: (i) => ({ 'data-bot': bots[i].id }) }));
  }
  async function showPreview(b) {
    preview.replaceChildren(el('p', { class: 'muted' }, 'Loading the preview…'));
    try {
      const r = await api('GET', `/api/strategies/${strategy.id}/bots/${b.id}/preview`);
      preview.replaceChildren(el('h3', {}, `Preview: ${b.name}`), ...r.pages.map((p) => el('div', { class: 'bot-preview-page', 'data-pair': p.pair },
        el('p', {}, el('b', {}, p.pair), ': ', p.error ? p.error : `${plural(p.markers, 'marker')} on the last ${p.candles} candles`, ' · ', el('a', { href: p.url, target: '_blank', rel: 'noopener' }, 'open the chart page')),
        p.error ? '' : el('iframe', { class: 'bot-preview-frame', src: p.url, title: `chart of ${p.pair}`, loading: 'lazy', style: 'width:100%;height:460px;border:1px solid #ddd' }))),
      el('p', { class: 'muted' }, b.enabled ? 'This bot is enabled.' : 'Enable the bot to publish the markers it draws from now on (older ones are history and are not published).'));
    } catch (err) { preview.replaceChildren(); say(msg, err.message, false); }
  }
  box.replaceChildren(limits, list, preview, createForm(strategy, () => exchanges, async (bot) => { await reload(); onChange(); await showPreview(bot); }, msg), msg);
  await reload();
  // Captures happen in the background: keep the counters fresh while the page is open.
  setInterval(() => { if (document.visibilityState !== 'hidden') { reload(); onChange(); } }, 5000);
}

/** The latest screenshot, fetched with the token (the image route is author-only) and shown as a data: URL. */
function shotCell(b) {
  const td = el('td', {}, b.screenshotUrl ? '…' : '–');
  if (!b.screenshotUrl) return td;
  fetch(b.screenshotUrl, { headers: { authorization: `Bearer ${session.token()}` } })
    .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(`HTTP ${res.status}`))))
    .then((blob) => new Promise((resolve) => { const fr = new FileReader(); fr.onload = () => resolve(fr.result); fr.readAsDataURL(blob); }))
    .then((src) => td.replaceChildren(el('img', { class: 'evidence bot-shot', src, alt: `latest capture of ${b.name}`, style: 'max-width:180px' })))
    .catch(() => td.replaceChildren('unavailable'));
  return td;
}

/** The attach form: kind, its parameters, pairs, timeframe, exchange, name. Creates the bot disabled. */
function createForm(strategy, exchanges, onCreated, msg) {
  const kind = el('select', { id: 'bot-builtin' }, Object.entries(KINDS).map(([k, v]) => el('option', { value: k }, v.label)));
  const params = el('div', { id: 'bot-params', class: 'stack' });
  const drawParams = () => {
    params.replaceChildren(...Object.entries(KINDS[kind.value].params).flatMap(([name, def]) => {
      const input = Array.isArray(def)
        ? el('select', { id: `bot-param-${name}`, 'data-param': name }, def.map((o) => el('option', {}, o)))
        : el('input', { id: `bot-param-${name}`, 'data-param': name, type: 'number', step: 'any', value: String(def), required: true });
      return [el('label', { for: `bot-param-${name}` }, name), input];
    }));
  };
  kind.addEventListener('change', drawParams);
  drawParams();
  const pairs = el('input', { id: 'bot-pairs', type: 'text', value: strategy.pairs[0] ?? '', placeholder: 'BTC/USDT, ETH/USDT', required: true });
  const tf = el('select', { id: 'bot-timeframe' }, TIMEFRAMES.map((t) => el('option', { selected: t === '1h' }, t)));
  const exchange = el('select', { id: 'bot-exchange' });
  const name = el('input', { id: 'bot-name', type: 'text', maxlength: '100', placeholder: 'optional' });
  const form = el('form', { class: 'stack', id: 'bot-form' },
    el('label', { for: 'bot-builtin' }, 'Built-in strategy'), kind, params,
    el('label', { for: 'bot-pairs' }, 'Pairs (comma-separated, up to 5)'), pairs,
    el('label', { for: 'bot-timeframe' }, 'Timeframe'), tf, el('label', { for: 'bot-exchange' }, 'Candles from'), exchange,
    el('label', { for: 'bot-name' }, 'Name'), name,
    el('button', { type: 'submit', id: 'bot-create' }, 'Attach bot (disabled until you enable it)'));
  const details = el('details', { id: 'bot-attach' }, el('summary', {}, 'Attach a bot'), form);
  details.addEventListener('toggle', () => {
    if (exchange.options.length) return;
    exchange.replaceChildren(...exchanges().map((x) => el('option', {}, x)));
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values = Object.fromEntries([...params.querySelectorAll('[data-param]')].map((i) => [i.dataset.param, i.tagName === 'SELECT' ? i.value : Number(i.value)]));
    const body = { builtin: kind.value, params: values, pairs: pairs.value.split(/[\s,]+/).filter(Boolean), timeframe: tf.value, exchange: exchange.value || undefined, name: name.value.trim() || undefined };
    try {
      const bot = await api('POST', `/api/strategies/${strategy.id}/bots`, body);
      say(msg, `Bot “${bot.name}” attached, disabled. Check the preview, then enable it.`);
      await onCreated(bot);
    } catch (err) { say(msg, err.message, false); }
  });
  return details;
}
