-- Executor: durable intents (ExecutionLog rows inserted by a cursor over Signal.seq), per-leg state,
-- spot positions per subscription.
ALTER TABLE "ExecutionLog" ADD COLUMN "seq" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN "pair" TEXT NOT NULL DEFAULT '',
ADD COLUMN "action" TEXT,
ADD COLUMN "legs" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN "realisedPnl" DECIMAL(30,12);

CREATE TABLE "ExecutorCursor" (
    "id" INTEGER NOT NULL,
    "lastSeq" BIGINT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ExecutorCursor_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Position" (
    "id" UUID NOT NULL,
    "subscriptionId" UUID NOT NULL,
    "strategyId" UUID NOT NULL,
    "pair" TEXT NOT NULL,
    "qty" DECIMAL(30,12) NOT NULL,
    "avgPrice" DECIMAL(30,12) NOT NULL,
    "protectClientOrderId" TEXT,
    "openSignalId" UUID,
    "paper" BOOLEAN NOT NULL DEFAULT false,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Position_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "ExecutionLog_subscriptionId_pair_seq_idx" ON "ExecutionLog"("subscriptionId", "pair", "seq");
CREATE INDEX "ExecutionLog_subscriptionId_executedAt_idx" ON "ExecutionLog"("subscriptionId", "executedAt");
CREATE UNIQUE INDEX "Position_subscriptionId_pair_key" ON "Position"("subscriptionId", "pair");
CREATE INDEX "Position_strategyId_pair_idx" ON "Position"("strategyId", "pair");

-- The cursor starts at the current end of the log: signals accepted before the executor existed are not executed.
INSERT INTO "ExecutorCursor" ("id", "lastSeq") SELECT 1, COALESCE((SELECT "value" FROM "SeqCounter" WHERE "id" = 1), 0);
