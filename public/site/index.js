// Marketplace list: every strategy with its live track record.
import { api, el, fmtPct, fmtNum, header, num, signClass, table, $ } from './common.js';

header();
const { strategies } = await api('GET', '/api/strategies');
const rows = strategies.map((s) => [
  el('td', {}, el('a', { href: `/strategies/${s.id}`, class: 'strategy-link' }, s.name), el('div', { class: 'muted' }, s.author ? `by ${s.author}` : 'auto-created')),
  s.pairs.join(', ') || 'any',
  num(s.stats.trades),
  num(`${fmtNum(s.stats.winRate)} %`),
  num(fmtPct(s.stats.totalPnlPct), signClass(s.stats.totalPnlPct)),
  num(`${fmtNum(s.stats.maxDrawdownPct)} %`),
  num(fmtNum(s.stats.sharpe)),
  num(s.subscribers),
]);
$('#list').replaceChildren(strategies.length
  ? table(['Strategy', 'Pairs', 'Trades', 'Win rate', 'Total PnL', 'Max drawdown', 'Sharpe', 'Subscribers'], rows, { id: 'strategies' })
  : el('p', { class: 'muted' }, 'No strategies yet.'));
