//! Candidates' schedules: one email, a fan-out to every active candidate of an election in a
//! region, and the calendar of a candidate's meetings (SPEC §5).
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{candidates, elections, Result, Tx};
use crate::db::regions;
use crate::domain::kinds::CandidateStatus;
use crate::domain::problem::{Code, Problem};
use crate::domain::scope::Caller;
use crate::email::{ics, notices};

/// Queues one candidate's schedule email; returns the outbox id.
pub fn queue_one(tx: &mut Tx<'_>, who: &Caller, candidate_id: Uuid) -> Result<Uuid> {
    who.ensure_can_mutate()?;
    let (candidate, path) = candidates::find(tx, who, candidate_id)?;
    who.ensure_changes(&path)?;
    if candidate.status != CandidateStatus::Active {
        return Err(Problem::new(
            Code::CandidateWithdrawn,
            "the candidate has withdrawn; no schedule is sent to them",
        )
        .into());
    }
    let now = tx.now();
    let (addressee, election, meetings) =
        notices::candidate_schedule(tx, candidate_id, false, now)?
            .ok_or_else(|| Problem::not_found("candidate"))?;
    let outbox_id = notices::schedule(tx, &addressee, &election, &meetings)?;
    audit::record(
        tx,
        who,
        Change {
            action: "queue_schedule_email",
            entity_type: "candidate",
            entity_id: candidate_id,
            province_id: Some(candidate.province_id),
            before: None,
            after: Some(json!({ "outbox_id": outbox_id })),
        },
    )?;
    Ok(outbox_id)
}

/// Queues the schedule of every active candidate of an election in a region (an organizer who
/// names none sends to their own); returns how many were queued.
pub fn queue_all(
    tx: &mut Tx<'_>,
    who: &Caller,
    election_id: Uuid,
    region_id: Option<Uuid>,
) -> Result<usize> {
    who.ensure_can_mutate()?;
    elections::find(tx, election_id)?;
    let region = match region_id.or(who.scope()) {
        Some(r) => Some(
            regions::find(tx, r)?.ok_or_else(|| Problem::field("region_id", "no such region"))?,
        ),
        None => None,
    };
    who.ensure_changes(region.as_ref().map_or(&[][..], |r| &r.path))?;
    let now = tx.now();
    let queued = notices::schedules(tx, election_id, region.as_ref().map(|r| r.id), now)?;
    audit::record(
        tx,
        who,
        Change {
            action: "queue_schedule_emails",
            entity_type: "election",
            entity_id: election_id,
            province_id: region.as_ref().map(|r| r.province_id),
            before: None,
            after: Some(json!({
                "region_id": region.as_ref().map(|r| r.id),
                "queued": queued,
            })),
        },
    )?;
    Ok(queued)
}

/// Every meeting of the candidate that has not ended, cancelled ones included
/// (`STATUS:CANCELLED`), so a subscribed calendar drops them, as iCalendar text.
pub fn calendar(tx: &mut Tx<'_>, who: &Caller, candidate_id: Uuid) -> Result<String> {
    candidates::find(tx, who, candidate_id)?;
    let now = tx.now();
    let (_, election, meetings) = notices::candidate_schedule(tx, candidate_id, true, now)?
        .ok_or_else(|| Problem::not_found("candidate"))?;
    Ok(ics::calendar(&election, &meetings, now))
}
