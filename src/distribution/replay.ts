/**
 * Replay for RESUME {lastSeq}: the signals a user may see (their current ACTIVE subscriptions and
 * pairs) with seq > lastSeq, read from PostgreSQL. At most `limit` are replayed: when more were
 * missed, the newest `limit` are returned with the seq range the client must fetch over REST.
 */
import type { Prisma, PrismaClient } from '@prisma/client';
import { toSignal, type Signal } from '../signals/index.js';
import type { UserRoutes } from './subscription-index.js';

/** More than this many missed signals → GAP, then the newest this many (docs/protocol.md). */
export const REPLAY_LIMIT = 1000;

export interface ReplayResult {
  /** Ascending seq. */
  signals: Signal[];
  /** Present when older missed signals were left out: fetch seq fromSeq..toSeq over REST. */
  gap?: { fromSeq: number; toSeq: number };
}

export async function missedSignals(prisma: PrismaClient, routes: UserRoutes, lastSeq: number, limit = REPLAY_LIMIT): Promise<ReplayResult> {
  if (!routes.size) return { signals: [] };
  const visible: Prisma.SignalWhereInput[] = [];
  const all = [...routes].filter(([, pairs]) => pairs === null).map(([id]) => id);
  if (all.length) visible.push({ strategyId: { in: all } });
  for (const [strategyId, pairs] of routes) if (pairs) visible.push({ strategyId, pair: { in: [...pairs] } });
  const rows = await prisma.signal.findMany({
    where: { seq: { gt: BigInt(lastSeq) }, OR: visible },
    orderBy: { seq: 'desc' },
    take: limit + 1,
  });
  const kept = rows.slice(0, limit).reverse().map(toSignal);
  if (rows.length <= limit) return { signals: kept };
  return { signals: kept, gap: { fromSeq: lastSeq + 1, toSeq: kept[0]!.seq - 1 } };
}
