-- A national data set for bench/, generated in SQL (generate_series), into a database
-- migrated by `voter-meetings migrate`:
--
--   DATABASE_URL=postgres://postgres@127.0.0.1:5432/vm_bench_national voter-meetings migrate
--   psql -X -v ON_ERROR_STOP=1 -d vm_bench_national -f bench/national.sql
--
-- What it makes (SPEC §1 and §7 "Scale"):
--   60 provinces, 700 districts, 10,000 communes (region tree with paths);
--   one election: campaign started 14 days ago (at the hour), polling in 15 days;
--   9,980 electoral units: 3 National Assembly + 15 provincial-council units per province,
--     7 district-council units per district, 1 commune-council unit in 4,000 communes;
--   49,900 candidates (5 per unit), 9,980 venues (one per unit, in a commune of its region);
--   100,021 meetings: 10 in-person meetings per unit on days 1, 3, …, 19 of the campaign
--     (2 hours each, every unit at its own hour), plus an online meeting on day 21 for one
--     unit in 45; each meeting links its unit, its 5 candidates (busy = meeting + 30 min) and
--     its venue. A unit's meetings never overlap and no venue is shared, so the exclusion
--     constraints accept every row;
--   meetings that have ended are 'held' with an attendance report (97%; the rest overdue),
--     5% of the reports filed late, 0.5% of all meetings cancelled; 40–196 attendances per
--     report (avg ~118): about 8 million attendances in all.
--
-- Runs in one transaction; prints the counts at the end.
\set ON_ERROR_STOP on
\timing on
BEGIN;
SET LOCAL synchronous_commit = off;

CREATE TEMP TABLE prov ON COMMIT DROP AS
SELECT g AS n, gen_random_uuid() AS id FROM generate_series(1, 60) g;
CREATE TEMP TABLE dist ON COMMIT DROP AS
SELECT g AS n, (g - 1) % 60 + 1 AS pn, gen_random_uuid() AS id FROM generate_series(1, 700) g;
CREATE TEMP TABLE comm ON COMMIT DROP AS
SELECT g AS n, (g - 1) % 700 + 1 AS dn, gen_random_uuid() AS id FROM generate_series(1, 10000) g;

-- Provinces have their row in `provinces` too (migration 000013: codes and names unique
-- nationwide, a Citus reference table), as db::regions::insert writes it.
INSERT INTO provinces (id, code, name)
SELECT id, lpad(n::text, 2, '0'), format('Tỉnh %s', n) FROM prov;
INSERT INTO regions (id, province_id, parent_id, level, name, code, contact_email, path)
SELECT id, id, NULL, 'province', format('Tỉnh %s', n), lpad(n::text, 2, '0'),
       format('mttq.tinh%s@example.vn', n), ARRAY[id]
  FROM prov;
INSERT INTO regions (id, province_id, parent_id, level, name, code, contact_email, path)
SELECT d.id, p.id, p.id, 'district', format('Huyện %s', d.n), NULL,
       format('mttq.huyen%s@example.vn', d.n), ARRAY[p.id, d.id]
  FROM dist d JOIN prov p ON p.n = d.pn;
INSERT INTO regions (id, province_id, parent_id, level, name, code, contact_email, path)
SELECT c.id, p.id, d.id, 'commune', format('Xã %s', c.n), NULL, NULL, ARRAY[p.id, d.id, c.id]
  FROM comm c JOIN dist d ON d.n = c.dn JOIN prov p ON p.n = d.pn;

CREATE TEMP TABLE el ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, date_trunc('hour', now()) - interval '14 days' AS t0;
INSERT INTO elections (id, name, polling_starts_at, campaign_starts_at, timezone,
                       report_deadline_hours, min_meetings_per_candidate)
SELECT id, 'Bầu cử đại biểu Quốc hội và HĐND các cấp (bench national)',
       t0 + interval '29 days', t0, 'Asia/Ho_Chi_Minh', 24,
       '{"national_assembly": 10, "province_council": 5}'::jsonb
  FROM el;

