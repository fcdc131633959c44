//! Electoral units (admins create and change them; organizers read the units of their subtree
//! and those whose region contains theirs, SPEC §3 rule 11).
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit::{self, Change};
use super::{elections, Result, Tx};
use crate::db::regions;
use crate::db::units::{self as db, ElectoralUnit, UnitFilter, UnitInsertForm, UnitUpdateForm};
use crate::domain::kinds::{self, Body};
use crate::domain::problem::{FieldErrors, Problem};
use crate::domain::scope::Caller;
use crate::domain::text;

/// An electoral unit as asked for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewElectoralUnit)]
pub struct NewUnit {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(value_type = crate::domain::kinds::Body)]
    pub body: String,
    /// national_assembly and province_council units: any region; district_council: a district or commune; commune_council: a commune.
    pub region_id: Uuid,
    /// 1 to the body's legal maximum of deputies per unit.
    #[schema(minimum = 1)]
    pub seats: i32,
}

/// The fields a PATCH may correct.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ElectoralUnitPatch)]
pub struct UnitPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// 1 to the body's legal maximum of deputies per unit.
    #[schema(minimum = 1)]
    pub seats: Option<i32>,
}

fn seats(body: Body, n: i32) -> std::result::Result<i32, String> {
    if (1..=body.max_seats()).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "a {body} unit elects 1 to {} deputies (election law, Art. 10)",
            body.max_seats()
        ))
    }
}

pub fn create(
    tx: &mut Tx<'_>,
    who: &Caller,
    election_id: Uuid,
    new: NewUnit,
) -> Result<ElectoralUnit> {
    who.ensure_admin()?;
    elections::find(tx, election_id)?;
    let mut e = FieldErrors::new();
    let name = e.take("name", text::name(&new.name, 200));
    let body = e.take("body", kinds::parse::<Body>(&new.body));
    match body {
        Some(b) => {
            e.take("seats", seats(b, new.seats));
        }
        // Without a body its maximum is unknown; below one is wrong for every body.
        None if new.seats < 1 => e.add("seats", "a unit elects at least 1 deputy"),
        None => {}
    }
    let region = regions::find(tx, new.region_id)?;
    match (&region, body) {
        (None, _) => e.add("region_id", "no such region"),
        (Some(r), Some(b)) if !b.allowed_levels().contains(&r.level) => e.add(
            "region_id",
            format!("a {b} unit cannot be placed in a {}", r.level),
        ),
        _ => {}
    }
    let ((name, body), region) = e.done(name.zip(body).zip(region))?;
    let unit = db::insert(
        tx,
        UnitInsertForm {
            id: Uuid::now_v7(),
            province_id: region.province_id,
            election_id,
            region_id: region.id,
            name,
            body,
            seats: new.seats,
        },
    )?;
    audit::record(
        tx,
        who,
        Change::created("electoral_unit", unit.id, Some(unit.province_id), &unit),
    )?;
    Ok(unit)
}

/// A unit the caller may read, with its region's path.
pub fn find(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<(ElectoralUnit, Vec<Uuid>)> {
    let (unit, path) = db::find(tx, id)?.ok_or_else(|| Problem::not_found("electoral unit"))?;
    if !who.reads_unit(&path) {
        return Err(Problem::forbidden("this electoral unit is outside your region").into());
    }
    Ok((unit, path))
}

pub fn list(
    tx: &mut Tx<'_>,
    who: &Caller,
    election_id: Uuid,
    region_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ElectoralUnit>> {
    elections::find(tx, election_id)?;
    let scope = who.scope().map(|r| (r, who.region_path.clone()));
    Ok(db::list(
        tx,
        UnitFilter {
            election_id,
            scope,
            region_id,
            after,
            limit,
        },
    )?)
}

/// Corrects a unit's name or seats (admins only, audited).
pub fn patch(tx: &mut Tx<'_>, who: &Caller, id: Uuid, patch: &UnitPatch) -> Result<ElectoralUnit> {
    who.ensure_admin()?;
    let (current, _) = find(tx, who, id)?;
    let mut e = FieldErrors::new();
    let changes = UnitUpdateForm {
        name: patch
            .name
            .as_deref()
            .and_then(|n| e.take("name", text::name(n, 200))),
        seats: patch
            .seats
            .and_then(|n| e.take("seats", seats(current.body, n))),
    };
    e.finish()?;
    let before = db::lock(tx, current.province_id, id)?
        .ok_or_else(|| Problem::not_found("electoral unit"))?;
    let now = tx.now();
    let after = db::update(tx, current.province_id, id, changes, now)?;
    audit::record(
        tx,
        who,
        Change::updated(
            "electoral_unit",
            id,
            Some(after.province_id),
            &before,
            &after,
        ),
    )?;
    Ok(after)
}
