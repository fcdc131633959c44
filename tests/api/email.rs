//! Email: schedules with iCalendar over SMTP or as `.eml` files, the outbox under an SMTP
//! outage and with two workers, change and attention notices, the `.ics` feed, `/outbox`.
use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Duration as Span, Utc};
use diesel::RunQueryDsl;
use icalendar::{CalendarDateTime, Component, DatePerhapsTime, Event, EventLike, EventStatus};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::app::{claim_due, enqueue_attention, enqueue_meeting_changes};
use crate::helpers::database::{base_template, TestDatabase};
use crate::helpers::mail::{Latch, Outage, SmtpSink};
use crate::helpers::{eventually, spawn_app_with, uuid_of, Role, Settings, TestApp, Tree};

/// 01:00 UTC (08:00 in Hồ Chí Minh City) `days` from today: always inside the test
/// election's campaign, which runs from yesterday to 40 days ahead.
fn morning(days: i64) -> DateTime<Utc> {
    (Utc::now() + Span::days(days))
        .date_naive()
        .and_hms_opt(1, 0, 0)
        .expect("01:00 exists")
        .and_utc()
}

struct Scene {
    app: TestApp,
    tree: Tree,
    election: Uuid,
    unit: Uuid,
    venue: Uuid,
}

/// A province tree, an election whose campaign is under way, a unit in the commune and a
/// venue there.
async fn scene(configure: impl FnOnce(&mut Settings)) -> Scene {
    let app = spawn_app_with(configure).await;
    let tree = app.tree().await;
    let election = app
        .post(
            "/elections",
            &app.admin,
            json!({
                "name": "Bầu cử đại biểu Quốc hội khóa XVI và HĐND các cấp",
                "polling_starts_at": (Utc::now() + Span::days(41)).to_rfc3339(),
                "campaign_starts_at": (Utc::now() - Span::days(1)).to_rfc3339(),
            }),
        )
        .await
        .id();
    let unit = app
        .unit(
            election,
            tree.commune,
            "commune_council",
            "Đơn vị bầu cử số 1",
        )
        .await;
    let venue = app
        .venue(
            tree.commune,
            "Hội trường UBND xã Kỳ Đồng",
            200,
            Some(300.0),
            "indoor",
        )
        .await;
    Scene {
        app,
        tree,
        election,
        unit,
        venue,
    }
}

impl Scene {
    async fn candidate(&self, name: &str, email: &str, locale: &str) -> Uuid {
        self.candidate_in(self.unit, name, email, locale).await
    }

    async fn candidate_in(&self, unit: Uuid, name: &str, email: &str, locale: &str) -> Uuid {
        self.app
            .post(
                &format!("/electoral-units/{unit}/candidates"),
                &self.app.admin,
                json!({"full_name": name, "email": email, "locale": locale}),
            )
            .await
            .id()
    }

    /// An in-person meeting at the scene's venue, written straight into the tables.
    fn meeting(&self, title: &str, starts_at: DateTime<Utc>, candidates: &[Uuid]) -> Uuid {
        insert_meeting(
            &self.app,
            &MeetingRow {
                election: self.election,
                unit: self.unit,
                venue: Some(self.venue),
                title,
                starts_at,
                ends_at: starts_at + Span::hours(3),
                candidates,
            },
        )
    }
}