-- communes of each province and of each district, to place each unit's venue
CREATE TEMP TABLE pcomm ON COMMIT DROP AS
SELECT d.pn, array_agg(c.id ORDER BY c.n) AS communes FROM comm c JOIN dist d ON d.n = c.dn GROUP BY d.pn;
CREATE TEMP TABLE dcomm ON COMMIT DROP AS
SELECT c.dn, array_agg(c.id ORDER BY c.n) AS communes FROM comm c GROUP BY c.dn;

CREATE TEMP TABLE unit ON COMMIT DROP AS
SELECT row_number() OVER ()::int AS n, gen_random_uuid() AS id, gen_random_uuid() AS venue_id, u.*
  FROM (
    SELECT 'national_assembly' AS body, p.id AS region_id, p.id AS province_id, g AS k,
           pc.communes[1 + (g * 7) % array_length(pc.communes, 1)] AS venue_region
      FROM prov p JOIN pcomm pc ON pc.pn = p.n, generate_series(1, 3) g
    UNION ALL
    SELECT 'province_council', p.id, p.id, g,
           pc.communes[1 + (g * 11 + 3) % array_length(pc.communes, 1)]
      FROM prov p JOIN pcomm pc ON pc.pn = p.n, generate_series(1, 15) g
    UNION ALL
    SELECT 'district_council', d.id, p.id, g, dc.communes[1 + g % array_length(dc.communes, 1)]
      FROM dist d JOIN prov p ON p.n = d.pn JOIN dcomm dc ON dc.dn = d.n, generate_series(1, 7) g
    UNION ALL
    SELECT 'commune_council', c.id, p.id, 1, c.id
      FROM comm c JOIN dist d ON d.n = c.dn JOIN prov p ON p.n = d.pn
     WHERE c.n <= 4000
  ) u;

INSERT INTO electoral_units (id, province_id, election_id, region_id, name, body, seats)
SELECT u.id, u.province_id, el.id, u.region_id, format('Đơn vị bầu cử số %s', u.k), u.body, 3
  FROM unit u, el;

CREATE TEMP TABLE cand ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, u.id AS unit_id, u.province_id, u.n AS un, g
  FROM unit u, generate_series(1, 5) g;
INSERT INTO candidates (id, province_id, electoral_unit_id, full_name, email, locale)
SELECT id, province_id, unit_id, format('Ứng cử viên %s-%s', un, g), format('uv%s.%s@example.vn', un, g),
       CASE WHEN g = 5 AND un % 10 = 0 THEN 'en' ELSE 'vi' END
  FROM cand;

INSERT INTO venues (id, province_id, region_id, name, address, capacity, area_m2, setting)
SELECT u.venue_id, u.province_id, u.venue_region, format('Hội trường đơn vị %s', u.n),
       format('Số %s, đường Trần Phú', u.n), 300, 450,
       CASE WHEN u.n % 7 = 0 THEN 'outdoor' ELSE 'indoor' END
  FROM unit u;

CREATE TEMP TABLE mt ON COMMIT DROP AS
SELECT x.*,
       x.ends_at < now() AND NOT x.cancelled AND random() < 0.97 AS reported,
       40 + floor(random() * 157)::int AS attendees,
       random() < 0.05 AS late
  FROM (
    SELECT gen_random_uuid() AS id, gen_random_uuid() AS site_id, u.id AS unit_id, u.province_id,
           u.venue_id, u.venue_region, u.region_id, s.k AS slot,
           CASE WHEN s.k = 10 THEN 'online' ELSE 'in_person' END AS format,
           el.t0 + make_interval(days => 2 * s.k + 1, hours => 7 + u.n % 10) AS starts_at,
           el.t0 + make_interval(days => 2 * s.k + 1, hours => 9 + u.n % 10) AS ends_at,
           random() < 0.005 AS cancelled
      FROM unit u, el, generate_series(0, 10) AS s(k)
     WHERE s.k < 10 OR u.n % 45 = 0
  ) x;

INSERT INTO meetings (id, province_id, election_id, region_path, format, title, chair_name, chair_role,
                      starts_at, ends_at, status, cancel_reason,
                      online_platform, online_join_url, online_max_participants, online_expected_attendees,
                      reported_attendees, report_revision, report_filed_at, report_late,
                      reported_online_attendees)
