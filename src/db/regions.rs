//! Regions: the province > district > commune tree.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{provinces, regions};
use super::DbResult;
use crate::domain::kinds::Level;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = regions)]
pub struct Region {
    pub id: Uuid,
    pub province_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub level: Level,
    pub name: String,
    pub code: Option<String>,
    pub contact_email: Option<String>,
    #[serde(skip)]
    pub path: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = regions)]
pub struct RegionInsertForm {
    pub id: Uuid,
    pub province_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub level: Level,
    pub name: String,
    pub code: Option<String>,
    pub contact_email: Option<String>,
    pub path: Vec<Uuid>,
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<Region>> {
    Ok(regions::table
        .filter(regions::id.eq(id))
        .select(Region::as_select())
        .first(conn)
        .optional()?)
}

/// These regions, in no particular order.
pub fn find_many(conn: &mut PgConnection, ids: &[Uuid]) -> DbResult<Vec<Region>> {
    Ok(regions::table
        .filter(regions::id.eq_any(ids))
        .select(Region::as_select())
        .load(conn)?)
}

/// Inserts a region; a province also gets its row in `provinces`, which holds the rules
/// that span provinces (codes and names unique nationwide, migration 000013).
pub fn insert(conn: &mut PgConnection, form: RegionInsertForm) -> DbResult<Region> {
    if form.level == Level::Province {
        diesel::insert_into(provinces::table)
            .values((
                provinces::id.eq(form.id),
                provinces::code.eq(&form.code),
                provinces::name.eq(&form.name),
            ))
            .execute(conn)?;
    }
    Ok(diesel::insert_into(regions::table)
        .values(form)
        .returning(Region::as_returning())
        .get_result(conn)?)
}

pub struct RegionFilter {
    pub scope: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub level: Option<Level>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

pub fn list(conn: &mut PgConnection, f: RegionFilter) -> DbResult<Vec<Region>> {
    let mut q = regions::table.select(Region::as_select()).into_boxed();
    if let Some(scope) = f.scope {
        q = q.filter(regions::path.contains(vec![scope]));
    }
    if let Some(parent) = f.parent_id {
        q = q.filter(regions::parent_id.eq(parent));
    }
    if let Some(level) = f.level {
        q = q.filter(regions::level.eq(level));
    }
    if let Some(after) = f.after {
        q = q.filter(regions::id.gt(after));
    }
    Ok(q.order(regions::id).limit(f.limit).load(conn)?)
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = regions)]
pub struct RegionUpdateForm {
    pub name: Option<String>,
    pub code: Option<Option<String>>,
    pub contact_email: Option<Option<String>>,
}

/// Writes a correction; a province's name and code change in `provinces` too.
pub fn update(
    conn: &mut PgConnection,
    province_id: Uuid,
    id: Uuid,
    changes: RegionUpdateForm,
    at: DateTime<Utc>,
) -> DbResult<Region> {
    if id == province_id {
        let mirrored = ProvinceUpdateForm {
            name: changes.name.clone(),
            code: changes.code.clone(),
        };
        if mirrored.name.is_some() || mirrored.code.is_some() {
            diesel::update(provinces::table.find(id))
                .set(mirrored)
                .execute(conn)?;
        }
    }
    Ok(diesel::update(regions::table.find((id, province_id)))
        .set((changes, regions::updated_at.eq(at)))
        .returning(Region::as_returning())
        .get_result(conn)?)
}

#[derive(AsChangeset)]
#[diesel(table_name = provinces)]
struct ProvinceUpdateForm {
    name: Option<String>,
    code: Option<Option<String>>,
}

province_rows! {
    regions, Region;
    /// Locks a region row for a change in this transaction.
    lock;
}