struct MeetingRow<'a> {
    election: Uuid,
    unit: Uuid,
    /// In person at this venue; online (in the unit's region) without one.
    venue: Option<Uuid>,
    title: &'a str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    candidates: &'a [Uuid],
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A planned meeting (version 1) with its unit, site and candidates, as the migration lays
/// them out: `region_path` is the venue's region path (the unit's for online meetings), and
/// each candidate is busy until 30 minutes after the end.
fn insert_meeting(app: &TestApp, m: &MeetingRow<'_>) -> Uuid {
    let id = Uuid::now_v7();
    let (starts, ends) = (
        literal(&m.starts_at.to_rfc3339()),
        literal(&m.ends_at.to_rfc3339()),
    );
    let region = match m.venue {
        Some(v) => format!("(SELECT region_id FROM venues WHERE id = '{v}')"),
        None => format!(
            "(SELECT region_id FROM electoral_units WHERE id = '{}')",
            m.unit
        ),
    };
    let online = if m.venue.is_some() {
        "'in_person', NULL, NULL, NULL, NULL".to_owned()
    } else {
        "'online', 'Zoom', 'https://meet.example.vn/txct-1?pwd=x', 500, 100".to_owned()
    };
    let mut conn = app.conn();
    diesel::sql_query(format!(
        "INSERT INTO meetings (id, province_id, election_id, region_path, format, online_platform,
                               online_join_url, online_max_participants, online_expected_attendees,
                               title, starts_at, ends_at)
         SELECT '{id}', r.province_id, '{}', r.path, {online}, {}, {starts}, {ends}
           FROM regions r WHERE r.id = {region}",
        m.election,
        literal(m.title),
    ))
    .execute(&mut conn)
    .expect("insert meeting");
    diesel::sql_query(format!(
        "INSERT INTO meeting_units (meeting_id, electoral_unit_id, province_id)
         SELECT '{id}', u.id, u.province_id FROM electoral_units u WHERE u.id = '{}'",
        m.unit
    ))
    .execute(&mut conn)
    .expect("insert meeting unit");
    if let Some(venue) = m.venue {
        diesel::sql_query(format!(
            "INSERT INTO meeting_sites (id, meeting_id, province_id, venue_id, expected_attendees,
                                        effective_capacity, during)
             SELECT gen_random_uuid(), '{id}', v.province_id, v.id, 80, v.capacity,
                    tstzrange({starts}, {ends})
               FROM venues v WHERE v.id = '{venue}'"
        ))
        .execute(&mut conn)
        .expect("insert meeting site");
    }
    for candidate in m.candidates {
        diesel::sql_query(format!(
            "INSERT INTO meeting_candidates (meeting_id, candidate_id, province_id, busy)
             SELECT '{id}', c.id, c.province_id,
                    tstzrange({starts}, {ends}::timestamptz + interval '30 minutes')
               FROM candidates c WHERE c.id = '{candidate}'"
        ))
        .execute(&mut conn)
        .expect("insert meeting candidate");
    }
    id
}

/// Cancels a meeting the way the meeting code does: status, released seats, a new version.
fn cancel_in_db(app: &TestApp, meeting: Uuid) {
    let mut conn = app.conn();
    for sql in [
        format!("UPDATE meetings SET status = 'cancelled', version = version + 1 WHERE id = '{meeting}'"),
        format!("UPDATE meeting_candidates SET active = false WHERE meeting_id = '{meeting}'"),
        format!("UPDATE meeting_sites SET active = false WHERE meeting_id = '{meeting}'"),
    ] {
        diesel::sql_query(sql).execute(&mut conn).expect("cancel");
    }
}

async fn queue_schedule(app: &TestApp, candidate: Uuid) -> Uuid {
    let answer = app
        .post(
            &format!("/candidates/{candidate}/schedule-email"),
            &app.admin,
            json!(null),
        )
        .await;
    uuid_of(&answer.ok(202)["outbox_id"])
}

/// Waits until `GET /outbox/{id}` shows a state where `done` holds, and returns it.
async fn outbox_until(app: &TestApp, id: Uuid, done: impl Fn(&Value) -> bool) -> Value {
    eventually(
        &format!("outbox row {id} reaches the expected state"),
        || async {
            let state = app.get(&format!("/outbox/{id}"), &app.admin).await;
            let state = state.ok(200);
            if done(state) {
                Ok(state.clone())
            } else {
                Err(state.clone())
            }
        },
    )
    .await
}

async fn sent(app: &TestApp, id: Uuid) -> Value {
    outbox_until(app, id, |v| v["status"] == "sent").await
}

/// A received email, parsed, with what the tests look at.
struct Received {
    message_id: String,
    subject: String,
    to_name: String,
    to_address: String,
    root_type: String,
    text: String,
    html: String,
    /// `(file name, content type with parameters, contents)` of each attachment.
    attachments: Vec<(String, String, String)>,
}

