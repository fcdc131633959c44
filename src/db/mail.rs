//! What mail needs to know, read in few queries: candidates with their election, the meeting
//! lines of their schedules and notices, and the committees of meetings needing attention.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int4, Nullable, Text, Timestamptz};
use uuid::Uuid;

use super::schema::{candidates, elections, electoral_units, health_rules, regions, venues};
use super::DbResult;
use crate::domain::kinds::{CandidateStatus, Locale};

/// A candidate as their mail needs them: address, language and the election's zone.
#[derive(Debug, Clone, Queryable)]
pub struct Addressee {
    pub id: Uuid,
    pub province_id: Uuid,
    pub full_name: String,
    pub email: String,
    pub locale: Locale,
    pub status: CandidateStatus,
    pub election_name: String,
    pub timezone: String,
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
pub fn addressees(conn: &mut PgConnection, ids: &[Uuid]) -> DbResult<Vec<Addressee>> {
    Ok(candidates::table
        .inner_join(
            electoral_units::table.on(candidates::electoral_unit_id
                .eq(electoral_units::id)
                .and(candidates::province_id.eq(electoral_units::province_id))),
        )
        .inner_join(elections::table.on(elections::id.eq(electoral_units::election_id)))
        .filter(candidates::id.eq_any(ids))
        .select(ADDRESSEE_COLUMNS)
        .order(candidates::id)
        .load(conn)?)
}

/// The active candidates of an election whose unit lies in `region_id`'s subtree (all of them
/// without one), in id order, `limit` at a time after `after`.
pub fn active_candidates(
    conn: &mut PgConnection,
    election_id: Uuid,
    region_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> DbResult<Vec<Addressee>> {
    let mut q = candidates::table
        .inner_join(
            electoral_units::table.on(candidates::electoral_unit_id
                .eq(electoral_units::id)
                .and(candidates::province_id.eq(electoral_units::province_id))),
        )
        .inner_join(elections::table.on(elections::id.eq(electoral_units::election_id)))
        .inner_join(
            regions::table.on(regions::id
                .eq(electoral_units::region_id)
                .and(regions::province_id.eq(electoral_units::province_id))),
        )
        .filter(electoral_units::election_id.eq(election_id))
        .filter(candidates::status.eq(CandidateStatus::Active))
        .select(ADDRESSEE_COLUMNS)
        .into_boxed();
    if let Some(r) = region_id {
        q = q.filter(regions::path.contains(vec![r]));
    }
    if let Some(after) = after {
        q = q.filter(candidates::id.gt(after));
    }
    Ok(q.order(candidates::id).limit(limit).load(conn)?)
}

/// Which meetings of which candidates to list.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// Every candidate link of these meetings, whatever the meeting's state, for active
    /// candidates only: what change notices list.
    Changed(&'a [Uuid]),
    /// The planned meetings of these candidates that have not ended at `now`, without those
    /// they were taken off: what a schedule lists.
    Upcoming {
        candidates: &'a [Uuid],
        now: DateTime<Utc>,
    },
    /// Every meeting these candidates were ever on, past, cancelled and left ones included: a
    /// calendar keeps the events that took place and drops the others by STATUS:CANCELLED.
    Everything(&'a [Uuid]),
}

/// One (candidate, meeting) pair as a candidate's mail lists it.
#[derive(Debug, Clone, QueryableByName)]
pub struct LineRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub candidate_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub meeting_id: Uuid,
    #[diesel(sql_type = Int4)]
    pub sequence: i32,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub location: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub online_join_url: Option<String>,
    #[diesel(sql_type = Bool)]
    pub online: bool,
    #[diesel(sql_type = Bool)]
    pub cancelled: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub cancel_reason: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    pub electoral_units: Vec<String>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
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
                    FROM meeting_sites s JOIN venues v ON v.province_id = s.province_id AND v.id = s.venue_id
                   WHERE s.province_id = m.province_id AND s.meeting_id = m.id
                     AND (s.active OR m.status = 'cancelled'))) AS location,
       m.online_join_url, m.format = 'online' AS online,
       (m.status = 'cancelled' OR NOT mc.active) AS cancelled, m.cancel_reason,
       coalesce((SELECT array_agg(u.name ORDER BY u.name)
                   FROM meeting_units mu
                   JOIN electoral_units u ON u.province_id = mu.province_id AND u.id = mu.electoral_unit_id
                  WHERE mu.province_id = m.province_id AND mu.meeting_id = m.id), '{}') AS electoral_units,
       m.updated_at
  FROM meeting_candidates mc
  JOIN meetings m ON m.province_id = mc.province_id AND m.id = mc.meeting_id";

/// The meeting lines of candidates, soonest first for each candidate (in candidate order).
pub fn candidate_meetings(
    conn: &mut PgConnection,
    selection: Selection<'_>,
) -> DbResult<Vec<LineRow>> {
    let order = "ORDER BY mc.candidate_id, m.starts_at, m.id";
    Ok(match selection {
        // The candidate's state by a subquery, not a join: in a transaction's generic plan
        // (db::pool) a join may hash every candidate of the country for one meeting's lines.
        Selection::Changed(meetings) => super::cached(
            diesel::sql_query(format!(
                "{LINES_SQL} WHERE mc.meeting_id = ANY($1)
                   AND (SELECT c.status FROM candidates c
                         WHERE c.province_id = mc.province_id AND c.id = mc.candidate_id) = 'active'
                 {order}"
            ))
            .bind::<Array<diesel::sql_types::Uuid>, _>(meetings),
        )
        .load(conn)?,
        Selection::Upcoming { candidates, now } => super::cached(
            diesel::sql_query(format!(
                "{LINES_SQL} WHERE mc.candidate_id = ANY($1) AND m.ends_at > $2 \
                 AND m.status = 'planned' AND mc.active {order}"
            ))
            .bind::<Array<diesel::sql_types::Uuid>, _>(candidates)
            .bind::<Timestamptz, _>(now),
        )
        .load(conn)?,
        Selection::Everything(candidates) => super::cached(
            diesel::sql_query(format!(
                "{LINES_SQL} WHERE mc.candidate_id = ANY($1) {order}"
            ))
            .bind::<Array<diesel::sql_types::Uuid>, _>(candidates),
        )
        .load(conn)?,
    })
}

/// Venues as a candidate's mail names them (`name, address`), by id, in name order: where a
/// rescheduled meeting used to be.
pub fn venue_places(conn: &mut PgConnection, ids: &[Uuid]) -> DbResult<Vec<(Uuid, String)>> {
    Ok(venues::table
        .filter(venues::id.eq_any(ids))
        .order((venues::name, venues::id))
        .select((
            venues::id,
            diesel::dsl::sql::<Text>("venues.name || ', ' || venues.address"),
        ))
        .load(conn)?)
}

/// Venue names by id.
pub fn venue_names(conn: &mut PgConnection, ids: &[Uuid]) -> DbResult<Vec<(Uuid, String)>> {
    Ok(venues::table
        .filter(venues::id.eq_any(ids))
        .select((venues::id, venues::name))
        .load(conn)?)
}

/// A health rule as a notice names it.
#[derive(Debug, Clone, Queryable)]
pub struct RuleRow {
    pub id: Uuid,
    pub reference: Option<String>,
    pub region: String,
    pub effective_from: DateTime<Utc>,
}

/// Health rules by id, each with the name of the region that issued it.
pub fn rule_names(conn: &mut PgConnection, ids: &[Uuid]) -> DbResult<Vec<RuleRow>> {
    Ok(health_rules::table
        .inner_join(
            regions::table.on(regions::id
                .eq(health_rules::region_id)
                .and(regions::province_id.eq(health_rules::province_id))),
        )
        .filter(health_rules::id.eq_any(ids))
        .select((
            health_rules::id,
            health_rules::reference,
            regions::name,
            health_rules::effective_from,
        ))
        .load(conn)?)
}

/// A meeting needing attention, with its election and its organizing committee's address.
#[derive(Debug, Clone, QueryableByName)]
pub struct AttentionRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub meeting_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub province_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub election_id: Uuid,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub election_name: String,
    #[diesel(sql_type = Text)]
    pub timezone: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub organizer: Option<String>,
    /// The names of the venues it is held at (none: online only).
    #[diesel(sql_type = Array<Text>)]
    pub venues: Vec<String>,
}

