//! The outbox as admins see it: every email and its delivery attempts.
use uuid::Uuid;

use super::{Result, Tx};
use crate::db::outbox::{self as db, OutboxDetail, OutboxEntry, OutboxFilter};
use crate::domain::problem::Problem;
use crate::domain::scope::Caller;

pub fn list(tx: &mut Tx<'_>, who: &Caller, filter: OutboxFilter) -> Result<Vec<OutboxEntry>> {
    who.ensure_admin()?;
    Ok(db::list(tx, filter)?)
}

pub fn find(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<OutboxDetail> {
    who.ensure_admin()?;
    Ok(db::find(tx, id)?.ok_or_else(|| Problem::not_found("email"))?)
}
