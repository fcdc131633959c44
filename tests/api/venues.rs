//! `/venues`: validation, scope, edits.
use serde_json::json;

use crate::helpers::{spawn_app, Role};

#[actix_web::test]
async fn venues_are_validated_field_by_field() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let answer = app
        .post(
            "/venues",
            &app.admin,
            json!({"name": "", "region_id": tree.commune, "address": "", "capacity": 0, "area_m2": -3.0, "setting": "garden"}),
        )
        .await;
    assert_eq!(
        answer.invalid_fields(),
        vec!["address", "area_m2", "capacity", "name", "setting"]
    );
    let nowhere = app
        .post(
            "/venues",
            &app.admin,
            json!({"name": "Hội trường", "region_id": uuid::Uuid::new_v4(), "address": "x", "capacity": 10, "setting": "indoor"}),
        )
        .await;
    assert_eq!(nowhere.invalid_fields(), vec!["region_id"]);
}

#[actix_web::test]
async fn a_venue_is_created_read_and_edited_with_an_audit_trail() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let id = app
        .venue(
            tree.commune,
            "Hội trường UBND xã Kỳ Đồng",
            200,
            Some(300.0),
            "indoor",
        )
        .await;
    let read = app.get(&format!("/venues/{id}"), &app.admin).await;
    assert_eq!(read.ok(200)["capacity"], 200);
    assert_eq!(read.body["province_id"], tree.province.to_string());
    let edited = app
        .patch(
            &format!("/venues/{id}"),
            &app.admin,
            json!({"capacity": 150, "area_m2": null}),
        )
        .await;
    assert_eq!(edited.ok(200)["capacity"], 150);
    assert!(edited.body["area_m2"].is_null());
    assert_eq!(edited.body["name"], "Hội trường UBND xã Kỳ Đồng");
    app.patch(&format!("/venues/{id}"), &app.admin, json!({"capacity": 0}))
        .await
        .problem(422, "validation_failed");
    let audit = app.get(&format!("/audit?entity_id={id}"), &app.admin).await;
    let entries = audit.ok(200)["items"].as_array().expect("items").clone();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(entries[1]["action"], "update");
    assert_eq!(entries[1]["before"]["capacity"], 200);
    assert_eq!(entries[1]["after"]["capacity"], 150);
    assert_eq!(entries[1]["actor_name"], "test admin");
}

#[actix_web::test]
async fn organizers_of_commune_a_cannot_touch_commune_b() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let commune_b = app
        .region("Xã Kỳ Trinh", "commune", Some(tree.district))
        .await;
    let venue_b = app
        .venue(commune_b, "Nhà văn hóa thôn 3", 80, None, "indoor")
        .await;
    let organizer_a = app.token(Role::Organizer, Some(tree.commune));
    app.get(&format!("/venues/{venue_b}"), &organizer_a)
        .await
        .problem(403, "forbidden");
    app.patch(
        &format!("/venues/{venue_b}"),
        &organizer_a,
        json!({"capacity": 10}),
    )
    .await
    .problem(403, "forbidden");
    app.post(
        "/venues",
        &organizer_a,
        json!({"name": "Sân", "region_id": commune_b, "address": "x", "capacity": 10, "setting": "outdoor"}),
    )
    .await
    .problem(403, "forbidden");
    let own = app
        .post(
            "/venues",
            &organizer_a,
            json!({"name": "Sân vận động xã", "region_id": tree.commune, "address": "Kỳ Đồng", "capacity": 500, "setting": "outdoor"}),
        )
        .await;
    own.ok(201);
    let listed = app.get("/venues", &organizer_a).await;
    let items = listed.ok(200)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "Sân vận động xã");
    let observer = app.token(Role::Observer, Some(tree.province));
    app.patch(
        &format!("/venues/{venue_b}"),
        &observer,
        json!({"capacity": 10}),
    )
    .await
    .problem(403, "forbidden");
    let unchanged = app.get(&format!("/venues/{venue_b}"), &app.admin).await;
    assert_eq!(unchanged.ok(200)["capacity"], 80);
}
