//! Candidates' schedules (SPEC §4, §5): one schedule email, a fan-out to every active
//! candidate of an election in a region (one at a time per election and region; a candidate
//! gets at most one schedule email an hour unless an admin asks again), the calendar of a
//! candidate's meetings, and its secret subscription link.
use chrono::TimeDelta;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{candidates, elections, Error, Result, Tx};
use crate::db::mail::Addressee;
use crate::db::{candidates as candidate_rows, outbox, regions};
use crate::domain::calendar_link::CalendarKey;
use crate::domain::kinds::CandidateStatus;
use crate::domain::problem::{Code, Problem};
use crate::domain::scope::Caller;
use crate::email::notices::{self, Context, Links};

/// A candidate hears from a schedule at most this often, unless an admin asks again.
pub const SCHEDULE_INTERVAL: TimeDelta = TimeDelta::hours(1);

fn context(tx: &Tx<'_>) -> Context {
    Context::new(tx.settings(), tx.now())
}

/// Calendar links under `base` (the address the request came in on) unless `public_url` is
/// set.
fn links(tx: &Tx<'_>, base: &str) -> Result<Links> {
    let settings = tx.settings();
    Ok(Links {
        key: CalendarKey::new(settings.calendar_link_key.expose_secret())
            .map_err(Error::internal)?,
        base: settings
            .public_url
            .clone()
            .unwrap_or_else(|| base.to_owned()),
    })
}

/// An active candidate the caller may send mail to (a scope over their unit), locked, with
/// what their mail needs.
fn mailable(tx: &mut Tx<'_>, who: &Caller, candidate_id: Uuid) -> Result<Addressee> {
    who.ensure_can_mutate()?;
    let (candidate, path) = candidates::find(tx, who, candidate_id)?;
    who.ensure_changes(&path)?;
    candidate_rows::lock(tx, candidate.province_id, candidate_id)?
        .ok_or_else(|| Problem::not_found("candidate"))?;
    if candidate.status != CandidateStatus::Active {
        return Err(Problem::new(
            Code::CandidateWithdrawn,
            "the candidate has withdrawn; no schedule or calendar is sent to them",
        )
        .into());
    }
    Ok(notices::addressee(tx, candidate_id)?.ok_or_else(|| Problem::not_found("candidate"))?)
}

/// Queues one candidate's schedule email, with their calendar subscription link; returns the
/// outbox id. Within an hour of the last one only an admin may send another.
pub fn queue_one(tx: &mut Tx<'_>, who: &Caller, candidate_id: Uuid, base: &str) -> Result<Uuid> {
    let addressee = mailable(tx, who, candidate_id)?;
    let now = tx.now();
    if !who.is_admin() {
        if let Some(last) = outbox::last_schedule_at(tx, candidate_id)? {
            let next = last + SCHEDULE_INTERVAL;
            if next > now {
                let wait = (next - now).num_seconds().max(1);
                return Err(Problem::new(
                    Code::ScheduleEmailTooSoon,
                    format!(
                        "a schedule email for this candidate was queued at {}; another can be sent in {wait} s, or by an admin now",
                        last.to_rfc3339()
                    ),
                )
                .with(json!({"retry_after": wait, "last_queued_at": last}))
                .into());
            }
        }
    }
    let (ctx, links) = (context(tx), links(tx, base)?);
    let outbox_id = notices::schedule(tx, &ctx, &links, &addressee)?;
    audit::record(
        tx,
        who,
        Change {
            action: "queue_schedule_email",
            entity_type: "candidate",
            entity_id: candidate_id,
            province_id: Some(addressee.province_id),
            before: None,
            after: Some(json!({ "outbox_id": outbox_id })),
        },
    )?;
    Ok(outbox_id)
}

/// What a fan-out did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SchedulesQueued)]
pub struct FanOut {
    pub fan_out_id: Uuid,
    /// Emails queued by this request.
    /// Emails this request queued.
    pub queued: usize,
    /// Emails of this fan-out not delivered yet.
    /// Emails of the fan-out not delivered yet.
    pub pending: i64,
    /// Candidates left out: their schedule email is pending, or (for non-admins) was queued
    /// within the hour.
    /// Candidates left out: a schedule email pending, or (for non-admins) queued within the hour.
    pub skipped: usize,
    /// An earlier fan-out for this election and region still had emails pending: nothing was
    /// queued, and `fan_out_id` and `pending` are that one's.
    /// An earlier fan-out for this election and region still had emails pending: nothing was queued; `fan_out_id` and `pending` are that one's.
    pub already_running: bool,
}

