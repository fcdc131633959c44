//! Roll-up reports, computed by SQL aggregation in the database: one query per report,
//! whatever the number of meetings.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use uuid::Uuid;

use super::DbResult;
use crate::domain::kinds::{Body, Level};

/// The meetings of an election inside a region subtree, with what each counts for.
/// `$1` election, `$2` region (NULL = everywhere), `$3` now. A report is overdue by the
/// deadline of `domain::attendance_report::deadline`.
const SCOPED_MEETINGS: &str = "\
WITH m AS (
  SELECT m.id, m.province_id, m.format, m.status, m.starts_at, m.reported_attendees, m.report_late,
         m.reach, e.timezone,
         m.status <> 'cancelled' AS counted,
         m.report_revision IS NOT NULL AS filed,
         (m.status <> 'cancelled' AND m.report_revision IS NULL
          AND m.ends_at + make_interval(hours => e.report_deadline_hours) < $3) AS overdue
    FROM meetings m JOIN elections e ON e.id = m.election_id
   WHERE m.election_id = $1 AND ($2::uuid IS NULL OR m.reach @> ARRAY[$2::uuid])
)";

/// The figures of one row; `m` is the scoped meeting (NULL in a left join with none).
const FIGURES: &str = "\
count(m.id) FILTER (WHERE m.counted) AS meetings,
count(m.id) FILTER (WHERE m.counted AND m.format = 'in_person') AS in_person,
count(m.id) FILTER (WHERE m.counted AND m.format = 'online') AS online,
count(m.id) FILTER (WHERE m.status = 'cancelled') AS cancelled,
coalesce(sum(m.reported_attendees) FILTER (WHERE m.counted), 0)::bigint AS attendees,
count(m.id) FILTER (WHERE m.filed) AS reports_filed,
count(m.id) FILTER (WHERE m.filed AND m.report_late) AS reports_late,
count(m.id) FILTER (WHERE m.overdue) AS reports_overdue";

/// What the rows of an attendance report stand for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    strum::EnumIter,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum GroupBy {
    Region,
    ElectoralUnit,
    Candidate,
    Day,
}

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Figures {
    #[diesel(sql_type = BigInt)]
    pub meetings: i64,
    #[diesel(sql_type = BigInt)]
    pub in_person: i64,
    #[diesel(sql_type = BigInt)]
    pub online: i64,
    #[diesel(sql_type = BigInt)]
    pub cancelled: i64,
    #[diesel(sql_type = BigInt)]
    pub attendees: i64,
    #[diesel(sql_type = BigInt)]
    pub reports_filed: i64,
    #[diesel(sql_type = BigInt)]
    pub reports_late: i64,
    #[diesel(sql_type = BigInt)]
    pub reports_overdue: i64,
}

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Row {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub label: String,
    /// Region level, unit body or candidate status: what kind of row this is.
    #[diesel(sql_type = Nullable<Text>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The parent region, or the candidate's unit.
    #[diesel(sql_type = Nullable<Text>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The parent's name: the region above, the unit's region, the candidate's unit.
    #[diesel(sql_type = Nullable<Text>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_name: Option<String>,
    /// The region of a candidate's unit.
    #[diesel(sql_type = Nullable<Text>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_name: Option<String>,
    /// A region row's level.
    #[diesel(sql_type = Nullable<Text>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[diesel(embed)]
    #[serde(flatten)]
    pub figures: Figures,
}

