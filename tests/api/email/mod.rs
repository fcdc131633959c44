//! Email (SPEC §5, rules 8, 9, 12, 13): schedules and fan-outs, change and committee notices,
//! delivery under faults, calendar subscriptions. The scene and the mail and calendar parsing
//! they share are here.
mod calendars;
mod delivery;
mod notices;
mod schedules;

use chrono::{DateTime, Duration as Span, Utc};
use diesel::RunQueryDsl;
use icalendar::{CalendarDateTime, Component, DatePerhapsTime, Event};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::mail::{Mail, SmtpSink};
use crate::helpers::{
    eventually, spawn_app_mailing, spawn_app_with, uuid_of, MemoryMail, Settings, TestApp, Tree,
};

/// 01:00 UTC (08:00 in Hồ Chí Minh City) `days` from today: always inside the test
/// election's campaign, which runs from yesterday to 40 days ahead.
pub fn morning(days: i64) -> DateTime<Utc> {
    (Utc::now() + Span::days(days))
        .date_naive()
        .and_hms_opt(1, 0, 0)
        .expect("01:00 exists")
        .and_utc()
}

pub struct Scene {
    pub app: TestApp,
    pub tree: Tree,
    pub election: Uuid,
    pub unit: Uuid,
    pub venue: Uuid,
}

/// A province tree, an election whose campaign is under way, a unit in the commune and a
/// venue there.
pub async fn scene(configure: impl FnOnce(&mut Settings)) -> Scene {
    Scene::on(spawn_app_with(configure).await).await
}

/// The [`scene`] of an app that hands its email to `mail`.
pub async fn scene_mailing(mail: &MemoryMail, configure: impl FnOnce(&mut Settings)) -> Scene {
    Scene::on(spawn_app_mailing(mail, configure).await).await
}

