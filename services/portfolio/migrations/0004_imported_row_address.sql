-- The DAR address id an imported row gave (optional in the file), kept as a signup keeps its.
ALTER TABLE imported_row ADD COLUMN dar_id uuid;
