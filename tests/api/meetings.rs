//! `/meetings`: rules 1–5 of SPEC §3, If-Match, cancellation, listing.
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use diesel::RunQueryDsl;

use crate::helpers::app::{Constraint, DbError, Violation};
use crate::helpers::eventually::eventually;
use crate::helpers::{spawn_app, spawn_app_with, Role, TestApp};

fn ids(v: &Value, field: &str) -> Vec<String> {
    let mut out: Vec<String> = v[field]
        .as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("str").to_owned())
        .collect();
    out.sort();
    out
}

#[actix_web::test]
async fn a_meeting_is_planned_with_every_active_candidate_by_default() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    app.patch(
        &format!("/candidates/{}", s.candidates[2]),
        &app.admin,
        json!({"status": "withdrawn"}),
    )
    .await
    .ok(200);
    let created = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                80,
            ),
        )
        .await;
    let m = created.ok(201);
    let mut expected: Vec<String> = s.candidates[..2].iter().map(Uuid::to_string).collect();
    expected.sort();
    assert_eq!(ids(m, "candidate_ids"), expected);
    assert_eq!(m["status"], "planned");
    assert_eq!(m["starts_at"], "2021-05-10T01:00:00Z");
    assert_eq!(m["capacity"], 100);
    assert_eq!(m["sites"][0]["effective_capacity"], 100);
    assert!(m["sites"][0]["binding_rule_id"].is_null());
    assert_eq!(m["chair"]["name"], "Phạm Văn Đức");
    assert_eq!(created.headers["etag"], "\"1\"");
    let id = created.id();
    // The answer to the plan is the meeting as it is then read back, field for field.
    let read = app.get(&format!("/meetings/{id}"), &app.admin).await;
    assert_eq!(read.ok(200), created.ok(201));
    assert_eq!(read.headers["etag"], "\"1\"");
    let audit = app.get(&format!("/audit?entity_id={id}"), &app.admin).await;
    assert_eq!(audit.ok(200)["items"][0]["action"], "create");
}

#[actix_web::test]
async fn every_meeting_answer_carries_its_times_in_the_elections_zone() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let local = |zone: &str, starts: &str, ends: &str| json!({"timezone": zone, "starts_at": starts, "ends_at": ends});
    let hanoi = local(
        "Asia/Ho_Chi_Minh",
        "2021-05-10T08:00:00+07:00",
        "2021-05-10T10:00:00+07:00",
    );
    // Sent with another offset: the answer shows the election's.
    let created = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T01:00:00Z",
                "2021-05-10T12:00:00+09:00",
                10,
            ),
        )
        .await;
    assert_eq!(created.ok(201)["local"], hanoi);
    let id = created.id();
    let path = format!("/meetings/{id}");
    assert_eq!(app.get(&path, &app.admin).await.ok(200)["local"], hanoi);
    let listed = app
        .get(&format!("/meetings?election_id={election}"), &app.admin)
        .await;
    assert_eq!(listed.ok(200)["items"][0]["local"], hanoi);

    // The zone is the election's as it stands now.
    app.patch(
        &format!("/elections/{election}"),
        &app.admin,
        json!({"timezone": "Asia/Tokyo"}),
    )
    .await
    .ok(200);
    let tokyo = local(
        "Asia/Tokyo",
        "2021-05-10T10:00:00+09:00",
        "2021-05-10T12:00:00+09:00",
    );
    let read = app.get(&path, &app.admin).await;
    assert_eq!(read.ok(200)["local"], tokyo);
    assert_eq!(read.ok(200)["starts_at"], "2021-05-10T01:00:00Z");
    let etag = read.headers["etag"].to_str().unwrap_or_default().to_owned();
    let moved = app
        .request(
            Method::PATCH,
            &path,
            Some(&app.admin),
            Some(json!({"starts_at": "2021-05-10T09:00:00+09:00"})),
            &[("If-Match", etag.as_str())],
        )
        .await;
    assert_eq!(
        moved.ok(200)["local"]["starts_at"],
        "2021-05-10T09:00:00+09:00"
    );
    let cancelled = app
        .post(
            &format!("{path}/cancel"),
            &app.admin,
            json!({"reason": "mưa bão"}),
        )
        .await;
    assert_eq!(
        cancelled.ok(200)["local"],
        local(
            "Asia/Tokyo",
            "2021-05-10T09:00:00+09:00",
            "2021-05-10T12:00:00+09:00"
        )
    );
}

#[actix_web::test]
async fn meetings_must_lie_inside_the_campaign_window() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    for (start, end) in [
        ("2021-04-26T20:00:00+07:00", "2021-04-26T22:00:00+07:00"),
        ("2021-05-22T06:00:00+07:00", "2021-05-22T08:00:00+07:00"),
        ("2021-04-26T23:00:00+07:00", "2021-04-27T01:00:00+07:00"),
    ] {
        let answer = app
            .post("/meetings", &app.admin, s.in_person(s.hall, start, end, 10))
            .await;
        let p = answer.problem(422, "outside_campaign_window");
        assert_eq!(p["campaign_ends_at"], "2021-05-22T00:00:00Z");
    }
    app.post(
        "/meetings",
        &app.admin,
        s.in_person(
            s.hall,
            "2021-05-22T05:00:00+07:00",
            "2021-05-22T07:00:00+07:00",
            10,
        ),
    )
    .await
    .ok(201);
    let list = app.get("/meetings", &app.admin).await;
    assert_eq!(list.ok(200)["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn twenty_concurrent_plans_for_one_candidate_at_one_time_book_exactly_one() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let bodies = app.plans_of_one_candidate_at_one_hour(&s, 20).await;
    app.warm_pool().await;
    let answers = join_all(
        bodies
            .into_iter()
            .map(|b| app.post("/meetings", &app.admin, b)),
    )
    .await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let conflicts: Vec<_> = answers.iter().filter(|a| a.status == 409).collect();
    assert_eq!(
        created,
        1,
        "{:?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    assert_eq!(conflicts.len(), 19);
    let winner = answers.iter().find(|a| a.status == 201).expect("one").id();
    for c in conflicts {
        let p = c.problem(409, "candidate_conflict");
        assert_eq!(p["conflicting_meeting_id"], winner.to_string());
        assert_eq!(p["candidate_id"], s.candidates[0].to_string());
    }
    // What the database holds: one meeting, one active booking, and no refused plan left
    // half-written.
    assert_eq!(app.count("SELECT count(*) AS n FROM meetings"), 1);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM meeting_candidates WHERE candidate_id = '{}' AND active",
            s.candidates[0]
        )),
        1
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM meeting_sites"), 1);
    assert_eq!(app.double_bookings(), (0, 0));
}

