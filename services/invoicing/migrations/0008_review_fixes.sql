-- A contract rolled back in full (BRS-003: the supply never was ours) ends on its start.
ALTER TABLE contract DROP CONSTRAINT contract_check;
ALTER TABLE contract ADD CONSTRAINT contract_dates CHECK (end_date IS NULL OR end_date >= start_date);

-- A dispute registered before an invoice is overdue makes a dunning row with no stage yet:
-- the invoice still becomes overdue on its day (stage 0) before any reminder.
ALTER TABLE dunning ALTER COLUMN stage DROP NOT NULL;
ALTER TABLE dunning ALTER COLUMN stage DROP DEFAULT;

-- The ERP feed's order: drawn under the feed lock's shared side by the issuing transaction
-- and read under its exclusive side, so a reader never passes a document still in flight
-- (issued_at is the transaction's start, not its commit, and may come out of order).
ALTER TABLE invoice ADD COLUMN feed_seq bigserial;
CREATE UNIQUE INDEX invoice_feed_seq ON invoice (feed_seq);
