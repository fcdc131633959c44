//! The emails the service writes, queued in the transaction of the change that causes them
//! (SPEC §5): change notices to candidates (rule 9), notices to organizing committees (rules 8
//! and 13), schedules with their calendar subscription link, and the notice to a candidate's
//! previous address. A mail that cannot be written is queued as `failed` with the reason
//! (rule 12): it never stops the change, nor any other mail.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::PgConnection;
use uuid::Uuid;

use super::ics::{self, Kind};
use super::model::{
    AttentionMeeting, AttentionProblem, Change, ChangedMeeting, ElectionInfo, MeetingLine,
    Organizer, Placement, Recipient, RenderedMail, RuleName,
};
use super::render;
use crate::config::Settings;
use crate::db::calendars::{self, CalendarLink};
use crate::db::mail::{self, Addressee, Selection};
use crate::db::outbox::{self, Contents, OutboxInsertForm};
use crate::db::{DbError, DbResult};
use crate::domain::assessment::Problem;
use crate::domain::calendar_link::{self, CalendarKey};
use crate::domain::campaign_window::CampaignWindow;
use crate::domain::kinds::{IcsMethod, OutboxKind};

/// What the notices need besides the database: the clock, the sender and the links.
#[derive(Debug, Clone)]
pub struct Context {
    pub now: DateTime<Utc>,
    pub mail_from: String,
    pub public_url: Option<String>,
}

impl Context {
    pub fn new(settings: &Settings, now: DateTime<Utc>) -> Self {
        Context {
            now,
            mail_from: settings.mail_from.clone(),
            public_url: settings.public_url.clone(),
        }
    }

    /// `MAIL_FROM` is checked at start; a value that does not parse fails only the mail.
    fn organizer(&self) -> Result<Organizer, String> {
        Organizer::from_mail_from(&self.mail_from)
            .ok_or_else(|| format!("MAIL_FROM {:?} is not a mailbox", self.mail_from))
    }
}

/// Where candidates' calendar subscriptions live: `{base}/calendars/{secret}.ics`.
#[derive(Clone)]
pub struct Links {
    pub key: CalendarKey,
    /// `public_url`, or the address the request came in on.
    pub base: String,
}

impl Links {
    fn url(&self, secret: &str) -> String {
        format!("{}/calendars/{secret}.ics", self.base.trim_end_matches('/'))
    }
}

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

/// The outbox row of a mail, or of the reason it could not be written.
fn form(
    kind: OutboxKind,
    province_id: Uuid,
    to: String,
    mail: Result<RenderedMail, String>,
    now: DateTime<Utc>,
) -> OutboxInsertForm {
    match mail {
        Ok(mail) => OutboxInsertForm::new(
            kind,
            province_id,
            to,
            Contents {
                subject: mail.subject,
                body_text: mail.text,
                body_html: mail.html,
                ics: mail.calendar.map(|c| (c.method, c.ics)),
            },
            now,
        ),
        Err(error) => {
            tracing::error!(%to, %error, "an email could not be written; queued as failed");
            OutboxInsertForm::unwritten(
                kind,
                province_id,
                to,
                format!("cannot write: {error}"),
                now,
            )
        }
    }
}

/// A mail to a candidate, addressed by name.
fn to_candidate(
    kind: OutboxKind,
    candidate: &Addressee,
    mail: Result<RenderedMail, String>,
    now: DateTime<Utc>,
) -> OutboxInsertForm {
    OutboxInsertForm {
        recipient_name: Some(candidate.full_name.clone()),
        candidate_id: Some(candidate.id),
        ..form(
            kind,
            candidate.province_id,
            candidate.email.clone(),
            mail,
            now,
        )
    }
}

