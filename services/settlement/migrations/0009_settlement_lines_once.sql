-- A settlement's lines were stored twice: as first settled (`lines`) and as the data settles to
-- now (`current_lines`), identical until a correction (about 2.3 KB a row, twice). Now
-- `current_lines` is NULL while it equals `lines`; a correction writes it. Every version between
-- is in settlement_correction. Readers take coalesce(current_lines, lines).
ALTER TABLE settlement ALTER COLUMN current_lines DROP NOT NULL;
UPDATE settlement SET current_lines = NULL WHERE current_lines = lines;
