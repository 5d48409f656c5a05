-- Bills: the products' names (printed on the bill), rendered PDFs, and delivery to payers.

CREATE TABLE product (
    product_id text NOT NULL,
    version    integer NOT NULL,
    name       text NOT NULL,
    PRIMARY KEY (product_id, version)
);

-- A document's PDF, rendered by the render job (or on first request) and kept: the bill a
-- payer received is the bill we can show again.
CREATE TABLE invoice_pdf (
    invoice_id  uuid PRIMARY KEY REFERENCES invoice,
    pdf         bytea NOT NULL,
    rendered_at timestamptz NOT NULL DEFAULT now()
);

-- Sending a document to its payer: one row per document and channel, retried with backoff.
CREATE TABLE delivery (
    invoice_id      uuid NOT NULL REFERENCES invoice,
    channel         text NOT NULL CHECK (channel IN ('email', 'digital_post')),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed', 'no_address')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz,
    message_id      text,
    PRIMARY KEY (invoice_id, channel)
);
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE status = 'pending';
