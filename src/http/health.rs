//! `/healthz` (liveness) and `/readyz` (the database answers).
use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde_json::json;

use super::problem::ApiError;
use crate::app::Ctx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(ctx: web::Data<Ctx>) -> Result<HttpResponse, ApiError> {
    ctx.read(|tx| {
        diesel::sql_query("SELECT 1").execute(tx.conn())?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"})))
}
