// Strategy page: track record (at the reference market's prices, verified trades only), equity curve,
// verification, signal history (live) with declared and market prices, open and closed trades, the
// subscribe form for users and the publishing panel for the strategy's author.
import { api, el, fmtDate, fmtDuration, fmtNum, fmtPct, fmtPrice, fmtUtc, header, liveSignals, localChartTime, num, plural, say, session, signClass, table, when, $ } from './common.js';
import { equityData } from './equity-data.js';
import { authorPanel } from './strategy-author.js';
import { subscribeForm } from './strategy-subscribe.js';

header();
const id = location.pathname.split('/').pop();
const signals = new Map();
let lastSeq = 0;
const dash = '–';
const NOT_VERIFIED = 'price not verified';
const unverified = () => el('span', { class: 'muted unverified' }, NOT_VERIFIED);
/** A market price, or "price not verified" (null); undefined (a live signal from an older server) shows a dash. */
const marketCell = (v) => (v === undefined ? dash : v === null ? unverified() : fmtPrice(v));
const share = (v) => (v === null || v === undefined ? dash : `${Math.round(v * 100)} %`);

function statsBox(d) {
  const s = d.stats;
  const pv = d.priceVerification ?? { signals: 0, verifiedSignals: 0, unverifiedTrades: 0 };
  const n = s.trades;
  const stat = (label, value, cls, id) => el('div', { class: 'stat', id }, el('b', { class: cls }, value), el('span', {}, label));
  // Without trades there is no win rate, PnL or drawdown: a dash, not "0 %".
  const pct = (v) => (n && v !== null && v !== undefined ? `${fmtNum(v)} %` : dash);
  $('#stats').replaceChildren(
    stat('Closed trades (verified prices)', String(n)), stat('Win rate', pct(s.winRate)),
    stat('Total PnL (compounded)', n ? fmtPct(s.totalPnlPct) : dash, n ? signClass(s.totalPnlPct) : ''), stat('Average PnL / trade', n ? fmtPct(s.avgPnlPct) : dash, n ? signClass(s.avgPnlPct) : ''),
    stat('Max drawdown', pct(s.maxDrawdownPct)), stat('Sharpe (per trade)', fmtNum(s.sharpe)), stat('Sortino (per trade)', fmtNum(s.sortino)),
    stat(`Signal prices verified (${pv.verifiedSignals} of ${pv.signals})`, share(d.verifiedShare), '', 'verified-share'),
    stat('Trades not counted: price not verified', String(pv.unverifiedTrades), '', 'unverified-trades'),
    stat('First signal', d.firstSignalAt ? when(d.firstSignalAt, fmtDate(d.firstSignalAt).slice(0, 10)) : dash, '', 'first-signal'),
  );
  if (!$('#basis')) {
    $('#stats').before(el('p', {}, el('span', { class: 'basis', id: 'basis' }, d.basis), ' ',
      el('span', { class: 'muted' }, 'Each trade’s PnL uses the reference exchange’s price at its signals; the author’s declared prices are shown beside them. Trades with a price that could not be checked against the market are listed below as “price not verified” and not counted.')));
  }
}

