//! `/health-rules`: validation, and re-evaluation of planned meetings (SPEC §3 rule 8).
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Role};

#[actix_web::test]
async fn rules_are_validated() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let nothing = app
        .post(
            "/health-rules",
            &app.admin,
            json!({"region_id": tree.province, "effective_from": "2021-05-01T00:00:00+07:00"}),
        )
        .await;
    assert_eq!(nothing.invalid_fields(), vec!["max_attendees"]);
    let bad = app
        .post(
            "/health-rules",
            &app.admin,
            json!({"region_id": tree.province, "effective_from": "2021-05-10T00:00:00+07:00",
                   "effective_until": "2021-05-01T00:00:00+07:00", "max_occupancy_percent": 120,
                   "min_area_per_person_m2": 0, "applies_to": "indoors", "combine": "avg"}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        vec![
            "applies_to",
            "combine",
            "effective_until",
            "max_occupancy_percent",
            "min_area_per_person_m2"
        ]
    );
    // With a meeting to come in the province, that neither rule reaches.
    let election = app.future_election().await;
    let unit = app
        .unit(election, tree.province, "national_assembly", "Đơn vị số 1")
        .await;
    app.candidate(unit, "Nguyễn Văn An", "an@example.vn").await;
    let hall = app
        .venue(tree.commune, "Hội trường xã", 100, None, "indoor")
        .await;
    let meeting = app
        .post(
            "/meetings",
            &app.admin,
            json!({"election_id": election, "electoral_unit_ids": [unit], "format": "in_person",
                   "starts_at": "2031-05-10T08:00:00+07:00", "ends_at": "2031-05-10T10:00:00+07:00",
                   "sites": [{"venue_id": hall, "expected_attendees": 80}]}),
        )
        .await
        .id();
    let outdoor_ban = app
        .post("/health-rules", &app.admin, json!({"region_id": tree.province, "effective_from": "2031-05-01T00:00:00+07:00",
                                                  "in_person_allowed": false, "applies_to": "outdoor"}))
        .await;
    assert_eq!(outdoor_ban.ok(201)["affected_meetings"], json!([]));
    let defaults = app
        .post("/health-rules", &app.admin, json!({"region_id": tree.province, "effective_from": "2031-05-01T00:00:00+07:00", "max_attendees": 90}))
        .await;
    assert_eq!(defaults.ok(201)["rule"]["applies_to"], "any");
    assert_eq!(defaults.body["rule"]["combine"], "min");
    assert_eq!(defaults.body["affected_meetings"], json!([]));
    let m = app.get(&format!("/meetings/{meeting}"), &app.admin).await;
    assert_eq!(m.ok(200)["needs_attention"], false);
    assert_eq!(m.body["sites"][0]["effective_capacity"], 90);
    let observer = app.token(Role::Observer, None);
    app.post("/health-rules", &observer, json!({"region_id": tree.province, "effective_from": "2021-05-01T00:00:00+07:00", "max_attendees": 1}))
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn a_tightened_rule_flags_future_meetings_and_fixing_them_clears_the_flag() {
    let app = spawn_app().await;
    let election = app.future_election().await;
    let s = app.setup(election).await;
    let created = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2031-05-10T08:00:00+07:00",
                "2031-05-10T10:00:00+07:00",
                80,
            ),
        )
        .await;
    let id = created.id();
    let rule = app
        .post(
            "/health-rules",
            &app.admin,
            json!({"region_id": s.tree.district, "effective_from": "2031-05-01T00:00:00+07:00",
                   "max_attendees": 30, "reference": "Chỉ thị 15/CT-TTg"}),
        )
        .await;
    let body = rule.ok(201);
    let rule_id = body["rule"]["id"].as_str().expect("id").to_owned();
    let affected = body["affected_meetings"]
        .as_array()
        .expect("affected")
        .clone();
    assert_eq!(affected.len(), 1);
    assert_eq!(affected[0]["id"], id.to_string());
    assert_eq!(affected[0]["problems"][0]["code"], "capacity_exceeded");
    let flagged = app.get(&format!("/meetings/{id}"), &app.admin).await;
    assert_eq!(flagged.ok(200)["needs_attention"], true);
    assert_eq!(flagged.body["status"], "planned");
    assert_eq!(flagged.body["sites"][0]["effective_capacity"], 30);
    assert_eq!(flagged.body["sites"][0]["binding_rule_id"], rule_id);
    let listed = app.get("/meetings?needs_attention=true", &app.admin).await;
    assert_eq!(listed.ok(200)["items"].as_array().map(Vec::len), Some(1));
    let fixed = app
        .request(
            Method::PATCH,
            &format!("/meetings/{id}"),
            Some(&app.admin),
            Some(json!({"sites": [{"venue_id": s.hall, "expected_attendees": 30}]})),
            &[("If-Match", flagged.headers["etag"].to_str().expect("etag"))],
        )
        .await;
    assert_eq!(fixed.ok(200)["needs_attention"], false);
    assert_eq!(fixed.body["attention"], json!([]));
}

