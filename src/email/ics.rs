//! iCalendar (RFC 5545) for a candidate's meetings: one VEVENT per meeting, with a stable
//! UID and the meeting's SEQUENCE, so a calendar app applies an update to the event it already
//! holds. Schedules and subscribed calendars are published (METHOD:PUBLISH); change notices are
//! iTIP messages (RFC 5546): METHOD:REQUEST for a new or changed meeting, METHOD:CANCEL for a
//! cancelled one, from the ORGANIZER (`MAIL_FROM`) to the candidate as ATTENDEE.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};
use uuid::Uuid;

use super::model::{ElectionInfo, MeetingLine, Organizer, Recipient};
use crate::domain::kinds::IcsMethod;

const PRODID: &str = concat!(
    "-//voter-meetings//voter-meetings ",
    env!("CARGO_PKG_VERSION"),
    "//VI"
);

/// How often a subscribed calendar should fetch the feed again (RFC 7986 REFRESH-INTERVAL,
/// and Outlook's X-PUBLISHED-TTL).
const REFRESH: &str = "PT1H";

/// The event's UID: stable for the life of the meeting, unique to this service.
fn uid(meeting_id: Uuid) -> String {
    format!("{meeting_id}@voter-meetings")
}

/// TEXT values may hold line breaks only as `\n`; a stray CR would end the
/// content line early, so every line break is normalised first.
fn text(value: &str) -> String {
    value.replace("\r\n", "\n").replace('\r', "\n")
}

/// Values the crate writes unescaped (extension properties, URIs) must not
/// hold line breaks at all.
fn single_line(value: &str) -> String {
    value.replace(char::is_control, " ")
}

/// A parameter value (CN) may hold neither control characters nor DQUOTE (RFC 5545 §3.1);
/// the crate quotes it when it holds `:`, `;` or `,`.
fn param(value: &str) -> String {
    single_line(value).replace('"', "'")
}

/// An address as a CAL-ADDRESS, with its common name.
fn calendar_user(key: &str, name: Option<&str>, email: &str) -> Property {
    let mut property = Property::new(key, format!("mailto:{}", single_line(email)));
    if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
        property.add_parameter("CN", &param(name));
    }
    property.done()
}

/// What differs between the calendars the service writes.
pub enum Kind<'a> {
    /// A schedule email's attachment: the events as they are now, stamped `now`.
    Schedule { now: DateTime<Utc> },
    /// A subscribed calendar, polled by calendar apps: each event stamped with its last
    /// change, so the feed stays byte-identical (and its ETag the same) until something
    /// changes.
    Feed { candidate: &'a str },
    /// A change notice to `attendee`: METHOD:REQUEST or METHOD:CANCEL.
    Invitation {
        method: IcsMethod,
        attendee: &'a Recipient,
        now: DateTime<Utc>,
    },
}

impl Kind<'_> {
    pub fn method(&self) -> IcsMethod {
        match self {
            Kind::Schedule { .. } | Kind::Feed { .. } => IcsMethod::Publish,
            Kind::Invitation { method, .. } => *method,
        }
    }
}

/// A calendar holding one event per meeting. Times are written in UTC (`...Z`), which every
/// client reads the same way; the election's zone is named for clients that show it.
pub fn calendar(
    kind: &Kind<'_>,
    election: &ElectionInfo,
    organizer: &Organizer,
    meetings: &[MeetingLine],
) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", kind.method().itip()));
    match kind {
        Kind::Feed { candidate } => {
            let name = single_line(&format!("Lịch tiếp xúc cử tri – {candidate}"));
            calendar
                .append_property(Property::new("NAME", name.clone()))
                .append_property(Property::new("X-WR-CALNAME", name))
                .append_property(
                    Property::new("REFRESH-INTERVAL", REFRESH)
                        .add_parameter("VALUE", "DURATION")
                        .done(),
                )
                .append_property(Property::new("X-PUBLISHED-TTL", REFRESH));
        }
        _ => {
            calendar.append_property(Property::new("X-WR-CALNAME", single_line(&election.name)));
        }
    }
    calendar.append_property(Property::new("X-WR-TIMEZONE", election.timezone.name()));
    for meeting in meetings {
        calendar.push(event(kind, election, organizer, meeting));
    }
    calendar.to_string()
}

