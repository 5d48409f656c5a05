-- Payments: money received (Betalingsservice results, bank statements, manual bookings),
-- what it pays, what failed, and the payers' Betalingsservice mandates.

-- external_ref is the channel's identity of the money (a 0602 result, a bank entry id): a
-- file imported twice books each payment once. account_id is empty while the payment is on
-- the suspense list (no rule matched it).
CREATE TABLE payment (
    payment_id   uuid PRIMARY KEY,
    source       text NOT NULL CHECK (source IN ('betalingsservice', 'fi_card', 'bank', 'manual')),
    external_ref text NOT NULL UNIQUE,
    channel_key  text,
    received_on  date NOT NULL,
    amount       numeric(14, 2) NOT NULL CHECK (amount > 0),
    reference    text NOT NULL DEFAULT '',
    account_id   text REFERENCES billing_account,
    rule         text NOT NULL,
    status       text NOT NULL CHECK (status IN ('matched', 'unmatched', 'reversed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'unmatched') = (account_id IS NULL))
);
CREATE INDEX payment_suspense ON payment (created_at, payment_id) WHERE status = 'unmatched';
-- A Betalingsservice reversal (0239) names the payment by customer, reference and due date.
CREATE INDEX payment_by_channel_key ON payment (channel_key);

CREATE TABLE allocation (
    payment_id uuid NOT NULL REFERENCES payment,
    invoice_id uuid NOT NULL REFERENCES invoice,
    amount     numeric(14, 2) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX allocation_by_invoice ON allocation (invoice_id);

-- A collection that brought no money: rejected by the payer's bank (0237) or cancelled by
-- the payer (0238); the invoice stays open, dunning takes it from there. Or one taken back
-- (0239): payment_id is the reversed payment.
CREATE TABLE payment_failure (
    external_ref text PRIMARY KEY,
    source       text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('rejected', 'cancelled', 'reversed')),
    payment_id   uuid REFERENCES payment,
    account_id   text REFERENCES billing_account,
    invoice_id   uuid REFERENCES invoice,
    reference    text NOT NULL,
    due_date     date NOT NULL,
    amount       numeric(14, 2) NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Betalingsservice mandates (aftaler) from 0603 deliveries, by the payer's customer number.
CREATE TABLE mandate (
    account_number bigint PRIMARY KEY,
    mandate_number text NOT NULL,
    debtor_group   text NOT NULL,
    status         text NOT NULL CHECK (status IN ('active', 'cancelled')),
    changed_on     date NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
