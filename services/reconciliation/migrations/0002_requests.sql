-- What reconciliation asked DataHub for (through the datahub service), for operators to see.
CREATE TABLE data_requests (
    request_id          uuid PRIMARY KEY,
    kind                text        NOT NULL CHECK (kind IN ('RSM-015', 'RSM-016')),
    grid_area           text,
    gsrn                text,
    metering_point_type text,
    start_date          date        NOT NULL,
    end_date            date        NOT NULL CHECK (end_date > start_date),
    requested_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'RSM-016') = (grid_area IS NOT NULL)),
    CHECK ((kind = 'RSM-015') = (gsrn IS NOT NULL))
);
