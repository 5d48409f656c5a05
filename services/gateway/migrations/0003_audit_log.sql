-- The audit trail: every state-changing call (POST, PUT, PATCH, DELETE) the gateway forwards.
-- Written before the call is forwarded and completed with its outcome after, so a crash in
-- between leaves the call recorded with status NULL: outcome unknown. Who (the key), when,
-- what (method, the path as received, without the query string or body) and the target's id
-- only: no personal data.
CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL,
    key_id         uuid        NOT NULL,
    key_name       text        NOT NULL,
    method         text        NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH', 'DELETE')),
    path           text        NOT NULL,
    -- The decoded path after /api/<first segment>/ (NULL: the collection itself). Byte order
    -- (COLLATE "C"), so that one index finds a target and everything under it.
    target         text COLLATE "C",
    correlation_id text        NOT NULL,
    status         smallint CHECK (status BETWEEN 100 AND 599)
);
CREATE INDEX audit_log_target ON audit_log (target, id);
CREATE INDEX audit_log_key ON audit_log (key_name, id);
CREATE INDEX audit_log_at ON audit_log (at);
