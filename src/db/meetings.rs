//! Meetings, their electoral units, candidates and sites.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::Bound;
use uuid::Uuid;

use crate::db::schema::{meeting_candidates, meeting_sites, meeting_units, meetings};
use crate::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub id: Uuid,
    pub province_id: Uuid,
    pub election_id: Uuid,
    pub region_path: Vec<Uuid>,
    pub format: String,
    pub title: String,
    pub chair_name: Option<String>,
    pub chair_role: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
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

#[derive(Debug, Clone, Serialize)]
pub struct Chair {
    pub name: String,
    pub role: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OnlineView {
    pub platform: Option<String>,
    pub join_url: Option<String>,
    pub max_participants: i32,
    pub expected_attendees: i32,
    pub present: i32,
    pub admitted: i32,
}

/// A meeting as clients see it (SPEC §4).
#[derive(Debug, Clone, Serialize)]
pub struct MeetingView {
    pub id: Uuid,
    pub election_id: Uuid,
    pub province_id: Uuid,
    pub region_id: Option<Uuid>,
    pub electoral_unit_ids: Vec<Uuid>,
    pub format: String,
    pub title: String,
    pub chair: Option<Chair>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub candidate_ids: Vec<Uuid>,
    pub sites: Vec<SiteRow>,
    pub online: Option<OnlineView>,
    pub capacity: i32,
    pub needs_attention: bool,
    pub attention: serde_json::Value,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<MeetingRow, ApiError> {
    meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("meeting"))
}

/// Locks the meeting row for a change in this transaction.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> Result<MeetingRow, ApiError> {
    meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("meeting"))
}

pub fn sites_of(conn: &mut PgConnection, meeting_ids: &[Uuid]) -> QueryResult<Vec<SiteRow>> {
    meeting_sites::table
        .filter(meeting_sites::meeting_id.eq_any(meeting_ids))
        .select(SiteRow::as_select())
        .order((meeting_sites::meeting_id, meeting_sites::id))
        .load(conn)
}

/// Builds the views of many meetings with three queries in all, not three per meeting.
pub fn views(conn: &mut PgConnection, rows: Vec<MeetingRow>) -> Result<Vec<MeetingView>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut units: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (m, u) in meeting_units::table
        .filter(meeting_units::meeting_id.eq_any(&ids))
        .select((meeting_units::meeting_id, meeting_units::electoral_unit_id))
        .order((meeting_units::meeting_id, meeting_units::electoral_unit_id))
        .load::<(Uuid, Uuid)>(conn)?
    {
        units.entry(m).or_default().push(u);
    }
    // A meeting's candidates are its active links; a cancelled meeting keeps all of its own.
    let cancelled: Vec<Uuid> = rows
        .iter()
        .filter(|m| m.status == "cancelled")
        .map(|m| m.id)
        .collect();
    let mut candidates: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (m, c, active) in meeting_candidates::table
        .filter(meeting_candidates::meeting_id.eq_any(&ids))
        .select((
            meeting_candidates::meeting_id,
            meeting_candidates::candidate_id,
            meeting_candidates::active,
        ))
        .order((
            meeting_candidates::meeting_id,
            meeting_candidates::candidate_id,
        ))
        .load::<(Uuid, Uuid, bool)>(conn)?
    {
        if active || cancelled.contains(&m) {
            candidates.entry(m).or_default().push(c);
        }
    }
    let mut sites: HashMap<Uuid, Vec<SiteRow>> = HashMap::new();
    for s in sites_of(conn, &ids)? {
        sites.entry(s.meeting_id).or_default().push(s);
    }
    Ok(rows
        .into_iter()
        .map(|m| {
            let sites = sites.remove(&m.id).unwrap_or_default();
            view(
                m.clone(),
                units.remove(&m.id).unwrap_or_default(),
                candidates.remove(&m.id).unwrap_or_default(),
                sites,
            )
        })
        .collect())
}

pub fn view_one(conn: &mut PgConnection, row: MeetingRow) -> Result<MeetingView, ApiError> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("meeting view went missing")))
}

