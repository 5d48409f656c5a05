-- The served log's retention (jobs/served_retention.py) deletes its oldest rows in batches;
-- this index finds them without reading the whole log.
CREATE INDEX served_served_at ON served (served_at);
