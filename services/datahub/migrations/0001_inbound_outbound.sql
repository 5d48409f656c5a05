-- Every message peeked from DataHub, stored before it is dequeued (at-least-once, idempotent
-- by DataHub's MessageId). A message we cannot parse or validate is kept as dead-lettered.
CREATE TABLE inbound_messages (
    message_id    text PRIMARY KEY,
    category      text        NOT NULL,
    document_type text,
    raw           bytea       NOT NULL,
    status        text        NOT NULL CHECK (status IN ('stored', 'dead_lettered', 'retried')),
    reason        text,
    events        integer     NOT NULL DEFAULT 0,
    received_at   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_dead_letters ON inbound_messages (received_at) WHERE status = 'dead_lettered';

-- Requests we send to DataHub, one row per request event: never sent twice.
CREATE TABLE outbound_requests (
    request_id      uuid PRIMARY KEY,
    kind            text        NOT NULL,
    gsrn            text,
    document_type   text        NOT NULL,
    document        bytea       NOT NULL,
    transaction_id  text        NOT NULL,
    state           text        NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX outbound_pending ON outbound_requests (created_at) WHERE state = 'pending';
