DROP INDEX meetings_search_idx;
ALTER TABLE meetings DROP COLUMN search_text;
DROP FUNCTION search_fold(text);
ALTER TABLE api_tokens DROP COLUMN last_used_at;
DROP EXTENSION pg_trgm;
DROP EXTENSION unaccent;
