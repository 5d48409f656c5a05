-- Prices and charges the settlement engine needs: day-ahead spot prices (Energi Data Service),
-- DataHub's charges, their prices and links (RSM-034/RSM-031), and our own products, contracts
-- and supply periods (portfolio's events).
--
-- Prices are `numeric` without a scale on purpose: EDS publishes DKK/MWh with up to 6
-- decimals, so DKK/kWh needs 9, and a declared scale would round silently. Nothing here is
-- ever rounded; the engine rounds amounts once, at the end.

-- One day-ahead price per price area and interval start (UTC). The resolution follows the
-- market: PT1H (Elspotprices) for local days before 2025-10-01, PT15M (DayAheadPrices) from it.
CREATE TABLE spot_prices (
    price_area  text        NOT NULL CHECK (price_area IN ('DK1', 'DK2')),
    start_utc   timestamptz NOT NULL,
    resolution  text        NOT NULL CHECK (resolution IN ('PT1H', 'PT15M')),
    dkk_per_kwh numeric     NOT NULL,
    source      text        NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (price_area, start_utc)
);

-- Every published price that a re-import changed: what it was, what it became, from where.
CREATE TABLE spot_price_changes (
    id              bigserial   PRIMARY KEY,
    price_area      text        NOT NULL,
    start_utc       timestamptz NOT NULL,
    old_dkk_per_kwh numeric     NOT NULL,
    new_dkk_per_kwh numeric     NOT NULL,
    source          text        NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spot_price_changes_interval ON spot_price_changes (price_area, start_utc);

-- A charge as its owner defined it (RSM-034 D18). A price list (D08) for a charge whose
-- information has not arrived yet creates the row with the master data still unknown.
CREATE TABLE charges (
    owner_gln             text    NOT NULL,
    charge_type           text    NOT NULL CHECK (charge_type IN ('D01', 'D02', 'D03')),
    charge_id             text    NOT NULL,
    name                  text,
    description           text,
    resolution            text,
    effective_date        date,            -- Danish local date
    termination_date      date,            -- first local day without the charge
    vat_payer             text,
    transparent_invoicing boolean,
    tax_indicator         boolean,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_gln, charge_type, charge_id)
);

-- Every price series received, as received (an append-only log; versions derive from it).
CREATE TABLE charge_price_series (
    event_id    uuid        NOT NULL,
    ordinal     integer     NOT NULL,
    owner_gln   text        NOT NULL,
    charge_type text        NOT NULL,
    charge_id   text        NOT NULL,
    resolution  text        NOT NULL,
    start_utc   timestamptz NOT NULL,
    end_utc     timestamptz NOT NULL,
    prices      numeric[]   NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, ordinal),
    FOREIGN KEY (owner_gln, charge_type, charge_id) REFERENCES charges
);

-- A charge's price from a local date until the next version: 24 positions by local hour
-- (position p = local hour p-1; NULL where the series gave no price, e.g. 02:00 of a
-- spring-forward day) or one flat price (DKK/kWh for tariffs, DKK/month for subscriptions).
CREATE TABLE charge_prices (
    owner_gln   text    NOT NULL,
    charge_type text    NOT NULL,
    charge_id   text    NOT NULL,
    valid_from  date    NOT NULL,
    hourly      numeric[] CHECK (hourly IS NULL OR cardinality(hourly) = 24),
    flat        numeric,
    resolution  text    NOT NULL,
    event_id    uuid    NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_gln, charge_type, charge_id, valid_from),
    FOREIGN KEY (owner_gln, charge_type, charge_id) REFERENCES charges,
    CHECK ((hourly IS NULL) <> (flat IS NULL))
);

-- A metering point linked to a charge (RSM-031) from a local date, until one (exclusive).
CREATE TABLE charge_links (
    gsrn               text    NOT NULL,
    owner_gln          text    NOT NULL,
    charge_type        text    NOT NULL CHECK (charge_type IN ('D01', 'D02', 'D03')),
    charge_id          text    NOT NULL,
    start_date         date    NOT NULL,
    end_date           date,
    factor             integer NOT NULL CHECK (factor >= 0),
    transaction_id     text    NOT NULL,
    datahub_message_id text    NOT NULL,
    event_id           uuid    NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (gsrn, owner_gln, charge_type, charge_id, start_date),
    CHECK (end_date IS NULL OR end_date >= start_date)
);

-- Our products (portfolio): each version's prices, from its valid_from date.
CREATE TABLE products (
    product_id     text PRIMARY KEY,
    name           text    NOT NULL,
    latest_version integer NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE product_versions (
    product_id                 text    NOT NULL REFERENCES products,
    version                    integer NOT NULL CHECK (version >= 1),
    name                       text    NOT NULL,
    price_type                 text    NOT NULL CHECK (price_type IN ('spot', 'fixed')),
    margin_dkk_per_kwh         numeric NOT NULL,
    fixed_price_dkk_per_kwh    numeric,
    subscription_dkk_per_month numeric NOT NULL,
    green_energy               boolean NOT NULL,
    valid_from                 date    NOT NULL,
    event_id                   uuid    NOT NULL,
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, version)
);

-- Contracts and supply periods are portfolio's full current state, upserted by id. `as_of`
-- is the event's occurred_at: an older state never overwrites a newer one.
CREATE TABLE contracts (
    contract_id       text    PRIMARY KEY,
    gsrn              text    NOT NULL,
    customer_id       text    NOT NULL,
    payer_id          text,
    product_id        text    NOT NULL,
    product_version   integer NOT NULL,
    start_date        date    NOT NULL,
    end_date          date,   -- exclusive; equal to start_date: void
    billing_frequency text    NOT NULL,
    payment_model     text    NOT NULL,
    event_id          uuid    NOT NULL,
    as_of             timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX contracts_gsrn ON contracts (gsrn, start_date);

CREATE TABLE supply_periods (
    supply_period_id uuid    PRIMARY KEY,
    gsrn             text    NOT NULL,
    customer_id      text    NOT NULL,
    start_date       date    NOT NULL,
    end_date         date,   -- exclusive; NULL: open
    reason           text    NOT NULL,
    process_id       text,
    event_id         uuid    NOT NULL,
    as_of            timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX supply_periods_gsrn ON supply_periods (gsrn, start_date);
CREATE INDEX supply_periods_start ON supply_periods (start_date);
