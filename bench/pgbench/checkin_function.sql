-- The check-in UPDATE of src/db/attendance.rs moved into a PL/pgSQL function
-- (vm_bench_checkin_site, created by checkin_function_setup.sql in the benchmark database
-- only) and called with a SELECT, which diesel does cache as a prepared statement, while
-- PL/pgSQL caches the UPDATE's plan: one suggested fix for the check-in gap, measured.
-- Informative.
\set i random(1, 100)
SELECT * FROM vm_bench_checkin_site(
  (SELECT c.meeting_id FROM vm_bench_checkin_in c JOIN vm_bench_sites b ON b.site_id = c.site_id WHERE b.n = :i),
  (SELECT site_id FROM vm_bench_sites WHERE n = :i), 1, NULL, now());
