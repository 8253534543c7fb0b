// Notifications: link Telegram (one-time deep link), email on/off, a signed webhook (secret shown once),
// which events go to which channel, and the delivery log (sent, queued, retrying, dead).
import { api, el, header, requireLogin, say, session, table, when, $ } from './common.js';

header();
await requireLogin();
const CHANNELS = ['telegram', 'email', 'webhook'];
const msg = $('#msg');
let settings;

function render() {
  const c = settings.channels;
  $('#telegram-state').textContent = !c.telegram.available ? 'Telegram is not set up on this server.'
    : c.telegram.linked ? 'A Telegram chat is linked. The bot answers /status, /pause and /resume.' : 'No chat linked yet.';
  $('#telegram-link').hidden = !c.telegram.available;
  $('#telegram-unlink').hidden = !c.telegram.linked;
  $('#email-enabled').checked = c.email.enabled;
  $('#email-enabled').disabled = !c.email.available;
  $('#email-address').textContent = c.email.available ? c.email.address : `${c.email.address} (email is not set up on this server)`;
  $('#webhook-state').textContent = c.webhook.configured ? `Sending to ${c.webhook.url}` : 'No webhook.';
  $('#webhook-remove').hidden = !c.webhook.configured;
  const rows = settings.kinds.map((k) => el('tr', {}, el('th', { scope: 'row' }, k.title),
    CHANNELS.map((ch) => {
      const id = `ev-${ch}-${k.kind.replace(/\W/g, '-')}`;
      return el('td', {}, el('input', { type: 'checkbox', id, 'data-channel': ch, 'data-kind': k.kind, 'aria-label': `${k.title} by ${ch}`, checked: settings.events[ch].includes(k.kind) }));
    })));
  $('#events').replaceChildren(el('div', { class: 'table-wrap' }, el('table', { id: 'events-table' }, el('thead', {}, el('tr', {}, el('th', {}, 'Event'), CHANNELS.map((ch) => el('th', {}, ch)))), el('tbody', {}, rows))));
}

async function load() { settings = await api('GET', '/api/notifications/settings'); render(); }

async function deliveries() {
  const { deliveries: list } = await api('GET', '/api/notifications/deliveries?limit=100');
  $('#deliveries').replaceChildren(list.length
    ? table(['Time', 'Channel', 'Event', 'Status', 'Attempts', 'Error', 'Event id'], list.map((d) => [
      when(d.createdAt), d.channel, d.title, el('td', {}, el('span', { class: `badge ${d.status}` }, d.status)), String(d.attempts), d.lastError ?? '', d.eventId,
    ]), { id: 'delivery-table', label: 'Delivery log', rowAttrs: (i) => ({ 'data-status': list[i].status }) })
    : el('p', { class: 'muted', id: 'no-deliveries' }, 'Nothing sent yet.'));
}

const act = (f) => async (e) => { e?.preventDefault(); try { await f(); } catch (err) { say(msg, err.message, false); } };

$('#telegram-link').addEventListener('click', act(async () => {
  const r = await api('POST', '/api/notifications/telegram/link');
  $('#telegram-deeplink').replaceChildren('Open ', el('a', { href: r.url, target: '_blank', rel: 'noopener' }, 'this link'), ` in Telegram within 15 minutes, or send the bot: ${r.command}`);
}));
$('#telegram-unlink').addEventListener('click', act(async () => { settings = await api('DELETE', '/api/notifications/telegram'); render(); say(msg, 'Telegram unlinked.'); }));
$('#email-enabled').addEventListener('change', act(async () => { settings = await api('PUT', '/api/notifications/settings', { emailEnabled: $('#email-enabled').checked }); render(); say(msg, 'Email setting saved.'); }));
$('#webhook-form').addEventListener('submit', act(async () => {
  const r = await api('POST', '/api/notifications/webhook', { url: $('#webhook-url').value });
  $('#webhook-secret').textContent = `Signing secret (shown only now, store it): ${r.secret}`;
  await load();
}));
$('#webhook-remove').addEventListener('click', act(async () => { settings = await api('DELETE', '/api/notifications/webhook'); $('#webhook-secret').textContent = ''; render(); }));
$('#events-form').addEventListener('submit', act(async () => {
  const events = Object.fromEntries(CHANNELS.map((ch) => [ch, [...document.querySelectorAll(`#events input[data-channel="${ch}"]:checked`)].map((i) => i.dataset.kind)]));
  settings = await api('PUT', '/api/notifications/settings', { events });
  render();
  say(msg, 'Event choices saved.');
}));

async function alerts() {
  if (session.user()?.role !== 'ADMIN') return;
  const { alerts: list } = await api('GET', '/api/admin/alerts');
  $('#admin-alerts').hidden = false;
  $('#alerts').replaceChildren(list.length
    ? table(['Alert', 'State', 'Value', 'Threshold', 'Since', 'Message'], list.map((a) => [a.key, a.active ? 'ACTIVE' : 'clear', a.value ?? '–', a.threshold ?? '–', when(a.since), a.message ?? '']), { id: 'alerts-table', label: 'Operator alerts' })
    : el('p', { class: 'muted' }, 'No alert has fired.'));
}

await act(load)();
await act(deliveries)();
await act(alerts)();
setInterval(() => { deliveries().catch(() => {}); alerts().catch(() => {}); }, 10_000);
