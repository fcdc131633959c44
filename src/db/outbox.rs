//! The transactional outbox: every email is a row written in the transaction of the change
//! that causes it, and delivered later by the worker, with one `outbox_attempts` row per try.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Double, Int4, Int8, Nullable, Text, Timestamptz};
use serde::Serialize;
use uuid::Uuid;

use super::schema::{elections, outbox, outbox_attempts, outbox_workers, schedule_fan_outs};
use super::DbResult;
use crate::domain::kinds::{AttemptOutcome, IcsMethod, OutboxKind, OutboxStatus};

/// One email for the outbox.
#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxInsertForm {
    pub id: Uuid,
    pub province_id: Uuid,
    pub kind: OutboxKind,
    pub recipient: String,
    pub recipient_name: Option<String>,
    pub candidate_id: Option<Uuid>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub ics: Option<String>,
    pub ics_method: Option<IcsMethod>,
    pub status: OutboxStatus,
    pub last_error: Option<String>,
    pub fan_out_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// What an email says: subject, bodies and the calendar with its iTIP method.
pub struct Contents {
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub ics: Option<(IcsMethod, String)>,
}

impl OutboxInsertForm {
    /// A mail to `recipient`, queued `at`, pending delivery.
    pub fn new(
        kind: OutboxKind,
        province_id: Uuid,
        recipient: String,
        contents: Contents,
        at: DateTime<Utc>,
    ) -> Self {
        let (ics_method, ics) = contents.ics.unzip();
        Self {
            id: Uuid::now_v7(),
            province_id,
            kind,
            recipient,
            recipient_name: None,
            candidate_id: None,
            subject: contents.subject,
            body_text: contents.body_text,
            body_html: contents.body_html,
            ics,
            ics_method,
            status: OutboxStatus::Pending,
            last_error: None,
            fan_out_id: None,
            created_at: at,
        }
    }

    /// A mail that could not be written: kept as `failed` with the reason (rule 12), so the
    /// change that caused it still commits and an admin sees what went wrong.
    pub fn unwritten(
        kind: OutboxKind,
        province_id: Uuid,
        recipient: String,
        error: String,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            status: OutboxStatus::Failed,
            last_error: Some(error),
            ..Self::new(
                kind,
                province_id,
                recipient,
                Contents {
                    subject: String::new(),
                    body_text: String::new(),
                    body_html: String::new(),
                    ics: None,
                },
                at,
            )
        }
    }
}

/// Inserts one email; it is sent once the surrounding transaction commits.
pub fn enqueue(conn: &mut PgConnection, form: OutboxInsertForm) -> DbResult<Uuid> {
    Ok(diesel::insert_into(outbox::table)
        .values(form)
        .returning(outbox::id)
        .get_result(conn)?)
}

/// Inserts many emails in few statements (PostgreSQL takes at most 65,535 bind parameters).
pub fn enqueue_all(conn: &mut PgConnection, forms: Vec<OutboxInsertForm>) -> DbResult<usize> {
    let mut queued = 0;
    let mut rest = forms.into_iter().peekable();
    while rest.peek().is_some() {
        let mut chunk: Vec<OutboxInsertForm> = rest.by_ref().take(1_000).collect();
        queued += if chunk.len() == 1 {
            // A change notice is mostly one email: that statement stays prepared.
            super::cached(
                diesel::insert_into(outbox::table)
                    .values(chunk.remove(0))
                    .returning(outbox::id),
            )
            .get_results::<Uuid>(conn)?
            .len()
        } else {
            diesel::insert_into(outbox::table)
                .values(chunk)
                .execute(conn)?
        };
    }
    Ok(queued)
}

/// An email as `GET /outbox` lists it: its delivery state, not its bodies.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub province_id: Uuid,
    pub kind: OutboxKind,
    pub recipient: String,
    pub recipient_name: Option<String>,
    pub candidate_id: Option<Uuid>,
    pub subject: String,
    pub status: OutboxStatus,
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
    pub outcome: AttemptOutcome,
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
    pub ics_method: Option<IcsMethod>,
    pub delivery_attempts: Vec<Attempt>,
}

