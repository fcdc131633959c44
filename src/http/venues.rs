//! `/venues`: where meetings take place, and `/venues/{id}/capacity`: what one may hold over a
//! period under the rules in force.
use super::query::{self, Query};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::idempotency::{run_once, Answer};
use super::openapi::inputs::{Id, IdempotencyKey, Paging};
use super::pagination::PageRequest;
use super::problem::ApiError;
use crate::app::venues::{self, NewVenue, VenuePatch};
use crate::app::{health_rules, Ctx};
use crate::db::venues::VenueFilter;
use crate::domain::kinds::{self, Setting};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/venues").post(create).get(list))
        .service(web::resource("/venues/{id}").get(get).patch(patch))
        .service(web::resource("/venues/{id}/capacity").get(capacity));
}

#[utoipa::path(
    post,
    path = "/api/v1/venues",
    operation_id = "createVenue",
    tag = "venues",
    summary = "Create a venue",
    params(IdempotencyKey),
    request_body = NewVenue,
    responses(
        (
            status = 201,
            description = "Created",
            body = crate::db::venues::Venue,
            headers(("Location" = String), ("Idempotent-Replayed" = String)),
        ),
        (
            status = 409,
            description = "`already_exists`: a venue with this name exists in this region.",
        ),
        (status = 422, description = "`validation_failed`, or `idempotency_key_reused`."),
    ),
)]
async fn create(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: web::Json<NewVenue>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (caller, new) = (who.clone(), body.clone());
    run_once(&ctx, &who, &req, &body, move |tx| {
        let venue = venues::create(tx, &caller, &new)?;
        Answer::created(&venue, Some(format!("/api/v1/venues/{}", venue.id)))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Venues of this region's subtree.
    region_id: Option<Uuid>,
    #[param(value_type = Option<crate::domain::kinds::Setting>)]
    setting: Option<String>,
    min_capacity: Option<i32>,
    #[param(ignore)]
    limit: Option<i64>,
    #[param(ignore)]
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/venues",
    operation_id = "listVenues",
    tag = "venues",
    summary = "List venues in the caller's subtree",
    params(ListQuery, Paging),
    responses(
        (
            status = 200,
            description = "OK",
            body = super::pagination::Page<crate::db::venues::Venue>,
        ),
    ),
)]
async fn list(
    who: Caller,
    ctx: web::Data<Ctx>,
    q: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let setting = query::optional("setting", q.setting.as_deref(), kinds::parse::<Setting>)?;
    let (region_id, min_capacity) = (q.region_id, q.min_capacity);
    page.by_id(
        &ctx,
        move |tx, after, limit| {
            let filter = VenueFilter {
                scope: None,
                region_id,
                setting,
                min_capacity,
                after,
                limit,
            };
            venues::list(tx, &who, filter)
        },
        |r| r.id,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/venues/{id}",
    operation_id = "getVenue",
    tag = "venues",
    summary = "Read a venue",
    params(Id),
    responses(
        (status = 200, description = "OK", body = crate::db::venues::Venue),
    ),
)]
async fn get(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "venue")?;
    let venue = ctx.read(move |tx| venues::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(venue))
}

#[utoipa::path(
    patch,
    path = "/api/v1/venues/{id}",
    operation_id = "updateVenue",
    tag = "venues",
    summary = "Edit a venue",
    description = "Capacity, area and setting decide the effective capacity of the venue's meetings: changing them re-evaluates its planned meetings like a rule change does.",
    params(Id),
    request_body = VenuePatch,
    responses(
        (status = 200, description = "OK", body = crate::db::venues::Venue),
        (
            status = 409,
            description = "`already_exists`: a venue with this name exists in this region.",
        ),
    ),
)]
async fn patch(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    body: web::Json<VenuePatch>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "venue")?;
    let patch = body.into_inner();
    let venue = ctx
        .tx(move |tx| venues::patch(tx, &who, id, &patch))
        .await?;
    Ok(HttpResponse::Ok().json(venue))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PeriodQuery {
    #[param(format = DateTime)]
    starts_at: String,
    /// After starts_at.
    #[param(format = DateTime)]
    ends_at: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/venues/{id}/capacity",
    operation_id = "getVenueCapacity",
    tag = "venues",
    summary = "What the venue may hold over a period, and which rule binds",
    params(Id, PeriodQuery),
    responses(
        (status = 200, description = "OK", body = crate::app::health_rules::VenueCapacity),
    ),
)]
async fn capacity(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    q: Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "venue")?;
    let q = q.into_inner();
    let answer = ctx
        .read(move |tx| health_rules::venue_capacity(tx, &who, id, &q.starts_at, &q.ends_at))
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