/// Each meeting with its organizer: the nearest `contact_email` walking up its `region_path`
/// from the meeting's own region (the last element) towards the province.
const ATTENTION_SQL: &str = "\
SELECT m.id AS meeting_id, m.province_id, m.election_id, m.title, m.starts_at, m.ends_at,
       e.name AS election_name, e.timezone,
       (SELECT r.contact_email
          FROM unnest(m.region_path) WITH ORDINALITY AS p(region_id, depth)
          JOIN regions r ON r.province_id = m.province_id AND r.id = p.region_id
         WHERE r.contact_email IS NOT NULL
         ORDER BY p.depth DESC LIMIT 1) AS organizer,
       coalesce((SELECT array_agg(v.name ORDER BY v.name)
                   FROM meeting_sites s JOIN venues v ON v.province_id = s.province_id AND v.id = s.venue_id
                  WHERE s.province_id = m.province_id AND s.meeting_id = m.id AND s.active), '{}') AS venues
  FROM meetings m JOIN elections e ON e.id = m.election_id
 WHERE m.id = ANY($1)";

/// These meetings, each with its organizing committee's address.
pub fn attention_rows(
    conn: &mut PgConnection,
    meeting_ids: &[Uuid],
) -> DbResult<Vec<AttentionRow>> {
    Ok(diesel::sql_query(ATTENTION_SQL)
        .bind::<Array<diesel::sql_types::Uuid>, _>(meeting_ids)
        .load(conn)?)
}
