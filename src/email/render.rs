//! The emails the service sends, rendered from templates: pure, no I/O. Each mail is laid out
//! here as lines of labelled values (the words come from `locale`), the templates only place
//! them in text and HTML, and the calendar comes from `ics`.

use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::ics::{self, Kind};
use super::locale::{self, day, when, words, zone_note, Words};
use super::model::{
    Attachment, AttentionMeeting, Change, ChangedMeeting, ElectionInfo, MeetingLine, NoticeKind,
    Organizer, Placement, Recipient, RenderedMail,
};
use crate::domain::kinds::{IcsMethod, Locale};

/// One labelled value of a meeting; `href` when the value is a link worth following.
struct Row {
    label: &'static str,
    value: String,
    href: Option<String>,
}

impl Row {
    fn new(label: &'static str, value: impl Into<String>) -> Self {
        Row {
            label,
            value: value.into(),
            href: None,
        }
    }

    /// Only http(s) links become `href`s; anything else is shown as text.
    fn link(label: &'static str, url: &str) -> Self {
        let is_web = url.starts_with("https://") || url.starts_with("http://");
        Row {
            label,
            value: url.to_owned(),
            href: is_web.then(|| url.to_owned()),
        }
    }
}

/// One meeting of a candidate's mail.
struct Item {
    tag: Option<&'static str>,
    /// Off the candidate's calendar: struck through in HTML.
    off: bool,
    title: String,
    rows: Vec<Row>,
    note: Option<&'static str>,
}

/// What every mail to a candidate holds.
struct CandidateMail<'a> {
    words: &'static Words,
    /// What happened, first of all (change notices).
    headline: Option<String>,
    name: &'a str,
    intro: Option<String>,
    election: &'a str,
    zone_note: String,
    items: Vec<Item>,
    /// Said instead of the items when there are none.
    empty: Option<&'static str>,
    ics_note: Option<&'static str>,
    subscribe: Option<(&'static str, String)>,
    /// Only the notice to a previous address: it lists no meetings.
    listing: bool,
}

#[derive(Template)]
#[template(path = "email/candidate.txt")]
struct CandidateText<'a> {
    mail: &'a CandidateMail<'a>,
}

#[derive(Template)]
#[template(path = "email/candidate.html")]
struct CandidateHtml<'a> {
    mail: &'a CandidateMail<'a>,
}

struct AttentionView {
    title: String,
    when: String,
    place: String,
    /// `(what is wrong, what to do)`.
    problems: Vec<(String, String)>,
    link: Option<String>,
}

struct AttentionMail<'a> {
    to_email: &'a str,
    election: &'a str,
    zone_note: String,
    intro: String,
    meetings: Vec<AttentionView>,
}

#[derive(Template)]
#[template(path = "email/attention.txt")]
struct AttentionText<'a> {
    mail: &'a AttentionMail<'a>,
}

#[derive(Template)]
#[template(path = "email/attention.html")]
struct AttentionHtml<'a> {
    mail: &'a AttentionMail<'a>,
}

/// A header value: a title typed before the text rules (or imported) may hold a line break.
fn header_text(s: &str) -> String {
    s.replace(char::is_control, " ")
}

fn render(mail: &CandidateMail<'_>) -> Result<(String, String), askama::Error> {
    Ok((
        CandidateText { mail }.render()?,
        CandidateHtml { mail }.render()?,
    ))
}

fn place(w: &Words, p: &Placement) -> String {
    match (p.location.is_empty(), p.online) {
        (false, _) => p.location.clone(),
        (true, true) => w.online.to_owned(),
        (true, false) => String::new(),
    }
}

/// The rows every listed meeting shows: time, format, place, join link, units.
fn meeting_rows(w: &Words, tz: Tz, locale: Locale, m: &MeetingLine) -> Vec<Row> {
    let mut rows = vec![
        Row::new(w.time, when(locale, tz, m.starts_at, m.ends_at)),
        Row::new(w.format, if m.online { w.online } else { w.in_person }),
    ];
    if !m.location.is_empty() {
        rows.push(Row::new(w.place, m.location.clone()));
    }
    if let Some(url) = &m.online_join_url {
        rows.push(Row::link(w.join, url));
    }
    if !m.electoral_units.is_empty() {
        rows.push(Row::new(w.units, m.electoral_units.join("; ")));
    }
    rows
}

