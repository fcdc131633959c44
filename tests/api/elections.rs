//! `/elections`, electoral units and candidates.
use serde_json::json;

use crate::helpers::{spawn_app, Role};

#[actix_web::test]
async fn an_election_reports_its_campaign_window() {
    let app = spawn_app().await;
    let id = app.election().await;
    let election = app.get(&format!("/elections/{id}"), &app.admin).await;
    let e = election.ok(200);
    assert_eq!(e["timezone"], "Asia/Ho_Chi_Minh");
    assert_eq!(e["report_deadline_hours"], 24);
    assert_eq!(e["campaign_starts_at"], "2021-04-26T17:00:00Z");
    assert_eq!(e["campaign_ends_at"], "2021-05-22T00:00:00Z");
    assert_eq!(e["min_meetings_per_candidate"]["national_assembly"], 10);
}

#[actix_web::test]
async fn election_fields_are_validated_together() {
    let app = spawn_app().await;
    let answer = app
        .post(
            "/elections",
            &app.admin,
            json!({
                "name": "",
                "polling_starts_at": "2021-05-23 07:00",
                "campaign_starts_at": "2021-04-27T00:00:00+07:00",
                "timezone": "Asia/Hanoi_City",
                "report_deadline_hours": 0,
                "min_meetings_per_candidate": {"senate": 3}
            }),
        )
        .await;
    assert_eq!(
        answer.invalid_fields(),
        vec![
            "min_meetings_per_candidate",
            "name",
            "polling_starts_at",
            "report_deadline_hours",
            "timezone"
        ]
    );
    let late_start = app
        .post(
            "/elections",
            &app.admin,
            json!({"name": "X", "polling_starts_at": "2021-05-23T07:00:00+07:00",
                   "campaign_starts_at": "2021-05-22T08:00:00+07:00"}),
        )
        .await;
    assert_eq!(late_start.invalid_fields(), vec!["campaign_starts_at"]);
    let list = app.get("/elections", &app.admin).await;
    assert_eq!(list.ok(200)["items"].as_array().map(Vec::len), Some(0));
}

#[actix_web::test]
async fn units_respect_seat_limits_and_body_levels() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let election = app.election().await;
    let path = format!("/elections/{election}/electoral-units");
    let too_many = app
        .post(&path, &app.admin, json!({"name": "Đơn vị số 1", "body": "national_assembly", "region_id": tree.province, "seats": 4}))
        .await;
    assert_eq!(too_many.invalid_fields(), vec!["seats"]);
    app.post(&path, &app.admin, json!({"name": "Đơn vị số 1", "body": "province_council", "region_id": tree.district, "seats": 5}))
        .await
        .ok(201);
    let council = app
        .post(&path, &app.admin, json!({"name": "Đơn vị số 2", "body": "commune_council", "region_id": tree.district, "seats": 6}))
        .await;
    assert_eq!(council.invalid_fields(), vec!["region_id", "seats"]);
    let wrong_level = app
        .post(&path, &app.admin, json!({"name": "Đơn vị số 2", "body": "commune_council", "region_id": tree.district, "seats": 5}))
        .await;
    assert_eq!(wrong_level.invalid_fields(), vec!["region_id"]);
    let unknown_body = app
        .post(&path, &app.admin, json!({"name": "Đơn vị số 3", "body": "senate", "region_id": tree.province, "seats": 1}))
        .await;
    assert_eq!(unknown_body.invalid_fields(), vec!["body"]);
    let unknown_body_no_seats = app
        .post(&path, &app.admin, json!({"name": "Đơn vị số 3", "body": "senate", "region_id": tree.province, "seats": -1}))
        .await;
    assert_eq!(
        unknown_body_no_seats.invalid_fields(),
        vec!["body", "seats"]
    );
    let listed = app.get(&path, &app.admin).await;
    assert_eq!(listed.ok(200)["items"].as_array().map(Vec::len), Some(1));
    app.get(
        &format!("/elections/{}/electoral-units", uuid::Uuid::new_v4()),
        &app.admin,
    )
    .await
    .problem(404, "not_found");
}

