//! Rules 2 and 3 of SPEC §3: no candidate in two overlapping meetings, counting the travel
//! buffer after each; no venue hosting two overlapping meetings. The database enforces both
//! (the exclusion constraints `meeting_candidates_no_overlap` and `meeting_sites_no_overlap`
//! of migration 000002, over the ranges computed here); this file says what the ranges are
//! and what a refusal tells the client.
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::domain::problem::{Code, Problem};

/// A half-open range `[from, to)`.
pub type Range = (DateTime<Utc>, DateTime<Utc>);

/// When a meeting holds its venues: exactly its own time.
pub fn venue_busy(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Range {
    (starts_at, ends_at)
}

/// When a meeting holds its candidates: its own time plus the travel they need afterwards.
pub fn candidate_busy(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    travel_buffer: TimeDelta,
) -> Range {
    (starts_at, ends_at + travel_buffer)
}

/// A booking the database refused, and who holds the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clash {
    /// Rule 2: `candidate` is in `meeting` at an overlapping time (travel buffer included).
    Candidate { meeting: Uuid, candidate: Uuid },
    /// Rule 3: `venue` hosts `meeting` at an overlapping time.
    Venue { meeting: Uuid, venue: Uuid },
}

impl Clash {
    /// The 409 a client gets, naming the meeting that holds the slot.
    pub fn problem(self, travel_buffer: TimeDelta) -> Problem {
        match self {
            Clash::Candidate { meeting, candidate } => Problem::new(
                Code::CandidateConflict,
                format!(
                    "candidate {candidate} is already in meeting {meeting} at that time (counting {} minutes of travel after each meeting)",
                    travel_buffer.num_minutes()
                ),
            )
            .with(json!({"conflicting_meeting_id": meeting, "candidate_id": candidate})),
            Clash::Venue { meeting, venue } => Problem::new(
                Code::VenueConflict,
                format!("venue {venue} already hosts meeting {meeting} at that time"),
            )
            .with(json!({"conflicting_meeting_id": meeting, "venue_id": venue})),
        }
    }
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

    fn overlap(a: Range, b: Range) -> bool {
        a.0 < b.1 && b.0 < a.1
    }

    #[test]
    fn a_candidate_stays_busy_for_the_travel_buffer_after_a_meeting() {
        let buffer = TimeDelta::minutes(30);
        let first = candidate_busy(at(8, 0), at(10, 0), buffer);
        assert_eq!(first.1, at(10, 30));
        assert!(overlap(
            first,
            candidate_busy(at(10, 20), at(11, 0), buffer)
        ));
        assert!(!overlap(
            first,
            candidate_busy(at(10, 30), at(11, 0), buffer)
        ));
        let before = candidate_busy(at(6, 0), at(7, 40), buffer);
        assert!(
            overlap(before, first),
            "ending 20 minutes before is too close"
        );
    }

    #[test]
    fn a_venue_is_busy_for_the_meeting_only() {
        let first = venue_busy(at(8, 0), at(10, 0));
        assert!(!overlap(first, venue_busy(at(10, 0), at(11, 0))));
        assert!(overlap(first, venue_busy(at(9, 59), at(11, 0))));
    }

    #[test]
    fn a_clash_names_the_meeting_that_holds_the_slot() {
        let (meeting, venue) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let p = Clash::Venue { meeting, venue }.problem(TimeDelta::minutes(30));
        assert_eq!(p.code, Code::VenueConflict);
        assert_eq!(p.extra["conflicting_meeting_id"], json!(meeting));
    }
}
