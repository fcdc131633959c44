//! The audit log's rows.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::schema::audit_log;
use super::DbResult;

/// The province of national entries (elections, tokens): the audit log is keyed by province
/// like the records it follows (migration 000013), and these belong to none.
const NATIONAL: Uuid = Uuid::nil();

diesel::define_sql_function! {
    fn nullif(value: diesel::sql_types::Uuid, empty: diesel::sql_types::Uuid) -> diesel::sql_types::Nullable<diesel::sql_types::Uuid>;
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditInsertForm<'a> {
    pub entry_id: Uuid,
    pub province_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Uuid,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    #[diesel(column_name = entry_id)]
    pub id: Uuid,
    /// The entries' order, and what a list's cursor holds.
    #[diesel(column_name = id)]
    #[serde(skip)]
    pub seq: i64,
    /// None for a national entry.
    #[diesel(select_expression = nullif(audit_log::province_id, NATIONAL))]
    #[diesel(select_expression_type = nullif<audit_log::province_id, diesel::dsl::AsExprOf<Uuid, diesel::sql_types::Uuid>>)]
    pub province_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub at: DateTime<Utc>,
}

/// The province an entry is filed under: its record's, or [`NATIONAL`].
pub fn province_key(province_id: Option<Uuid>) -> Uuid {
    province_id.unwrap_or(NATIONAL)
}

pub fn insert(conn: &mut PgConnection, form: AuditInsertForm<'_>) -> DbResult<()> {
    // Kept prepared: every write of every use case makes one. Its text varies only with which
    // of the optional columns are written.
    super::cached(
        diesel::insert_into(audit_log::table)
            .values(form)
            .returning(audit_log::id),
    )
    .get_result::<i64>(conn)?;
    Ok(())
}

pub struct AuditFilter {
    pub entity_id: Option<Uuid>,
    pub entity_type: Option<String>,
    /// Continue after this entry.
    pub after: Option<i64>,
    pub limit: i64,
}

/// Entries, oldest first.
pub fn list(conn: &mut PgConnection, f: AuditFilter) -> DbResult<Vec<AuditEntry>> {
    let mut q = audit_log::table
        .select(AuditEntry::as_select())
        .into_boxed();
    if let Some(e) = f.entity_id {
        q = q.filter(audit_log::entity_id.eq(e));
    }
    if let Some(t) = f.entity_type {
        q = q.filter(audit_log::entity_type.eq(t));
    }
    if let Some(a) = f.after {
        q = q.filter(audit_log::id.gt(a));
    }
    Ok(q.order(audit_log::id).limit(f.limit).load(conn)?)
}
