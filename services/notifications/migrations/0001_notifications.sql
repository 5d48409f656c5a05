-- Contact details of customers and payers, as the portfolio sealed them (a Fernet token of
-- name, CPR/CVR, e-mail, phone and address under the shared PII key): opened only to send.
CREATE TABLE contact (
    party_id    text PRIMARY KEY,
    sealed      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- How a customer wants each kind of message; a kind without a row goes by e-mail.
CREATE TABLE contact_preference (
    party_id    text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('signup_confirmed', 'supply_active',
                    'invoice_issued', 'payment_overdue', 'supply_ending')),
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'none')),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (party_id, kind)
);

-- One message to one party through one channel. facts: the template's values, formatted the
-- Danish way and free of personal data (numbers, amounts, dates); the name and address are
-- opened from contact when it is sent. One delivery per event and channel (a redelivered
-- event that passed the inbox still sends once).
CREATE TABLE delivery (
    delivery_id     uuid PRIMARY KEY,
    event_id        uuid NOT NULL,
    party_id        text NOT NULL,
    kind            text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'sms')),
    facts           jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    provider_id     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (event_id, channel)
);
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE status = 'pending';
CREATE INDEX delivery_party ON delivery (party_id, created_at, delivery_id);

-- The SMS log: every text message "sent" by the local SMS adapter, for the operator to read.
-- The phone number sealed like the contact it came from.
CREATE TABLE sms_message (
    sms_id        bigserial PRIMARY KEY,
    delivery_id   uuid NOT NULL UNIQUE REFERENCES delivery (delivery_id),
    phone_sealed  text NOT NULL,
    body          text NOT NULL,
    sent_at       timestamptz NOT NULL DEFAULT now()
);
