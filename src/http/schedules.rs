//! Candidates' schedules: queued emails, their calendar, and its subscription link.
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::idempotency::{run_once, Answer};
use super::problem::ApiError;
use crate::app::{schedules, Ctx};
use crate::email::delivery::ICS_FILENAME;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/candidates/{id}/schedule-email").post(queue_one))
        .service(web::resource("/elections/{id}/schedule-emails").post(queue_all))
        .service(web::resource("/candidates/{id}/schedule.ics").get(calendar))
        .service(web::resource("/candidates/{id}/calendar-link").post(calendar_link));
}

/// Where the service was reached, for links when `public_url` is not set.
fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

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
            &json!({ "outbox_id": outbox_id }),
            Some(format!("/api/v1/outbox/{outbox_id}")),
        )
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FanOutQuery {
    region_id: Option<Uuid>,
}

async fn queue_all(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<FanOutQuery>,
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

async fn calendar_link(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let candidate_id = super::parse_id(&id, "candidate")?;
    let base = base_url(&req);
    let url = ctx
        .tx(move |tx| schedules::calendar_link(tx, &who, candidate_id, &base))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "url": url })))
}
