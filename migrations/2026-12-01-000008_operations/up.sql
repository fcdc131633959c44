-- Everyday operations: when a token was last used, and a search over meetings that ignores
-- case and Vietnamese diacritics ("ky dong" finds "Kỳ Đồng", SPEC §4), indexed by trigrams.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Written at most once a minute per token (src/app/tokens.rs), never once per request.
ALTER TABLE api_tokens ADD COLUMN last_used_at timestamptz;

-- The form text is searched in: lower case, without diacritics.
CREATE FUNCTION search_fold(value text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN lower(unaccent(value));

-- A meeting's title, its venues' names and addresses and its candidates' names, folded; the
-- service rewrites it whenever one of them changes (db::meetings::refresh_search).
ALTER TABLE meetings ADD COLUMN search_text text NOT NULL DEFAULT '';
UPDATE meetings m SET search_text = search_fold(concat_ws(' ', m.title,
    (SELECT string_agg(v.name || ' ' || v.address, ' ') FROM meeting_sites s JOIN venues v ON v.id = s.venue_id
      WHERE s.meeting_id = m.id),
    (SELECT string_agg(c.full_name, ' ') FROM meeting_candidates mc JOIN candidates c ON c.id = mc.candidate_id
      WHERE mc.meeting_id = m.id AND mc.active)));
CREATE INDEX meetings_search_idx ON meetings USING gin (search_text gin_trgm_ops);
