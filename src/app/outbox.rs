//! The outbox as admins see it: every email and its delivery attempts, and a failed email
//! sent again.
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{Result, Tx};
use crate::db::outbox::{self as db, OutboxDetail, OutboxEntry, OutboxFilter};
use crate::domain::kinds::OutboxStatus;
use crate::domain::problem::{Code, Problem};
use crate::domain::scope::Caller;

pub fn list(tx: &mut Tx<'_>, who: &Caller, filter: OutboxFilter) -> Result<Vec<OutboxEntry>> {
    who.ensure_admin()?;
    Ok(db::list(tx, filter)?)
}

pub fn find(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<OutboxDetail> {
    who.ensure_admin()?;
    Ok(db::find(tx, id)?.ok_or_else(|| Problem::not_found("email"))?)
}

/// Sends a failed email back to pending, due now, its attempts kept (audited).
pub fn retry(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<OutboxEntry> {
    who.ensure_admin()?;
    let (was, entry) = db::retry(tx, id)?.ok_or_else(|| Problem::not_found("email"))?;
    if was != OutboxStatus::Failed {
        return Err(Problem::new(
            Code::EmailNotFailed,
            format!("the email is {was}; only a failed email can be retried"),
        )
        .with(json!({ "status": was }))
        .into());
    }
    audit::record(
        tx,
        who,
        Change {
            action: "retry_email",
            entity_type: "outbox",
            entity_id: id,
            province_id: Some(entry.province_id),
            before: Some(json!({"status": was, "attempts": entry.attempts})),
            after: Some(json!({"status": entry.status, "attempts": entry.attempts})),
        },
    )?;
    Ok(entry)
}
