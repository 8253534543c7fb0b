-- Money safety (issue 16).

-- The reference exchange's last price when the signal was accepted (null: no price at hand, "not verified").
ALTER TABLE "Signal" ADD COLUMN "marketPrice" DECIMAL(30,12);

-- Market prices of the entry and exit signals of a trade: track records are computed from them.
ALTER TABLE "Trade" ADD COLUMN "entryMarketPrice" DECIMAL(30,12);
ALTER TABLE "Trade" ADD COLUMN "exitMarketPrice" DECIMAL(30,12);
-- Prices range over [1e-12, 1e15): a PnL % can reach ~1e29, beyond DECIMAL(20,8) , a numeric overflow.
ALTER TABLE "Trade" ALTER COLUMN "pnlPct" TYPE DECIMAL(40,8);

-- An OPEN further than this from the venue's price is SKIPPED PRICE_MOVED (percent).
ALTER TABLE "Subscription" ADD COLUMN "maxSlippagePercent" DOUBLE PRECISION NOT NULL DEFAULT 2;

-- One live (ACTIVE or PAUSED) subscription per user and strategy: two would place two orders per signal.
-- Earlier duplicates are cancelled first, keeping the newest live one (a cancelled subscription still
-- closes what it holds).
UPDATE "Subscription" s SET status = 'CANCELLED', "updatedAt" = now()
WHERE s.status IN ('ACTIVE', 'PAUSED') AND EXISTS (
  SELECT 1 FROM "Subscription" t
  WHERE t."userId" = s."userId" AND t."strategyId" = s."strategyId" AND t.status IN ('ACTIVE', 'PAUSED')
    AND (t."createdAt", t.id) > (s."createdAt", s.id));
-- Partial index: kept in SQL only, like "Trade_one_active_per_pair".
CREATE UNIQUE INDEX "Subscription_one_live_per_user_strategy" ON "Subscription" ("userId", "strategyId") WHERE status IN ('ACTIVE', 'PAUSED');
