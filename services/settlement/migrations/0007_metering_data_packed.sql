-- Metering data near the size of its values (issue 17). A day was 440 B for 96 B of PT1H values:
-- a text GSRN, two arrays with a 4-byte length per element, four texts and a uuid of message
-- metadata on every row, and a b-tree on id. Now a day is one row of
--   id, gsrn (bigint), source_id, local_date, version, transaction_uuid, payload
-- where payload packs the values and qualities into one bytea (a 1-byte varlena header up to
-- 126 bytes), the DataHub MessageId and receipt time live once per message in
-- metering_data_source, and "changed since id X" reads a BRIN index on id (ids grow with the
-- heap: rows are only appended).
--
-- payload (adapters/metering_data.py packs and unpacks it; metering_pack below is the same
-- packing in SQL, for the conversion and for a test that both agree):
--   byte 0: flags. 1: a value is missing; 2: values are 4-byte signed (else 2-byte unsigned,
--           0..65534); 4: one quality per position (else one for the whole day); 8: PT15M
--           (else PT1H)
--   then the values, big-endian, in time order; a missing value is 65535 (2-byte) or
--           -2147483648 (4-byte), which no stored value can be
--   then the quality codes, one byte each (0: no quality, 2..6: A02..A06)
-- Every version of a day is still a row of its own; the event id is not kept here (the inbox
-- records it in the same transaction).

-- Positions in a payload (NULL when its length does not add up).
CREATE FUNCTION metering_positions(payload bytea) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN (length(payload) - 1 - fixed) % step = 0
                THEN (length(payload) - 1 - fixed) / step END
    FROM (SELECT CASE WHEN get_byte(payload, 0) & 2 = 2 THEN 4 ELSE 2 END
                 + CASE WHEN get_byte(payload, 0) & 4 = 4 THEN 1 ELSE 0 END AS step,
                 CASE WHEN get_byte(payload, 0) & 4 = 4 THEN 0 ELSE 1 END AS fixed) f
$$;

CREATE FUNCTION metering_pack(wh integer[], qualities smallint[], pt15m boolean) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT set_byte('\x00'::bytea, 0,
                    gap::int | (wide::int << 1) | (per_position::int << 2) | (pt15m::int << 3))
        || (SELECT string_agg(CASE WHEN wide THEN int4send(coalesce(v, -2147483648))
                                   ELSE substring(int4send(coalesce(v, 65535)) FROM 3) END,
                              ''::bytea ORDER BY i)
            FROM unnest(wh) WITH ORDINALITY AS u(v, i))
        || CASE WHEN per_position
                THEN (SELECT string_agg(substring(int4send(coalesce(q, 0)::int) FROM 4),
                                        ''::bytea ORDER BY i)
                      FROM unnest(qualities) WITH ORDINALITY AS u(q, i))
                ELSE substring(int4send(coalesce(qualities[1], 0)::int) FROM 4) END
    FROM (SELECT array_position(wh, NULL) IS NOT NULL AS gap,
                 EXISTS (SELECT 1 FROM unnest(wh) v WHERE v < 0 OR v > 65534) AS wide,
                 EXISTS (SELECT 1 FROM unnest(qualities) q
                         WHERE q IS DISTINCT FROM qualities[1]) AS per_position) f
$$;

-- The old table steps aside (its partitions too), keeping its id sequence for the new one:
-- ids are kept, so settlements' data_id and the correction job's watermark stay true.
ALTER TABLE metering_data RENAME TO metering_data_v1;
DO $$
DECLARE
    part record;
BEGIN
    FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'metering_data_v1'::regclass LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', part.relname,
                       'metering_data_v1_' || right(part.relname, 7));
    END LOOP;
END
$$;
ALTER SEQUENCE metering_data_id_seq OWNED BY NONE;

-- Where days came from: one row per DataHub message (and, rarely, per correcting series or a
-- TransactionId that is not a canonical UUID) in each stored batch.
CREATE TABLE metering_data_source (
    id                      serial PRIMARY KEY,
    datahub_message_id      text        NOT NULL,
    -- The series' TransactionId when it is not a canonical UUID (else on each day's row).
    transaction_id          text,
    original_transaction_id text,
    received_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE metering_data (
    -- Global order of arrival: "what changed since id X". Writers take a transaction lock
    -- before they draw ids (adapters/metering_data.py), so ids become visible in order.
    id               bigint   NOT NULL DEFAULT nextval('metering_data_id_seq'),
    gsrn             bigint   NOT NULL CHECK (gsrn BETWEEN 0 AND 999999999999999999),
    source_id        integer  NOT NULL,  -- metering_data_source (no foreign key: one writer)
    local_date       date     NOT NULL,
    version          smallint NOT NULL CHECK (version >= 1),
    transaction_uuid uuid,               -- NULL: metering_data_source.transaction_id
    payload          bytea    NOT NULL,
    CONSTRAINT metering_data_key PRIMARY KEY (gsrn, local_date, version),
    -- 23, 24 or 25 hours (DST); 92, 96 or 100 quarters; no flag unknown.
    CONSTRAINT metering_data_payload CHECK (
        CASE WHEN length(payload) < 2 OR get_byte(payload, 0) > 15 THEN false
             WHEN get_byte(payload, 0) & 8 = 8
             THEN coalesce(metering_positions(payload) IN (92, 96, 100), false)
             ELSE coalesce(metering_positions(payload) BETWEEN 23 AND 25, false) END)
) PARTITION BY RANGE (local_date);
ALTER SEQUENCE metering_data_id_seq OWNED BY metering_data.id;

CREATE INDEX metering_data_id_brin ON metering_data USING brin (id) WITH (pages_per_range = 32);
-- Days whose values are not all there (the schedule's completeness check of a month).
CREATE INDEX metering_data_gap_days ON metering_data (local_date, gsrn, version)
    WHERE get_byte(payload, 0) & 1 = 1;

-- The conversion: every version of every day, ids kept.
SELECT metering_data_partition(m)
FROM (SELECT DISTINCT date_trunc('month', local_date)::date AS m FROM metering_data_v1) months;

CREATE TEMPORARY VIEW metering_data_conversion AS
SELECT o.*,
       o.transaction_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
           AS canonical
FROM metering_data_v1 o;

INSERT INTO metering_data_source (datahub_message_id, transaction_id, original_transaction_id,
                                  received_at)
SELECT DISTINCT datahub_message_id, CASE WHEN canonical THEN NULL ELSE transaction_id END,
       original_transaction_id, received_at
FROM metering_data_conversion;

INSERT INTO metering_data (id, gsrn, source_id, local_date, version, transaction_uuid, payload)
SELECT c.id, c.gsrn::bigint, s.id, c.local_date, c.version,
       CASE WHEN c.canonical THEN c.transaction_id::uuid END,
       metering_pack(c.wh, c.qualities, c.resolution = 'PT15M')
FROM metering_data_conversion c
JOIN metering_data_source s
  ON s.datahub_message_id = c.datahub_message_id
 AND coalesce(s.transaction_id, '') = CASE WHEN c.canonical THEN '' ELSE c.transaction_id END
 AND coalesce(s.original_transaction_id, '') = coalesce(c.original_transaction_id, '')
 AND s.received_at = c.received_at;

DROP VIEW metering_data_conversion;
DROP TABLE metering_data_v1;
ANALYZE metering_data;
ANALYZE metering_data_source;
