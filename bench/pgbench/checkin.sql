-- pgbench baseline for POST /meetings/{id}/checkins: the same conditional UPDATE on one of
-- the 100 live sites, picked at random (vm_bench_sites: n 1..100 -> site id, filled by run.sh).
\set i random(1, 100)
UPDATE meeting_sites SET present = present + 1, admitted = admitted + 1
 WHERE id = (SELECT site_id FROM vm_bench_sites WHERE n = :i)
   AND present + 1 <= effective_capacity;
