-- SPEC §4: ids are UUIDs. An audit entry's id is a UUID (a UUIDv7 the service makes as it
-- writes the entry); the bigint stays what orders the entries and what a list's cursor holds.
-- Entries written before get one derived from their own key: md5 is immutable, so this runs
-- on a distributed table too (Citus refuses volatile functions in an UPDATE).
ALTER TABLE audit_log ADD COLUMN entry_id uuid;
UPDATE audit_log SET entry_id = md5(province_id::text || '/' || id::text)::uuid;
ALTER TABLE audit_log ALTER COLUMN entry_id SET NOT NULL;
