// Marketplace list: strategies with their live track record, computed at the reference market's prices
// from the trades whose prices could be verified, and the share of verified signal prices. Sorting,
// search, filters and pages are done by the server (GET /api/strategies); the state lives in the URL,
// so a sorted, filtered page can be bookmarked and the back button works.
import { api, el, fmtAge, fmtNum, fmtPct, header, num, sparkline, signClass, table, when, $ } from './common.js';

header();
const dash = '–';
const PERIOD_TEXT = { '7d': '7 d', '30d': '30 d', '90d': '90 d', all: 'all time' };
const TEXT_SORTS = new Set(['name', 'author', 'pairs']);
const DEFAULTS = { sort: 'created', order: 'desc', q: '', pair: '', minTrades: '', age: '', period: '30d', page: '1' };
// No trades: no win rate, PnL or drawdown to show (a dash, not "0 %").
const pctOrDash = (v, trades) => (trades && v !== null && v !== undefined ? `${fmtNum(v)} %` : dash);
const share = (v) => (v === null || v === undefined ? dash : `${Math.round(v * 100)} %`);

/** The list's state, from the URL (unknown values fall back to the defaults). */
function readState() {
  const p = new URLSearchParams(location.search);
  return Object.fromEntries(Object.entries(DEFAULTS).map(([k, d]) => [k, p.get(k) ?? d]));
}
let state = readState();

/** Columns: header text, the API's sort key, and the cell of a row. */
const columns = () => [
  { label: 'Strategy', sort: 'name', cell: (s) => el('td', {}, el('a', { href: `/strategies/${s.id}`, class: 'strategy-link' }, s.name)) },
  { label: 'Author', sort: 'author', cell: (s) => (s.author ? s.author : el('span', { class: 'muted' }, 'auto-created')) },
  { label: 'Pairs', sort: 'pairs', cell: (s) => s.pairs.join(', ') || el('span', { class: 'muted', title: 'accepts any pair its reference exchange lists' }, 'any listed pair') },
  { label: 'Trades', sort: 'trades', num: true, cell: (s) => num(s.stats.trades) },
  { label: 'Win rate', sort: 'winRate', num: true, cell: (s) => num(pctOrDash(s.stats.winRate, s.stats.trades)) },
  { label: 'Total PnL', sort: 'totalPnl', num: true, cell: (s) => (s.stats.trades ? num(fmtPct(s.stats.totalPnlPct), signClass(s.stats.totalPnlPct)) : num(dash)) },
  { label: `Return ${PERIOD_TEXT[state.period] ?? ''}`, sort: 'return', num: true, cell: periodCell },
  { label: 'Max drawdown', sort: 'maxDrawdown', num: true, cell: (s) => num(pctOrDash(s.stats.maxDrawdownPct, s.stats.trades)) },
  { label: 'Sharpe', sort: 'sharpe', num: true, cell: (s) => num(fmtNum(s.stats.sharpe)) },
  { label: 'Verified prices', sort: 'verifiedShare', num: true, cell: verifiedCell },
  { label: 'Subscribers', sort: 'subscribers', num: true, cell: (s) => num(s.subscribers) },
  { label: 'Age', sort: 'created', num: true, cell: (s) => num(when(s.createdAt, fmtAge(s.createdAt))) },
];

function periodCell(s) {
  const v = s.periodReturnPct;
  const label = v === null || v === undefined ? 'no closed trades' : `equity over ${PERIOD_TEXT[state.period]}: ${fmtPct(v)}`;
  return el('td', { class: `num period ${v === null ? '' : signClass(v)}`.trim() },
    el('span', { class: 'period-value' }, v === null || v === undefined ? dash : fmtPct(v)), s.sparkline?.length ? sparkline(s.sparkline, label) : '');
}

function verifiedCell(s) {
  const pv = s.priceVerification ?? { unverifiedTrades: 0 };
  return el('td', { class: 'num verified-share' }, share(s.verifiedShare),
    pv.unverifiedTrades ? el('div', { class: 'muted' }, `${pv.unverifiedTrades} trade${pv.unverifiedTrades === 1 ? '' : 's'} price not verified`) : '');
}