fn grouped_sql(by: GroupBy) -> String {
    let body = match by {
        // Rolled up the tree: a meeting counts under every region on the path of one of its
        // venues or units (its `reach`), once each.
        GroupBy::Region => "\
SELECT r.id::text AS key, r.name AS label, r.level AS kind, r.parent_id::text AS parent,
       pr.name AS parent_name, NULL::text AS region_name, r.level AS level, {F}
  FROM regions r
  LEFT JOIN regions pr ON pr.province_id = r.province_id AND pr.id = r.parent_id
  LEFT JOIN (SELECT p.region_id, m.* FROM m, unnest(m.reach) AS p(region_id)) m
         ON m.province_id = r.province_id AND m.region_id = r.id
 WHERE ($2::uuid IS NULL OR r.path @> ARRAY[$2::uuid])
 GROUP BY r.province_id, r.id, pr.name ORDER BY r.path",
        // A joint meeting counts once under each of its units.
        GroupBy::ElectoralUnit => "\
SELECT u.id::text AS key, u.name AS label, u.body AS kind, u.region_id::text AS parent,
       ur.name AS parent_name, ur.name AS region_name, NULL::text AS level, {F}
  FROM electoral_units u JOIN regions ur ON ur.province_id = u.province_id AND ur.id = u.region_id
  LEFT JOIN meeting_units mu ON mu.province_id = u.province_id AND mu.electoral_unit_id = u.id
  LEFT JOIN m ON m.province_id = mu.province_id AND m.id = mu.meeting_id
 WHERE u.election_id = $1
   AND ($2::uuid IS NULL OR ur.path @> ARRAY[$2::uuid] OR m.id IS NOT NULL)
 GROUP BY u.province_id, u.id, ur.name ORDER BY u.body, u.name, u.id",
        GroupBy::Candidate => "\
SELECT c.id::text AS key, c.full_name AS label, c.status AS kind, c.electoral_unit_id::text AS parent,
       u.name AS parent_name, ur.name AS region_name, NULL::text AS level, {F}
  FROM candidates c
  JOIN electoral_units u ON u.province_id = c.province_id AND u.id = c.electoral_unit_id
  JOIN regions ur ON ur.province_id = u.province_id AND ur.id = u.region_id
  LEFT JOIN meeting_candidates mc ON mc.province_id = c.province_id AND mc.candidate_id = c.id
  LEFT JOIN m ON m.province_id = mc.province_id AND m.id = mc.meeting_id
             AND (mc.active OR m.status = 'cancelled')
 WHERE u.election_id = $1
   AND ($2::uuid IS NULL OR ur.path @> ARRAY[$2::uuid] OR m.id IS NOT NULL)
 GROUP BY c.province_id, c.id, u.name, ur.name ORDER BY c.electoral_unit_id, c.full_name, c.id",
        // Days in the election's time zone.
        GroupBy::Day => "\
SELECT to_char(m.starts_at AT TIME ZONE m.timezone, 'YYYY-MM-DD') AS key,
       to_char(m.starts_at AT TIME ZONE m.timezone, 'YYYY-MM-DD') AS label,
       NULL::text AS kind, NULL::text AS parent, NULL::text AS parent_name,
       NULL::text AS region_name, NULL::text AS level, {F}
  FROM m GROUP BY 1 ORDER BY 1",
    };
    format!("{SCOPED_MEETINGS}\n{}", body.replace("{F}", FIGURES))
}

/// The rows of an attendance report.
pub fn attendance_rows(
    conn: &mut PgConnection,
    election_id: Uuid,
    region_id: Option<Uuid>,
    by: GroupBy,
    now: DateTime<Utc>,
) -> DbResult<Vec<Row>> {
    Ok(diesel::sql_query(grouped_sql(by))
        .bind::<SqlUuid, _>(election_id)
        .bind::<Nullable<SqlUuid>, _>(region_id)
        .bind::<Timestamptz, _>(now)
        .load(conn)?)
}

