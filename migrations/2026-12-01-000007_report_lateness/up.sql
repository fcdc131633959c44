-- Rule 14 (src/domain/attendance_report.rs): a report's `late` is the meeting's lateness, fixed
-- by its first filing; each revision also records whether it was itself filed after the deadline.
ALTER TABLE attendance_reports ADD COLUMN filed_after_deadline boolean;
UPDATE attendance_reports SET filed_after_deadline = late;
UPDATE attendance_reports r
   SET late = first.late
  FROM attendance_reports first
 WHERE first.province_id = r.province_id AND first.meeting_id = r.meeting_id
   AND first.revision = 1 AND r.revision > 1;
ALTER TABLE attendance_reports ALTER COLUMN filed_after_deadline SET NOT NULL;
