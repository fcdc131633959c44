//! Effective capacity of a venue for a meeting under the public-health rules in force (SPEC §2).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::kinds::{AppliesTo, Combine, Setting};

/// What the capacity rule needs to know about a venue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VenueFacts {
    pub capacity: i32,
    pub area_m2: Option<f64>,
    pub setting: Setting,
}

/// What the capacity rule needs to know about a health rule. The caller has
/// already kept only rules whose region subtree holds the venue's region.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RuleFacts {
    pub id: Uuid,
    pub applies_to: AppliesTo,
    pub effective_from: DateTime<Utc>,
    pub effective_until: Option<DateTime<Utc>>,
    pub max_attendees: Option<i32>,
    pub max_occupancy_percent: Option<i32>,
    pub min_area_per_person_m2: Option<f64>,
    pub combine: Combine,
    pub in_person_allowed: bool,
}

impl RuleFacts {
    /// The rule's own limit at this venue: its applicable terms combined by
    /// `combine`, or `None` when no term applies (e.g. only an area term and
    /// a venue without a floor area).
    pub fn limit_for(&self, venue: &VenueFacts) -> Option<i32> {
        let terms = [
            self.max_attendees.map(|n| n.max(0)),
            self.max_occupancy_percent
                .map(|percent| percent_of(venue.capacity, percent)),
            venue
                .area_m2
                .zip(self.min_area_per_person_m2)
                .and_then(|(area, per_person)| people_in_area(area, per_person)),
        ]
        .into_iter()
        .flatten();
        match self.combine {
            Combine::Min => terms.min(),
            Combine::Max => terms.max(),
        }
    }

    /// Whether the rule covers a meeting in this setting over
    /// `[starts_at, ends_at)`: the setting matches and the rule's half-open
    /// period `[effective_from, effective_until)` overlaps the meeting.
    pub fn applies(
        &self,
        setting: Setting,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> bool {
        self.applies_to.matches(setting)
            && self.effective_from < ends_at
            && self.effective_until.is_none_or(|until| starts_at < until)
    }
}

/// `floor(capacity * percent / 100)`, in 64 bits so no product overflows.
fn percent_of(capacity: i32, percent: i32) -> i32 {
    let people = (i64::from(capacity) * i64::from(percent)).div_euclid(100);
    i32::try_from(people.max(0)).unwrap_or(i32::MAX)
}

/// `floor(area / per_person)`; `None` when the term cannot be evaluated.
fn people_in_area(area_m2: f64, per_person_m2: f64) -> Option<i32> {
    if !(area_m2.is_finite() && per_person_m2.is_finite() && per_person_m2 > 0.0) {
        return None;
    }
    let exact = area_m2 / per_person_m2;
    // Decimal areas are not exact in binary: 12.0 / 0.4 is 29.999999999999996,
    // which must count as 30 people, not 29.
    let nearest = exact.round();
    let people = if (exact - nearest).abs() <= 1e-9 * nearest.abs().max(1.0) {
        nearest
    } else {
        exact.floor()
    };
    // Float-to-int `as` saturates, which is the intent for absurd areas.
    Some(people.max(0.0) as i32)
}

/// One applicable rule as evaluated for the venue and meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEvaluation {
    pub rule_id: Uuid,
    /// The rule's own limit at this venue; `None` when none of its terms applies.
    pub limit: Option<i32>,
    pub in_person_allowed: bool,
}

/// The effective capacity of a venue for a meeting, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityVerdict {
    /// The venue's normal capacity.
    pub capacity: i32,
    /// The venue's capacity lowered by every applicable rule; never below 0.
    pub effective_capacity: i32,
    /// The rule whose limit is the effective capacity, when a rule (not the
    /// venue itself) binds.
    pub binding_rule_id: Option<Uuid>,
    /// False when an applicable rule bans in-person gatherings.
    pub in_person_allowed: bool,
    pub banning_rule_id: Option<Uuid>,
    /// The applicable rules, oldest first (by `effective_from`, then id).
    pub rules: Vec<RuleEvaluation>,
}

