//! Attendance: live check-in counters and the attendance reports filed after a meeting.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Nullable, Timestamptz, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::{attendance_reports, meeting_sites, meetings};
use super::{DbError, DbResult};
use crate::domain::kinds::MeetingStatus;

/// A counter after a check-in.
#[derive(Debug, Clone, Serialize)]
pub struct Counted {
    pub site_id: Option<Uuid>,
    pub present: i32,
    pub admitted: i32,
    pub capacity: i32,
}

diesel::define_sql_function! {
    /// See migration `000013_composite_keys`.
    fn check_in_site(province: Nullable<SqlUuid>, meeting: SqlUuid, site: SqlUuid, count: Int4, scope: Array<SqlUuid>, now: Timestamptz) -> Nullable<Array<Int4>>;
}

diesel::define_sql_function! {
    /// See migration `000013_composite_keys`.
    fn check_in_online(province: Nullable<SqlUuid>, meeting: SqlUuid, count: Int4, scope: Array<SqlUuid>, now: Timestamptz) -> Nullable<Array<Int4>>;
}

/// Moves a site's counter (or the online block's, with `site_id` None) by `count`, as of
/// `now`, for a caller whose scope is `scope` (None: everywhere), with one conditional UPDATE.
/// `None` means nothing moved.
pub fn check_in(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    site_id: Option<Uuid>,
    count: i32,
    scope: Option<Uuid>,
    now: DateTime<Utc>,
) -> DbResult<Option<Counted>> {
    // No scope: an empty array, which the functions read as an admin's.
    let scope: Vec<Uuid> = scope.into_iter().collect();
    // The meeting's province, found in the same statement: the functions name it in every
    // table they touch, so that on Citus the UPDATE goes to one shard. No such meeting: NULL,
    // and nothing moves.
    let province = meetings::table
        .filter(meetings::id.eq(meeting_id))
        .select(meetings::province_id)
        .single_value();
    let counted: Option<Vec<i32>> = match site_id {
        Some(site) => diesel::select(check_in_site(province, meeting_id, site, count, scope, now))
            .get_result(conn)?,
        None => diesel::select(check_in_online(province, meeting_id, count, scope, now))
            .get_result(conn)?,
    };
    match counted.as_deref() {
        None => Ok(None),
        Some(&[present, admitted, capacity]) => Ok(Some(Counted {
            site_id,
            present,
            admitted,
            capacity,
        })),
        Some(other) => Err(DbError::Other(anyhow::anyhow!(
            "a check-in function returned {other:?}"
        ))),
    }
}

/// A site's counter as it stands: `(present, effective_capacity)`.
pub fn site_counter(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    site_id: Uuid,
) -> DbResult<Option<(i32, i32)>> {
    Ok(meeting_sites::table
        .filter(meeting_sites::id.eq(site_id))
        .filter(meeting_sites::meeting_id.eq(meeting_id))
        .select((meeting_sites::present, meeting_sites::effective_capacity))
        .first(conn)
        .optional()?)
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
    pub filed_after_deadline: bool,
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
    pub filed_after_deadline: bool,
    pub filed_at: DateTime<Utc>,
    pub filed_by: Option<Uuid>,
}

/// Stores a revision and makes it the meeting's current report: the meeting is `held`, and
/// its per-site and online numbers are what roll-ups read. The unique revision number refuses
/// a concurrent first filing (`attendance_reports_revision_unique`).
pub fn file(
    conn: &mut PgConnection,
    form: ReportInsertForm,
    per_site: &[SiteAttendance],
) -> DbResult<Report> {
    let report = diesel::insert_into(attendance_reports::table)
        .values(&form)
        .returning(Report::as_returning())
        .get_result(conn)?;
    for s in per_site {
        diesel::update(
            meeting_sites::table
                .filter(meeting_sites::province_id.eq(form.province_id))
                .filter(meeting_sites::id.eq(s.site_id))
                .filter(meeting_sites::meeting_id.eq(form.meeting_id)),
        )
        .set(meeting_sites::reported_attendees.eq(s.attendees))
        .execute(conn)?;
    }
    diesel::update(meetings::table.find((form.meeting_id, form.province_id)))
        .set((
            meetings::status.eq(MeetingStatus::Held),
            meetings::reported_attendees.eq(form.attendees),
            meetings::reported_online_attendees.eq(form.online_attendees),
            meetings::report_revision.eq(form.revision),
            meetings::report_late.eq(form.late),
            meetings::updated_at.eq(form.filed_at),
        ))
        .execute(conn)?;
    if form.revision == 1 {
        diesel::update(meetings::table.find((form.meeting_id, form.province_id)))
            .set(meetings::report_filed_at.eq(report.filed_at))
            .execute(conn)?;
    }
    Ok(report)
}

/// Every revision of a meeting's report, newest first.
pub fn revisions(conn: &mut PgConnection, meeting_id: Uuid) -> DbResult<Vec<Report>> {
    Ok(attendance_reports::table
        .filter(attendance_reports::meeting_id.eq(meeting_id))
        .select(Report::as_select())
        .order(attendance_reports::revision.desc())
        .load(conn)?)
}
