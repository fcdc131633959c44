ALTER TABLE meetings DROP COLUMN reported_online_attendees;
ALTER TABLE meeting_sites DROP COLUMN reported_attendees;
DROP TABLE attendance_reports;
