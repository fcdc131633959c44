//! `/healthz` (liveness) and `/readyz` (the database answers and the outbox worker is up).
use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde_json::json;

use super::problem::ApiError;
use crate::app::Ctx;
use crate::domain::problem::{Code, Problem};
use crate::email::worker::Health;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// A worker that stopped means mail silently piling up (rule 12): not ready until it is
/// running again.
async fn readyz(ctx: web::Data<Ctx>, worker: web::Data<Health>) -> Result<HttpResponse, ApiError> {
    if worker.is_down() {
        return Err(Problem::new(
            Code::Unavailable,
            "the outbox worker stopped; it is being restarted",
        )
        .into());
    }
    ctx.read(|tx| {
        diesel::sql_query("SELECT 1").execute(tx.conn())?;
        Ok(())
    })
    .await?;
    Ok(
        HttpResponse::Ok()
            .json(json!({"status": "ready", "database": "ok", "outbox_worker": "ok"})),
    )
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
                wait: Duration::from_millis(10),
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
