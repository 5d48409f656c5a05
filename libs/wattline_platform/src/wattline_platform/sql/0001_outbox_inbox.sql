-- Transactional outbox: events written in the same transaction as the state change.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    topic        text        NOT NULL,
    key          text        NOT NULL,
    event_type   text        NOT NULL,
    envelope     json        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_occurred_at ON outbox (occurred_at);

-- Inbox: one row per event applied; the primary key is the idempotency guarantee.
CREATE TABLE inbox (
    event_id     uuid PRIMARY KEY,
    topic        text        NOT NULL,
    event_type   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- The broker epoch the relay last published to: a new epoch (an embedded broker that lost
-- its memory) makes the relay re-publish everything the outbox retains.
CREATE TABLE relay_state (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    broker_epoch text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO relay_state (singleton) VALUES (true);
