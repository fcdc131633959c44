//! `GET /me` (the calling token) and `POST /tokens` (admin).
use actix_web::{web, HttpResponse};
use serde_json::json;

use super::auth::{Admin, Caller};
use super::problem::ApiError;
use crate::app::tokens::{self, NewToken};
use crate::app::Ctx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").get(me))
        .service(web::resource("/tokens").post(create_token));
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
