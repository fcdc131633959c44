//! Public-health rules: creating or changing one re-evaluates the future planned meetings it
//! reaches (rule 8); and what a venue may hold over a period under the rules in force.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit::{self, Change};
use super::{reevaluation, Result, Tx};
use crate::db::health_rules::{self as db, HealthRule, HealthRuleForm, RuleFilter};
use crate::db::{regions, venues};
use crate::domain::capacity::{effective_capacity, RuleFacts};
use crate::domain::kinds::{self, AppliesTo, Combine};
use crate::domain::problem::{FieldErrors, Problem};
use crate::domain::reevaluation::AffectedMeeting;
use crate::domain::scope::Caller;
use crate::domain::text;
use crate::domain::values::timestamp;

/// A rule's fields as sent; a PATCH sends any of them, `null` clears the optional ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = HealthRulePatch)]
pub struct RuleFields {
    /// The rule applies to venues in this region's subtree. It cannot move to another province.
    pub region_id: Option<Uuid>,
    #[schema(format = DateTime)]
    pub effective_from: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// Exclusive end; null = until further notice.
    #[schema(format = DateTime)]
    pub effective_until: Option<Option<String>>,
    #[schema(value_type = Option<crate::domain::kinds::AppliesTo>)]
    pub applies_to: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// Absolute cap.
    #[schema(minimum = 0, maximum = 1000000)]
    pub max_attendees: Option<Option<i32>>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// Percent of the venue's capacity, rounded down.
    #[schema(minimum = 1, maximum = 100)]
    pub max_occupancy_percent: Option<Option<i32>>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// Needs the venue's area_m2; rounded down.
    #[schema(maximum = 10000, exclusive_minimum = 0)]
    pub min_area_per_person_m2: Option<Option<f64>>,
    #[schema(value_type = Option<crate::domain::kinds::Combine>)]
    pub combine: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// E.g. the directive's number.
    #[schema(max_length = 200)]
    pub reference: Option<Option<String>>,
    pub in_person_allowed: Option<bool>,
}

/// A rule with the meetings it now puts in breach.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleChange {
    pub rule: HealthRule,
    pub affected_meetings: Vec<AffectedMeeting>,
}

impl RuleFields {
    /// Merges these fields over `base` (a stored rule for PATCH, nothing for POST) and
    /// validates the whole rule; `region` is the rule's region as found, with its province.
    fn merge(
        &self,
        base: Option<&HealthRule>,
        region: Option<&regions::Region>,
    ) -> std::result::Result<HealthRuleForm, Problem> {
        let mut e = FieldErrors::new();
        let region = match (self.region_id.or(base.map(|b| b.region_id)), region) {
            (None, _) => {
                e.add("region_id", "is required");
                None
            }
            (Some(_), None) => {
                e.add("region_id", "no such region");
                None
            }
            (Some(_), Some(r)) => Some(r),
        };
        let effective_from = match (&self.effective_from, base) {
            (Some(s), _) => e.take("effective_from", timestamp(s)),
            (None, Some(b)) => Some(b.effective_from),
            (None, None) => {
                e.add("effective_from", "is required");
                None
            }
        };
        let effective_until = match &self.effective_until {
            Some(Some(s)) => e.take("effective_until", timestamp(s)).map(Some),
            Some(None) => Some(None),
            None => Some(base.and_then(|b| b.effective_until)),
        };
        let applies_to = match &self.applies_to {
            Some(a) => e.take("applies_to", kinds::parse::<AppliesTo>(a)),
            None => Some(base.map_or(AppliesTo::Any, |b| b.applies_to)),
        };
        let combine = match &self.combine {
            Some(c) => e.take("combine", kinds::parse::<Combine>(c)),
            None => Some(base.map_or(Combine::Min, |b| b.combine)),
        };
        let max_attendees = self
            .max_attendees
            .unwrap_or(base.and_then(|b| b.max_attendees));
        if max_attendees.is_some_and(|n| !(0..=1_000_000).contains(&n)) {
            e.add("max_attendees", "must be between 0 and 1000000");
        }
        let percent = self
            .max_occupancy_percent
            .unwrap_or(base.and_then(|b| b.max_occupancy_percent));
        if percent.is_some_and(|p| !(1..=100).contains(&p)) {
            e.add("max_occupancy_percent", "must be between 1 and 100");
        }
        let area = self
            .min_area_per_person_m2
            .unwrap_or(base.and_then(|b| b.min_area_per_person_m2));
        if area.is_some_and(|a| !(a.is_finite() && (0.01..=10_000.0).contains(&a))) {
            e.add(
                "min_area_per_person_m2",
                "must be between 0.01 and 10000 square metres",
            );
        }
        let reference = match &self.reference {
            Some(r) => e.take("reference", text::optional_name(r.as_deref(), 200)),
            None => Some(base.and_then(|b| b.reference.clone())),
        };
        let in_person_allowed = self
            .in_person_allowed
            .or(base.map(|b| b.in_person_allowed))
            .unwrap_or(true);
        if max_attendees.is_none() && percent.is_none() && area.is_none() && in_person_allowed {
            e.add(
                "max_attendees",
                "a rule needs at least one limit (max_attendees, max_occupancy_percent, min_area_per_person_m2) or in_person_allowed: false",
            );
        }
        if let (Some(from), Some(Some(until))) = (effective_from, effective_until) {
            if until <= from {
                e.add("effective_until", "must be after effective_from");
            }
        }
        let ((((region, from), until), (applies_to, combine)), reference) = e.done(
            region
                .zip(effective_from)
                .zip(effective_until)
                .zip(applies_to.zip(combine))
                .zip(reference),
        )?;
        Ok(HealthRuleForm {
            region_id: region.id,
            province_id: region.province_id,
            effective_from: from,
            effective_until: until,
            applies_to,
            max_attendees,
            max_occupancy_percent: percent,
            min_area_per_person_m2: area,
            combine,
            reference,
            in_person_allowed,
        })
    }
}

