//! Rules 7 and 14 of SPEC §3: when an attendance report may be filed, what it must add up
//! to, and when it is late. The one deadline formula is [`deadline`]; the roll-up SQL in
//! `db::reports` computes the same `ends_at + report_deadline_hours` for meetings not reported.
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::domain::kinds::MeetingStatus;
use crate::domain::problem::{Code, FieldError, Problem};

/// A report is due this long after the meeting's end.
pub fn deadline(ends_at: DateTime<Utc>, report_deadline_hours: i32) -> DateTime<Utc> {
    ends_at + TimeDelta::hours(i64::from(report_deadline_hours))
}

/// The meeting a report is filed for, as it stands.
#[derive(Debug, Clone, Copy)]
pub struct Reported {
    pub status: MeetingStatus,
    pub ends_at: DateTime<Utc>,
    pub report_deadline_hours: i32,
    /// The current revision, if a report was filed.
    pub revision: Option<i32>,
    /// The meeting's lateness, fixed by its first filing.
    pub late: Option<bool>,
}

/// What a filing at `now` becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filing {
    pub revision: i32,
    /// The meeting's lateness: this filing's if it is the first, else the first one's.
    pub late: bool,
    /// Whether this revision itself came after the deadline.
    pub filed_after_deadline: bool,
}

/// Rule 7's conditions on filing, and rule 14's lateness.
pub fn filing(m: &Reported, correcting: bool, now: DateTime<Utc>) -> Result<Filing, Problem> {
    if m.status == MeetingStatus::Cancelled {
        return Err(Problem::new(
            Code::MeetingCancelled,
            "the meeting was cancelled; there is no attendance to report",
        ));
    }
    if now < m.ends_at {
        return Err(Problem::new(
            Code::MeetingNotEnded,
            format!(
                "the meeting ends at {}; report its attendance after that",
                m.ends_at.to_rfc3339()
            ),
        ));
    }
    let filed_after_deadline = now > deadline(m.ends_at, m.report_deadline_hours);
    match (m.revision, correcting) {
        (Some(_), false) => Err(Problem::new(
            Code::ReportExists,
            "this meeting already has a report; to correct it, send correction_reason",
        )),
        (Some(current), true) => Ok(Filing {
            revision: current + 1,
            late: m.late.unwrap_or(filed_after_deadline),
            filed_after_deadline,
        }),
        (None, _) => Ok(Filing {
            revision: 1,
            late: filed_after_deadline,
            filed_after_deadline,
        }),
    }
}

/// What the meeting allowed: each site's effective capacity and the online maximum.
#[derive(Debug, Clone)]
pub struct Allowed {
    pub sites: Vec<(Uuid, i32)>,
    pub online_max: Option<i32>,
}

/// The numbers an organizer reports.
#[derive(Debug, Clone)]
pub struct Counted {
    pub attendees: i32,
    pub sites: Vec<(Uuid, i32)>,
    pub online_attendees: Option<i32>,
    pub opinions_count: Option<i32>,
    pub opinions_listed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// 422 `validation_failed`: `(field, message)` for each problem.
    Invalid(Vec<(String, String)>),
    /// 422 `attendance_exceeds_capacity`: more people reported than a site or the platform allowed.
    ExceedsCapacity(String),
}

impl From<Rejection> for Problem {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::Invalid(fields) => Problem::invalid(
                fields
                    .into_iter()
                    .map(|(field, message)| FieldError { field, message })
                    .collect(),
            ),
            Rejection::ExceedsCapacity(detail) => {
                Problem::new(Code::AttendanceExceedsCapacity, detail)
            }
        }
    }
}

fn bad(invalid: &mut Vec<(String, String)>, field: &str, message: String) {
    invalid.push((field.to_owned(), message));
}

