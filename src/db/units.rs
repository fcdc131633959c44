//! Electoral units: a body's constituency in a region, within one election.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{electoral_units, regions};
use super::DbResult;
use crate::domain::kinds::Body;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = electoral_units)]
pub struct ElectoralUnit {
    pub id: Uuid,
    pub province_id: Uuid,
    pub election_id: Uuid,
    pub region_id: Uuid,
    pub name: String,
    pub body: Body,
    pub seats: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = electoral_units)]
pub struct UnitInsertForm {
    pub id: Uuid,
    pub province_id: Uuid,
    pub election_id: Uuid,
    pub region_id: Uuid,
    pub name: String,
    pub body: Body,
    pub seats: i32,
}

pub fn insert(conn: &mut PgConnection, form: UnitInsertForm) -> DbResult<ElectoralUnit> {
    Ok(diesel::insert_into(electoral_units::table)
        .values(form)
        .returning(ElectoralUnit::as_returning())
        .get_result(conn)?)
}

/// A unit with the path of its region, for scope checks.
pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<(ElectoralUnit, Vec<Uuid>)>> {
    Ok(electoral_units::table
        .inner_join(
            regions::table.on(regions::id
                .eq(electoral_units::region_id)
                .and(regions::province_id.eq(electoral_units::province_id))),
        )
        .filter(electoral_units::id.eq(id))
        .select((ElectoralUnit::as_select(), regions::path))
        .first(conn)
        .optional()?)
}

/// Several units with their regions' paths.
pub fn find_many(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> DbResult<Vec<(ElectoralUnit, Vec<Uuid>)>> {
    Ok(electoral_units::table
        .inner_join(
            regions::table.on(regions::id
                .eq(electoral_units::region_id)
                .and(regions::province_id.eq(electoral_units::province_id))),
        )
        .filter(electoral_units::id.eq_any(ids))
        .select((ElectoralUnit::as_select(), regions::path))
        .load(conn)?)
}

pub struct UnitFilter {
    pub election_id: Uuid,
    /// The caller's region and its path: units inside it, and units whose region contains it.
    pub scope: Option<(Uuid, Vec<Uuid>)>,
    pub region_id: Option<Uuid>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

pub fn list(conn: &mut PgConnection, f: UnitFilter) -> DbResult<Vec<ElectoralUnit>> {
    let mut q = electoral_units::table
        .inner_join(
            regions::table.on(regions::id
                .eq(electoral_units::region_id)
                .and(regions::province_id.eq(electoral_units::province_id))),
        )
        .filter(electoral_units::election_id.eq(f.election_id))
        .select(ElectoralUnit::as_select())
        .into_boxed();
    if let Some((scope, path)) = f.scope {
        q = q.filter(
            regions::path
                .contains(vec![scope])
                .or(electoral_units::region_id.eq_any(path)),
        );
    }
    if let Some(r) = f.region_id {
        q = q.filter(regions::path.contains(vec![r]));
    }
    if let Some(after) = f.after {
        q = q.filter(electoral_units::id.gt(after));
    }
    Ok(q.order(electoral_units::id).limit(f.limit).load(conn)?)
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = electoral_units)]
pub struct UnitUpdateForm {
    pub name: Option<String>,
    pub seats: Option<i32>,
}

province_rows! {
    electoral_units, ElectoralUnit;
    lock;
    update(UnitUpdateForm);
}
