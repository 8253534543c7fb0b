// Shared by every page: API calls with the stored token, the header, small DOM and number helpers,
// and the /ws/signals connection for live updates. Data is put into the page with textContent only.
const TOKEN = 'sm.token';
const USER = 'sm.user';

export const session = {
  token: () => localStorage.getItem(TOKEN),
  user: () => { try { return JSON.parse(localStorage.getItem(USER) || 'null'); } catch { return null; } },
  save(token, user) { localStorage.setItem(TOKEN, token); localStorage.setItem(USER, JSON.stringify(user)); },
  clear() { localStorage.removeItem(TOKEN); localStorage.removeItem(USER); },
};

/** Calls the API; resolves with the JSON body, rejects with an Error carrying code and status. */
export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data?.error?.message || `request failed (${res.status})`);
    err.code = data?.error?.code; err.status = res.status;
    if (res.status === 401 && token) session.clear();
    throw err;
  }
  return data;
}

/** Creates an element: el('td', { class: 'num' }, 'text', child, ...). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

export const $ = (sel) => document.querySelector(sel);
export const fmtPct = (n) => (n === null || n === undefined ? '–' : `${n > 0 ? '+' : ''}${Number(n).toFixed(2)} %`);
const missing = (n) => n === null || n === undefined || n === '' || !Number.isFinite(Number(n));
export const fmtNum = (n, d = 2) => (missing(n) ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d }));
/** The quote currency of "BASE/QUOTE" (USDT when unknown). */
export const quoteOf = (pair) => (typeof pair === 'string' && pair.includes('/') ? pair.split('/')[1] : 'USDT');
/** The base asset of "BASE/QUOTE" ('' when unknown). */
export const baseOf = (pair) => (typeof pair === 'string' && pair.includes('/') ? pair.split('/')[0] : '');
/** Money in the quote currency: 2 decimals with thousands separators, e.g. 2.999997 → "3.00 USDT". */
export function fmtQuote(n, quote = 'USDT') {
  if (missing(n)) return '–';
  const v = Math.round(Number(n) * 100) / 100;
  const s = (Object.is(v, -0) ? 0 : v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return quote ? `${s} ${quote}` : s;
}
/**
 * A base-asset quantity: the market's precision (decimals) when known, else up to 8 decimals with float
 * noise and trailing zeros dropped (0.34872156000000004 → "0.34872156").
 */
export function fmtBase(n, asset = '', precision) {
  if (missing(n)) return '–';
  const d = Number.isInteger(precision) && precision >= 0 && precision <= 12 ? precision : 8;
  const s = Number(Number(n).toFixed(d)).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: Number.isInteger(precision) ? d : 0 });
  return asset ? `${s} ${asset}` : s;
}
/** A price: thousands separators everywhere; decimals by magnitude (67,000 · 3,050.5 · 1.2345 · 0.00001234). */
export function fmtPrice(n) {
  if (missing(n)) return '–';
  const v = Math.abs(Number(n));
  const d = v >= 1000 ? 2 : v >= 1 ? 4 : 8;
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: d });
}
/** "1 active subscriber", "2 active subscribers". */
export const plural = (n, one, many = `${one}s`) => `${fmtNum(n, 0)} ${Number(n) === 1 ? one : many}`;
const pad = (x) => String(x).padStart(2, '0');
/** A date in the user's time zone: "2026-12-03 19:27:30" (see `when` for the element with UTC on hover). */
export function fmtDate(s) {
  if (!s) return '–';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return '–';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
/** The UTC form of a date, for the title (hover) of a local date. */
export const fmtUtc = (s) => (s && !Number.isNaN(new Date(s).getTime()) ? `${new Date(s).toISOString().replace('T', ' ').slice(0, 19)} UTC` : '');
/**
 * How every page shows a date: a <time> element with `text` (default: the local date and time, fmtDate)
 * and the UTC date on hover (title). '–' without a date.
 */
export const when = (s, text = fmtDate(s)) => (s && !Number.isNaN(new Date(s).getTime()) ? el('time', { datetime: new Date(s).toISOString(), title: fmtUtc(s) }, text) : '–');
/** Lightweight Charts options that label its time axis and crosshair in the user's time zone (the chart's own are UTC). */
export function localChartTime() {
  const hm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  // tickMarkType: 0 year, 1 month, 2 day of month, 3 time, 4 time with seconds.
  const tick = (t, type) => {
    const d = new Date(t * 1000);
    return [String(d.getFullYear()), MONTH[d.getMonth()], String(d.getDate()), hm(d), `${hm(d)}:${pad(d.getSeconds())}`][type] ?? fmtDate(d);
  };
  return { localization: { timeFormatter: (t) => fmtDate(t * 1000) }, timeScale: { timeVisible: true, tickMarkFormatter: tick } };
}
export const signClass = (n) => (n > 0 ? 'pos' : n < 0 ? 'neg' : '');
/** A duration in seconds: "45 s", "12 min", "3 h 5 min", "4 d 2 h". */
export function fmtDuration(sec) {
  if (missing(sec) || sec < 0) return '–';
  const m = Math.floor(sec / 60); const h = Math.floor(m / 60); const d = Math.floor(h / 24);
  if (d) return `${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
  if (h) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return m ? `${m} min` : `${Math.round(sec)} s`;
}
/** How long ago a date was, in whole days: "today", "1 day", "40 days", "2.1 years". */
export function fmtAge(s) {
  const days = Math.floor((Date.now() - new Date(s).getTime()) / 86_400_000);
  if (!Number.isFinite(days)) return '–';
  if (days < 1) return 'today';
  return days >= 365 ? `${(days / 365).toFixed(1)} years` : plural(days, 'day');
}
/** An inline SVG line of `points` (equity, 100 = start), green when it ends above its start, red below. */
export function sparkline(points, label, w = 90, h = 26) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  for (const [k, v] of Object.entries({ width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': label, class: 'spark' })) svg.setAttribute(k, String(v));
  if (!points?.length) return svg;
  const lo = Math.min(...points); const hi = Math.max(...points); const span = hi - lo || 1;
  const xy = points.map((p, i) => `${((i / Math.max(1, points.length - 1)) * (w - 2) + 1).toFixed(1)},${(h - 1 - ((p - lo) / span) * (h - 2)).toFixed(1)}`);
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute('points', xy.join(' '));
  line.setAttribute('class', points.at(-1) > points[0] ? 'up' : points.at(-1) < points[0] ? 'down' : 'flat');
  svg.append(line);
  return svg;
}

/** What to grant an API key for `market` (spot | futures), shown next to every key field. */
export const keyGuidanceText = (market = 'spot') => `Create a key for this server only: enable ${market === 'futures' ? 'USDT-margined futures trading only' : 'spot trading only'}; never enable withdrawals; restrict the key to this server's IP address (the exchange's IP allow-list).`;
export function keyGuidance(id, market = 'spot') {
  return el('p', { class: 'key-guidance', id }, keyGuidanceText(market));
}

/** What leverage does, next to every leverage field. */
export const LEVERAGE_RISK = 'Leverage multiplies gains and losses. The order size is the margin; margin × leverage is the position. '
  + 'At 10× a move of about 10 % against the position loses its whole margin, and the exchange liquidates it before that. '
  + 'Isolated margin puts only each position\'s margin at risk; cross margin backs every position with your whole futures balance (on Bybit the mode is account-wide).';

/**
 * Leverage and margin mode of a futures subscription (subscribe and edit forms), with the risk explained.
 * @returns the fields' box and their values for the API ({ leverage, marginMode })
 */
export function futuresFields(idPrefix, current = {}) {
  const leverage = el('input', { type: 'number', id: `${idPrefix}-leverage`, class: 'fut-leverage', min: '1', max: '125', step: '1', required: true,
    value: String(current.leverage ?? 1), 'aria-describedby': `${idPrefix}-leverage-risk` });
  const margin = el('select', { id: `${idPrefix}-margin`, class: 'fut-margin' },
    el('option', { value: 'isolated', selected: current.marginMode !== 'cross' }, 'Isolated'),
    el('option', { value: 'cross', selected: current.marginMode === 'cross' }, 'Cross'));
  const box = el('div', { class: 'futures-fields' },
    el('label', { for: leverage.id }, 'Leverage (1–125×; the exchange may allow less for a pair)'), leverage,
    el('label', { for: margin.id }, 'Margin mode'), margin,
    el('p', { class: 'key-guidance leverage-risk', id: `${idPrefix}-leverage-risk` }, LEVERAGE_RISK));
  return { box, values: () => ({ leverage: Number(leverage.value), marginMode: margin.value }) };
}

/** "binance", or "bybit futures 5× cross" for a futures subscription. */
export const venueText = (s) => (s.market === 'futures' ? `${s.exchange} futures ${s.leverage}× ${s.marginMode}` : s.exchange);

/** Shows a message in `box` (an element): ok or error. */
export function say(box, text, ok = true) {
  box.replaceChildren(el('div', { class: `msg ${ok ? 'ok' : 'err'}`, role: 'status' }, text));
}

/** Renders the header navigation for the current session. */
export function header() {
  const user = session.user();
  const links = [el('a', { class: 'brand', href: '/' }, 'Signal Marketplace'), el('a', { href: '/' }, 'Strategies')];
  if (user) {
    links.push(el('a', { href: '/subscriptions' }, 'My subscriptions'), el('a', { href: '/executions' }, 'My executions'), el('a', { href: '/notifications' }, 'Notifications'));
    if (user.role === 'ADMIN') links.push(el('a', { href: '/admin' }, 'Admin'));
    links.push(el('span', { class: 'who', id: 'who' }, `${user.email} (${user.role})`));
    links.push(el('a', { href: '#', id: 'logout', onclick: (e) => { e.preventDefault(); session.clear(); location.href = '/'; } }, 'Log out'));
  } else {
    links.push(el('a', { href: '/login' }, 'Log in'), el('a', { href: '/register' }, 'Register'));
  }
  document.body.prepend(el('header', { class: 'top' }, links));
  if (!document.querySelector('link[rel="icon"]')) document.head.append(el('link', { rel: 'icon', href: '/favicon.ico', type: 'image/svg+xml' }));
  modeBanner();
}

/**
 * Sends to /login unless signed in. Use as `const user = await requireLogin();`: signed out, it starts the
 * redirect and returns a promise that never settles, so the page script stops without an uncaught error.
 */
export function requireLogin() {
  const user = session.user();
  if (!user || !session.token()) { location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`; return new Promise(() => {}); }
  return user;
}

