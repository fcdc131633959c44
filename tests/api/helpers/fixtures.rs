//! The reference data tests build on, made through the API as a client would: regions,
//! elections, units, candidates, venues, meetings, rules, check-ins and reports; and the
//! two big fixtures shared through templates (the reports fixture, the demo province).
use chrono::{Duration, Utc};
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::database::{self, TestDatabase};
use super::{eventually, Answer, TestApp};

/// An RFC 3339 instant `minutes` from now.
pub fn from_now(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339()
}

/// A province with one district and one commune in it.
#[derive(Debug, Clone, Copy)]
pub struct Tree {
    pub province: Uuid,
    pub district: Uuid,
    pub commune: Uuid,
}

/// A tree with a National Assembly unit of three candidates and a hall for 100 (120 m²)
/// in the commune, for one election.
pub struct Setup {
    pub tree: Tree,
    pub election: Uuid,
    pub unit: Uuid,
    pub candidates: Vec<Uuid>,
    pub hall: Uuid,
}

impl Setup {
    /// The body of an in-person meeting of the unit (every active candidate) at `venue`.
    pub fn in_person(&self, venue: Uuid, starts_at: &str, ends_at: &str, expected: i32) -> Value {
        json!({
            "election_id": self.election,
            "electoral_unit_ids": [self.unit],
            "format": "in_person",
            "title": "Tiếp xúc cử tri xã Kỳ Đồng",
            "chair": {"name": "Phạm Văn Đức", "role": "Chủ tịch UBMTTQ tỉnh"},
            "starts_at": starts_at,
            "ends_at": ends_at,
            "sites": [{"venue_id": venue, "expected_attendees": expected}]
        })
    }
}

impl TestApp {
    pub async fn region(&self, name: &str, level: &str, parent: Option<Uuid>) -> Uuid {
        self.post(
            "/regions",
            &self.admin,
            json!({"name": name, "level": level, "parent_id": parent,
                   "contact_email": format!("{level}@mttq.example.vn")}),
        )
        .await
        .id()
    }

    pub async fn tree(&self) -> Tree {
        let province = self.region("Tỉnh Hà Tĩnh", "province", None).await;
        let district = self
            .region("Huyện Kỳ Anh", "district", Some(province))
            .await;
        let commune = self.region("Xã Kỳ Đồng", "commune", Some(district)).await;
        Tree {
            province,
            district,
            commune,
        }
    }

    /// An election whose campaign runs from 2021-04-27 to 2021-05-22 07:00 (+07:00).
    pub async fn election(&self) -> Uuid {
        self.election_with("2021-04-27T00:00:00+07:00", "2021-05-23T07:00:00+07:00")
            .await
    }

    /// An election in 2031, so its meetings are still to come (rule changes re-evaluate
    /// only future meetings): campaign 2031-04-27 to 2031-05-22 07:00 (+07:00).
    pub async fn future_election(&self) -> Uuid {
        self.election_with("2031-04-27T00:00:00+07:00", "2031-05-23T07:00:00+07:00")
            .await
    }

    /// An election whose campaign is under way: started 20 days ago, polling in 10 days.
    pub async fn current_election(&self) -> Uuid {
        self.election_with(&from_now(-20 * 24 * 60), &from_now(10 * 24 * 60))
            .await
    }

    pub async fn election_with(&self, campaign_starts_at: &str, polling_starts_at: &str) -> Uuid {
        self.post(
            "/elections",
            &self.admin,
            json!({
                "name": "Bầu cử đại biểu Quốc hội khóa XV và HĐND các cấp nhiệm kỳ 2021–2026",
                "polling_starts_at": polling_starts_at,
                "campaign_starts_at": campaign_starts_at,
                "min_meetings_per_candidate": {"national_assembly": 10, "province_council": 5}
            }),
        )
        .await
        .id()
    }

    /// A unit of three seats.
    pub async fn unit(&self, election: Uuid, region: Uuid, body: &str, name: &str) -> Uuid {
        self.post(
            &format!("/elections/{election}/electoral-units"),
            &self.admin,
            json!({"name": name, "body": body, "region_id": region, "seats": 3}),
        )
        .await
        .id()
    }

    pub async fn candidate(&self, unit: Uuid, name: &str, email: &str) -> Uuid {
        self.post(
            &format!("/electoral-units/{unit}/candidates"),
            &self.admin,
            json!({"full_name": name, "email": email}),
        )
        .await
        .id()
    }

    /// `n` plans of the unit's first candidate alone, all on 2021-05-10 from 08:00 to 10:00,
    /// each at a hall of its own in the commune: rule 2 lets exactly one of them book.
    pub async fn plans_of_one_candidate_at_one_hour(&self, s: &Setup, n: usize) -> Vec<Value> {
        let mut bodies = Vec::with_capacity(n);
        for i in 0..n {
            let venue = self
                .venue(
                    s.tree.commune,
                    &format!("Nhà văn hóa thôn {i}"),
                    100,
                    None,
                    "indoor",
                )
                .await;
            let mut body = s.in_person(
                venue,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                50,
            );
            body["candidate_ids"] = json!([s.candidates[0]]);
            bodies.push(body);
        }
        bodies
    }