/// The rows of a rescheduled meeting: old and new time and place, each said once when it
/// did not change.
fn rescheduled_rows(
    w: &Words,
    tz: Tz,
    locale: Locale,
    before: &Placement,
    m: &MeetingLine,
) -> Vec<Row> {
    let after = m.placement();
    let when_of = |p: &Placement| when(locale, tz, p.starts_at, p.ends_at);
    let mut rows = Vec::new();
    if before.same_time(&after) {
        rows.push(Row::new(
            w.time,
            format!("{} ({})", when_of(&after), w.unchanged),
        ));
    } else {
        rows.push(Row::new(w.time_before, when_of(before)));
        rows.push(Row::new(w.time_after, when_of(&after)));
    }
    if before.same_place(&after) {
        rows.push(Row::new(
            w.place,
            format!("{} ({})", place(w, &after), w.unchanged),
        ));
    } else {
        rows.push(Row::new(w.place_before, place(w, before)));
        rows.push(Row::new(w.place_after, place(w, &after)));
    }
    rows.push(Row::new(
        w.format,
        if m.online { w.online } else { w.in_person },
    ));
    if let Some(url) = &m.online_join_url {
        rows.push(Row::link(w.join, url));
    }
    if !m.electoral_units.is_empty() {
        rows.push(Row::new(w.units, m.electoral_units.join("; ")));
    }
    rows
}

fn changed_item(w: &Words, tz: Tz, locale: Locale, c: &ChangedMeeting) -> Item {
    let m = &c.line;
    match &c.change {
        Change::New => Item {
            tag: Some(w.new_tag),
            off: false,
            title: m.title.clone(),
            rows: meeting_rows(w, tz, locale, m),
            note: None,
        },
        Change::Rescheduled { before } => Item {
            tag: Some(w.rescheduled_tag),
            off: false,
            title: m.title.clone(),
            rows: rescheduled_rows(w, tz, locale, before, m),
            note: None,
        },
        Change::Cancelled => {
            let mut rows = vec![Row::new(w.time, when(locale, tz, m.starts_at, m.ends_at))];
            let where_ = place(w, &m.placement());
            if !where_.is_empty() {
                rows.push(Row::new(w.place, where_));
            }
            if let Some(reason) = m.cancel_reason.as_deref().filter(|r| !r.trim().is_empty()) {
                rows.push(Row::new(w.reason, reason));
            }
            Item {
                tag: Some(w.cancelled_tag),
                off: true,
                title: m.title.clone(),
                rows,
                note: Some(w.cancelled),
            }
        }
        Change::Removed => Item {
            tag: Some(w.removed_tag),
            off: true,
            title: m.title.clone(),
            rows: vec![Row::new(w.time, when(locale, tz, m.starts_at, m.ends_at))],
            note: Some(w.removed),
        },
    }
}

/// A candidate's schedule: every meeting given (the caller picks the upcoming ones), soonest
/// first, with an `.ics` holding one event each (METHOD:PUBLISH) and the candidate's calendar
/// subscription link.
pub fn schedule_mail(
    to: &Recipient,
    election: &ElectionInfo,
    organizer: &Organizer,
    meetings: &[MeetingLine],
    subscription_url: &str,
    now: DateTime<Utc>,
) -> Result<RenderedMail, askama::Error> {
    let w = words(to.locale);
    let tz = election.timezone;
    let mut sorted: Vec<&MeetingLine> = meetings.iter().collect();
    sorted.sort_by_key(|m| (m.starts_at, m.meeting_id));
    let mail = CandidateMail {
        words: w,
        headline: None,
        name: &to.name,
        intro: Some(w.schedule_intro.to_owned()),
        election: &election.name,
        zone_note: zone_note(to.locale, tz),
        items: sorted
            .iter()
            .map(|m| Item {
                tag: None,
                off: false,
                title: m.title.clone(),
                rows: meeting_rows(w, tz, to.locale, m),
                note: None,
            })
            .collect(),
        empty: Some(w.schedule_empty),
        ics_note: (!meetings.is_empty()).then_some(w.schedule_ics),
        subscribe: Some((w.subscribe, subscription_url.to_owned())),
        listing: true,
    };
    let (text, html) = render(&mail)?;
    Ok(RenderedMail {
        subject: header_text(&format!("{} – {}", w.schedule_subject, election.name)),
        text,
        html,
        // An iCalendar object must hold at least one component (RFC 5545 §3.6).
        calendar: (!meetings.is_empty()).then(|| Attachment {
            method: IcsMethod::Publish,
            ics: ics::calendar(&Kind::Schedule { now }, election, organizer, meetings),
        }),
    })
}