fn rendered(mail: Result<RenderedMail, askama::Error>) -> Result<RenderedMail, String> {
    mail.map_err(|e| format!("rendering: {e}"))
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

/// The subscription secrets of these candidates: derived from their links' nonces, or from
/// new nonces (stored) for those without a link, or with `rotate` for every one of them.
fn secrets(
    conn: &mut PgConnection,
    key: &CalendarKey,
    candidates: &[&Addressee],
    rotate: bool,
) -> DbResult<HashMap<Uuid, String>> {
    let ids: Vec<Uuid> = candidates.iter().map(|a| a.id).collect();
    let existing: HashMap<Uuid, CalendarLink> = if rotate {
        HashMap::new()
    } else {
        calendars::of_candidates(conn, &ids)?
            .into_iter()
            .map(|l| (l.candidate_id, l))
            .collect()
    };
    let mut secrets = HashMap::with_capacity(candidates.len());
    let mut fresh = Vec::new();
    for a in candidates {
        let kept = existing.get(&a.id).and_then(|link| {
            let secret = key.secret(a.id, &link.nonce);
            // A link made under another key cannot be shown again: it is replaced.
            (calendar_link::hash(&secret) == link.secret_hash).then_some(secret)
        });
        let secret = match kept {
            Some(secret) => secret,
            None => {
                let nonce = calendar_link::new_nonce();
                let secret = key.secret(a.id, &nonce);
                fresh.push(CalendarLink {
                    province_id: a.province_id,
                    candidate_id: a.id,
                    nonce,
                    secret_hash: calendar_link::hash(&secret),
                });
                secret
            }
        };
        secrets.insert(a.id, secret);
    }
    calendars::put(conn, &fresh)?;
    Ok(secrets)
}

/// A new subscription URL for a candidate; the one they had stops working.
pub fn rotate_link(
    conn: &mut PgConnection,
    links: &Links,
    candidate: &Addressee,
) -> DbResult<String> {
    let secret = secrets(conn, &links.key, &[candidate], true)?
        .remove(&candidate.id)
        .ok_or_else(|| DbError::Other(anyhow::anyhow!("no secret was made")))?;
    Ok(links.url(&secret))
}

/// The candidate whose calendar this secret opens.
pub fn candidate_of_secret(conn: &mut PgConnection, secret: &str) -> DbResult<Option<Uuid>> {
    if !calendar_link::looks_like_secret(secret) {
        return Ok(None);
    }
    calendars::candidate_of(conn, &calendar_link::hash(secret))
}

/// A candidate with their election, `None` when there is no such candidate.
pub fn addressee(conn: &mut PgConnection, candidate_id: Uuid) -> DbResult<Option<Addressee>> {
    Ok(mail::addressees(conn, &[candidate_id])?.pop())
}

/// A candidate's calendar for calendar apps (METHOD:PUBLISH): every meeting they were ever
/// on, past, upcoming and cancelled (STATUS:CANCELLED, so a subscribed calendar drops it),
/// each stamped with its last change, so the text only changes when a meeting does.
pub fn calendar(conn: &mut PgConnection, ctx: &Context, candidate: &Addressee) -> DbResult<String> {
    let election = election_info(&candidate.election_name, &candidate.timezone)?;
    let organizer = ctx
        .organizer()
        .map_err(|e| DbError::Other(anyhow::anyhow!(e)))?;
    let meetings = lines(conn, Selection::Everything(&[candidate.id]))?
        .remove(&candidate.id)
        .unwrap_or_default();
    Ok(ics::calendar(
        &Kind::Feed {
            candidate: &candidate.full_name,
        },
        &election,
        &organizer,
        &meetings,
    ))
}

fn schedule_form(
    ctx: &Context,
    addressee: &Addressee,
    meetings: &[MeetingLine],
    url: &str,
    fan_out_id: Option<Uuid>,
) -> DbResult<OutboxInsertForm> {
    let election = election_info(&addressee.election_name, &addressee.timezone)?;
    let mail = ctx.organizer().and_then(|organizer| {
        rendered(render::schedule_mail(
            &recipient(addressee),
            &election,
            &organizer,
            meetings,
            url,
            ctx.now,
        ))
    });
    Ok(OutboxInsertForm {
        fan_out_id,
        ..to_candidate(OutboxKind::Schedule, addressee, mail, ctx.now)
    })
}

/// Queues the schedule of one candidate: their upcoming planned meetings, with their calendar
/// subscription link (made now if they have none). Returns the outbox id.
pub fn schedule(
    conn: &mut PgConnection,
    ctx: &Context,
    links: &Links,
    addressee: &Addressee,
) -> DbResult<Uuid> {
    let meetings = lines(
        conn,
        Selection::Upcoming {
            candidates: &[addressee.id],
            now: ctx.now,
        },
    )?
    .remove(&addressee.id)
    .unwrap_or_default();
    let secret = secrets(conn, &links.key, &[addressee], false)?
        .remove(&addressee.id)
        .unwrap_or_default();
    let form = schedule_form(ctx, addressee, &meetings, &links.url(&secret), None)?;
    outbox::enqueue(conn, form)
}

/// Candidates rendered per round of a fan-out: bounds the memory a province-wide send holds.
const FAN_OUT_CHUNK: i64 = 250;

/// What a fan-out queued, and whom it left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOutCount {
    pub queued: usize,
    /// Candidates with a schedule email pending already, or (for non-admins) sent within the
    /// hour.
    pub skipped: usize,
}