/// Creates a rule and re-evaluates the meetings it reaches.
pub fn create(tx: &mut Tx<'_>, who: &Caller, fields: &RuleFields) -> Result<RuleChange> {
    who.ensure_can_mutate()?;
    let region = match fields.region_id {
        Some(r) => regions::find(tx, r)?,
        None => None,
    };
    if let Some(r) = &region {
        who.ensure_changes(&r.path)?;
    }
    let form = fields.merge(None, region.as_ref())?;
    db::lock_province_rules(tx, form.province_id, true)?;
    let rule = db::insert(tx, Uuid::now_v7(), &form)?;
    let reached = reevaluation::reached_by_rule(
        tx,
        rule.region_id,
        rule.effective_from,
        rule.effective_until,
    )?;
    let affected = super::meetings::reevaluate(
        tx,
        who,
        rule.province_id,
        &reached,
        rule.reference.as_deref(),
    )?;
    audit::record(
        tx,
        who,
        Change::created("health_rule", rule.id, Some(rule.province_id), &rule),
    )?;
    Ok(RuleChange {
        rule,
        affected_meetings: affected,
    })
}

/// Changes a rule (never to another province) and re-evaluates the meetings it reached
/// before or reaches now.
pub fn patch(tx: &mut Tx<'_>, who: &Caller, id: Uuid, fields: &RuleFields) -> Result<RuleChange> {
    who.ensure_can_mutate()?;
    let current = db::find(tx, id)?.ok_or_else(|| Problem::not_found("health rule"))?;
    let old_region = regions::find(tx, current.region_id)?
        .ok_or_else(|| super::Error::internal("a rule's region went missing"))?;
    who.ensure_changes(&old_region.path)?;
    db::lock_province_rules(tx, current.province_id, true)?;
    let before =
        db::lock(tx, current.province_id, id)?.ok_or_else(|| Problem::not_found("health rule"))?;
    let region = regions::find(tx, fields.region_id.unwrap_or(before.region_id))?;
    if let Some(r) = &region {
        who.ensure_changes(&r.path)?;
    }
    let form = fields.merge(Some(&before), region.as_ref())?;
    if form.province_id != before.province_id {
        return Err(Problem::field(
            "region_id",
            "a rule cannot move to another province; create a new rule there",
        )
        .into());
    }
    let now = tx.now();
    let rule = db::update(tx, id, &form, now)?;
    let mut reached = reevaluation::reached_by_rule(
        tx,
        before.region_id,
        before.effective_from,
        before.effective_until,
    )?;
    reached.extend(reevaluation::reached_by_rule(
        tx,
        rule.region_id,
        rule.effective_from,
        rule.effective_until,
    )?);
    reached.sort();
    reached.dedup();
    let affected = super::meetings::reevaluate(
        tx,
        who,
        rule.province_id,
        &reached,
        rule.reference.as_deref(),
    )?;
    audit::record(
        tx,
        who,
        Change::updated("health_rule", id, Some(rule.province_id), &before, &rule),
    )?;
    Ok(RuleChange {
        rule,
        affected_meetings: affected,
    })
}

