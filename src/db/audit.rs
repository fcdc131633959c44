//! The audit log's rows.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::schema::audit_log;
use super::DbResult;

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditInsertForm<'a> {
    pub province_id: Option<Uuid>,
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
    pub id: i64,
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

pub fn insert(conn: &mut PgConnection, form: AuditInsertForm<'_>) -> DbResult<()> {
    diesel::insert_into(audit_log::table)
        .values(form)
        .execute(conn)?;
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
