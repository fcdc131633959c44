//! Candidates' schedules (queued emails and the `.ics` feed) and the admin's view of the outbox.
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::auth::Caller;
use crate::db::{elections, regions};
use crate::email::{ics, outbox, transport::ICS_FILENAME};
use crate::error::ApiError;
use crate::idempotency::Created;
use crate::pagination::PageRequest;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/candidates/{id}/schedule-email",
        web::post().to(queue_schedule),
    )
    .route(
        "/elections/{id}/schedule-emails",
        web::post().to(queue_schedules),
    )
    .route("/candidates/{id}/schedule.ics", web::get().to(schedule_ics))
    .route("/outbox", web::get().to(list_outbox))
    .route("/outbox/{id}", web::get().to(get_outbox));
}

fn accepted(body: serde_json::Value, location: Option<String>) -> Result<Created, ApiError> {
    Ok(Created::new(&body, location)?.with_status(StatusCode::ACCEPTED))
}

async fn queue_schedule(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let candidate_id = super::parse_id(&id, "candidate")?;
    super::create_once(&state, who, &req, (), move |conn, who, ()| {
        let (candidate, path) = elections::find_candidate(conn, candidate_id)?;
        who.ensure_write(&path)?;
        let outbox_id = outbox::queue_schedule(conn, candidate_id)?;
        audit::record(
            conn,
            who,
            Change {
                action: "queue_schedule_email",
                entity_type: "candidate",
                entity_id: candidate_id,
                province_id: Some(candidate.province_id),
                before: None,
                after: Some(json!({ "outbox_id": outbox_id })),
            },
        )?;
        accepted(
            json!({ "outbox_id": outbox_id }),
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

async fn queue_schedules(
    state: web::Data<AppState>,
    who: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<FanOutQuery>,
) -> Result<HttpResponse, ApiError> {
    let election_id = super::parse_id(&id, "election")?;
    let region_id = q.into_inner().region_id;
    super::create_once(&state, who, &req, (), move |conn, who, ()| {
        elections::find_election(conn, election_id)?;
        // An organizer who names no region sends to their own.
        let region = match region_id.or(who.scope()) {
            Some(r) => Some(regions::find(conn, r).map_err(|e| match e.code() {
                "not_found" => ApiError::field("region_id", "no such region"),
                _ => e,
            })?),
            None => None,
        };
        who.ensure_write(region.as_ref().map_or(&[][..], |r| &r.path))?;
        let queued = outbox::queue_schedules(conn, election_id, region.as_ref().map(|r| r.id))?;
        audit::record(
            conn,
            who,
            Change {
                action: "queue_schedule_emails",
                entity_type: "election",
                entity_id: election_id,
                province_id: region.as_ref().map(|r| r.province_id),
                before: None,
                after: Some(json!({
                    "region_id": region.as_ref().map(|r| r.id),
                    "queued": queued,
                })),
            },
        )?;
        accepted(json!({ "queued": queued }), None)
    })
    .await
}

/// Every meeting of the candidate that has not ended, cancelled ones included
/// (`STATUS:CANCELLED`), so a subscribed calendar drops them.
async fn schedule_ics(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let candidate_id = super::parse_id(&id, "candidate")?;
    let calendar = crate::db::run(&state.pool, move |conn| {
        let (_, path) = elections::find_candidate(conn, candidate_id)?;
        who.ensure_read(&path)?;
        let (_, election, lines) = outbox::candidate_schedule(conn, candidate_id, true)?;
        Ok(ics::calendar(&election, &lines, Utc::now()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{ICS_FILENAME}\""),
        ))
        .body(calendar))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    status: Option<String>,
    candidate_id: Option<Uuid>,
    recipient: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list_outbox(
    state: web::Data<AppState>,
    who: Caller,
    q: web::Query<OutboxQuery>,
) -> Result<HttpResponse, ApiError> {
    who.ensure_admin()?;
    let q = q.into_inner();
    if let Some(status) = q.status.as_deref() {
        if !outbox::STATUSES.contains(&status) {
            return Err(ApiError::field(
                "status",
                format!("must be pending, sent or failed, not {status:?}"),
            ));
        }
    }
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let filter = outbox::OutboxFilter {
        status: q.status,
        candidate_id: q.candidate_id,
        recipient: q.recipient,
        after: page.after_id()?,
        limit: page.fetch(),
    };
    let rows = crate::db::run(&state.pool, move |conn| Ok(outbox::list(conn, filter)?)).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.to_string())))
}

async fn get_outbox(
    state: web::Data<AppState>,
    who: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.ensure_admin()?;
    let id = super::parse_id(&id, "email")?;
    let email = crate::db::run(&state.pool, move |conn| outbox::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(email))
}