/// SPEC §3 rule 11: units and candidates (their emails included) are admins'; an organizer
/// reads the units of their subtree and those whose region contains theirs.
#[actix_web::test]
async fn units_and_candidates_are_admins_and_organizers_read_theirs_and_those_above() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let other_district = app
        .region("Thị xã Kỳ Anh", "district", Some(tree.province))
        .await;
    let election = app.election().await;
    let organizer = app.token(Role::Organizer, Some(tree.district));
    let observer = app.token(Role::Observer, Some(tree.district));
    let path = format!("/elections/{election}/electoral-units");
    let new_unit = json!({"name": "Đơn vị số 4", "body": "district_council", "region_id": tree.district, "seats": 3});
    app.post(&path, &organizer, new_unit.clone())
        .await
        .problem(403, "forbidden");
    app.post(&path, &observer, new_unit.clone())
        .await
        .problem(403, "forbidden");
    let unit = app.post(&path, &app.admin, new_unit).await.id();
    let provincial = app
        .unit(election, tree.province, "province_council", "Đơn vị số 1")
        .await;
    let foreign_unit = app
        .unit(election, other_district, "district_council", "Đơn vị số 7")
        .await;
    app.get(&format!("/electoral-units/{foreign_unit}"), &organizer)
        .await
        .problem(403, "forbidden");
    app.get(&format!("/electoral-units/{provincial}"), &organizer)
        .await
        .ok(200);
    let new_candidate = json!({"full_name": "Trần Thị B", "email": "b@example.vn", "locale": "en"});
    app.post(
        &format!("/electoral-units/{unit}/candidates"),
        &organizer,
        new_candidate.clone(),
    )
    .await
    .problem(403, "forbidden");
    let candidate = app
        .post(
            &format!("/electoral-units/{unit}/candidates"),
            &app.admin,
            new_candidate,
        )
        .await;
    assert_eq!(candidate.ok(201)["locale"], "en");
    assert_eq!(candidate.body["status"], "active");
    let id = candidate.id();
    app.patch(
        &format!("/candidates/{id}"),
        &organizer,
        json!({"email": "elsewhere@example.vn"}),
    )
    .await
    .problem(403, "forbidden");
    app.get(&format!("/candidates/{id}"), &organizer)
        .await
        .ok(200);
    let above = app.candidate(provincial, "Lê Văn C", "c@example.vn").await;
    app.get(&format!("/candidates/{above}"), &organizer)
        .await
        .ok(200);
    let visible = app.get(&path, &observer).await;
    let mut seen: Vec<String> = visible.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect();
    seen.sort();
    let mut expected = vec![unit.to_string(), provincial.to_string()];
    expected.sort();
    assert_eq!(
        seen, expected,
        "its own unit and the one above, not the neighbour's"
    );
}

#[actix_web::test]
async fn candidates_are_validated_and_can_withdraw() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let election = app.election().await;
    let unit = app
        .unit(election, tree.province, "national_assembly", "Đơn vị số 1")
        .await;
    let path = format!("/electoral-units/{unit}/candidates");
    let bad = app
        .post(
            &path,
            &app.admin,
            json!({"full_name": "", "email": "no-at-sign", "locale": "fr"}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), vec!["email", "full_name", "locale"]);
    let id = app
        .candidate(unit, "Nguyễn Thị Hồng Nhung", "nhung@example.vn")
        .await;
    app.post(
        &path,
        &app.admin,
        json!({"full_name": "Nguyễn Thị Hồng Nhung", "email": "nhung@example.vn"}),
    )
    .await
    .problem(409, "already_exists");
    let withdrawn = app
        .patch(
            &format!("/candidates/{id}"),
            &app.admin,
            json!({"status": "withdrawn"}),
        )
        .await;
    assert_eq!(withdrawn.ok(200)["status"], "withdrawn");
    assert_eq!(withdrawn.body["full_name"], "Nguyễn Thị Hồng Nhung");
    app.patch(
        &format!("/candidates/{id}"),
        &app.admin,
        json!({"status": "retired"}),
    )
    .await
    .problem(422, "validation_failed");
    let read = app.get(&format!("/candidates/{id}"), &app.admin).await;
    assert_eq!(read.ok(200)["status"], "withdrawn");
    let listed = app.get(&path, &app.admin).await;
    assert_eq!(listed.ok(200)["items"][0]["id"], id.to_string());
}
