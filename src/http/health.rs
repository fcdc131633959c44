//! `/healthz` (liveness) and `/readyz` (the database is migrated and answers, and the outbox
//! worker is up), and the gate that answers 503 while the service waits for its database at
//! start-up.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ApiError;
use crate::app::Ctx;
use crate::domain::problem::Code;
use crate::email::worker::Health;

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

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "health",
    summary = "Liveness",
    responses(
        (status = 200, description = "OK", body = Alive),
    ),
    security(()),
)]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Alive { status: Fine::Ok })
}

/// A part that works.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Fine {
    Ok,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Health)]
struct Alive {
    #[schema(inline)]
    status: Fine,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Up {
    Ready,
}

#[derive(Serialize, ToSchema)]
struct Worker {
    /// How often the outbox worker was restarted since the service started.
    restarts: u64,
}

#[derive(Serialize, ToSchema)]
struct Ready {
    #[schema(inline)]
    status: Up,
    #[schema(inline)]
    database: Fine,
    #[schema(inline)]
    outbox_worker: Worker,
}

/// A worker that stopped means mail silently piling up (rule 12): not ready until it is
/// running again.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "health",
    summary = "Readiness: the database answers",
    responses(
        (status = 200, description = "OK", body = Ready),
    ),
    security(()),
)]
async fn readyz(
    ctx: web::Data<Ctx>,
    ready: web::Data<Readiness>,
    worker: web::Data<Health>,
) -> Result<HttpResponse, ApiError> {
    if !ready.is_ready() {
        return Err(starting());
    }
    if worker.is_down() {
        return Err(ApiError::new(
            Code::Unavailable,
            "the outbox worker stopped; it is being restarted",
        ));
    }
    ctx.read(|tx| {
        diesel::sql_query("SELECT 1").execute(tx.conn())?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Ready {
        status: Up::Ready,
        database: Fine::Ok,
        outbox_worker: Worker {
            restarts: worker.restarts(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use actix_web::{test, App};

    use super::*;
    use crate::app::{Clock, Pools};
    use crate::config::Settings;
    use crate::email::worker::supervise;

    #[actix_web::test]
    async fn a_worker_that_died_makes_the_service_unready_until_it_runs_again() {
        let settings =
            Settings::load_from(concat!(env!("CARGO_MANIFEST_DIR"), "/config"), Some("test"))
                .expect("test settings");
        let pool = crate::db::pool::pool(
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
            &crate::db::pool::PoolSettings {
                size: 1,
                min_idle: 1,
                wait: Duration::from_secs(5),
                statement_timeout_ms: 1000,
            },
        );
        let ctx = Ctx::new(
            Pools {
                main: pool.clone(),
                reports: pool,
            },
            settings,
            Clock::system(),
        );
        let ctx = web::Data::new(ctx);
        let ready = |health: Arc<Health>| {
            let ctx = ctx.clone();
            async move {
                let app = test::init_service(
                    App::new()
                        .app_data(ctx)
                        .app_data(web::Data::new(Readiness::new(true)))
                        .app_data(web::Data::from(health))
                        .configure(configure),
                )
                .await;
                test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await
            }
        };
        assert_eq!(ready(Arc::new(Health::default())).await.status(), 200);

        let health = Arc::new(Health::default());
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let (dying, mut death) = tokio::sync::mpsc::unbounded_channel::<()>();
        // A worker that dies at once and is restarted only in an hour.
        tokio::spawn(supervise(
            health.clone(),
            Duration::from_secs(3600),
            stopped,
            move || {
                let dying = dying.clone();
                async move {
                    let _ = dying.send(());
                    panic!("the worker task ended");
                }
            },
        ));
        assert_eq!(death.recv().await, Some(()));
        for _ in 0..1000 {
            if health.is_down() {
                break;
            }
            tokio::task::yield_now().await;
        }
        let answer = ready(health).await;
        assert_eq!(answer.status(), 503);
        let body: serde_json::Value = test::read_body_json(answer).await;
        assert_eq!(body["code"], "unavailable");
    }
}
