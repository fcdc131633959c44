//! Schedule emails: text, HTML and a published calendar with the subscription link, over SMTP,
//! as `.eml` files or into memory; fan-outs that run once at a time; at most one an hour per
//! candidate unless an admin asks; `/outbox` for admins.
use std::path::Path;

use chrono::Duration as Span;
use icalendar::{Component, EventStatus};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    calendar_property, cancel_in_db, event_property, morning, outbox, parse_mail, queue_schedule,
    scene, scene_mailing, sent, sql, utc, uuid_of, with_sink,
};
use crate::helpers::app::{hand_over_one_due_twice, Inbox};
use crate::helpers::mail::{Mail, SmtpSink};
use crate::helpers::{MemoryMail, Role};

#[actix_web::test]
async fn a_schedule_arrives_as_text_html_and_a_calendar_with_vietnamese_intact() {
    let sink = SmtpSink::start();
    let s = scene(with_sink(&sink)).await;
    let nhung = s
        .candidate("Nguyễn Thị Hồng Nhung", "nhung@example.vn", "vi")
        .await;
    let starts_at = morning(10);
    let meeting = s.meeting("Tiếp xúc cử tri xã Kỳ Đồng", starts_at, &[nhung]);
    // Past and cancelled meetings are not part of a schedule.
    s.meeting("Hội nghị đã qua", morning(-3), &[nhung]);
    let cancelled = s.meeting("Hội nghị bị hủy", morning(12), &[nhung]);
    cancel_in_db(&s.app, cancelled);

    let outbox_id = queue_schedule(&s.app, nhung).await;
    let mail = parse_mail(&sink.wait_for(1).await[0]);

    assert_eq!(mail.message_id, format!("{outbox_id}@voter-meetings"));
    assert_eq!(
        mail.subject,
        "Lịch tiếp xúc cử tri – Bầu cử đại biểu Quốc hội khóa XVI và HĐND các cấp"
    );
    assert_eq!(mail.to_name, "Nguyễn Thị Hồng Nhung");
    assert_eq!(mail.to_address, "nhung@example.vn");
    assert_eq!(mail.root_type, "multipart/mixed");
    let local = starts_at.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let date = format!(", {} (GMT+7)", local.format("%d/%m/%Y"));
    for body in [&mail.text, &mail.html] {
        assert!(
            body.contains("Kính gửi ông/bà Nguyễn Thị Hồng Nhung,"),
            "{body}"
        );
        assert!(body.contains("Tiếp xúc cử tri xã Kỳ Đồng"));
        assert!(body.contains("Thời gian: 08:00–11:00, "), "{body}");
        assert!(body.contains(&date), "{body}");
        assert!(body
            .contains("Hội trường UBND xã Kỳ Đồng, Hội trường UBND xã Kỳ Đồng, Kỳ Anh, Hà Tĩnh"));
        assert!(body.contains("Đơn vị bầu cử số 1"));
        assert!(!body.contains("Hội nghị đã qua"));
        assert!(!body.contains("Hội nghị bị hủy"));
        assert!(
            body.contains("/calendars/"),
            "the subscription link: {body}"
        );
    }
    assert!(mail.html.contains("<html lang=\"vi\">"));

    let (name, content_type, _) = &mail.attachments[0];
    assert_eq!(name, "lich-tiep-xuc-cu-tri.ics");
    assert_eq!(content_type, "text/calendar; charset=utf-8; method=PUBLISH");
    let calendar = mail.calendar();
    assert_eq!(
        calendar_property(&calendar, "METHOD").as_deref(),
        Some("PUBLISH")
    );
    let events: Vec<_> = calendar.events().collect();
    assert_eq!(events.len(), 1);
    let event = events[0];
    assert_eq!(
        event.get_uid(),
        Some(format!("{meeting}@voter-meetings").as_str())
    );
    assert_eq!(event.get_start(), utc(starts_at));
    assert_eq!(event.get_end(), utc(starts_at + Span::hours(3)));
    assert_eq!(event.get_sequence(), Some(1));
    assert_eq!(event.get_status(), Some(EventStatus::Confirmed));
    assert_eq!(event.get_summary(), Some("Tiếp xúc cử tri xã Kỳ Đồng"));
    assert_eq!(
        event_property(event, "ORGANIZER").map(|(v, _)| v),
        Some("mailto:no-reply@voter-meetings.local".to_owned())
    );
    assert!(
        event.get_attendees().is_empty(),
        "a published event has no attendee"
    );

    let state = sent(&s.app, outbox_id).await;
    assert_eq!(state["kind"], "schedule");
    assert_eq!(state["attempts"], 1);
    assert_eq!(state["candidate_id"], nhung.to_string());
    assert_eq!(state["province_id"], s.tree.province.to_string());
    assert_eq!(state["ics_method"], "publish");
    assert!(state["sent_at"].is_string());
    assert_eq!(state["delivery_attempts"][0]["attempt"], 1);
    assert_eq!(state["delivery_attempts"][0]["outcome"], "sent");
    assert_eq!(state["delivery_attempts"].as_array().map(Vec::len), Some(1));

    let audit = s
        .app
        .get(&format!("/audit?entity_id={nhung}"), &s.app.admin)
        .await;
    let actions: Vec<&str> = audit.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, vec!["create", "queue_schedule_email"]);
}

