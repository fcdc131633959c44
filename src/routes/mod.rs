//! HTTP routes, one module per resource; handlers parse, call, answer.
mod attendance;
mod audit;
mod elections;
mod email;
mod health;
mod health_rules;
mod me;
mod meetings;
mod openapi;
mod regions;
mod reports;
mod venues;

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::PgConnection;
use serde::Serialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::idempotency::{self, Created};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    cfg.service(
        web::scope("/api/v1")
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
            .configure(email::configure),
    );
}

/// Runs a creating POST in one transaction, once per `Idempotency-Key`.
pub async fn create_once<B, F>(
    state: &AppState,
    who: Caller,
    req: &HttpRequest,
    body: B,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    B: Serialize + Send + 'static,
    F: FnOnce(&mut PgConnection, &Caller, B) -> Result<Created, ApiError> + Send + 'static,
{
    let key = idempotency::key_of(req)?;
    let hash = idempotency::fingerprint(req, &body);
    let (created, replayed) = crate::db::tx(&state.pool, move |conn| {
        idempotency::once(conn, who.id, key.as_deref(), hash, |conn| {
            work(conn, &who, body)
        })
    })
    .await?;
    Ok(created.into_response(replayed))
}

/// A path id that is not a UUID names nothing: 404, not 500.
pub fn parse_id(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found(what))
}

/// For PATCH fields that may be cleared: `Some(None)` when the client sent `null`,
/// `None` when it left the field out (use with `#[serde(default, deserialize_with)]`).
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}
