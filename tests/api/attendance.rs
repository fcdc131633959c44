//! Check-ins (SPEC §3 rule 6) and attendance reports (rule 7).
use futures::future::join_all;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{from_now, spawn_app, Role};

#[actix_web::test]
async fn a_hundred_concurrent_check_ins_fill_thirty_seats_exactly() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let room = app
        .venue(s.tree.commune, "Phòng họp 30 chỗ", 30, None, "indoor")
        .await;
    let m = app.meeting_from_now(&s, room, -10, 120, 30).await;
    let answers = join_all((0..100).map(|_| app.check_in(&m, 1))).await;
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 30);
    for refused in answers.iter().filter(|a| a.status != 200) {
        refused.problem(409, "capacity_reached");
    }
    let read = app
        .get(
            &format!("/meetings/{}", m["id"].as_str().expect("id")),
            &app.admin,
        )
        .await;
    assert_eq!(read.ok(200)["sites"][0]["present"], 30);
    assert_eq!(read.body["sites"][0]["admitted"], 30);
}

#[actix_web::test]
async fn people_leave_and_come_back_but_present_never_goes_below_zero() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let m = app.meeting_from_now(&s, s.hall, -10, 120, 50).await;
    assert_eq!(app.check_in(&m, 5).await.ok(200)["present"], 5);
    let left = app.check_in(&m, -3).await;
    assert_eq!(left.ok(200)["present"], 2);
    assert_eq!(left.body["admitted"], 5);
    assert_eq!(left.body["capacity"], 100);
    let too_many_leave = app.check_in(&m, -3).await;
    assert_eq!(too_many_leave.invalid_fields(), vec!["count"]);
    let back = app.check_in(&m, 2).await;
    assert_eq!(back.ok(200)["present"], 4);
    assert_eq!(back.body["admitted"], 7);
    let zero = app.check_in(&m, 0).await;
    assert_eq!(zero.invalid_fields(), vec!["count"]);
}

#[actix_web::test]
async fn check_ins_open_an_hour_before_the_start_and_close_at_the_end() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let second = app
        .venue(s.tree.commune, "Nhà văn hóa thôn 2", 100, None, "indoor")
        .await;
    let third = app
        .venue(s.tree.commune, "Nhà văn hóa thôn 3", 100, None, "indoor")
        .await;
    let too_early = app.meeting_from_now(&s, s.hall, 70, 180, 10).await;
    app.check_in(&too_early, 1)
        .await
        .problem(422, "outside_checkin_window");
    let soon = app
        .meeting_from_now(&s, second, 50 - 24 * 60, 60 - 24 * 60, 10)
        .await;
    app.check_in(&soon, 1)
        .await
        .problem(422, "outside_checkin_window");
    let opening = app
        .meeting_from_now(&s, third, 3 * 24 * 60 + 50, 3 * 24 * 60 + 120, 10)
        .await;
    app.check_in(&opening, 1)
        .await
        .problem(422, "outside_checkin_window");
    let in_50_minutes = {
        let venue = app
            .venue(s.tree.commune, "Trường THCS", 100, None, "indoor")
            .await;
        let unit = app
            .unit(
                election,
                s.tree.district,
                "province_council",
                "Đơn vị tỉnh 5",
            )
            .await;
        app.candidate(unit, "Võ Thị Phương", "phuong@example.vn")
            .await;
        let mut body = s.in_person(venue, &from_now(50), &from_now(150), 10);
        body["electoral_unit_ids"] = json!([unit]);
        app.post("/meetings", &app.admin, body)
            .await
            .ok(201)
            .clone()
    };
    assert_eq!(app.check_in(&in_50_minutes, 1).await.ok(200)["present"], 1);
}

#[actix_web::test]
async fn cancelled_meetings_take_no_check_ins_and_observers_none_at_all() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let m = app.meeting_from_now(&s, s.hall, -10, 120, 50).await;
    let id = m["id"].as_str().expect("id");
    let observer = app.token(Role::Observer, None);
    app.post(
        &format!("/meetings/{id}/checkins"),
        &observer,
        json!({"site_id": m["sites"][0]["id"]}),
    )
    .await
    .problem(403, "forbidden");
    let other_commune = app
        .region("Xã Kỳ Trinh", "commune", Some(s.tree.district))
        .await;
    let stranger = app.token(Role::Organizer, Some(other_commune));
    app.post(
        &format!("/meetings/{id}/checkins"),
        &stranger,
        json!({"site_id": m["sites"][0]["id"]}),
    )
    .await
    .problem(403, "forbidden");
    app.post(
        &format!("/meetings/{id}/checkins"),
        &app.admin,
        json!({"site_id": Uuid::new_v4()}),
    )
    .await
    .problem(422, "validation_failed");
    // Without a site_id an in-person meeting's one site is meant (issue 9.13).
    let counted = app
        .post(&format!("/meetings/{id}/checkins"), &app.admin, json!({}))
        .await;
    assert_eq!(counted.ok(200)["site_id"], m["sites"][0]["id"]);
    app.post(
        &format!("/meetings/{id}/cancel"),
        &app.admin,
        json!({"reason": "Mưa bão"}),
    )
    .await
    .ok(200);
    app.check_in(&m, 1)
        .await
        .problem(409, "meeting_not_planned");
}

