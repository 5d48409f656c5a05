-- The settlement engine's own copy of metering point master data, fed by portfolio events.
CREATE TABLE metering_points (
    gsrn                text PRIMARY KEY,
    grid_area           text NOT NULL,
    price_area          text NOT NULL,
    metering_point_type text NOT NULL,
    settlement_method   text,
    resolution          text NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Every master-data version applied, with the event that carried it: settling a past period
-- needs the master data valid then. Applying an event twice would add a second row.
CREATE TABLE metering_point_history (
    id         bigserial PRIMARY KEY,
    gsrn       text        NOT NULL REFERENCES metering_points (gsrn),
    event_id   uuid        NOT NULL,
    grid_area  text        NOT NULL,
    price_area text        NOT NULL,
    resolution text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX metering_point_history_gsrn ON metering_point_history (gsrn);
