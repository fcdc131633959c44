//! Meetings, their electoral units, candidates and sites.
use std::collections::Bound;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Tstzrange};
use serde::Serialize;
use uuid::Uuid;

use super::schema::{meeting_candidates, meeting_sites, meeting_units, meetings, regions, venues};
use super::{Constraint, DbError, DbResult};
use crate::domain::booking::Clash;
use crate::domain::kinds::{Format, MeetingStatus};
use crate::domain::search::meeting_words;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub id: Uuid,
    pub province_id: Uuid,
    pub election_id: Uuid,
    pub region_path: Vec<Uuid>,
    pub format: Format,
    pub title: String,
    pub chair_name: Option<String>,
    pub chair_role: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: MeetingStatus,
    pub cancel_reason: Option<String>,
    pub online_platform: Option<String>,
    pub online_join_url: Option<String>,
    pub online_max_participants: Option<i32>,
    pub online_expected_attendees: Option<i32>,
    pub online_present: i32,
    pub online_admitted: i32,
    pub needs_attention: bool,
    pub attention: serde_json::Value,
    pub version: i32,
    pub reported_attendees: Option<i32>,
    pub report_revision: Option<i32>,
    pub report_filed_at: Option<DateTime<Utc>>,
    pub report_late: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub actors: Vec<Uuid>,
    pub reach: Vec<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = meeting_sites)]
