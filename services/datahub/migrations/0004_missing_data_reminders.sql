-- DataHub's reminders (RSM-018) that it misses a metering point's measure data, kept for the
-- operators' list. One row per reminder; a redelivered message adds nothing.
CREATE TABLE missing_data_reminders (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    datahub_message_id text        NOT NULL,
    transaction_id     text        NOT NULL,
    gsrn               text        NOT NULL,
    missing_since      timestamptz,
    received_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (datahub_message_id, transaction_id, gsrn)
);
CREATE INDEX missing_data_reminders_by_gsrn ON missing_data_reminders (gsrn, id);