/// Queues, as fan-out `fan_out_id`, the schedule of every active candidate of an election in
/// `region_id`'s subtree (the whole election without one), except those whose schedule email
/// is still pending, or was queued after `recent_since` when given.
pub fn schedules(
    conn: &mut PgConnection,
    ctx: &Context,
    links: &Links,
    election_id: Uuid,
    region_id: Option<Uuid>,
    fan_out_id: Uuid,
    recent_since: Option<DateTime<Utc>>,
) -> DbResult<FanOutCount> {
    let mut count = FanOutCount::default();
    let mut after = None;
    loop {
        let batch = mail::active_candidates(conn, election_id, region_id, after, FAN_OUT_CHUNK)?;
        let Some(last) = batch.last() else {
            return Ok(count);
        };
        after = Some(last.id);
        let ids: Vec<Uuid> = batch.iter().map(|a| a.id).collect();
        let mut skip: HashSet<Uuid> = outbox::with_schedule(conn, &ids, None)?
            .into_iter()
            .collect();
        if let Some(since) = recent_since {
            skip.extend(outbox::with_schedule(conn, &ids, Some(since))?);
        }
        let due: Vec<&Addressee> = batch.iter().filter(|a| !skip.contains(&a.id)).collect();
        count.skipped += batch.len() - due.len();
        let due_ids: Vec<Uuid> = due.iter().map(|a| a.id).collect();
        let mut lines = lines(
            conn,
            Selection::Upcoming {
                candidates: &due_ids,
                now: ctx.now,
            },
        )?;
        let mut secrets = secrets(conn, &links.key, &due, false)?;
        let mut forms = Vec::with_capacity(due.len());
        for addressee in due {
            let mine = lines.remove(&addressee.id).unwrap_or_default();
            let secret = secrets.remove(&addressee.id).unwrap_or_default();
            forms.push(schedule_form(
                ctx,
                addressee,
                &mine,
                &links.url(&secret),
                Some(fan_out_id),
            )?);
        }
        count.queued += outbox::enqueue_all(conn, forms)?;
    }
}

/// A meeting as it was before a change, for the notice to say what moved.
#[derive(Debug, Clone)]
pub struct Before {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue_ids: Vec<Uuid>,
    pub online: bool,
    pub online_platform: Option<String>,
    pub join_url: Option<String>,
    /// Its active candidates then.
    pub candidate_ids: Vec<Uuid>,
}

/// What a request did to a meeting.
#[derive(Debug, Clone)]
pub enum MeetingEvent {
    Created,
    /// Edited: its time, place, format or candidates may have changed.
    Edited(Before),
    /// Cancelled; these candidates were on it.
    Cancelled {
        candidate_ids: Vec<Uuid>,
    },
}

/// What one candidate is told of one meeting's event, if anything.
fn change_for(
    event: &MeetingEvent,
    candidate_id: Uuid,
    line: &MeetingLine,
    before: Option<&Placement>,
) -> Option<Change> {
    match event {
        MeetingEvent::Created => (!line.cancelled).then_some(Change::New),
        MeetingEvent::Cancelled { candidate_ids } => candidate_ids
            .contains(&candidate_id)
            .then_some(Change::Cancelled),
        MeetingEvent::Edited(b) => {
            let was_on = b.candidate_ids.contains(&candidate_id);
            match (was_on, line.cancelled) {
                (true, true) => Some(Change::Removed),
                (false, true) => None,
                (false, false) => Some(Change::New),
                (true, false) => {
                    let before = before?;
                    let after = line.placement();
                    (!before.same_time(&after) || !before.same_place(&after)).then(|| {
                        Change::Rescheduled {
                            before: before.clone(),
                        }
                    })
                }
            }
        }
    }
}

/// Where an edited meeting was, written as its line writes the place.
fn placement(conn: &mut PgConnection, before: &Before) -> DbResult<Placement> {
    let venues: Vec<String> = mail::venue_places(conn, &before.venue_ids)?
        .into_iter()
        .map(|(_, place)| place)
        .collect();
    let location = before
        .online_platform
        .iter()
        .cloned()
        .chain((!venues.is_empty()).then(|| venues.join("; ")))
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Placement {
        starts_at: before.starts_at,
        ends_at: before.ends_at,
        location,
        online: before.online,
        join_url: before.join_url.clone(),
    })
}

