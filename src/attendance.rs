//! Filing attendance reports (SPEC §3 rule 7): one transaction that checks the numbers
//! against the meeting and stores a new revision.
use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::auth::Caller;
use crate::db::attendance::{self as db, Opinion, Report, ReportInsertForm, SiteAttendance};
use crate::db::{elections, meetings};
use crate::domain::attendance::{check, Allowed, Counted, Rejection};
use crate::error::{ApiError, FieldError};

/// A report as submitted, each field individually valid.
#[derive(Debug, Clone)]
pub struct Submission {
    pub attendees: i32,
    pub sites: Vec<SiteAttendance>,
    pub online_attendees: Option<i32>,
    pub opinions_count: Option<i32>,
    pub opinions: Vec<Opinion>,
    pub notes: Option<String>,
    pub correction_reason: Option<String>,
}

/// Files a meeting's report (revision 1) or a correction (the next revision) at `now`.
/// Returns the stored revision.
pub fn file(
    conn: &mut PgConnection,
    who: &Caller,
    meeting_id: Uuid,
    s: Submission,
    now: DateTime<Utc>,
) -> Result<Report, ApiError> {
    let m = meetings::lock(conn, meeting_id)?;
    who.ensure_write(&m.region_path)?;
    if m.status == "cancelled" {
        return Err(ApiError::conflict(
            "meeting_cancelled",
            "the meeting was cancelled; there is no attendance to report",
        ));
    }
    if now < m.ends_at {
        return Err(ApiError::unprocessable(
            "meeting_not_ended",
            format!(
                "the meeting ends at {}; report its attendance after that",
                m.ends_at.to_rfc3339()
            ),
        ));
    }
    let revision = match (m.report_revision, &s.correction_reason) {
        (Some(_), None) => {
            return Err(ApiError::conflict(
                "report_exists",
                "this meeting already has a report; to correct it, send correction_reason",
            ))
        }
        (Some(current), Some(_)) => current + 1,
        (None, _) => 1,
    };
    let sites = meetings::sites_of(conn, &[meeting_id])?;
    let allowed = Allowed {
        sites: sites.iter().map(|x| (x.id, x.effective_capacity)).collect(),
        online_max: m.online_max_participants,
    };
    let counted = Counted {
        attendees: s.attendees,
        sites: s.sites.iter().map(|x| (x.site_id, x.attendees)).collect(),
        online_attendees: s.online_attendees,
        opinions_count: s.opinions_count,
        opinions_listed: s.opinions.len(),
    };
    let opinions_count = check(&allowed, &counted).map_err(|r| match r {
        Rejection::Invalid(fields) => ApiError::Invalid(
            fields
                .into_iter()
                .map(|(field, message)| FieldError { field, message })
                .collect(),
        ),
        Rejection::ExceedsCapacity(detail) => {
            ApiError::unprocessable("attendance_exceeds_capacity", detail)
        }
    })?;
    let election = elections::find_election(conn, m.election_id)?;
    let deadline = m.ends_at + Duration::hours(i64::from(election.report_deadline_hours));
    let report = db::file(
        conn,
        ReportInsertForm {
            id: Uuid::now_v7(),
            province_id: m.province_id,
            meeting_id,
            revision,
            attendees: s.attendees,
            online_attendees: s.online_attendees,
            sites: serde_json::to_value(&s.sites).map_err(ApiError::internal)?,
            opinions_count,
            opinions: serde_json::to_value(&s.opinions).map_err(ApiError::internal)?,
            notes: s.notes,
            correction_reason: s.correction_reason,
            late: now > deadline,
            filed_at: now,
            filed_by: Some(who.id),
        },
        &s.sites,
    )?;
    audit::record(
        conn,
        who,
        Change {
            action: if revision == 1 {
                "file_report"
            } else {
                "correct_report"
            },
            entity_type: "attendance_report",
            entity_id: meeting_id,
            province_id: Some(m.province_id),
            before: None,
            after: Some(json!(report)),
        },
    )?;
    Ok(report)
}
