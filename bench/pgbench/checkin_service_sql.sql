-- The statement POST /meetings/{id}/checkins sends today (captured from the server log of
-- the profile step at commit de037d6: diesel's DSL UPDATE in src/db/attendance.rs
-- `check_in`), with the ids taken from the bench tables. run.sh runs it twice:
--   -M extended: parsed and planned every time, as diesel sends it (diesel 2.3 never caches
--                an UPDATE: query_builder/update_statement/mod.rs calls
--                unsafe_to_cache_prepared(); diesel even needs 2 round trips, PQprepare +
--                PQexecPrepared, pgbench 1);
--   -M prepared: what the same statement costs once prepared per connection.
-- Informative: it isolates the database's share of the gap.
\set i random(1, 100)
UPDATE "meeting_sites" SET "present" = ("meeting_sites"."present" + 1), "admitted" = ("meeting_sites"."admitted" + 1)
 WHERE ((((("meeting_sites"."id" = (SELECT site_id FROM vm_bench_sites WHERE n = :i))
   AND ("meeting_sites"."meeting_id" = (SELECT c.meeting_id FROM vm_bench_checkin_in c JOIN vm_bench_sites b ON b.site_id = c.site_id WHERE b.n = :i)))
   AND EXISTS (SELECT "meetings"."id" FROM "meetings"
                WHERE (((((("meetings"."id" = "meeting_sites"."meeting_id")
                  AND ("meetings"."id" = (SELECT c.meeting_id FROM vm_bench_checkin_in c JOIN vm_bench_sites b ON b.site_id = c.site_id WHERE b.n = :i)))
                  AND ("meetings"."status" = 'planned')) AND ("meetings"."starts_at" <= now() + interval '1 hour'))
                  AND ("meetings"."ends_at" > now())) AND ("meetings"."region_path" @> '{}'::uuid[]))))
   AND ("meeting_sites"."present" >= -1))
   AND (false OR (("meeting_sites"."present" + 1) <= "meeting_sites"."effective_capacity")))
RETURNING "meeting_sites"."id", "meeting_sites"."present", "meeting_sites"."admitted", "meeting_sites"."effective_capacity";
