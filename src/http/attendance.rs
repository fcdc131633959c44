//! `/meetings/{id}/checkins` (live counters) and `/meetings/{id}/attendance-report`.
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Caller, Writer};
use super::idempotency::{key_of, run_once, Answer};
use super::openapi::inputs::{Id, IdempotencyKey};
use super::problem::ApiError;
use crate::app::attendance::{self, CheckIn, ReportRequest};
use crate::app::Ctx;
use crate::db::attendance::Report;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/meetings/{id}/checkins").post(check_in))
        .service(
            web::resource("/meetings/{id}/attendance-report")
                .put(file_report)
                .get(read_report),
        );
}

/// A check-in; with an `Idempotency-Key`, a door device that retries counts once (SPEC §4).
#[utoipa::path(
    post,
    path = "/api/v1/meetings/{id}/checkins",
    operation_id = "checkIn",
    tag = "attendance",
    summary = "Count people in (or out with a negative count) at a site or online",
    description = "Accepted for planned meetings from one hour before starts_at until ends_at. `present` never exceeds the site's effective capacity (nor the online max_participants) and never goes below zero, under any concurrency.",
    params(Id, IdempotencyKey),
    request_body = CheckIn,
    responses(
        (
            status = 200,
            description = "The counter after the check-in.",
            body = crate::db::attendance::Counted,
        ),
        (
            status = 409,
            description = "`capacity_reached` (adds `present` and `capacity`) or `meeting_not_planned`.",
        ),
        (
            status = 422,
            description = "`outside_checkin_window`, `validation_failed` (count 0 or out of range, unknown site, fewer present than leaving), or `idempotency_key_reused` (the key was sent with another body).",
        ),
    ),
)]
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

#[utoipa::path(
    put,
    path = "/api/v1/meetings/{id}/attendance-report",
    operation_id = "fileAttendanceReport",
    tag = "attendance",
    summary = "File the attendance report, or correct it",
    params(
        Id,
        (
            "If-Match" = Option<String>,
            Header,
            nullable = false,
            description = "Optional. A correction may send the report's ETag (from its GET or PUT, `\"<revision>\"`), or `*`; when sent it is compared strongly (`W/\"1\"` never matches) and a stale one is 412 `version_conflict`, so of corrections made from one reading with If-Match exactly one wins. Without it, a correction is the next revision.",
            example = "\"1\"",
        ),
    ),
    request_body = ReportRequest,
    responses(
        (
            status = 200,
            description = "A correction: the new revision.",
            body = Report,
            headers(("ETag" = String)),
        ),
        (
            status = 201,
            description = "The first report (revision 1); the meeting is now held.",
            body = Report,
            headers(("ETag" = String)),
        ),
        (
            status = 409,
            description = "`report_exists` (file again with correction_reason) or `meeting_cancelled`.",
        ),
        (
            status = 412,
            description = "`version_conflict`: If-Match names another revision than the current one (or the meeting has no report yet); read the report again.",
        ),
        (
            status = 422,
            description = "`meeting_not_ended`; `attendance_exceeds_capacity`; `validation_failed` (sites and online do not sum to attendees, unknown site, …).",
        ),
    ),
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/meetings/{id}/attendance-report",
    operation_id = "getAttendanceReport",
    tag = "attendance",
    summary = "The current report and its earlier revisions",
    params(Id),
    responses(
        (status = 200, description = "OK", body = ReportHistory, headers(("ETag" = String))),
    ),
)]
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
        .json(ReportHistory { current, revisions }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = AttendanceReportHistory)]
struct ReportHistory {
    current: Report,
    /// Earlier revisions, newest first.
    revisions: Vec<Report>,
}
