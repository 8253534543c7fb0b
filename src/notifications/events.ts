/**
 * Notification events: the kinds, the per-channel defaults, how a finished execution becomes an event
 * (with a stable id), and the plain-text rendering every channel shares. Messages carry no secrets:
 * reasons pass through `redact` (long tokens, key=value credentials), emails are masked for admins.
 */

export const CHANNELS = ['telegram', 'email', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

export const EVENT_KINDS = [
  'order.filled', 'order.partial', 'order.failed', 'order.skipped', 'keys.refused', 'loss_limit.reached', 'position.closed',
  'author.refused_digest', 'admin.alert',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** On for every linked channel until the user changes them: failures, partial fills, refused keys, loss limit, stop-loss/take-profit closes, digests, alerts. */
export const DEFAULT_EVENTS: readonly EventKind[] = ['order.partial', 'order.failed', 'keys.refused', 'loss_limit.reached', 'position.closed', 'author.refused_digest', 'admin.alert'];

/** Stored settings → the event kinds one channel receives. */
export function eventsFor(stored: unknown, channel: Channel): ReadonlySet<string> {
  const list = (stored as Record<string, unknown> | null)?.[channel];
  return new Set(Array.isArray(list) ? list.filter((k): k is string => typeof k === 'string') : DEFAULT_EVENTS);
}

/** What the deriver reads of one finished execution. */
export interface ExecRow {
  id: string; userId: string; subscriptionId: string; status: 'SUCCESS' | 'PARTIAL' | 'FAILED' | 'SKIPPED';
  error: string | null; pair: string; side: string | null; action: string | null; amount: string | null; price: string | null;
  exchange: string; paper: boolean; strategyName: string; strategyId: string; realisedPnl: string | null;
  /**
   * The signal's source and reason: a CLOSE from the trade monitor carries STOP_LOSS or TAKE_PROFIT. Null on a
   * row of the futures reconciliation (no signal: `action` says what closed the position on the exchange).
   */
  signalSource: string | null; signalReason: string | null;
  /** executedAt as ISO text and its UTC day (formatted by PostgreSQL: no time-zone round trip). */
  at: string; day: string;
}

export interface NotificationEvent { eventId: string; kind: EventKind; payload: Record<string, unknown> }

/**
 * The event of one finished execution. Its id is stable across re-derivations. Repeating conditions
 * collapse into one event per subscription per UTC day: refused keys (every later signal is SKIPPED
 * KEYS_INVALID until new keys are stored) and the daily loss limit.
 */
export function eventOfExecution(e: ExecRow): NotificationEvent {
  const reason = e.error ? redact(e.error) : null;
  const code = reason ? /^([A-Z_]+):/.exec(reason)?.[1] ?? null : null;
  const payload = {
    executionId: e.id, subscriptionId: e.subscriptionId, strategyId: e.strategyId, strategy: e.strategyName, pair: e.pair, action: e.action,
    side: e.side, status: e.status, amount: e.amount, price: e.price, exchange: e.exchange, paper: e.paper, code, reason, realisedPnl: e.realisedPnl,
    at: e.at,
  };
  if (code === 'KEYS_INVALID') return { eventId: `keys:${e.subscriptionId}:${e.day}`, kind: 'keys.refused', payload };
  if (code === 'DAILY_LOSS_LIMIT') return { eventId: `dll:${e.subscriptionId}:${e.day}`, kind: 'loss_limit.reached', payload };
  if (e.status === 'SUCCESS' && e.action === 'CLOSE' && e.signalSource === 'monitor') {
    return { eventId: `exec:${e.id}:${e.status}`, kind: 'position.closed', payload: { ...payload, closeReason: e.signalReason } };
  }
  // The futures reconciliation: the exchange closed the position (its stop, take profit, a liquidation, a close by hand).
  if (e.status === 'SUCCESS' && e.signalSource === null && e.action && EXCHANGE_CLOSES.has(e.action)) {
    return { eventId: `exec:${e.id}:${e.status}`, kind: 'position.closed', payload: { ...payload, closeReason: e.action } };
  }
  const kind: EventKind = e.status === 'SUCCESS' ? 'order.filled' : e.status === 'PARTIAL' ? 'order.partial' : e.status === 'FAILED' ? 'order.failed' : 'order.skipped';
  return { eventId: `exec:${e.id}:${e.status}`, kind, payload };
}

/** `action` of a reconciliation row whose position the exchange closed (RECONCILE_MISMATCH is an order.failed). */
const EXCHANGE_CLOSES = new Set(['STOP_LOSS', 'TAKE_PROFIT', 'LIQUIDATION', 'CLOSED_ON_EXCHANGE']);

/** Removes what could be a credential from free text (exchange error messages, URLs). */
export function redact(text: string): string {
  return text
    .replace(/\b(api[-_]?key|secret|signature|token|password|passphrase)(["']?\s*[=:]\s*["']?)[^\s&"',;]+/gi, '$1$2***')
    .replace(/[A-Za-z0-9+/_=-]{32,}/g, '***')
    .slice(0, 500);
}

/** a***@example.com: enough for an operator to recognise, not to harvest. */
export function maskEmail(email: string): string {
  const [local, domain] = email.split('@');
  if (!domain) return '***';
  return `${local!.slice(0, 1)}***@${domain}`;
}

const TITLES: Record<EventKind, string> = {
  'order.filled': 'Order filled',
  'order.partial': 'Order partly done',
  'order.failed': 'Order failed',
  'order.skipped': 'Order skipped',
  'keys.refused': 'API keys refused',
  'loss_limit.reached': 'Daily loss limit reached',
  'position.closed': 'Position closed (stop loss, take profit or on the exchange)',
  'author.refused_digest': 'Refused webhook deliveries',
  'admin.alert': 'Operator alert',
};

/** A short title for subjects and batched lists. */
export function titleOf(kind: string, payload: Record<string, unknown>): string {
  const t = TITLES[kind as EventKind] ?? kind;
  if (kind === 'admin.alert') return `${payload.state === 'cleared' ? 'Cleared' : 'Alert'}: ${String(payload.title ?? payload.key ?? '')}`;
  if (kind === 'author.refused_digest') return `${t}: ${String(payload.strategy ?? '')}`;
  return payload.pair ? `${t}: ${String(payload.pair)}` : t;
}

const CLOSED_BY: Record<string, string> = {
  TAKE_PROFIT: 'the take profit', STOP_LOSS: 'the stop loss', LIQUIDATION: 'a liquidation on the exchange', CLOSED_ON_EXCHANGE: 'a close in your exchange account (not by this service)',
};

/** Plain text of one event (no markup: nothing to escape, nothing to inject). */
export function renderText(kind: string, p: Record<string, unknown>): string {
  const lines = [titleOf(kind, p)];
  if (kind === 'admin.alert') {
    lines.push(String(p.message ?? ''));
    return lines.join('\n');
  }
  if (kind === 'author.refused_digest') {
    const counts = (p.counts ?? {}) as Record<string, number>;
    lines.push(`Strategy ${String(p.strategy)}: ${Object.entries(counts).map(([r, n]) => `${n} × ${r}`).join(', ')} between ${String(p.from)} and ${String(p.to)} (UTC).`);
    return lines.join('\n');
  }
  const bits = [`strategy ${String(p.strategy ?? '?')}`, p.action ? String(p.action) : '', p.side ? String(p.side) : '', p.amount ? `amount ${String(p.amount)}` : '', p.price ? `at ${String(p.price)}` : '', p.paper ? '(paper)' : ''];
  lines.push(bits.filter(Boolean).join(' '));
  if (p.reason && kind !== 'order.filled') lines.push(`Reason: ${String(p.reason)}`);
  if (kind === 'keys.refused') lines.push('Store new API keys for this subscription on the site; new entries are skipped until then.');
  if (kind === 'position.closed') lines.push(`Closed by ${CLOSED_BY[String(p.closeReason)] ?? 'the trade monitor'}${p.realisedPnl ? `, realised ${String(p.realisedPnl)}` : ''}.`);
  if (kind === 'loss_limit.reached') lines.push('New entries of this subscription resume tomorrow (UTC).');
  return lines.join('\n');
}
