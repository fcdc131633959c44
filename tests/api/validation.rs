//! Issue 9.13: each inconsistent case is one clear 422 `validation_failed` naming its field,
//! with the bounds the OpenAPI document states.
use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn bad_query_values_are_a_422_naming_the_parameter_on_every_list() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let cases = [
        ("/meetings?needs_attention=maybe", "needs_attention"),
        ("/meetings?status=bogus", "status"),
        ("/meetings?format=paper", "format"),
        ("/meetings?election_id=not-a-uuid", "election_id"),
        ("/meetings?limit=ten", "limit"),
        ("/meetings?limit=0", "limit"),
        (
            "/meetings?from=2031-05-10T00:00:00Z&to=2031-05-01T00:00:00Z",
            "to",
        ),
        ("/meetings?from=yesterday", "from"),
        ("/regions?parent_id=x", "parent_id"),
        ("/venues?region_id=x", "region_id"),
        ("/health-rules?region_id=x", "region_id"),
        ("/outbox?status=lost", "status"),
        ("/outbox?candidate_id=x", "candidate_id"),
        ("/audit?entity_id=x", "entity_id"),
        ("/reports/attendance", "election_id"),
        ("/reports/overdue", "election_id"),
        ("/reports/attendance?election_id=x", "election_id"),
        ("/reports/fairness?election_id=x", "election_id"),
    ];
    let mut wrong = Vec::new();
    for (path, field) in cases {
        let a = app.get(path, &app.admin).await;
        let named = a.status == 422
            && a.body["code"] == "validation_failed"
            && a.body["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"] == field));
        if !named {
            wrong.push(format!("{path}: {} {}", a.status, a.text));
        }
    }
    let group = app
        .get(
            &format!("/reports/attendance?election_id={election}&group_by=x"),
            &app.admin,
        )
        .await;
    if group.status != 422 {
        wrong.push(format!("group_by=x: {}", group.text));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[actix_web::test]
async fn numbers_and_years_out_of_their_bounds_are_refused() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    for (i, area) in [1e308, 1e-300, 0.0, -1.0].into_iter().enumerate() {
        let a = app
            .post(
                "/venues",
                &app.admin,
                json!({"name": format!("Sân {i}"), "region_id": s.tree.commune, "address": "x",
                       "capacity": 10, "area_m2": area, "setting": "outdoor"}),
            )
            .await;
        assert_eq!(a.invalid_fields(), vec!["area_m2"], "area {area}");
    }
    for (start, poll) in [
        ("0001-04-27T00:00:00+07:00", "0001-05-23T07:00:00+07:00"),
        ("9999-04-27T00:00:00+07:00", "9999-05-23T07:00:00+07:00"),
    ] {
        let a = app
            .post(
                "/elections",
                &app.admin,
                json!({"name": "Bầu cử", "campaign_starts_at": start, "polling_starts_at": poll}),
            )
            .await;
        assert_eq!(
            a.invalid_fields(),
            vec!["campaign_starts_at", "polling_starts_at"]
        );
    }
    let ended = app
        .meeting_from_now(&s, s.hall, -24 * 60, -24 * 60 + 60, 10)
        .await;
    let site = ended["sites"][0]["id"].clone();
    let report = |extra: serde_json::Value| {
        let mut body = json!({"attendees": 5, "sites": [{"site_id": site, "attendees": 5}]});
        body.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        body
    };
    for (extra, field) in [
        (json!({"opinions": [{}]}), "opinions[0]"),
        (
            json!({"opinions": [{"topic": "", "text": " "}]}),
            "opinions[0]",
        ),
        (json!({"opinions_count": 2147483647}), "opinions_count"),
        (json!({"opinions_count": -1}), "opinions_count"),
    ] {
        let a = app.put_report(&ended, report(extra.clone())).await;
        assert_eq!(a.invalid_fields(), vec![field], "{extra}");
    }
}

#[actix_web::test]
async fn a_check_in_to_an_in_person_meeting_finds_its_single_site_by_itself() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let meeting = app.meeting_from_now(&s, s.hall, -10, 60, 50).await;
    let id = meeting["id"].as_str().expect("id");
    let counted = app
        .post(
            &format!("/meetings/{id}/checkins"),
            &app.admin,
            json!({"count": 3}),
        )
        .await;
    assert_eq!(counted.ok(200)["present"], 3, "{}", counted.text);
    assert_eq!(counted.body["site_id"], meeting["sites"][0]["id"]);
    let again = app
        .post(&format!("/meetings/{id}/checkins"), &app.admin, json!({}))
        .await;
    assert_eq!(again.ok(200)["present"], 4);
}
