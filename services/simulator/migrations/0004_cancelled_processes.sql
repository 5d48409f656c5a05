-- RSM-002: a requester may cancel its process while it is still open.
ALTER TABLE market_process DROP CONSTRAINT market_process_state_check;
ALTER TABLE market_process
    ADD CONSTRAINT market_process_state_check
    CHECK (state IN ('open', 'completed', 'rejected', 'cancelled'));
