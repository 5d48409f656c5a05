-- Back-office users and their browser sessions (the web app at /backoffice logs in with a
-- username and password and gets an HttpOnly cookie; no key is held in a browser).
-- A password is kept as scrypt with a salt of its own; a session only as a SHA-256 of its
-- token (the token lives in the cookie). A session is looked up on every request, so a
-- logout, an expiry or a disabled user takes effect at once in every gateway replica.
CREATE TABLE backoffice_users (
    username      text PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    password_hash text        NOT NULL,
    scopes        text[]      NOT NULL CHECK (cardinality(scopes) > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

CREATE TABLE backoffice_sessions (
    id         uuid PRIMARY KEY,
    token_hash text        NOT NULL UNIQUE,
    username   text        NOT NULL REFERENCES backoffice_users ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > created_at),
    revoked_at timestamptz
);
CREATE INDEX backoffice_sessions_expired ON backoffice_sessions (expires_at);
