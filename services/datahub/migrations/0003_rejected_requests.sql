-- DataHub's rejection of a request for data (RSM-015/016/017) closes it with its reasons.
ALTER TABLE outbound_requests DROP CONSTRAINT outbound_requests_state_check;
ALTER TABLE outbound_requests ADD CONSTRAINT outbound_requests_state_check
    CHECK (state IN ('pending', 'sent', 'failed', 'rejected'));
ALTER TABLE outbound_requests ADD COLUMN answered_at timestamptz;
CREATE INDEX outbound_by_transaction ON outbound_requests (transaction_id);
