//! `/venues`: where meetings take place, and `/venues/{id}/capacity`: what one may hold over a
//! period under the rules in force.
use super::query::{self, Query};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::idempotency::{run_once, Answer};
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region_id: Option<Uuid>,
    setting: Option<String>,
    min_capacity: Option<i32>,
    limit: Option<i64>,
    cursor: Option<String>,
}

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

async fn get(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "venue")?;
    let venue = ctx.read(move |tx| venues::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(venue))
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodQuery {
    starts_at: String,
    ends_at: String,
}

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
