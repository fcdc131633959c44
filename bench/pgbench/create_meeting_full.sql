-- As create_meeting.sql, plus the two rows the service also writes per meeting: the audit
-- entry and the candidate's change-notice email (outbox; inserted as already sent so the
-- service's worker leaves it alone). Payload sizes are copied from rows the API wrote
-- (vm_bench_payload, filled by run.sh). Informative: the SPEC target is against create_meeting.sql.
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
INSERT INTO audit_log (entry_id, province_id, actor_name, action, entity_type, entity_id, after)
SELECT gen_random_uuid(), b.province_id, 'pgbench', 'create', 'meeting', vm_bench_mid(:k), p.audit_after
  FROM vm_bench_pairs b, vm_bench_payload p WHERE b.n = :k % 400;
INSERT INTO outbox (id, province_id, kind, recipient, recipient_name, candidate_id, subject,
                    body_text, body_html, ics, ics_method, status, sent_at)
SELECT gen_random_uuid(), b.province_id, 'meeting_change', 'pgbench@example.vn', 'pgbench',
       b.candidate_id, p.subject, p.body_text, p.body_html, p.ics, 'request', 'sent', now()
  FROM vm_bench_pairs b, vm_bench_payload p WHERE b.n = :k % 400;
COMMIT;