#[actix_web::test]
async fn an_english_speaking_candidate_gets_the_schedule_in_english() {
    let inbox = MemoryMail::new();
    let s = scene_mailing(&inbox, |_| {}).await;
    let lan = s.candidate("Trần Thị Lan", "lan@example.vn", "en").await;
    let starts_at = morning(5);
    s.meeting("Voter meeting, Kỳ Đồng", starts_at, &[lan]);
    queue_schedule(&s.app, lan).await;
    let mail = parse_mail(&inbox.wait_for(1).await[0]);
    assert!(mail
        .subject
        .starts_with("Your voter-contact meeting schedule – "));
    let local = starts_at.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let when = format!("{}, 08:00–11:00 (GMT+7)", local.format("%A %-d %B %Y"));
    for body in [&mail.text, &mail.html] {
        assert!(body.contains("Dear Trần Thị Lan,"), "{body}");
        assert!(body.contains(&format!("Time: {when}")), "{body}");
        assert!(body.contains("subscribe to your own calendar"), "{body}");
        assert!(!body.contains("Kính gửi"));
    }
    assert!(mail.html.contains("<html lang=\"en\">"));
}

#[actix_web::test]
async fn memory_keeps_byte_for_byte_the_message_an_smtp_server_receives() {
    let sink = SmtpSink::start();
    let s = scene(|settings| {
        settings.smtp_url = Some(sink.url().into());
        settings.outbox.enabled = false;
    })
    .await;
    let nhung = s
        .candidate("Nguyễn Thị Hồng Nhung", "nhung@example.vn", "vi")
        .await;
    s.meeting("Tiếp xúc cử tri xã Kỳ Đồng", morning(10), &[nhung]);
    let outbox_id = queue_schedule(&s.app, nhung).await;

    let memory = Inbox::default();
    hand_over_one_due_twice(&s.app.settings, &memory).await;
    let kept = memory.messages();
    assert_eq!(kept.len(), 1, "memory kept the message");
    // lettre ends DATA with `\r\n.\r\n` whatever the message ends with, so a server keeps
    // one CRLF more than the message: an empty last line, which MIME readers ignore.
    let over_smtp = sink.wait_for(1).await;
    let expected = [kept[0].formatted.as_slice(), b"\r\n"].concat();
    assert!(
        over_smtp[0] == expected,
        "memory kept:\n{}\nthe SMTP server received:\n{}",
        String::from_utf8_lossy(&kept[0].formatted),
        String::from_utf8_lossy(&over_smtp[0])
    );
    let mail = parse_mail(&kept[0].formatted);
    assert_eq!(mail.message_id, format!("{outbox_id}@voter-meetings"));
    let to: Vec<String> = kept[0]
        .envelope
        .to()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(to, vec!["nhung@example.vn"], "the envelope's recipient");
    sent(&s.app, outbox_id).await;
}

