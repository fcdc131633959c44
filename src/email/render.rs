//! The emails the service sends, rendered from templates: pure, no I/O.
//! Times are kept in UTC until here, then written in the election's zone
//! the way the recipient's language writes them.

use askama::Template;
use chrono::Utc;
use chrono_tz::Tz;
use uuid::Uuid;

use super::ics;
use super::locale::{when, zone_note};
use super::model::{AttentionLine, ElectionInfo, MeetingLine, Recipient, RenderedMail};
use crate::domain::kinds::Locale;

/// The words of each language.
fn words(locale: Locale) -> &'static Text {
    match locale {
        Locale::Vi => &VI,
        Locale::En => &EN,
    }
}

/// The words of a candidate's mail in one language.
struct Text {
    lang: &'static str,
    greeting: &'static str,
    schedule_subject: &'static str,
    schedule_intro: &'static str,
    schedule_empty: &'static str,
    schedule_ics: &'static str,
    change_subject: &'static str,
    change_intro: &'static str,
    change_ics: &'static str,
    time: &'static str,
    format: &'static str,
    in_person: &'static str,
    online: &'static str,
    place: &'static str,
    join: &'static str,
    units: &'static str,
    cancelled_tag: &'static str,
    cancelled: &'static str,
    closing: &'static str,
    signature: &'static str,
}

static VI: Text = Text {
    lang: "vi",
    greeting: "Kính gửi ông/bà",
    schedule_subject: "Lịch tiếp xúc cử tri",
    schedule_intro: "Dưới đây là lịch các hội nghị tiếp xúc cử tri sắp tới của ông/bà.",
    schedule_empty: "Hiện ông/bà chưa có hội nghị tiếp xúc cử tri nào sắp diễn ra.",
    schedule_ics: "Tệp lịch (.ics) đính kèm giúp ông/bà đưa các hội nghị này vào ứng dụng lịch.",
    change_subject: "Thay đổi lịch tiếp xúc cử tri",
    change_intro:
        "Các hội nghị tiếp xúc cử tri sau đây của ông/bà vừa được lên lịch, thay đổi hoặc hủy.",
    change_ics:
        "Mở tệp lịch (.ics) đính kèm để cập nhật các hội nghị này trong ứng dụng lịch của ông/bà.",
    time: "Thời gian",
    format: "Hình thức",
    in_person: "trực tiếp",
    online: "trực tuyến",
    place: "Địa điểm",
    join: "Đường dẫn tham gia",
    units: "Đơn vị bầu cử",
    cancelled_tag: "ĐÃ HỦY",
    cancelled: "Hội nghị đã bị hủy.",
    closing: "Trân trọng,",
    signature: "Ban tổ chức hội nghị tiếp xúc cử tri",
};

static EN: Text = Text {
    lang: "en",
    greeting: "Dear",
    schedule_subject: "Your voter-contact meeting schedule",
    schedule_intro: "Here is the schedule of your upcoming voter-contact meetings.",
    schedule_empty: "You have no upcoming voter-contact meetings at the moment.",
    schedule_ics: "The attached calendar file (.ics) adds these meetings to your calendar app.",
    change_subject: "Changes to your voter-contact meetings",
    change_intro: "The following voter-contact meetings of yours have just been scheduled, changed or cancelled.",
    change_ics: "Open the attached calendar file (.ics) to update these meetings in your calendar app.",
    time: "Time",
    format: "Format",
    in_person: "in person",
    online: "online",
    place: "Place",
    join: "Join link",
    units: "Electoral units",
    cancelled_tag: "CANCELLED",
    cancelled: "This meeting has been cancelled.",
    closing: "Kind regards,",
    signature: "The voter-contact meeting organizers",
};

/// A meeting with everything a template shows already written out.
struct MeetingView {
    title: String,
    when: String,
    location: String,
    online: bool,
    join_url: Option<String>,
    /// Only http(s) links become `href`s; anything else is shown as text.
    join_is_link: bool,
    units: String,
    cancelled: bool,
}

/// What the schedule mail and the change notice share.
struct CandidateMail<'a> {
    text: &'static Text,
    name: &'a str,
    election: &'a str,
    intro: &'static str,
    empty: &'static str,
    ics_note: &'static str,
    zone_note: String,
    meetings: Vec<MeetingView>,
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
    meeting_id: Uuid,
    title: String,
    when_vi: String,
    when_en: String,
    problem: String,
}

struct AttentionMail<'a> {
    to_email: &'a str,
    election: &'a str,
    zone: &'static str,
    reference: Option<&'a str>,
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

