//! Who may act on what (SPEC §1, §3 rules 11 and 15): acting on a meeting needs a scope over
//! its venues and all of its units, reading it a scope over any of them; units and candidates
//! are admins'; an ended meeting is changed only by its report, except by an admin; `/metrics`
//! is for admins and national observers. Check-ins honour `Idempotency-Key` and report
//! corrections `If-Match` (SPEC §4).
use std::collections::BTreeSet;

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{from_now, spawn_app, uuid_of, Answer, Role, TestApp};

/// Province P ⊃ district D ⊃ communes A and B; a commune council unit of A with one
/// candidate; a hall in B. A meeting of A's unit at B's hall is "mixed": only a scope over
/// both (D, P, the country) may act on it.
struct Scene {
    election: Uuid,
    district: Uuid,
    a: Uuid,
    b: Uuid,
    unit_a: Uuid,
    candidate_a: Uuid,
    hall_b: Uuid,
    /// The district's organizer: over the venue and the unit.
    both: String,
    /// Commune A's organizer: the unit's side only.
    unit_side: String,
    /// Commune B's organizer: the venue's side only.
    venue_side: String,
    observer: String,
}

async fn scene(app: &TestApp) -> Scene {
    let election = app.current_election().await;
    let province = app.region("Tỉnh Hà Tĩnh", "province", None).await;
    let district = app.region("Huyện Kỳ Anh", "district", Some(province)).await;
    let a = app.region("Xã Kỳ Đồng", "commune", Some(district)).await;
    let b = app.region("Xã Kỳ Phú", "commune", Some(district)).await;
    let unit_a = app
        .unit(
            election,
            a,
            "commune_council",
            "Đơn vị bầu cử số 1 xã Kỳ Đồng",
        )
        .await;
    let candidate_a = app
        .candidate(unit_a, "Nguyễn Văn An", "an@example.vn")
        .await;
    let hall_b = app
        .venue(b, "Hội trường UBND xã Kỳ Phú", 100, None, "indoor")
        .await;
    Scene {
        election,
        district,
        a,
        b,
        unit_a,
        candidate_a,
        hall_b,
        both: app.token(Role::Organizer, Some(district)),
        unit_side: app.token(Role::Organizer, Some(a)),
        venue_side: app.token(Role::Organizer, Some(b)),
        observer: app.token(Role::Observer, Some(province)),
    }
}

impl Scene {
    /// A meeting of A's unit at B's hall, `start` to `end` minutes from now.
    fn mixed(&self, start: i64, end: i64) -> Value {
        json!({
            "election_id": self.election,
            "electoral_unit_ids": [self.unit_a],
            "format": "in_person",
            "title": "Tiếp xúc cử tri đơn vị số 1",
            "starts_at": from_now(start),
            "ends_at": from_now(end),
            "sites": [{"venue_id": self.hall_b, "expected_attendees": 40}]
        })
    }

    async fn plan(&self, app: &TestApp, start: i64, end: i64) -> Value {
        app.post("/meetings", &self.both, self.mixed(start, end))
            .await
            .ok(201)
            .clone()
    }
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

async fn check_in(app: &TestApp, token: &str, m: &Value, headers: &[(&str, &str)]) -> Answer {
    app.request(
        Method::POST,
        &format!("/meetings/{}/checkins", id_of(m)),
        Some(token),
        Some(json!({"site_id": m["sites"][0]["id"], "count": 1})),
        headers,
    )
    .await
}

fn report(m: &Value, attendees: i32) -> Value {
    json!({"attendees": attendees,
           "sites": [{"site_id": m["sites"][0]["id"], "attendees": attendees}]})
}

async fn put_report(
    app: &TestApp,
    token: &str,
    m: &Value,
    body: Value,
    headers: &[(&str, &str)],
) -> Answer {
    app.request(
        Method::PUT,
        &format!("/meetings/{}/attendance-report", id_of(m)),
        Some(token),
        Some(body),
        headers,
    )
    .await
}

async fn patch_meeting(app: &TestApp, token: &str, m: &Value, body: Value) -> Answer {
    app.request(
        Method::PATCH,
        &format!("/meetings/{}", id_of(m)),
        Some(token),
        Some(body),
        &[("If-Match", "*")],
    )
    .await
}

async fn cancel(app: &TestApp, token: &str, m: &Value) -> Answer {
    app.post(
        &format!("/meetings/{}/cancel", id_of(m)),
        token,
        json!({"reason": "Trùng lịch họp Hội đồng nhân dân"}),
    )
    .await
}

/// The roll-up's figures for one region, as `token` reads them.
async fn roll_up(app: &TestApp, token: &str, s: &Scene, region: Uuid) -> Value {
    let answer = app
        .get(
            &format!(
                "/reports/attendance?election_id={}&region_id={region}",
                s.election
            ),
            token,
        )
        .await;
    answer.ok(200)["totals"].clone()
}

#[actix_web::test]
async fn a_meeting_of_commune_as_unit_at_a_commune_b_venue_is_acted_on_only_over_both() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let now = s.plan(&app, -10, 120).await;
    let ended = s.plan(&app, -6 * 60, -5 * 60).await;

