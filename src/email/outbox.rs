//! The transactional outbox: every email is a row written in the transaction of the change
//! that causes it, and the worker delivers it later. Plain query functions over a connection.
use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Double, Int4, Int8, Nullable, Text, Timestamptz};
use serde::Serialize;
use uuid::Uuid;

use super::render::{
    self, AttentionLine, ElectionInfo, Locale, MeetingLine, Recipient, RenderedMail,
};
use crate::db::schema::{candidates, elections, electoral_units, outbox, outbox_attempts, regions};
use crate::error::ApiError;

/// Why an email was written; the `kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Schedule,
    MeetingChange,
    RuleAttention,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Schedule => "schedule",
            Kind::MeetingChange => "meeting_change",
            Kind::RuleAttention => "rule_attention",
        }
    }
}

/// One email for the outbox.
#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxInsertForm {
    pub id: Uuid,
    pub province_id: Uuid,
    pub kind: &'static str,
    pub recipient: String,
    pub recipient_name: Option<String>,
    pub candidate_id: Option<Uuid>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub ics: Option<String>,
}

impl OutboxInsertForm {
    pub fn new(kind: Kind, province_id: Uuid, recipient: String, mail: RenderedMail) -> Self {
        Self {
            id: Uuid::now_v7(),
            province_id,
            kind: kind.as_str(),
            recipient,
            recipient_name: None,
            candidate_id: None,
            subject: mail.subject,
            body_text: mail.text,
            body_html: mail.html,
            ics: mail.ics,
        }
    }

    /// A mail to a candidate, addressed by name.
    fn for_candidate(kind: Kind, candidate: &Addressee, mail: RenderedMail) -> Self {
        Self {
            recipient_name: Some(candidate.full_name.clone()),
            candidate_id: Some(candidate.id),
            ..Self::new(kind, candidate.province_id, candidate.email.clone(), mail)
        }
    }
}

/// Inserts one email; it is sent once the surrounding transaction commits.
pub fn enqueue(conn: &mut PgConnection, form: OutboxInsertForm) -> QueryResult<Uuid> {
    diesel::insert_into(outbox::table)
        .values(form)
        .returning(outbox::id)
        .get_result(conn)
}

/// Inserts many emails in few statements (PostgreSQL takes at most 65,535 bind parameters).
fn enqueue_all(conn: &mut PgConnection, forms: Vec<OutboxInsertForm>) -> QueryResult<usize> {
    let mut queued = 0;
    let mut rest = forms.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<OutboxInsertForm> = rest.by_ref().take(1_000).collect();
        queued += diesel::insert_into(outbox::table)
            .values(chunk)
            .execute(conn)?;
    }
    Ok(queued)
}

/// A candidate as their mail needs them: address, language and the election's zone.
#[derive(Debug, Clone, Queryable)]
pub struct Addressee {
    pub id: Uuid,
    pub province_id: Uuid,
    pub full_name: String,
    pub email: String,
    pub locale: String,
    pub status: String,
    pub election_name: String,
    pub timezone: String,
}

impl Addressee {
    fn recipient(&self) -> Result<Recipient, ApiError> {
        Ok(Recipient {
            name: self.full_name.clone(),
            email: self.email.clone(),
            locale: Locale::from_str(&self.locale).map_err(ApiError::internal)?,
        })
    }
}

fn election_info(name: &str, timezone: &str) -> Result<ElectionInfo, ApiError> {
    Ok(ElectionInfo {
        name: name.to_owned(),
        timezone: Tz::from_str(timezone).map_err(|e| {
            ApiError::internal(anyhow::anyhow!("election time zone {timezone:?}: {e}"))
        })?,
    })
}

type AddresseeColumns = (
    candidates::id,
    candidates::province_id,
    candidates::full_name,
    candidates::email,
    candidates::locale,
    candidates::status,
    elections::name,
    elections::timezone,
);

const ADDRESSEE_COLUMNS: AddresseeColumns = (
    candidates::id,
    candidates::province_id,
    candidates::full_name,
    candidates::email,
    candidates::locale,
    candidates::status,
    elections::name,
    elections::timezone,
);

