// Marketplace list: every strategy with its live track record, computed at the reference market's
// prices from the trades whose prices could be verified; the share of verified signal prices beside it.
import { api, el, fmtPct, fmtNum, header, num, signClass, table, $ } from './common.js';

header();
const dash = '–';
// No trades: no win rate, PnL or drawdown to show (a dash, not "0 %").
const pctOrDash = (v, trades) => (trades && v !== null && v !== undefined ? `${fmtNum(v)} %` : dash);
const share = (v) => (v === null || v === undefined ? dash : `${Math.round(v * 100)} %`);

const { strategies } = await api('GET', '/api/strategies');
const rows = strategies.map((s) => {
  const n = s.stats.trades;
  const pv = s.priceVerification ?? { unverifiedTrades: 0 };
  return [
    el('td', {}, el('a', { href: `/strategies/${s.id}`, class: 'strategy-link' }, s.name), el('div', { class: 'muted' }, s.author ? `by ${s.author}` : 'auto-created')),
    s.pairs.join(', ') || el('span', { class: 'muted', title: 'accepts any pair its reference exchange lists' }, 'any listed pair'),
    num(n),
    num(pctOrDash(s.stats.winRate, n)),
    num(n ? fmtPct(s.stats.totalPnlPct) : dash, n ? signClass(s.stats.totalPnlPct) : ''),
    num(pctOrDash(s.stats.maxDrawdownPct, n)),
    num(fmtNum(s.stats.sharpe)),
    el('td', { class: 'num verified-share' }, share(s.verifiedShare),
      pv.unverifiedTrades ? el('div', { class: 'muted' }, `${pv.unverifiedTrades} trade${pv.unverifiedTrades === 1 ? '' : 's'} price not verified`) : ''),
    num(s.subscribers),
  ];
});
$('#list').replaceChildren(strategies.length
  ? el('div', {},
    table(['Strategy', 'Pairs', 'Trades', 'Win rate', 'Total PnL', 'Max drawdown', 'Sharpe', 'Verified prices', 'Subscribers'], rows, { id: 'strategies' }),
    el('p', { class: 'muted' }, 'Figures use the reference exchange’s price at each signal, not the price the author declared. Trades whose price could not be verified are not counted; “Verified prices” is the share of a strategy’s signals checked against the market.'))
  : el('p', { class: 'muted' }, 'No strategies yet.'));
