//! Attendance: live check-in counters and the attendance reports filed after a meeting.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Nullable, Timestamptz, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::schema::{attendance_reports, meeting_sites, meetings};
use crate::error::ApiError;

/// A counter after a check-in.
#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Counter {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub site_id: Option<Uuid>,
    #[diesel(sql_type = Int4)]
    pub present: i32,
    #[diesel(sql_type = Int4)]
    pub admitted: i32,
    #[diesel(sql_type = Int4)]
    pub capacity: i32,
}

/// One conditional UPDATE: the counter moves only if the meeting is planned, check-in is
/// open, the caller's scope reaches the meeting, `present` stays at or above zero and an
/// arrival keeps it within capacity (people may always leave, even from a room whose
/// capacity a new rule lowered below the people in it).
/// `None` means nothing moved; [`why_not_counted`] says why.
const SITE_CHECKIN: &str = "\
UPDATE meeting_sites s
   SET present = s.present + $3, admitted = s.admitted + greatest($3, 0)
  FROM meetings m
 WHERE s.id = $2 AND s.meeting_id = $1 AND m.id = s.meeting_id
   AND m.status = 'planned'
   AND $5 >= m.starts_at - interval '1 hour' AND $5 < m.ends_at
   AND ($4::uuid[] IS NULL OR m.region_path @> $4)
   AND s.present + $3 >= 0 AND ($3 < 0 OR s.present + $3 <= s.effective_capacity)
RETURNING s.id AS site_id, s.present, s.admitted, s.effective_capacity AS capacity";

const ONLINE_CHECKIN: &str = "\
UPDATE meetings m
   SET online_present = m.online_present + $2, online_admitted = m.online_admitted + greatest($2, 0)
 WHERE m.id = $1 AND m.format = 'online'
   AND m.status = 'planned'
   AND $4 >= m.starts_at - interval '1 hour' AND $4 < m.ends_at
   AND ($3::uuid[] IS NULL OR m.region_path @> $3)
   AND m.online_present + $2 >= 0 AND ($2 < 0 OR m.online_present + $2 <= m.online_max_participants)
RETURNING NULL::uuid AS site_id, m.online_present AS present, m.online_admitted AS admitted,
          m.online_max_participants AS capacity";

/// Moves a site's counter (or the online block's, with `site_id` None) by `count`, as of `now`.
pub fn check_in(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    site_id: Option<Uuid>,
    count: i32,
    scope: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<Option<Counter>> {
    let scope = scope.map(|s| vec![s]);
    match site_id {
        Some(site) => diesel::sql_query(SITE_CHECKIN)
            .bind::<SqlUuid, _>(meeting_id)
            .bind::<SqlUuid, _>(site)
            .bind::<Int4, _>(count)
            .bind::<Nullable<Array<SqlUuid>>, _>(scope)
            .bind::<Timestamptz, _>(now)
            .get_result(conn)
            .optional(),
        None => diesel::sql_query(ONLINE_CHECKIN)
            .bind::<SqlUuid, _>(meeting_id)
            .bind::<Int4, _>(count)
            .bind::<Nullable<Array<SqlUuid>>, _>(scope)
            .bind::<Timestamptz, _>(now)
            .get_result(conn)
            .optional(),
    }
}

/// Explains a check-in that moved nothing, reading the meeting as it is now.
pub fn why_not_counted(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    site_id: Option<Uuid>,
    count: i32,
    can_read: impl Fn(&[Uuid]) -> bool,
    now: DateTime<Utc>,
) -> Result<ApiError, ApiError> {
    let m = crate::db::meetings::find(conn, meeting_id)?;
    if !can_read(&m.region_path) {
        return Ok(ApiError::forbidden("this meeting is outside your region"));
    }
    if m.status != "planned" {
        return Ok(ApiError::conflict(
            "meeting_not_planned",
            format!(
                "the meeting is {}; check-ins are only for planned meetings",
                m.status
            ),
        ));
    }
    if now < m.starts_at - chrono::Duration::hours(1) || now >= m.ends_at {
        return Ok(ApiError::unprocessable(
            "outside_checkin_window",
            format!(
                "check-in is open from one hour before the start ({}) until the end ({})",
                m.starts_at.to_rfc3339(),
                m.ends_at.to_rfc3339()
            ),
        ));
    }
    let (present, capacity) = match site_id {
        Some(site) => {
            let row: Option<(i32, i32)> = meeting_sites::table
                .filter(meeting_sites::id.eq(site))
                .filter(meeting_sites::meeting_id.eq(meeting_id))
                .select((meeting_sites::present, meeting_sites::effective_capacity))
                .first(conn)
                .optional()?;
            match row {
                Some(r) => r,
                None => return Ok(ApiError::field("site_id", "no such site in this meeting")),
            }
        }
        None => match m.online_max_participants {
            Some(max) => (m.online_present, max),
            None => {
                return Ok(ApiError::field(
                    "site_id",
                    "this meeting is not online: name one of its sites",
                ))
            }
        },
    };
    if present + count < 0 {
        return Ok(ApiError::field(
            "count",
            format!("only {present} people are present; {} cannot leave", -count),
        ));
    }
    Ok(ApiError::conflict(
        "capacity_reached",
        format!("{present} of {capacity} places are taken; {count} more do not fit"),
    )
    .with(serde_json::json!({"present": present, "capacity": capacity})))
}

/// One opinion or recommendation voters raised.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opinion {
    pub topic: Option<String>,
    pub text: Option<String>,
}

