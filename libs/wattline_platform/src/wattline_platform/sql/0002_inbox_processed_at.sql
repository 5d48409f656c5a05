-- The inbox's retention (wattline_platform.inbox.InboxPruner) deletes the oldest rows in
-- batches: without this index every batch would scan the whole inbox.
CREATE INDEX inbox_processed_at ON inbox (processed_at);
