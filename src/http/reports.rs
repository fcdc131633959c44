//! `/reports/*`: what the election committee reads — attendance roll-ups, overdue reports, and
//! whether every candidate got their fair share of meetings — as JSON, CSV or XLSX.
use super::query::Query;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::spreadsheets::{self, Lang};
use crate::app::reports::{self, FairnessOf};
use crate::app::{self, Ctx};
use crate::db::reports::{GroupBy, Overdue};
use crate::domain::kinds;
use crate::domain::problem::Problem;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reports/attendance").get(attendance))
        .service(web::resource("/reports/overdue").get(overdue))
        .service(web::resource("/reports/fairness").get(fairness));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AttendanceQuery {
    /// Required (422 when missing).
    #[param(required = true)]
    election_id: Option<Uuid>,
    /// Limit to this region's subtree (default: the caller's).
    region_id: Option<Uuid>,
    #[param(value_type = Option<GroupBy>, default = "region")]
    group_by: Option<String>,
    #[param(value_type = Option<ReportFormat>, default = "json")]
    format: Option<String>,
    /// The language of a spreadsheet's headers and names.
    #[param(value_type = Option<Lang>, default = "vi")]
    lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OverdueQuery {
    /// Required (422 when missing).
    #[param(required = true)]
    election_id: Option<Uuid>,
    /// Limit to this region's subtree (default: the caller's).
    region_id: Option<Uuid>,
    #[param(value_type = Option<ReportFormat>, default = "json")]
    format: Option<String>,
    /// The language of a spreadsheet's headers and names.
    #[param(value_type = Option<Lang>, default = "vi")]
    lang: Option<String>,
}

fn required(election_id: Option<Uuid>) -> Result<Uuid, Problem> {
    election_id.ok_or_else(|| Problem::field("election_id", "is required"))
}

/// How a report is answered: JSON, or a spreadsheet in one language.
enum Answered {
    Json,
    Sheet(Sheets, Lang),
}

#[derive(Clone, Copy)]
enum Sheets {
    Csv,
    Xlsx,
}

/// What `?format=` asks for.
#[derive(Clone, Copy, ToSchema, strum::EnumString, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
#[schema(rename_all = "snake_case")]
pub(super) enum ReportFormat {
    Json,
    Csv,
    Xlsx,
}

fn answered(format: Option<&str>, lang: Option<&str>) -> Result<Answered, Problem> {
    let lang = kinds::parse::<Lang>(lang.unwrap_or("vi")).map_err(|m| Problem::field("lang", m))?;
    let format = kinds::parse::<ReportFormat>(format.unwrap_or("json"))
        .map_err(|m| Problem::field("format", m))?;
    Ok(match format {
        ReportFormat::Json => Answered::Json,
        ReportFormat::Csv => Answered::Sheet(Sheets::Csv, lang),
        ReportFormat::Xlsx => Answered::Sheet(Sheets::Xlsx, lang),
    })
}

/// A spreadsheet download named `name` (without extension).
fn download(
    kind: Sheets,
    sheets: &[spreadsheets::Sheet],
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let (body, content_type, ext) = match kind {
        Sheets::Csv => (spreadsheets::csv(sheets), "text/csv; charset=utf-8", "csv"),
        Sheets::Xlsx => (
            spreadsheets::xlsx(sheets),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let body = body.map_err(app::Error::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{ext}\""),
        ))
        .body(body))
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/attendance",
    operation_id = "attendanceReport",
    tag = "reports",
    summary = "Attendance roll-up by region, unit, candidate or day",
    params(AttendanceQuery),
    responses(
        (
            status = 200,
            description = "The roll-up; `format=csv` answers CSV (UTF-8 with BOM), `format=xlsx` a spreadsheet with one sheet per region level, each with one row per group and a total row.",
            content(
                (crate::app::reports::AttendanceReport = "application/json"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ),
        ),
    ),
)]
async fn attendance(
    who: Caller,
    ctx: web::Data<Ctx>,
    q: Query<AttendanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let election_id = required(q.election_id)?;
    let by = kinds::parse::<GroupBy>(q.group_by.as_deref().unwrap_or("region"))
        .map_err(|m| Problem::field("group_by", m))?;
    let how = answered(q.format.as_deref(), q.lang.as_deref())?;
    let region_id = q.region_id;
    let report = ctx
        .report(move |tx| reports::attendance(tx, &who, election_id, region_id, by))
        .await?;
    match how {
        Answered::Json => Ok(HttpResponse::Ok().json(report)),
        Answered::Sheet(kind, lang) => {
            let name: &str = report.group_by.into();
            download(
                kind,
                &spreadsheets::attendance(&report, lang),
                &format!("attendance-{name}"),
            )
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct FairnessQuery {
    /// Every unit of the election (in region_id's subtree).
    election_id: Option<Uuid>,
    /// One unit; or else name election_id.
    electoral_unit_id: Option<Uuid>,
    /// Limit to this region's subtree (default: the caller's).
    region_id: Option<Uuid>,
    #[param(value_type = Option<ReportFormat>, default = "json")]
    format: Option<String>,
    /// The language of a spreadsheet's headers and names.
    #[param(value_type = Option<Lang>, default = "vi")]
    lang: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct OverdueReport {
    count: usize,
    /// The longest overdue first.
    items: Vec<Overdue>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/overdue",
    operation_id = "overdueReport",
    tag = "reports",
    summary = "Meetings past their report deadline with no report",
    params(OverdueQuery),
    responses(
        (
            status = 200,
            description = "The overdue meetings; `format=csv` or `xlsx` answers them as a spreadsheet.",
            content(
                (OverdueReport = "application/json"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ),
        ),
    ),
)]
async fn overdue(
    who: Caller,
    ctx: web::Data<Ctx>,
    q: Query<OverdueQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let election_id = required(q.election_id)?;
    let how = answered(q.format.as_deref(), q.lang.as_deref())?;
    let region_id = q.region_id;
    let (election, items) = ctx
        .report(move |tx| reports::overdue(tx, &who, election_id, region_id))
        .await?;
    match how {
        Answered::Json => Ok(HttpResponse::Ok().json(OverdueReport {
            count: items.len(),
            items,
        })),
        Answered::Sheet(kind, lang) => {
            let tz = election
                .timezone
                .parse()
                .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
            download(kind, &spreadsheets::overdue(&items, lang, tz), "overdue")
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/fairness",
    operation_id = "fairnessReport",
    tag = "reports",
    summary = "Meetings per candidate against the body's minimum, and the spread per unit",
    params(FairnessQuery),
    responses(
        (
            status = 200,
            description = "The fairness report; `format=csv` or `xlsx` answers it as a spreadsheet.",
            content(
                (crate::app::reports::Fairness = "application/json"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ),
        ),
    ),
)]
async fn fairness(
    who: Caller,
    ctx: web::Data<Ctx>,
    q: Query<FairnessQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let how = answered(q.format.as_deref(), q.lang.as_deref())?;
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
    match how {
        Answered::Json => Ok(HttpResponse::Ok().json(answer)),
        Answered::Sheet(kind, lang) => {
            download(kind, &spreadsheets::fairness(&answer, lang), "fairness")
        }
    }
}