/// These candidates, each with their election.
fn addressees(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Addressee>> {
    candidates::table
        .inner_join(electoral_units::table.inner_join(elections::table))
        .filter(candidates::id.eq_any(ids))
        .select(ADDRESSEE_COLUMNS)
        .order(candidates::id)
        .load(conn)
}

/// The active candidates of an election whose unit lies in `region_id`'s subtree (all of them
/// without one), in id order, `limit` at a time after `after`.
fn active_candidates(
    conn: &mut PgConnection,
    election_id: Uuid,
    region_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Addressee>> {
    let mut q = candidates::table
        .inner_join(
            electoral_units::table
                .inner_join(elections::table)
                .inner_join(regions::table.on(regions::id.eq(electoral_units::region_id))),
        )
        .filter(electoral_units::election_id.eq(election_id))
        .filter(candidates::status.eq("active"))
        .select(ADDRESSEE_COLUMNS)
        .into_boxed();
    if let Some(r) = region_id {
        q = q.filter(regions::path.contains(vec![r]));
    }
    if let Some(after) = after {
        q = q.filter(candidates::id.gt(after));
    }
    q.order(candidates::id).limit(limit).load(conn)
}

/// Which meetings of which candidates to list.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// Every candidate link of these meetings, whatever the meeting's state, for active
    /// candidates only: what change notices list.
    Changed(&'a [Uuid]),
    /// The meetings of these candidates that have not ended; cancelled ones only if asked.
    Upcoming {
        candidates: &'a [Uuid],
        with_cancelled: bool,
    },
}

#[derive(QueryableByName)]
struct LineRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    candidate_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    meeting_id: Uuid,
    #[diesel(sql_type = Int4)]
    sequence: i32,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Timestamptz)]
    starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    ends_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    location: String,
    #[diesel(sql_type = Nullable<Text>)]
    online_join_url: Option<String>,
    #[diesel(sql_type = Bool)]
    online: bool,
    #[diesel(sql_type = Bool)]
    cancelled: bool,
    #[diesel(sql_type = Array<Text>)]
    electoral_units: Vec<String>,
}

/// One row per (candidate, meeting), with the meeting's places and units folded in by
/// subqueries, so a whole fan-out costs one query. A meeting counts as cancelled for a
/// candidate when it is cancelled, or when the candidate was taken off it (`active = false`),
/// so the candidate's calendar drops it either way. The sites of a cancelled meeting were
/// released (`active = false`) but are still where it would have been.
const LINES_SQL: &str = "\
SELECT mc.candidate_id, m.id AS meeting_id, m.version AS sequence, m.title, m.starts_at, m.ends_at,
       concat_ws('; ', m.online_platform,
                 (SELECT string_agg(v.name || ', ' || v.address, '; ' ORDER BY v.name, s.id)
                    FROM meeting_sites s JOIN venues v ON v.id = s.venue_id
                   WHERE s.meeting_id = m.id AND (s.active OR m.status = 'cancelled'))) AS location,
       m.online_join_url, m.format = 'online' AS online,
       (m.status = 'cancelled' OR NOT mc.active) AS cancelled,
       coalesce((SELECT array_agg(u.name ORDER BY u.name)
                   FROM meeting_units mu JOIN electoral_units u ON u.id = mu.electoral_unit_id
                  WHERE mu.meeting_id = m.id), '{}') AS electoral_units
  FROM meeting_candidates mc
  JOIN meetings m ON m.id = mc.meeting_id
  JOIN candidates c ON c.id = mc.candidate_id";

/// The meeting lines of candidates, grouped by candidate, each list soonest first.
pub fn candidate_meetings(
    conn: &mut PgConnection,
    selection: Selection<'_>,
) -> QueryResult<BTreeMap<Uuid, Vec<MeetingLine>>> {
    let order = "ORDER BY mc.candidate_id, m.starts_at, m.id";
    let rows: Vec<LineRow> = match selection {
        Selection::Changed(meetings) => diesel::sql_query(format!(
            "{LINES_SQL} WHERE mc.meeting_id = ANY($1) AND c.status = 'active' {order}"
        ))
        .bind::<Array<diesel::sql_types::Uuid>, _>(meetings)
        .load(conn)?,
        Selection::Upcoming {
            candidates,
            with_cancelled,
        } => diesel::sql_query(format!(
            "{LINES_SQL} WHERE mc.candidate_id = ANY($1) AND m.ends_at > now() \
             AND ($2 OR (m.status <> 'cancelled' AND mc.active)) {order}"
        ))
        .bind::<Array<diesel::sql_types::Uuid>, _>(candidates)
        .bind::<Bool, _>(with_cancelled)
        .load(conn)?,
    };
    let mut grouped: BTreeMap<Uuid, Vec<MeetingLine>> = BTreeMap::new();
    for r in rows {
        grouped
            .entry(r.candidate_id)
            .or_default()
            .push(MeetingLine {
                meeting_id: r.meeting_id,
                sequence: r.sequence,
                title: r.title,
                starts_at: r.starts_at,
                ends_at: r.ends_at,
                location: r.location,
                online_join_url: r.online_join_url,
                online: r.online,
                cancelled: r.cancelled,
                electoral_units: r.electoral_units,
            });
    }
    Ok(grouped)
}