    pub async fn venue(
        &self,
        region: Uuid,
        name: &str,
        capacity: i32,
        area: Option<f64>,
        setting: &str,
    ) -> Uuid {
        self.post(
            "/venues",
            &self.admin,
            json!({"name": name, "region_id": region, "address": format!("{name}, Kỳ Anh, Hà Tĩnh"),
                   "capacity": capacity, "area_m2": area, "setting": setting}),
        )
        .await
        .id()
    }

    /// A tree, a National Assembly unit of the province with three candidates, and a hall.
    pub async fn setup(&self, election: Uuid) -> Setup {
        let tree = self.tree().await;
        let unit = self
            .unit(
                election,
                tree.province,
                "national_assembly",
                "Đơn vị bầu cử số 1",
            )
            .await;
        let mut candidates = Vec::new();
        for (i, name) in ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường"]
            .iter()
            .enumerate()
        {
            candidates.push(
                self.candidate(unit, name, &format!("ung-vien-{i}@example.vn"))
                    .await,
            );
        }
        let hall = self
            .venue(
                tree.commune,
                "Hội trường UBND xã Kỳ Đồng",
                100,
                Some(120.0),
                "indoor",
            )
            .await;
        Setup {
            tree,
            election,
            unit,
            candidates,
            hall,
        }
    }

    /// An in-person meeting of `s` at `venue` from `start` to `end` minutes from now.
    pub async fn meeting_from_now(
        &self,
        s: &Setup,
        venue: Uuid,
        start: i64,
        end: i64,
        expected: i32,
    ) -> Value {
        self.post(
            "/meetings",
            &self.admin,
            s.in_person(venue, &from_now(start), &from_now(end), expected),
        )
        .await
        .ok(201)
        .clone()
    }

    /// `count` people in (negative: out) at the first site of `meeting`.
    pub async fn check_in(&self, meeting: &Value, count: i32) -> Answer {
        let id = meeting["id"].as_str().expect("id");
        self.post(
            &format!("/meetings/{id}/checkins"),
            &self.admin,
            json!({"site_id": meeting["sites"][0]["id"], "count": count}),
        )
        .await
    }

    pub async fn put_report(&self, meeting: &Value, body: Value) -> Answer {
        let id = meeting["id"].as_str().expect("id");
        self.put(
            &format!("/meetings/{id}/attendance-report"),
            &self.admin,
            body,
        )
        .await
    }

    /// Opens every connection of the app's pool before a race, so that the racing requests
    /// meet in the database instead of queueing behind connections still being opened.
    pub async fn warm_pool(&self) {
        let size = i64::from(self.settings.database_pool_size);
        eventually("the pool holds all its connections", || async {
            join_all((0..2 * size).map(|_| self.get("/regions?limit=1", &self.admin))).await;
            // The app's connections, and the one counting.
            let open = self.count(&format!(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{}'",
                self.db_name
            )) - 1;
            if open >= size {
                Ok(())
            } else {
                Err(open)
            }
        })
        .await;
    }

    /// Pairs of planned meetings that hold one active candidate at overlapping times (the
    /// travel buffer counted), or one venue: read from the meetings' own times, not from the
    /// ranges the booking tables keep.
    pub fn double_bookings(&self) -> (i64, i64) {
        let buffer = self.settings.scheduling.travel_buffer_minutes;
        let candidates = self.count(&format!(
            "SELECT count(*) AS n
               FROM meeting_candidates a
               JOIN meetings ma ON ma.province_id = a.province_id AND ma.id = a.meeting_id
               JOIN meeting_candidates b ON b.province_id = a.province_id
               JOIN meetings mb ON mb.province_id = b.province_id AND mb.id = b.meeting_id
              WHERE a.candidate_id = b.candidate_id AND a.meeting_id < b.meeting_id
                AND a.active AND b.active AND ma.status = 'planned' AND mb.status = 'planned'
                AND ma.starts_at < mb.ends_at + interval '{buffer} minutes'
                AND mb.starts_at < ma.ends_at + interval '{buffer} minutes'"
        ));
        let venues = self.count(
            "SELECT count(*) AS n
               FROM meeting_sites a
               JOIN meetings ma ON ma.province_id = a.province_id AND ma.id = a.meeting_id
               JOIN meeting_sites b ON b.province_id = a.province_id
               JOIN meetings mb ON mb.province_id = b.province_id AND mb.id = b.meeting_id
              WHERE a.venue_id = b.venue_id AND a.meeting_id < b.meeting_id
                AND ma.status = 'planned' AND mb.status = 'planned'
                AND ma.starts_at < mb.ends_at AND mb.starts_at < ma.ends_at",
        );
        (candidates, venues)
    }

    /// A count of rows, from SQL written in the test.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::RunQueryDsl::get_result::<Count>(diesel::sql_query(sql), &mut self.conn())
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .n
    }
}

