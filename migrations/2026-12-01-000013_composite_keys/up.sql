-- SPEC §8: the keys Citus needs, on plain PostgreSQL too. Every table of election data is
-- keyed by (province_id, id) and points into its own province with composite foreign keys,
-- so that `voter-meetings citus distribute` can later shard them by province_id in one
-- co-location group (src/db/citus.rs lists the groups). Province codes and names, unique
-- nationwide, move to the small table `provinces` (a Citus reference table), because no
-- shard can check a rule that spans provinces.
--
-- Primary keys are declared (id, province_id): as a set that is the composite key, and with
-- id first a lookup by id alone still uses the index. Foreign keys name (province_id, …).

CREATE TABLE provinces (
    id   uuid PRIMARY KEY,
    code text,
    name text NOT NULL
);
INSERT INTO provinces (id, code, name) SELECT id, code, name FROM regions WHERE level = 'province';
CREATE UNIQUE INDEX provinces_code_unique ON provinces (code);
CREATE UNIQUE INDEX provinces_name_unique ON provinces (lower(normalize(name, NFC)));
DROP INDEX regions_province_code_unique;
DROP INDEX regions_province_name_unique;

-- National audit entries (elections, tokens) belong to the nil province.
UPDATE audit_log SET province_id = '00000000-0000-0000-0000-000000000000' WHERE province_id IS NULL;
ALTER TABLE audit_log ALTER COLUMN province_id SET NOT NULL;

-- Reference tables cannot point into distributed ones: a token's region and a fan-out's
-- region are checked by the use cases that write them (regions are never deleted).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_region_id_fkey;
ALTER TABLE schedule_fan_outs DROP CONSTRAINT schedule_fan_outs_region_id_fkey,
                              DROP CONSTRAINT schedule_fan_outs_province_id_fkey,
                              ADD CONSTRAINT schedule_fan_outs_province_id_fkey
                                  FOREIGN KEY (province_id) REFERENCES provinces (id);

ALTER TABLE regions            DROP CONSTRAINT regions_province_id_fkey,
                               DROP CONSTRAINT regions_parent_id_fkey;
ALTER TABLE electoral_units    DROP CONSTRAINT electoral_units_province_id_fkey,
                               DROP CONSTRAINT electoral_units_region_id_fkey;
ALTER TABLE candidates         DROP CONSTRAINT candidates_province_id_fkey,
                               DROP CONSTRAINT candidates_electoral_unit_id_fkey;
ALTER TABLE venues             DROP CONSTRAINT venues_province_id_fkey,
                               DROP CONSTRAINT venues_region_id_fkey;
ALTER TABLE health_rules       DROP CONSTRAINT health_rules_province_id_fkey,
                               DROP CONSTRAINT health_rules_region_id_fkey;
ALTER TABLE meetings           DROP CONSTRAINT meetings_province_id_fkey;
ALTER TABLE meeting_units      DROP CONSTRAINT meeting_units_province_id_fkey,
                               DROP CONSTRAINT meeting_units_meeting_id_fkey,
                               DROP CONSTRAINT meeting_units_electoral_unit_id_fkey;
ALTER TABLE meeting_candidates DROP CONSTRAINT meeting_candidates_province_id_fkey,
                               DROP CONSTRAINT meeting_candidates_meeting_id_fkey,
                               DROP CONSTRAINT meeting_candidates_candidate_id_fkey;
ALTER TABLE meeting_sites      DROP CONSTRAINT meeting_sites_province_id_fkey,
                               DROP CONSTRAINT meeting_sites_meeting_id_fkey,
                               DROP CONSTRAINT meeting_sites_venue_id_fkey,
                               DROP CONSTRAINT meeting_sites_binding_rule_id_fkey;
ALTER TABLE attendance_reports DROP CONSTRAINT attendance_reports_province_id_fkey,
                               DROP CONSTRAINT attendance_reports_meeting_id_fkey;
ALTER TABLE outbox             DROP CONSTRAINT outbox_province_id_fkey,
                               DROP CONSTRAINT outbox_candidate_id_fkey;
ALTER TABLE outbox_attempts    DROP CONSTRAINT outbox_attempts_province_id_fkey,
                               DROP CONSTRAINT outbox_attempts_outbox_id_fkey;
