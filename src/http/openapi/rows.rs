//! The schemas of the database rows the API sends as they are (`db::regions::Region`, …).
//! `src/db/` knows nothing of OpenAPI, so each row gets its schema from a mirror here, named
//! as the document names it; the tests below serialize a real row of each and check it
//! against its mirror, so a field added to a row and not here fails them.
use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::kinds::{
    AppliesTo, AttemptOutcome, Body, CandidateStatus, Combine, Format, IcsMethod, Level, Locale,
    OutboxKind, OutboxStatus, Role, Setting,
};

/// `impl ToSchema for $row` as `$mirror`'s schema, under `$mirror`'s name.
macro_rules! sent_as {
    ($($row:ty => $mirror:ty),+ $(,)?) => {$(
        impl utoipa::PartialSchema for $row {
            fn schema() -> RefOr<Schema> {
                <$mirror as utoipa::PartialSchema>::schema()
            }
        }

        impl ToSchema for $row {
            fn name() -> Cow<'static, str> {
                <$mirror as ToSchema>::name()
            }

            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                <$mirror as ToSchema>::schemas(schemas)
            }
        }
    )+};
}

sent_as!(
    crate::db::regions::Region => Region,
    crate::db::units::ElectoralUnit => ElectoralUnit,
    crate::db::candidates::Candidate => Candidate,
    crate::db::venues::Venue => Venue,
    crate::db::health_rules::HealthRule => HealthRule,
    crate::db::meetings::SiteRow => Site,
    crate::db::attendance::Counted => Counter,
    crate::db::attendance::Opinion => Opinion,
    crate::db::attendance::SiteAttendance => SiteAttendance,
    crate::db::attendance::Report => AttendanceReport,
    crate::db::outbox::OutboxEntry => OutboxEntry,
    crate::db::outbox::Attempt => DeliveryAttempt,
    crate::db::outbox::OutboxDetail => OutboxDetail,
    crate::db::audit::AuditEntry => AuditEntry,
    crate::db::tokens::Token => Token,
    crate::db::reports::Figures => Figures,
    crate::db::reports::Row => AttendanceRow,
    crate::db::reports::Overdue => OverdueMeeting,
    crate::db::reports::CandidateMeetings => CandidateMeetings,
    crate::db::reports::GroupBy => GroupBy,
);

