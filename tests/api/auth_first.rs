//! SPEC §3 rule 11 and issue 9.4: authentication, then role and scope, then validation, on
//! every route — a bad token is 401 and an observer 403 whatever the body says.
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{from_now, spawn_app, Answer, Role, TestApp};

/// Every operation of the served OpenAPI document under `/api/v1`, with its path
/// parameters filled by `id`.
async fn operations(app: &TestApp, id: Uuid) -> Vec<(Method, String)> {
    let doc = app.get("/openapi.json", &app.admin).await.ok(200).clone();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(path) = path.strip_prefix("/api/v1") else {
            continue;
        };
        let path = path
            .replace("{id}", &id.to_string())
            .replace("{kind}", "venues");
        for (method, _) in item.as_object().expect("path item") {
            if let Ok(m) = method.to_uppercase().parse::<Method>() {
                ops.push((m, path.clone()));
            }
        }
    }
    assert!(
        ops.len() > 30,
        "only {} operations in the document",
        ops.len()
    );
    ops
}

/// A request with a body that fits no schema and is not even JSON.
async fn garbage(app: &TestApp, method: &Method, path: &str, token: Option<&str>) -> Answer {
    let mut rb = app
        .client
        .request(method.clone(), app.url(path))
        .header("content-type", "application/json")
        .body("{\"unknown\": ");
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let resp = rb.send().await.expect("request sent");
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = resp.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert_eq!(ct, "application/problem+json", "{method} {path}: {text}");
    Answer {
        status,
        headers: Default::default(),
        body,
        text,
    }
}

#[actix_web::test]
async fn a_bad_token_is_401_and_an_observer_403_on_every_mutation_whatever_the_body() {
    let app = spawn_app().await;
    let observer = app.token(Role::Observer, None);
    let mut wrong = Vec::new();
    for (method, path) in operations(&app, Uuid::new_v4()).await {
        for token in [None, Some("vm_not-a-real-token")] {
            let a = garbage(&app, &method, &path, token).await;
            if a.status != 401 || a.body["code"] != "unauthorized" {
                wrong.push(format!(
                    "{method} {path} token {token:?}: {} {}",
                    a.status, a.text
                ));
            }
        }
        if method != Method::GET {
            let a = garbage(&app, &method, &path, Some(&observer)).await;
            if a.status != 403 || a.body["code"] != "forbidden" {
                wrong.push(format!("{method} {path} observer: {} {}", a.status, a.text));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[actix_web::test]
async fn an_organizer_is_refused_out_of_scope_before_its_body_is_judged() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let other = app.region("Tỉnh Quảng Bình", "province", None).await;
    let outsider = app.token(Role::Organizer, Some(other));
    let insider = app.token(Role::Organizer, Some(s.tree.commune));
    let meeting = app
        .meeting_from_now(&s, s.hall, 60 * 24, 60 * 24 + 60, 10)
        .await;
    let m = meeting["id"].as_str().expect("id").to_owned();
    let rule = app
        .post(
            "/health-rules",
            &app.admin,
            json!({"region_id": s.tree.province, "effective_from": from_now(-60), "max_attendees": 900}),
        )
        .await
        .ok(201)["rule"]["id"]
        .clone();
    let rule = rule.as_str().expect("rule id").to_owned();
    let candidate = s.candidates[0];
    // Bodies that fit the schema but whose fields are invalid: only scope may answer first.
    let cases: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/venues".into(),
            json!({"name": "", "region_id": s.tree.commune, "address": "", "capacity": 0, "setting": "indoor"}),
        ),
        (
            Method::PATCH,
            format!("/venues/{}", s.hall),
            json!({"capacity": 0}),
        ),
        (
            Method::POST,
            "/health-rules".into(),
            json!({"region_id": s.tree.province, "effective_from": "nonsense", "max_attendees": -1}),
        ),
        (
            Method::PATCH,
            format!("/health-rules/{rule}"),
            json!({"max_attendees": -1}),
        ),
        (
            Method::POST,
            "/meetings".into(),
            json!({"election_id": election, "electoral_unit_ids": [s.unit], "format": "in_person",
                "starts_at": "nonsense", "ends_at": "nonsense",
                "sites": [{"venue_id": s.hall, "expected_attendees": -5}]}),
        ),
        (
            Method::PATCH,
            format!("/meetings/{m}"),
            json!({"starts_at": "nonsense"}),
        ),
        (
            Method::POST,
            format!("/meetings/{m}/cancel"),
            json!({"reason": ""}),
        ),
        (
            Method::POST,
            format!("/meetings/{m}/checkins"),
            json!({"count": 0}),
        ),
        (
            Method::PUT,
            format!("/meetings/{m}/attendance-report"),
            json!({"attendees": -1}),
        ),
        (
            Method::POST,
            format!("/candidates/{candidate}/schedule-email"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/candidates/{candidate}/calendar-link"),
            json!({}),
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body) in &cases {
        let headers = [("If-Match", "\"1\"")];
        let a = app
            .request(
                method.clone(),
                path,
                Some(&outsider),
                Some(body.clone()),
                &headers,
            )
            .await;
        if a.status != 403 || a.body["code"] != "forbidden" {
            wrong.push(format!("{method} {path} outsider: {} {}", a.status, a.text));
        }
    }
    // Admin-only routes refuse an organizer of the right region just the same.
    let admin_only: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/regions".into(),
            json!({"name": "", "level": "x"}),
        ),
        (
            Method::PATCH,
            format!("/regions/{}", s.tree.commune),
            json!({"name": ""}),
        ),
        (
            Method::POST,
            "/elections".into(),
            json!({"name": "", "polling_starts_at": "x", "campaign_starts_at": "y"}),
        ),
        (
            Method::PATCH,
            format!("/elections/{election}"),
            json!({"name": ""}),
        ),
        (
            Method::POST,
            format!("/elections/{election}/electoral-units"),
            json!({"name": "", "body": "x", "region_id": s.tree.commune, "seats": 0}),
        ),
        (
            Method::PATCH,
            format!("/electoral-units/{}", s.unit),
            json!({"seats": 0}),
        ),
        (
            Method::POST,
            format!("/electoral-units/{}/candidates", s.unit),
            json!({"full_name": "", "email": "x"}),
        ),
        (
            Method::PATCH,
            format!("/candidates/{candidate}"),
            json!({"email": "x"}),
        ),
        (
            Method::POST,
            "/tokens".into(),
            json!({"name": "", "role": "x"}),
        ),
    ];
    for (method, path, body) in &admin_only {
        let a = app
            .request(
                method.clone(),
                path,
                Some(&insider),
                Some(body.clone()),
                &[],
            )
            .await;
        if a.status != 403 || a.body["code"] != "forbidden" {
            wrong.push(format!(
                "{method} {path} organizer: {} {}",
                a.status, a.text
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
