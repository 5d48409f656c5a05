-- What credit notes took off an invoice: its outstanding is amount_due - credited - paid, so a
-- payer pays the corrected amount and dunning reminds of no more.
ALTER TABLE invoice ADD COLUMN credited numeric(14, 2) NOT NULL DEFAULT 0 CHECK (credited >= 0);
