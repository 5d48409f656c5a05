-- Local days that RSM-012 series have so far covered only in part (DataHub forwards series of
-- whole hours or quarters). Each later piece is laid over the row and the day is published as
-- it then stands; a day that later arrives whole replaces its row. `received` marks the
-- positions some message carried; the others are missing.
CREATE TABLE partial_days (
    gsrn        text      NOT NULL,
    local_date  date      NOT NULL,
    resolution  text      NOT NULL CHECK (resolution IN ('PT15M', 'PT1H')),
    quantities  numeric[] NOT NULL,
    qualities   text[]    NOT NULL,
    received    boolean[] NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (gsrn, local_date),
    CHECK (cardinality(quantities) = cardinality(qualities)
           AND cardinality(quantities) = cardinality(received))
);
