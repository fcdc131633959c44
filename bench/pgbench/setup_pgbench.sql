-- Helper tables for the pgbench baselines, in the benchmark's own database (vm_bench).
-- psql -v base_epoch=<unix time> -f setup_pgbench.sql; expects vm_bench_checkin_in(meeting_id, site_id)
-- and vm_bench_pairs_in(unit_id, venue_id) to have been \copy'd from setup_api.py's files.
\set ON_ERROR_STOP on
CREATE TABLE vm_bench_sites AS
SELECT row_number() OVER (ORDER BY site_id)::int AS n, site_id FROM vm_bench_checkin_in;
ALTER TABLE vm_bench_sites ADD PRIMARY KEY (n);

CREATE TABLE vm_bench_pairs AS
SELECT (row_number() OVER (ORDER BY p.unit_id) - 1)::int AS n, p.unit_id, c.id AS candidate_id,
       p.venue_id, u.province_id, u.election_id, r.path AS region_path
  FROM vm_bench_pairs_in p
  JOIN electoral_units u ON u.id = p.unit_id
  JOIN candidates c ON c.electoral_unit_id = p.unit_id
  JOIN venues v ON v.id = p.venue_id
  JOIN regions r ON r.id = v.region_id;
ALTER TABLE vm_bench_pairs ADD PRIMARY KEY (n);

CREATE SEQUENCE vm_bench_pg_seq;
-- pgbench's meetings: deterministic ids, and 2-hour slots starting a year after the API's.
CREATE FUNCTION vm_bench_mid(k bigint) RETURNS uuid IMMUTABLE LANGUAGE sql
  AS $$ SELECT md5('pgbench-meeting-' || k)::uuid $$;
SELECT format($f$CREATE FUNCTION vm_bench_start(k bigint) RETURNS timestamptz IMMUTABLE LANGUAGE sql
  AS 'SELECT to_timestamp(%s) + interval ''365 days'' + (k / 400) * interval ''2 hours'''$f$, :base_epoch) \gexec
