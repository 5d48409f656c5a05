-- Channel pricing (issue 18 part 1) and the customer history (part 2).
--
-- A product's margin corridor: every price row published for it (a channel's or a new base
-- version) keeps its margin within [min, max]; NULL: no limit on that side.
ALTER TABLE product
    ADD COLUMN min_margin_dkk_per_kwh numeric(18, 6),
    ADD COLUMN max_margin_dkk_per_kwh numeric(18, 6),
    ADD CONSTRAINT product_margin_corridor CHECK (
        min_margin_dkk_per_kwh IS NULL OR max_margin_dkk_per_kwh IS NULL
        OR min_margin_dkk_per_kwh <= max_margin_dkk_per_kwh
    );

-- A channel's price is a product version of its own (channel set), so a contract signed
-- through the channel names it exactly as it names a base version, and settlement and
-- invoicing bill it from portfolio.product.version_published with no change. A campaign
-- (campaign_id) is the set of channel rows published together, valid from a date and
-- optionally to one (inclusive). Base versions keep channel, campaign_id and valid_to NULL.
ALTER TABLE product_version
    ADD COLUMN channel text CHECK (channel IN ('web', 'app', 'customer_service', 'partner')),
    ADD COLUMN campaign_id uuid,
    ADD COLUMN valid_to date,
    ADD CONSTRAINT product_version_channel_rows CHECK (
        (channel IS NULL) = (campaign_id IS NULL) AND (channel IS NOT NULL OR valid_to IS NULL)
    ),
    ADD CONSTRAINT product_version_valid_to CHECK (valid_to IS NULL OR valid_to >= valid_from);
ALTER TABLE product_version DROP CONSTRAINT product_version_product_id_valid_from_key;
CREATE UNIQUE INDEX product_version_base_from
    ON product_version (product_id, valid_from) WHERE channel IS NULL;
CREATE UNIQUE INDEX product_version_channel_from
    ON product_version (product_id, channel, valid_from) WHERE channel IS NOT NULL;
CREATE INDEX product_version_campaign ON product_version (campaign_id)
    WHERE campaign_id IS NOT NULL;

-- Versions are immutable: a price row is never overwritten or removed once published.
CREATE FUNCTION product_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'product_version rows are immutable (publish a new version)'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER product_version_immutable BEFORE UPDATE OR DELETE ON product_version
    FOR EACH ROW EXECUTE FUNCTION product_version_immutable();

-- The sales channel whose prices a signup signed (NULL: the base price).
ALTER TABLE signup ADD COLUMN price_channel text
    CHECK (price_channel IN ('web', 'app', 'customer_service', 'partner'));

-- A customer's timeline: append-only. Portfolio's own actions are written in the action's
-- transaction; invoices and payments come from invoicing's events (source_event_id makes a
-- redelivered event a no-op even past the inbox). No CPR, no names, no addresses: the
-- descriptions name ids, amounts and dates only.
CREATE TABLE customer_history (
    entry_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     uuid NOT NULL REFERENCES party,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    kind            text NOT NULL CHECK (kind IN (
        'profile_updated', 'signup_registered', 'signup_rejected', 'signup_cancelled',
        'supply_activated', 'supply_ended', 'product_changed', 'invoice_issued',
        'credit_note_issued', 'payment_received', 'payment_overdue', 'gdpr'
    )),
    performed_by    text NOT NULL CHECK (length(performed_by) BETWEEN 1 AND 200),
    correlation_id  text,
    description_da  text NOT NULL,
    description_en  text NOT NULL,
    reference       text,
    source_event_id uuid
);
CREATE INDEX customer_history_customer ON customer_history (customer_id, entry_id);
CREATE UNIQUE INDEX customer_history_source
    ON customer_history (source_event_id, customer_id) WHERE source_event_id IS NOT NULL;

CREATE FUNCTION customer_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'customer_history is append-only'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER customer_history_append_only BEFORE UPDATE OR DELETE ON customer_history
    FOR EACH ROW EXECUTE FUNCTION customer_history_append_only();
