//! Public-health gathering rules, and the province lock that orders rule changes against
//! meeting plans.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{health_rules, regions};
use super::DbResult;
use crate::domain::assessment::RegionalRule;
use crate::domain::capacity::RuleFacts;
use crate::domain::kinds::{AppliesTo, Combine};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = health_rules)]
pub struct HealthRule {
    pub id: Uuid,
    pub province_id: Uuid,
    pub region_id: Uuid,
    pub effective_from: DateTime<Utc>,
    pub effective_until: Option<DateTime<Utc>>,
    pub applies_to: AppliesTo,
    pub max_attendees: Option<i32>,
    pub max_occupancy_percent: Option<i32>,
    pub min_area_per_person_m2: Option<f64>,
    pub combine: Combine,
    pub reference: Option<String>,
    pub in_person_allowed: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl HealthRule {
    pub fn regional(&self) -> RegionalRule {
        RegionalRule {
            region_id: self.region_id,
            facts: RuleFacts {
                id: self.id,
                applies_to: self.applies_to,
                effective_from: self.effective_from,
                effective_until: self.effective_until,
                max_attendees: self.max_attendees,
                max_occupancy_percent: self.max_occupancy_percent,
                min_area_per_person_m2: self.min_area_per_person_m2,
                combine: self.combine,
                in_person_allowed: self.in_person_allowed,
            },
        }
    }
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = health_rules, treat_none_as_null = true)]
pub struct HealthRuleForm {
    pub region_id: Uuid,
    /// Never rewritten: a row stays in its province (on Citus, its shard).
    #[diesel(skip_update)]
    pub province_id: Uuid,
    pub effective_from: DateTime<Utc>,
    pub effective_until: Option<DateTime<Utc>>,
    pub applies_to: AppliesTo,
    pub max_attendees: Option<i32>,
    pub max_occupancy_percent: Option<i32>,
    pub min_area_per_person_m2: Option<f64>,
    pub combine: Combine,
    pub reference: Option<String>,
    pub in_person_allowed: bool,
}

/// Rule changes take this lock exclusively and meeting plans take it shared, per province:
/// a rule change waits for meetings being planned, then re-evaluates them; a meeting being
/// planned sees every committed rule. Meetings never wait for each other. The lock is on the
/// province's own row (`FOR NO KEY UPDATE` against `FOR SHARE`, neither blocking the key
/// locks of foreign-key checks): a row lock holds on whichever node of a Citus cluster a
/// request enters by, where an advisory lock would be one node's only (SPEC §8).
pub fn lock_province_rules(
    conn: &mut PgConnection,
    province_id: Uuid,
    exclusive: bool,
) -> DbResult<()> {
    let province = regions::table
        .filter(regions::province_id.eq(province_id))
        .filter(regions::id.eq(province_id))
        .select(regions::id);
    if exclusive {
        province.for_no_key_update().execute(conn)?;
    } else {
        province.for_share().execute(conn)?;
    }
    Ok(())
}

pub fn insert(conn: &mut PgConnection, id: Uuid, form: &HealthRuleForm) -> DbResult<HealthRule> {
    Ok(diesel::insert_into(health_rules::table)
        .values((health_rules::id.eq(id), form))
        .returning(HealthRule::as_returning())
        .get_result(conn)?)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<HealthRule>> {
    Ok(health_rules::table
        .filter(health_rules::id.eq(id))
        .select(HealthRule::as_select())
        .first(conn)
        .optional()?)
}

province_rows! {
    health_rules, HealthRule;
    lock;
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    form: &HealthRuleForm,
    at: DateTime<Utc>,
) -> DbResult<HealthRule> {
    Ok(diesel::update(
        health_rules::table
            .filter(health_rules::province_id.eq(form.province_id))
            .filter(health_rules::id.eq(id)),
    )
    .set((
        form,
        health_rules::version.eq(health_rules::version + 1),
        health_rules::updated_at.eq(at),
    ))
    .returning(HealthRule::as_returning())
    .get_result(conn)?)
}

/// Rules set in any of `region_ids` whose period overlaps `[from, to)`.
pub fn in_regions_during(
    conn: &mut PgConnection,
    region_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DbResult<Vec<HealthRule>> {
    Ok(health_rules::table
        .filter(health_rules::region_id.eq_any(region_ids))
        .filter(health_rules::effective_from.lt(to))
        .filter(
            health_rules::effective_until
                .is_null()
                .or(health_rules::effective_until.gt(from)),
        )
        .select(HealthRule::as_select())
        .order(health_rules::id)
        .load(conn)?)
}

pub struct RuleFilter {
    /// The caller's region and its path: rules set inside it, and rules above it that reach it.
    pub scope: Option<(Uuid, Vec<Uuid>)>,
    pub region_id: Option<Uuid>,
    pub active_at: Option<DateTime<Utc>>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

pub fn list(conn: &mut PgConnection, f: RuleFilter) -> DbResult<Vec<HealthRule>> {
    let mut q = health_rules::table
        .inner_join(
            regions::table.on(regions::id
                .eq(health_rules::region_id)
                .and(regions::province_id.eq(health_rules::province_id))),
        )
        .select(HealthRule::as_select())
        .into_boxed();
    if let Some((scope, path)) = f.scope {
        q = q.filter(
            regions::path
                .contains(vec![scope])
                .or(health_rules::region_id.eq_any(path)),
        );
    }
    if let Some(r) = f.region_id {
        q = q.filter(regions::path.contains(vec![r]));
    }
    if let Some(t) = f.active_at {
        q = q.filter(health_rules::effective_from.le(t)).filter(
            health_rules::effective_until
                .is_null()
                .or(health_rules::effective_until.gt(t)),
        );
    }
    if let Some(after) = f.after {
        q = q.filter(health_rules::id.gt(after));
    }
    Ok(q.order(health_rules::id).limit(f.limit).load(conn)?)
}
