-- Futures (USDT-margined linear perpetuals on binance and bybit).
-- Subscription: market spot or futures, the leverage and margin mode set on the venue per symbol.
ALTER TABLE "Subscription" ADD COLUMN "market" TEXT NOT NULL DEFAULT 'spot',
ADD COLUMN "leverage" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "marginMode" TEXT NOT NULL DEFAULT 'isolated';

-- Position: long or short, stop-loss and take-profit levels, the resting reduce-only stop-loss and take-profit orders by client id,
-- leverage, margin mode, liquidation price and entry fee, and when the reconciler last saw it.
ALTER TABLE "Position" ADD COLUMN "market" TEXT NOT NULL DEFAULT 'spot',
ADD COLUMN "side" TEXT NOT NULL DEFAULT 'long',
ADD COLUMN "slClientOrderId" TEXT,
ADD COLUMN "tpClientOrderId" TEXT,
ADD COLUMN "stopLoss" DECIMAL(30,12),
ADD COLUMN "takeProfit" DECIMAL(30,12),
ADD COLUMN "leverage" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "marginMode" TEXT,
ADD COLUMN "liquidationPrice" DECIMAL(30,12),
ADD COLUMN "entryFee" DECIMAL(30,12),
ADD COLUMN "openedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN "checkedAt" TIMESTAMP(3);

CREATE INDEX "Position_market_checkedAt_idx" ON "Position"("market", "checkedAt");

-- ExecutionLog rows written by the futures reconciler (a position the exchange closed by itself) have no signal.
ALTER TABLE "ExecutionLog" ALTER COLUMN "signalId" DROP NOT NULL;
