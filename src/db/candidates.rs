//! Candidates: who stands in an electoral unit, and where their mail goes.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{candidates, electoral_units, regions};
use super::DbResult;
use crate::domain::kinds::{CandidateStatus, Locale};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = candidates)]
pub struct Candidate {
    pub id: Uuid,
    pub province_id: Uuid,
    pub electoral_unit_id: Uuid,
    pub full_name: String,
    pub email: String,
    pub locale: Locale,
    pub status: CandidateStatus,
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
    pub locale: Locale,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = candidates)]
pub struct CandidateUpdateForm {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub locale: Option<Locale>,
    pub status: Option<CandidateStatus>,
}

pub fn insert(conn: &mut PgConnection, form: CandidateInsertForm) -> DbResult<Candidate> {
    Ok(diesel::insert_into(candidates::table)
        .values(form)
        .returning(Candidate::as_returning())
        .get_result(conn)?)
}

/// A candidate with the path of its unit's region, for scope checks.
pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<(Candidate, Vec<Uuid>)>> {
    Ok(candidates::table
        .inner_join(
            electoral_units::table.on(candidates::electoral_unit_id
                .eq(electoral_units::id)
                .and(candidates::province_id.eq(electoral_units::province_id))),
        )
        .inner_join(
            regions::table.on(regions::id
                .eq(electoral_units::region_id)
                .and(regions::province_id.eq(electoral_units::province_id))),
        )
        .filter(candidates::id.eq(id))
        .select((Candidate::as_select(), regions::path))
        .first(conn)
        .optional()?)
}

province_rows! {
    candidates, Candidate;
    /// Locks the candidate row for an update in this transaction.
    lock;
    update(CandidateUpdateForm);
}

pub fn list(
    conn: &mut PgConnection,
    unit_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> DbResult<Vec<Candidate>> {
    let mut q = candidates::table
        .filter(candidates::electoral_unit_id.eq(unit_id))
        .select(Candidate::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(candidates::id.gt(after));
    }
    Ok(q.order(candidates::id).limit(limit).load(conn)?)
}

/// Every candidate of these units, active or not.
pub fn of_units(conn: &mut PgConnection, unit_ids: &[Uuid]) -> DbResult<Vec<Candidate>> {
    Ok(candidates::table
        .filter(candidates::electoral_unit_id.eq_any(unit_ids))
        .select(Candidate::as_select())
        .order(candidates::id)
        .load(conn)?)
}