/// Totals over the scoped meetings, each counted once (joint meetings too).
pub fn attendance_totals(
    conn: &mut PgConnection,
    election_id: Uuid,
    region_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> DbResult<Figures> {
    Ok(
        diesel::sql_query(format!("{SCOPED_MEETINGS}\nSELECT {FIGURES} FROM m"))
            .bind::<SqlUuid, _>(election_id)
            .bind::<Nullable<SqlUuid>, _>(region_id)
            .bind::<Timestamptz, _>(now)
            .get_result(conn)?,
    )
}

/// Figures per elected body: a joint meeting counts once under each body it serves.
pub fn attendance_by_body(
    conn: &mut PgConnection,
    election_id: Uuid,
    region_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> DbResult<Vec<Row>> {
    Ok(diesel::sql_query(format!(
        "{SCOPED_MEETINGS}
SELECT b.body AS key, b.body AS label, NULL::text AS kind, NULL::text AS parent,
       NULL::text AS parent_name, NULL::text AS region_name, NULL::text AS level, {FIGURES}
  FROM (SELECT DISTINCT mu.province_id, mu.meeting_id, u.body
          FROM meeting_units mu
          JOIN electoral_units u ON u.province_id = mu.province_id AND u.id = mu.electoral_unit_id
         WHERE u.election_id = $1) b
  JOIN m ON m.province_id = b.province_id AND m.id = b.meeting_id
 GROUP BY b.body ORDER BY b.body"
    ))
    .bind::<SqlUuid, _>(election_id)
    .bind::<Nullable<SqlUuid>, _>(region_id)
    .bind::<Timestamptz, _>(now)
    .load(conn)?)
}

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Overdue {
    #[diesel(sql_type = SqlUuid)]
    pub meeting_id: Uuid,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub format: String,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub report_due_at: DateTime<Utc>,
    #[diesel(sql_type = SqlUuid)]
    pub region_id: Uuid,
    #[diesel(sql_type = Text)]
    pub region_name: String,
}

/// Meetings past their report deadline with no report, the longest overdue first.
pub fn overdue(
    conn: &mut PgConnection,
    election_id: Uuid,
    region_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> DbResult<Vec<Overdue>> {
    Ok(diesel::sql_query(
        "SELECT m.id AS meeting_id, m.title, m.format, m.starts_at, m.ends_at,
                m.ends_at + make_interval(hours => e.report_deadline_hours) AS report_due_at,
                r.id AS region_id, r.name AS region_name
           FROM meetings m JOIN elections e ON e.id = m.election_id
           JOIN regions r ON r.province_id = m.province_id
                         AND r.id = m.region_path[array_length(m.region_path, 1)]
          WHERE m.election_id = $1 AND ($2::uuid IS NULL OR m.region_path @> ARRAY[$2::uuid])
            AND m.status <> 'cancelled' AND m.report_revision IS NULL
            AND m.ends_at + make_interval(hours => e.report_deadline_hours) < $3
          ORDER BY m.ends_at, m.id",
    )
    .bind::<SqlUuid, _>(election_id)
    .bind::<Nullable<SqlUuid>, _>(region_id)
    .bind::<Timestamptz, _>(now)
    .load(conn)?)
}

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct CandidateMeetings {
    #[diesel(sql_type = SqlUuid)]
    pub candidate_id: Uuid,
    #[diesel(sql_type = Text)]
    pub full_name: String,
    #[diesel(sql_type = SqlUuid)]
    pub electoral_unit_id: Uuid,
    #[diesel(sql_type = Text)]
    pub electoral_unit: String,
    #[diesel(sql_type = Text)]
    pub body: Body,
    #[diesel(sql_type = BigInt)]
    pub meetings_planned: i64,
    #[diesel(sql_type = BigInt)]
    pub meetings_held: i64,
}

/// Meetings per active candidate: planned (not cancelled) and held.
pub fn candidate_meetings(
    conn: &mut PgConnection,
    election_id: Uuid,
    unit_id: Option<Uuid>,
    region_id: Option<Uuid>,
) -> DbResult<Vec<CandidateMeetings>> {
    Ok(diesel::sql_query(
        "SELECT c.id AS candidate_id, c.full_name, u.id AS electoral_unit_id,
                u.name AS electoral_unit, u.body,
                count(m.id) FILTER (WHERE m.status <> 'cancelled') AS meetings_planned,
                count(m.id) FILTER (WHERE m.status = 'held') AS meetings_held
           FROM candidates c
           JOIN electoral_units u ON u.province_id = c.province_id AND u.id = c.electoral_unit_id
           JOIN regions ur ON ur.province_id = u.province_id AND ur.id = u.region_id
           LEFT JOIN meeting_candidates mc ON mc.province_id = c.province_id AND mc.candidate_id = c.id
           LEFT JOIN meetings m ON m.province_id = mc.province_id AND m.id = mc.meeting_id
                               AND (mc.active OR m.status = 'cancelled')
          WHERE c.status = 'active' AND u.election_id = $1
            AND ($2::uuid IS NULL OR u.id = $2)
            AND ($3::uuid IS NULL OR ur.path @> ARRAY[$3::uuid])
          GROUP BY c.province_id, c.id, u.province_id, u.id
          ORDER BY u.body, u.name, u.id, c.full_name, c.id",
    )
    .bind::<SqlUuid, _>(election_id)
    .bind::<Nullable<SqlUuid>, _>(unit_id)
    .bind::<Nullable<SqlUuid>, _>(region_id)
    .load(conn)?)
}
