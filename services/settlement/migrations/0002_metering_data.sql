-- Validated metered data from DataHub (RSM-012): one row per metering point, Danish local day
-- and received version. A correction is a new version of the day; every version is kept, so
-- a correction's before and after are both known. Partitioned by month on the local date;
-- partitions are created on demand by metering_data_partition() (no default partition, so
-- creating one never has to move rows).
CREATE TABLE metering_data (
    -- Global order of arrival: "what changed since id X". Writers take a transaction lock
    -- before they draw ids (adapters/metering_data.py), so ids become visible in order.
    id                      bigserial,
    gsrn                    text        NOT NULL,
    local_date              date        NOT NULL,
    version                 integer     NOT NULL CHECK (version >= 1),
    resolution              text        NOT NULL CHECK (resolution IN ('PT1H', 'PT15M')),
    -- Wh (kWh x 1000, exact) per position in time order; NULL element = missing value.
    wh                      integer[]   NOT NULL,
    -- Quality per position: 2..6 for A02..A06 (A02 missing, A03 estimated, A04 measured,
    -- A05 incomplete, A06 calculated); NULL element = no quality given.
    qualities               smallint[]  NOT NULL,
    received_at             timestamptz NOT NULL DEFAULT now(),
    datahub_message_id      text        NOT NULL,
    transaction_id          text        NOT NULL,
    original_transaction_id text,
    event_id                uuid        NOT NULL,
    PRIMARY KEY (gsrn, local_date, version),
    CHECK (array_ndims(wh) = 1 AND array_lower(wh, 1) = 1),
    CHECK (cardinality(qualities) = cardinality(wh)),
    -- 23, 24 or 25 hours (DST); 92, 96 or 100 quarters.
    CHECK (CASE resolution
               WHEN 'PT1H' THEN cardinality(wh) BETWEEN 23 AND 25
               ELSE cardinality(wh) IN (92, 96, 100)
           END)
) PARTITION BY RANGE (local_date);

CREATE INDEX metering_data_id ON metering_data (id);

-- The partition holding *day*'s month, created if missing; safe when called concurrently.
-- Created apart and then attached: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent where
-- CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE, and the caller's transaction (a
-- consumer batch) holds it until it commits: readers and writers of other months go on.
-- The mode conflicts with itself, so a second creator waits and then sees the partition.
CREATE FUNCTION metering_data_partition(day date) RETURNS regclass
LANGUAGE plpgsql
SET search_path FROM CURRENT  -- this schema, whoever calls
AS $$
DECLARE
    first_day date := date_trunc('month', day)::date;
    part      text := 'metering_data_' || to_char(first_day, 'YYYY_MM');
    found     regclass := to_regclass(part);
BEGIN
    IF found IS NOT NULL THEN
        RETURN found;
    END IF;
    LOCK TABLE metering_data IN SHARE UPDATE EXCLUSIVE MODE;
    found := to_regclass(part);
    IF found IS NULL THEN
        EXECUTE format('CREATE TABLE %I (LIKE metering_data INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        EXECUTE format(
            'ALTER TABLE metering_data ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
            part, first_day, (first_day + interval '1 month')::date);
        found := to_regclass(part);
    END IF;
    RETURN found;
END
$$;