#[actix_web::test]
async fn online_participants_are_counted_against_the_platform_maximum() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let m = app
        .post(
            "/meetings",
            &app.admin,
            json!({"election_id": election, "electoral_unit_ids": [s.unit], "format": "online",
                   "starts_at": from_now(-5), "ends_at": from_now(60),
                   "online": {"platform": "Zoom", "join_url": "https://zoom.us/j/1", "max_participants": 3, "expected_attendees": 3}}),
        )
        .await;
    let id = m.id();
    let path = format!("/meetings/{id}/checkins");
    let two = app
        .post(&path, &app.admin, json!({"site_id": null, "count": 2}))
        .await;
    assert_eq!(two.ok(200)["present"], 2);
    assert!(two.body["site_id"].is_null());
    assert_eq!(two.body["capacity"], 3);
    app.post(&path, &app.admin, json!({"count": 2}))
        .await
        .problem(409, "capacity_reached");
    assert_eq!(
        app.post(&path, &app.admin, json!({})).await.ok(200)["present"],
        3
    );
}

fn report(site: &Value, attendees: i32) -> Value {
    json!({"attendees": attendees, "sites": [{"site_id": site, "attendees": attendees}],
           "opinions_count": 7,
           "opinions": [{"topic": "đất đai", "text": "Đề nghị sớm cấp giấy chứng nhận quyền sử dụng đất"},
                        {"topic": "giao thông", "text": "Nâng cấp đường liên xã"}],
           "notes": "Hội nghị diễn ra an toàn, đúng quy định 5K"})
}

#[actix_web::test]
async fn a_report_is_filed_after_the_meeting_and_corrections_keep_every_revision() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let m = app.meeting_from_now(&s, s.hall, -180, -60, 80).await;
    let id = m["id"].as_str().expect("id");
    let path = format!("/meetings/{id}/attendance-report");
    app.get(&path, &app.admin).await.problem(404, "not_found");
    let filed = app
        .put(&path, &app.admin, report(&m["sites"][0]["id"], 75))
        .await;
    assert_eq!(filed.ok(201)["revision"], 1);
    assert_eq!(filed.body["late"], false);
    assert_eq!(filed.body["opinions_count"], 7);
    let held = app.get(&format!("/meetings/{id}"), &app.admin).await;
    assert_eq!(held.ok(200)["status"], "held");
    let again = app
        .put(&path, &app.admin, report(&m["sites"][0]["id"], 70))
        .await;
    again.problem(409, "report_exists");
    let mut correction = report(&m["sites"][0]["id"], 70);
    correction["correction_reason"] = json!("Tổ thư ký đếm trùng 5 lượt");
    let etag = filed.headers["etag"].to_str().expect("etag");
    assert_eq!(etag, "\"1\"");
    let corrected = app
        .request(
            reqwest::Method::PUT,
            &path,
            Some(&app.admin),
            Some(correction),
            &[("If-Match", etag)],
        )
        .await;
    assert_eq!(corrected.ok(200)["revision"], 2);
    assert_eq!(corrected.headers["etag"], "\"2\"");
    let read = app.get(&path, &app.admin).await;
    assert_eq!(read.ok(200)["current"]["attendees"], 70);
    assert_eq!(
        read.body["current"]["correction_reason"],
        "Tổ thư ký đếm trùng 5 lượt"
    );
    assert_eq!(read.body["revisions"][0]["attendees"], 75);
    assert_eq!(read.body["revisions"].as_array().map(Vec::len), Some(1));
    let audit = app
        .get(
            &format!("/audit?entity_id={id}&entity_type=attendance_report"),
            &app.admin,
        )
        .await;
    let entries = audit.ok(200)["items"].as_array().expect("items");
    assert_eq!(entries.len(), 2);
    let entry = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} entry"))
    };
    // Rule 10: each entry has both sides; a correction's before is the revision it replaced.
    assert!(entry("file_report")["before"].is_null());
    assert_eq!(entry("file_report")["after"]["attendees"], 75);
    assert_eq!(entry("correct_report")["before"]["revision"], 1);
    assert_eq!(entry("correct_report")["before"]["attendees"], 75);
    assert_eq!(entry("correct_report")["after"]["revision"], 2);
    assert_eq!(entry("correct_report")["after"]["attendees"], 70);
}