#[actix_web::test]
async fn twenty_concurrent_plans_for_one_venue_at_one_time_book_exactly_one() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let mut bodies = Vec::new();
    for i in 0..20 {
        let unit = app
            .unit(
                election,
                s.tree.district,
                "province_council",
                &format!("Đơn vị HĐND tỉnh số {i}"),
            )
            .await;
        let c = app
            .candidate(unit, &format!("Ứng viên {i}"), &format!("uv{i}@example.vn"))
            .await;
        let mut body = s.in_person(
            s.hall,
            "2021-05-11T14:00:00+07:00",
            "2021-05-11T16:00:00+07:00",
            50,
        );
        body["electoral_unit_ids"] = json!([unit]);
        body["candidate_ids"] = json!([c]);
        bodies.push(body);
    }
    app.warm_pool().await;
    let answers = join_all(
        bodies
            .into_iter()
            .map(|b| app.post("/meetings", &app.admin, b)),
    )
    .await;
    assert_eq!(answers.iter().filter(|a| a.status == 201).count(), 1);
    let winner = answers.iter().find(|a| a.status == 201).expect("one").id();
    for a in answers.iter().filter(|a| a.status != 201) {
        let p = a.problem(409, "venue_conflict");
        assert_eq!(p["conflicting_meeting_id"], winner.to_string());
        assert_eq!(p["venue_id"], s.hall.to_string());
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM meetings"), 1);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM meeting_sites WHERE venue_id = '{}' AND active",
            s.hall
        )),
        1
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM meeting_candidates"), 1);
    assert_eq!(app.double_bookings(), (0, 0));
}

/// A booking is read before it is written, queued behind every other booking of the same
/// candidates and venues. A writer that skipped that queue can still take the slot between the
/// read and the write: then the constraint refuses the write, the plan is answered 503
/// `retry` with nothing kept, and its retry is refused naming the meeting that now holds it.
#[actix_web::test]
async fn a_slot_taken_past_the_booking_queue_makes_the_plan_retry_then_names_the_holder() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let school = app
        .venue(s.tree.commune, "Trường THCS Kỳ Đồng", 100, None, "indoor")
        .await;
    let holder = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-13T08:00:00+07:00",
                "2021-05-13T10:00:00+07:00",
                50,
            ),
        )
        .await
        .id();
    let plan = s.in_person(
        school,
        "2021-05-13T14:00:00+07:00",
        "2021-05-13T16:00:00+07:00",
        50,
    );
    // Another writer moves the holder's candidate into the afternoon without the queue, and
    // has not committed when the plan reads the candidate's bookings.
    let mut writer = app.conn();
    writer
        .batch_execute(&format!(
            "BEGIN; UPDATE meeting_candidates \
               SET busy = tstzrange('2021-05-13T13:00:00+07:00', '2021-05-13T17:00:00+07:00') \
             WHERE meeting_id = '{holder}'"
        ))
        .expect("the other writer's update");
    // The plan's insert has started, so its read is done; it waits for the other writer's row
    // (one server) or for the worker that holds it (Citus), or meets it committed.
    let writing = "SELECT count(*) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND state = 'active' \
                     AND query LIKE 'INSERT INTO meeting_candidates%'";
    let (answer, ()) = futures::join!(app.post("/meetings", &app.admin, plan.clone()), async {
        eventually("the plan writing its candidates", || async {
            match app.count(writing) {
                1 => Ok(()),
                n => Err(n),
            }
        })
        .await;
        writer.batch_execute("COMMIT").expect("commit");
    });
    answer.problem(503, "retry");
    assert_eq!(app.count("SELECT count(*) AS n FROM meetings"), 1);
    let again = app.post("/meetings", &app.admin, plan).await;
    let p = again.problem(409, "candidate_conflict");
    assert_eq!(p["conflicting_meeting_id"], holder.to_string());
    assert_eq!(app.count("SELECT count(*) AS n FROM meetings"), 1);
    assert_eq!(app.double_bookings(), (0, 0));
}

/// The venues are looked up in the province of the units first; one elsewhere is still found,
/// and named, not taken for a venue that does not exist.
#[actix_web::test]
async fn a_venue_of_another_province_is_named_as_such_and_nothing_is_written() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let elsewhere = app.region("Tỉnh Quảng Bình", "province", None).await;
    let far_hall = app
        .venue(elsewhere, "Nhà văn hóa Đồng Hới", 100, None, "indoor")
        .await;
    // An online meeting, whose connection points may be several.
    let plan = json!({"election_id": s.election, "electoral_unit_ids": [s.unit], "format": "online",
        "starts_at": "2021-05-14T08:00:00+07:00", "ends_at": "2021-05-14T10:00:00+07:00",
        "online": {"platform": "Zoom", "join_url": "https://zoom.us/j/9", "max_participants": 500, "expected_attendees": 100},
        "sites": [{"venue_id": s.hall, "expected_attendees": 50},
                  {"venue_id": far_hall, "expected_attendees": 50},
                  {"venue_id": Uuid::now_v7(), "expected_attendees": 50}]});
    let refused = app.post("/meetings", &app.admin, plan).await;
    assert_eq!(
        refused.invalid_fields(),
        vec!["sites[1].venue_id", "sites[2].venue_id"]
    );
    let messages: Vec<&str> = refused.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"the venue lies in another province than the electoral units")
            && messages.contains(&"no such venue"),
        "{messages:?}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM meetings"), 0);
}

