//! Calendar subscriptions: `POST /candidates/{id}/calendar-link` and the feed at
//! `GET /calendars/{secret}.ics`, fetched without a token, rotated, answered 304 while
//! unchanged; and `GET /candidates/{id}/schedule.ics`, which keeps meetings already held.
use std::collections::HashMap;

use icalendar::{Component, Event, EventLike, EventStatus};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{
    calendar_property, cancel_in_db, events, insert_meeting, morning, parse_mail, queue_schedule,
    scene, sent, sql, utc, MeetingRow,
};
use crate::helpers::{Role, TestApp};

/// What a calendar app gets from a subscription URL: no token, maybe an `If-None-Match`.
async fn fetch(app: &TestApp, url: &str, etag: Option<&str>) -> reqwest::Response {
    let path = url
        .find("/calendars/")
        .map(|i| &url[i..])
        .unwrap_or_else(|| panic!("{url} is no calendar link"));
    let mut request = app.client.get(format!("{}{path}", app.address));
    if let Some(tag) = etag {
        request = request.header("If-None-Match", tag);
    }
    request.send().await.expect("request sent")
}

/// The secret of a subscription URL: `…/calendars/{secret}.ics`.
fn secret_of(url: &str) -> String {
    url.rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".ics"))
        .unwrap_or_else(|| panic!("{url} holds no secret"))
        .to_owned()
}

async fn link(app: &TestApp, candidate: Uuid, token: &str) -> String {
    app.post(
        &format!("/candidates/{candidate}/calendar-link"),
        token,
        json!(null),
    )
    .await
    .ok(201)["url"]
        .as_str()
        .expect("url")
        .to_owned()
}

#[actix_web::test]
async fn a_candidate_subscribes_without_a_token_and_a_new_link_ends_the_old_one() {
    let s = scene(|settings| settings.outbox.enabled = false).await;
    let tam = s.candidate("Lý Thị Tâm", "tam@example.vn", "vi").await;
    let soon = s.meeting("Tiếp xúc cử tri thôn 1", morning(4), &[tam]);
    let called_off = s.meeting("Tiếp xúc cử tri thôn 2", morning(6), &[tam]);
    cancel_in_db(&s.app, called_off);
    let held = s.meeting("Tiếp xúc cử tri đã qua", morning(-2), &[tam]);
    sql(
        &s.app,
        &format!("UPDATE meetings SET status = 'held' WHERE id = '{held}'"),
    );

    let url = link(&s.app, tam, &s.app.admin).await;
    let secret = secret_of(&url);
    assert_eq!(secret.len(), 64);
    assert!(
        url.starts_with(&format!("{}/calendars/", s.app.address)),
        "{url}"
    );

    let first = fetch(&s.app, &url, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        first.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    let ics = first.text().await.expect("body");
    let calendar: icalendar::Calendar = ics.parse().expect("the feed parses");
    assert_eq!(
        calendar_property(&calendar, "METHOD").as_deref(),
        Some("PUBLISH")
    );
    assert_eq!(
        calendar_property(&calendar, "REFRESH-INTERVAL").as_deref(),
        Some("PT1H")
    );
    assert_eq!(
        calendar_property(&calendar, "X-PUBLISHED-TTL").as_deref(),
        Some("PT1H")
    );
    let by_uid: HashMap<String, &Event> = calendar
        .events()
        .map(|e| (e.get_uid().expect("uid").to_owned(), e))
        .collect();
    let uid = |id: Uuid| format!("{id}@voter-meetings");
    assert_eq!(by_uid.len(), 3, "past, upcoming and cancelled meetings");
    assert_eq!(
        by_uid[&uid(soon)].get_status(),
        Some(EventStatus::Confirmed)
    );
    assert_eq!(
        by_uid[&uid(held)].get_status(),
        Some(EventStatus::Confirmed)
    );
    assert_eq!(by_uid[&uid(held)].get_start(), utc(morning(-2)));
    assert_eq!(
        by_uid[&uid(called_off)].get_status(),
        Some(EventStatus::Cancelled)
    );

    // Unchanged: 304, cheaply. Changed: the new calendar and another tag.
    let unchanged = fetch(&s.app, &url, Some(&etag)).await;
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.headers()["etag"].to_str().expect("etag"), etag);
    cancel_in_db(&s.app, soon);
    let changed = fetch(&s.app, &url, Some(&etag)).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()["etag"].to_str().expect("etag"), etag);
    let after = events(&changed.text().await.expect("body"));
    assert!(after.iter().any(|e| e.get_uid() == Some(uid(soon).as_str())
        && e.get_status() == Some(EventStatus::Cancelled)));

    // The secret is stored hashed only.
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        secret_hash: String,
    }
    use diesel::RunQueryDsl;
    let stored: Vec<Stored> = diesel::sql_query("SELECT secret_hash FROM calendar_links")
        .load(&mut s.app.conn())
        .expect("links");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].secret_hash, secret);

    // Calling again rotates: the old URL is 404, the new one works.
    let rotated = link(&s.app, tam, &s.app.admin).await;
    assert_ne!(rotated, url);
    let old = fetch(&s.app, &url, None).await;
    assert_eq!(old.status(), StatusCode::NOT_FOUND);
    assert_eq!(old.headers()["content-type"], "application/problem+json");
    assert_eq!(fetch(&s.app, &rotated, None).await.status(), StatusCode::OK);
    let forged = url.replace(&secret, &"0".repeat(64));
    assert_eq!(
        fetch(&s.app, &forged, None).await.status(),
        StatusCode::NOT_FOUND
    );

    let audit = s
        .app
        .get(&format!("/audit?entity_id={tam}"), &s.app.admin)
        .await;
    let entries = audit.ok(200)["items"].as_array().expect("items").clone();
    let rotations = entries
        .iter()
        .filter(|e| e["action"] == "rotate_calendar_link")
        .count();
    assert_eq!(rotations, 2);
    assert!(
        !audit.text.contains(&secret),
        "the audit never holds the secret"
    );
}

