-- CreateEnum
CREATE TYPE "Role" AS ENUM ('USER', 'AUTHOR', 'ADMIN');

-- CreateEnum
CREATE TYPE "SubscriptionStatus" AS ENUM ('ACTIVE', 'PAUSED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "SignalAction" AS ENUM ('OPEN', 'CLOSE');

-- CreateEnum
CREATE TYPE "Direction" AS ENUM ('LONG', 'SHORT');

-- CreateEnum
CREATE TYPE "SignalSource" AS ENUM ('capture', 'webhook', 'api', 'monitor');

-- CreateEnum
CREATE TYPE "TradeStatus" AS ENUM ('ACTIVE', 'COMPLETED');

-- CreateEnum
CREATE TYPE "ExecutionStatus" AS ENUM ('PENDING', 'SUCCESS', 'FAILED', 'PARTIAL', 'SKIPPED');

-- CreateTable
CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'USER',
    "autoExecute" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Strategy" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "authorId" UUID,
    "pairs" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "webhookSecretHash" TEXT,
    "maxLagSeconds" INTEGER NOT NULL DEFAULT 60,
    "autoCreated" BOOLEAN NOT NULL DEFAULT false,
    "lastSignalHash" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Strategy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Signal" (
    "id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "strategyId" UUID NOT NULL,
    "pair" TEXT NOT NULL,
    "action" "SignalAction" NOT NULL,
    "direction" "Direction" NOT NULL,
    "price" DECIMAL(30,12) NOT NULL,
    "stopLoss" DECIMAL(30,12),
    "takeProfit" DECIMAL(30,12),
    "note" TEXT,
    "source" "SignalSource" NOT NULL,
    "idempotencyKey" TEXT,
    "evidence" TEXT,
    "reason" TEXT,
    "prevHash" TEXT,
    "hash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Signal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SeqCounter" (
    "id" INTEGER NOT NULL,
    "value" BIGINT NOT NULL,

    CONSTRAINT "SeqCounter_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Trade" (
    "id" UUID NOT NULL,
    "strategyId" UUID NOT NULL,
    "pair" TEXT NOT NULL,
    "direction" "Direction" NOT NULL,
    "status" "TradeStatus" NOT NULL DEFAULT 'ACTIVE',
    "entryPrice" DECIMAL(30,12) NOT NULL,
    "stopLoss" DECIMAL(30,12),
    "takeProfit" DECIMAL(30,12),
    "openSignalId" UUID NOT NULL,
    "openSeq" BIGINT NOT NULL,
    "openedAt" TIMESTAMP(3) NOT NULL,
    "exitPrice" DECIMAL(30,12),
    "closeSignalId" UUID,
    "closeSeq" BIGINT,
    "closedAt" TIMESTAMP(3),
    "pnlPct" DECIMAL(20,8),
    "closeReason" TEXT,

    CONSTRAINT "Trade_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Subscription" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "strategyId" UUID NOT NULL,
    "status" "SubscriptionStatus" NOT NULL DEFAULT 'ACTIVE',
    "exchange" TEXT NOT NULL,
    "allPairs" BOOLEAN NOT NULL DEFAULT true,
    "subscribedPairs" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "sizing" JSONB NOT NULL,
    "risk" JSONB NOT NULL DEFAULT '{}',
    "apiKeyEnc" TEXT,
    "apiSecretEnc" TEXT,
    "apiKeyMasked" TEXT,
    "hasKeys" BOOLEAN NOT NULL DEFAULT false,
    "keysInvalid" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Subscription_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ExecutionLog" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "subscriptionId" UUID NOT NULL,
    "signalId" UUID NOT NULL,
    "exchange" TEXT NOT NULL,
    "orderType" TEXT NOT NULL DEFAULT 'market',
    "side" TEXT,
    "amount" DECIMAL(30,12),
    "price" DECIMAL(30,12),
    "orderId" TEXT,
    "clientOrderId" TEXT NOT NULL,
    "status" "ExecutionStatus" NOT NULL DEFAULT 'PENDING',
    "error" TEXT,
    "exchangeResponse" JSONB,
    "paper" BOOLEAN NOT NULL DEFAULT false,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lockedBy" TEXT,
    "lockedUntil" TIMESTAMP(3),
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "executedAt" TIMESTAMP(3),

    CONSTRAINT "ExecutionLog_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TradingBot" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "strategyId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "exchange" TEXT NOT NULL,
    "pairs" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "config" JSONB NOT NULL DEFAULT '{}',
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TradingBot_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "Signal_seq_key" ON "Signal"("seq");

-- CreateIndex
CREATE INDEX "Signal_strategyId_createdAt_idx" ON "Signal"("strategyId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "Signal_strategyId_pair_seq_idx" ON "Signal"("strategyId", "pair", "seq" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "Signal_strategyId_idempotencyKey_key" ON "Signal"("strategyId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "Trade_strategyId_status_idx" ON "Trade"("strategyId", "status");

-- CreateIndex
CREATE INDEX "Trade_status_pair_idx" ON "Trade"("status", "pair");

-- CreateIndex
CREATE INDEX "Trade_closedAt_idx" ON "Trade"("closedAt");

-- CreateIndex
CREATE INDEX "Subscription_strategyId_status_hasKeys_idx" ON "Subscription"("strategyId", "status", "hasKeys");

-- CreateIndex
CREATE INDEX "Subscription_userId_idx" ON "Subscription"("userId");

-- CreateIndex
CREATE INDEX "ExecutionLog_status_nextAttemptAt_idx" ON "ExecutionLog"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "ExecutionLog_userId_createdAt_idx" ON "ExecutionLog"("userId", "createdAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "ExecutionLog_subscriptionId_signalId_key" ON "ExecutionLog"("subscriptionId", "signalId");

-- CreateIndex
CREATE UNIQUE INDEX "ExecutionLog_clientOrderId_key" ON "ExecutionLog"("clientOrderId");

-- AddForeignKey
ALTER TABLE "Strategy" ADD CONSTRAINT "Strategy_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Signal" ADD CONSTRAINT "Signal_strategyId_fkey" FOREIGN KEY ("strategyId") REFERENCES "Strategy"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Trade" ADD CONSTRAINT "Trade_strategyId_fkey" FOREIGN KEY ("strategyId") REFERENCES "Strategy"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Subscription" ADD CONSTRAINT "Subscription_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Subscription" ADD CONSTRAINT "Subscription_strategyId_fkey" FOREIGN KEY ("strategyId") REFERENCES "Strategy"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExecutionLog" ADD CONSTRAINT "ExecutionLog_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExecutionLog" ADD CONSTRAINT "ExecutionLog_subscriptionId_fkey" FOREIGN KEY ("subscriptionId") REFERENCES "Subscription"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExecutionLog" ADD CONSTRAINT "ExecutionLog_signalId_fkey" FOREIGN KEY ("signalId") REFERENCES "Signal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TradingBot" ADD CONSTRAINT "TradingBot_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TradingBot" ADD CONSTRAINT "TradingBot_strategyId_fkey" FOREIGN KEY ("strategyId") REFERENCES "Strategy"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The single counter row behind Signal.seq.
INSERT INTO "SeqCounter" ("id", "value") VALUES (1, 0);

-- At most one open trade per strategy and pair: the database, not the code, decides who closes first.
CREATE UNIQUE INDEX "Trade_one_active_per_pair" ON "Trade" ("strategyId", "pair") WHERE "status" = 'ACTIVE';

-- Hot query for the executor: active subscriptions holding valid keys, by strategy.
CREATE INDEX "Subscription_executable_by_strategy" ON "Subscription" ("strategyId") WHERE "status" = 'ACTIVE' AND "hasKeys" AND NOT "keysInvalid";