#[actix_web::test]
async fn reports_are_late_past_the_deadline() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let m = app
        .meeting_from_now(&s, s.hall, -30 * 60, -26 * 60, 80)
        .await;
    let path = format!(
        "/meetings/{}/attendance-report",
        m["id"].as_str().expect("id")
    );
    let filed = app
        .put(&path, &app.admin, report(&m["sites"][0]["id"], 40))
        .await;
    assert_eq!(filed.ok(201)["late"], true);
}

#[actix_web::test]
async fn reports_are_checked_against_the_meeting() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let second = app
        .venue(s.tree.commune, "Nhà văn hóa thôn 5", 100, None, "indoor")
        .await;
    let future = app.meeting_from_now(&s, s.hall, 24 * 60, 25 * 60, 50).await;
    app.put_report(&future, report(&future["sites"][0]["id"], 10))
        .await
        .problem(422, "meeting_not_ended");
    let past = app.meeting_from_now(&s, second, -300, -240, 50).await;
    let site = past["sites"][0]["id"].clone();
    let wrong_sum = app
        .put_report(
            &past,
            json!({"attendees": 60, "sites": [{"site_id": site, "attendees": 50}]}),
        )
        .await;
    assert_eq!(wrong_sum.invalid_fields(), vec!["attendees"]);
    let missing_site = app
        .put_report(&past, json!({"attendees": 0, "sites": []}))
        .await;
    assert_eq!(missing_site.invalid_fields(), vec!["sites"]);
    app.put_report(
        &past,
        json!({"attendees": 101, "sites": [{"site_id": site, "attendees": 101}]}),
    )
    .await
    .problem(422, "attendance_exceeds_capacity");
    app.put_report(
        &past,
        json!({"attendees": 5, "sites": [{"site_id": site, "attendees": 5}], "opinions_count": 1,
                       "opinions": [{"topic": "a"}, {"topic": "b"}]}),
    )
    .await
    .problem(422, "validation_failed");
    app.put_report(&past, json!({"attendees": "many"}))
        .await
        .problem(400, "bad_request");
    let id = past["id"].as_str().expect("id");
    app.post(
        &format!("/meetings/{id}/cancel"),
        &app.admin,
        json!({"reason": "x"}),
    )
    .await
    .ok(200);
    app.put_report(&past, report(&site, 5))
        .await
        .problem(409, "meeting_cancelled");
}

#[actix_web::test]
async fn people_may_leave_a_room_whose_capacity_a_new_rule_lowered_below_them() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let m = app.meeting_from_now(&s, s.hall, 30, 150, 20).await;
    assert_eq!(app.check_in(&m, 10).await.ok(200)["present"], 10);
    app.post(
        "/health-rules",
        &app.admin,
        json!({"region_id": s.tree.commune, "effective_from": from_now(-60), "max_attendees": 5}),
    )
    .await
    .ok(201);
    app.check_in(&m, 1).await.problem(409, "capacity_reached");
    let left = app.check_in(&m, -1).await;
    assert_eq!(left.ok(200)["present"], 9);
    assert_eq!(left.body["capacity"], 5);
}

#[actix_web::test]
async fn ten_first_filings_of_one_report_at_once_file_one_revision() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let m = app.meeting_from_now(&s, s.hall, -180, -60, 80).await;
    app.warm_pool().await;
    let site = m["sites"][0]["id"].clone();
    let answers = join_all((0..10).map(|i| app.put_report(&m, report(&site, 60 + i)))).await;
    let filed: Vec<_> = answers.iter().filter(|a| a.status == 201).collect();
    assert_eq!(
        filed.len(),
        1,
        "{:?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    for refused in answers.iter().filter(|a| a.status != 201) {
        refused.problem(409, "report_exists");
    }
    let id = m["id"].as_str().expect("id");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM attendance_reports WHERE meeting_id = '{id}'"
        )),
        1
    );
    let current = app
        .get(&format!("/meetings/{id}/attendance-report"), &app.admin)
        .await;
    assert_eq!(current.ok(200)["current"]["revision"], 1);
    assert_eq!(
        current.body["current"]["attendees"],
        filed[0].body["attendees"]
    );
    assert_eq!(current.body["revisions"], json!([]));
}

/// What a burst of check-ins did, each answer checked: accepted ones stay within
/// `[0, capacity]`, refused arrivals are `capacity_reached`.
struct Burst {
    arrived: i64,
    left: i64,
    /// The codes of the refused departures.
    refused_departures: Vec<String>,
}

