-- API keys of the public API. Only a SHA-256 of the secret is stored; the key is shown once.
CREATE TABLE api_keys (
    id                    uuid PRIMARY KEY,
    name                  text        NOT NULL UNIQUE,
    prefix                text        NOT NULL UNIQUE,
    key_hash              text        NOT NULL,
    scopes                text[]      NOT NULL,
    rate_limit_per_minute integer     NOT NULL CHECK (rate_limit_per_minute > 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    revoked_at            timestamptz
);
