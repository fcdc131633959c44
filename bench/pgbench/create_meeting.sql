-- pgbench baseline for POST /meetings: the rows a meeting is (meetings, meeting_units,
-- meeting_candidates, meeting_sites) in one transaction, under the real schema with its
-- exclusion constraints. Slot k (a sequence) picks unit/candidate/venue pair k % 400 and a
-- 2-hour slot k / 400 far beyond the API's slots (see vm_bench_start in setup_pgbench.sql),
-- so nothing conflicts.
SELECT nextval('vm_bench_pg_seq') AS k \gset
BEGIN;
INSERT INTO meetings (id, province_id, election_id, region_path, format, title, starts_at, ends_at)
SELECT vm_bench_mid(:k), b.province_id, b.election_id, b.region_path, 'in_person',
       'Hội nghị tiếp xúc cử tri (pgbench)', vm_bench_start(:k), vm_bench_start(:k) + interval '1 hour'
  FROM vm_bench_pairs b WHERE b.n = :k % 400;
INSERT INTO meeting_units (meeting_id, electoral_unit_id, province_id)
SELECT vm_bench_mid(:k), b.unit_id, b.province_id FROM vm_bench_pairs b WHERE b.n = :k % 400;
INSERT INTO meeting_candidates (meeting_id, candidate_id, province_id, busy)
SELECT vm_bench_mid(:k), b.candidate_id, b.province_id,
       tstzrange(vm_bench_start(:k), vm_bench_start(:k) + interval '90 minutes', '[)')
  FROM vm_bench_pairs b WHERE b.n = :k % 400;
INSERT INTO meeting_sites (id, meeting_id, province_id, venue_id, expected_attendees, effective_capacity, during)
SELECT gen_random_uuid(), vm_bench_mid(:k), b.province_id, b.venue_id, 50, 100000,
       tstzrange(vm_bench_start(:k), vm_bench_start(:k) + interval '1 hour', '[)')
  FROM vm_bench_pairs b WHERE b.n = :k % 400;
COMMIT;