#[actix_web::test]
async fn without_smtp_the_email_is_written_as_an_eml_file() {
    let s = scene(|settings| settings.smtp_url = None).await;
    let hung = s.candidate("Lê Văn Hùng", "hung@example.vn", "vi").await;
    s.meeting("Tiếp xúc cử tri thôn 3", morning(7), &[hung]);
    let outbox_id = queue_schedule(&s.app, hung).await;
    sent(&s.app, outbox_id).await;

    let dir: &Path = &s.app.settings.mail_dir;
    let file = dir.join(format!("{outbox_id}.eml"));
    let raw = std::fs::read(&file).expect("the .eml file");
    let mail = parse_mail(&raw);
    assert_eq!(mail.message_id, format!("{outbox_id}@voter-meetings"));
    assert_eq!(mail.to_name, "Lê Văn Hùng");
    assert!(mail.text.contains("Tiếp xúc cử tri thôn 3"));
    assert_eq!(mail.calendar().events().count(), 1);
    let names: Vec<String> = std::fs::read_dir(dir)
        .expect("mail dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec![format!("{outbox_id}.eml")],
        "no temporary file is left"
    );
}

#[actix_web::test]
async fn schedule_emails_go_to_the_active_candidates_of_the_callers_region() {
    // No worker: every email stays pending, so what each fan-out skips is known.
    let s = scene(|settings| settings.outbox.enabled = false).await;
    // No worker: what is queued stays pending, as the test means it to.
    s.app.expect_pending_mail();
    let other_commune = s
        .app
        .region("Xã Kỳ Trinh", "commune", Some(s.tree.district))
        .await;
    let other_unit = s
        .app
        .unit(
            s.election,
            other_commune,
            "commune_council",
            "Đơn vị bầu cử số 2",
        )
        .await;
    let here = [
        s.candidate("Ứng cử viên A", "a@example.vn", "vi").await,
        s.candidate("Ứng cử viên B", "b@example.vn", "vi").await,
    ];
    let withdrawn = s.candidate("Ứng cử viên C", "c@example.vn", "vi").await;
    s.app
        .patch(
            &format!("/candidates/{withdrawn}"),
            &s.app.admin,
            json!({"status": "withdrawn"}),
        )
        .await
        .ok(200);
    let there = s
        .candidate_in(other_unit, "Ứng cử viên D", "d@example.vn", "vi")
        .await;

    let organizer = s.app.token(Role::Organizer, Some(s.tree.commune));
    let path = format!("/elections/{}/schedule-emails", s.election);
    let own = s.app.post(&path, &organizer, json!(null)).await;
    assert_eq!(own.ok(202)["queued"], 2);
    assert_eq!(own.body["already_running"], false);
    let mut recipients: Vec<Uuid> = outbox(&s.app, "")
        .await
        .iter()
        .map(|r| uuid_of(&r["candidate_id"]))
        .collect();
    recipients.sort();
    let mut expected = here.to_vec();
    expected.sort();
    assert_eq!(recipients, expected);

    s.app
        .post(
            &format!("{path}?region_id={other_commune}"),
            &organizer,
            json!(null),
        )
        .await
        .problem(403, "forbidden");
    let observer = s.app.token(Role::Observer, Some(s.tree.commune));
    s.app
        .post(&path, &observer, json!(null))
        .await
        .problem(403, "forbidden");
    assert_eq!(
        s.app
            .post(
                &format!("{path}?region_id={}", Uuid::now_v7()),
                &s.app.admin,
                json!(null)
            )
            .await
            .invalid_fields(),
        vec!["region_id"]
    );
    // The district holds both communes: A and B still have their emails pending.
    let district = s
        .app
        .post(
            &format!("{path}?region_id={}", s.tree.district),
            &s.app.admin,
            json!(null),
        )
        .await;
    assert_eq!(district.ok(202)["queued"], 1);
    assert_eq!(district.body["skipped"], 2);
    let audit = s
        .app
        .get(&format!("/audit?entity_id={}", s.election), &s.app.admin)
        .await;
    let fan_outs: Vec<Value> = audit.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "queue_schedule_emails")
        .map(|e| e["after"].clone())
        .collect();
    assert_eq!(
        fan_outs,
        vec![
            json!({"region_id": s.tree.commune, "queued": 2, "skipped": 0,
                   "fan_out_id": own.body["fan_out_id"]}),
            json!({"region_id": s.tree.district, "queued": 1, "skipped": 2,
                   "fan_out_id": district.body["fan_out_id"]}),
        ]
    );

    s.app
        .post(
            &format!("/candidates/{withdrawn}/schedule-email"),
            &s.app.admin,
            json!(null),
        )
        .await
        .problem(422, "candidate_withdrawn");
    let stranger = s.app.token(Role::Organizer, Some(other_commune));
    s.app
        .post(
            &format!("/candidates/{}/schedule-email", here[0]),
            &stranger,
            json!(null),
        )
        .await
        .problem(403, "forbidden");
    assert_eq!(
        outbox(&s.app, &format!("candidate_id={there}")).await.len(),
        1
    );
}

