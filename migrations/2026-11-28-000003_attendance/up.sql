-- Attendance reports: every filing is a revision; the newest is the current report.
CREATE TABLE attendance_reports (
    id                uuid PRIMARY KEY,
    province_id       uuid NOT NULL REFERENCES regions (id),
    meeting_id        uuid NOT NULL REFERENCES meetings (id),
    revision          integer NOT NULL CHECK (revision >= 1),
    attendees         integer NOT NULL CHECK (attendees >= 0),
    online_attendees  integer CHECK (online_attendees >= 0),
    -- [{site_id, attendees}]
    sites             jsonb NOT NULL,
    opinions_count    integer NOT NULL DEFAULT 0 CHECK (opinions_count >= 0),
    -- [{topic, text}]
    opinions          jsonb NOT NULL DEFAULT '[]'::jsonb,
    notes             text,
    correction_reason text,
    late              boolean NOT NULL,
    filed_at          timestamptz NOT NULL DEFAULT now(),
    filed_by          uuid,
    CONSTRAINT attendance_reports_revision_unique UNIQUE (province_id, meeting_id, revision),
    CONSTRAINT attendance_reports_correction_reason CHECK (revision = 1 OR correction_reason IS NOT NULL)
);

ALTER TABLE meeting_sites ADD COLUMN reported_attendees integer CHECK (reported_attendees >= 0);
ALTER TABLE meetings ADD COLUMN reported_online_attendees integer CHECK (reported_online_attendees >= 0);
