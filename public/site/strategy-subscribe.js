// The subscribe form on a strategy page: exchange (tested ones selectable, others listed as untested),
// market (spot, or USDT-margined perpetual futures where the executor trades them: leverage and margin
// mode with the risk explained), all pairs or chosen pairs, sizing, max slippage, API keys (sent once,
// never shown again; what to grant follows the market).
// A user with a live (ACTIVE or PAUSED) subscription to the strategy sees it instead of the form: a
// second one would be refused (409 ALREADY_SUBSCRIBED) and is managed under My subscriptions.
import { api, el, fmtQuote, futuresFields, keyGuidance, keyGuidanceText, say, venueText } from './common.js';

const LIVE = new Set(['ACTIVE', 'PAUSED']);

function sizingText(sizing) {
  if (sizing?.mode === 'quote') return `${fmtQuote(sizing.amount, '')} (quote currency) per signal`;
  if (sizing?.mode === 'percent') return `${sizing.percent} % of the free balance per signal`;
  return 'no sizing';
}

/** The "already subscribed" card; `msg` (the form's message box) stays visible after subscribing. */
function subscribedCard(sub, msg) {
  return el('div', { class: 'stack card', id: 'subscribed' },
    el('h2', {}, 'Subscribed'),
    el('p', { id: 'subscribed-summary' }, `You are subscribed (${sub.status}, ${venueText(sub)}, ${sizingText(sub.sizing)}, max slippage ${sub.maxSlippagePercent ?? 2} %).`),
    el('p', {}, el('a', { href: '/subscriptions', id: 'manage-subscription' }, 'Manage it under My subscriptions')),
    msg ?? '');
}

/** Renders the form (or the user's live subscription) into `box` for `strategy`. */
export async function subscribeForm(box, strategy) {
  const [{ exchanges }, mine] = await Promise.all([
    api('GET', '/api/exchanges'),
    api('GET', '/api/subscriptions').catch(() => ({ subscriptions: [] })),
  ]);
  const live = mine.subscriptions.find((s) => s.strategyId === strategy.id && LIVE.has(s.status));
  if (live) { box.replaceChildren(subscribedCard(live)); return; }

  const msg = el('div', { id: 'subscribe-msg' });
  const exchange = el('select', { id: 'sub-exchange' }, exchanges.map((x) => el('option', { value: x.id, disabled: !x.tested }, x.tested ? x.id : `${x.id} (untested, not available yet)`)));
  // Where stops live: on the exchange (Binance) or only in the trade monitor's CLOSE (MEXC, Bybit spot).
  const stopsNote = el('p', { class: 'muted', id: 'sub-stops-note' });
  const showStops = () => {
    const x = exchanges.find((e) => e.id === exchange.value);
    stopsNote.textContent = !x?.tested ? '' : x.protectiveOrders
      ? `${x.id} rests the signal's stop loss / take profit on the exchange after each entry.`
      : `${x.id} has no exchange-side stops here: the trade monitor's CLOSE is the stop (it needs this server running).`;
  };
  // Futures only where the executor trades them; the fields, the sizing label and the key guidance follow the market.
  const market = el('select', { id: 'sub-market' }, el('option', { value: 'spot' }, 'Spot'), el('option', { value: 'futures' }, 'USDT-margined perpetual futures'));
  const fut = futuresFields('sub');
  const amountLabel = el('label', { for: 'sub-amount' });
  const showMarket = () => {
    const x = exchanges.find((e) => e.id === exchange.value);
    market.options[1].disabled = !x?.futures;
    if (!x?.futures) market.value = 'spot';
    const futures = market.value === 'futures';
    fut.box.hidden = !futures;
    amountLabel.textContent = futures ? 'Margin per signal (quote currency, e.g. USDT; × leverage = position size)' : 'Order size per signal (quote currency, e.g. USDT)';
    guidance.textContent = keyGuidanceText(market.value);
  };
  const guidance = keyGuidance('sub-key-guidance');
  exchange.addEventListener('change', () => { showStops(); showMarket(); });
  market.addEventListener('change', showMarket);
  showStops();
  const allPairs = el('input', { type: 'checkbox', id: 'sub-all', checked: true });
  const pairBoxes = strategy.pairs.map((p) => el('label', {}, el('input', { type: 'checkbox', class: 'sub-pair', value: p }), ` ${p}`));
  const amount = el('input', { type: 'number', id: 'sub-amount', min: '1', step: 'any', value: '100', required: true });
  const slippage = el('input', { type: 'number', id: 'sub-slippage', min: '0.1', max: '50', step: 'any', value: '2', required: true });
  const apiKey = el('input', { type: 'text', id: 'sub-key', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'sub-key-guidance' });
  const apiSecret = el('input', { type: 'password', id: 'sub-secret', autocomplete: 'new-password' });

  const form = el('form', { class: 'stack card', id: 'subscribe-form' },
    el('h2', {}, 'Subscribe'),
    el('label', { for: 'sub-exchange' }, 'Exchange'), exchange, stopsNote,
    el('label', { for: 'sub-market' }, 'Market (futures on the exchanges that have them here)'), market, fut.box,
    el('label', {}, el('span', {}, allPairs, ' All pairs of this strategy')),
    pairBoxes.length ? el('div', { class: 'pairs' }, el('span', { class: 'muted' }, 'or only: '), pairBoxes) : '',
    amountLabel, amount,
    el('label', { for: 'sub-slippage' }, 'Max slippage % (an entry further than this from the signal\'s price is skipped)'), slippage,
    el('label', { for: 'sub-key' }, 'API key (optional; needed for automatic orders)'), guidance, apiKey,
    el('label', { for: 'sub-secret' }, 'API secret'), apiSecret,
    el('button', { type: 'submit', id: 'sub-submit' }, 'Subscribe'), msg);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const pairs = [...form.querySelectorAll('.sub-pair:checked')].map((c) => c.value);
    const body = {
      strategyId: strategy.id, exchange: exchange.value, allPairs: allPairs.checked, pairs: allPairs.checked ? [] : pairs,
      sizing: { mode: 'quote', amount: Number(amount.value) }, maxSlippagePercent: Number(slippage.value), market: market.value,
      ...(market.value === 'futures' ? fut.values() : {}),
    };
    if (apiKey.value || apiSecret.value) Object.assign(body, { apiKey: apiKey.value, apiSecret: apiSecret.value });
    try {
      const s = await api('POST', '/api/subscriptions', body);
      apiKey.value = ''; apiSecret.value = '';
      say(msg, `Subscribed${s.apiKeyMasked ? ` with key ${s.apiKeyMasked}` : ' (no keys: signals only)'}. Manage it under My subscriptions.`);
      box.replaceChildren(subscribedCard(s, msg));
    } catch (err) { say(msg, err.message, false); }
  });
  showMarket();
  box.replaceChildren(form);
}