#[derive(ToSchema)]
pub struct Region {
    pub id: Uuid,
    pub province_id: Uuid,
    #[schema(required = true)]
    pub parent_id: Option<Uuid>,
    pub level: Level,
    pub name: String,
    #[schema(required = true)]
    pub code: Option<String>,
    #[schema(required = true, format = Email)]
    pub contact_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct ElectoralUnit {
    pub id: Uuid,
    pub province_id: Uuid,
    pub election_id: Uuid,
    pub region_id: Uuid,
    pub name: String,
    pub body: Body,
    pub seats: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct Candidate {
    pub id: Uuid,
    pub province_id: Uuid,
    pub electoral_unit_id: Uuid,
    pub full_name: String,
    #[schema(format = Email)]
    pub email: String,
    pub locale: Locale,
    pub status: CandidateStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct Venue {
    pub id: Uuid,
    pub province_id: Uuid,
    pub region_id: Uuid,
    pub name: String,
    pub address: String,
    pub capacity: i32,
    #[schema(required = true)]
    pub area_m2: Option<f64>,
    pub setting: Setting,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct HealthRule {
    pub id: Uuid,
    pub province_id: Uuid,
    pub region_id: Uuid,
    pub effective_from: DateTime<Utc>,
    #[schema(required = true)]
    pub effective_until: Option<DateTime<Utc>>,
    pub applies_to: AppliesTo,
    #[schema(required = true)]
    pub max_attendees: Option<i32>,
    #[schema(required = true)]
    pub max_occupancy_percent: Option<i32>,
    #[schema(required = true)]
    pub min_area_per_person_m2: Option<f64>,
    pub combine: Combine,
    #[schema(required = true)]
    pub reference: Option<String>,
    pub in_person_allowed: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct Site {
    pub id: Uuid,
    pub venue_id: Uuid,
    pub expected_attendees: i32,
    pub effective_capacity: i32,
    #[schema(required = true)]
    pub binding_rule_id: Option<Uuid>,
    /// People in the room now.
    pub present: i32,
    /// Cumulative check-ins.
    pub admitted: i32,
    /// Present once an attendance report is filed.
    #[schema(required = false, nullable = false)]
    pub reported_attendees: Option<i32>,
}

#[derive(ToSchema)]
pub struct Counter {
    #[schema(required = true)]
    pub site_id: Option<Uuid>,
    pub present: i32,
    pub admitted: i32,
    pub capacity: i32,
}

/// One opinion or recommendation: a topic, a text, or both (an entry with neither is refused).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct Opinion {
    #[schema(max_length = 200)]
    pub topic: Option<String>,
    #[schema(max_length = 10000)]
    pub text: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteAttendance {
    pub site_id: Uuid,
    #[schema(minimum = 0)]
    pub attendees: i32,
}

#[derive(ToSchema)]
pub struct AttendanceReport {
    pub id: Uuid,
    pub meeting_id: Uuid,
    #[schema(minimum = 1)]
    pub revision: i32,
    pub attendees: i32,
    #[schema(required = true)]
    pub online_attendees: Option<i32>,
    pub sites: Vec<SiteAttendance>,
    pub opinions_count: i32,
    pub opinions: Vec<Opinion>,
    #[schema(required = true)]
    pub notes: Option<String>,
    #[schema(required = true)]
    pub correction_reason: Option<String>,
    /// The meeting's report came after the election's report_deadline_hours past its end:
    /// the first revision's lateness, which a correction keeps.
    pub late: bool,
    /// This revision itself came after the deadline.
    pub filed_after_deadline: bool,
    pub filed_at: DateTime<Utc>,
    /// The token that filed it.
    #[schema(required = true)]
    pub filed_by: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub province_id: Uuid,
    pub kind: OutboxKind,
    #[schema(format = Email)]
    pub recipient: String,
    #[schema(required = true)]
    pub recipient_name: Option<String>,
    #[schema(required = true)]
    pub candidate_id: Option<Uuid>,
    pub subject: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub outcome: AttemptOutcome,
    #[schema(required = true)]
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxDetail {
    #[serde(flatten)]
    pub entry: OutboxEntry,
    pub body_text: String,
    pub body_html: String,
    /// The iCalendar attachment, if any.
    #[schema(required = true)]
    pub ics: Option<String>,
    /// The attachment's iTIP method, if any.
    #[schema(required = true)]
    pub ics_method: Option<IcsMethod>,
    pub delivery_attempts: Vec<DeliveryAttempt>,
}

#[derive(ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    #[schema(required = true)]
    pub province_id: Option<Uuid>,
    /// The token that made the change.
    #[schema(required = true)]
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    #[schema(examples("create", "update", "cancel"))]
    pub action: String,
    #[schema(examples("meeting", "health_rule"))]
    pub entity_type: String,
    pub entity_id: Uuid,
    /// The record before the change; null for creations.
    #[schema(required = true)]
    pub before: Option<serde_json::Value>,
    /// The record after the change.
    #[schema(required = true)]
    pub after: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

/// A token as admins see it: never the secret.
#[derive(ToSchema)]
pub struct Token {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    #[schema(required = true)]
    pub region_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Kept to the minute, not written on every request.
    #[schema(required = true)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Meetings (not cancelled), by format, cancelled ones, total attendances and report status.
#[derive(Serialize, ToSchema)]
pub struct Figures {
    pub meetings: i64,
    pub in_person: i64,
    pub online: i64,
    pub cancelled: i64,
    pub attendees: i64,
    pub reports_filed: i64,
    pub reports_late: i64,
    pub reports_overdue: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AttendanceRow {
    /// Region, unit or candidate id, or the day (YYYY-MM-DD in the election's time zone).
    pub key: String,
    pub label: String,
    /// Region level, unit body or candidate status.
    #[schema(required = false, nullable = false)]
    pub kind: Option<String>,
    /// The parent region, or the candidate's unit.
    #[schema(required = false, nullable = false)]
    pub parent: Option<String>,
    /// The parent's name: the region above, the unit's region, the candidate's unit.
    #[schema(required = false, nullable = false)]
    pub parent_name: Option<String>,
    /// The region of a candidate's unit.
    #[schema(required = false, nullable = false)]
    pub region_name: Option<String>,
    /// A region row's level.
    #[schema(required = false, nullable = false)]
    pub level: Option<Level>,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(ToSchema)]
pub struct OverdueMeeting {
    pub meeting_id: Uuid,
    pub title: String,
    pub format: Format,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub report_due_at: DateTime<Utc>,
    pub region_id: Uuid,
    pub region_name: String,
}

#[derive(ToSchema)]
pub struct CandidateMeetings {
    pub candidate_id: Uuid,
    pub full_name: String,
    pub electoral_unit_id: Uuid,
    pub electoral_unit: String,
    pub body: Body,
    /// Not cancelled.
    pub meetings_planned: i64,
    pub meetings_held: i64,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GroupBy {
    Region,
    ElectoralUnit,
    Candidate,
    Day,
}

/// `POST /health-rules`'s body: [`crate::app::health_rules::RuleFields`], which a PATCH sends
/// too, with what a new rule must have (its region and start) required and the defaults the
/// merge applies. A rule needs at least one limit (max_attendees, max_occupancy_percent,
/// min_area_per_person_m2) or in_person_allowed: false.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHealthRule {
    /// The rule applies to venues in this region's subtree.
    pub region_id: Uuid,
    #[schema(format = DateTime)]
    pub effective_from: String,
    /// Exclusive end; null = until further notice.
    #[schema(format = DateTime)]
    pub effective_until: Option<String>,
    #[schema(default = "any")]
    pub applies_to: Option<AppliesTo>,
    /// Absolute cap.
    #[schema(minimum = 0, maximum = 1000000)]
    pub max_attendees: Option<i32>,
    /// Percent of the venue's capacity, rounded down.
    #[schema(minimum = 1, maximum = 100)]
    pub max_occupancy_percent: Option<i32>,
    /// Needs the venue's area_m2; rounded down.
    #[schema(exclusive_minimum = 0, maximum = 10000)]
    pub min_area_per_person_m2: Option<f64>,
    /// min: the lowest of this rule's limits holds; max: the greatest does ("whichever is
    /// greater").
    #[schema(default = "min")]
    pub combine: Option<Combine>,
    /// E.g. the directive's number.
    #[schema(max_length = 200)]
    pub reference: Option<String>,
    /// false bans gatherings: only online meetings.
    #[schema(default = true)]
    pub in_person_allowed: Option<bool>,
}
