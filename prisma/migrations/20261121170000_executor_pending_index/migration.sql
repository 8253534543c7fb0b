-- Executor claim: the ready rows of one exchange in seq order, from an index holding only PENDING rows.
-- The claim walks it in order and stops after LIMIT rows (an index scan also marks dead entries, so
-- the churn of claimed/finished rows does not pile up as it did in the (status, nextAttemptAt) bitmap scan).
-- Partial index: kept in SQL only, like "Trade_one_active_per_pair".
CREATE INDEX "ExecutionLog_pending_claim_idx" ON "ExecutionLog" ("exchange", "seq", "createdAt") WHERE "status" = 'PENDING';