/** A header cell: a button that sorts by its column (again: the other way), with aria-sort on the sorted one. */
function sortHeader(c) {
  const active = state.sort === c.sort;
  const arrow = active ? (state.order === 'asc' ? '▲' : '▼') : '';
  const th = el('th', { class: c.num ? 'num' : '', scope: 'col', 'aria-sort': active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none' },
    el('button', { type: 'button', class: 'sort', 'data-sort': c.sort, onclick: () => sortBy(c.sort) }, c.label, el('span', { class: 'arrow', 'aria-hidden': 'true' }, arrow)));
  return th;
}

function sortBy(key) {
  const order = state.sort === key ? (state.order === 'asc' ? 'desc' : 'asc') : TEXT_SORTS.has(key) ? 'asc' : 'desc';
  update({ sort: key, order, page: '1' }, `[data-sort="${key}"]`);
}

/** The API query for the current state. */
function query() {
  const p = new URLSearchParams({ sort: state.sort, order: state.order, period: state.period, page: state.page, limit: '25' });
  if (state.q.trim()) p.set('q', state.q.trim());
  if (state.pair.trim()) p.set('pair', state.pair.trim());
  if (state.minTrades !== '') p.set('minTrades', state.minTrades);
  const [kind, days] = state.age.split(':');
  if (kind === 'min' || kind === 'max') p.set(kind === 'min' ? 'minAgeDays' : 'maxAgeDays', days);
  return p;
}

let requestNo = 0;
/** Fetches and draws the current page; an answer to an older request is dropped. */
async function render(focusSel) {
  const mine = ++requestNo;
  $('#list').setAttribute('aria-busy', 'true');
  let body;
  try {
    body = await api('GET', `/api/strategies?${query()}`);
  } catch (err) {
    if (mine !== requestNo) return;
    $('#list').removeAttribute('aria-busy');
    $('#list-status').textContent = err.status === 400 ? `Check the filters: ${err.message}` : `Could not load the strategies: ${err.message}`;
    return;
  }
  if (mine !== requestNo) return;
  draw(body);
  if (focusSel) document.querySelector(focusSel)?.focus();
}

function draw(body) {
  const list = body.strategies;
  const cols = columns();
  const t = table(cols.map((c) => c.label), list.map((s) => cols.map((c) => c.cell(s))), { id: 'strategies', label: 'Strategies' });
  t.querySelector('thead tr').replaceChildren(...cols.map(sortHeader));
  $('#list').removeAttribute('aria-busy');
  const filtered = state.q || state.pair || state.minTrades !== '' || state.age;
  $('#list-status').textContent = body.total
    ? `${fmtNum(body.total, 0)} strateg${body.total === 1 ? 'y' : 'ies'}${filtered ? ' match' : ''} · page ${body.page} of ${body.pages}`
    : '';
  $('#list').replaceChildren(list.length
    ? el('div', {}, t,
      el('p', { class: 'muted' }, 'Figures use the reference exchange’s price at each signal, not the price the author declared. Trades whose price could not be verified are not counted; “Verified prices” is the share of a strategy’s signals checked against the market. The return column compounds the trades closed in the chosen period; its line shows the equity across the period.'))
    : el('p', { class: 'muted', id: 'no-results' }, filtered ? 'No strategy matches these filters.' : body.total ? 'No strategies on this page.' : 'No strategies yet.'));
  pager(body);
}

function pager(body) {
  const go = (page, sel) => update({ page: String(page) }, sel);
  $('#pager').replaceChildren(body.pages > 1
    ? el('div', {},
      el('button', { type: 'button', class: 'secondary', id: 'page-prev', disabled: body.page <= 1, onclick: () => go(body.page - 1, '#page-prev') }, '← Previous'),
      el('span', { class: 'muted', id: 'page-info' }, ` Page ${body.page} of ${body.pages} `),
      el('button', { type: 'button', class: 'secondary', id: 'page-next', disabled: body.page >= body.pages, onclick: () => go(body.page + 1, '#page-next') }, 'Next →'))
    : '');
}

/** Changes the state, writes it to the URL (defaults left out) and redraws. */
function update(change, focusSel) {
  state = { ...state, ...change };
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (v !== DEFAULTS[k] && v !== '') p.set(k, v);
  const qs = p.toString();
  history.replaceState(null, '', qs ? `/?${qs}` : '/');
  render(focusSel);
}

/** The filter form: fields show the state; typing searches after a short pause, the others at once. */
function bindFilters() {
  const fields = { q: '#f-q', pair: '#f-pair', minTrades: '#f-min-trades', age: '#f-age', period: '#f-period' };
  for (const [k, sel] of Object.entries(fields)) $(sel).value = state[k];
  let timer;
  for (const [k, sel] of Object.entries(fields)) {
    const input = $(sel);
    const apply = () => { if (input.checkValidity()) update({ [k]: input.value, page: '1' }); };
    if (input.tagName === 'SELECT') input.addEventListener('change', apply);
    else input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(apply, 300); });
  }
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); update({ q: $('#f-q').value, pair: $('#f-pair').value, minTrades: $('#f-min-trades').value, page: '1' }); });
}

bindFilters();
render();
