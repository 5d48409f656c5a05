-- The simulated DataHub's state: its clock, its outbound queues, what it served and received.
CREATE TABLE clock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    now       timestamptz NOT NULL
);

-- Messages waiting for the supplier, per category. The same message id may be queued twice
-- (a duplicate delivery is one of the faults the simulator can inject).
CREATE TABLE queue (
    seq           bigserial PRIMARY KEY,
    message_id    text        NOT NULL,
    category      text        NOT NULL
        CHECK (category IN ('MeasureData', 'Aggregations', 'MasterData', 'Wholesale')),
    document_type text        NOT NULL,
    body          bytea       NOT NULL,
    fault         text,         -- set on a deliberately broken message (malformed, ...)
    queued_at     timestamptz NOT NULL DEFAULT now(),
    dequeued_at   timestamptz
);
CREATE INDEX queue_pending ON queue (category, seq) WHERE dequeued_at IS NULL;
CREATE INDEX queue_message ON queue (message_id);

-- The simulator's own log of every peek answer, to compare with what the supplier stored.
CREATE TABLE served (
    id         bigserial PRIMARY KEY,
    message_id text,
    category   text        NOT NULL,
    status     integer     NOT NULL,
    fault      text,
    served_at  timestamptz NOT NULL DEFAULT now()
);

-- Documents the supplier sent (incomingMessages), accepted or refused.
CREATE TABLE incoming (
    id            bigserial PRIMARY KEY,
    document_type text        NOT NULL,
    body          bytea       NOT NULL,
    accepted      boolean     NOT NULL,
    reason        text,
    received_at   timestamptz NOT NULL DEFAULT now()
);

-- Injected faults: per category ('*' for all), a kind and how many more calls it affects
-- (-1: until cleared).
CREATE TABLE faults (
    category    text    NOT NULL,
    kind        text    NOT NULL,
    remaining   integer NOT NULL,
    retry_after integer NOT NULL DEFAULT 1,
    delay_ms    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (category, kind)
);
