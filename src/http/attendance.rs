//! `/meetings/{id}/checkins` (live counters) and `/meetings/{id}/attendance-report`.
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::{Caller, Writer};
use super::idempotency::{key_of, run_once, Answer};
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

/// A check-in; with an `Idempotency-Key`, a door device that retries counts once (SPEC §4).
async fn check_in(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    http: HttpRequest,
    id: web::Path<String>,
    body: web::Json<CheckIn>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = super::parse_id(&id, "meeting")?;
    let req = body.into_inner();
    if key_of(&http)?.is_none() {
        let counted = ctx
            .read(move |tx| attendance::check_in(tx, &who, meeting_id, &req))
            .await;
        super::metrics::count_check_in(counted.as_ref().map(|_| ()));
        return Ok(HttpResponse::Ok().json(counted?));
    }
    let (caller, asked) = (who.clone(), req.clone());
    let answered = run_once(&ctx, &who, &http, &req, move |tx| {
        let counted = attendance::check_in(tx, &caller, meeting_id, &asked)?;
        Answer::with_status(StatusCode::OK, &counted, None)
    })
    .await;
    super::metrics::count_check_in(answered.as_ref().map(|_| ()).map_err(|e| &e.0));
    answered
}

/// The ETag of a report: its revision.
fn etag(revision: i32) -> String {
    format!("\"{revision}\"")
}

async fn file_report(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    http: HttpRequest,
    id: web::Path<String>,
    body: web::Json<ReportRequest>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = super::parse_id(&id, "meeting")?;
    let expected = super::meetings::if_match_sent(&http)?;
    let req = body.into_inner();
    let report = ctx
        .tx(move |tx| attendance::file_report(tx, &who, meeting_id, &req, expected))
        .await?;
    let status = if report.revision == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .insert_header((header::ETAG, etag(report.revision)))
        .json(report))
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
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(current.revision)))
        .json(json!({"current": current, "revisions": revisions})))
}