/// Checks a report against its meeting; returns the opinions count to store.
pub fn check(allowed: &Allowed, counted: &Counted) -> Result<i32, Rejection> {
    let mut invalid: Vec<(String, String)> = Vec::new();
    if counted.attendees < 0 {
        bad(&mut invalid, "attendees", "must not be negative".to_owned());
    }
    for (i, (site, n)) in counted.sites.iter().enumerate() {
        if *n < 0 {
            bad(
                &mut invalid,
                &format!("sites[{i}].attendees"),
                "must not be negative".to_owned(),
            );
        }
        if !allowed.sites.iter().any(|(s, _)| s == site) {
            bad(
                &mut invalid,
                &format!("sites[{i}].site_id"),
                format!("{site} is not a site of this meeting"),
            );
        } else if counted.sites[..i].iter().any(|(s, _)| s == site) {
            bad(
                &mut invalid,
                &format!("sites[{i}].site_id"),
                "the site is listed twice".to_owned(),
            );
        }
    }
    let missing: Vec<String> = allowed
        .sites
        .iter()
        .filter(|(s, _)| !counted.sites.iter().any(|(c, _)| c == s))
        .map(|(s, _)| s.to_string())
        .collect();
    if !missing.is_empty() {
        bad(
            &mut invalid,
            "sites",
            format!(
                "report every site, with 0 where nobody came; missing: {}",
                missing.join(", ")
            ),
        );
    }
    match (allowed.online_max, counted.online_attendees) {
        (Some(_), None) => bad(
            &mut invalid,
            "online_attendees",
            "an online meeting reports its online attendances (0 if none)".to_owned(),
        ),
        (None, Some(n)) if n != 0 => bad(
            &mut invalid,
            "online_attendees",
            "this meeting has no online block".to_owned(),
        ),
        (_, Some(n)) if n < 0 => bad(
            &mut invalid,
            "online_attendees",
            "must not be negative".to_owned(),
        ),
        _ => {}
    }
    let opinions = counted
        .opinions_count
        .unwrap_or(counted.opinions_listed as i32);
    if opinions < 0 {
        bad(
            &mut invalid,
            "opinions_count",
            "must not be negative".to_owned(),
        );
    } else if (opinions as usize) < counted.opinions_listed {
        bad(
            &mut invalid,
            "opinions_count",
            format!(
                "is {opinions} but {} opinions are listed",
                counted.opinions_listed
            ),
        );
    }
    if invalid.is_empty() {
        let sum: i64 = counted
            .sites
            .iter()
            .map(|(_, n)| i64::from(*n))
            .sum::<i64>()
            + i64::from(counted.online_attendees.unwrap_or(0));
        if sum != i64::from(counted.attendees) {
            bad(
                &mut invalid,
                "attendees",
                format!(
                    "is {} but the sites and online add up to {sum}",
                    counted.attendees
                ),
            );
        }
    }
    if !invalid.is_empty() {
        return Err(Rejection::Invalid(invalid));
    }
    for (site, n) in &counted.sites {
        if let Some((_, cap)) = allowed.sites.iter().find(|(s, _)| s == site) {
            if n > cap {
                return Err(Rejection::ExceedsCapacity(format!(
                    "site {site} reports {n} attendances but may hold {cap}"
                )));
            }
        }
    }
    if let (Some(max), Some(n)) = (allowed.online_max, counted.online_attendees) {
        if n > max {
            return Err(Rejection::ExceedsCapacity(format!(
                "{n} online attendances reported but the platform admits {max}"
            )));
        }
    }
    Ok(opinions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn hall_and_online() -> Allowed {
        Allowed {
            sites: vec![(id(1), 50), (id(2), 30)],
            online_max: Some(100),
        }
    }

    fn counted(attendees: i32, a: i32, b: i32, online: Option<i32>) -> Counted {
        Counted {
            attendees,
            sites: vec![(id(1), a), (id(2), b)],
            online_attendees: online,
            opinions_count: None,
            opinions_listed: 2,
        }
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2021, 5, day, hour, 0, 0)
            .single()
            .expect("valid")
    }

    fn ended_at_8_on_the_10th(revision: Option<i32>, late: Option<bool>) -> Reported {
        Reported {
            status: MeetingStatus::Planned,
            ends_at: at(10, 8),
            report_deadline_hours: 24,
            revision,
            late,
        }
    }

    #[test]
    fn a_first_filing_is_late_after_the_deadline_and_fixes_the_meetings_lateness() {
        let m = ended_at_8_on_the_10th(None, None);
        assert_eq!(deadline(m.ends_at, 24), at(11, 8));
        assert!(!filing(&m, false, at(11, 8)).expect("on time").late);
        let late = filing(&m, false, at(11, 9)).expect("late");
        assert_eq!(
            (late.revision, late.late, late.filed_after_deadline),
            (1, true, true)
        );
        let corrected = filing(
            &ended_at_8_on_the_10th(Some(1), Some(false)),
            true,
            at(12, 9),
        )
        .expect("correction");
        assert_eq!(
            (
                corrected.revision,
                corrected.late,
                corrected.filed_after_deadline
            ),
            (2, false, true)
        );
    }

    #[test]
    fn filing_needs_an_ended_uncancelled_meeting_and_a_reason_to_correct() {
        let m = ended_at_8_on_the_10th(None, None);
        assert_eq!(
            filing(&m, false, at(10, 7)).map_err(|p| p.code),
            Err(Code::MeetingNotEnded)
        );
        let cancelled = Reported {
            status: MeetingStatus::Cancelled,
            ..m
        };
        assert_eq!(
            filing(&cancelled, false, at(11, 0)).map_err(|p| p.code),
            Err(Code::MeetingCancelled)
        );
        assert_eq!(
            filing(
                &ended_at_8_on_the_10th(Some(1), Some(false)),
                false,
                at(11, 0)
            )
            .map_err(|p| p.code),
            Err(Code::ReportExists)
        );
    }

    #[test]
    fn parts_that_add_up_pass_and_opinions_default_to_the_list() {
        assert_eq!(
            check(&hall_and_online(), &counted(150, 50, 30, Some(70))),
            Ok(2)
        );
    }

    #[test]
    fn a_total_that_does_not_add_up_is_invalid() {
        let r = check(&hall_and_online(), &counted(151, 50, 30, Some(70)));
        assert!(matches!(r, Err(Rejection::Invalid(ref f)) if f[0].0 == "attendees"));
    }

    #[test]
    fn a_site_over_capacity_is_refused() {
        assert_eq!(
            check(&hall_and_online(), &counted(152, 51, 31, Some(70))),
            Err(Rejection::ExceedsCapacity(format!(
                "site {} reports 51 attendances but may hold 50",
                id(1)
            )))
        );
        assert!(matches!(
            check(&hall_and_online(), &counted(181, 50, 30, Some(101))),
            Err(Rejection::ExceedsCapacity(_))
        ));
    }

    #[test]
    fn every_site_must_be_reported_and_online_needs_its_number() {
        let c = Counted {
            attendees: 10,
            sites: vec![(id(1), 10)],
            online_attendees: None,
            opinions_count: Some(1),
            opinions_listed: 2,
        };
        let Err(Rejection::Invalid(fields)) = check(&hall_and_online(), &c) else {
            panic!("expected invalid")
        };
        let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, vec!["sites", "online_attendees", "opinions_count"]);
    }
}
