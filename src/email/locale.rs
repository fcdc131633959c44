//! Dates and times as each language writes them, in the election's zone: kept in UTC until
//! here, then written for the reader.
use chrono::{DateTime, Datelike, Offset, Utc, Weekday};
use chrono_tz::Tz;

use crate::domain::kinds::Locale;

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
