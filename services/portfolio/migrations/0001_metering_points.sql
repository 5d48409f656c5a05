-- Metering points in the supplier's portfolio (master data as DataHub reports it).
CREATE TABLE metering_points (
    gsrn                text PRIMARY KEY CHECK (gsrn ~ '^57[0-9]{16}$'),
    grid_area           text NOT NULL CHECK (grid_area ~ '^[0-9]{3}$'),
    price_area          text NOT NULL CHECK (price_area IN ('DK1', 'DK2')),
    metering_point_type text NOT NULL,
    settlement_method   text,
    resolution          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
