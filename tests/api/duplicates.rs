//! SPEC §2 Text and issue 9.11: names that must be unique are unique case-insensitively
//! after NFC, in the database — 409 `already_exists`.
use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn names_and_emails_that_differ_only_in_case_or_composition_are_already_taken() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;

    let province = app
        .post(
            "/regions",
            &app.admin,
            json!({"name": "TỈNH HÀ TĨNH", "level": "province"}),
        )
        .await;
    province.problem(409, "already_exists");
    let decomposed = app
        .post(
            "/regions",
            &app.admin,
            json!({"name": "Xa\u{303} Ky\u{300} \u{110}o\u{302}\u{300}ng", "level": "commune", "parent_id": s.tree.district}),
        )
        .await;
    decomposed.problem(409, "already_exists");
    // The same name under another parent is another commune.
    let district = app
        .region("Huyện Cẩm Xuyên", "district", Some(s.tree.province))
        .await;
    app.region("Xã Kỳ Đồng", "commune", Some(district)).await;

    let shouting = app
        .post(
            &format!("/electoral-units/{}/candidates", s.unit),
            &app.admin,
            json!({"full_name": "Nguyễn Văn An 2", "email": "UNG-VIEN-0@Example.VN"}),
        )
        .await;
    shouting.problem(409, "already_exists");
    let other = app
        .post(
            &format!("/electoral-units/{}/candidates", s.unit),
            &app.admin,
            json!({"full_name": "Đỗ Thị Mai", "email": "mai@example.vn"}),
        )
        .await
        .id();
    let patched = app
        .patch(
            &format!("/candidates/{other}"),
            &app.admin,
            json!({"email": "Ung-Vien-1@example.vn"}),
        )
        .await;
    patched.problem(409, "already_exists");

    let unit = app
        .post(
            &format!("/elections/{election}/electoral-units"),
            &app.admin,
            json!({"name": "ĐƠN VỊ BẦU CỬ SỐ 1", "body": "national_assembly", "region_id": s.tree.province, "seats": 3}),
        )
        .await;
    unit.problem(409, "already_exists");

    let venue = |name: &str| {
        json!({"name": name, "region_id": s.tree.commune, "address": "Thôn 1",
               "capacity": 50, "setting": "indoor"})
    };
    app.post("/venues", &app.admin, venue("Nhà văn hóa xã Kỳ Đồng"))
        .await
        .ok(201);
    for twin in [
        "Nha\u{300} va\u{306}n ho\u{301}a xa\u{303} Ky\u{300} \u{110}o\u{302}\u{300}ng",
        "NHÀ VĂN HÓA XÃ KỲ ĐỒNG",
        "nhà văn hóa xã kỳ đồng",
    ] {
        let refused = app.post("/venues", &app.admin, venue(twin)).await;
        let body = refused.problem(409, "already_exists");
        assert!(
            body["detail"].as_str().is_some_and(|d| d.contains("venue")),
            "{body}"
        );
    }
    let renamed = app
        .patch(
            &format!("/venues/{}", s.hall),
            &app.admin,
            json!({"name": "NHÀ VĂN HÓA XÃ KỲ ĐỒNG"}),
        )
        .await;
    renamed.problem(409, "already_exists");
    let venues = app
        .get(
            &format!("/venues?region_id={}&limit=500", s.tree.commune),
            &app.admin,
        )
        .await;
    assert_eq!(venues.ok(200)["items"].as_array().map(Vec::len), Some(2));
}
