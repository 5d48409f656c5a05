-- A key can be bound to a sales channel: the identity the gateway signs for it names the
-- channel, and the services show it only what that channel made (its signups). NULL: a
-- back-office key, which sees everything its scopes allow.
ALTER TABLE api_keys ADD COLUMN channel text
    CHECK (channel ~ '^[a-z0-9][a-z0-9_-]{0,62}$');