#[actix_web::test]
async fn ten_meetings_rescheduled_into_one_slot_at_once_move_exactly_one() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let mut ids = Vec::new();
    for day in 10..20 {
        let venue = app
            .venue(
                s.tree.commune,
                &format!("Điểm họp {day}"),
                100,
                None,
                "indoor",
            )
            .await;
        let mut body = s.in_person(
            venue,
            &format!("2021-05-{day}T08:00:00+07:00"),
            &format!("2021-05-{day}T10:00:00+07:00"),
            50,
        );
        body["candidate_ids"] = json!([s.candidates[0]]);
        ids.push(app.post("/meetings", &app.admin, body).await.id());
    }
    app.warm_pool().await;
    let slot =
        json!({"starts_at": "2021-05-21T08:00:00+07:00", "ends_at": "2021-05-21T10:00:00+07:00"});
    let paths: Vec<String> = ids.iter().map(|id| format!("/meetings/{id}")).collect();
    let answers = join_all(paths.iter().map(|path| {
        app.request(
            Method::PATCH,
            path,
            Some(&app.admin),
            Some(slot.clone()),
            &[("If-Match", "\"1\"")],
        )
    }))
    .await;
    let moved: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(
        moved.len(),
        1,
        "{:?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    let winner = moved[0].id();
    for refused in answers.iter().filter(|a| a.status != 200) {
        let p = refused.problem(409, "candidate_conflict");
        assert_eq!(p["conflicting_meeting_id"], winner.to_string());
    }
    assert_eq!(app.double_bookings(), (0, 0));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM meetings WHERE starts_at = '2021-05-21T01:00:00Z'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM meetings WHERE version = 1"),
        9,
        "the refused reschedules changed nothing"
    );
}

#[actix_web::test]
async fn the_travel_buffer_separates_a_candidates_meetings() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let second = app
        .venue(
            s.tree.commune,
            "Trường tiểu học Kỳ Đồng",
            100,
            None,
            "indoor",
        )
        .await;
    let first = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-12T08:00:00+07:00",
                "2021-05-12T10:00:00+07:00",
                50,
            ),
        )
        .await;
    let first_id = first.id();
    // 10 minutes after the end: inside the 30-minute buffer.
    let too_soon = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                second,
                "2021-05-12T10:10:00+07:00",
                "2021-05-12T11:30:00+07:00",
                50,
            ),
        )
        .await;
    assert_eq!(
        too_soon.problem(409, "candidate_conflict")["conflicting_meeting_id"],
        first_id.to_string()
    );
    // ending 10 minutes before the first starts: the buffer after it runs into the first.
    let before = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                second,
                "2021-05-12T06:00:00+07:00",
                "2021-05-12T07:50:00+07:00",
                50,
            ),
        )
        .await;
    before.problem(409, "candidate_conflict");
    // 45 minutes after the end: fine.
    app.post(
        "/meetings",
        &app.admin,
        s.in_person(
            second,
            "2021-05-12T10:45:00+07:00",
            "2021-05-12T12:00:00+07:00",
            50,
        ),
    )
    .await
    .ok(201);
}

#[actix_web::test]
async fn the_travel_buffer_is_configurable() {
    let app = spawn_app_with(|s| s.scheduling.travel_buffer_minutes = 5).await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let second = app
        .venue(
            s.tree.commune,
            "Trường tiểu học Kỳ Đồng",
            100,
            None,
            "indoor",
        )
        .await;
    let first = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-12T08:00:00+07:00",
                "2021-05-12T10:00:00+07:00",
                50,
            ),
        )
        .await
        .id();
    // 3 minutes after the end: inside a 5-minute buffer (a buffer of 0 would allow it).
    let too_soon = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                second,
                "2021-05-12T10:03:00+07:00",
                "2021-05-12T11:00:00+07:00",
                50,
            ),
        )
        .await;
    assert_eq!(
        too_soon.problem(409, "candidate_conflict")["conflicting_meeting_id"],
        first.to_string()
    );
    // 10 minutes after: outside the 5 minutes (the default 30 would refuse it).
    app.post(
        "/meetings",
        &app.admin,
        s.in_person(
            second,
            "2021-05-12T10:10:00+07:00",
            "2021-05-12T11:00:00+07:00",
            50,
        ),
    )
    .await
    .ok(201);
}

/// The outcome of one statement against the booking tables.
/// Runs `sql`; a refusal is the violation and constraint the service reads from it, so the
/// same answer comes from one server and from a Citus worker (whose error names the shard).
fn booking(app: &TestApp, sql: &str) -> Result<(), (Violation, Constraint)> {
    diesel::sql_query(sql)
        .execute(&mut app.conn())
        .map(|_| ())
        .map_err(|e| match DbError::from(e) {
            DbError::Violated {
                violation,
                constraint,
            } => (violation, constraint),
            other => panic!("{sql}: {other}"),
        })
}

#[actix_web::test]
async fn the_exclusion_constraints_refuse_overlapping_active_bookings_only() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let other_hall = app
        .venue(s.tree.commune, "Nhà văn hóa thôn 8", 100, None, "indoor")
        .await;
    let first = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                50,
            ),
        )
        .await
        .id();
    let second = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                other_hall,
                "2021-05-11T08:00:00+07:00",
                "2021-05-11T10:00:00+07:00",
                50,
            ),
        )
        .await
        .id();
    let candidate = s.candidates[0];
    let busy_of_first = format!(
        "(SELECT busy FROM meeting_candidates WHERE province_id = '{province}' \
           AND meeting_id = '{first}' AND candidate_id = '{candidate}')",
        province = s.tree.province
    );
    let move_candidate = |range: &str| {
        format!(
            "UPDATE meeting_candidates SET busy = {range} \
             WHERE province_id = '{province}' AND meeting_id = '{second}' AND candidate_id = '{candidate}'",
            province = s.tree.province
        )
    };
    let clash = Err((Violation::Exclusion, Constraint::MeetingCandidatesNoOverlap));
    // Overlapping the first meeting's busy range, by one minute at its end, or touching it.
    assert_eq!(booking(&app, &move_candidate(&busy_of_first)), clash);
    let last_minute = "tstzrange('2021-05-10T03:29:00Z', '2021-05-10T05:00:00Z')";
    assert_eq!(booking(&app, &move_candidate(last_minute)), clash);
    let touching = "tstzrange('2021-05-10T03:30:00Z', '2021-05-10T05:00:00Z')";
    assert_eq!(booking(&app, &move_candidate(touching)), Ok(()));
    // Each of the first meeting's candidates is held; an inactive booking holds nobody.
    let other = format!(
        "UPDATE meeting_candidates SET busy = {busy_of_first} \
         WHERE province_id = '{}' AND meeting_id = '{second}' AND candidate_id = '{}'",
        s.tree.province, s.candidates[1]
    );
    assert_eq!(booking(&app, &other), clash);
    booking(
        &app,
        &format!(
            "UPDATE meeting_candidates SET active = false \
             WHERE province_id = '{}' AND meeting_id = '{first}'",
            s.tree.province
        ),
    )
    .expect("release the first meeting's candidates");
    assert_eq!(booking(&app, &move_candidate(&busy_of_first)), Ok(()));
    // A row that becomes active again over a taken range is refused too.
    assert_eq!(
        booking(
            &app,
            &format!(
                "UPDATE meeting_candidates SET active = true \
                 WHERE province_id = '{}' AND meeting_id = '{first}'",
                s.tree.province
            ),
        ),
        clash
    );

    let venue_clash = Err((Violation::Exclusion, Constraint::MeetingSitesNoOverlap));
    let move_site = format!(
        "UPDATE meeting_sites SET venue_id = '{}', \
                during = (SELECT during FROM meeting_sites \
                           WHERE province_id = '{province}' AND meeting_id = '{first}') \
         WHERE province_id = '{province}' AND meeting_id = '{second}'",
        s.hall,
        province = s.tree.province
    );
    assert_eq!(booking(&app, &move_site), venue_clash);
    booking(
        &app,
        &format!(
            "UPDATE meeting_sites SET active = false \
             WHERE province_id = '{}' AND meeting_id = '{first}'",
            s.tree.province
        ),
    )
    .expect("release the first meeting's site");
    assert_eq!(booking(&app, &move_site), Ok(()));
}

