// Admin: operator alerts, everyone's executions, filterable by status and exchange, failures per exchange, last errors.
import { api, baseOf, el, fmtBase, fmtPrice, header, num, requireLogin, say, table, when, $ } from './common.js';

header();
const user = await requireLogin();

/** The filter form as a query (also the page's own address: /admin?status=FAILED&exchange=binance). */
function filters() {
  const q = new URLSearchParams();
  if ($('#status').value) q.set('status', $('#status').value);
  if ($('#exchange').value.trim()) q.set('exchange', $('#exchange').value.trim());
  return q;
}

async function render() {
  const q = filters();
  const [stats, list, alerts] = await Promise.all([api('GET', `/api/admin/execution-stats?${q}`), api('GET', `/api/admin/executions?limit=100&${q}`), api('GET', '/api/admin/alerts')]);
  $('#alerts').replaceChildren(alerts.alerts.length
    ? table(['Alert', 'State', 'Value', 'Threshold', 'Since', 'Message'], alerts.alerts.map((a) => [a.key, el('td', {}, el('span', { class: `badge ${a.active ? 'FAILED' : 'SUCCESS'}` }, a.active ? 'ACTIVE' : 'clear')), a.value ?? '–', a.threshold ?? '–', when(a.since), a.message ?? '']), { id: 'admin-alerts-table', label: 'Operator alerts' })
    : el('p', { class: 'muted' }, 'No alert has been raised.'));
  $('#exchanges').replaceChildren(stats.exchanges.length
    ? table(['Exchange', 'Total', 'Failed', 'Success', 'Pending', 'Skipped'], stats.exchanges.map((x) => [x.exchange, num(x.total), num(x.failed, x.failed ? 'neg' : ''), num(x.counts.SUCCESS ?? 0), num(x.counts.PENDING ?? 0), num(x.counts.SKIPPED ?? 0)]), { id: 'exchange-table', label: 'Executions per exchange' })
    : el('p', { class: 'muted' }, 'No executions.'));
  $('#errors').replaceChildren(stats.lastErrors.length
    ? table(['Time', 'Exchange', 'User', 'Strategy', 'Pair', 'Status', 'Error'], stats.lastErrors.map((e) => [when(e.executedAt ?? e.createdAt), e.exchange, e.userEmail, e.strategyName, e.pair, e.status, e.error]), { id: 'error-table', label: 'Last errors' })
    : el('p', { class: 'muted' }, 'No errors.'));
  const ids = [...new Set(list.executions.map((e) => e.userId))];
  const { users } = ids.length ? await api('GET', `/api/admin/user-emails?ids=${ids.join(',')}`).catch(() => ({ users: {} })) : { users: {} };
  $('#rows').replaceChildren(list.executions.length
    ? table(['Time', 'User', 'Exchange', 'Pair', 'Side', 'Status', 'Order id', 'Price', 'Amount', 'Error'], list.executions.map((e) => [
      when(e.executedAt ?? e.createdAt), el('td', { title: e.userId }, users[e.userId] ?? e.userId), e.exchange, e.pair, e.side ?? '–', el('td', {}, el('span', { class: `badge ${e.status}` }, e.status)),
      e.orderId ?? '–', num(fmtPrice(e.price)), num(fmtBase(e.amount, baseOf(e.pair))), e.error ?? '',
    ]), { id: 'admin-execution-table', label: 'Executions of all users' })
    : el('p', { class: 'muted' }, 'No executions match.'));
}

if (user.role !== 'ADMIN') say($('#msg'), 'This page is for administrators.', false);
else {
  // Filters from the address fill the form; applying them writes them back to it (bookmarkable).
  const from = new URLSearchParams(location.search);
  $('#status').value = from.get('status') ?? '';
  $('#exchange').value = from.get('exchange') ?? '';
  $('#filter').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = filters();
    history.replaceState(null, '', q.size ? `/admin?${q}` : '/admin');
    render().catch((err) => say($('#msg'), err.message, false));
  });
  render().catch((err) => say($('#msg'), err.message, false));
}
