DROP TABLE calendar_links;
DROP INDEX outbox_candidate_kind_idx;
DROP INDEX outbox_fan_out_idx;
DROP TABLE schedule_fan_outs;
DROP INDEX outbox_claimed_idx;
DROP TABLE outbox_workers;
ALTER TABLE outbox DROP COLUMN fan_out_id;
ALTER TABLE outbox DROP COLUMN attempts_before_retry;
ALTER TABLE outbox DROP COLUMN claimed_by;
ALTER TABLE outbox DROP CONSTRAINT outbox_ics_method_check_present;
ALTER TABLE outbox DROP COLUMN ics_method;
DELETE FROM outbox WHERE kind = 'email_changed';
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('schedule', 'meeting_change', 'rule_attention'));
