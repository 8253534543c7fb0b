/**
 * The matching rule: which subscriptions a signal reaches. Stated once here, in the two forms its two
 * users need: SQL for the executor's intent writer (one INSERT … SELECT per batch of signals) and a
 * Prisma filter plus a fold into pair filters for the WebSocket routing table.
 *
 *   follows(sub, signal)  = sub is ACTIVE and (allPairs or the signal's pair is listed)
 *                           → the subscriber's sockets receive the signal
 *   executes(sub, signal) = sub holds keys and (follows, or the signal is a CLOSE and the subscription
 *                           still holds a position on the pair or has an unfinished row there, whatever
 *                           its status or pair list: leaving a strategy never strands a position)
 *                           → the executor writes an intent (an ExecutionLog row) for it
 *
 * In the SQL the subscription is aliased `sub` ("Subscription") and the signal `s` ("Signal").
 */
import type { Prisma } from '@prisma/client';

/** `follows` as a SQL predicate over `sub` and `s`. */
export const FOLLOWS_SQL = `(sub.status = 'ACTIVE' AND (sub."allPairs" OR s.pair = ANY(sub."subscribedPairs")))`;

/** `executes` as a SQL predicate over `sub` and `s`: the intent writer's WHERE clause. */
export const EXECUTES_SQL = `sub."hasKeys"
  AND (${FOLLOWS_SQL}
    OR (s.action = 'CLOSE' AND (
      EXISTS (SELECT 1 FROM "Position" p WHERE p."subscriptionId" = sub.id AND p.pair = s.pair AND p.qty > 0)
      OR EXISTS (SELECT 1 FROM "ExecutionLog" e WHERE e."subscriptionId" = sub.id AND e.pair = s.pair AND e.status = 'PENDING'))))`;

/** The subscriptions that follow signals at all (their pairs are checked per signal through a PairFilter). */
export const FOLLOWING = { status: 'ACTIVE' } as const satisfies Prisma.SubscriptionWhereInput;

/** The pairs a route admits: `null` for every pair, else the set of listed pairs. */
export type PairFilter = ReadonlySet<string> | null;

/** One user's followed strategies: strategyId → pair filter (several subscriptions to one strategy unite). */
export type UserRoutes = Map<string, PairFilter>;

/** What the routing table reads of a subscription. */
export interface FollowRow { userId: string; strategyId: string; allPairs: boolean; subscribedPairs: string[] }

/** `follows` for one route: does the filter admit the pair? */
export function admits(filter: PairFilter | undefined, pair: string): boolean {
  return filter === null || (filter !== undefined && filter.has(pair));
}

/** A user's FOLLOWING subscriptions as routes: several subscriptions to one strategy unite their pairs. */
export function foldRoutes(subs: readonly Omit<FollowRow, 'userId'>[]): UserRoutes {
  const routes: UserRoutes = new Map();
  for (const s of subs) {
    const prev = routes.get(s.strategyId);
    if (s.allPairs || prev === null) { routes.set(s.strategyId, null); continue; }
    routes.set(s.strategyId, new Set([...(prev ?? []), ...s.subscribedPairs]));
  }
  return routes;
}