/** The paper/live banner under the header for a signed-in user (trading mode from GET /api/me). */
async function modeBanner() {
  if (!session.token()) return;
  const me = await api('GET', '/api/me').catch(() => null);
  if (!me?.tradingMode) return;
  const live = me.tradingMode === 'live';
  const text = live ? 'LIVE trading: orders on your exchange account use real money.' : 'PAPER trading: orders are simulated on this server; no real order is placed.';
  document.querySelector('header.top')?.after(el('div', { class: `mode-banner ${me.tradingMode}`, id: 'mode-banner', role: 'note' }, text));
}

/**
 * Live signals over /ws/signals (only signals of strategies with an ACTIVE subscription reach the user).
 * Each connect first asks POST /api/ws-ticket for a single-use ticket (valid 30 s) and opens
 * ?ticket=<it>, so the long-lived JWT never appears in a URL or an access log. Reconnects with RESUME
 * from the last seq seen. `onStatus` gets 'live' | 'offline'.
 */
export function liveSignals(onSignal, onStatus = () => {}) {
  if (!session.token() || !('WebSocket' in window)) { onStatus('offline'); return; }
  let lastSeq = 0;
  let delay = 1000;
  const retry = (wait = delay) => { onStatus('offline'); setTimeout(connect, wait); delay = Math.min(delay * 2, 30_000); };
  const connect = async () => {
    let ticket;
    try {
      ({ ticket } = await api('POST', '/api/ws-ticket'));
    } catch (err) {
      if (err.status === 401) { onStatus('offline'); return; } // signed out (api() cleared the session)
      retry();
      return;
    }
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${proto}://${location.host}/ws/signals?ticket=${encodeURIComponent(ticket)}`);
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === 'WELCOME') { onStatus('live'); delay = 1000; if (lastSeq) ws.send(JSON.stringify({ type: 'RESUME', lastSeq })); else lastSeq = m.seq; }
      if (m.type === 'SIGNAL') { lastSeq = Math.max(lastSeq, m.seq); onSignal(m.signal); }
    };
    // 1008: this user already has the most sockets allowed (other tabs); wait the longest before trying again.
    ws.onclose = (ev) => retry(ev.code === 1008 ? 30_000 : delay);
  };
  connect();
}

/**
 * A table: `head` strings, `rows` arrays of cells (text or <td> elements); opts.rowAttrs(i) per row,
 * opts.label names it for screen readers (its box is a focusable region: a wide table scrolls by keyboard too).
 */
export function table(head, rows, opts = {}) {
  const th = head.map((h) => el('th', { scope: 'col' }, h));
  const trs = rows.map((cells, i) => el('tr', (opts.rowAttrs && opts.rowAttrs(i)) || {}, cells.map((c) => (c instanceof HTMLTableCellElement ? c : el('td', {}, c)))));
  // Wrapped: a wide table scrolls inside its own box instead of widening the page (375 px screens).
  return el('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': opts.label ?? 'Table' },
    el('table', { id: opts.id }, el('thead', {}, el('tr', {}, th)), el('tbody', {}, trs)));
}

export const num = (v, cls = '') => el('td', { class: `num ${cls}`.trim() }, v);