/// One notice to a candidate for the meetings of theirs that one request changed, all applied
/// to their calendar by the same iTIP method (the caller groups requests and cancellations
/// apart: one calendar attachment carries one method). Its subject and first line say what
/// happened; a reschedule shows the old and the new time and place, a cancellation its reason.
pub fn change_notice(
    to: &Recipient,
    election: &ElectionInfo,
    organizer: &Organizer,
    changes: &[ChangedMeeting],
    now: DateTime<Utc>,
) -> Result<RenderedMail, askama::Error> {
    let w = words(to.locale);
    let tz = election.timezone;
    let mut sorted: Vec<&ChangedMeeting> = changes.iter().collect();
    sorted.sort_by_key(|c| (c.line.starts_at, c.line.meeting_id));
    let kind = NoticeKind::of(changes);
    let method = changes
        .first()
        .map_or(IcsMethod::Request, |c| c.change.method());
    let (title, first_day) = sorted.first().map_or((String::new(), String::new()), |c| {
        (c.line.title.clone(), day(to.locale, tz, c.line.starts_at))
    });
    let removed = matches!(sorted.as_slice(), [c] if c.change == Change::Removed);
    let mail = CandidateMail {
        words: w,
        headline: Some(locale::notice_headline(
            to.locale,
            kind,
            &title,
            removed,
            changes.len(),
        )),
        name: &to.name,
        intro: None,
        election: &election.name,
        zone_note: zone_note(to.locale, tz),
        items: sorted
            .iter()
            .map(|c| changed_item(w, tz, to.locale, c))
            .collect(),
        empty: None,
        ics_note: Some(match method {
            IcsMethod::Cancel => w.cancel_ics,
            IcsMethod::Request | IcsMethod::Publish => w.request_ics,
        }),
        subscribe: None,
        listing: true,
    };
    let (text, html) = render(&mail)?;
    let lines: Vec<MeetingLine> = sorted.iter().map(|c| c.line.clone()).collect();
    Ok(RenderedMail {
        subject: header_text(&locale::notice_subject(
            to.locale,
            kind,
            &title,
            &first_day,
            changes.len(),
        )),
        text,
        html,
        calendar: (!lines.is_empty()).then(|| Attachment {
            method,
            ics: ics::calendar(
                &Kind::Invitation {
                    method,
                    attendee: to,
                    now,
                },
                election,
                organizer,
                &lines,
            ),
        }),
    })
}

/// Tells a candidate's previous address that their mail now goes elsewhere: the real
/// candidate learns of a change they did not ask for.
pub fn email_changed_notice(
    to: &Recipient,
    election: &ElectionInfo,
    new_address: &str,
) -> Result<RenderedMail, askama::Error> {
    let w = words(to.locale);
    let mail = CandidateMail {
        words: w,
        headline: Some(locale::email_changed(
            to.locale,
            &to.name,
            &election.name,
            new_address,
        )),
        name: &to.name,
        intro: Some(w.email_changed_unasked.to_owned()),
        election: &election.name,
        zone_note: String::new(),
        items: Vec::new(),
        empty: None,
        ics_note: None,
        subscribe: None,
        listing: false,
    };
    let (text, html) = render(&mail)?;
    Ok(RenderedMail {
        subject: w.email_changed_subject.to_owned(),
        text,
        html,
        calendar: None,
    })
}

