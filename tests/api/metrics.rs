//! `GET /metrics`: Prometheus text for admin and observer tokens. Several test applications
//! share the process's one recorder, so figures are checked as lower bounds.
use reqwest::Method;

use crate::helpers::{spawn_app, Answer, Role, TestApp};

async fn scrape(app: &TestApp, token: Option<&str>) -> Answer {
    app.request(Method::GET, "/metrics", token, None, &[]).await
}

/// The value of the first sample of `name` whose labels include every `key="value"` given.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(series, _)| {
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|(_, value)| value.parse().ok())
}

#[actix_web::test]
async fn metrics_need_an_admin_or_observer_token() {
    let app = spawn_app().await;
    let province = app.region("Tỉnh Hà Tĩnh", "province", None).await;
    scrape(&app, None).await.problem(401, "unauthorized");
    let organizer = app.token(Role::Organizer, Some(province));
    scrape(&app, Some(&organizer))
        .await
        .problem(403, "forbidden");
    let observer = app.token(Role::Observer, None);
    for token in [&observer, &app.admin] {
        let answer = scrape(&app, Some(token)).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(
            answer
                .content_type()
                .starts_with("text/plain; version=0.0.4"),
            "{}",
            answer.content_type()
        );
        assert!(answer.text.contains("# TYPE http_requests_total counter"));
    }
}

#[actix_web::test]
async fn requests_are_counted_by_route_pattern_with_pool_and_outbox_gauges() {
    let app = spawn_app().await;
    let province = app.region("Tỉnh Quảng Trị", "province", None).await;
    for _ in 0..2 {
        app.get("/regions", &app.admin).await.ok(200);
    }
    app.get(&format!("/regions/{province}"), &app.admin)
        .await
        .ok(200);
    let answer = scrape(&app, Some(&app.admin)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let text = &answer.text;

    let listed = [
        ("method", "GET"),
        ("route", "/api/v1/regions"),
        ("status", "200"),
    ];
    let count = sample(text, "http_requests_total", &listed).expect("GET /regions counted");
    assert!(count >= 2.0, "{count}");
    let created = [
        ("method", "POST"),
        ("route", "/api/v1/regions"),
        ("status", "201"),
    ];
    assert!(sample(text, "http_requests_total", &created).is_some_and(|n| n >= 1.0));
    // The pattern, never the raw path: one series per route, whatever the ids.
    let read = [("route", "/api/v1/regions/{id}"), ("status", "200")];
    assert!(sample(text, "http_requests_total", &read).is_some_and(|n| n >= 1.0));
    assert!(!text.contains(&province.to_string()), "a raw id leaked");

    let timed = [
        ("method", "GET"),
        ("route", "/api/v1/regions"),
        ("le", "+Inf"),
    ];
    let observed =
        sample(text, "http_request_duration_seconds_bucket", &timed).expect("latency histogram");
    assert!(observed >= 2.0, "{observed}");
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"));

    let open = sample(text, "db_pool_connections", &[]).expect("pool gauge");
    assert!(open >= 1.0, "{open}");
    let idle = sample(text, "db_pool_idle_connections", &[]).expect("idle gauge");
    assert!(idle >= 0.0 && idle <= open, "{idle} of {open}");
    assert!(sample(text, "db_pool_max_connections", &[]).is_some_and(|n| n >= open));
    for status in ["pending", "sent", "failed"] {
        assert!(
            sample(text, "outbox_emails", &[("status", status)]).is_some_and(|n| n >= 0.0),
            "outbox_emails{{status={status:?}}}"
        );
    }
}

#[actix_web::test]
async fn check_ins_are_counted_as_accepted_or_by_the_code_that_refused_them() {
    let app = spawn_app().await;
    let election = app.current_election().await;
    let s = app.setup(election).await;
    let room = app
        .venue(s.tree.commune, "Phòng một chỗ", 1, None, "indoor")
        .await;
    let m = app.meeting_from_now(&s, room, -10, 120, 1).await;
    let path = format!("/meetings/{}/checkins", m["id"].as_str().expect("id"));
    let one = serde_json::json!({"site_id": m["sites"][0]["id"], "count": 1});
    app.post(&path, &app.admin, one.clone()).await.ok(200);
    app.post(&path, &app.admin, one)
        .await
        .problem(409, "capacity_reached");
    let text = scrape(&app, Some(&app.admin)).await.text;
    for outcome in ["accepted", "capacity_reached"] {
        assert!(
            sample(&text, "checkins_total", &[("outcome", outcome)]).is_some_and(|n| n >= 1.0),
            "checkins_total{{outcome={outcome:?}}} in {text}"
        );
    }
}