/// A candidate's meetings that have not ended yet, with the candidate's election; cancelled
/// meetings included only when asked (a subscribed calendar needs them to drop the events).
pub fn candidate_schedule(
    conn: &mut PgConnection,
    candidate_id: Uuid,
    with_cancelled: bool,
) -> Result<(Addressee, ElectionInfo, Vec<MeetingLine>), ApiError> {
    let addressee = addressees(conn, &[candidate_id])?
        .pop()
        .ok_or_else(|| ApiError::not_found("candidate"))?;
    let election = election_info(&addressee.election_name, &addressee.timezone)?;
    let lines = candidate_meetings(
        conn,
        Selection::Upcoming {
            candidates: &[candidate_id],
            with_cancelled,
        },
    )?
    .remove(&candidate_id)
    .unwrap_or_default();
    Ok((addressee, election, lines))
}

fn rendered(mail: Result<RenderedMail, askama::Error>) -> Result<RenderedMail, ApiError> {
    mail.map_err(ApiError::internal)
}

/// Queues the schedule of one candidate: their upcoming meetings, cancelled ones left out.
pub fn queue_schedule(conn: &mut PgConnection, candidate_id: Uuid) -> Result<Uuid, ApiError> {
    let (addressee, election, lines) = candidate_schedule(conn, candidate_id, false)?;
    if addressee.status != "active" {
        return Err(ApiError::unprocessable(
            "candidate_withdrawn",
            "the candidate has withdrawn; no schedule is sent to them",
        ));
    }
    let mail = rendered(render::schedule_mail(
        &addressee.recipient()?,
        &election,
        &lines,
    ))?;
    Ok(enqueue(
        conn,
        OutboxInsertForm::for_candidate(Kind::Schedule, &addressee, mail),
    )?)
}

/// Candidates rendered per round of a fan-out: bounds the memory a province-wide send holds.
const FAN_OUT_CHUNK: i64 = 250;

/// Queues the schedule of every active candidate of an election in `region_id`'s subtree (the
/// whole election without one). Returns how many emails were queued.
pub fn queue_schedules(
    conn: &mut PgConnection,
    election_id: Uuid,
    region_id: Option<Uuid>,
) -> Result<usize, ApiError> {
    let mut queued = 0;
    let mut after = None;
    loop {
        let batch = active_candidates(conn, election_id, region_id, after, FAN_OUT_CHUNK)?;
        let Some(last) = batch.last() else {
            return Ok(queued);
        };
        after = Some(last.id);
        let ids: Vec<Uuid> = batch.iter().map(|a| a.id).collect();
        let mut lines = candidate_meetings(
            conn,
            Selection::Upcoming {
                candidates: &ids,
                with_cancelled: false,
            },
        )?;
        let mut forms = Vec::with_capacity(batch.len());
        for addressee in &batch {
            let election = election_info(&addressee.election_name, &addressee.timezone)?;
            let mine = lines.remove(&addressee.id).unwrap_or_default();
            let mail = rendered(render::schedule_mail(
                &addressee.recipient()?,
                &election,
                &mine,
            ))?;
            forms.push(OutboxInsertForm::for_candidate(
                Kind::Schedule,
                addressee,
                mail,
            ));
        }
        queued += enqueue_all(conn, forms)?;
    }
}

/// Call inside the transaction that created, rescheduled or cancelled these meetings: each
/// active candidate linked to any of them gets ONE notice listing their changed meetings, in
/// their language and their election's zone, with an `.ics` that updates the events their
/// calendar holds. Returns how many emails were queued.
pub fn enqueue_meeting_changes(
    conn: &mut PgConnection,
    meeting_ids: &[Uuid],
) -> Result<usize, ApiError> {
    if meeting_ids.is_empty() {
        return Ok(0);
    }
    let mut lines = candidate_meetings(conn, Selection::Changed(meeting_ids))?;
    let ids: Vec<Uuid> = lines.keys().copied().collect();
    let mut forms = Vec::with_capacity(ids.len());
    for addressee in addressees(conn, &ids)? {
        let changed = lines.remove(&addressee.id).unwrap_or_default();
        let election = election_info(&addressee.election_name, &addressee.timezone)?;
        let mail = rendered(render::change_notice(
            &addressee.recipient()?,
            &election,
            &changed,
        ))?;
        forms.push(OutboxInsertForm::for_candidate(
            Kind::MeetingChange,
            &addressee,
            mail,
        ));
    }
    Ok(enqueue_all(conn, forms)?)
}

