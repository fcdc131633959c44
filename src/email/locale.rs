//! How each language writes what the mail says: the words of a candidate's mail in
//! Vietnamese and English, the committee's Vietnamese phrases, and dates and times in the
//! election's zone (kept in UTC until here, then written for the reader).
use chrono::{DateTime, Datelike, Offset, Utc, Weekday};
use chrono_tz::Tz;

use super::model::{AttentionProblem, NoticeKind, RuleName};
use crate::domain::kinds::Locale;

/// The fixed words of a candidate's mail in one language.
pub struct Words {
    pub lang: &'static str,
    pub greeting: &'static str,
    pub schedule_subject: &'static str,
    pub schedule_intro: &'static str,
    pub schedule_empty: &'static str,
    pub schedule_ics: &'static str,
    pub subscribe: &'static str,
    pub request_ics: &'static str,
    pub cancel_ics: &'static str,
    pub time: &'static str,
    pub time_before: &'static str,
    pub time_after: &'static str,
    pub place: &'static str,
    pub place_before: &'static str,
    pub place_after: &'static str,
    pub unchanged: &'static str,
    pub format: &'static str,
    pub in_person: &'static str,
    pub online: &'static str,
    pub join: &'static str,
    pub units: &'static str,
    pub reason: &'static str,
    pub new_tag: &'static str,
    pub rescheduled_tag: &'static str,
    pub cancelled_tag: &'static str,
    pub removed_tag: &'static str,
    pub cancelled: &'static str,
    pub removed: &'static str,
    pub email_changed_subject: &'static str,
    pub email_changed_unasked: &'static str,
    pub closing: &'static str,
    pub signature: &'static str,
}

static VI: Words = Words {
    lang: "vi",
    greeting: "Kính gửi ông/bà",
    schedule_subject: "Lịch tiếp xúc cử tri",
    schedule_intro: "Dưới đây là lịch các hội nghị tiếp xúc cử tri sắp tới của ông/bà.",
    schedule_empty: "Hiện ông/bà chưa có hội nghị tiếp xúc cử tri nào sắp diễn ra.",
    schedule_ics: "Tệp lịch (.ics) đính kèm giúp ông/bà đưa các hội nghị này vào ứng dụng lịch.",
    subscribe: "Để ứng dụng lịch của ông/bà tự cập nhật mọi thay đổi, hãy đăng ký (subscribe) lịch theo đường dẫn riêng sau đây và không chia sẻ đường dẫn này:",
    request_ics: "Mở tệp lịch (.ics) đính kèm để cập nhật hội nghị trong ứng dụng lịch của ông/bà.",
    cancel_ics: "Mở tệp lịch (.ics) đính kèm để xóa hội nghị khỏi ứng dụng lịch của ông/bà.",
    time: "Thời gian",
    time_before: "Thời gian cũ",
    time_after: "Thời gian mới",
    place: "Địa điểm",
    place_before: "Địa điểm cũ",
    place_after: "Địa điểm mới",
    unchanged: "không đổi",
    format: "Hình thức",
    in_person: "trực tiếp",
    online: "trực tuyến",
    join: "Đường dẫn tham gia",
    units: "Đơn vị bầu cử",
    reason: "Lý do hủy",
    new_tag: "MỚI",
    rescheduled_tag: "ĐỔI LỊCH",
    cancelled_tag: "ĐÃ HỦY",
    removed_tag: "KHÔNG CÒN THAM DỰ",
    cancelled: "Hội nghị đã bị hủy.",
    removed: "Ông/bà không còn trong danh sách ứng cử viên dự hội nghị này.",
    email_changed_subject: "Địa chỉ email nhận lịch tiếp xúc cử tri đã thay đổi",
    email_changed_unasked: "Nếu ông/bà không yêu cầu thay đổi này, xin liên hệ ngay với Ban tổ chức.",
    closing: "Trân trọng,",
    signature: "Ban tổ chức hội nghị tiếp xúc cử tri",
};

static EN: Words = Words {
    lang: "en",
    greeting: "Dear",
    schedule_subject: "Your voter-contact meeting schedule",
    schedule_intro: "Here is the schedule of your upcoming voter-contact meetings.",
    schedule_empty: "You have no upcoming voter-contact meetings at the moment.",
    schedule_ics: "The attached calendar file (.ics) adds these meetings to your calendar app.",
    subscribe: "To have your calendar app follow every change, subscribe to your own calendar at this address, and do not share it:",
    request_ics: "Open the attached calendar file (.ics) to update the meeting in your calendar app.",
    cancel_ics: "Open the attached calendar file (.ics) to remove the meeting from your calendar app.",
    time: "Time",
    time_before: "Previous time",
    time_after: "New time",
    place: "Place",
    place_before: "Previous place",
    place_after: "New place",
    unchanged: "unchanged",
    format: "Format",
    in_person: "in person",
    online: "online",
    join: "Join link",
    units: "Electoral units",
    reason: "Reason",
    new_tag: "NEW",
    rescheduled_tag: "RESCHEDULED",
    cancelled_tag: "CANCELLED",
    removed_tag: "NO LONGER ATTENDING",
    cancelled: "This meeting has been cancelled.",
    removed: "You are no longer among the candidates of this meeting.",
    email_changed_subject: "The address for your voter-contact meeting mail has changed",
    email_changed_unasked: "If you did not ask for this change, please contact the organizers at once.",
    closing: "Kind regards,",
    signature: "The voter-contact meeting organizers",
};

