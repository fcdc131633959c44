-- Public-health rules and meetings. Double-booking of candidates and venues is
-- made impossible by exclusion constraints, not by checks in the application.

CREATE TABLE health_rules (
    id                     uuid PRIMARY KEY,
    province_id            uuid NOT NULL REFERENCES regions (id),
    region_id              uuid NOT NULL REFERENCES regions (id),
    effective_from         timestamptz NOT NULL,
    effective_until        timestamptz,
    applies_to             text NOT NULL CHECK (applies_to IN ('indoor', 'outdoor', 'any')),
    max_attendees          integer CHECK (max_attendees >= 0),
    max_occupancy_percent  integer CHECK (max_occupancy_percent BETWEEN 1 AND 100),
    min_area_per_person_m2 double precision CHECK (min_area_per_person_m2 > 0),
    combine                text NOT NULL DEFAULT 'min' CHECK (combine IN ('min', 'max')),
    reference              text,
    in_person_allowed      boolean NOT NULL DEFAULT true,
    version                integer NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT health_rules_period CHECK (effective_until IS NULL OR effective_until > effective_from),
    CONSTRAINT health_rules_says_something CHECK (
        max_attendees IS NOT NULL OR max_occupancy_percent IS NOT NULL
        OR min_area_per_person_m2 IS NOT NULL OR NOT in_person_allowed
    )
);
CREATE INDEX health_rules_region_idx ON health_rules (region_id, effective_from);

CREATE TABLE meetings (
    id                        uuid PRIMARY KEY,
    province_id               uuid NOT NULL REFERENCES regions (id),
    election_id               uuid NOT NULL REFERENCES elections (id),
    -- the region the meeting belongs to (its venue's, or for online meetings its
    -- deepest electoral unit's), from the province down: scope and roll-ups use it.
    region_path               uuid[] NOT NULL CHECK (array_position(region_path, NULL) IS NULL),
    format                    text NOT NULL CHECK (format IN ('in_person', 'online')),
    title                     text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    chair_name                text,
    chair_role                text,
    starts_at                 timestamptz NOT NULL,
    ends_at                   timestamptz NOT NULL,
    status                    text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'cancelled', 'held')),
    cancel_reason             text,
    online_platform           text,
    online_join_url           text,
    online_max_participants   integer CHECK (online_max_participants >= 1),
    online_expected_attendees integer CHECK (online_expected_attendees >= 0),
    online_present            integer NOT NULL DEFAULT 0 CHECK (online_present >= 0),
    online_admitted           integer NOT NULL DEFAULT 0 CHECK (online_admitted >= 0),
    needs_attention           boolean NOT NULL DEFAULT false,
    -- what the last evaluation against the rules in force found wrong: [{code, site_id, rule_id, detail}]
    attention                 jsonb NOT NULL DEFAULT '[]'::jsonb,
    version                   integer NOT NULL DEFAULT 1,
    -- the current attendance report, kept here so roll-ups read one row per meeting
    reported_attendees        integer,
    report_revision           integer,
    report_filed_at           timestamptz,
    report_late               boolean,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT meetings_time_order CHECK (ends_at > starts_at),
    CONSTRAINT meetings_online_block CHECK (
        (format = 'online') = (online_max_participants IS NOT NULL AND online_expected_attendees IS NOT NULL)
    )
);
CREATE INDEX meetings_election_idx ON meetings (election_id, starts_at, id);
CREATE INDEX meetings_region_path_idx ON meetings USING gin (region_path);
CREATE INDEX meetings_updated_idx ON meetings (updated_at, id);
CREATE INDEX meetings_attention_idx ON meetings (province_id) WHERE needs_attention;

CREATE TABLE meeting_units (
    meeting_id        uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    electoral_unit_id uuid NOT NULL REFERENCES electoral_units (id),
    province_id       uuid NOT NULL REFERENCES regions (id),
    PRIMARY KEY (meeting_id, electoral_unit_id)
);
CREATE INDEX meeting_units_unit_idx ON meeting_units (electoral_unit_id);

CREATE TABLE meeting_candidates (
    meeting_id   uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    candidate_id uuid NOT NULL REFERENCES candidates (id),
    province_id  uuid NOT NULL REFERENCES regions (id),
    -- the meeting's time plus the travel buffer after it
    busy         tstzrange NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    PRIMARY KEY (meeting_id, candidate_id),
    CONSTRAINT meeting_candidates_no_overlap
        EXCLUDE USING gist (province_id WITH =, candidate_id WITH =, busy WITH &&) WHERE (active)
);
CREATE INDEX meeting_candidates_candidate_idx ON meeting_candidates (candidate_id);

CREATE TABLE meeting_sites (
    id                 uuid PRIMARY KEY,
    meeting_id         uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    province_id        uuid NOT NULL REFERENCES regions (id),
    venue_id           uuid NOT NULL REFERENCES venues (id),
    expected_attendees integer NOT NULL CHECK (expected_attendees >= 0),
    effective_capacity integer NOT NULL CHECK (effective_capacity >= 0),
    binding_rule_id    uuid REFERENCES health_rules (id),
    present            integer NOT NULL DEFAULT 0 CHECK (present >= 0),
    admitted           integer NOT NULL DEFAULT 0 CHECK (admitted >= 0),
    during             tstzrange NOT NULL,
    active             boolean NOT NULL DEFAULT true,
    CONSTRAINT meeting_sites_no_overlap
        EXCLUDE USING gist (province_id WITH =, venue_id WITH =, during WITH &&) WHERE (active)
);
CREATE INDEX meeting_sites_meeting_idx ON meeting_sites (meeting_id);
CREATE INDEX meeting_sites_venue_idx ON meeting_sites (venue_id);
