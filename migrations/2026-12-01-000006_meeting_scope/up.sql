-- Who may act on and read a meeting (SPEC §3 rule 11, stated in src/domain/scope.rs):
-- `actors` are the regions whose organizers may change, cancel, check in to or report on it
-- (on the path of each of its venues — or, without one, of its deepest electoral unit — and
-- able to plan for every unit); `reach` are the regions whose tokens may read it (every region
-- on the path of one of its venues or units). The service computes both when it plans or
-- changes a meeting; this migration computes them for the meetings already there.
ALTER TABLE meetings
    ADD COLUMN actors uuid[] NOT NULL DEFAULT '{}' CHECK (array_position(actors, NULL) IS NULL),
    ADD COLUMN reach  uuid[] NOT NULL DEFAULT '{}' CHECK (array_position(reach, NULL) IS NULL);

WITH unit_paths AS (
    SELECT mu.meeting_id, r.path
      FROM meeting_units mu
      JOIN electoral_units u ON u.id = mu.electoral_unit_id
      JOIN regions r ON r.id = u.region_id
), venue_paths AS (
    SELECT s.meeting_id, r.path
      FROM meeting_sites s
      JOIN venues v ON v.id = s.venue_id
      JOIN regions r ON r.id = v.region_id
), anchors AS (
    SELECT meeting_id, path FROM venue_paths
    UNION ALL
    SELECT m.id, m.region_path FROM meetings m
     WHERE NOT EXISTS (SELECT 1 FROM venue_paths vp WHERE vp.meeting_id = m.id)
)
UPDATE meetings m SET
    reach = coalesce((SELECT array_agg(DISTINCT x ORDER BY x)
                        FROM (SELECT unnest(path) AS x FROM venue_paths WHERE meeting_id = m.id
                              UNION SELECT unnest(path) FROM unit_paths WHERE meeting_id = m.id) all_paths), '{}'),
    actors = coalesce((
        SELECT array_agg(s ORDER BY depth)
          FROM unnest((SELECT path FROM anchors a WHERE a.meeting_id = m.id LIMIT 1)) WITH ORDINALITY AS p(s, depth)
         WHERE NOT EXISTS (SELECT 1 FROM anchors a WHERE a.meeting_id = m.id AND NOT a.path @> ARRAY[s])
           AND NOT EXISTS (
               SELECT 1 FROM unit_paths u
                WHERE u.meeting_id = m.id
                  AND NOT u.path @> ARRAY[s]
                  AND NOT (SELECT path[1:depth] FROM anchors a WHERE a.meeting_id = m.id LIMIT 1) @> ARRAY[u.path[array_length(u.path, 1)]])), '{}');

CREATE INDEX meetings_reach_idx ON meetings USING gin (reach);

-- Check-ins scoped by `actors` (an empty scope is an admin's and reaches every meeting);
-- otherwise as in 000005: the counter moves only if the meeting is planned, check-in is open
-- (src/domain/check_in.rs states the window), `present` stays at or above zero, and an
-- arrival keeps it within capacity.
CREATE OR REPLACE FUNCTION check_in_site(p_meeting uuid, p_site uuid, p_count integer, p_scope uuid[], p_now timestamptz)
RETURNS integer[] LANGUAGE plpgsql AS $$
DECLARE
    counted integer[];
BEGIN
    UPDATE meeting_sites s
       SET present = s.present + p_count, admitted = s.admitted + greatest(p_count, 0)
      FROM meetings m
     WHERE s.id = p_site AND s.meeting_id = p_meeting AND m.id = s.meeting_id
       AND m.status = 'planned'
       AND p_now >= m.starts_at - interval '1 hour' AND p_now < m.ends_at
       AND (p_scope = '{}' OR m.actors @> p_scope)
       AND s.present + p_count >= 0
       AND (p_count < 0 OR s.present + p_count <= s.effective_capacity)
    RETURNING ARRAY[s.present, s.admitted, s.effective_capacity] INTO counted;
    RETURN counted;
END
$$;

CREATE OR REPLACE FUNCTION check_in_online(p_meeting uuid, p_count integer, p_scope uuid[], p_now timestamptz)
RETURNS integer[] LANGUAGE plpgsql AS $$
DECLARE
    counted integer[];
BEGIN
    UPDATE meetings m
       SET online_present = m.online_present + p_count,
           online_admitted = m.online_admitted + greatest(p_count, 0)
     WHERE m.id = p_meeting AND m.format = 'online'
       AND m.status = 'planned'
       AND p_now >= m.starts_at - interval '1 hour' AND p_now < m.ends_at
       AND (p_scope = '{}' OR m.actors @> p_scope)
       AND m.online_present + p_count >= 0
       AND (p_count < 0 OR m.online_present + p_count <= m.online_max_participants)
    RETURNING ARRAY[m.online_present, m.online_admitted, m.online_max_participants] INTO counted;
    RETURN counted;
END
$$;
