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