/// Queues the schedule of every active candidate of an election in a region (an organizer who
/// names none sends to their own). While an earlier fan-out for the same election and region
/// still has emails pending, queues nothing and says what is pending.
pub fn queue_all(
    tx: &mut Tx<'_>,
    who: &Caller,
    election_id: Uuid,
    region_id: Option<Uuid>,
    base: &str,
) -> Result<FanOut> {
    who.ensure_can_mutate()?;
    elections::find(tx, election_id)?;
    let region = match region_id.or(who.scope()) {
        Some(r) => Some(
            regions::find(tx, r)?.ok_or_else(|| Problem::field("region_id", "no such region"))?,
        ),
        None => None,
    };
    who.ensure_changes(region.as_ref().map_or(&[][..], |r| &r.path))?;
    let region_id = region.as_ref().map(|r| r.id);
    let province_id = region.as_ref().map(|r| r.province_id);
    outbox::lock_fan_out(tx, election_id)?;
    if let Some((running, pending)) = outbox::latest_fan_out(tx, election_id, region_id)? {
        if pending > 0 {
            return Ok(FanOut {
                fan_out_id: running,
                queued: 0,
                pending,
                skipped: 0,
                already_running: true,
            });
        }
    }
    let now = tx.now();
    let fan_out_id = Uuid::now_v7();
    outbox::insert_fan_out(tx, fan_out_id, election_id, region_id, province_id, now)?;
    let (ctx, links) = (context(tx), links(tx, base)?);
    let recent_since = (!who.is_admin()).then(|| now - SCHEDULE_INTERVAL);
    let count = notices::schedules(
        tx,
        &ctx,
        &links,
        election_id,
        region_id,
        fan_out_id,
        recent_since,
    )?;
    outbox::set_fan_out_queued(tx, fan_out_id, count.queued)?;
    audit::record(
        tx,
        who,
        Change {
            action: "queue_schedule_emails",
            entity_type: "election",
            entity_id: election_id,
            province_id,
            before: None,
            after: Some(json!({
                "fan_out_id": fan_out_id,
                "region_id": region_id,
                "queued": count.queued,
                "skipped": count.skipped,
            })),
        },
    )?;
    Ok(FanOut {
        fan_out_id,
        queued: count.queued,
        pending: i64::try_from(count.queued).unwrap_or(i64::MAX),
        skipped: count.skipped,
        already_running: false,
    })
}

/// The candidate's calendar as iCalendar text: every meeting they were on, past, upcoming and
/// cancelled (`STATUS:CANCELLED`), so a calendar keeps what took place and drops the rest.
pub fn calendar(tx: &mut Tx<'_>, who: &Caller, candidate_id: Uuid) -> Result<String> {
    candidates::find(tx, who, candidate_id)?;
    let addressee =
        notices::addressee(tx, candidate_id)?.ok_or_else(|| Problem::not_found("candidate"))?;
    let ctx = context(tx);
    Ok(notices::calendar(tx, &ctx, &addressee)?)
}

/// A new secret subscription URL for the candidate's calendar; the previous one stops
/// working. Audited without the secret.
pub fn calendar_link(
    tx: &mut Tx<'_>,
    who: &Caller,
    candidate_id: Uuid,
    base: &str,
) -> Result<String> {
    let addressee = mailable(tx, who, candidate_id)?;
    let links = links(tx, base)?;
    let url = notices::rotate_link(tx, &links, &addressee)?;
    audit::record(
        tx,
        who,
        Change {
            action: "rotate_calendar_link",
            entity_type: "candidate",
            entity_id: candidate_id,
            province_id: Some(addressee.province_id),
            before: None,
            after: Some(json!({ "calendar_link_rotated_at": tx.now() })),
        },
    )?;
    Ok(url)
}

/// The calendar a subscription secret opens (no token: the secret is the credential).
pub fn subscribed_calendar(tx: &mut Tx<'_>, secret: &str) -> Result<String> {
    let candidate_id =
        notices::candidate_of_secret(tx, secret)?.ok_or_else(|| Problem::not_found("calendar"))?;
    let addressee =
        notices::addressee(tx, candidate_id)?.ok_or_else(|| Problem::not_found("calendar"))?;
    let ctx = context(tx);
    Ok(notices::calendar(tx, &ctx, &addressee)?)
}
