//! `/healthz` (liveness) and `/readyz` (the database is migrated and answers), and the gate
//! that answers 503 while the service waits for its database at start-up.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde_json::json;

use super::problem::ApiError;
use crate::app::Ctx;
use crate::domain::problem::Code;

/// Whether the database is reachable and migrated: false from the start of `serve` until the
/// migrations ran, so requests get a clear 503 instead of failing on missing tables.
#[derive(Debug, Clone)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn new(ready: bool) -> Self {
        Readiness(Arc::new(AtomicBool::new(ready)))
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }
}

fn starting() -> ApiError {
    ApiError::new(
        Code::Unavailable,
        "the service is starting: its database is not reachable or not migrated yet",
    )
}

/// The middleware: 503 for everything it guards until the service is ready.
pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let ready = req
        .app_data::<web::Data<Readiness>>()
        .is_some_and(|r| r.is_ready());
    if ready {
        next.call(req)
            .await
            .map(ServiceResponse::map_into_left_body)
    } else {
        Ok(req.error_response(starting()).map_into_right_body())
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(
    ctx: web::Data<Ctx>,
    ready: web::Data<Readiness>,
) -> Result<HttpResponse, ApiError> {
    if !ready.is_ready() {
        return Err(starting());
    }
    ctx.read(|tx| {
        diesel::sql_query("SELECT 1").execute(tx.conn())?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"})))
}
