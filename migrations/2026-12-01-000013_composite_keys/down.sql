-- Back to the single-column keys of 000012 (data kept; national audit entries become NULL again).

CREATE OR REPLACE FUNCTION search_fold(value text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN lower(unaccent(value));

DROP FUNCTION check_in_site(uuid, uuid, uuid, integer, uuid[], timestamptz);
DROP FUNCTION check_in_online(uuid, uuid, integer, uuid[], timestamptz);

ALTER TABLE regions DROP CONSTRAINT regions_province_id_fkey,
    DROP CONSTRAINT regions_parent_id_fkey;
ALTER TABLE electoral_units DROP CONSTRAINT electoral_units_region_id_fkey;
ALTER TABLE candidates DROP CONSTRAINT candidates_electoral_unit_id_fkey;
ALTER TABLE venues DROP CONSTRAINT venues_region_id_fkey;
ALTER TABLE health_rules DROP CONSTRAINT health_rules_region_id_fkey;
ALTER TABLE meetings DROP CONSTRAINT meetings_province_id_fkey;
ALTER TABLE meeting_units DROP CONSTRAINT meeting_units_meeting_id_fkey,
    DROP CONSTRAINT meeting_units_electoral_unit_id_fkey;
ALTER TABLE meeting_candidates DROP CONSTRAINT meeting_candidates_meeting_id_fkey,
    DROP CONSTRAINT meeting_candidates_candidate_id_fkey;
ALTER TABLE meeting_sites DROP CONSTRAINT meeting_sites_meeting_id_fkey,
    DROP CONSTRAINT meeting_sites_venue_id_fkey,
    DROP CONSTRAINT meeting_sites_binding_rule_id_fkey;
ALTER TABLE attendance_reports DROP CONSTRAINT attendance_reports_meeting_id_fkey;
ALTER TABLE outbox DROP CONSTRAINT outbox_province_id_fkey,
    DROP CONSTRAINT outbox_candidate_id_fkey;
ALTER TABLE outbox_attempts DROP CONSTRAINT outbox_attempts_outbox_id_fkey;
ALTER TABLE calendar_links DROP CONSTRAINT calendar_links_candidate_id_fkey;
ALTER TABLE schedule_fan_outs DROP CONSTRAINT schedule_fan_outs_province_id_fkey;

ALTER TABLE attendance_reports DROP CONSTRAINT attendance_reports_pkey, ADD CONSTRAINT attendance_reports_pkey PRIMARY KEY (id);
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey, ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
ALTER TABLE candidates DROP CONSTRAINT candidates_pkey, ADD CONSTRAINT candidates_pkey PRIMARY KEY (id);
ALTER TABLE electoral_units DROP CONSTRAINT electoral_units_pkey, ADD CONSTRAINT electoral_units_pkey PRIMARY KEY (id);
ALTER TABLE health_rules DROP CONSTRAINT health_rules_pkey, ADD CONSTRAINT health_rules_pkey PRIMARY KEY (id);
ALTER TABLE meeting_candidates DROP CONSTRAINT meeting_candidates_pkey, ADD CONSTRAINT meeting_candidates_pkey PRIMARY KEY (meeting_id, candidate_id);
ALTER TABLE meeting_sites DROP CONSTRAINT meeting_sites_pkey, ADD CONSTRAINT meeting_sites_pkey PRIMARY KEY (id);
ALTER TABLE meeting_units DROP CONSTRAINT meeting_units_pkey, ADD CONSTRAINT meeting_units_pkey PRIMARY KEY (meeting_id, electoral_unit_id);
ALTER TABLE meetings DROP CONSTRAINT meetings_pkey, ADD CONSTRAINT meetings_pkey PRIMARY KEY (id);
ALTER TABLE outbox_attempts DROP CONSTRAINT outbox_attempts_pkey, ADD CONSTRAINT outbox_attempts_pkey PRIMARY KEY (outbox_id, attempt);
ALTER TABLE outbox DROP CONSTRAINT outbox_pkey, ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);
ALTER TABLE regions DROP CONSTRAINT regions_pkey, ADD CONSTRAINT regions_pkey PRIMARY KEY (id);
ALTER TABLE venues DROP CONSTRAINT venues_pkey, ADD CONSTRAINT venues_pkey PRIMARY KEY (id);

ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions(id);
ALTER TABLE attendance_reports ADD CONSTRAINT attendance_reports_meeting_id_fkey FOREIGN KEY (meeting_id) REFERENCES meetings(id);
ALTER TABLE attendance_reports ADD CONSTRAINT attendance_reports_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE calendar_links ADD CONSTRAINT calendar_links_candidate_id_fkey FOREIGN KEY (candidate_id) REFERENCES candidates(id) ON DELETE CASCADE;
ALTER TABLE calendar_links ADD CONSTRAINT calendar_links_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE candidates ADD CONSTRAINT candidates_electoral_unit_id_fkey FOREIGN KEY (electoral_unit_id) REFERENCES electoral_units(id);
ALTER TABLE candidates ADD CONSTRAINT candidates_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE electoral_units ADD CONSTRAINT electoral_units_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE electoral_units ADD CONSTRAINT electoral_units_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions(id);
ALTER TABLE health_rules ADD CONSTRAINT health_rules_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE health_rules ADD CONSTRAINT health_rules_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions(id);
ALTER TABLE meeting_candidates ADD CONSTRAINT meeting_candidates_candidate_id_fkey FOREIGN KEY (candidate_id) REFERENCES candidates(id);
ALTER TABLE meeting_candidates ADD CONSTRAINT meeting_candidates_meeting_id_fkey FOREIGN KEY (meeting_id) REFERENCES meetings(id) ON DELETE CASCADE;
ALTER TABLE meeting_candidates ADD CONSTRAINT meeting_candidates_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE meeting_sites ADD CONSTRAINT meeting_sites_binding_rule_id_fkey FOREIGN KEY (binding_rule_id) REFERENCES health_rules(id);
ALTER TABLE meeting_sites ADD CONSTRAINT meeting_sites_meeting_id_fkey FOREIGN KEY (meeting_id) REFERENCES meetings(id) ON DELETE CASCADE;
ALTER TABLE meeting_sites ADD CONSTRAINT meeting_sites_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE meeting_sites ADD CONSTRAINT meeting_sites_venue_id_fkey FOREIGN KEY (venue_id) REFERENCES venues(id);
ALTER TABLE meeting_units ADD CONSTRAINT meeting_units_electoral_unit_id_fkey FOREIGN KEY (electoral_unit_id) REFERENCES electoral_units(id);
ALTER TABLE meeting_units ADD CONSTRAINT meeting_units_meeting_id_fkey FOREIGN KEY (meeting_id) REFERENCES meetings(id) ON DELETE CASCADE;
ALTER TABLE meeting_units ADD CONSTRAINT meeting_units_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE meetings ADD CONSTRAINT meetings_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE outbox_attempts ADD CONSTRAINT outbox_attempts_outbox_id_fkey FOREIGN KEY (outbox_id) REFERENCES outbox(id) ON DELETE CASCADE;
ALTER TABLE outbox_attempts ADD CONSTRAINT outbox_attempts_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE outbox ADD CONSTRAINT outbox_candidate_id_fkey FOREIGN KEY (candidate_id) REFERENCES candidates(id);
ALTER TABLE outbox ADD CONSTRAINT outbox_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE regions ADD CONSTRAINT regions_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES regions(id);
ALTER TABLE regions ADD CONSTRAINT regions_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE schedule_fan_outs ADD CONSTRAINT schedule_fan_outs_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE schedule_fan_outs ADD CONSTRAINT schedule_fan_outs_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions(id);
ALTER TABLE venues ADD CONSTRAINT venues_province_id_fkey FOREIGN KEY (province_id) REFERENCES regions(id);
ALTER TABLE venues ADD CONSTRAINT venues_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions(id);

ALTER TABLE audit_log ALTER COLUMN province_id DROP NOT NULL;
UPDATE audit_log SET province_id = NULL WHERE province_id = '00000000-0000-0000-0000-000000000000';

CREATE UNIQUE INDEX regions_province_code_unique ON regions (code) WHERE level = 'province';
CREATE UNIQUE INDEX regions_province_name_unique
    ON regions (lower(normalize(name, NFC))) WHERE level = 'province';
DROP TABLE provinces;

CREATE FUNCTION check_in_site(p_meeting uuid, p_site uuid, p_count integer, p_scope uuid[], p_now timestamptz)
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

CREATE FUNCTION check_in_online(p_meeting uuid, p_count integer, p_scope uuid[], p_now timestamptz)
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