/// Province P with districts D1 ⊃ C1 and D2 ⊃ C2; a National Assembly unit (province) and a
/// province-council unit (D2). Meetings:
/// - M1 joint NA + council at C1, held, 50 attendances, on time
/// - M2 NA at C1, held, 30 attendances, late
/// - M3 council at C2, cancelled
/// - M4 council online (region D2) with a connection point at C2, held: 40 online + 10 on site
/// - M5 NA at C2, ended 30 hours ago, no report: overdue
/// - M6 NA at C1, in two days: planned
///
/// Built once per test run into a template; each test gets a clone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reports {
    pub election: Uuid,
    pub p: Uuid,
    pub d1: Uuid,
    pub c1: Uuid,
    pub d2: Uuid,
    pub c2: Uuid,
    pub na: Uuid,
    pub council: Uuid,
    pub na_candidates: Vec<Uuid>,
}

impl Reports {
    /// An app on a clone of the fixture.
    pub async fn spawn() -> (TestApp, Reports) {
        let (template, fixture) = database::derived_template("reports", |url| async move {
            let builder = TestApp::borrowing(&url);
            Reports::build(&builder).await
        })
        .await;
        (
            TestApp::on(TestDatabase::clone_of(&template), |_| {}),
            fixture,
        )
    }

    async fn build(app: &TestApp) -> Reports {
        let election = app.current_election().await;
        let p = app.region("Tỉnh Hà Tĩnh", "province", None).await;
        let d1 = app.region("Huyện Kỳ Anh", "district", Some(p)).await;
        let c1 = app.region("Xã Kỳ Đồng", "commune", Some(d1)).await;
        let d2 = app.region("Huyện Cẩm Xuyên", "district", Some(p)).await;
        let c2 = app.region("Xã Cẩm Thạch", "commune", Some(d2)).await;
        let na = app
            .unit(election, p, "national_assembly", "Đơn vị bầu cử ĐBQH số 1")
            .await;
        let council = app
            .unit(
                election,
                d2,
                "province_council",
                "Đơn vị bầu cử HĐND tỉnh số 4",
            )
            .await;
        let na_candidates = vec![
            app.candidate(na, "Nguyễn Văn An", "an@example.vn").await,
            app.candidate(na, "Trần Thị Bình", "binh@example.vn").await,
        ];
        app.candidate(council, "Lê Văn Cường", "cuong@example.vn")
            .await;
        let hall1 = app
            .venue(c1, "Hội trường xã Kỳ Đồng", 200, None, "indoor")
            .await;
        let hall1b = app
            .venue(c1, "Nhà văn hóa thôn Đông", 100, None, "indoor")
            .await;
        let hall2 = app
            .venue(c2, "Hội trường xã Cẩm Thạch", 150, None, "indoor")
            .await;
        let point = app
            .venue(c2, "Điểm cầu xã Cẩm Thạch", 60, None, "indoor")
            .await;
        let plan = |units: Vec<Uuid>, venue: Uuid, start: i64, end: i64| {
            json!({"election_id": election, "electoral_unit_ids": units, "format": "in_person",
                   "starts_at": from_now(start), "ends_at": from_now(end),
                   "sites": [{"venue_id": venue, "expected_attendees": 40}]})
        };
        let create = |body: Value| async move {
            app.post("/meetings", &app.admin, body)
                .await
                .ok(201)
                .clone()
        };
        let m1 = create(plan(vec![na, council], hall1, -240, -120)).await;
        let m2 = create(plan(vec![na], hall1b, -50 * 60, -48 * 60)).await;
        let m3 = create(plan(vec![council], hall2, 60, 120)).await;
        let m4 = create(json!({"election_id": election, "electoral_unit_ids": [council], "format": "online",
               "starts_at": from_now(-420), "ends_at": from_now(-300),
               "online": {"platform": "Zoom", "join_url": "https://zoom.us/j/4", "max_participants": 100, "expected_attendees": 60},
               "sites": [{"venue_id": point, "expected_attendees": 20}]}))
        .await;
        create(plan(vec![na], hall2, -32 * 60, -30 * 60)).await;
        create(plan(vec![na], hall1, 48 * 60, 50 * 60)).await;
        for (m, online, on_site) in [(&m1, None, 50), (&m2, None, 30), (&m4, Some(40), 10)] {
            let sites: Vec<Value> = m["sites"]
                .as_array()
                .expect("sites")
                .iter()
                .map(|s| json!({"site_id": s["id"], "attendees": on_site}))
                .collect();
            let total = on_site * sites.len() as i32 + online.unwrap_or(0);
            app.put_report(
                m,
                json!({"attendees": total, "sites": sites, "online_attendees": online}),
            )
            .await
            .ok(201);
        }
        let m3_id = m3["id"].as_str().expect("id");
        app.post(
            &format!("/meetings/{m3_id}/cancel"),
            &app.admin,
            json!({"reason": "Mưa bão"}),
        )
        .await
        .ok(200);
        Reports {
            election,
            p,
            d1,
            c1,
            d2,
            c2,
            na,
            council,
            na_candidates,
        }
    }
}
