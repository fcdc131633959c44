//! `/health-rules`: public-health gathering rules, each change answering the meetings it puts
//! in breach.
use super::query::{self, Query};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::idempotency::{run_once, Answer};
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

async fn get(
    who: Caller,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "health rule")?;
    let rule = ctx.read(move |tx| health_rules::find(tx, &who, id)).await?;
    Ok(HttpResponse::Ok().json(rule))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    region_id: Option<Uuid>,
    active_at: Option<String>,
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
