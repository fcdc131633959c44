//! Time values as requests send them: RFC 3339 timestamps with an offset, IANA zones; and
//! as answers show them in an election's zone.
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde::Serialize;

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

/// A meeting's times in its election's zone, with that zone's offset (SPEC §4 `local`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LocalTimes {
    /// The election's IANA zone.
    #[schema(example = "Asia/Ho_Chi_Minh")]
    pub timezone: String,
    #[schema(value_type = String, format = DateTime, example = "2021-05-10T08:00:00+07:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2021-05-10T10:00:00+07:00")]
    pub ends_at: DateTime<FixedOffset>,
}

impl LocalTimes {
    pub fn new(zone: chrono_tz::Tz, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        Self {
            timezone: zone.name().to_owned(),
            starts_at: starts_at.with_timezone(&zone).fixed_offset(),
            ends_at: ends_at.with_timezone(&zone).fixed_offset(),
        }
    }
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

    #[test]
    fn local_times_carry_the_zones_offset_on_each_date() {
        let at = |raw| timestamp(raw).unwrap_or_default();
        let hanoi = LocalTimes::new(
            chrono_tz::Asia::Ho_Chi_Minh,
            at("2021-05-10T01:00:00Z"),
            at("2021-05-10T03:00:00Z"),
        );
        let json = serde_json::to_value(&hanoi).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "timezone": "Asia/Ho_Chi_Minh",
                "starts_at": "2021-05-10T08:00:00+07:00",
                "ends_at": "2021-05-10T10:00:00+07:00",
            })
        );
        // Daylight saving: the same zone, another offset on each side of the change.
        let paris = LocalTimes::new(
            chrono_tz::Europe::Paris,
            at("2021-03-27T12:00:00Z"),
            at("2021-03-28T12:00:00Z"),
        );
        assert_eq!(paris.starts_at.to_rfc3339(), "2021-03-27T13:00:00+01:00");
        assert_eq!(paris.ends_at.to_rfc3339(), "2021-03-28T14:00:00+02:00");
    }
}
