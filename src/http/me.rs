//! `GET /me` (the calling token) and `/tokens` (admin: create, list, revoke).
use super::query::Query;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{Admin, Caller};
use super::idempotency::{run_once_sealed, Answer};
use super::openapi::inputs::{Id, IdempotencyKey, Paging};
use super::pagination::PageRequest;
use super::problem::ApiError;
use crate::app::tokens::{self, NewToken};
use crate::app::Ctx;
use crate::domain::kinds::Role;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").get(me))
        .service(web::resource("/tokens").post(create_token).get(list_tokens))
        .service(web::resource("/tokens/{id}").delete(revoke_token));
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "getMe",
    tag = "tokens",
    summary = "The calling token: role and region",
    responses(
        (status = 200, description = "OK", body = Me),
    ),
)]
async fn me(who: Caller) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        id: who.id,
        name: who.name.clone(),
        role: who.role,
        region_id: who.region_id,
    })
}

/// The calling token.
#[derive(Serialize, ToSchema)]
struct Me {
    id: Uuid,
    name: String,
    role: Role,
    #[schema(required = true)]
    region_id: Option<Uuid>,
}

#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    operation_id = "createToken",
    tag = "tokens",
    summary = "Create an API token (admin)",
    description = "With an `Idempotency-Key`, a retry gets the same token again for 24 hours \
                   (the answer is kept sealed: only the same admin token, key and body open it).",
    params(IdempotencyKey),
    request_body = NewToken,
    responses(
        (
            status = 201,
            description = "Created. The token is shown only in this answer (and its replays).",
            body = crate::app::tokens::IssuedToken,
            headers(("Idempotent-Replayed" = String)),
        ),
        (status = 422, description = "`validation_failed`, or `idempotency_key_reused`."),
    ),
)]
async fn create_token(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: web::Json<NewToken>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let caller = who.clone();
    run_once_sealed(&ctx, &who, &req, &new.clone(), move |tx| {
        let issued = tokens::create(tx, &caller, new.clone())?;
        Answer::created(&issued, None)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    operation_id = "listTokens",
    tag = "tokens",
    summary = "List API tokens (admin)",
    params(Paging),
    responses(
        (
            status = 200,
            description = "OK",
            body = super::pagination::Page<crate::db::tokens::Token>,
        ),
    ),
)]
async fn list_tokens(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let (after, limit) = (page.after_id()?, page.fetch());
    let rows = ctx
        .page(page.limit, move |tx| tokens::list(tx, &who, after, limit))
        .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |t| t.id.to_string())))
}

#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    operation_id = "revokeToken",
    tag = "tokens",
    summary = "Revoke an API token (admin, audited)",
    params(Id),
    responses(
        (
            status = 204,
            description = "Revoked (or already revoked): every instance refuses it within 5 seconds.",
        ),
    ),
)]
async fn revoke_token(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "token")?;
    ctx.tx(move |tx| tokens::revoke(tx, &who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