pub struct SiteRow {
    pub id: Uuid,
    #[serde(skip)]
    pub meeting_id: Uuid,
    pub venue_id: Uuid,
    pub expected_attendees: i32,
    pub effective_capacity: i32,
    pub binding_rule_id: Option<Uuid>,
    pub present: i32,
    pub admitted: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_attendees: Option<i32>,
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> DbResult<Option<MeetingRow>> {
    Ok(meetings::table
        .filter(meetings::id.eq(id))
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()?)
}

province_rows! {
    meetings, MeetingRow;
    /// Locks the meeting row for a change in this transaction.
    lock;
}

/// Locks these meetings, soonest first.
pub fn lock_many(
    conn: &mut PgConnection,
    province_id: Uuid,
    ids: &[Uuid],
) -> DbResult<Vec<MeetingRow>> {
    Ok(meetings::table
        .filter(meetings::province_id.eq(province_id))
        .filter(meetings::id.eq_any(ids))
        .select(MeetingRow::as_select())
        .order((meetings::starts_at, meetings::id))
        .for_update()
        .load(conn)?)
}

pub fn sites_of(conn: &mut PgConnection, meeting_ids: &[Uuid]) -> DbResult<Vec<SiteRow>> {
    Ok(meeting_sites::table
        .filter(meeting_sites::meeting_id.eq_any(meeting_ids))
        .select(SiteRow::as_select())
        .order((meeting_sites::meeting_id, meeting_sites::id))
        .load(conn)?)
}

/// What a meeting's view needs besides its row: its election's time zone, its electoral
/// units, its candidate links `(candidate, active)` and its sites, each sorted by id.
#[derive(Debug)]
pub struct Parts {
    pub timezone: String,
    pub units: Vec<Uuid>,
    pub candidates: Vec<(Uuid, bool)>,
    pub sites: Vec<SiteRow>,
}

/// The [`Parts`] of these meetings (`(province, id)` pairs), by meeting id, in one statement:
/// a meeting read is two round trips (its row, then these) instead of five, and every one
/// less is a wake-up of the service's thread and of a backend less (docs/benchmarks.md,
/// "where the tail comes from"). Each part is a subquery on the meeting's own province, so on
/// Citus the statement runs where its shards are.
pub fn parts_of(
    conn: &mut PgConnection,
    meetings: &[(Uuid, Uuid)],
) -> DbResult<Vec<(Uuid, Parts)>> {
    use diesel::sql_types::{Json, Nullable, Text};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = Nullable<Text>)]
        timezone: Option<String>,
        #[diesel(sql_type = Array<diesel::sql_types::Uuid>)]
        units: Vec<Uuid>,
        #[diesel(sql_type = Json)]
        candidates: serde_json::Value,
        #[diesel(sql_type = Json)]
        sites: serde_json::Value,
    }
    type Site = (Uuid, Uuid, i32, i32, Option<Uuid>, i32, i32, Option<i32>);
    let (mut provinces, ids): (Vec<Uuid>, Vec<Uuid>) = meetings.iter().copied().unzip();
    provinces.sort_unstable();
    provinces.dedup();
    let rows: Vec<Row> = super::cached(
        diesel::sql_query(
            "SELECT m.id,
                (SELECT e.timezone FROM elections e WHERE e.id = m.election_id) AS timezone,
                ARRAY(SELECT u.electoral_unit_id FROM meeting_units u
                       WHERE u.province_id = m.province_id AND u.meeting_id = m.id
                       ORDER BY u.electoral_unit_id) AS units,
                coalesce((SELECT json_agg(json_build_array(c.candidate_id, c.active)
                                          ORDER BY c.candidate_id)
                            FROM meeting_candidates c
                           WHERE c.province_id = m.province_id AND c.meeting_id = m.id),
                         '[]') AS candidates,
                coalesce((SELECT json_agg(json_build_array(s.id, s.venue_id,
                                          s.expected_attendees, s.effective_capacity,
                                          s.binding_rule_id, s.present, s.admitted,
                                          s.reported_attendees) ORDER BY s.id)
                            FROM meeting_sites s
                           WHERE s.province_id = m.province_id AND s.meeting_id = m.id),
                         '[]') AS sites
               FROM meetings m
              WHERE m.province_id = ANY($1) AND m.id = ANY($2)",
        )
        .bind::<Array<diesel::sql_types::Uuid>, _>(&provinces)
        .bind::<Array<diesel::sql_types::Uuid>, _>(&ids),
    )
    .load(conn)?;
    let malformed = |what: &str, e: serde_json::Error| {
        DbError::Other(anyhow::anyhow!("a meeting's {what} did not read back: {e}"))
    };
    rows.into_iter()
        .map(|r| {
            let candidates: Vec<(Uuid, bool)> =
                serde_json::from_value(r.candidates).map_err(|e| malformed("candidates", e))?;
            let sites: Vec<Site> =
                serde_json::from_value(r.sites).map_err(|e| malformed("sites", e))?;
            let timezone = r.timezone.ok_or_else(|| {
                DbError::Other(anyhow::anyhow!("meeting {} has no election", r.id))
            })?;
            let sites = sites
                .into_iter()
                .map(
                    |(id, venue_id, expected, capacity, rule, present, admitted, reported)| {
                        SiteRow {
                            id,
                            meeting_id: r.id,
                            venue_id,
                            expected_attendees: expected,
                            effective_capacity: capacity,
                            binding_rule_id: rule,
                            present,
                            admitted,
                            reported_attendees: reported,
                        }
                    },
                )
                .collect();
            Ok((
                r.id,
                Parts {
                    timezone,
                    units: r.units,
                    candidates,
                    sites,
                },
            ))
        })
        .collect()
}

/// The candidate links of these meetings, as `(meeting, candidate, active)`.
pub fn candidates_of(
    conn: &mut PgConnection,
    meeting_ids: &[Uuid],
) -> DbResult<Vec<(Uuid, Uuid, bool)>> {
    Ok(meeting_candidates::table
        .filter(meeting_candidates::meeting_id.eq_any(meeting_ids))
        .select((
            meeting_candidates::meeting_id,
            meeting_candidates::candidate_id,
            meeting_candidates::active,
        ))
        .order((
            meeting_candidates::meeting_id,
            meeting_candidates::candidate_id,
        ))
        .load(conn)?)
}

