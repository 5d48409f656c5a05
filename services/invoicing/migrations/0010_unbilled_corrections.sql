-- Corrections not billed yet, by the settlement they correct (every cycle close asks).
CREATE INDEX billable_unbilled_corrections ON billable (corrects)
    WHERE kind = 'correction' AND invoice_id IS NULL;