#[actix_web::test]
async fn cancelled_meetings_free_their_candidates_and_venue() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let body = s.in_person(
        s.hall,
        "2021-05-13T08:00:00+07:00",
        "2021-05-13T10:00:00+07:00",
        50,
    );
    let first = app.post("/meetings", &app.admin, body.clone()).await.id();
    app.post("/meetings", &app.admin, body.clone())
        .await
        .problem(409, "candidate_conflict");
    let cancelled = app
        .post(
            &format!("/meetings/{first}/cancel"),
            &app.admin,
            json!({"reason": "Mưa bão"}),
        )
        .await;
    assert_eq!(cancelled.ok(200)["status"], "cancelled");
    assert_eq!(cancelled.body["cancel_reason"], "Mưa bão");
    app.post("/meetings", &app.admin, body).await.ok(201);
    app.post(
        &format!("/meetings/{first}/cancel"),
        &app.admin,
        json!({"reason": "again"}),
    )
    .await
    .problem(409, "meeting_not_planned");
    app.post(
        &format!("/meetings/{first}/cancel"),
        &app.admin,
        json!({"reason": ""}),
    )
    .await
    .problem(422, "validation_failed");
}

#[actix_web::test]
async fn expected_attendees_above_the_effective_capacity_name_the_site_and_binding_rule() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let rule = app
        .post(
            "/health-rules",
            &app.admin,
            json!({"region_id": s.tree.district, "effective_from": "2021-05-01T00:00:00+07:00",
                   "effective_until": "2021-05-20T00:00:00+07:00", "applies_to": "indoor",
                   "max_attendees": 30, "reference": "Chỉ thị 15/CT-TTg"}),
        )
        .await;
    let rule_id = rule.ok(201)["rule"]["id"].as_str().expect("id").to_owned();
    let over = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                31,
            ),
        )
        .await;
    let p = over.problem(422, "capacity_exceeded");
    assert_eq!(p["problems"][0]["venue_id"], s.hall.to_string());
    assert_eq!(p["problems"][0]["binding_rule_id"], rule_id);
    assert_eq!(p["problems"][0]["effective_capacity"], 30);
    assert!(p["detail"].as_str().expect("detail").contains(&rule_id));
    let ok = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                30,
            ),
        )
        .await;
    assert_eq!(ok.ok(201)["sites"][0]["effective_capacity"], 30);
    assert_eq!(ok.body["sites"][0]["binding_rule_id"], rule_id);
    assert_eq!(ok.body["capacity"], 30);
}

#[actix_web::test]
async fn a_rule_outside_its_period_region_or_setting_does_not_apply() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let other_district = app
        .region("Huyện Cẩm Xuyên", "district", Some(s.tree.province))
        .await;
    for rule in [
        json!({"region_id": s.tree.commune, "effective_from": "2021-05-10T10:00:00+07:00", "max_attendees": 5}),
        json!({"region_id": s.tree.commune, "effective_from": "2021-05-01T00:00:00+07:00", "effective_until": "2021-05-10T08:00:00+07:00", "max_attendees": 5}),
        json!({"region_id": other_district, "effective_from": "2021-05-01T00:00:00+07:00", "max_attendees": 5}),
        json!({"region_id": s.tree.province, "effective_from": "2021-05-01T00:00:00+07:00", "applies_to": "outdoor", "max_attendees": 5}),
    ] {
        app.post("/health-rules", &app.admin, rule).await.ok(201);
    }
    let m = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                100,
            ),
        )
        .await;
    assert_eq!(m.ok(201)["sites"][0]["effective_capacity"], 100);
    let capacity = app
        .get(
            &format!("/venues/{}/capacity?starts_at=2021-05-10T08:00:00%2B07:00&ends_at=2021-05-10T10:00:00%2B07:00", s.hall),
            &app.admin,
        )
        .await;
    assert_eq!(capacity.ok(200)["effective_capacity"], 100);
    assert_eq!(capacity.body["rules"].as_array().map(Vec::len), Some(0));
    let later = app
        .get(
            &format!("/venues/{}/capacity?starts_at=2021-05-11T08:00:00%2B07:00&ends_at=2021-05-11T10:00:00%2B07:00", s.hall),
            &app.admin,
        )
        .await;
    assert_eq!(later.ok(200)["effective_capacity"], 5);
    assert_eq!(later.body["rules"][0]["binding"], true);
}