/// A half-open time range as PostgreSQL's `tstzrange`.
pub fn range(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (Bound<DateTime<Utc>>, Bound<DateTime<Utc>>) {
    (Bound::Included(from), Bound::Excluded(to))
}

/// What a meeting's plan writes to its row; a PATCH merges into the stored plan first,
/// so every field is written.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = meetings, treat_none_as_null = true)]
pub struct MeetingFields {
    pub region_path: Vec<Uuid>,
    /// Who may act on and read the meeting (`domain::scope::MeetingPlace`).
    pub actors: Vec<Uuid>,
    pub reach: Vec<Uuid>,
    pub format: Format,
    pub title: String,
    pub chair_name: Option<String>,
    pub chair_role: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub online_platform: Option<String>,
    pub online_join_url: Option<String>,
    pub online_max_participants: Option<i32>,
    pub online_expected_attendees: Option<i32>,
}

#[derive(Insertable)]
#[diesel(table_name = meetings)]
pub struct MeetingInsertForm {
    pub id: Uuid,
    pub province_id: Uuid,
    pub election_id: Uuid,
    #[diesel(embed)]
    pub fields: MeetingFields,
}

diesel::define_sql_function! {
    /// Lower case without diacritics (migration 000013): what `?q=` compares.
    fn search_fold(value: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Inserts a meeting, found by `words` (`domain::search::meeting_words`); the row as stored.
pub fn insert(
    conn: &mut PgConnection,
    form: &MeetingInsertForm,
    words: &str,
) -> DbResult<MeetingRow> {
    Ok(super::cached(
        diesel::insert_into(meetings::table)
            .values((form, meetings::search_text.eq(search_fold(words))))
            .returning(MeetingRow::as_returning()),
    )
    .get_result(conn)?)
}

/// Writes a changed plan and moves the meeting to its next version.
pub fn update(
    conn: &mut PgConnection,
    province_id: Uuid,
    id: Uuid,
    form: &MeetingFields,
    words: &str,
    at: DateTime<Utc>,
) -> DbResult<()> {
    diesel::update(meetings::table.find((id, province_id)))
        .set((
            form,
            meetings::search_text.eq(search_fold(words)),
            meetings::version.eq(meetings::version + 1),
            meetings::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Moves these meetings to their next version (something about them changed).
pub fn touch(
    conn: &mut PgConnection,
    province_id: Uuid,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> DbResult<()> {
    diesel::update(
        meetings::table
            .filter(meetings::province_id.eq(province_id))
            .filter(meetings::id.eq_any(ids)),
    )
    .set((
        meetings::version.eq(meetings::version + 1),
        meetings::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(())
}

/// Cancels a meeting.
pub fn cancel(
    conn: &mut PgConnection,
    province_id: Uuid,
    id: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> DbResult<()> {
    diesel::update(meetings::table.find((id, province_id)))
        .set((
            meetings::status.eq(MeetingStatus::Cancelled),
            meetings::cancel_reason.eq(reason),
            meetings::needs_attention.eq(false),
            meetings::attention.eq(serde_json::json!([])),
            meetings::version.eq(meetings::version + 1),
            meetings::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores what the last evaluation against the rules found wrong (empty: nothing).
pub fn set_attention(
    conn: &mut PgConnection,
    province_id: Uuid,
    id: Uuid,
    attention: &serde_json::Value,
) -> DbResult<()> {
    let flagged = attention.as_array().is_some_and(|a| !a.is_empty());
    diesel::update(meetings::table.find((id, province_id)))
        .set((
            meetings::needs_attention.eq(flagged),
            meetings::attention.eq(attention),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores a site's effective capacity and binding rule as re-evaluated.
pub fn set_site_capacity(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    venue_id: Uuid,
    effective_capacity: i32,
    binding_rule_id: Option<Uuid>,
) -> DbResult<()> {
    diesel::update(
        meeting_sites::table
            .filter(meeting_sites::meeting_id.eq(meeting_id))
            .filter(meeting_sites::venue_id.eq(venue_id)),
    )
    .set((
        meeting_sites::effective_capacity.eq(effective_capacity),
        meeting_sites::binding_rule_id.eq(binding_rule_id),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn insert_units(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    province_id: Uuid,
    unit_ids: &[Uuid],
) -> DbResult<()> {
    // One text for any number of units, so the statement stays prepared.
    super::cached(
        diesel::sql_query(
            "INSERT INTO meeting_units (meeting_id, electoral_unit_id, province_id) \
             SELECT $1, u, $2 FROM unnest($3::uuid[]) AS u RETURNING electoral_unit_id AS id",
        )
        .bind::<diesel::sql_types::Uuid, _>(meeting_id)
        .bind::<diesel::sql_types::Uuid, _>(province_id)
        .bind::<Array<diesel::sql_types::Uuid>, _>(unit_ids),
    )
    .load::<super::Id>(conn)?;
    Ok(())
}

/// Queues this transaction behind any other booking the same candidates or venues, by
/// transaction-level advisory locks taken in one global order (candidates, then venues,
/// each sorted). Two transactions inserting conflicting rows into an exclusion constraint
/// at the same moment would otherwise each wait for the other, and PostgreSQL would break
/// the deadlock by failing one of them; queued, the later one sees the earlier one's
/// committed booking and gets a clean conflict. The constraints remain the guarantee.
pub fn queue_bookings(
    conn: &mut PgConnection,
    candidates: &[Uuid],
    venues: &[Uuid],
) -> DbResult<()> {
    // Keys: a 62-bit digest of the id, with the kind in the two top bits.
    let key = |kind: i64, id: &Uuid| {
        let (_, low) = id.as_u64_pair();
        (kind << 62) | (low & ((1 << 62) - 1)) as i64
    };
    let mut keys: Vec<i64> = candidates
        .iter()
        .map(|c| key(0, c))
        .chain(venues.iter().map(|v| key(1, v)))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    #[derive(QueryableByName)]
    struct Queued {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        locks: i64,
    }
    // One text for any number of keys, so the statement stays prepared.
    let queued: Queued = super::cached(
        diesel::sql_query(
            "SELECT count(pg_advisory_xact_lock(k)) AS locks FROM unnest($1::bigint[]) AS k",
        )
        .bind::<Array<diesel::sql_types::BigInt>, _>(&keys),
    )
    .get_result(conn)?;
    if usize::try_from(queued.locks).ok() != Some(keys.len()) {
        return Err(DbError::Other(anyhow::anyhow!(
            "queued behind {} booking locks of {}",
            queued.locks,
            keys.len()
        )));
    }
    Ok(())
}

/// A booking the queue of [`queue_bookings`] did not order (a writer that skipped it) can still
/// meet the constraint; the transaction is then lost, and the request may simply run again,
/// when the clash is read and named.
fn raced(e: DbError, constraint: Constraint) -> DbError {
    if e.violates(&constraint) {
        DbError::Retry(format!(
            "{constraint:?} refused a booking made at the same moment"
        ))
    } else {
        e
    }
}

/// Books the candidates: each is busy over `busy` (the meeting plus the travel buffer after
/// it, `domain::booking`). The exclusion constraint `meeting_candidates_no_overlap` refuses
/// overlaps; queued behind every other booking of these candidates, the transaction first
/// reads who holds them, so a clash is named without a savepoint. A candidate taken off the
/// meeting keeps an inactive link, so their calendar hears of it.
pub fn book_candidates(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    province_id: Uuid,
    new_meeting: bool,
    candidate_ids: &[Uuid],
    busy: (Bound<DateTime<Utc>>, Bound<DateTime<Utc>>),
) -> DbResult<Result<(), Clash>> {
    let holder: Option<(Uuid, Uuid)> = meeting_candidates::table
        .filter(meeting_candidates::province_id.eq(province_id))
        .filter(meeting_candidates::candidate_id.eq_any(candidate_ids))
        .filter(meeting_candidates::active)
        .filter(meeting_candidates::meeting_id.ne(meeting_id))
        .filter(meeting_candidates::busy.overlaps_with(busy))
        .select((
            meeting_candidates::meeting_id,
            meeting_candidates::candidate_id,
        ))
        .first(conn)
        .optional()?;
    if let Some((meeting, candidate)) = holder {
        return Ok(Err(Clash::Candidate { meeting, candidate }));
    }
    write_candidates(
        conn,
        meeting_id,
        province_id,
        new_meeting,
        candidate_ids,
        busy,
    )
    .map_err(|e| raced(e, Constraint::MeetingCandidatesNoOverlap))?;
    Ok(Ok(()))
}

fn write_candidates(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    province_id: Uuid,
    new_meeting: bool,
    candidate_ids: &[Uuid],
    busy: (Bound<DateTime<Utc>>, Bound<DateTime<Utc>>),
) -> DbResult<()> {
    if new_meeting {
        // A plain insert: an upsert's speculative insertion can deadlock against a concurrent
        // insert into the exclusion constraint. One text for any number of candidates, so
        // the statement stays prepared.
        super::cached(
            diesel::sql_query(
                "INSERT INTO meeting_candidates \
                   (meeting_id, candidate_id, province_id, busy, active) \
                 SELECT $1, c, $2, $3, true FROM unnest($4::uuid[]) AS c \
                 RETURNING candidate_id AS id",
            )
            .bind::<diesel::sql_types::Uuid, _>(meeting_id)
            .bind::<diesel::sql_types::Uuid, _>(province_id)
            .bind::<Tstzrange, _>(busy)
            .bind::<Array<diesel::sql_types::Uuid>, _>(candidate_ids),
        )
        .load::<super::Id>(conn)?;
        return Ok(());
    }
    diesel::update(
        meeting_candidates::table
            .filter(meeting_candidates::meeting_id.eq(meeting_id))
            .filter(meeting_candidates::candidate_id.ne_all(candidate_ids)),
    )
    .set(meeting_candidates::active.eq(false))
    .execute(conn)?;
    let rows: Vec<_> = candidate_ids
        .iter()
        .map(|c| {
            (
                meeting_candidates::meeting_id.eq(meeting_id),
                meeting_candidates::candidate_id.eq(*c),
                meeting_candidates::province_id.eq(province_id),
                meeting_candidates::busy.eq(busy),
                meeting_candidates::active.eq(true),
            )
        })
        .collect();
    diesel::insert_into(meeting_candidates::table)
        .values(rows)
        .on_conflict((
            meeting_candidates::meeting_id,
            meeting_candidates::candidate_id,
            meeting_candidates::province_id,
        ))
        .do_update()
        .set((
            meeting_candidates::busy.eq(diesel::upsert::excluded(meeting_candidates::busy)),
            meeting_candidates::active.eq(true),
        ))
        .execute(conn)?;
    Ok(())
}

/// A site to write: the venue, who is expected, and what the rules allow.
pub struct SiteBooking {
    pub venue_id: Uuid,
    pub expected_attendees: i32,
    pub effective_capacity: i32,
    pub binding_rule_id: Option<Uuid>,
}

/// Books the venues over `during`; `booked` are the venues the meeting had. A site whose
/// venue stays keeps its id and live counters; others are removed or added, and the added
/// ones come back as written (for a new meeting, all its sites). The exclusion constraint
/// `meeting_sites_no_overlap` refuses double bookings; as for candidates, the holder of a
/// venue is read first.
pub fn book_sites(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    province_id: Uuid,
    booked: &[Uuid],
    sites: &[SiteBooking],
    during: (Bound<DateTime<Utc>>, Bound<DateTime<Utc>>),
) -> DbResult<Result<Vec<SiteRow>, Clash>> {
    let venue_ids: Vec<Uuid> = sites.iter().map(|s| s.venue_id).collect();
    let holder: Option<(Uuid, Uuid)> = meeting_sites::table
        .filter(meeting_sites::province_id.eq(province_id))
        .filter(meeting_sites::venue_id.eq_any(&venue_ids))
        .filter(meeting_sites::active)
        .filter(meeting_sites::meeting_id.ne(meeting_id))
        .filter(meeting_sites::during.overlaps_with(during))
        .select((meeting_sites::meeting_id, meeting_sites::venue_id))
        .first(conn)
        .optional()?;
    if let Some((meeting, venue)) = holder {
        return Ok(Err(Clash::Venue { meeting, venue }));
    }
    let added = write_sites(conn, meeting_id, province_id, booked, sites, during)
        .map_err(|e| raced(e, Constraint::MeetingSitesNoOverlap))?;
    Ok(Ok(added))
}

fn write_sites(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    province_id: Uuid,
    booked: &[Uuid],
    sites: &[SiteBooking],
    during: (Bound<DateTime<Utc>>, Bound<DateTime<Utc>>),
) -> DbResult<Vec<SiteRow>> {
    let venue_ids: Vec<Uuid> = sites.iter().map(|s| s.venue_id).collect();
    let mut added = Vec::new();
    if booked.iter().any(|v| !venue_ids.contains(v)) {
        diesel::delete(
            meeting_sites::table
                .filter(meeting_sites::meeting_id.eq(meeting_id))
                .filter(meeting_sites::venue_id.ne_all(&venue_ids)),
        )
        .execute(conn)?;
    }
    for s in sites {
        if booked.contains(&s.venue_id) {
            diesel::update(
                meeting_sites::table
                    .filter(meeting_sites::meeting_id.eq(meeting_id))
                    .filter(meeting_sites::venue_id.eq(s.venue_id)),
            )
            .set((
                meeting_sites::expected_attendees.eq(s.expected_attendees),
                meeting_sites::effective_capacity.eq(s.effective_capacity),
                meeting_sites::binding_rule_id.eq(s.binding_rule_id),
                meeting_sites::during.eq(during),
            ))
            .execute(conn)?;
            continue;
        }
        added.push(
            diesel::insert_into(meeting_sites::table)
                .values((
                    meeting_sites::id.eq(Uuid::now_v7()),
                    meeting_sites::meeting_id.eq(meeting_id),
                    meeting_sites::province_id.eq(province_id),
                    meeting_sites::venue_id.eq(s.venue_id),
                    meeting_sites::expected_attendees.eq(s.expected_attendees),
                    meeting_sites::effective_capacity.eq(s.effective_capacity),
                    meeting_sites::binding_rule_id.eq(s.binding_rule_id),
                    meeting_sites::during.eq(during),
                ))
                .returning(SiteRow::as_returning())
                .get_result(conn)?,
        );
    }
    Ok(added)
}

/// Frees a cancelled meeting's candidates and venues.
pub fn release(conn: &mut PgConnection, meeting_id: Uuid) -> DbResult<()> {
    diesel::update(meeting_candidates::table.filter(meeting_candidates::meeting_id.eq(meeting_id)))
        .set(meeting_candidates::active.eq(false))
        .execute(conn)?;
    diesel::update(meeting_sites::table.filter(meeting_sites::meeting_id.eq(meeting_id)))
        .set(meeting_sites::active.eq(false))
        .execute(conn)?;
    Ok(())
}

/// Takes a candidate off these meetings (they keep an inactive link); returns the meetings
/// the candidate was on.
pub fn drop_candidate(
    conn: &mut PgConnection,
    candidate_id: Uuid,
    meeting_ids: &[Uuid],
) -> DbResult<Vec<Uuid>> {
    Ok(diesel::update(
        meeting_candidates::table
            .filter(meeting_candidates::candidate_id.eq(candidate_id))
            .filter(meeting_candidates::active)
            .filter(meeting_candidates::meeting_id.eq_any(meeting_ids)),
    )
    .set(meeting_candidates::active.eq(false))
    .returning(meeting_candidates::meeting_id)
    .get_results(conn)?)
}

/// Future planned meetings (starting after `now`) of a candidate.
pub fn future_of_candidate(
    conn: &mut PgConnection,
    candidate_id: Uuid,
    now: DateTime<Utc>,
) -> DbResult<Vec<Uuid>> {
    Ok(meetings::table
        .inner_join(
            meeting_candidates::table.on(meeting_candidates::meeting_id
                .eq(meetings::id)
                .and(meeting_candidates::province_id.eq(meetings::province_id))),
        )
        .filter(meeting_candidates::candidate_id.eq(candidate_id))
        .filter(meeting_candidates::active)
        .filter(meetings::status.eq(MeetingStatus::Planned))
        .filter(meetings::starts_at.gt(now))
        .select(meetings::id)
        .load(conn)?)
}

/// Future planned meetings (starting after `now`) with a site at a venue inside `region_id`'s
/// subtree, overlapping `[from, until)`.
pub fn planned_in_region(
    conn: &mut PgConnection,
    region_id: Uuid,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DbResult<Vec<Uuid>> {
    let mut q = meetings::table
        .inner_join(
            meeting_sites::table.on(meeting_sites::meeting_id
                .eq(meetings::id)
                .and(meeting_sites::province_id.eq(meetings::province_id))),
        )
        .inner_join(
            venues::table.on(venues::id
                .eq(meeting_sites::venue_id)
                .and(venues::province_id.eq(meeting_sites::province_id))),
        )
        .inner_join(
            regions::table.on(regions::id
                .eq(venues::region_id)
                .and(regions::province_id.eq(venues::province_id))),
        )
        .filter(meetings::status.eq(MeetingStatus::Planned))
        .filter(meetings::starts_at.gt(now))
        .filter(regions::path.contains(vec![region_id]))
        .filter(meetings::ends_at.gt(from))
        .select(meetings::id)
        .distinct()
        .into_boxed();
    if let Some(until) = until {
        q = q.filter(meetings::starts_at.lt(until));
    }
    Ok(q.load(conn)?)
}

/// Rewrites the search text of these meetings from their title, venues and active candidates
/// as they now stand (after a venue or a candidate was renamed or withdrawn).
pub fn refresh_search(conn: &mut PgConnection, ids: &[Uuid]) -> DbResult<()> {
    use diesel::sql_types::{Array, Text};
    #[derive(QueryableByName)]
    struct Parts {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        province_id: Uuid,
        #[diesel(sql_type = Text)]
        title: String,
        #[diesel(sql_type = Array<Text>)]
        venue_names: Vec<String>,
        #[diesel(sql_type = Array<Text>)]
        venue_addresses: Vec<String>,
        #[diesel(sql_type = Array<Text>)]
        candidates: Vec<String>,
    }
    // Read, then write each row: the write names the row's province (Citus).
    let found: Vec<Parts> = diesel::sql_query(
        "SELECT m.id, m.province_id, m.title,
            ARRAY(SELECT v.name FROM meeting_sites s
               JOIN venues v ON v.province_id = s.province_id AND v.id = s.venue_id
              WHERE s.province_id = m.province_id AND s.meeting_id = m.id ORDER BY s.id) AS venue_names,
            ARRAY(SELECT v.address FROM meeting_sites s
               JOIN venues v ON v.province_id = s.province_id AND v.id = s.venue_id
              WHERE s.province_id = m.province_id AND s.meeting_id = m.id ORDER BY s.id) AS venue_addresses,
            ARRAY(SELECT c.full_name FROM meeting_candidates mc
               JOIN candidates c ON c.province_id = mc.province_id AND c.id = mc.candidate_id
              WHERE mc.province_id = m.province_id AND mc.meeting_id = m.id AND mc.active
              ORDER BY c.id) AS candidates
           FROM meetings m WHERE m.id = ANY($1)",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
    .load(conn)?;
    for m in found {
        let words = meeting_words(
            &m.title,
            m.venue_names
                .iter()
                .map(String::as_str)
                .zip(m.venue_addresses.iter().map(String::as_str)),
            m.candidates.iter().map(String::as_str),
        );
        diesel::update(meetings::table.find((m.id, m.province_id)))
            .set(meetings::search_text.eq(search_fold(words)))
            .execute(conn)?;
    }
    Ok(())
}

/// The meetings of a venue or with a candidate, whatever their state: those whose search text
/// names them.
pub fn naming(
    conn: &mut PgConnection,
    venue_id: Option<Uuid>,
    candidate_id: Option<Uuid>,
) -> DbResult<Vec<Uuid>> {
    let mut ids: Vec<Uuid> = Vec::new();
    if let Some(v) = venue_id {
        ids.extend(
            meeting_sites::table
                .filter(meeting_sites::venue_id.eq(v))
                .select(meeting_sites::meeting_id)
                .load::<Uuid>(conn)?,
        );
    }
    if let Some(c) = candidate_id {
        ids.extend(
            meeting_candidates::table
                .filter(meeting_candidates::candidate_id.eq(c))
                .select(meeting_candidates::meeting_id)
                .load::<Uuid>(conn)?,
        );
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Future planned meetings (starting after `now`) of an election, with their provinces.
pub fn planned_of_election(
    conn: &mut PgConnection,
    election_id: Uuid,
    now: DateTime<Utc>,
) -> DbResult<Vec<(Uuid, Uuid)>> {
    Ok(meetings::table
        .filter(meetings::election_id.eq(election_id))
        .filter(meetings::status.eq(MeetingStatus::Planned))
        .filter(meetings::starts_at.gt(now))
        .select((meetings::province_id, meetings::id))
        .order((meetings::province_id, meetings::id))
        .load(conn)?)
}

/// Future planned meetings (starting after `now`) at a venue.
pub fn planned_at_venue(
    conn: &mut PgConnection,
    venue_id: Uuid,
    now: DateTime<Utc>,
) -> DbResult<Vec<Uuid>> {
    Ok(meetings::table
        .inner_join(
            meeting_sites::table.on(meeting_sites::meeting_id
                .eq(meetings::id)
                .and(meeting_sites::province_id.eq(meetings::province_id))),
        )
        .filter(meeting_sites::venue_id.eq(venue_id))
        .filter(meetings::status.eq(MeetingStatus::Planned))
        .filter(meetings::starts_at.gt(now))
        .select(meetings::id)
        .distinct()
        .load(conn)?)
}

#[derive(Debug, Clone)]
pub struct MeetingFilter {
    pub scope: Option<Uuid>,
    pub election_id: Option<Uuid>,
    pub electoral_unit_id: Option<Uuid>,
    pub region_id: Option<Uuid>,
    pub candidate_id: Option<Uuid>,
    pub status: Option<MeetingStatus>,
    pub format: Option<Format>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub needs_attention: Option<bool>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Words to find in the title, venues and candidates, ignoring case and diacritics.
    pub q: Option<String>,
    /// Continue after this `(starts_at, id)`.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// Meetings in start order; `from`/`to` select meetings overlapping that period.
pub fn list(conn: &mut PgConnection, f: MeetingFilter) -> DbResult<Vec<MeetingRow>> {
    let mut q = meetings::table.select(MeetingRow::as_select()).into_boxed();
    if let Some(r) = f.scope {
        q = q.filter(meetings::reach.contains(vec![r]));
    }
    if let Some(r) = f.region_id {
        q = q.filter(meetings::region_path.contains(vec![r]));
    }
    if let Some(e) = f.election_id {
        q = q.filter(meetings::election_id.eq(e));
    }
    if let Some(u) = f.electoral_unit_id {
        q = q.filter(diesel::dsl::exists(
            meeting_units::table
                .filter(meeting_units::province_id.eq(meetings::province_id))
                .filter(meeting_units::meeting_id.eq(meetings::id))
                .filter(meeting_units::electoral_unit_id.eq(u)),
        ));
    }
    if let Some(c) = f.candidate_id {
        q = q.filter(diesel::dsl::exists(
            meeting_candidates::table
                .filter(meeting_candidates::province_id.eq(meetings::province_id))
                .filter(meeting_candidates::meeting_id.eq(meetings::id))
                .filter(meeting_candidates::candidate_id.eq(c))
                .filter(
                    meeting_candidates::active.or(meetings::status.eq(MeetingStatus::Cancelled)),
                ),
        ));
    }
    if let Some(s) = f.status {
        q = q.filter(meetings::status.eq(s));
    }
    if let Some(fmt) = f.format {
        q = q.filter(meetings::format.eq(fmt));
    }
    if let Some(from) = f.from {
        q = q.filter(meetings::ends_at.gt(from));
    }
    if let Some(to) = f.to {
        q = q.filter(meetings::starts_at.lt(to));
    }
    if let Some(n) = f.needs_attention {
        q = q.filter(meetings::needs_attention.eq(n));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(meetings::updated_at.ge(t));
    }
    if let Some(words) = f.q {
        // Each word anywhere in the folded text, so "ky dong" finds "Xã Kỳ Đồng".
        for word in words.split_whitespace() {
            let pattern = format!(
                "%{}%",
                word.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            q = q.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "meetings.search_text LIKE search_fold(",
                )
                .bind::<diesel::sql_types::Text, _>(pattern)
                .sql(")"),
            );
        }
    }
    if let Some((at, id)) = f.after {
        q = q.filter(
            meetings::starts_at
                .gt(at)
                .or(meetings::starts_at.eq(at).and(meetings::id.gt(id))),
        );
    }
    Ok(q.order((meetings::starts_at, meetings::id))
        .limit(f.limit)
        .load(conn)?)
}
