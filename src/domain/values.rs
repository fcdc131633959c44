//! Time values as requests send them: RFC 3339 timestamps with an offset, IANA zones.
use chrono::{DateTime, Datelike, Utc};

/// The years a timestamp may fall in: elections of this century, nothing absurd.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// An RFC 3339 timestamp with an explicit offset, held as UTC, in the years [`YEARS`].
pub fn timestamp(raw: &str) -> Result<DateTime<Utc>, String> {
    let t = DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{raw:?} is not an RFC 3339 timestamp with an offset (e.g. 2021-05-10T08:00:00+07:00)"))?;
    if YEARS.contains(&t.year()) {
        Ok(t)
    } else {
        Err(format!(
            "must lie in the years {} to {}",
            YEARS.start(),
            YEARS.end()
        ))
    }
}

/// An IANA time zone name such as `Asia/Ho_Chi_Minh`.
pub fn time_zone(raw: &str) -> Result<chrono_tz::Tz, String> {
    raw.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| format!("{raw:?} is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_need_an_offset_and_become_utc() {
        let t = timestamp("2021-05-10T08:00:00+07:00").map(|t| t.to_rfc3339());
        assert_eq!(t, Ok("2021-05-10T01:00:00+00:00".to_owned()));
        assert!(timestamp("2021-05-10T08:00:00").is_err());
        assert!(timestamp("10/05/2021").is_err());
        assert!(timestamp("0001-05-10T08:00:00+07:00").is_err());
        assert!(timestamp("9999-05-10T08:00:00+07:00").is_err());
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            time_zone("Asia/Ho_Chi_Minh"),
            Ok(chrono_tz::Asia::Ho_Chi_Minh)
        );
        assert!(time_zone("Mars/Olympus").is_err());
    }
}
