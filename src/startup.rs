//! Builds the actix application and its background worker from typed settings. Nothing
//! imports this module but the binary and the tests.
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_http::error::DispatchError;
use actix_http::{HttpService, KeepAlive};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server};
use actix_web::{web, App};
use secrecy::ExposeSecret;

use crate::app::{Clock, Ctx, Pools};
use crate::config::Settings;
use crate::console;
use crate::db::pool::{self, PoolSettings};
use crate::domain::calendar_link::CalendarKey;
use crate::email::transport::Mailer;
use crate::email::worker::{self, Health, Worker};
use crate::http::{self, auth::TokenCache, health::Readiness, rate_limit::RateLimiter};

pub struct Application {
    port: u16,
    server: Server,
    /// `None` when this instance delivers no email (`outbox.enabled = false`).
    outbox: Option<Arc<Worker>>,
    health: Arc<Health>,
    readiness: Readiness,
    ctx: web::Data<Ctx>,
}

/// How long a worker whose task ended waits before it starts again.
const WORKER_RESTART: Duration = Duration::from_secs(1);

/// The settings of links in emails, checked now so that a bad one stops start-up.
fn check_links(settings: &Settings) -> anyhow::Result<()> {
    CalendarKey::new(settings.calendar_link_key.expose_secret())
        .map_err(|e| anyhow::anyhow!("CALENDAR_LINK_KEY {e}"))?;
    if let Some(public) = &settings.public_url {
        let parsed = url::Url::parse(public)
            .map_err(|e| anyhow::anyhow!("PUBLIC_URL {public:?} is not a URL: {e}"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some(),
            "PUBLIC_URL {public:?} must be an http(s) URL with a host"
        );
    }
    Ok(())
}

/// The pools the settings ask for, for serving: each keeps a connection open, opened in the
/// background, so this works while the database is down.
pub fn pools(settings: &Settings) -> Pools {
    pools_keeping(settings, 1)
}

/// Pools that open a connection only when asked, for a command that runs and exits.
pub fn pools_on_demand(settings: &Settings) -> Pools {
    pools_keeping(settings, 0)
}

fn pools_keeping(settings: &Settings, min_idle: u32) -> Pools {
    let with = |size| PoolSettings {
        size,
        min_idle,
        wait: Duration::from_secs(5),
        statement_timeout_ms: settings.database_statement_timeout_ms,
    };
    Pools {
        main: pool::pool(
            settings.database_url.expose_secret(),
            &with(settings.database_pool_size),
        ),
        reports: pool::pool(
            settings.database_url.expose_secret(),
            &with(settings.database_reports_pool_size),
        ),
    }
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server, ready to serve (its
    /// database migrated); nothing runs yet.
    pub fn build(settings: Settings, pools: Pools, clock: Clock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.listen_addr)?;
        Self::build_on(listener, settings, pools, clock, Readiness::new(true), None)
    }

    /// Like [`build`](Self::build), but answering 503 until [`readiness`](Self::readiness) is
    /// set: `serve` starts while its database is down or not migrated.
    pub fn build_waiting(settings: Settings, pools: Pools, clock: Clock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.listen_addr)?;
        Self::build_on(
            listener,
            settings,
            pools,
            clock,
            Readiness::new(false),
            None,
        )
    }

    /// Like [`build`](Self::build), its worker handing every email to `mailer` (the tests'
    /// in-memory inbox) instead of the one the settings name.
    pub fn build_with_mailer(
        settings: Settings,
        pools: Pools,
        clock: Clock,
        mailer: Mailer,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.listen_addr)?;
        let readiness = Readiness::new(true);
        Self::build_on(listener, settings, pools, clock, readiness, Some(mailer))
    }

    /// Like [`build`](Self::build), on a listener the caller already holds, with `mailer` or
    /// else the one the settings name.
    pub fn build_on(
        listener: TcpListener,
        settings: Settings,
        pools: Pools,
        clock: Clock,
        readiness: Readiness,
        mailer: Option<Mailer>,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        check_links(&settings)?;
        let mailer = match mailer {
            Some(mailer) => mailer,
            None => Mailer::from_settings(&settings)?,
        };
        let worker = Worker::with_mailer(pools.main.clone(), &settings, mailer)?;
        let outbox = settings.outbox.enabled.then(|| Arc::new(worker));
        let health = Arc::new(Health::default());
        let worker_health = web::Data::from(health.clone());
        http::metrics::install();
        let max_body = settings.max_body_bytes;
        let budgets = web::Data::new(RateLimiter::new(&settings.rate_limit));
        let client_timeout = Duration::from_millis(settings.client_request_timeout_ms);
        let ctx = web::Data::new(Ctx::new(pools, settings, clock));
        // A revoked token is refused everywhere within 5 s (SPEC §4).
        let ready = web::Data::new(readiness.clone());
        let tokens = web::Data::new(TokenCache::new(
            Duration::from_secs(3),
            Duration::from_secs(5),
        ));
        let app_ctx = ctx.clone();
        let app = move || {
            App::new()
                .wrap(http::bare_errors())
                .wrap(actix_web::middleware::from_fn(http::semantics::conditional))
                .wrap(actix_web::middleware::from_fn(http::guard::body_timeout))
                .wrap(tracing_actix_web::TracingLogger::<
                    http::logging::RequestSpans,
                >::new())
                .wrap(actix_web::middleware::from_fn(http::metrics::track))
                .app_data(ctx.clone())
                .app_data(tokens.clone())
                .app_data(budgets.clone())
                .app_data(worker_health.clone())
                .app_data(ready.clone())
                .app_data(http::guard::BodyTimeout(client_timeout))
                .app_data(http::json_config(max_body))
                .app_data(http::path_config())
                .configure(http::configure)
                .configure(console::configure)
                .default_service(web::to(http::not_found))
        };
        let addr = listener.local_addr()?;
        // actix-web's HttpServer, with each connection guarded (`http::guard`): errors raised
        // before routing are problem+json too.
        let builder = actix_server::Server::build();
        // As HttpServer does: on shutdown, idle keep-alive connections close at once.
        let shutdown = builder.graceful_shutdown_signal();
        let server = builder
            .listen("voter-meetings", listener, move || {
                let routes = app()
                    .into_factory()
                    .map_err(|e: actix_web::Error| e.error_response());
                let shutdown = shutdown.clone();
                let http = HttpService::build()
                    .graceful_shutdown_signal(move || {
                        let signal = shutdown.clone();
                        async move { signal.notified().await }
                    })
                    .keep_alive(KeepAlive::Timeout(Duration::from_secs(5)))
                    .client_request_timeout(client_timeout)
                    .client_disconnect_timeout(Duration::from_secs(1))
                    .local_addr(addr)
                    .h1(map_config(routes, move |_| AppConfig::default()));
                fn_service(|io: actix_web::rt::net::TcpStream| async move {
                    let peer = io.peer_addr().ok();
                    Ok::<_, DispatchError>((http::guard::Guarded::new(io), peer))
                })
                .and_then(http)
            })?
            .shutdown_timeout(20)
            .run();
        Ok(Self {
            port,
            server,
            outbox,
            health,
            readiness,
            ctx: app_ctx,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Set it once the database is migrated: the server then answers, the worker delivers.
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// Serves and delivers email until SIGINT/SIGTERM, then drains in-flight requests and
    /// stops the outbox worker once its batch in flight is recorded. A worker whose task ends
    /// before is restarted (`/readyz` answers 503 meanwhile).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let readiness = self.readiness.clone();
        let health = self.health;
        let supervisor = self.outbox.map(|outbox| {
            actix_web::rt::spawn(async move {
                // No email is claimed before the outbox table exists.
                while !readiness.is_ready() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                let stopped_too = stopped.clone();
                worker::supervise(health, WORKER_RESTART, stopped, move || {
                    let (outbox, stopped) = (outbox.clone(), stopped_too.clone());
                    async move { outbox.run(stopped).await }
                })
                .await;
            })
        });
        let (ctx, ready, stop_sweeping) = (self.ctx, self.readiness.clone(), stop.subscribe());
        let sweeper = actix_web::rt::spawn(async move {
            while !ready.is_ready() {
                if *stop_sweeping.borrow() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            http::idempotency::sweep_until_stopped(&ctx, stop_sweeping).await;
        });
        let served = self.server.await;
        let _ = stop.send(true);
        if let Some(supervisor) = supervisor {
            let _ = supervisor.await;
        }
        let _ = sweeper.await;
        served
    }
}