pub struct OutboxFilter {
    pub status: Option<OutboxStatus>,
    pub candidate_id: Option<Uuid>,
    pub recipient: Option<String>,
    /// Newest first (the page after `after` is then the older emails).
    pub newest: bool,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// Emails in id order, oldest or newest first (ids are UUIDv7: creation order).
pub fn list(conn: &mut PgConnection, f: OutboxFilter) -> DbResult<Vec<OutboxEntry>> {
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
    q = match (f.newest, f.after) {
        (false, Some(after)) => q.filter(outbox::id.gt(after)),
        (true, Some(after)) => q.filter(outbox::id.lt(after)),
        (_, None) => q,
    };
    q = if f.newest {
        q.order(outbox::id.desc())
    } else {
        q.order(outbox::id)
    };
    Ok(q.limit(f.limit).load(conn)?)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<OutboxDetail>> {
    type Found = (
        OutboxEntry,
        String,
        String,
        Option<String>,
        Option<IcsMethod>,
    );
    let found: Option<Found> = outbox::table
        .filter(outbox::id.eq(id))
        .select((
            OutboxEntry::as_select(),
            outbox::body_text,
            outbox::body_html,
            outbox::ics,
            outbox::ics_method,
        ))
        .first(conn)
        .optional()?;
    let Some((entry, body_text, body_html, ics, ics_method)) = found else {
        return Ok(None);
    };
    let delivery_attempts = outbox_attempts::table
        .filter(outbox_attempts::province_id.eq(entry.province_id))
        .filter(outbox_attempts::outbox_id.eq(id))
        .order(outbox_attempts::attempt)
        .select(Attempt::as_select())
        .load(conn)?;
    Ok(Some(OutboxDetail {
        entry,
        body_text,
        body_html,
        ics,
        ics_method,
        delivery_attempts,
    }))
}

/// Sends a failed email back to pending, due now; its attempts are kept, and the attempt
/// limit counts from here. `None` when there is no such email.
pub fn retry(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<(OutboxStatus, OutboxEntry)>> {
    // The province first (a lookup by id alone), so that the lock names one partition.
    let Some(province_id) = outbox::table
        .filter(outbox::id.eq(id))
        .select(outbox::province_id)
        .first::<Uuid>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let key = (id, province_id);
    let Some(status) = outbox::table
        .find(key)
        .select(outbox::status)
        .for_update()
        .first::<OutboxStatus>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if status == OutboxStatus::Failed {
        diesel::update(outbox::table.find(key))
            .set((
                outbox::status.eq(OutboxStatus::Pending),
                outbox::next_attempt_at.eq(diesel::dsl::now),
                outbox::attempts_before_retry.eq(outbox::attempts),
                outbox::claimed_by.eq(None::<Uuid>),
            ))
            .execute(conn)?;
    }
    let entry = outbox::table
        .find(key)
        .select(OutboxEntry::as_select())
        .first(conn)?;
    Ok(Some((status, entry)))
}

/// An email the worker has claimed for one delivery attempt.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub province_id: Uuid,
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
    #[diesel(sql_type = Nullable<Text>)]
    pub ics_method: Option<IcsMethod>,
    /// Attempts made before this one.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    /// Attempts made before an admin's retry: the attempt limit counts from there.
    #[diesel(sql_type = Int4)]
    pub attempts_before_retry: i32,
    /// The lease: the row is this worker's until then, and its outcome is recorded only
    /// while the row still carries this value (a worker whose lease ran out and was
    /// re-claimed elsewhere cannot overwrite the other's outcome).
    #[diesel(sql_type = Timestamptz)]
    pub lease_until: DateTime<Utc>,
}

/// Says worker `worker_id` is alive (registering it the first time).
pub fn heartbeat(conn: &mut PgConnection, worker_id: Uuid) -> DbResult<()> {
    // The time comes with the row (`excluded`): Citus evaluates no function in DO UPDATE SET.
    diesel::insert_into(outbox_workers::table)
        .values((
            outbox_workers::id.eq(worker_id),
            outbox_workers::heartbeat_at.eq(diesel::dsl::now),
        ))
        .on_conflict(outbox_workers::id)
        .do_update()
        .set(
            outbox_workers::heartbeat_at.eq(diesel::upsert::excluded(outbox_workers::heartbeat_at)),
        )
        .execute(conn)?;
    Ok(())
}

/// A worker that stops cleanly leaves; so do workers silent for a day (long dead).
pub fn deregister(conn: &mut PgConnection, worker_id: Uuid) -> DbResult<()> {
    diesel::delete(outbox_workers::table.find(worker_id)).execute(conn)?;
    diesel::sql_query("DELETE FROM outbox_workers WHERE heartbeat_at < now() - interval '1 day'")
        .execute(conn)?;
    Ok(())
}

/// Makes the emails held by dead workers (silent for `dead_after_seconds`, or gone) due again
/// at once instead of when their leases end: after a crash, delivery resumes within seconds.
/// A send such a worker made but never recorded is repeated once, with the same Message-ID.
pub fn release_dead(
    conn: &mut PgConnection,
    worker_id: Uuid,
    dead_after_seconds: f64,
) -> DbResult<usize> {
    Ok(diesel::sql_query(
        "UPDATE outbox o SET next_attempt_at = now(), claimed_by = NULL
          WHERE o.status = 'pending' AND o.claimed_by IS NOT NULL AND o.claimed_by <> $1
            AND NOT EXISTS (SELECT 1 FROM outbox_workers w
                             WHERE w.id = o.claimed_by
                               AND w.heartbeat_at > now() - make_interval(secs => $2))",
    )
    .bind::<diesel::sql_types::Uuid, _>(worker_id)
    .bind::<Double, _>(dead_after_seconds)
    .execute(conn)?)
}

#[derive(QueryableByName)]
struct DueProvince {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    province_id: Uuid,
}

/// Claims up to `limit` due emails for `worker_id`, province by province, the province whose
/// email has waited longest first. In each, one short statement: rows another worker holds are
/// skipped (`SKIP LOCKED`), and the claimed rows' `next_attempt_at` moves `lease_seconds`
/// ahead, so no other worker takes them while this one sends; if this worker dies, its
/// heartbeat stops and [`release_dead`] hands them on (the lease is the last resort). A claim
/// names its province because on Citus a row lock must stay on one shard (SPEC §8). The
/// claimed ids are an `ARRAY(…)`, computed once: as an `IN (subquery)` a nested-loop plan
/// re-runs the subquery for each row, each run skipping the rows the last one took, and the
/// claim outgrows its `LIMIT` (seen on Citus's plan). Diesel cannot put a locking clause in a
/// subquery.
pub fn claim_due(
    conn: &mut PgConnection,
    worker_id: Uuid,
    limit: i64,
    lease_seconds: f64,
) -> DbResult<Vec<Claimed>> {
    let provinces: Vec<DueProvince> = diesel::sql_query(
        "SELECT province_id FROM outbox
          WHERE status = 'pending' AND next_attempt_at <= now()
          GROUP BY province_id ORDER BY min(next_attempt_at) LIMIT $1",
    )
    .bind::<Int8, _>(limit)
    .load(conn)?;
    let mut claimed = Vec::new();
    for p in provinces {
        let left = limit - claimed.len() as i64;
        if left <= 0 {
            break;
        }
        claimed.extend(claim_in(
            conn,
            p.province_id,
            worker_id,
            left,
            lease_seconds,
        )?);
    }
    Ok(claimed)
}

fn claim_in(
    conn: &mut PgConnection,
    province_id: Uuid,
    worker_id: Uuid,
    limit: i64,
    lease_seconds: f64,
) -> DbResult<Vec<Claimed>> {
    Ok(diesel::sql_query(
        "UPDATE outbox SET next_attempt_at = now() + make_interval(secs => $2), claimed_by = $3
          WHERE province_id = $4
            AND id = ANY(ARRAY(SELECT id FROM outbox
                                WHERE province_id = $4 AND status = 'pending'
                                  AND next_attempt_at <= now()
                                ORDER BY next_attempt_at
                                LIMIT $1
                                FOR UPDATE SKIP LOCKED))
         RETURNING id, province_id, recipient, recipient_name, subject, body_text, body_html, ics,
                   ics_method, attempts, attempts_before_retry, next_attempt_at AS lease_until",
    )
    .bind::<Int8, _>(limit)
    .bind::<Double, _>(lease_seconds)
    .bind::<diesel::sql_types::Uuid, _>(worker_id)
    .bind::<diesel::sql_types::Uuid, _>(province_id)
    .load(conn)?)
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
    pub province_id: Uuid,
    /// Attempts made before this one.
    pub attempts: i32,
    pub until: DateTime<Utc>,
}

impl Claimed {
    pub fn lease(&self) -> Lease {
        Lease {
            id: self.id,
            province_id: self.province_id,
            attempts: self.attempts,
            until: self.lease_until,
        }
    }
}

/// Records the outcome of the attempt after `lease.attempts`, with its `outbox_attempts` row.
/// Returns false when the lease had been lost (the row was re-claimed or is no longer
/// pending): then nothing is written. One statement, so one round trip and atomic without a
/// transaction: the attempt row is written from what the conditional `UPDATE` returns.
pub fn record(conn: &mut PgConnection, lease: Lease, outcome: &Outcome) -> DbResult<bool> {
    // $1 province, $2 id, $3 the lease's end, $4 the attempt, $5 its outcome, $6 the error,
    // $7 seconds until the retry, $8 the new status.
    let (set, status, label, error, after_seconds) = match outcome {
        Outcome::Sent => (
            "status = $8, sent_at = now(), last_error = NULL",
            OutboxStatus::Sent,
            AttemptOutcome::Sent,
            None,
            0.0,
        ),
        Outcome::Retry {
            error,
            after_seconds,
        } => (
            "last_error = $6, claimed_by = NULL, \
             next_attempt_at = now() + make_interval(secs => $7)",
            OutboxStatus::Pending,
            AttemptOutcome::Retry,
            Some(error.as_str()),
            *after_seconds,
        ),
        Outcome::Failed { error } => (
            "status = $8, last_error = $6",
            OutboxStatus::Failed,
            AttemptOutcome::Failed,
            Some(error.as_str()),
            0.0,
        ),
    };
    let written = super::cached(
        diesel::sql_query(format!(
            "WITH recorded AS (
               UPDATE outbox SET attempts = $4, {set}
                WHERE province_id = $1 AND id = $2 AND status = 'pending' AND next_attempt_at = $3
               RETURNING province_id, id)
             INSERT INTO outbox_attempts (province_id, outbox_id, attempt, outcome, error)
             SELECT province_id, id, $4, $5, $6 FROM recorded RETURNING outbox_id AS id"
        ))
        .bind::<diesel::sql_types::Uuid, _>(lease.province_id)
        .bind::<diesel::sql_types::Uuid, _>(lease.id)
        .bind::<Timestamptz, _>(lease.until)
        .bind::<Int4, _>(lease.attempts + 1)
        .bind::<Text, _>(label)
        .bind::<Nullable<Text>, _>(error)
        .bind::<Double, _>(after_seconds)
        .bind::<Text, _>(status),
    )
    .load::<super::Id>(conn)?;
    Ok(!written.is_empty())
}

/// Emails per delivery status, in one aggregate query.
pub fn count_by_status(conn: &mut PgConnection) -> DbResult<Vec<(OutboxStatus, i64)>> {
    Ok(outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?)
}

/// Serializes schedule fan-outs of one election until the transaction ends (whatever their
/// regions: they are rare and short). A lock on the election's row, a Citus reference table,
/// holds on every node a request may enter by, where an advisory lock would not (SPEC §8);
/// `FOR NO KEY UPDATE` leaves foreign-key checks against the election free.
pub fn lock_fan_out(conn: &mut PgConnection, election_id: Uuid) -> DbResult<()> {
    elections::table
        .filter(elections::id.eq(election_id))
        .select(elections::id)
        .for_no_key_update()
        .execute(conn)?;
    Ok(())
}

/// The latest fan-out for this election and region, with how many of its emails are still
/// pending.
pub fn latest_fan_out(
    conn: &mut PgConnection,
    election_id: Uuid,
    region_id: Option<Uuid>,
) -> DbResult<Option<(Uuid, i64)>> {
    let mut q = schedule_fan_outs::table
        .filter(schedule_fan_outs::election_id.eq(election_id))
        .select(schedule_fan_outs::id)
        .into_boxed();
    q = match region_id {
        Some(r) => q.filter(schedule_fan_outs::region_id.eq(r)),
        None => q.filter(schedule_fan_outs::region_id.is_null()),
    };
    let Some(id) = q
        .order(schedule_fan_outs::created_at.desc())
        .first::<Uuid>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let pending = outbox::table
        .filter(outbox::fan_out_id.eq(id))
        .filter(outbox::status.eq(OutboxStatus::Pending))
        .count()
        .get_result(conn)?;
    Ok(Some((id, pending)))
}

/// Records a fan-out; its emails carry its id.
pub fn insert_fan_out(
    conn: &mut PgConnection,
    id: Uuid,
    election_id: Uuid,
    region_id: Option<Uuid>,
    province_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> DbResult<()> {
    diesel::insert_into(schedule_fan_outs::table)
        .values((
            schedule_fan_outs::id.eq(id),
            schedule_fan_outs::election_id.eq(election_id),
            schedule_fan_outs::region_id.eq(region_id),
            schedule_fan_outs::province_id.eq(province_id),
            schedule_fan_outs::queued.eq(0),
            schedule_fan_outs::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_fan_out_queued(conn: &mut PgConnection, id: Uuid, queued: usize) -> DbResult<()> {
    diesel::update(schedule_fan_outs::table.find(id))
        .set(schedule_fan_outs::queued.eq(i32::try_from(queued).unwrap_or(i32::MAX)))
        .execute(conn)?;
    Ok(())
}

/// Of these candidates, those with a schedule email still pending, or (with `since`) one
/// pending or sent since then.
pub fn with_schedule(
    conn: &mut PgConnection,
    candidate_ids: &[Uuid],
    since: Option<DateTime<Utc>>,
) -> DbResult<Vec<Uuid>> {
    let mut q = outbox::table
        .filter(outbox::candidate_id.eq_any(candidate_ids))
        .filter(outbox::kind.eq(OutboxKind::Schedule))
        .select(outbox::candidate_id.assume_not_null())
        .distinct()
        .into_boxed();
    q = match since {
        None => q.filter(outbox::status.eq(OutboxStatus::Pending)),
        Some(since) => q
            .filter(outbox::status.ne(OutboxStatus::Failed))
            .filter(outbox::created_at.gt(since)),
    };
    Ok(q.load(conn)?)
}

/// When the candidate's latest schedule email that was not given up on was queued.
pub fn last_schedule_at(
    conn: &mut PgConnection,
    candidate_id: Uuid,
) -> DbResult<Option<DateTime<Utc>>> {
    Ok(outbox::table
        .filter(outbox::candidate_id.eq(candidate_id))
        .filter(outbox::kind.eq(OutboxKind::Schedule))
        .filter(outbox::status.ne(OutboxStatus::Failed))
        .select(diesel::dsl::max(outbox::created_at))
        .first::<Option<DateTime<Utc>>>(conn)?)
}