/// A candidate's schedule: every meeting given (the caller picks the
/// upcoming ones), soonest first, with an `.ics` holding one event each.
pub fn schedule_mail(
    to: &Recipient,
    election: &ElectionInfo,
    meetings: &[MeetingLine],
) -> Result<RenderedMail, askama::Error> {
    let text = words(to.locale);
    candidate_mail(
        to,
        election,
        meetings,
        CandidateMailKind {
            subject: text.schedule_subject,
            intro: text.schedule_intro,
            ics_note: text.schedule_ics,
        },
    )
}

/// One notice for every meeting of a candidate that one request created,
/// rescheduled or cancelled; the `.ics` updates the events the candidate's
/// calendar already holds (same UID, the meeting's SEQUENCE).
pub fn change_notice(
    to: &Recipient,
    election: &ElectionInfo,
    changed: &[MeetingLine],
) -> Result<RenderedMail, askama::Error> {
    let text = words(to.locale);
    candidate_mail(
        to,
        election,
        changed,
        CandidateMailKind {
            subject: text.change_subject,
            intro: text.change_intro,
            ics_note: text.change_ics,
        },
    )
}

/// Tells an organizing committee that planned meetings now break a health
/// rule. Committees have no locale, so it is Vietnamese with English below.
pub fn attention_notice(
    to_email: &str,
    election: &ElectionInfo,
    rule_reference: Option<&str>,
    meetings: &[AttentionLine],
) -> Result<RenderedMail, askama::Error> {
    let mut sorted: Vec<&AttentionLine> = meetings.iter().collect();
    sorted.sort_by_key(|m| (m.starts_at, m.meeting_id));
    let mail = AttentionMail {
        to_email,
        election: &election.name,
        zone: election.timezone.name(),
        reference: rule_reference,
        meetings: sorted
            .into_iter()
            .map(|m| AttentionView {
                meeting_id: m.meeting_id,
                title: m.title.clone(),
                when_vi: when(Locale::Vi, election.timezone, m.starts_at, m.ends_at),
                when_en: when(Locale::En, election.timezone, m.starts_at, m.ends_at),
                problem: m.problem.clone(),
            })
            .collect(),
    };
    Ok(RenderedMail {
        subject: format!(
            "Hội nghị tiếp xúc cử tri cần xem lại theo quy định phòng, chống dịch / \
             Meetings need attention under a health rule – {}",
            election.name
        ),
        text: AttentionText { mail: &mail }.render()?,
        html: AttentionHtml { mail: &mail }.render()?,
        ics: None,
    })
}

/// What differs between the schedule mail and the change notice.
struct CandidateMailKind {
    subject: &'static str,
    intro: &'static str,
    ics_note: &'static str,
}

fn candidate_mail(
    to: &Recipient,
    election: &ElectionInfo,
    meetings: &[MeetingLine],
    kind: CandidateMailKind,
) -> Result<RenderedMail, askama::Error> {
    let text = words(to.locale);
    let mut sorted: Vec<&MeetingLine> = meetings.iter().collect();
    sorted.sort_by_key(|m| (m.starts_at, m.meeting_id));
    let mail = CandidateMail {
        text,
        name: &to.name,
        election: &election.name,
        intro: kind.intro,
        empty: text.schedule_empty,
        ics_note: kind.ics_note,
        zone_note: zone_note(to.locale, election.timezone),
        meetings: sorted
            .into_iter()
            .map(|m| meeting_view(to.locale, election.timezone, m))
            .collect(),
    };
    Ok(RenderedMail {
        subject: format!("{} – {}", kind.subject, election.name),
        text: CandidateText { mail: &mail }.render()?,
        html: CandidateHtml { mail: &mail }.render()?,
        // An iCalendar object must hold at least one component (RFC 5545 §3.6).
        ics: (!meetings.is_empty()).then(|| ics::calendar(election, meetings, Utc::now())),
    })
}

