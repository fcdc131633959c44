//! `GET /me` (the calling token) and `/tokens` (admin: create, list, revoke).
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Admin, Caller};
use super::pagination::PageRequest;
use super::problem::ApiError;
use crate::app::tokens::{self, NewToken};
use crate::app::Ctx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").get(me))
        .service(web::resource("/tokens").post(create_token).get(list_tokens))
        .service(web::resource("/tokens/{id}").delete(revoke_token));
}

async fn me(who: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "id": who.id,
        "name": who.name,
        "role": who.role,
        "region_id": who.region_id,
    }))
}

/// Not idempotent on purpose: a replay would have to store the plaintext token.
async fn create_token(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    body: web::Json<NewToken>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let issued = ctx
        .tx(move |tx| tokens::create(tx, &who, new.clone()))
        .await?;
    Ok(HttpResponse::Created().json(issued))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list_tokens(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor)?;
    let (after, limit) = (page.after_id()?, page.fetch());
    let rows = ctx
        .page(page.limit, move |tx| tokens::list(tx, &who, after, limit))
        .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |t| t.id.to_string())))
}

async fn revoke_token(
    Admin(who): Admin,
    ctx: web::Data<Ctx>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::parse_id(&id, "token")?;
    ctx.tx(move |tx| tokens::revoke(tx, &who, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