ALTER TABLE calendar_links     DROP CONSTRAINT calendar_links_province_id_fkey,
                               DROP CONSTRAINT calendar_links_candidate_id_fkey;

ALTER TABLE regions            DROP CONSTRAINT regions_pkey,            ADD CONSTRAINT regions_pkey            PRIMARY KEY (id, province_id);
ALTER TABLE electoral_units    DROP CONSTRAINT electoral_units_pkey,    ADD CONSTRAINT electoral_units_pkey    PRIMARY KEY (id, province_id);
ALTER TABLE candidates         DROP CONSTRAINT candidates_pkey,         ADD CONSTRAINT candidates_pkey         PRIMARY KEY (id, province_id);
ALTER TABLE venues             DROP CONSTRAINT venues_pkey,             ADD CONSTRAINT venues_pkey             PRIMARY KEY (id, province_id);
ALTER TABLE health_rules       DROP CONSTRAINT health_rules_pkey,       ADD CONSTRAINT health_rules_pkey       PRIMARY KEY (id, province_id);
ALTER TABLE meetings           DROP CONSTRAINT meetings_pkey,           ADD CONSTRAINT meetings_pkey           PRIMARY KEY (id, province_id);
ALTER TABLE meeting_sites      DROP CONSTRAINT meeting_sites_pkey,      ADD CONSTRAINT meeting_sites_pkey      PRIMARY KEY (id, province_id);
ALTER TABLE attendance_reports DROP CONSTRAINT attendance_reports_pkey, ADD CONSTRAINT attendance_reports_pkey PRIMARY KEY (id, province_id);
ALTER TABLE outbox             DROP CONSTRAINT outbox_pkey,             ADD CONSTRAINT outbox_pkey             PRIMARY KEY (id, province_id);
ALTER TABLE audit_log          DROP CONSTRAINT audit_log_pkey,          ADD CONSTRAINT audit_log_pkey          PRIMARY KEY (id, province_id);
ALTER TABLE meeting_units      DROP CONSTRAINT meeting_units_pkey,      ADD CONSTRAINT meeting_units_pkey      PRIMARY KEY (meeting_id, electoral_unit_id, province_id);
ALTER TABLE meeting_candidates DROP CONSTRAINT meeting_candidates_pkey, ADD CONSTRAINT meeting_candidates_pkey PRIMARY KEY (meeting_id, candidate_id, province_id);
ALTER TABLE outbox_attempts    DROP CONSTRAINT outbox_attempts_pkey,    ADD CONSTRAINT outbox_attempts_pkey    PRIMARY KEY (outbox_id, attempt, province_id);

ALTER TABLE regions
    ADD CONSTRAINT regions_province_id_fkey FOREIGN KEY (province_id) REFERENCES provinces (id),
    ADD CONSTRAINT regions_parent_id_fkey   FOREIGN KEY (province_id, parent_id) REFERENCES regions (province_id, id);
ALTER TABLE electoral_units
    ADD CONSTRAINT electoral_units_region_id_fkey FOREIGN KEY (province_id, region_id) REFERENCES regions (province_id, id);
ALTER TABLE candidates
    ADD CONSTRAINT candidates_electoral_unit_id_fkey FOREIGN KEY (province_id, electoral_unit_id) REFERENCES electoral_units (province_id, id);
ALTER TABLE venues
    ADD CONSTRAINT venues_region_id_fkey FOREIGN KEY (province_id, region_id) REFERENCES regions (province_id, id);
ALTER TABLE health_rules
    ADD CONSTRAINT health_rules_region_id_fkey FOREIGN KEY (province_id, region_id) REFERENCES regions (province_id, id);
ALTER TABLE meetings
    ADD CONSTRAINT meetings_province_id_fkey FOREIGN KEY (province_id) REFERENCES provinces (id);