/// Call inside the transaction that created, edited or cancelled these meetings: each
/// candidate concerned gets one notice per iTIP method (RFC 5546 allows one per calendar)
/// listing their changed meetings, in their language and their election's zone, with an
/// `.ics` their calendar applies to the events it holds. Returns how many emails were queued.
pub fn meeting_changes(
    conn: &mut PgConnection,
    ctx: &Context,
    events: &[(Uuid, MeetingEvent)],
) -> DbResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let meeting_ids: Vec<Uuid> = events.iter().map(|(id, _)| *id).collect();
    let mut befores: HashMap<Uuid, Placement> = HashMap::new();
    for (id, event) in events {
        if let MeetingEvent::Edited(before) = event {
            befores.insert(*id, placement(conn, before)?);
        }
    }
    let lines = lines(conn, Selection::Changed(&meeting_ids))?;
    // (candidate, method) → the meetings of that notice.
    let mut notices: BTreeMap<(Uuid, IcsMethod), Vec<ChangedMeeting>> = BTreeMap::new();
    for (candidate_id, lines) in lines {
        for line in lines {
            let Some((_, event)) = events.iter().find(|(id, _)| *id == line.meeting_id) else {
                continue;
            };
            let before = befores.get(&line.meeting_id);
            if let Some(change) = change_for(event, candidate_id, &line, before) {
                notices
                    .entry((candidate_id, change.method()))
                    .or_default()
                    .push(ChangedMeeting { line, change });
            }
        }
    }
    let ids: Vec<Uuid> = notices
        .keys()
        .map(|(c, _)| *c)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let addressees: HashMap<Uuid, Addressee> = mail::addressees(conn, &ids)?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut forms = Vec::with_capacity(notices.len());
    for ((candidate_id, _), changes) in notices {
        let Some(addressee) = addressees.get(&candidate_id) else {
            continue;
        };
        let election = election_info(&addressee.election_name, &addressee.timezone)?;
        let mail = ctx.organizer().and_then(|organizer| {
            rendered(render::change_notice(
                &recipient(addressee),
                &election,
                &organizer,
                &changes,
                ctx.now,
            ))
        });
        forms.push(to_candidate(
            OutboxKind::MeetingChange,
            addressee,
            mail,
            ctx.now,
        ));
    }
    outbox::enqueue_all(conn, forms)
}

/// Tells a candidate's previous address that their mail now goes to `new_address`.
pub fn email_changed(
    conn: &mut PgConnection,
    ctx: &Context,
    candidate_id: Uuid,
    old_address: &str,
    new_address: &str,
) -> DbResult<usize> {
    let Some(addressee) = addressee(conn, candidate_id)? else {
        return Ok(0);
    };
    let election = election_info(&addressee.election_name, &addressee.timezone)?;
    let to_old = Recipient {
        email: old_address.to_owned(),
        ..recipient(&addressee)
    };
    let mail = rendered(render::email_changed_notice(
        &to_old,
        &election,
        new_address,
    ));
    let form = OutboxInsertForm {
        recipient_name: Some(addressee.full_name.clone()),
        candidate_id: Some(addressee.id),
        ..form(
            OutboxKind::EmailChanged,
            addressee.province_id,
            old_address.to_owned(),
            mail,
            ctx.now,
        )
    };
    outbox::enqueue(conn, form)?;
    Ok(1)
}

/// A meeting newly flagged `needs_attention`, and why.
#[derive(Debug, Clone)]
pub struct Flagged {
    pub meeting_id: Uuid,
    /// Rules 4 and 5.
    pub problems: Vec<Problem>,
    /// Rule 13: its last candidate withdrew.
    pub no_active_candidate: bool,
    /// Rule 13: its election's campaign window, which no longer holds it.
    pub outside_window: Option<CampaignWindow>,
}