#[actix_web::test]
async fn a_fan_out_runs_once_at_a_time_and_queues_nothing_twice() {
    let s = scene(|settings| settings.outbox.enabled = false).await;
    // No worker: what is queued stays pending, as the test means it to.
    s.app.expect_pending_mail();
    for n in 0..3 {
        s.candidate(
            &format!("Ứng cử viên số {n}"),
            &format!("ucv{n}@example.vn"),
            "vi",
        )
        .await;
    }
    let path = format!("/elections/{}/schedule-emails", s.election);
    let first = s.app.post(&path, &s.app.admin, json!(null)).await;
    assert_eq!(first.ok(202)["queued"], 3);
    assert_eq!(first.body["pending"], 3);

    let again = s.app.post(&path, &s.app.admin, json!(null)).await;
    assert_eq!(again.ok(202)["queued"], 0);
    assert_eq!(again.body["already_running"], true);
    assert_eq!(again.body["pending"], 3);
    assert_eq!(again.body["fan_out_id"], first.body["fan_out_id"]);
    assert_eq!(outbox(&s.app, "").await.len(), 3);

    // Two of them go out: the fan-out is still running, with one pending.
    sql(
        &s.app,
        "UPDATE outbox SET status = 'sent', sent_at = now()
          WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 2)",
    );
    let still = s.app.post(&path, &s.app.admin, json!(null)).await;
    assert_eq!(still.ok(202)["pending"], 1);
    assert_eq!(still.body["queued"], 0);

    // Once every email left, an admin may send the schedules again.
    sql(&s.app, "UPDATE outbox SET status = 'sent', sent_at = now()");
    let next = s.app.post(&path, &s.app.admin, json!(null)).await;
    assert_eq!(next.ok(202)["queued"], 3);
    assert_eq!(next.body["already_running"], false);
    assert_ne!(next.body["fan_out_id"], first.body["fan_out_id"]);
    assert_eq!(outbox(&s.app, "").await.len(), 6);
}

#[actix_web::test]
async fn a_candidate_gets_one_schedule_an_hour_unless_an_admin_asks_again() {
    let s = scene(|settings| settings.outbox.enabled = false).await;
    // No worker: what is queued stays pending, as the test means it to.
    s.app.expect_pending_mail();
    let an = s.candidate("Hoàng Văn An", "an@example.vn", "vi").await;
    let binh = s.candidate("Bùi Thị Bình", "binh@example.vn", "vi").await;
    let organizer = s.app.token(Role::Organizer, Some(s.tree.commune));
    let path = format!("/candidates/{an}/schedule-email");
    s.app.post(&path, &organizer, json!(null)).await.ok(202);

    let soon = s.app.post(&path, &organizer, json!(null)).await;
    let problem = soon.problem(429, "schedule_email_too_soon");
    let wait: u64 = soon.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_eq!(problem["retry_after"], wait);

    // Sent or not, the hour counts from when it was queued.
    sql(&s.app, "UPDATE outbox SET status = 'sent', sent_at = now()");
    s.app
        .post(&path, &organizer, json!(null))
        .await
        .problem(429, "schedule_email_too_soon");
    s.app.post(&path, &s.app.admin, json!(null)).await.ok(202);

    // A fan-out by an organizer leaves out those emailed within the hour.
    let fan_out = s
        .app
        .post(
            &format!("/elections/{}/schedule-emails", s.election),
            &organizer,
            json!(null),
        )
        .await;
    assert_eq!(fan_out.ok(202)["queued"], 1);
    assert_eq!(fan_out.body["skipped"], 1);
    assert_eq!(
        outbox(&s.app, &format!("candidate_id={binh}")).await.len(),
        1
    );
    assert_eq!(outbox(&s.app, &format!("candidate_id={an}")).await.len(), 2);

    // An hour later (as the database sees it) the organizer may send again. The earlier
    // emails are moved to a fixed time: Citus shifts no column by a STABLE interval sum.
    let earlier = (chrono::Utc::now() - Span::minutes(61)).to_rfc3339();
    sql(
        &s.app,
        &format!("UPDATE outbox SET created_at = '{earlier}'"),
    );
    s.app.post(&path, &organizer, json!(null)).await.ok(202);
}