/// A rule is visible where it applies: in its subtree, and to the regions above it.
pub fn find(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<HealthRule> {
    let rule = db::find(tx, id)?.ok_or_else(|| Problem::not_found("health rule"))?;
    if who.scope().is_some() {
        let rule_path = regions::find(tx, rule.region_id)?
            .map(|r| r.path)
            .unwrap_or_default();
        if !who.reaches(&rule_path) && !who.region_path.contains(&rule.region_id) {
            return Err(Problem::forbidden("this rule is outside your region").into());
        }
    }
    Ok(rule)
}

pub fn list(tx: &mut Tx<'_>, who: &Caller, mut filter: RuleFilter) -> Result<Vec<HealthRule>> {
    filter.scope = who.scope().map(|r| (r, who.region_path.clone()));
    Ok(db::list(tx, filter)?)
}

/// One applicable rule's limit at a venue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleLimit {
    pub rule: HealthRule,
    /// The attendees this rule allows at the venue; null when it sets no number (only bans).
    #[schema(required = true)]
    pub limit: Option<i32>,
    /// This rule gives the effective capacity.
    pub binding: bool,
}

/// What a venue may hold over a period, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VenueCapacity {
    pub venue_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The venue's own capacity.
    pub capacity: i32,
    /// The least of the capacity and every applicable rule's limit.
    pub effective_capacity: i32,
    /// The rule that gives effective_capacity; null when the venue's own capacity does.
    #[schema(required = true)]
    pub binding_rule_id: Option<Uuid>,
    pub in_person_allowed: bool,
    /// A rule with in_person_allowed false, when one applies.
    #[schema(required = true)]
    pub banning_rule_id: Option<Uuid>,
    /// Every rule that applies over the period.
    pub rules: Vec<RuleLimit>,
}

/// The effective capacity of a venue over `[starts_at, ends_at)` (SPEC §2).
pub fn venue_capacity(
    tx: &mut Tx<'_>,
    who: &Caller,
    venue_id: Uuid,
    starts_at: &str,
    ends_at: &str,
) -> Result<VenueCapacity> {
    let (venue, path) = venues::find(tx, venue_id)?.ok_or_else(|| Problem::not_found("venue"))?;
    who.ensure_reads(&path)?;
    let mut e = FieldErrors::new();
    let starts_at = e.take("starts_at", timestamp(starts_at));
    let ends_at = e.take("ends_at", timestamp(ends_at));
    if let (Some(s), Some(t)) = (starts_at, ends_at) {
        if t <= s {
            e.add("ends_at", "must be after starts_at");
        }
    }
    let (starts_at, ends_at) = e.done(starts_at.zip(ends_at))?;
    let rules = db::in_regions_during(tx, &path, starts_at, ends_at)?;
    let facts: Vec<RuleFacts> = rules.iter().map(|r| r.regional().facts).collect();
    let verdict = effective_capacity(&venue.facts(), &facts, starts_at, ends_at);
    let limits = verdict
        .rules
        .iter()
        .filter_map(|ev| {
            rules
                .iter()
                .find(|r| r.id == ev.rule_id)
                .map(|r| RuleLimit {
                    rule: r.clone(),
                    limit: ev.limit,
                    binding: verdict.binding_rule_id == Some(r.id),
                })
        })
        .collect();
    Ok(VenueCapacity {
        venue_id: venue.id,
        starts_at,
        ends_at,
        capacity: verdict.capacity,
        effective_capacity: verdict.effective_capacity,
        binding_rule_id: verdict.binding_rule_id,
        in_person_allowed: verdict.in_person_allowed,
        banning_rule_id: verdict.banning_rule_id,
        rules: limits,
    })
}
