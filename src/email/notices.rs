//! The emails the service writes, queued in the transaction of the change that causes them
//! (SPEC §5): change notices to candidates (rule 9), notices to organizing committees (rules 8
//! and 13), and schedules.
use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::PgConnection;
use uuid::Uuid;

use super::model::{AttentionLine, ElectionInfo, MeetingLine, Recipient, RenderedMail};
use super::render;
use crate::db::mail::{self, Addressee, Selection};
use crate::db::outbox::{self, OutboxInsertForm};
use crate::db::{DbError, DbResult};
use crate::domain::kinds::OutboxKind;

fn election_info(name: &str, timezone: &str) -> DbResult<ElectionInfo> {
    Ok(ElectionInfo {
        name: name.to_owned(),
        timezone: Tz::from_str(timezone)
            .map_err(|e| DbError::Other(anyhow::anyhow!("election time zone {timezone:?}: {e}")))?,
    })
}

fn recipient(a: &Addressee) -> Recipient {
    Recipient {
        name: a.full_name.clone(),
        email: a.email.clone(),
        locale: a.locale,
    }
}

fn rendered(mail: Result<RenderedMail, askama::Error>) -> DbResult<RenderedMail> {
    mail.map_err(|e| DbError::Other(anyhow::anyhow!("rendering an email: {e}")))
}

/// A mail to a candidate, addressed by name.
fn to_candidate(kind: OutboxKind, candidate: &Addressee, mail: RenderedMail) -> OutboxInsertForm {
    OutboxInsertForm {
        recipient_name: Some(candidate.full_name.clone()),
        candidate_id: Some(candidate.id),
        ..OutboxInsertForm::new(
            kind,
            candidate.province_id,
            candidate.email.clone(),
            mail.subject,
            mail.text,
            mail.html,
            mail.ics,
        )
    }
}

/// The meeting lines of a selection, grouped by candidate, each list soonest first.
fn lines(
    conn: &mut PgConnection,
    selection: Selection<'_>,
) -> DbResult<BTreeMap<Uuid, Vec<MeetingLine>>> {
    let mut grouped: BTreeMap<Uuid, Vec<MeetingLine>> = BTreeMap::new();
    for row in mail::candidate_meetings(conn, selection)? {
        grouped
            .entry(row.candidate_id)
            .or_default()
            .push(row.into());
    }
    Ok(grouped)
}

/// A candidate's meetings that have not ended at `now`, with the candidate and election;
/// cancelled meetings included only when asked (a subscribed calendar needs them to drop the
/// events). `None` when there is no such candidate.
pub fn candidate_schedule(
    conn: &mut PgConnection,
    candidate_id: Uuid,
    with_cancelled: bool,
    now: DateTime<Utc>,
) -> DbResult<Option<(Addressee, ElectionInfo, Vec<MeetingLine>)>> {
    let Some(addressee) = mail::addressees(conn, &[candidate_id])?.pop() else {
        return Ok(None);
    };
    let election = election_info(&addressee.election_name, &addressee.timezone)?;
    let selection = Selection::Upcoming {
        candidates: &[candidate_id],
        with_cancelled,
        now,
    };
    let meetings = lines(conn, selection)?
        .remove(&candidate_id)
        .unwrap_or_default();
    Ok(Some((addressee, election, meetings)))
}

/// Queues the schedule of one candidate: their upcoming meetings, cancelled ones left out.
pub fn schedule(
    conn: &mut PgConnection,
    addressee: &Addressee,
    election: &ElectionInfo,
    meetings: &[MeetingLine],
) -> DbResult<Uuid> {
    let mail = rendered(render::schedule_mail(
        &recipient(addressee),
        election,
        meetings,
    ))?;
    outbox::enqueue(conn, to_candidate(OutboxKind::Schedule, addressee, mail))
}

/// Candidates rendered per round of a fan-out: bounds the memory a province-wide send holds.
const FAN_OUT_CHUNK: i64 = 250;