fn view(
    m: MeetingRow,
    units: Vec<Uuid>,
    candidates: Vec<Uuid>,
    sites: Vec<SiteRow>,
) -> MeetingView {
    let online = match (m.online_max_participants, m.online_expected_attendees) {
        (Some(max), Some(expected)) => Some(OnlineView {
            platform: m.online_platform,
            join_url: m.online_join_url,
            max_participants: max,
            expected_attendees: expected,
            present: m.online_present,
            admitted: m.online_admitted,
        }),
        _ => None,
    };
    let capacity = sites.iter().map(|s| s.effective_capacity).sum::<i32>()
        + online.as_ref().map_or(0, |o| o.max_participants);
    MeetingView {
        id: m.id,
        election_id: m.election_id,
        province_id: m.province_id,
        region_id: m.region_path.last().copied(),
        electoral_unit_ids: units,
        format: m.format,
        title: m.title,
        chair: m.chair_name.map(|name| Chair {
            name,
            role: m.chair_role,
        }),
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        status: m.status,
        cancel_reason: m.cancel_reason,
        candidate_ids: candidates,
        sites,
        online,
        capacity,
        needs_attention: m.needs_attention,
        attention: m.attention,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
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
    pub format: String,
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

pub fn insert(conn: &mut PgConnection, form: &MeetingInsertForm) -> QueryResult<()> {
    diesel::insert_into(meetings::table)
        .values(form)
        .execute(conn)
        .map(|_| ())
}

pub fn update(conn: &mut PgConnection, id: Uuid, form: &MeetingFields) -> QueryResult<()> {
    diesel::update(meetings::table.find(id))
        .set((
            form,
            meetings::version.eq(meetings::version + 1),
            meetings::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn insert_units(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    province_id: Uuid,
    unit_ids: &[Uuid],
) -> QueryResult<()> {
    let rows: Vec<_> = unit_ids
        .iter()
        .map(|u| {
            (
                meeting_units::meeting_id.eq(meeting_id),
                meeting_units::electoral_unit_id.eq(*u),
                meeting_units::province_id.eq(province_id),
            )
        })
        .collect();
    diesel::insert_into(meeting_units::table)
        .values(rows)
        .execute(conn)
        .map(|_| ())
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
) -> QueryResult<()> {
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
    diesel::sql_query("SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k")
        .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(keys)
        .execute(conn)
        .map(|_| ())
}

/// Books the candidates: each is busy from the start until `busy_until` (the end plus the
/// travel buffer). The exclusion constraint `meeting_candidates_no_overlap` refuses overlaps.
/// A candidate taken off the meeting keeps an inactive link, so their calendar hears of it.
pub fn book_candidates(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    province_id: Uuid,
    new_meeting: bool,
    candidate_ids: &[Uuid],
    starts_at: DateTime<Utc>,
    busy_until: DateTime<Utc>,
) -> QueryResult<()> {
    if !new_meeting {
        diesel::update(
            meeting_candidates::table
                .filter(meeting_candidates::meeting_id.eq(meeting_id))
                .filter(meeting_candidates::candidate_id.ne_all(candidate_ids)),
        )
        .set(meeting_candidates::active.eq(false))
        .execute(conn)?;
    }
    let rows: Vec<_> = candidate_ids
        .iter()
        .map(|c| {
            (
                meeting_candidates::meeting_id.eq(meeting_id),
                meeting_candidates::candidate_id.eq(*c),
                meeting_candidates::province_id.eq(province_id),
                meeting_candidates::busy.eq(range(starts_at, busy_until)),
                meeting_candidates::active.eq(true),
            )
        })
        .collect();
    if new_meeting {
        // A plain insert: an upsert's speculative insertion can deadlock against a
        // concurrent insert into the exclusion constraint.
        return diesel::insert_into(meeting_candidates::table)
            .values(rows)
            .execute(conn)
            .map(|_| ());
    }
    diesel::insert_into(meeting_candidates::table)
        .values(rows)
        .on_conflict((
            meeting_candidates::meeting_id,
            meeting_candidates::candidate_id,
        ))
        .do_update()
        .set((
            meeting_candidates::busy.eq(diesel::upsert::excluded(meeting_candidates::busy)),
            meeting_candidates::active.eq(true),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A site to write: the venue, who is expected, and what the rules allow.
pub struct SiteBooking {
    pub venue_id: Uuid,
    pub expected_attendees: i32,
    pub effective_capacity: i32,
    pub binding_rule_id: Option<Uuid>,
}

/// Books the venues; `booked` are the venues the meeting had. A site whose venue stays
/// keeps its id and live counters (and is updated with [`update_site`]); others are
/// removed or added. The exclusion constraint
/// `meeting_sites_no_overlap` refuses double bookings.
pub fn book_sites(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    province_id: Uuid,
    booked: &[Uuid],
    sites: &[SiteBooking],
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> QueryResult<()> {
    let venue_ids: Vec<Uuid> = sites.iter().map(|s| s.venue_id).collect();
    if booked.iter().any(|v| !venue_ids.contains(v)) {
        diesel::delete(
            meeting_sites::table
                .filter(meeting_sites::meeting_id.eq(meeting_id))
                .filter(meeting_sites::venue_id.ne_all(&venue_ids)),
        )
        .execute(conn)?;
    }
    let kept = booked;
    for s in sites {
        if kept.contains(&s.venue_id) {
            update_site(conn, meeting_id, s, starts_at, ends_at)?;
            continue;
        }
        diesel::insert_into(meeting_sites::table)
            .values((
                meeting_sites::id.eq(Uuid::now_v7()),
                meeting_sites::meeting_id.eq(meeting_id),
                meeting_sites::province_id.eq(province_id),
                meeting_sites::venue_id.eq(s.venue_id),
                meeting_sites::expected_attendees.eq(s.expected_attendees),
                meeting_sites::effective_capacity.eq(s.effective_capacity),
                meeting_sites::binding_rule_id.eq(s.binding_rule_id),
                meeting_sites::during.eq(range(starts_at, ends_at)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Updates an existing site's plan in place (rescheduling, new numbers).
fn update_site(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    s: &SiteBooking,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        meeting_sites::table
            .filter(meeting_sites::meeting_id.eq(meeting_id))
            .filter(meeting_sites::venue_id.eq(s.venue_id)),
    )
    .set((
        meeting_sites::expected_attendees.eq(s.expected_attendees),
        meeting_sites::effective_capacity.eq(s.effective_capacity),
        meeting_sites::binding_rule_id.eq(s.binding_rule_id),
        meeting_sites::during.eq(range(starts_at, ends_at)),
    ))
    .execute(conn)
}

/// Frees a cancelled meeting's candidates and venues.
pub fn release(conn: &mut PgConnection, meeting_id: Uuid) -> QueryResult<()> {
    diesel::update(meeting_candidates::table.filter(meeting_candidates::meeting_id.eq(meeting_id)))
        .set(meeting_candidates::active.eq(false))
        .execute(conn)?;
    diesel::update(meeting_sites::table.filter(meeting_sites::meeting_id.eq(meeting_id)))
        .set(meeting_sites::active.eq(false))
        .execute(conn)?;
    Ok(())
}

/// The meeting already holding a candidate over `busy` (for the detail of a 409).
pub fn candidate_clash(
    conn: &mut PgConnection,
    candidate_ids: &[Uuid],
    busy: (Bound<DateTime<Utc>>, Bound<DateTime<Utc>>),
    except: Uuid,
) -> QueryResult<Option<(Uuid, Uuid)>> {
    meeting_candidates::table
        .filter(meeting_candidates::candidate_id.eq_any(candidate_ids))
        .filter(meeting_candidates::active)
        .filter(meeting_candidates::meeting_id.ne(except))
        .filter(meeting_candidates::busy.overlaps_with(busy))
        .select((
            meeting_candidates::meeting_id,
            meeting_candidates::candidate_id,
        ))
        .first(conn)
        .optional()
}

/// The meeting already holding a venue over `during` (for the detail of a 409).
pub fn venue_clash(
    conn: &mut PgConnection,
    venue_ids: &[Uuid],
    during: (Bound<DateTime<Utc>>, Bound<DateTime<Utc>>),
    except: Uuid,
) -> QueryResult<Option<(Uuid, Uuid)>> {
    meeting_sites::table
        .filter(meeting_sites::venue_id.eq_any(venue_ids))
        .filter(meeting_sites::active)
        .filter(meeting_sites::meeting_id.ne(except))
        .filter(meeting_sites::during.overlaps_with(during))
        .select((meeting_sites::meeting_id, meeting_sites::venue_id))
        .first(conn)
        .optional()
}

pub struct MeetingFilter {
    pub scope: Option<Uuid>,
    pub election_id: Option<Uuid>,
    pub electoral_unit_id: Option<Uuid>,
    pub region_id: Option<Uuid>,
    pub candidate_id: Option<Uuid>,
    pub status: Option<String>,
    pub format: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub needs_attention: Option<bool>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Continue after this `(starts_at, id)`.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// Meetings in start order; `from`/`to` select meetings overlapping that period.
pub fn list(conn: &mut PgConnection, f: MeetingFilter) -> Result<Vec<MeetingRow>, ApiError> {
    let mut q = meetings::table.select(MeetingRow::as_select()).into_boxed();
    for r in [f.scope, f.region_id].into_iter().flatten() {
        q = q.filter(meetings::region_path.contains(vec![r]));
    }
    if let Some(e) = f.election_id {
        q = q.filter(meetings::election_id.eq(e));
    }
    if let Some(u) = f.electoral_unit_id {
        q = q.filter(diesel::dsl::exists(
            meeting_units::table
                .filter(meeting_units::meeting_id.eq(meetings::id))
                .filter(meeting_units::electoral_unit_id.eq(u)),
        ));
    }
    if let Some(c) = f.candidate_id {
        q = q.filter(diesel::dsl::exists(
            meeting_candidates::table
                .filter(meeting_candidates::meeting_id.eq(meetings::id))
                .filter(meeting_candidates::candidate_id.eq(c))
                .filter(meeting_candidates::active.or(meetings::status.eq("cancelled"))),
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

pub fn load_view(conn: &mut PgConnection, id: Uuid) -> Result<MeetingView, ApiError> {
    let row = find(conn, id)?;
    view_one(conn, row)
}