/// The words of each language.
pub fn words(locale: Locale) -> &'static Words {
    match locale {
        Locale::Vi => &VI,
        Locale::En => &EN,
    }
}

/// A change notice's subject: what happened, to which meeting, on which day.
pub fn notice_subject(
    locale: Locale,
    kind: NoticeKind,
    title: &str,
    day: &str,
    count: usize,
) -> String {
    match (locale, kind) {
        (Locale::Vi, NoticeKind::New) => format!("Hội nghị tiếp xúc cử tri mới: {title}, {day}"),
        (Locale::Vi, NoticeKind::Rescheduled) => {
            format!("Đổi lịch hội nghị tiếp xúc cử tri: {title}, {day}")
        }
        (Locale::Vi, NoticeKind::Cancelled) => {
            format!("Hủy hội nghị tiếp xúc cử tri: {title}, {day}")
        }
        (Locale::Vi, NoticeKind::Several) => {
            format!("Thay đổi lịch tiếp xúc cử tri: {count} hội nghị")
        }
        (Locale::En, NoticeKind::New) => format!("New voter-contact meeting: {title}, {day}"),
        (Locale::En, NoticeKind::Rescheduled) => {
            format!("Voter-contact meeting rescheduled: {title}, {day}")
        }
        (Locale::En, NoticeKind::Cancelled) => {
            format!("Voter-contact meeting cancelled: {title}, {day}")
        }
        (Locale::En, NoticeKind::Several) => {
            format!("Changes to {count} of your voter-contact meetings")
        }
    }
}

/// A change notice's first line. `removed`: the candidate was taken off the meeting rather
/// than the meeting cancelled.
pub fn notice_headline(
    locale: Locale,
    kind: NoticeKind,
    title: &str,
    removed: bool,
    count: usize,
) -> String {
    match (locale, kind, removed) {
        (Locale::Vi, NoticeKind::New, _) => {
            format!("Ông/bà có một hội nghị tiếp xúc cử tri mới: “{title}”.")
        }
        (Locale::Vi, NoticeKind::Rescheduled, _) => {
            format!("Hội nghị tiếp xúc cử tri “{title}” của ông/bà đã được đổi lịch.")
        }
        (Locale::Vi, NoticeKind::Cancelled, false) => {
            format!("Hội nghị tiếp xúc cử tri “{title}” của ông/bà đã bị hủy.")
        }
        (Locale::Vi, NoticeKind::Cancelled, true) => {
            format!("Ông/bà không còn tham dự hội nghị tiếp xúc cử tri “{title}”.")
        }
        (Locale::Vi, NoticeKind::Several, _) => {
            format!("Lịch tiếp xúc cử tri của ông/bà có {count} thay đổi.")
        }
        (Locale::En, NoticeKind::New, _) => {
            format!("You have a new voter-contact meeting: “{title}”.")
        }
        (Locale::En, NoticeKind::Rescheduled, _) => {
            format!("Your voter-contact meeting “{title}” has been rescheduled.")
        }
        (Locale::En, NoticeKind::Cancelled, false) => {
            format!("Your voter-contact meeting “{title}” has been cancelled.")
        }
        (Locale::En, NoticeKind::Cancelled, true) => {
            format!("You are no longer attending the voter-contact meeting “{title}”.")
        }
        (Locale::En, NoticeKind::Several, _) => {
            format!("{count} of your voter-contact meetings have changed.")
        }
    }
}

/// The body of the notice sent to a candidate's previous address.
pub fn email_changed(locale: Locale, name: &str, election: &str, new_address: &str) -> String {
    match locale {
        Locale::Vi => format!(
            "Địa chỉ email nhận lịch và thông báo về các hội nghị tiếp xúc cử tri ({election}) của ông/bà {name} vừa được đổi từ địa chỉ này sang {new_address}. Từ nay thư sẽ được gửi tới địa chỉ mới."
        ),
        Locale::En => format!(
            "The address that receives the voter-contact meeting schedule and notices ({election}) of {name} has just been changed from this address to {new_address}. Mail now goes to the new address."
        ),
    }
}

