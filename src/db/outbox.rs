//! The transactional outbox: every email is a row written in the transaction of the change
//! that causes it, and delivered later by the worker, with one `outbox_attempts` row per try.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Double, Int4, Int8, Nullable, Text, Timestamptz};
use serde::Serialize;
use uuid::Uuid;

use super::schema::{outbox, outbox_attempts};
use super::DbResult;
use crate::domain::kinds::{AttemptOutcome, OutboxKind, OutboxStatus};

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
}

impl OutboxInsertForm {
    /// A mail with its subject and bodies, to `recipient`.
    pub fn new(
        kind: OutboxKind,
        province_id: Uuid,
        recipient: String,
        subject: String,
        body_text: String,
        body_html: String,
        ics: Option<String>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            province_id,
            kind,
            recipient,
            recipient_name: None,
            candidate_id: None,
            subject,
            body_text,
            body_html,
            ics,
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
        let chunk: Vec<OutboxInsertForm> = rest.by_ref().take(1_000).collect();
        queued += diesel::insert_into(outbox::table)
            .values(chunk)
            .execute(conn)?;
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
    pub delivery_attempts: Vec<Attempt>,
}

pub struct OutboxFilter {
    pub status: Option<OutboxStatus>,
    pub candidate_id: Option<Uuid>,
    pub recipient: Option<String>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// Emails in id order (ids are UUIDv7: creation order).
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
    if let Some(after) = f.after {
        q = q.filter(outbox::id.gt(after));
    }
    Ok(q.order(outbox::id).limit(f.limit).load(conn)?)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<OutboxDetail>> {
    let found: Option<(OutboxEntry, String, String, Option<String>)> = outbox::table
        .find(id)
        .select((
            OutboxEntry::as_select(),
            outbox::body_text,
            outbox::body_html,
            outbox::ics,
        ))
        .first(conn)
        .optional()?;
    let Some((entry, body_text, body_html, ics)) = found else {
        return Ok(None);
    };
    let delivery_attempts = outbox_attempts::table
        .filter(outbox_attempts::outbox_id.eq(id))
        .order(outbox_attempts::attempt)
        .select(Attempt::as_select())
        .load(conn)?;
    Ok(Some(OutboxDetail {
        entry,
        body_text,
        body_html,
        ics,
        delivery_attempts,
    }))
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
) -> DbResult<Vec<Claimed>> {
    Ok(diesel::sql_query(
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
pub fn record(conn: &mut PgConnection, lease: Lease, outcome: &Outcome) -> DbResult<bool> {
    let attempt = lease.attempts + 1;
    conn.transaction(|conn| {
        let row = outbox::table
            .filter(outbox::id.eq(lease.id))
            .filter(outbox::status.eq(OutboxStatus::Pending))
            .filter(outbox::next_attempt_at.eq(lease.until));
        let (updated, label, error) = match outcome {
            Outcome::Sent => (
                diesel::update(row)
                    .set((
                        outbox::status.eq(OutboxStatus::Sent),
                        outbox::attempts.eq(attempt),
                        outbox::sent_at.eq(diesel::dsl::now),
                        outbox::last_error.eq(None::<String>),
                    ))
                    .returning(outbox::province_id)
                    .get_result::<Uuid>(conn)
                    .optional()?,
                AttemptOutcome::Sent,
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
                AttemptOutcome::Retry,
                Some(error),
            ),
            Outcome::Failed { error } => (
                diesel::update(row)
                    .set((
                        outbox::status.eq(OutboxStatus::Failed),
                        outbox::attempts.eq(attempt),
                        outbox::last_error.eq(error),
                    ))
                    .returning(outbox::province_id)
                    .get_result::<Uuid>(conn)
                    .optional()?,
                AttemptOutcome::Failed,
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

/// Emails per delivery status, in one aggregate query.
pub fn count_by_status(conn: &mut PgConnection) -> DbResult<Vec<(OutboxStatus, i64)>> {
    Ok(outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?)
}
