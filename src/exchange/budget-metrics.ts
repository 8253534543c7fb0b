/**
 * Operator view of the venue budget: counters on the app's registry and a log line whenever a venue
 * tells us to slow down (a 418 is an IP ban: error level).
 *   exchange_budget_refused_total{venue,traffic,reason}  calls failed unsent (budget spent / venue pause)
 *   exchange_rate_limited_total{venue,status}            429/418/403-ban answers from venues
 */
import client, { type Registry } from 'prom-client';
import type { Logger } from '../lib/logger.js';
import type { BudgetEvents } from './budget.js';

/** Budget events wired to `registry` and `log`. */
export function budgetEvents(registry: Registry, log: Logger): BudgetEvents {
  const refused = new client.Counter({ name: 'exchange_budget_refused_total', help: 'Exchange calls not sent: the venue budget share was spent or the venue asked us to pause', labelNames: ['venue', 'traffic', 'reason'], registers: [registry] });
  const limited = new client.Counter({ name: 'exchange_rate_limited_total', help: 'Rate-limit answers from venues (429, 418 ban, Bybit 403)', labelNames: ['venue', 'status'], registers: [registry] });
  return {
    refused: (venue, traffic, reason) => refused.inc({ venue, traffic, reason }),
    paused: (venue, scope, ms, status) => {
      limited.inc({ venue, status: String(status) });
      const fields = { venue, status, holdsBack: scope === 'all' ? 'every call' : 'non-order calls', pauseMs: Math.round(ms) };
      if (status === 429) log.warn(fields, 'exchange rate limit reached; holding calls back');
      else log.error(fields, 'exchange banned this server\'s IP; holding every call back');
    },
  };
}