/// A rule by the name people know it by.
pub fn rule_name(rule: &RuleName, tz: Tz) -> String {
    match &rule.reference {
        Some(reference) => format!("“{reference}”"),
        None => format!(
            "quy định phòng, chống dịch của {} áp dụng từ ngày {}",
            rule.region,
            rule.effective_from.with_timezone(&tz).format("%d/%m/%Y")
        ),
    }
}

/// What is wrong with a meeting and what the committee can do about it, in Vietnamese.
pub fn attention_problem(problem: &AttentionProblem, tz: Tz) -> (String, String) {
    match problem {
        AttentionProblem::InPersonBanned { venue, rule } => (
            format!(
                "{} không cho phép tụ tập trực tiếp tại {venue} trong thời gian hội nghị.",
                capitalized(&rule_name(rule, tz))
            ),
            "Chuyển hội nghị sang hình thức trực tuyến hoặc dời sang thời gian khác."
                .to_owned(),
        ),
        AttentionProblem::OverCapacity {
            venue,
            expected,
            allowed,
            rule: Some(rule),
        } => (
            format!(
                "{venue} dự kiến đón {expected} người, nhưng theo {} chỉ được tối đa {allowed} người.",
                rule_name(rule, tz)
            ),
            format!(
                "Giảm số người dự kiến xuống không quá {allowed}, chọn địa điểm khác, hoặc chuyển sang hình thức trực tuyến."
            ),
        ),
        AttentionProblem::OverCapacity {
            venue,
            expected,
            allowed,
            rule: None,
        } => (
            format!("{venue} dự kiến đón {expected} người, vượt sức chứa {allowed} chỗ của địa điểm."),
            format!(
                "Giảm số người dự kiến xuống không quá {allowed}, chọn địa điểm khác, hoặc chuyển sang hình thức trực tuyến."
            ),
        ),
        AttentionProblem::OnlineOverCapacity { expected, max } => (
            format!(
                "Phần trực tuyến dự kiến {expected} người tham gia, nhưng nền tảng chỉ cho tối đa {max} người."
            ),
            "Nâng giới hạn người tham gia của nền tảng hoặc giảm số người dự kiến."
                .to_owned(),
        ),
        AttentionProblem::OutsideCampaignWindow { starts_at, ends_at } => (
            format!(
                "Lịch bầu cử vừa được điều chỉnh: hội nghị không còn nằm trong thời gian tiếp xúc cử tri, từ {} đến {}.",
                moment(tz, *starts_at),
                moment(tz, *ends_at)
            ),
            "Dời hội nghị vào trong thời gian tiếp xúc cử tri hoặc hủy hội nghị.".to_owned(),
        ),
        AttentionProblem::NoActiveCandidate => (
            "Hội nghị không còn ứng cử viên nào tham dự (ứng cử viên cuối cùng đã rút)."
                .to_owned(),
            "Bổ sung ứng cử viên cho hội nghị hoặc hủy hội nghị.".to_owned(),
        ),
    }
}

/// A moment as Vietnamese writes it, in `tz`: `07:00 ngày 22/05/2021`.
fn moment(tz: Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&tz)
        .format("%H:%M ngày %d/%m/%Y")
        .to_string()
}

/// The first letter upper-cased: a rule name can begin a sentence.
fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A day as the language writes it short, in `tz`: `10/05/2021` or `10 May 2021`.
pub fn day(locale: Locale, tz: Tz, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&tz);
    match locale {
        Locale::Vi => local.format("%d/%m/%Y").to_string(),
        Locale::En => local.format("%-d %B %Y").to_string(),
    }
}

pub fn zone_note(locale: Locale, tz: Tz) -> String {
    match locale {
        Locale::Vi => format!("Thời gian tính theo múi giờ {}.", tz.name()),
        Locale::En => format!("All times are in the {} time zone.", tz.name()),
    }
}

