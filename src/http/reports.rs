//! `/reports/*`: what the election committee reads — attendance roll-ups (JSON or CSV),
//! overdue reports, and whether every candidate got their fair share of meetings.
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use crate::app::reports::{self, AttendanceReport, FairnessOf};
use crate::app::{self, Ctx};
use crate::db::reports::{Figures, GroupBy};
use crate::domain::kinds;
use crate::domain::problem::Problem;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reports/attendance").get(attendance))
        .service(web::resource("/reports/overdue").get(overdue))
        .service(web::resource("/reports/fairness").get(fairness));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttendanceQuery {
    election_id: Option<Uuid>,
    region_id: Option<Uuid>,
    group_by: Option<String>,
    format: Option<String>,
}

fn required(election_id: Option<Uuid>) -> Result<Uuid, Problem> {
    election_id.ok_or_else(|| Problem::field("election_id", "is required"))
}

async fn attendance(
    who: Caller,
    ctx: web::Data<Ctx>,
    q: web::Query<AttendanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let election_id = required(q.election_id)?;
    let by = kinds::parse::<GroupBy>(q.group_by.as_deref().unwrap_or("region"))
        .map_err(|m| Problem::field("group_by", m))?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(
                Problem::field("format", format!("must be json or csv, not {other:?}")).into(),
            )
        }
    };
    let region_id = q.region_id;
    let report = ctx
        .report(move |tx| reports::attendance(tx, &who, election_id, region_id, by))
        .await?;
    if csv {
        let body = attendance_csv(&report).map_err(app::Error::internal)?;
        let name: &str = report.group_by.into();
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"attendance-{name}.csv\""),
            ))
            .body(body));
    }
    Ok(HttpResponse::Ok().json(report))
}

/// A cell a spreadsheet would run as a formula is prefixed with `'` (SPEC §4).
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
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
        let figures = |f: &Figures| {
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
                cell(&row.key),
                cell(&row.label),
                cell(row.kind.as_deref().unwrap_or_default()),
                cell(row.parent.as_deref().unwrap_or_default()),
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
    who: Caller,
    ctx: web::Data<Ctx>,
    q: web::Query<ScopeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let election_id = required(q.election_id)?;
    let region_id = q.region_id;
    let items = ctx
        .report(move |tx| reports::overdue(tx, &who, election_id, region_id))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"count": items.len(), "items": items})))
}

async fn fairness(
    who: Caller,
    ctx: web::Data<Ctx>,
    q: web::Query<ScopeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let of = match (q.electoral_unit_id, q.election_id) {
        (Some(unit), _) => FairnessOf::Unit(unit),
        (None, Some(election_id)) => FairnessOf::Election {
            election_id,
            region_id: q.region_id,
        },
        (None, None) => {
            return Err(Problem::field(
                "election_id",
                "name an electoral_unit_id, or an election_id (and optionally a region_id)",
            )
            .into())
        }
    };
    let answer = ctx
        .report(move |tx| reports::fairness(tx, &who, of))
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        assert_eq!(
            cell("=HYPERLINK(\"http://evil.example/x\",\"Bấm vào đây\")"),
            "'=HYPERLINK(\"http://evil.example/x\",\"Bấm vào đây\")"
        );
        for risky in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(cell(risky).starts_with('\''), "{risky:?}");
        }
        assert_eq!(cell("Xã Kỳ Đồng"), "Xã Kỳ Đồng");
    }
}
