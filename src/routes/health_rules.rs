//! `/health-rules` (public-health gathering rules, with re-evaluation of the meetings they
//! reach) and `/venues/{id}/capacity` (what a venue may hold over a period).
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::auth::Caller;
use crate::db::health_rules::{self as db, HealthRule, HealthRuleForm, RuleFilter};
use crate::domain::capacity::{effective_capacity, AppliesTo, Combine, RuleFacts};
use crate::domain::values::{optional_text, timestamp};
use crate::error::{vouched, ApiError, FieldErrors};
use crate::idempotency::Created;
use crate::pagination::PageRequest;
use crate::planning::{self, AffectedMeeting};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health-rules").post(create).get(list))
        .service(web::resource("/health-rules/{id}").get(get).patch(patch))
        .service(web::resource("/venues/{id}/capacity").get(venue_capacity));
}

/// The rule's fields, as sent; PATCH sends any of them.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFields {
    region_id: Option<Uuid>,
    effective_from: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    effective_until: Option<Option<String>>,
    applies_to: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    max_attendees: Option<Option<i32>>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    max_occupancy_percent: Option<Option<i32>>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    min_area_per_person_m2: Option<Option<f64>>,
    combine: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    reference: Option<Option<String>>,
    in_person_allowed: Option<bool>,
}