#[actix_web::test]
async fn combine_max_takes_whichever_limit_is_greater() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    // 50% of 100 seats = 50; 120 m² at 4 m² each = 30 → "whichever is greater" = 50.
    let rule = app
        .post(
            "/health-rules",
            &app.admin,
            json!({"region_id": s.tree.province, "effective_from": "2021-05-01T00:00:00+07:00",
                   "max_occupancy_percent": 50, "min_area_per_person_m2": 4.0, "combine": "max"}),
        )
        .await;
    let rule_id = rule.ok(201)["rule"]["id"].clone();
    let capacity = app
        .get(
            &format!("/venues/{}/capacity?starts_at=2021-05-10T08:00:00%2B07:00&ends_at=2021-05-10T10:00:00%2B07:00", s.hall),
            &app.admin,
        )
        .await;
    assert_eq!(capacity.ok(200)["effective_capacity"], 50);
    assert_eq!(capacity.body["binding_rule_id"], rule_id);
    assert_eq!(capacity.body["rules"][0]["limit"], 50);
    app.post(
        "/meetings",
        &app.admin,
        s.in_person(
            s.hall,
            "2021-05-10T08:00:00+07:00",
            "2021-05-10T10:00:00+07:00",
            51,
        ),
    )
    .await
    .problem(422, "capacity_exceeded");
    let id = rule_id.as_str().expect("id");
    app.patch(
        &format!("/health-rules/{id}"),
        &app.admin,
        json!({"combine": "min"}),
    )
    .await
    .ok(200);
    let min = app
        .get(
            &format!("/venues/{}/capacity?starts_at=2021-05-10T08:00:00%2B07:00&ends_at=2021-05-10T10:00:00%2B07:00", s.hall),
            &app.admin,
        )
        .await;
    assert_eq!(min.ok(200)["effective_capacity"], 30);
}

#[actix_web::test]
async fn a_gathering_ban_refuses_in_person_meetings_but_allows_online_ones() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let ban = app
        .post(
            "/health-rules",
            &app.admin,
            json!({"region_id": s.tree.province, "effective_from": "2021-05-08T00:00:00+07:00",
                   "effective_until": "2021-05-21T00:00:00+07:00", "in_person_allowed": false,
                   "reference": "Công văn 82"}),
        )
        .await;
    let ban_id = ban.ok(201)["rule"]["id"].clone();
    let refused = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                10,
            ),
        )
        .await;
    assert_eq!(
        refused.problem(422, "in_person_not_allowed")["problems"][0]["rule_id"],
        ban_id
    );
    let online = app
        .post(
            "/meetings",
            &app.admin,
            json!({"election_id": s.election, "electoral_unit_ids": [s.unit], "format": "online",
                   "starts_at": "2021-05-10T08:00:00+07:00", "ends_at": "2021-05-10T10:00:00+07:00",
                   "online": {"platform": "Zoom", "join_url": "https://zoom.us/j/123", "max_participants": 300, "expected_attendees": 250},
                   "sites": [{"venue_id": s.hall, "expected_attendees": 40}]}),
        )
        .await;
    let m = online.ok(201);
    assert_eq!(m["format"], "online");
    assert_eq!(m["title"], "Hội nghị tiếp xúc cử tri");
    assert_eq!(m["online"]["max_participants"], 300);
    assert_eq!(m["capacity"], 400);
}

#[actix_web::test]
async fn online_capacity_is_connection_points_plus_the_online_maximum() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let point = app
        .venue(
            s.tree.district,
            "Điểm cầu huyện Kỳ Anh",
            80,
            Some(100.0),
            "indoor",
        )
        .await;
    app.post(
        "/health-rules",
        &app.admin,
        json!({"region_id": s.tree.district, "effective_from": "2021-05-01T00:00:00+07:00", "max_occupancy_percent": 50}),
    )
    .await
    .ok(201);
    let body = json!({"election_id": s.election, "electoral_unit_ids": [s.unit], "format": "online",
        "starts_at": "2021-05-15T08:00:00+07:00", "ends_at": "2021-05-15T10:00:00+07:00",
        "online": {"platform": "Zoom", "join_url": "https://zoom.us/j/9", "max_participants": 500, "expected_attendees": 500},
        "sites": [{"venue_id": s.hall, "expected_attendees": 50}, {"venue_id": point, "expected_attendees": 40}]});
    let created = app.post("/meetings", &app.admin, body.clone()).await;
    // 50% of 100 + 50% of 80 + 500 online
    assert_eq!(created.ok(201)["capacity"], 50 + 40 + 500);
    let mut over = body;
    over["online"]["expected_attendees"] = json!(501);
    over["starts_at"] = json!("2021-05-16T08:00:00+07:00");
    over["ends_at"] = json!("2021-05-16T10:00:00+07:00");
    app.post("/meetings", &app.admin, over)
        .await
        .problem(422, "capacity_exceeded");
}

