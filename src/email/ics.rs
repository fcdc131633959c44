//! iCalendar (RFC 5545) for a candidate's meetings: one VEVENT per meeting,
//! with a stable UID and the meeting's SEQUENCE so an update replaces the
//! event a calendar already holds.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};
use uuid::Uuid;

use super::model::{ElectionInfo, MeetingLine};

const PRODID: &str = concat!(
    "-//voter-meetings//voter-meetings ",
    env!("CARGO_PKG_VERSION"),
    "//VI"
);

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

/// A calendar holding one event per meeting, to publish (METHOD:PUBLISH) to a
/// candidate. Times are written in UTC (`...Z`), which every client reads the
/// same way; the election's zone is named for clients that show it.
pub fn calendar(election: &ElectionInfo, meetings: &[MeetingLine], now: DateTime<Utc>) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .append_property(Property::new("X-WR-CALNAME", single_line(&election.name)))
        .append_property(Property::new("X-WR-TIMEZONE", election.timezone.name()));
    for meeting in meetings {
        calendar.push(event(election, meeting, now));
    }
    calendar.to_string()
}

fn event(election: &ElectionInfo, meeting: &MeetingLine, now: DateTime<Utc>) -> Event {
    let mut event = Event::new();
    event
        .uid(&uid(meeting.meeting_id))
        .sequence(u32::try_from(meeting.sequence).unwrap_or(0))
        .timestamp(now)
        .starts(meeting.starts_at)
        .ends(meeting.ends_at)
        .summary(&text(&meeting.title))
        .description(&description(election, meeting))
        .status(if meeting.cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
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
fn description(election: &ElectionInfo, meeting: &MeetingLine) -> String {
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
    if meeting.cancelled {
        lines.push("Hội nghị đã bị hủy / This meeting has been cancelled".to_owned());
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
            electoral_units: vec![
                "Đơn vị bầu cử số 1 (Quốc hội)".to_owned(),
                "Đơn vị bầu cử số 4 (HĐND tỉnh)".to_owned(),
            ],
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 5, 1, 9, 15, 0).unwrap()
    }

    #[test]
    fn the_calendar_publishes_one_event_per_meeting() {
        let ics = calendar(&election(), &[in_person(1, 0), in_person(2, 3)], now());
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
        let ics = calendar(&election(), &[in_person(7, 3)], now());
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
        let ics = calendar(&election(), &[cancelled], now());
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
        let ics = calendar(&election(), &[online], now());
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
        let ics = calendar(&election(), &[in_person(1, 0)], now());
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
        let ics = calendar(&election(), &[sneaky], now());
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
    fn a_negative_sequence_is_written_as_zero() {
        let ics = calendar(&election(), &[in_person(1, -1)], now());
        assert_eq!(value(&events(&ics)[0], "SEQUENCE"), Some("0"));
    }
}
