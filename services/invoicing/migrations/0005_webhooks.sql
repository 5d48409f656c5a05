-- Webhooks: invoicing's events POSTed to partners who cannot consume Kafka, signed per the
-- Standard Webhooks spec, retried with backoff, each delivery logged.

-- A partner's subscription. secret_sealed is the signing secret as the adapter stores it
-- ('fernet:' + a PiiCipher token where the service has a PII key, else 'plain:' + secret):
-- it must be opened to sign, so it cannot be hashed like an API key. start_after is the
-- largest outbox id when the subscription was made: it gets the events after it.
CREATE TABLE webhook_subscription (
    subscription_id uuid PRIMARY KEY,
    url             text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
    event_types     text[] NOT NULL CHECK (cardinality(event_types) > 0),
    description     text CHECK (length(description) <= 500),
    secret_sealed   text NOT NULL,
    start_after     bigint NOT NULL CHECK (start_after >= 0),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    CHECK ((status = 'disabled') = (disabled_at IS NOT NULL))
);
CREATE INDEX webhook_subscription_list ON webhook_subscription (created_at, subscription_id);

-- How far the fan-out has read the outbox (ids are read in order, committed rows only).
-- It starts at the outbox's end: no subscription existed before, so nothing older is owed.
CREATE TABLE webhook_fanout (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_outbox_id bigint NOT NULL CHECK (last_outbox_id >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO webhook_fanout (last_outbox_id) SELECT coalesce(max(id), 0) FROM outbox;

-- One delivery per subscription and event: the unique key makes a fan-out repeated after a
-- crash (before its watermark moved) create nothing twice. body is the exact JSON signed and
-- sent on every attempt, kept here because the outbox prunes published rows.
-- A pending delivery is due at next_attempt_at; a claim (claim_id) pushes next_attempt_at to
-- the end of its lease, so another replica takes it over only when the claimer died.
CREATE TABLE webhook_delivery (
    delivery_id     uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscription,
    event_id        uuid NOT NULL,
    outbox_id       bigint NOT NULL,
    event_type      text NOT NULL,
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz,
    claim_id        uuid,
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, event_id),
    CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at) WHERE status = 'pending';
-- The delivery log of a subscription, newest event first: (subscription_id, outbox_id) is
-- unique because an outbox id is one event.
CREATE UNIQUE INDEX webhook_delivery_log ON webhook_delivery (subscription_id, outbox_id);