ALTER TABLE meeting_units
    ADD CONSTRAINT meeting_units_meeting_id_fkey        FOREIGN KEY (province_id, meeting_id) REFERENCES meetings (province_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT meeting_units_electoral_unit_id_fkey FOREIGN KEY (province_id, electoral_unit_id) REFERENCES electoral_units (province_id, id);
ALTER TABLE meeting_candidates
    ADD CONSTRAINT meeting_candidates_meeting_id_fkey   FOREIGN KEY (province_id, meeting_id) REFERENCES meetings (province_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT meeting_candidates_candidate_id_fkey FOREIGN KEY (province_id, candidate_id) REFERENCES candidates (province_id, id);
ALTER TABLE meeting_sites
    ADD CONSTRAINT meeting_sites_meeting_id_fkey      FOREIGN KEY (province_id, meeting_id) REFERENCES meetings (province_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT meeting_sites_venue_id_fkey        FOREIGN KEY (province_id, venue_id) REFERENCES venues (province_id, id),
    ADD CONSTRAINT meeting_sites_binding_rule_id_fkey FOREIGN KEY (province_id, binding_rule_id) REFERENCES health_rules (province_id, id);
ALTER TABLE attendance_reports
    ADD CONSTRAINT attendance_reports_meeting_id_fkey FOREIGN KEY (province_id, meeting_id) REFERENCES meetings (province_id, id);
ALTER TABLE outbox
    ADD CONSTRAINT outbox_province_id_fkey  FOREIGN KEY (province_id) REFERENCES provinces (id),
    ADD CONSTRAINT outbox_candidate_id_fkey FOREIGN KEY (province_id, candidate_id) REFERENCES candidates (province_id, id);
ALTER TABLE outbox_attempts
    ADD CONSTRAINT outbox_attempts_outbox_id_fkey FOREIGN KEY (province_id, outbox_id) REFERENCES outbox (province_id, id) ON DELETE CASCADE;
ALTER TABLE calendar_links
    ADD CONSTRAINT calendar_links_candidate_id_fkey FOREIGN KEY (province_id, candidate_id) REFERENCES candidates (province_id, id) ON DELETE CASCADE;

-- Check-ins (rule 6, src/domain/check_in.rs), routed to one shard: every table is named with
-- its province, and the window compares columns with values computed from the arguments only
-- (Citus refuses STABLE expressions over column references in a distributed UPDATE).
DROP FUNCTION check_in_site(uuid, uuid, integer, uuid[], timestamptz);
DROP FUNCTION check_in_online(uuid, integer, uuid[], timestamptz);

CREATE FUNCTION check_in_site(p_province uuid, p_meeting uuid, p_site uuid, p_count integer, p_scope uuid[], p_now timestamptz)
RETURNS integer[] LANGUAGE plpgsql AS $$
DECLARE
    counted integer[];
    opens_by timestamptz := p_now + interval '1 hour';
BEGIN
    UPDATE meeting_sites s
       SET present = s.present + p_count, admitted = s.admitted + greatest(p_count, 0)
      FROM meetings m
     WHERE s.province_id = p_province AND m.province_id = p_province
       AND s.id = p_site AND s.meeting_id = p_meeting AND m.id = p_meeting
       AND m.status = 'planned'
       AND m.starts_at <= opens_by AND m.ends_at > p_now
       AND (p_scope = '{}' OR m.actors @> p_scope)
       AND s.present + p_count >= 0
       AND (p_count < 0 OR s.present + p_count <= s.effective_capacity)
    RETURNING ARRAY[s.present, s.admitted, s.effective_capacity] INTO counted;
    RETURN counted;
END
$$;

CREATE FUNCTION check_in_online(p_province uuid, p_meeting uuid, p_count integer, p_scope uuid[], p_now timestamptz)
RETURNS integer[] LANGUAGE plpgsql AS $$
DECLARE
    counted integer[];
    opens_by timestamptz := p_now + interval '1 hour';
BEGIN
    UPDATE meetings m
       SET online_present = m.online_present + p_count,
           online_admitted = m.online_admitted + greatest(p_count, 0)
     WHERE m.province_id = p_province AND m.id = p_meeting AND m.format = 'online'
       AND m.status = 'planned'
       AND m.starts_at <= opens_by AND m.ends_at > p_now
       AND (p_scope = '{}' OR m.actors @> p_scope)
       AND m.online_present + p_count >= 0
       AND (p_count < 0 OR m.online_present + p_count <= m.online_max_participants)
    RETURNING ARRAY[m.online_present, m.online_admitted, m.online_max_participants] INTO counted;
    RETURN counted;
END
$$;

-- The search text is rewritten by UPDATEs that fold columns (db::meetings::refresh_search);
-- Citus runs no STABLE function over column references in a distributed UPDATE. Folding is
-- immutable once the dictionary is named, as it is here.
CREATE OR REPLACE FUNCTION search_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN lower(unaccent('unaccent'::regdictionary, value));
