//! `/health-rules`: public-health gathering rules, each change answering the meetings it puts
//! in breach.
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
use crate::app::health_rules::{self, RuleFields};
use crate::app::Ctx;
use crate::db::health_rules::RuleFilter;
use crate::domain::values::timestamp;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health-rules").post(create).get(list))
        .service(web::resource("/health-rules/{id}").get(get).patch(patch));
}

#[utoipa::path(
    post,
    path = "/api/v1/health-rules",
    operation_id = "createHealthRule",
    tag = "health-rules",
    summary = "Create a public-health gathering rule",
    params(IdempotencyKey),
    request_body = super::openapi::rows::NewHealthRule,
    responses(
        (
            status = 201,
            description = "Created; every future planned meeting the rule now breaks is listed, flagged and its organizers emailed.",
            body = crate::app::health_rules::RuleChange,
            headers(("Location" = String), ("Idempotent-Replayed" = String)),
        ),
        (status = 422, description = "`validation_failed`, or `idempotency_key_reused`."),
    ),
)]
async fn create(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: web::Json<RuleFields>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (caller, fields) = (who.clone(), body.clone());
    run_once(&ctx, &who, &req, &body, move |tx| {
        let change = health_rules::create(tx, &caller, &fields)?;
        let location = format!("/api/v1/health-rules/{}", change.rule.id);
        Answer::created(&change, Some(location))
    })
    .await
}

#[utoipa::path(
    patch,
    path = "/api/v1/health-rules/{id}",
    operation_id = "updateHealthRule",
    tag = "health-rules",
    summary = "Change a rule; its meetings are re-evaluated",
    params(Id),
    request_body = RuleFields,
    responses(
        (status = 200, description = "OK", body = crate::app::health_rules::RuleChange),
    ),
)]
async fn patch(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
    body: web::Json<RuleFields>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "health rule")?;
    let fields = body.into_inner();
    let change = ctx
        .tx(move |tx| health_rules::patch(tx, &who, id, &fields))
        .await?;
    Ok(HttpResponse::Ok().json(change))
}

#[utoipa::path(
    get,
    path = "/api/v1/health-rules/{id}",
    operation_id = "getHealthRule",
    tag = "health-rules",
    summary = "Read a rule",
    params(Id),
    responses(
        (status = 200, description = "OK", body = crate::db::health_rules::HealthRule),
    ),
)]
async fn get(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "health rule")?;
    let rule = ctx.read(move |tx| health_rules::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(rule))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Rules set on this region or a region below it.
    region_id: Option<Uuid>,
    /// Rules in force at this instant.
    #[param(format = DateTime)]
    active_at: Option<String>,
    #[param(ignore)]
    limit: Option<i64>,
    #[param(ignore)]
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/health-rules",
    operation_id = "listHealthRules",
    tag = "health-rules",
    summary = "List rules",
    params(ListQuery, Paging),
    responses(
        (
            status = 200,
            description = "OK",
            body = super::pagination::Page<crate::db::health_rules::HealthRule>,
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
    let active_at = query::optional("active_at", q.active_at.as_deref(), timestamp)?;
    let region_id = q.region_id;
    page.by_id(
        &ctx,
        move |tx, after, limit| {
            let filter = RuleFilter {
                scope: None,
                region_id,
                active_at,
                after,
                limit,
            };
            health_rules::list(tx, &who, filter)
        },
        |r| r.id,
    )
    .await
}
