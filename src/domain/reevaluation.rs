//! Rule 8 (and 13) of SPEC §3: when the rules or venues a planned meeting depends on change,
//! what the meeting's stored verdict becomes. Nothing is cancelled: a meeting that now breaks
//! rule 4 or 5 is flagged `needs_attention` (its organizers are told once, when it becomes
//! flagged), and one whose problem went away loses the flag.
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::assessment::{Assessment, Problem};
use crate::domain::campaign_window::CampaignWindow;

/// What a meeting's sites and flag hold now, as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sites: Vec<StoredSite>,
    pub needs_attention: bool,
    pub attention: Value,
}

#[derive(Debug, Clone, Copy)]
pub struct StoredSite {
    pub venue_id: Uuid,
    pub effective_capacity: i32,
    pub binding_rule_id: Option<Uuid>,
}

/// A site whose effective capacity or binding rule changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteUpdate {
    pub venue_id: Uuid,
    pub effective_capacity: i32,
    pub binding_rule_id: Option<Uuid>,
}

/// What to write for one meeting.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub site_updates: Vec<SiteUpdate>,
    /// The new `attention` (an array of described problems), when it differs from the stored one.
    pub attention: Option<Value>,
    /// Whether the meeting moves to its next version (capacities or the flag changed).
    pub new_version: bool,
    /// Whether the meeting now breaks a rule.
    pub flagged: bool,
    /// Flagged now and not before: its organizers are to be told.
    pub newly_flagged: bool,
    /// What is wrong, described.
    pub problems: Vec<Value>,
}

/// One entry of a meeting's `attention` and of a rule change's `affected_meetings[].problems`,
/// as the OpenAPI document describes what [`described`], [`no_active_candidate`] and
/// [`outside_window`] write (`tests/api/openapi.rs` checks real answers against it).
#[derive(utoipa::ToSchema)]
pub struct Attention {
    /// `capacity_exceeded`, `in_person_not_allowed`, `outside_campaign_window` or
    /// `no_active_candidate`.
    #[schema(examples("capacity_exceeded"))]
    pub code: String,
    pub detail: String,
    /// The rule 4 or 5 problem in full.
    #[schema(required = false, nullable = false)]
    pub problem: Option<crate::domain::assessment::Problem>,
    /// With `outside_campaign_window`: the election's window now.
    #[schema(required = false, nullable = false)]
    pub campaign_starts_at: Option<DateTime<Utc>>,
    #[schema(required = false, nullable = false)]
    pub campaign_ends_at: Option<DateTime<Utc>>,
}

/// Each problem as `attention` and `affected_meetings` describe it.
pub fn described(problems: &[Problem]) -> Vec<Value> {
    problems
        .iter()
        .map(|p| json!({"code": p.code(), "detail": p.describe(), "problem": p}))
        .collect()
}

/// Rule 13: a planned meeting left without any active candidate.
pub fn no_active_candidate() -> Value {
    json!({"code": "no_active_candidate",
           "detail": "no active candidate is left on this meeting; add candidates or cancel it"})
}

/// Rule 13: a planned meeting that its election's changed campaign window no longer holds.
pub fn outside_window(
    window: &CampaignWindow,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Option<Value> {
    window.check(starts_at, ends_at).err().map(|p| {
        json!({"code": p.code, "detail": p.detail,
               "campaign_starts_at": window.starts_at, "campaign_ends_at": window.ends_at})
    })
}

/// Compares a fresh assessment of a meeting with what is stored; `extra_problems` are what
/// else is wrong with it now ([`no_active_candidate`], [`outside_window`]).
pub fn decide(stored: &Stored, fresh: &Assessment, extra_problems: Vec<Value>) -> Verdict {
    let site_updates: Vec<SiteUpdate> = fresh
        .sites
        .iter()
        .filter_map(|s| {
            let old = stored.sites.iter().find(|x| x.venue_id == s.venue_id)?;
            let changed = old.effective_capacity != s.verdict.effective_capacity
                || old.binding_rule_id != s.verdict.binding_rule_id;
            changed.then_some(SiteUpdate {
                venue_id: s.venue_id,
                effective_capacity: s.verdict.effective_capacity,
                binding_rule_id: s.verdict.binding_rule_id,
            })
        })
        .collect();
    let mut problems = described(&fresh.problems);
    problems.extend(extra_problems);
    let flagged = !problems.is_empty();
    let attention = Value::Array(problems.clone());
    Verdict {
        new_version: !site_updates.is_empty() || flagged != stored.needs_attention,
        site_updates,
        attention: (attention != stored.attention).then_some(attention),
        flagged,
        newly_flagged: flagged && !stored.needs_attention,
        problems,
    }
}

/// A meeting that the rules in force would not allow as planned, as `affected_meetings` lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AffectedMeeting {
    pub id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[schema(value_type = Vec<Attention>)]
    pub problems: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assessment::SiteAssessment;
    use crate::domain::capacity::CapacityVerdict;

    fn site(cap: i32, rule: Option<u128>) -> SiteAssessment {
        SiteAssessment {
            venue_id: Uuid::from_u128(7),
            expected_attendees: 30,
            verdict: CapacityVerdict {
                capacity: 100,
                effective_capacity: cap,
                binding_rule_id: rule.map(Uuid::from_u128),
                in_person_allowed: true,
                banning_rule_id: None,
                rules: Vec::new(),
            },
        }
    }

    fn stored(cap: i32, flagged: bool) -> Stored {
        Stored {
            sites: vec![StoredSite {
                venue_id: Uuid::from_u128(7),
                effective_capacity: cap,
                binding_rule_id: None,
            }],
            needs_attention: flagged,
            attention: json!([]),
        }
    }

    #[test]
    fn a_tighter_rule_flags_once_and_stores_the_new_capacity() {
        let fresh = Assessment {
            sites: vec![site(20, Some(9))],
            problems: vec![Problem::CapacityExceeded {
                venue_id: Uuid::from_u128(7),
                expected_attendees: 30,
                effective_capacity: 20,
                binding_rule_id: Some(Uuid::from_u128(9)),
            }],
        };
        let v = decide(&stored(100, false), &fresh, Vec::new());
        assert!(v.flagged && v.newly_flagged && v.new_version);
        assert_eq!(v.site_updates.len(), 1);
        assert_eq!(v.site_updates[0].effective_capacity, 20);
        let again = decide(&stored(20, true), &fresh, Vec::new());
        assert!(again.flagged && !again.newly_flagged);
    }

    #[test]
    fn a_relaxed_rule_clears_the_flag_and_nothing_unchanged_is_written() {
        let fresh = Assessment {
            sites: vec![site(100, None)],
            problems: Vec::new(),
        };
        let mut flagged = stored(100, true);
        flagged.attention = json!([{"code": "capacity_exceeded"}]);
        let v = decide(&flagged, &fresh, Vec::new());
        assert!(!v.flagged && v.new_version);
        assert_eq!(v.attention, Some(json!([])));
        let quiet = decide(&stored(100, false), &fresh, Vec::new());
        assert!(!quiet.new_version && quiet.attention.is_none() && quiet.site_updates.is_empty());
    }
}
