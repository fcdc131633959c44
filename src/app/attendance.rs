//! Attendance: door check-ins (rule 6) and the attendance report filed after a meeting, with
//! its corrections (rules 7 and 14). Check-ins are counters, not audited one by one (rule 10).
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::meetings::Expected;
use super::{elections, meetings, Result, Tx};
use crate::db::attendance::{
    self as db, Counted, Opinion, Report, ReportInsertForm, SiteAttendance,
};
use crate::db::meetings as meetings_db;
use crate::domain::attendance_report::{self as rule, Allowed, Reported};
use crate::domain::check_in::{self, Counter};
use crate::domain::problem::{Code, FieldErrors, Problem};
use crate::domain::scope::Caller;
use crate::domain::text;

/// A check-in as asked for: a site (none: the online block, or else the only site), a count.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// null or absent: the online block; for a meeting without one, its only site.
    pub site_id: Option<Uuid>,
    /// Non-zero; negative = people leaving.
    #[schema(minimum = -10000, maximum = 10000, default = 1)]
    pub count: Option<i32>,
}

/// Moves a counter; on refusal, explains why from the counter as it now stands.
pub fn check_in(tx: &mut Tx<'_>, who: &Caller, meeting_id: Uuid, req: &CheckIn) -> Result<Counted> {
    who.ensure_can_mutate()?;
    let count = match check_in::count(req.count) {
        Ok(count) => count,
        Err(refused) => {
            // Scope (rule 11) answers before the body is judged.
            let m =
                meetings_db::find(tx, meeting_id)?.ok_or_else(|| Problem::not_found("meeting"))?;
            who.ensure_reads_among(&m.reach)?;
            who.ensure_acts_among(&m.actors)?;
            return Err(refused.into());
        }
    };
    let now = tx.now();
    if let Some(counted) = db::check_in(tx, meeting_id, req.site_id, count, who.scope(), now)? {
        return Ok(counted);
    }
    let m = meetings_db::find(tx, meeting_id)?.ok_or_else(|| Problem::not_found("meeting"))?;
    who.ensure_reads_among(&m.reach)?;
    who.ensure_acts_among(&m.actors)?;
    let (present, capacity) = match req.site_id {
        Some(site) => db::site_counter(tx, meeting_id, site)?
            .ok_or_else(|| Problem::field("site_id", "no such site in this meeting"))?,
        None => match m.online_max_participants {
            Some(max) => (m.online_present, max),
            None => {
                // Without an online block, the meeting's only site is the one meant.
                let sites = meetings_db::sites_of(tx, &[meeting_id])?;
                let [only] = sites.as_slice() else {
                    return Err(Problem::field(
                        "site_id",
                        "this meeting has several sites: name one of them",
                    )
                    .into());
                };
                let site = Some(only.id);
                if let Some(counted) = db::check_in(tx, meeting_id, site, count, who.scope(), now)?
                {
                    return Ok(counted);
                }
                db::site_counter(tx, meeting_id, only.id)?
                    .ok_or_else(|| Problem::field("site_id", "no such site in this meeting"))?
            }
        },
    };
    let counter = Counter {
        status: m.status,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        present,
        capacity,
    };
    Err(check_in::refusal(&counter, count, now).into())
}

/// An attendance report as submitted.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AttendanceReportRequest)]
pub struct ReportRequest {
    /// Total attendances; equals the sites plus online.
    #[schema(minimum = 0)]
    pub attendees: i32,
    #[serde(default)]
    #[schema(default = json!([]))]
    pub sites: Vec<SiteAttendance>,
    #[schema(minimum = 0)]
    pub online_attendees: Option<i32>,
    #[schema(minimum = 0, maximum = 100000)]
    pub opinions_count: Option<i32>,
    #[serde(default)]
    #[schema(max_items = 10000, default = json!([]))]
    pub opinions: Vec<Opinion>,
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    /// Required to file again (a correction).
    #[schema(max_length = 1000)]
    pub correction_reason: Option<String>,
}

/// The request's own fields, checked before the meeting is consulted.
struct Submission {
    opinions: Vec<Opinion>,
    notes: Option<String>,
    correction_reason: Option<String>,
}

impl ReportRequest {
    fn parse(&self) -> std::result::Result<Submission, Problem> {
        let mut e = FieldErrors::new();
        let notes = e.take(
            "notes",
            text::optional_free_text(self.notes.as_deref(), 10_000),
        );
        let correction_reason = e.take(
            "correction_reason",
            text::optional_free_text(self.correction_reason.as_deref(), 1_000),
        );
        if self.opinions.len() > 10_000 {
            e.add("opinions", "at most 10000 opinions");
        }
        let mut opinions = Vec::with_capacity(self.opinions.len());
        for (i, o) in self.opinions.iter().enumerate() {
            let topic = e.take(
                &format!("opinions[{i}].topic"),
                text::optional_name(o.topic.as_deref(), 200),
            );
            let body = e.take(
                &format!("opinions[{i}].text"),
                text::optional_free_text(o.text.as_deref(), 10_000),
            );
            if let (Some(topic), Some(body)) = (topic, body) {
                if topic.is_none() && body.is_none() {
                    e.add(format!("opinions[{i}]"), "give a topic or a text");
                }
                opinions.push(Opinion { topic, text: body });
            }
        }
        if self
            .opinions_count
            .is_some_and(|n| !(0..=100_000).contains(&n))
        {
            e.add("opinions_count", "must be between 0 and 100000");
        }
        let (notes, correction_reason) = e.done(notes.zip(correction_reason))?;
        Ok(Submission {
            opinions,
            notes,
            correction_reason,
        })
    }
}

