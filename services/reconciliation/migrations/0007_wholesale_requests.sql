-- Reconciliation asks DataHub for a grid area's wholesale settlement of a month (RSM-017) too.
-- (data_requests_check1 is 0002's "RSM-016 = has a grid area"; _check is end after start.)
ALTER TABLE data_requests
    DROP CONSTRAINT data_requests_kind_check,
    DROP CONSTRAINT data_requests_check1,
    ADD CONSTRAINT data_requests_kind_check CHECK (kind IN ('RSM-015', 'RSM-016', 'RSM-017')),
    ADD CONSTRAINT data_requests_grid_area_check
        CHECK ((kind IN ('RSM-016', 'RSM-017')) = (grid_area IS NOT NULL));
