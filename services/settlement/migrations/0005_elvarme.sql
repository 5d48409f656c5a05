-- Electric heating (elvarme): consumption above a yearly threshold pays a reduced electricity
-- tax (spec §5.7). A metering point is registered by back office from a date, with the kWh
-- already counted in that calendar year (e.g. under the previous supplier); later years start
-- at 0 and count what we settle.
CREATE TABLE elvarme (
    gsrn          text PRIMARY KEY,
    from_date     date NOT NULL,
    opening_kwh   numeric(14, 3) NOT NULL DEFAULT 0 CHECK (opening_kwh >= 0),
    threshold_kwh numeric(14, 3) NOT NULL DEFAULT 4000 CHECK (threshold_kwh >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The reduced rate is law, dated like the normal rate (DKK/kWh excl. VAT).
CREATE TABLE reduced_electricity_tax (
    valid_from  date PRIMARY KEY,
    dkk_per_kwh numeric NOT NULL CHECK (dkk_per_kwh >= 0)
);
