//! Rules 4 and 5 of SPEC §3: a meeting's sites against the public-health rules in force.
//! The one place that decides whether a planned meeting is allowed as planned.
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::capacity::{effective_capacity, CapacityVerdict, RuleFacts, VenueFacts};
use crate::domain::problem::{self, Code};

/// A rule with the region it covers: it reaches venues whose region path contains `region_id`.
#[derive(Debug, Clone, Copy)]
pub struct RegionalRule {
    pub region_id: Uuid,
    pub facts: RuleFacts,
}

/// One physical site of a meeting as planned.
#[derive(Debug, Clone)]
pub struct SitePlan {
    pub venue_id: Uuid,
    pub venue: VenueFacts,
    /// The venue's region path, province first.
    pub venue_region_path: Vec<Uuid>,
    pub expected_attendees: i32,
}

/// What one site may hold under the rules in force.
#[derive(Debug, Clone)]
pub struct SiteAssessment {
    pub venue_id: Uuid,
    pub expected_attendees: i32,
    pub verdict: CapacityVerdict,
}

/// Why a meeting cannot go ahead as planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
#[schema(as = SchedulingProblem)]
pub enum Problem {
    /// Rule 5: an in-person meeting where a rule bans gatherings.
    InPersonNotAllowed { venue_id: Uuid, rule_id: Uuid },
    /// Rule 4: a site expects more people than it may hold.
    CapacityExceeded {
        venue_id: Uuid,
        expected_attendees: i32,
        effective_capacity: i32,
        #[schema(required = true)]
        binding_rule_id: Option<Uuid>,
    },
    /// Rule 4: the online block expects more than its platform admits.
    OnlineCapacityExceeded {
        expected_attendees: i32,
        max_participants: i32,
    },
}

impl Problem {
    pub fn code(&self) -> Code {
        match self {
            Problem::InPersonNotAllowed { .. } => Code::InPersonNotAllowed,
            Problem::CapacityExceeded { .. } | Problem::OnlineCapacityExceeded { .. } => {
                Code::CapacityExceeded
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Problem::InPersonNotAllowed { venue_id, rule_id } => format!(
                "health rule {rule_id} bans in-person gatherings at venue {venue_id} during the meeting; hold it online"
            ),
            Problem::CapacityExceeded {
                venue_id,
                expected_attendees,
                effective_capacity,
                binding_rule_id: Some(rule),
            } => format!(
                "venue {venue_id} expects {expected_attendees} attendees but may hold {effective_capacity} under health rule {rule}"
            ),
            Problem::CapacityExceeded {
                venue_id,
                expected_attendees,
                effective_capacity,
                binding_rule_id: None,
            } => format!(
                "venue {venue_id} expects {expected_attendees} attendees but seats only {effective_capacity}"
            ),
            Problem::OnlineCapacityExceeded {
                expected_attendees,
                max_participants,
            } => format!(
                "the online block expects {expected_attendees} participants but admits at most {max_participants}"
            ),
        }
    }
}

/// The outcome for a whole meeting.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub sites: Vec<SiteAssessment>,
    pub problems: Vec<Problem>,
}

impl Assessment {
    /// Rules 4 and 5 for a meeting being planned: the first problem's code, with every
    /// problem listed under `problems`.
    pub fn check(&self) -> Result<(), problem::Problem> {
        match self.problems.first() {
            None => Ok(()),
            Some(first) => Err(problem::Problem::new(first.code(), first.describe())
                .with(serde_json::json!({"problems": self.problems}))),
        }
    }
}

