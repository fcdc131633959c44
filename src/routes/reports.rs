//! `/reports/*`: what the election committee reads — attendance roll-ups, overdue reports,
//! and whether every candidate got their fair share of meetings.
use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::reports::{self as db, CandidateMeetings, GroupBy};
use crate::error::ApiError;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reports/attendance").get(attendance))
        .service(web::resource("/reports/overdue").get(overdue))
        .service(web::resource("/reports/fairness").get(fairness));
}

/// The region subtree a report covers: the one asked for, inside the caller's own.
fn report_region(
    conn: &mut diesel::PgConnection,
    who: &Caller,
    asked: Option<Uuid>,
) -> Result<Option<Uuid>, ApiError> {
    match (asked, who.scope()) {
        (None, scope) => Ok(scope),
        (Some(r), _) => {
            let region = crate::db::regions::find(conn, r)
                .map_err(|_| ApiError::field("region_id", "no such region"))?;
            who.ensure_read(&region.path)?;
            Ok(Some(r))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttendanceQuery {
    election_id: Uuid,
    region_id: Option<Uuid>,
    group_by: Option<String>,
    format: Option<String>,
}

#[derive(Serialize)]
struct AttendanceReport {
    election_id: Uuid,
    region_id: Option<Uuid>,
    group_by: String,
    rows: Vec<db::Row>,
    totals: db::Figures,
    by_body: Vec<db::Row>,
}

async fn attendance(
    state: web::Data<AppState>,
    who: Caller,
    q: web::Query<AttendanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let group = q.group_by.clone().unwrap_or_else(|| "region".to_owned());
    let by = GroupBy::parse(&group).map_err(|m| ApiError::field("group_by", m))?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::field(
                "format",
                format!("must be json or csv, not {other:?}"),
            ))
        }
    };
    let election_id = q.election_id;
    let report = crate::db::run(&state.pool, move |conn| {
        crate::db::elections::find_election(conn, election_id)?;
        let region_id = report_region(conn, &who, q.region_id)?;
        Ok(AttendanceReport {
            election_id,
            region_id,
            group_by: group,
            rows: db::attendance_rows(conn, election_id, region_id, by)?,
            totals: db::attendance_totals(conn, election_id, region_id)?,
            by_body: db::attendance_by_body(conn, election_id, region_id)?,
        })
    })
    .await?;
    if csv {
        let body = attendance_csv(&report).map_err(ApiError::internal)?;
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"attendance-{}.csv\"",
                    report.group_by
                ),
            ))
            .body(body));
    }
    Ok(HttpResponse::Ok().json(report))
}

/// RFC 4180 CSV with a UTF-8 byte-order mark, so Excel opens Vietnamese names intact.
fn attendance_csv(report: &AttendanceReport) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record([
            "key",
            "label",
            "kind",
            "parent",
            "meetings",
            "in_person",
            "online",
            "cancelled",
            "attendees",
            "reports_filed",
            "reports_late",
            "reports_overdue",
        ])?;
        let figures = |f: &db::Figures| {
            [
                f.meetings,
                f.in_person,
                f.online,
                f.cancelled,
                f.attendees,
                f.reports_filed,
                f.reports_late,
                f.reports_overdue,
            ]
            .map(|n| n.to_string())
        };
        for row in &report.rows {
            let mut record = vec![
                row.key.clone(),
                row.label.clone(),
                row.kind.clone().unwrap_or_default(),
                row.parent.clone().unwrap_or_default(),
            ];
            record.extend(figures(&row.figures));
            w.write_record(&record)?;
        }
        let mut total = vec![
            "total".to_owned(),
            "Tổng cộng".to_owned(),
            String::new(),
            String::new(),
        ];
        total.extend(figures(&report.totals));
        w.write_record(&total)?;
        w.flush()?;
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeQuery {
    election_id: Option<Uuid>,
    electoral_unit_id: Option<Uuid>,
    region_id: Option<Uuid>,
}

async fn overdue(
    state: web::Data<AppState>,
    who: Caller,
    q: web::Query<ScopeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let election_id = q
        .election_id
        .ok_or_else(|| ApiError::field("election_id", "is required"))?;
    let items = crate::db::run(&state.pool, move |conn| {
        crate::db::elections::find_election(conn, election_id)?;
        let region_id = report_region(conn, &who, q.region_id)?;
        db::overdue(conn, election_id, region_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"count": items.len(), "items": items})))
}

#[derive(Serialize)]
struct CandidateFairness {
    #[serde(flatten)]
    meetings: CandidateMeetings,
    minimum: Option<i64>,
    below_minimum: bool,
}

#[derive(Serialize)]
struct UnitFairness {
    electoral_unit_id: Uuid,
    electoral_unit: String,
    body: String,
    candidates: usize,
    minimum: Option<i64>,
    most_meetings: i64,
    least_meetings: i64,
    spread: i64,
    below_minimum: usize,
}

async fn fairness(
    state: web::Data<AppState>,
    who: Caller,
    q: web::Query<ScopeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let answer = crate::db::run(&state.pool, move |conn| {
        let (election_id, unit_id, region_id) = match (q.electoral_unit_id, q.election_id) {
            (Some(unit), _) => {
                let (u, path) = crate::db::elections::find_unit(conn, unit)?;
                who.ensure_read(&path)?;
                (u.election_id, Some(unit), None)
            }
            (None, Some(election)) => (election, None, report_region(conn, &who, q.region_id)?),
            (None, None) => {
                return Err(ApiError::field(
                    "election_id",
                    "name an electoral_unit_id, or an election_id (and optionally a region_id)",
                ))
            }
        };
        let election = crate::db::elections::find_election(conn, election_id)?;
        let rows = db::candidate_meetings(conn, election_id, unit_id, region_id)?;
        Ok(fairness_of(&election.min_meetings_per_candidate, rows))
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

fn fairness_of(minimums: &serde_json::Value, rows: Vec<CandidateMeetings>) -> serde_json::Value {
    let minimum = |body: &str| minimums.get(body).and_then(serde_json::Value::as_i64);
    let candidates: Vec<CandidateFairness> = rows
        .into_iter()
        .map(|m| {
            let min = minimum(&m.body);
            CandidateFairness {
                below_minimum: min.is_some_and(|n| m.meetings_planned < n),
                minimum: min,
                meetings: m,
            }
        })
        .collect();
    let mut units: BTreeMap<(String, String, Uuid), Vec<&CandidateFairness>> = BTreeMap::new();
    for c in &candidates {
        units
            .entry((
                c.meetings.body.clone(),
                c.meetings.electoral_unit.clone(),
                c.meetings.electoral_unit_id,
            ))
            .or_default()
            .push(c);
    }
    let units: Vec<UnitFairness> = units
        .into_iter()
        .map(|((body, name, id), cs)| {
            let most = cs
                .iter()
                .map(|c| c.meetings.meetings_planned)
                .max()
                .unwrap_or(0);
            let least = cs
                .iter()
                .map(|c| c.meetings.meetings_planned)
                .min()
                .unwrap_or(0);
            UnitFairness {
                electoral_unit_id: id,
                electoral_unit: name,
                minimum: minimum(&body),
                body,
                candidates: cs.len(),
                most_meetings: most,
                least_meetings: least,
                spread: most - least,
                below_minimum: cs.iter().filter(|c| c.below_minimum).count(),
            }
        })
        .collect();
    json!({
        "candidates": candidates,
        "units": units,
        "below_minimum": candidates.iter().filter(|c| c.below_minimum).count(),
    })
}
