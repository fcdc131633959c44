//! Builds the actix application and its background worker from typed settings.
use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{error::JsonPayloadError, web, App, HttpRequest, HttpServer};

use crate::auth::TokenCache;
use crate::config::Settings;
use crate::db::PgPool;
use crate::error::ApiError;

/// What every handler can reach.
pub struct AppState {
    pub pool: PgPool,
    pub settings: Settings,
    pub tokens: TokenCache,
}

pub struct Application {
    port: u16,
    server: Server,
    outbox: crate::email::worker::Worker,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server; nothing runs yet.
    pub fn build(settings: Settings, pool: PgPool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.listen_addr)?;
        let port = listener.local_addr()?.port();
        let outbox = crate::email::worker::Worker::new(pool.clone(), &settings)?;
        crate::metrics::install();
        let state = web::Data::new(AppState {
            pool,
            settings,
            tokens: TokenCache::new(Duration::from_secs(5), Duration::from_secs(15)),
        });
        let max_body = state.settings.max_body_bytes;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(ErrorHandlers::new().default_handler(problem_for_bare_errors))
                .wrap(tracing_actix_web::TracingLogger::default())
                .wrap(actix_web::middleware::from_fn(crate::metrics::track))
                .app_data(state.clone())
                .app_data(json_config(max_body))
                .app_data(web::PathConfig::default().error_handler(|e, _| {
                    ApiError::bad_request(format!("invalid path: {e}")).into()
                }))
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::bad_request(format!("invalid query string: {e}")).into()
                }))
                .configure(crate::metrics::configure)
                .configure(crate::routes::configure)
                .default_service(web::to(not_found))
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

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |e, _req: &HttpRequest| {
            let problem = match &e {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => ApiError::problem(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body is larger than {limit} bytes"),
                ),
                JsonPayloadError::ContentType => ApiError::problem(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as application/json",
                ),
                JsonPayloadError::Deserialize(de) => {
                    ApiError::bad_request(format!("the body does not fit the schema: {de}"))
                }
                other => ApiError::bad_request(format!("the body could not be read: {other}")),
            };
            problem.into()
        })
}

async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::problem(
        actix_web::http::StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {} {}", req.method(), req.path()),
    ))
}

/// Errors actix answers by itself (405, a 404 inside a scope) get a problem+json body too.
fn problem_for_bare_errors<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, detail) = match status.as_u16() {
        404 => ("not_found", "no such resource".to_owned()),
        405 => (
            "method_not_allowed",
            format!(
                "{} is not allowed on {}",
                res.request().method(),
                res.request().path()
            ),
        ),
        _ => (
            "bad_request",
            status.canonical_reason().unwrap_or("error").to_owned(),
        ),
    };
    let (req, _) = res.into_parts();
    let response =
        actix_web::ResponseError::error_response(&ApiError::problem(status, code, detail));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}
