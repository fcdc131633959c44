DROP TABLE meeting_sites;
DROP TABLE meeting_candidates;
DROP TABLE meeting_units;
DROP TABLE meetings;
DROP TABLE health_rules;
