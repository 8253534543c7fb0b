// "New strategy" on the marketplace page for a signed-in AUTHOR (or ADMIN): name, description, pairs and
// max lag. The webhook secret is shown once: it is handed to the new strategy's page (sessionStorage of this
// tab, read once there) so the TradingView alert message can carry it.
import { api, el, say, session } from './common.js';

export const NEW_SECRET_KEY = (id) => `sm.newSecret.${id}`;

const box = document.getElementById('new-strategy');
const user = session.user();
if (box && user && (user.role === 'AUTHOR' || user.role === 'ADMIN')) {
  const msg = el('div', { id: 'new-strategy-msg' });
  const name = el('input', { id: 'new-name', type: 'text', required: true, maxlength: '100' });
  const description = el('textarea', { id: 'new-description', maxlength: '5000', rows: '3' });
  const pairs = el('input', { id: 'new-pairs', type: 'text', placeholder: 'BTC/USDT, ETH/USDT (empty: any pair)' });
  const lag = el('input', { id: 'new-lag', type: 'number', min: '1', max: '86400', step: '1', value: '60' });
  const form = el('form', { class: 'stack', id: 'new-strategy-form' },
    el('label', { for: 'new-name' }, 'Name'), name, el('label', { for: 'new-description' }, 'Description'), description,
    el('label', { for: 'new-pairs' }, 'Pairs (comma-separated)'), pairs,
    el('label', { for: 'new-lag' }, 'Refuse webhook alerts older than (seconds)'), lag,
    el('button', { type: 'submit', id: 'new-create' }, 'Create strategy'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const s = await api('POST', '/api/strategies', {
        name: name.value, description: description.value || undefined, maxLagSeconds: Number(lag.value),
        pairs: pairs.value.split(/[\s,]+/).filter(Boolean),
      });
      sessionStorage.setItem(NEW_SECRET_KEY(s.id), s.webhookSecret);
      msg.replaceChildren(el('div', { class: 'msg ok' }, 'Created. Webhook secret (shown once, copy it now): ', el('code', { class: 'secret', id: 'created-secret' }, s.webhookSecret), ' ',
        el('a', { href: `/strategies/${s.id}`, id: 'created-link' }, 'Open the strategy page (webhook URL and alert message)')));
    } catch (err) { say(msg, err.message, false); }
  });
  box.replaceChildren(el('details', { class: 'card', id: 'new-strategy-card' }, el('summary', {}, 'New strategy'), form, msg));
}
