-- Transactional outbox: an email is a row written in the transaction of the change
-- that causes it; the delivery worker claims due rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox (
    id              uuid PRIMARY KEY,
    province_id     uuid NOT NULL REFERENCES regions (id),
    kind            text NOT NULL CHECK (kind IN ('schedule', 'meeting_change', 'rule_attention')),
    recipient       text NOT NULL,
    recipient_name  text,
    candidate_id    uuid REFERENCES candidates (id),
    subject         text NOT NULL,
    body_text       text NOT NULL,
    body_html       text NOT NULL,
    ics             text,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
-- GET /outbox filters by candidate or recipient and pages by id (UUIDv7: creation order).
CREATE INDEX outbox_candidate_idx ON outbox (candidate_id, id) WHERE candidate_id IS NOT NULL;
CREATE INDEX outbox_recipient_idx ON outbox (recipient, id);

CREATE TABLE outbox_attempts (
    province_id  uuid NOT NULL REFERENCES regions (id),
    outbox_id    uuid NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    outcome      text NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    error        text,
    PRIMARY KEY (outbox_id, attempt)
);
