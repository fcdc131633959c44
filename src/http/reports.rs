//! `/reports/*`: what the election committee reads — attendance roll-ups, overdue reports, and
//! whether every candidate got their fair share of meetings — as JSON, CSV or XLSX.
use super::query::Query;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::spreadsheets::{self, Lang};
use crate::app::reports::{self, FairnessOf};
use crate::app::{self, Ctx};
use crate::db::reports::GroupBy;
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

fn answered(format: Option<&str>, lang: Option<&str>) -> Result<Answered, Problem> {
    let lang = kinds::parse::<Lang>(lang.unwrap_or("vi")).map_err(|m| Problem::field("lang", m))?;
    match format.unwrap_or("json") {
        "json" => Ok(Answered::Json),
        "csv" => Ok(Answered::Sheet(Sheets::Csv, lang)),
        "xlsx" => Ok(Answered::Sheet(Sheets::Xlsx, lang)),
        other => Err(Problem::field(
            "format",
            format!("must be one of json, csv, xlsx, not {other:?}"),
        )),
    }
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeQuery {
    election_id: Option<Uuid>,
    electoral_unit_id: Option<Uuid>,
    region_id: Option<Uuid>,
    format: Option<String>,
    lang: Option<String>,
}

async fn overdue(
    who: Caller,
    ctx: web::Data<Ctx>,
    q: Query<ScopeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let election_id = required(q.election_id)?;
    let how = answered(q.format.as_deref(), q.lang.as_deref())?;
    let region_id = q.region_id;
    let (election, items) = ctx
        .report(move |tx| reports::overdue(tx, &who, election_id, region_id))
        .await?;
    match how {
        Answered::Json => {
            Ok(HttpResponse::Ok().json(json!({"count": items.len(), "items": items})))
        }
        Answered::Sheet(kind, lang) => {
            let tz = election
                .timezone
                .parse()
                .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
            download(kind, &spreadsheets::overdue(&items, lang, tz), "overdue")
        }
    }
}

async fn fairness(
    who: Caller,
    ctx: web::Data<Ctx>,
    q: Query<ScopeQuery>,
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
