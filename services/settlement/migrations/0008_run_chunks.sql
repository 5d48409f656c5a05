-- A run's items in chunks that any replica claims (issue 17): the worker that claims a queued
-- run plans it (its items, counts and chunks in one transaction) and every worker then takes
-- chunks, each settled in one transaction that holds the chunk's row locked (FOR UPDATE SKIP
-- LOCKED): a worker that dies mid-chunk loses its connection, its transaction rolls back and
-- the chunk is free for the next worker at once. The run is finished in the transaction of
-- its last chunk (chunks_left, counted down under the run row's lock).
ALTER TABLE settlement_run
    ADD COLUMN chunks_left        integer NOT NULL DEFAULT 0,
    ADD COLUMN attempt_started_at timestamptz;

CREATE TABLE settlement_run_chunk (
    run_id            uuid    NOT NULL REFERENCES settlement_run,
    chunk_no          integer NOT NULL,
    supply_period_ids uuid[]  NOT NULL,
    done_by           text,         -- the worker that settled it; NULL while to do
    done_at           timestamptz,
    PRIMARY KEY (run_id, chunk_no)
);
CREATE INDEX settlement_run_chunk_todo ON settlement_run_chunk (run_id, chunk_no)
    WHERE done_at IS NULL;