#[actix_web::test]
async fn malformed_plans_name_every_bad_field_and_create_nothing() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let other = app
        .venue(s.tree.commune, "Sân bóng", 300, None, "outdoor")
        .await;
    let two_sites = json!({"election_id": s.election, "electoral_unit_ids": [s.unit], "format": "in_person",
        "starts_at": "2021-05-10T10:00:00+07:00", "ends_at": "2021-05-10T08:00:00+07:00",
        "sites": [{"venue_id": s.hall, "expected_attendees": 10}, {"venue_id": other, "expected_attendees": -1}]});
    let answer = app.post("/meetings", &app.admin, two_sites).await;
    assert_eq!(
        answer.invalid_fields(),
        vec!["ends_at", "sites", "sites[1].expected_attendees"]
    );
    // A bad format hides no other field: the times and the units are still judged.
    let bad_format = json!({"election_id": s.election, "electoral_unit_ids": [], "format": "hybrid",
        "starts_at": "2021-05-10T10:00:00+07:00", "ends_at": "2021-05-10T08:00:00+07:00"});
    let answer = app.post("/meetings", &app.admin, bad_format).await;
    assert_eq!(
        answer.invalid_fields(),
        vec!["electoral_unit_ids", "ends_at", "format"]
    );
    let bad_refs = json!({"election_id": s.election, "electoral_unit_ids": [Uuid::new_v4()], "format": "in_person",
        "starts_at": "2021-05-10T08:00:00+07:00", "ends_at": "2021-05-10T10:00:00+07:00",
        "candidate_ids": [Uuid::new_v4()],
        "sites": [{"venue_id": Uuid::new_v4(), "expected_attendees": 10}]});
    let answer = app.post("/meetings", &app.admin, bad_refs).await;
    assert_eq!(
        answer.invalid_fields(),
        vec!["candidate_ids", "electoral_unit_ids", "sites[0].venue_id"]
    );
    let online_without_block = json!({"election_id": s.election, "electoral_unit_ids": [s.unit], "format": "online",
        "starts_at": "2021-05-10T08:00:00+07:00", "ends_at": "2021-05-10T10:00:00+07:00",
        "online": {"join_url": "ftp://x", "max_participants": 0, "expected_attendees": 1}});
    let answer = app
        .post("/meetings", &app.admin, online_without_block)
        .await;
    assert_eq!(
        answer.invalid_fields(),
        vec!["online.join_url", "online.max_participants"]
    );
    let stranger_unit = app
        .unit(
            election,
            s.tree.district,
            "province_council",
            "Đơn vị tỉnh số 9",
        )
        .await;
    let stranger = app
        .candidate(stranger_unit, "Người ngoài", "ngoai@example.vn")
        .await;
    let mut wrong_candidate = s.in_person(
        s.hall,
        "2021-05-10T08:00:00+07:00",
        "2021-05-10T10:00:00+07:00",
        10,
    );
    wrong_candidate["candidate_ids"] = json!([stranger]);
    assert_eq!(
        app.post("/meetings", &app.admin, wrong_candidate)
            .await
            .invalid_fields(),
        vec!["candidate_ids"]
    );
    app.post_raw(
        "/meetings",
        &app.admin,
        "application/json",
        b"{\"format\": 3}".to_vec(),
    )
    .await
    .problem(400, "bad_request");
    let list = app.get("/meetings", &app.admin).await;
    assert_eq!(list.ok(200)["items"].as_array().map(Vec::len), Some(0));
}

#[actix_web::test]
async fn joint_meetings_serve_several_units_with_all_their_candidates() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let council = app
        .unit(
            election,
            s.tree.district,
            "province_council",
            "Đơn vị HĐND tỉnh số 3",
        )
        .await;
    let c = app
        .candidate(council, "Hoàng Thị Duyên", "duyen@example.vn")
        .await;
    let mut body = s.in_person(
        s.hall,
        "2021-05-10T08:00:00+07:00",
        "2021-05-10T10:00:00+07:00",
        90,
    );
    body["electoral_unit_ids"] = json!([s.unit, council]);
    let m = app.post("/meetings", &app.admin, body).await;
    assert_eq!(
        m.ok(201)["electoral_unit_ids"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(m.body["candidate_ids"].as_array().map(Vec::len), Some(4));
    assert!(ids(&m.body, "candidate_ids").contains(&c.to_string()));
    let read = app.get(&format!("/meetings/{}", m.id()), &app.admin).await;
    assert_eq!(
        read.ok(200),
        m.ok(201),
        "answered as read back, in the same order"
    );
}

#[actix_web::test]
async fn edits_need_the_current_etag_and_recheck_every_rule() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let created = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                50,
            ),
        )
        .await;
    let id = created.id();
    let path = format!("/meetings/{id}");
    let body =
        json!({"starts_at": "2021-05-11T08:00:00+07:00", "ends_at": "2021-05-11T10:00:00+07:00"});
    app.request(
        Method::PATCH,
        &path,
        Some(&app.admin),
        Some(body.clone()),
        &[],
    )
    .await
    .problem(428, "precondition_required");
    app.request(
        Method::PATCH,
        &path,
        Some(&app.admin),
        Some(body.clone()),
        &[("If-Match", "\"7\"")],
    )
    .await
    .problem(412, "version_conflict");
    let moved = app
        .request(
            Method::PATCH,
            &path,
            Some(&app.admin),
            Some(body.clone()),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(moved.ok(200)["starts_at"], "2021-05-11T01:00:00Z");
    assert_eq!(moved.body["version"], 2);
    assert_eq!(moved.headers["etag"], "\"2\"");
    app.request(
        Method::PATCH,
        &path,
        Some(&app.admin),
        Some(body),
        &[("If-Match", "\"1\"")],
    )
    .await
    .problem(412, "version_conflict");
    let outside = app
        .request(
            Method::PATCH,
            &path,
            Some(&app.admin),
            Some(json!({"starts_at": "2021-06-01T08:00:00+07:00", "ends_at": "2021-06-01T10:00:00+07:00"})),
            &[("If-Match", "\"2\"")],
        )
        .await;
    outside.problem(422, "outside_campaign_window");
    let too_many = app
        .request(
            Method::PATCH,
            &path,
            Some(&app.admin),
            Some(json!({"sites": [{"venue_id": s.hall, "expected_attendees": 101}]})),
            &[("If-Match", "\"2\"")],
        )
        .await;
    too_many.problem(422, "capacity_exceeded");
    let read = app.get(&path, &app.admin).await;
    assert_eq!(read.ok(200)["version"], 2);
    assert_eq!(read.body["sites"][0]["expected_attendees"], 50);
    let audit = app.get(&format!("/audit?entity_id={id}"), &app.admin).await;
    let entries = audit.ok(200)["items"].as_array().expect("items").clone();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["before"]["starts_at"], "2021-05-10T01:00:00Z");
    assert_eq!(entries[1]["after"]["starts_at"], "2021-05-11T01:00:00Z");
}

#[actix_web::test]
async fn a_site_keeps_its_id_when_only_its_numbers_change() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let created = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                50,
            ),
        )
        .await;
    let site = created.body["sites"][0]["id"].clone();
    let edited = app
        .request(
            Method::PATCH,
            &format!("/meetings/{}", created.id()),
            Some(&app.admin),
            Some(json!({"sites": [{"venue_id": s.hall, "expected_attendees": 70}], "title": "Hội nghị lần 2"})),
            &[("If-Match", "*")],
        )
        .await;
    assert_eq!(edited.ok(200)["sites"][0]["id"], site);
    assert_eq!(edited.body["sites"][0]["expected_attendees"], 70);
    assert_eq!(edited.body["title"], "Hội nghị lần 2");
}