    for one_side in [&s.venue_side, &s.unit_side] {
        check_in(&app, one_side, &now, &[])
            .await
            .problem(403, "forbidden");
        patch_meeting(&app, one_side, &now, json!({"title": "Đổi tên"}))
            .await
            .problem(403, "forbidden");
        cancel(&app, one_side, &now).await.problem(403, "forbidden");
        put_report(&app, one_side, &ended, report(&ended, 30), &[])
            .await
            .problem(403, "forbidden");
        // Reading needs a scope over any side: both communes read it.
        let read = app
            .get(&format!("/meetings/{}", id_of(&now)), one_side)
            .await;
        assert_eq!(read.ok(200)["id"], now["id"]);
        let listed = app
            .get(&format!("/meetings?election_id={}", s.election), one_side)
            .await;
        let ids: BTreeSet<String> = listed.ok(200)["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect();
        assert_eq!(ids, BTreeSet::from([id_of(&now), id_of(&ended)]));
    }
    // Nothing the one-sided tokens tried changed anything.
    let unchanged = app
        .get(&format!("/meetings/{}", id_of(&now)), &s.both)
        .await;
    assert_eq!(unchanged.ok(200)["sites"][0]["present"], 0);
    assert_eq!(unchanged.body["status"], "planned");
    assert_eq!(unchanged.body["title"], now["title"]);

    assert_eq!(
        check_in(&app, &s.both, &now, &[]).await.ok(200)["present"],
        1
    );
    patch_meeting(
        &app,
        &s.both,
        &now,
        json!({"title": "Tiếp xúc cử tri (đổi tên)"}),
    )
    .await
    .ok(200);
    put_report(&app, &s.both, &ended, report(&ended, 30), &[])
        .await
        .ok(201);

    // A's organizer, whose unit it is, reads the report, finds both meetings in A's
    // roll-up and on the candidate's calendar.
    let filed = app
        .get(
            &format!("/meetings/{}/attendance-report", id_of(&ended)),
            &s.unit_side,
        )
        .await;
    assert_eq!(filed.ok(200)["current"]["attendees"], 30);
    let totals = roll_up(&app, &s.unit_side, &s, s.a).await;
    assert_eq!(totals["meetings"], 2, "{totals}");
    assert_eq!(totals["attendees"], 30, "{totals}");
    let b_totals = roll_up(&app, &s.venue_side, &s, s.b).await;
    assert_eq!(b_totals["meetings"], 2, "{b_totals}");
    let calendar = app
        .get(
            &format!("/candidates/{}/schedule.ics", s.candidate_a),
            &s.unit_side,
        )
        .await;
    assert_eq!(calendar.status, 200, "{}", calendar.text);
    for m in [&now, &ended] {
        assert!(calendar.text.contains(&id_of(m)), "{}", calendar.text);
    }
    cancel(&app, &s.both, &now).await.ok(200);
}

/// Who tries a route in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Both,
    UnitSide,
    VenueSide,
    Observer,
}