/// Attendances at one site, as reported.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteAttendance {
    pub site_id: Uuid,
    pub attendees: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = attendance_reports)]
pub struct Report {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub revision: i32,
    pub attendees: i32,
    pub online_attendees: Option<i32>,
    pub sites: serde_json::Value,
    pub opinions_count: i32,
    pub opinions: serde_json::Value,
    pub notes: Option<String>,
    pub correction_reason: Option<String>,
    pub late: bool,
    pub filed_at: DateTime<Utc>,
    pub filed_by: Option<Uuid>,
}

#[derive(Insertable)]
#[diesel(table_name = attendance_reports)]
pub struct ReportInsertForm {
    pub id: Uuid,
    pub province_id: Uuid,
    pub meeting_id: Uuid,
    pub revision: i32,
    pub attendees: i32,
    pub online_attendees: Option<i32>,
    pub sites: serde_json::Value,
    pub opinions_count: i32,
    pub opinions: serde_json::Value,
    pub notes: Option<String>,
    pub correction_reason: Option<String>,
    pub late: bool,
    pub filed_at: DateTime<Utc>,
    pub filed_by: Option<Uuid>,
}

/// Stores a revision and makes it the meeting's current report: the meeting is `held`,
/// and its per-site and online numbers are what roll-ups read.
pub fn file(
    conn: &mut PgConnection,
    form: ReportInsertForm,
    per_site: &[SiteAttendance],
) -> Result<Report, ApiError> {
    let report = diesel::insert_into(attendance_reports::table)
        .values(&form)
        .returning(Report::as_returning())
        .get_result(conn)?;
    for s in per_site {
        diesel::update(
            meeting_sites::table
                .filter(meeting_sites::id.eq(s.site_id))
                .filter(meeting_sites::meeting_id.eq(form.meeting_id)),
        )
        .set(meeting_sites::reported_attendees.eq(s.attendees))
        .execute(conn)?;
    }
    let first = form.revision == 1;
    diesel::update(meetings::table.find(form.meeting_id))
        .set((
            meetings::status.eq("held"),
            meetings::reported_attendees.eq(form.attendees),
            meetings::reported_online_attendees.eq(form.online_attendees),
            meetings::report_revision.eq(form.revision),
            meetings::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    if first {
        // Lateness and the filing time are the first filing's: a correction does not make
        // an on-time report late.
        diesel::update(meetings::table.find(form.meeting_id))
            .set((
                meetings::report_filed_at.eq(report.filed_at),
                meetings::report_late.eq(report.late),
            ))
            .execute(conn)?;
    }
    Ok(report)
}

/// Every revision of a meeting's report, newest first.
pub fn revisions(conn: &mut PgConnection, meeting_id: Uuid) -> QueryResult<Vec<Report>> {
    attendance_reports::table
        .filter(attendance_reports::meeting_id.eq(meeting_id))
        .select(Report::as_select())
        .order(attendance_reports::revision.desc())
        .load(conn)
}