#[derive(QueryableByName)]
struct AttentionRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    meeting_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    province_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    election_id: Uuid,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Timestamptz)]
    starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    ends_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    election_name: String,
    #[diesel(sql_type = Text)]
    timezone: String,
    #[diesel(sql_type = Nullable<Text>)]
    organizer: Option<String>,
}

/// Each meeting with its organizer: the nearest `contact_email` walking up its `region_path`
/// from the meeting's own region (the last element) towards the province.
const ATTENTION_SQL: &str = "\
SELECT m.id AS meeting_id, m.province_id, m.election_id, m.title, m.starts_at, m.ends_at,
       e.name AS election_name, e.timezone,
       (SELECT r.contact_email
          FROM unnest(m.region_path) WITH ORDINALITY AS p(region_id, depth)
          JOIN regions r ON r.id = p.region_id
         WHERE r.contact_email IS NOT NULL
         ORDER BY p.depth DESC LIMIT 1) AS organizer
  FROM meetings m JOIN elections e ON e.id = m.election_id
 WHERE m.id = ANY($1)";

/// Call inside the transaction of a health-rule change with the meetings it flagged
/// `needs_attention` and what is wrong with each (`(meeting_id, problem)`, several per meeting
/// allowed): one notice per organizing committee, listing its meetings. Meetings with no
/// `contact_email` anywhere up their region tree are logged and skipped.
/// Returns how many emails were queued.
pub fn enqueue_attention(
    conn: &mut PgConnection,
    rule_reference: Option<&str>,
    meeting_ids: &[Uuid],
    problems: &[(Uuid, String)],
) -> Result<usize, ApiError> {
    if meeting_ids.is_empty() {
        return Ok(0);
    }
    let rows: Vec<AttentionRow> = diesel::sql_query(ATTENTION_SQL)
        .bind::<Array<diesel::sql_types::Uuid>, _>(meeting_ids)
        .load(conn)?;
    // (address, province, election) → meetings: one notice per committee and election.
    let mut notices: BTreeMap<(String, Uuid, Uuid), (ElectionInfo, Vec<AttentionLine>)> =
        BTreeMap::new();
    for row in rows {
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
            Kind::RuleAttention,
            province_id,
            address,
            mail,
        ));
    }
    Ok(enqueue_all(conn, forms)?)
}

/// Delivery states of an email.
pub const STATUSES: [&str; 3] = ["pending", "sent", "failed"];

/// An email as `GET /outbox` lists it: its delivery state, not its bodies.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub province_id: Uuid,
    pub kind: String,
    pub recipient: String,
    pub recipient_name: Option<String>,
    pub candidate_id: Option<Uuid>,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One delivery attempt.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = outbox_attempts)]
pub struct Attempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub outcome: String,
    pub error: Option<String>,
}

/// One email in full: state, bodies, calendar and every delivery attempt.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxDetail {
    #[serde(flatten)]
    pub entry: OutboxEntry,
    pub body_text: String,
    pub body_html: String,
    pub ics: Option<String>,
    pub delivery_attempts: Vec<Attempt>,
}

pub struct OutboxFilter {
    pub status: Option<String>,
    pub candidate_id: Option<Uuid>,
    pub recipient: Option<String>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// Emails in id order (ids are UUIDv7: creation order).
pub fn list(conn: &mut PgConnection, f: OutboxFilter) -> QueryResult<Vec<OutboxEntry>> {
    let mut q = outbox::table.select(OutboxEntry::as_select()).into_boxed();
    if let Some(status) = f.status {
        q = q.filter(outbox::status.eq(status));
    }
    if let Some(candidate_id) = f.candidate_id {
        q = q.filter(outbox::candidate_id.eq(candidate_id));
    }
    if let Some(recipient) = f.recipient {
        q = q.filter(outbox::recipient.eq(recipient));
    }
    if let Some(after) = f.after {
        q = q.filter(outbox::id.gt(after));
    }
    q.order(outbox::id).limit(f.limit).load(conn)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<OutboxDetail, ApiError> {
    let (entry, body_text, body_html, ics): (OutboxEntry, String, String, Option<String>) =
        outbox::table
            .find(id)
            .select((
                OutboxEntry::as_select(),
                outbox::body_text,
                outbox::body_html,
                outbox::ics,
            ))
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found("email"))?;
    let delivery_attempts = outbox_attempts::table
        .filter(outbox_attempts::outbox_id.eq(id))
        .order(outbox_attempts::attempt)
        .select(Attempt::as_select())
        .load(conn)?;
    Ok(OutboxDetail {
        entry,
        body_text,
        body_html,
        ics,
        delivery_attempts,
    })
}

/// An email the worker has claimed for one delivery attempt.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub recipient_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Text)]
    pub body_text: String,
    #[diesel(sql_type = Text)]
    pub body_html: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub ics: Option<String>,
    /// Attempts made before this one.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    /// The lease: the row is this worker's until then, and its outcome is recorded only
    /// while the row still carries this value (a worker whose lease ran out and was
    /// re-claimed elsewhere cannot overwrite the other's outcome).
    #[diesel(sql_type = Timestamptz)]
    pub lease_until: DateTime<Utc>,
}

