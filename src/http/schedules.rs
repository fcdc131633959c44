//! Candidates' schedules: queued emails, their calendar, and its subscription link.
use super::query::Query;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::idempotency::{run_once, run_once_sealed, Answer};
use super::openapi::inputs::{Id, IdempotencyKey};
use super::problem::ApiError;
use crate::app::{schedules, Ctx};
use crate::email::delivery::ICS_FILENAME;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/candidates/{id}/schedule-email").post(queue_one))
        .service(web::resource("/elections/{id}/schedule-emails").post(queue_all))
        .service(web::resource("/candidates/{id}/schedule.ics").get(calendar))
        .service(web::resource("/candidates/{id}/calendar-link").post(calendar_link));
}

/// Where the service was reached, for links when `public_url` is not set. `Forwarded` and
/// `X-Forwarded-Host`/`-Proto` count only from one of `http.trusted_proxies`; from anyone
/// else the link names the `Host` the request itself was sent to.
fn base_url(req: &HttpRequest) -> String {
    let trusted = req.app_data::<web::Data<Ctx>>().is_some_and(|ctx| {
        req.peer_addr()
            .is_some_and(|p| ctx.settings().http.trusted_proxies.contains(&p.ip()))
    });
    if trusted {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_else(|| req.app_config().host());
    format!("{scheme}://{host}")
}

#[utoipa::path(
    post,
    path = "/api/v1/candidates/{id}/schedule-email",
    operation_id = "queueScheduleEmail",
    tag = "email",
    summary = "Queue this candidate's schedule email",
    params(Id, IdempotencyKey),
    responses(
        (
            status = 202,
            description = "Queued in the outbox.",
            body = ScheduleQueued,
            headers(("Location" = String), ("Idempotent-Replayed" = String)),
        ),
        (status = 422, description = "`candidate_withdrawn`, or `idempotency_key_reused`."),
        (
            status = 429,
            description = "`schedule_email_too_soon`: one was queued less than an hour ago; only an admin may send another now (with `Retry-After`). `rate_limited`: this token spent its request budget.",
        ),
    ),
)]
async fn queue_one(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let candidate_id = super::parse_id(&id, "candidate")?;
    let (caller, base) = (who.clone(), base_url(&req));
    run_once(&ctx, &who, &req, &(), move |tx| {
        let outbox_id = schedules::queue_one(tx, &caller, candidate_id, &base)?;
        Answer::with_status(
            StatusCode::ACCEPTED,
            &ScheduleQueued { outbox_id },
            Some(format!("/api/v1/outbox/{outbox_id}")),
        )
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct FanOutQuery {
    /// Default: the caller's region (everywhere for an admin).
    region_id: Option<Uuid>,
}

#[utoipa::path(
    post,
    path = "/api/v1/elections/{id}/schedule-emails",
    operation_id = "queueScheduleEmails",
    tag = "email",
    summary = "Queue schedule emails for every active candidate (of a region's subtree)",
    params(Id, FanOutQuery, IdempotencyKey),
    responses(
        (
            status = 202,
            description = "Queued in the outbox.",
            body = crate::app::schedules::FanOut,
            headers(("Idempotent-Replayed" = String)),
        ),
        (
            status = 422,
            description = "`validation_failed` (no such region), or `idempotency_key_reused`.",
        ),
    ),
)]
async fn queue_all(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    id: web::Path<String>,
    q: Query<FanOutQuery>,
) -> Result<HttpResponse, ApiError> {
    let election_id = super::parse_id(&id, "election")?;
    let region_id = q.into_inner().region_id;
    let (caller, base) = (who.clone(), base_url(&req));
    run_once(&ctx, &who, &req, &(), move |tx| {
        let fan_out = schedules::queue_all(tx, &caller, election_id, region_id, &base)?;
        Answer::with_status(StatusCode::ACCEPTED, &fan_out, None)
    })
    .await
}

/// The iCalendar answer of a candidate's calendar.
pub fn ics_response(calendar: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{ICS_FILENAME}\""),
        ))
        .body(calendar)
}

#[utoipa::path(
    get,
    path = "/api/v1/candidates/{id}/schedule.ics",
    operation_id = "candidateCalendar",
    tag = "email",
    summary = "The candidate's schedule as iCalendar",
    params(Id),
    responses(
        (
            status = 200,
            description = "RFC 5545 (METHOD:PUBLISH): one VEVENT per meeting the candidate was ever on, past ones kept, cancelled ones with STATUS:CANCELLED; stable UID, increasing SEQUENCE.",
            content_type = "text/calendar",
            body = String,
        ),
    ),
)]
async fn calendar(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let candidate_id = super::parse_id(&id, "candidate")?;
    let calendar = ctx
        .read(move |tx| schedules::calendar(tx, &who, candidate_id))
        .await?;
    Ok(ics_response(calendar))
}

#[utoipa::path(
    post,
    path = "/api/v1/candidates/{id}/calendar-link",
    operation_id = "rotateCalendarLink",
    tag = "email",
    summary = "A new secret calendar subscription URL for this candidate; the old one is then 404",
    description = "With an `Idempotency-Key`, a retry gets the same URL again for 24 hours and \
                   rotates nothing (the answer is kept sealed).",
    params(Id, IdempotencyKey),
    responses(
        (
            status = 201,
            description = "Created.",
            body = CalendarLink,
            headers(("Idempotent-Replayed" = String)),
        ),
        (status = 422, description = "`candidate_withdrawn`, or `idempotency_key_reused`."),
    ),
)]
async fn calendar_link(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let candidate_id = super::parse_id(&id, "candidate")?;
    let base = base_url(&req);
    let caller = who.clone();
    run_once_sealed(&ctx, &who, &req, &(), move |tx| {
        let url = schedules::calendar_link(tx, &caller, candidate_id, &base)?;
        Answer::created(&CalendarLink { url }, None)
    })
    .await
}

#[derive(Serialize, ToSchema)]
struct ScheduleQueued {
    outbox_id: Uuid,
}

#[derive(Serialize, ToSchema)]
struct CalendarLink {
    /// `{public_url or this service}/calendars/{secret}.ics`; the previous link stops working.
    #[schema(format = Uri)]
    url: String,
}
