-- Portal tokens: a customer's short-lived access to their own data through the portal routes.
-- Issued by back office (a key with portal:issue) or, later, a MitID login; only a SHA-256 of
-- the secret is kept, the token is shown once. customer_id is portfolio's customer id: the
-- identity the gateway signs for the token names it, and the services show that customer's
-- data only. No personal data here.
CREATE TABLE portal_tokens (
    token_id    uuid PRIMARY KEY,
    prefix      text        NOT NULL UNIQUE,
    token_hash  text        NOT NULL,
    customer_id text        NOT NULL CHECK (customer_id ~ '^[0-9a-f-]{36}$'),
    issued_by   uuid        NOT NULL,  -- the API key that asked for it
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL CHECK (expires_at > issued_at),
    revoked_at  timestamptz
);
CREATE INDEX portal_tokens_customer ON portal_tokens (customer_id);
CREATE INDEX portal_tokens_expired ON portal_tokens (expires_at);