/// The problems of a flagged meeting with names for its venues and rules.
fn named(
    flagged: &Flagged,
    venues: &HashMap<Uuid, String>,
    rules: &HashMap<Uuid, RuleName>,
) -> Vec<AttentionProblem> {
    let venue = |id: &Uuid| venues.get(id).cloned().unwrap_or_default();
    let mut named: Vec<AttentionProblem> = flagged
        .problems
        .iter()
        .filter_map(|p| match p {
            Problem::InPersonNotAllowed { venue_id, rule_id } => {
                Some(AttentionProblem::InPersonBanned {
                    venue: venue(venue_id),
                    rule: rules.get(rule_id)?.clone(),
                })
            }
            Problem::CapacityExceeded {
                venue_id,
                expected_attendees,
                effective_capacity,
                binding_rule_id,
            } => Some(AttentionProblem::OverCapacity {
                venue: venue(venue_id),
                expected: *expected_attendees,
                allowed: *effective_capacity,
                rule: binding_rule_id.and_then(|r| rules.get(&r).cloned()),
            }),
            Problem::OnlineCapacityExceeded {
                expected_attendees,
                max_participants,
            } => Some(AttentionProblem::OnlineOverCapacity {
                expected: *expected_attendees,
                max: *max_participants,
            }),
        })
        .collect();
    if flagged.no_active_candidate {
        named.push(AttentionProblem::NoActiveCandidate);
    }
    if let Some(window) = flagged.outside_window {
        named.push(AttentionProblem::OutsideCampaignWindow {
            starts_at: window.starts_at,
            ends_at: window.ends_at,
        });
    }
    named
}

/// Call inside the transaction that flagged meetings `needs_attention`: one notice per
/// organizing committee (the nearest `contact_email` up the meeting's region tree) and
/// election, naming each meeting, what is wrong (venues and rules by name and reference) and
/// what to do. Meetings with no `contact_email` anywhere above them are logged and skipped.
/// Returns how many emails were queued.
pub fn attention(
    conn: &mut PgConnection,
    ctx: &Context,
    rule_reference: Option<&str>,
    flagged: &[Flagged],
) -> DbResult<usize> {
    if flagged.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = flagged.iter().map(|f| f.meeting_id).collect();
    let (mut venue_ids, mut rule_ids) = (Vec::new(), Vec::new());
    for p in flagged.iter().flat_map(|f| &f.problems) {
        match p {
            Problem::InPersonNotAllowed { venue_id, rule_id } => {
                venue_ids.push(*venue_id);
                rule_ids.push(*rule_id);
            }
            Problem::CapacityExceeded {
                venue_id,
                binding_rule_id,
                ..
            } => {
                venue_ids.push(*venue_id);
                rule_ids.extend(binding_rule_id);
            }
            Problem::OnlineCapacityExceeded { .. } => {}
        }
    }
    let venues: HashMap<Uuid, String> = mail::venue_names(conn, &venue_ids)?.into_iter().collect();
    let rules: HashMap<Uuid, RuleName> = mail::rule_names(conn, &rule_ids)?
        .into_iter()
        .map(|r| {
            (
                r.id,
                RuleName {
                    reference: r.reference,
                    region: r.region,
                    effective_from: r.effective_from,
                },
            )
        })
        .collect();
    // (address, province, election) → meetings: one notice per committee and election.
    let mut notices: BTreeMap<(String, Uuid, Uuid), (ElectionInfo, Vec<AttentionMeeting>)> =
        BTreeMap::new();
    for row in mail::attention_rows(conn, &ids)? {
        let Some(organizer) = row.organizer else {
            tracing::warn!(
                meeting_id = %row.meeting_id,
                "meeting needs attention but no region up its tree has a contact_email; no notice sent"
            );
            continue;
        };
        let problems = flagged
            .iter()
            .filter(|f| f.meeting_id == row.meeting_id)
            .flat_map(|f| named(f, &venues, &rules))
            .collect();
        let meeting = AttentionMeeting {
            meeting_id: row.meeting_id,
            title: row.title,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            venues: row.venues,
            problems,
        };
        let key = (organizer, row.province_id, row.election_id);
        match notices.get_mut(&key) {
            Some((_, meetings)) => meetings.push(meeting),
            None => {
                let election = election_info(&row.election_name, &row.timezone)?;
                notices.insert(key, (election, vec![meeting]));
            }
        }
    }
    let mut forms = Vec::with_capacity(notices.len());
    for ((address, province_id, _), (election, meetings)) in notices {
        let mail = rendered(render::attention_notice(
            &address,
            &election,
            rule_reference,
            &meetings,
            ctx.public_url.as_deref(),
        ));
        forms.push(form(
            OutboxKind::RuleAttention,
            province_id,
            address,
            mail,
            ctx.now,
        ));
    }
    outbox::enqueue_all(conn, forms)
}
