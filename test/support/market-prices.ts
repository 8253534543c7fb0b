/**
 * Sets the reference market's price of accepted signals directly in the database, as the coordinator
 * stores it at acceptance (Signal.marketPrice, and the trade's entryMarketPrice / exitMarketPrice), so
 * track-record tests choose the market independently of any price feed. The strategy's hash chain is
 * then recomputed with the signals module's own hash, so the rows verify whether or not the hash
 * covers the market price.
 */
import type { App } from '../../src/app.js';
import { signalHash } from '../../src/signals/index.js';

const str = (d: { toString(): string } | null) => (d === null ? null : d.toString());

/** `prices` maps signal id → market price (null = not verified). */
export async function setMarketPrices(app: App, strategyId: string, prices: Map<string, number | null> | Record<string, number | null>): Promise<void> {
  const entries = prices instanceof Map ? [...prices] : Object.entries(prices);
  const pool = app.db.pool;
  for (const [id, price] of entries) {
    await pool.query('UPDATE "Signal" SET "marketPrice" = $2 WHERE id = $1', [id, price]);
    await pool.query('UPDATE "Trade" SET "entryMarketPrice" = $2 WHERE "openSignalId" = $1', [id, price]);
    await pool.query('UPDATE "Trade" SET "exitMarketPrice" = $2 WHERE "closeSignalId" = $1', [id, price]);
  }
  await rehash(app, strategyId);
}

/** Recomputes every hash and link of the strategy's chain and its head, in seq order. */
export async function rehash(app: App, strategyId: string): Promise<void> {
  const rows = await app.db.prisma.signal.findMany({ where: { strategyId }, orderBy: { seq: 'asc' } });
  let prev: string | null = null;
  for (const r of rows) {
    const hash = signalHash({ ...r, price: str(r.price)!, marketPrice: str(r.marketPrice), stopLoss: str(r.stopLoss), takeProfit: str(r.takeProfit) } as Parameters<typeof signalHash>[0], prev);
    if (hash !== r.hash || r.prevHash !== prev) await app.db.pool.query('UPDATE "Signal" SET hash = $2, "prevHash" = $3 WHERE id = $1', [r.id, hash, prev]);
    prev = hash;
  }
  await app.db.pool.query('UPDATE "Strategy" SET "lastSignalHash" = $2 WHERE id = $1', [strategyId, prev]);
}
