//! Elections (national records: one election spans every province).
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::elections;
use super::DbResult;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
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

pub fn insert(conn: &mut PgConnection, form: ElectionInsertForm) -> DbResult<ElectionRow> {
    Ok(diesel::insert_into(elections::table)
        .values(form)
        .returning(ElectionRow::as_returning())
        .get_result(conn)?)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<ElectionRow>> {
    Ok(elections::table
        .find(id)
        .select(ElectionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> DbResult<Vec<ElectionRow>> {
    let mut q = elections::table
        .select(ElectionRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(elections::id.gt(after));
    }
    Ok(q.order(elections::id).limit(limit).load(conn)?)
}

/// Locks an election for a change in this transaction.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<ElectionRow>> {
    Ok(elections::table
        .find(id)
        .select(ElectionRow::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// Writes every field of an election but its id.
pub fn update(
    conn: &mut PgConnection,
    form: &ElectionInsertForm,
    at: DateTime<Utc>,
) -> DbResult<ElectionRow> {
    Ok(diesel::update(elections::table.find(form.id))
        .set((
            elections::name.eq(&form.name),
            elections::polling_starts_at.eq(form.polling_starts_at),
            elections::campaign_starts_at.eq(form.campaign_starts_at),
            elections::timezone.eq(&form.timezone),
            elections::report_deadline_hours.eq(form.report_deadline_hours),
            elections::min_meetings_per_candidate.eq(&form.min_meetings_per_candidate),
            elections::updated_at.eq(at),
        ))
        .returning(ElectionRow::as_returning())
        .get_result(conn)?)
}
