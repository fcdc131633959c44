//! `GET /audit?entity_id=`: the audit trail (admin).
use super::query::Query;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::Admin;
use super::openapi::inputs::Paging;
use super::pagination::PageRequest;
use super::problem::ApiError;
use crate::app::{audit, Ctx};
use crate::db::audit::AuditFilter;
use crate::domain::problem::Problem;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit").get(list));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    entity_id: Option<Uuid>,
    #[param(example = "meeting")]
    entity_type: Option<String>,
    #[param(ignore)]
    limit: Option<i64>,
    #[param(ignore)]
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "listAudit",
    tag = "audit",
    summary = "Audit entries, oldest first (admin)",
    params(AuditQuery, Paging),
    responses(
        (
            status = 200,
            description = "OK",
            body = super::pagination::Page<crate::db::audit::AuditEntry>,
        ),
    ),
)]
async fn list(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    q: Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let after = page
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| Problem::field("cursor", "is not a cursor this API issued"))
        })
        .transpose()?;
    let (entity_id, entity_type, limit) = (q.entity_id, q.entity_type, page.fetch());
    let rows = ctx
        .page(page.limit, move |tx| {
            let filter = AuditFilter {
                entity_id,
                entity_type: entity_type.clone(),
                after,
                limit,
            };
            audit::list(tx, &who, filter)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.seq.to_string())))
}