impl Scene {
    async fn on(app: TestApp) -> Self {
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

    pub async fn candidate(&self, name: &str, email: &str, locale: &str) -> Uuid {
        self.candidate_in(self.unit, name, email, locale).await
    }

    pub async fn candidate_in(&self, unit: Uuid, name: &str, email: &str, locale: &str) -> Uuid {
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
    pub fn meeting(&self, title: &str, starts_at: DateTime<Utc>, candidates: &[Uuid]) -> Uuid {
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

    /// A meeting planned through the API at the scene's venue, 80 people expected.
    pub async fn post_meeting(
        &self,
        title: &str,
        starts_at: DateTime<Utc>,
        candidates: &[Uuid],
    ) -> Value {
        self.app
            .post(
                "/meetings",
                &self.app.admin,
                json!({
                    "election_id": self.election,
                    "electoral_unit_ids": [self.unit],
                    "format": "in_person",
                    "title": title,
                    "starts_at": starts_at.to_rfc3339(),
                    "ends_at": (starts_at + Span::hours(3)).to_rfc3339(),
                    "candidate_ids": candidates,
                    "sites": [{"venue_id": self.venue, "expected_attendees": 80}],
                }),
            )
            .await
            .ok(201)
            .clone()
    }
}

pub struct MeetingRow<'a> {
    pub election: Uuid,
    pub unit: Uuid,
    /// In person at this venue; online (in the unit's region) without one.
    pub venue: Option<Uuid>,
    pub title: &'a str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub candidates: &'a [Uuid],
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Runs SQL on the test database.
pub fn sql(app: &TestApp, statement: &str) -> usize {
    diesel::sql_query(statement)
        .execute(&mut app.conn())
        .unwrap_or_else(|e| panic!("{statement}: {e}"))
}

/// A planned meeting (version 1) with its unit, site and candidates, as the migration lays
/// them out: `region_path` is the venue's region path (the unit's for online meetings), and
/// each candidate is busy until 30 minutes after the end.
pub fn insert_meeting(app: &TestApp, m: &MeetingRow<'_>) -> Uuid {
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
    sql(
        app,
        &format!(
            "INSERT INTO meetings (id, province_id, election_id, region_path, format,
                                   online_platform, online_join_url, online_max_participants,
                                   online_expected_attendees, title, starts_at, ends_at)
             SELECT '{id}', r.province_id, '{}', r.path, {online}, {}, {starts}, {ends}
               FROM regions r WHERE r.id = {region}",
            m.election,
            literal(m.title),
        ),
    );
    sql(
        app,
        &format!(
            "INSERT INTO meeting_units (meeting_id, electoral_unit_id, province_id)
             SELECT '{id}', u.id, u.province_id FROM electoral_units u WHERE u.id = '{}'",
            m.unit
        ),
    );
    if let Some(venue) = m.venue {
        sql(
            app,
            &format!(
                "INSERT INTO meeting_sites (id, meeting_id, province_id, venue_id, expected_attendees,
                                            effective_capacity, during)
                 SELECT gen_random_uuid(), '{id}', v.province_id, v.id, 80, v.capacity,
                        tstzrange({starts}, {ends})
                   FROM venues v WHERE v.id = '{venue}'"
            ),
        );
    }
    for candidate in m.candidates {
        sql(
            app,
            &format!(
                "INSERT INTO meeting_candidates (meeting_id, candidate_id, province_id, busy)
                 SELECT '{id}', c.id, c.province_id,
                        tstzrange({starts}, {ends}::timestamptz + interval '30 minutes')
                   FROM candidates c WHERE c.id = '{candidate}'"
            ),
        );
    }
    id
}

/// Cancels a meeting the way the meeting code does: status, released seats, a new version.
pub fn cancel_in_db(app: &TestApp, meeting: Uuid) {
    for statement in [
        format!("UPDATE meetings SET status = 'cancelled', version = version + 1, cancel_reason = 'Mưa bão' WHERE id = '{meeting}'"),
        format!("UPDATE meeting_candidates SET active = false WHERE meeting_id = '{meeting}'"),
        format!("UPDATE meeting_sites SET active = false WHERE meeting_id = '{meeting}'"),
    ] {
        sql(app, &statement);
    }
}

pub async fn queue_schedule(app: &TestApp, candidate: Uuid) -> Uuid {
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
pub async fn outbox_until(app: &TestApp, id: Uuid, done: impl Fn(&Value) -> bool) -> Value {
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

pub async fn sent(app: &TestApp, id: Uuid) -> Value {
    outbox_until(app, id, |v| v["status"] == "sent").await
}

/// Every outbox row, oldest first, as `GET /outbox` lists them.
pub async fn outbox(app: &TestApp, query: &str) -> Vec<Value> {
    app.get(&format!("/outbox?limit=500&{query}"), &app.admin)
        .await
        .ok(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

/// A received email, parsed, with what the tests look at.
pub struct Received {
    pub message_id: String,
    pub subject: String,
    pub to_name: String,
    pub to_address: String,
    pub root_type: String,
    pub text: String,
    pub html: String,
    /// `(file name, content type with parameters, contents)` of each attachment.
    pub attachments: Vec<(String, String, String)>,
}

impl Received {
    /// The calendar attached, parsed.
    pub fn calendar(&self) -> icalendar::Calendar {
        assert_eq!(self.attachments.len(), 1, "one calendar attached");
        self.attachments[0].2.parse().expect("the .ics parses")
    }
}

pub fn parse_mail(raw: &[u8]) -> Received {
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

/// The mails received so far to `address`, oldest first (Message-IDs are UUIDv7).
pub fn mails_to(mail: &impl Mail, address: &str) -> Vec<Received> {
    let mut mails: Vec<Received> = mail
        .messages()
        .iter()
        .map(|r| parse_mail(r))
        .filter(|m| m.to_address == address)
        .collect();
    mails.sort_by(|a, b| a.message_id.cmp(&b.message_id));
    mails
}

pub fn events(ics: &str) -> Vec<Event> {
    let calendar: icalendar::Calendar = ics.parse().expect("the .ics parses");
    calendar.events().cloned().collect()
}

/// A calendar-level property's value (METHOD, REFRESH-INTERVAL …).
pub fn calendar_property(calendar: &icalendar::Calendar, name: &str) -> Option<String> {
    calendar
        .properties
        .iter()
        .find(|p| p.key() == name)
        .map(|p| p.value().to_owned())
}

/// An event's single property (ORGANIZER, STATUS …) and its parameters.
pub fn event_property(event: &Event, name: &str) -> Option<(String, Vec<(String, String)>)> {
    event.properties().get(name).map(|p| {
        (
            p.value().to_owned(),
            p.params()
                .values()
                .map(|param| (param.key().to_owned(), param.value().to_owned()))
                .collect(),
        )
    })
}

pub fn utc(at: DateTime<Utc>) -> Option<DatePerhapsTime> {
    Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at)))
}

pub fn with_sink(sink: &SmtpSink) -> impl FnOnce(&mut Settings) {
    let url = sink.url();
    move |s: &mut Settings| s.smtp_url = Some(url.into())
}