let chart;
let series;
function drawEquity(points, start) {
  const LC = window.LightweightCharts;
  if (!LC || !points.length) { $('#equity').replaceChildren(el('p', { class: 'muted' }, 'No closed trades with verified prices yet.')); return; }
  if (!chart) {
    $('#equity').replaceChildren();
    chart = LC.createChart($('#equity'), { autoSize: true, layout: { attributionLogo: true }, ...localChartTime() });
    series = chart.addSeries(LC.AreaSeries, { lineColor: '#2962ff', topColor: 'rgba(41,98,255,0.25)', bottomColor: 'rgba(41,98,255,0.02)' });
  }
  series.setData(equityData(points, start));
  chart.timeScale().fitContent();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Year × month table of compounded monthly returns (market prices), with the year's compounded total. */
function monthlyTable(months) {
  if (!months?.length) { $('#monthly').replaceChildren(el('p', { class: 'muted' }, 'No closed trades with verified prices yet.')); return; }
  const years = [...new Set(months.map((m) => m.year))].sort((a, b) => b - a);
  const cell = (m) => (m ? el('td', { class: `num ${signClass(m.returnPct)}`.trim(), title: plural(m.trades, 'trade') }, fmtPct(m.returnPct)) : el('td', { class: 'num muted' }, dash));
  const rows = years.map((y) => {
    const of = months.filter((m) => m.year === y);
    const total = (of.reduce((e, m) => e * (1 + m.returnPct / 100), 1) - 1) * 100;
    return [el('th', { scope: 'row' }, String(y)), ...MONTHS.map((_, i) => cell(of.find((m) => m.month === i + 1))), el('td', { class: `num year ${signClass(total)}`.trim() }, el('b', {}, fmtPct(total)))];
  });
  const t = table(['Year', ...MONTHS, 'Year'], rows, { id: 'monthly-table', label: 'Monthly returns' });
  t.querySelector('table').classList.add('monthly');
  $('#monthly').replaceChildren(t);
}

/** Unrealised PnL of an open trade: a figure only with a market entry and a fresh price. */
function unrealisedCell(t) {
  if (t.unrealisedStatus === 'OK') return el('td', { class: `num unrealised ${signClass(t.unrealisedPnlPct)}`.trim(), title: t.priceAt ? `price at ${fmtDate(t.priceAt)} (${fmtUtc(t.priceAt)})` : '' }, fmtPct(t.unrealisedPnlPct));
  const text = t.unrealisedStatus === 'ENTRY_NOT_VERIFIED' ? NOT_VERIFIED : 'price unavailable';
  return el('td', { class: 'num unrealised unrealised-missing' }, text);
}

function renderSignals() {
  const list = [...signals.values()].sort((a, b) => b.seq - a.seq);
  const rows = list.map((s) => [
    num(s.seq), when(s.createdAt), s.pair, `${s.action} ${s.direction}`, num(fmtPrice(s.price)), num(marketCell(s.marketPrice)),
    num(s.stopLoss ? fmtPrice(s.stopLoss) : '–'), num(s.takeProfit ? fmtPrice(s.takeProfit) : '–'), s.source,
    s.evidence ? el('td', {}, el('a', { href: s.evidence, target: '_blank' }, el('img', { class: 'evidence', src: s.evidence, alt: `chart at signal ${s.seq}`, loading: 'lazy' }))) : '–',
    el('td', { title: s.hash }, el('code', {}, s.hash.slice(0, 12))),
  ]);
  $('#signals').replaceChildren(list.length
    ? table(['Seq', 'Time', 'Pair', 'Signal', 'Declared price', 'Market price', 'Stop', 'Target', 'Source', 'Chart', 'Hash'], rows, { id: 'signal-table', label: 'Signal history', rowAttrs: (i) => ({ 'data-seq': list[i].seq }) })
    : el('p', { class: 'muted' }, 'No signals yet.'));
}

function addSignals(list) {
  for (const s of list) if (s.strategyId === id) { signals.set(s.id, s); lastSeq = Math.max(lastSeq, s.seq); }
  renderSignals();
}

async function load() {
  const s = await api('GET', `/api/strategies/${id}`);
  document.title = `${s.name} · Signal Marketplace`;
  const pairs = s.pairs.length ? `pairs: ${s.pairs.join(', ')}` : 'pairs: any pair its reference exchange lists';
  $('#head').replaceChildren(el('h1', { id: 'name' }, s.name), el('p', { class: 'muted', id: 'strategy-meta' }, `by ${s.author ?? 'unknown'} · ${pairs} · ${plural(s.subscribers, 'active subscriber')}`), s.description ? el('p', {}, s.description) : '');
  statsBox(s);
  drawEquity(s.equityCurve, s.firstSignalAt);
  monthlyTable(s.monthlyReturns);
  $('#open').replaceChildren(s.openTrades.length
    ? table(['Pair', 'Direction', 'Declared entry', 'Market entry', 'Last price', 'Unrealised PnL', 'Stop', 'Target', 'Opened'],
      s.openTrades.map((t) => [t.pair, t.direction, num(fmtPrice(t.entryPrice)), num(marketCell(t.entryMarketPrice)), num(t.lastPrice === null || t.lastPrice === undefined ? dash : fmtPrice(t.lastPrice)), unrealisedCell(t), num(fmtPrice(t.stopLoss)), num(fmtPrice(t.takeProfit)), when(t.openedAt)]), { id: 'open-table', label: 'Open trades' })
    : el('p', { class: 'muted' }, 'No open trades.'));
  await closedTrades(closedPage);
  return s;
}

const CLOSED_PER_PAGE = 20;
let closedPage = 1;
/** One page of closed trades, newest first: declared and market prices side by side, PnL at market prices. */
async function closedTrades(page, focusSel) {
  const r = await api('GET', `/api/strategies/${id}/closed-trades?page=${page}&limit=${CLOSED_PER_PAGE}`);
  closedPage = Math.min(page, r.pages);
  const list = r.trades;
  const pnl = (t) => (t.verified ? num(fmtPct(t.pnlPct), signClass(t.pnlPct)) : el('td', {}, unverified()));
  $('#closed').replaceChildren(list.length
    ? table(['Closed', 'Pair', 'Direction', 'Declared entry', 'Market entry', 'Declared exit', 'Market exit', 'PnL (market)', 'PnL (declared)', 'Duration'],
      list.map((t) => [when(t.closedAt), t.pair, t.direction, num(fmtPrice(t.entryPrice)), num(marketCell(t.entryMarketPrice)), num(fmtPrice(t.exitPrice)), num(marketCell(t.exitMarketPrice)), pnl(t), num(fmtPct(t.declaredPnlPct), 'muted'), num(fmtDuration(t.durationSeconds))]),
      { id: 'closed-table', label: 'Closed trades', rowAttrs: (i) => ({ class: list[i].verified ? '' : 'unverified' }) })
    : el('p', { class: 'muted' }, 'No closed trades yet.'));
  const go = (p, sel) => closedTrades(p, sel).catch((err) => say($('#closed'), err.message, false));
  $('#closed-pager').replaceChildren(r.pages > 1
    ? el('div', {},
      el('button', { type: 'button', class: 'secondary', id: 'closed-prev', disabled: r.page <= 1, onclick: () => go(r.page - 1, '#closed-prev') }, '← Newer'),
      el('span', { class: 'muted', id: 'closed-page-info' }, ` Page ${r.page} of ${r.pages} (${plural(r.total, 'closed trade')}) `),
      el('button', { type: 'button', class: 'secondary', id: 'closed-next', disabled: r.page >= r.pages, onclick: () => go(r.page + 1, '#closed-next') }, 'Older →'))
    : '');
  if (focusSel) document.querySelector(focusSel)?.focus();
}

$('#verify').addEventListener('click', async () => {
  const r = await api('GET', `/api/strategies/${id}/verify`);
  const p = r.prices;
  const d = p.divergence;
  const checked = `${p.verifiedSignals} of ${r.signals} signal prices checked against the market (${share(p.verifiedShare)})`;
  const record = r.recomputed.trades
    ? `the record at market prices (${r.recomputed.trades} trades, ${fmtPct(r.recomputed.totalPnlPct)}) matches the published one`
    : 'no trade has verified prices, so there is no verified performance';
  const left = p.unverifiedTrades ? `; ${p.unverifiedTrades} trade(s) price not verified, not counted` : '';
  const text = r.ok
    ? `Verified: ${r.signals} signals, hash chain intact, ${record}; ${checked}${left}.`
    : `NOT verified: ${[
      r.chain.ok ? 'chain intact' : `${r.chain.problems.length} chain problem(s): ${r.chain.problems.slice(0, 3).map((x) => `${x.problem} at seq ${x.seq}`).join(', ')}`,
      r.statsMatch ? 'published statistics match the signals' : 'published statistics differ from the signals',
      d.beyondTolerance ? `declared prices differ from the market by more than ${d.tolerancePct} % on ${d.beyondTolerance} signal(s) (up to ${fmtNum(d.maxPct)} %): the author's claimed record (${fmtPct(r.declared.totalPnlPct)}) is not their performance at market prices (${fmtPct(r.recomputed.totalPnlPct)})` : '',
      checked,
    ].filter(Boolean).join('; ')}.`;
  say($('#verify-result'), text, r.ok);
});

/** An unknown (or malformed) strategy id: say so instead of "Loading…", and stop. */
function notFound(err) {
  document.title = 'Strategy not found · Signal Marketplace';
  $('#main').replaceChildren(el('h1', { id: 'not-found' }, 'Strategy not found'),
    el('p', { class: 'muted' }, err.status === 404 || err.status === 400 ? 'No strategy has this address. ' : `${err.message}. `, el('a', { href: '/' }, 'Back to the strategies'), '.'));
  return new Promise(() => {}); // the rest of the page needs the strategy
}

const strategy = await load().catch(notFound);
addSignals((await api('GET', `/api/strategies/${id}/signals?limit=200`)).signals);
if (session.user()) {
  subscribeForm($('#subscribe'), strategy);
  authorPanel($('#author'), strategy, () => load());
}
// Live: /ws/signals pushes signals of strategies the user is subscribed to; everyone else polls.
liveSignals((sig) => { if (sig.strategyId === id) { addSignals([sig]); load(); } }, (st) => { $('#live').textContent = st === 'live' ? '● live' : ''; });
setInterval(async () => {
  const r = await api('GET', `/api/strategies/${id}/signals?afterSeq=${lastSeq}`).catch(() => null);
  if (r && r.signals.length) { addSignals(r.signals); load(); }
}, 5000);
// Unrealised PnL follows the price feed: the page re-reads the strategy every 15 s while it is visible.
setInterval(() => { if (document.visibilityState === 'visible') load().catch(() => {}); }, 15_000);