/// Effective capacity of `venue` for a meeting over `[starts_at, ends_at)`
/// given the health rules in force in the venue's region.
pub fn effective_capacity(
    venue: &VenueFacts,
    rules: &[RuleFacts],
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> CapacityVerdict {
    let mut applicable: Vec<&RuleFacts> = rules
        .iter()
        .filter(|rule| rule.applies(venue.setting, starts_at, ends_at))
        .collect();
    // Sorted so the answer never depends on the order the database returned.
    applicable.sort_by_key(|rule| (rule.effective_from, rule.id));

    let evaluations: Vec<RuleEvaluation> = applicable
        .iter()
        .map(|rule| RuleEvaluation {
            rule_id: rule.id,
            limit: rule.limit_for(venue),
            in_person_allowed: rule.in_person_allowed,
        })
        .collect();

    // Ties between rules go to the lowest id, so the named rule is stable.
    let tightest = evaluations
        .iter()
        .filter_map(|e| e.limit.map(|limit| (limit, e.rule_id)))
        .min();
    let (effective, binding_rule_id) = match tightest {
        Some((limit, rule_id)) if limit < venue.capacity => (limit, Some(rule_id)),
        _ => (venue.capacity, None),
    };
    let banning_rule_id = evaluations
        .iter()
        .find(|e| !e.in_person_allowed)
        .map(|e| e.rule_id);

    CapacityVerdict {
        capacity: venue.capacity,
        effective_capacity: effective.max(0),
        binding_rule_id,
        in_person_allowed: banning_rule_id.is_none(),
        banning_rule_id,
        rules: evaluations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 5, day, hour, 0, 0).unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn hall(capacity: i32, area_m2: Option<f64>) -> VenueFacts {
        VenueFacts {
            capacity,
            area_m2,
            setting: Setting::Indoor,
        }
    }

    /// A rule in force for all of May 2021, indoor, with no terms yet.
    fn rule(n: u128) -> RuleFacts {
        RuleFacts {
            id: id(n),
            applies_to: AppliesTo::Indoor,
            effective_from: at(1, 0),
            effective_until: Some(at(31, 0)),
            max_attendees: None,
            max_occupancy_percent: None,
            min_area_per_person_m2: None,
            combine: Combine::Min,
            in_person_allowed: true,
        }
    }

    fn capped(n: u128, max_attendees: i32) -> RuleFacts {
        RuleFacts {
            max_attendees: Some(max_attendees),
            ..rule(n)
        }
    }

    /// The meeting under test: 10 May 2021, 08:00–11:00 UTC.
    fn verdict(venue: &VenueFacts, rules: &[RuleFacts]) -> CapacityVerdict {
        effective_capacity(venue, rules, at(10, 8), at(10, 11))
    }

    #[test]
    fn without_rules_the_venue_capacity_holds() {
        let v = verdict(&hall(120, Some(300.0)), &[]);
        assert_eq!(
            v,
            CapacityVerdict {
                capacity: 120,
                effective_capacity: 120,
                binding_rule_id: None,
                in_person_allowed: true,
                banning_rule_id: None,
                rules: vec![],
            }
        );
    }

    #[test]
    fn an_absolute_cap_binds_and_is_named() {
        let v = verdict(&hall(120, None), &[capped(1, 30)]);
        assert_eq!(v.effective_capacity, 30);
        assert_eq!(v.binding_rule_id, Some(id(1)));
        assert_eq!(
            v.rules,
            vec![RuleEvaluation {
                rule_id: id(1),
                limit: Some(30),
                in_person_allowed: true,
            }]
        );
    }

    #[test]
    fn percent_of_capacity_rounds_down() {
        let percent = |p| RuleFacts {
            max_occupancy_percent: Some(p),
            ..rule(1)
        };
        assert_eq!(percent(33).limit_for(&hall(100, None)), Some(33));
        assert_eq!(percent(50).limit_for(&hall(75, None)), Some(37));
        assert_eq!(percent(25).limit_for(&hall(99, None)), Some(24));
        assert_eq!(
            verdict(&hall(75, None), &[percent(50)]).effective_capacity,
            37
        );
    }

    #[test]
    fn area_per_person_rounds_down() {
        let density = RuleFacts {
            min_area_per_person_m2: Some(4.0),
            ..rule(1)
        };
        assert_eq!(density.limit_for(&hall(100, Some(150.0))), Some(37));
        let v = verdict(&hall(100, Some(150.0)), &[density]);
        assert_eq!(v.effective_capacity, 37);
        assert_eq!(v.binding_rule_id, Some(id(1)));
    }

    #[test]
    fn decimal_area_per_person_is_not_lost_to_float_error() {
        let density = RuleFacts {
            min_area_per_person_m2: Some(0.4),
            ..rule(1)
        };
        assert_eq!(density.limit_for(&hall(100, Some(12.0))), Some(30));
        let density = RuleFacts {
            min_area_per_person_m2: Some(0.1),
            ..rule(1)
        };
        assert_eq!(density.limit_for(&hall(100, Some(0.3))), Some(3));
    }

    #[test]
    fn area_term_is_ignored_when_the_venue_has_no_area() {
        let density_only = RuleFacts {
            min_area_per_person_m2: Some(4.0),
            ..rule(1)
        };
        assert_eq!(density_only.limit_for(&hall(100, None)), None);
        let v = verdict(&hall(100, None), &[density_only]);
        assert_eq!(v.effective_capacity, 100);
        assert_eq!(v.binding_rule_id, None);
        assert_eq!(v.rules[0].limit, None);

        let cap_and_density = RuleFacts {
            max_attendees: Some(60),
            min_area_per_person_m2: Some(4.0),
            ..rule(2)
        };
        assert_eq!(cap_and_density.limit_for(&hall(100, None)), Some(60));
    }

    #[test]
    fn combine_min_takes_the_lower_term_and_max_the_greater() {
        // California style: 25% or 100 people, whichever fewer.
        let fewer = RuleFacts {
            max_attendees: Some(100),
            max_occupancy_percent: Some(25),
            ..rule(1)
        };
        assert_eq!(fewer.limit_for(&hall(600, None)), Some(100));
        assert_eq!(fewer.limit_for(&hall(200, None)), Some(50));

        // Queensland style: 50% or 1 per 4 m², whichever is greater.
        let greater = RuleFacts {
            max_occupancy_percent: Some(50),
            min_area_per_person_m2: Some(4.0),
            combine: Combine::Max,
            ..rule(2)
        };
        let venue = hall(100, Some(300.0));
        assert_eq!(greater.limit_for(&venue), Some(75));
        let lower = RuleFacts {
            combine: Combine::Min,
            ..greater
        };
        assert_eq!(lower.limit_for(&venue), Some(50));
        assert_eq!(verdict(&venue, &[greater]).effective_capacity, 75);
    }

    #[test]
    fn a_rule_without_terms_has_no_limit() {
        assert_eq!(rule(1).limit_for(&hall(100, Some(100.0))), None);
    }

    #[test]
    fn of_several_rules_the_lowest_binds_and_is_named() {
        let rules = [
            capped(1, 50),
            RuleFacts {
                max_occupancy_percent: Some(30),
                ..rule(2)
            },
            capped(3, 40),
        ];
        let v = verdict(&hall(100, None), &rules);
        assert_eq!(v.effective_capacity, 30);
        assert_eq!(v.binding_rule_id, Some(id(2)));
        assert_eq!(
            v.rules.iter().map(|e| e.limit).collect::<Vec<_>>(),
            vec![Some(50), Some(30), Some(40)]
        );
    }

    #[test]
    fn ties_between_rules_name_the_lowest_id_whatever_the_input_order() {
        let rules = [capped(9, 20), capped(4, 20), capped(7, 25)];
        let mut reversed = rules;
        reversed.reverse();
        let v = verdict(&hall(100, None), &rules);
        assert_eq!(v.effective_capacity, 20);
        assert_eq!(v.binding_rule_id, Some(id(4)));
        assert_eq!(verdict(&hall(100, None), &reversed), v);
    }

    #[test]
    fn rules_are_listed_oldest_first() {
        let newer = RuleFacts {
            effective_from: at(5, 0),
            ..capped(1, 50)
        };
        let older = capped(2, 60);
        let v = verdict(&hall(100, None), &[newer, older]);
        assert_eq!(
            v.rules.iter().map(|e| e.rule_id).collect::<Vec<_>>(),
            vec![id(2), id(1)]
        );
    }

    #[test]
    fn rule_periods_are_half_open() {
        // The meeting runs 08:00–11:00 on 10 May.
        let ended_at_start = RuleFacts {
            effective_from: at(1, 0),
            effective_until: Some(at(10, 8)),
            ..capped(1, 10)
        };
        let starts_at_end = RuleFacts {
            effective_from: at(10, 11),
            effective_until: None,
            ..capped(2, 10)
        };
        let ends_mid_meeting = RuleFacts {
            effective_until: Some(at(10, 9)),
            ..capped(3, 20)
        };
        let open_ended = RuleFacts {
            effective_from: at(10, 10),
            effective_until: None,
            ..capped(4, 30)
        };
        assert!(!ended_at_start.applies(Setting::Indoor, at(10, 8), at(10, 11)));
        assert!(!starts_at_end.applies(Setting::Indoor, at(10, 8), at(10, 11)));
        assert!(ends_mid_meeting.applies(Setting::Indoor, at(10, 8), at(10, 11)));
        assert!(open_ended.applies(Setting::Indoor, at(10, 8), at(10, 11)));

        let v = verdict(
            &hall(100, None),
            &[ended_at_start, starts_at_end, open_ended],
        );
        assert_eq!(v.effective_capacity, 30);
        assert_eq!(v.binding_rule_id, Some(id(4)));
        assert_eq!(v.rules.len(), 1);
    }

    #[test]
    fn a_rule_for_another_setting_does_not_apply() {
        let outdoor_only = RuleFacts {
            applies_to: AppliesTo::Outdoor,
            ..capped(1, 10)
        };
        let v = verdict(&hall(100, None), &[outdoor_only]);
        assert_eq!(v.effective_capacity, 100);
        assert_eq!(v.binding_rule_id, None);
        assert!(v.rules.is_empty());

        let square = VenueFacts {
            setting: Setting::Outdoor,
            ..hall(500, None)
        };
        assert_eq!(verdict(&square, &[outdoor_only]).effective_capacity, 10);
    }

    #[test]
    fn a_rule_for_any_setting_applies_indoors_and_outdoors() {
        let everywhere = RuleFacts {
            applies_to: AppliesTo::Any,
            ..capped(1, 10)
        };
        let square = VenueFacts {
            setting: Setting::Outdoor,
            ..hall(500, None)
        };
        assert_eq!(
            verdict(&hall(100, None), &[everywhere]).effective_capacity,
            10
        );
        assert_eq!(verdict(&square, &[everywhere]).effective_capacity, 10);
        assert!(AppliesTo::Any.matches(Setting::Indoor));
        assert!(AppliesTo::Indoor.matches(Setting::Indoor));
        assert!(!AppliesTo::Indoor.matches(Setting::Outdoor));
    }

    #[test]
    fn a_ban_on_gatherings_is_reported_with_its_rule() {
        let ban = RuleFacts {
            in_person_allowed: false,
            ..rule(5)
        };
        let later_ban = RuleFacts {
            effective_from: at(2, 0),
            in_person_allowed: false,
            ..rule(3)
        };
        let v = verdict(&hall(100, None), &[later_ban, capped(1, 50), ban]);
        assert!(!v.in_person_allowed);
        assert_eq!(v.banning_rule_id, Some(id(5)));
        assert_eq!(v.effective_capacity, 50);
        assert_eq!(v.binding_rule_id, Some(id(1)));

        let allowed = verdict(&hall(100, None), &[capped(1, 50)]);
        assert!(allowed.in_person_allowed);
        assert_eq!(allowed.banning_rule_id, None);
    }

    #[test]
    fn a_rule_above_the_venue_capacity_leaves_the_venue_binding() {
        let v = verdict(&hall(80, None), &[capped(1, 200)]);
        assert_eq!(v.effective_capacity, 80);
        assert_eq!(v.binding_rule_id, None);
        assert_eq!(v.rules[0].limit, Some(200));

        let equal = verdict(&hall(80, None), &[capped(1, 80)]);
        assert_eq!(equal.effective_capacity, 80);
        assert_eq!(equal.binding_rule_id, None);
    }

    #[test]
    fn effective_capacity_is_never_negative() {
        assert_eq!(capped(1, -5).limit_for(&hall(100, None)), Some(0));
        let v = verdict(&hall(100, None), &[capped(1, -5)]);
        assert_eq!(v.effective_capacity, 0);
        assert_eq!(v.binding_rule_id, Some(id(1)));
    }

    #[test]
    fn percent_of_a_huge_capacity_does_not_overflow() {
        let percent = RuleFacts {
            max_occupancy_percent: Some(200),
            ..rule(1)
        };
        assert_eq!(percent.limit_for(&hall(i32::MAX, None)), Some(i32::MAX));
    }
}
