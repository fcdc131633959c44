//! Venues: physical places where voters gather.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{regions, venues};
use super::DbResult;
use crate::domain::capacity::VenueFacts;
use crate::domain::kinds::Setting;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = venues)]
pub struct Venue {
    pub id: Uuid,
    pub province_id: Uuid,
    pub region_id: Uuid,
    pub name: String,
    pub address: String,
    pub capacity: i32,
    pub area_m2: Option<f64>,
    pub setting: Setting,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Venue {
    pub fn facts(&self) -> VenueFacts {
        VenueFacts {
            capacity: self.capacity,
            area_m2: self.area_m2,
            setting: self.setting,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = venues)]
pub struct VenueInsertForm {
    pub id: Uuid,
    pub province_id: Uuid,
    pub region_id: Uuid,
    pub name: String,
    pub address: String,
    pub capacity: i32,
    pub area_m2: Option<f64>,
    pub setting: Setting,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = venues)]
pub struct VenueUpdateForm {
    pub name: Option<String>,
    pub address: Option<String>,
    pub capacity: Option<i32>,
    pub area_m2: Option<Option<f64>>,
    pub setting: Option<Setting>,
}

pub fn insert(conn: &mut PgConnection, form: VenueInsertForm) -> DbResult<Venue> {
    Ok(diesel::insert_into(venues::table)
        .values(form)
        .returning(Venue::as_returning())
        .get_result(conn)?)
}

/// A venue with its region's path, for scope checks.
pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<(Venue, Vec<Uuid>)>> {
    Ok(venues::table
        .inner_join(
            regions::table.on(regions::id
                .eq(venues::region_id)
                .and(regions::province_id.eq(venues::province_id))),
        )
        .filter(venues::id.eq(id))
        .select((Venue::as_select(), regions::path))
        .first(conn)
        .optional()?)
}

/// Several venues with their regions' paths, locked against concurrent edits. Each
/// province's venues are locked by a statement that names it: on Citus a row lock must stay on
/// one shard (SPEC §8). `likely` is the province they are expected in (a meeting's, fixed by
/// its units): when every venue lies there, that one statement is all; otherwise their
/// provinces are read first.
pub fn find_many(
    conn: &mut PgConnection,
    ids: &[Uuid],
    likely: Option<Uuid>,
) -> DbResult<Vec<(Venue, Vec<Uuid>)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(province) = likely {
        let found = in_province(conn, province, ids)?;
        if ids.iter().all(|id| found.iter().any(|(v, _)| v.id == *id)) {
            return Ok(found);
        }
    }
    let provinces: Vec<Uuid> = venues::table
        .filter(venues::id.eq_any(ids))
        .select(venues::province_id)
        .distinct()
        .order(venues::province_id)
        .load(conn)?;
    let mut found = Vec::with_capacity(ids.len());
    for province in provinces {
        found.extend(in_province(conn, province, ids)?);
    }
    Ok(found)
}

fn in_province(
    conn: &mut PgConnection,
    province: Uuid,
    ids: &[Uuid],
) -> DbResult<Vec<(Venue, Vec<Uuid>)>> {
    Ok(venues::table
        .inner_join(
            regions::table.on(regions::id
                .eq(venues::region_id)
                .and(regions::province_id.eq(venues::province_id))),
        )
        .filter(venues::province_id.eq(province))
        .filter(venues::id.eq_any(ids))
        .select((Venue::as_select(), regions::path))
        .for_share()
        .load::<(Venue, Vec<Uuid>)>(conn)?)
}

province_rows! {
    venues, Venue;
    lock;
    update(VenueUpdateForm);
}

pub struct VenueFilter {
    pub scope: Option<Uuid>,
    pub region_id: Option<Uuid>,
    pub setting: Option<Setting>,
    pub min_capacity: Option<i32>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

pub fn list(conn: &mut PgConnection, f: VenueFilter) -> DbResult<Vec<Venue>> {
    let mut q = venues::table
        .inner_join(
            regions::table.on(regions::id
                .eq(venues::region_id)
                .and(regions::province_id.eq(venues::province_id))),
        )
        .select(Venue::as_select())
        .into_boxed();
    for r in [f.scope, f.region_id].into_iter().flatten() {
        q = q.filter(regions::path.contains(vec![r]));
    }
    if let Some(s) = f.setting {
        q = q.filter(venues::setting.eq(s));
    }
    if let Some(c) = f.min_capacity {
        q = q.filter(venues::capacity.ge(c));
    }
    if let Some(after) = f.after {
        q = q.filter(venues::id.gt(after));
    }
    Ok(q.order(venues::id).limit(f.limit).load(conn)?)
}