/// Assesses every site of a meeting over `[starts_at, ends_at)`.
/// `in_person` is true for in-person meetings: only their site is barred by
/// `in_person_allowed: false` (connection points of an online meeting stay allowed,
/// each under its own effective capacity).
pub fn assess(
    in_person: bool,
    sites: &[SitePlan],
    online: Option<(i32, i32)>,
    rules: &[RegionalRule],
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Assessment {
    let mut problems = Vec::new();
    let assessed = sites
        .iter()
        .map(|site| {
            let reaching: Vec<RuleFacts> = rules
                .iter()
                .filter(|r| site.venue_region_path.contains(&r.region_id))
                .map(|r| r.facts)
                .collect();
            let verdict = effective_capacity(&site.venue, &reaching, starts_at, ends_at);
            if let (true, Some(rule_id)) = (in_person, verdict.banning_rule_id) {
                problems.push(Problem::InPersonNotAllowed {
                    venue_id: site.venue_id,
                    rule_id,
                });
            } else if site.expected_attendees > verdict.effective_capacity {
                problems.push(Problem::CapacityExceeded {
                    venue_id: site.venue_id,
                    expected_attendees: site.expected_attendees,
                    effective_capacity: verdict.effective_capacity,
                    binding_rule_id: verdict.binding_rule_id,
                });
            }
            SiteAssessment {
                venue_id: site.venue_id,
                expected_attendees: site.expected_attendees,
                verdict,
            }
        })
        .collect();
    if let Some((expected, max)) = online {
        if expected > max {
            problems.push(Problem::OnlineCapacityExceeded {
                expected_attendees: expected,
                max_participants: max,
            });
        }
    }
    Assessment {
        sites: assessed,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kinds::{AppliesTo, Combine, Setting};
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 5, 10, hour, 0, 0)
            .single()
            .expect("valid")
    }

    fn rule(region: u128, max: Option<i32>, in_person_allowed: bool) -> RegionalRule {
        RegionalRule {
            region_id: Uuid::from_u128(region),
            facts: RuleFacts {
                id: Uuid::from_u128(1000 + region),
                applies_to: AppliesTo::Any,
                effective_from: at(0),
                effective_until: None,
                max_attendees: max,
                max_occupancy_percent: None,
                min_area_per_person_m2: None,
                combine: Combine::Min,
                in_person_allowed,
            },
        }
    }

    fn site(path: &[u128], expected: i32) -> SitePlan {
        SitePlan {
            venue_id: Uuid::from_u128(7),
            venue: VenueFacts {
                capacity: 100,
                area_m2: None,
                setting: Setting::Indoor,
            },
            venue_region_path: path.iter().map(|n| Uuid::from_u128(*n)).collect(),
            expected_attendees: expected,
        }
    }

    #[test]
    fn a_rule_reaches_only_venues_inside_its_region() {
        let rules = [rule(2, Some(20), true)];
        let inside = assess(true, &[site(&[1, 2, 3], 30)], None, &rules, at(8), at(10));
        assert_eq!(inside.sites[0].verdict.effective_capacity, 20);
        assert_eq!(inside.problems.len(), 1);
        assert_eq!(inside.problems[0].code(), Code::CapacityExceeded);
        let outside = assess(true, &[site(&[1, 4, 5], 30)], None, &rules, at(8), at(10));
        assert_eq!(outside.sites[0].verdict.effective_capacity, 100);
        assert!(outside.problems.is_empty());
    }

    #[test]
    fn a_ban_stops_in_person_meetings_but_not_connection_points() {
        let rules = [rule(1, None, false)];
        let in_person = assess(true, &[site(&[1, 2], 10)], None, &rules, at(8), at(10));
        assert_eq!(
            in_person.problems,
            vec![Problem::InPersonNotAllowed {
                venue_id: Uuid::from_u128(7),
                rule_id: Uuid::from_u128(1001)
            }]
        );
        let online = assess(
            false,
            &[site(&[1, 2], 10)],
            Some((50, 100)),
            &rules,
            at(8),
            at(10),
        );
        assert!(online.problems.is_empty());
    }

    #[test]
    fn the_online_block_is_held_to_its_maximum() {
        let over = assess(false, &[], Some((101, 100)), &[], at(8), at(10));
        assert_eq!(
            over.problems,
            vec![Problem::OnlineCapacityExceeded {
                expected_attendees: 101,
                max_participants: 100
            }]
        );
        assert!(assess(false, &[], Some((100, 100)), &[], at(8), at(10))
            .problems
            .is_empty());
    }

    #[test]
    fn expected_equal_to_capacity_is_allowed() {
        let rules = [rule(1, Some(30), true)];
        assert!(assess(true, &[site(&[1], 30)], None, &rules, at(8), at(10))
            .problems
            .is_empty());
    }
}
