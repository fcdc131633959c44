//! `POST /imports/{kind}`: regions, venues, candidates or meetings from a CSV or XLSX file, all
//! rows or none (`?dry_run=true` checks without writing).
use super::query::Query;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::Writer;
use super::idempotency::{run_once, Answer};
use super::openapi::inputs::IdempotencyKey;
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// Check every row without writing.
    dry_run: Option<bool>,
    /// The election of the candidates' units and the meetings.
    election_id: Option<Uuid>,
}

#[utoipa::path(
    post,
    path = "/api/v1/imports/{kind}",
    operation_id = "importRows",
    tag = "imports",
    summary = "Import regions, venues, candidates or meetings from CSV or XLSX, all rows or none",
    description = "The body is the file: `text/csv` (UTF-8, with or without BOM, comma or semicolon) or an XLSX spreadsheet, at most 16 MiB and 20,000 rows. Columns by header name in Vietnamese or English; references by name or id. Each row goes through the same rules as the single POST, in one transaction. Regions and candidates are imported by admins only; venues and meetings by admins and organizers, every row inside the organizer's subtree: a row outside it refuses the whole file with 403 `forbidden` naming the row.",
    params(
        ("kind" = Kind, Path, description = "What the rows are."),
        ImportQuery,
        IdempotencyKey,
    ),
    request_body(
        description = "The file.",
        content(
            (String = "text/csv"),
            (super::openapi::inputs::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ),
    ),
    responses(
        (
            status = 200,
            description = "Every row created (or, with dry_run, every row would be)",
            body = crate::app::imports::ImportOutcome,
        ),
        (
            status = 409,
            description = "`already_exists`: a row names something that exists already.",
        ),
        (
            status = 422,
            description = "`import_failed`: nothing was written; `errors` names every bad row, field and reason. Or `validation_failed` for the query.",
        ),
    ),
)]
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