impl RuleFields {
    /// Merges these fields over `base` (a stored rule for PATCH, nothing for POST) and
    /// validates the whole rule; the province comes from the region, looked up by the caller.
    fn merge(
        &self,
        base: Option<&HealthRule>,
        province_of: impl FnOnce(Uuid) -> Option<Uuid>,
    ) -> Result<HealthRuleForm, ApiError> {
        let mut e = FieldErrors::new();
        let region_id = self.region_id.or(base.map(|b| b.region_id));
        let province_id = match region_id {
            None => {
                e.add("region_id", "is required");
                None
            }
            Some(r) => {
                let p = province_of(r);
                if p.is_none() {
                    e.add("region_id", "no such region");
                }
                p
            }
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
            Some(a) => e.take(
                "applies_to",
                a.parse::<AppliesTo>()
                    .map(|a| a.as_str().to_owned())
                    .map_err(|_| format!("must be indoor, outdoor or any, not {a:?}")),
            ),
            None => Some(base.map_or_else(|| "any".to_owned(), |b| b.applies_to.clone())),
        };
        let combine = match &self.combine {
            Some(c) => e.take(
                "combine",
                c.parse::<Combine>()
                    .map(|c| c.as_str().to_owned())
                    .map_err(|_| format!("must be min or max, not {c:?}")),
            ),
            None => Some(base.map_or_else(|| "min".to_owned(), |b| b.combine.clone())),
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
        if area.is_some_and(|a| !(a.is_finite() && a > 0.0 && a <= 10_000.0)) {
            e.add(
                "min_area_per_person_m2",
                "must be a positive number of square metres",
            );
        }
        let reference = match &self.reference {
            Some(r) => e.take("reference", optional_text(r.as_deref(), 200)),
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
        e.finish()?;
        Ok(HealthRuleForm {
            region_id: vouched(region_id)?,
            province_id: vouched(province_id)?,
            effective_from: vouched(effective_from)?,
            effective_until: vouched(effective_until)?,
            applies_to: vouched(applies_to)?,
            max_attendees,
            max_occupancy_percent: percent,
            min_area_per_person_m2: area,
            combine: vouched(combine)?,
            reference: vouched(reference)?,
            in_person_allowed,
        })
    }
}

#[derive(Serialize)]
struct RuleChange {
    rule: HealthRule,
    affected_meetings: Vec<AffectedMeeting>,
}

fn region_province(
    conn: &mut diesel::PgConnection,
    id: Uuid,
) -> Result<Option<(Uuid, Vec<Uuid>)>, ApiError> {
    match crate::db::regions::find(conn, id) {
        Ok(r) => Ok(Some((r.province_id, r.path))),
        Err(e) if e.code() == "not_found" => Ok(None),
        Err(e) => Err(e),
    }
}

async fn create(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    body: web::Json<RuleFields>,
) -> Result<HttpResponse, ApiError> {
    who.ensure_can_mutate()?;
    super::create_once(&state, who, &req, body.into_inner(), |conn, who, body| {
        let region = body
            .region_id
            .map(|r| region_province(conn, r))
            .transpose()?
            .flatten();
        let form = body.merge(None, |_| region.as_ref().map(|(p, _)| *p))?;
        if let Some((_, path)) = &region {
            who.ensure_write(path)?;
        }
        db::lock_province_rules(conn, form.province_id, true)?;
        let rule = db::create(conn, &form)?;
        let reached = planning::meetings_reached(
            conn,
            rule.region_id,
            rule.effective_from,
            rule.effective_until,
        )?;
        let affected = planning::reevaluate(conn, &reached, rule.reference.as_deref())?;
        audit::record(
            conn,
            who,
            Change {
                action: "create",
                entity_type: "health_rule",
                entity_id: rule.id,
                province_id: Some(rule.province_id),
                before: None,
                after: serde_json::to_value(&rule).ok(),
            },
        )?;
        let location = format!("/api/v1/health-rules/{}", rule.id);
        Created::new(
            &RuleChange {
                rule,
                affected_meetings: affected,
            },
            Some(location),
        )
    })
    .await
}

async fn patch(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
    body: web::Json<RuleFields>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "health rule")?;
    who.ensure_can_mutate()?;
    let body = body.into_inner();
    let change = crate::db::tx(&state.pool, move |conn| {
        let current = db::find(conn, id)?;
        db::lock_province_rules(conn, current.province_id, true)?;
        let before = db::lock(conn, id)?;
        let old_path = crate::db::regions::find(conn, before.region_id)?.path;
        who.ensure_write(&old_path)?;
        let region = region_province(conn, body.region_id.unwrap_or(before.region_id))?;
        let form = body.merge(Some(&before), |_| region.as_ref().map(|(p, _)| *p))?;
        if form.province_id != before.province_id {
            return Err(ApiError::field(
                "region_id",
                "a rule cannot move to another province; create a new rule there",
            ));
        }
        if let Some((_, path)) = &region {
            who.ensure_write(path)?;
        }
        let rule = db::update(conn, id, &form)?;
        let mut reached = planning::meetings_reached(
            conn,
            before.region_id,
            before.effective_from,
            before.effective_until,
        )?;
        reached.extend(planning::meetings_reached(
            conn,
            rule.region_id,
            rule.effective_from,
            rule.effective_until,
        )?);
        reached.sort();
        reached.dedup();
        let affected = planning::reevaluate(conn, &reached, rule.reference.as_deref())?;
        audit::record(
            conn,
            &who,
            Change {
                action: "update",
                entity_type: "health_rule",
                entity_id: id,
                province_id: Some(rule.province_id),
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&rule).ok(),
            },
        )?;
        Ok(RuleChange {
            rule,
            affected_meetings: affected,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(change))
}

async fn get(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "health rule")?;
    let scope = who.scope();
    let rule = crate::db::run(&state.pool, move |conn| {
        let rule = db::find(conn, id)?;
        if let Some(scope) = scope {
            // A rule is visible where it applies: in its subtree, and to the regions above it.
            let rule_path = crate::db::regions::find(conn, rule.region_id)?.path;
            let scope_path = crate::db::regions::find(conn, scope)?.path;
            if !rule_path.contains(&scope) && !scope_path.contains(&rule.region_id) {
                return Err(ApiError::forbidden("this rule is outside your region"));
            }
        }
        Ok(rule)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rule))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region_id: Option<Uuid>,
    active_at: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    who: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let active_at = q
        .active_at
        .as_deref()
        .map(timestamp)
        .transpose()
        .map_err(|m| ApiError::field("active_at", m))?;
    let filter = RuleFilter {
        scope: who.scope(),
        region_id: q.region_id,
        active_at,
        after: page.after_id()?,
        limit: page.fetch(),
    };
    let rows = crate::db::run(&state.pool, move |conn| db::list(conn, filter)).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.to_string())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodQuery {
    starts_at: String,
    ends_at: String,
}

#[derive(Serialize)]
struct RuleLimit {
    rule: HealthRule,
    limit: Option<i32>,
    binding: bool,
}

#[derive(Serialize)]
struct VenueCapacity {
    venue_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    capacity: i32,
    effective_capacity: i32,
    binding_rule_id: Option<Uuid>,
    in_person_allowed: bool,
    banning_rule_id: Option<Uuid>,
    rules: Vec<RuleLimit>,
}

async fn venue_capacity(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "venue")?;
    let mut e = FieldErrors::new();
    let starts_at = e.take("starts_at", timestamp(&q.starts_at));
    let ends_at = e.take("ends_at", timestamp(&q.ends_at));
    if let (Some(s), Some(t)) = (starts_at, ends_at) {
        if t <= s {
            e.add("ends_at", "must be after starts_at");
        }
    }
    e.finish()?;
    let (starts_at, ends_at) = (vouched(starts_at)?, vouched(ends_at)?);
    let answer = crate::db::run(&state.pool, move |conn| {
        let (venue, path) = crate::db::venues::find(conn, id)?;
        who.ensure_read(&path)?;
        let rules = db::rules_in_regions(conn, &path, starts_at, ends_at)?;
        let facts: Vec<RuleFacts> = rules
            .iter()
            .map(|r| r.regional().map(|x| x.facts))
            .collect::<Result<_, _>>()?;
        let venue_facts = venue.facts()?;
        let verdict = effective_capacity(&venue_facts, &facts, starts_at, ends_at);
        let rules = verdict
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
            rules,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!(answer)))
}
