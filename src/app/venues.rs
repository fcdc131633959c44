//! Venues: organizers create and change them in their subtree (SPEC §3 rule 11). A change of
//! capacity, area or setting re-evaluates the venue's planned meetings like a rule change does.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit::{self, Change};
use super::{Result, Tx};
use crate::db::meetings::planned_at_venue;
use crate::db::venues::{self as db, Venue, VenueFilter, VenueInsertForm, VenueUpdateForm};
use crate::db::{health_rules, regions};
use crate::domain::kinds::{self, Setting};
use crate::domain::problem::{FieldErrors, Problem};
use crate::domain::scope::Caller;
use crate::domain::text;

/// A venue as asked for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVenue {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub region_id: Uuid,
    #[schema(min_length = 1, max_length = 500)]
    pub address: String,
    /// Normal seated capacity.
    #[schema(minimum = 1, maximum = 100000)]
    pub capacity: i32,
    /// Needed by rules with min_area_per_person_m2.
    #[schema(minimum = 0.01, maximum = 1000000)]
    pub area_m2: Option<f64>,
    #[schema(value_type = crate::domain::kinds::Setting)]
    pub setting: String,
}

/// The fields a PATCH may change; `area_m2: null` clears the area.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenuePatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 500)]
    pub address: Option<String>,
    #[schema(minimum = 1, maximum = 100000)]
    pub capacity: Option<i32>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// null clears it.
    #[schema(minimum = 0.01, maximum = 1000000)]
    pub area_m2: Option<Option<f64>>,
    #[schema(value_type = Option<crate::domain::kinds::Setting>)]
    pub setting: Option<String>,
}

pub const MAX_CAPACITY: i32 = 100_000;
pub const MAX_AREA_M2: f64 = 1_000_000.0;

fn capacity(n: i32) -> std::result::Result<i32, String> {
    if (1..=MAX_CAPACITY).contains(&n) {
        Ok(n)
    } else {
        Err(format!("must be between 1 and {MAX_CAPACITY}"))
    }
}

fn area(a: f64) -> std::result::Result<f64, String> {
    if a.is_finite() && (0.01..=MAX_AREA_M2).contains(&a) {
        Ok(a)
    } else {
        Err(format!(
            "must be between 0.01 and {MAX_AREA_M2} square metres"
        ))
    }
}

pub fn create(tx: &mut Tx<'_>, who: &Caller, new: &NewVenue) -> Result<Venue> {
    who.ensure_can_mutate()?;
    let region = regions::find(tx, new.region_id)?;
    if let Some(r) = &region {
        who.ensure_changes(&r.path)?;
    }
    let mut e = FieldErrors::new();
    let name = e.take("name", text::name(&new.name, 200));
    let address = e.take("address", text::free_text(&new.address, 500));
    let cap = e.take("capacity", capacity(new.capacity));
    let area_m2 = e.take("area_m2", new.area_m2.map(area).transpose());
    let setting = e.take("setting", kinds::parse::<Setting>(&new.setting));
    if region.is_none() {
        e.add("region_id", "no such region");
    }
    let (((((name, address), cap), area_m2), setting), region) = e.done(
        name.zip(address)
            .zip(cap)
            .zip(area_m2)
            .zip(setting)
            .zip(region),
    )?;
    let venue = db::insert(
        tx,
        VenueInsertForm {
            id: Uuid::now_v7(),
            province_id: region.province_id,
            region_id: region.id,
            name,
            address,
            capacity: cap,
            area_m2,
            setting,
        },
    )?;
    audit::record(
        tx,
        who,
        Change::created("venue", venue.id, Some(venue.province_id), &venue),
    )?;
    Ok(venue)
}

pub fn find(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<Venue> {
    let (venue, path) = db::find(tx, id)?.ok_or_else(|| Problem::not_found("venue"))?;
    who.ensure_reads(&path)?;
    Ok(venue)
}

pub fn list(tx: &mut Tx<'_>, who: &Caller, mut filter: VenueFilter) -> Result<Vec<Venue>> {
    filter.scope = who.scope();
    Ok(db::list(tx, filter)?)
}

impl VenuePatch {
    fn parse(&self) -> std::result::Result<VenueUpdateForm, Problem> {
        let mut e = FieldErrors::new();
        let form = VenueUpdateForm {
            name: self
                .name
                .as_deref()
                .and_then(|n| e.take("name", text::name(n, 200))),
            address: self
                .address
                .as_deref()
                .and_then(|a| e.take("address", text::free_text(a, 500))),
            capacity: self.capacity.and_then(|c| e.take("capacity", capacity(c))),
            area_m2: match self.area_m2 {
                Some(Some(a)) => e.take("area_m2", area(a)).map(Some),
                Some(None) => Some(None),
                None => None,
            },
            setting: self
                .setting
                .as_deref()
                .and_then(|s| e.take("setting", kinds::parse::<Setting>(s))),
        };
        e.finish()?;
        Ok(form)
    }
}

/// Changes a venue and re-evaluates its future planned meetings.
pub fn patch(tx: &mut Tx<'_>, who: &Caller, id: Uuid, patch: &VenuePatch) -> Result<Venue> {
    who.ensure_can_mutate()?;
    let (current, path) = db::find(tx, id)?.ok_or_else(|| Problem::not_found("venue"))?;
    who.ensure_changes(&path)?;
    let changes = patch.parse()?;
    health_rules::lock_province_rules(tx, current.province_id, true)?;
    let before =
        db::lock(tx, current.province_id, id)?.ok_or_else(|| Problem::not_found("venue"))?;
    let now = tx.now();
    let after = db::update(tx, current.province_id, id, changes, now)?;
    let planned = planned_at_venue(tx, id, now)?;
    super::meetings::reevaluate(tx, who, after.province_id, &planned, None)?;
    if before.name != after.name || before.address != after.address {
        let named = crate::db::meetings::naming(tx, Some(id), None)?;
        crate::db::meetings::refresh_search(tx, &named)?;
    }
    audit::record(
        tx,
        who,
        Change::updated("venue", id, Some(after.province_id), &before, &after),
    )?;
    Ok(after)
}