#[actix_web::test]
async fn organizers_plan_at_their_venues_for_their_units_and_those_above_and_observers_never() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let other_commune = app
        .region("Xã Kỳ Trinh", "commune", Some(s.tree.district))
        .await;
    let commune_unit = app
        .unit(
            election,
            s.tree.commune,
            "commune_council",
            "Đơn vị HĐND xã số 1",
        )
        .await;
    app.candidate(commune_unit, "Đinh Văn Em", "em@example.vn")
        .await;
    let far_hall = app
        .venue(other_commune, "Nhà văn hóa Kỳ Trinh", 60, None, "indoor")
        .await;
    let organizer = app.token(Role::Organizer, Some(s.tree.commune));
    let observer = app.token(Role::Observer, Some(s.tree.province));
    let mut own = s.in_person(
        s.hall,
        "2021-05-10T08:00:00+07:00",
        "2021-05-10T10:00:00+07:00",
        50,
    );
    own["electoral_unit_ids"] = json!([commune_unit]);
    let mut far = own.clone();
    far["sites"] = json!([{"venue_id": far_hall, "expected_attendees": 10}]);
    app.post("/meetings", &organizer, far)
        .await
        .problem(403, "forbidden");
    // SPEC §3 rule 11: communes host the meetings of National Assembly candidates
    let national = app
        .post(
            "/meetings",
            &organizer,
            s.in_person(
                s.hall,
                "2021-05-11T08:00:00+07:00",
                "2021-05-11T10:00:00+07:00",
                50,
            ),
        )
        .await
        .id();
    app.post("/meetings", &observer, own.clone())
        .await
        .problem(403, "forbidden");
    let mine = app.post("/meetings", &organizer, own).await.id();
    let foreign = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                far_hall,
                "2021-05-12T08:00:00+07:00",
                "2021-05-12T10:00:00+07:00",
                10,
            ),
        )
        .await
        .id();
    app.get(&format!("/meetings/{foreign}"), &organizer)
        .await
        .problem(403, "forbidden");
    app.post(
        &format!("/meetings/{foreign}/cancel"),
        &organizer,
        json!({"reason": "x"}),
    )
    .await
    .problem(403, "forbidden");
    let listed = app.get("/meetings", &organizer).await;
    let mut ids: Vec<String> = listed.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    let mut expected = vec![mine.to_string(), national.to_string()];
    expected.sort();
    assert_eq!(ids, expected);
    let all = app.get("/meetings", &observer).await;
    assert_eq!(all.ok(200)["items"].as_array().map(Vec::len), Some(3));
}

#[actix_web::test]
async fn meetings_are_listed_in_start_order_with_filters_and_cursors() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let mut created = Vec::new();
    for day in [14, 12, 10, 13, 11] {
        let venue = app
            .venue(s.tree.commune, &format!("Điểm {day}"), 100, None, "indoor")
            .await;
        let m = app
            .post(
                "/meetings",
                &app.admin,
                s.in_person(
                    venue,
                    &format!("2021-05-{day}T08:00:00+07:00"),
                    &format!("2021-05-{day}T10:00:00+07:00"),
                    10,
                ),
            )
            .await;
        created.push((day, m.id()));
    }
    let cancel = created.iter().find(|(d, _)| *d == 13).expect("13").1;
    app.post(
        &format!("/meetings/{cancel}/cancel"),
        &app.admin,
        json!({"reason": "x"}),
    )
    .await
    .ok(200);
    let mut days = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(
                &format!("/meetings?election_id={election}&limit=2{cursor}"),
                &app.admin,
            )
            .await;
        let body = page.ok(200);
        for m in body["items"].as_array().expect("items") {
            days.push(m["starts_at"].as_str().expect("t")[8..10].to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(days, vec!["10", "11", "12", "13", "14"]);
    let planned = app.get("/meetings?status=planned&from=2021-05-11T00:00:00%2B07:00&to=2021-05-13T00:00:00%2B07:00", &app.admin).await;
    assert_eq!(planned.ok(200)["items"].as_array().map(Vec::len), Some(2));
    let by_candidate = app
        .get(
            &format!(
                "/meetings?candidate_id={}&status=cancelled",
                s.candidates[0]
            ),
            &app.admin,
        )
        .await;
    assert_eq!(by_candidate.ok(200)["items"][0]["id"], cancel.to_string());
    let by_unit = app
        .get(
            &format!("/meetings?electoral_unit_id={}", s.unit),
            &app.admin,
        )
        .await;
    assert_eq!(by_unit.ok(200)["items"].as_array().map(Vec::len), Some(5));
    app.get("/meetings?status=done", &app.admin)
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_withdrawn_candidate_leaves_future_meetings_but_not_past_ones() {
    let app = spawn_app().await;
    let election = app
        .election_with("2021-04-27T00:00:00+07:00", "2031-05-23T07:00:00+07:00")
        .await;
    let s = app.setup(election).await;
    let second = app
        .venue(s.tree.commune, "Nhà văn hóa thôn 4", 100, None, "indoor")
        .await;
    let past = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2021-05-10T08:00:00+07:00",
                "2021-05-10T10:00:00+07:00",
                50,
            ),
        )
        .await
        .id();
    let future = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                second,
                "2031-05-10T08:00:00+07:00",
                "2031-05-10T10:00:00+07:00",
                50,
            ),
        )
        .await
        .id();
    app.patch(
        &format!("/candidates/{}", s.candidates[0]),
        &app.admin,
        json!({"status": "withdrawn"}),
    )
    .await
    .ok(200);
    let f = app.get(&format!("/meetings/{future}"), &app.admin).await;
    assert_eq!(f.ok(200)["candidate_ids"].as_array().map(Vec::len), Some(2));
    assert!(!ids(&f.body, "candidate_ids").contains(&s.candidates[0].to_string()));
    assert_eq!(f.body["version"], 2);
    let p = app.get(&format!("/meetings/{past}"), &app.admin).await;
    assert!(ids(p.ok(200), "candidate_ids").contains(&s.candidates[0].to_string()));
    // Rule 10: the meeting the candidate left is audited with both sides.
    let audit = app
        .get(&format!("/audit?entity_id={future}"), &app.admin)
        .await;
    let entries = audit.ok(200)["items"].as_array().expect("items");
    let update = entries
        .iter()
        .find(|e| e["action"] == "update")
        .expect("an update entry");
    assert_eq!(update["entity_type"], "meeting");
    assert!(ids(&update["before"], "candidate_ids").contains(&s.candidates[0].to_string()));
    assert_eq!(update["after"], f.body);
    let past_audit = app
        .get(&format!("/audit?entity_id={past}"), &app.admin)
        .await;
    assert_eq!(
        past_audit.ok(200)["items"].as_array().map(Vec::len),
        Some(1)
    );
}