#[actix_web::test]
async fn relaxing_a_rule_clears_the_flag_and_a_ban_flags_in_person_meetings() {
    let app = spawn_app().await;
    let election = app.future_election().await;
    let s = app.setup(election).await;
    let id = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2031-05-10T08:00:00+07:00",
                "2031-05-10T10:00:00+07:00",
                80,
            ),
        )
        .await
        .id();
    let rule = app
        .post("/health-rules", &app.admin, json!({"region_id": s.tree.province, "effective_from": "2031-05-01T00:00:00+07:00", "in_person_allowed": false}))
        .await;
    let rule_id = rule.ok(201)["rule"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        rule.body["affected_meetings"][0]["problems"][0]["code"],
        "in_person_not_allowed"
    );
    assert_eq!(
        app.get(&format!("/meetings/{id}"), &app.admin)
            .await
            .ok(200)["needs_attention"],
        true
    );
    let relaxed = app
        .patch(
            &format!("/health-rules/{rule_id}"),
            &app.admin,
            json!({"in_person_allowed": true, "max_occupancy_percent": 90}),
        )
        .await;
    assert_eq!(relaxed.ok(200)["affected_meetings"], json!([]));
    assert_eq!(relaxed.body["rule"]["version"], 2);
    let m = app.get(&format!("/meetings/{id}"), &app.admin).await;
    assert_eq!(m.ok(200)["needs_attention"], false);
    assert_eq!(m.body["sites"][0]["effective_capacity"], 90);
    let audit = app
        .get(&format!("/audit?entity_id={rule_id}"), &app.admin)
        .await;
    assert_eq!(
        audit.ok(200)["items"][1]["before"]["in_person_allowed"],
        false
    );
    // Rule 10: each re-evaluation that changed the meeting is audited under the meeting,
    // by whoever changed the rule, with both sides: flagged by the ban, cleared by the relief.
    let audit = app.get(&format!("/audit?entity_id={id}"), &app.admin).await;
    let reevaluations: Vec<&Value> = audit.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "reevaluate")
        .collect();
    assert_eq!(reevaluations.len(), 2, "{:?}", audit.body);
    let flag = |e: &Value| {
        (
            e["before"]["needs_attention"].clone(),
            e["after"]["needs_attention"].clone(),
        )
    };
    let mut flags: Vec<_> = reevaluations.iter().map(|e| flag(e)).collect();
    flags.sort_by_key(|f| f.0.as_bool());
    assert_eq!(
        flags,
        [(json!(false), json!(true)), (json!(true), json!(false))]
    );
    assert!(reevaluations.iter().all(|e| e["actor_name"].is_string()));
    let cleared = reevaluations
        .iter()
        .find(|e| e["after"]["needs_attention"] == false)
        .expect("cleared");
    assert_eq!(cleared["before"]["sites"][0]["effective_capacity"], 100);
    assert_eq!(cleared["after"], m.body);
}

#[actix_web::test]
async fn moving_a_flagged_meeting_online_clears_the_flag() {
    let app = spawn_app().await;
    let election = app.future_election().await;
    let s = app.setup(election).await;
    let created = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2031-05-10T08:00:00+07:00",
                "2031-05-10T10:00:00+07:00",
                80,
            ),
        )
        .await;
    let id = created.id();
    app.post("/health-rules", &app.admin, json!({"region_id": s.tree.commune, "effective_from": "2031-05-05T00:00:00+07:00", "in_person_allowed": false}))
        .await
        .ok(201);
    let online = app
        .request(
            Method::PATCH,
            &format!("/meetings/{id}"),
            Some(&app.admin),
            Some(json!({"format": "online", "sites": [],
                        "online": {"platform": "Zoom", "join_url": "https://zoom.us/j/1", "max_participants": 200, "expected_attendees": 80}})),
            &[("If-Match", "*")],
        )
        .await;
    assert_eq!(online.ok(200)["format"], "online");
    assert_eq!(online.body["needs_attention"], false);
    assert_eq!(online.body["sites"], json!([]));
    let listed = app
        .get("/meetings?format=online&needs_attention=false", &app.admin)
        .await;
    assert_eq!(listed.ok(200)["items"][0]["id"], id.to_string());
}

#[actix_web::test]
async fn a_venue_losing_seats_flags_its_meetings() {
    let app = spawn_app().await;
    let election = app.future_election().await;
    let s = app.setup(election).await;
    let id = app
        .post(
            "/meetings",
            &app.admin,
            s.in_person(
                s.hall,
                "2031-05-10T08:00:00+07:00",
                "2031-05-10T10:00:00+07:00",
                80,
            ),
        )
        .await
        .id();
    app.patch(
        &format!("/venues/{}", s.hall),
        &app.admin,
        json!({"capacity": 60}),
    )
    .await
    .ok(200);
    let m = app.get(&format!("/meetings/{id}"), &app.admin).await;
    assert_eq!(m.ok(200)["needs_attention"], true);
    assert_eq!(m.body["sites"][0]["effective_capacity"], 60);
}

#[actix_web::test]
async fn past_meetings_are_not_re_evaluated() {
    let app = spawn_app().await;
    let election = app.election().await;
    let s = app.setup(election).await;
    let id = app
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
        .await
        .id();
    let rule = app
        .post("/health-rules", &app.admin, json!({"region_id": s.tree.province, "effective_from": "2021-05-01T00:00:00+07:00", "max_attendees": 10}))
        .await;
    assert_eq!(rule.ok(201)["affected_meetings"], json!([]));
    let m = app.get(&format!("/meetings/{id}"), &app.admin).await;
    assert_eq!(m.ok(200)["needs_attention"], false);
    assert_eq!(m.body["sites"][0]["effective_capacity"], 100);
}
