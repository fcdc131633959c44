-- Email delivery (SPEC §5, rule 12, §7 Faults): iTIP methods for calendar attachments,
-- worker ids with heartbeats so a live worker reclaims a dead one's leases, schedule
-- fan-outs that run once at a time, retries by an admin, and calendar subscription links.

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('schedule', 'meeting_change', 'rule_attention', 'email_changed'));

-- The iTIP method of `ics` (RFC 5546): the attachment's Content-Type says it too.
ALTER TABLE outbox ADD COLUMN ics_method text
    CHECK (ics_method IN ('publish', 'request', 'cancel'));
UPDATE outbox SET ics_method = 'publish' WHERE ics IS NOT NULL;
ALTER TABLE outbox ADD CONSTRAINT outbox_ics_method_check_present
    CHECK ((ics IS NULL) = (ics_method IS NULL));

-- The worker holding a pending row's lease (NULL: nobody).
ALTER TABLE outbox ADD COLUMN claimed_by uuid;
-- Attempts made before an admin sent a failed email back to pending: the attempt limit
-- counts from there, the attempt numbers go on.
ALTER TABLE outbox ADD COLUMN attempts_before_retry integer NOT NULL DEFAULT 0;
-- The schedule fan-out that queued this email.
ALTER TABLE outbox ADD COLUMN fan_out_id uuid;

-- Delivery workers, one per running instance; a worker whose heartbeat stopped is dead and
-- the rows it held are claimed again.
CREATE TABLE outbox_workers (
    id           uuid PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_claimed_idx ON outbox (claimed_by)
    WHERE status = 'pending' AND claimed_by IS NOT NULL;

-- A schedule fan-out for an election and a region (NULL: the whole election); one runs at a
-- time for a given election and region: while its emails are pending, no other is queued.
CREATE TABLE schedule_fan_outs (
    id          uuid PRIMARY KEY,
    election_id uuid NOT NULL REFERENCES elections (id),
    region_id   uuid REFERENCES regions (id),
    province_id uuid REFERENCES regions (id),
    queued      integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedule_fan_outs_scope_idx ON schedule_fan_outs (election_id, region_id, created_at DESC);
CREATE INDEX outbox_fan_out_idx ON outbox (fan_out_id)
    WHERE status = 'pending' AND fan_out_id IS NOT NULL;
-- At most one schedule email an hour per candidate: the latest schedule email of each.
CREATE INDEX outbox_candidate_kind_idx ON outbox (candidate_id, kind, created_at DESC)
    WHERE candidate_id IS NOT NULL;

-- A candidate's calendar subscription: `GET /calendars/{secret}.ics`. The secret is derived
-- from `nonce` with the service's calendar key (so a schedule email can carry it again) and
-- only its SHA-256 is stored; a new nonce rotates it.
CREATE TABLE calendar_links (
    province_id  uuid NOT NULL REFERENCES regions (id),
    candidate_id uuid NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    nonce        text NOT NULL,
    secret_hash  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (province_id, candidate_id)
);
CREATE INDEX calendar_links_secret_idx ON calendar_links (secret_hash);