#[actix_web::test]
async fn candidates_hear_of_upcoming_meetings_but_not_of_back_filled_ones() {
    let app = spawn_app().await;
    let election = app
        .election_with("2021-04-27T00:00:00+07:00", "2031-05-23T07:00:00+07:00")
        .await;
    let s = app.setup(election).await;
    let second = app
        .venue(s.tree.commune, "Nhà văn hóa thôn 6", 100, None, "indoor")
        .await;
    app.post(
        "/meetings",
        &app.admin,
        s.in_person(
            s.hall,
            "2021-05-10T08:00:00+07:00",
            "2021-05-10T10:00:00+07:00",
            50,
        ),
    )
    .await
    .ok(201);
    let outbox = app.get("/outbox", &app.admin).await;
    assert_eq!(outbox.ok(200)["items"].as_array().map(Vec::len), Some(0));
    app.post(
        "/meetings",
        &app.admin,
        s.in_person(
            second,
            "2031-05-10T08:00:00+07:00",
            "2031-05-10T10:00:00+07:00",
            50,
        ),
    )
    .await
    .ok(201);
    let outbox = app.get("/outbox", &app.admin).await;
    let items = outbox.ok(200)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), s.candidates.len());
    assert!(items.iter().all(|i| i["kind"] == "meeting_change"));
}

#[actix_web::test]
async fn twenty_identical_plans_at_once_book_one_and_refuse_the_rest_cleanly() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let body = s.in_person(
        s.hall,
        "2021-05-14T08:00:00+07:00",
        "2021-05-14T10:00:00+07:00",
        50,
    );
    app.warm_pool().await;
    let answers = join_all((0..20).map(|_| app.post("/meetings", &app.admin, body.clone()))).await;
    assert_eq!(answers.iter().filter(|a| a.status == 201).count(), 1);
    for refused in answers.iter().filter(|a| a.status != 201) {
        let code = refused.body["code"].as_str().unwrap_or_default();
        assert!(
            refused.status == 409 && (code == "candidate_conflict" || code == "venue_conflict"),
            "{}",
            refused.text
        );
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM meetings"), 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM meeting_candidates WHERE active"),
        s.candidates.len() as i64
    );
    assert_eq!(app.double_bookings(), (0, 0));
}

#[actix_web::test]
async fn a_meeting_reads_the_same_alone_and_in_a_list_with_every_part_in_order() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let mut halls = vec![s.hall];
    for name in ["Nhà văn hóa thôn 1", "Nhà văn hóa thôn 2"] {
        halls.push(app.venue(s.tree.commune, name, 100, None, "indoor").await);
    }
    let sites: Vec<Value> = halls
        .iter()
        .zip([40, 30, 20])
        .map(|(venue, expected)| json!({"venue_id": venue, "expected_attendees": expected}))
        .collect();
    let online = json!({"election_id": s.election, "electoral_unit_ids": [s.unit], "format": "online",
        "candidate_ids": [s.candidates[1], s.candidates[0]],
        "starts_at": "2021-05-14T08:00:00+07:00", "ends_at": "2021-05-14T10:00:00+07:00",
        "online": {"platform": "Zoom", "join_url": "https://zoom.us/j/9", "max_participants": 500, "expected_attendees": 100},
        "sites": sites});
    let first = app.post("/meetings", &app.admin, online).await.id();
    let mut second = s.in_person(
        s.hall,
        "2021-05-15T08:00:00+07:00",
        "2021-05-15T10:00:00+07:00",
        10,
    );
    second["candidate_ids"] = json!([s.candidates[0]]);
    let second = app.post("/meetings", &app.admin, second).await.id();

    let alone = app.get(&format!("/meetings/{first}"), &app.admin).await;
    let m = alone.ok(200);
    assert_eq!(m["electoral_unit_ids"], json!([s.unit]));
    let mut both = vec![s.candidates[0], s.candidates[1]];
    both.sort();
    assert_eq!(m["candidate_ids"], json!(both));
    let read: Vec<(String, String, i64)> = m["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|site| {
            assert_eq!(site["present"], 0);
            assert!(site["binding_rule_id"].is_null());
            (
                site["id"].as_str().expect("id").to_owned(),
                site["venue_id"].as_str().expect("venue").to_owned(),
                site["expected_attendees"].as_i64().expect("expected"),
            )
        })
        .collect();
    let mut ids: Vec<&String> = read.iter().map(|(id, _, _)| id).collect();
    ids.sort();
    assert_eq!(ids, read.iter().map(|(id, _, _)| id).collect::<Vec<_>>());
    let mut venues: Vec<(String, i64)> = read.iter().map(|(_, v, e)| (v.clone(), *e)).collect();
    venues.sort();
    let mut planned: Vec<(String, i64)> = halls
        .iter()
        .map(Uuid::to_string)
        .zip([40, 30, 20])
        .collect();
    planned.sort();
    assert_eq!(venues, planned);
    assert_eq!(m["local"]["timezone"], "Asia/Ho_Chi_Minh");
    assert_eq!(m["local"]["starts_at"], "2021-05-14T08:00:00+07:00");

    let listed = app
        .get(&format!("/meetings?election_id={election}"), &app.admin)
        .await;
    let items = listed.ok(200)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2);
    for id in [first, second] {
        let one = app.get(&format!("/meetings/{id}"), &app.admin).await;
        let in_list = items.iter().find(|i| i["id"] == json!(id)).expect("listed");
        assert_eq!(in_list, one.ok(200));
    }

    // Cancelled, a meeting keeps naming the candidates it had.
    app.post(
        &format!("/meetings/{first}/cancel"),
        &app.admin,
        json!({"reason": "Mưa bão"}),
    )
    .await
    .ok(200);
    let cancelled = app.get(&format!("/meetings/{first}"), &app.admin).await;
    assert_eq!(cancelled.ok(200)["candidate_ids"], json!(both));
    assert_eq!(cancelled.body["sites"].as_array().map(Vec::len), Some(3));
}