/// Tells an organizing committee, in Vietnamese, which planned meetings cannot go ahead as
/// planned, why (venues and rules by name and reference), and what to do; each meeting links
/// to its page in the console when `public_url` is set.
pub fn attention_notice(
    to_email: &str,
    election: &ElectionInfo,
    rule_reference: Option<&str>,
    meetings: &[AttentionMeeting],
    public_url: Option<&str>,
) -> Result<RenderedMail, askama::Error> {
    let tz = election.timezone;
    let w = words(Locale::Vi);
    let mut sorted: Vec<&AttentionMeeting> = meetings.iter().collect();
    sorted.sort_by_key(|m| (m.starts_at, m.meeting_id));
    let intro = match rule_reference {
        Some(reference) => format!(
            "Sau khi quy định phòng, chống dịch “{reference}” được ban hành hoặc sửa đổi, các hội nghị tiếp xúc cử tri đã lên kế hoạch dưới đây không còn tổ chức được như dự kiến."
        ),
        None => "Các hội nghị tiếp xúc cử tri đã lên kế hoạch dưới đây không còn tổ chức được như dự kiến.".to_owned(),
    };
    let mail = AttentionMail {
        to_email,
        election: &election.name,
        zone_note: zone_note(Locale::Vi, tz),
        intro,
        meetings: sorted
            .into_iter()
            .map(|m| AttentionView {
                title: m.title.clone(),
                when: when(Locale::Vi, tz, m.starts_at, m.ends_at),
                place: if m.venues.is_empty() {
                    w.online.to_owned()
                } else {
                    m.venues.join("; ")
                },
                problems: m
                    .problems
                    .iter()
                    .map(|p| locale::attention_problem(p, tz))
                    .collect(),
                link: public_url.map(|base| {
                    format!("{}/meetings/{}", base.trim_end_matches('/'), m.meeting_id)
                }),
            })
            .collect(),
    };
    let count = meetings.len();
    Ok(RenderedMail {
        subject: header_text(&format!(
            "Cần xem lại {count} hội nghị tiếp xúc cử tri – {}",
            election.name
        )),
        text: AttentionText { mail: &mail }.render()?,
        html: AttentionHtml { mail: &mail }.render()?,
        calendar: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    use crate::email::model::{AttentionProblem, RuleName};

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

    fn candidate(locale: Locale) -> Recipient {
        Recipient {
            name: "Nguyễn Thị Lan".to_owned(),
            email: "lan@example.vn".to_owned(),
            locale,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 5, 1, 2, 0, 0).unwrap()
    }

    const LINK: &str = "https://vm.example.vn/calendars/0123abcd.ics";

    /// 10 May 2021, 01:00–04:00 UTC: 08:00–11:00 in Hồ Chí Minh City.
    fn meeting(n: u128) -> MeetingLine {
        MeetingLine {
            meeting_id: Uuid::from_u128(n),
            sequence: 1,
            title: "Tiếp xúc cử tri xã An Bình".to_owned(),
            starts_at: Utc.with_ymd_and_hms(2021, 5, 10, 1, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2021, 5, 10, 4, 0, 0).unwrap(),
            location: "Hội trường UBND xã An Bình, 12 ĐT741".to_owned(),
            online_join_url: None,
            online: false,
            cancelled: false,
            cancel_reason: None,
            electoral_units: vec!["Đơn vị bầu cử số 1".to_owned()],
            updated_at: now(),
        }
    }

    fn schedule(locale: Locale, meetings: &[MeetingLine]) -> RenderedMail {
        schedule_mail(
            &candidate(locale),
            &election(),
            &organizer(),
            meetings,
            LINK,
            now(),
        )
        .unwrap()
    }

    fn notice(locale: Locale, changes: &[ChangedMeeting]) -> RenderedMail {
        change_notice(
            &candidate(locale),
            &election(),
            &organizer(),
            changes,
            now(),
        )
        .unwrap()
    }

    /// The values of every content line named `name` in an unfolded `.ics`.
    fn ics_values(ics: &str, name: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .filter_map(|line| {
                let (head, value) = line.split_once(':')?;
                (head.split(';').next() == Some(name)).then(|| value.to_owned())
            })
            .collect()
    }

    fn calendar(mail: &RenderedMail) -> (IcsMethod, &str) {
        let c = mail.calendar.as_ref().expect("a calendar");
        (c.method, c.ics.as_str())
    }

    #[test]
    fn the_schedule_is_written_in_vietnamese_for_a_vietnamese_candidate() {
        let mail = schedule(Locale::Vi, &[meeting(1)]);
        assert_eq!(
            mail.subject,
            "Lịch tiếp xúc cử tri – Bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021–2026"
        );
        for body in [&mail.text, &mail.html] {
            assert!(body.contains("Kính gửi ông/bà Nguyễn Thị Lan,"), "{body}");
            assert!(body.contains("Thời gian: 08:00–11:00, Thứ Hai, 10/05/2021 (GMT+7)"));
            assert!(body.contains("Địa điểm: Hội trường UBND xã An Bình"));
            assert!(body.contains("Đơn vị bầu cử: Đơn vị bầu cử số 1"));
            assert!(body.contains("Thời gian tính theo múi giờ Asia/Ho_Chi_Minh."));
            assert!(body.contains("đăng ký (subscribe) lịch"));
            assert!(body.contains(LINK));
            assert!(!body.contains("Monday"));
        }
        assert!(mail.text.starts_with("Kính gửi ông/bà Nguyễn Thị Lan,\n"));
        assert!(mail.html.contains("<html lang=\"vi\">"));
        assert!(mail.html.contains(&format!("<a href=\"{LINK}\">")));
        let (method, ics) = calendar(&mail);
        assert_eq!(method, IcsMethod::Publish);
        assert_eq!(ics_values(ics, "METHOD"), ["PUBLISH"]);
        assert_eq!(ics_values(ics, "ATTENDEE"), Vec::<String>::new());
    }

    #[test]
    fn the_schedule_is_written_in_english_for_an_english_candidate() {
        let mail = schedule(Locale::En, &[meeting(1)]);
        assert!(mail
            .subject
            .starts_with("Your voter-contact meeting schedule – "));
        for body in [&mail.text, &mail.html] {
            assert!(body.contains("Dear Nguyễn Thị Lan,"));
            assert!(body.contains("Time: Monday 10 May 2021, 08:00–11:00 (GMT+7)"));
            assert!(body.contains("Place: Hội trường UBND xã An Bình"));
            assert!(body.contains("subscribe to your own calendar"));
            assert!(!body.contains("Thứ Hai"));
        }
        assert!(mail.html.contains("<html lang=\"en\">"));
    }

    #[test]
    fn the_schedule_lists_meetings_soonest_first_with_one_calendar_event_each() {
        let later = MeetingLine {
            title: "Hội nghị thứ hai".to_owned(),
            starts_at: Utc.with_ymd_and_hms(2021, 5, 11, 1, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2021, 5, 11, 3, 0, 0).unwrap(),
            ..meeting(2)
        };
        let mail = schedule(Locale::Vi, &[later, meeting(1)]);
        assert!(mail.text.contains("1. Tiếp xúc cử tri xã An Bình"));
        assert!(mail.text.contains("2. Hội nghị thứ hai"));
        let (_, ics) = calendar(&mail);
        assert_eq!(ics_values(ics, "BEGIN"), ["VCALENDAR", "VEVENT", "VEVENT"]);
        assert_eq!(
            ics_values(ics, "DTSTART"),
            ["20210511T010000Z", "20210510T010000Z"]
        );
    }

    #[test]
    fn an_empty_schedule_says_so_attaches_no_calendar_and_still_gives_the_link() {
        let mail = schedule(Locale::Vi, &[]);
        assert!(mail
            .text
            .contains("Hiện ông/bà chưa có hội nghị tiếp xúc cử tri nào sắp diễn ra."));
        assert!(mail.html.contains("<p>Hiện ông/bà chưa có hội nghị"));
        assert!(!mail.text.contains(".ics)"));
        assert!(mail.text.contains(LINK));
        assert_eq!(mail.calendar, None);
    }

    #[test]
    fn an_online_meeting_shows_its_join_link() {
        let online = MeetingLine {
            online: true,
            online_join_url: Some("https://meet.example.vn/txct?id=7&pwd=x".to_owned()),
            location: String::new(),
            ..meeting(1)
        };
        let mail = schedule(Locale::Vi, &[online]);
        assert!(mail.text.contains("Hình thức: trực tuyến"));
        assert!(mail
            .text
            .contains("Đường dẫn tham gia: https://meet.example.vn/txct?id=7&pwd=x"));
        assert!(!mail.text.contains("Địa điểm"));
        assert!(mail
            .html
            .contains("<a href=\"https://meet.example.vn/txct?id=7&#38;pwd=x\">"));
    }

    #[test]
    fn a_join_link_that_is_not_http_is_not_made_a_link() {
        let online = MeetingLine {
            online: true,
            online_join_url: Some("javascript:alert(1)".to_owned()),
            ..meeting(1)
        };
        let mail = schedule(Locale::En, &[online]);
        assert!(mail.html.contains("Join link: javascript:alert(1)"));
        assert!(!mail.html.contains("href=\"javascript"));
    }

    #[test]
    fn html_escapes_what_organizers_typed() {
        let sneaky = MeetingLine {
            title: "Hội nghị <script>alert(1)</script> & \"bàn tròn\"".to_owned(),
            ..meeting(1)
        };
        let mail = schedule(Locale::Vi, &[sneaky]);
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains(
            "Hội nghị &#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;bàn tròn&#34;"
        ));
        // Plain text is not HTML and keeps the title as typed.
        assert!(mail
            .text
            .contains("Hội nghị <script>alert(1)</script> & \"bàn tròn\""));
    }

    #[test]
    fn a_new_meeting_is_announced_as_new_and_requested_in_the_calendar() {
        let new = ChangedMeeting {
            line: meeting(1),
            change: Change::New,
        };
        let vi = notice(Locale::Vi, std::slice::from_ref(&new));
        assert_eq!(
            vi.subject,
            "Hội nghị tiếp xúc cử tri mới: Tiếp xúc cử tri xã An Bình, 10/05/2021"
        );
        assert!(vi.text.starts_with(
            "Ông/bà có một hội nghị tiếp xúc cử tri mới: “Tiếp xúc cử tri xã An Bình”.\n\nKính gửi ông/bà Nguyễn Thị Lan,"
        ));
        assert!(vi.text.contains("1. [MỚI] Tiếp xúc cử tri xã An Bình"));
        let (method, ics) = calendar(&vi);
        assert_eq!(method, IcsMethod::Request);
        assert_eq!(ics_values(ics, "METHOD"), ["REQUEST"]);
        assert_eq!(
            ics_values(ics, "ORGANIZER"),
            ["mailto:no-reply@voter-meetings.local"]
        );
        assert_eq!(ics_values(ics, "ATTENDEE"), ["mailto:lan@example.vn"]);
        assert_eq!(
            ics_values(ics, "UID"),
            ["00000000-0000-0000-0000-000000000001@voter-meetings"]
        );
        let en = notice(Locale::En, &[new]);
        assert_eq!(
            en.subject,
            "New voter-contact meeting: Tiếp xúc cử tri xã An Bình, 10 May 2021"
        );
        assert!(en
            .text
            .starts_with("You have a new voter-contact meeting: “Tiếp xúc cử tri xã An Bình”."));
    }

    #[test]
    fn a_reschedule_shows_the_old_and_the_new_time_and_place() {
        let before = meeting(1).placement();
        let moved = ChangedMeeting {
            line: MeetingLine {
                sequence: 3,
                starts_at: Utc.with_ymd_and_hms(2021, 5, 11, 7, 0, 0).unwrap(),
                ends_at: Utc.with_ymd_and_hms(2021, 5, 11, 9, 0, 0).unwrap(),
                location: "Nhà văn hóa thôn 3, xã An Bình".to_owned(),
                ..meeting(1)
            },
            change: Change::Rescheduled { before },
        };
        let vi = notice(Locale::Vi, std::slice::from_ref(&moved));
        assert_eq!(
            vi.subject,
            "Đổi lịch hội nghị tiếp xúc cử tri: Tiếp xúc cử tri xã An Bình, 11/05/2021"
        );
        assert!(vi.text.starts_with(
            "Hội nghị tiếp xúc cử tri “Tiếp xúc cử tri xã An Bình” của ông/bà đã được đổi lịch."
        ));
        for body in [&vi.text, &vi.html] {
            assert!(body.contains("Thời gian cũ: 08:00–11:00, Thứ Hai, 10/05/2021 (GMT+7)"));
            assert!(body.contains("Thời gian mới: 14:00–16:00, Thứ Ba, 11/05/2021 (GMT+7)"));
            assert!(body.contains("Địa điểm cũ: Hội trường UBND xã An Bình, 12 ĐT741"));
            assert!(body.contains("Địa điểm mới: Nhà văn hóa thôn 3, xã An Bình"));
        }
        let (method, ics) = calendar(&vi);
        assert_eq!(method, IcsMethod::Request);
        assert_eq!(ics_values(ics, "SEQUENCE"), ["3"]);
        assert_eq!(ics_values(ics, "DTSTART"), ["20210511T070000Z"]);

        let en = notice(Locale::En, &[moved]);
        assert!(en
            .text
            .contains("Previous time: Monday 10 May 2021, 08:00–11:00 (GMT+7)"));
        assert!(en
            .text
            .contains("New time: Tuesday 11 May 2021, 14:00–16:00 (GMT+7)"));
        let same_place = ChangedMeeting {
            line: MeetingLine {
                starts_at: Utc.with_ymd_and_hms(2021, 5, 11, 7, 0, 0).unwrap(),
                ends_at: Utc.with_ymd_and_hms(2021, 5, 11, 9, 0, 0).unwrap(),
                ..meeting(1)
            },
            change: Change::Rescheduled {
                before: meeting(1).placement(),
            },
        };
        let en = notice(Locale::En, &[same_place]);
        assert!(en
            .text
            .contains("Place: Hội trường UBND xã An Bình, 12 ĐT741 (unchanged)"));
    }

    #[test]
    fn a_cancellation_gives_its_reason_and_cancels_the_event() {
        let cancelled = ChangedMeeting {
            line: MeetingLine {
                sequence: 2,
                cancelled: true,
                cancel_reason: Some("Mưa bão lớn".to_owned()),
                ..meeting(1)
            },
            change: Change::Cancelled,
        };
        let vi = notice(Locale::Vi, std::slice::from_ref(&cancelled));
        assert_eq!(
            vi.subject,
            "Hủy hội nghị tiếp xúc cử tri: Tiếp xúc cử tri xã An Bình, 10/05/2021"
        );
        assert!(vi.text.starts_with(
            "Hội nghị tiếp xúc cử tri “Tiếp xúc cử tri xã An Bình” của ông/bà đã bị hủy."
        ));
        assert!(vi.text.contains("Lý do hủy: Mưa bão lớn"));
        assert!(vi.text.contains("1. [ĐÃ HỦY] Tiếp xúc cử tri xã An Bình"));
        let (method, ics) = calendar(&vi);
        assert_eq!(method, IcsMethod::Cancel);
        assert_eq!(ics_values(ics, "METHOD"), ["CANCEL"]);
        assert_eq!(ics_values(ics, "STATUS"), ["CANCELLED"]);
        assert_eq!(ics_values(ics, "SEQUENCE"), ["2"]);
        let en = notice(Locale::En, &[cancelled]);
        assert!(en.subject.starts_with("Voter-contact meeting cancelled: "));
        assert!(en.text.contains("Reason: Mưa bão lớn"));
    }

    #[test]
    fn a_candidate_taken_off_a_meeting_is_told_so_and_the_event_cancelled() {
        let removed = ChangedMeeting {
            line: MeetingLine {
                cancelled: true,
                ..meeting(1)
            },
            change: Change::Removed,
        };
        let vi = notice(Locale::Vi, &[removed]);
        assert!(vi.subject.starts_with("Hủy hội nghị tiếp xúc cử tri: "));
        assert!(vi.text.starts_with(
            "Ông/bà không còn tham dự hội nghị tiếp xúc cử tri “Tiếp xúc cử tri xã An Bình”."
        ));
        assert_eq!(calendar(&vi).0, IcsMethod::Cancel);
    }

    /// Replaces the test that asserted METHOD:PUBLISH on a change notice: SPEC §5 now asks
    /// for REQUEST (new or changed) and CANCEL (cancelled), one method per calendar, so the
    /// notices split by method and each names ORGANIZER and ATTENDEE.
    #[test]
    fn several_changes_in_one_request_are_one_notice_per_method() {
        let new = ChangedMeeting {
            line: meeting(1),
            change: Change::New,
        };
        let moved = ChangedMeeting {
            line: MeetingLine {
                sequence: 2,
                title: "Tiếp xúc cử tri thị trấn Phước Vĩnh".to_owned(),
                starts_at: Utc.with_ymd_and_hms(2021, 5, 14, 1, 0, 0).unwrap(),
                ends_at: Utc.with_ymd_and_hms(2021, 5, 14, 3, 0, 0).unwrap(),
                ..meeting(2)
            },
            change: Change::Rescheduled {
                before: meeting(2).placement(),
            },
        };
        let vi = notice(Locale::Vi, &[moved, new]);
        assert_eq!(vi.subject, "Thay đổi lịch tiếp xúc cử tri: 2 hội nghị");
        assert!(vi
            .text
            .starts_with("Lịch tiếp xúc cử tri của ông/bà có 2 thay đổi."));
        assert!(vi.text.contains("1. [MỚI] Tiếp xúc cử tri xã An Bình"));
        assert!(vi
            .text
            .contains("2. [ĐỔI LỊCH] Tiếp xúc cử tri thị trấn Phước Vĩnh"));
        let (method, ics) = calendar(&vi);
        assert_eq!(method, IcsMethod::Request);
        assert_eq!(ics_values(ics, "METHOD"), ["REQUEST"]);
        assert_eq!(
            ics_values(ics, "UID"),
            [
                "00000000-0000-0000-0000-000000000001@voter-meetings",
                "00000000-0000-0000-0000-000000000002@voter-meetings"
            ]
        );
        assert_eq!(ics_values(ics, "SEQUENCE"), ["1", "2"]);
        assert_eq!(ics_values(ics, "ATTENDEE").len(), 2);
        let en = notice(
            Locale::En,
            &[
                ChangedMeeting {
                    line: meeting(1),
                    change: Change::New,
                },
                ChangedMeeting {
                    line: meeting(3),
                    change: Change::New,
                },
            ],
        );
        assert_eq!(en.subject, "Changes to 2 of your voter-contact meetings");
    }

    #[test]
    fn the_previous_address_hears_where_the_mail_goes_now() {
        let to = Recipient {
            email: "old@example.vn".to_owned(),
            ..candidate(Locale::Vi)
        };
        let mail = email_changed_notice(&to, &election(), "new@example.vn").unwrap();
        assert_eq!(
            mail.subject,
            "Địa chỉ email nhận lịch tiếp xúc cử tri đã thay đổi"
        );
        assert!(mail.text.contains("sang new@example.vn"));
        assert!(mail.text.contains("Nếu ông/bà không yêu cầu thay đổi này"));
        assert!(!mail.text.contains("Thời gian tính theo"));
        assert_eq!(mail.calendar, None);
    }

    fn flagged(n: u128, problems: Vec<AttentionProblem>) -> AttentionMeeting {
        AttentionMeeting {
            meeting_id: Uuid::from_u128(n),
            title: "Tiếp xúc cử tri phường 3".to_owned(),
            starts_at: Utc.with_ymd_and_hms(2021, 5, 12, 7, 30, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2021, 5, 12, 10, 0, 0).unwrap(),
            venues: vec!["Hội trường A".to_owned()],
            problems,
        }
    }

    fn directive() -> RuleName {
        RuleName {
            reference: Some("Chỉ thị 15/CT-TTg".to_owned()),
            region: "Tỉnh Bình Dương".to_owned(),
            effective_from: Utc.with_ymd_and_hms(2021, 5, 1, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_committee_notice_names_meetings_venues_and_rules_and_says_what_to_do() {
        let nameless = RuleName {
            reference: None,
            ..directive()
        };
        let mail = attention_notice(
            "mttq.anbinh@example.vn",
            &election(),
            Some("Chỉ thị 15/CT-TTg"),
            &[
                flagged(
                    2,
                    vec![AttentionProblem::OverCapacity {
                        venue: "Hội trường A".to_owned(),
                        expected: 80,
                        allowed: 30,
                        rule: Some(directive()),
                    }],
                ),
                AttentionMeeting {
                    starts_at: Utc.with_ymd_and_hms(2021, 5, 11, 7, 30, 0).unwrap(),
                    ..flagged(
                        1,
                        vec![AttentionProblem::InPersonBanned {
                            venue: "Hội trường A".to_owned(),
                            rule: nameless,
                        }],
                    )
                },
            ],
            Some("https://vm.example.vn/"),
        )
        .unwrap();
        assert_eq!(mail.calendar, None);
        assert_eq!(
            mail.subject,
            "Cần xem lại 2 hội nghị tiếp xúc cử tri – Bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021–2026"
        );
        for body in [&mail.text, &mail.html] {
            assert!(body.contains("Kính gửi Ban tổ chức,"));
            assert!(body.contains("Chỉ thị 15/CT-TTg"));
            assert!(body.contains("Thời gian: 14:30–17:00, Thứ Tư, 12/05/2021 (GMT+7)"));
            assert!(body.contains("Địa điểm: Hội trường A"));
            assert!(body.contains("chỉ được tối đa 30 người"));
            assert!(body.contains("Đề nghị: Giảm số người dự kiến xuống không quá 30"));
            assert!(body.contains(
                "Quy định phòng, chống dịch của Tỉnh Bình Dương áp dụng từ ngày 01/05/2021 không cho phép tụ tập trực tiếp tại Hội trường A"
            ));
            assert!(body.contains("Đề nghị: Chuyển hội nghị sang hình thức trực tuyến"));
            assert!(body
                .contains("https://vm.example.vn/meetings/00000000-0000-0000-0000-000000000002"));
            assert!(body.contains("Hệ thống không tự động hủy hội nghị nào."));
            assert!(!body.contains("Dear"));
            assert!(!body.contains("capacity_exceeded"));
        }
        let first = mail.text.find("1. ").unwrap();
        assert!(mail.text[first..].contains("không cho phép tụ tập"));
        assert!(mail.text.contains("80 người"));
    }

    #[test]
    fn without_a_public_url_a_committee_notice_shows_no_id_at_all() {
        let mail = attention_notice(
            "ubnd@example.vn",
            &election(),
            None,
            &[AttentionMeeting {
                venues: Vec::new(),
                ..flagged(
                    1,
                    vec![
                        AttentionProblem::OnlineOverCapacity {
                            expected: 600,
                            max: 500,
                        },
                        AttentionProblem::NoActiveCandidate,
                    ],
                )
            }],
            None,
        )
        .unwrap();
        assert!(mail
            .text
            .contains("Các hội nghị tiếp xúc cử tri đã lên kế hoạch dưới đây không còn tổ chức được như dự kiến."));
        assert!(mail.text.contains("Địa điểm: trực tuyến"));
        assert!(mail.text.contains("nền tảng chỉ cho tối đa 500 người"));
        assert!(mail.text.contains("ứng cử viên cuối cùng đã rút"));
        assert!(mail
            .text
            .contains("Bổ sung ứng cử viên cho hội nghị hoặc hủy hội nghị."));
        for body in [&mail.text, &mail.html] {
            assert!(!body.contains("00000000-0000"), "{body}");
        }
    }
}
