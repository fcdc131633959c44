//! `/healthz` (liveness) and `/readyz` (the database answers).
use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde_json::json;

use crate::error::ApiError;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    crate::db::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"})))
}