/// Queues the schedule of every active candidate of an election in `region_id`'s subtree (the
/// whole election without one). Returns how many emails were queued.
pub fn schedules(
    conn: &mut PgConnection,
    election_id: Uuid,
    region_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> DbResult<usize> {
    let mut queued = 0;
    let mut after = None;
    loop {
        let batch = mail::active_candidates(conn, election_id, region_id, after, FAN_OUT_CHUNK)?;
        let Some(last) = batch.last() else {
            return Ok(queued);
        };
        after = Some(last.id);
        let ids: Vec<Uuid> = batch.iter().map(|a| a.id).collect();
        let selection = Selection::Upcoming {
            candidates: &ids,
            with_cancelled: false,
            now,
        };
        let mut lines = lines(conn, selection)?;
        let mut forms = Vec::with_capacity(batch.len());
        for addressee in &batch {
            let election = election_info(&addressee.election_name, &addressee.timezone)?;
            let mine = lines.remove(&addressee.id).unwrap_or_default();
            let mail = rendered(render::schedule_mail(
                &recipient(addressee),
                &election,
                &mine,
            ))?;
            forms.push(to_candidate(OutboxKind::Schedule, addressee, mail));
        }
        queued += outbox::enqueue_all(conn, forms)?;
    }
}

/// Call inside the transaction that created, rescheduled or cancelled these meetings: each
/// active candidate linked to any of them gets ONE notice listing their changed meetings, in
/// their language and their election's zone, with an `.ics` that updates the events their
/// calendar holds. Returns how many emails were queued.
pub fn meeting_changes(conn: &mut PgConnection, meeting_ids: &[Uuid]) -> DbResult<usize> {
    if meeting_ids.is_empty() {
        return Ok(0);
    }
    let mut lines = lines(conn, Selection::Changed(meeting_ids))?;
    let ids: Vec<Uuid> = lines.keys().copied().collect();
    let mut forms = Vec::with_capacity(ids.len());
    for addressee in mail::addressees(conn, &ids)? {
        let changed = lines.remove(&addressee.id).unwrap_or_default();
        let election = election_info(&addressee.election_name, &addressee.timezone)?;
        let mail = rendered(render::change_notice(
            &recipient(&addressee),
            &election,
            &changed,
        ))?;
        forms.push(to_candidate(OutboxKind::MeetingChange, &addressee, mail));
    }
    outbox::enqueue_all(conn, forms)
}

/// Call inside the transaction that flagged meetings `needs_attention`, with what is wrong with
/// each (`(meeting_id, problem)`): one notice per organizing committee (the nearest
/// `contact_email` up the meeting's region tree) and election, listing its meetings. Meetings
/// with no `contact_email` anywhere above them are logged and skipped.
/// Returns how many emails were queued.
pub fn attention(
    conn: &mut PgConnection,
    rule_reference: Option<&str>,
    problems: &[(Uuid, String)],
) -> DbResult<usize> {
    if problems.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = problems.iter().map(|(id, _)| *id).collect();
    // (address, province, election) → meetings: one notice per committee and election.
    let mut notices: BTreeMap<(String, Uuid, Uuid), (ElectionInfo, Vec<AttentionLine>)> =
        BTreeMap::new();
    for row in mail::attention_rows(conn, &ids)? {
        let Some(organizer) = row.organizer else {
            tracing::warn!(
                meeting_id = %row.meeting_id,
                "meeting needs attention but no region up its tree has a contact_email; no notice sent"
            );
            continue;
        };
        let problem = problems
            .iter()
            .filter(|(id, _)| *id == row.meeting_id)
            .map(|(_, p)| p.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let line = AttentionLine {
            meeting_id: row.meeting_id,
            title: row.title,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            problem: if problem.is_empty() {
                "needs_attention".to_owned()
            } else {
                problem
            },
        };
        let key = (organizer, row.province_id, row.election_id);
        match notices.get_mut(&key) {
            Some((_, lines)) => lines.push(line),
            None => {
                let election = election_info(&row.election_name, &row.timezone)?;
                notices.insert(key, (election, vec![line]));
            }
        }
    }
    let mut forms = Vec::with_capacity(notices.len());
    for ((address, province_id, _), (election, lines)) in notices {
        let mail = rendered(render::attention_notice(
            &address,
            &election,
            rule_reference,
            &lines,
        ))?;
        forms.push(OutboxInsertForm::new(
            OutboxKind::RuleAttention,
            province_id,
            address,
            mail.subject,
            mail.text,
            mail.html,
            mail.ics,
        ));
    }
    outbox::enqueue_all(conn, forms)
}