/// A correction names the revision it corrects (`If-Match`, SPEC §4), so that of several
/// corrections made from one reading exactly one wins; the check runs on the locked meeting.
fn ensure_revision(
    current: Option<i32>,
    expected: Option<Expected>,
) -> std::result::Result<(), Problem> {
    let stale = |detail: String| Problem::new(Code::VersionConflict, detail);
    match (expected, current) {
        (None, _) | (Some(Expected::Any), Some(_)) => Ok(()),
        (Some(Expected::Version(v)), Some(c)) if v == c => Ok(()),
        (Some(_), None) => Err(stale(
            "the meeting has no report yet; file it without If-Match".to_owned(),
        )),
        (Some(Expected::Version(v)), Some(c)) => Err(stale(format!(
            "the report is at revision {c}, not {v}; read it again and retry"
        ))),
    }
}

/// Files a meeting's report (revision 1) or a correction (the next revision, at the revision
/// `expected` names); returns it.
pub fn file_report(
    tx: &mut Tx<'_>,
    who: &Caller,
    meeting_id: Uuid,
    req: &ReportRequest,
    expected: Option<Expected>,
) -> Result<Report> {
    who.ensure_can_mutate()?;
    let (m, _) = meetings::lock_for_action(tx, who, meeting_id)?;
    let s = req.parse()?;
    ensure_revision(m.report_revision, expected)?;
    let election = elections::find(tx, m.election_id)?;
    let now = tx.now();
    let filing = rule::filing(
        &Reported {
            status: m.status,
            ends_at: m.ends_at,
            report_deadline_hours: election.report_deadline_hours,
            revision: m.report_revision,
            late: m.report_late,
        },
        s.correction_reason.is_some(),
        now,
    )?;
    let sites = meetings_db::sites_of(tx, &[meeting_id])?;
    let allowed = Allowed {
        sites: sites.iter().map(|x| (x.id, x.effective_capacity)).collect(),
        online_max: m.online_max_participants,
    };
    let counted = rule::Counted {
        attendees: req.attendees,
        sites: req.sites.iter().map(|x| (x.site_id, x.attendees)).collect(),
        online_attendees: req.online_attendees,
        opinions_count: req.opinions_count,
        opinions_listed: s.opinions.len(),
    };
    let opinions_count = rule::check(&allowed, &counted).map_err(Problem::from)?;
    // A correction's audit entry holds the revision it replaces (rule 10: before and after).
    let replaced = match filing.revision {
        1 => None,
        _ => db::revisions(tx, meeting_id)?.into_iter().next(),
    };
    let report = db::file(
        tx,
        ReportInsertForm {
            id: Uuid::now_v7(),
            province_id: m.province_id,
            meeting_id,
            revision: filing.revision,
            attendees: req.attendees,
            online_attendees: req.online_attendees,
            sites: serde_json::to_value(&req.sites).map_err(super::Error::internal)?,
            opinions_count,
            opinions: serde_json::to_value(&s.opinions).map_err(super::Error::internal)?,
            notes: s.notes,
            correction_reason: s.correction_reason,
            late: filing.late,
            filed_after_deadline: filing.filed_after_deadline,
            filed_at: now,
            filed_by: (!who.id.is_nil()).then_some(who.id),
        },
        &req.sites,
    )?;
    audit::record(
        tx,
        who,
        Change {
            action: if filing.revision == 1 {
                "file_report"
            } else {
                "correct_report"
            },
            entity_type: "attendance_report",
            entity_id: meeting_id,
            province_id: Some(m.province_id),
            before: replaced.as_ref().and_then(audit::json),
            after: Some(json!(report)),
        },
    )?;
    Ok(report)
}

/// A meeting's current report and its earlier revisions, newest first.
pub fn report(tx: &mut Tx<'_>, who: &Caller, meeting_id: Uuid) -> Result<(Report, Vec<Report>)> {
    meetings::find(tx, who, meeting_id)?;
    let mut revisions = db::revisions(tx, meeting_id)?.into_iter();
    let current = revisions
        .next()
        .ok_or_else(|| Problem::not_found("attendance report for this meeting"))?;
    Ok((current, revisions.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(current: Option<i32>, expected: Option<Expected>) -> Option<Code> {
        ensure_revision(current, expected).err().map(|p| p.code)
    }

    #[test]
    fn a_correction_names_the_revision_it_corrects() {
        assert_eq!(refused(None, None), None, "a first filing");
        assert_eq!(
            refused(Some(2), None),
            None,
            "If-Match is checked when sent (SPEC §4), not required"
        );
        assert_eq!(refused(Some(2), Some(Expected::Version(2))), None);
        assert_eq!(
            refused(Some(3), Some(Expected::Version(2))),
            Some(Code::VersionConflict)
        );
        assert_eq!(refused(Some(3), Some(Expected::Any)), None);
        assert_eq!(
            refused(None, Some(Expected::Any)),
            Some(Code::VersionConflict)
        );
    }
}