fn event(
    kind: &Kind<'_>,
    election: &ElectionInfo,
    organizer: &Organizer,
    meeting: &MeetingLine,
) -> Event {
    let (stamp, cancelled) = match kind {
        Kind::Schedule { now } => (*now, meeting.cancelled),
        Kind::Feed { .. } => (meeting.updated_at, meeting.cancelled),
        Kind::Invitation { method, now, .. } => (*now, *method == IcsMethod::Cancel),
    };
    let mut event = Event::new();
    event
        .uid(&uid(meeting.meeting_id))
        .sequence(u32::try_from(meeting.sequence).unwrap_or(0))
        .timestamp(stamp)
        .starts(meeting.starts_at)
        .ends(meeting.ends_at)
        .summary(&text(&meeting.title))
        .description(&description(election, meeting, cancelled))
        .status(if cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        })
        .append_property(calendar_user(
            "ORGANIZER",
            organizer.name.as_deref(),
            &organizer.email,
        ));
    if let Kind::Invitation { attendee, .. } = kind {
        let mut property = calendar_user("ATTENDEE", Some(&attendee.name), &attendee.email);
        property
            .add_parameter("ROLE", "REQ-PARTICIPANT")
            .add_parameter("PARTSTAT", "NEEDS-ACTION")
            .add_parameter("RSVP", "FALSE");
        event.append_multi_property(property);
    }
    let join_url = meeting.online_join_url.as_deref();
    match join_url {
        Some(url) if meeting.online => event.location(&text(url)),
        _ => event.location(&text(&meeting.location)),
    };
    if let Some(url) = join_url {
        event.url(&single_line(url));
    }
    event.done()
}

