-- Reference data, API tokens, audit log and idempotency keys.
-- Every table of election data carries province_id (the root region of its row),
-- and every unique or exclusion constraint on it includes province_id, so the
-- schema can be distributed by province later (see docs/scaling.md).

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE regions (
    id            uuid PRIMARY KEY,
    province_id   uuid NOT NULL REFERENCES regions (id),
    parent_id     uuid REFERENCES regions (id),
    level         text NOT NULL CHECK (level IN ('province', 'district', 'commune')),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    code          text CHECK (length(code) BETWEEN 1 AND 32),
    contact_email text,
    -- ids from the province down to this region itself: subtree tests are `path @> ARRAY[x]`.
    path          uuid[] NOT NULL CHECK (array_position(path, NULL) IS NULL),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT regions_shape CHECK (
        (level = 'province' AND parent_id IS NULL AND province_id = id)
        OR (level <> 'province' AND parent_id IS NOT NULL)
    ),
    CONSTRAINT regions_code_unique UNIQUE (province_id, level, code)
);
CREATE INDEX regions_path_idx ON regions USING gin (path);
CREATE INDEX regions_parent_idx ON regions (parent_id);
-- Province codes are unique nationwide: the one unique rule without province_id
-- (docs/scaling.md moves it to a reference table under Citus).
CREATE UNIQUE INDEX regions_province_code_unique ON regions (code) WHERE level = 'province';

CREATE TABLE elections (
    id                         uuid PRIMARY KEY,
    name                       text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    polling_starts_at          timestamptz NOT NULL,
    campaign_starts_at         timestamptz NOT NULL,
    timezone                   text NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
    report_deadline_hours      integer NOT NULL DEFAULT 24 CHECK (report_deadline_hours BETWEEN 1 AND 720),
    min_meetings_per_candidate jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT elections_campaign_before_polling
        CHECK (campaign_starts_at < polling_starts_at - interval '24 hours')
);

CREATE TABLE electoral_units (
    id          uuid PRIMARY KEY,
    province_id uuid NOT NULL REFERENCES regions (id),
    election_id uuid NOT NULL REFERENCES elections (id),
    region_id   uuid NOT NULL REFERENCES regions (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    body        text NOT NULL CHECK (body IN ('national_assembly', 'province_council', 'district_council', 'commune_council')),
    seats       integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Election law, Art. 10(4): at most 3 seats per National Assembly unit, 5 per council unit.
    CONSTRAINT electoral_units_seats CHECK (
        seats >= 1 AND seats <= CASE WHEN body = 'national_assembly' THEN 3 ELSE 5 END
    ),
    CONSTRAINT electoral_units_name_unique UNIQUE (province_id, election_id, body, region_id, name)
);
CREATE INDEX electoral_units_election_idx ON electoral_units (election_id, province_id);
CREATE INDEX electoral_units_region_idx ON electoral_units (region_id);

CREATE TABLE candidates (
    id                uuid PRIMARY KEY,
    province_id       uuid NOT NULL REFERENCES regions (id),
    electoral_unit_id uuid NOT NULL REFERENCES electoral_units (id),
    full_name         text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    email             text NOT NULL,
    locale            text NOT NULL DEFAULT 'vi' CHECK (locale IN ('vi', 'en')),
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT candidates_email_unique UNIQUE (province_id, electoral_unit_id, email)
);
CREATE INDEX candidates_unit_idx ON candidates (electoral_unit_id);

CREATE TABLE venues (
    id          uuid PRIMARY KEY,
    province_id uuid NOT NULL REFERENCES regions (id),
    region_id   uuid NOT NULL REFERENCES regions (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address     text NOT NULL CHECK (length(address) BETWEEN 1 AND 500),
    capacity    integer NOT NULL CHECK (capacity BETWEEN 1 AND 100000),
    area_m2     double precision CHECK (area_m2 > 0),
    setting     text NOT NULL CHECK (setting IN ('indoor', 'outdoor')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT venues_name_unique UNIQUE (province_id, region_id, name)
);
CREATE INDEX venues_region_idx ON venues (region_id);

CREATE TABLE api_tokens (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role       text NOT NULL CHECK (role IN ('admin', 'organizer', 'observer')),
    region_id  uuid REFERENCES regions (id),
    -- SHA-256 of the token; the token itself is shown once and never stored.
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CONSTRAINT api_tokens_organizer_has_region CHECK (role <> 'organizer' OR region_id IS NOT NULL)
);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    province_id uuid,
    actor_id    uuid,
    actor_name  text NOT NULL,
    action      text NOT NULL,
    entity_type text NOT NULL,
    entity_id   uuid NOT NULL,
    before      jsonb,
    after       jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_id, id);

CREATE TABLE idempotency_keys (
    token_id     uuid NOT NULL REFERENCES api_tokens (id),
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    status       smallint NOT NULL,
    response     jsonb NOT NULL,
    location     text,
    etag         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