#[actix_web::test]
async fn a_link_retried_with_its_idempotency_key_is_the_same_link_and_rotates_nothing() {
    let s = scene(|settings| settings.outbox.enabled = false).await;
    let tam = s.candidate("Lý Thị Tâm", "tam@example.vn", "vi").await;
    s.meeting("Tiếp xúc cử tri thôn 1", morning(4), &[tam]);
    let path = format!("/candidates/{tam}/calendar-link");
    let send = |token: String, key: &'static str| {
        let app = &s.app;
        let path = path.clone();
        async move {
            app.request(
                reqwest::Method::POST,
                &path,
                Some(&token),
                Some(json!(null)),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let first = send(s.app.admin.clone(), "link-1").await;
    let url = first.ok(201)["url"].as_str().expect("url").to_owned();
    assert_eq!(first.headers["cache-control"], "no-store");
    let again = send(s.app.admin.clone(), "link-1").await;
    assert_eq!(again.ok(201)["url"], url.as_str());
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(fetch(&s.app, &url, None).await.status(), StatusCode::OK);

    // The replay is kept sealed: a copy of the database holds no secret.
    let secret = secret_of(&url);
    let data = crate::helpers::database::pg_dump(&s.app.database_url, &["--data-only"]);
    assert!(!data.contains(&secret), "a calendar secret is stored");

    // Another key is another request: a new link, and the first one ends.
    let next = send(s.app.admin.clone(), "link-2").await;
    let rotated = next.ok(201)["url"].as_str().expect("url").to_owned();
    assert_ne!(rotated, url);
    assert_eq!(
        fetch(&s.app, &url, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(fetch(&s.app, &rotated, None).await.status(), StatusCode::OK);
    let audit = s
        .app
        .get(&format!("/audit?entity_id={tam}"), &s.app.admin)
        .await;
    let rotations = audit.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "rotate_calendar_link")
        .count();
    assert_eq!(rotations, 2, "the replay rotated nothing");
}

#[actix_web::test]
async fn who_may_make_a_calendar_link() {
    let s = scene(|settings| settings.outbox.enabled = false).await;
    let tam = s.candidate("Lý Thị Tâm", "tam@example.vn", "vi").await;
    let organizer = s.app.token(Role::Organizer, Some(s.tree.commune));
    link(&s.app, tam, &organizer).await;
    let elsewhere = s
        .app
        .region("Xã Kỳ Trinh", "commune", Some(s.tree.district))
        .await;
    let path = format!("/candidates/{tam}/calendar-link");
    let stranger = s.app.token(Role::Organizer, Some(elsewhere));
    s.app
        .post(&path, &stranger, json!(null))
        .await
        .problem(403, "forbidden");
    let observer = s.app.token(Role::Observer, Some(s.tree.commune));
    s.app
        .post(&path, &observer, json!(null))
        .await
        .problem(403, "forbidden");
    s.app
        .request(reqwest::Method::POST, &path, None, None, &[])
        .await
        .problem(401, "unauthorized");
    s.app
        .post(
            &format!("/candidates/{}/calendar-link", Uuid::now_v7()),
            &s.app.admin,
            json!(null),
        )
        .await
        .problem(404, "not_found");
    s.app
        .patch(
            &format!("/candidates/{tam}"),
            &s.app.admin,
            json!({"status": "withdrawn"}),
        )
        .await
        .ok(200);
    s.app
        .post(&path, &s.app.admin, json!(null))
        .await
        .problem(422, "candidate_withdrawn");
}

#[actix_web::test]
async fn the_schedule_email_carries_the_link_the_candidate_already_has() {
    let s = scene(|settings| {
        settings.smtp_url = None;
        settings.public_url = Some("https://vm.example.vn/".to_owned());
    })
    .await;
    let tam = s.candidate("Lý Thị Tâm", "tam@example.vn", "vi").await;
    s.meeting("Tiếp xúc cử tri thôn 1", morning(4), &[tam]);
    let url = link(&s.app, tam, &s.app.admin).await;
    assert!(url.starts_with("https://vm.example.vn/calendars/"), "{url}");

    let outbox_id = queue_schedule(&s.app, tam).await;
    sent(&s.app, outbox_id).await;
    let raw = std::fs::read(s.app.settings.mail_dir.join(format!("{outbox_id}.eml")))
        .expect("the .eml file");
    let mail = parse_mail(&raw);
    assert!(mail.text.contains(&url), "{}", mail.text);
    assert!(mail.html.contains(&format!("<a href=\"{url}\">")));
    assert_eq!(fetch(&s.app, &url, None).await.status(), StatusCode::OK);

    // A candidate without a link gets one with the schedule.
    let lan = s.candidate("Trần Thị Lan", "lan@example.vn", "en").await;
    let outbox_id = queue_schedule(&s.app, lan).await;
    sent(&s.app, outbox_id).await;
    let raw = std::fs::read(s.app.settings.mail_dir.join(format!("{outbox_id}.eml")))
        .expect("the .eml file");
    let text = parse_mail(&raw).text;
    let given = text
        .lines()
        .find(|l| l.starts_with("https://vm.example.vn/calendars/"))
        .expect("a link")
        .to_owned();
    assert_eq!(fetch(&s.app, &given, None).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn the_schedule_ics_keeps_held_and_cancelled_meetings_for_readers_of_the_candidate() {
    let s = scene(|settings| settings.outbox.enabled = false).await;
    let tam = s.candidate("Lý Thị Tâm", "tam@example.vn", "vi").await;
    let soon = s.meeting("Tiếp xúc cử tri thôn 1", morning(4), &[tam]);
    let called_off = s.meeting("Tiếp xúc cử tri thôn 2", morning(6), &[tam]);
    cancel_in_db(&s.app, called_off);
    let past = s.meeting("Tiếp xúc cử tri đã qua", morning(-2), &[tam]);
    let online = insert_meeting(
        &s.app,
        &MeetingRow {
            election: s.election,
            unit: s.unit,
            venue: None,
            title: "Tiếp xúc cử tri trực tuyến",
            starts_at: morning(8),
            ends_at: morning(8) + chrono::Duration::hours(2),
            candidates: &[tam],
        },
    );

    let feed = s
        .app
        .get(&format!("/candidates/{tam}/schedule.ics"), &s.app.admin)
        .await;
    feed.ok(200);
    assert_eq!(feed.content_type(), "text/calendar; charset=utf-8");
    let events = events(&feed.text);
    let by_uid: HashMap<String, &Event> = events
        .iter()
        .map(|e| (e.get_uid().expect("uid").to_owned(), e))
        .collect();
    assert_eq!(by_uid.len(), 4, "the past meeting stays on the calendar");
    let uid = |id: Uuid| format!("{id}@voter-meetings");
    assert_eq!(
        by_uid[&uid(soon)].get_status(),
        Some(EventStatus::Confirmed)
    );
    assert_eq!(by_uid[&uid(past)].get_start(), utc(morning(-2)));
    assert_eq!(
        by_uid[&uid(called_off)].get_status(),
        Some(EventStatus::Cancelled)
    );
    assert_eq!(by_uid[&uid(called_off)].get_sequence(), Some(2));
    assert_eq!(
        by_uid[&uid(online)].get_location(),
        Some("https://meet.example.vn/txct-1?pwd=x")
    );

    let elsewhere = s
        .app
        .region("Xã Kỳ Trinh", "commune", Some(s.tree.district))
        .await;
    let stranger = s.app.token(Role::Organizer, Some(elsewhere));
    s.app
        .get(&format!("/candidates/{tam}/schedule.ics"), &stranger)
        .await
        .problem(403, "forbidden");
    let observer = s.app.token(Role::Observer, Some(s.tree.commune));
    s.app
        .get(&format!("/candidates/{tam}/schedule.ics"), &observer)
        .await
        .ok(200);
}

#[actix_web::test]
async fn forwarded_headers_from_an_untrusted_client_do_not_pick_the_links_host() {
    let s = scene(|settings| settings.outbox.enabled = false).await;
    let tam = s.candidate("Lý Thị Tâm", "tam@example.vn", "vi").await;
    let answer = s
        .app
        .request(
            reqwest::Method::POST,
            &format!("/candidates/{tam}/calendar-link"),
            Some(&s.app.admin),
            None,
            &[
                ("X-Forwarded-Host", "evil.example"),
                ("X-Forwarded-Proto", "https"),
                ("Forwarded", "host=evil.example;proto=https"),
            ],
        )
        .await;
    let url = answer.ok(201)["url"].as_str().expect("url").to_owned();
    assert!(
        url.starts_with(&format!("{}/calendars/", s.app.address)),
        "{url}"
    );
    assert_eq!(fetch(&s.app, &url, None).await.status(), StatusCode::OK);
}