/// Calendars are shared across languages, so the description is bilingual.
fn description(election: &ElectionInfo, meeting: &MeetingLine, cancelled: bool) -> String {
    let mut lines = vec![text(&election.name)];
    if !meeting.electoral_units.is_empty() {
        lines.push(format!(
            "Đơn vị bầu cử / Electoral units: {}",
            text(&meeting.electoral_units.join("; "))
        ));
    }
    if meeting.online {
        lines.push("Hình thức: trực tuyến / Format: online".to_owned());
        if let Some(url) = &meeting.online_join_url {
            lines.push(format!("Đường dẫn tham gia / Join link: {}", text(url)));
        }
    }
    if cancelled {
        lines.push("Hội nghị đã bị hủy / This meeting has been cancelled".to_owned());
        if let Some(reason) = &meeting.cancel_reason {
            lines.push(format!("Lý do / Reason: {}", text(reason)));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Unfolds content lines (RFC 5545 §3.1) and splits each into its name
    /// (parameters dropped) and raw value.
    fn content_lines(ics: &str) -> Vec<(String, String)> {
        ics.replace("\r\n ", "")
            .replace("\r\n\t", "")
            .split("\r\n")
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (head, value) = line.split_once(':').unwrap();
                let name = head.split(';').next().unwrap();
                (name.to_owned(), value.to_owned())
            })
            .collect()
    }

    /// The events of a calendar, each as its content lines.
    fn events(ics: &str) -> Vec<Vec<(String, String)>> {
        let mut events = Vec::new();
        let mut current: Option<Vec<(String, String)>> = None;
        for (name, value) in content_lines(ics) {
            match (name.as_str(), value.as_str()) {
                ("BEGIN", "VEVENT") => current = Some(Vec::new()),
                ("END", "VEVENT") => events.push(current.take().unwrap()),
                _ => {
                    if let Some(event) = current.as_mut() {
                        event.push((name, value));
                    }
                }
            }
        }
        events
    }

    fn value<'a>(lines: &'a [(String, String)], name: &str) -> Option<&'a str> {
        lines
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn election() -> ElectionInfo {
        ElectionInfo {
            name: "Bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021–2026"
                .to_owned(),
            timezone: chrono_tz::Asia::Ho_Chi_Minh,
        }
    }

    fn organizer() -> Organizer {
        Organizer {
            name: Some("Ủy ban MTTQ".to_owned()),
            email: "no-reply@voter-meetings.local".to_owned(),
        }
    }

    fn schedule(meetings: &[MeetingLine]) -> String {
        calendar(
            &Kind::Schedule { now: now() },
            &election(),
            &organizer(),
            meetings,
        )
    }

    fn in_person(n: u128, sequence: i32) -> MeetingLine {
        MeetingLine {
            meeting_id: Uuid::from_u128(n),
            sequence,
            title: "Tiếp xúc cử tri xã An Bình, huyện Phú Giáo; kỳ 1".to_owned(),
            starts_at: Utc.with_ymd_and_hms(2021, 5, 10, 1, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2021, 5, 10, 4, 30, 0).unwrap(),
            location: "Hội trường UBND xã An Bình, 12 đường ĐT741".to_owned(),
            online_join_url: None,
            online: false,
            cancelled: false,
            cancel_reason: None,
            electoral_units: vec![
                "Đơn vị bầu cử số 1 (Quốc hội)".to_owned(),
                "Đơn vị bầu cử số 4 (HĐND tỉnh)".to_owned(),
            ],
            updated_at: Utc.with_ymd_and_hms(2021, 4, 30, 2, 0, 0).unwrap(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 5, 1, 9, 15, 0).unwrap()
    }

    #[test]
    fn the_calendar_publishes_one_event_per_meeting() {
        let ics = schedule(&[in_person(1, 0), in_person(2, 3)]);
        let lines = content_lines(&ics);
        assert_eq!(
            lines.first().unwrap(),
            &("BEGIN".into(), "VCALENDAR".into())
        );
        assert_eq!(lines.last().unwrap(), &("END".into(), "VCALENDAR".into()));
        assert_eq!(value(&lines, "VERSION"), Some("2.0"));
        assert_eq!(value(&lines, "METHOD"), Some("PUBLISH"));
        assert!(value(&lines, "PRODID")
            .unwrap()
            .starts_with("-//voter-meetings//"));
        assert_eq!(value(&lines, "X-WR-TIMEZONE"), Some("Asia/Ho_Chi_Minh"));
        assert_eq!(events(&ics).len(), 2);
    }

    #[test]
    fn an_event_carries_uid_sequence_and_utc_times() {
        let ics = schedule(&[in_person(7, 3)]);
        let events = events(&ics);
        let event = &events[0];
        assert_eq!(
            value(event, "UID"),
            Some("00000000-0000-0000-0000-000000000007@voter-meetings")
        );
        assert_eq!(value(event, "SEQUENCE"), Some("3"));
        assert_eq!(value(event, "DTSTAMP"), Some("20210501T091500Z"));
        assert_eq!(value(event, "DTSTART"), Some("20210510T010000Z"));
        assert_eq!(value(event, "DTEND"), Some("20210510T043000Z"));
        assert_eq!(value(event, "STATUS"), Some("CONFIRMED"));
        assert_eq!(
            value(event, "SUMMARY"),
            Some("Tiếp xúc cử tri xã An Bình\\, huyện Phú Giáo\\; kỳ 1")
        );
        assert_eq!(
            value(event, "LOCATION"),
            Some("Hội trường UBND xã An Bình\\, 12 đường ĐT741")
        );
        assert_eq!(value(event, "URL"), None);
        let description = value(event, "DESCRIPTION").unwrap();
        assert!(description.contains(
            "Đơn vị bầu cử / Electoral units: Đơn vị bầu cử số 1 (Quốc hội)\\; Đơn vị bầu cử số 4 (HĐND tỉnh)"
        ));
    }

    #[test]
    fn a_cancelled_meeting_keeps_its_uid_and_is_marked_cancelled() {
        let cancelled = MeetingLine {
            cancelled: true,
            ..in_person(7, 4)
        };
        let ics = schedule(&[cancelled]);
        let events = events(&ics);
        assert_eq!(
            value(&events[0], "UID"),
            Some("00000000-0000-0000-0000-000000000007@voter-meetings")
        );
        assert_eq!(value(&events[0], "SEQUENCE"), Some("4"));
        assert_eq!(value(&events[0], "STATUS"), Some("CANCELLED"));
        assert!(value(&events[0], "DESCRIPTION")
            .unwrap()
            .contains("Hội nghị đã bị hủy / This meeting has been cancelled"));
    }

    #[test]
    fn an_online_meeting_is_located_at_its_join_link() {
        let online = MeetingLine {
            online: true,
            online_join_url: Some("https://meet.example.vn/txct-01?pwd=a1b2".to_owned()),
            location: "Điểm cầu chính: Hội trường tỉnh".to_owned(),
            ..in_person(3, 0)
        };
        let ics = schedule(&[online]);
        let events = events(&ics);
        assert_eq!(
            value(&events[0], "LOCATION"),
            Some("https://meet.example.vn/txct-01?pwd=a1b2")
        );
        assert_eq!(
            value(&events[0], "URL"),
            Some("https://meet.example.vn/txct-01?pwd=a1b2")
        );
    }

    #[test]
    fn long_lines_are_folded_at_75_octets_with_crlf() {
        let ics = schedule(&[in_person(1, 0)]);
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        // The election name is longer than one line, and survives folding.
        assert!(ics.contains("\r\n "));
        assert_eq!(
            value(&content_lines(&ics), "X-WR-CALNAME"),
            Some(election().name.as_str())
        );
    }

    #[test]
    fn a_carriage_return_in_a_title_cannot_break_the_content_line() {
        let sneaky = MeetingLine {
            title: "Hội nghị\r\nSTATUS:CANCELLED".to_owned(),
            ..in_person(1, 0)
        };
        let ics = schedule(&[sneaky]);
        let events = events(&ics);
        assert_eq!(
            value(&events[0], "SUMMARY"),
            Some("Hội nghị\\nSTATUS:CANCELLED")
        );
        let statuses: Vec<_> = events[0].iter().filter(|(n, _)| n == "STATUS").collect();
        assert_eq!(
            statuses,
            vec![&("STATUS".to_owned(), "CONFIRMED".to_owned())]
        );
    }

    #[test]
    fn every_event_names_the_organizer_and_a_published_calendar_no_attendee() {
        let ics = schedule(&[in_person(1, 0)]);
        let event = &events(&ics)[0];
        assert_eq!(
            value(event, "ORGANIZER"),
            Some("mailto:no-reply@voter-meetings.local")
        );
        assert!(ics.contains("ORGANIZER;CN=Ủy ban MTTQ:mailto:"), "{ics}");
        assert_eq!(value(event, "ATTENDEE"), None);
    }

    fn candidate() -> Recipient {
        Recipient {
            name: "Nguyễn Văn A, \"Tư\"\r\nX".to_owned(),
            email: "a@example.vn".to_owned(),
            locale: crate::domain::kinds::Locale::Vi,
        }
    }

    #[test]
    fn an_invitation_requests_the_event_of_its_attendee() {
        let to = candidate();
        let ics = calendar(
            &Kind::Invitation {
                method: IcsMethod::Request,
                attendee: &to,
                now: now(),
            },
            &election(),
            &organizer(),
            &[in_person(7, 2)],
        );
        let lines = content_lines(&ics);
        assert_eq!(value(&lines, "METHOD"), Some("REQUEST"));
        let event = &events(&ics)[0];
        assert_eq!(value(event, "STATUS"), Some("CONFIRMED"));
        assert_eq!(value(event, "SEQUENCE"), Some("2"));
        assert_eq!(value(event, "ATTENDEE"), Some("mailto:a@example.vn"));
        // The name is one quoted parameter value: no line break, no double quote inside.
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains(
                "CN=\"Nguyễn Văn A, 'Tư'  X\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:a@example.vn"
            ),
            "{unfolded}"
        );
    }

    #[test]
    fn a_cancellation_cancels_the_event_even_if_the_line_is_not_cancelled() {
        let to = candidate();
        let removed = in_person(7, 3);
        let ics = calendar(
            &Kind::Invitation {
                method: IcsMethod::Cancel,
                attendee: &to,
                now: now(),
            },
            &election(),
            &organizer(),
            &[removed],
        );
        assert_eq!(value(&content_lines(&ics), "METHOD"), Some("CANCEL"));
        let event = &events(&ics)[0];
        assert_eq!(value(event, "STATUS"), Some("CANCELLED"));
        assert_eq!(value(event, "SEQUENCE"), Some("3"));
        assert_eq!(value(event, "ATTENDEE"), Some("mailto:a@example.vn"));
    }

    #[test]
    fn a_feed_asks_to_be_refreshed_and_is_stamped_with_each_meetings_last_change() {
        let feed = || {
            calendar(
                &Kind::Feed {
                    candidate: "Lý Thị Tâm",
                },
                &election(),
                &organizer(),
                &[
                    in_person(1, 0),
                    MeetingLine {
                        cancelled: true,
                        cancel_reason: Some("Mưa bão".to_owned()),
                        ..in_person(2, 4)
                    },
                ],
            )
        };
        let ics = feed();
        let lines = content_lines(&ics);
        assert_eq!(value(&lines, "METHOD"), Some("PUBLISH"));
        assert_eq!(value(&lines, "REFRESH-INTERVAL"), Some("PT1H"));
        assert!(ics.contains("REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n"));
        assert_eq!(value(&lines, "X-PUBLISHED-TTL"), Some("PT1H"));
        assert_eq!(
            value(&lines, "X-WR-CALNAME"),
            Some("Lịch tiếp xúc cử tri – Lý Thị Tâm")
        );
        let events = events(&ics);
        assert_eq!(value(&events[0], "DTSTAMP"), Some("20210430T020000Z"));
        assert_eq!(value(&events[1], "STATUS"), Some("CANCELLED"));
        assert!(value(&events[1], "DESCRIPTION")
            .unwrap()
            .contains("Lý do / Reason: Mưa bão"));
        // Nothing in it depends on when it is asked for: its ETag holds until a meeting
        // changes.
        assert_eq!(ics, feed());
    }

    #[test]
    fn a_negative_sequence_is_written_as_zero() {
        let ics = schedule(&[in_person(1, -1)]);
        assert_eq!(value(&events(&ics)[0], "SEQUENCE"), Some("0"));
    }
}