SELECT m.id, m.province_id, el.id,
       CASE WHEN m.format = 'online' THEN ur.path ELSE vr.path END,
       m.format, 'Hội nghị tiếp xúc cử tri', 'Nguyễn Văn Chủ Trì', 'Chủ tịch UBMTTQ',
       m.starts_at, m.ends_at,
       CASE WHEN m.cancelled THEN 'cancelled' WHEN m.reported THEN 'held' ELSE 'planned' END,
       CASE WHEN m.cancelled THEN 'thời tiết xấu' END,
       CASE WHEN m.format = 'online' THEN 'Zoom' END,
       CASE WHEN m.format = 'online' THEN 'https://meet.example.vn/' || m.id END,
       CASE WHEN m.format = 'online' THEN 1000 END,
       CASE WHEN m.format = 'online' THEN 300 END,
       CASE WHEN m.reported THEN m.attendees END,
       CASE WHEN m.reported THEN 1 END,
       CASE WHEN m.reported THEN m.ends_at + CASE WHEN m.late THEN interval '30 hours' ELSE interval '3 hours' END END,
       CASE WHEN m.reported THEN m.late END,
       CASE WHEN m.reported AND m.format = 'online' THEN m.attendees END
  FROM mt m, el, regions vr, regions ur
 WHERE vr.province_id = m.province_id AND vr.id = m.venue_region
   AND ur.province_id = m.province_id AND ur.id = m.region_id;

INSERT INTO meeting_units (meeting_id, electoral_unit_id, province_id)
SELECT id, unit_id, province_id FROM mt;

INSERT INTO meeting_candidates (meeting_id, candidate_id, province_id, busy, active)
SELECT m.id, c.id, m.province_id, tstzrange(m.starts_at, m.ends_at + interval '30 minutes', '[)'),
       NOT m.cancelled
  FROM mt m JOIN cand c ON c.unit_id = m.unit_id;

INSERT INTO meeting_sites (id, meeting_id, province_id, venue_id, expected_attendees, effective_capacity,
                           present, admitted, during, active, reported_attendees)
SELECT m.site_id, m.id, m.province_id, m.venue_id, 150, 300, 0,
       CASE WHEN m.reported THEN m.attendees ELSE 0 END,
       tstzrange(m.starts_at, m.ends_at, '[)'), NOT m.cancelled,
       CASE WHEN m.reported THEN m.attendees END
  FROM mt m
 WHERE m.format = 'in_person';

INSERT INTO attendance_reports (id, province_id, meeting_id, revision, attendees, online_attendees,
                                sites, opinions_count, opinions, late, filed_after_deadline, filed_at)
SELECT gen_random_uuid(), m.province_id, m.id, 1, m.attendees,
       CASE WHEN m.format = 'online' THEN m.attendees END,
       CASE WHEN m.format = 'in_person'
            THEN jsonb_build_array(jsonb_build_object('site_id', m.site_id, 'attendees', m.attendees))
            ELSE '[]'::jsonb END,
       m.attendees % 7, '[]'::jsonb, m.late, m.late,
       m.ends_at + CASE WHEN m.late THEN interval '30 hours' ELSE interval '3 hours' END
  FROM mt m
 WHERE m.reported;

COMMIT;

VACUUM ANALYZE;

SELECT (SELECT count(*) FROM regions WHERE level = 'province') AS provinces,
       (SELECT count(*) FROM regions WHERE level = 'district') AS districts,
       (SELECT count(*) FROM regions WHERE level = 'commune') AS communes,
       (SELECT count(*) FROM electoral_units) AS units,
       (SELECT count(*) FROM candidates) AS candidates,
       (SELECT count(*) FROM venues) AS venues,
       (SELECT count(*) FROM meetings) AS meetings,
       (SELECT count(*) FROM meeting_candidates) AS candidate_links,
       (SELECT count(*) FROM meeting_sites) AS sites,
       (SELECT count(*) FROM attendance_reports) AS reports,
       (SELECT sum(reported_attendees) FROM meetings) AS attendances;
