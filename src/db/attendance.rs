//! Attendance: live check-in counters and the attendance reports filed after a meeting.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Timestamptz, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::schema::{attendance_reports, meeting_sites, meetings};
use crate::error::ApiError;

/// A counter after a check-in.
#[derive(Debug, Clone, Serialize)]
pub struct Counter {
    pub site_id: Option<Uuid>,
    pub present: i32,
    pub admitted: i32,
    pub capacity: i32,
}

diesel::define_sql_function! {
    /// See migration `000005_checkin_functions`.
    fn check_in_site(meeting: SqlUuid, site: SqlUuid, count: Int4, scope: Array<SqlUuid>, now: Timestamptz) -> Nullable<Array<Int4>>;
}

diesel::define_sql_function! {
    /// See migration `000005_checkin_functions`.
    fn check_in_online(meeting: SqlUuid, count: Int4, scope: Array<SqlUuid>, now: Timestamptz) -> Nullable<Array<Int4>>;
}

/// Moves a site's counter (or the online block's, with `site_id` None) by `count`, as of
/// `now`, with one conditional UPDATE (the functions of migration
/// `000005_checkin_functions`). `None` means nothing moved; [`why_not_counted`] says why.
pub fn check_in(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    site_id: Option<Uuid>,
    count: i32,
    scope: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<Option<Counter>> {
    // No scope: an empty array, which every region path contains.
    let scope: Vec<Uuid> = scope.into_iter().collect();
    let counted: Option<Vec<i32>> = match site_id {
        Some(site) => {
            diesel::select(check_in_site(meeting_id, site, count, scope, now)).get_result(conn)?
        }
        None => diesel::select(check_in_online(meeting_id, count, scope, now)).get_result(conn)?,
    };
    match counted.as_deref() {
        None => Ok(None),
        Some(&[present, admitted, capacity]) => Ok(Some(Counter {
            site_id,
            present,
            admitted,
            capacity,
        })),
        Some(other) => Err(diesel::result::Error::DeserializationError(
            format!("a check-in function returned {other:?}").into(),
        )),
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
