-- The sales channel that created a signup (the channel its API key is bound to; NULL: back
-- office, an import or a key bound to no channel). A channel's key sees only its own signups,
-- so an idempotency key is one channel's: another channel reusing it makes a signup of its own
-- instead of replaying (and so seeing) the first channel's.
ALTER TABLE signup ADD COLUMN channel text;
ALTER TABLE signup DROP CONSTRAINT signup_idempotency_key_key;
CREATE UNIQUE INDEX signup_idempotency_per_channel
    ON signup (coalesce(channel, ''), idempotency_key);
CREATE INDEX signup_channel ON signup (channel, created_at DESC) WHERE channel IS NOT NULL;
