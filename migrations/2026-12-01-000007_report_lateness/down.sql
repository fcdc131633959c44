UPDATE attendance_reports SET late = filed_after_deadline;
ALTER TABLE attendance_reports DROP COLUMN filed_after_deadline;
