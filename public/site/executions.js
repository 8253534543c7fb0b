// My executions: per-subscription counts and realised PnL, and every order attempt; refreshed live
// when /ws/signals announces a signal (the order follows within moments) and every 5 s.
import { api, baseOf, el, fmtBase, fmtPrice, fmtQuote, header, liveSignals, num, quoteOf, requireLogin, signClass, table, when, $ } from './common.js';

header();
await requireLogin();
const params = new URLSearchParams(location.search);

async function summary() {
  const { subscriptions } = await api('GET', '/api/me/execution-summary');
  const sel = $('#sub');
  if (sel.options.length === 1) {
    for (const s of subscriptions) sel.append(el('option', { value: s.subscriptionId }, `${s.strategyName} · ${s.exchange} (${s.status})`));
    sel.value = params.get('subscriptionId') ?? '';
  }
  $('#summary').replaceChildren(subscriptions.length
    ? table(['Strategy', 'Exchange', 'Status', 'Success', 'Failed', 'Other', 'Realised PnL (quote)'], subscriptions.map((s) => {
      const other = Object.entries(s.counts).filter(([k]) => k !== 'SUCCESS' && k !== 'FAILED').reduce((a, [, v]) => a + v, 0);
      return [s.strategyName, s.exchange, el('td', {}, el('span', { class: `badge ${s.status}` }, s.status)), num(s.counts.SUCCESS ?? 0), num(s.counts.FAILED ?? 0), num(other), num(fmtQuote(s.realisedPnl, ''), signClass(s.realisedPnl))];
    }), { id: 'summary-table', label: 'Executions by subscription' })
    : el('p', { class: 'muted' }, 'No subscriptions.'));
}

async function rows() {
  const sub = $('#sub').value;
  const { executions } = await api('GET', `/api/executions?limit=200${sub ? `&subscriptionId=${sub}` : ''}`);
  $('#rows').replaceChildren(executions.length
    ? table(['Time', 'Pair', 'Side', 'Status', 'Order id', 'Price', 'Amount', 'PnL', 'Error'], executions.map((e) => [
      // A row of the futures reconciliation says what closed the position on the exchange (TAKE_PROFIT, LIQUIDATION…).
      when(e.executedAt ?? e.createdAt), e.pair, e.orderType === 'reconcile' ? [e.side, e.action].filter(Boolean).join(' · ') : e.side ?? e.action ?? '–', el('td', {}, el('span', { class: `badge ${e.status}` }, e.status), e.paper ? ' paper' : ''),
      e.orderId ?? '–', num(fmtPrice(e.price)), num(fmtBase(e.amount, baseOf(e.pair))), num(fmtQuote(e.realisedPnl, quoteOf(e.pair)), signClass(e.realisedPnl)), e.error ?? '',
    ]), { id: 'execution-table', label: 'Executions', rowAttrs: (i) => ({ 'data-status': executions[i].status }) })
    : el('p', { class: 'muted', id: 'no-executions' }, 'No executions yet.'));
}

const refresh = () => Promise.all([summary(), rows()]).catch(() => {});
$('#sub').addEventListener('change', () => rows());
await summary();
await rows();
liveSignals(() => { setTimeout(refresh, 500); setTimeout(refresh, 2000); }, (st) => { $('#live').textContent = st === 'live' ? '● live' : ''; });
setInterval(refresh, 5000);
