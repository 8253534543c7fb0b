-- Strategy bots (issue 21): a built-in chart strategy attached to a strategy, its parameters and timeframe,
-- and what the capturer recorded (counters, latest capture, failure and screenshot file name).
ALTER TABLE "TradingBot"
  ADD COLUMN "builtin" TEXT NOT NULL DEFAULT 'ma-crossover',
  ADD COLUMN "params" JSONB NOT NULL DEFAULT '{}',
  ADD COLUMN "timeframe" TEXT NOT NULL DEFAULT '1h',
  ADD COLUMN "captures" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "failures" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "signals" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "lastCaptureAt" TIMESTAMP(3),
  ADD COLUMN "lastFailureAt" TIMESTAMP(3),
  ADD COLUMN "lastFailure" TEXT,
  ADD COLUMN "lastScreenshot" TEXT,
  ADD COLUMN "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

CREATE INDEX "TradingBot_strategyId_idx" ON "TradingBot" ("strategyId");
CREATE INDEX "TradingBot_userId_idx" ON "TradingBot" ("userId");
CREATE INDEX "TradingBot_enabled_idx" ON "TradingBot" ("enabled");
