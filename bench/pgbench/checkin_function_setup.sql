-- See checkin_function.sql. The check-in UPDATE of src/db/attendance.rs, in PL/pgSQL (plans cached per session).
CREATE OR REPLACE FUNCTION vm_bench_checkin_site(p_meeting uuid, p_site uuid, p_count int, p_scope uuid[], p_at timestamptz)
RETURNS TABLE (site_id uuid, present int, admitted int, capacity int) LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  UPDATE meeting_sites s
     SET present = s.present + p_count, admitted = s.admitted + greatest(p_count, 0)
    FROM meetings m
   WHERE s.id = p_site AND s.meeting_id = p_meeting AND m.id = s.meeting_id
     AND m.status = 'planned'
     AND p_at >= m.starts_at - interval '1 hour' AND p_at < m.ends_at
     AND (p_scope IS NULL OR m.region_path @> p_scope)
     AND s.present + p_count BETWEEN 0 AND s.effective_capacity
  RETURNING s.id, s.present, s.admitted, s.effective_capacity;
END $$;
