-- The check-in functions as migration 000005 wrote them (scoped by region_path).
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
       AND m.region_path @> p_scope
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
       AND m.region_path @> p_scope
       AND m.online_present + p_count >= 0
       AND (p_count < 0 OR m.online_present + p_count <= m.online_max_participants)
    RETURNING ARRAY[m.online_present, m.online_admitted, m.online_max_participants] INTO counted;
    RETURN counted;
END
$$;

DROP INDEX meetings_reach_idx;
ALTER TABLE meetings DROP COLUMN reach, DROP COLUMN actors;
