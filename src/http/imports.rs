//! `POST /imports/{kind}`: regions, venues, candidates or meetings from a CSV or XLSX file, all
//! rows or none (`?dry_run=true` checks without writing).
use super::query::Query;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::auth::Writer;
use super::idempotency::{run_once, Answer};
use super::problem::ApiError;
use crate::app::imports::{self, table::Format, ImportRequest, Kind};
use crate::app::Ctx;
use crate::domain::kinds;
use crate::domain::problem::{Code, Problem};

/// The largest file an import reads; the JSON routes keep their own, smaller limit.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/imports/{kind}")
            .app_data(web::PayloadConfig::new(MAX_FILE_BYTES))
            .post(import),
    );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    dry_run: Option<bool>,
    election_id: Option<Uuid>,
}

async fn import(
    Writer(who): Writer,
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    kind: web::Path<String>,
    q: Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let kind = kinds::parse::<Kind>(&kind).map_err(|_| Problem::not_found("kind of import"))?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if content_type.as_deref().is_some_and(|t| {
        t.starts_with("application/json") || t.starts_with("application/x-www-form")
    }) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send the file as text/csv or as an XLSX spreadsheet",
        ));
    }
    let request = ImportRequest {
        kind,
        format: Format::of(content_type.as_deref(), &body),
        body: body.to_vec(),
        election_id: q.election_id,
    };
    let dry_run = q.dry_run.unwrap_or(false);
    let caller = who.clone();
    if dry_run {
        let mut outcome = ctx
            .dry_run(move |tx| imports::run(tx, &caller, &request, &mut |_, _| {}))
            .await?;
        outcome.dry_run = true;
        return Ok(HttpResponse::Ok().json(outcome));
    }
    let fingerprint = hex::encode(Sha256::digest(&body));
    run_once(&ctx, &who, &req, &fingerprint, move |tx| {
        let outcome = imports::run(tx, &caller, &request, &mut |_, _| {})?;
        Answer::with_status(StatusCode::OK, &outcome, None)
    })
    .await
}
