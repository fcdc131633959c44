//! `/regions`: the province > district > commune tree, scope, pagination.
use serde_json::json;

use crate::helpers::{spawn_app, Role};

#[actix_web::test]
async fn a_tree_is_built_level_by_level_with_province_ids() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let commune = app
        .get(&format!("/regions/{}", tree.commune), &app.admin)
        .await;
    let commune = commune.ok(200);
    assert_eq!(commune["level"], "commune");
    assert_eq!(commune["parent_id"], tree.district.to_string());
    assert_eq!(commune["province_id"], tree.province.to_string());
    assert_eq!(commune["name"], "Xã Kỳ Đồng");
}

#[actix_web::test]
async fn parents_must_have_the_level_above() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let cases = [
        (json!({"name": "X", "level": "district"}), "parent_id"),
        (
            json!({"name": "X", "level": "district", "parent_id": tree.district}),
            "parent_id",
        ),
        (
            json!({"name": "X", "level": "commune", "parent_id": tree.province}),
            "parent_id",
        ),
        (
            json!({"name": "X", "level": "province", "parent_id": tree.province}),
            "parent_id",
        ),
        (
            json!({"name": "X", "level": "commune", "parent_id": uuid::Uuid::new_v4()}),
            "parent_id",
        ),
        (json!({"name": " ", "level": "province"}), "name"),
        (json!({"name": "X", "level": "ward"}), "level"),
        (
            json!({"name": "X", "level": "province", "contact_email": "not-an-email"}),
            "contact_email",
        ),
    ];
    for (body, field) in cases {
        let answer = app.post("/regions", &app.admin, body.clone()).await;
        assert_eq!(answer.invalid_fields(), vec![field], "for {body}");
    }
    let all = app.get("/regions?limit=500", &app.admin).await;
    assert_eq!(all.ok(200)["items"].as_array().map(Vec::len), Some(3));
}

#[actix_web::test]
async fn duplicate_province_codes_conflict() {
    let app = spawn_app().await;
    app.post(
        "/regions",
        &app.admin,
        json!({"name": "Hà Tĩnh", "level": "province", "code": "42"}),
    )
    .await
    .ok(201);
    app.post(
        "/regions",
        &app.admin,
        json!({"name": "Hà Tĩnh 2", "level": "province", "code": "42"}),
    )
    .await
    .problem(409, "already_exists");
}

#[actix_web::test]
async fn tokens_see_only_their_subtree_and_only_admins_create_regions() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let other_commune = app
        .region("Xã Kỳ Trinh", "commune", Some(tree.district))
        .await;
    let organizer = app.token(Role::Organizer, Some(tree.commune));
    let listed = app.get("/regions", &organizer).await;
    let ids: Vec<_> = listed.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids, vec![tree.commune.to_string()]);
    app.get(&format!("/regions/{other_commune}"), &organizer)
        .await
        .problem(403, "forbidden");
    app.get(&format!("/regions/{}", tree.province), &organizer)
        .await
        .problem(403, "forbidden");
    app.post(
        "/regions",
        &organizer,
        json!({"name": "X", "level": "commune", "parent_id": tree.district}),
    )
    .await
    .problem(403, "forbidden");
}

#[actix_web::test]
async fn lists_page_through_every_region_once() {
    let app = spawn_app().await;
    let province = app.region("Tỉnh Thanh Hóa", "province", None).await;
    for i in 0..7 {
        app.region(&format!("Huyện {i}"), "district", Some(province))
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/regions?level=district&limit=3&cursor={c}"),
            None => "/regions?level=district&limit=3".to_owned(),
        };
        let page = app.get(&path, &app.admin).await;
        let body = page.ok(200);
        for item in body["items"].as_array().expect("items") {
            seen.push(item["name"].as_str().expect("name").to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).map(|i| format!("Huyện {i}")).collect();
    assert_eq!(seen, expected);
    app.get("/regions?cursor=garbage", &app.admin)
        .await
        .problem(422, "validation_failed");
}
