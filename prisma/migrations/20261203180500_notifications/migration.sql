-- Notifications (issue 20): settings per user, Telegram link tokens, a derivation cursor over finished
-- executions, the derived events and the per-channel outbox the delivery workers drain.

-- Which events go to which channel, and the channel targets of one user.
CREATE TABLE "NotificationSettings" (
  "userId" UUID NOT NULL PRIMARY KEY REFERENCES "User"(id) ON DELETE CASCADE,
  "events" JSONB NOT NULL DEFAULT '{}',
  "emailEnabled" BOOLEAN NOT NULL DEFAULT false,
  "telegramChatId" TEXT,
  "webhookUrl" TEXT,
  "webhookSecretEnc" TEXT,
  "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "NotificationSettings_telegramChatId_key" ON "NotificationSettings" ("telegramChatId");

-- One-time deep-link tokens (sha256 stored) linking a Telegram chat to a user.
CREATE TABLE "TelegramLinkToken" (
  "tokenHash" TEXT NOT NULL PRIMARY KEY,
  "userId" UUID NOT NULL REFERENCES "User"(id) ON DELETE CASCADE,
  "expiresAt" TIMESTAMP(3) NOT NULL,
  "usedAt" TIMESTAMP(3),
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "TelegramLinkToken_userId_idx" ON "TelegramLinkToken" ("userId");

-- Position of a derivation (name = exec) in its source, as a timestamp.
CREATE TABLE "NotificationCursor" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "position" TIMESTAMP(3) NOT NULL,
  "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Every source row already turned into notifications (one per finished execution and status): the
-- re-scan behind the cursor skips these, so a row committed late is derived once and never skipped.
CREATE TABLE "NotificationSource" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "NotificationSource_createdAt_idx" ON "NotificationSource" ("createdAt");

-- One message per (event, channel): at least once, with a stable event id.
CREATE TABLE "NotificationOutbox" (
  "id" UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
  "eventId" TEXT NOT NULL,
  "channel" TEXT NOT NULL,
  "userId" UUID NOT NULL REFERENCES "User"(id) ON DELETE CASCADE,
  "kind" TEXT NOT NULL,
  "payload" JSONB NOT NULL,
  "status" TEXT NOT NULL DEFAULT 'pending',
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "lockedBy" TEXT,
  "lockedUntil" TIMESTAMP(3),
  "lastError" TEXT,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "sentAt" TIMESTAMP(3)
);
CREATE UNIQUE INDEX "NotificationOutbox_eventId_channel_key" ON "NotificationOutbox" ("eventId", "channel");
CREATE INDEX "NotificationOutbox_channel_status_nextAttemptAt_idx" ON "NotificationOutbox" ("channel", "status", "nextAttemptAt");
CREATE INDEX "NotificationOutbox_userId_createdAt_idx" ON "NotificationOutbox" ("userId", "createdAt" DESC);

-- The notifier reads finished executions in executedAt order.
CREATE INDEX "ExecutionLog_executedAt_idx" ON "ExecutionLog" ("executedAt");

-- Operator alert conditions: one row per alert key, raised and cleared once each.
CREATE TABLE "NotificationAlertState" (
  "key" TEXT NOT NULL PRIMARY KEY,
  "active" BOOLEAN NOT NULL DEFAULT false,
  "value" DOUBLE PRECISION,
  "threshold" DOUBLE PRECISION,
  "message" TEXT,
  "since" TIMESTAMP(3),
  "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Refused webhook deliveries per strategy, period and reason: summed into one digest per period.
CREATE TABLE "NotificationRefusalCount" (
  "strategyId" UUID NOT NULL,
  "periodStart" TIMESTAMP(3) NOT NULL,
  "reason" TEXT NOT NULL,
  "count" INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY ("strategyId", "periodStart", "reason")
);
