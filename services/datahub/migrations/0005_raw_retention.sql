-- Retention of raw inbound messages (issue 17): after a while the body is kept lzma-compressed
-- in raw_lzma (raw set NULL), and the row is deleted only after the keeping time the
-- bookkeeping law asks for. Exactly one of the two holds the body while the row exists.
ALTER TABLE inbound_messages ALTER COLUMN raw DROP NOT NULL;
ALTER TABLE inbound_messages ADD COLUMN raw_lzma bytea;
ALTER TABLE inbound_messages ADD COLUMN compressed_at timestamptz;
-- Already compressed: PostgreSQL's own TOAST compression would only spend time on it.
ALTER TABLE inbound_messages ALTER COLUMN raw_lzma SET STORAGE EXTERNAL;
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_one_body
    CHECK ((raw IS NULL) <> (raw_lzma IS NULL));
-- The retention job's two scans: bodies still plain, and rows by age.
CREATE INDEX inbound_plain_by_age ON inbound_messages (received_at) WHERE raw IS NOT NULL;
CREATE INDEX inbound_by_age ON inbound_messages (received_at);
