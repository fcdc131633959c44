//! Rule 10: every change is written to the audit log (who, what, when, before and after) in
//! the transaction of the change itself. Check-ins are counters, not audited one by one.
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{Result, Tx};
use crate::db::audit::{self as db, AuditEntry, AuditFilter};
use crate::domain::scope::Caller;

/// One audited change.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Uuid,
    pub province_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    /// The creation of `record`.
    pub fn created(
        entity_type: &'a str,
        entity_id: Uuid,
        province_id: Option<Uuid>,
        record: &impl Serialize,
    ) -> Self {
        Self {
            action: "create",
            entity_type,
            entity_id,
            province_id,
            before: None,
            after: json(record),
        }
    }

    /// The update of a record from `before` to `after`.
    pub fn updated(
        entity_type: &'a str,
        entity_id: Uuid,
        province_id: Option<Uuid>,
        before: &impl Serialize,
        after: &impl Serialize,
    ) -> Self {
        Self {
            action: "update",
            entity_type,
            entity_id,
            province_id,
            before: json(before),
            after: json(after),
        }
    }
}

/// A record as the audit log keeps it.
pub fn json(record: &impl Serialize) -> Option<Value> {
    serde_json::to_value(record).ok()
}

/// Writes the entry in the caller's transaction, so a change and its audit land together.
pub fn record(tx: &mut Tx<'_>, who: &Caller, change: Change<'_>) -> Result<()> {
    let at = tx.now();
    db::insert(
        tx,
        db::AuditInsertForm {
            entry_id: Uuid::now_v7(),
            province_id: db::province_key(change.province_id),
            actor_id: (!who.id.is_nil()).then_some(who.id),
            actor_name: &who.name,
            action: change.action,
            entity_type: change.entity_type,
            entity_id: change.entity_id,
            before: change.before,
            after: change.after,
            at,
        },
    )?;
    Ok(())
}

/// The audit trail (admins only).
pub fn list(tx: &mut Tx<'_>, who: &Caller, filter: AuditFilter) -> Result<Vec<AuditEntry>> {
    who.ensure_admin()?;
    Ok(db::list(tx, filter)?)
}