fn parse_mail(raw: &[u8]) -> Received {
    let m = MessageParser::default().parse(raw).expect("a MIME message");
    let to = m.to().and_then(|a| a.first()).expect("a To address");
    let root = m.root_part().content_type().expect("a content type");
    Received {
        message_id: m.message_id().expect("a Message-ID").to_owned(),
        subject: m.subject().expect("a subject").to_owned(),
        to_name: to.name().unwrap_or_default().to_owned(),
        to_address: to.address().unwrap_or_default().to_owned(),
        root_type: format!("{}/{}", root.ctype(), root.subtype().unwrap_or_default()),
        text: m.body_text(0).expect("a text body").into_owned(),
        html: m.body_html(0).expect("an HTML body").into_owned(),
        attachments: m
            .attachments()
            .map(|part| {
                let ct = part.content_type().expect("attachment type");
                let mut full = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default());
                for attr in ct.attributes().unwrap_or_default() {
                    full.push_str(&format!("; {}={}", attr.name, attr.value));
                }
                (
                    part.attachment_name().unwrap_or_default().to_owned(),
                    full,
                    String::from_utf8(part.contents().to_vec()).expect("utf-8 calendar"),
                )
            })
            .collect(),
    }
}

fn events(ics: &str) -> Vec<Event> {
    let calendar: icalendar::Calendar = ics.parse().expect("the .ics parses");
    calendar
        .components
        .iter()
        .filter_map(|c| c.as_event().cloned())
        .collect()
}

fn utc(at: DateTime<Utc>) -> Option<DatePerhapsTime> {
    Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at)))
}

fn with_sink(sink: &SmtpSink) -> impl FnOnce(&mut Settings) {
    let url = sink.url();
    move |s: &mut Settings| s.smtp_url = Some(url)
}

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
        assert!(body.contains("Thời gian: 08:00–11:00, Thứ "), "{body}");
        assert!(body.contains(&date), "{body}");
        assert!(body
            .contains("Hội trường UBND xã Kỳ Đồng, Hội trường UBND xã Kỳ Đồng, Kỳ Anh, Hà Tĩnh"));
        assert!(body.contains("Đơn vị bầu cử số 1"));
        assert!(!body.contains("Hội nghị đã qua"));
        assert!(!body.contains("Hội nghị bị hủy"));
    }
    assert!(mail.html.contains("<html lang=\"vi\">"));

    assert_eq!(mail.attachments.len(), 1);
    let (name, content_type, ics) = &mail.attachments[0];
    assert_eq!(name, "lich-tiep-xuc-cu-tri.ics");
    assert_eq!(content_type, "text/calendar; charset=utf-8; method=PUBLISH");
    let events = events(ics);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(
        event.get_uid(),
        Some(format!("{meeting}@voter-meetings").as_str())
    );
    assert_eq!(event.get_start(), utc(starts_at));
    assert_eq!(event.get_end(), utc(starts_at + Span::hours(3)));
    assert_eq!(event.get_sequence(), Some(1));
    assert_eq!(event.get_status(), Some(EventStatus::Confirmed));
    assert_eq!(event.get_summary(), Some("Tiếp xúc cử tri xã Kỳ Đồng"));

    let state = sent(&s.app, outbox_id).await;
    assert_eq!(state["kind"], "schedule");
    assert_eq!(state["attempts"], 1);
    assert_eq!(state["candidate_id"], nhung.to_string());
    assert_eq!(state["province_id"], s.tree.province.to_string());
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
    assert_eq!(sink.settled(&s.app).await.len(), 1);
}