/// A meeting's time range as the language writes it, local to `tz`, with the
/// offset named: `08:00–11:00, Thứ Hai, 10/05/2021 (GMT+7)` or
/// `Monday 10 May 2021, 08:00–11:00 (GMT+7)`.
pub fn when(locale: Locale, tz: Tz, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> String {
    let start = starts_at.with_timezone(&tz);
    let end = ends_at.with_timezone(&tz);
    let start_offset = gmt_offset(start.offset().fix().local_minus_utc());
    let end_offset = gmt_offset(end.offset().fix().local_minus_utc());
    let start_time = start.format("%H:%M");
    let end_time = end.format("%H:%M");
    if start.date_naive() == end.date_naive() && start_offset == end_offset {
        return match locale {
            Locale::Vi => format!(
                "{start_time}–{end_time}, {}, {} ({start_offset})",
                vi_weekday(start.weekday()),
                start.format("%d/%m/%Y"),
            ),
            Locale::En => format!(
                "{}, {start_time}–{end_time} ({start_offset})",
                start.format("%A %-d %B %Y"),
            ),
        };
    }
    let point = |at: &DateTime<Tz>| match locale {
        Locale::Vi => format!(
            "{}, {}, {}",
            at.format("%H:%M"),
            vi_weekday(at.weekday()),
            at.format("%d/%m/%Y")
        ),
        Locale::En => at.format("%A %-d %B %Y, %H:%M").to_string(),
    };
    if start_offset == end_offset {
        format!("{} – {} ({start_offset})", point(&start), point(&end))
    } else {
        format!(
            "{} ({start_offset}) – {} ({end_offset})",
            point(&start),
            point(&end)
        )
    }
}

fn vi_weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Thứ Hai",
        Weekday::Tue => "Thứ Ba",
        Weekday::Wed => "Thứ Tư",
        Weekday::Thu => "Thứ Năm",
        Weekday::Fri => "Thứ Sáu",
        Weekday::Sat => "Thứ Bảy",
        Weekday::Sun => "Chủ Nhật",
    }
}

/// `GMT+7`, `GMT+5:30`, `GMT-3`, `GMT+0`.
fn gmt_offset(seconds_east: i32) -> String {
    let sign = if seconds_east < 0 { '-' } else { '+' };
    let minutes = seconds_east.unsigned_abs() / 60;
    match (minutes / 60, minutes % 60) {
        (hours, 0) => format!("GMT{sign}{hours}"),
        (hours, mins) => format!("GMT{sign}{hours}:{mins:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// 10 May 2021, 01:00–04:00 UTC: 08:00–11:00 in Hồ Chí Minh City.
    fn may_10() -> (DateTime<Utc>, DateTime<Utc>) {
        (
            Utc.with_ymd_and_hms(2021, 5, 10, 1, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2021, 5, 10, 4, 0, 0).unwrap(),
        )
    }

    #[test]
    fn vietnamese_times_are_local_24_hour_with_weekday_and_day_first_date() {
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        let (starts_at, ends_at) = may_10();
        assert_eq!(
            when(Locale::Vi, tz, starts_at, ends_at),
            "08:00–11:00, Thứ Hai, 10/05/2021 (GMT+7)"
        );
        let sunday = Utc.with_ymd_and_hms(2021, 5, 16, 12, 30, 0).unwrap();
        assert_eq!(
            when(Locale::Vi, tz, sunday, sunday + chrono::TimeDelta::hours(2)),
            "19:30–21:30, Chủ Nhật, 16/05/2021 (GMT+7)"
        );
    }

    #[test]
    fn english_times_name_the_weekday_and_month() {
        let (starts_at, ends_at) = may_10();
        assert_eq!(
            when(Locale::En, chrono_tz::Asia::Ho_Chi_Minh, starts_at, ends_at),
            "Monday 10 May 2021, 08:00–11:00 (GMT+7)"
        );
    }

    #[test]
    fn a_meeting_past_local_midnight_shows_both_dates() {
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        let starts_at = Utc.with_ymd_and_hms(2021, 5, 10, 15, 0, 0).unwrap();
        let ends_at = Utc.with_ymd_and_hms(2021, 5, 10, 18, 0, 0).unwrap();
        assert_eq!(
            when(Locale::Vi, tz, starts_at, ends_at),
            "22:00, Thứ Hai, 10/05/2021 – 01:00, Thứ Ba, 11/05/2021 (GMT+7)"
        );
        assert_eq!(
            when(Locale::En, tz, starts_at, ends_at),
            "Monday 10 May 2021, 22:00 – Tuesday 11 May 2021, 01:00 (GMT+7)"
        );
    }

    #[test]
    fn a_meeting_across_a_daylight_saving_change_names_both_offsets() {
        // Europe/Berlin moved from GMT+1 to GMT+2 at 01:00 UTC on 28 March 2021.
        let starts_at = Utc.with_ymd_and_hms(2021, 3, 28, 0, 30, 0).unwrap();
        let ends_at = Utc.with_ymd_and_hms(2021, 3, 28, 1, 30, 0).unwrap();
        assert_eq!(
            when(Locale::En, chrono_tz::Europe::Berlin, starts_at, ends_at),
            "Sunday 28 March 2021, 01:30 (GMT+1) – Sunday 28 March 2021, 03:30 (GMT+2)"
        );
    }

    #[test]
    fn offsets_are_written_as_gmt_hours_and_minutes() {
        assert_eq!(gmt_offset(7 * 3600), "GMT+7");
        assert_eq!(gmt_offset(5 * 3600 + 1800), "GMT+5:30");
        assert_eq!(gmt_offset(-3 * 3600), "GMT-3");
        assert_eq!(gmt_offset(0), "GMT+0");
    }
}