#[actix_web::test]
async fn a_repeated_idempotency_key_queues_the_schedule_once() {
    let s = scene(|_| {}).await;
    let an = s.candidate("Hoàng Văn An", "an@example.vn", "vi").await;
    let path = format!("/candidates/{an}/schedule-email");
    let send = || {
        s.app.request(
            reqwest::Method::POST,
            &path,
            Some(&s.app.admin),
            None,
            &[("Idempotency-Key", "lich-an-1")],
        )
    };
    let first = send().await;
    let again = send().await;
    assert_eq!(first.ok(202)["outbox_id"], again.ok(202)["outbox_id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(outbox(&s.app, "").await.len(), 1);
}

#[actix_web::test]
async fn the_outbox_is_for_administrators_and_filters_orders_and_pages() {
    let s = scene(|_| {}).await;
    let an = s.candidate("Hoàng Văn An", "an@example.vn", "vi").await;
    let binh = s.candidate("Bùi Thị Bình", "binh@example.vn", "en").await;
    let first = queue_schedule(&s.app, an).await;
    let second = queue_schedule(&s.app, binh).await;
    sent(&s.app, first).await;
    sent(&s.app, second).await;

    let organizer = s.app.token(Role::Organizer, Some(s.tree.commune));
    s.app
        .get("/outbox", &organizer)
        .await
        .problem(403, "forbidden");
    s.app
        .get(&format!("/outbox/{first}"), &organizer)
        .await
        .problem(403, "forbidden");

    let items = outbox(&s.app, &format!("candidate_id={binh}")).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], second.to_string());
    assert_eq!(items[0]["recipient"], "binh@example.vn");
    assert_eq!(items[0]["recipient_name"], "Bùi Thị Bình");
    assert!(items[0].get("body_html").is_none(), "lists carry no bodies");

    let items = outbox(&s.app, "recipient=an@example.vn&status=sent").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], first.to_string());
    assert_eq!(outbox(&s.app, "status=pending").await, Vec::<Value>::new());

    let page = s.app.get("/outbox?limit=1", &s.app.admin).await;
    assert_eq!(page.ok(200)["items"][0]["id"], first.to_string());
    let cursor = page.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let next = s
        .app
        .get(&format!("/outbox?limit=1&cursor={cursor}"), &s.app.admin)
        .await;
    assert_eq!(next.ok(200)["items"][0]["id"], second.to_string());
    assert!(next.body["next_cursor"].is_null());

    let newest = s
        .app
        .get("/outbox?order=newest&limit=1", &s.app.admin)
        .await;
    assert_eq!(newest.ok(200)["items"][0]["id"], second.to_string());
    let cursor = newest.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let older = s
        .app
        .get(
            &format!("/outbox?order=newest&limit=1&cursor={cursor}"),
            &s.app.admin,
        )
        .await;
    assert_eq!(older.ok(200)["items"][0]["id"], first.to_string());
    assert!(older.body["next_cursor"].is_null());

    assert_eq!(
        s.app
            .get("/outbox?status=lost&order=random", &s.app.admin)
            .await
            .invalid_fields(),
        vec!["order", "status"]
    );
    s.app
        .get(&format!("/outbox/{}", Uuid::now_v7()), &s.app.admin)
        .await
        .problem(404, "not_found");
    let detail = s.app.get(&format!("/outbox/{second}"), &s.app.admin).await;
    assert!(detail.ok(200)["body_text"]
        .as_str()
        .is_some_and(|t| t.starts_with("Dear Bùi Thị Bình,")));
}