/// Claims up to `limit` due emails in one short statement: rows another worker holds are
/// skipped (`SKIP LOCKED`), and the claimed rows' `next_attempt_at` moves `lease_seconds`
/// ahead, so no other worker takes them while this one sends, and a crashed worker's rows
/// fall due again when the lease ends. Diesel cannot put a locking clause in a subquery.
pub fn claim_due(
    conn: &mut PgConnection,
    limit: i64,
    lease_seconds: f64,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "UPDATE outbox SET next_attempt_at = now() + make_interval(secs => $2)
          WHERE id IN (SELECT id FROM outbox
                        WHERE status = 'pending' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at
                        LIMIT $1
                        FOR UPDATE SKIP LOCKED)
         RETURNING id, recipient, recipient_name, subject, body_text, body_html, ics, attempts,
                   next_attempt_at AS lease_until",
    )
    .bind::<Int8, _>(limit)
    .bind::<Double, _>(lease_seconds)
    .load(conn)
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent,
    /// Try again this many seconds from now.
    Retry {
        error: String,
        after_seconds: f64,
    },
    /// Given up: too many attempts, or a message that can never be sent.
    Failed {
        error: String,
    },
}

/// What a worker holds of a claimed row to record its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub id: Uuid,
    /// Attempts made before this one.
    pub attempts: i32,
    pub until: DateTime<Utc>,
}

impl Claimed {
    pub fn lease(&self) -> Lease {
        Lease {
            id: self.id,
            attempts: self.attempts,
            until: self.lease_until,
        }
    }
}

/// Records the outcome of the attempt after `lease.attempts`, with its `outbox_attempts` row.
/// Returns false when the lease had been lost (the row was re-claimed or is no longer
/// pending): then nothing is written.
pub fn record(conn: &mut PgConnection, lease: Lease, outcome: &Outcome) -> QueryResult<bool> {
    let attempt = lease.attempts + 1;
    conn.transaction(|conn| {
        let row = outbox::table
            .filter(outbox::id.eq(lease.id))
            .filter(outbox::status.eq("pending"))
            .filter(outbox::next_attempt_at.eq(lease.until));
        let (updated, label, error) = match outcome {
            Outcome::Sent => (
                diesel::update(row)
                    .set((
                        outbox::status.eq("sent"),
                        outbox::attempts.eq(attempt),
                        outbox::sent_at.eq(diesel::dsl::now),
                        outbox::last_error.eq(None::<String>),
                    ))
                    .returning(outbox::province_id)
                    .get_result::<Uuid>(conn)
                    .optional()?,
                "sent",
                None,
            ),
            Outcome::Retry {
                error,
                after_seconds,
            } => (
                diesel::update(row)
                    .set((
                        outbox::attempts.eq(attempt),
                        outbox::last_error.eq(error),
                        outbox::next_attempt_at.eq(diesel::dsl::sql::<Timestamptz>(
                            "now() + make_interval(secs => ",
                        )
                        .bind::<Double, _>(*after_seconds)
                        .sql(")")),
                    ))
                    .returning(outbox::province_id)
                    .get_result::<Uuid>(conn)
                    .optional()?,
                "retry",
                Some(error),
            ),
            Outcome::Failed { error } => (
                diesel::update(row)
                    .set((
                        outbox::status.eq("failed"),
                        outbox::attempts.eq(attempt),
                        outbox::last_error.eq(error),
                    ))
                    .returning(outbox::province_id)
                    .get_result::<Uuid>(conn)
                    .optional()?,
                "failed",
                Some(error),
            ),
        };
        let Some(province_id) = updated else {
            return Ok(false);
        };
        diesel::insert_into(outbox_attempts::table)
            .values((
                outbox_attempts::province_id.eq(province_id),
                outbox_attempts::outbox_id.eq(lease.id),
                outbox_attempts::attempt.eq(attempt),
                outbox_attempts::outcome.eq(label),
                outbox_attempts::error.eq(error),
            ))
            .execute(conn)?;
        Ok(true)
    })
}
