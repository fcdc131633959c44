//! Builds the actix application and its background worker from typed settings. Nothing
//! imports this module but the binary and the tests.
use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};

use crate::app::{Clock, Ctx, Pools};
use crate::config::Settings;
use crate::db::pool::{self, PoolSettings};
use crate::email::worker::Worker;
use crate::http::{self, auth::TokenCache};

pub struct Application {
    port: u16,
    server: Server,
    outbox: Worker,
}

/// The pools the settings ask for; connections open lazily, so this works while the
/// database is down.
pub fn pools(settings: &Settings) -> Pools {
    let with = |size| PoolSettings {
        size,
        wait: Duration::from_secs(5),
        statement_timeout_ms: settings.database_statement_timeout_ms,
    };
    Pools {
        main: pool::pool(&settings.database_url, &with(settings.database_pool_size)),
        reports: pool::pool(
            &settings.database_url,
            &with(settings.database_reports_pool_size),
        ),
    }
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server; nothing runs yet.
    pub fn build(settings: Settings, pools: Pools, clock: Clock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.listen_addr)?;
        Self::build_on(listener, settings, pools, clock)
    }

    /// Like [`build`](Self::build), on a listener the caller already holds.
    pub fn build_on(
        listener: TcpListener,
        settings: Settings,
        pools: Pools,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let outbox = Worker::new(pools.main.clone(), &settings)?;
        http::metrics::install();
        let max_body = settings.max_body_bytes;
        let ctx = web::Data::new(Ctx::new(pools, settings, clock));
        // A revoked token is refused everywhere within 5 s (SPEC §4).
        let tokens = web::Data::new(TokenCache::new(
            Duration::from_secs(3),
            Duration::from_secs(5),
        ));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(http::bare_errors())
                .wrap(tracing_actix_web::TracingLogger::default())
                .wrap(actix_web::middleware::from_fn(http::metrics::track))
                .app_data(ctx.clone())
                .app_data(tokens.clone())
                .app_data(http::json_config(max_body))
                .app_data(http::path_config())
                .app_data(http::query_config())
                .configure(http::configure)
                .default_service(web::to(http::not_found))
        })
        .listen(listener)?
        .shutdown_timeout(20)
        .run();
        Ok(Self {
            port,
            server,
            outbox,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves and delivers email until SIGINT/SIGTERM, then drains in-flight requests and
    /// stops the outbox worker once its batch in flight is recorded.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = actix_web::rt::spawn(self.outbox.run(stopped));
        let served = self.server.await;
        let _ = stop.send(true);
        let _ = worker.await;
        served
    }
}