const EVERYONE: [Who; 5] = [
    Who::Admin,
    Who::Both,
    Who::UnitSide,
    Who::VenueSide,
    Who::Observer,
];

/// One mutating route, as the OpenAPI document names it, and who may use it on the scene's
/// records (a unit of A, a venue in B, meetings of the unit at the venue).
struct Case {
    method: &'static str,
    path: &'static str,
    allowed: &'static [Who],
}

const ADMIN: &[Who] = &[Who::Admin];
const MEETING_ACTORS: &[Who] = &[Who::Admin, Who::Both];
const VENUE_SIDE: &[Who] = &[Who::Admin, Who::Both, Who::VenueSide];
const UNIT_SIDE: &[Who] = &[Who::Admin, Who::Both, Who::UnitSide];

const CASES: &[Case] = &[
    Case {
        method: "POST",
        path: "/api/v1/tokens",
        allowed: ADMIN,
    },
    Case {
        method: "DELETE",
        path: "/api/v1/tokens/{id}",
        allowed: ADMIN,
    },
    Case {
        method: "POST",
        path: "/api/v1/regions",
        allowed: ADMIN,
    },
    Case {
        method: "PATCH",
        path: "/api/v1/regions/{id}",
        allowed: ADMIN,
    },
    Case {
        method: "POST",
        path: "/api/v1/elections",
        allowed: ADMIN,
    },
    Case {
        method: "PATCH",
        path: "/api/v1/elections/{id}",
        allowed: ADMIN,
    },
    Case {
        method: "POST",
        path: "/api/v1/elections/{id}/electoral-units",
        allowed: ADMIN,
    },
    Case {
        method: "PATCH",
        path: "/api/v1/electoral-units/{id}",
        allowed: ADMIN,
    },
    Case {
        method: "POST",
        path: "/api/v1/electoral-units/{id}/candidates",
        allowed: ADMIN,
    },
    Case {
        method: "PATCH",
        path: "/api/v1/candidates/{id}",
        allowed: ADMIN,
    },
    Case {
        method: "POST",
        path: "/api/v1/venues",
        allowed: VENUE_SIDE,
    },
    Case {
        method: "PATCH",
        path: "/api/v1/venues/{id}",
        allowed: VENUE_SIDE,
    },
    Case {
        method: "POST",
        path: "/api/v1/health-rules",
        allowed: VENUE_SIDE,
    },
    Case {
        method: "PATCH",
        path: "/api/v1/health-rules/{id}",
        allowed: VENUE_SIDE,
    },
    Case {
        method: "POST",
        path: "/api/v1/meetings",
        allowed: MEETING_ACTORS,
    },
    Case {
        method: "PATCH",
        path: "/api/v1/meetings/{id}",
        allowed: MEETING_ACTORS,
    },
    Case {
        method: "POST",
        path: "/api/v1/meetings/{id}/cancel",
        allowed: MEETING_ACTORS,
    },
    Case {
        method: "POST",
        path: "/api/v1/meetings/{id}/checkins",
        allowed: MEETING_ACTORS,
    },
    Case {
        method: "PUT",
        path: "/api/v1/meetings/{id}/attendance-report",
        allowed: MEETING_ACTORS,
    },
    Case {
        method: "POST",
        path: "/api/v1/candidates/{id}/schedule-email",
        allowed: UNIT_SIDE,
    },
    Case {
        method: "POST",
        path: "/api/v1/elections/{id}/schedule-emails",
        allowed: UNIT_SIDE,
    },
    Case {
        method: "POST",
        path: "/api/v1/candidates/{id}/calendar-link",
        allowed: UNIT_SIDE,
    },
    Case {
        method: "POST",
        path: "/api/v1/outbox/{id}/retry",
        allowed: ADMIN,
    },
    Case {
        method: "POST",
        path: "/api/v1/imports/{kind}",
        allowed: VENUE_SIDE,
    },
];

impl Scene {
    fn token<'a>(&'a self, app: &'a TestApp, who: Who) -> &'a str {
        match who {
            Who::Admin => &app.admin,
            Who::Both => &self.both,
            Who::UnitSide => &self.unit_side,
            Who::VenueSide => &self.venue_side,
            Who::Observer => &self.observer,
        }
    }

