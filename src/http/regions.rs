//! `/regions`: the administrative tree.
use super::query::{self, Query};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::{Admin, Caller};
use super::idempotency::{run_once, Answer};
use super::openapi::inputs::{Id, IdempotencyKey, Paging};
use super::pagination::PageRequest;
use super::problem::ApiError;
use crate::app::regions::{self, NewRegion, RegionPatch};
use crate::app::Ctx;
use crate::db::regions::RegionFilter;
use crate::domain::kinds::{self, Level};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/regions").post(create).get(list))
        .service(web::resource("/regions/{id}").get(get).patch(patch));
}

#[utoipa::path(
    post,
    path = "/api/v1/regions",
    operation_id = "createRegion",
    tag = "regions",
    summary = "Create a region (admin)",
    params(IdempotencyKey),
    request_body = NewRegion,
    responses(
        (
            status = 201,
            description = "Created",
            body = crate::db::regions::Region,
            headers(("Location" = String), ("Idempotent-Replayed" = String)),
        ),
        (status = 409, description = "`already_exists`: a region with this code already exists."),
        (status = 422, description = "`validation_failed`, or `idempotency_key_reused`."),
    ),
)]
async fn create(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: web::Json<NewRegion>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let caller = who.clone();
    let new = body.clone();
    run_once(&ctx, &who, &req, &body, move |tx| {
        let region = regions::create(tx, &caller, new.clone())?;
        Answer::created(&region, Some(format!("/api/v1/regions/{}", region.id)))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    parent_id: Option<Uuid>,
    #[param(value_type = Option<Level>)]
    level: Option<String>,
    #[param(ignore)]
    limit: Option<i64>,
    #[param(ignore)]
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/regions",
    operation_id = "listRegions",
    tag = "regions",
    summary = "List regions in the caller's subtree",
    params(ListQuery, Paging),
    responses(
        (
            status = 200,
            description = "OK",
            body = super::pagination::Page<crate::db::regions::Region>,
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
    let level = query::optional("level", q.level.as_deref(), kinds::parse::<Level>)?;
    let parent_id = q.parent_id;
    page.by_id(
        &ctx,
        move |tx, after, limit| {
            let filter = RegionFilter {
                scope: None,
                parent_id,
                level,
                after,
                limit,
            };
            regions::list(tx, &who, filter)
        },
        |r| r.id,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/regions/{id}",
    operation_id = "getRegion",
    tag = "regions",
    summary = "Read a region",
    params(Id),
    responses(
        (status = 200, description = "OK", body = crate::db::regions::Region),
    ),
)]
async fn get(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "region")?;
    let region = ctx.read(move |tx| regions::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(region))
}

#[utoipa::path(
    patch,
    path = "/api/v1/regions/{id}",
    operation_id = "updateRegion",
    tag = "regions",
    summary = "Correct a region (admin)",
    params(Id),
    request_body = RegionPatch,
    responses(
        (status = 200, description = "OK", body = crate::db::regions::Region),
        (
            status = 409,
            description = "`already_exists`: a region with this name exists under the same parent.",
        ),
    ),
)]
async fn patch(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    body: web::Json<RegionPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "region")?;
    let patch = body.into_inner();
    let region = ctx
        .tx(move |tx| regions::patch(tx, &who, id, &patch))
        .await?;
    Ok(HttpResponse::Ok().json(region))
}
