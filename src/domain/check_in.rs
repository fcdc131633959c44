//! Rule 6 of SPEC §3: door check-ins. A check-in moves a live counter by `count` (negative:
//! people leaving) only while the meeting is planned and check-in is open (from an hour before
//! the start until the end); `present` never goes below zero, and an arrival never puts it
//! above the site's effective capacity (people may always leave, even a room whose capacity a
//! new rule lowered below them). The database applies this in one conditional UPDATE per
//! check-in (functions `check_in_site` / `check_in_online`, migration 000006); when nothing
//! moved, [`refusal`] says why from the counter as it then stands.
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::domain::kinds::MeetingStatus;
use crate::domain::problem::{Code, Problem};

/// Check-in opens this long before a meeting starts.
pub const OPENS_BEFORE_START: TimeDelta = TimeDelta::hours(1);
/// The most people one tap may admit or let go.
pub const MAX_COUNT: i32 = 10_000;

/// The count of one check-in: 1 by default, never 0, at most [`MAX_COUNT`] either way.
pub fn count(raw: Option<i32>) -> Result<i32, Problem> {
    let n = raw.unwrap_or(1);
    if n == 0 || !(-MAX_COUNT..=MAX_COUNT).contains(&n) {
        return Err(Problem::field(
            "count",
            format!("must be a non-zero number between -{MAX_COUNT} and {MAX_COUNT}"),
        ));
    }
    Ok(n)
}

/// Whether check-in is open at `now` for a meeting over `[starts_at, ends_at)`.
pub fn is_open(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    starts_at - OPENS_BEFORE_START <= now && now < ends_at
}

/// A counter as it stands, with its meeting.
#[derive(Debug, Clone, Copy)]
pub struct Counter {
    pub status: MeetingStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub present: i32,
    pub capacity: i32,
}

/// Why a check-in of `count` at `now` moved nothing.
pub fn refusal(c: &Counter, count: i32, now: DateTime<Utc>) -> Problem {
    if c.status != MeetingStatus::Planned {
        return Problem::new(
            Code::MeetingNotPlanned,
            format!(
                "the meeting is {}; check-ins are only for planned meetings",
                c.status
            ),
        );
    }
    if !is_open(c.starts_at, c.ends_at, now) {
        return Problem::new(
            Code::OutsideCheckinWindow,
            format!(
                "check-in is open from one hour before the start ({}) until the end ({})",
                c.starts_at.to_rfc3339(),
                c.ends_at.to_rfc3339()
            ),
        );
    }
    // People may always leave: a departure is refused only for lack of people, even when
    // someone arrived between the refusal and this reading of the counter.
    if count < 0 {
        return Problem::field(
            "count",
            format!(
                "fewer than {0} people were present; {0} cannot leave",
                -count
            ),
        );
    }
    Problem::new(
        Code::CapacityReached,
        format!(
            "{} of {} places are taken; {count} more do not fit",
            c.present, c.capacity
        ),
    )
    .with(json!({"present": c.present, "capacity": c.capacity}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 5, 10, h, m, 0)
            .single()
            .expect("valid")
    }

    fn counter(present: i32) -> Counter {
        Counter {
            status: MeetingStatus::Planned,
            starts_at: at(8, 0),
            ends_at: at(10, 0),
            present,
            capacity: 30,
        }
    }

    #[test]
    fn check_in_opens_an_hour_early_and_closes_at_the_end() {
        assert!(!is_open(at(8, 0), at(10, 0), at(6, 59)));
        assert!(is_open(at(8, 0), at(10, 0), at(7, 0)));
        assert!(is_open(at(8, 0), at(10, 0), at(9, 59)));
        assert!(!is_open(at(8, 0), at(10, 0), at(10, 0)));
    }

    #[test]
    fn counts_are_non_zero_and_bounded() {
        assert_eq!(count(None), Ok(1));
        assert_eq!(count(Some(-3)), Ok(-3));
        assert!(count(Some(0)).is_err());
        assert!(count(Some(MAX_COUNT + 1)).is_err());
    }

    #[test]
    fn a_refusal_names_the_first_reason() {
        let cancelled = Counter {
            status: MeetingStatus::Cancelled,
            ..counter(0)
        };
        assert_eq!(
            refusal(&cancelled, 1, at(9, 0)).code,
            Code::MeetingNotPlanned
        );
        assert_eq!(
            refusal(&counter(0), 1, at(11, 0)).code,
            Code::OutsideCheckinWindow
        );
        assert_eq!(
            refusal(&counter(2), -3, at(9, 0)).code,
            Code::ValidationFailed
        );
        let full = refusal(&counter(30), 1, at(9, 0));
        assert_eq!(full.code, Code::CapacityReached);
        assert_eq!(full.extra["present"], json!(30));
    }
}