    /// Minutes from now to the start of slot `n`: slots are half an hour long, 90 minutes apart
    /// (the travel buffer between them, and room), from three hours on, or ending before two hours ago
    /// when `past`; so no two meetings of the matrix clash.
    fn slot(n: i64, past: bool) -> i64 {
        if past {
            -180 - 90 * n
        } else {
            180 + 90 * n
        }
    }

    /// A fresh meeting made by the admin in slot `n`.
    async fn meeting_in_slot(&self, app: &TestApp, n: i64, past: bool) -> Value {
        let start = Self::slot(n, past);
        app.post("/meetings", &app.admin, self.mixed(start, start + 30))
            .await
            .ok(201)
            .clone()
    }

    /// `who` tries the route of `case` on a record made for this attempt (number `n`).
    async fn attempt(
        &self,
        app: &TestApp,
        case: &Case,
        who: Who,
        n: i64,
        ongoing: &Value,
    ) -> Answer {
        let token = self.token(app, who).to_owned();
        let admin = app.admin.clone();
        let method = Method::from_bytes(case.method.as_bytes()).expect("a method");
        let (path, body): (String, Option<Value>) = match case.path {
            "/api/v1/tokens" => (
                "/tokens".into(),
                Some(
                    json!({"name": format!("Máy cửa {n}"), "role": "organizer", "region_id": self.b}),
                ),
            ),
            "/api/v1/tokens/{id}" => {
                let made = app
                    .post(
                        "/tokens",
                        &admin,
                        json!({"name": format!("Máy {n}"), "role": "observer"}),
                    )
                    .await
                    .id();
                (format!("/tokens/{made}"), None)
            }
            "/api/v1/regions" => (
                "/regions".into(),
                Some(
                    json!({"name": format!("Xã mới {n}"), "level": "commune", "parent_id": self.district}),
                ),
            ),
            "/api/v1/regions/{id}" => (
                format!("/regions/{}", self.a),
                Some(json!({"contact_email": format!("xa-{n}@mttq.example.vn")})),
            ),
            "/api/v1/elections" => (
                "/elections".into(),
                Some(json!({"name": format!("Bầu cử bổ sung {n}"),
                            "polling_starts_at": "2031-05-23T07:00:00+07:00",
                            "campaign_starts_at": "2031-04-27T00:00:00+07:00"})),
            ),
            "/api/v1/elections/{id}" => (
                format!("/elections/{}", self.election),
                Some(json!({"name": format!("Bầu cử đại biểu HĐND ({n})")})),
            ),
            "/api/v1/elections/{id}/electoral-units" => (
                format!("/elections/{}/electoral-units", self.election),
                Some(
                    json!({"name": format!("Đơn vị {n}"), "body": "national_assembly",
                            "region_id": self.a, "seats": 3}),
                ),
            ),
            "/api/v1/electoral-units/{id}" => (
                format!("/electoral-units/{}", self.unit_a),
                Some(json!({"name": format!("Đơn vị bầu cử số 1 ({n})")})),
            ),
            "/api/v1/electoral-units/{id}/candidates" => (
                format!("/electoral-units/{}/candidates", self.unit_a),
                Some(
                    json!({"full_name": format!("Ứng cử viên {n}"), "email": format!("uv{n}@evil.example")}),
                ),
            ),
            "/api/v1/candidates/{id}" => (
                format!("/candidates/{}", self.candidate_a),
                Some(json!({"email": format!("an{n}@example.vn")})),
            ),
            "/api/v1/venues" => (
                "/venues".into(),
                Some(
                    json!({"name": format!("Nhà văn hóa thôn {n}"), "region_id": self.b,
                            "address": "Thôn 1, xã Kỳ Phú", "capacity": 60, "setting": "indoor"}),
                ),
            ),
            "/api/v1/venues/{id}" => (
                format!("/venues/{}", self.hall_b),
                Some(json!({"address": format!("Thôn {n}, xã Kỳ Phú")})),
            ),
            "/api/v1/health-rules" => (
                "/health-rules".into(),
                Some(
                    json!({"region_id": self.b, "effective_from": "2031-05-01T00:00:00+07:00",
                            "max_attendees": 500 + n}),
                ),
            ),
            "/api/v1/health-rules/{id}" => {
                let rule = app
                    .post(
                        "/health-rules",
                        &admin,
                        json!({"region_id": self.b,
                        "effective_from": "2031-05-01T00:00:00+07:00", "max_attendees": 900}),
                    )
                    .await;
                let rule = uuid_of(&rule.ok(201)["rule"]["id"]);
                (
                    format!("/health-rules/{rule}"),
                    Some(json!({"max_attendees": 800})),
                )
            }
            "/api/v1/meetings" => {
                let start = Self::slot(n, false);
                ("/meetings".into(), Some(self.mixed(start, start + 30)))
            }
            "/api/v1/meetings/{id}" => {
                let m = self.meeting_in_slot(app, n, false).await;
                return patch_meeting(app, &token, &m, json!({"title": format!("Hội nghị {n}")}))
                    .await;
            }
            "/api/v1/meetings/{id}/cancel" => {
                let m = self.meeting_in_slot(app, n, false).await;
                return cancel(app, &token, &m).await;
            }
            "/api/v1/meetings/{id}/checkins" => return check_in(app, &token, ongoing, &[]).await,
            "/api/v1/meetings/{id}/attendance-report" => {
                let m = self.meeting_in_slot(app, n, true).await;
                return put_report(app, &token, &m, report(&m, 20), &[]).await;
            }
            "/api/v1/candidates/{id}/schedule-email" | "/api/v1/candidates/{id}/calendar-link" => {
                let c = app
                    .candidate(
                        self.unit_a,
                        &format!("Trần Thị Bình {n}"),
                        &format!("binh{n}@example.vn"),
                    )
                    .await;
                let action = case.path.rsplit('/').next().expect("an action");
                (format!("/candidates/{c}/{action}"), None)
            }
            "/api/v1/elections/{id}/schedule-emails" => (
                format!(
                    "/elections/{}/schedule-emails?region_id={}",
                    self.election, self.a
                ),
                None,
            ),
            "/api/v1/outbox/{id}/retry" => {
                let failed = app
                    .post(
                        &format!("/candidates/{}/schedule-email", self.candidate_a),
                        &admin,
                        json!({}),
                    )
                    .await;
                let outbox = uuid_of(&failed.ok(202)["outbox_id"]);
                // Made failed by hand: the matrix asks who may retry, not how mail fails.
                diesel::RunQueryDsl::execute(
                    diesel::sql_query(format!(
                        "UPDATE outbox SET status = 'failed', last_error = 'refused' WHERE id = '{outbox}'"
                    )),
                    &mut app.conn(),
                )
                .expect("the email made failed");
                (format!("/outbox/{outbox}/retry"), None)
            }
            "/api/v1/imports/{kind}" => {
                let csv = format!(
                    "Tên địa điểm;Địa chỉ;Sức chứa;Diện tích (m²);Loại;Xã/Phường;Huyện\n\
                     Sân vận động thôn {n};Thôn {n};300;;Ngoài trời;Xã Kỳ Phú;\n"
                );
                let answer = app
                    .client
                    .post(app.url("/imports/venues"))
                    .bearer_auth(&token)
                    .header("content-type", "text/csv")
                    .body(csv)
                    .send()
                    .await
                    .expect("request sent");
                let status = answer.status();
                let text = answer.text().await.expect("body");
                return Answer {
                    status,
                    headers: Default::default(),
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                    text,
                };
            }
            other => panic!("no attempt written for {other}"),
        };
        app.request(method, &path, Some(&token), body, &[]).await
    }
}

