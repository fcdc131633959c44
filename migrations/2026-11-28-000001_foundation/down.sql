DROP TABLE idempotency_keys;
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE venues;
DROP TABLE candidates;
DROP TABLE electoral_units;
DROP TABLE elections;
DROP TABLE regions;
DROP EXTENSION IF EXISTS btree_gist;
