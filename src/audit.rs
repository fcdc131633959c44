//! The audit log: who changed what, when, with the record before and after.
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::schema::audit_log;

/// One audited mutation.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Uuid,
    pub province_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct AuditInsertForm<'a> {
    province_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    actor_name: &'a str,
    action: &'a str,
    entity_type: &'a str,
    entity_id: Uuid,
    before: Option<Value>,
    after: Option<Value>,
}

/// Writes the entry in the caller's transaction, so a change and its audit land together.
pub fn record(conn: &mut PgConnection, who: &Caller, change: Change<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(AuditInsertForm {
            province_id: change.province_id,
            actor_id: Some(who.id),
            actor_name: &who.name,
            action: change.action,
            entity_type: change.entity_type,
            entity_id: change.entity_id,
            before: change.before,
            after: change.after,
        })
        .execute(conn)?;
    Ok(())
}

/// For changes made outside a request (the CLI).
pub fn record_system(conn: &mut PgConnection, actor: &str, change: Change<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(AuditInsertForm {
            province_id: change.province_id,
            actor_id: None,
            actor_name: actor,
            action: change.action,
            entity_type: change.entity_type,
            entity_id: change.entity_id,
            before: change.before,
            after: change.after,
        })
        .execute(conn)?;
    Ok(())
}
