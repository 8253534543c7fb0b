-- Closed trades of one strategy in close order: the strategy page lists them newest first page by page,
-- and the marketplace list and track records read them per strategy in close order.
CREATE INDEX "Trade_strategyId_closeSeq_completed_idx" ON "Trade" ("strategyId", "closeSeq") WHERE "status" = 'COMPLETED';
