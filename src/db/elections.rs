//! Elections, their electoral units and candidates.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::db::regions::{self, Region};
use crate::db::schema::{candidates, elections, electoral_units, regions as regions_t};
use crate::domain::campaign::CampaignWindow;
use crate::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = elections)]
pub struct ElectionRow {
    pub id: Uuid,
    pub name: String,
    pub polling_starts_at: DateTime<Utc>,
    pub campaign_starts_at: DateTime<Utc>,
    pub timezone: String,
    pub report_deadline_hours: i32,
    pub min_meetings_per_candidate: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An election as clients see it: with its computed `campaign_ends_at`.
#[derive(Debug, Clone, Serialize)]
pub struct Election {
    pub id: Uuid,
    pub name: String,
    pub polling_starts_at: DateTime<Utc>,
    pub campaign_starts_at: DateTime<Utc>,
    pub campaign_ends_at: DateTime<Utc>,
    pub timezone: String,
    pub report_deadline_hours: i32,
    pub min_meetings_per_candidate: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ElectionRow> for Election {
    fn from(r: ElectionRow) -> Self {
        Election {
            campaign_ends_at: CampaignWindow::for_election(
                r.campaign_starts_at,
                r.polling_starts_at,
            )
            .ends_at,
            id: r.id,
            name: r.name,
            polling_starts_at: r.polling_starts_at,
            campaign_starts_at: r.campaign_starts_at,
            timezone: r.timezone,
            report_deadline_hours: r.report_deadline_hours,
            min_meetings_per_candidate: r.min_meetings_per_candidate,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = elections)]
pub struct ElectionInsertForm {
    pub id: Uuid,
    pub name: String,
    pub polling_starts_at: DateTime<Utc>,
    pub campaign_starts_at: DateTime<Utc>,
    pub timezone: String,
    pub report_deadline_hours: i32,
    pub min_meetings_per_candidate: serde_json::Value,
}

pub fn create_election(
    conn: &mut PgConnection,
    form: ElectionInsertForm,
) -> Result<Election, ApiError> {
    let row = diesel::insert_into(elections::table)
        .values(form)
        .returning(ElectionRow::as_returning())
        .get_result(conn)?;
    Ok(row.into())
}

pub fn find_election(conn: &mut PgConnection, id: Uuid) -> Result<Election, ApiError> {
    elections::table
        .find(id)
        .select(ElectionRow::as_select())
        .first(conn)
        .optional()?
        .map(Election::from)
        .ok_or_else(|| ApiError::not_found("election"))
}

pub fn list_elections(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Election>, ApiError> {
    let mut q = elections::table
        .select(ElectionRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(elections::id.gt(after));
    }
    Ok(q.order(elections::id)
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(Election::from)
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    NationalAssembly,
    ProvinceCouncil,
    DistrictCouncil,
    CommuneCouncil,
}

impl Body {
    pub const ALL: [Body; 4] = [
        Body::NationalAssembly,
        Body::ProvinceCouncil,
        Body::DistrictCouncil,
        Body::CommuneCouncil,
    ];

    pub fn parse(s: &str) -> Result<Self, String> {
        Body::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| {
                format!("must be national_assembly, province_council, district_council or commune_council, not {s:?}")
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Body::NationalAssembly => "national_assembly",
            Body::ProvinceCouncil => "province_council",
            Body::DistrictCouncil => "district_council",
            Body::CommuneCouncil => "commune_council",
        }
    }

    /// Election law, Art. 10(4): at most 3 deputies per National Assembly unit, 5 per council unit.
    pub fn max_seats(self) -> i32 {
        match self {
            Body::NationalAssembly => 3,
            _ => 5,
        }
    }

    /// The region levels a unit of this body can cover.
    fn allowed_levels(self) -> &'static [&'static str] {
        match self {
            Body::NationalAssembly | Body::ProvinceCouncil => &["province", "district", "commune"],
            Body::DistrictCouncil => &["district", "commune"],
            Body::CommuneCouncil => &["commune"],
        }
    }
}

/// Parses `{body: minimum}`; every key must be a body, every value 0..=1000.
pub fn parse_minimums(v: &serde_json::Value) -> Result<serde_json::Value, String> {
    let map = v
        .as_object()
        .ok_or("must be an object such as {\"national_assembly\": 10}")?;
    let mut out = BTreeMap::new();
    for (k, n) in map {
        let body = Body::parse(k)?;
        let n = n
            .as_i64()
            .filter(|n| (0..=1000).contains(n))
            .ok_or_else(|| format!("{k}: must be a whole number from 0 to 1000"))?;
        out.insert(body.as_str().to_owned(), n);
    }
    serde_json::to_value(out).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = electoral_units)]
pub struct ElectoralUnit {
    pub id: Uuid,
    pub province_id: Uuid,
    pub election_id: Uuid,
    pub region_id: Uuid,
    pub name: String,
    pub body: String,
    pub seats: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct UnitForm {
    pub name: String,
    pub body: Body,
    pub region_id: Uuid,
    pub seats: i32,
}

#[derive(Insertable)]
#[diesel(table_name = electoral_units)]
struct UnitInsertForm<'a> {
    id: Uuid,
    province_id: Uuid,
    election_id: Uuid,
    region_id: Uuid,
    name: &'a str,
    body: &'a str,
    seats: i32,
}

/// The region a unit of this body may be placed in, or the field error saying why not.
pub fn unit_region(
    conn: &mut PgConnection,
    body: Body,
    region_id: Uuid,
) -> Result<Region, ApiError> {
    let region = regions::find(conn, region_id)
        .map_err(|_| ApiError::field("region_id", "no such region"))?;
    if !body.allowed_levels().contains(&region.level.as_str()) {
        return Err(ApiError::field(
            "region_id",
            format!(
                "a {} unit cannot be placed in a {}",
                body.as_str(),
                region.level
            ),
        ));
    }
    Ok(region)
}

pub fn create_unit(
    conn: &mut PgConnection,
    election_id: Uuid,
    region: &Region,
    form: UnitForm,
) -> Result<ElectoralUnit, ApiError> {
    Ok(diesel::insert_into(electoral_units::table)
        .values(UnitInsertForm {
            id: Uuid::now_v7(),
            province_id: region.province_id,
            election_id,
            region_id: region.id,
            name: &form.name,
            body: form.body.as_str(),
            seats: form.seats,
        })
        .returning(ElectoralUnit::as_returning())
        .get_result(conn)?)
}

/// A unit with the path of its region, for scope checks.
pub fn find_unit(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<(ElectoralUnit, Vec<Uuid>), ApiError> {
    electoral_units::table
        .inner_join(regions_t::table.on(regions_t::id.eq(electoral_units::region_id)))
        .filter(electoral_units::id.eq(id))
        .select((ElectoralUnit::as_select(), regions_t::path))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("electoral unit"))
}

pub fn list_units(
    conn: &mut PgConnection,
    election_id: Uuid,
    scope: Option<Uuid>,
    region_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ElectoralUnit>, ApiError> {
    let mut q = electoral_units::table
        .inner_join(regions_t::table.on(regions_t::id.eq(electoral_units::region_id)))
        .filter(electoral_units::election_id.eq(election_id))
        .select(ElectoralUnit::as_select())
        .into_boxed();
    for r in [scope, region_id].into_iter().flatten() {
        q = q.filter(regions_t::path.contains(vec![r]));
    }
    if let Some(after) = after {
        q = q.filter(electoral_units::id.gt(after));
    }
    Ok(q.order(electoral_units::id).limit(limit).load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = candidates)]
pub struct Candidate {
    pub id: Uuid,
    pub province_id: Uuid,
    pub electoral_unit_id: Uuid,
    pub full_name: String,
    pub email: String,
    pub locale: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = candidates)]
pub struct CandidateInsertForm {
    pub id: Uuid,
    pub province_id: Uuid,
    pub electoral_unit_id: Uuid,
    pub full_name: String,
    pub email: String,
    pub locale: String,
}

#[derive(Default, AsChangeset)]
#[diesel(table_name = candidates)]
pub struct CandidateUpdateForm {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub status: Option<String>,
}

pub fn create_candidate(
    conn: &mut PgConnection,
    form: CandidateInsertForm,
) -> Result<Candidate, ApiError> {
    Ok(diesel::insert_into(candidates::table)
        .values(form)
        .returning(Candidate::as_returning())
        .get_result(conn)?)
}

/// A candidate with the path of its unit's region, for scope checks.
pub fn find_candidate(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<(Candidate, Vec<Uuid>), ApiError> {
    candidates::table
        .inner_join(
            electoral_units::table
                .inner_join(regions_t::table.on(regions_t::id.eq(electoral_units::region_id))),
        )
        .filter(candidates::id.eq(id))
        .select((Candidate::as_select(), regions_t::path))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("candidate"))
}

/// Locks the candidate row for an update in this transaction.
pub fn lock_candidate(conn: &mut PgConnection, id: Uuid) -> Result<Candidate, ApiError> {
    candidates::table
        .find(id)
        .select(Candidate::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("candidate"))
}

pub fn update_candidate(
    conn: &mut PgConnection,
    id: Uuid,
    changes: CandidateUpdateForm,
) -> Result<Candidate, ApiError> {
    Ok(diesel::update(candidates::table.find(id))
        .set((changes, candidates::updated_at.eq(diesel::dsl::now)))
        .returning(Candidate::as_returning())
        .get_result(conn)?)
}

pub fn list_candidates(
    conn: &mut PgConnection,
    unit_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Candidate>, ApiError> {
    let mut q = candidates::table
        .filter(candidates::electoral_unit_id.eq(unit_id))
        .select(Candidate::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(candidates::id.gt(after));
    }
    Ok(q.order(candidates::id).limit(limit).load(conn)?)
}

/// Several units with their regions' paths.
pub fn find_units(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<(ElectoralUnit, Vec<Uuid>)>, ApiError> {
    Ok(electoral_units::table
        .inner_join(regions_t::table.on(regions_t::id.eq(electoral_units::region_id)))
        .filter(electoral_units::id.eq_any(ids))
        .select((ElectoralUnit::as_select(), regions_t::path))
        .load(conn)?)
}

/// Every candidate of these units, active or not.
pub fn candidates_of_units(
    conn: &mut PgConnection,
    unit_ids: &[Uuid],
) -> Result<Vec<Candidate>, ApiError> {
    Ok(candidates::table
        .filter(candidates::electoral_unit_id.eq_any(unit_ids))
        .select(Candidate::as_select())
        .order(candidates::id)
        .load(conn)?)
}