/// How `who` is refused a route they may not use: 403, except that an import names its rows'
/// regions, which resolve only inside the caller's subtree, so an organizer of elsewhere is
/// told the row's commune does not exist (422 `import_failed`, nothing imported).
fn refusal(case: &Case, who: Who) -> (u16, &'static str) {
    if case.path == "/api/v1/imports/{kind}" && who != Who::Observer {
        (422, "import_failed")
    } else {
        (403, "forbidden")
    }
}

/// The mutating operations of the served OpenAPI document.
async fn documented_mutations(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc = app.get("/openapi.json", &app.admin).await;
    doc.ok(200)["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            ["post", "put", "patch", "delete"]
                .into_iter()
                .filter(|m| item.get(*m).is_some())
                .map(|m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

#[actix_web::test]
async fn every_mutating_route_answers_who_may_act_with_2xx_and_everyone_else_with_403() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let covered: BTreeSet<(String, String)> = CASES
        .iter()
        .map(|c| (c.method.to_owned(), c.path.to_owned()))
        .collect();
    let documented = documented_mutations(&app).await;
    assert!(
        covered.is_superset(&documented),
        "the matrix covers every documented mutating route: {:?} missing",
        documented.difference(&covered).collect::<Vec<_>>()
    );
    let ongoing = app
        .post("/meetings", &app.admin, s.mixed(-10, 120))
        .await
        .ok(201)
        .clone();

    let mut n = 0;
    let mut wrong = Vec::new();
    for case in CASES {
        for who in EVERYONE {
            n += 1;
            let answer = s.attempt(&app, case, who, n, &ongoing).await;
            let allowed = case.allowed.contains(&who);
            let refused = refusal(case, who);
            let right = if allowed {
                answer.status.is_success()
            } else {
                answer.status == refused.0 && answer.body["code"] == refused.1
            };
            if !right {
                wrong.push(format!(
                    "{} {} by {who:?}: expected {}, got {} {}",
                    case.method,
                    case.path,
                    if allowed {
                        "2xx".to_owned()
                    } else {
                        format!("{} {}", refused.0, refused.1)
                    },
                    answer.status,
                    answer.text
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[actix_web::test]
async fn an_ended_meeting_is_changed_only_by_its_report_unless_an_admin_says_so() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let overdue = s.plan(&app, -15 * 24 * 60, -15 * 24 * 60 + 120).await;
    let overdue_count = || async {
        let answer = app
            .get(
                &format!("/reports/overdue?election_id={}", s.election),
                &s.both,
            )
            .await;
        answer.ok(200)["count"].clone()
    };
    assert_eq!(overdue_count().await, 1);

    let refused = cancel(&app, &s.both, &overdue).await;
    refused.problem(422, "meeting_ended");
    let moved = patch_meeting(
        &app,
        &s.both,
        &overdue,
        json!({"starts_at": from_now(24 * 60), "ends_at": from_now(24 * 60 + 120)}),
    )
    .await;
    moved.problem(422, "meeting_ended");
    patch_meeting(&app, &s.both, &overdue, json!({"title": "Sửa tên"}))
        .await
        .problem(422, "meeting_ended");
    assert_eq!(
        overdue_count().await,
        1,
        "the overdue report did not disappear"
    );
    let read = app
        .get(&format!("/meetings/{}", id_of(&overdue)), &s.both)
        .await;
    assert_eq!(read.ok(200)["status"], "planned");
    assert_eq!(read.body["starts_at"], overdue["starts_at"]);
    assert_eq!(read.body["version"], overdue["version"]);

    // Its report is still taken.
    put_report(&app, &s.both, &overdue, report(&overdue, 25), &[])
        .await
        .ok(201);

    // An admin may, and the change is audited.
    let other = s.plan(&app, -10 * 24 * 60, -10 * 24 * 60 + 120).await;
    let cancelled = cancel(&app, &app.admin, &other).await;
    assert_eq!(cancelled.ok(200)["status"], "cancelled");
    let audit = app
        .get(&format!("/audit?entity_id={}", id_of(&other)), &app.admin)
        .await;
    let actions: Vec<&str> = audit.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"cancel"), "{actions:?}");
}

#[actix_web::test]
async fn a_check_in_retried_with_its_idempotency_key_counts_once() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let m = s.plan(&app, -10, 120).await;
    let key = [("Idempotency-Key", "door-1-0001")];
    let answers = join_all((0..3).map(|_| check_in(&app, &s.both, &m, &key))).await;
    for a in &answers {
        assert_eq!(a.ok(200)["present"], 1, "{}", a.text);
    }
    let replayed = answers
        .iter()
        .filter(|a| a.headers.get("idempotent-replayed").is_some())
        .count();
    assert_eq!(replayed, 2);
    let read = app.get(&format!("/meetings/{}", id_of(&m)), &s.both).await;
    assert_eq!(read.ok(200)["sites"][0]["present"], 1);
    assert_eq!(read.body["sites"][0]["admitted"], 1);

    // The same key with another body is refused; another key counts again.
    let other_body = app
        .request(
            Method::POST,
            &format!("/meetings/{}/checkins", id_of(&m)),
            Some(&s.both),
            Some(json!({"site_id": m["sites"][0]["id"], "count": 2})),
            &key,
        )
        .await;
    other_body.problem(422, "idempotency_key_reused");
    let next = check_in(&app, &s.both, &m, &[("Idempotency-Key", "door-1-0002")]).await;
    assert_eq!(next.ok(200)["present"], 2);
    // Keys are the token's own: another token's same key is another check-in.
    let admins = check_in(&app, &app.admin, &m, &key).await;
    assert_eq!(admins.ok(200)["present"], 3);
}

#[actix_web::test]
async fn a_report_correction_needs_the_current_strong_etag_and_one_of_twenty_wins() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let m = s.plan(&app, -180, -60).await;
    let filed = put_report(&app, &s.both, &m, report(&m, 30), &[]).await;
    assert_eq!(filed.ok(201)["revision"], 1);
    assert_eq!(filed.headers["etag"], "\"1\"");
    let read = app
        .get(
            &format!("/meetings/{}/attendance-report", id_of(&m)),
            &s.unit_side,
        )
        .await;
    assert_eq!(read.ok(200)["current"]["revision"], 1);
    assert_eq!(read.headers["etag"], "\"1\"");

    let mut correction = report(&m, 28);
    correction["correction_reason"] = json!("Đếm trùng 2 lượt");
    put_report(
        &app,
        &s.both,
        &m,
        correction.clone(),
        &[("If-Match", "W/\"1\"")],
    )
    .await
    .problem(412, "version_conflict");
    put_report(
        &app,
        &s.both,
        &m,
        correction.clone(),
        &[("If-Match", "\"7\"")],
    )
    .await
    .problem(412, "version_conflict");

    let answers = join_all((0..20).map(|_| {
        put_report(
            &app,
            &s.both,
            &m,
            correction.clone(),
            &[("If-Match", "\"1\"")],
        )
    }))
    .await;
    let won: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{:#?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    assert_eq!(won[0].body["revision"], 2);
    assert_eq!(won[0].headers["etag"], "\"2\"");
    for lost in answers.iter().filter(|a| a.status != 200) {
        lost.problem(412, "version_conflict");
    }
    let revisions = app
        .get(
            &format!("/meetings/{}/attendance-report", id_of(&m)),
            &s.both,
        )
        .await;
    assert_eq!(revisions.ok(200)["current"]["revision"], 2);
    assert_eq!(
        revisions.body["revisions"].as_array().map(Vec::len),
        Some(1)
    );
    // If-Match is checked when it is sent (SPEC §4); a correction without one is the next
    // revision.
    let unconditional = put_report(&app, &s.both, &m, correction.clone(), &[]).await;
    assert_eq!(unconditional.ok(200)["revision"], 3);
    assert_eq!(unconditional.headers["etag"], "\"3\"");
}

#[actix_web::test]
async fn metrics_are_refused_to_observers_of_a_region() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    for token in [&s.observer, &s.both, &s.unit_side] {
        app.request(Method::GET, "/metrics", Some(token), None, &[])
            .await
            .problem(403, "forbidden");
    }
    let national = app.token(Role::Observer, None);
    let answer = app
        .request(Method::GET, "/metrics", Some(&national), None, &[])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}