fn meeting_view(locale: Locale, tz: Tz, meeting: &MeetingLine) -> MeetingView {
    let join_url = meeting.online_join_url.clone();
    let join_is_link = join_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://") || url.starts_with("http://"));
    MeetingView {
        title: meeting.title.clone(),
        when: when(locale, tz, meeting.starts_at, meeting.ends_at),
        location: meeting.location.clone(),
        online: meeting.online,
        join_url,
        join_is_link,
        units: meeting.electoral_units.join("; "),
        cancelled: meeting.cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn election() -> ElectionInfo {
        ElectionInfo {
            name: "Bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021–2026"
                .to_owned(),
            timezone: chrono_tz::Asia::Ho_Chi_Minh,
        }
    }

    fn candidate(locale: Locale) -> Recipient {
        Recipient {
            name: "Nguyễn Thị Lan".to_owned(),
            email: "lan@example.vn".to_owned(),
            locale,
        }
    }

    /// 10 May 2021, 01:00–04:00 UTC: 08:00–11:00 in Hồ Chí Minh City.
    fn meeting(n: u128) -> MeetingLine {
        MeetingLine {
            meeting_id: Uuid::from_u128(n),
            sequence: 0,
            title: "Tiếp xúc cử tri xã An Bình".to_owned(),
            starts_at: Utc.with_ymd_and_hms(2021, 5, 10, 1, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2021, 5, 10, 4, 0, 0).unwrap(),
            location: "Hội trường UBND xã An Bình".to_owned(),
            online_join_url: None,
            online: false,
            cancelled: false,
            electoral_units: vec!["Đơn vị bầu cử số 1".to_owned()],
        }
    }

    fn attention(n: u128, problem: &str) -> AttentionLine {
        AttentionLine {
            meeting_id: Uuid::from_u128(n),
            title: "Tiếp xúc cử tri phường 3".to_owned(),
            starts_at: Utc.with_ymd_and_hms(2021, 5, 12, 7, 30, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2021, 5, 12, 10, 0, 0).unwrap(),
            problem: problem.to_owned(),
        }
    }

    /// The values of every content line named `name` in an unfolded `.ics`.
    fn ics_values(ics: &str, name: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .filter_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_schedule_is_written_in_vietnamese_for_a_vietnamese_candidate() {
        let mail = schedule_mail(&candidate(Locale::Vi), &election(), &[meeting(1)]).unwrap();
        assert_eq!(
            mail.subject,
            "Lịch tiếp xúc cử tri – Bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021–2026"
        );
        for body in [&mail.text, &mail.html] {
            assert!(body.contains("Kính gửi ông/bà Nguyễn Thị Lan,"));
            assert!(body.contains("Thời gian: 08:00–11:00, Thứ Hai, 10/05/2021 (GMT+7)"));
            assert!(body.contains("Địa điểm: Hội trường UBND xã An Bình"));
            assert!(body.contains("Đơn vị bầu cử: Đơn vị bầu cử số 1"));
            assert!(body.contains("Thời gian tính theo múi giờ Asia/Ho_Chi_Minh."));
            assert!(!body.contains("Monday"));
        }
        assert!(mail.html.contains("<html lang=\"vi\">"));
    }

    #[test]
    fn the_schedule_is_written_in_english_for_an_english_candidate() {
        let mail = schedule_mail(&candidate(Locale::En), &election(), &[meeting(1)]).unwrap();
        assert!(mail
            .subject
            .starts_with("Your voter-contact meeting schedule – "));
        for body in [&mail.text, &mail.html] {
            assert!(body.contains("Dear Nguyễn Thị Lan,"));
            assert!(body.contains("Time: Monday 10 May 2021, 08:00–11:00 (GMT+7)"));
            assert!(body.contains("Place: Hội trường UBND xã An Bình"));
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
        let mail =
            schedule_mail(&candidate(Locale::Vi), &election(), &[later, meeting(1)]).unwrap();
        assert!(mail.text.contains("1. Tiếp xúc cử tri xã An Bình"));
        assert!(mail.text.contains("2. Hội nghị thứ hai"));
        let ics = mail.ics.unwrap();
        assert_eq!(ics_values(&ics, "BEGIN"), ["VCALENDAR", "VEVENT", "VEVENT"]);
        assert_eq!(ics_values(&ics, "METHOD"), ["PUBLISH"]);
        assert_eq!(
            ics_values(&ics, "DTSTART"),
            ["20210511T010000Z", "20210510T010000Z"]
        );
    }

    #[test]
    fn an_empty_schedule_says_so_and_attaches_no_calendar() {
        let mail = schedule_mail(&candidate(Locale::Vi), &election(), &[]).unwrap();
        assert!(mail
            .text
            .contains("Hiện ông/bà chưa có hội nghị tiếp xúc cử tri nào sắp diễn ra."));
        assert!(mail.html.contains("<p>Hiện ông/bà chưa có hội nghị"));
        assert!(!mail.text.contains(".ics"));
        assert_eq!(mail.ics, None);
    }

    #[test]
    fn an_online_meeting_shows_its_join_link() {
        let online = MeetingLine {
            online: true,
            online_join_url: Some("https://meet.example.vn/txct?id=7&pwd=x".to_owned()),
            location: String::new(),
            ..meeting(1)
        };
        let mail = schedule_mail(&candidate(Locale::Vi), &election(), &[online]).unwrap();
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
        let mail = schedule_mail(&candidate(Locale::En), &election(), &[online]).unwrap();
        assert!(mail.html.contains("Join link: javascript:alert(1)"));
        assert!(!mail.html.contains("href"));
    }

    #[test]
    fn html_escapes_what_organizers_typed() {
        let sneaky = MeetingLine {
            title: "Hội nghị <script>alert(1)</script> & \"bàn tròn\"".to_owned(),
            ..meeting(1)
        };
        let mail = schedule_mail(&candidate(Locale::Vi), &election(), &[sneaky]).unwrap();
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
    fn a_change_notice_marks_cancelled_meetings_and_updates_their_events() {
        let moved = MeetingLine {
            sequence: 2,
            ..meeting(1)
        };
        let cancelled = MeetingLine {
            sequence: 1,
            cancelled: true,
            title: "Tiếp xúc cử tri thị trấn Phước Vĩnh".to_owned(),
            starts_at: Utc.with_ymd_and_hms(2021, 5, 14, 1, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2021, 5, 14, 3, 0, 0).unwrap(),
            ..meeting(2)
        };
        let mail = change_notice(&candidate(Locale::Vi), &election(), &[moved, cancelled]).unwrap();
        assert!(mail.subject.starts_with("Thay đổi lịch tiếp xúc cử tri – "));
        assert!(mail.text.contains(
            "Các hội nghị tiếp xúc cử tri sau đây của ông/bà vừa được lên lịch, thay đổi hoặc hủy."
        ));
        assert!(mail.text.contains("1. Tiếp xúc cử tri xã An Bình\n"));
        assert!(mail
            .text
            .contains("2. [ĐÃ HỦY] Tiếp xúc cử tri thị trấn Phước Vĩnh"));
        assert_eq!(mail.text.matches("Hội nghị đã bị hủy.").count(), 1);
        assert_eq!(mail.html.matches("Hội nghị đã bị hủy.").count(), 1);

        let ics = mail.ics.unwrap();
        assert_eq!(
            ics_values(&ics, "UID"),
            [
                "00000000-0000-0000-0000-000000000001@voter-meetings",
                "00000000-0000-0000-0000-000000000002@voter-meetings"
            ]
        );
        assert_eq!(ics_values(&ics, "SEQUENCE"), ["2", "1"]);
        assert_eq!(ics_values(&ics, "STATUS"), ["CONFIRMED", "CANCELLED"]);
        assert_eq!(ics_values(&ics, "METHOD"), ["PUBLISH"]);
    }

    #[test]
    fn a_change_notice_in_english_says_cancelled() {
        let cancelled = MeetingLine {
            cancelled: true,
            ..meeting(1)
        };
        let mail = change_notice(&candidate(Locale::En), &election(), &[cancelled]).unwrap();
        assert!(mail
            .subject
            .starts_with("Changes to your voter-contact meetings – "));
        assert!(mail
            .text
            .contains("1. [CANCELLED] Tiếp xúc cử tri xã An Bình"));
        assert!(mail.text.contains("This meeting has been cancelled."));
    }

    #[test]
    fn an_attention_notice_lists_each_meeting_and_its_problem_in_both_languages() {
        let mail = attention_notice(
            "mttq.anbinh@example.vn",
            &election(),
            Some("Chỉ thị 15/CT-TTg"),
            &[
                attention(2, "Điểm cầu Hội trường A: 80 người dự kiến > sức chứa 30"),
                attention(1, "in_person_not_allowed"),
            ],
        )
        .unwrap();
        assert_eq!(mail.ics, None);
        assert!(mail
            .subject
            .contains("Meetings need attention under a health rule"));
        for body in [&mail.text, &mail.html] {
            assert!(body.contains("Kính gửi Ban tổ chức,"));
            assert!(body.contains("Dear organizing committee,"));
            assert!(body.contains("Chỉ thị 15/CT-TTg"));
            assert!(body.contains("Thời gian: 14:30–17:00, Thứ Tư, 12/05/2021 (GMT+7)"));
            assert!(body.contains("Time: Wednesday 12 May 2021, 14:30–17:00 (GMT+7)"));
            assert!(body.contains("Vấn đề: in_person_not_allowed"));
            assert!(body.contains("Problem: in_person_not_allowed"));
            assert!(body.contains("00000000-0000-0000-0000-000000000002"));
            assert!(body.contains("Hệ thống không tự động hủy hội nghị nào."));
            assert!(body.contains("mttq.anbinh@example.vn"));
        }
        assert!(mail.text.contains("80 người dự kiến > sức chứa 30"));
        assert!(mail.html.contains("80 người dự kiến &#62; sức chứa 30"));
    }

    #[test]
    fn an_attention_notice_without_a_reference_still_reads_well() {
        let mail =
            attention_notice("ubnd@example.vn", &election(), None, &[attention(1, "x")]).unwrap();
        assert!(mail.text.contains(
            "Một quy định phòng, chống dịch vừa được ban hành hoặc sửa đổi. Các hội nghị"
        ));
        assert!(mail
            .text
            .contains("A public-health rule has been issued or changed. The planned"));
    }
}
