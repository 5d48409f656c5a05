-- What became of each request: sent by the datahub service, failed there (never sent), or
-- rejected by DataHub; the transaction id DataHub's rejection refers to, and why.
ALTER TABLE data_requests
    ADD COLUMN status         text NOT NULL DEFAULT 'raised'
        CHECK (status IN ('raised', 'sent', 'failed', 'rejected')),
    ADD COLUMN transaction_id text,
    ADD COLUMN reason         text,
    ADD COLUMN status_at      timestamptz;
CREATE UNIQUE INDEX data_requests_transaction ON data_requests (transaction_id);
