//! Health checks, authentication, problem+json conventions, idempotency.
use reqwest::Method;
use serde_json::json;

use crate::helpers::database::pg_dump;
use crate::helpers::{spawn_app, Role};

#[actix_web::test]
async fn health_checks_need_no_token_and_readyz_reaches_the_database() {
    let app = spawn_app().await;
    let live = app.request(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(live.ok(200)["status"], "ok");
    let ready = app.request(Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(ready.ok(200)["database"], "ok");
}

#[actix_web::test]
async fn requests_without_a_valid_bearer_token_are_401_problems() {
    let app = spawn_app().await;
    let none = app.request(Method::GET, "/me", None, None, &[]).await;
    none.problem(401, "unauthorized");
    assert_eq!(none.headers["www-authenticate"], "Bearer");
    app.get("/me", "vm_not_a_real_token")
        .await
        .problem(401, "unauthorized");
    let basic = app
        .request(
            Method::GET,
            "/me",
            None,
            None,
            &[("authorization", "Basic YTpi")],
        )
        .await;
    basic.problem(401, "unauthorized");
}

#[actix_web::test]
async fn me_describes_the_calling_token() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let token = app.token(Role::Observer, Some(tree.district));
    let me = app.get("/me", &token).await;
    assert_eq!(me.ok(200)["role"], "observer");
    assert_eq!(me.body["region_id"], tree.district.to_string());
}

#[actix_web::test]
async fn admins_create_tokens_that_are_shown_once_and_work() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let create = |admin: String, body: serde_json::Value| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/tokens",
                Some(&admin),
                Some(body),
                &[("Idempotency-Key", "token-1")],
            )
            .await
        }
    };
    let district_office = json!({"name": "Ban Thường trực UBMTTQ huyện", "role": "organizer", "region_id": tree.district});
    let created = create(app.admin.clone(), district_office.clone()).await;
    let token = created.ok(201)["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("vm_") && token.len() > 40);
    assert_eq!(created.headers["cache-control"], "no-store");
    let me = app.get("/me", &token).await;
    assert_eq!(me.ok(200)["role"], "organizer");
    assert_eq!(me.body["id"], created.body["id"]);
    // A retry with the same key gets the same token again, and makes no second one.
    let again = create(app.admin.clone(), district_office.clone()).await;
    assert_eq!(again.ok(201)["token"], created.body["token"]);
    assert_eq!(again.body["id"], created.body["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["cache-control"], "no-store");
    create(
        app.admin.clone(),
        json!({"name": "Another", "role": "observer"}),
    )
    .await
    .problem(422, "idempotency_key_reused");
    // Another admin sending the same key makes their own token.
    let theirs = create(app.token(Role::Admin, None), district_office).await;
    assert_ne!(theirs.ok(201)["token"], created.body["token"]);
    let named: Vec<_> = app.get("/tokens?limit=500", &app.admin).await.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|t| t["name"] == "Ban Thường trực UBMTTQ huyện")
        .map(|t| t["id"].clone())
        .collect();
    assert_eq!(
        named,
        vec![created.body["id"].clone(), theirs.body["id"].clone()]
    );
    // The secret is nowhere in the database: not in the tokens, the audit log, the stored
    // replies of idempotent requests, or any other table.
    let data = pg_dump(&app.database_url, &["--data-only"]);
    assert!(data.contains(&created.body["id"].as_str().expect("id").to_owned()));
    assert!(!data.contains(&token[3..]), "the plaintext token is stored");
    let second = theirs.body["token"].as_str().expect("token");
    assert!(
        !data.contains(&second[3..]),
        "the plaintext token is stored"
    );
}

#[actix_web::test]
async fn token_creation_is_validated_and_admin_only() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let organizer = app.token(Role::Organizer, Some(tree.province));
    app.post("/tokens", &organizer, json!({"name": "x", "role": "admin"}))
        .await
        .problem(403, "forbidden");
    let bad = app
        .post("/tokens", &app.admin, json!({"name": "", "role": "wizard"}))
        .await;
    assert_eq!(bad.invalid_fields(), vec!["name", "role"]);
    let no_region = app
        .post(
            "/tokens",
            &app.admin,
            json!({"name": "x", "role": "organizer"}),
        )
        .await;
    assert_eq!(no_region.invalid_fields(), vec!["region_id"]);
}

