//! `/meetings/{id}/checkins` (live counters) and `/meetings/{id}/attendance-report`.
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use super::auth::{Caller, Writer};
use super::problem::ApiError;
use crate::app::attendance::{self, CheckIn, ReportRequest};
use crate::app::Ctx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/meetings/{id}/checkins").post(check_in))
        .service(
            web::resource("/meetings/{id}/attendance-report")
                .put(file_report)
                .get(read_report),
        );
}

async fn check_in(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    body: web::Json<CheckIn>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = super::parse_id(&id, "meeting")?;
    let req = body.into_inner();
    let counted = ctx
        .read(move |tx| attendance::check_in(tx, &who, meeting_id, &req))
        .await;
    super::metrics::count_check_in(&counted);
    Ok(HttpResponse::Ok().json(counted?))
}

async fn file_report(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    body: web::Json<ReportRequest>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = super::parse_id(&id, "meeting")?;
    let req = body.into_inner();
    let report = ctx
        .tx(move |tx| attendance::file_report(tx, &who, meeting_id, &req))
        .await?;
    let status = if report.revision == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(report))
}

async fn read_report(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = super::parse_id(&id, "meeting")?;
    let (current, revisions) = ctx
        .read(move |tx| attendance::report(tx, &who, meeting_id))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"current": current, "revisions": revisions})))
}
