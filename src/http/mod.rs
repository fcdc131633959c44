//! The HTTP API: one module per resource. Handlers parse the request, call one use case
//! (`crate::app`) and answer; authentication runs first, as a middleware.
mod attendance;
mod audit;
pub mod auth;
mod calendars;
pub mod docs;
mod elections;
pub mod guard;
pub mod health;
mod health_rules;
pub mod idempotency;
mod imports;
pub mod logging;
mod me;
mod meetings;
pub mod metrics;
pub mod openapi;
mod outbox;
pub mod pagination;
pub mod problem;
mod query;
pub mod rate_limit;
mod regions;
mod reports;
mod schedules;
pub mod semantics;
pub mod spreadsheets;
mod venues;

use actix_web::dev::ServiceResponse;
use actix_web::error::JsonPayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpRequest};

use self::problem::{ApiError, PROBLEM_JSON};
use crate::domain::problem::{Code, Problem};

/// Every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    metrics::configure(cfg);
    calendars::configure(cfg);
    docs::configure(cfg);
    cfg.service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::from_fn(rate_limit::limit))
            .wrap(actix_web::middleware::from_fn(auth::authenticate))
            .wrap(actix_web::middleware::from_fn(health::gate))
            .configure(openapi::configure)
            .configure(me::configure)
            .configure(regions::configure)
            .configure(elections::configure)
            .configure(venues::configure)
            .configure(health_rules::configure)
            .configure(meetings::configure)
            .configure(attendance::configure)
            .configure(reports::configure)
            .configure(audit::configure)
            .configure(schedules::configure)
            .configure(imports::configure)
            .configure(outbox::configure),
    );
}

/// A path id that is not a UUID names nothing: 404, not 500.
pub fn parse_id(raw: &str, what: &str) -> Result<uuid::Uuid, Problem> {
    uuid::Uuid::parse_str(raw).map_err(|_| Problem::not_found(what))
}

/// JSON bodies up to `limit` bytes; anything else a clear 400, 413 or 415.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |e, _req: &HttpRequest| {
            let problem = match &e {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => Problem::new(
                    Code::PayloadTooLarge,
                    format!("the body is larger than {limit} bytes"),
                ),
                JsonPayloadError::ContentType => Problem::new(
                    Code::UnsupportedMediaType,
                    "send the body as application/json",
                ),
                JsonPayloadError::Deserialize(de) => {
                    Problem::bad_request(format!("the body does not fit the schema: {de}"))
                }
                other => Problem::bad_request(format!("the body could not be read: {other}")),
            };
            ApiError::from(problem).into()
        })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|e, _| ApiError::bad_request(format!("invalid path: {e}")).into())
}

/// The answer to a path no route serves.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::new(
        Code::NotFound,
        format!("no route for {} {}", req.method(), req.path()),
    ))
}

/// Errors actix answers by itself (405, a 404 inside a scope) get a problem+json body too.
pub fn bare_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(problem_for_bare_errors)
}

fn problem_for_bare_errors<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // A problem already, or a page of the web console (which draws its own errors).
    let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes() == PROBLEM_JSON.as_bytes() || v.as_bytes().starts_with(b"text/html")
    });
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let problem = match status {
        StatusCode::NOT_FOUND => Problem::new(Code::NotFound, "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => Problem::new(
            Code::MethodNotAllowed,
            format!(
                "{} is not allowed on {}",
                res.request().method(),
                res.request().path()
            ),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            Problem::new(Code::PayloadTooLarge, "the body is too large")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(
            Code::UnsupportedMediaType,
            "this content type is not read here",
        ),
        _ => Problem::bad_request(status.canonical_reason().unwrap_or("error")),
    };
    let (req, _) = res.into_parts();
    let response = problem::render(&problem);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}