#[actix_web::test]
async fn malformed_bodies_are_400_problems_and_change_nothing() {
    let app = spawn_app().await;
    app.post_raw(
        "/regions",
        &app.admin,
        "application/json",
        b"{not json".to_vec(),
    )
    .await
    .problem(400, "bad_request");
    app.post(
        "/regions",
        &app.admin,
        json!({"name": "A", "level": "province", "colour": "red"}),
    )
    .await
    .problem(400, "bad_request");
    app.post(
        "/regions",
        &app.admin,
        json!({"name": 7, "level": "province"}),
    )
    .await
    .problem(400, "bad_request");
    app.post_raw("/regions", &app.admin, "text/plain", b"{}".to_vec())
        .await
        .problem(415, "unsupported_media_type");
    let huge = format!(
        "{{\"name\": \"{}\", \"level\": \"province\"}}",
        "x".repeat(300_000)
    );
    app.post_raw(
        "/regions",
        &app.admin,
        "application/json",
        huge.into_bytes(),
    )
    .await
    .problem(413, "payload_too_large");
    let list = app.get("/regions", &app.admin).await;
    assert_eq!(list.ok(200)["items"].as_array().map(Vec::len), Some(0));
}

#[actix_web::test]
async fn unknown_routes_and_bad_path_ids_are_problems() {
    let app = spawn_app().await;
    app.get("/no-such-thing", &app.admin)
        .await
        .problem(404, "not_found");
    app.get("/regions/not-a-uuid", &app.admin)
        .await
        .problem(404, "not_found");
    app.get(&format!("/regions/{}", uuid::Uuid::new_v4()), &app.admin)
        .await
        .problem(404, "not_found");
    app.get("/regions?limit=0", &app.admin)
        .await
        .problem(422, "validation_failed");
    // A query value that does not parse is a 422 naming it, like limit=0 (issue 9.13).
    let abc = app.get("/regions?limit=abc", &app.admin).await;
    assert_eq!(abc.invalid_fields(), vec!["limit"]);
    app.get("/regions?colour=red", &app.admin)
        .await
        .problem(400, "bad_request");
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_response_and_refuses_another_body() {
    let app = spawn_app().await;
    let body = json!({"name": "Tỉnh Quảng Nam", "level": "province", "code": "49"});
    let key = [("Idempotency-Key", "create-quang-nam-1")];
    let first = app
        .request(
            Method::POST,
            "/regions",
            Some(&app.admin),
            Some(body.clone()),
            &key,
        )
        .await;
    first.ok(201);
    let again = app
        .request(Method::POST, "/regions", Some(&app.admin), Some(body), &key)
        .await;
    assert_eq!(again.ok(201)["id"], first.body["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["location"], first.headers["location"]);
    let other = app
        .request(
            Method::POST,
            "/regions",
            Some(&app.admin),
            Some(json!({"name": "Tỉnh Quảng Ngãi", "level": "province"})),
            &key,
        )
        .await;
    other.problem(422, "idempotency_key_reused");
    let list = app.get("/regions", &app.admin).await;
    assert_eq!(list.ok(200)["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn concurrent_requests_with_one_idempotency_key_create_one_record() {
    let app = spawn_app().await;
    let body = json!({"name": "Tỉnh Nghệ An", "level": "province"});
    let sends = (0..10).map(|_| {
        app.request(
            Method::POST,
            "/regions",
            Some(&app.admin),
            Some(body.clone()),
            &[("Idempotency-Key", "same-key")],
        )
    });
    let answers = futures::future::join_all(sends).await;
    let ids: std::collections::HashSet<_> = answers
        .iter()
        .map(|a| a.ok(201)["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
    let list = app.get("/regions", &app.admin).await;
    assert_eq!(list.ok(200)["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = spawn_app().await;
    app.request(Method::DELETE, "/regions", Some(&app.admin), None, &[])
        .await
        .problem(405, "method_not_allowed");
}

#[actix_web::test]
async fn connections_lost_to_a_database_restart_are_replaced_without_a_500() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.get("/regions", &app.admin).await.ok(200);
    }
    // What a server restart does to the pool: every connection of this database is cut.
    use diesel::prelude::*;
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        app.db_name
    ))
    .execute(&mut app.conn())
    .expect("terminate");
    // SPEC §7: a pooled connection found dead is replaced without failing the request.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(app.get("/regions", &app.admin).await.status.as_u16());
    }
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}