fn tally(answers: &[crate::helpers::Answer], counts: &[i32]) -> Burst {
    let mut burst = Burst {
        arrived: 0,
        left: 0,
        refused_departures: Vec::new(),
    };
    for (answer, count) in answers.iter().zip(counts) {
        if answer.status == 200 {
            let present = answer.body["present"].as_i64().expect("present");
            let capacity = answer.body["capacity"].as_i64().expect("capacity");
            assert!((0..=capacity).contains(&present), "{}", answer.text);
            if *count > 0 {
                burst.arrived += 1;
            } else {
                burst.left += 1;
            }
        } else if *count > 0 {
            answer.problem(409, "capacity_reached");
        } else {
            assert!(answer.status.is_client_error(), "{}", answer.text);
            let code = answer.body["code"].as_str().unwrap_or_default();
            burst.refused_departures.push(code.to_owned());
        }
    }
    burst
}

/// Arrivals and departures, interleaved: as many of each.
fn both_ways(n: usize, first: i32) -> Vec<i32> {
    (0..n)
        .map(|i| if i % 2 == 0 { first } else { -first })
        .collect()
}

#[actix_web::test]
async fn arrivals_and_departures_at_once_near_zero_and_near_capacity_lose_no_one() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let room = app
        .venue(s.tree.commune, "Phòng họp 10 chỗ", 10, None, "indoor")
        .await;
    let m = app.meeting_from_now(&s, room, -10, 120, 10).await;
    app.warm_pool().await;
    let site = m["sites"][0]["id"].as_str().expect("site").to_owned();
    let counter = |field: &str| {
        app.count(&format!(
            "SELECT {field}::bigint AS n FROM meeting_sites WHERE id = '{site}'"
        ))
    };
    // Around 0: into an empty room, departures first.
    let counts = both_ways(40, -1);
    let burst = tally(
        &join_all(counts.iter().map(|c| app.check_in(&m, *c))).await,
        &counts,
    );
    assert_eq!(counter("present"), burst.arrived - burst.left);
    assert_eq!(counter("admitted"), burst.arrived);
    // Around capacity: one seat short, arrivals first.
    let fill = 9 - counter("present") as i32;
    if fill != 0 {
        app.check_in(&m, fill).await.ok(200);
    }
    let admitted = counter("admitted");
    let counts = both_ways(40, 1);
    let burst = tally(
        &join_all(counts.iter().map(|c| app.check_in(&m, *c))).await,
        &counts,
    );
    assert!(burst.arrived >= 1, "the free seat was taken");
    assert_eq!(counter("present"), 9 + burst.arrived - burst.left);
    assert_eq!(counter("admitted"), admitted + burst.arrived);
}

#[actix_web::test]
async fn a_departure_refused_at_zero_is_never_called_capacity_reached() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let m = app.meeting_from_now(&s, s.hall, -10, 120, 10).await;
    app.warm_pool().await;
    let counts = both_ways(40, -1);
    let burst = tally(
        &join_all(counts.iter().map(|c| app.check_in(&m, *c))).await,
        &counts,
    );
    assert!(
        burst
            .refused_departures
            .iter()
            .all(|code| code == "validation_failed"),
        "{:?}",
        burst.refused_departures
    );
}

#[actix_web::test]
async fn check_ins_racing_a_rule_that_lowers_capacity_lose_no_one_and_keep_the_rule() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    // Starts in half an hour: check-in is open, and a new rule re-evaluates it.
    let m = app.meeting_from_now(&s, s.hall, 30, 150, 20).await;
    let site = m["sites"][0]["id"].as_str().expect("site").to_owned();
    app.warm_pool().await;
    let rule =
        json!({"region_id": s.tree.commune, "effective_from": from_now(-60), "max_attendees": 10});
    let (answers, ruled) = futures::join!(
        join_all((0..60).map(|_| app.check_in(&m, 1))),
        app.post("/health-rules", &app.admin, rule)
    );
    ruled.ok(201);
    let counts = vec![1; answers.len()];
    let arrived = tally(&answers, &counts).arrived;
    let row = |field: &str| {
        app.count(&format!(
            "SELECT {field}::bigint AS n FROM meeting_sites WHERE id = '{site}'"
        ))
    };
    assert_eq!(row("effective_capacity"), 10, "the rule holds");
    assert_eq!(
        row("present"),
        arrived,
        "every accepted check-in is counted"
    );
    assert_eq!(row("admitted"), arrived);
    // Those in may stay; from now on the lowered capacity holds.
    if arrived >= 10 {
        app.check_in(&m, 1).await.problem(409, "capacity_reached");
    } else {
        assert_eq!(app.check_in(&m, 1).await.ok(200)["capacity"], 10);
    }
}
