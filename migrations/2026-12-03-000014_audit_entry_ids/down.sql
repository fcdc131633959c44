ALTER TABLE audit_log DROP COLUMN entry_id;