#[actix_web::test]
async fn an_english_speaking_candidate_gets_the_schedule_in_english() {
    let sink = SmtpSink::start();
    let s = scene(with_sink(&sink)).await;
    let lan = s.candidate("Trần Thị Lan", "lan@example.vn", "en").await;
    let starts_at = morning(5);
    s.meeting("Voter meeting, Kỳ Đồng", starts_at, &[lan]);
    queue_schedule(&s.app, lan).await;
    let mails = sink.settled(&s.app).await;
    assert_eq!(mails.len(), 1);
    let mail = parse_mail(&mails[0]);
    assert!(mail
        .subject
        .starts_with("Your voter-contact meeting schedule – "));
    let local = starts_at.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let when = format!("{}, 08:00–11:00 (GMT+7)", local.format("%A %-d %B %Y"));
    for body in [&mail.text, &mail.html] {
        assert!(body.contains("Dear Trần Thị Lan,"), "{body}");
        assert!(body.contains(&format!("Time: {when}")), "{body}");
        assert!(!body.contains("Kính gửi"));
    }
    assert!(mail.html.contains("<html lang=\"en\">"));
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
    assert_eq!(events(&mail.attachments[0].2).len(), 1);
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
async fn an_smtp_outage_loses_nothing_and_sends_nothing_twice() {
    let outage = Outage::start();
    let url = outage.url();
    let s = scene(|settings| settings.smtp_url = Some(url)).await;
    let mut queued = Vec::new();
    for (name, email) in [
        ("Phạm Minh Tuấn", "tuan@example.vn"),
        ("Võ Thị Sáu", "sau@example.vn"),
        ("Đặng Văn Ngữ", "ngu@example.vn"),
    ] {
        let candidate = s.candidate(name, email, "vi").await;
        s.meeting(
            &format!("Tiếp xúc cử tri cùng {name}"),
            morning(3 + queued.len() as i64),
            &[candidate],
        );
        queued.push(queue_schedule(&s.app, candidate).await);
    }

    // The server is down: each email stays pending, with the failed attempt on record.
    for id in &queued {
        let state = outbox_until(&s.app, *id, |v| v["attempts"].as_i64() >= Some(1)).await;
        assert_eq!(state["status"], "pending");
        assert!(
            state["last_error"].as_str().is_some_and(|e| !e.is_empty()),
            "{state}"
        );
        assert_eq!(state["delivery_attempts"][0]["outcome"], "retry");
        assert!(state["sent_at"].is_null());
    }

    // The server comes back on the same port: every email arrives, once.
    let sink = outage.end();
    for id in &queued {
        let state = sent(&s.app, *id).await;
        let attempts = state["delivery_attempts"].as_array().expect("attempts");
        assert_eq!(attempts.last().map(|a| &a["outcome"]), Some(&json!("sent")));
        assert!(attempts[..attempts.len() - 1]
            .iter()
            .all(|a| a["outcome"] == "retry"));
        assert_eq!(state["attempts"].as_u64(), Some(attempts.len() as u64));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for raw in sink.settled(&s.app).await {
        *seen.entry(parse_mail(&raw).message_id).or_default() += 1;
    }
    let expected: HashMap<String, usize> = queued
        .iter()
        .map(|id| (format!("{id}@voter-meetings"), 1))
        .collect();
    assert_eq!(seen, expected);
}

#[actix_web::test]
async fn two_workers_on_one_database_share_the_emails_and_never_send_one_twice() {
    // Each instance sends to its own sink, so the sinks say which worker sent what; the
    // first instance's sink holds its deliveries until the second's has received one, so
    // that neither worker can take every email before the other starts.
    let latch = Latch::default();
    let second_sink = SmtpSink::builder().opens(&latch).start();
    let first_sink = SmtpSink::builder().waits_for(&latch).start();
    let first_url = first_sink.url();
    // Small batches make the two workers contend for the same rows.
    let s = scene(|settings| {
        settings.smtp_url = Some(first_url);
        settings.outbox.batch_size = 3;
    })
    .await;
    let second_url = second_sink.url();
    s.app.start_instance(|settings| {
        settings.smtp_url = Some(second_url);
        settings.database_pool_size = 4;
    });

    for n in 0..24 {
        s.candidate(
            &format!("Ứng cử viên số {n}"),
            &format!("ucv{n}@example.vn"),
            "vi",
        )
        .await;
    }
    let answer = s
        .app
        .post(
            &format!("/elections/{}/schedule-emails", s.election),
            &s.app.admin,
            json!(null),
        )
        .await;
    assert_eq!(answer.ok(202)["queued"], 24);

    let sent_rows = eventually("24 emails sent", || async {
        let rows = s
            .app
            .get("/outbox?status=sent&limit=500", &s.app.admin)
            .await;
        let rows = rows.ok(200)["items"].as_array().expect("items").clone();
        if rows.len() == 24 {
            Ok(rows)
        } else {
            Err(rows.len())
        }
    })
    .await;
    assert!(
        sent_rows.iter().all(|r| r["attempts"] == 1),
        "each email was sent on its first attempt"
    );
    let ids = |messages: Vec<Vec<u8>>| -> Vec<String> {
        messages
            .iter()
            .map(|raw| parse_mail(raw).message_id)
            .collect()
    };
    let by_first = ids(first_sink.settled(&s.app).await);
    let by_second = ids(second_sink.settled(&s.app).await);
    assert!(
        !by_first.is_empty() && !by_second.is_empty(),
        "both workers sent: {} and {}",
        by_first.len(),
        by_second.len()
    );
    let all: Vec<&String> = by_first.iter().chain(&by_second).collect();
    let distinct: HashSet<&String> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (24, 24));
}

#[actix_web::test]
async fn the_outbox_is_for_administrators_and_filters_and_pages() {
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

    let by_candidate = s
        .app
        .get(&format!("/outbox?candidate_id={binh}"), &s.app.admin)
        .await;
    let items = by_candidate.ok(200)["items"]
        .as_array()
        .expect("items")
        .clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], second.to_string());
    assert_eq!(items[0]["recipient"], "binh@example.vn");
    assert_eq!(items[0]["recipient_name"], "Bùi Thị Bình");
    assert!(items[0].get("body_html").is_none(), "lists carry no bodies");

    let by_recipient = s
        .app
        .get("/outbox?recipient=an@example.vn&status=sent", &s.app.admin)
        .await;
    let items = by_recipient.ok(200)["items"]
        .as_array()
        .expect("items")
        .clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], first.to_string());
    let none_pending = s.app.get("/outbox?status=pending", &s.app.admin).await;
    assert_eq!(none_pending.ok(200)["items"], json!([]));

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

    assert_eq!(
        s.app
            .get("/outbox?status=lost", &s.app.admin)
            .await
            .invalid_fields(),
        vec!["status"]
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

#[actix_web::test]
async fn the_calendar_feed_lists_upcoming_meetings_with_cancellations() {
    let s = scene(|_| {}).await;
    let tam = s.candidate("Lý Thị Tâm", "tam@example.vn", "vi").await;
    let soon = s.meeting("Tiếp xúc cử tri thôn 1", morning(4), &[tam]);
    let called_off = s.meeting("Tiếp xúc cử tri thôn 2", morning(6), &[tam]);
    cancel_in_db(&s.app, called_off);
    s.meeting("Tiếp xúc cử tri đã qua", morning(-2), &[tam]);
    let online = insert_meeting(
        &s.app,
        &MeetingRow {
            election: s.election,
            unit: s.unit,
            venue: None,
            title: "Tiếp xúc cử tri trực tuyến",
            starts_at: morning(8),
            ends_at: morning(8) + Span::hours(2),
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
    assert_eq!(by_uid.len(), 3, "the past meeting is left out");
    let uid = |id: Uuid| format!("{id}@voter-meetings");
    assert_eq!(
        by_uid[&uid(soon)].get_status(),
        Some(EventStatus::Confirmed)
    );
    assert_eq!(by_uid[&uid(soon)].get_start(), utc(morning(4)));
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
async fn schedule_emails_go_to_the_active_candidates_of_the_callers_region() {
    let s = scene(|_| {}).await;
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
    let mut recipients: Vec<Uuid> = s.app.get("/outbox", &s.app.admin).await.ok(200)["items"]
        .as_array()
        .expect("items")
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
    let district = s
        .app
        .post(
            &format!("{path}?region_id={}", s.tree.district),
            &s.app.admin,
            json!(null),
        )
        .await;
    assert_eq!(district.ok(202)["queued"], 3);
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
            json!({"region_id": s.tree.commune, "queued": 2}),
            json!({"region_id": s.tree.district, "queued": 3}),
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
    let to_there = s
        .app
        .get(&format!("/outbox?candidate_id={there}"), &s.app.admin)
        .await;
    assert_eq!(to_there.ok(200)["items"].as_array().map(Vec::len), Some(1));
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
    let all = s.app.get("/outbox", &s.app.admin).await;
    assert_eq!(all.ok(200)["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn meeting_changes_coalesce_into_one_notice_per_active_candidate() {
    let sink = SmtpSink::start();
    let s = scene(with_sink(&sink)).await;
    let minh = s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let hoa = s.candidate("Ngô Thị Hoa", "hoa@example.vn", "en").await;
    let gone = s.candidate("Mai Văn Đi", "di@example.vn", "vi").await;
    let first = s.meeting("Hội nghị thứ nhất", morning(3), &[minh, hoa, gone]);
    let second = s.meeting("Hội nghị thứ hai", morning(4), &[minh]);
    cancel_in_db(&s.app, second);
    s.app
        .patch(
            &format!("/candidates/{gone}"),
            &s.app.admin,
            json!({"status": "withdrawn"}),
        )
        .await
        .ok(200);

    let mut conn = s.app.conn();
    let queued = enqueue_meeting_changes(&mut conn, &[first, second]);
    assert_eq!(
        queued, 2,
        "one notice each for Minh and Hoa; none for the withdrawn"
    );

    let rows = s.app.get("/outbox", &s.app.admin).await;
    assert!(rows.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|r| r["kind"] == "meeting_change"));
    let mut mails: Vec<Received> = sink
        .settled(&s.app)
        .await
        .iter()
        .map(|r| parse_mail(r))
        .collect();
    assert_eq!(mails.len(), 2);
    mails.sort_by(|a, b| a.to_address.cmp(&b.to_address));
    let (hoa_mail, minh_mail) = (&mails[0], &mails[1]);
    assert_eq!(hoa_mail.to_address, "hoa@example.vn");
    assert!(hoa_mail
        .subject
        .starts_with("Changes to your voter-contact meetings – "));
    assert_eq!(events(&hoa_mail.attachments[0].2).len(), 1);

    assert!(minh_mail
        .subject
        .starts_with("Thay đổi lịch tiếp xúc cử tri – "));
    assert!(minh_mail.text.contains("1. Hội nghị thứ nhất"));
    assert!(minh_mail.text.contains("2. [ĐÃ HỦY] Hội nghị thứ hai"));
    let events = events(&minh_mail.attachments[0].2);
    let summary: Vec<(Option<&str>, Option<u32>, Option<EventStatus>)> = events
        .iter()
        .map(|e| (e.get_uid(), e.get_sequence(), e.get_status()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                // version 2: the withdrawal took a candidate off the first meeting
                Some(format!("{first}@voter-meetings").as_str()),
                Some(2),
                Some(EventStatus::Confirmed)
            ),
            (
                Some(format!("{second}@voter-meetings").as_str()),
                Some(2),
                Some(EventStatus::Cancelled)
            ),
        ]
    );
}

#[actix_web::test]
async fn attention_notices_go_to_the_nearest_committee_up_the_tree() {
    let sink = SmtpSink::start();
    let s = scene(with_sink(&sink)).await;
    // The second commune has no address of its own: its district's committee is told.
    let quiet = s
        .app
        .region("Xã Kỳ Trinh", "commune", Some(s.tree.district))
        .await;
    let quiet_venue = s
        .app
        .venue(quiet, "Nhà văn hóa thôn 5", 100, None, "indoor")
        .await;
    // A province where nobody has an address: nobody can be told.
    let orphan_province = s.app.region("Tỉnh Quảng Bình", "province", None).await;
    let orphan_unit = s
        .app
        .unit(
            s.election,
            orphan_province,
            "province_council",
            "Đơn vị bầu cử số 9",
        )
        .await;
    let mut conn = s.app.conn();
    diesel::sql_query(format!(
        "UPDATE regions SET contact_email = NULL WHERE id IN ('{quiet}', '{orphan_province}')"
    ))
    .execute(&mut conn)
    .expect("clear addresses");

    let at_commune = s.meeting("Hội nghị xã Kỳ Đồng", morning(5), &[]);
    let at_quiet = insert_meeting(
        &s.app,
        &MeetingRow {
            election: s.election,
            unit: s.unit,
            venue: Some(quiet_venue),
            title: "Hội nghị xã Kỳ Trinh",
            starts_at: morning(6),
            ends_at: morning(6) + Span::hours(2),
            candidates: &[],
        },
    );
    let orphan = insert_meeting(
        &s.app,
        &MeetingRow {
            election: s.election,
            unit: orphan_unit,
            venue: None,
            title: "Hội nghị trực tuyến",
            starts_at: morning(7),
            ends_at: morning(7) + Span::hours(2),
            candidates: &[],
        },
    );
    let queued = enqueue_attention(
        &mut conn,
        Some("Chỉ thị 15/CT-TTg"),
        &[at_commune, at_quiet, orphan],
        &[
            (
                at_commune,
                "Hội trường: 80 người dự kiến > sức chứa 30".to_owned(),
            ),
            (at_quiet, "in_person_not_allowed".to_owned()),
        ],
    );
    assert_eq!(queued, 2);

    let mut mails: Vec<Received> = sink
        .wait_for(2)
        .await
        .iter()
        .map(|r| parse_mail(r))
        .collect();
    mails.sort_by(|a, b| a.to_address.cmp(&b.to_address));
    assert_eq!(
        mails
            .iter()
            .map(|m| m.to_address.as_str())
            .collect::<Vec<_>>(),
        vec!["commune@mttq.example.vn", "district@mttq.example.vn"]
    );
    let (commune, district) = (&mails[0], &mails[1]);
    assert!(commune.text.contains("Chỉ thị 15/CT-TTg"));
    assert!(commune.text.contains("Hội nghị xã Kỳ Đồng"));
    assert!(commune.text.contains("80 người dự kiến > sức chứa 30"));
    assert!(!commune.text.contains("Hội nghị xã Kỳ Trinh"));
    assert!(district.text.contains("Hội nghị xã Kỳ Trinh"));
    assert!(district.text.contains("in_person_not_allowed"));
    assert!(commune.attachments.is_empty());
    assert!(mails
        .iter()
        .all(|m| !m.text.contains("Hội nghị trực tuyến")));
}

// Through the meeting endpoints, which queue change notices with
// `outbox::enqueue_meeting_changes` in their own transaction.

async fn post_meeting(
    s: &Scene,
    title: &str,
    starts_at: DateTime<Utc>,
    candidates: &[Uuid],
) -> Value {
    let answer = s
        .app
        .post(
            "/meetings",
            &s.app.admin,
            json!({
                "election_id": s.election,
                "electoral_unit_ids": [s.unit],
                "format": "in_person",
                "title": title,
                "starts_at": starts_at.to_rfc3339(),
                "ends_at": (starts_at + Span::hours(3)).to_rfc3339(),
                "candidate_ids": candidates,
                "sites": [{"venue_id": s.venue, "expected_attendees": 80}],
            }),
        )
        .await;
    answer.ok(201).clone()
}

/// The calendar events of every notice to `address`, oldest notice first.
fn notices_to(sink: &SmtpSink, address: &str) -> Vec<Vec<Event>> {
    let mut mails: Vec<Received> = sink
        .messages()
        .iter()
        .map(|r| parse_mail(r))
        .filter(|m| m.to_address == address)
        .collect();
    mails.sort_by(|a, b| a.message_id.cmp(&b.message_id));
    mails.iter().map(|m| events(&m.attachments[0].2)).collect()
}

#[actix_web::test]
async fn a_new_meeting_notifies_each_of_its_candidates_once() {
    let sink = SmtpSink::start();
    let s = scene(with_sink(&sink)).await;
    let minh = s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let hoa = s.candidate("Ngô Thị Hoa", "hoa@example.vn", "en").await;
    let meeting = post_meeting(&s, "Hội nghị thôn 4", morning(9), &[minh, hoa]).await;
    assert_eq!(sink.settled(&s.app).await.len(), 2);
    for address in ["minh@example.vn", "hoa@example.vn"] {
        let notices = notices_to(&sink, address);
        assert_eq!(notices.len(), 1, "{address}");
        assert_eq!(
            notices[0][0].get_uid(),
            Some(format!("{}@voter-meetings", uuid_of(&meeting["id"])).as_str())
        );
    }
}

#[actix_web::test]
async fn a_rescheduled_meeting_updates_the_same_event_with_a_higher_sequence() {
    let sink = SmtpSink::start();
    let s = scene(with_sink(&sink)).await;
    let minh = s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let meeting = post_meeting(&s, "Hội nghị thôn 4", morning(9), &[minh]).await;
    let id = uuid_of(&meeting["id"]);
    sink.wait_for(1).await;
    let moved_to = morning(11);
    let version = meeting["version"].to_string();
    s.app
        .request(
            reqwest::Method::PATCH,
            &format!("/meetings/{id}"),
            Some(&s.app.admin),
            Some(json!({
                "starts_at": moved_to.to_rfc3339(),
                "ends_at": (moved_to + Span::hours(3)).to_rfc3339(),
            })),
            &[("If-Match", &format!("\"{version}\""))],
        )
        .await
        .ok(200);
    assert_eq!(sink.settled(&s.app).await.len(), 2);
    let notices = notices_to(&sink, "minh@example.vn");
    assert_eq!(notices.len(), 2);
    let (before, after) = (&notices[0][0], &notices[1][0]);
    assert_eq!(before.get_uid(), after.get_uid());
    assert!(after.get_sequence() > before.get_sequence());
    assert_eq!(after.get_start(), utc(moved_to));
    assert_eq!(after.get_status(), Some(EventStatus::Confirmed));
}

#[actix_web::test]
async fn a_cancelled_meeting_cancels_the_same_event() {
    let sink = SmtpSink::start();
    let s = scene(with_sink(&sink)).await;
    let minh = s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let meeting = post_meeting(&s, "Hội nghị thôn 4", morning(9), &[minh]).await;
    let id = uuid_of(&meeting["id"]);
    sink.wait_for(1).await;
    s.app
        .post(
            &format!("/meetings/{id}/cancel"),
            &s.app.admin,
            json!({"reason": "Mưa bão"}),
        )
        .await
        .ok(200);
    let feed = s
        .app
        .get(&format!("/candidates/{minh}/schedule.ics"), &s.app.admin)
        .await;
    let feed = events(&feed.text);
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].get_status(), Some(EventStatus::Cancelled));
    assert_eq!(sink.settled(&s.app).await.len(), 2);
    let notices = notices_to(&sink, "minh@example.vn");
    assert_eq!(notices.len(), 2);
    let (before, after) = (&notices[0][0], &notices[1][0]);
    assert_eq!(before.get_uid(), after.get_uid());
    assert!(after.get_sequence() > before.get_sequence());
    assert_eq!(after.get_status(), Some(EventStatus::Cancelled));
}

/// Emails due now, written straight into an outbox no worker reads.
fn due_emails(db: &TestDatabase, n: usize) {
    let province = Uuid::now_v7();
    let mut conn = db.conn();
    diesel::sql_query(format!(
        "INSERT INTO regions (id, province_id, level, name, path)
         VALUES ('{province}', '{province}', 'province', 'Tỉnh Hà Tĩnh', ARRAY['{province}'::uuid])"
    ))
    .execute(&mut conn)
    .expect("a province");
    for i in 0..n {
        diesel::sql_query(format!(
            "INSERT INTO outbox (id, province_id, kind, recipient, subject, body_text, body_html)
             VALUES ('{}', '{province}', 'schedule', 'ucv{i}@example.vn', 'Lịch', 'x', '<p>x</p>')",
            Uuid::now_v7()
        ))
        .execute(&mut conn)
        .expect("an email");
    }
}

#[actix_web::test]
async fn two_workers_claiming_at_once_take_different_emails_without_waiting() {
    use diesel::Connection;
    let db = TestDatabase::clone_of(base_template());
    due_emails(&db, 8);
    let (mut first, mut second) = (db.conn(), db.conn());
    // A claim that waited on the other's row locks would give up here instead of hanging.
    diesel::sql_query("SET statement_timeout = '5s'")
        .execute(&mut second)
        .expect("timeout");
    let (held, taken) = first
        .transaction(|first| {
            let held = claim_due(first, 3, 300.0)?;
            let taken = claim_due(&mut second, 3, 300.0)?;
            Ok::<_, crate::helpers::app::DbError>((held, taken))
        })
        .expect("both claims");
    assert_eq!((held.len(), taken.len()), (3, 3));
    let both: HashSet<&Uuid> = held.iter().chain(&taken).collect();
    assert_eq!(both.len(), 6, "{held:?} {taken:?}");
    // Claimed rows are leased: what is left is the rest, once.
    let rest = claim_due(&mut db.conn(), 10, 300.0).expect("the rest");
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|id| !both.contains(id)));
    assert!(claim_due(&mut db.conn(), 10, 300.0)
        .expect("nothing")
        .is_empty());
}
