// Strategy page: track record, equity curve, verification, signal history (live), open trades,
// the subscribe form for users and the publishing panel for the strategy's author.
import { api, el, fmtDate, fmtNum, fmtPct, header, liveSignals, num, say, session, signClass, table, $ } from './common.js';
import { authorPanel } from './strategy-author.js';
import { subscribeForm } from './strategy-subscribe.js';

header();
const id = location.pathname.split('/').pop();
const signals = new Map();
let lastSeq = 0;

function statsBox(s, basis, first) {
  const stat = (label, value, cls) => el('div', { class: 'stat' }, el('b', { class: cls }, value), el('span', {}, label));
  $('#stats').replaceChildren(
    stat('Closed trades', String(s.trades)), stat('Win rate', `${fmtNum(s.winRate)} %`),
    stat('Total PnL (compounded)', fmtPct(s.totalPnlPct), signClass(s.totalPnlPct)), stat('Average PnL / trade', fmtPct(s.avgPnlPct), signClass(s.avgPnlPct)),
    stat('Max drawdown', `${fmtNum(s.maxDrawdownPct)} %`), stat('Sharpe (per trade)', fmtNum(s.sharpe)), stat('Sortino (per trade)', fmtNum(s.sortino)),
    stat('First signal', first ? fmtDate(first).slice(0, 10) : '–'),
  );
  if (!$('#basis')) $('#stats').before(el('p', {}, el('span', { class: 'basis', id: 'basis' }, basis)));
}

let chart;
let series;
function drawEquity(points, start) {
  const LC = window.LightweightCharts;
  if (!LC || !points.length) { $('#equity').replaceChildren(el('p', { class: 'muted' }, 'No closed trades yet.')); return; }
  if (!chart) {
    $('#equity').replaceChildren();
    chart = LC.createChart($('#equity'), { autoSize: true, layout: { attributionLogo: true }, timeScale: { timeVisible: true } });
    series = chart.addSeries(LC.AreaSeries, { lineColor: '#2962ff', topColor: 'rgba(41,98,255,0.25)', bottomColor: 'rgba(41,98,255,0.02)' });
  }
  let t = 0;
  // The chart needs strictly increasing times (seconds); trades closed in the same second are spread.
  const data = points.map((p) => { t = Math.max(t + 1, Math.floor(Date.parse(p.time) / 1000)); return { time: t, value: p.equity }; });
  const t0 = Math.min(data[0].time - 1, Math.floor(Date.parse(start ?? points[0].time) / 1000));
  series.setData([{ time: t0, value: 100 }, ...data]);
  chart.timeScale().fitContent();
}

function renderSignals() {
  const list = [...signals.values()].sort((a, b) => b.seq - a.seq);
  const rows = list.map((s) => [
    num(s.seq), fmtDate(s.createdAt), s.pair, `${s.action} ${s.direction}`, num(fmtNum(s.price, 8)),
    s.stopLoss ? fmtNum(s.stopLoss, 8) : '–', s.takeProfit ? fmtNum(s.takeProfit, 8) : '–', s.source,
    s.evidence ? el('td', {}, el('a', { href: s.evidence, target: '_blank' }, el('img', { class: 'evidence', src: s.evidence, alt: `chart at signal ${s.seq}`, loading: 'lazy' }))) : '–',
    el('td', { title: s.hash }, el('code', {}, s.hash.slice(0, 12))),
  ]);
  $('#signals').replaceChildren(list.length
    ? table(['Seq', 'Time', 'Pair', 'Signal', 'Price', 'Stop', 'Target', 'Source', 'Chart', 'Hash'], rows, { id: 'signal-table', rowAttrs: (i) => ({ 'data-seq': list[i].seq }) })
    : el('p', { class: 'muted' }, 'No signals yet.'));
}

function addSignals(list) {
  for (const s of list) if (s.strategyId === id) { signals.set(s.id, s); lastSeq = Math.max(lastSeq, s.seq); }
  renderSignals();
}

async function load() {
  const s = await api('GET', `/api/strategies/${id}`);
  document.title = `${s.name} · Signal Marketplace`;
  $('#head').replaceChildren(el('h1', { id: 'name' }, s.name), el('p', { class: 'muted' }, `by ${s.author ?? 'unknown'} · pairs: ${s.pairs.join(', ') || 'any'} · ${s.subscribers} active subscribers`), s.description ? el('p', {}, s.description) : '');
  statsBox(s.stats, s.basis, s.firstSignalAt);
  drawEquity(s.equityCurve, s.firstSignalAt);
  $('#open').replaceChildren(s.openTrades.length
    ? table(['Pair', 'Direction', 'Entry', 'Stop', 'Target', 'Opened'], s.openTrades.map((t) => [t.pair, t.direction, num(fmtNum(t.entryPrice, 8)), t.stopLoss ?? '–', t.takeProfit ?? '–', fmtDate(t.openedAt)]))
    : el('p', { class: 'muted' }, 'No open trades.'));
  return s;
}

$('#verify').addEventListener('click', async () => {
  const r = await api('GET', `/api/strategies/${id}/verify`);
  const text = r.ok
    ? `Verified: ${r.signals} signals, hash chain intact, statistics recomputed from the signals match (${r.recomputed.trades} trades, ${fmtPct(r.recomputed.totalPnlPct)}).`
    : `NOT verified: ${r.chain.ok ? 'chain intact' : `${r.chain.problems.length} chain problem(s): ${r.chain.problems.slice(0, 3).map((p) => `${p.problem} at seq ${p.seq}`).join(', ')}`}; ${r.statsMatch ? 'statistics match' : 'published statistics differ from the signals'}.`;
  say($('#verify-result'), text, r.ok);
});

const strategy = await load();
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
